// SqliteStore: rights requests (schema version 3). Requests, updated only at the expected
// version; their append-only history; the outbox, claimed under the write lock; recipients'
// webhook endpoints; and the earlier values of rectified records.
#include <algorithm>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "store/column_text.h"
#include "store/sqlite/sqlite_internal.h"

namespace custos::store {

using sqlite::Connection;
using sqlite::kBegin;
using sqlite::kCommit;
using sqlite::kRollback;
using sqlite::ReadAll;

namespace {

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
constexpr char kInsertCodeSend[] =
    "INSERT INTO code_sends (controller, contact_hash, sent_at) VALUES (?, ?, ?)";
constexpr char kForgetCodeSends[] = "DELETE FROM code_sends WHERE controller = ? AND sent_at < ?";
constexpr char kListCodeSends[] =
    "SELECT sent_at FROM code_sends WHERE controller = ? AND contact_hash = ? AND sent_at >= ?"
    " ORDER BY sent_at";
constexpr char kInsertRecordVersion[] =
    "INSERT INTO record_versions (controller, subject_id, record_id, version, sealed_value,"
    " replaced_at, request_id) VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(version), 0) + 1 FROM"
    " record_versions WHERE controller = ?1 AND subject_id = ?2 AND record_id = ?3), ?4, ?5, ?6)";
constexpr char kListRecordVersions[] =
    "SELECT controller, subject_id, record_id, version, sealed_value, replaced_at, request_id"
    " FROM record_versions WHERE controller = ? AND subject_id = ? ORDER BY record_id, version";

}  // namespace

namespace sqlite {

// --- Row readers ----------------------------------------------------------------------------

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

Status BatchWriter::operator()(const RequestRow& row) {
  if (row.version != 1) return Invalid("requests: a new request has version 1");
  return WriteRequest(kInsertRequest, row);
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
      Update(kUpdateRequest, r.version, r.type, RequestStateName(r.state), r.intake, r.verification,
             r.waiting_for, subjects, r.received_at, r.clock_started_at, r.due_at, r.extended_at,
             r.closed_at, r.outcome, r.wrapped_key, r.sealed_details, r.sealed_result, r.code_hash,
             r.code_expires_at, r.code_attempts, r.access_hash, r.controller, r.request_id,
             op.expected_version));
  if (changed == 0) {
    return Invalid("requests: request " + r.request_id + " is absent or changed concurrently");
  }
  return Status::Ok();
}

Status BatchWriter::operator()(const RequestEventRow& row) {
  ASSIGN_OR_RETURN(int64_t seq, ids_.Take(Sequence::kRequestEvents, row.seq));
  return Insert(kInsertRequestEvent, row.controller, row.request_id, seq, row.at, row.actor,
                row.event, RequestStateName(row.state), row.detail);
}

Status BatchWriter::operator()(const OutboxRow& row) {
  ASSIGN_OR_RETURN(int64_t id, ids_.Take(Sequence::kOutbox, row.outbox_id));
  RETURN_IF_ERROR(Insert(kInsertOutbox, row.controller, id, row.request_id, row.kind, row.target,
                         OutboxStateName(row.state), row.attempts, row.created_at,
                         row.next_attempt_at, row.delivered_at, row.claimed_until, row.last_error,
                         row.sealed_payload, row.payload_digest));
  applied_->outbox_ids.push_back(id);
  return Status::Ok();
}

Status BatchWriter::operator()(const UpdateOutbox& op) {
  ASSIGN_OR_RETURN(int64_t changed, Update(kUpdateOutbox, OutboxStateName(op.state), op.attempts,
                                           op.next_attempt_at, op.delivered_at, op.last_error,
                                           op.clear_payload, op.controller, op.outbox_id));
  if (changed == 0) return Invalid("outbox: no message " + std::to_string(op.outbox_id));
  return Status::Ok();
}

Status BatchWriter::operator()(const RecipientEndpointRow& row) {
  if (row.recipient.empty() || row.url.empty()) {
    return Invalid("recipient_endpoints: recipient and url are required");
  }
  return Insert(kUpsertEndpoint, row.controller, row.recipient, row.url, row.sealed_secret,
                row.updated_at);
}

Status BatchWriter::operator()(const RecordVersionRow& row) {
  return Insert(kInsertRecordVersion, row.controller, row.subject_id, row.record_id,
                row.sealed_value, row.replaced_at, row.request_id);
}

Status BatchWriter::operator()(const CodeSendRow& row) {
  if (row.contact_hash.empty()) return Invalid("code_sends: contact_hash is required");
  return Insert(kInsertCodeSend, row.controller, row.contact_hash, row.sent_at);
}

Status BatchWriter::operator()(const ForgetCodeSends& op) {
  return Insert(kForgetCodeSends, op.controller, op.before);
}

Status BatchWriter::WriteRequest(const char* sql, const RequestRow& r) {
  std::string subjects;
  RETURN_IF_ERROR(JoinKeys(r.subject_ids, "requests.subject_ids", &subjects));
  return Insert(sql, r.controller, r.request_id, r.version, r.type, RequestStateName(r.state),
                r.intake, r.verification, r.waiting_for, subjects, r.received_at,
                r.clock_started_at, r.due_at, r.extended_at, r.closed_at, r.outcome, r.wrapped_key,
                r.sealed_details, r.sealed_result, r.code_hash, r.code_expires_at, r.code_attempts,
                r.access_hash);
}

}  // namespace sqlite

// --- Reads ----------------------------------------------------------------------------------

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

Result<std::vector<Timestamp>> SqliteStore::ListCodeSends(const std::string& controller,
                                                          const Bytes& contact_hash,
                                                          Timestamp since) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  ASSIGN_OR_RETURN(sqlite::Statement select, reader->Prepare(kListCodeSends));
  select.BindAll(controller, contact_hash, since);
  std::vector<Timestamp> times;
  while (true) {
    ASSIGN_OR_RETURN(bool more, select.Step());
    if (!more) break;
    times.push_back(Timestamp{select.Int(0)});
  }
  return times;
}

Result<std::vector<RecordVersionRow>> SqliteStore::ListRecordVersions(
    const std::string& controller, const std::string& subject_id) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<RecordVersionRow>(*reader, kListRecordVersions, controller, subject_id);
}

}  // namespace custos::store
