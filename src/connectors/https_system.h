// A SystemConnector for a service with a REST API (a policy system of kind https: a mailing tool,
// a hosted CRM), over libcurl. Each dataset's calls (policy::ServiceCalls) say how its rows are
// found, fetched, changed, deleted and listed; rows are JSON objects whose members are the
// dataset's columns. Only https is spoken, the certificate is always verified (against the
// system's own CA file when the connection names one), and redirects are not followed.
//
// What it guarantees beyond the service's word:
// - a row a find call answers is kept only when its {column} member equals one of the values
//   asked for (ASCII case aside), so a service that searches loosely never hands custos
//   somebody else's row to export or erase;
// - a row a list call answers is kept only when its date member is before the cutoff;
// - a change to a row the service no longer has (404 or 410) changes nothing, so a retry is
//   harmless. A service has no transactions: the changes of one Apply are sent one call per row,
//   and a failure midway leaves the earlier ones made (the engine retries the whole step).
// Errors name the system, the call (find, update, ...) and the HTTP status, never a URL (which
// holds values) or a body. UNAVAILABLE: unreachable, TLS refused, credentials refused (401,
// 403), busy (429) or failing (5xx); INVALID_VALUE: an answer that does not fit the dataset's
// calls (another status, not JSON, no rows where `rows` points), or a call it has none of.
// See engine/system_connector.h. Thread-safety: one thread at a time.
#ifndef CUSTOS_CONNECTORS_HTTPS_SYSTEM_H_
#define CUSTOS_CONNECTORS_HTTPS_SYSTEM_H_

#include <memory>
#include <string>

#include "engine/system_connector.h"

namespace custos::connectors {

// Opens `system` (of kind https) with `connection`: space-separated key=value pairs:
// url=https://HOST[:PORT][/BASE] (required), token=SECRET (sent as "Authorization: Bearer
// SECRET", or in the header token_header=NAME names), ca=FILE (PEM certificates to trust instead
// of the system's). INVALID_ARGUMENT for an unknown key, no url, a url that is not https or
// carries a user name. Nothing is sent until the first call.
Result<std::unique_ptr<engine::SystemConnector>> OpenHttpsSystem(const policy::System& system,
                                                                 const std::string& connection);

// Gives an open https connector the calls of a reloaded policy's `system`.
void ReconfigureHttpsSystem(engine::SystemConnector& connector, const policy::System& system);

}  // namespace custos::connectors

#endif  // CUSTOS_CONNECTORS_HTTPS_SYSTEM_H_
