#include "api/log.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>

#include "common/time.h"

namespace custos::api {

void JsonLog::Write(const char* level, const char* event, const std::vector<FieldValue>& fields) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("ts");
  // Logs are about the process, so they carry the wall clock, not the engine's clock.
  std::string ts = SystemClock().Now().ToString();
  w.String(ts.c_str());
  w.Key("level");
  w.String(level);
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
