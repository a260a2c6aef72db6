#include "store/postgres/postgres_store.h"

#include <algorithm>
#include <utility>

#include "store/column_text.h"
#include "store/postgres/pg_connection.h"
#include "store/postgres/pg_schema.h"

namespace custos::store {

using pg::Connection;
using pg::Failure;
using pg::Params;
using pg::Rows;

namespace {

// A transaction that hits a deadlock or a serialization failure is run again this many times.
constexpr int kMaxAttempts = 5;
// Scans read this many rows per query, so a big table is never held in memory at once.
constexpr int64_t kScanPage = 1000;

Status Invalid(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}
Status Corrupt(std::string_view where) {
  return Status(ErrorCode::kIo, "postgresql: unexpected value in " + std::string(where));
}

// --- SQL ------------------------------------------------------------------------------------
// Every value is a bound parameter, so no personal value ever appears in SQL text or errors.

// Makes ids assigned later come after a given one. nextval() is never rolled back, so this
// works across concurrent writers without a lock (gaps are fine; ids are unique).
constexpr char kBumpSequence[] =
    "SELECT CASE WHEN $2 > v THEN setval($1::regclass, $2) ELSE v END FROM nextval($1::regclass) v";

constexpr char kInsertController[] =
    "INSERT INTO controllers (controller, name, policy_version, policy_text, loaded_at)"
    " VALUES ($1, $2, $3, $4, $5)";
constexpr char kInsertSubject[] =
    "INSERT INTO subjects (controller, subject_id, types, created_at, wrapped_key, state,"
    " erased_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
constexpr char kInsertEvent[] =
    "INSERT INTO events (controller, subject_id, event, at) VALUES ($1, $2, $3, $4)";
constexpr char kInsertIdentifier[] =
    "INSERT INTO identifiers (controller, subject_id, kind, blind_index, sealed_value,"
    " verified, added_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
constexpr char kInsertRecord[] =
    "INSERT INTO records (controller, subject_id, record_id, category, sealed_value, source,"
    " purpose, collected_at, state, updated_at)"
    " VALUES ($1, $2, COALESCE($3, nextval('records_seq')), $4, $5, $6, $7, $8, $9, $10)"
    " RETURNING record_id";
constexpr char kInsertConsentEvent[] =
    "INSERT INTO consent_events (controller, subject_id, seq, target_kind, target, action,"
    " notice_version, channel, at, sealed_evidence)"
    " VALUES ($1, $2, COALESCE($3, nextval('consent_events_seq')), $4, $5, $6, $7, $8, $9, $10)"
    " RETURNING seq";
constexpr char kInsertPreference[] =
    "INSERT INTO preferences (controller, subject_id, channel, allowed, at)"
    " VALUES ($1, $2, $3, $4, $5)";
constexpr char kInsertObjection[] =
    "INSERT INTO objections (controller, subject_id, purpose, at, lifted_at)"
    " VALUES ($1, $2, $3, $4, $5)";
constexpr char kInsertRestriction[] =
    "INSERT INTO restrictions (controller, subject_id, restriction_id, categories, reason, at,"
    " lifted_at) VALUES ($1, $2, COALESCE($3, nextval('restrictions_seq')), $4, $5, $6, $7)"
    " RETURNING restriction_id";
constexpr char kInsertSuppression[] =
    "INSERT INTO suppressions (controller, hash, kind, reason, at) VALUES ($1, $2, $3, $4, $5)"
    " ON CONFLICT (controller, hash) DO NOTHING";
constexpr char kInsertAudit[] =
    "INSERT INTO audit_log (seq, controller, at, actor, action, purpose, subject_id, detail,"
    " prev_hash, hash) VALUES (COALESCE($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_log)),"
    " $2, $3, $4, $5, $6, $7, $8, $9, $10)";
constexpr char kSetRecordState[] =
    "UPDATE records SET state = $1, sealed_value = COALESCE($2, sealed_value), updated_at = $3"
    " WHERE controller = $4 AND subject_id = $5 AND record_id = $6";
constexpr char kLiftRestriction[] =
    "UPDATE restrictions SET lifted_at = COALESCE(lifted_at, $1)"
    " WHERE controller = $2 AND subject_id = $3 AND restriction_id = $4";
constexpr char kLiftObjection[] =
    "UPDATE objections SET lifted_at = $1"
    " WHERE controller = $2 AND subject_id = $3 AND purpose = $4 AND lifted_at IS NULL";
constexpr char kEraseSubject[] =
    "UPDATE subjects SET wrapped_key = ''::bytea, state = 'erased',"
    " erased_at = COALESCE(erased_at, $1) WHERE controller = $2 AND subject_id = $3";
constexpr char kInsertLegalHold[] =
    "INSERT INTO legal_holds (controller, hold_id, subject_id, category, reason, placed_at,"
    " expires_at, released_at)"
    " VALUES ($1, COALESCE($2, nextval('legal_holds_seq')), $3, $4, $5, $6, $7, $8)"
    " RETURNING hold_id";
constexpr char kReleaseLegalHold[] =
    "UPDATE legal_holds SET released_at = COALESCE(released_at, $1)"
    " WHERE controller = $2 AND hold_id = $3";
constexpr char kInsertReviewTask[] =
    "INSERT INTO review_tasks (controller, subject_id, task_id, rule_id, category, due_at,"
    " created_at, done_at)"
    " VALUES ($1, $2, COALESCE($3, nextval('review_tasks_seq')), $4, $5, $6, $7, $8)"
    " ON CONFLICT (controller, subject_id, rule_id, category, due_at) DO NOTHING";
constexpr char kCompleteReviewTask[] =
    "UPDATE review_tasks SET done_at = COALESCE(done_at, $1) WHERE controller = $2"
    " AND task_id = $3";
constexpr char kInsertAnonymisedFact[] =
    "INSERT INTO anonymised_facts (controller, fact_id, category, value) VALUES ($1, $2, $3, $4)";
constexpr char kDeleteIdentifiers[] =
    "DELETE FROM identifiers WHERE controller = $1 AND subject_id = $2 AND ($3 = '' OR kind = $3)"
    " AND (length($4) = 0 OR blind_index = $4)";
// Row locks: the precondition holds until this transaction ends (see the header).
constexpr char kExpectSubject[] =
    "SELECT state FROM subjects WHERE controller = $1 AND subject_id = $2 FOR UPDATE";
constexpr char kExpectRecord[] =
    "SELECT state FROM records WHERE controller = $1 AND subject_id = $2 AND record_id = $3"
    " FOR UPDATE";
constexpr char kInsertRetentionRun[] =
    "INSERT INTO retention_runs (controller, run_id, as_of, started_at, last_subject_id,"
    " subjects, deleted, anonymised, reviews, held, erased, finished_at)"
    " VALUES ($1, COALESCE($2, nextval('retention_runs_seq')), $3, $4, $5, $6, $7, $8, $9, $10,"
    " $11, $12) RETURNING run_id";
constexpr char kRetentionCheckpoint[] =
    "UPDATE retention_runs SET last_subject_id = $1, subjects = $2, deleted = $3,"
    " anonymised = $4, reviews = $5, held = $6, erased = $7,"
    " finished_at = COALESCE(finished_at, $8) WHERE controller = $9 AND run_id = $10";

// Rights requests (schema version 3).
#define CUSTOS_REQUEST_COLUMNS                                                              \
  "controller, request_id, version, type, state, intake, verification, waiting_for,"        \
  " subject_ids, received_at, clock_started_at, due_at, extended_at, closed_at, outcome,"   \
  " wrapped_key, sealed_details, sealed_result, code_hash, code_expires_at, code_attempts," \
  " access_hash"
constexpr char kInsertRequest[] = "INSERT INTO requests (" CUSTOS_REQUEST_COLUMNS
                                  ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
                                  " $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)";
// Under READ COMMITTED a concurrent update of the row makes this one wait for it and then
// re-check `version` against the committed row, so of two writers expecting one version only
// the first changes it.
constexpr char kUpdateRequest[] =
    "UPDATE requests SET version = $1, type = $2, state = $3, intake = $4, verification = $5,"
    " waiting_for = $6, subject_ids = $7, received_at = $8, clock_started_at = $9, due_at = $10,"
    " extended_at = $11, closed_at = $12, outcome = $13, wrapped_key = $14, sealed_details = $15,"
    " sealed_result = $16, code_hash = $17, code_expires_at = $18, code_attempts = $19,"
    " access_hash = $20 WHERE controller = $21 AND request_id = $22 AND version = $23";
constexpr char kSelectRequest[] =
    "SELECT " CUSTOS_REQUEST_COLUMNS " FROM requests WHERE controller = $1 AND request_id = $2";
constexpr char kListRequests[] = "SELECT " CUSTOS_REQUEST_COLUMNS
                                 " FROM requests WHERE controller = $1"
                                 " AND (NOT $2 OR closed_at IS NULL)"
                                 " ORDER BY received_at, request_id COLLATE \"C\"";
#undef CUSTOS_REQUEST_COLUMNS
constexpr char kInsertRequestEvent[] =
    "INSERT INTO request_events (controller, request_id, seq, at, actor, event, state, detail)"
    " VALUES ($1, $2, COALESCE($3, nextval('request_events_seq')), $4, $5, $6, $7, $8)";
constexpr char kListRequestEvents[] =
    "SELECT controller, request_id, seq, at, actor, event, state, detail FROM request_events"
    " WHERE controller = $1 AND request_id = $2 ORDER BY seq";
#define CUSTOS_OUTBOX_COLUMNS                                                     \
  "controller, outbox_id, request_id, kind, target, state, attempts, created_at," \
  " next_attempt_at, delivered_at, claimed_until, last_error, sealed_payload, payload_digest"
constexpr char kInsertOutbox[] =
    "INSERT INTO outbox (" CUSTOS_OUTBOX_COLUMNS
    ") VALUES ($1, COALESCE($2, nextval('outbox_seq')), $3, $4, $5, $6, $7, $8, $9, $10, $11,"
    " $12, $13, $14) RETURNING outbox_id";
constexpr char kListOutbox[] = "SELECT " CUSTOS_OUTBOX_COLUMNS
                               " FROM outbox WHERE controller = $1"
                               " AND ($2 = '' OR request_id = $2) ORDER BY outbox_id";
// One statement, so one transaction. SKIP LOCKED passes over the rows another claim has
// locked and not yet committed; a row whose claim committed after this statement's snapshot
// is re-checked on its newest version when locked (READ COMMITTED), and its lease now
// excludes it. So two processes never get the same message while its lease runs.
constexpr char kClaimOutbox[] =
    "UPDATE outbox SET claimed_until = $3 WHERE (controller, outbox_id) IN ("
    " SELECT controller, outbox_id FROM outbox WHERE controller = $1 AND state = 'pending'"
    " AND next_attempt_at <= $2 AND (claimed_until IS NULL OR claimed_until <= $2)"
    " ORDER BY outbox_id LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING " CUSTOS_OUTBOX_COLUMNS;
#undef CUSTOS_OUTBOX_COLUMNS
constexpr char kUpdateOutbox[] =
    "UPDATE outbox SET state = $1, attempts = $2, next_attempt_at = $3, delivered_at = $4,"
    " last_error = $5, claimed_until = NULL,"
    " sealed_payload = CASE WHEN $6 THEN ''::bytea ELSE sealed_payload END"
    " WHERE controller = $7 AND outbox_id = $8";
constexpr char kUpsertEndpoint[] =
    "INSERT INTO recipient_endpoints (controller, recipient, url, sealed_secret, updated_at)"
    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (controller, recipient) DO UPDATE SET"
    " url = EXCLUDED.url, sealed_secret = EXCLUDED.sealed_secret,"
    " updated_at = EXCLUDED.updated_at";
#define CUSTOS_ENDPOINT_COLUMNS \
  "SELECT controller, recipient, url, sealed_secret, updated_at FROM recipient_endpoints"
constexpr char kSelectEndpoint[] =
    CUSTOS_ENDPOINT_COLUMNS " WHERE controller = $1 AND recipient = $2";
constexpr char kListEndpoints[] =
    CUSTOS_ENDPOINT_COLUMNS " WHERE controller = $1 ORDER BY recipient COLLATE \"C\"";
#undef CUSTOS_ENDPOINT_COLUMNS
// The record's row lock serialises the writers of its versions (see RecordVersionRow below).
constexpr char kLockRecord[] =
    "SELECT true FROM records WHERE controller = $1 AND subject_id = $2 AND record_id = $3"
    " FOR UPDATE";
constexpr char kInsertRecordVersion[] =
    "INSERT INTO record_versions (controller, subject_id, record_id, version, sealed_value,"
    " replaced_at, request_id) SELECT $1, $2, $3, COALESCE(MAX(version), 0) + 1, $4, $5, $6"
    " FROM record_versions WHERE controller = $1 AND subject_id = $2 AND record_id = $3";
constexpr char kDeleteRecordVersions[] =
    "DELETE FROM record_versions WHERE controller = $1 AND subject_id = $2 AND record_id = $3";
constexpr char kListRecordVersions[] =
    "SELECT controller, subject_id, record_id, version, sealed_value, replaced_at, request_id"
    " FROM record_versions WHERE controller = $1 AND subject_id = $2"
    " ORDER BY record_id, version";

constexpr char kSelectController[] =
    "SELECT controller, name, policy_version, policy_text, loaded_at FROM controllers"
    " WHERE controller = $1 ORDER BY seq DESC LIMIT 1";
#define CUSTOS_SUBJECT_COLUMNS \
  "SELECT controller, subject_id, types, created_at, wrapped_key, state, erased_at FROM subjects"
constexpr char kSelectSubject[] =
    CUSTOS_SUBJECT_COLUMNS " WHERE controller = $1 AND subject_id = $2";
constexpr char kSubjectsAfter[] = CUSTOS_SUBJECT_COLUMNS
    " WHERE controller = $1 AND subject_id > $2 ORDER BY subject_id LIMIT $3";
#undef CUSTOS_SUBJECT_COLUMNS
constexpr char kCountSubjects[] = "SELECT COUNT(*) FROM subjects WHERE controller = $1";
constexpr char kSelectEvents[] =
    "SELECT controller, subject_id, event, at FROM events"
    " WHERE controller = $1 AND subject_id = $2 ORDER BY seq";
constexpr char kSelectIdentifiers[] =
    "SELECT controller, subject_id, kind, blind_index, sealed_value, verified, added_at"
    " FROM identifiers WHERE controller = $1 AND subject_id = $2 ORDER BY seq";
constexpr char kSelectRecords[] =
    "SELECT controller, subject_id, record_id, category, sealed_value, source, purpose,"
    " collected_at, state, updated_at FROM records"
    " WHERE controller = $1 AND subject_id = $2 ORDER BY record_id";
constexpr char kSelectConsentEvents[] =
    "SELECT controller, subject_id, seq, target_kind, target, action, notice_version, channel,"
    " at, sealed_evidence FROM consent_events WHERE controller = $1 AND subject_id = $2"
    " ORDER BY seq";
constexpr char kSelectPreferences[] =
    "SELECT controller, subject_id, channel, allowed, at FROM preferences"
    " WHERE controller = $1 AND subject_id = $2 ORDER BY seq";
constexpr char kSelectObjections[] =
    "SELECT controller, subject_id, purpose, at, lifted_at FROM objections"
    " WHERE controller = $1 AND subject_id = $2 ORDER BY seq";
constexpr char kSelectRestrictions[] =
    "SELECT controller, subject_id, restriction_id, categories, reason, at, lifted_at"
    " FROM restrictions WHERE controller = $1 AND subject_id = $2 ORDER BY restriction_id";
constexpr char kFindSubjects[] =
    "SELECT subject_id FROM identifiers WHERE controller = $1 AND kind = $2 AND blind_index = $3"
    " GROUP BY subject_id ORDER BY MIN(seq)";
constexpr char kIsSuppressed[] =
    "SELECT true FROM suppressions WHERE controller = $1 AND hash = $2";
constexpr char kSweepEvents[] =
    "SELECT controller, subject_id, event, at FROM events"
    " WHERE controller = $1 AND subject_id > $2 AND subject_id <= $3 ORDER BY subject_id, seq";
constexpr char kSweepIdentifiers[] =
    "SELECT controller, subject_id, kind, blind_index, sealed_value, verified, added_at"
    " FROM identifiers WHERE controller = $1 AND subject_id > $2 AND subject_id <= $3"
    " ORDER BY subject_id, seq";
constexpr char kSweepRecords[] =
    "SELECT controller, subject_id, record_id, category, sealed_value, source, purpose,"
    " collected_at, state, updated_at FROM records"
    " WHERE controller = $1 AND subject_id > $2 AND subject_id <= $3"
    " ORDER BY subject_id, record_id";
#define CUSTOS_REVIEW_TASK_COLUMNS                                                         \
  "SELECT controller, subject_id, task_id, rule_id, category, due_at, created_at, done_at" \
  " FROM review_tasks"
constexpr char kSweepReviewTasks[] = CUSTOS_REVIEW_TASK_COLUMNS
    " WHERE controller = $1 AND subject_id > $2 AND subject_id <= $3"
    " ORDER BY subject_id, task_id";
constexpr char kSelectReviewTasks[] = CUSTOS_REVIEW_TASK_COLUMNS
    " WHERE controller = $1 AND (NOT $2 OR done_at IS NULL) ORDER BY task_id";
#undef CUSTOS_REVIEW_TASK_COLUMNS
constexpr char kSelectLegalHolds[] =
    "SELECT controller, hold_id, subject_id, category, reason, placed_at, expires_at,"
    " released_at FROM legal_holds WHERE controller = $1 ORDER BY hold_id";
// `category` and its descendants, whatever the database's collation.
constexpr char kCountFacts[] =
    "SELECT category, value, COUNT(*) FROM anonymised_facts WHERE controller = $1"
    " AND (category = $2 OR starts_with(category, $2 || '.'))"
    " GROUP BY category, value ORDER BY category COLLATE \"C\", value COLLATE \"C\"";
constexpr char kLastRetentionRun[] =
    "SELECT controller, run_id, as_of, started_at, last_subject_id, subjects, deleted,"
    " anonymised, reviews, held, erased, finished_at FROM retention_runs"
    " WHERE controller = $1 ORDER BY run_id DESC LIMIT 1";
#define CUSTOS_AUDIT_COLUMNS                                                                \
  "SELECT seq, controller, at, actor, action, purpose, subject_id, detail, prev_hash, hash" \
  " FROM audit_log"
constexpr char kLastAudit[] = CUSTOS_AUDIT_COLUMNS " ORDER BY seq DESC LIMIT 1";
constexpr char kScanAudit[] = CUSTOS_AUDIT_COLUMNS " WHERE seq >= $1 ORDER BY seq LIMIT $2";
#undef CUSTOS_AUDIT_COLUMNS

// --- Row readers (column order as in the SELECTs above) -------------------------------------

Status ReadRow(const Rows& s, int i, ControllerRow* row) {
  row->controller = s.Text(i, 0);
  row->name = s.Text(i, 1);
  row->policy_version = s.Text(i, 2);
  row->policy_text = s.Text(i, 3);
  row->loaded_at = s.Time(i, 4);
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, SubjectRow* row) {
  row->controller = s.Text(i, 0);
  row->subject_id = s.Text(i, 1);
  row->types = SplitKeys(s.Text(i, 2));
  row->created_at = s.Time(i, 3);
  row->wrapped_key = s.Blob(i, 4);
  row->erased_at = s.OptionalTime(i, 6);
  std::optional<SubjectState> state = SubjectStateFromName(s.Text(i, 5));
  if (!state) return Corrupt("subjects.state");
  row->state = *state;
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, EventRow* row) {
  row->controller = s.Text(i, 0);
  row->subject_id = s.Text(i, 1);
  row->event = s.Text(i, 2);
  row->at = s.Time(i, 3);
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, IdentifierRow* row) {
  row->controller = s.Text(i, 0);
  row->subject_id = s.Text(i, 1);
  row->kind = s.Text(i, 2);
  row->blind_index = s.Blob(i, 3);
  row->sealed_value = s.Blob(i, 4);
  row->verified = s.Bool(i, 5);
  row->added_at = s.Time(i, 6);
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, RecordRow* row) {
  row->controller = s.Text(i, 0);
  row->subject_id = s.Text(i, 1);
  row->record_id = s.Int(i, 2);
  row->category = s.Text(i, 3);
  row->sealed_value = s.Blob(i, 4);
  row->source = s.Text(i, 5);
  row->purpose = s.Text(i, 6);
  row->collected_at = s.Time(i, 7);
  row->updated_at = s.Time(i, 9);
  std::optional<RecordState> state = RecordStateFromName(s.Text(i, 8));
  if (!state) return Corrupt("records.state");
  row->state = *state;
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, ConsentEventRow* row) {
  row->controller = s.Text(i, 0);
  row->subject_id = s.Text(i, 1);
  row->seq = s.Int(i, 2);
  row->target = s.Text(i, 4);
  row->notice_version = s.Text(i, 6);
  row->channel = s.Text(i, 7);
  row->at = s.Time(i, 8);
  row->sealed_evidence = s.Blob(i, 9);
  std::optional<ConsentTarget> target_kind = ConsentTargetFromName(s.Text(i, 3));
  if (!target_kind) return Corrupt("consent_events.target_kind");
  row->target_kind = *target_kind;
  std::optional<ConsentAction> action = ConsentActionFromName(s.Text(i, 5));
  if (!action) return Corrupt("consent_events.action");
  row->action = *action;
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, PreferenceRow* row) {
  row->controller = s.Text(i, 0);
  row->subject_id = s.Text(i, 1);
  row->channel = s.Text(i, 2);
  row->allowed = s.Bool(i, 3);
  row->at = s.Time(i, 4);
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, ObjectionRow* row) {
  row->controller = s.Text(i, 0);
  row->subject_id = s.Text(i, 1);
  row->purpose = s.Text(i, 2);
  row->at = s.Time(i, 3);
  row->lifted_at = s.OptionalTime(i, 4);
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, RestrictionRow* row) {
  row->controller = s.Text(i, 0);
  row->subject_id = s.Text(i, 1);
  row->restriction_id = s.Int(i, 2);
  row->categories = SplitKeys(s.Text(i, 3));
  row->reason = s.Text(i, 4);
  row->at = s.Time(i, 5);
  row->lifted_at = s.OptionalTime(i, 6);
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, AuditRow* row) {
  row->seq = s.Int(i, 0);
  row->controller = s.Text(i, 1);
  row->at = s.Time(i, 2);
  row->actor = s.Text(i, 3);
  row->action = s.Text(i, 4);
  row->purpose = s.Text(i, 5);
  row->subject_id = s.Text(i, 6);
  row->detail = s.Text(i, 7);
  row->prev_hash = s.Blob(i, 8);
  row->hash = s.Blob(i, 9);
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, LegalHoldRow* row) {
  row->controller = s.Text(i, 0);
  row->hold_id = s.Int(i, 1);
  row->subject_id = s.Text(i, 2);
  row->category = s.Text(i, 3);
  row->reason = s.Text(i, 4);
  row->placed_at = s.Time(i, 5);
  row->expires_at = s.OptionalTime(i, 6);
  row->released_at = s.OptionalTime(i, 7);
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, ReviewTaskRow* row) {
  row->controller = s.Text(i, 0);
  row->subject_id = s.Text(i, 1);
  row->task_id = s.Int(i, 2);
  row->rule_id = s.Text(i, 3);
  row->category = s.Text(i, 4);
  row->due_at = s.Time(i, 5);
  row->created_at = s.Time(i, 6);
  row->done_at = s.OptionalTime(i, 7);
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, FactCount* row) {
  row->category = s.Text(i, 0);
  row->value = s.Text(i, 1);
  row->count = s.Int(i, 2);
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, RetentionRunRow* row) {
  row->controller = s.Text(i, 0);
  row->run_id = s.Int(i, 1);
  row->as_of = s.Time(i, 2);
  row->started_at = s.Time(i, 3);
  row->last_subject_id = s.Text(i, 4);
  row->counts.subjects = s.Int(i, 5);
  row->counts.deleted = s.Int(i, 6);
  row->counts.anonymised = s.Int(i, 7);
  row->counts.reviews = s.Int(i, 8);
  row->counts.held = s.Int(i, 9);
  row->counts.erased = s.Int(i, 10);
  row->finished_at = s.OptionalTime(i, 11);
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, RequestRow* row) {
  row->controller = s.Text(i, 0);
  row->request_id = s.Text(i, 1);
  row->version = s.Int(i, 2);
  row->type = s.Text(i, 3);
  std::optional<RequestState> state = RequestStateFromName(s.Text(i, 4));
  if (!state) return Corrupt("requests.state");
  row->state = *state;
  row->intake = s.Text(i, 5);
  row->verification = s.Text(i, 6);
  row->waiting_for = s.Text(i, 7);
  row->subject_ids = SplitKeys(s.Text(i, 8));
  row->received_at = s.Time(i, 9);
  row->clock_started_at = s.OptionalTime(i, 10);
  row->due_at = s.OptionalTime(i, 11);
  row->extended_at = s.OptionalTime(i, 12);
  row->closed_at = s.OptionalTime(i, 13);
  row->outcome = s.Text(i, 14);
  row->wrapped_key = s.Blob(i, 15);
  row->sealed_details = s.Blob(i, 16);
  row->sealed_result = s.Blob(i, 17);
  row->code_hash = s.Blob(i, 18);
  row->code_expires_at = s.OptionalTime(i, 19);
  row->code_attempts = s.Int(i, 20);
  row->access_hash = s.Blob(i, 21);
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, RequestEventRow* row) {
  row->controller = s.Text(i, 0);
  row->request_id = s.Text(i, 1);
  row->seq = s.Int(i, 2);
  row->at = s.Time(i, 3);
  row->actor = s.Text(i, 4);
  row->event = s.Text(i, 5);
  std::optional<RequestState> state = RequestStateFromName(s.Text(i, 6));
  if (!state) return Corrupt("request_events.state");
  row->state = *state;
  row->detail = s.Text(i, 7);
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, OutboxRow* row) {
  row->controller = s.Text(i, 0);
  row->outbox_id = s.Int(i, 1);
  row->request_id = s.Text(i, 2);
  row->kind = s.Text(i, 3);
  row->target = s.Text(i, 4);
  std::optional<OutboxState> state = OutboxStateFromName(s.Text(i, 5));
  if (!state) return Corrupt("outbox.state");
  row->state = *state;
  row->attempts = s.Int(i, 6);
  row->created_at = s.Time(i, 7);
  row->next_attempt_at = s.Time(i, 8);
  row->delivered_at = s.OptionalTime(i, 9);
  row->claimed_until = s.OptionalTime(i, 10);
  row->last_error = s.Text(i, 11);
  row->sealed_payload = s.Blob(i, 12);
  row->payload_digest = s.Blob(i, 13);
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, RecipientEndpointRow* row) {
  row->controller = s.Text(i, 0);
  row->recipient = s.Text(i, 1);
  row->url = s.Text(i, 2);
  row->sealed_secret = s.Blob(i, 3);
  row->updated_at = s.Time(i, 4);
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, RecordVersionRow* row) {
  row->controller = s.Text(i, 0);
  row->subject_id = s.Text(i, 1);
  row->record_id = s.Int(i, 2);
  row->version = s.Int(i, 3);
  row->sealed_value = s.Blob(i, 4);
  row->replaced_at = s.Time(i, 5);
  row->request_id = s.Text(i, 6);
  return Status::Ok();
}

// Runs `sql` with `args` and reads every row with ReadRow().
template <typename Row, typename... Args>
Result<std::vector<Row>> ReadAll(Connection& db, const char* sql, const Args&... args) {
  Params params;
  params.AddAll(args...);
  ASSIGN_OR_RETURN(Rows rows, db.Query(sql, params));
  std::vector<Row> out(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) RETURN_IF_ERROR(ReadRow(rows, i, &out[i]));
  return out;
}

// --- Writing --------------------------------------------------------------------------------

// A given id (> 0) is kept; 0 asks the database for the next one (NULL → the sequence).
Result<std::optional<int64_t>> GivenId(Connection& db, const char* sequence, int64_t given) {
  if (given < 0) return Invalid(std::string(sequence) + ": a negative id");
  if (given == 0) return std::optional<int64_t>();
  RETURN_IF_ERROR(db.Query(kBumpSequence, Params().AddAll(std::string(sequence), given)).status());
  return std::optional<int64_t>(given);
}

// Applies the ops of one batch inside the open transaction; one overload per WriteOp.
class BatchWriter {
 public:
  BatchWriter(Connection& db, AppliedIds* applied) : db_(db), applied_(applied) {}

