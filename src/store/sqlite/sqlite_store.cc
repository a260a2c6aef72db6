#include "store/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <filesystem>
#include <system_error>
#include <utility>

#include "store/column_text.h"
#include "store/sqlite/sqlite_connection.h"
#include "store/sqlite/sqlite_schema.h"

namespace custos::store {

using sqlite::Connection;
using sqlite::ConnectionOptions;
using sqlite::Statement;

namespace {

// Idle read connections kept for reuse; more are opened when more threads read at once.
constexpr size_t kMaxIdleReaders = 8;

Status Invalid(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}
Status Corrupt(std::string_view where) {
  return Status(ErrorCode::kIo, "sqlite: unexpected value in " + std::string(where));
}

// --- SQL ------------------------------------------------------------------------------------
// Every value is a bound parameter, so no personal value ever appears in SQL text or errors.

constexpr char kBegin[] = "BEGIN IMMEDIATE";
constexpr char kCommit[] = "COMMIT";
constexpr char kRollback[] = "ROLLBACK";

constexpr char kSelectSequence[] = "SELECT next_id FROM sequences WHERE name = ?";
constexpr char kUpdateSequence[] = "UPDATE sequences SET next_id = ? WHERE name = ?";

constexpr char kInsertController[] =
    "INSERT INTO controllers (controller, name, policy_version, policy_text, loaded_at)"
    " VALUES (?, ?, ?, ?, ?)";
constexpr char kInsertSubject[] =
    "INSERT INTO subjects (controller, subject_id, types, created_at, wrapped_key, state,"
    " erased_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
constexpr char kInsertEvent[] =
    "INSERT INTO events (controller, subject_id, seq, event, at) VALUES (?, ?, ?, ?, ?)";
constexpr char kInsertIdentifier[] =
    "INSERT INTO identifiers (controller, subject_id, seq, kind, blind_index, sealed_value,"
    " verified, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
constexpr char kInsertRecord[] =
    "INSERT INTO records (controller, subject_id, record_id, category, sealed_value, source,"
    " purpose, collected_at, state, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr char kInsertConsentEvent[] =
    "INSERT INTO consent_events (controller, subject_id, seq, target_kind, target, action,"
    " notice_version, channel, at, sealed_evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr char kInsertPreference[] =
    "INSERT INTO preferences (controller, subject_id, seq, channel, allowed, at)"
    " VALUES (?, ?, ?, ?, ?, ?)";
constexpr char kInsertObjection[] =
    "INSERT INTO objections (controller, subject_id, seq, purpose, at, lifted_at)"
    " VALUES (?, ?, ?, ?, ?, ?)";
constexpr char kInsertRestriction[] =
    "INSERT INTO restrictions (controller, subject_id, restriction_id, categories, reason, at,"
    " lifted_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
constexpr char kInsertSuppression[] =
    "INSERT INTO suppressions (controller, hash, kind, reason, at) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (controller, hash) DO NOTHING";
constexpr char kInsertAudit[] =
    "INSERT INTO audit_log (seq, controller, at, actor, action, purpose, subject_id, detail,"
    " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr char kSetRecordState[] =
    "UPDATE records SET state = ?, sealed_value = COALESCE(?, sealed_value), updated_at = ?"
    " WHERE controller = ? AND subject_id = ? AND record_id = ?";
constexpr char kLiftRestriction[] =
    "UPDATE restrictions SET lifted_at = COALESCE(lifted_at, ?)"
    " WHERE controller = ? AND subject_id = ? AND restriction_id = ?";
constexpr char kLiftObjection[] =
    "UPDATE objections SET lifted_at = ?"
    " WHERE controller = ? AND subject_id = ? AND purpose = ? AND lifted_at IS NULL";
constexpr char kEraseSubject[] =
    "UPDATE subjects SET wrapped_key = x'', state = 'erased', erased_at = COALESCE(erased_at, ?)"
    " WHERE controller = ? AND subject_id = ?";

constexpr char kInsertLegalHold[] =
    "INSERT INTO legal_holds (controller, hold_id, subject_id, category, reason, placed_at,"
    " expires_at, released_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
constexpr char kReleaseLegalHold[] =
    "UPDATE legal_holds SET released_at = COALESCE(released_at, ?)"
    " WHERE controller = ? AND hold_id = ?";
constexpr char kInsertReviewTask[] =
    "INSERT INTO review_tasks (controller, subject_id, task_id, rule_id, category, due_at,"
    " created_at, done_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (controller, subject_id, rule_id, category, due_at) DO NOTHING";
constexpr char kCompleteReviewTask[] =
    "UPDATE review_tasks SET done_at = COALESCE(done_at, ?) WHERE controller = ? AND task_id = ?";
constexpr char kInsertAnonymisedFact[] =
    "INSERT INTO anonymised_facts (controller, fact_id, category, value) VALUES (?, ?, ?, ?)";
constexpr char kDeleteIdentifiers[] =
    "DELETE FROM identifiers WHERE controller = ?1 AND subject_id = ?2 AND (?3 = '' OR kind = ?3)"
    " AND (length(?4) = 0 OR blind_index = ?4)";
constexpr char kExpectSubject[] =
    "SELECT state FROM subjects WHERE controller = ? AND subject_id = ?";
constexpr char kExpectRecord[] =
    "SELECT state FROM records WHERE controller = ? AND subject_id = ? AND record_id = ?";
constexpr char kInsertRetentionRun[] =
    "INSERT INTO retention_runs (controller, run_id, as_of, started_at, last_subject_id, subjects,"
    " deleted, anonymised, reviews, held, erased, finished_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr char kRetentionCheckpoint[] =
    "UPDATE retention_runs SET last_subject_id = ?, subjects = ?, deleted = ?, anonymised = ?,"
    " reviews = ?, held = ?, erased = ?, finished_at = COALESCE(finished_at, ?)"
    " WHERE controller = ? AND run_id = ?";

// Rights requests (schema version 3).
#define CUSTOS_REQUEST_COLUMNS                                                              \
  "controller, request_id, version, type, state, intake, verification, waiting_for,"        \
  " subject_ids, received_at, clock_started_at, due_at, extended_at, closed_at, outcome,"   \
  " wrapped_key, sealed_details, sealed_result, code_hash, code_expires_at, code_attempts," \
  " access_hash"
constexpr char kInsertRequest[] = "INSERT INTO requests (" CUSTOS_REQUEST_COLUMNS
                                  ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                                  " ?, ?, ?, ?, ?)";
constexpr char kUpdateRequest[] =
    "UPDATE requests SET version = ?, type = ?, state = ?, intake = ?, verification = ?,"
    " waiting_for = ?, subject_ids = ?, received_at = ?, clock_started_at = ?, due_at = ?,"
    " extended_at = ?, closed_at = ?, outcome = ?, wrapped_key = ?, sealed_details = ?,"
    " sealed_result = ?, code_hash = ?, code_expires_at = ?, code_attempts = ?, access_hash = ?"
    " WHERE controller = ? AND request_id = ? AND version = ?";
constexpr char kSelectRequest[] =
    "SELECT " CUSTOS_REQUEST_COLUMNS " FROM requests WHERE controller = ? AND request_id = ?";
constexpr char kListRequests[] = "SELECT " CUSTOS_REQUEST_COLUMNS
                                 " FROM requests WHERE controller = ?1"
                                 " AND (?2 = 0 OR closed_at IS NULL)"
                                 " ORDER BY received_at, request_id";
#undef CUSTOS_REQUEST_COLUMNS
constexpr char kInsertRequestEvent[] =
    "INSERT INTO request_events (controller, request_id, seq, at, actor, event, state, detail)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
constexpr char kListRequestEvents[] =
    "SELECT controller, request_id, seq, at, actor, event, state, detail FROM request_events"
    " WHERE controller = ? AND request_id = ? ORDER BY seq";
#define CUSTOS_OUTBOX_COLUMNS                                                     \
  "controller, outbox_id, request_id, kind, target, state, attempts, created_at," \
  " next_attempt_at, delivered_at, claimed_until, last_error, sealed_payload, payload_digest"
constexpr char kInsertOutbox[] = "INSERT INTO outbox (" CUSTOS_OUTBOX_COLUMNS
                                 ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr char kListOutbox[] = "SELECT " CUSTOS_OUTBOX_COLUMNS
                               " FROM outbox WHERE controller = ?1"
                               " AND (?2 = '' OR request_id = ?2) ORDER BY outbox_id";
constexpr char kClaimOutbox[] =
    "UPDATE outbox SET claimed_until = ?3 WHERE controller = ?1 AND outbox_id IN ("
    " SELECT outbox_id FROM outbox WHERE controller = ?1 AND state = 'pending'"
    " AND next_attempt_at <= ?2 AND (claimed_until IS NULL OR claimed_until <= ?2)"
    " ORDER BY outbox_id LIMIT ?4) RETURNING " CUSTOS_OUTBOX_COLUMNS;
#undef CUSTOS_OUTBOX_COLUMNS
constexpr char kUpdateOutbox[] =
    "UPDATE outbox SET state = ?, attempts = ?, next_attempt_at = ?, delivered_at = ?,"
    " last_error = ?, claimed_until = NULL,"
    " sealed_payload = CASE WHEN ? THEN x'' ELSE sealed_payload END"
    " WHERE controller = ? AND outbox_id = ?";
constexpr char kUpsertEndpoint[] =
    "INSERT INTO recipient_endpoints (controller, recipient, url, sealed_secret, updated_at)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (controller, recipient) DO UPDATE SET"
    " url = excluded.url, sealed_secret = excluded.sealed_secret,"
    " updated_at = excluded.updated_at";
constexpr char kSelectEndpoints[] =
    "SELECT controller, recipient, url, sealed_secret, updated_at FROM recipient_endpoints"
    " WHERE controller = ?1 AND (?2 = '' OR recipient = ?2) ORDER BY recipient";
constexpr char kInsertRecordVersion[] =
    "INSERT INTO record_versions (controller, subject_id, record_id, version, sealed_value,"
    " replaced_at, request_id) VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(version), 0) + 1 FROM"
    " record_versions WHERE controller = ?1 AND subject_id = ?2 AND record_id = ?3), ?4, ?5, ?6)";
constexpr char kDeleteRecordVersions[] =
    "DELETE FROM record_versions WHERE controller = ? AND subject_id = ? AND record_id = ?";
constexpr char kListRecordVersions[] =
    "SELECT controller, subject_id, record_id, version, sealed_value, replaced_at, request_id"
    " FROM record_versions WHERE controller = ? AND subject_id = ? ORDER BY record_id, version";

constexpr char kSelectController[] =
    "SELECT controller, name, policy_version, policy_text, loaded_at FROM controllers"
    " WHERE controller = ? ORDER BY seq DESC LIMIT 1";
#define CUSTOS_SUBJECT_COLUMNS \
  "SELECT controller, subject_id, types, created_at, wrapped_key, state, erased_at FROM subjects"
constexpr char kSelectSubject[] = CUSTOS_SUBJECT_COLUMNS " WHERE controller = ? AND subject_id = ?";
constexpr char kScanSubjects[] = CUSTOS_SUBJECT_COLUMNS " WHERE controller = ? ORDER BY subject_id";
constexpr char kSweepSubjects[] =
    CUSTOS_SUBJECT_COLUMNS " WHERE controller = ? AND subject_id > ? ORDER BY subject_id LIMIT ?";
#undef CUSTOS_SUBJECT_COLUMNS
constexpr char kCountSubjects[] = "SELECT COUNT(*) FROM subjects WHERE controller = ?";
constexpr char kSelectEvents[] =
    "SELECT controller, subject_id, event, at FROM events"
    " WHERE controller = ? AND subject_id = ? ORDER BY seq";
constexpr char kSelectIdentifiers[] =
    "SELECT controller, subject_id, kind, blind_index, sealed_value, verified, added_at"
    " FROM identifiers WHERE controller = ? AND subject_id = ? ORDER BY seq";
constexpr char kSelectRecords[] =
    "SELECT controller, subject_id, record_id, category, sealed_value, source, purpose,"
    " collected_at, state, updated_at FROM records"
    " WHERE controller = ? AND subject_id = ? ORDER BY record_id";
constexpr char kSelectConsentEvents[] =
    "SELECT controller, subject_id, seq, target_kind, target, action, notice_version, channel,"
    " at, sealed_evidence FROM consent_events WHERE controller = ? AND subject_id = ? ORDER BY seq";
constexpr char kSelectPreferences[] =
    "SELECT controller, subject_id, channel, allowed, at FROM preferences"
    " WHERE controller = ? AND subject_id = ? ORDER BY seq";
constexpr char kSelectObjections[] =
    "SELECT controller, subject_id, purpose, at, lifted_at FROM objections"
    " WHERE controller = ? AND subject_id = ? ORDER BY seq";
constexpr char kSelectRestrictions[] =
    "SELECT controller, subject_id, restriction_id, categories, reason, at, lifted_at"
    " FROM restrictions WHERE controller = ? AND subject_id = ? ORDER BY restriction_id";
constexpr char kFindSubjects[] =
    "SELECT subject_id FROM identifiers WHERE controller = ? AND kind = ? AND blind_index = ?"
    " GROUP BY subject_id ORDER BY MIN(seq)";
constexpr char kIsSuppressed[] = "SELECT 1 FROM suppressions WHERE controller = ? AND hash = ?";
// A sweep page: the rows of every subject in (after, last], in subject order.
constexpr char kSweepEvents[] =
    "SELECT controller, subject_id, event, at FROM events"
    " WHERE controller = ? AND subject_id > ? AND subject_id <= ? ORDER BY subject_id, seq";
constexpr char kSweepIdentifiers[] =
    "SELECT controller, subject_id, kind, blind_index, sealed_value, verified, added_at"
    " FROM identifiers WHERE controller = ? AND subject_id > ? AND subject_id <= ?"
    " ORDER BY subject_id, seq";
constexpr char kSweepRecords[] =
    "SELECT controller, subject_id, record_id, category, sealed_value, source, purpose,"
    " collected_at, state, updated_at FROM records"
    " WHERE controller = ? AND subject_id > ? AND subject_id <= ? ORDER BY subject_id, record_id";
#define CUSTOS_REVIEW_TASK_COLUMNS                                                         \
  "SELECT controller, subject_id, task_id, rule_id, category, due_at, created_at, done_at" \
  " FROM review_tasks"
constexpr char kSweepReviewTasks[] = CUSTOS_REVIEW_TASK_COLUMNS
    " WHERE controller = ? AND subject_id > ? AND subject_id <= ? ORDER BY subject_id, task_id";
constexpr char kSelectReviewTasks[] = CUSTOS_REVIEW_TASK_COLUMNS
    " WHERE controller = ?1 AND (?2 = 0 OR done_at IS NULL) ORDER BY task_id";
#undef CUSTOS_REVIEW_TASK_COLUMNS
constexpr char kSelectLegalHolds[] =
    "SELECT controller, hold_id, subject_id, category, reason, placed_at, expires_at, released_at"
    " FROM legal_holds WHERE controller = ? ORDER BY hold_id";
// `category` and its descendants: the key itself, or keys between "key." and "key/" ('/' follows
// '.' in ASCII), which an index range scan finds.
constexpr char kCountFacts[] =
    "SELECT category, value, COUNT(*) FROM anonymised_facts WHERE controller = ?1"
    " AND (category = ?2 OR (category >= ?2 || '.' AND category < ?2 || '/'))"
    " GROUP BY category, value ORDER BY category, value";
constexpr char kLastRetentionRun[] =
    "SELECT controller, run_id, as_of, started_at, last_subject_id, subjects, deleted, anonymised,"
    " reviews, held, erased, finished_at FROM retention_runs"
    " WHERE controller = ? ORDER BY run_id DESC LIMIT 1";
#define CUSTOS_AUDIT_COLUMNS                                                                \
  "SELECT seq, controller, at, actor, action, purpose, subject_id, detail, prev_hash, hash" \
  " FROM audit_log"
constexpr char kLastAudit[] = CUSTOS_AUDIT_COLUMNS " ORDER BY seq DESC LIMIT 1";
constexpr char kScanAudit[] = CUSTOS_AUDIT_COLUMNS " WHERE seq >= ? ORDER BY seq";
#undef CUSTOS_AUDIT_COLUMNS

// --- Row readers (column order as in the SELECTs above) -------------------------------------

Status ReadRow(const Statement& s, ControllerRow* row) {
  row->controller = s.Text(0);
  row->name = s.Text(1);
  row->policy_version = s.Text(2);
  row->policy_text = s.Text(3);
  row->loaded_at = s.Time(4);
  return Status::Ok();
}

Status ReadRow(const Statement& s, SubjectRow* row) {
  row->controller = s.Text(0);
  row->subject_id = s.Text(1);
  row->types = SplitKeys(s.Text(2));
  row->created_at = s.Time(3);
  row->wrapped_key = s.Blob(4);
  row->erased_at = s.OptionalTime(6);
  std::optional<SubjectState> state = SubjectStateFromName(s.Text(5));
  if (!state) return Corrupt("subjects.state");
  row->state = *state;
  return Status::Ok();
}

Status ReadRow(const Statement& s, EventRow* row) {
  row->controller = s.Text(0);
  row->subject_id = s.Text(1);
  row->event = s.Text(2);
  row->at = s.Time(3);
  return Status::Ok();
}

Status ReadRow(const Statement& s, IdentifierRow* row) {
  row->controller = s.Text(0);
  row->subject_id = s.Text(1);
  row->kind = s.Text(2);
  row->blind_index = s.Blob(3);
  row->sealed_value = s.Blob(4);
  row->verified = s.Int(5) != 0;
  row->added_at = s.Time(6);
  return Status::Ok();
}

Status ReadRow(const Statement& s, RecordRow* row) {
  row->controller = s.Text(0);
  row->subject_id = s.Text(1);
  row->record_id = s.Int(2);
  row->category = s.Text(3);
  row->sealed_value = s.Blob(4);
  row->source = s.Text(5);
  row->purpose = s.Text(6);
  row->collected_at = s.Time(7);
  row->updated_at = s.Time(9);
  std::optional<RecordState> state = RecordStateFromName(s.Text(8));
  if (!state) return Corrupt("records.state");
  row->state = *state;
  return Status::Ok();
}

Status ReadRow(const Statement& s, ConsentEventRow* row) {
  row->controller = s.Text(0);
  row->subject_id = s.Text(1);
  row->seq = s.Int(2);
  row->target = s.Text(4);
  row->notice_version = s.Text(6);
  row->channel = s.Text(7);
  row->at = s.Time(8);
  row->sealed_evidence = s.Blob(9);
  std::optional<ConsentTarget> target_kind = ConsentTargetFromName(s.Text(3));
  if (!target_kind) return Corrupt("consent_events.target_kind");
  row->target_kind = *target_kind;
  std::optional<ConsentAction> action = ConsentActionFromName(s.Text(5));
  if (!action) return Corrupt("consent_events.action");
  row->action = *action;
  return Status::Ok();
}

Status ReadRow(const Statement& s, PreferenceRow* row) {
  row->controller = s.Text(0);
  row->subject_id = s.Text(1);
  row->channel = s.Text(2);
  row->allowed = s.Int(3) != 0;
  row->at = s.Time(4);
  return Status::Ok();
}

Status ReadRow(const Statement& s, ObjectionRow* row) {
  row->controller = s.Text(0);
  row->subject_id = s.Text(1);
  row->purpose = s.Text(2);
  row->at = s.Time(3);
  row->lifted_at = s.OptionalTime(4);
  return Status::Ok();
}

Status ReadRow(const Statement& s, RestrictionRow* row) {
  row->controller = s.Text(0);
  row->subject_id = s.Text(1);
  row->restriction_id = s.Int(2);
  row->categories = SplitKeys(s.Text(3));
  row->reason = s.Text(4);
  row->at = s.Time(5);
  row->lifted_at = s.OptionalTime(6);
  return Status::Ok();
}

Status ReadRow(const Statement& s, AuditRow* row) {
  row->seq = s.Int(0);
  row->controller = s.Text(1);
  row->at = s.Time(2);
  row->actor = s.Text(3);
  row->action = s.Text(4);
  row->purpose = s.Text(5);
  row->subject_id = s.Text(6);
  row->detail = s.Text(7);
  row->prev_hash = s.Blob(8);
  row->hash = s.Blob(9);
  return Status::Ok();
}

Status ReadRow(const Statement& s, LegalHoldRow* row) {
  row->controller = s.Text(0);
  row->hold_id = s.Int(1);
  row->subject_id = s.Text(2);
  row->category = s.Text(3);
  row->reason = s.Text(4);
  row->placed_at = s.Time(5);
  row->expires_at = s.OptionalTime(6);
  row->released_at = s.OptionalTime(7);
  return Status::Ok();
}

Status ReadRow(const Statement& s, ReviewTaskRow* row) {
  row->controller = s.Text(0);
  row->subject_id = s.Text(1);
  row->task_id = s.Int(2);
  row->rule_id = s.Text(3);
  row->category = s.Text(4);
  row->due_at = s.Time(5);
  row->created_at = s.Time(6);
  row->done_at = s.OptionalTime(7);
  return Status::Ok();
}

Status ReadRow(const Statement& s, FactCount* row) {
  row->category = s.Text(0);
  row->value = s.Text(1);
  row->count = s.Int(2);
  return Status::Ok();
}

Status ReadRow(const Statement& s, RetentionRunRow* row) {
  row->controller = s.Text(0);
  row->run_id = s.Int(1);
  row->as_of = s.Time(2);
  row->started_at = s.Time(3);
  row->last_subject_id = s.Text(4);
  row->counts.subjects = s.Int(5);
  row->counts.deleted = s.Int(6);
  row->counts.anonymised = s.Int(7);
  row->counts.reviews = s.Int(8);
  row->counts.held = s.Int(9);
  row->counts.erased = s.Int(10);
  row->finished_at = s.OptionalTime(11);
  return Status::Ok();
}

Status ReadRow(const Statement& s, RequestRow* row) {
  row->controller = s.Text(0);
  row->request_id = s.Text(1);
  row->version = s.Int(2);
  row->type = s.Text(3);
  std::optional<RequestState> state = RequestStateFromName(s.Text(4));
  if (!state) return Corrupt("requests.state");
  row->state = *state;
  row->intake = s.Text(5);
  row->verification = s.Text(6);
  row->waiting_for = s.Text(7);
  row->subject_ids = SplitKeys(s.Text(8));
  row->received_at = s.Time(9);
  row->clock_started_at = s.OptionalTime(10);
  row->due_at = s.OptionalTime(11);
  row->extended_at = s.OptionalTime(12);
  row->closed_at = s.OptionalTime(13);
  row->outcome = s.Text(14);
  row->wrapped_key = s.Blob(15);
  row->sealed_details = s.Blob(16);
  row->sealed_result = s.Blob(17);
  row->code_hash = s.Blob(18);
  row->code_expires_at = s.OptionalTime(19);
  row->code_attempts = s.Int(20);
  row->access_hash = s.Blob(21);
  return Status::Ok();
}

Status ReadRow(const Statement& s, RequestEventRow* row) {
  row->controller = s.Text(0);
  row->request_id = s.Text(1);
  row->seq = s.Int(2);
  row->at = s.Time(3);
  row->actor = s.Text(4);
  row->event = s.Text(5);
  std::optional<RequestState> state = RequestStateFromName(s.Text(6));
  if (!state) return Corrupt("request_events.state");
  row->state = *state;
  row->detail = s.Text(7);
  return Status::Ok();
}

Status ReadRow(const Statement& s, OutboxRow* row) {
  row->controller = s.Text(0);
  row->outbox_id = s.Int(1);
  row->request_id = s.Text(2);
  row->kind = s.Text(3);
  row->target = s.Text(4);
  std::optional<OutboxState> state = OutboxStateFromName(s.Text(5));
  if (!state) return Corrupt("outbox.state");
  row->state = *state;
  row->attempts = s.Int(6);
  row->created_at = s.Time(7);
  row->next_attempt_at = s.Time(8);
  row->delivered_at = s.OptionalTime(9);
  row->claimed_until = s.OptionalTime(10);
  row->last_error = s.Text(11);
  row->sealed_payload = s.Blob(12);
  row->payload_digest = s.Blob(13);
  return Status::Ok();
}

Status ReadRow(const Statement& s, RecipientEndpointRow* row) {
  row->controller = s.Text(0);
  row->recipient = s.Text(1);
  row->url = s.Text(2);
  row->sealed_secret = s.Blob(3);
  row->updated_at = s.Time(4);
  return Status::Ok();
}

Status ReadRow(const Statement& s, RecordVersionRow* row) {
  row->controller = s.Text(0);
  row->subject_id = s.Text(1);
  row->record_id = s.Int(2);
  row->version = s.Int(3);
  row->sealed_value = s.Blob(4);
  row->replaced_at = s.Time(5);
  row->request_id = s.Text(6);
  return Status::Ok();
}

// --- Writing --------------------------------------------------------------------------------

// The per-table id counters of the `sequences` table, read on first use inside the write
// transaction and written back once before COMMIT. The transaction holds SQLite's write lock,
// so no other writer (thread or process) can hand out the same id.
enum class Sequence {
  kEvents,
  kIdentifiers,
  kRecords,
  kConsentEvents,
  kPreferences,
  kObjections,
  kRestrictions,
  kLegalHolds,     // schema version 2
  kReviewTasks,    // schema version 2
  kRetentionRuns,  // schema version 2
  kRequestEvents,  // schema version 3
  kOutbox,         // schema version 3
  kCount
};
constexpr std::array<const char*, static_cast<size_t>(Sequence::kCount)> kSequenceNames = {
    "events",       "identifiers", "records",      "consent_events", "preferences",    "objections",
    "restrictions", "legal_holds", "review_tasks", "retention_runs", "request_events", "outbox"};

class IdAllocator {
 public:
  explicit IdAllocator(Connection& db) : db_(db) {}

