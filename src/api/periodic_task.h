// PeriodicTask: the one background loop `custos serve` uses for work that runs by itself
// (retention sweeps, outbox delivery, catching up with other writers): a thread that calls
// `pass` now (or after one interval) and then every `every`, until Stop().
// Thread-safety: Stop(), stopping() and runs() may be called from any thread; `pass` runs on the
// task's own thread only, never twice at once.
#ifndef CUSTOS_API_PERIODIC_TASK_H_
#define CUSTOS_API_PERIODIC_TASK_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace custos::api {

class PeriodicTask {
 public:
  enum class First { kNow, kAfterOneInterval };
  // Starts the thread. REQUIRES: `every` > 0; whatever `pass` uses outlives this object (or
  // Stop() is called first).
  PeriodicTask(std::chrono::milliseconds every, First first, std::function<void()> pass);
  ~PeriodicTask() { Stop(); }
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  // Stops the thread; a pass in progress finishes first (it may watch stopping()).
  void Stop();
  // True once Stop() was called: a long pass can end early between its steps.
  const std::atomic<bool>& stopping() const { return stopping_; }
  // Passes finished so far (successful or not).
  int64_t runs() const;

 private:
  void Run();

  const std::chrono::milliseconds every_;
  const First first_;
  const std::function<void()> pass_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::atomic<bool> stopping_{false};
  int64_t runs_ = 0;
  std::thread thread_;  // last: starts once every other member is ready
};

}  // namespace custos::api

#endif  // CUSTOS_API_PERIODIC_TASK_H_