  Status Write(const WriteBatch& batch) {
    const std::vector<WriteOp>& ops = batch.ops;
    for (size_t i = 0; i < ops.size();) {
      // A run of audit entries (a flush of buffered decisions) goes in one COPY rather than
      // one round trip per entry; a taken seq still fails the whole batch (unique key).
      size_t end = i;
      while (end < ops.size() && std::holds_alternative<AuditRow>(ops[end]) &&
             std::get<AuditRow>(ops[end]).seq > 0) {
        ++end;
      }
      if (end - i >= kCopyAuditRunsOf) {
        RETURN_IF_ERROR(CopyAudit(ops, i, end));
        i = end;
        continue;
      }
      RETURN_IF_ERROR(std::visit(*this, ops[i]));
      ++i;
    }
    return Status::Ok();
  }

  Status operator()(const ControllerRow& row) {
    return Run(kInsertController, row.controller, row.name, row.policy_version, row.policy_text,
               row.loaded_at);
  }

  Status operator()(const SubjectRow& row) {
    std::string types;
    RETURN_IF_ERROR(JoinKeys(row.types, "subjects.types", &types));
    return Run(kInsertSubject, row.controller, row.subject_id, types, row.created_at,
               row.wrapped_key, std::string(SubjectStateName(row.state)), row.erased_at);
  }

