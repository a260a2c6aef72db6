// A SystemConnector for an SQLite database file (a policy system of kind sqlite). The file must
// exist: custos never creates an organisation's database. See engine/system_connector.h.
// Thread-safety: one thread at a time.
#ifndef CUSTOS_CONNECTORS_SQLITE_SYSTEM_H_
#define CUSTOS_CONNECTORS_SQLITE_SYSTEM_H_

#include <memory>
#include <string>

#include "engine/system_connector.h"

namespace custos::connectors {

// Opens the database at `path` (a file name or an SQLite file: URI) for reading and writing.
// UNAVAILABLE (naming `system`, not the path) when it cannot.
Result<std::unique_ptr<engine::SystemConnector>> OpenSqliteSystem(const std::string& system,
                                                                  const std::string& path);

}  // namespace custos::connectors

#endif  // CUSTOS_CONNECTORS_SQLITE_SYSTEM_H_
