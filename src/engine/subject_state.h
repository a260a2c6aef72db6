// SubjectState: what the decision path needs to know about one person, kept in memory so a
// decision costs microseconds: types, consent history per purpose, objections, restrictions,
// suppression, lifecycle event times and when each category was last collected. Built from the
// Store on first use and updated by the engine on every write (write-through).
// Thread-safety: SubjectStateCache is safe for concurrent use; a SubjectState snapshot handed
// out is immutable (copy-on-write via shared_ptr).
#ifndef CUSTOS_ENGINE_SUBJECT_STATE_H_
#define CUSTOS_ENGINE_SUBJECT_STATE_H_

#include <absl/container/flat_hash_map.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "store/rows.h"

namespace custos::engine {

struct ConsentChange {
  Timestamp at;
  bool given = false;
};

struct Interval {  // objection or restriction in force from `from` until `to` (if lifted)
  Timestamp from;
  std::optional<Timestamp> to;
  bool CoversTime(Timestamp at) const { return from <= at && (!to || at < *to); }
};

struct Restriction {
  int64_t id = 0;
  std::vector<std::string> categories;  // empty: everything
  Interval when;
};

// The lifecycle event an erasure request records when some of the person's data stays; rules
// may run from it (a list of opt-out requests kept a year), and it keeps the person suppressed
// after their identifiers are gone.
inline constexpr std::string_view kErasureRequestedEvent = "erasure_requested";

// How many consent changes per purpose a cached SubjectState keeps (the newest).
inline constexpr size_t kConsentChangesKept = 8;

struct SubjectState {
  std::string subject_id;
  std::vector<std::string> types;
  bool erased = false;
  // One of the subject's identifiers is on the suppression list, or the subject asked for
  // erasure (kErasureRequestedEvent): whatever of them stays, they get no direct marketing.
  bool suppressed = false;
  // Keyed by purpose (or cookie category "cookie:<key>"); changes in time order. A cached state
  // keeps the last kConsentChangesKept of each key (so a person who changes their mind often
  // costs bounded memory); consent_kept_from holds, for a key whose older changes were dropped,
  // the time of the oldest one kept: a question about an earlier time is not ConsentCompleteAt.
  std::map<std::string, std::vector<ConsentChange>, std::less<>> consent;
  std::map<std::string, Timestamp, std::less<>> consent_kept_from;
  std::map<std::string, std::vector<Interval>, std::less<>> objections;  // purpose or "*"
  std::vector<Restriction> restrictions;
  std::map<std::string, std::vector<Timestamp>, std::less<>> events;  // sorted occurrences
  std::map<std::string, Timestamp, std::less<>> last_collected;       // category -> latest
  std::map<std::string, bool, std::less<>> channel_allowed;           // latest preference

  // Inline: the retention rules ask it once per rule in every decision.
  bool HasType(std::string_view type) const {
    for (const auto& held : types) {
      if (held == type) return true;
    }
    return false;
  }
  // The latest consent change for `key` at or before `at`.
  const ConsentChange* ConsentAt(std::string_view key, Timestamp at) const;
  // True when ConsentAt answers exactly for `at` for every key (no change it needs was dropped).
  bool ConsentCompleteAt(Timestamp at) const {
    for (const auto& [key, from] : consent_kept_from) {
      if (at < from) return false;
    }
    return true;
  }
  bool ObjectedAt(std::string_view purpose, Timestamp at) const;
  // Latest occurrence of `event` at or before `at`.
  std::optional<Timestamp> LatestEvent(std::string_view event, Timestamp at) const;
};

using SubjectStatePtr = std::shared_ptr<const SubjectState>;

struct SubjectCacheStats {
  size_t entries = 0;
  size_t capacity = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;  // loads from the store
  uint64_t evictions = 0;
};

// Keeps SubjectStates for one controller, sharded by subject id, at most `capacity` of them:
// a new entry in a full shard evicts one by second chance (an entry used since the hand last
// passed it is kept once more), so the people in use stay and memory has a bound.
//
// Forget is final: a load that started before a Forget (or an Update that found nothing to
// change) of its shard returns its state to its caller but does not cache it (the store may have
// changed after it read), so a write this cache was told of is never hidden by an older read.
class SubjectStateCache {
 public:
  // Reads one person from the store: nullopt when unknown, an error when the store cannot be
  // read (nothing is cached then).
  using Loader = std::function<Result<std::optional<SubjectState>>(const std::string& subject_id)>;
  static constexpr size_t kDefaultCapacity = 1'000'000;
  explicit SubjectStateCache(Loader loader, size_t capacity = kDefaultCapacity);

  // The state of `subject_id`, loading it on first use; nullptr when the subject is unknown.
  // A cached state costs one shared lock and one hash lookup, no allocation. Errors: the
  // loader's.
  Result<SubjectStatePtr> Get(const std::string& subject_id);
  // Applies `change` to a copy of the cached state and publishes it. When the subject is not
  // cached nothing is changed: REQUIRES the change to be stored already, so the next Get loads
  // it (a load in flight is not kept).
  void Update(const std::string& subject_id, const std::function<void(SubjectState&)>& change);
  void Put(SubjectState state);
  // Drops the subject's state; the next Get loads it from the store. Returns whether it was
  // cached.
  bool Forget(const std::string& subject_id);
  bool Contains(const std::string& subject_id) const;
  size_t size() const;
  // At least one entry per shard; entries over a lowered bound go as their shards take new ones.
  void SetCapacity(size_t capacity);
  SubjectCacheStats Stats() const;

 private:
  static constexpr int kShardBits = 6;
  static constexpr size_t kShards = size_t{1} << kShardBits;
  struct Entry {
    Entry() = default;
    // Moved only when the table grows, under the shard's exclusive lock.
    Entry(Entry&& other) noexcept
        : state(std::move(other.state)), used(other.used.load(std::memory_order_relaxed)) {}
    Entry& operator=(Entry&& other) noexcept {
      state = std::move(other.state);
      used.store(other.used.load(std::memory_order_relaxed), std::memory_order_relaxed);
      return *this;
    }
    SubjectStatePtr state;
    mutable std::atomic<bool> used{false};  // read since the eviction hand last passed
  };
  // One shard per cache line and more: a lookup in one shard writes (its lock, its counters)
  // nothing another shard's readers read.
  struct alignas(64) Shard {
    mutable std::shared_mutex mutex;
    // Open addressing (Swiss table): a lookup reads one group of control bytes and the slot it
    // names, where a node-based map walks a bucket's chain through other people's entries.
    absl::flat_hash_map<std::string, Entry> states;
    std::deque<std::string> hand;  // ids in the order the hand visits them; may hold stale ids
    uint64_t forgets = 0;          // Forgets (and Updates of uncached ids) so far: a load that saw
                                   // another value may be stale
    std::atomic<uint64_t> hits{0};
    std::atomic<uint64_t> misses{0};
    std::atomic<uint64_t> evictions{0};
  };
  // REQUIRES shard.mutex held exclusively.
  void Insert(Shard& shard, const std::string& id, SubjectStatePtr state);
  void EvictOne(Shard& shard);
  static size_t ShardIndex(std::string_view subject_id);
  Shard& ShardFor(std::string_view subject_id) { return shards_[ShardIndex(subject_id)]; }
  const Shard& ShardFor(std::string_view subject_id) const {
    return shards_[ShardIndex(subject_id)];
  }

  Loader loader_;
  std::atomic<size_t> per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace custos::engine

#endif  // CUSTOS_ENGINE_SUBJECT_STATE_H_