  // The next id of `sequence`.
  Result<int64_t> Next(Sequence sequence) {
    ASSIGN_OR_RETURN(Counter * counter, Load(sequence));
    counter->dirty = true;
    return counter->next++;
  }

  // `given` if it is set (> 0), making later ids come after it; else the next id.
  Result<int64_t> Take(Sequence sequence, int64_t given) {
    if (given == 0) return Next(sequence);
    if (given < 0) {
      return Invalid(std::string(kSequenceNames[Index(sequence)]) + ": a negative id");
    }
    ASSIGN_OR_RETURN(Counter * counter, Load(sequence));
    if (given >= counter->next) {
      counter->next = given + 1;
      counter->dirty = true;
    }
    return given;
  }

  Status Flush() {
    for (size_t i = 0; i < counters_.size(); ++i) {
      if (!counters_[i].dirty) continue;
      ASSIGN_OR_RETURN(Statement update, db_.Prepare(kUpdateSequence));
      RETURN_IF_ERROR(update.BindAll(counters_[i].next, kSequenceNames[i]).Run());
      counters_[i].dirty = false;
    }
    return Status::Ok();
  }

 private:
  struct Counter {
    bool loaded = false;
    bool dirty = false;
    int64_t next = 1;
  };
  static size_t Index(Sequence sequence) { return static_cast<size_t>(sequence); }

