// The rows custos stores, shared by every Store backend. Every row that holds personal data is
// keyed by (controller, subject_id) so one server can hold many controllers and a distributed
// database can shard on that key. Personal values only ever appear here sealed (Bytes produced
// by crypto/sealing.h) or as keyed hashes (crypto/blind_index.h); the store never sees plaintext.
// Thread-safety: plain value types.
#ifndef CUSTOS_STORE_ROWS_H_
#define CUSTOS_STORE_ROWS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/time.h"

namespace custos::store {

using Bytes = std::vector<uint8_t>;

enum class SubjectState { kActive, kErased };
enum class RecordState { kActive, kRestricted, kAnonymised, kErased };
enum class ConsentAction { kGiven, kWithdrawn };
enum class ConsentTarget { kPurpose, kCookieCategory };

struct ControllerRow {
  std::string controller;  // short key, e.g. "wig"
  std::string name;        // organisation name from the policy
  std::string policy_version;
  std::string policy_text;  // the policy file as loaded; versions are kept forever
  Timestamp loaded_at;
};

struct SubjectRow {
  std::string controller, subject_id;
  std::vector<std::string> types;  // subject types from the policy (member, non_member, ...)
  Timestamp created_at;
  Bytes wrapped_key;  // the subject's data key, wrapped by the master key; empty once erased
  SubjectState state = SubjectState::kActive;
  std::optional<Timestamp> erased_at;
};

// A lifecycle event (membership_ended, last_activity, ...). Time given by the caller.
struct EventRow {
  std::string controller, subject_id, event;
  Timestamp at;
};

struct IdentifierRow {
  std::string controller, subject_id;
  std::string kind;    // email, phone, external
  Bytes blind_index;   // keyed BLAKE2b of the normalised value
  Bytes sealed_value;  // the value, sealed with the subject's data key
  bool verified = false;
  Timestamp added_at;
};

struct RecordRow {
  std::string controller, subject_id;
  int64_t record_id = 0;  // assigned by the store on insert when 0
  std::string category;   // data category key from the policy
  Bytes sealed_value;
  std::string source;   // a source key from the policy
  std::string purpose;  // the purpose it was collected for
  Timestamp collected_at;
  RecordState state = RecordState::kActive;
  Timestamp updated_at;
};

struct ConsentEventRow {
  std::string controller, subject_id;
  int64_t seq = 0;  // assigned by the store
  ConsentTarget target_kind = ConsentTarget::kPurpose;
  std::string target;  // purpose key or cookie category key
  ConsentAction action = ConsentAction::kGiven;
  std::string notice_version, channel;
  Timestamp at;
  Bytes sealed_evidence;  // e.g. form id, IP address: may identify, so sealed
};

struct PreferenceRow {
  std::string controller, subject_id;
  std::string channel;  // email, sms, post, phone
  bool allowed = false;
  Timestamp at;
};

struct ObjectionRow {
  std::string controller, subject_id;
  std::string purpose;  // a purpose key, or "*" for all processing on legitimate interests
  Timestamp at;
  std::optional<Timestamp> lifted_at;
};

struct RestrictionRow {
  std::string controller, subject_id;
  int64_t restriction_id = 0;           // assigned by the store
  std::vector<std::string> categories;  // empty: all of the subject's data
  std::string reason;  // accuracy_contested, unlawful_processing, legal_claims, objection_pending
  Timestamp at;
  std::optional<Timestamp> lifted_at;
};

// A keyed hash of an identifier that must never be contacted (or re-enabled) again.
struct SuppressionRow {
  std::string controller;
  Bytes hash;
  std::string kind;    // email, phone, ...
  std::string reason;  // erased, marketing_opt_out
  Timestamp at;
};

// One entry of the tamper-evident audit log; hash = H(prev_hash || canonical entry).
struct AuditRow {
  int64_t seq = 0;  // 1, 2, 3, ... in append order, across controllers
  std::string controller;
  Timestamp at;
  std::string actor;       // who: "cli", "token:abc", "system:retention"
  std::string action;      // decide, read, write, consent, ...
  std::string purpose;     // why, when there is one
  std::string subject_id;  // never a personal value
  std::string detail;      // non-personal detail, e.g. "allow" or category keys
  Bytes prev_hash, hash;
};

// --- Retention: legal holds, DPO review tasks, anonymised facts, sweep runs -----------------

// A legal hold suspends retention and erasure for a person, a category, or one category of one
// person. Not a personal row: `reason` is written by the DPO and must not hold personal values.
struct LegalHoldRow {
  std::string controller;
  int64_t hold_id = 0;     // assigned by the store when 0
  std::string subject_id;  // empty: every subject
  std::string category;    // empty: every category; else this category and its descendants
  std::string reason;
  Timestamp placed_at;
  std::optional<Timestamp> expires_at;
  std::optional<Timestamp> released_at;

