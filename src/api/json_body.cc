#include "api/json_body.h"

#include <rapidjson/error/error.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cstdint>
#include <cstring>

#include "api/problem.h"

namespace custos::api {

namespace {

// A client's key is echoed only when it looks like a field name (it could be anything).
std::string Printable(const char* key, size_t size) {
  if (size == 0 || size > 40) return "a field";
  for (size_t i = 0; i < size; ++i) {
    char c = key[i];
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '_')) {
      return "a field";
    }
  }
  return "'" + std::string(key, size) + "'";
}

// What is wrong with a body that is not JSON, in the server's own words: the parser's messages
// are not part of the API and may change with the library.
const char* ParseProblem(rapidjson::ParseErrorCode code) {
  switch (code) {
    case rapidjson::kParseErrorDocumentEmpty: return "the body holds no JSON value";
    case rapidjson::kParseErrorDocumentRootNotSingular:
      return "something follows the end of the JSON value";
    case rapidjson::kParseErrorValueInvalid: return "a value is not valid JSON";
    case rapidjson::kParseErrorObjectMissName: return "an object member has no quoted name";
    case rapidjson::kParseErrorObjectMissColon: return "a member name is not followed by ':'";
    case rapidjson::kParseErrorObjectMissCommaOrCurlyBracket:
      return "an object member is followed by neither ',' nor '}'";
    case rapidjson::kParseErrorArrayMissCommaOrSquareBracket:
      return "an array item is followed by neither ',' nor ']'";
    case rapidjson::kParseErrorStringUnicodeEscapeInvalidHex:
      return "a \\u escape has a character that is not a hex digit";
    case rapidjson::kParseErrorStringUnicodeSurrogateInvalid:
      return "a \\u escape holds half a surrogate pair";
    case rapidjson::kParseErrorStringEscapeInvalid: return "a string has an unknown escape";
    case rapidjson::kParseErrorStringMissQuotationMark: return "a string is not closed";
    case rapidjson::kParseErrorStringInvalidEncoding: return "a string is not valid UTF-8";
    case rapidjson::kParseErrorNumberTooBig: return "a number is too large";
    case rapidjson::kParseErrorNumberMissFraction: return "a number has no digits after '.'";
    case rapidjson::kParseErrorNumberMissExponent: return "a number has no digits in its exponent";
    default: return "the body is not valid JSON";
  }
}

const char* TypeName(FieldType type) {
  switch (type) {
    case FieldType::kString: return "a string";
    case FieldType::kBool: return "a boolean";
    case FieldType::kInt: return "an integer";
    case FieldType::kStrings: return "an array of strings";
    case FieldType::kTime: return "an ISO-8601 time string";
    case FieldType::kObjects: return "an array of objects";
  }
  return "?";
}

bool HasType(const rapidjson::Value& value, FieldType type) {
  switch (type) {
    case FieldType::kString:
    case FieldType::kTime: return value.IsString();
    case FieldType::kBool: return value.IsBool();
    case FieldType::kInt: return value.IsInt64();
    case FieldType::kStrings:
      if (!value.IsArray()) return false;
      for (const auto& item : value.GetArray()) {
        if (!item.IsString()) return false;
      }
      return true;
    case FieldType::kObjects:
      if (!value.IsArray()) return false;
      for (const auto& item : value.GetArray()) {
        if (!item.IsObject()) return false;
      }
      return true;
  }
  return false;
}

// Checks the members of `object` against `fields`; `where` prefixes field names in problems
// ("" for the body, "items[2]." for an item of an array of objects).
bool CheckMembers(const rapidjson::Value& object, std::initializer_list<Field> fields,
                  const std::string& where, HttpResponse* problem) {
  // Which declared fields were seen, by position (a request declares far fewer than 64).
  assert(fields.size() <= 64);
  uint64_t seen = 0;
  // Const iterators on both sides of RapidJSON's operator!= (C++20).
  for (const auto& member : object.GetObject()) {
    const Field* field = nullptr;
    size_t index = 0;
    for (const Field& f : fields) {
      if (member.name.GetStringLength() == std::strlen(f.name) &&
          std::memcmp(member.name.GetString(), f.name, member.name.GetStringLength()) == 0) {
        field = &f;
        break;
      }
      ++index;
    }
    if (field == nullptr) {
      std::string of =
          where.empty() ? "this request" : "'" + where.substr(0, where.size() - 1) + "'";
      *problem = Problem(HttpProblem::kUnknownField,
                         Printable(member.name.GetString(), member.name.GetStringLength()) +
                             " is not a field of " + of);
      return false;
    }
    auto name = [&] { return "'" + where + field->name + "'"; };
    const uint64_t bit = uint64_t{1} << index;
    if ((seen & bit) != 0) {
      *problem = Problem(HttpProblem::kMalformedJson, name() + " appears twice");
      return false;
    }
    seen |= bit;
    if (!HasType(member.value, field->type)) {
      *problem = Problem(HttpProblem::kWrongType, name() + " must be " + TypeName(field->type));
      return false;
    }
    if (field->type == FieldType::kTime &&
        !Timestamp::Parse({member.value.GetString(), member.value.GetStringLength()})) {
      *problem = Problem(HttpProblem::kInvalidValue, name() + " must be " + TypeName(field->type));
      return false;
    }
  }
  size_t index = 0;
  for (const Field& f : fields) {
    if (f.required && (seen & (uint64_t{1} << index)) == 0) {
      *problem = Problem(HttpProblem::kMissingField, "'" + where + f.name + "' is required");
      return false;
    }
    ++index;
  }
  return true;
}

}  // namespace

