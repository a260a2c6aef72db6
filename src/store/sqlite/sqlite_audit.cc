// SqliteStore: the audit log, one hash chain for the whole database (append-only: the schema's
// triggers refuse UPDATE and DELETE). Entries are appended inside the batch they describe, runs
// of them as one multi-row INSERT; reads give the head of the chain and scan it in seq order.
#include <optional>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_internal.h"

namespace custos::store {

using sqlite::ReadAll;
using sqlite::Statement;

namespace {

constexpr char kInsertAudit[] =
    "INSERT INTO audit_log (seq, controller, at, actor, action, purpose, subject_id, detail,"
    " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

#define CUSTOS_AUDIT_COLUMNS                                                                \
  "SELECT seq, controller, at, actor, action, purpose, subject_id, detail, prev_hash, hash" \
  " FROM audit_log"
constexpr char kLastAudit[] = CUSTOS_AUDIT_COLUMNS " ORDER BY seq DESC LIMIT 1";
constexpr char kScanAudit[] = CUSTOS_AUDIT_COLUMNS " WHERE seq >= ? ORDER BY seq";
#undef CUSTOS_AUDIT_COLUMNS

constexpr char kBindKey[] =
    "INSERT OR IGNORE INTO key_binding (id, key_id, chain_keyed_from)"
    " SELECT 1, ?, COALESCE(MAX(seq), 0) + 1 FROM audit_log";
constexpr char kGetKeyBinding[] = "SELECT key_id, chain_keyed_from FROM key_binding WHERE id = 1";

}  // namespace

namespace sqlite {

// --- Row readers ----------------------------------------------------------------------------

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

Status ReadRow(const Statement& s, KeyBindingRow* row) {
  row->key_id = s.Text(0);
  row->chain_keyed_from = s.Int(1);
  return Status::Ok();
}

// --- Writing --------------------------------------------------------------------------------

Status BatchWriter::operator()(const AuditRow& row) {
  if (row.seq < 0) return Invalid("audit_log: a negative seq");
  ASSIGN_OR_RETURN(Statement insert, db_.Prepare(kInsertAudit));
  BindAudit(insert, row);
  return insert.Run();
}

const char* BatchWriter::InsertAuditRunSql() {
  static const std::string sql = [] {
    std::string text = kInsertAudit;
    const std::string values = text.substr(text.find(" (?"));
    for (size_t i = 1; i < kAuditRun; ++i) text += "," + values;
    return text;
  }();
  return sql.c_str();
}

void BatchWriter::BindAudit(Statement& insert, const AuditRow& row) {
  std::optional<int64_t> seq;  // NULL: SQLite assigns the next rowid
  if (row.seq > 0) seq = row.seq;
  insert.BindAll(seq, row.controller, row.at, row.actor, row.action, row.purpose, row.subject_id,
                 row.detail, row.prev_hash, row.hash);
}

Status BatchWriter::InsertAuditRun(const std::vector<WriteOp>& ops, size_t at) {
  ASSIGN_OR_RETURN(Statement insert, db_.Prepare(InsertAuditRunSql()));
  for (size_t i = at; i < at + kAuditRun; ++i) BindAudit(insert, std::get<AuditRow>(ops[i]));
  return insert.Run();
}

}  // namespace sqlite

// --- Reads ----------------------------------------------------------------------------------

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

// --- The master key the database belongs to -------------------------------------------------

Result<KeyBindingRow> SqliteStore::BindKey(const std::string& key_id) {
  std::lock_guard lock(writer_mutex_);
  {
    ASSIGN_OR_RETURN(Statement insert, writer_->Prepare(kBindKey));
    insert.BindAll(key_id);
    RETURN_IF_ERROR(insert.Run());
  }
  ASSIGN_OR_RETURN(std::vector<KeyBindingRow> rows,
                   ReadAll<KeyBindingRow>(*writer_, kGetKeyBinding));
  if (rows.empty()) return Status(ErrorCode::kIo, "sqlite: the key binding was not recorded");
  return std::move(rows.front());
}

Result<std::optional<KeyBindingRow>> SqliteStore::GetKeyBinding() {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  ASSIGN_OR_RETURN(std::vector<KeyBindingRow> rows,
                   ReadAll<KeyBindingRow>(*reader, kGetKeyBinding));
  if (rows.empty()) return std::optional<KeyBindingRow>();
  return std::optional<KeyBindingRow>(std::move(rows.front()));
}

}  // namespace custos::store
