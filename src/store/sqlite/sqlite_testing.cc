// Test-only access to the raw database file (see sqlite_store.h).
#include <sqlite3.h>

#include "store/sqlite/sqlite_store.h"

namespace custos::store {

Status TamperWithAuditDetailForTesting(const std::string& data_dir, int64_t seq) {
  sqlite3* db = nullptr;
  std::string path = data_dir + "/custos.db";
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return Status(ErrorCode::kIo, "cannot open " + path);
  }
  std::string sql =
      "DROP TRIGGER IF EXISTS audit_log_no_update;"
      "UPDATE audit_log SET detail = CASE WHEN substr(detail, 1, 1) = 'X' THEN 'Y' ELSE 'X' END"
      " || substr(detail, 2) WHERE seq = " +
      std::to_string(seq) + ";";
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  int changed = sqlite3_changes(db);
  sqlite3_free(error);
  sqlite3_close(db);
  if (rc != SQLITE_OK || changed != 1) return Status(ErrorCode::kIo, "tampering failed");
  return Status::Ok();
}

}  // namespace custos::store
