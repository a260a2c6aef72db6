// RetentionSchedule: `custos serve` keeps the retention promises by itself. A background thread
// runs Engine::RunRetention at start (catching up after downtime, and resuming a run a crash
// interrupted) and then every `every`, as of the engine clock's now, so deadlines are acted on
// without anyone remembering. Each run is logged with its counts only (never a subject id or a
// value). Several processes over one PostgreSQL database may all sweep: the sweep guards every
// action with the state it planned from (ExpectState), so each item is acted on once.
// Thread-safety: Stop() and runs() may be called from any thread.
#ifndef CUSTOS_API_RETENTION_SCHEDULE_H_
#define CUSTOS_API_RETENTION_SCHEDULE_H_

#include <chrono>
#include <cstdint>

#include "api/log.h"
#include "api/periodic_task.h"
#include "engine/engine.h"

namespace custos::api {

class RetentionSchedule {
 public:
  // Starts the thread. REQUIRES: `every` > 0; `engine` and `log` outlive this object.
  RetentionSchedule(engine::Engine& engine, JsonLog& log, std::chrono::milliseconds every);
  RetentionSchedule(const RetentionSchedule&) = delete;
  RetentionSchedule& operator=(const RetentionSchedule&) = delete;

  // Stops the thread; a sweep in progress finishes its current run first.
  void Stop() { task_.Stop(); }
  // Sweeps finished so far (successful or not).
  int64_t runs() const { return task_.runs(); }

 private:
  void SweepOnce();

  engine::Engine& engine_;
  JsonLog& log_;
  PeriodicTask task_;  // last: starts once every other member is ready
};

}  // namespace custos::api

#endif  // CUSTOS_API_RETENTION_SCHEDULE_H_
