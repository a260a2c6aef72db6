// PostgresStore: the audit log, one hash chain per schema (append-only: the schema's triggers
// refuse UPDATE and DELETE; a taken seq fails the batch, so the chain stays linear across
// processes). Entries are appended inside the batch they describe, runs of them with one COPY;
// reads give the head of the chain and scan it in seq order, a page at a time.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/postgres/pg_internal.h"

namespace custos::store {

using pg::First;
using pg::kScanPage;
using pg::ReadAll;

namespace {

constexpr char kInsertAudit[] =
    "INSERT INTO audit_log (seq, controller, at, actor, action, purpose, subject_id, detail,"
    " prev_hash, hash) VALUES (COALESCE($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_log)),"
    " $2, $3, $4, $5, $6, $7, $8, $9, $10)";

#define CUSTOS_AUDIT_COLUMNS                                                                \
  "SELECT seq, controller, at, actor, action, purpose, subject_id, detail, prev_hash, hash" \
  " FROM audit_log"
constexpr char kLastAudit[] = CUSTOS_AUDIT_COLUMNS " ORDER BY seq DESC LIMIT 1";
constexpr char kScanAudit[] = CUSTOS_AUDIT_COLUMNS " WHERE seq >= $1 ORDER BY seq LIMIT $2";
#undef CUSTOS_AUDIT_COLUMNS

// The insert's own rows are not visible to the outer SELECT of the same statement, so exactly
// one side gives the binding: the new row, or the one recorded before.
constexpr char kBindKey[] =
    "WITH inserted AS (INSERT INTO key_binding (id, key_id, chain_keyed_from)"
    " SELECT 1, $1, COALESCE(MAX(seq), 0) + 1 FROM audit_log"
    " ON CONFLICT (id) DO NOTHING RETURNING key_id, chain_keyed_from)"
    " SELECT key_id, chain_keyed_from FROM inserted"
    " UNION ALL SELECT key_id, chain_keyed_from FROM key_binding WHERE id = 1";
constexpr char kGetKeyBinding[] = "SELECT key_id, chain_keyed_from FROM key_binding WHERE id = 1";

}  // namespace

namespace pg {

// --- Row readers ----------------------------------------------------------------------------

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

Status ReadRow(const Rows& s, int i, KeyBindingRow* row) {
  row->key_id = s.Text(i, 0);
  row->chain_keyed_from = s.Int(i, 1);
  return Status::Ok();
}

// --- Writing --------------------------------------------------------------------------------

Status BatchWriter::operator()(const AuditRow& row) {
  if (row.seq < 0) return Invalid("audit_log: a negative seq");
  std::optional<int64_t> seq;  // NULL: the next seq
  if (row.seq > 0) seq = row.seq;
  return Run(kInsertAudit, seq, row.controller, row.at, row.actor, row.action, row.purpose,
             row.subject_id, row.detail, row.prev_hash, row.hash);
}

Status BatchWriter::CopyAudit(const std::vector<WriteOp>& ops, size_t begin, size_t end) {
  return CopyRows(db_, ops, begin, end).status();
}

}  // namespace pg

// --- Reads ----------------------------------------------------------------------------------

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

// --- The master key the database belongs to -------------------------------------------------

Result<KeyBindingRow> PostgresStore::BindKey(const std::string& key_id) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  ASSIGN_OR_RETURN(std::optional<KeyBindingRow> row,
                   First(ReadAll<KeyBindingRow>(*db, kBindKey, key_id)));
  if (!row.has_value()) return Status(ErrorCode::kIo, "postgres: the key binding was not recorded");
  return std::move(*row);
}

Result<std::optional<KeyBindingRow>> PostgresStore::GetKeyBinding() {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return First(ReadAll<KeyBindingRow>(*db, kGetKeyBinding));
}

}  // namespace custos::store
