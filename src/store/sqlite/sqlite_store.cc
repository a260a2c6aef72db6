// SqliteStore's core: opening the data directory and the database (WAL, migrations), the pool
// of read connections, the write transaction that Apply and ApplyGroup run (id counters, one
// BatchWriter per batch), and the controllers' policy versions. Each table family's reads and
// writes are in its own file (sqlite_internal.h lists them).
#include "store/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>
#include <utility>

#include "store/sqlite/sqlite_internal.h"
#include "store/sqlite/sqlite_schema.h"

namespace custos::store {

using sqlite::BatchWriter;
using sqlite::Connection;
using sqlite::ConnectionOptions;
using sqlite::IdAllocator;
using sqlite::Invalid;
using sqlite::kBegin;
using sqlite::kCommit;
using sqlite::kRollback;
using sqlite::ReadAll;

namespace {

// Idle read connections kept for reuse: as many as were ever in use at once (a server's handler
// threads may all read together; opening a connection parses the schema, which cost a consent
// write over HTTP a sixth of the server's time when only 8 were kept), up to this many. Each
// holds its own page cache (SQLite's default, at most about 2 MB, filled as pages are read).
constexpr size_t kMaxIdleReaders = 128;

// --- SQL ------------------------------------------------------------------------------------

constexpr char kSelectSequence[] = "SELECT next_id FROM sequences WHERE name = ?";
constexpr char kUpdateSequence[] = "UPDATE sequences SET next_id = ? WHERE name = ?";

constexpr char kInsertController[] =
    "INSERT INTO controllers (controller, name, policy_version, policy_text, loaded_at)"
    " VALUES (?, ?, ?, ?, ?)";
constexpr char kSelectController[] =
    "SELECT controller, name, policy_version, policy_text, loaded_at FROM controllers"
    " WHERE controller = ? ORDER BY seq DESC LIMIT 1";

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

namespace sqlite {

Status RunCached(Connection& db, const char* sql) {
  ASSIGN_OR_RETURN(Statement statement, db.Prepare(sql));
  return statement.Run();
}

Status ReadRow(const Statement& s, ControllerRow* row) {
  row->controller = s.Text(0);
  row->name = s.Text(1);
  row->policy_version = s.Text(2);
  row->policy_text = s.Text(3);
  row->loaded_at = s.Time(4);
  return Status::Ok();
}

// --- Writing --------------------------------------------------------------------------------

Status IdAllocator::Flush() {
  for (size_t i = 0; i < counters_.size(); ++i) {
    if (!counters_[i].dirty) continue;
    ASSIGN_OR_RETURN(Statement update, db_.Prepare(kUpdateSequence));
    RETURN_IF_ERROR(update.BindAll(counters_[i].next, kSequenceNames[i]).Run());
    counters_[i].dirty = false;
  }
  return Status::Ok();
}

Result<IdAllocator::Counter*> IdAllocator::Load(Sequence sequence) {
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

Status BatchWriter::Write(const WriteBatch& batch) {
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

Status BatchWriter::operator()(const ControllerRow& row) {
  return Insert(kInsertController, row.controller, row.name, row.policy_version, row.policy_text,
                row.loaded_at);
}

}  // namespace sqlite

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
    ++leased_readers_;
    most_leased_readers_ = std::max(most_leased_readers_, leased_readers_);
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
  auto connection = Connection::Open(path_, options);
  if (!connection.ok()) {
    std::lock_guard lock(readers_mutex_);
    --leased_readers_;
    return connection.status();
  }
  return ReaderLease(this, std::move(*connection));
}

void SqliteStore::ReleaseReader(std::unique_ptr<Connection> connection) {
  std::lock_guard lock(readers_mutex_);
  --leased_readers_;
  if (idle_readers_.size() < std::min(kMaxIdleReaders, most_leased_readers_)) {
    idle_readers_.push_back(std::move(connection));
  }
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

Result<std::optional<ControllerRow>> SqliteStore::GetController(const std::string& controller) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  ASSIGN_OR_RETURN(std::vector<ControllerRow> rows,
                   ReadAll<ControllerRow>(*reader, kSelectController, controller));
  if (rows.empty()) return std::optional<ControllerRow>();
  return std::optional<ControllerRow>(std::move(rows.front()));
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
