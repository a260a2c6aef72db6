#include "engine/subject_state.h"

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

SubjectStateCache::Shard& SubjectStateCache::ShardFor(const std::string& subject_id) {
  return shards_[std::hash<std::string>{}(subject_id) % kShards];
}

const SubjectStateCache::Shard& SubjectStateCache::ShardFor(const std::string& subject_id) const {
  return shards_[std::hash<std::string>{}(subject_id) % kShards];
}

SubjectStatePtr SubjectStateCache::Get(const std::string& subject_id) {
  Shard& shard = ShardFor(subject_id);
  uint64_t forgets_before_load = 0;
  {
    std::shared_lock lock(shard.mutex);
    auto it = shard.states.find(subject_id);
    if (it != shard.states.end()) return it->second;
    forgets_before_load = shard.forgets;
  }
  std::optional<SubjectState> loaded = loader_(subject_id);
  if (!loaded) return nullptr;
  auto state = std::make_shared<const SubjectState>(std::move(*loaded));
  std::unique_lock lock(shard.mutex);
  // A Forget while loading may be for a write the load did not see: answer from what was read
  // (it was current when the call began) but leave the cache to the next load.
  if (shard.forgets != forgets_before_load) return state;
  auto [it, inserted] = shard.states.emplace(subject_id, std::move(state));
  return it->second;
}

void SubjectStateCache::Update(const std::string& subject_id,
                               const std::function<void(SubjectState&)>& change) {
  Shard& shard = ShardFor(subject_id);
  std::unique_lock lock(shard.mutex);
  // Under the lock, so concurrent updates of one subject compose. A subject not cached (never
  // loaded, or forgotten meanwhile) is loaded from the store, change included, when next used.
  auto it = shard.states.find(subject_id);
  if (it == shard.states.end()) return;
  SubjectState next = *it->second;
  change(next);
  it->second = std::make_shared<const SubjectState>(std::move(next));
}

void SubjectStateCache::Put(SubjectState state) {
  std::string id = state.subject_id;
  Shard& shard = ShardFor(id);
  std::unique_lock lock(shard.mutex);
  shard.states[id] = std::make_shared<const SubjectState>(std::move(state));
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

}  // namespace custos::engine
