// Schema migrations of the PostgreSQL backend, mirroring store/sqlite/sqlite_schema.h: the same
// tables, keys and rules (append-only consent ledger and audit log enforced by triggers), in
// ordered versions recorded in `schema_migrations` inside the backend's schema.
// Thread-safety: Migrate() may run from several processes at once; an advisory lock makes
// them take turns, and the later ones find nothing left to do.
#ifndef CUSTOS_STORE_POSTGRES_PG_SCHEMA_H_
#define CUSTOS_STORE_POSTGRES_PG_SCHEMA_H_

#include <string>

#include "common/status.h"
#include "store/postgres/pg_connection.h"

namespace custos::store::pg {

// Creates `schema` when missing and applies every pending migration in one transaction.
// Returns the schema version now in force; IO_ERROR when a migration fails or the schema was
// written by a newer build.
Result<int> Migrate(Connection& connection, const std::string& schema);
// The newest schema version this build knows.
int LatestSchemaVersion();
// The version recorded in `schema_migrations` (0 when absent).
Result<int> SchemaVersion(Connection& connection);

}  // namespace custos::store::pg

#endif  // CUSTOS_STORE_POSTGRES_PG_SCHEMA_H_
