// JsonLog: structured logs, one JSON object per line. Lines carry event names, route
// patterns, statuses, durations, token ids and error codes: never a body, a query string, a
// path (it may hold a subject's id), a client address or any personal value.
// Thread-safety: Write() is safe from many threads (one line is written at a time).
#ifndef CUSTOS_API_LOG_H_
#define CUSTOS_API_LOG_H_

#include <cstdio>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace custos::api {

class JsonLog {
 public:
  explicit JsonLog(std::FILE* out) : out_(out) {}
  // Writes {"ts":..., "level":..., "event":..., fields...}. Numbers are given as text and
  // written unquoted when `numeric` is set for them.
  struct FieldValue {
    std::string key, value;
    bool numeric = false;
  };
  void Write(const char* level, const char* event, const std::vector<FieldValue>& fields);

 private:
  std::FILE* out_;
  std::mutex mutex_;
};

}  // namespace custos::api

#endif  // CUSTOS_API_LOG_H_