  Status operator()(const EventRow& row) {
    return Run(kInsertEvent, row.controller, row.subject_id, row.event, row.at);
  }

  Status operator()(const IdentifierRow& row) {
    return Run(kInsertIdentifier, row.controller, row.subject_id, row.kind, row.blind_index,
               row.sealed_value, row.verified, row.added_at);
  }

  Status operator()(const RecordRow& row) {
    ASSIGN_OR_RETURN(std::optional<int64_t> id, GivenId(db_, "records_seq", row.record_id));
    ASSIGN_OR_RETURN(int64_t assigned,
                     Returning(kInsertRecord, row.controller, row.subject_id, id, row.category,
                               row.sealed_value, row.source, row.purpose, row.collected_at,
                               std::string(RecordStateName(row.state)), row.updated_at));
    applied_->record_ids.push_back(assigned);
    return Status::Ok();
  }

  Status operator()(const ConsentEventRow& row) {
    ASSIGN_OR_RETURN(std::optional<int64_t> id, GivenId(db_, "consent_events_seq", row.seq));
    ASSIGN_OR_RETURN(int64_t assigned,
                     Returning(kInsertConsentEvent, row.controller, row.subject_id, id,
                               std::string(ConsentTargetName(row.target_kind)), row.target,
                               std::string(ConsentActionName(row.action)), row.notice_version,
                               row.channel, row.at, row.sealed_evidence));
    applied_->consent_seqs.push_back(assigned);
    return Status::Ok();
  }

