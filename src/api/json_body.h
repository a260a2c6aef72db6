// JsonBody: a request body read strictly against a list of fields.
//
// The body must be application/json holding one object (an empty body counts as {}). Every
// key must be one of the declared fields, with the declared type; required fields must be
// present. Anything else is a 4xx problem+json that names the field, never its value. Parsing
// is iterative (RapidJSON kParseIterativeFlag), so nesting depth cannot exhaust the stack.
// Thread-safety: one JsonBody per request.
#ifndef CUSTOS_API_JSON_BODY_H_
#define CUSTOS_API_JSON_BODY_H_

#include <rapidjson/document.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "api/http.h"
#include "common/time.h"

namespace custos::api {

enum class FieldType { kString, kBool, kInt, kStrings, kTime };

struct Field {
  const char* name;
  FieldType type;
  bool required = false;
};

class JsonBody {
 public:
  // Returns false and fills *problem when the body does not fit `fields`.
  bool Parse(const HttpRequest& request, std::initializer_list<Field> fields,
             HttpResponse* problem);

  bool Has(const char* name) const;
  // Getters for declared fields; absent fields give the fallback.
  std::string String(const char* name, std::string fallback = {}) const;
  bool Bool(const char* name, bool fallback = false) const;
  std::optional<int64_t> Int(const char* name) const;
  std::vector<std::string> Strings(const char* name) const;
  std::optional<Timestamp> Time(const char* name) const;

 private:
  rapidjson::Document document_;
};

// True when the Content-Type is application/json (parameters such as charset allowed).
bool IsJsonContentType(const std::string& content_type);

}  // namespace custos::api

#endif  // CUSTOS_API_JSON_BODY_H_
