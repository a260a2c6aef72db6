// CheckpointSchedule: `custos serve` signs a checkpoint of the audit chain's head
// (deployment/checkpoint_file.h) at start, then every `every` when the log has grown, and once
// more at Stop(), after the last entries are written. A refused checkpoint (the log no longer
// holds the one kept: cut, rolled back or rewritten) is logged as `audit_checkpoint_refused`
// and the kept file stays as evidence; other failures as `audit_checkpoint_failed`, once per
// error code while they repeat. Logs carry seqs and codes only.
// Thread-safety: Stop() may be called from any thread.
#ifndef CUSTOS_API_CHECKPOINT_SCHEDULE_H_
#define CUSTOS_API_CHECKPOINT_SCHEDULE_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "api/log.h"
#include "api/periodic_task.h"
#include "engine/engine.h"

namespace custos::api {

class CheckpointSchedule {
 public:
  // REQUIRES: `every` > 0; `engine` and `log` outlive this object.
  CheckpointSchedule(engine::Engine& engine, JsonLog& log, std::string path,
                     std::chrono::milliseconds every);
  CheckpointSchedule(const CheckpointSchedule&) = delete;
  CheckpointSchedule& operator=(const CheckpointSchedule&) = delete;

  // Stops the thread and signs the head once more. REQUIRES: the audit log was flushed.
  void Stop();

 private:
  void PublishOnce();

  engine::Engine& engine_;
  JsonLog& log_;
  const std::string path_;
  int64_t published_seq_ = -1;  // the head of the last checkpoint written
  std::string last_error_;
  PeriodicTask task_;  // last: starts once every other member is ready
};

}  // namespace custos::api

#endif  // CUSTOS_API_CHECKPOINT_SCHEDULE_H_
