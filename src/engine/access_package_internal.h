// What the renderers of access_package.h share, across access_package.cc (the model),
// access_package_json.cc, access_package_html.cc and portability_export.cc: the facts derived
// once from the policy and the person's data (Facts), the names every format gives policy keys,
// and the JSON writer. Private to src/engine.
// Thread-safety: as access_package.h: pure functions; a Json is used by one thread.
#ifndef CUSTOS_ENGINE_ACCESS_PACKAGE_INTERNAL_H_
#define CUSTOS_ENGINE_ACCESS_PACKAGE_INTERNAL_H_

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "engine/access_package.h"
#include "engine/engine.h"
#include "policy/policy.h"
#include "policy/text_formats.h"
#include "store/rows.h"

namespace custos::engine::internal {

// "Held": records in state active or restricted (access_package.h).
bool Held(store::RecordState state);
std::string_view RecordStateKey(store::RecordState state);
void AddUnique(std::vector<std::string>& items, std::string_view item);
bool IsSpecial(const policy::Policy& policy, std::string_view key);

// The policy's name for a key, or the key when the policy gives none.
std::string PurposeName(const policy::Policy& policy, std::string_view key);
std::string SourceName(const policy::Policy& policy, std::string_view key);
std::string EventName(const policy::Policy& policy, std::string_view key);
std::string ConsentTargetName(const policy::Policy& policy, const store::ConsentEventRow& event);

// The contact for a person's requests: the one the rights section names, else the first for
// rights requests, else the general one.
const policy::Contact* RightsContact(const policy::Policy& policy);

// What the person holds and what the policy says about it, computed once for every format.
struct PurposeUse {
  const policy::Purpose* purpose = nullptr;
  std::vector<std::string> categories;  // held keys it uses
};

struct RecipientUse {
  const policy::Recipient* recipient = nullptr;
  std::vector<std::string> purposes;
  std::vector<std::string> outside;  // country codes outside transfers.regions
};

struct RetentionUse {
  std::string category;
  std::vector<const policy::RetentionRule*> rules;
};

struct SourceUse {
  std::string key;
  const policy::Source* source = nullptr;  // nullptr: a key the policy does not declare
  std::vector<std::string> categories;
};

struct Facts {
  std::vector<std::string> categories;  // held, in the order first met
  std::vector<PurposeUse> purposes;     // policy order
  std::vector<RecipientUse> recipients;
  std::vector<RetentionUse> retention;  // one per held category
  std::vector<SourceUse> sources;
  std::vector<const policy::Purpose*> automated;
  // The person's rows in the organisation's own systems (engine/systems_reach.h); never null
  // once derived.
  const std::vector<SystemRows>* systems = nullptr;
};

// A pretty-printed JSON document under construction; every string is made valid UTF-8.
using JsonWriter = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

class Json {
 public:
  Json() : writer_(buffer_) {}

  void Key(std::string_view key) { writer_.Key(key.data(), static_cast<unsigned>(key.size())); }
  void String(std::string_view value) {
    std::string valid = policy::ValidUtf8(value);
    writer_.String(valid.data(), static_cast<unsigned>(valid.size()));
  }
  void Field(std::string_view key, std::string_view value) {
    Key(key);
    String(value);
  }
  // Without it a string literal would pick the bool overload (a standard conversion).
  void Field(std::string_view key, const char* value) { Field(key, std::string_view(value)); }
  void Field(std::string_view key, bool value) {
    Key(key);
    writer_.Bool(value);
  }
  void Field(std::string_view key, int64_t value) {
    Key(key);
    writer_.Int64(value);
  }
  void Time(std::string_view key, Timestamp at) { Field(key, at.ToString()); }
  void Time(std::string_view key, const std::optional<Timestamp>& at) {
    Key(key);
    if (at) {
      String(at->ToString());
    } else {
      writer_.Null();
    }
  }
  void Strings(std::string_view key, const std::vector<std::string>& values) {
    Key(key);
    writer_.StartArray();
    for (const auto& value : values) String(value);
    writer_.EndArray();
  }
  void Null(std::string_view key) {
    Key(key);
    writer_.Null();
  }
  void BeginObject(std::string_view key) {
    Key(key);
    writer_.StartObject();
  }
  void BeginObject() { writer_.StartObject(); }
  void EndObject() { writer_.EndObject(); }
  void BeginArray(std::string_view key) {
    Key(key);
    writer_.StartArray();
  }
  void EndArray() { writer_.EndArray(); }

  std::string Take() { return std::string(buffer_.GetString(), buffer_.GetSize()) + "\n"; }

 private:
  rapidjson::StringBuffer buffer_;
  JsonWriter writer_;
};

void WriteHeader(Json& j, std::string_view format, std::string_view article,
                 const PackageMeta& meta);
void WriteController(Json& j, const policy::Policy& policy);
// The `systems` section of a package (access_package_json.cc): each system searched (or left
// out), each dataset's rows as fields labelled with their categories.
void WriteSystems(Json& j, const policy::Policy& policy, const std::vector<SystemRows>& systems);

// The access package's two formats (access_package_json.cc, access_package_html.cc).
std::string AccessJson(const policy::Policy& policy, const PackageMeta& meta,
                       const std::vector<SubjectView>& subjects, const Facts& facts);
std::string AccessHtml(const policy::Policy& policy, const PackageMeta& meta,
                       const std::vector<SubjectView>& subjects, const Facts& facts);

}  // namespace custos::engine::internal

#endif  // CUSTOS_ENGINE_ACCESS_PACKAGE_INTERNAL_H_
