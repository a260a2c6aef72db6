#include "api/checkpoint_schedule.h"

#include <utility>

#include "deployment/checkpoint_file.h"

namespace custos::api {

CheckpointSchedule::CheckpointSchedule(engine::Engine& engine, JsonLog& log, std::string path,
                                       std::chrono::milliseconds every)
    : engine_(engine),
      log_(log),
      path_(std::move(path)),
      task_(every, PeriodicTask::First::kNow, [this] { PublishOnce(); }) {}

void CheckpointSchedule::Stop() {
  task_.Stop();
  PublishOnce();  // the thread is gone: no pass runs alongside
}

void CheckpointSchedule::PublishOnce() {
  if (engine_.audit().head_seq() == published_seq_ && engine_.audit().buffered() == 0) return;
  auto checkpoint = deployment::PublishCheckpoint(engine_, path_);
  if (!checkpoint.ok()) {
    std::string code(CodeName(checkpoint.status().code()));
    if (code != last_error_) {
      bool refused = checkpoint.status().code() == ErrorCode::kAuditBroken;
      log_.Write("error", refused ? "audit_checkpoint_refused" : "audit_checkpoint_failed",
                 {{"code", code},
                  {"action", refused ? "run 'custos audit verify'" : "check the key directory"}});
      last_error_ = code;
    }
    return;
  }
  last_error_.clear();
  published_seq_ = checkpoint->seq;
}

}  // namespace custos::api
