#include "api/retention_schedule.h"

#include <string>

namespace custos::api {

RetentionSchedule::RetentionSchedule(engine::Engine& engine, JsonLog& log,
                                     std::chrono::milliseconds every)
    : engine_(engine), log_(log), every_(every), thread_([this] { Run(); }) {}

RetentionSchedule::~RetentionSchedule() { Stop(); }

void RetentionSchedule::Stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int64_t RetentionSchedule::runs() const {
  std::lock_guard lock(mutex_);
  return runs_;
}

void RetentionSchedule::Run() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    lock.unlock();
    SweepOnce();
    lock.lock();
    ++runs_;
    wake_.wait_for(lock, every_, [this] { return stop_; });
  }
}

void RetentionSchedule::SweepOnce() {
  engine::RetentionOptions options;
  options.actor = "system:retention-schedule";
  auto report = engine_.RunRetention(options);
  if (!report.ok()) {
    log_.Write("error", "retention_sweep_failed",
               {{"code", std::string(CodeName(report.status().code()))}});
    return;
  }
  const store::RetentionCounts& t = report->totals;
  log_.Write("info", "retention_swept",
             {{"run", std::to_string(report->run_id), true},
              {"as_of", report->as_of.ToString()},
              {"resumed", report->resumed ? "true" : "false", true},
              {"subjects", std::to_string(t.subjects), true},
              {"deleted", std::to_string(t.deleted), true},
              {"anonymised", std::to_string(t.anonymised), true},
              {"reviews", std::to_string(t.reviews), true},
              {"held", std::to_string(t.held), true},
              {"erased", std::to_string(t.erased), true}});
}

}  // namespace custos::api
