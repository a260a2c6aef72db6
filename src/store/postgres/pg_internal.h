// Internal to store/postgres: what the files of PostgresStore share. The class is defined in one
// file per table family: postgres_store.cc (opening, the connection pool, the write transaction,
// controllers), pg_subjects.cc, pg_consent.cc, pg_audit.cc, pg_retention.cc, pg_requests.cc, and
// pg_import.cc (bulk loads through COPY). This header holds what more than one of them needs:
// the connection lease, the error helpers and limits, the row readers (one per row type, each
// defined beside its table's SELECTs) with ReadAll() and First(), given ids, and BatchWriter,
// which applies one batch's ops (one overload per WriteOp, each defined in its table family's
// file).
//
// Thread-safety: a BatchWriter lives inside one transaction on one leased connection; a Lease
// is one thread's.
#ifndef CUSTOS_STORE_POSTGRES_PG_INTERNAL_H_
#define CUSTOS_STORE_POSTGRES_PG_INTERNAL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "store/postgres/pg_connection.h"
#include "store/postgres/postgres_store.h"

namespace custos::store {

// A connection borrowed from the pool; returned when destroyed unless it broke.
class PostgresStore::Lease {
 public:
  Lease(PostgresStore* store, std::unique_ptr<pg::Connection> connection)
      : store_(store), connection_(std::move(connection)) {}
  Lease(Lease&& other) noexcept = default;
  Lease& operator=(Lease&&) = delete;
  ~Lease() {
    if (connection_ != nullptr) store_->Release(std::move(connection_));
  }
  pg::Connection& operator*() { return *connection_; }
  pg::Connection* operator->() { return connection_.get(); }

 private:
  PostgresStore* store_;
  std::unique_ptr<pg::Connection> connection_;
};

namespace pg {

// A transaction that hits a deadlock or a serialization failure is run again this many times.
inline constexpr int kMaxAttempts = 5;
// Scans read this many rows per query, so a big table is never held in memory at once.
inline constexpr int64_t kScanPage = 1000;

inline Status Invalid(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}
inline Status Corrupt(std::string_view where) {
  return Status(ErrorCode::kIo, "postgresql: unexpected value in " + std::string(where));
}

// Every value is a bound parameter, so no personal value ever appears in SQL text or errors.
// A statement's address names it on each connection: one read by several files is defined
// here, inline, so all of them use one prepared statement.

// A page of subjects after a cursor (ScanSubjects and sweep pages).
inline constexpr char kSubjectsAfter[] =
    "SELECT controller, subject_id, types, created_at, wrapped_key, state, erased_at FROM subjects"
    " WHERE controller = $1 AND subject_id > $2 ORDER BY subject_id LIMIT $3";

// --- Row readers (column order as in the SELECTs beside each) -------------------------------

Status ReadRow(const Rows& s, int i, ControllerRow* row);         // postgres_store.cc
Status ReadRow(const Rows& s, int i, SubjectRow* row);            // pg_subjects.cc
Status ReadRow(const Rows& s, int i, EventRow* row);              // pg_subjects.cc
Status ReadRow(const Rows& s, int i, IdentifierRow* row);         // pg_subjects.cc
Status ReadRow(const Rows& s, int i, RecordRow* row);             // pg_subjects.cc
Status ReadRow(const Rows& s, int i, ConsentEventRow* row);       // pg_consent.cc
Status ReadRow(const Rows& s, int i, PreferenceRow* row);         // pg_consent.cc
Status ReadRow(const Rows& s, int i, ObjectionRow* row);          // pg_consent.cc
Status ReadRow(const Rows& s, int i, RestrictionRow* row);        // pg_consent.cc
Status ReadRow(const Rows& s, int i, AuditRow* row);              // pg_audit.cc
Status ReadRow(const Rows& s, int i, KeyBindingRow* row);         // pg_audit.cc
Status ReadRow(const Rows& s, int i, LegalHoldRow* row);          // pg_retention.cc
Status ReadRow(const Rows& s, int i, ReviewTaskRow* row);         // pg_retention.cc
Status ReadRow(const Rows& s, int i, FactCount* row);             // pg_retention.cc
Status ReadRow(const Rows& s, int i, RetentionRunRow* row);       // pg_retention.cc
Status ReadRow(const Rows& s, int i, RequestRow* row);            // pg_requests.cc
Status ReadRow(const Rows& s, int i, RequestEventRow* row);       // pg_requests.cc
Status ReadRow(const Rows& s, int i, OutboxRow* row);             // pg_requests.cc
Status ReadRow(const Rows& s, int i, RecipientEndpointRow* row);  // pg_requests.cc
Status ReadRow(const Rows& s, int i, RecordVersionRow* row);      // pg_requests.cc
Status ReadRow(const Rows& s, int i, BreachRow* row);             // pg_breaches.cc
Status ReadRow(const Rows& s, int i, DisclosureRow* row);         // pg_breaches.cc

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

template <typename Row>
Result<std::optional<Row>> First(Result<std::vector<Row>> rows) {
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<Row>();
  return std::optional<Row>(std::move(rows->front()));
}

// --- Writing --------------------------------------------------------------------------------

// A given id (> 0) is kept; 0 asks the database for the next one (NULL → the sequence).
// Defined in postgres_store.cc.
Result<std::optional<int64_t>> GivenId(Connection& db, const char* sequence, int64_t given);

// Loads ops[begin, end) inside the open transaction with one COPY per table, parents first:
// new subjects, events, identifiers, records, consent events, preferences and audit entries
// with their seq; any other op is INVALID_ARGUMENT. Returns the rows loaded (pg_import.cc).
Result<int64_t> CopyRows(Connection& db, const std::vector<WriteOp>& ops, size_t begin, size_t end);

// Applies the ops of one batch inside the open transaction; one overload per WriteOp.
class BatchWriter {
 public:
  BatchWriter(Connection& db, AppliedIds* applied) : db_(db), applied_(applied) {}

