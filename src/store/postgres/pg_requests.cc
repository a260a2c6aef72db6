// PostgresStore: rights requests (schema version 3). Requests, updated only at the expected
// version; their append-only history; the outbox, claimed with FOR UPDATE SKIP LOCKED;
// recipients' webhook endpoints; and the earlier values of rectified records, numbered under
// the record's row lock.
#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/column_text.h"
#include "store/postgres/pg_internal.h"

namespace custos::store {

using pg::Failure;
using pg::First;
using pg::kMaxAttempts;
using pg::ReadAll;

namespace {

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
constexpr char kInsertCodeSend[] =
    "INSERT INTO code_sends (controller, contact_hash, sent_at) VALUES ($1, $2, $3)";
constexpr char kForgetCodeSends[] = "DELETE FROM code_sends WHERE controller = $1 AND sent_at < $2";
constexpr char kListCodeSends[] =
    "SELECT sent_at FROM code_sends WHERE controller = $1 AND contact_hash = $2 AND sent_at >= $3"
    " ORDER BY sent_at";
// The record's row lock serialises the writers of its versions (see RecordVersionRow below).
constexpr char kLockRecord[] =
    "SELECT true FROM records WHERE controller = $1 AND subject_id = $2 AND record_id = $3"
    " FOR UPDATE";
constexpr char kInsertRecordVersion[] =
    "INSERT INTO record_versions (controller, subject_id, record_id, version, sealed_value,"
    " replaced_at, request_id) SELECT $1, $2, $3, COALESCE(MAX(version), 0) + 1, $4, $5, $6"
    " FROM record_versions WHERE controller = $1 AND subject_id = $2 AND record_id = $3";
constexpr char kListRecordVersions[] =
    "SELECT controller, subject_id, record_id, version, sealed_value, replaced_at, request_id"
    " FROM record_versions WHERE controller = $1 AND subject_id = $2"
    " ORDER BY record_id, version";

}  // namespace

namespace pg {

// --- Row readers ----------------------------------------------------------------------------

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

// --- Writing --------------------------------------------------------------------------------

Status BatchWriter::operator()(const RequestRow& row) {
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

Status BatchWriter::operator()(const UpdateRequest& op) {
  const RequestRow& r = op.row;
  if (r.version != op.expected_version + 1) {
    return Invalid("requests: an update sets version expected_version + 1");
  }
  std::string subjects;
  RETURN_IF_ERROR(JoinKeys(r.subject_ids, "requests.subject_ids", &subjects));
  ASSIGN_OR_RETURN(
      int64_t changed,
      Changed(kUpdateRequest, r.version, r.type, std::string(RequestStateName(r.state)), r.intake,
              r.verification, r.waiting_for, subjects, r.received_at, r.clock_started_at, r.due_at,
              r.extended_at, r.closed_at, r.outcome, r.wrapped_key, r.sealed_details,
              r.sealed_result, r.code_hash, r.code_expires_at, r.code_attempts, r.access_hash,
              r.controller, r.request_id, op.expected_version));
  if (changed == 0) {
    return Invalid("requests: request " + r.request_id + " is absent or changed concurrently");
  }
  return Status::Ok();
}

Status BatchWriter::operator()(const RequestEventRow& row) {
  ASSIGN_OR_RETURN(std::optional<int64_t> seq, GivenId(db_, "request_events_seq", row.seq));
  return Run(kInsertRequestEvent, row.controller, row.request_id, seq, row.at, row.actor, row.event,
             std::string(RequestStateName(row.state)), row.detail);
}

Status BatchWriter::operator()(const OutboxRow& row) {
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

Status BatchWriter::operator()(const UpdateOutbox& op) {
  ASSIGN_OR_RETURN(int64_t changed,
                   Changed(kUpdateOutbox, std::string(OutboxStateName(op.state)), op.attempts,
                           op.next_attempt_at, op.delivered_at, op.last_error, op.clear_payload,
                           op.controller, op.outbox_id));
  if (changed == 0) return Invalid("outbox: no message " + std::to_string(op.outbox_id));
  return Status::Ok();
}

Status BatchWriter::operator()(const CodeSendRow& row) {
  if (row.contact_hash.empty()) return Invalid("code_sends: contact_hash is required");
  return Run(kInsertCodeSend, row.controller, row.contact_hash, row.sent_at);
}

Status BatchWriter::operator()(const ForgetCodeSends& op) {
  return Run(kForgetCodeSends, op.controller, op.before);
}

Status BatchWriter::operator()(const RecipientEndpointRow& row) {
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
Status BatchWriter::operator()(const RecordVersionRow& row) {
  ASSIGN_OR_RETURN(
      Rows locked,
      db_.Query(kLockRecord, Params().AddAll(row.controller, row.subject_id, row.record_id)));
  if (locked.size() == 0) {
    return Invalid("records: no record " + std::to_string(row.record_id) + " of subject " +
                   row.subject_id);
  }
  return Run(kInsertRecordVersion, row.controller, row.subject_id, row.record_id, row.sealed_value,
             row.replaced_at, row.request_id);
}

}  // namespace pg

// --- Reads ----------------------------------------------------------------------------------

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

Result<std::vector<Timestamp>> PostgresStore::ListCodeSends(const std::string& controller,
                                                            const Bytes& contact_hash,
                                                            Timestamp since) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  ASSIGN_OR_RETURN(pg::Rows rows,
                   db->Query(kListCodeSends, pg::Params().AddAll(controller, contact_hash, since)));
  std::vector<Timestamp> times;
  for (int i = 0; i < rows.size(); ++i) times.push_back(rows.Time(i, 0));
  return times;
}

Result<std::vector<RecordVersionRow>> PostgresStore::ListRecordVersions(
    const std::string& controller, const std::string& subject_id) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<RecordVersionRow>(*db, kListRecordVersions, controller, subject_id);
}

}  // namespace custos::store