bool IsMediaType(const std::string& content_type, std::string_view type) {
  std::string_view base = std::string_view(content_type).substr(0, content_type.find(';'));
  while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
  if (base.size() != type.size()) return false;
  for (size_t i = 0; i < base.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(base[i])) != type[i]) return false;
  }
  return true;
}

bool IsJsonContentType(const std::string& content_type) {
  return IsMediaType(content_type, "application/json");
}

JsonBody::JsonBody()
    : value_pool_(value_buffer_, sizeof value_buffer_),
      stack_pool_(stack_buffer_, sizeof stack_buffer_),
      document_(&value_pool_, 512, &stack_pool_) {}

bool JsonBody::Parse(const HttpRequest& request, std::initializer_list<Field> fields,
                     HttpResponse* problem) {
  bool blank = request.body.find_first_not_of(" \t\r\n") == std::string::npos;
  if (blank) {
    // No body is not {}: an operation with a required field needs one.
    for (const Field& f : fields) {
      if (f.required) {
        *problem = Problem(HttpProblem::kMissingBody,
                           "the request body is missing: send a JSON "
                           "object with '" +
                               std::string(f.name) + "'");
        return false;
      }
    }
    document_.SetObject();
  } else {
    if (!IsJsonContentType(request.content_type)) {
      *problem = Problem(HttpProblem::kUnsupportedMedia, "send the body as application/json");
      return false;
    }
    document_.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(
        request.body.data(), request.body.size());
    if (document_.HasParseError()) {
      *problem = Problem(HttpProblem::kMalformedJson,
                         std::string(ParseProblem(document_.GetParseError())) + " (at byte " +
                             std::to_string(document_.GetErrorOffset()) + ")");
      return false;
    }
    if (!document_.IsObject()) {
      *problem = Problem(HttpProblem::kWrongType, "the body must be a JSON object");
      return false;
    }
  }
  return CheckMembers(document_, fields, "", problem);
}

bool JsonBody::Has(const char* name) const {
  return document_.IsObject() && document_.HasMember(name);
}

std::string JsonBody::String(const char* name, std::string fallback) const {
  if (!Has(name)) return fallback;
  const auto& value = document_[name];
  return std::string(value.GetString(), value.GetStringLength());
}

bool JsonBody::Bool(const char* name, bool fallback) const {
  return Has(name) ? document_[name].GetBool() : fallback;
}

std::optional<int64_t> JsonBody::Int(const char* name) const {
  if (!Has(name)) return std::nullopt;
  return document_[name].GetInt64();
}

std::vector<std::string> JsonBody::Strings(const char* name) const {
  std::vector<std::string> out;
  if (!Has(name)) return out;
  for (const auto& item : document_[name].GetArray()) {
    out.emplace_back(item.GetString(), item.GetStringLength());
  }
  return out;
}

std::optional<Timestamp> JsonBody::Time(const char* name) const {
  if (!Has(name)) return std::nullopt;
  return Timestamp::Parse(String(name));
}

bool JsonBody::CheckItems(const char* name, std::initializer_list<Field> items,
                          HttpResponse* problem) const {
  if (!Has(name)) return true;
  const rapidjson::Value& array = document_[name];
  for (rapidjson::SizeType i = 0; i < array.Size(); ++i) {
    std::string where = std::string(name) + "[" + std::to_string(i) + "].";
    if (!CheckMembers(array[i], items, where, problem)) return false;
  }
  return true;
}

size_t JsonBody::ItemCount(const char* name) const {
  return Has(name) ? document_[name].Size() : 0;
}

std::string JsonBody::ItemString(const char* name, size_t index, const char* field,
                                 std::string fallback) const {
  const rapidjson::Value& item = document_[name][static_cast<rapidjson::SizeType>(index)];
  auto it = item.FindMember(field);
  if (it == item.MemberEnd()) return fallback;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

}  // namespace custos::api
