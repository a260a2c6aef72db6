// Internal to store/sqlite: what the files of SqliteStore share. The class is defined in one
// file per table family: sqlite_store.cc (opening, the reader pool, the write transaction,
// controllers), sqlite_subjects.cc, sqlite_consent.cc, sqlite_audit.cc, sqlite_retention.cc and
// sqlite_requests.cc. This header holds what more than one of them needs: the reader lease, the
// error helpers and transaction statements, the row readers (one per row type, each defined
// beside its table's SELECTs) with ReadAll(), the id counters, and BatchWriter, which applies
// one batch's ops (one overload per WriteOp, each defined in its table family's file).
//
// Thread-safety: an IdAllocator and a BatchWriter live inside one write transaction on the
// writer connection, which SqliteStore serialises; a ReaderLease is one thread's.
#ifndef CUSTOS_STORE_SQLITE_SQLITE_INTERNAL_H_
#define CUSTOS_STORE_SQLITE_SQLITE_INTERNAL_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/status.h"
#include "store/sqlite/sqlite_connection.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::store {

// A read connection borrowed from the pool; returns it when destroyed.
class SqliteStore::ReaderLease {
 public:
  ReaderLease(SqliteStore* store, std::unique_ptr<sqlite::Connection> connection)
      : store_(store), connection_(std::move(connection)) {}
  ReaderLease(ReaderLease&& other) noexcept = default;
  ReaderLease& operator=(ReaderLease&&) = delete;
  ~ReaderLease() {
    if (connection_ != nullptr) store_->ReleaseReader(std::move(connection_));
  }
  sqlite::Connection& operator*() { return *connection_; }
  sqlite::Connection* operator->() { return connection_.get(); }

 private:
  SqliteStore* store_;
  std::unique_ptr<sqlite::Connection> connection_;
};

namespace sqlite {

inline Status Invalid(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}
inline Status Corrupt(std::string_view where) {
  return Status(ErrorCode::kIo, "sqlite: unexpected value in " + std::string(where));
}

// Every value is a bound parameter, so no personal value ever appears in SQL text or errors.
// The statement cache is keyed by the SQL's address: these are inline so every file passes the
// same one.
inline constexpr char kBegin[] = "BEGIN IMMEDIATE";
inline constexpr char kCommit[] = "COMMIT";
inline constexpr char kRollback[] = "ROLLBACK";

// Runs the cached statement `sql`, which returns no rows.
Status RunCached(Connection& db, const char* sql);

// --- Row readers (column order as in the SELECTs beside each) -------------------------------

Status ReadRow(const Statement& s, ControllerRow* row);         // sqlite_store.cc
Status ReadRow(const Statement& s, SubjectRow* row);            // sqlite_subjects.cc
Status ReadRow(const Statement& s, EventRow* row);              // sqlite_subjects.cc
Status ReadRow(const Statement& s, IdentifierRow* row);         // sqlite_subjects.cc
Status ReadRow(const Statement& s, RecordRow* row);             // sqlite_subjects.cc
Status ReadRow(const Statement& s, ConsentEventRow* row);       // sqlite_consent.cc
Status ReadRow(const Statement& s, PreferenceRow* row);         // sqlite_consent.cc
Status ReadRow(const Statement& s, ObjectionRow* row);          // sqlite_consent.cc
Status ReadRow(const Statement& s, RestrictionRow* row);        // sqlite_consent.cc
Status ReadRow(const Statement& s, AuditRow* row);              // sqlite_audit.cc
Status ReadRow(const Statement& s, KeyBindingRow* row);         // sqlite_audit.cc
Status ReadRow(const Statement& s, LegalHoldRow* row);          // sqlite_retention.cc
Status ReadRow(const Statement& s, ReviewTaskRow* row);         // sqlite_retention.cc
Status ReadRow(const Statement& s, FactCount* row);             // sqlite_retention.cc
Status ReadRow(const Statement& s, RetentionRunRow* row);       // sqlite_retention.cc
Status ReadRow(const Statement& s, RequestRow* row);            // sqlite_requests.cc
Status ReadRow(const Statement& s, RequestEventRow* row);       // sqlite_requests.cc
Status ReadRow(const Statement& s, OutboxRow* row);             // sqlite_requests.cc
Status ReadRow(const Statement& s, RecipientEndpointRow* row);  // sqlite_requests.cc
Status ReadRow(const Statement& s, RecordVersionRow* row);      // sqlite_requests.cc
Status ReadRow(const Statement& s, BreachRow* row);             // sqlite_breaches.cc
Status ReadRow(const Statement& s, DisclosureRow* row);         // sqlite_breaches.cc

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
  kDisclosures,    // schema version 6
  kCount
};
inline constexpr std::array<const char*, static_cast<size_t>(Sequence::kCount)> kSequenceNames = {
    "events",         "identifiers",  "records",     "consent_events", "preferences",
    "objections",     "restrictions", "legal_holds", "review_tasks",   "retention_runs",
    "request_events", "outbox",       "disclosures"};

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

  Status Flush();  // sqlite_store.cc

 private:
  struct Counter {
    bool loaded = false;
    bool dirty = false;
    int64_t next = 1;
  };
  static size_t Index(Sequence sequence) { return static_cast<size_t>(sequence); }

  Result<Counter*> Load(Sequence sequence);  // sqlite_store.cc

  Connection& db_;
  std::array<Counter, static_cast<size_t>(Sequence::kCount)> counters_;
};

