// A SystemConnector for a MySQL or MariaDB database (a policy system of kind mysql), over
// Debian's MariaDB client library (libmariadb). Every value goes as a prepared statement's
// parameter; names are quoted with backticks. Updates count the rows they matched (as the other
// connectors do), not only those whose value changed. Errors carry MySQL's error number, and
// the server's words only for a missing table or column (which name it); never a value.
// See engine/system_connector.h. Thread-safety: one thread at a time.
#ifndef CUSTOS_CONNECTORS_MYSQL_SYSTEM_H_
#define CUSTOS_CONNECTORS_MYSQL_SYSTEM_H_

#include <memory>
#include <string>

#include "engine/system_connector.h"

namespace custos::connectors {

// Connects with `connection`: space-separated key=value pairs among host, port, user,
// password, database and socket ("host=127.0.0.1 port=3306 user=crm password=... database=crm").
// INVALID_ARGUMENT for an unknown key or no database; UNAVAILABLE (naming `system`, never the
// connection) when it cannot connect.
Result<std::unique_ptr<engine::SystemConnector>> OpenMysqlSystem(const std::string& system,
                                                                 const std::string& connection);

}  // namespace custos::connectors

#endif  // CUSTOS_CONNECTORS_MYSQL_SYSTEM_H_