  Result<Counter*> Load(Sequence sequence) {
    Counter& counter = counters_[Index(sequence)];
    if (counter.loaded) return &counter;
    ASSIGN_OR_RETURN(Statement select, db_.Prepare(kSelectSequence));
    select.Bind(kSequenceNames[Index(sequence)]);
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return Corrupt("sequences");
    counter.next = select.Int(0);
    counter.loaded = true;
    return &counter;
  }

  Connection& db_;
  std::array<Counter, static_cast<size_t>(Sequence::kCount)> counters_;
};

// Applies the ops of one batch inside the open transaction; one overload per WriteOp.
class BatchWriter {
 public:
  BatchWriter(Connection& db, IdAllocator& ids, AppliedIds* applied)
      : db_(db), ids_(ids), applied_(applied) {}

  Status Write(const WriteBatch& batch) {
    const std::vector<WriteOp>& ops = batch.ops;
    size_t i = 0;
    while (i < ops.size()) {
      if (AuditRunAt(ops, i)) {
        RETURN_IF_ERROR(InsertAuditRun(ops, i));
        i += kAuditRun;
      } else {
        RETURN_IF_ERROR(std::visit(*this, ops[i]));
        ++i;
      }
    }
    return Status::Ok();
  }

  Status operator()(const ControllerRow& row) {
    return Insert(kInsertController, row.controller, row.name, row.policy_version, row.policy_text,
                  row.loaded_at);
  }

