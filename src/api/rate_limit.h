// RateLimiter: a token bucket per key (an API token id, or a client address on routes that
// need no token). `rate` requests per second on average, bursts up to `burst`. Buckets refill
// by a monotonic clock: std::chrono::steady_clock unless the constructor is given another.
// Thread-safety: safe for concurrent use (sharded locks); the clock given must be too.
#ifndef CUSTOS_API_RATE_LIMIT_H_
#define CUSTOS_API_RATE_LIMIT_H_

#include <array>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace custos::api {

class RateLimiter {
 public:
  using SteadyNow = std::function<std::chrono::steady_clock::time_point()>;

  // rate <= 0: unlimited. `now` (empty: std::chrono::steady_clock::now) is read once per Allow;
  // it must never go backwards.
  RateLimiter(double rate, double burst, SteadyNow now = {})
      : rate_(rate), burst_(burst < 1 ? 1 : burst), now_(std::move(now)) {}

  // True when the request may go ahead (and takes one token from the key's bucket).
  bool Allow(const std::string& key);
  bool enabled() const { return rate_ > 0; }

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point last;
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, Bucket> buckets;
  };
  static constexpr size_t kShards = 16;
  static constexpr size_t kMaxKeysPerShard = 16384;  // old buckets are dropped beyond this

  const double rate_, burst_;
  const SteadyNow now_;
  std::array<Shard, kShards> shards_;
};

}  // namespace custos::api

#endif  // CUSTOS_API_RATE_LIMIT_H_
