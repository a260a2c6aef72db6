#include "cli/command_helpers.h"

#include <cstdlib>

namespace custos::cli {

int Fail(std::ostream& err, const Status& status) {
  err << "custos: error " << CodeName(status.code()) << ": " << status.message() << "\n";
  return ExitCodeFor(status);
}

int Usage(std::ostream& err, const std::string& usage) {
  err << "usage: custos --data DIR " << usage << "\n";
  return kExitUsage;
}

int Usage(std::ostream& err, const std::string& usage, const Status& why) {
  if (!why.ok()) err << "custos: " << why.message() << "\n";
  return Usage(err, usage);
}

Result<std::optional<Timestamp>> TimeOption(const Args& args, const std::string& name) {
  const std::string* text = args.Option(name);
  if (text == nullptr) return std::optional<Timestamp>();
  auto at = Timestamp::Parse(*text);
  if (!at) {
    return Status(ErrorCode::kInvalidArgument,
                  name + " '" + *text +
                      "' is not an ISO-8601 time (e.g. 2026-01-31 or 2026-01-31T10:00:00Z)");
  }
  return std::optional<Timestamp>(*at);
}

Result<int64_t> IdArgument(const std::string& text, const std::string& what) {
  char* end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value <= 0) {
    return Status(ErrorCode::kInvalidArgument, what + " '" + text + "' is not a number");
  }
  return static_cast<int64_t>(value);
}

}  // namespace custos::cli
