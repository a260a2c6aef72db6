#include "api/log.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>

#include "common/time.h"

namespace custos::api {

std::optional<LogLevel> LogLevelFromName(std::string_view name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warn" || name == "warning") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  return std::nullopt;
}

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "error";
}

void JsonLog::Write(const char* level, const char* event, const std::vector<FieldValue>& fields) {
  // A level this file does not know is written as an error rather than lost.
  Write(LogLevelFromName(level).value_or(LogLevel::kError), event, fields);
}

void JsonLog::Write(LogLevel level, const char* event, const std::vector<FieldValue>& fields) {
  if (!Enabled(level)) return;
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("ts");
  // Logs are about the process, so they carry the wall clock, not the engine's clock.
  std::string ts = SystemClock().Now().ToString();
  w.String(ts.c_str());
  w.Key("level");
  w.String(LogLevelName(level));
  w.Key("event");
  w.String(event);
  for (const auto& field : fields) {
    w.Key(field.key.c_str());
    if (field.numeric) {
      w.RawValue(field.value.c_str(), field.value.size(), rapidjson::kNumberType);
    } else {
      w.String(field.value.c_str(), static_cast<rapidjson::SizeType>(field.value.size()));
    }
  }
  w.EndObject();
  std::lock_guard lock(mutex_);
  std::fwrite(buffer.GetString(), 1, buffer.GetSize(), out_);
  std::fputc('\n', out_);
  std::fflush(out_);
}

}  // namespace custos::api