  // In force at `at`: placed, not expired and not released by then.
  bool ActiveAt(Timestamp at) const {
    return placed_at <= at && (!expires_at || at < *expires_at) &&
           (!released_at || at < *released_at);
  }
};

// A task for the DPO: retention rule `rule_id` asks for `category` of this subject to be reviewed
// by `due_at`. At most one task per (subject, rule, category, due_at): adding it again is a no-op.
struct ReviewTaskRow {
  std::string controller, subject_id;
  int64_t task_id = 0;  // assigned by the store when 0
  std::string rule_id, category;
  Timestamp due_at, created_at;
  std::optional<Timestamp> done_at;
};

// One non-identifying fact kept after anonymisation. It names no subject, and fact ids are
// chosen at random by the writer, so a fact cannot be linked back to the person it came from
// by id or write order. `value` is plaintext: only categories declared `identifying: false`
// are ever stored here.
struct AnonymisedFactRow {
  std::string controller;
  int64_t fact_id = 0;  // > 0, random
  std::string category;
  std::string value;
};

// Counts of anonymised facts with one value (for aggregates).
struct FactCount {
  std::string category, value;
  int64_t count = 0;
};

struct RetentionCounts {
  int64_t subjects = 0;    // subjects scanned
  int64_t deleted = 0;     // records and identifiers deleted
  int64_t anonymised = 0;  // records anonymised
  int64_t reviews = 0;     // review tasks created
  int64_t held = 0;        // records and identifiers kept past their deadline by a legal hold
  int64_t erased = 0;      // subjects erased whole (data key destroyed)
};

// One retention sweep. The sweep visits subjects in subject_id order and records, in the same
// transaction as each page's actions, the last subject done, so a sweep interrupted by a crash
// resumes after it and never acts twice.
struct RetentionRunRow {
  std::string controller;
  int64_t run_id = 0;  // assigned by the store when 0
  Timestamp as_of, started_at;
  std::string last_subject_id;  // empty before the first page
  RetentionCounts counts;       // totals so far
  std::optional<Timestamp> finished_at;
};

// Everything a retention sweep reads about one subject (sealed values stay sealed).
struct SweepSubject {
  SubjectRow subject;
  std::vector<EventRow> events;
  std::vector<IdentifierRow> identifiers;
  std::vector<RecordRow> records;
  std::vector<ReviewTaskRow> review_tasks;
};

// --- Writes --------------------------------------------------------------------------------
// A WriteBatch is applied atomically: all of its operations or none.

struct SetRecordState {
  std::string controller, subject_id;
  int64_t record_id = 0;
  RecordState state = RecordState::kActive;
  std::optional<Bytes> sealed_value;  // replaced when set (anonymise, rectify)
  Timestamp at;
};

struct LiftRestriction {
  std::string controller, subject_id;
  int64_t restriction_id = 0;
  Timestamp at;
};

struct LiftObjection {
  std::string controller, subject_id, purpose;
  Timestamp at;
};

// Crypto-shredding: drops the wrapped key and marks the subject erased.
struct EraseSubject {
  std::string controller, subject_id;
  Timestamp at;
};

// Deletes a subject's identifiers of `kind` (every kind when empty) whose blind index is
// `blind_index` (any when empty). Their keyed hashes go to the suppression list in the same
// batch when they must never be contacted again.
struct DeleteIdentifiers {
  std::string controller, subject_id;
  std::string kind;
  Bytes blind_index;
};

// Releases a legal hold (idempotent: a hold released twice keeps the first time).
struct ReleaseLegalHold {
  std::string controller;
  int64_t hold_id = 0;
  Timestamp at;
};

// Marks a DPO review task done (idempotent: keeps the first time).
struct CompleteReviewTask {
  std::string controller;
  int64_t task_id = 0;
  Timestamp at;
};

// A precondition, checked where it stands in the batch: the subject is not erased and, when
// `record_id` is set, that record is in `record_state`. Otherwise the batch fails with
// INVALID_ARGUMENT and nothing of it is applied. A sweep guards what it read with it, so two
// sweeps racing over the same person cannot both act.
struct ExpectState {
  std::string controller, subject_id;
  int64_t record_id = 0;  // 0: the subject only
  RecordState record_state = RecordState::kActive;
};

// Records a sweep's progress: the last subject done and the totals so far; finished when set.
struct RetentionCheckpoint {
  std::string controller;
  int64_t run_id = 0;
  std::string last_subject_id;
  RetentionCounts counts;
  std::optional<Timestamp> finished_at;
};

using WriteOp =
    std::variant<ControllerRow, SubjectRow, EventRow, IdentifierRow, RecordRow, ConsentEventRow,
                 PreferenceRow, ObjectionRow, RestrictionRow, SuppressionRow, AuditRow,
                 SetRecordState, LiftRestriction, LiftObjection, EraseSubject, LegalHoldRow,
                 ReleaseLegalHold, ReviewTaskRow, CompleteReviewTask, AnonymisedFactRow,
                 DeleteIdentifiers, RetentionRunRow, RetentionCheckpoint, ExpectState>;

struct WriteBatch {
  std::vector<WriteOp> ops;
  template <typename Row>
  void Add(Row row) {
    ops.emplace_back(std::move(row));
  }
  bool empty() const { return ops.empty(); }
};

}  // namespace custos::store

#endif  // CUSTOS_STORE_ROWS_H_
