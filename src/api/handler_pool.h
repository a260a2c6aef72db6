// HandlerPool: the threads that run request handlers, apart from the threads that read and
// write connections.
//
// A handler may block for a while: a decision or a write waits for the group commit that
// stores its audit entry. If it blocked the thread that also polls connections, every other
// connection that thread polls would wait with it, and a group commit would carry only the few
// requests that happened to be on other threads. The transport therefore suspends the
// connection, hands the request to this pool and resumes the connection when the answer is
// ready: as many requests as the pool has threads can wait for one commit together, whichever
// connections they came on.
// Thread-safety: Submit from any thread; Stop from one.
#ifndef CUSTOS_API_HANDLER_POOL_H_
#define CUSTOS_API_HANDLER_POOL_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace custos::api {

class HandlerPool {
 public:
  explicit HandlerPool(unsigned threads);
  ~HandlerPool() { Stop(); }
  HandlerPool(const HandlerPool&) = delete;
  HandlerPool& operator=(const HandlerPool&) = delete;

  // Runs `work` on one of the pool's threads, in arrival order. After Stop, runs it at once on
  // the caller's thread (nothing submitted is ever dropped).
  void Submit(std::function<void()> work);
  // Runs what was submitted, then joins the threads. Idempotent.
  void Stop();

 private:
  void Work();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  unsigned waiting_ = 0;  // threads waiting for work
  std::vector<std::thread> threads_;
};

}  // namespace custos::api

#endif  // CUSTOS_API_HANDLER_POOL_H_
