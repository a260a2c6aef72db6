// JsonBody: a request body read strictly against a list of fields.
//
// The body must be application/json holding one object. An empty (or blank) body is refused
// as missing (400 missing-body) when a field is required, and read as {} only when every field
// is optional (an operation whose body may be left out). Every
// key must be one of the declared fields, with the declared type; required fields must be
// present. Anything else is a 4xx problem+json that names the field, never its value. Parsing
// is iterative (RapidJSON kParseIterativeFlag), so nesting depth cannot exhaust the stack.
// A field may be an array of objects (kObjects); its items are read as strictly, one level
// deep, with CheckItems.
// Memory: a body's values and the parser's stacks live in two small buffers inside the
// JsonBody (on the handler's stack), so a typical request body is read without touching the
// heap; larger bodies spill into heap chunks. A JsonBody therefore cannot be copied or moved.
// Thread-safety: one JsonBody per request.
#ifndef CUSTOS_API_JSON_BODY_H_
#define CUSTOS_API_JSON_BODY_H_

#include <rapidjson/document.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http.h"
#include "common/time.h"

namespace custos::api {

// kObjects: an array of JSON objects, each checked with CheckItems.
enum class FieldType { kString, kBool, kInt, kStrings, kTime, kObjects };

struct Field {
  const char* name;
  FieldType type;
  bool required = false;
};

class JsonBody {
 public:
  JsonBody();
  JsonBody(const JsonBody&) = delete;
  JsonBody& operator=(const JsonBody&) = delete;

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

  // Checks every item of the kObjects field `name` against `items` as Parse checks the body
  // (declared fields, types, required; kObjects is not allowed inside an item). Returns false
  // and fills *problem, naming the field as 'name[i].field', when an item does not fit; an
  // absent field has no items.
  bool CheckItems(const char* name, std::initializer_list<Field> items,
                  HttpResponse* problem) const;
  size_t ItemCount(const char* name) const;
  // A string field of item `index`. REQUIRES: CheckItems passed, index < ItemCount(name).
  std::string ItemString(const char* name, size_t index, const char* field,
                         std::string fallback = {}) const;

 private:
  using Pool = rapidjson::MemoryPoolAllocator<>;
  using Document = rapidjson::GenericDocument<rapidjson::UTF8<>, Pool, Pool>;

  // Declared before the allocators and the document, which point into them.
  alignas(8) char value_buffer_[2048];
  alignas(8) char stack_buffer_[2048];
  Pool value_pool_;
  Pool stack_pool_;
  Document document_;
};

// True when the Content-Type's media type is `type` (lower case), in any case, parameters such
// as charset allowed.
bool IsMediaType(const std::string& content_type, std::string_view type);
// True when the Content-Type is application/json (parameters such as charset allowed).
bool IsJsonContentType(const std::string& content_type);

}  // namespace custos::api

#endif  // CUSTOS_API_JSON_BODY_H_