  Status operator()(const SubjectRow& row) {
    std::string types;
    RETURN_IF_ERROR(JoinKeys(row.types, "subjects.types", &types));
    return Insert(kInsertSubject, row.controller, row.subject_id, types, row.created_at,
                  row.wrapped_key, SubjectStateName(row.state), row.erased_at);
  }

  Status operator()(const EventRow& row) {
    ASSIGN_OR_RETURN(int64_t seq, ids_.Next(Sequence::kEvents));
    return Insert(kInsertEvent, row.controller, row.subject_id, seq, row.event, row.at);
  }

  Status operator()(const IdentifierRow& row) {
    ASSIGN_OR_RETURN(int64_t seq, ids_.Next(Sequence::kIdentifiers));
    return Insert(kInsertIdentifier, row.controller, row.subject_id, seq, row.kind, row.blind_index,
                  row.sealed_value, row.verified, row.added_at);
  }

  Status operator()(const RecordRow& row) {
    ASSIGN_OR_RETURN(int64_t id, ids_.Take(Sequence::kRecords, row.record_id));
    RETURN_IF_ERROR(Insert(kInsertRecord, row.controller, row.subject_id, id, row.category,
                           row.sealed_value, row.source, row.purpose, row.collected_at,
                           RecordStateName(row.state), row.updated_at));
    applied_->record_ids.push_back(id);
    return Status::Ok();
  }

  Status operator()(const ConsentEventRow& row) {
    ASSIGN_OR_RETURN(int64_t seq, ids_.Take(Sequence::kConsentEvents, row.seq));
    RETURN_IF_ERROR(Insert(kInsertConsentEvent, row.controller, row.subject_id, seq,
                           ConsentTargetName(row.target_kind), row.target,
                           ConsentActionName(row.action), row.notice_version, row.channel, row.at,
                           row.sealed_evidence));
    applied_->consent_seqs.push_back(seq);
    return Status::Ok();
  }

  Status operator()(const PreferenceRow& row) {
    ASSIGN_OR_RETURN(int64_t seq, ids_.Next(Sequence::kPreferences));
    return Insert(kInsertPreference, row.controller, row.subject_id, seq, row.channel, row.allowed,
                  row.at);
  }

