// Engine: data subjects' rights requests (subject_request.h) — intake, identity, the month and
// its pauses, extension, refusal, fulfilment, Article 19 notices and the outbox.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sodium.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "crypto/blind_index.h"
#include "crypto/hash_chain.h"
#include "crypto/sealing.h"
#include "engine/access_package.h"
#include "engine/engine.h"
#include "engine/response_deadline.h"
#include "policy/taxonomy.h"

namespace custos::engine {

namespace {

using store::OutboxState;
using store::RequestState;

// A one-time code lives this long and may be tried this many times.
constexpr int64_t kCodeLifetimeMicros = int64_t{30} * 60 * 1000000;
constexpr int64_t kMaxCodeAttempts = 5;
// The answer prepared for the person (an access package, an export) stays downloadable this
// long after the request closes; then the request's personal parts are shredded.
constexpr int64_t kResultKeptMicros = int64_t{30} * 24 * 3600 * 1000000;
// A fulfilment claimed this long ago and neither completed nor released was abandoned (its
// process died): another may claim the request again. Far longer than any fulfilment takes.
constexpr int64_t kFulfilmentClaimLeaseMicros = int64_t{10} * 60 * 1000000;

Status Invalid(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

bool IsRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> buffer(bytes);
  randombytes_buf(buffer.data(), buffer.size());
  return crypto::ToHex(buffer);
}

std::string NewCode() {
  // Eight decimal digits, uniformly drawn.
  std::string code = std::to_string(randombytes_uniform(100000000));
  return std::string(8 - code.size(), '0') + code;
}

std::string Join(const std::vector<std::string>& keys, std::string_view separator = ",") {
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

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, std::string_view key, std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

std::string GetString(const rapidjson::Value& object, const char* key) {
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

// The sealed details of a request, as JSON.
struct Details {
  RequestIdentifier contact;
  std::vector<std::string> categories;
  std::string purpose, note;
  std::vector<Rectification> rectifications;
  std::vector<FulfilmentItem> items;

  std::string ToJson() const {
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
    w.EndObject();
    return buffer.GetString();
  }

  static Result<Details> FromJson(const std::string& text) {
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
    return d;
  }
};

// The request's sealed details, opened with its key.
Result<Details> ReadDetails(const crypto::SecretKey& key, const store::RequestRow& row,
                            const std::string& key_context) {
  ASSIGN_OR_RETURN(std::string json,
                   crypto::Open(key, row.sealed_details, key_context + "/details"));
  return Details::FromJson(json);
}

// Article 19 names "each recipient to whom the personal data have been disclosed"; these kinds
// are organisations that can be told. Other users of a service, the public, regulators and
// internal teams are not sent notices.
bool NotifiableRecipient(policy::RecipientKind kind) {
  switch (kind) {
    case policy::RecipientKind::kProcessor:
    case policy::RecipientKind::kSubProcessor:
    case policy::RecipientKind::kThirdParty:
    case policy::RecipientKind::kJointController:
    case policy::RecipientKind::kProfessionalAdviser: return true;
    default: return false;
  }
}

}  // namespace

// --- Helpers -------------------------------------------------------------------------------

std::string Engine::RequestKeyContext(const std::string& request_id) const {
  return controller_ + "/request/" + request_id;
}

Result<store::RequestRow> Engine::LoadRequest(const std::string& request_id) {
  ASSIGN_OR_RETURN(std::optional<store::RequestRow> row,
                   store_.GetRequest(controller_, request_id));
  if (!row.has_value()) return Status(ErrorCode::kUnknownRequest, "no request " + request_id);
  return std::move(*row);
}

Result<crypto::SecretKey> Engine::RequestKey(const store::RequestRow& row) {
  if (row.wrapped_key.empty()) {
    return Status(ErrorCode::kRequestState,
                  "request " + row.request_id + ": its personal parts were shredded");
  }
  return crypto::UnwrapDataKey(master_key_, row.wrapped_key, RequestKeyContext(row.request_id));
}

Result<Timestamp> Engine::ResponseDue(Timestamp clock_start, bool extended) const {
  std::optional<UkNation> nation = UkNationFromKey(policy_.rights.bank_holidays);
  if (!nation.has_value()) nation = UkNation::kEnglandAndWales;
  if (!policy_.rights.response_period.value.has_value()) {
    return Status(ErrorCode::kPolicyInvalid, "the policy's response period is malformed");
  }
  IsoPeriod period = *policy_.rights.response_period.value;
  if (extended) {
    if (!policy_.rights.extension_max || !policy_.rights.extension_max->value) {
      return Status(ErrorCode::kExtensionNotAllowed, "the policy states no extension");
    }
    const IsoPeriod& more = *policy_.rights.extension_max->value;
    period.years += more.years;
    period.months += more.months;
    period.days += more.days;
  }
  return Timestamp::FromDate(ResponseDueDate(clock_start.Date(), period, *nation));
}

store::Bytes Engine::RequestSecretHash(const std::string& request_id, const std::string& kind,
                                       const std::string& secret) const {
  return crypto::BlindIndex(master_key_.BlindIndexKey(), "request-" + kind + ":" + request_id,
                            secret);
}

// Adds the history step and the row update to `batch`; the row's version moves on.
void Engine::AddRequestStep(store::WriteBatch& batch, store::RequestRow& row, int64_t old_version,
                            const std::string& event, RequestState state, const std::string& detail,
                            const std::string& actor, Timestamp at) {
  row.state = state;
  row.version = old_version + 1;
  batch.Add(store::UpdateRequest{row, old_version});
  batch.Add(
      store::RequestEventRow{controller_, row.request_id, 0, at, actor, event, state, detail});
}

// A message to the requester through the outbox: pending when a notifier endpoint for
// "requester" is registered, else left in the local outbox (manual) for the operator.
Status Engine::AddRequesterMessage(store::WriteBatch& batch, const store::RequestRow& row,
                                   const crypto::SecretKey& key, const RequestIdentifier& contact,
                                   const std::string& subject_line, const std::string& body,
                                   const std::string& code, Timestamp at) {
  if (contact.value.empty()) return Status::Ok();  // staff tell the person themselves
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Str(w, "request_id", row.request_id);
  Str(w, "controller", policy_.controller.name);
  w.Key("to");
  w.StartObject();
  Str(w, "kind", contact.kind);
  Str(w, "value", contact.value);
  w.EndObject();
  Str(w, "subject", subject_line);
  Str(w, "body", body);
  if (!code.empty()) Str(w, "code", code);
  w.EndObject();
  return AddOutboxMessage(batch, row, key, "requester_message", "requester", buffer.GetString(),
                          at);
}

// One durable message: pending when its target has an endpoint, else waiting by hand; the
// payload sealed with the request's key, its digest kept as proof once it is delivered.
Status Engine::AddOutboxMessage(store::WriteBatch& batch, const store::RequestRow& row,
                                const crypto::SecretKey& key, const std::string& kind,
                                const std::string& target, const std::string& payload,
                                Timestamp at) {
  ASSIGN_OR_RETURN(std::optional<store::RecipientEndpointRow> endpoint,
                   store_.GetRecipientEndpoint(controller_, target));
  store::OutboxRow message;
  message.controller = controller_;
  message.request_id = row.request_id;
  message.kind = kind;
  message.target = target;
  message.state = endpoint.has_value() ? OutboxState::kPending : OutboxState::kManual;
  message.created_at = at;
  message.next_attempt_at = at;
  message.payload_digest.resize(crypto_generichash_BYTES);
  crypto_generichash(message.payload_digest.data(), message.payload_digest.size(),
                     reinterpret_cast<const unsigned char*>(payload.data()), payload.size(),
                     nullptr, 0);
  message.sealed_payload =
      crypto::Seal(key, payload, RequestKeyContext(row.request_id) + "/outbox");
  batch.Add(std::move(message));
  return Status::Ok();
}

// The sentence every refusal and every answer ends with: the right to complain (Article 77).
std::string Engine::ComplaintRoute() const {
  const policy::Regulator& r = policy_.regulator;
  std::string name = r.name.empty() ? std::string("Information Commissioner's Office") : r.name;
  if (name.rfind("the ", 0) != 0 && name.rfind("The ", 0) != 0) name = "the " + name;
  std::string text = "You have the right to complain to " + name;
  if (!r.website.empty()) text += " (" + r.website + ")";
  if (!r.phone.empty()) text += ", telephone " + r.phone;
  return text + ".";
}

// --- Intake --------------------------------------------------------------------------------

Result<OpenedRequest> Engine::OpenRequest(const NewRequest& request) {
  if (!IsRequestType(request.type)) {
    return Invalid("request type '" + request.type +
                   "' is not one of access, portability, "
                   "rectification, erasure, restriction, objection, withdraw_consent, "
                   "automated_decision_review");
  }
  const auto& available = policy_.rights.available;
  if (std::find(available.begin(), available.end(), request.type) == available.end()) {
    return Status(ErrorCode::kRightNotAvailable,
                  "the policy does not offer the right '" + request.type + "'");
  }
  std::string id = request.request_id.empty() ? "r_" + RandomHex(12) : request.request_id;
  if (!IsRequestId(id)) return Invalid("request id must be 1-64 letters, digits, '_', '-' or '.'");
  for (const auto& category : request.categories) {
    if (!policy_.FindCategory(category) && policy::FindFideslangCategory(category) == nullptr) {
      return Invalid("category '" + category + "' is not in the policy");
    }
  }
  if (!request.purpose.empty() && request.purpose != "direct_marketing" &&
      !policy_.FindPurpose(request.purpose)) {
    return Invalid("purpose '" + request.purpose + "' is not in the policy");
  }
  if (request.type == "rectification" && request.rectifications.empty()) {
    return Invalid("a rectification request needs at least one corrected value");
  }
  for (const auto& r : request.rectifications) {
    if (!policy_.FindCategory(r.category) && policy::FindFideslangCategory(r.category) == nullptr) {
      return Invalid("category '" + r.category + "' is not in the policy");
    }
  }
  const bool staff = request.intake == "staff";
  if (!staff && request.intake != "self_service") {
    return Invalid("intake must be self_service or staff");
  }
  if (!staff) {
    if (request.contact.kind != "email" && request.contact.kind != "phone") {
      return Invalid("a request by the person needs an email or phone to send the code to");
    }
    if (crypto::NormalizeIdentifier(request.contact.kind, request.contact.value).empty()) {
      return Invalid("the contact " + request.contact.kind + " is empty");
    }
  } else {
    if (request.subject_id.empty()) return Invalid("a request made by staff names the subject");
    ASSIGN_OR_RETURN(store::SubjectRow subject, ActiveSubject(request.subject_id));
    (void)subject;
  }
  ASSIGN_OR_RETURN(std::optional<store::RequestRow> existing, store_.GetRequest(controller_, id));
  if (existing.has_value()) return Status(ErrorCode::kAlreadyExists, "request " + id + " exists");

  Timestamp at = At(request.at);
  crypto::SecretKey key = crypto::SecretKey::Random();
  store::RequestRow row;
  row.controller = controller_;
  row.request_id = id;
  row.type = request.type;
  row.intake = request.intake;
  row.received_at = at;
  row.wrapped_key = crypto::WrapDataKey(master_key_, key, RequestKeyContext(id));
  Details details;
  details.contact = request.contact;
  details.categories = request.categories;
  details.purpose = request.purpose;
  details.note = request.note;
  details.rectifications = request.rectifications;
  row.sealed_details = crypto::Seal(key, details.ToJson(), RequestKeyContext(id) + "/details");

  // The row first (the history refers to it), then its history, then its messages.
  struct Step {
    std::string event;
    RequestState state;
    std::string detail;
  };
  std::vector<Step> steps = {
      {"received", RequestState::kReceived, request.type + " by " + request.intake}};
  std::string code;
  // A processor does not answer requests about its controllers' data: it passes them on
  // (ProgressTeaching's Parent App statement).
  const bool forward = policy_.controller.role == policy::Role::kProcessor &&
                       policy_.processor.requests == "forward_to_controller";
  if (forward) {
    row.state = RequestState::kForwarded;
    row.closed_at = at;
    row.outcome = "forwarded_to_controller";
    steps.push_back({"forwarded", RequestState::kForwarded,
                     "passed to the controller (" + policy_.processor.controllers + ")"});
  } else if (staff && !request.verification.empty()) {
    row.state = RequestState::kInProgress;
    row.verification = "staff:" + request.verification;
    row.subject_ids = {request.subject_id};
    row.clock_started_at = at;
    ASSIGN_OR_RETURN(row.due_at, ResponseDue(at, false));
    steps.push_back({"identity_verified", RequestState::kInProgress,
                     row.verification + "; due " + row.due_at->Date().ToString()});
  } else if (staff) {
    row.state = RequestState::kVerifyingIdentity;
    row.waiting_for = "identity";
    row.subject_ids = {request.subject_id};
    steps.push_back({"identity_requested", RequestState::kVerifyingIdentity,
                     "staff to check identity; the month runs from when it is proven"});
  } else {
    row.state = RequestState::kVerifyingIdentity;
    row.waiting_for = "identity";
    code = NewCode();
    row.code_hash = RequestSecretHash(id, "code", code);
    row.code_expires_at = Timestamp{at.micros + kCodeLifetimeMicros};
    steps.push_back({"code_sent", RequestState::kVerifyingIdentity,
                     "one-time code sent to the " + request.contact.kind + " given"});
  }
  store::WriteBatch batch;
  batch.Add(row);
  for (auto& step : steps) {
    batch.Add(store::RequestEventRow{controller_, id, 0, at, request.actor, std::move(step.event),
                                     step.state, std::move(step.detail)});
  }
  if (forward) {
    RETURN_IF_ERROR(AddRecipientNotice(batch, row, key, "controller", "forward", {}, at));
    RETURN_IF_ERROR(AddRequesterMessage(
        batch, row, key, request.contact, "Your request was passed to the organisation responsible",
        policy_.controller.name + " processes this data on behalf of " +
            policy_.processor.controllers +
            ", which decides how it is used and answers requests about it. We have passed your "
            "request for " +
            std::string(RequestTypeInWords(request.type)) + " to them; they will contact you.",
        "", at));
  } else if (!code.empty()) {
    RETURN_IF_ERROR(AddRequesterMessage(
        batch, row, key, request.contact, "Your code to confirm your request",
        "Someone, probably you, asked " + policy_.controller.name + " to act on a request for " +
            std::string(RequestTypeInWords(request.type)) +
            ". To confirm it is you, enter this code: " + code +
            ". It is valid for 30 minutes. If this was not you, ignore this message.",
        code, at));
  }
  std::vector<AuditEntry> audit;
  audit.push_back(
      Entry(request.actor, "request_open", staff ? request.subject_id : "", at,
            id + " " + request.type + " " + std::string(store::RequestStateName(row.state))));
  RETURN_IF_ERROR(audit_.Commit(std::move(batch), std::move(audit)).status());
  return OpenedRequest{id, row.state, row.due_at};
}

Result<std::string> Engine::VerifyRequest(const std::string& request_id, const std::string& code,
                                          std::optional<Timestamp> at_opt) {
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  Timestamp at = At(at_opt);
  if (row.state != RequestState::kVerifyingIdentity || row.code_hash.empty()) {
    return Status(ErrorCode::kRequestState,
                  "request " + request_id + " is not waiting for a one-time code");
  }
  const int64_t version = row.version;
  store::WriteBatch batch;
  bool expired = !row.code_expires_at || at >= *row.code_expires_at;
  bool locked = row.code_attempts >= kMaxCodeAttempts;
  bool matches = !expired && !locked &&
                 sodium_memcmp(RequestSecretHash(request_id, "code", code).data(),
                               row.code_hash.data(), row.code_hash.size()) == 0;
  if (!matches) {
    ++row.code_attempts;
    std::string why = expired ? "expired" : locked ? "too many attempts" : "wrong code";
    AddRequestStep(batch, row, version, "code_rejected", row.state, why, "requester", at);
    RETURN_IF_ERROR(audit_
                        .Commit(std::move(batch), {Entry("requester", "request_verify_failed", "",
                                                         at, request_id + " " + why)})
                        .status());
    return Status(ErrorCode::kVerificationFailed,
                  "request " + request_id + ": the code is " + why +
                      (expired || locked ? "; ask for a new code" : ""));
  }
  ASSIGN_OR_RETURN(crypto::SecretKey key, RequestKey(row));
  ASSIGN_OR_RETURN(Details details, ReadDetails(key, row, RequestKeyContext(row.request_id)));
  // Only the identifier that was proven opens data: subjects filed under it, nothing else.
  ASSIGN_OR_RETURN(
      row.subject_ids,
      store_.FindSubjectsByIdentifier(controller_, details.contact.kind,
                                      IdentifierHash(details.contact.kind, details.contact.value)));
  std::string secret = "rq_" + request_id + "_" + RandomHex(24);
  row.access_hash = RequestSecretHash(request_id, "access", secret);
  row.code_hash.clear();
  row.code_expires_at.reset();
  row.verification = "code_to_" + details.contact.kind;
  row.waiting_for.clear();
  // The month runs from the day identity was proven (ICO: the time limit starts when the
  // information needed to confirm identity is received).
  row.clock_started_at = at;
  ASSIGN_OR_RETURN(row.due_at, ResponseDue(at, false));
  AddRequestStep(batch, row, version, "identity_verified", RequestState::kInProgress,
                 row.verification + "; " + std::to_string(row.subject_ids.size()) +
                     " subject(s) found; due " + row.due_at->Date().ToString(),
                 "requester", at);
  RETURN_IF_ERROR(audit_
                      .Commit(std::move(batch), {Entry("requester", "request_verified",
                                                       Join(row.subject_ids), at, request_id)})
                      .status());
  return secret;
}

Status Engine::ResendRequestCode(const std::string& request_id, std::optional<Timestamp> at_opt,
                                 const std::string& actor) {
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  Timestamp at = At(at_opt);
  if (row.state != RequestState::kVerifyingIdentity || row.intake != "self_service") {
    return Status(ErrorCode::kRequestState,
                  "request " + request_id + " is not waiting for a one-time code");
  }
  ASSIGN_OR_RETURN(crypto::SecretKey key, RequestKey(row));
  ASSIGN_OR_RETURN(Details details, ReadDetails(key, row, RequestKeyContext(row.request_id)));
  const int64_t version = row.version;
  std::string code = NewCode();
  row.code_hash = RequestSecretHash(request_id, "code", code);
  row.code_expires_at = Timestamp{at.micros + kCodeLifetimeMicros};
  row.code_attempts = 0;
  store::WriteBatch batch;
  AddRequestStep(batch, row, version, "code_sent", row.state,
                 "a new one-time code sent to the " + details.contact.kind + " given", actor, at);
  RETURN_IF_ERROR(AddRequesterMessage(
      batch, row, key, details.contact, "Your new code to confirm your request",
      "To confirm your request for " + std::string(RequestTypeInWords(row.type)) + " to " +
          policy_.controller.name + ", enter this code: " + code + ". It is valid for 30 minutes.",
      code, at));
  return audit_.Commit(std::move(batch), {Entry(actor, "request_code_sent", "", at, request_id)})
      .status();
}

Status Engine::VerifyRequestByStaff(const std::string& request_id, const std::string& method,
                                    const std::string& subject_id, std::optional<Timestamp> at_opt,
                                    const std::string& actor) {
  if (method.empty()) return Invalid("say how identity was checked (e.g. passport_seen)");
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  Timestamp at = At(at_opt);
  if (row.state != RequestState::kVerifyingIdentity && row.state != RequestState::kReceived) {
    return Status(ErrorCode::kRequestState,
                  "request " + request_id + " is not waiting for identity");
  }
  if (!subject_id.empty()) {
    ASSIGN_OR_RETURN(store::SubjectRow subject, ActiveSubject(subject_id));
    (void)subject;
    if (std::find(row.subject_ids.begin(), row.subject_ids.end(), subject_id) ==
        row.subject_ids.end()) {
      row.subject_ids.push_back(subject_id);
    }
  }
  if (row.subject_ids.empty()) {
    return Invalid("name the subject whose identity staff checked (--subject)");
  }
  const int64_t version = row.version;
  row.verification = "staff:" + method;
  row.code_hash.clear();
  row.code_expires_at.reset();
  row.waiting_for.clear();
  row.clock_started_at = at;
  ASSIGN_OR_RETURN(row.due_at, ResponseDue(at, false));
  store::WriteBatch batch;
  AddRequestStep(batch, row, version, "identity_verified", RequestState::kInProgress,
                 row.verification + "; due " + row.due_at->Date().ToString(), actor, at);
  return audit_
      .Commit(std::move(batch),
              {Entry(actor, "request_verified", Join(row.subject_ids), at, request_id)})
      .status();
}

// --- The month: pauses, extension ----------------------------------------------------------

Status Engine::AwaitRequester(const std::string& request_id, const std::string& what,
                              std::optional<Timestamp> at_opt, const std::string& actor) {
  if (what != "clarification" && what != "fee") return Invalid("wait for clarification or fee");
  if (what == "fee" && policy_.rights.fee != "reasonable_if_unfounded_or_excessive") {
    return Status(
        ErrorCode::kFeeNotAllowed,
        "the policy promises no fee for requests (rights.fee is '" +
            (policy_.rights.fee.empty() ? std::string("not stated") : policy_.rights.fee) + "')");
  }
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  Timestamp at = At(at_opt);
  if (row.state != RequestState::kInProgress && row.state != RequestState::kExtended) {
    return Status(ErrorCode::kRequestState, "request " + request_id + " is not in progress");
  }
  if (!row.waiting_for.empty()) {
    return Status(ErrorCode::kRequestState,
                  "request " + request_id + " already waits for " + row.waiting_for);
  }
  ASSIGN_OR_RETURN(crypto::SecretKey key, RequestKey(row));
  ASSIGN_OR_RETURN(Details details, ReadDetails(key, row, RequestKeyContext(row.request_id)));
  const int64_t version = row.version;
  row.waiting_for = what;
  row.due_at.reset();
  store::WriteBatch batch;
  AddRequestStep(batch, row, version, what + "_requested", row.state,
                 "the month stops until the " + what + " arrives", actor, at);
  RETURN_IF_ERROR(AddRequesterMessage(
      batch, row, key, details.contact,
      what == "fee" ? "A fee for your request" : "We need more information about your request",
      what == "fee"
          ? "Your request is manifestly unfounded or excessive, so " + policy_.controller.name +
                " asks a reasonable fee before dealing with it. The one-month time limit starts "
                "when we receive it. " +
                ComplaintRoute()
          : "To answer your request for " + std::string(RequestTypeInWords(row.type)) + ", " +
                policy_.controller.name +
                " needs you to tell us more about what you are asking for. The one-month time "
                "limit starts again when we receive your answer.",
      "", at));
  return audit_
      .Commit(std::move(batch), {Entry(actor, "request_wait", "", at, request_id + " " + what)})
      .status();
}

Status Engine::RequesterAnswered(const std::string& request_id, std::optional<Timestamp> at_opt,
                                 const std::string& actor) {
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  Timestamp at = At(at_opt);
  if (!IsOpen(row.state) || (row.waiting_for != "clarification" && row.waiting_for != "fee")) {
    return Status(ErrorCode::kRequestState,
                  "request " + request_id + " is not waiting for clarification or a fee");
  }
  const int64_t version = row.version;
  std::string what = row.waiting_for;
  row.waiting_for.clear();
  row.clock_started_at = at;
  ASSIGN_OR_RETURN(row.due_at, ResponseDue(at, row.state == RequestState::kExtended));
  store::WriteBatch batch;
  AddRequestStep(batch, row, version, what + "_received", row.state,
                 "the month runs again from today; due " + row.due_at->Date().ToString(), actor,
                 at);
  return audit_.Commit(std::move(batch), {Entry(actor, "request_resume", "", at, request_id)})
      .status();
}

Status Engine::ExtendRequest(const std::string& request_id, const std::string& reason,
                             std::optional<Timestamp> at_opt, const std::string& actor) {
  if (reason != "complex" && reason != "numerous") {
    return Invalid("an extension's reason is complex or numerous (Article 12(3))");
  }
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  Timestamp at = At(at_opt);
  if (row.state != RequestState::kInProgress || !row.due_at || !row.clock_started_at) {
    return Status(ErrorCode::kRequestState,
                  "request " + request_id + " is not in progress with its month running");
  }
  // The person must be told within the first month.
  if (at.Date() > row.due_at->Date()) {
    return Status(ErrorCode::kExtensionNotAllowed,
                  "request " + request_id +
                      ": an extension must be decided and told to the "
                      "person within the first month (due " +
                      row.due_at->Date().ToString() + ")");
  }
  ASSIGN_OR_RETURN(Timestamp extended_due, ResponseDue(*row.clock_started_at, true));
  ASSIGN_OR_RETURN(crypto::SecretKey key, RequestKey(row));
  ASSIGN_OR_RETURN(Details details, ReadDetails(key, row, RequestKeyContext(row.request_id)));
  const int64_t version = row.version;
  row.due_at = extended_due;
  row.extended_at = at;
  store::WriteBatch batch;
  AddRequestStep(batch, row, version, "extended", RequestState::kExtended,
                 reason + "; due " + extended_due.Date().ToString(), actor, at);
  std::string why =
      reason == "complex" ? "your request is complex" : "you have made a number of requests";
  if (!policy_.rights.extension_when.empty()) why += " (" + policy_.rights.extension_when + ")";
  RETURN_IF_ERROR(AddRequesterMessage(
      batch, row, key, details.contact, "We need more time to answer your request",
      policy_.controller.name + " needs more time to answer your request for " +
          std::string(RequestTypeInWords(row.type)) + " because " + why + ". We will answer by " +
          extended_due.Date().ToHuman() + ". " + ComplaintRoute(),
      "", at));
  return audit_
      .Commit(std::move(batch), {Entry(actor, "request_extend", Join(row.subject_ids), at,
                                       request_id + " " + reason)})
      .status();
}

// --- Ends other than fulfilment -------------------------------------------------------------

Status Engine::RefuseRequest(const std::string& request_id, const std::string& reason,
                             std::optional<Timestamp> at_opt, const std::string& actor) {
  if (!IsRefusalReason(reason)) {
    return Invalid(
        "a refusal's reason is manifestly_unfounded, manifestly_excessive, "
        "identity_not_verified, exemption or not_a_valid_request");
  }
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  Timestamp at = At(at_opt);
  if (!CanMove(row.state, RequestState::kRefused)) {
    return Status(ErrorCode::kRequestState, "request " + request_id + " is closed");
  }
  ASSIGN_OR_RETURN(crypto::SecretKey key, RequestKey(row));
  ASSIGN_OR_RETURN(Details details, ReadDetails(key, row, RequestKeyContext(row.request_id)));
  const int64_t version = row.version;
  row.closed_at = at;
  row.outcome = "refused:" + reason;
  row.waiting_for.clear();
  store::WriteBatch batch;
  AddRequestStep(batch, row, version, "refused", RequestState::kRefused, reason, actor, at);
  std::string why = reason;
  std::replace(why.begin(), why.end(), '_', ' ');
  RETURN_IF_ERROR(
      AddRequesterMessage(batch, row, key, details.contact, "Your request has been refused",
                          policy_.controller.name + " will not act on your request for " +
                              std::string(RequestTypeInWords(row.type)) + ". The reason: " + why +
                              ". " + ComplaintRoute() +
                              " You may also seek to enforce your rights through the "
                              "courts.",
                          "", at));
  return audit_
      .Commit(std::move(batch), {Entry(actor, "request_refuse", Join(row.subject_ids), at,
                                       request_id + " " + reason)})
      .status();
}

Status Engine::WithdrawRequest(const std::string& request_id, std::optional<Timestamp> at_opt,
                               const std::string& actor) {
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  Timestamp at = At(at_opt);
  if (!CanMove(row.state, RequestState::kWithdrawn)) {
    return Status(ErrorCode::kRequestState, "request " + request_id + " is closed");
  }
  const int64_t version = row.version;
  row.closed_at = at;
  row.outcome = "withdrawn";
  row.waiting_for.clear();
  store::WriteBatch batch;
  AddRequestStep(batch, row, version, "withdrawn", RequestState::kWithdrawn,
                 "withdrawn by the person", actor, at);
  return audit_.Commit(std::move(batch), {Entry(actor, "request_withdraw", "", at, request_id)})
      .status();
}

// --- Reading -------------------------------------------------------------------------------

Status Engine::CheckRequesterSecret(const std::string& request_id, const std::string& secret) {
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  if (row.access_hash.empty() || secret.empty()) {
    return Status(ErrorCode::kVerificationFailed, "request " + request_id + ": not verified");
  }
  store::Bytes hash = RequestSecretHash(request_id, "access", secret);
  if (hash.size() != row.access_hash.size() ||
      sodium_memcmp(hash.data(), row.access_hash.data(), hash.size()) != 0) {
    return Status(ErrorCode::kVerificationFailed, "request " + request_id + ": wrong secret");
  }
  return Status::Ok();
}

Result<RequestView> Engine::ViewRequest(const std::string& request_id, const std::string& actor) {
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  RequestView view;
  ASSIGN_OR_RETURN(view.history, store_.ListRequestEvents(controller_, request_id));
  ASSIGN_OR_RETURN(view.outbox, store_.ListOutbox(controller_, request_id));
  for (auto& message : view.outbox) message.sealed_payload.clear();
  view.personal_parts_shredded = row.wrapped_key.empty();
  if (!view.personal_parts_shredded) {
    ASSIGN_OR_RETURN(crypto::SecretKey key, RequestKey(row));
    ASSIGN_OR_RETURN(Details details, ReadDetails(key, row, RequestKeyContext(row.request_id)));
    view.contact = std::move(details.contact);
    view.categories = std::move(details.categories);
    view.purpose = std::move(details.purpose);
    view.note = std::move(details.note);
    view.rectifications = std::move(details.rectifications);
    view.items = std::move(details.items);
  }
  row.wrapped_key.clear();
  row.sealed_details.clear();
  row.sealed_result.clear();
  row.code_hash.clear();
  row.access_hash.clear();
  view.row = std::move(row);
  audit_.Record(Entry(actor, "request_read", Join(view.row.subject_ids), clock_.Now(), request_id));
  return view;
}

Result<std::vector<store::RequestRow>> Engine::ListRequests(RequestListFilter filter,
                                                            std::optional<Timestamp> as_of_opt,
                                                            int within_days) {
  Timestamp as_of = At(as_of_opt);
  ASSIGN_OR_RETURN(std::vector<store::RequestRow> rows,
                   store_.ListRequests(controller_, filter != RequestListFilter::kAll));
  std::vector<store::RequestRow> out;
  // Due dates are days: a request due today is not overdue until tomorrow.
  const int64_t today = DaysFromCivil(as_of.Date());
  for (auto& row : rows) {
    if (filter == RequestListFilter::kDueSoon &&
        (!row.due_at || DaysFromCivil(row.due_at->Date()) < today ||
         DaysFromCivil(row.due_at->Date()) > today + within_days)) {
      continue;
    }
    if (filter == RequestListFilter::kOverdue &&
        (!row.due_at || DaysFromCivil(row.due_at->Date()) >= today)) {
      continue;
    }
    row.wrapped_key.clear();
    row.sealed_details.clear();
    row.sealed_result.clear();
    row.code_hash.clear();
    row.access_hash.clear();
    out.push_back(std::move(row));
  }
  return out;
}

Result<std::string> Engine::RequestDocument(const std::string& request_id,
                                            const std::string& format, const std::string& actor) {
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  if (row.sealed_result.empty()) {
    return Status(ErrorCode::kNotFound, "request " + request_id + " has no document to download");
  }
  ASSIGN_OR_RETURN(crypto::SecretKey key, RequestKey(row));
  ASSIGN_OR_RETURN(std::string json,
                   crypto::Open(key, row.sealed_result, RequestKeyContext(request_id) + "/result"));
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Status(ErrorCode::kInternal, "request result does not parse");
  }
  std::string document = GetString(doc, format.c_str());
  if (document.empty()) {
    return Status(ErrorCode::kNotFound,
                  "request " + request_id + " has no " + format + " document");
  }
  audit_.Record(Entry(actor, "request_document", Join(row.subject_ids), clock_.Now(),
                      request_id + " " + format));
  RETURN_IF_ERROR(audit_.Flush());
  return document;
}

Result<std::vector<RecipientNotice>> Engine::RequestRecipients(const std::string& request_id) {
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  ASSIGN_OR_RETURN(std::vector<store::OutboxRow> outbox,
                   store_.ListOutbox(controller_, request_id));
  ASSIGN_OR_RETURN(std::vector<store::RequestEventRow> history,
                   store_.ListRequestEvents(controller_, request_id));
  std::vector<RecipientNotice> out;
  for (const auto& message : outbox) {
    if (message.kind != "recipient_notice") continue;
    RecipientNotice notice;
    notice.recipient = message.target;
    const policy::Recipient* recipient = policy_.FindRecipient(message.target);
    notice.name = recipient != nullptr ? recipient->name : message.target;
    notice.outbox_id = message.outbox_id;
    notice.state = message.state;
    // The categories are in the history (non-personal): "notified <recipient>: a,b".
    for (const auto& event : history) {
      std::string prefix = message.target + ": ";
      if (event.event == "recipient_notified" && event.detail.rfind(prefix, 0) == 0) {
        std::string rest = event.detail.substr(prefix.size());
        size_t start = 0;
        while (start <= rest.size()) {
          size_t comma = rest.find(',', start);
          std::string key = rest.substr(start, comma - start);
          if (!key.empty()) notice.categories.push_back(key);
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
      }
    }
    out.push_back(std::move(notice));
  }
  return out;
}

// --- Fulfilment ----------------------------------------------------------------------------

// The OpenDSR-shaped notice to a recipient (or, for a processor, to its controller): request id,
// type, identities, submitted time, and custos's extension naming what changed.
Status Engine::AddRecipientNotice(store::WriteBatch& batch, const store::RequestRow& row,
                                  const crypto::SecretKey& key, const std::string& target,
                                  const std::string& action,
                                  const std::vector<std::string>& categories, Timestamp at) {
  ASSIGN_OR_RETURN(Details details, ReadDetails(key, row, RequestKeyContext(row.request_id)));
  std::vector<RequestIdentifier> identities;
  if (!details.contact.value.empty()) identities.push_back(details.contact);
  for (const auto& subject_id : row.subject_ids) {
    auto subject = store_.GetSubject(controller_, subject_id);
    if (!subject.ok() || !subject->has_value() || (*subject)->wrapped_key.empty()) continue;
    auto data_key = DataKey(**subject);
    if (!data_key.ok()) continue;
    ASSIGN_OR_RETURN(std::vector<store::IdentifierRow> ids,
                     store_.ListIdentifiers(controller_, subject_id));
    for (const auto& id : ids) {
      auto value =
          crypto::Open(*data_key, id.sealed_value, KeyContext(subject_id) + "/id/" + id.kind);
      if (!value.ok()) continue;
      bool seen = std::any_of(identities.begin(), identities.end(), [&](const auto& i) {
        return i.kind == id.kind && crypto::NormalizeIdentifier(i.kind, i.value) ==
                                        crypto::NormalizeIdentifier(id.kind, *value);
      });
      if (!seen) identities.push_back({id.kind, *value});
    }
  }
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Str(w, "api_version", "1.0");
  Str(w, "subject_request_id", row.request_id);
  Str(w, "subject_request_type", row.type);
  Str(w, "submitted_time", row.received_at.ToString());
  w.Key("subject_identities");
  w.StartArray();
  for (const auto& identity : identities) {
    w.StartObject();
    Str(w, "identity_type", identity.kind);
    Str(w, "identity_value", identity.value);
    Str(w, "identity_format", "raw");
    w.EndObject();
  }
  w.EndArray();
  w.Key("status_callback_urls");
  w.StartArray();
  w.EndArray();
  w.Key("extensions");
  w.StartObject();
  w.Key("custos");
  w.StartObject();
  Str(w, "controller", policy_.controller.name);
  Str(w, "recipient", target);
  Str(w, "action", action);
  w.Key("categories");
  w.StartArray();
  for (const auto& c : categories) w.String(c.c_str());
  w.EndArray();
  if (action == "rectify") {
    w.Key("rectifications");
    w.StartArray();
    for (const auto& r : details.rectifications) {
      if (!Covers(categories, r.category)) continue;
      w.StartObject();
      Str(w, "category", r.category);
      Str(w, "value", r.value);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  w.EndObject();
  w.EndObject();
  RETURN_IF_ERROR(
      AddOutboxMessage(batch, row, key, "recipient_notice", target, buffer.GetString(), at));
  batch.Add(store::RequestEventRow{controller_, row.request_id, 0, at, "system",
                                   "recipient_notified", row.state,
                                   target + ": " + Join(categories)});
  return Status::Ok();
}

// Recipients that received any of `categories` of these people (Article 19), each with the
// categories it got: the recipients named by a purpose that processed them (a purpose for
// their subject type, and for consent purposes only one they consented to at some time),
// limited to the categories the purpose and the recipient cover; sub-processors follow their
// processor.
Result<std::vector<std::pair<std::string, std::vector<std::string>>>> Engine::RecipientsOf(
    const std::vector<std::string>& categories, const std::vector<std::string>& subject_ids) {
  std::set<std::string> types, consented;
  for (const auto& subject_id : subject_ids) {
    ASSIGN_OR_RETURN(std::optional<store::SubjectRow> subject,
                     store_.GetSubject(controller_, subject_id));
    if (subject.has_value()) types.insert(subject->types.begin(), subject->types.end());
    ASSIGN_OR_RETURN(std::vector<store::ConsentEventRow> ledger,
                     store_.ListConsentEvents(controller_, subject_id));
    for (const auto& event : ledger) {
      if (event.target_kind == store::ConsentTarget::kPurpose &&
          event.action == store::ConsentAction::kGiven) {
        consented.insert(event.target);
      }
    }
  }
  auto recipient_gets = [](const policy::Recipient& r, const std::string& category) {
    return r.categories.empty() || RefsCover(r.categories, category);
  };
  std::map<std::string, std::set<std::string>> by_recipient;
  for (const auto& purpose : policy_.purposes) {
    bool for_them = purpose.subjects.empty() ||
                    std::any_of(purpose.subjects.begin(), purpose.subjects.end(),
                                [&](const policy::Ref& r) { return types.count(r.key) > 0; });
    if (!for_them) continue;
    if (purpose.basis == policy::LawfulBasis::kConsent && consented.count(purpose.key) == 0) {
      continue;
    }
    for (const auto& category : categories) {
      if (!RefsCover(purpose.categories, category)) continue;
      for (const auto& ref : purpose.recipients) {
        const policy::Recipient* recipient = policy_.FindRecipient(ref.key);
        if (recipient == nullptr || !recipient_gets(*recipient, category)) continue;
        by_recipient[recipient->key].insert(category);
      }
    }
  }
  for (const auto& recipient : policy_.recipients) {  // sub-processors of those processors
    if (!recipient.processor_of) continue;
    auto of = by_recipient.find(recipient.processor_of->key);
    if (of == by_recipient.end()) continue;
    for (const auto& category : std::set<std::string>(of->second)) {
      if (recipient_gets(recipient, category)) by_recipient[recipient.key].insert(category);
    }
  }
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& recipient : policy_.recipients) {  // in the policy's order
    // A recipient that receives data only on occasions (`when`: a court order, a threat) has
    // it only if such an occasion happened, which custos does not record.
    if (!NotifiableRecipient(recipient.kind) || !recipient.when.empty()) continue;
    auto it = by_recipient.find(recipient.key);
    if (it != by_recipient.end()) {
      out.emplace_back(recipient.key,
                       std::vector<std::string>(it->second.begin(), it->second.end()));
    }
  }
  return out;
}

// Why a record must be kept despite an erasure request, or "" when it may go: a legal hold, or
// one of the policy's erasure exemptions.
std::pair<std::string, std::string> Engine::ErasureExemption(
    const store::RecordRow& record, const std::vector<store::LegalHoldRow>& holds,
    Timestamp at) const {
  if (const store::LegalHoldRow* hold =
          FindLegalHold(holds, record.subject_id, record.category, at)) {
    return {"legal_claims", "legal hold " + std::to_string(hold->hold_id) + ": " + hold->reason};
  }
  const policy::Purpose* purpose = policy_.FindPurpose(record.purpose);
  for (const auto& exemption : policy_.rights.exemptions) {
    if (exemption.right != "erasure") continue;
    bool by_category =
        !exemption.categories.empty() && RefsCover(exemption.categories, record.category);
    bool by_purpose = std::any_of(exemption.purposes.begin(), exemption.purposes.end(),
                                  [&](const policy::Ref& r) { return r.key == record.purpose; });
    bool scoped = !exemption.categories.empty() || !exemption.purposes.empty();
    bool applies = false;
    if (exemption.ground == "legal_obligation") {
      // Unscoped: what the law makes us keep is what we collect under a legal obligation.
      applies = scoped
                    ? (by_category || by_purpose)
                    : purpose != nullptr && purpose->basis == policy::LawfulBasis::kLegalObligation;
    } else {
      // legal_claims unscoped applies through legal holds (above); research_article_89 and
      // the rest name what they cover.
      applies = scoped && (by_category || by_purpose);
    }
    if (applies) return {exemption.ground, exemption.description};
  }
  return {"", ""};
}

Result<RequestView> Engine::FulfilRequest(const std::string& request_id, const std::string& outcome,
                                          std::optional<Timestamp> at_opt,
                                          const std::string& actor) {
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  Timestamp at = At(at_opt);
  if (row.state != RequestState::kInProgress && row.state != RequestState::kExtended) {
    return Status(ErrorCode::kRequestState, "request " + request_id + " is " +
                                                std::string(store::RequestStateName(row.state)) +
                                                ", not in progress");
  }
  if (!row.waiting_for.empty()) {
    return Status(ErrorCode::kRequestState,
                  "request " + request_id + " waits for " + row.waiting_for);
  }
  if (row.type == "automated_decision_review" && outcome.empty()) {
    return Invalid("a human review of an automated decision ends with its outcome (--outcome)");
  }
  ASSIGN_OR_RETURN(crypto::SecretKey key, RequestKey(row));
  ASSIGN_OR_RETURN(Details details, ReadDetails(key, row, RequestKeyContext(row.request_id)));

  // Claim the fulfilment first: of two processes (or two staff) fulfilling one request, only the
  // one whose claim commits goes on, so nothing is done twice. The claim is a versioned update,
  // which stops a second claimant that read the request before it; one that reads the request
  // after it (while the first is still at work) finds the claim, not yet followed by its
  // completion or release, in the history: read after the row, so a claim the row shows is in
  // it. A claim older than kFulfilmentClaimLeaseMicros is taken for abandoned.
  {
    ASSIGN_OR_RETURN(std::vector<store::RequestEventRow> history,
                     store_.ListRequestEvents(controller_, request_id));
    for (auto it = history.rbegin(); it != history.rend(); ++it) {
      if (it->event == "fulfilment_failed") break;
      if (it->event != "fulfilment_started") continue;
      if (at.micros < it->at.micros + kFulfilmentClaimLeaseMicros) {
        return Status(ErrorCode::kConflict,
                      "request " + request_id + " is being fulfilled elsewhere");
      }
      break;
    }
    int64_t version = row.version;
    store::WriteBatch claim;
    AddRequestStep(claim, row, version, "fulfilment_started", row.state, row.type, actor, at);
    Status claimed = audit_.Commit(std::move(claim), {}).status();
    if (claimed.code() == ErrorCode::kInvalidArgument) {
      return Status(ErrorCode::kConflict,
                    "request " + request_id + " is being fulfilled elsewhere");
    }
    RETURN_IF_ERROR(claimed);
  }
  // Whatever stops the fulfilment from here on releases the claim (best effort: a release that
  // fails leaves the claim to its lease), so the request can be fulfilled again at once.
  bool completed = false;
  struct ReleaseUnlessCompleted {
    std::function<void()> release;
    ~ReleaseUnlessCompleted() { release(); }
  } release_claim{[&] {
    if (completed) return;
    auto current = LoadRequest(request_id);
    if (!current.ok() || !IsOpen(current->state)) return;
    store::WriteBatch release;
    AddRequestStep(release, *current, current->version, "fulfilment_failed", current->state,
                   row.type, actor, at);
    (void)audit_.Commit(std::move(release), {});
  }};

  std::vector<FulfilmentItem>& items = details.items;
  store::WriteBatch batch;
  std::vector<AuditEntry> audit;
  std::vector<std::string> touched, affected_categories;
  std::string result_json;
  std::string summary;
  const std::string subjects = Join(row.subject_ids);

  if (row.type == "access" || row.type == "portability") {
    std::vector<SubjectView> views;
    for (const auto& subject_id : row.subject_ids) {
      auto view = ReadSubject(subject_id, actor, "rights_request:" + request_id);
      if (view.status().code() == ErrorCode::kSubjectErased) continue;
      if (!view.ok()) return view.status();
      views.push_back(std::move(*view));
    }
    PackageMeta meta{request_id, row.received_at, at};
    rapidjson::StringBuffer buffer;
    Writer w(buffer);
    w.StartObject();
    if (row.type == "access") {
      AccessPackage package = BuildAccessPackage(policy_, meta, views);
      Str(w, "json", package.json);
      Str(w, "html", package.html);
    } else {
      PortabilityExport exported = BuildPortabilityExport(policy_, meta, views);
      Str(w, "json", exported.json);
      Str(w, "csv", exported.csv);
    }
    w.EndObject();
    result_json = buffer.GetString();
    summary = std::to_string(views.size()) + " subject(s) packaged";
  } else if (row.type == "rectification") {
    for (const auto& subject_id : row.subject_ids) {
      ASSIGN_OR_RETURN(store::SubjectRow subject, ActiveSubject(subject_id));
      ASSIGN_OR_RETURN(crypto::SecretKey data_key, DataKey(subject));
      ASSIGN_OR_RETURN(std::vector<store::RecordRow> records,
                       store_.ListRecords(controller_, subject_id));
      for (const auto& fix : details.rectifications) {
        // The newest live record of that category is the one the person corrects.
        const store::RecordRow* target = nullptr;
        for (const auto& record : records) {
          if (record.category == fix.category &&
              (record.state == store::RecordState::kActive ||
               record.state == store::RecordState::kRestricted)) {
            target = &record;
          }
        }
        if (target == nullptr) {
          // A wrong email or phone the person is known by: the identifier is replaced (its
          // blind index with it), so the person is found by the corrected one from now on.
          std::string kind = fix.category == IdentifierCategory("email")   ? "email"
                             : fix.category == IdentifierCategory("phone") ? "phone"
                                                                           : "";
          bool replaced = false;
          if (!kind.empty() && !crypto::NormalizeIdentifier(kind, fix.value).empty()) {
            ASSIGN_OR_RETURN(std::vector<store::IdentifierRow> identifiers,
                             store_.ListIdentifiers(controller_, subject_id));
            for (const auto& identifier : identifiers) {
              if (identifier.kind != kind) continue;
              batch.Add(
                  store::DeleteIdentifiers{controller_, subject_id, kind, identifier.blind_index});
              replaced = true;
            }
            if (replaced) {
              store::IdentifierRow corrected;
              corrected.controller = controller_;
              corrected.subject_id = subject_id;
              corrected.kind = kind;
              corrected.blind_index = IdentifierHash(kind, fix.value);
              corrected.sealed_value =
                  crypto::Seal(data_key, fix.value, KeyContext(subject_id) + "/id/" + kind);
              corrected.verified = false;  // proven again the next time it is used
              corrected.added_at = at;
              batch.Add(std::move(corrected));
              items.push_back({subject_id, fix.category, "rectified", "", "identifier replaced"});
              affected_categories.push_back(fix.category);
              audit.push_back(Entry(actor, "request_rectify", subject_id, at,
                                    request_id + " " + kind + " identifier"));
            }
          }
          if (!replaced) {
            items.push_back(
                {subject_id, fix.category, "not_held", "", "no record of this category"});
          }
          continue;
        }
        batch.Add(store::ExpectState{controller_, subject_id, target->record_id, target->state});
        batch.Add(store::RecordVersionRow{controller_, subject_id, target->record_id, 0,
                                          target->sealed_value, at, request_id});
        batch.Add(store::SetRecordState{
            controller_, subject_id, target->record_id, target->state,
            crypto::Seal(data_key, fix.value, KeyContext(subject_id) + "/record/" + fix.category),
            at});
        items.push_back(
            {subject_id, fix.category, "rectified", "", "earlier value kept in history"});
        affected_categories.push_back(fix.category);
        audit.push_back(Entry(
            actor, "request_rectify", subject_id, at,
            request_id + " " + fix.category + " record " + std::to_string(target->record_id)));
      }
    }
    summary = std::to_string(affected_categories.size()) + " value(s) rectified";
  } else if (row.type == "erasure") {
    ASSIGN_OR_RETURN(std::vector<store::LegalHoldRow> holds, store_.ListLegalHolds(controller_));
    int64_t erased = 0, kept = 0;
    for (const auto& subject_id : row.subject_ids) {
      ASSIGN_OR_RETURN(std::optional<store::SubjectRow> subject,
                       store_.GetSubject(controller_, subject_id));
      if (!subject.has_value() || subject->state == store::SubjectState::kErased) continue;
      ASSIGN_OR_RETURN(std::vector<store::RecordRow> records,
                       store_.ListRecords(controller_, subject_id));
      ASSIGN_OR_RETURN(std::vector<store::IdentifierRow> identifiers,
                       store_.ListIdentifiers(controller_, subject_id));
      batch.Add(store::ExpectState{controller_, subject_id, 0, {}});
      bool keeps_anything = false;
      std::vector<int64_t> to_erase;
      std::set<std::string> erased_categories;
      for (const auto& record : records) {
        if (record.state == store::RecordState::kErased ||
            record.state == store::RecordState::kAnonymised) {
          continue;
        }
        if (!Covers(details.categories, record.category)) {
          keeps_anything = true;  // not asked
          continue;
        }
        auto [ground, why] = ErasureExemption(record, holds, at);
        if (!ground.empty()) {
          keeps_anything = true;
          ++kept;
          items.push_back({subject_id, record.category, "kept", ground, why});
          continue;
        }
        to_erase.push_back(record.record_id);
        erased_categories.insert(record.category);
        batch.Add(store::ExpectState{controller_, subject_id, record.record_id, record.state});
      }
      // Identifiers count as the category of their kind; a hold on the person keeps them.
      bool identifiers_go = !keeps_anything;
      for (const auto& identifier : identifiers) {
        // Whatever stays, this person is never contacted for marketing again.
        batch.Add(store::SuppressionRow{controller_, identifier.blind_index, identifier.kind,
                                        "erasure_request", at});
        if (!identifiers_go) {
          std::string category = IdentifierCategory(identifier.kind);
          if (Covers(details.categories, category) && !details.categories.empty() &&
              !FindLegalHold(holds, subject_id, category, at)) {
            batch.Add(store::DeleteIdentifiers{controller_, subject_id, identifier.kind,
                                               identifier.blind_index});
            erased_categories.insert(category);
          }
        }
      }
      if (identifiers_go) {
        // Nothing of the person stays: destroy their data key (crypto-shredding) so every
        // value goes at once, old backups included.
        batch.Add(store::DeleteIdentifiers{controller_, subject_id, "", {}});
        batch.Add(store::EraseSubject{controller_, subject_id, at});
        for (const auto& identifier : identifiers) {
          erased_categories.insert(IdentifierCategory(identifier.kind));
        }
        audit.push_back(Entry(actor, "request_erase", subject_id, at,
                              request_id + ": data key destroyed; " +
                                  std::to_string(identifiers.size()) +
                                  " identifier hash(es) suppressed"));
      } else {
        for (int64_t record_id : to_erase) {
          batch.Add(store::SetRecordState{controller_, subject_id, record_id,
                                          store::RecordState::kErased, store::Bytes{}, at});
        }
        audit.push_back(Entry(actor, "request_erase", subject_id, at,
                              request_id + ": " + std::to_string(to_erase.size()) +
                                  " record(s) erased, some data kept"));
      }
      erased += static_cast<int64_t>(to_erase.size());
      for (const auto& category : erased_categories) {
        items.push_back({subject_id, category, "erased", "", ""});
        affected_categories.push_back(category);
      }
      touched.push_back(subject_id);
    }
    summary = std::to_string(erased) + " record(s) erased, " + std::to_string(kept) + " kept";
  } else if (row.type == "restriction") {
    for (const auto& subject_id : row.subject_ids) {
      ASSIGN_OR_RETURN(int64_t restriction,
                       Restrict(subject_id, details.categories, "data_subject_request", at, actor));
      items.push_back({subject_id, Join(details.categories), "restricted", "",
                       "restriction " + std::to_string(restriction)});
    }
    if (details.categories.empty()) {
      for (const auto& category : policy_.categories) affected_categories.push_back(category.key);
    } else {
      affected_categories = details.categories;
    }
    summary = "processing restricted";
  } else if (row.type == "objection") {
    std::string target = details.purpose.empty() ? "*" : details.purpose;
    for (const auto& subject_id : row.subject_ids) {
      RETURN_IF_ERROR(Object(subject_id, target, at, actor));
      items.push_back({subject_id, "", "objected", "", target});
    }
    summary = "objection to " + target + " recorded";
  } else if (row.type == "withdraw_consent") {
    for (const auto& subject_id : row.subject_ids) {
      ASSIGN_OR_RETURN(std::vector<store::ConsentEventRow> ledger,
                       store_.ListConsentEvents(controller_, subject_id));
      std::map<std::string, bool> given;  // the latest action per purpose
      for (const auto& event : ledger) {
        if (event.target_kind != store::ConsentTarget::kPurpose) continue;
        given[event.target] = event.action == store::ConsentAction::kGiven;
      }
      for (const auto& [purpose, is_given] : given) {
        if (!is_given || (!details.purpose.empty() && details.purpose != purpose)) continue;
        ConsentChangeRequest change;
        change.subject_id = subject_id;
        change.target = purpose;
        change.given = false;
        change.channel = "rights_request";
        change.at = at;
        change.actor = actor;
        RETURN_IF_ERROR(ChangeConsent(change));
        items.push_back({subject_id, "", "consent_withdrawn", "", purpose});
      }
    }
    summary = "consent withdrawn";
  } else {  // automated_decision_review: a person has reviewed it; record what they decided
    // The reviewer's words may be about the person: they stay sealed with the request.
    items.push_back({subjects, "", "human_review", "", outcome});
    summary = "human review done by " + actor;
  }

  // Article 19: tell each recipient of the changed data, through the durable outbox.
  if (row.type == "rectification" || row.type == "erasure" || row.type == "restriction") {
    std::sort(affected_categories.begin(), affected_categories.end());
    affected_categories.erase(std::unique(affected_categories.begin(), affected_categories.end()),
                              affected_categories.end());
    std::string action = row.type == "rectification" ? "rectify"
                         : row.type == "erasure"     ? "erase"
                                                     : "restrict";
    ASSIGN_OR_RETURN(auto recipients, RecipientsOf(affected_categories, row.subject_ids));
    for (const auto& [recipient, categories] : recipients) {
      RETURN_IF_ERROR(AddRecipientNotice(batch, row, key, recipient, action, categories, at));
    }
  }

  const int64_t version = row.version;
  row.closed_at = at;
  row.outcome = summary;
  row.sealed_details =
      crypto::Seal(key, details.ToJson(), RequestKeyContext(request_id) + "/details");
  if (!result_json.empty()) {
    row.sealed_result = crypto::Seal(key, result_json, RequestKeyContext(request_id) + "/result");
  }
  AddRequestStep(batch, row, version, "completed", RequestState::kCompleted, summary, actor, at);
  // What was kept and why is told to the person (and stays, non-personal, in the history).
  std::string kept_text;
  for (const auto& item : items) {
    if (item.action != "kept") continue;
    batch.Add(store::RequestEventRow{controller_, request_id, 0, at, actor, "kept", row.state,
                                     item.subject_id + " " + item.category + ": " + item.reason});
    kept_text += "\n- " + policy_.CategoryName(item.category) + ": " + item.detail;
  }
  std::string body = policy_.controller.name + " has dealt with your request for " +
                     std::string(RequestTypeInWords(row.type)) + ": " + summary + ".";
  if (!kept_text.empty()) body += " We have kept some information, and why:" + kept_text + "\n";
  if (row.type == "access" || row.type == "portability") {
    body += " Your copy is ready to download for 30 days.";
  }
  if (row.type == "automated_decision_review")
    body += " The outcome of the review: " + outcome + ".";
  body += " " + ComplaintRoute();
  RETURN_IF_ERROR(AddRequesterMessage(batch, row, key, details.contact,
                                      "Your request has been completed", body, "", at));
  audit.push_back(Entry(actor, "request_complete", subjects, at, request_id + " " + summary));
  Status committed = audit_.Commit(std::move(batch), std::move(audit)).status();
  if (committed.code() == ErrorCode::kInvalidArgument) {
    return Status(ErrorCode::kConflict,
                  "request " + request_id + ": the data changed while it was fulfilled; try again");
  }
  RETURN_IF_ERROR(committed);
  completed = true;
  for (const auto& id : touched) cache_.Forget(id);
  return ViewRequest(request_id, actor);
}

// --- Recipients' endpoints and delivery -----------------------------------------------------

Status Engine::SetRecipientEndpoint(const std::string& recipient, const std::string& url,
                                    const std::string& secret, std::optional<Timestamp> at_opt,
                                    const std::string& actor) {
  if (recipient != "requester" && recipient != "controller" && !policy_.FindRecipient(recipient)) {
    return Invalid("recipient '" + recipient + "' is not in the policy (or requester, controller)");
  }
  if (url.rfind("https://", 0) != 0 && url.rfind("http://127.0.0.1", 0) != 0 &&
      url.rfind("http://localhost", 0) != 0) {
    return Invalid("a webhook URL is https:// (plain http only to this machine)");
  }
  if (secret.size() < 16) return Invalid("a webhook secret has at least 16 characters");
  Timestamp at = At(at_opt);
  store::WriteBatch batch;
  batch.Add(store::RecipientEndpointRow{
      controller_, recipient, url,
      crypto::Seal(EndpointKey(), secret, controller_ + "/endpoint/" + recipient), at});
  // Messages that waited by hand for want of an endpoint go by webhook from now on.
  ASSIGN_OR_RETURN(std::vector<store::OutboxRow> outbox, store_.ListOutbox(controller_, ""));
  int64_t requeued = 0;
  for (const auto& message : outbox) {
    if (message.target != recipient || message.state != OutboxState::kManual ||
        message.sealed_payload.empty()) {
      continue;
    }
    batch.Add(store::UpdateOutbox{controller_, message.outbox_id, OutboxState::kPending,
                                  message.attempts, at, std::nullopt, "", false});
    ++requeued;
  }
  return audit_
      .Commit(std::move(batch),
              {Entry(actor, "endpoint_set", "", at,
                     recipient + "; " + std::to_string(requeued) + " waiting message(s) queued")})
      .status();
}

crypto::SecretKey Engine::EndpointKey() const {
  // Endpoint secrets are not personal data and belong to no one person: sealed under a key
  // derived from the controller and the master key's wrap key.
  crypto::SecretKey wrap = master_key_.WrapKey();
  std::vector<uint8_t> derived(crypto::SecretKey::kSize);
  std::string context = "custos-endpoint:" + controller_;
  crypto_generichash(derived.data(), derived.size(),
                     reinterpret_cast<const unsigned char*>(context.data()), context.size(),
                     wrap.bytes().data(), wrap.bytes().size());
  auto key = crypto::SecretKey::FromBytes(derived);
  sodium_memzero(derived.data(), derived.size());
  return std::move(key).value();
}

int64_t OutboxRetryDelayMicros(int64_t attempts) {
  // 1 min, 5 min, 30 min, 2 h, 6 h, then daily.
  static constexpr int64_t kMinutes[] = {1, 5, 30, 120, 360, 1440};
  size_t index = std::min<size_t>(static_cast<size_t>(std::max<int64_t>(attempts - 1, 0)), 5);
  return kMinutes[index] * 60 * 1000000;
}

Result<std::vector<OutboxDelivery>> Engine::ClaimDeliveries(size_t max, int64_t lease_micros) {
  Timestamp now = clock_.Now();
  ASSIGN_OR_RETURN(std::vector<store::OutboxRow> claimed,
                   store_.ClaimOutbox(controller_, now, Timestamp{now.micros + lease_micros}, max));
  std::vector<OutboxDelivery> out;
  for (auto& message : claimed) {
    OutboxDelivery delivery;
    ASSIGN_OR_RETURN(std::optional<store::RecipientEndpointRow> endpoint,
                     store_.GetRecipientEndpoint(controller_, message.target));
    auto request = LoadRequest(message.request_id);
    Status problem = Status::Ok();
    if (!endpoint.has_value()) {
      problem = Status(ErrorCode::kNotFound, "no endpoint");
    } else if (!request.ok()) {
      problem = request.status();
    }
    std::string payload, secret;
    if (problem.ok()) {
      auto key = RequestKey(*request);
      auto opened = key.ok() ? crypto::Open(*key, message.sealed_payload,
                                            RequestKeyContext(message.request_id) + "/outbox")
                             : Result<std::string>(key.status());
      auto unsealed_secret = crypto::Open(EndpointKey(), endpoint->sealed_secret,
                                          controller_ + "/endpoint/" + message.target);
      if (!opened.ok()) problem = opened.status();
      if (!unsealed_secret.ok()) problem = unsealed_secret.status();
      if (problem.ok()) {
        payload = std::move(*opened);
        secret = std::move(*unsealed_secret);
      }
    }
    if (!problem.ok()) {
      // Nobody can deliver it automatically: leave it for a person (manual), say why.
      store::WriteBatch batch;
      batch.Add(store::UpdateOutbox{controller_, message.outbox_id, OutboxState::kManual,
                                    message.attempts, message.next_attempt_at, std::nullopt,
                                    std::string(CodeName(problem.code())), false});
      RETURN_IF_ERROR(audit_.Commit(std::move(batch), {}).status());
      continue;
    }
    delivery.outbox_id = message.outbox_id;
    delivery.request_id = message.request_id;
    delivery.kind = message.kind;
    delivery.target = message.target;
    delivery.attempts = message.attempts;
    delivery.url = endpoint->url;
    delivery.secret = std::move(secret);
    delivery.payload = std::move(payload);
    out.push_back(std::move(delivery));
  }
  return out;
}

Status Engine::RecordDelivery(const OutboxDelivery& delivery, bool delivered,
                              const std::string& error) {
  Timestamp now = clock_.Now();
  int64_t attempts = delivery.attempts + 1;
  store::WriteBatch batch;
  store::UpdateOutbox update;
  update.controller = controller_;
  update.outbox_id = delivery.outbox_id;
  update.attempts = attempts;
  update.last_error = delivered ? "" : error;
  if (delivered) {
    update.state = OutboxState::kDelivered;
    update.delivered_at = now;
    update.next_attempt_at = now;
    update.clear_payload = true;  // the digest stays as proof of what was sent
  } else if (attempts >= kMaxDeliveryAttempts) {
    update.state = OutboxState::kDead;
    update.next_attempt_at = now;
  } else {
    update.state = OutboxState::kPending;
    update.next_attempt_at = Timestamp{now.micros + OutboxRetryDelayMicros(attempts)};
  }
  batch.Add(update);
  batch.Add(store::RequestEventRow{
      controller_, delivery.request_id, 0, now, "system:outbox",
      delivered ? "delivered"
                : (update.state == OutboxState::kDead ? "delivery_abandoned" : "delivery_failed"),
      // The request's state does not change with a delivery; read it to keep the history true.
      [&] {
        auto request = store_.GetRequest(controller_, delivery.request_id);
        return request.ok() && request->has_value() ? (*request)->state : RequestState::kCompleted;
      }(),
      delivery.target + " (message " + std::to_string(delivery.outbox_id) + ")" +
          (delivered ? "" : ": " + error)});
  return audit_
      .Commit(std::move(batch),
              {Entry("system:outbox", delivered ? "outbox_delivered" : "outbox_failed", "", now,
                     delivery.target + " " + std::to_string(delivery.outbox_id))})
      .status();
}

Result<std::string> Engine::ReadOutboxMessage(int64_t outbox_id, const std::string& actor) {
  ASSIGN_OR_RETURN(std::vector<store::OutboxRow> all, store_.ListOutbox(controller_, ""));
  auto it = std::find_if(all.begin(), all.end(),
                         [&](const store::OutboxRow& m) { return m.outbox_id == outbox_id; });
  if (it == all.end())
    return Status(ErrorCode::kNotFound, "no outbox message " + std::to_string(outbox_id));
  if (it->sealed_payload.empty()) {
    return Status(ErrorCode::kNotFound, "outbox message " + std::to_string(outbox_id) +
                                            " was delivered; only its digest is kept");
  }
  ASSIGN_OR_RETURN(store::RequestRow request, LoadRequest(it->request_id));
  ASSIGN_OR_RETURN(crypto::SecretKey key, RequestKey(request));
  ASSIGN_OR_RETURN(
      std::string payload,
      crypto::Open(key, it->sealed_payload, RequestKeyContext(it->request_id) + "/outbox"));
  audit_.Record(
      Entry(actor, "outbox_read", "", clock_.Now(), it->target + " " + std::to_string(outbox_id)));
  RETURN_IF_ERROR(audit_.Flush());
  return payload;
}

Result<int64_t> Engine::PurgeClosedRequests(std::optional<Timestamp> as_of_opt,
                                            const std::string& actor) {
  Timestamp as_of = At(as_of_opt);
  ASSIGN_OR_RETURN(std::vector<store::RequestRow> rows, store_.ListRequests(controller_, false));
  int64_t purged = 0;
  for (auto& row : rows) {
    if (!row.closed_at || row.wrapped_key.empty()) continue;
    if (as_of.micros < row.closed_at->micros + kResultKeptMicros) continue;
    ASSIGN_OR_RETURN(std::vector<store::OutboxRow> outbox,
                     store_.ListOutbox(controller_, row.request_id));
    bool waiting = std::any_of(outbox.begin(), outbox.end(), [](const store::OutboxRow& m) {
      return m.state == OutboxState::kPending;
    });
    if (waiting) continue;  // a notice still to deliver needs the request's key
    const int64_t version = row.version;
    row.wrapped_key.clear();
    row.sealed_details.clear();
    row.sealed_result.clear();
    row.code_hash.clear();
    row.access_hash.clear();
    row.code_expires_at.reset();
    store::WriteBatch batch;
    AddRequestStep(batch, row, version, "personal_parts_shredded", row.state,
                   "requester's details and the answer destroyed; this history is the proof", actor,
                   as_of);
    Status committed =
        audit_.Commit(std::move(batch), {Entry(actor, "request_purge", "", as_of, row.request_id)})
            .status();
    if (committed.code() == ErrorCode::kInvalidArgument) continue;  // changed meanwhile
    RETURN_IF_ERROR(committed);
    ++purged;
  }
  return purged;
}

}  // namespace custos::engine
