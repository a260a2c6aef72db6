// Checks an HttpResponse against what the OpenAPI document (src/api/openapi.json, as built into
// the server) promises for its operation: the status is listed for the operation, the content
// type is one of that status's media types, and a JSON body matches the media type's schema.
//
// Schemas are checked by RapidJSON's JSON Schema validator (draft-04), with `$ref`s into
// `#/components` resolved; `type: [x, "null"]` is draft-04 already. `format` (date-time, date,
// uri), which RapidJSON does not check, is checked here; a problem+json body's `status` must be
// the response's status.
// Thread-safety: none; tests call it from one thread.
#ifndef CUSTOS_TESTS_API_OPENAPI_CONTRACT_H_
#define CUSTOS_TESTS_API_OPENAPI_CONTRACT_H_

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>

#include <map>
#include <memory>
#include <regex>
#include <string>
#include <string_view>

#include "api/http.h"
#include "api/server.h"

namespace custos::api {

class OpenApiContract {
 public:
  explicit OpenApiContract(std::string_view document) {
    text_ = std::string(document);
    doc_.Parse(text_.c_str(), text_.size());
  }

  // Success when `response` is one the document promises for `operation_id` (its operationId).
  ::testing::AssertionResult Check(const std::string& operation_id, const HttpResponse& response) {
    if (doc_.HasParseError() || !doc_.IsObject()) {
      return ::testing::AssertionFailure() << "the OpenAPI document does not parse";
    }
    std::string where;  // "method path" of the operation: names its schemas in the cache
    const rapidjson::Value* operation = FindOperation(operation_id, &where);
    if (operation == nullptr) {
      return ::testing::AssertionFailure() << "no operation " << operation_id << " in the document";
    }
    std::string status = std::to_string(response.status);
    const rapidjson::Value& responses = (*operation)["responses"];
    if (!responses.HasMember(status.c_str())) {
      return ::testing::AssertionFailure()
             << operation_id << " answered " << status
             << ", which the document does not list: " << response.body.substr(0, 300);
    }
    const rapidjson::Value* answer = &responses[status.c_str()];
    if (answer->HasMember("$ref")) answer = Resolve((*answer)["$ref"].GetString());
    if (answer == nullptr) return ::testing::AssertionFailure() << "a $ref does not resolve";
    std::string media = response.content_type.substr(0, response.content_type.find(';'));
    if (!answer->HasMember("content") || !(*answer)["content"].HasMember(media.c_str())) {
      return ::testing::AssertionFailure() << operation_id << " " << status << " answered " << media
                                           << ", which the document does not list";
    }
    const rapidjson::Value& schema = (*answer)["content"][media.c_str()]["schema"];
    if (media.size() < 4 || media.compare(media.size() - 4, 4, "json") != 0) {
      // Text (HTML, CSV, Prometheus, Markdown): the document says a string; it is not empty.
      if (!schema.HasMember("type") || !schema["type"].IsString() ||
          std::string_view(schema["type"].GetString()) != "string") {
        return ::testing::AssertionFailure() << operation_id << ": " << media << " is not a string";
      }
      if (response.body.empty()) return ::testing::AssertionFailure() << "an empty " << media;
      return ::testing::AssertionSuccess();
    }
    return CheckJson(operation_id + " " + status, where + " " + status + " " + media, schema, media,
                     response);
  }

  // Success when `response` is problem+json matching the document's Problem schema: for the
  // answers no operation gives (no route, a method the path does not take).
  ::testing::AssertionResult CheckProblem(const HttpResponse& response) {
    if (response.content_type != "application/problem+json") {
      return ::testing::AssertionFailure() << "not problem+json: " << response.content_type;
    }
    const rapidjson::Value* schema = Resolve("#/components/schemas/Problem");
    if (schema == nullptr) return ::testing::AssertionFailure() << "no Problem schema";
    return CheckJson("a problem " + std::to_string(response.status), "Problem", *schema,
                     response.content_type, response);
  }

 private:
  ::testing::AssertionResult CheckJson(const std::string& label, const std::string& key,
                                       const rapidjson::Value& schema, const std::string& media,
                                       const HttpResponse& response) {
    rapidjson::Document body;
    body.Parse(response.body.c_str(), response.body.size());
    if (body.HasParseError()) {
      return ::testing::AssertionFailure() << label << ": the body is not JSON: " << response.body;
    }
    rapidjson::SchemaValidator validator(Compiled(key, schema));
    if (!body.Accept(validator)) {
      rapidjson::StringBuffer in_schema, in_body;
      validator.GetInvalidSchemaPointer().StringifyUriFragment(in_schema);
      validator.GetInvalidDocumentPointer().StringifyUriFragment(in_body);
      return ::testing::AssertionFailure()
             << label << ": the body at " << in_body.GetString() << " breaks '"
             << validator.GetInvalidSchemaKeyword() << "' of the schema at "
             << in_schema.GetString() << ": " << response.body.substr(0, 2000);
    }
    std::string format_error;
    CheckFormats(schema, body, "#", &format_error);
    if (!format_error.empty())
      return ::testing::AssertionFailure() << label << ": " << format_error;
    if (media == "application/problem+json" &&
        !(body.HasMember("status") && body["status"].IsInt() &&
          body["status"].GetInt() == response.status)) {
      return ::testing::AssertionFailure() << label << ": the problem's status differs";
    }
    return ::testing::AssertionSuccess();
  }