  Status operator()(const ObjectionRow& row) {
    ASSIGN_OR_RETURN(int64_t seq, ids_.Next(Sequence::kObjections));
    return Insert(kInsertObjection, row.controller, row.subject_id, seq, row.purpose, row.at,
                  row.lifted_at);
  }

  Status operator()(const RestrictionRow& row) {
    std::string categories;
    RETURN_IF_ERROR(JoinKeys(row.categories, "restrictions.categories", &categories));
    ASSIGN_OR_RETURN(int64_t id, ids_.Take(Sequence::kRestrictions, row.restriction_id));
    RETURN_IF_ERROR(Insert(kInsertRestriction, row.controller, row.subject_id, id, categories,
                           row.reason, row.at, row.lifted_at));
    applied_->restriction_ids.push_back(id);
    return Status::Ok();
  }

  Status operator()(const SuppressionRow& row) {
    return Insert(kInsertSuppression, row.controller, row.hash, row.kind, row.reason, row.at);
  }

  Status operator()(const AuditRow& row) {
    if (row.seq < 0) return Invalid("audit_log: a negative seq");
    ASSIGN_OR_RETURN(Statement insert, db_.Prepare(kInsertAudit));
    BindAudit(insert, row);
    return insert.Run();
  }

  Status operator()(const SetRecordState& op) {
    ASSIGN_OR_RETURN(int64_t changed,
                     Update(kSetRecordState, RecordStateName(op.state), op.sealed_value, op.at,
                            op.controller, op.subject_id, op.record_id));
    if (changed == 0) {
      return Invalid("records: no record " + std::to_string(op.record_id) + " of subject " +
                     op.subject_id);
    }
    if (op.state == RecordState::kErased || op.state == RecordState::kAnonymised) {
      RETURN_IF_ERROR(
          Update(kDeleteRecordVersions, op.controller, op.subject_id, op.record_id).status());
    }
    return Status::Ok();
  }

  Status operator()(const LiftRestriction& op) {
    ASSIGN_OR_RETURN(int64_t changed, Update(kLiftRestriction, op.at, op.controller, op.subject_id,
                                             op.restriction_id));
    if (changed == 0) {
      return Invalid("restrictions: no restriction " + std::to_string(op.restriction_id) +
                     " of subject " + op.subject_id);
    }
    return Status::Ok();
  }

  Status operator()(const LiftObjection& op) {
    return Update(kLiftObjection, op.at, op.controller, op.subject_id, op.purpose).status();
  }

  Status operator()(const EraseSubject& op) {
    ASSIGN_OR_RETURN(int64_t changed, Update(kEraseSubject, op.at, op.controller, op.subject_id));
    if (changed == 0) return Invalid("subjects: no subject " + op.subject_id);
    return Status::Ok();
  }

  Status operator()(const LegalHoldRow& row) {
    ASSIGN_OR_RETURN(int64_t id, ids_.Take(Sequence::kLegalHolds, row.hold_id));
    RETURN_IF_ERROR(Insert(kInsertLegalHold, row.controller, id, row.subject_id, row.category,
                           row.reason, row.placed_at, row.expires_at, row.released_at));
    applied_->hold_ids.push_back(id);
    return Status::Ok();
  }

  Status operator()(const ReleaseLegalHold& op) {
    ASSIGN_OR_RETURN(int64_t changed, Update(kReleaseLegalHold, op.at, op.controller, op.hold_id));
    if (changed == 0) return Invalid("legal_holds: no hold " + std::to_string(op.hold_id));
    return Status::Ok();
  }

  Status operator()(const ReviewTaskRow& row) {
    ASSIGN_OR_RETURN(int64_t id, ids_.Take(Sequence::kReviewTasks, row.task_id));
    return Insert(kInsertReviewTask, row.controller, row.subject_id, id, row.rule_id, row.category,
                  row.due_at, row.created_at, row.done_at);
  }

  Status operator()(const CompleteReviewTask& op) {
    ASSIGN_OR_RETURN(int64_t changed,
                     Update(kCompleteReviewTask, op.at, op.controller, op.task_id));
    if (changed == 0) return Invalid("review_tasks: no task " + std::to_string(op.task_id));
    return Status::Ok();
  }

  Status operator()(const AnonymisedFactRow& row) {
    if (row.fact_id <= 0) return Invalid("anonymised_facts: the fact id must be set (> 0)");
    return Insert(kInsertAnonymisedFact, row.controller, row.fact_id, row.category, row.value);
  }

  Status operator()(const DeleteIdentifiers& op) {
    return Update(kDeleteIdentifiers, op.controller, op.subject_id, op.kind, op.blind_index)
        .status();
  }

  Status operator()(const RetentionRunRow& row) {
    ASSIGN_OR_RETURN(int64_t id, ids_.Take(Sequence::kRetentionRuns, row.run_id));
    const RetentionCounts& c = row.counts;
    RETURN_IF_ERROR(Insert(kInsertRetentionRun, row.controller, id, row.as_of, row.started_at,
                           row.last_subject_id, c.subjects, c.deleted, c.anonymised, c.reviews,
                           c.held, c.erased, row.finished_at));
    applied_->run_ids.push_back(id);
    return Status::Ok();
  }

  Status operator()(const ExpectState& op) {
    {
      ASSIGN_OR_RETURN(Statement select, db_.Prepare(kExpectSubject));
      select.BindAll(op.controller, op.subject_id);
      ASSIGN_OR_RETURN(bool found, select.Step());
      if (!found || select.Text(0) != SubjectStateName(SubjectState::kActive)) {
        return Invalid("subjects: subject " + op.subject_id + " is absent or erased");
      }
    }
    if (op.record_id == 0) return Status::Ok();
    ASSIGN_OR_RETURN(Statement select, db_.Prepare(kExpectRecord));
    select.BindAll(op.controller, op.subject_id, op.record_id);
    ASSIGN_OR_RETURN(bool found, select.Step());
    if (!found || select.Text(0) != RecordStateName(op.record_state)) {
      return Invalid("records: record " + std::to_string(op.record_id) + " of subject " +
                     op.subject_id + " is not " + std::string(RecordStateName(op.record_state)) +
                     " any more");
    }
    return Status::Ok();
  }

  Status operator()(const RetentionCheckpoint& op) {
    const RetentionCounts& c = op.counts;
    ASSIGN_OR_RETURN(int64_t changed, Update(kRetentionCheckpoint, op.last_subject_id, c.subjects,
                                             c.deleted, c.anonymised, c.reviews, c.held, c.erased,
                                             op.finished_at, op.controller, op.run_id));
    if (changed == 0) return Invalid("retention_runs: no run " + std::to_string(op.run_id));
    return Status::Ok();
  }

  Status operator()(const RequestRow& row) {
    if (row.version != 1) return Invalid("requests: a new request has version 1");
    return WriteRequest(kInsertRequest, row);
  }

  Status operator()(const UpdateRequest& op) {
    const RequestRow& r = op.row;
    if (r.version != op.expected_version + 1) {
      return Invalid("requests: an update sets version expected_version + 1");
    }
    std::string subjects;
    RETURN_IF_ERROR(JoinKeys(r.subject_ids, "requests.subject_ids", &subjects));
    ASSIGN_OR_RETURN(
        int64_t changed,
        Update(kUpdateRequest, r.version, r.type, RequestStateName(r.state), r.intake,
               r.verification, r.waiting_for, subjects, r.received_at, r.clock_started_at, r.due_at,
               r.extended_at, r.closed_at, r.outcome, r.wrapped_key, r.sealed_details,
               r.sealed_result, r.code_hash, r.code_expires_at, r.code_attempts, r.access_hash,
               r.controller, r.request_id, op.expected_version));
    if (changed == 0) {
      return Invalid("requests: request " + r.request_id + " is absent or changed concurrently");
    }
    return Status::Ok();
  }

  Status operator()(const RequestEventRow& row) {
    ASSIGN_OR_RETURN(int64_t seq, ids_.Take(Sequence::kRequestEvents, row.seq));
    return Insert(kInsertRequestEvent, row.controller, row.request_id, seq, row.at, row.actor,
                  row.event, RequestStateName(row.state), row.detail);
  }

