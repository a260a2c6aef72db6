// JsonLog: structured logs, one JSON object per line. Lines carry event names, route
// patterns, statuses, durations, token ids, request ids and error codes: never a body, a query
// string, a path (it may hold a subject's id), a client address or any personal value.
//
// Every line has a "level": debug, info, warn or error. A log made with a minimum level
// (`custos serve --log-level`, default info) drops the lines below it.
// Thread-safety: Write() is safe from many threads (one line is written at a time).
#ifndef CUSTOS_API_LOG_H_
#define CUSTOS_API_LOG_H_

#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace custos::api {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// "debug", "info", "warn" or "error"; nullopt for anything else.
std::optional<LogLevel> LogLevelFromName(std::string_view name);
const char* LogLevelName(LogLevel level);

class JsonLog {
 public:
  explicit JsonLog(std::FILE* out, LogLevel minimum = LogLevel::kInfo)
      : out_(out), minimum_(minimum) {}
  // Writes {"ts":..., "level":..., "event":..., fields...} unless `level` is below the minimum.
  // Numbers are given as text and written unquoted when `numeric` is set for them.
  struct FieldValue {
    std::string key, value;
    bool numeric = false;
  };
  void Write(LogLevel level, const char* event, const std::vector<FieldValue>& fields);
  // The same with the level by name ("debug", "info", "warn", "error"; "warning" is "warn").
  void Write(const char* level, const char* event, const std::vector<FieldValue>& fields);
  bool Enabled(LogLevel level) const { return level >= minimum_; }

 private:
  std::FILE* out_;
  LogLevel minimum_;
  std::mutex mutex_;
};

}  // namespace custos::api

#endif  // CUSTOS_API_LOG_H_