  struct Schema {
    rapidjson::Document source;
    std::unique_ptr<rapidjson::SchemaDocument> compiled;
  };

  const rapidjson::Value* FindOperation(const std::string& operation_id, std::string* where) {
    const rapidjson::Value& doc = doc_;  // const iterators: unambiguous operator!= in C++20
    for (const auto& path : doc["paths"].GetObject()) {
      for (const auto& op : path.value.GetObject()) {
        if (op.value.IsObject() && op.value.HasMember("operationId") &&
            operation_id == op.value["operationId"].GetString()) {
          *where = std::string(op.name.GetString()) + " " + path.name.GetString();
          return &op.value;
        }
      }
    }
    return nullptr;
  }

  // "#/components/..." in this document.
  const rapidjson::Value* Resolve(std::string_view ref) {
    if (ref.empty() || ref.front() != '#') return nullptr;
    rapidjson::Pointer pointer(ref.data() + 1, ref.size() - 1);
    return pointer.IsValid() ? pointer.Get(doc_) : nullptr;
  }

  // `schema` as a schema document of its own: {"$ref": "#/schema", "schema": ..., "components":
  // ...}, so that its `$ref`s into #/components resolve as in the OpenAPI document.
  const rapidjson::SchemaDocument& Compiled(const std::string& key,
                                            const rapidjson::Value& schema) {
    auto& slot = schemas_[key];
    if (!slot) {
      slot = std::make_unique<Schema>();
      auto& a = slot->source.GetAllocator();
      slot->source.SetObject();
      slot->source.AddMember("$ref", "#/schema", a);
      slot->source.AddMember("schema", rapidjson::Value(schema, a), a);
      slot->source.AddMember("components", rapidjson::Value(doc_["components"], a), a);
      slot->compiled = std::make_unique<rapidjson::SchemaDocument>(slot->source);
    }
    return *slot->compiled;
  }

  // The `format`s RapidJSON leaves unchecked, along the schema's properties and items (the
  // validator has passed, so the shapes match).
  void CheckFormats(const rapidjson::Value& schema, const rapidjson::Value& value,
                    const std::string& at, std::string* error) {
    if (!error->empty() || !schema.IsObject()) return;
    if (schema.HasMember("$ref")) {
      if (const rapidjson::Value* target = Resolve(schema["$ref"].GetString())) {
        CheckFormats(*target, value, at, error);
      }
      return;
    }
    if (value.IsString() && schema.HasMember("format")) {
      static const std::regex kDateTime(
          R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2}))");
      static const std::regex kDate(R"(\d{4}-\d{2}-\d{2})");
      static const std::regex kUri(R"([A-Za-z][A-Za-z0-9+.-]*:\S+)");
      std::string format = schema["format"].GetString();
      std::string text = value.GetString();
      const std::regex* pattern = format == "date-time" ? &kDateTime
                                  : format == "date"    ? &kDate
                                  : format == "uri"     ? &kUri
                                                        : nullptr;
      if (pattern != nullptr && !std::regex_match(text, *pattern)) {
        *error = "'" + text + "' at " + at + " is not a " + format;
      }
      return;
    }
    if (value.IsObject()) {
      const rapidjson::Value* properties =
          schema.HasMember("properties") ? &schema["properties"] : nullptr;
      const rapidjson::Value* others =
          schema.HasMember("additionalProperties") && schema["additionalProperties"].IsObject()
              ? &schema["additionalProperties"]
              : nullptr;
      for (auto member = value.MemberBegin(); member != value.MemberEnd(); ++member) {
        const char* name = member->name.GetString();
        const rapidjson::Value* sub =
            properties != nullptr && properties->HasMember(name) ? &(*properties)[name] : others;
        if (sub != nullptr) CheckFormats(*sub, member->value, at + "/" + name, error);
      }
    } else if (value.IsArray() && schema.HasMember("items")) {
      for (rapidjson::SizeType i = 0; i < value.Size(); ++i) {
        CheckFormats(schema["items"], value[i], at + "/" + std::to_string(i), error);
      }
    }
  }

  std::string text_;
  rapidjson::Document doc_;
  std::map<std::string, std::unique_ptr<Schema>> schemas_;
};

// The contract of the document the server serves (OpenApiDocument()).
inline OpenApiContract& ServedContract() {
  static OpenApiContract* contract = new OpenApiContract(OpenApiDocument());
  return *contract;
}

// EXPECT_TRUE(Answers(response, 201, "createSubject")): the exact status, and a response the
// document promises for that operation and status.
inline ::testing::AssertionResult Answers(const HttpResponse& response, int status,
                                          const std::string& operation_id) {
  if (response.status != status) {
    return ::testing::AssertionFailure()
           << operation_id << " answered " << response.status << ", not " << status << ": "
           << response.body.substr(0, 500);
  }
  return ServedContract().Check(operation_id, response);
}

}  // namespace custos::api

#endif  // CUSTOS_TESTS_API_OPENAPI_CONTRACT_H_
