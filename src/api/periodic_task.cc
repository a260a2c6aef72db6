#include "api/periodic_task.h"

#include <utility>

namespace custos::api {

PeriodicTask::PeriodicTask(std::chrono::milliseconds every, First first, std::function<void()> pass)
    : every_(every), first_(first), pass_(std::move(pass)), thread_([this] { Run(); }) {}

void PeriodicTask::Stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  stopping_.store(true);
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int64_t PeriodicTask::runs() const {
  std::lock_guard lock(mutex_);
  return runs_;
}

void PeriodicTask::Run() {
  std::unique_lock lock(mutex_);
  if (first_ == First::kAfterOneInterval &&
      wake_.wait_for(lock, every_, [this] { return stop_; })) {
    return;
  }
  while (!stop_) {
    lock.unlock();
    pass_();
    lock.lock();
    ++runs_;
    wake_.wait_for(lock, every_, [this] { return stop_; });
  }
}

}  // namespace custos::api
