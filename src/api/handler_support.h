// What the handlers share, across server.cc and the *_routes.cc files: Api::Context (one request
// as a handler sees it), the JSON response writer, and small helpers. Private to src/api.
// Thread-safety: one Context and one Json per request.
#ifndef CUSTOS_API_HANDLER_SUPPORT_H_
#define CUSTOS_API_HANDLER_SUPPORT_H_

#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/json_body.h"
#include "api/problem.h"
#include "api/query_values.h"
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

// A JSON response body under construction, written straight into the response's string (no
// copy at the end); the writer's nesting stack lives inside the Json.
class Json {
 public:
  // RapidJSON output stream over a std::string: the writer reserves room before each value
  // (PutReserve) and then stores characters unchecked (PutUnsafe), as into its own buffer.
  struct Output {
    using Ch = char;
    std::string* text;
    size_t used = 0;  // text's size beyond this is room reserved, not yet written
    void Reserve(size_t count) {
      if (used + count > text->size()) text->resize(std::max(2 * text->size(), used + count));
    }
    void PutUnsafe(char c) { (*text)[used++] = c; }
    void Put(char c) {
      Reserve(1);
      PutUnsafe(c);
    }
    void Flush() {}
    friend void PutReserve(Output& out, size_t count) { out.Reserve(count); }  // found by ADL
    friend void PutUnsafe(Output& out, char c) { out.PutUnsafe(c); }
  };
  using Pool = rapidjson::MemoryPoolAllocator<>;
  using Writer = rapidjson::Writer<Output, rapidjson::UTF8<>, rapidjson::UTF8<>, Pool>;

  Json() : pool_(levels_, sizeof levels_), w_(out_, &pool_, kLevels) { body_.resize(256); }
  Json(const Json&) = delete;
  Json& operator=(const Json&) = delete;

  Writer& w() { return w_; }
  void Key(const char* key) { w_.Key(key); }
  void Str(std::string_view value) {
    w_.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  }
  void Field(const char* key, std::string_view value) {
    Key(key);
    Str(value);
  }
  void Field(const char* key, const std::string& value) { Field(key, std::string_view(value)); }
  void Field(const char* key, const char* value) { Field(key, std::string_view(value)); }
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
    body_.resize(out_.used);
    response.body = std::move(body_);
    return response;
  }

 private:
  static constexpr size_t kLevels = 8;  // the stack grows past this for deeper documents

  std::string body_;
  Output out_{&body_};
  alignas(8) char levels_[kLevels * 16 + 64];  // RapidJSON's Level and the pool's header
  Pool pool_;
  Writer w_;
};

// A body of one member, {"key": value}: the id a create answers with, a count, a time.
template <typename T>
HttpResponse OneMember(const char* key, const T& value, int status = 200) {
  Json j;
  j.w().StartObject();
  j.Field(key, value);
  j.w().EndObject();
  return j.Done(status);
}

inline HttpResponse Empty(int status) {
  HttpResponse response;
  response.status = status;
  response.body = "{}";
  return response;
}

inline HttpResponse Forbidden(const std::string& detail) {
  return Problem(HttpProblem::kForbidden, detail);
}

}  // namespace internal
}  // namespace custos::api

#endif  // CUSTOS_API_HANDLER_SUPPORT_H_