  Status operator()(const OutboxRow& row) {
    ASSIGN_OR_RETURN(int64_t id, ids_.Take(Sequence::kOutbox, row.outbox_id));
    RETURN_IF_ERROR(Insert(kInsertOutbox, row.controller, id, row.request_id, row.kind, row.target,
                           OutboxStateName(row.state), row.attempts, row.created_at,
                           row.next_attempt_at, row.delivered_at, row.claimed_until, row.last_error,
                           row.sealed_payload, row.payload_digest));
    applied_->outbox_ids.push_back(id);
    return Status::Ok();
  }

  Status operator()(const UpdateOutbox& op) {
    ASSIGN_OR_RETURN(int64_t changed, Update(kUpdateOutbox, OutboxStateName(op.state), op.attempts,
                                             op.next_attempt_at, op.delivered_at, op.last_error,
                                             op.clear_payload, op.controller, op.outbox_id));
    if (changed == 0) return Invalid("outbox: no message " + std::to_string(op.outbox_id));
    return Status::Ok();
  }

  Status operator()(const RecipientEndpointRow& row) {
    if (row.recipient.empty() || row.url.empty()) {
      return Invalid("recipient_endpoints: recipient and url are required");
    }
    return Insert(kUpsertEndpoint, row.controller, row.recipient, row.url, row.sealed_secret,
                  row.updated_at);
  }

  Status operator()(const RecordVersionRow& row) {
    return Insert(kInsertRecordVersion, row.controller, row.subject_id, row.record_id,
                  row.sealed_value, row.replaced_at, row.request_id);
  }

 private:
  Status WriteRequest(const char* sql, const RequestRow& r) {
    std::string subjects;
    RETURN_IF_ERROR(JoinKeys(r.subject_ids, "requests.subject_ids", &subjects));
    return Insert(sql, r.controller, r.request_id, r.version, r.type, RequestStateName(r.state),
                  r.intake, r.verification, r.waiting_for, subjects, r.received_at,
                  r.clock_started_at, r.due_at, r.extended_at, r.closed_at, r.outcome,
                  r.wrapped_key, r.sealed_details, r.sealed_result, r.code_hash, r.code_expires_at,
                  r.code_attempts, r.access_hash);
  }

  template <typename... Args>
  Status Insert(const char* sql, const Args&... args) {
    ASSIGN_OR_RETURN(Statement insert, db_.Prepare(sql));
    return insert.BindAll(args...).Run();
  }

  // Buffered decisions reach the store as long runs of audit rows: kAuditRun of them go into
  // one multi-row INSERT (a statement per row cost about 40 % more per row; PERFORMANCE.md).
  static constexpr size_t kAuditRun = 32;

  static bool AuditRunAt(const std::vector<WriteOp>& ops, size_t at) {
    if (ops.size() - at < kAuditRun) return false;
    for (size_t i = at; i < at + kAuditRun; ++i) {
      const AuditRow* row = std::get_if<AuditRow>(&ops[i]);
      if (row == nullptr || row->seq < 0) return false;
    }
    return true;
  }

  static const char* InsertAuditRunSql() {
    static const std::string sql = [] {
      std::string text = kInsertAudit;
      const std::string values = text.substr(text.find(" (?"));
      for (size_t i = 1; i < kAuditRun; ++i) text += "," + values;
      return text;
    }();
    return sql.c_str();
  }

  static void BindAudit(Statement& insert, const AuditRow& row) {
    std::optional<int64_t> seq;  // NULL: SQLite assigns the next rowid
    if (row.seq > 0) seq = row.seq;
    insert.BindAll(seq, row.controller, row.at, row.actor, row.action, row.purpose, row.subject_id,
                   row.detail, row.prev_hash, row.hash);
  }

  // REQUIRES: AuditRunAt(ops, at).
  Status InsertAuditRun(const std::vector<WriteOp>& ops, size_t at) {
    ASSIGN_OR_RETURN(Statement insert, db_.Prepare(InsertAuditRunSql()));
    for (size_t i = at; i < at + kAuditRun; ++i) BindAudit(insert, std::get<AuditRow>(ops[i]));
    return insert.Run();
  }

  // Returns the number of rows changed.
  template <typename... Args>
  Result<int64_t> Update(const char* sql, const Args&... args) {
    ASSIGN_OR_RETURN(Statement update, db_.Prepare(sql));
    RETURN_IF_ERROR(update.BindAll(args...).Run());
    return db_.Changes();
  }

  Connection& db_;
  IdAllocator& ids_;
  AppliedIds* applied_;
};

Status RunCached(Connection& db, const char* sql) {
  ASSIGN_OR_RETURN(Statement statement, db.Prepare(sql));
  return statement.Run();
}

// --- Opening --------------------------------------------------------------------------------

Status PrepareDataDir(const std::filesystem::path& dir, const std::filesystem::path& file) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::exists(dir, error)) {
    if (!fs::create_directories(dir, error) && error) {
      return Status(ErrorCode::kIo,
                    "cannot create data directory " + dir.string() + ": " + error.message());
    }
    // Only the service account may enter: the database is all personal data, even if sealed.
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, error);
    if (error) {
      return Status(ErrorCode::kIo,
                    "cannot set permissions of " + dir.string() + ": " + error.message());
    }
  } else if (!fs::is_directory(dir, error)) {
    return Status(ErrorCode::kIo, "data directory " + dir.string() + " is not a directory");
  }
  if (!fs::exists(file, error)) {
    // Created here rather than by SQLite so it is 0600 from the start; SQLite gives the WAL
    // and shared-memory files the same mode as the database file.
    int fd = ::open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Status(ErrorCode::kIo, "cannot create " + file.string() + ": " +
                                        std::error_code(errno, std::generic_category()).message());
    }
    ::close(fd);
  }
  return Status::Ok();
}

}  // namespace

// A read connection borrowed from the pool; returns it when destroyed.
class SqliteStore::ReaderLease {
 public:
  ReaderLease(SqliteStore* store, std::unique_ptr<Connection> connection)
      : store_(store), connection_(std::move(connection)) {}
  ReaderLease(ReaderLease&& other) noexcept = default;
  ReaderLease& operator=(ReaderLease&&) = delete;
  ~ReaderLease() {
    if (connection_ != nullptr) store_->ReleaseReader(std::move(connection_));
  }
  Connection& operator*() { return *connection_; }
  Connection* operator->() { return connection_.get(); }

 private:
  SqliteStore* store_;
  std::unique_ptr<Connection> connection_;
};

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteOptions& options) {
  if (options.data_dir.empty()) return Invalid("the data directory is empty");
  std::filesystem::path dir(options.data_dir);
  std::filesystem::path file = dir / kFileName;
  RETURN_IF_ERROR(PrepareDataDir(dir, file));

  ConnectionOptions writer_options;
  writer_options.create = true;
  writer_options.durable = options.durable;
  writer_options.busy_timeout_ms = options.busy_timeout_ms;
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> writer, Connection::Open(file, writer_options));
  // WAL lets readers run while a write commits; the mode is stored in the file.
  ASSIGN_OR_RETURN(std::string mode, writer->QueryText("PRAGMA journal_mode = WAL"));
  if (mode != "wal") {
    return Status(ErrorCode::kIo, "sqlite: cannot switch " + file.string() + " to WAL mode");
  }
  ASSIGN_OR_RETURN(int version, sqlite::Migrate(*writer));
  (void)version;
  return std::unique_ptr<SqliteStore>(
      new SqliteStore(file.string(), options.durable, options.busy_timeout_ms, std::move(writer)));
}

SqliteStore::SqliteStore(std::string path, bool durable, int busy_timeout_ms,
                         std::unique_ptr<Connection> writer)
    : path_(std::move(path)),
      durable_(durable),
      busy_timeout_ms_(busy_timeout_ms),
      writer_(std::move(writer)) {}

