#include "api/catch_up_schedule.h"

namespace custos::api {

// The first pass waits one interval: it reads from the head the engine read at Open, so
// whatever others wrote while the server warmed its cache is forgotten then.
CatchUpSchedule::CatchUpSchedule(engine::Engine& engine, JsonLog& log,
                                 std::chrono::milliseconds every)
    : engine_(engine),
      log_(log),
      task_(every, PeriodicTask::First::kAfterOneInterval, [this] { CatchUpOnce(); }) {}

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
    // The detail is "notice VERSION" and the changes' counts: non-personal.
    log_.Write("error", "policy_loaded_elsewhere",
               {{"detail", notice},
                {"through_seq", std::to_string(report->through_seq), true},
                {"action", "restart this server to decide under the new policy"}});
  }
}

}  // namespace custos::api
