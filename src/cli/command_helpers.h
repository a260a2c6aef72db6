// Small pieces every verb of the command line uses: one clear error line, the usage line, and
// the parsing of times and numeric ids. Shared by data_commands.cc, retention_commands.cc and
// request_commands.cc so each prints errors the same way.
// Thread-safety: stateless.
#ifndef CUSTOS_CLI_COMMAND_HELPERS_H_
#define CUSTOS_CLI_COMMAND_HELPERS_H_

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "cli/commands.h"
#include "common/status.h"
#include "common/time.h"

namespace custos::cli {

// Prints a failed Status as one line ("custos: error CODE: message") and returns its exit code.
int Fail(std::ostream& err, const Status& status);
// Prints "usage: custos --data DIR <usage>" and returns kExitUsage.
int Usage(std::ostream& err, const std::string& usage);
// The same, after one line saying what was wrong when `why` is an error (an unknown option with
// the nearest known one, a missing value).
int Usage(std::ostream& err, const std::string& usage, const Status& why);
// The ISO-8601 time of option `name` (--at, --as-of, --expires); nullopt when absent.
// Errors: INVALID_ARGUMENT naming the option and an example.
Result<std::optional<Timestamp>> TimeOption(const Args& args, const std::string& name);
// A positive decimal id. Errors: INVALID_ARGUMENT naming `what`.
Result<int64_t> IdArgument(const std::string& text, const std::string& what);

// JSON output of --json.
using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;
inline void Key(JsonWriter& w, std::string_view key) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
}
inline void Str(JsonWriter& w, std::string_view key, std::string_view value) {
  Key(w, key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}
inline void Int(JsonWriter& w, std::string_view key, int64_t value) {
  Key(w, key);
  w.Int64(value);
}

}  // namespace custos::cli

#endif  // CUSTOS_CLI_COMMAND_HELPERS_H_
