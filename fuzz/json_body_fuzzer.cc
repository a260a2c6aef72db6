// libFuzzer target: JSON request bodies (src/api/json_body.cc). The first byte picks the
// operation whose field list reads the rest as its body (the lists are those of the routes named
// beside them, every FieldType among them, and the rectifications items); any bytes must be read
// or refused with a 4xx problem+json that never repeats a value, never crash or hang, and every
// getter must be safe on what Parse accepted.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <string>

#include "api/json_body.h"

namespace {

using custos::api::Field;
using custos::api::FieldType;
using custos::api::HttpRequest;
using custos::api::HttpResponse;
using custos::api::JsonBody;

void Read(const HttpRequest& request, std::initializer_list<Field> fields) {
  JsonBody body;
  HttpResponse problem;
  if (!body.Parse(request, fields, &problem)) {
    if (problem.status < 400 || problem.status >= 500) std::abort();  // a client's mistake
    if (problem.content_type != "application/problem+json") std::abort();
    return;
  }
  for (const Field& field : fields) {
    (void)body.Has(field.name);
    switch (field.type) {
      case FieldType::kString: (void)body.String(field.name); break;
      case FieldType::kBool: (void)body.Bool(field.name); break;
      case FieldType::kInt: (void)body.Int(field.name); break;
      case FieldType::kStrings: (void)body.Strings(field.name); break;
      case FieldType::kTime: (void)body.Time(field.name); break;
      case FieldType::kObjects: {
        // As openRequest reads its rectifications.
        HttpResponse item_problem;
        if (body.CheckItems(
                field.name,
                {{"category", FieldType::kString, true}, {"value", FieldType::kString, true}},
                &item_problem)) {
          for (size_t i = 0; i < body.ItemCount(field.name); ++i) {
            (void)body.ItemString(field.name, i, "category");
            (void)body.ItemString(field.name, i, "value");
          }
        } else if (item_problem.status < 400 || item_problem.status >= 500) {
          std::abort();
        }
        break;
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  HttpRequest request;
  request.method = "POST";
  request.content_type = (data[0] & 0x80) ? "application/json; charset=utf-8" : "application/json";
  request.body.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 8) {
    case 0:  // openRequest
      Read(request, {{"type", FieldType::kString, true},
                     {"email", FieldType::kString},
                     {"phone", FieldType::kString},
                     {"categories", FieldType::kStrings},
                     {"purpose", FieldType::kString},
                     {"rectifications", FieldType::kObjects},
                     {"note", FieldType::kString}});
      break;
    case 1:  // createSubject
      Read(request, {{"id", FieldType::kString},
                     {"types", FieldType::kStrings, true},
                     {"email", FieldType::kString},
                     {"phone", FieldType::kString},
                     {"external", FieldType::kString},
                     {"verified", FieldType::kBool},
                     {"at", FieldType::kTime}});
      break;
    case 2:  // recordConsent
      Read(request, {{"target", FieldType::kString, true},
                     {"given", FieldType::kBool, true},
                     {"cookie", FieldType::kBool},
                     {"channel", FieldType::kString},
                     {"evidence", FieldType::kString},
                     {"notice_version", FieldType::kString},
                     {"at", FieldType::kTime}});
      break;
    case 3:  // decide
      Read(request, {{"subject_id", FieldType::kString, true},
                     {"purpose", FieldType::kString, true},
                     {"categories", FieldType::kStrings, true},
                     {"channel", FieldType::kString},
                     {"at", FieldType::kTime}});
      break;
    case 4:  // placeLegalHold
      Read(request, {{"subject_id", FieldType::kString},
                     {"category", FieldType::kString},
                     {"reason", FieldType::kString, true},
                     {"expires_at", FieldType::kTime},
                     {"at", FieldType::kTime}});
      break;
    case 5:  // verifyRequest, setEndpoint
      Read(request, {{"code", FieldType::kString, true}});
      Read(request, {{"url", FieldType::kString, true}, {"secret", FieldType::kString, true}});
      break;
    case 6:  // an integer field (kInt) and an empty list (resendRequestCode)
      Read(request, {{"threshold", FieldType::kInt}, {"as_of", FieldType::kTime}});
      Read(request, {});
      break;
    default:  // setPreference
      Read(request, {{"allowed", FieldType::kBool, true}, {"at", FieldType::kTime}});
      break;
  }
  return 0;
}
