// The helpers the rights-request files share (request_internal.h): a request's sealed details
// to and from JSON, and opening them with the request's key; error, list and JSON helpers.
#include "engine/request_internal.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sodium.h>

#include <algorithm>

#include "crypto/sealing.h"
#include "policy/taxonomy.h"

namespace custos::engine::internal {

Status Invalid(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

std::string Join(const std::vector<std::string>& keys, std::string_view separator) {
  std::string out;
  for (const auto& key : keys) {
    if (!out.empty()) out += separator;
    out += key;
  }
  return out;
}

bool Covers(const std::vector<std::string>& scope, const std::string& category) {
  if (scope.empty()) return true;
  return std::any_of(scope.begin(), scope.end(),
                     [&](const std::string& s) { return policy::CategoryCovers(s, category); });
}

bool RefsCover(const std::vector<policy::Ref>& refs, const std::string& category) {
  return std::any_of(refs.begin(), refs.end(), [&](const policy::Ref& r) {
    return policy::CategoryCovers(r.key, category) || policy::CategoryCovers(category, r.key);
  });
}

void Str(Writer& w, std::string_view key, std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

std::vector<uint8_t> PayloadDigest(std::string_view payload) {
  std::vector<uint8_t> digest(crypto_generichash_BYTES);
  crypto_generichash(digest.data(), digest.size(),
                     reinterpret_cast<const unsigned char*>(payload.data()), payload.size(),
                     nullptr, 0);
  return digest;
}

std::string PersonMessagePayload(
    std::string_view reference, std::string_view controller, std::string_view kind,
    std::string_view value, std::string_view subject, std::string_view body,
    std::initializer_list<std::pair<std::string_view, std::string_view>> more) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Str(w, "request_id", reference);
  Str(w, "controller", controller);
  for (const auto& [key, text] : more) Str(w, key, text);
  w.Key("to");
  w.StartObject();
  Str(w, "kind", kind);
  Str(w, "value", value);
  w.EndObject();
  Str(w, "subject", subject);
  Str(w, "body", body);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string GetString(const rapidjson::Value& object, const char* key) {
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

std::string Details::ToJson() const {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("contact");
  w.StartObject();
  Str(w, "kind", contact.kind);
  Str(w, "value", contact.value);
  w.EndObject();
  w.Key("categories");
  w.StartArray();
  for (const auto& c : categories) w.String(c.c_str());
  w.EndArray();
  Str(w, "purpose", purpose);
  Str(w, "note", note);
  w.Key("rectifications");
  w.StartArray();
  for (const auto& r : rectifications) {
    w.StartObject();
    Str(w, "category", r.category);
    Str(w, "value", r.value);
    w.EndObject();
  }
  w.EndArray();
  w.Key("items");
  w.StartArray();
  for (const auto& item : items) {
    w.StartObject();
    Str(w, "subject_id", item.subject_id);
    Str(w, "category", item.category);
    Str(w, "action", item.action);
    Str(w, "reason", item.reason);
    Str(w, "detail", item.detail);
    w.EndObject();
  }
  w.EndArray();
  w.Key("system_waivers");
  w.StartArray();
  for (const auto& [system, reason] : system_waivers) {
    w.StartObject();
    Str(w, "system", system);
    Str(w, "reason", reason);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buffer.GetString();
}

const std::string* Details::WaiverFor(std::string_view system) const {
  for (const auto& [key, reason] : system_waivers) {
    if (key == system) return &reason;
  }
  return nullptr;
}

Result<Details> Details::FromJson(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Status(ErrorCode::kInternal, "request details do not parse");
  }
  Details d;
  if (auto it = doc.FindMember("contact"); it != doc.MemberEnd() && it->value.IsObject()) {
    d.contact = {GetString(it->value, "kind"), GetString(it->value, "value")};
  }
  if (auto it = doc.FindMember("categories"); it != doc.MemberEnd() && it->value.IsArray()) {
    for (const auto& c : it->value.GetArray()) {
      if (c.IsString()) d.categories.emplace_back(c.GetString());
    }
  }
  d.purpose = GetString(doc, "purpose");
  d.note = GetString(doc, "note");
  if (auto it = doc.FindMember("rectifications"); it != doc.MemberEnd() && it->value.IsArray()) {
    for (const auto& r : it->value.GetArray()) {
      if (r.IsObject())
        d.rectifications.push_back({GetString(r, "category"), GetString(r, "value")});
    }
  }
  if (auto it = doc.FindMember("items"); it != doc.MemberEnd() && it->value.IsArray()) {
    for (const auto& i : it->value.GetArray()) {
      if (!i.IsObject()) continue;
      d.items.push_back({GetString(i, "subject_id"), GetString(i, "category"),
                         GetString(i, "action"), GetString(i, "reason"), GetString(i, "detail")});
    }
  }
  if (auto it = doc.FindMember("system_waivers"); it != doc.MemberEnd() && it->value.IsArray()) {
    for (const auto& waiver : it->value.GetArray()) {
      if (waiver.IsObject()) {
        d.system_waivers.emplace_back(GetString(waiver, "system"), GetString(waiver, "reason"));
      }
    }
  }
  return d;
}

// The request's sealed details, opened with its key.
Result<Details> ReadDetails(const crypto::SecretKey& key, const store::RequestRow& row,
                            const std::string& key_context) {
  ASSIGN_OR_RETURN(std::string json,
                   crypto::Open(key, row.sealed_details, key_context + "/details"));
  return Details::FromJson(json);
}

}  // namespace custos::engine::internal
