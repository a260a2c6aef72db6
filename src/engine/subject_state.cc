#include "engine/subject_state.h"

#include <absl/hash/hash.h>

#include <algorithm>

namespace custos::engine {

const ConsentChange* SubjectState::ConsentAt(std::string_view key, Timestamp at) const {
  auto it = consent.find(key);
  if (it == consent.end()) return nullptr;
  const ConsentChange* latest = nullptr;
  for (const auto& change : it->second) {
    if (change.at <= at) latest = &change;
  }
  return latest;
}

bool SubjectState::ObjectedAt(std::string_view purpose, Timestamp at) const {
  auto it = objections.find(purpose);
  if (it == objections.end()) return false;
  for (const auto& interval : it->second) {
    if (interval.CoversTime(at)) return true;
  }
  return false;
}

std::optional<Timestamp> SubjectState::LatestEvent(std::string_view event, Timestamp at) const {
  auto it = events.find(event);
  if (it == events.end()) return std::nullopt;
  std::optional<Timestamp> latest;
  for (Timestamp t : it->second) {
    if (t <= at) latest = t;
  }
  return latest;
}

namespace {
size_t PerShard(size_t capacity, size_t shards) {
  return std::max<size_t>(1, (capacity + shards - 1) / shards);
}
}  // namespace

SubjectStateCache::SubjectStateCache(Loader loader, size_t capacity)
    : loader_(std::move(loader)), per_shard_(PerShard(capacity, kShards)) {}

// The shard is chosen by the hash's top bits: the table inside it uses the low ones.
size_t SubjectStateCache::ShardIndex(std::string_view subject_id) {
  return absl::Hash<std::string_view>{}(subject_id) >> (64 - kShardBits);
}

void SubjectStateCache::SetCapacity(size_t capacity) {
  per_shard_.store(PerShard(capacity, kShards), std::memory_order_relaxed);
}

Result<SubjectStatePtr> SubjectStateCache::Get(const std::string& subject_id) {
  Shard& shard = ShardFor(subject_id);
  uint64_t forgets_before_load = 0;
  {
    std::shared_lock lock(shard.mutex);
    auto it = shard.states.find(subject_id);
    if (it != shard.states.end()) {
      // Only a store when the flag changes: a hot entry costs no cache-line write.
      if (!it->second.used.load(std::memory_order_relaxed)) {
        it->second.used.store(true, std::memory_order_relaxed);
      }
      shard.hits.fetch_add(1, std::memory_order_relaxed);
      return it->second.state;
    }
    forgets_before_load = shard.forgets;
  }
  shard.misses.fetch_add(1, std::memory_order_relaxed);
  Result<std::optional<SubjectState>> loaded = loader_(subject_id);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) return SubjectStatePtr();
  auto state = std::make_shared<const SubjectState>(std::move(**loaded));
  std::unique_lock lock(shard.mutex);
  // A Forget while loading may be for a write the load did not see: answer from what was read
  // (it was current when the call began) but leave the cache to the next load.
  if (shard.forgets != forgets_before_load) return state;
  auto it = shard.states.find(subject_id);
  if (it != shard.states.end()) return it->second.state;  // another load won
  Insert(shard, subject_id, state);
  return state;
}

void SubjectStateCache::Insert(Shard& shard, const std::string& id, SubjectStatePtr state) {
  const size_t limit = per_shard_.load(std::memory_order_relaxed);
  while (shard.states.size() >= limit && !shard.states.empty()) EvictOne(shard);
  auto [it, inserted] = shard.states.try_emplace(id);
  it->second.state = std::move(state);
  if (inserted) shard.hand.push_back(id);
  // Ids of forgotten entries stay in the hand until it reaches them; keep it from growing.
  if (shard.hand.size() > 2 * shard.states.size() + 16) {
    std::deque<std::string> live;
    for (auto& held : shard.hand) {
      if (shard.states.count(held) > 0) live.push_back(std::move(held));
    }
    shard.hand.swap(live);
  }
}

void SubjectStateCache::EvictOne(Shard& shard) {
  while (!shard.hand.empty()) {
    std::string id = std::move(shard.hand.front());
    shard.hand.pop_front();
    auto it = shard.states.find(id);
    if (it == shard.states.end()) continue;  // forgotten since
    if (it->second.used.exchange(false, std::memory_order_relaxed)) {
      shard.hand.push_back(std::move(id));  // second chance
      continue;
    }
    shard.states.erase(it);
    shard.evictions.fetch_add(1, std::memory_order_relaxed);
    return;
  }
}

void SubjectStateCache::Update(const std::string& subject_id,
                               const std::function<void(SubjectState&)>& change) {
  Shard& shard = ShardFor(subject_id);
  std::unique_lock lock(shard.mutex);
  // Under the lock, so concurrent updates of one subject compose. A subject not cached (never
  // loaded, evicted, or forgotten meanwhile) is loaded from the store, change included, when
  // next used; a load already in flight may have read before the change, so it is not kept.
  auto it = shard.states.find(subject_id);
  if (it == shard.states.end()) {
    ++shard.forgets;
    return;
  }
  SubjectState next = *it->second.state;
  change(next);
  it->second.state = std::make_shared<const SubjectState>(std::move(next));
}

void SubjectStateCache::Put(SubjectState state) {
  std::string id = state.subject_id;
  Shard& shard = ShardFor(id);
  std::unique_lock lock(shard.mutex);
  Insert(shard, id, std::make_shared<const SubjectState>(std::move(state)));
}

bool SubjectStateCache::Forget(const std::string& subject_id) {
  Shard& shard = ShardFor(subject_id);
  std::unique_lock lock(shard.mutex);
  ++shard.forgets;
  return shard.states.erase(subject_id) > 0;
}

bool SubjectStateCache::Contains(const std::string& subject_id) const {
  const Shard& shard = ShardFor(subject_id);
  std::shared_lock lock(shard.mutex);
  return shard.states.count(subject_id) > 0;
}

size_t SubjectStateCache::size() const {
  size_t total = 0;
  for (const auto& shard : shards_) {
    std::shared_lock lock(shard.mutex);
    total += shard.states.size();
  }
  return total;
}

SubjectCacheStats SubjectStateCache::Stats() const {
  SubjectCacheStats stats;
  stats.entries = size();
  stats.capacity = per_shard_.load(std::memory_order_relaxed) * kShards;
  for (const auto& shard : shards_) {
    stats.hits += shard.hits.load(std::memory_order_relaxed);
    stats.misses += shard.misses.load(std::memory_order_relaxed);
    stats.evictions += shard.evictions.load(std::memory_order_relaxed);
  }
  return stats;
}

}  // namespace custos::engine