SqliteStore::~SqliteStore() {
  idle_readers_.clear();
  // The writer closes last: as the last connection it checkpoints and removes the WAL file.
  writer_.reset();
}

int SqliteStore::LatestSchemaVersion() { return sqlite::LatestSchemaVersion(); }

Result<SqliteStore::ReaderLease> SqliteStore::AcquireReader() {
  {
    std::lock_guard lock(readers_mutex_);
    if (!idle_readers_.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return ReaderLease(this, std::move(connection));
    }
  }
  ConnectionOptions options;
  options.read_only = true;
  options.durable = durable_;
  options.busy_timeout_ms = busy_timeout_ms_;
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection, Connection::Open(path_, options));
  return ReaderLease(this, std::move(connection));
}

void SqliteStore::ReleaseReader(std::unique_ptr<Connection> connection) {
  std::lock_guard lock(readers_mutex_);
  if (idle_readers_.size() < kMaxIdleReaders) idle_readers_.push_back(std::move(connection));
}

// --- Writes ---------------------------------------------------------------------------------

Result<AppliedIds> SqliteStore::Apply(const WriteBatch& batch) {
  const WriteBatch* one = &batch;
  ASSIGN_OR_RETURN(std::vector<AppliedIds> applied, ApplyBatches(&one, 1));
  return std::move(applied.front());
}

Result<std::vector<AppliedIds>> SqliteStore::ApplyGroup(
    const std::vector<const WriteBatch*>& batches) {
  return ApplyBatches(batches.data(), batches.size());
}

Result<std::vector<AppliedIds>> SqliteStore::ApplyBatches(const WriteBatch* const* batches,
                                                          size_t count) {
  std::vector<AppliedIds> applied(count);
  if (std::all_of(batches, batches + count, [](const WriteBatch* b) { return b->empty(); })) {
    return applied;
  }
  std::lock_guard lock(writer_mutex_);
  Connection& db = *writer_;
  RETURN_IF_ERROR(RunCached(db, kBegin));
  Status status = [&]() -> Status {
    IdAllocator ids(db);
    for (size_t i = 0; i < count; ++i) {
      Status written = BatchWriter(db, ids, &applied[i]).Write(*batches[i]);
      if (!written.ok()) {
        if (count == 1) return written;
        return Status(written.code(), "batch " + std::to_string(i + 1) + " of " +
                                          std::to_string(count) + ": " + written.message());
      }
    }
    RETURN_IF_ERROR(ids.Flush());
    return RunCached(db, kCommit);
  }();
  if (!status.ok()) {
    // Some failures (I/O, full disk) end the transaction inside SQLite already.
    if (db.InTransaction()) (void)RunCached(db, kRollback);
    return status;
  }
  return applied;
}

// --- Reads ----------------------------------------------------------------------------------

namespace {

// Runs `sql` with `args` bound and reads every row with ReadRow().
template <typename Row, typename... Args>
Result<std::vector<Row>> ReadAll(Connection& db, const char* sql, const Args&... args) {
  ASSIGN_OR_RETURN(Statement select, db.Prepare(sql));
  select.BindAll(args...);
  std::vector<Row> rows;
  while (true) {
    ASSIGN_OR_RETURN(bool more, select.Step());
    if (!more) break;
    RETURN_IF_ERROR(ReadRow(select, &rows.emplace_back()));
  }
  return rows;
}

}  // namespace

Result<std::optional<ControllerRow>> SqliteStore::GetController(const std::string& controller) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  ASSIGN_OR_RETURN(std::vector<ControllerRow> rows,
                   ReadAll<ControllerRow>(*reader, kSelectController, controller));
  if (rows.empty()) return std::optional<ControllerRow>();
  return std::optional<ControllerRow>(std::move(rows.front()));
}

Result<std::optional<SubjectRow>> SqliteStore::GetSubject(const std::string& controller,
                                                          const std::string& subject_id) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  ASSIGN_OR_RETURN(std::vector<SubjectRow> rows,
                   ReadAll<SubjectRow>(*reader, kSelectSubject, controller, subject_id));
  if (rows.empty()) return std::optional<SubjectRow>();
  return std::optional<SubjectRow>(std::move(rows.front()));
}

Status SqliteStore::ScanSubjects(const std::string& controller,
                                 const std::function<bool(const SubjectRow&)>& visit) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  ASSIGN_OR_RETURN(Statement select, reader->Prepare(kScanSubjects));
  select.Bind(controller);
  while (true) {
    ASSIGN_OR_RETURN(bool more, select.Step());
    if (!more) return Status::Ok();
    SubjectRow row;
    RETURN_IF_ERROR(ReadRow(select, &row));
    if (!visit(row)) return Status::Ok();
  }
}

Result<int64_t> SqliteStore::CountSubjects(const std::string& controller) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  ASSIGN_OR_RETURN(Statement count, reader->Prepare(kCountSubjects));
  count.Bind(controller);
  ASSIGN_OR_RETURN(bool row, count.Step());
  return row ? count.Int(0) : 0;
}

Result<std::vector<EventRow>> SqliteStore::ListEvents(const std::string& controller,
                                                      const std::string& subject_id) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<EventRow>(*reader, kSelectEvents, controller, subject_id);
}

Result<std::vector<IdentifierRow>> SqliteStore::ListIdentifiers(const std::string& controller,
                                                                const std::string& subject_id) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<IdentifierRow>(*reader, kSelectIdentifiers, controller, subject_id);
}

Result<std::vector<RecordRow>> SqliteStore::ListRecords(const std::string& controller,
                                                        const std::string& subject_id) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<RecordRow>(*reader, kSelectRecords, controller, subject_id);
}

Result<std::vector<ConsentEventRow>> SqliteStore::ListConsentEvents(const std::string& controller,
                                                                    const std::string& subject_id) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<ConsentEventRow>(*reader, kSelectConsentEvents, controller, subject_id);
}

Result<std::vector<PreferenceRow>> SqliteStore::ListPreferences(const std::string& controller,
                                                                const std::string& subject_id) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<PreferenceRow>(*reader, kSelectPreferences, controller, subject_id);
}

Result<std::vector<ObjectionRow>> SqliteStore::ListObjections(const std::string& controller,
                                                              const std::string& subject_id) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<ObjectionRow>(*reader, kSelectObjections, controller, subject_id);
}

Result<std::vector<RestrictionRow>> SqliteStore::ListRestrictions(const std::string& controller,
                                                                  const std::string& subject_id) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<RestrictionRow>(*reader, kSelectRestrictions, controller, subject_id);
}

Result<std::vector<std::string>> SqliteStore::FindSubjectsByIdentifier(
    const std::string& controller, const std::string& kind, const Bytes& blind_index) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  ASSIGN_OR_RETURN(Statement select, reader->Prepare(kFindSubjects));
  select.BindAll(controller, kind, blind_index);
  std::vector<std::string> subject_ids;
  while (true) {
    ASSIGN_OR_RETURN(bool more, select.Step());
    if (!more) return subject_ids;
    subject_ids.push_back(select.Text(0));
  }
}

Result<bool> SqliteStore::IsSuppressed(const std::string& controller, const Bytes& hash) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  ASSIGN_OR_RETURN(Statement select, reader->Prepare(kIsSuppressed));
  select.BindAll(controller, hash);
  return select.Step();
}

Result<std::vector<LegalHoldRow>> SqliteStore::ListLegalHolds(const std::string& controller) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<LegalHoldRow>(*reader, kSelectLegalHolds, controller);
}

Result<std::vector<ReviewTaskRow>> SqliteStore::ListReviewTasks(const std::string& controller,
                                                                bool open_only) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<ReviewTaskRow>(*reader, kSelectReviewTasks, controller, open_only);
}

