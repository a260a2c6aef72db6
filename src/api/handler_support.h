// What the handlers share, across server.cc and request_routes.cc: Api::Context (one request
// as a handler sees it), the JSON response writer, and small helpers. Private to src/api.
// Thread-safety: one Context and one Json per request.
#ifndef CUSTOS_API_HANDLER_SUPPORT_H_
#define CUSTOS_API_HANDLER_SUPPORT_H_

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/json_body.h"
#include "api/problem.h"
#include "api/server.h"

namespace custos::api {

struct Api::Context {
  HttpRequest& request;
  const Principal* who = nullptr;  // null on routes without a token, and for the requester
  std::vector<std::pair<std::string, std::string>> params;
  std::string actor = "anonymous";

  const std::string& Param(const char* name) const {
    static const std::string kEmpty;
    for (const auto& [key, value] : params) {
      if (key == name) return value;
    }
    return kEmpty;
  }
  bool Body(JsonBody& body, std::initializer_list<Field> fields, HttpResponse* problem) {
    return body.Parse(request, fields, problem);
  }
};

namespace internal {

// A JSON response body under construction.
class Json {
 public:
  Json() : w_(buffer_) {}
  rapidjson::Writer<rapidjson::StringBuffer>& w() { return w_; }
  void Key(const char* key) { w_.Key(key); }
  void Str(const std::string& value) {
    w_.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  }
  void Field(const char* key, const std::string& value) {
    Key(key);
    Str(value);
  }
  void Field(const char* key, std::string_view value) { Field(key, std::string(value)); }
  void Field(const char* key, const char* value) { Field(key, std::string(value)); }
  void Field(const char* key, int64_t value) {
    Key(key);
    w_.Int64(value);
  }
  void Field(const char* key, bool value) {
    Key(key);
    w_.Bool(value);
  }
  void Field(const char* key, Timestamp value) { Field(key, value.ToString()); }
  void Field(const char* key, const std::optional<Timestamp>& value) {
    Key(key);
    if (value) {
      Str(value->ToString());
    } else {
      w_.Null();
    }
  }
  void Strings(const char* key, const std::vector<std::string>& values) {
    Key(key);
    w_.StartArray();
    for (const auto& v : values) Str(v);
    w_.EndArray();
  }
  HttpResponse Done(int status = 200) {
    HttpResponse response;
    response.status = status;
    response.body.assign(buffer_.GetString(), buffer_.GetSize());
    return response;
  }

 private:
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> w_;
};

inline HttpResponse Empty(int status) {
  HttpResponse response;
  response.status = status;
  response.body = "{}";
  return response;
}

// A non-negative decimal id of at most 18 digits, or nullopt.
inline std::optional<int64_t> ParseId(const std::string& text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

inline HttpResponse Forbidden(const std::string& detail) {
  return Problem(HttpProblem::kForbidden, detail);
}

}  // namespace internal
}  // namespace custos::api

#endif  // CUSTOS_API_HANDLER_SUPPORT_H_
