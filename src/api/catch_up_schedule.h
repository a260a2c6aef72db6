// CatchUpSchedule: keeps `custos serve`'s decision cache coherent with the other processes
// writing to the same database (other servers over one PostgreSQL database, or a CLI writing to
// the data directory this server serves). A background thread calls
// Engine::CatchUpWithOtherWriters every `every`: each subject another process changed is
// forgotten from the cache and reloaded by its next decision. So a decision in this process sees
// a write made through another within about one interval (plus the scan itself, a few
// milliseconds), as long as the passes succeed. A policy another process loaded is logged
// (`policy_loaded_elsewhere`, with its notice version): this process keeps deciding under the
// policy it started with until it is restarted. A pass that fails is logged once per error
// code, not again while it keeps failing the same way; the next pass reads what it missed.
// Logs carry counts, seqs and notice versions only: never a subject id or a value.
// Thread-safety: Stop() and runs() may be called from any thread.
#ifndef CUSTOS_API_CATCH_UP_SCHEDULE_H_
#define CUSTOS_API_CATCH_UP_SCHEDULE_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "api/log.h"
#include "api/periodic_task.h"
#include "engine/engine.h"

namespace custos::api {

class CatchUpSchedule {
 public:
  // Starts the thread; the first pass runs after `every`. REQUIRES: `every` > 0; `engine` and
  // `log` outlive this object.
  CatchUpSchedule(engine::Engine& engine, JsonLog& log, std::chrono::milliseconds every);
  CatchUpSchedule(const CatchUpSchedule&) = delete;
  CatchUpSchedule& operator=(const CatchUpSchedule&) = delete;

  // Stops the thread; a pass in progress finishes first.
  void Stop() { task_.Stop(); }
  // Passes finished so far (successful or not).
  int64_t runs() const { return task_.runs(); }

 private:
  void CatchUpOnce();

  engine::Engine& engine_;
  JsonLog& log_;
  std::string last_error_;  // the code of the last failed pass; empty after a good one
  PeriodicTask task_;       // last: starts once every other member is ready
};

}  // namespace custos::api

#endif  // CUSTOS_API_CATCH_UP_SCHEDULE_H_