namespace {

// Hands each row of `rows` (sorted by subject_id, as `page` is) to the page entry of its subject.
template <typename Row>
void Distribute(std::vector<Row>&& rows, std::vector<SweepSubject>& page,
                std::vector<Row> SweepSubject::*field) {
  size_t at = 0;
  for (Row& row : rows) {
    while (at < page.size() && page[at].subject.subject_id < row.subject_id) ++at;
    if (at == page.size()) break;
    if (page[at].subject.subject_id == row.subject_id) (page[at].*field).push_back(std::move(row));
  }
}

Result<std::vector<SweepSubject>> ReadSweepPage(Connection& db, const std::string& controller,
                                                const std::string& after, size_t max_subjects) {
  std::vector<SweepSubject> page;
  ASSIGN_OR_RETURN(std::vector<SubjectRow> subjects,
                   ReadAll<SubjectRow>(db, kSweepSubjects, controller, after,
                                       static_cast<int64_t>(max_subjects)));
  if (subjects.empty()) return page;
  const std::string last = subjects.back().subject_id;
  page.reserve(subjects.size());
  for (SubjectRow& subject : subjects) {
    page.push_back(SweepSubject{std::move(subject), {}, {}, {}, {}});
  }
  ASSIGN_OR_RETURN(std::vector<EventRow> events,
                   ReadAll<EventRow>(db, kSweepEvents, controller, after, last));
  Distribute(std::move(events), page, &SweepSubject::events);
  ASSIGN_OR_RETURN(std::vector<IdentifierRow> identifiers,
                   ReadAll<IdentifierRow>(db, kSweepIdentifiers, controller, after, last));
  Distribute(std::move(identifiers), page, &SweepSubject::identifiers);
  ASSIGN_OR_RETURN(std::vector<RecordRow> records,
                   ReadAll<RecordRow>(db, kSweepRecords, controller, after, last));
  Distribute(std::move(records), page, &SweepSubject::records);
  ASSIGN_OR_RETURN(std::vector<ReviewTaskRow> tasks,
                   ReadAll<ReviewTaskRow>(db, kSweepReviewTasks, controller, after, last));
  Distribute(std::move(tasks), page, &SweepSubject::review_tasks);
  return page;
}

}  // namespace

Result<std::vector<SweepSubject>> SqliteStore::ListSweepPage(const std::string& controller,
                                                             const std::string& after_subject_id,
                                                             size_t max_subjects) {
  if (max_subjects == 0) return std::vector<SweepSubject>();
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  // One read transaction, so the five queries see the same committed state.
  RETURN_IF_ERROR(reader->Exec("BEGIN"));
  Result<std::vector<SweepSubject>> page =
      ReadSweepPage(*reader, controller, after_subject_id, max_subjects);
  if (reader->InTransaction()) (void)reader->Exec("COMMIT");
  return page;
}

Result<std::vector<FactCount>> SqliteStore::CountAnonymisedFacts(const std::string& controller,
                                                                 const std::string& category) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<FactCount>(*reader, kCountFacts, controller, category);
}

Result<std::optional<RetentionRunRow>> SqliteStore::LastRetentionRun(
    const std::string& controller) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  ASSIGN_OR_RETURN(std::vector<RetentionRunRow> rows,
                   ReadAll<RetentionRunRow>(*reader, kLastRetentionRun, controller));
  if (rows.empty()) return std::optional<RetentionRunRow>();
  return std::optional<RetentionRunRow>(std::move(rows.front()));
}

Result<std::optional<RequestRow>> SqliteStore::GetRequest(const std::string& controller,
                                                          const std::string& request_id) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  ASSIGN_OR_RETURN(std::vector<RequestRow> rows,
                   ReadAll<RequestRow>(*reader, kSelectRequest, controller, request_id));
  if (rows.empty()) return std::optional<RequestRow>();
  return std::optional<RequestRow>(std::move(rows.front()));
}

Result<std::vector<RequestRow>> SqliteStore::ListRequests(const std::string& controller,
                                                          bool open_only) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<RequestRow>(*reader, kListRequests, controller, open_only);
}

Result<std::vector<RequestEventRow>> SqliteStore::ListRequestEvents(const std::string& controller,
                                                                    const std::string& request_id) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<RequestEventRow>(*reader, kListRequestEvents, controller, request_id);
}

Result<std::vector<OutboxRow>> SqliteStore::ListOutbox(const std::string& controller,
                                                       const std::string& request_id) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<OutboxRow>(*reader, kListOutbox, controller, request_id);
}

// One write transaction on the writer connection: SQLite's write lock makes the claim atomic
// across threads and processes.
Result<std::vector<OutboxRow>> SqliteStore::ClaimOutbox(const std::string& controller,
                                                        Timestamp now, Timestamp lease_until,
                                                        size_t max) {
  std::lock_guard lock(writer_mutex_);
  Connection& db = *writer_;
  RETURN_IF_ERROR(RunCached(db, kBegin));
  Result<std::vector<OutboxRow>> claimed =
      ReadAll<OutboxRow>(db, kClaimOutbox, controller, now, lease_until, static_cast<int64_t>(max));
  Status status = claimed.ok() ? RunCached(db, kCommit) : claimed.status();
  if (!status.ok()) {
    if (db.InTransaction()) (void)RunCached(db, kRollback);
    return status;
  }
  std::vector<OutboxRow> rows = std::move(claimed).value();
  std::sort(rows.begin(), rows.end(),
            [](const OutboxRow& a, const OutboxRow& b) { return a.outbox_id < b.outbox_id; });
  return rows;
}

Result<std::optional<RecipientEndpointRow>> SqliteStore::GetRecipientEndpoint(
    const std::string& controller, const std::string& recipient) {
  if (recipient.empty()) return std::optional<RecipientEndpointRow>();
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  ASSIGN_OR_RETURN(std::vector<RecipientEndpointRow> rows,
                   ReadAll<RecipientEndpointRow>(*reader, kSelectEndpoints, controller, recipient));
  if (rows.empty()) return std::optional<RecipientEndpointRow>();
  return std::optional<RecipientEndpointRow>(std::move(rows.front()));
}

Result<std::vector<RecipientEndpointRow>> SqliteStore::ListRecipientEndpoints(
    const std::string& controller) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<RecipientEndpointRow>(*reader, kSelectEndpoints, controller, std::string());
}

Result<std::vector<RecordVersionRow>> SqliteStore::ListRecordVersions(
    const std::string& controller, const std::string& subject_id) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<RecordVersionRow>(*reader, kListRecordVersions, controller, subject_id);
}

Result<std::optional<AuditRow>> SqliteStore::LastAudit() {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  ASSIGN_OR_RETURN(std::vector<AuditRow> rows, ReadAll<AuditRow>(*reader, kLastAudit));
  if (rows.empty()) return std::optional<AuditRow>();
  return std::optional<AuditRow>(std::move(rows.front()));
}

Status SqliteStore::ScanAudit(int64_t from_seq, const std::function<bool(const AuditRow&)>& visit) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  ASSIGN_OR_RETURN(Statement select, reader->Prepare(kScanAudit));
  select.Bind(from_seq);
  while (true) {
    ASSIGN_OR_RETURN(bool more, select.Step());
    if (!more) return Status::Ok();
    AuditRow row;
    RETURN_IF_ERROR(ReadRow(select, &row));
    if (!visit(row)) return Status::Ok();
  }
}

Result<int> SqliteStore::SchemaVersion() {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return sqlite::SchemaVersion(*reader);
}

Result<std::string> SqliteStore::PragmaForTesting(const std::string& name) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  std::string sql = "PRAGMA " + name;
  return reader->QueryText(sql.c_str());
}

Status SqliteStore::ExecForTesting(const std::string& sql) {
  std::lock_guard lock(writer_mutex_);
  return writer_->Exec(sql.c_str());
}

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store, SqliteStore::Open(options));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace custos::store
