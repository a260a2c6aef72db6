// Store: the one storage port of custos. The engine talks to storage only through this
// interface; SqliteStore (store/sqlite) is the embedded default and PostgresStore
// (store/postgres) the shared one. Both pass tests/store/conformance_test.cc.
//
// Contract common to all methods:
// - Every personal row is addressed by (controller, subject_id).
// - Apply() is atomic and durable when it returns OK (the backend has committed).
// - Reads see every batch whose Apply() returned before the read began.
// - Failures are Status codes: NOT_FOUND only where a method says so, IO_ERROR for storage
//   failures, INVALID_ARGUMENT for rows that break a constraint (e.g. a duplicate subject id).
// Thread-safety: implementations are safe to call from many threads at once.
// PII: the store holds personal values only sealed or as keyed hashes (see rows.h).
#ifndef CUSTOS_STORE_STORE_H_
#define CUSTOS_STORE_STORE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "store/rows.h"

namespace custos::store {

// Ids assigned by Apply(), in the order the batch added the rows that receive them.
struct AppliedIds {
  std::vector<int64_t> record_ids;
  std::vector<int64_t> consent_seqs;
  std::vector<int64_t> restriction_ids;
  std::vector<int64_t> hold_ids;        // LegalHoldRow
  std::vector<int64_t> run_ids;         // RetentionRunRow
  std::vector<int64_t> outbox_ids;      // OutboxRow
  std::vector<int64_t> disclosure_ids;  // DisclosureRow
};

class Store {
 public:
  virtual ~Store() = default;

  // Applies every op of `batch` in one transaction. Row ids left 0 are assigned.
  // Returns INVALID_ARGUMENT when a row breaks a constraint, CONFLICT when an audit seq is
  // taken (another writer appended first), STORE_UNAVAILABLE when the database cannot be
  // reached; nothing is applied in each case.
  virtual Result<AppliedIds> Apply(const WriteBatch& batch) = 0;
  // Applies many batches in one transaction (group commit). Each batch's ids are returned in
  // order. When one batch fails, none is applied and its error is returned.
  virtual Result<std::vector<AppliedIds>> ApplyGroup(
      const std::vector<const WriteBatch*>& batches) = 0;

  // --- controllers and policies
  virtual Result<std::optional<ControllerRow>> GetController(const std::string& controller) = 0;

  // --- subjects
  virtual Result<std::optional<SubjectRow>> GetSubject(const std::string& controller,
                                                       const std::string& subject_id) = 0;
  // Calls `visit` for every subject of `controller` in subject_id order; stops early when
  // `visit` returns false.
  virtual Status ScanSubjects(const std::string& controller,
                              const std::function<bool(const SubjectRow&)>& visit) = 0;
  virtual Result<int64_t> CountSubjects(const std::string& controller) = 0;

  // --- everything about one subject (each in insertion order)
  virtual Result<std::vector<EventRow>> ListEvents(const std::string& controller,
                                                   const std::string& subject_id) = 0;
  virtual Result<std::vector<IdentifierRow>> ListIdentifiers(const std::string& controller,
                                                             const std::string& subject_id) = 0;
  virtual Result<std::vector<RecordRow>> ListRecords(const std::string& controller,
                                                     const std::string& subject_id) = 0;
  virtual Result<std::vector<ConsentEventRow>> ListConsentEvents(const std::string& controller,
                                                                 const std::string& subject_id) = 0;
  virtual Result<std::vector<PreferenceRow>> ListPreferences(const std::string& controller,
                                                             const std::string& subject_id) = 0;
  virtual Result<std::vector<ObjectionRow>> ListObjections(const std::string& controller,
                                                           const std::string& subject_id) = 0;
  virtual Result<std::vector<RestrictionRow>> ListRestrictions(const std::string& controller,
                                                               const std::string& subject_id) = 0;

  // --- lookups by keyed hash
  // Subject ids whose identifier of `kind` has this blind index (several people may share
  // e.g. a family email).
  virtual Result<std::vector<std::string>> FindSubjectsByIdentifier(const std::string& controller,
                                                                    const std::string& kind,
                                                                    const Bytes& blind_index) = 0;
  virtual Result<bool> IsSuppressed(const std::string& controller, const Bytes& hash) = 0;

  // --- many at once, for an import's batch: the answers GetSubject and IsSuppressed give one
  // by one, in one round trip where the database allows (PostgreSQL); these defaults ask one
  // at a time (right for SQLite, in the same process).
  // The state of each of `subject_ids` that exists.
  virtual Result<std::unordered_map<std::string, SubjectState>> SubjectStates(
      const std::string& controller, const std::vector<std::string>& subject_ids) {
    std::unordered_map<std::string, SubjectState> states;
    for (const auto& id : subject_ids) {
      ASSIGN_OR_RETURN(std::optional<SubjectRow> row, GetSubject(controller, id));
      if (row) states.emplace(id, row->state);
    }
    return states;
  }
  // For each of `hashes`, whether it is on the suppression list.
  virtual Result<std::vector<bool>> AreSuppressed(const std::string& controller,
                                                  const std::vector<Bytes>& hashes) {
    std::vector<bool> listed;
    listed.reserve(hashes.size());
    for (const auto& hash : hashes) {
      ASSIGN_OR_RETURN(bool one, IsSuppressed(controller, hash));
      listed.push_back(one);
    }
    return listed;
  }

