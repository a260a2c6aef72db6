#include "connectors/connection_text.h"

#include <algorithm>
#include <sstream>

namespace custos::connectors {

Result<std::map<std::string, std::string>> ReadConnectionText(
    const std::string& system, const std::string& kind, const std::string& text,
    const std::vector<std::string>& known) {
  std::map<std::string, std::string> pairs;
  std::istringstream in(text);
  for (std::string pair; in >> pair;) {
    size_t eq = pair.find('=');
    std::string key = pair.substr(0, eq);
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string names;
      for (const auto& name : known) names += (names.empty() ? "" : ", ") + name;
      // The key is not a secret; its value may be.
      return Status(ErrorCode::kInvalidArgument, "system " + system + ": the " + kind +
                                                     " connection has an unknown key '" + key +
                                                     "' (" + names + ")");
    }
    pairs[key] = eq == std::string::npos ? "" : pair.substr(eq + 1);
  }
  return pairs;
}

}  // namespace custos::connectors
