#include "api/retention_schedule.h"

#include <string>

namespace custos::api {

RetentionSchedule::RetentionSchedule(engine::Engine& engine, JsonLog& log,
                                     std::chrono::milliseconds every)
    : engine_(engine),
      log_(log),
      task_(every, PeriodicTask::First::kNow, [this] { SweepOnce(); }) {}

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
              {"erased", std::to_string(t.erased), true},
              {"requests_shredded", std::to_string(report->requests_shredded), true}});
  // The organisation's own systems follow the same rules (docs/SYSTEMS.md), and the requests
  // that waited for one of them are tried again.
  if (engine_.policy().systems.empty()) return;
  if (auto retried = engine_.RetryRequestsWaitingForSystems(options.actor); !retried.ok()) {
    log_.Write("error", "systems_retry_failed",
               {{"code", std::string(CodeName(retried.status().code()))}});
  } else if (*retried > 0) {
    log_.Write("info", "requests_completed_after_waiting",
               {{"requests", std::to_string(*retried), true}});
  }
  auto lines = engine_.SweepSystemsRetention(true, 500, std::nullopt, options.actor);
  if (!lines.ok()) {
    log_.Write("error", "systems_retention_failed",
               {{"code", std::string(CodeName(lines.status().code()))}});
    return;
  }
  for (const auto& line : *lines) {
    log_.Write(line.status.ok() ? "info" : "error", "systems_retention_swept",
               {{"system", line.system},
                {"dataset", line.dataset},
                {"rule", line.rule},
                {"due", std::to_string(line.due), true},
                {"deleted", std::to_string(line.deleted), true},
                {"changed", std::to_string(line.changed), true},
                {"held", std::to_string(line.held), true},
                {"code", std::string(CodeName(line.status.code()))}});
  }
}

}  // namespace custos::api