  Status operator()(const PreferenceRow& row) {
    return Run(kInsertPreference, row.controller, row.subject_id, row.channel, row.allowed, row.at);
  }

  Status operator()(const ObjectionRow& row) {
    return Run(kInsertObjection, row.controller, row.subject_id, row.purpose, row.at,
               row.lifted_at);
  }

  Status operator()(const RestrictionRow& row) {
    std::string categories;
    RETURN_IF_ERROR(JoinKeys(row.categories, "restrictions.categories", &categories));
    ASSIGN_OR_RETURN(std::optional<int64_t> id,
                     GivenId(db_, "restrictions_seq", row.restriction_id));
    ASSIGN_OR_RETURN(int64_t assigned,
                     Returning(kInsertRestriction, row.controller, row.subject_id, id, categories,
                               row.reason, row.at, row.lifted_at));
    applied_->restriction_ids.push_back(assigned);
    return Status::Ok();
  }

  Status operator()(const SuppressionRow& row) {
    return Run(kInsertSuppression, row.controller, row.hash, row.kind, row.reason, row.at);
  }

  Status operator()(const AuditRow& row) {
    if (row.seq < 0) return Invalid("audit_log: a negative seq");
    std::optional<int64_t> seq;  // NULL: the next seq
    if (row.seq > 0) seq = row.seq;
    return Run(kInsertAudit, seq, row.controller, row.at, row.actor, row.action, row.purpose,
               row.subject_id, row.detail, row.prev_hash, row.hash);
  }