// Applies the ops of one batch inside the open transaction; one overload per WriteOp.
class BatchWriter {
 public:
  BatchWriter(Connection& db, IdAllocator& ids, AppliedIds* applied)
      : db_(db), ids_(ids), applied_(applied) {}

  Status Write(const WriteBatch& batch);  // sqlite_store.cc

  Status operator()(const ControllerRow& row);  // sqlite_store.cc

  // sqlite_subjects.cc
  Status operator()(const SubjectRow& row);
  Status operator()(const EventRow& row);
  Status operator()(const IdentifierRow& row);
  Status operator()(const RecordRow& row);
  Status operator()(const SuppressionRow& row);
  Status operator()(const SetRecordState& op);
  Status operator()(const EraseSubject& op);
  Status operator()(const DeleteIdentifiers& op);
  Status operator()(const ExpectState& op);

  // sqlite_consent.cc
  Status operator()(const ConsentEventRow& row);
  Status operator()(const PreferenceRow& row);
  Status operator()(const ObjectionRow& row);
  Status operator()(const RestrictionRow& row);
  Status operator()(const LiftRestriction& op);
  Status operator()(const LiftObjection& op);

  // sqlite_audit.cc
  Status operator()(const AuditRow& row);

  // sqlite_retention.cc
  Status operator()(const LegalHoldRow& row);
  Status operator()(const ReleaseLegalHold& op);
  Status operator()(const ReviewTaskRow& row);
  Status operator()(const CompleteReviewTask& op);
  Status operator()(const AnonymisedFactRow& row);
  Status operator()(const RetentionRunRow& row);
  Status operator()(const RetentionCheckpoint& op);

  // sqlite_requests.cc
  Status operator()(const RequestRow& row);
  Status operator()(const UpdateRequest& op);
  Status operator()(const RequestEventRow& row);
  Status operator()(const OutboxRow& row);
  Status operator()(const UpdateOutbox& op);
  Status operator()(const RecipientEndpointRow& row);
  Status operator()(const RecordVersionRow& row);
  Status operator()(const CodeSendRow& row);
  Status operator()(const ForgetCodeSends& op);

  // sqlite_breaches.cc
  Status operator()(const BreachRow& row);
  Status operator()(const UpdateBreach& op);
  Status operator()(const DisclosureRow& row);

 private:
  Status WriteRequest(const char* sql, const RequestRow& r);  // sqlite_requests.cc

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

  // sqlite_audit.cc
  static const char* InsertAuditRunSql();
  static void BindAudit(Statement& insert, const AuditRow& row);
  // REQUIRES: AuditRunAt(ops, at).
  Status InsertAuditRun(const std::vector<WriteOp>& ops, size_t at);

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

}  // namespace sqlite
}  // namespace custos::store

#endif  // CUSTOS_STORE_SQLITE_SQLITE_INTERNAL_H_
