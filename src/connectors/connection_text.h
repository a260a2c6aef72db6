// The `key=value key=value` connection strings of the connectors that do not hand theirs to
// their client library whole (MySQL, HTTPS services). Values never reach an error: they may
// be secrets.
#ifndef CUSTOS_CONNECTORS_CONNECTION_TEXT_H_
#define CUSTOS_CONNECTORS_CONNECTION_TEXT_H_

#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace custos::connectors {

// The pairs of `text` (a key without '=' has the value ""). Errors: INVALID_ARGUMENT for a key
// not in `known`, naming the system, `kind` ("MySQL"), the key and the known keys.
Result<std::map<std::string, std::string>> ReadConnectionText(
    const std::string& system, const std::string& kind, const std::string& text,
    const std::vector<std::string>& known);

}  // namespace custos::connectors

#endif  // CUSTOS_CONNECTORS_CONNECTION_TEXT_H_
