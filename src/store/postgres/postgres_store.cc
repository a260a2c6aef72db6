// PostgresStore's core: opening (schema name, migrations), the connection pool, the write
// transaction that Apply and ApplyGroup run (retried on deadlock, one BatchWriter per batch),
// given ids kept ahead of the sequences, and the controllers' policy versions. Each table
// family's reads and writes are in its own file (pg_internal.h lists them).
#include "store/postgres/postgres_store.h"

#include <algorithm>
#include <utility>

#include "store/postgres/pg_internal.h"
#include "store/postgres/pg_schema.h"

namespace custos::store {

using pg::BatchWriter;
using pg::Connection;
using pg::Failure;
using pg::First;
using pg::Invalid;
using pg::kMaxAttempts;
using pg::ReadAll;

namespace {

// --- SQL ------------------------------------------------------------------------------------

// Makes ids assigned later come after a given one. nextval() is never rolled back, so this
// works across concurrent writers without a lock (gaps are fine; ids are unique).
constexpr char kBumpSequence[] =
    "SELECT CASE WHEN $2 > v THEN setval($1::regclass, $2) ELSE v END FROM nextval($1::regclass) v";
constexpr char kInsertController[] =
    "INSERT INTO controllers (controller, name, policy_version, policy_text, loaded_at)"
    " VALUES ($1, $2, $3, $4, $5)";
constexpr char kSelectController[] =
    "SELECT controller, name, policy_version, policy_text, loaded_at FROM controllers"
    " WHERE controller = $1 ORDER BY seq DESC LIMIT 1";

}  // namespace

namespace pg {

Status ReadRow(const Rows& s, int i, ControllerRow* row) {
  row->controller = s.Text(i, 0);
  row->name = s.Text(i, 1);
  row->policy_version = s.Text(i, 2);
  row->policy_text = s.Text(i, 3);
  row->loaded_at = s.Time(i, 4);
  return Status::Ok();
}

// --- Writing --------------------------------------------------------------------------------

Result<std::optional<int64_t>> GivenId(Connection& db, const char* sequence, int64_t given) {
  if (given < 0) return Invalid(std::string(sequence) + ": a negative id");
  if (given == 0) return std::optional<int64_t>();
  RETURN_IF_ERROR(db.Query(kBumpSequence, Params().AddAll(std::string(sequence), given)).status());
  return std::optional<int64_t>(given);
}

Status BatchWriter::Write(const WriteBatch& batch) {
  const std::vector<WriteOp>& ops = batch.ops;
  // An import's people: every row new, loaded table by table with COPY (pg_import.cc).
  if (batch.only_new_rows) return CopyRows(db_, ops, 0, ops.size()).status();
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

Status BatchWriter::operator()(const ControllerRow& row) {
  return Run(kInsertController, row.controller, row.name, row.policy_version, row.policy_text,
             row.loaded_at);
}

}  // namespace pg

// --- The connection pool --------------------------------------------------------------------

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
  for (;;) {
    std::unique_ptr<Connection> connection;
    {
      std::lock_guard lock(pool_mutex_);
      if (idle_.empty()) break;
      connection = std::move(idle_.back());
      idle_.pop_back();
    }
    // After the server restarted, every idle connection is dead: they are dropped here, not
    // handed to a request that would fail on them.
    if (connection->LooksAlive()) return Lease(this, std::move(connection));
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

// --- Reads ----------------------------------------------------------------------------------

Result<std::optional<ControllerRow>> PostgresStore::GetController(const std::string& controller) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return First(ReadAll<ControllerRow>(*db, kSelectController, controller));
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

void SetPostgresNoticeSink(void (*sink)(std::string_view severity, std::string_view message)) {
  pg::SetNoticeSink(sink);
}

Status DropPostgresSchemaForTesting(const std::string& url, const std::string& schema) {
  if (!pg::IsValidSchemaName(schema)) return Invalid("invalid schema name");
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> db, Connection::Open({url, "public"}));
  std::string sql = "DROP SCHEMA IF EXISTS " + schema + " CASCADE";
  return db->Exec(sql.c_str());
}

}  // namespace custos::store