  Status operator()(const SetRecordState& op) {
    ASSIGN_OR_RETURN(int64_t changed,
                     Changed(kSetRecordState, std::string(RecordStateName(op.state)),
                             op.sealed_value, op.at, op.controller, op.subject_id, op.record_id));
    if (changed == 0) {
      return Invalid("records: no record " + std::to_string(op.record_id) + " of subject " +
                     op.subject_id);
    }
    // An erased or anonymised record keeps no earlier values either.
    if (op.state == RecordState::kErased || op.state == RecordState::kAnonymised) {
      RETURN_IF_ERROR(Run(kDeleteRecordVersions, op.controller, op.subject_id, op.record_id));
    }
    return Status::Ok();
  }

  Status operator()(const LiftRestriction& op) {
    ASSIGN_OR_RETURN(int64_t changed, Changed(kLiftRestriction, op.at, op.controller, op.subject_id,
                                              op.restriction_id));
    if (changed == 0) {
      return Invalid("restrictions: no restriction " + std::to_string(op.restriction_id) +
                     " of subject " + op.subject_id);
    }
    return Status::Ok();
  }

  Status operator()(const LiftObjection& op) {
    return Run(kLiftObjection, op.at, op.controller, op.subject_id, op.purpose);
  }

  Status operator()(const EraseSubject& op) {
    ASSIGN_OR_RETURN(int64_t changed, Changed(kEraseSubject, op.at, op.controller, op.subject_id));
    if (changed == 0) return Invalid("subjects: no subject " + op.subject_id);
    return Status::Ok();
  }

  Status operator()(const LegalHoldRow& row) {
    ASSIGN_OR_RETURN(std::optional<int64_t> id, GivenId(db_, "legal_holds_seq", row.hold_id));
    ASSIGN_OR_RETURN(int64_t assigned,
                     Returning(kInsertLegalHold, row.controller, id, row.subject_id, row.category,
                               row.reason, row.placed_at, row.expires_at, row.released_at));
    applied_->hold_ids.push_back(assigned);
    return Status::Ok();
  }

  Status operator()(const ReleaseLegalHold& op) {
    ASSIGN_OR_RETURN(int64_t changed, Changed(kReleaseLegalHold, op.at, op.controller, op.hold_id));
    if (changed == 0) return Invalid("legal_holds: no hold " + std::to_string(op.hold_id));
    return Status::Ok();
  }

  Status operator()(const ReviewTaskRow& row) {
    ASSIGN_OR_RETURN(std::optional<int64_t> id, GivenId(db_, "review_tasks_seq", row.task_id));
    return Run(kInsertReviewTask, row.controller, row.subject_id, id, row.rule_id, row.category,
               row.due_at, row.created_at, row.done_at);
  }

  Status operator()(const CompleteReviewTask& op) {
    ASSIGN_OR_RETURN(int64_t changed,
                     Changed(kCompleteReviewTask, op.at, op.controller, op.task_id));
    if (changed == 0) return Invalid("review_tasks: no task " + std::to_string(op.task_id));
    return Status::Ok();
  }

  Status operator()(const AnonymisedFactRow& row) {
    if (row.fact_id <= 0) return Invalid("anonymised_facts: the fact id must be set (> 0)");
    return Run(kInsertAnonymisedFact, row.controller, row.fact_id, row.category, row.value);
  }

  Status operator()(const DeleteIdentifiers& op) {
    return Run(kDeleteIdentifiers, op.controller, op.subject_id, op.kind, op.blind_index);
  }

  Status operator()(const RetentionRunRow& row) {
    ASSIGN_OR_RETURN(std::optional<int64_t> id, GivenId(db_, "retention_runs_seq", row.run_id));
    const RetentionCounts& c = row.counts;
    ASSIGN_OR_RETURN(int64_t assigned,
                     Returning(kInsertRetentionRun, row.controller, id, row.as_of, row.started_at,
                               row.last_subject_id, c.subjects, c.deleted, c.anonymised, c.reviews,
                               c.held, c.erased, row.finished_at));
    applied_->run_ids.push_back(assigned);
    return Status::Ok();
  }

  Status operator()(const ExpectState& op) {
    {
      ASSIGN_OR_RETURN(Rows rows,
                       db_.Query(kExpectSubject, Params().AddAll(op.controller, op.subject_id)));
      if (rows.size() == 0 || rows.Text(0, 0) != SubjectStateName(SubjectState::kActive)) {
        return Invalid("subjects: subject " + op.subject_id + " is absent or erased");
      }
    }
    if (op.record_id == 0) return Status::Ok();
    ASSIGN_OR_RETURN(
        Rows rows,
        db_.Query(kExpectRecord, Params().AddAll(op.controller, op.subject_id, op.record_id)));
    if (rows.size() == 0 || rows.Text(0, 0) != RecordStateName(op.record_state)) {
      return Invalid("records: record " + std::to_string(op.record_id) + " of subject " +
                     op.subject_id + " is not " + std::string(RecordStateName(op.record_state)) +
                     " any more");
    }
    return Status::Ok();
  }

  Status operator()(const RetentionCheckpoint& op) {
    const RetentionCounts& c = op.counts;
    ASSIGN_OR_RETURN(int64_t changed, Changed(kRetentionCheckpoint, op.last_subject_id, c.subjects,
                                              c.deleted, c.anonymised, c.reviews, c.held, c.erased,
                                              op.finished_at, op.controller, op.run_id));
    if (changed == 0) return Invalid("retention_runs: no run " + std::to_string(op.run_id));
    return Status::Ok();
  }

  Status operator()(const RequestRow& row) {
    if (row.version != 1) return Invalid("requests: a new request has version 1");
    std::string subjects;
    RETURN_IF_ERROR(JoinKeys(row.subject_ids, "requests.subject_ids", &subjects));
    return Run(kInsertRequest, row.controller, row.request_id, row.version, row.type,
               std::string(RequestStateName(row.state)), row.intake, row.verification,
               row.waiting_for, subjects, row.received_at, row.clock_started_at, row.due_at,
               row.extended_at, row.closed_at, row.outcome, row.wrapped_key, row.sealed_details,
               row.sealed_result, row.code_hash, row.code_expires_at, row.code_attempts,
               row.access_hash);
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
        Changed(kUpdateRequest, r.version, r.type, std::string(RequestStateName(r.state)), r.intake,
                r.verification, r.waiting_for, subjects, r.received_at, r.clock_started_at,
                r.due_at, r.extended_at, r.closed_at, r.outcome, r.wrapped_key, r.sealed_details,
                r.sealed_result, r.code_hash, r.code_expires_at, r.code_attempts, r.access_hash,
                r.controller, r.request_id, op.expected_version));
    if (changed == 0) {
      return Invalid("requests: request " + r.request_id + " is absent or changed concurrently");
    }
    return Status::Ok();
  }

