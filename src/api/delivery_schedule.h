// DeliverySchedule: the background thread `custos serve` runs the outbox dispatcher on
// (delivery/outbox_dispatcher.h), with its logs.
// Thread-safety: Stop may be called from any thread.
#ifndef CUSTOS_API_DELIVERY_SCHEDULE_H_
#define CUSTOS_API_DELIVERY_SCHEDULE_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "api/log.h"
#include "api/periodic_task.h"
#include "delivery/outbox_dispatcher.h"

namespace custos::api {

class DeliverySchedule {
 public:
  // Starts the thread: a pass at start, then every `every`, each pass claiming batches of
  // `batch` until the due messages are done. Each pass that sent anything is logged with its
  // counts, and each failure with its outbox id, target and error; a pass that fails as a
  // whole is logged once, not again while it keeps failing the same way.
  // REQUIRES: `every` > 0; `dispatcher` and `log` outlive this object.
  DeliverySchedule(delivery::OutboxDispatcher& dispatcher, JsonLog& log,
                   std::chrono::milliseconds every, size_t batch = 20);
  DeliverySchedule(const DeliverySchedule&) = delete;
  DeliverySchedule& operator=(const DeliverySchedule&) = delete;

  // Stops the thread; a send in progress finishes first (at most the sender's timeout).
  void Stop() { task_.Stop(); }
  // Passes finished so far (successful or not).
  int64_t runs() const { return task_.runs(); }

 private:
  void DeliverDue();

  delivery::OutboxDispatcher& dispatcher_;
  JsonLog& log_;
  const size_t batch_;
  std::string last_error_;  // of the previous pass; only the schedule's thread touches it
  PeriodicTask task_;       // last: starts once every other member is ready
};

}  // namespace custos::api

#endif  // CUSTOS_API_DELIVERY_SCHEDULE_H_
