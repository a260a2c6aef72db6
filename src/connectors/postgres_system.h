// A SystemConnector for a PostgreSQL database (a policy system of kind postgresql), over
// libpq. Values are sent as untyped text parameters, so the server reads each as the type of
// the column it is compared with or written to. Errors carry the SQLSTATE, never the server's
// message (which may quote a value). See engine/system_connector.h.
// Thread-safety: one thread at a time.
#ifndef CUSTOS_CONNECTORS_POSTGRES_SYSTEM_H_
#define CUSTOS_CONNECTORS_POSTGRES_SYSTEM_H_

#include <memory>
#include <string>

#include "engine/system_connector.h"

namespace custos::connectors {

// Connects with libpq's `conninfo` (key=value pairs or a postgresql:// URI). UNAVAILABLE
// (naming `system`, never the conninfo) when it cannot.
Result<std::unique_ptr<engine::SystemConnector>> OpenPostgresSystem(const std::string& system,
                                                                    const std::string& conninfo);

}  // namespace custos::connectors

#endif  // CUSTOS_CONNECTORS_POSTGRES_SYSTEM_H_
