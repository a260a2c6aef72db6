#include "api/rate_limit.h"

#include <algorithm>
#include <functional>

namespace custos::api {

bool RateLimiter::Allow(const std::string& key) {
  if (rate_ <= 0) return true;
  auto now = now_ ? now_() : std::chrono::steady_clock::now();
  Shard& shard = shards_[std::hash<std::string>{}(key) % kShards];
  std::lock_guard lock(shard.mutex);
  auto it = shard.buckets.find(key);
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= kMaxKeysPerShard) {
      // Full buckets hold no information: forget them first.
      std::erase_if(shard.buckets, [&](const auto& entry) {
        double elapsed = std::chrono::duration<double>(now - entry.second.last).count();
        return entry.second.tokens + elapsed * rate_ >= burst_;
      });
      if (shard.buckets.size() >= kMaxKeysPerShard) shard.buckets.clear();
    }
    it = shard.buckets.emplace(key, Bucket{burst_, now}).first;
  }
  Bucket& bucket = it->second;
  double elapsed = std::chrono::duration<double>(now - bucket.last).count();
  bucket.tokens = std::min(burst_, bucket.tokens + elapsed * rate_);
  bucket.last = now;
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

}  // namespace custos::api
