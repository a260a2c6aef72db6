#include "api/handler_pool.h"

#include <algorithm>

namespace custos::api {

HandlerPool::HandlerPool(unsigned threads) {
  threads = std::max(1u, threads);
  threads_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
}

void HandlerPool::Submit(std::function<void()> work) {
  std::unique_lock lock(mutex_);
  if (stopping_) {
    lock.unlock();
    work();
    return;
  }
  queue_.push_back(std::move(work));
  const bool someone_waits = waiting_ > 0;
  lock.unlock();
  // Woken after the lock is let go, so the thread woken does not at once wait for it; and only
  // when a thread waits (every busy one looks at the queue before it waits again).
  if (someone_waits) ready_.notify_one();
}

void HandlerPool::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

void HandlerPool::Work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    while (!stopping_ && queue_.empty()) {
      ++waiting_;
      ready_.wait(lock);
      --waiting_;
    }
    if (queue_.empty()) return;  // stopping, and nothing left to run
    std::function<void()> work = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    work();
    lock.lock();
  }
}

}  // namespace custos::api
