// The rows custos stores, shared by every Store backend. Every row that holds personal data is
// keyed by (controller, subject_id) so one server can hold many controllers and a distributed
// database can shard on that key. Personal values only ever appear here sealed (Bytes produced
// by crypto/sealing.h) or as keyed hashes (crypto/blind_index.h); the store never sees plaintext.
// Thread-safety: plain value types.
#ifndef CUSTOS_STORE_ROWS_H_
#define CUSTOS_STORE_ROWS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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
  // Free text (accuracy_contested, or whatever staff typed), sealed by the engine with the
  // subject's data key ("sealed:..."; rows of earlier versions hold plain text).
  std::string reason;
  Timestamp at;
  std::optional<Timestamp> lifted_at;
};

// A keyed hash of an identifier that must never be contacted (or re-enabled) again.
struct SuppressionRow {
  std::string controller;
  Bytes hash;
  std::string kind;  // email, phone, ...
  // erased (written by custos), or what was typed, sealed by the engine ("sealed:...")
  std::string reason;
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

// The master key a database belongs to (MasterKey::KeyId: a one-way name, never the key) and
// the first audit seq chained with the key (1 for a database created since keys are recorded;
// the head + 1 for one written before: its older entries are chained without a key).
struct KeyBindingRow {
  std::string key_id;
  int64_t chain_keyed_from = 1;
};

// --- Retention: legal holds, DPO review tasks, anonymised facts, sweep runs -----------------

// A legal hold suspends retention and erasure for a person, a category, or one category of one
// person. `reason` is what the DPO typed, sealed by the engine ("sealed:...": with the person's
// data key on a hold on a person, else with the deployment's note key; plain text in rows of
// earlier versions).
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

// --- Rights requests, their history, the outbox (schema version 3) --------------------------

enum class RequestState {
  kReceived,
  kVerifyingIdentity,
  kInProgress,
  kExtended,
  kCompleted,
  kRefused,
  kWithdrawn,
  kForwarded,  // a processor passed it to the controller whose data it is
};

// Stable names of request and outbox states, as stored and shown ("in_progress").
inline constexpr std::array<std::string_view, 8> kRequestStateNames = {
    "received", "verifying_identity", "in_progress", "extended", "completed",
    "refused",  "withdrawn",          "forwarded"};
inline std::string_view RequestStateName(RequestState state) {
  return kRequestStateNames[static_cast<size_t>(state)];
}
inline std::optional<RequestState> RequestStateFromName(std::string_view name) {
  for (size_t i = 0; i < kRequestStateNames.size(); ++i) {
    if (kRequestStateNames[i] == name) return static_cast<RequestState>(i);
  }
  return std::nullopt;
}

// One rights request. Keyed by (controller, request_id): at intake the person may not be known
// yet. Its personal parts (the requester's identifiers, what is asked, the answer prepared for
// the person) are sealed with the request's own data key (`wrapped_key`, wrapped by the master
// key), so they are shredded when the request no longer needs them, while the non-personal
// fields and the history (RequestEventRow) stay as proof of what was done.
struct RequestRow {
  std::string controller, request_id;
  int64_t version = 1;  // 1 on insert; every UpdateRequest bumps it (optimistic concurrency)
  std::string type;     // access, portability, rectification, erasure, restriction, objection,
                        // withdraw_consent, automated_decision_review
  RequestState state = RequestState::kReceived;
  std::string intake;  // self_service, staff
  std::string
      verification;         // how identity was checked ("email_code", "staff:passport"); "" not yet
  std::string waiting_for;  // "", identity, clarification, fee: the month does not run meanwhile
  std::vector<std::string> subject_ids;  // reached through verified identifiers only
  Timestamp received_at;
  std::optional<Timestamp> clock_started_at;  // the day the month runs from
  std::optional<Timestamp> due_at;            // midnight UTC of the due date; nullopt when waiting
  std::optional<Timestamp> extended_at;
  std::optional<Timestamp> closed_at;
  std::string outcome;   // non-personal: a reason code or a short summary of what was done
  Bytes wrapped_key;     // the request's data key; empty once shredded
  Bytes sealed_details;  // JSON: identifiers claimed, what is asked (sealed with the request key)
  Bytes sealed_result;   // the answer for the person (access package, ...), sealed; may be empty
  Bytes code_hash;       // keyed hash of the one-time code sent to the requester; empty when none
  std::optional<Timestamp> code_expires_at;
  int64_t code_attempts = 0;
  Bytes access_hash;  // keyed hash of the requester's secret for following the request
};

// One step of a request's history, append-only. `detail` is non-personal.
struct RequestEventRow {
  std::string controller, request_id;
  int64_t seq = 0;  // assigned by the store
  Timestamp at;
  std::string actor, event;  // received, code_sent, identity_verified, extended, completed, ...
  RequestState state = RequestState::kReceived;  // the request's state after the event
  std::string detail;
};

// An earlier value of a record, kept when the record is rectified (history kept, sealed with
// the subject's data key like the record itself). Setting a record's state to erased or
// anonymised deletes its earlier versions in the same batch.
struct RecordVersionRow {
  std::string controller, subject_id;
  int64_t record_id = 0;
  int64_t version = 0;  // assigned by the store: 1, 2, ... per record
  Bytes sealed_value;
  Timestamp replaced_at;
  std::string request_id;  // the rectification request, when there was one
};

enum class OutboxState { kPending, kDelivered, kManual, kDead };
inline constexpr std::array<std::string_view, 4> kOutboxStateNames = {"pending", "delivered",
                                                                      "manual", "dead"};
inline std::string_view OutboxStateName(OutboxState state) {
  return kOutboxStateNames[static_cast<size_t>(state)];
}
inline std::optional<OutboxState> OutboxStateFromName(std::string_view name) {
  for (size_t i = 0; i < kOutboxStateNames.size(); ++i) {
    if (kOutboxStateNames[i] == name) return static_cast<OutboxState>(i);
  }
  return std::nullopt;
}

// A message that must leave custos: an Article 19 notice to a recipient (webhook) or a message
// to the requester (one-time code, extension notice, outcome). Durable: written in the same
// transaction as the change that causes it, delivered later by whoever claims it.
struct OutboxRow {
  std::string controller;
  int64_t outbox_id = 0;  // assigned by the store
  std::string request_id;
  std::string kind;                           // recipient_notice, requester_message
  std::string target;                         // the recipient key, or "requester"
  OutboxState state = OutboxState::kPending;  // manual: no endpoint, someone must act by hand
  int64_t attempts = 0;
  Timestamp created_at, next_attempt_at;
  std::optional<Timestamp> delivered_at;
  std::optional<Timestamp> claimed_until;  // a deliverer's lease
  std::string last_error;                  // non-personal (an HTTP status, a curl error name)
  Bytes sealed_payload;                    // sealed with the request's key; cleared once delivered
  Bytes payload_digest;  // BLAKE2b of the payload: proof of what was sent after it is cleared
};

// Where a recipient receives Article 19 notices: a webhook URL and its HMAC secret (sealed with
// a key derived from the master key). Set by the operator, not by the policy.
struct RecipientEndpointRow {
  std::string controller, recipient, url;
  Bytes sealed_secret;
  Timestamp updated_at;
};

// A one-time code sent to a requester's email or phone: counted so that one address receives
// only so many codes a day (schema version 4). `contact_hash` is the address's blind index,
// never the address; rows older than a day are forgotten (ForgetCodeSends).
struct CodeSendRow {
  std::string controller;
  Bytes contact_hash;
  Timestamp sent_at;
};

// A personal-data breach in the controller's register (schema version 6). Keyed by
// (controller, breach_id); `version` as for requests. What happened, who and what it touched,
// the assessment and the measures are free text staff type, sealed with the breach's own data
// key (`wrapped_key`, wrapped by the master key) in `sealed_details`; the columns hold only what
// the register is listed and clocked by. The register is kept for accountability, so the key
// is never shredded.
struct BreachRow {
  std::string controller, breach_id;
  int64_t version = 1;  // 1 on insert; every UpdateBreach bumps it
  Timestamp aware_at;   // when the controller became aware: the regulator's clock runs from it
  std::string risk;     // unassessed, none, risk, high_risk
  std::optional<Timestamp> reported_at;  // reported to the regulator
  std::optional<Timestamp> closed_at;
  Timestamp updated_at;
  Bytes wrapped_key;
  Bytes sealed_details;  // JSON (see engine/breach.h), sealed with the breach's key
};

// Personal data of a subject that went to a recipient: the disclosure log (schema version 6),
// written by the application's call (Engine::RecordDisclosure). Not sealed: keys and times only.
// Kept when the person is erased, as the record of whom Article 19 notices went to.
struct DisclosureRow {
  std::string controller, subject_id;
  int64_t disclosure_id = 0;  // assigned by the store when 0
  std::string recipient, purpose;
  std::vector<std::string> categories;
  Timestamp at;
  // The third-party application it went to, by the name its grant gives it; empty when the
  // recipient itself was sent the data (engine/application_grant.h).
  std::string application;
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

// Replaces a request's row when its stored version is `expected_version` (the row's version is
// then expected_version + 1); otherwise the batch fails with INVALID_ARGUMENT ("changed
// concurrently"). Two processes fulfilling one request cannot both act.
struct UpdateRequest {
  RequestRow row;
  int64_t expected_version = 0;
};

// Changes an outbox message's delivery state. `clear_payload` drops the sealed payload.
struct UpdateOutbox {
  std::string controller;
  int64_t outbox_id = 0;
  OutboxState state = OutboxState::kPending;
  int64_t attempts = 0;
  Timestamp next_attempt_at;
  std::optional<Timestamp> delivered_at;
  std::string last_error;
  bool clear_payload = false;
};

// Replaces a breach's row when its stored version is `expected_version`, as UpdateRequest.
struct UpdateBreach {
  BreachRow row;
  int64_t expected_version = 0;
};

// Deletes the controller's CodeSendRows sent before `before` (none left: not an error).
struct ForgetCodeSends {
  std::string controller;
  Timestamp before;
};

using WriteOp = std::variant<
    ControllerRow, SubjectRow, EventRow, IdentifierRow, RecordRow, ConsentEventRow, PreferenceRow,
    ObjectionRow, RestrictionRow, SuppressionRow, AuditRow, SetRecordState, LiftRestriction,
    LiftObjection, EraseSubject, LegalHoldRow, ReleaseLegalHold, ReviewTaskRow, CompleteReviewTask,
    AnonymisedFactRow, DeleteIdentifiers, RetentionRunRow, RetentionCheckpoint, ExpectState,
    RequestRow, UpdateRequest, RequestEventRow, OutboxRow, UpdateOutbox, RecipientEndpointRow,
    RecordVersionRow, CodeSendRow, ForgetCodeSends, BreachRow, UpdateBreach, DisclosureRow>;

struct WriteBatch {
  std::vector<WriteOp> ops;
  // Every row is new and nothing refers to its assigned id (an import's batch of people just
  // made): a store may bulk-load the rows (PostgreSQL: COPY) rather than insert them one by
  // one, and then hands back no record ids.
  bool only_new_rows = false;
  template <typename Row>
  void Add(Row row) {
    ops.emplace_back(std::move(row));
  }
  bool empty() const { return ops.empty(); }
};

}  // namespace custos::store

#endif  // CUSTOS_STORE_ROWS_H_
