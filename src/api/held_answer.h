// HeldAnswer: where an answer that waits for something (a decision waiting for its audit
// entry's commit) meets the transport's release, in whichever order the two arrive.
// The handler asks the engine to call Done when the wait ends, builds its answer and returns
// Answer(held, answer), which holds it (HttpResponse::hold calls Hold) unless the wait has
// already ended; whichever of Done and Hold comes second sends the answer: as built when Done
// was given OK, or `instead(error)` in its place.
// Thread-safety: Done and Hold may be called from different threads, each once.
#ifndef CUSTOS_API_HELD_ANSWER_H_
#define CUSTOS_API_HELD_ANSWER_H_

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "api/http.h"
#include "common/status.h"

namespace custos::api {

class HeldAnswer {
 public:
  // `instead` builds the answer sent in place of the held one when the wait ended in an error.
  explicit HeldAnswer(std::function<HttpResponse(const Status&)> instead)
      : instead_(std::move(instead)) {}

  // The wait has ended with `outcome`.
  void Done(Status outcome) {
    std::unique_lock lock(mutex_);
    outcome_ = std::move(outcome);
    if (release_) Send(lock);
  }
  // The transport holds the answer until `release` is called.
  void Hold(ReleaseAnswer release) {
    std::unique_lock lock(mutex_);
    release_ = std::move(release);
    if (outcome_) Send(lock);
  }
  // What the handler returns for `self`: `built` at once when the wait has already ended well,
  // `instead(error)` when it ended badly, otherwise `built` held until Done.
  static HttpResponse Answer(const std::shared_ptr<HeldAnswer>& self, HttpResponse built) {
    std::optional<Status> outcome;
    {
      std::lock_guard lock(self->mutex_);
      outcome = self->outcome_;
    }
    if (outcome) return outcome->ok() ? built : self->instead_(*outcome);
    built.hold = [self](ReleaseAnswer release) { self->Hold(std::move(release)); };
    return built;
  }

 private:
  void Send(std::unique_lock<std::mutex>& lock) {
    ReleaseAnswer release = std::move(release_);
    Status outcome = *outcome_;
    lock.unlock();
    release(outcome.ok() ? std::nullopt : std::optional<HttpResponse>(instead_(outcome)));
  }

  mutable std::mutex mutex_;
  std::function<HttpResponse(const Status&)> instead_;
  std::optional<Status> outcome_;
  ReleaseAnswer release_;
};

}  // namespace custos::api

#endif  // CUSTOS_API_HELD_ANSWER_H_