  Status operator()(const RequestEventRow& row) {
    ASSIGN_OR_RETURN(std::optional<int64_t> seq, GivenId(db_, "request_events_seq", row.seq));
    return Run(kInsertRequestEvent, row.controller, row.request_id, seq, row.at, row.actor,
               row.event, std::string(RequestStateName(row.state)), row.detail);
  }

  Status operator()(const OutboxRow& row) {
    ASSIGN_OR_RETURN(std::optional<int64_t> id, GivenId(db_, "outbox_seq", row.outbox_id));
    ASSIGN_OR_RETURN(
        int64_t assigned,
        Returning(kInsertOutbox, row.controller, id, row.request_id, row.kind, row.target,
                  std::string(OutboxStateName(row.state)), row.attempts, row.created_at,
                  row.next_attempt_at, row.delivered_at, row.claimed_until, row.last_error,
                  row.sealed_payload, row.payload_digest));
    applied_->outbox_ids.push_back(assigned);
    return Status::Ok();
  }

  Status operator()(const UpdateOutbox& op) {
    ASSIGN_OR_RETURN(int64_t changed,
                     Changed(kUpdateOutbox, std::string(OutboxStateName(op.state)), op.attempts,
                             op.next_attempt_at, op.delivered_at, op.last_error, op.clear_payload,
                             op.controller, op.outbox_id));
    if (changed == 0) return Invalid("outbox: no message " + std::to_string(op.outbox_id));
    return Status::Ok();
  }

  Status operator()(const RecipientEndpointRow& row) {
    if (row.recipient.empty() || row.url.empty()) {
      return Invalid("recipient_endpoints: recipient and url are required");
    }
    return Run(kUpsertEndpoint, row.controller, row.recipient, row.url, row.sealed_secret,
               row.updated_at);
  }

  // The version is max + 1 of the record's versions, so two transactions adding a version of
  // one record must not both read the same max. The record's row lock (taken first, held until
  // commit) makes them take turns, and under READ COMMITTED the INSERT, a later statement,
  // reads a fresh snapshot that holds the versions the previous holder committed. Retrying on
  // the primary key's unique violation instead would not work here: it aborts the whole
  // transaction (the batch would need a savepoint per version) and ApplyBatches does not retry
  // constraint failures, which are the caller's errors (INVALID_ARGUMENT). The lock also orders
  // the insert against a SetRecordState that erases the record (it locks the same row).
  Status operator()(const RecordVersionRow& row) {
    ASSIGN_OR_RETURN(
        Rows locked,
        db_.Query(kLockRecord, Params().AddAll(row.controller, row.subject_id, row.record_id)));
    if (locked.size() == 0) {
      return Invalid("records: no record " + std::to_string(row.record_id) + " of subject " +
                     row.subject_id);
    }
    return Run(kInsertRecordVersion, row.controller, row.subject_id, row.record_id,
               row.sealed_value, row.replaced_at, row.request_id);
  }

 private:
  static constexpr size_t kCopyAuditRunsOf = 16;

  Status CopyAudit(const std::vector<WriteOp>& ops, size_t begin, size_t end) {
    std::string data;
    auto text = [&](std::string_view value) {
      pg::AppendCopyText(data, value);
      data.push_back('\t');
    };
    for (size_t i = begin; i < end; ++i) {
      const AuditRow& row = std::get<AuditRow>(ops[i]);
      text(std::to_string(row.seq));
      text(row.controller);
      text(std::to_string(row.at.micros));
      text(row.actor);
      text(row.action);
      text(row.purpose);
      text(row.subject_id);
      text(row.detail);
      pg::AppendCopyBytea(data, row.prev_hash);
      data.push_back('\t');
      pg::AppendCopyBytea(data, row.hash);
      data.push_back('\n');
    }
    return db_
        .Copy(
            "COPY audit_log (seq, controller, at, actor, action, purpose, subject_id, detail,"
            " prev_hash, hash) FROM STDIN",
            data)
        .status();
  }

  template <typename... Args>
  Status Run(const char* sql, const Args&... args) {
    return db_.Query(sql, Params().AddAll(args...)).status();
  }

  template <typename... Args>
  Result<int64_t> Changed(const char* sql, const Args&... args) {
    ASSIGN_OR_RETURN(Rows rows, db_.Query(sql, Params().AddAll(args...)));
    return rows.Affected();
  }

  // The id an INSERT ... RETURNING gave back.
  template <typename... Args>
  Result<int64_t> Returning(const char* sql, const Args&... args) {
    ASSIGN_OR_RETURN(Rows rows, db_.Query(sql, Params().AddAll(args...)));
    if (rows.size() != 1) return Corrupt("RETURNING");
    return rows.Int(0, 0);
  }

  Connection& db_;
  AppliedIds* applied_;
};

}  // namespace

// --- The connection pool --------------------------------------------------------------------

// A connection borrowed from the pool; returned when destroyed unless it broke.
class PostgresStore::Lease {
 public:
  Lease(PostgresStore* store, std::unique_ptr<Connection> connection)
      : store_(store), connection_(std::move(connection)) {}
  Lease(Lease&& other) noexcept = default;
  Lease& operator=(Lease&&) = delete;
  ~Lease() {
    if (connection_ != nullptr) store_->Release(std::move(connection_));
  }
  Connection& operator*() { return *connection_; }
  Connection* operator->() { return connection_.get(); }

 private:
  PostgresStore* store_;
  std::unique_ptr<Connection> connection_;
};

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(const PostgresOptions& options) {
  if (options.url.empty()) return Invalid("the PostgreSQL URL is empty");
  if (!pg::IsValidSchemaName(options.schema)) {
    return Invalid("PostgreSQL schema names are lower-case letters, digits and '_' (at most 63)");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> first,
                   Connection::Open({options.url, options.schema}));
  ASSIGN_OR_RETURN(int version, pg::Migrate(*first, options.schema));
  (void)version;
  return std::unique_ptr<PostgresStore>(new PostgresStore(options, std::move(first)));
}

PostgresStore::PostgresStore(PostgresOptions options, std::unique_ptr<Connection> first)
    : options_(std::move(options)), schema_(options_.schema) {
  idle_.push_back(std::move(first));
}

PostgresStore::~PostgresStore() = default;

int PostgresStore::LatestSchemaVersion() { return pg::LatestSchemaVersion(); }

Result<PostgresStore::Lease> PostgresStore::Acquire() {
  {
    std::lock_guard lock(pool_mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(connection));
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection,
                   Connection::Open({options_.url, options_.schema}));
  return Lease(this, std::move(connection));
}

void PostgresStore::Release(std::unique_ptr<Connection> connection) {
  if (connection->broken()) return;
  std::lock_guard lock(pool_mutex_);
  if (idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(connection));
}

// --- Writes ---------------------------------------------------------------------------------

Result<AppliedIds> PostgresStore::Apply(const WriteBatch& batch) {
  const WriteBatch* one = &batch;
  ASSIGN_OR_RETURN(std::vector<AppliedIds> applied, ApplyBatches(&one, 1));
  return std::move(applied.front());
}

Result<std::vector<AppliedIds>> PostgresStore::ApplyGroup(
    const std::vector<const WriteBatch*>& batches) {
  return ApplyBatches(batches.data(), batches.size());
}