  Status Write(const WriteBatch& batch);  // postgres_store.cc

  Status operator()(const ControllerRow& row);  // postgres_store.cc

  // pg_subjects.cc
  Status operator()(const SubjectRow& row);
  Status operator()(const EventRow& row);
  Status operator()(const IdentifierRow& row);
  Status operator()(const RecordRow& row);
  Status operator()(const SuppressionRow& row);
  Status operator()(const SetRecordState& op);
  Status operator()(const EraseSubject& op);
  Status operator()(const DeleteIdentifiers& op);
  Status operator()(const ExpectState& op);

  // pg_consent.cc
  Status operator()(const ConsentEventRow& row);
  Status operator()(const PreferenceRow& row);
  Status operator()(const ObjectionRow& row);
  Status operator()(const RestrictionRow& row);
  Status operator()(const LiftRestriction& op);
  Status operator()(const LiftObjection& op);

  // pg_audit.cc
  Status operator()(const AuditRow& row);

  // pg_retention.cc
  Status operator()(const LegalHoldRow& row);
  Status operator()(const ReleaseLegalHold& op);
  Status operator()(const ReviewTaskRow& row);
  Status operator()(const CompleteReviewTask& op);
  Status operator()(const AnonymisedFactRow& row);
  Status operator()(const RetentionRunRow& row);
  Status operator()(const RetentionCheckpoint& op);

  // pg_requests.cc
  Status operator()(const RequestRow& row);
  Status operator()(const UpdateRequest& op);
  Status operator()(const RequestEventRow& row);
  Status operator()(const OutboxRow& row);
  Status operator()(const UpdateOutbox& op);
  Status operator()(const RecipientEndpointRow& row);
  Status operator()(const RecordVersionRow& row);
  Status operator()(const CodeSendRow& row);
  Status operator()(const ForgetCodeSends& op);

  // pg_breaches.cc
  Status operator()(const BreachRow& row);
  Status operator()(const UpdateBreach& op);
  Status operator()(const DisclosureRow& row);

 private:
  static constexpr size_t kCopyAuditRunsOf = 16;

  Status CopyAudit(const std::vector<WriteOp>& ops, size_t begin, size_t end);  // pg_audit.cc

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

}  // namespace pg
}  // namespace custos::store

#endif  // CUSTOS_STORE_POSTGRES_PG_INTERNAL_H_
