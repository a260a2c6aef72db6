#include "api/catch_up_schedule.h"

namespace custos::api {

CatchUpSchedule::CatchUpSchedule(engine::Engine& engine, JsonLog& log,
                                 std::chrono::milliseconds every)
    : engine_(engine), log_(log), every_(every), thread_([this] { Run(); }) {}

CatchUpSchedule::~CatchUpSchedule() { Stop(); }

void CatchUpSchedule::Stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int64_t CatchUpSchedule::runs() const {
  std::lock_guard lock(mutex_);
  return runs_;
}

void CatchUpSchedule::Run() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    // The first pass reads from the head the engine read at Open: whatever others wrote while
    // the server warmed its cache is forgotten then.
    if (wake_.wait_for(lock, every_, [this] { return stop_; })) break;
    lock.unlock();
    CatchUpOnce();
    lock.lock();
    ++runs_;
  }
}

void CatchUpSchedule::CatchUpOnce() {
  auto report = engine_.CatchUpWithOtherWriters();
  if (!report.ok()) {
    std::string code(CodeName(report.status().code()));
    if (code != last_error_) {
      log_.Write("error", "catch_up_failed", {{"code", code}});
      last_error_ = code;
    }
    return;
  }
  last_error_.clear();
  for (const auto& notice : report->policies_loaded_elsewhere) {
    // The detail is "notice VERSION": non-personal.
    log_.Write("error", "policy_loaded_elsewhere",
               {{"detail", notice},
                {"through_seq", std::to_string(report->through_seq), true},
                {"action", "restart this server to decide under the new policy"}});
  }
}

}  // namespace custos::api