Result<std::vector<AppliedIds>> PostgresStore::ApplyBatches(const WriteBatch* const* batches,
                                                            size_t count) {
  if (std::all_of(batches, batches + count, [](const WriteBatch* b) { return b->empty(); })) {
    return std::vector<AppliedIds>(count);
  }
  ASSIGN_OR_RETURN(Lease db, Acquire());
  Status status;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    std::vector<AppliedIds> applied(count);
    status = [&]() -> Status {
      RETURN_IF_ERROR(db->Exec("BEGIN"));
      for (size_t i = 0; i < count; ++i) {
        Status written = BatchWriter(*db, &applied[i]).Write(*batches[i]);
        if (!written.ok()) {
          if (count == 1) return written;
          return Status(written.code(), "batch " + std::to_string(i + 1) + " of " +
                                            std::to_string(count) + ": " + written.message());
        }
      }
      return db->Exec("COMMIT");
    }();
    if (status.ok()) return applied;
    Failure failure = db->failure();
    if (!db->broken()) (void)db->Exec("ROLLBACK");
    if (failure != Failure::kRetry) break;
  }
  return status;
}

Result<int64_t> PostgresStore::Import(const WriteBatch& batch) {
  // COPY's text format, one buffer per table, loaded parents first (subjects).
  std::string subjects, events, identifiers, records, consents, preferences;
  int64_t rows = 0;
  auto tab = [](std::string& out) { out.push_back('\t'); };
  auto text = [&](std::string& out, std::string_view value) {
    pg::AppendCopyText(out, value);
    tab(out);
  };
  auto bytes = [&](std::string& out, const Bytes& value) {
    pg::AppendCopyBytea(out, value);
    tab(out);
  };
  auto number = [&](std::string& out, int64_t value) {
    out += std::to_string(value);
    tab(out);
  };
  auto end = [&](std::string& out) {
    out.back() = '\n';
    ++rows;
  };
  for (const WriteOp& op : batch.ops) {
    if (const auto* s = std::get_if<SubjectRow>(&op)) {
      std::string types;
      RETURN_IF_ERROR(JoinKeys(s->types, "subjects.types", &types));
      text(subjects, s->controller);
      text(subjects, s->subject_id);
      text(subjects, types);
      number(subjects, s->created_at.micros);
      bytes(subjects, s->wrapped_key);
      text(subjects, SubjectStateName(s->state));
      if (s->erased_at) {
        number(subjects, s->erased_at->micros);
      } else {
        subjects += "\\N\t";
      }
      end(subjects);
    } else if (const auto* e = std::get_if<EventRow>(&op)) {
      text(events, e->controller);
      text(events, e->subject_id);
      text(events, e->event);
      number(events, e->at.micros);
      end(events);
    } else if (const auto* d = std::get_if<IdentifierRow>(&op)) {
      text(identifiers, d->controller);
      text(identifiers, d->subject_id);
      text(identifiers, d->kind);
      bytes(identifiers, d->blind_index);
      bytes(identifiers, d->sealed_value);
      text(identifiers, d->verified ? "t" : "f");
      number(identifiers, d->added_at.micros);
      end(identifiers);
    } else if (const auto* r = std::get_if<RecordRow>(&op)) {
      text(records, r->controller);
      text(records, r->subject_id);
      text(records, r->category);
      bytes(records, r->sealed_value);
      text(records, r->source);
      text(records, r->purpose);
      number(records, r->collected_at.micros);
      text(records, RecordStateName(r->state));
      number(records, r->updated_at.micros);
      end(records);
    } else if (const auto* c = std::get_if<ConsentEventRow>(&op)) {
      text(consents, c->controller);
      text(consents, c->subject_id);
      text(consents, ConsentTargetName(c->target_kind));
      text(consents, c->target);
      text(consents, ConsentActionName(c->action));
      text(consents, c->notice_version);
      text(consents, c->channel);
      number(consents, c->at.micros);
      bytes(consents, c->sealed_evidence);
      end(consents);
    } else if (const auto* p = std::get_if<PreferenceRow>(&op)) {
      text(preferences, p->controller);
      text(preferences, p->subject_id);
      text(preferences, p->channel);
      text(preferences, p->allowed ? "t" : "f");
      number(preferences, p->at.micros);
      end(preferences);
    } else {
      return Invalid(
          "import: only subjects, events, identifiers, records, consent events and"
          " preferences are bulk-loaded");
    }
  }
  if (rows == 0) return int64_t{0};
  const std::pair<const std::string*, const char*> copies[] = {
      {&subjects,
       "COPY subjects (controller, subject_id, types, created_at, wrapped_key, state, erased_at)"
       " FROM STDIN"},
      {&events, "COPY events (controller, subject_id, event, at) FROM STDIN"},
      {&identifiers,
       "COPY identifiers (controller, subject_id, kind, blind_index, sealed_value, verified,"
       " added_at) FROM STDIN"},
      {&records,
       "COPY records (controller, subject_id, category, sealed_value, source, purpose,"
       " collected_at, state, updated_at) FROM STDIN"},
      {&consents,
       "COPY consent_events (controller, subject_id, target_kind, target, action,"
       " notice_version, channel, at, sealed_evidence) FROM STDIN"},
      {&preferences, "COPY preferences (controller, subject_id, channel, allowed, at) FROM STDIN"},
  };
  ASSIGN_OR_RETURN(Lease db, Acquire());
  Status status = [&]() -> Status {
    RETURN_IF_ERROR(db->Exec("BEGIN"));
    for (const auto& [data, sql] : copies) {
      if (data->empty()) continue;
      RETURN_IF_ERROR(db->Copy(sql, *data).status());
    }
    return db->Exec("COMMIT");
  }();
  if (!status.ok()) {
    if (!db->broken()) (void)db->Exec("ROLLBACK");
    return status;
  }
  return rows;
}

// --- Reads ----------------------------------------------------------------------------------

namespace {

template <typename Row>
Result<std::optional<Row>> First(Result<std::vector<Row>> rows) {
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<Row>();
  return std::optional<Row>(std::move(rows->front()));
}

}  // namespace

Result<std::optional<ControllerRow>> PostgresStore::GetController(const std::string& controller) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return First(ReadAll<ControllerRow>(*db, kSelectController, controller));
}

Result<std::optional<SubjectRow>> PostgresStore::GetSubject(const std::string& controller,
                                                            const std::string& subject_id) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return First(ReadAll<SubjectRow>(*db, kSelectSubject, controller, subject_id));
}

Status PostgresStore::ScanSubjects(const std::string& controller,
                                   const std::function<bool(const SubjectRow&)>& visit) {
  std::string after;
  while (true) {
    std::vector<SubjectRow> page;
    {
      ASSIGN_OR_RETURN(Lease db, Acquire());
      ASSIGN_OR_RETURN(page,
                       ReadAll<SubjectRow>(*db, kSubjectsAfter, controller, after, kScanPage));
    }
    for (const SubjectRow& row : page) {
      if (!visit(row)) return Status::Ok();
    }
    if (static_cast<int64_t>(page.size()) < kScanPage) return Status::Ok();
    after = page.back().subject_id;
  }
}

Result<int64_t> PostgresStore::CountSubjects(const std::string& controller) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  ASSIGN_OR_RETURN(Rows rows, db->Query(kCountSubjects, Params().Add(controller)));
  return rows.size() > 0 ? rows.Int(0, 0) : 0;
}

Result<std::vector<EventRow>> PostgresStore::ListEvents(const std::string& controller,
                                                        const std::string& subject_id) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<EventRow>(*db, kSelectEvents, controller, subject_id);
}

Result<std::vector<IdentifierRow>> PostgresStore::ListIdentifiers(const std::string& controller,
                                                                  const std::string& subject_id) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<IdentifierRow>(*db, kSelectIdentifiers, controller, subject_id);
}

Result<std::vector<RecordRow>> PostgresStore::ListRecords(const std::string& controller,
                                                          const std::string& subject_id) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<RecordRow>(*db, kSelectRecords, controller, subject_id);
}

Result<std::vector<ConsentEventRow>> PostgresStore::ListConsentEvents(
    const std::string& controller, const std::string& subject_id) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<ConsentEventRow>(*db, kSelectConsentEvents, controller, subject_id);
}