  // --- retention: legal holds, review tasks, anonymised facts, sweeps
  // Every legal hold of `controller` (in force, expired or released), in hold_id order.
  virtual Result<std::vector<LegalHoldRow>> ListLegalHolds(const std::string& controller) = 0;
  // The controller's DPO review tasks in task_id order; only those not done when `open_only`.
  virtual Result<std::vector<ReviewTaskRow>> ListReviewTasks(const std::string& controller,
                                                             bool open_only) = 0;
  // Up to `max_subjects` subjects with subject_id > `after_subject_id` (all when empty), in
  // subject_id order, each with its events, identifiers, records and review tasks (each in
  // insertion order), read as one consistent snapshot. Empty when the scan is done.
  virtual Result<std::vector<SweepSubject>> ListSweepPage(const std::string& controller,
                                                          const std::string& after_subject_id,
                                                          size_t max_subjects) = 0;
  // Anonymised facts of `category` and its descendants, counted by (category, value), in
  // (category, value) order.
  virtual Result<std::vector<FactCount>> CountAnonymisedFacts(const std::string& controller,
                                                              const std::string& category) = 0;
  // The controller's newest retention run (highest run_id), or nullopt when there is none.
  virtual Result<std::optional<RetentionRunRow>> LastRetentionRun(
      const std::string& controller) = 0;

  // --- rights requests and the outbox (schema version 3)
  virtual Result<std::optional<RequestRow>> GetRequest(const std::string& controller,
                                                       const std::string& request_id) = 0;
  // The controller's requests in received_at order (then request_id); only those not closed
  // (closed_at unset) when `open_only`.
  virtual Result<std::vector<RequestRow>> ListRequests(const std::string& controller,
                                                       bool open_only) = 0;
  // A request's history in seq order.
  virtual Result<std::vector<RequestEventRow>> ListRequestEvents(const std::string& controller,
                                                                 const std::string& request_id) = 0;
  // Outbox messages in outbox_id order: of one request, or all when `request_id` is empty.
  virtual Result<std::vector<OutboxRow>> ListOutbox(const std::string& controller,
                                                    const std::string& request_id) = 0;
  // Claims up to `max` pending messages of `controller` due at `now` (next_attempt_at <= now)
  // whose lease is unset or over (claimed_until <= now), setting claimed_until = lease_until,
  // and returns them in outbox_id order. Atomic: concurrent callers (threads or processes)
  // never get the same message while its lease runs.
  virtual Result<std::vector<OutboxRow>> ClaimOutbox(const std::string& controller, Timestamp now,
                                                     Timestamp lease_until, size_t max) = 0;
  virtual Result<std::optional<RecipientEndpointRow>> GetRecipientEndpoint(
      const std::string& controller, const std::string& recipient) = 0;
  virtual Result<std::vector<RecipientEndpointRow>> ListRecipientEndpoints(
      const std::string& controller) = 0;

  // When codes went to the address whose blind index is `contact_hash`, at or after `since`,
  // oldest first (schema version 4).
  virtual Result<std::vector<Timestamp>> ListCodeSends(const std::string& controller,
                                                       const Bytes& contact_hash,
                                                       Timestamp since) = 0;

  // Earlier values of the subject's rectified records, in (record_id, version) order.
  virtual Result<std::vector<RecordVersionRow>> ListRecordVersions(
      const std::string& controller, const std::string& subject_id) = 0;

  // A subject's disclosures in disclosure_id order (schema version 6).
  virtual Result<std::vector<DisclosureRow>> ListDisclosures(const std::string& controller,
                                                             const std::string& subject_id) = 0;

  // --- the breach register (schema version 6)
  virtual Result<std::optional<BreachRow>> GetBreach(const std::string& controller,
                                                     const std::string& breach_id) = 0;
  // The controller's breaches in (aware_at, breach_id) order.
  virtual Result<std::vector<BreachRow>> ListBreaches(const std::string& controller) = 0;

  // --- audit log
  // The last entry (highest seq), or nullopt when the log is empty.
  virtual Result<std::optional<AuditRow>> LastAudit() = 0;
  // Calls `visit` for each entry with seq >= from_seq in seq order; stops when it returns false.
  virtual Status ScanAudit(int64_t from_seq, const std::function<bool(const AuditRow&)>& visit) = 0;

  // --- the master key the database belongs to (one for the whole database)
  // Records `key_id` when no key is recorded yet (chain_keyed_from: the audit head + 1, read in
  // the same statement) and returns the recorded binding, which may name another key: the
  // caller compares. Never replaces a recorded binding.
  virtual Result<KeyBindingRow> BindKey(const std::string& key_id) = 0;
  // The recorded binding, or nullopt when none is recorded yet.
  virtual Result<std::optional<KeyBindingRow>> GetKeyBinding() = 0;
};

}  // namespace custos::store

#endif  // CUSTOS_STORE_STORE_H_
