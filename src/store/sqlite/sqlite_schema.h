// Internal to store/sqlite: the schema, as an ordered list of migrations, and Migrate(), which
// brings a database up to the latest version in one transaction when the store opens.
//
// Migrations are append-only: version 1 is the schema custos shipped first; a later change adds
// version 2, 3, ... and never edits an applied one. schema_migrations records each version applied.
// Thread-safety: Migrate() uses the connection it is given; call it before sharing the store.
#ifndef CUSTOS_STORE_SQLITE_SQLITE_SCHEMA_H_
#define CUSTOS_STORE_SQLITE_SQLITE_SCHEMA_H_

#include <span>

#include "common/status.h"
#include "store/sqlite/sqlite_connection.h"

namespace custos::store::sqlite {

struct Migration {
  int version;
  const char* name;
  const char* sql;  // one or more statements
};

// Every migration, in version order (1, 2, 3, ...).
std::span<const Migration> Migrations();
// The version of the last migration.
int LatestSchemaVersion();

// Applies every migration newer than the database's version, in order, in one BEGIN IMMEDIATE
// transaction (so concurrent openers apply each migration once). Returns the version now in
// force; IO_ERROR when a migration fails (nothing is applied) or when the database was written
// by a newer custos (its version is above LatestSchemaVersion()).
Result<int> Migrate(Connection& connection);

// The highest version recorded in schema_migrations; 0 when none is.
Result<int> SchemaVersion(Connection& connection);

}  // namespace custos::store::sqlite

#endif  // CUSTOS_STORE_SQLITE_SQLITE_SCHEMA_H_