Result<std::vector<PreferenceRow>> PostgresStore::ListPreferences(const std::string& controller,
                                                                  const std::string& subject_id) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<PreferenceRow>(*db, kSelectPreferences, controller, subject_id);
}

Result<std::vector<ObjectionRow>> PostgresStore::ListObjections(const std::string& controller,
                                                                const std::string& subject_id) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<ObjectionRow>(*db, kSelectObjections, controller, subject_id);
}

Result<std::vector<RestrictionRow>> PostgresStore::ListRestrictions(const std::string& controller,
                                                                    const std::string& subject_id) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<RestrictionRow>(*db, kSelectRestrictions, controller, subject_id);
}

Result<std::vector<std::string>> PostgresStore::FindSubjectsByIdentifier(
    const std::string& controller, const std::string& kind, const Bytes& blind_index) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  ASSIGN_OR_RETURN(Rows rows,
                   db->Query(kFindSubjects, Params().AddAll(controller, kind, blind_index)));
  std::vector<std::string> ids;
  for (int i = 0; i < rows.size(); ++i) ids.push_back(rows.Text(i, 0));
  return ids;
}

Result<bool> PostgresStore::IsSuppressed(const std::string& controller, const Bytes& hash) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  ASSIGN_OR_RETURN(Rows rows, db->Query(kIsSuppressed, Params().AddAll(controller, hash)));
  return rows.size() > 0;
}

Result<std::vector<LegalHoldRow>> PostgresStore::ListLegalHolds(const std::string& controller) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<LegalHoldRow>(*db, kSelectLegalHolds, controller);
}

Result<std::vector<ReviewTaskRow>> PostgresStore::ListReviewTasks(const std::string& controller,
                                                                  bool open_only) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<ReviewTaskRow>(*db, kSelectReviewTasks, controller, open_only);
}

namespace {

// Hands each row of `rows` (sorted by subject_id, as `page` is) to the page entry of its subject.
template <typename Row>
void Distribute(std::vector<Row>&& rows, std::vector<SweepSubject>& page,
                std::vector<Row> SweepSubject::*field) {
  size_t at = 0;
  for (Row& row : rows) {
    while (at < page.size() && page[at].subject.subject_id != row.subject_id) ++at;
    if (at == page.size()) break;
    (page[at].*field).push_back(std::move(row));
  }
}

Result<std::vector<SweepSubject>> ReadSweepPage(Connection& db, const std::string& controller,
                                                const std::string& after, size_t max_subjects) {
  std::vector<SweepSubject> page;
  ASSIGN_OR_RETURN(std::vector<SubjectRow> subjects,
                   ReadAll<SubjectRow>(db, kSubjectsAfter, controller, after,
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

Result<std::vector<SweepSubject>> PostgresStore::ListSweepPage(const std::string& controller,
                                                               const std::string& after_subject_id,
                                                               size_t max_subjects) {
  if (max_subjects == 0) return std::vector<SweepSubject>();
  ASSIGN_OR_RETURN(Lease db, Acquire());
  // One snapshot for the five queries.
  RETURN_IF_ERROR(db->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  Result<std::vector<SweepSubject>> page =
      ReadSweepPage(*db, controller, after_subject_id, max_subjects);
  if (!db->broken()) (void)db->Exec(page.ok() ? "COMMIT" : "ROLLBACK");
  return page;
}

Result<std::vector<FactCount>> PostgresStore::CountAnonymisedFacts(const std::string& controller,
                                                                   const std::string& category) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<FactCount>(*db, kCountFacts, controller, category);
}

Result<std::optional<RetentionRunRow>> PostgresStore::LastRetentionRun(
    const std::string& controller) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return First(ReadAll<RetentionRunRow>(*db, kLastRetentionRun, controller));
}

Result<std::optional<RequestRow>> PostgresStore::GetRequest(const std::string& controller,
                                                            const std::string& request_id) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return First(ReadAll<RequestRow>(*db, kSelectRequest, controller, request_id));
}

Result<std::vector<RequestRow>> PostgresStore::ListRequests(const std::string& controller,
                                                            bool open_only) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<RequestRow>(*db, kListRequests, controller, open_only);
}

Result<std::vector<RequestEventRow>> PostgresStore::ListRequestEvents(
    const std::string& controller, const std::string& request_id) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<RequestEventRow>(*db, kListRequestEvents, controller, request_id);
}

Result<std::vector<OutboxRow>> PostgresStore::ListOutbox(const std::string& controller,
                                                         const std::string& request_id) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<OutboxRow>(*db, kListOutbox, controller, request_id);
}

// One autocommitted statement (kClaimOutbox explains why it is safe across processes).
Result<std::vector<OutboxRow>> PostgresStore::ClaimOutbox(const std::string& controller,
                                                          Timestamp now, Timestamp lease_until,
                                                          size_t max) {
  if (max == 0) return std::vector<OutboxRow>();
  ASSIGN_OR_RETURN(Lease db, Acquire());
  Result<std::vector<OutboxRow>> claimed = ReadAll<OutboxRow>(
      *db, kClaimOutbox, controller, now, lease_until, static_cast<int64_t>(max));
  for (int attempt = 1; !claimed.ok() && db->failure() == Failure::kRetry && attempt < kMaxAttempts;
       ++attempt) {
    claimed = ReadAll<OutboxRow>(*db, kClaimOutbox, controller, now, lease_until,
                                 static_cast<int64_t>(max));
  }
  if (!claimed.ok()) return claimed.status();
  std::vector<OutboxRow> rows = std::move(claimed).value();
  // RETURNING gives no order.
  std::sort(rows.begin(), rows.end(),
            [](const OutboxRow& a, const OutboxRow& b) { return a.outbox_id < b.outbox_id; });
  return rows;
}

Result<std::optional<RecipientEndpointRow>> PostgresStore::GetRecipientEndpoint(
    const std::string& controller, const std::string& recipient) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return First(ReadAll<RecipientEndpointRow>(*db, kSelectEndpoint, controller, recipient));
}

Result<std::vector<RecipientEndpointRow>> PostgresStore::ListRecipientEndpoints(
    const std::string& controller) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<RecipientEndpointRow>(*db, kListEndpoints, controller);
}

Result<std::vector<RecordVersionRow>> PostgresStore::ListRecordVersions(
    const std::string& controller, const std::string& subject_id) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<RecordVersionRow>(*db, kListRecordVersions, controller, subject_id);
}

Result<std::optional<AuditRow>> PostgresStore::LastAudit() {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return First(ReadAll<AuditRow>(*db, kLastAudit));
}

Status PostgresStore::ScanAudit(int64_t from_seq,
                                const std::function<bool(const AuditRow&)>& visit) {
  int64_t from = from_seq;
  while (true) {
    std::vector<AuditRow> page;
    {
      ASSIGN_OR_RETURN(Lease db, Acquire());
      ASSIGN_OR_RETURN(page, ReadAll<AuditRow>(*db, kScanAudit, from, kScanPage));
    }
    for (const AuditRow& row : page) {
      if (!visit(row)) return Status::Ok();
    }
    if (static_cast<int64_t>(page.size()) < kScanPage) return Status::Ok();
    from = page.back().seq + 1;
  }
}

Result<int> PostgresStore::SchemaVersion() {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return pg::SchemaVersion(*db);
}

Status PostgresStore::ExecForTesting(const std::string& sql) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return db->Exec(sql.c_str());
}

Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<PostgresStore> store, PostgresStore::Open(options));
  return std::unique_ptr<Store>(std::move(store));
}

Status DropPostgresSchemaForTesting(const std::string& url, const std::string& schema) {
  if (!pg::IsValidSchemaName(schema)) return Invalid("invalid schema name");
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> db, Connection::Open({url, "public"}));
  std::string sql = "DROP SCHEMA IF EXISTS " + schema + " CASCADE";
  return db->Exec(sql.c_str());
}

}  // namespace custos::store
