// What the rights-request files (request_*.cc) share: a request's sealed details and how they
// are written and read, the record of one fulfilment under way, and small helpers. Private to
// src/engine; the Engine methods these files define are declared in engine.h.
// Thread-safety: value types and pure functions.
#ifndef CUSTOS_ENGINE_REQUEST_INTERNAL_H_
#define CUSTOS_ENGINE_REQUEST_INTERNAL_H_

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "crypto/key.h"
#include "engine/audit_log.h"
#include "engine/subject_request.h"
#include "policy/policy.h"
#include "store/rows.h"

namespace custos::engine::internal {

// INVALID_ARGUMENT with `message` (no personal value in it).
Status Invalid(std::string message);

std::string Join(const std::vector<std::string>& keys, std::string_view separator = ",");

// Whether a request's categories (`scope`, empty: everything) cover `category`.
bool Covers(const std::vector<std::string>& scope, const std::string& category);

// Whether any of the policy's `refs` covers `category` or lies within it.
bool RefsCover(const std::vector<policy::Ref>& refs, const std::string& category);

// The recipient `recipient_key` when purpose `purpose_key` may send it `categories`: the purpose
// names it (or a processor it works for), uses each category, and the recipient receives each
// (what the notice told the person). Errors: INVALID_ARGUMENT naming what is not so.
Result<const policy::Recipient*> DisclosableTo(const policy::Policy& policy,
                                               const std::string& recipient_key,
                                               const std::string& purpose_key,
                                               const std::vector<std::string>& categories);

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, std::string_view key, std::string_view value);

// What the outbox keeps of a message as proof once it is sent: BLAKE2b of its payload.
std::vector<uint8_t> PayloadDigest(std::string_view payload);

// A message to one person, as the outbox carries it: {"request_id": reference, "controller",
// the `more` fields in order, "to": {"kind", "value"}, "subject", "body"}. PII: the address.
std::string PersonMessagePayload(
    std::string_view reference, std::string_view controller, std::string_view kind,
    std::string_view value, std::string_view subject, std::string_view body,
    std::initializer_list<std::pair<std::string_view, std::string_view>> more = {});

// The string member `key` of a JSON object, or "" when it is missing or not a string.
std::string GetString(const rapidjson::Value& object, const char* key);

// The sealed details of a request, as JSON.
struct Details {
  RequestIdentifier contact;
  std::vector<std::string> categories;
  std::string purpose, note;
  std::vector<Rectification> rectifications;
  std::vector<FulfilmentItem> items;
  // Systems the DPO left out of this request, and why (Engine::WaiveSystem).
  std::vector<std::pair<std::string, std::string>> system_waivers;

  // The waiver's reason for `system`, or nullptr.
  const std::string* WaiverFor(std::string_view system) const;
  std::string ToJson() const;
  static Result<Details> FromJson(const std::string& text);
};

// The request's sealed details, opened with its key.
Result<Details> ReadDetails(const crypto::SecretKey& key, const store::RequestRow& row,
                            const std::string& key_context);

// One fulfilment under way (Engine::FulfilRequest): the part for the request's type adds its
// writes, audit entries and items here, and FulfilRequest commits them in one transaction with
// the request's completion.
struct Fulfilment {
  Details details;  // as asked; the parts add what they did to details.items
  store::WriteBatch batch;
  std::vector<AuditEntry> audit;
  std::vector<std::string> touched;              // subjects to forget from the decision cache
  std::vector<std::string> affected_categories;  // what changed, for the Article 19 notices
  std::string result_json;                       // the answer kept sealed for download
  std::string summary;                           // the outcome, non-personal
};

}  // namespace custos::engine::internal

#endif  // CUSTOS_ENGINE_REQUEST_INTERNAL_H_
