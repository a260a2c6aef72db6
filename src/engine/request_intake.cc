// Engine: how a rights request comes in and whose it is. Opening it (by the person or by
// staff, or passing it to the controller when this organisation is a processor); the one-time
// code sent to the email or phone given, checked, and sent again; identity checked by staff;
// and the requester secret that lets the person follow the request once identity is proven.
#include <sodium.h>

#include <algorithm>

#include "crypto/blind_index.h"
#include "crypto/hash_chain.h"
#include "crypto/sealing.h"
#include "engine/engine.h"
#include "engine/identifier_form.h"
#include "engine/request_internal.h"
#include "engine/retention.h"
#include "policy/taxonomy.h"

namespace custos::engine {

namespace {

using internal::Details;
using internal::Invalid;
using internal::Join;
using internal::ReadDetails;
using store::RequestState;

// A one-time code lives this long (how often it may be tried, and how many a request and an
// address may have: engine.h).
constexpr int64_t kCodeLifetimeMicros = int64_t{30} * 60 * 1000000;
constexpr int64_t kDayMicros = int64_t{24} * 60 * 60 * 1000000;

// How many of a request's history events are `event`.
int64_t CountEvents(const std::vector<store::RequestEventRow>& events, std::string_view event) {
  return std::count_if(events.begin(), events.end(),
                       [&](const store::RequestEventRow& e) { return e.event == event; });
}

Status Locked(const std::string& request_id) {
  return Status(ErrorCode::kTooManyAttempts, "request " + request_id + " is locked after " +
                                                 std::to_string(kMaxFailedCodeAttempts) +
                                                 " wrong codes; staff can still check identity");
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

}  // namespace

store::Bytes Engine::RequestSecretHash(const std::string& request_id, const std::string& kind,
                                       const std::string& secret) const {
  return crypto::BlindIndex(master_key_.BlindIndexKey(), "request-" + kind + ":" + request_id,
                            secret);
}

Result<OpenedRequest> Engine::OpenRequest(const NewRequest& request, int64_t* retry_after_seconds) {
  return OpenRequestOfType(request, retry_after_seconds, false);
}

Result<OpenedRequest> Engine::OpenPreferencesSignIn(const RequestIdentifier& contact,
                                                    std::optional<Timestamp> at,
                                                    int64_t* retry_after_seconds) {
  NewRequest request;
  request.type = std::string(kPreferencesSignIn);
  request.contact = contact;
  request.at = at;
  request.actor = "requester";
  return OpenRequestOfType(request, retry_after_seconds, true);
}

Result<OpenedRequest> Engine::OpenRequestOfType(const NewRequest& request,
                                                int64_t* retry_after_seconds, bool sign_in) {
  if (retry_after_seconds != nullptr) *retry_after_seconds = 0;
  if (sign_in) {
    // Only the person, with a code: nothing else to check against the policy's rights.
  } else if (!IsRequestType(request.type)) {
    return Invalid("request type '" + request.type +
                   "' is not one of access, portability, "
                   "rectification, erasure, restriction, objection, withdraw_consent, "
                   "automated_decision_review");
  }
  const auto& available = policy_.rights.available;
  if (!sign_in && std::find(available.begin(), available.end(), request.type) == available.end()) {
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
    // A corrected email or phone is held to the form a new one must have.
    for (const char* kind : {"email", "phone"}) {
      if (r.category == IdentifierCategory(kind)) {
        RETURN_IF_ERROR(CheckIdentifierForm(kind, r.value));
      }
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
    RETURN_IF_ERROR(CheckIdentifierForm(request.contact.kind, request.contact.value));
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
  const bool forward = !sign_in && policy_.controller.role == policy::Role::kProcessor &&
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
  if (!code.empty()) {
    RETURN_IF_ERROR(CountCodeSend(batch, request.contact, at, retry_after_seconds));
  }
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
  } else if (sign_in) {
    RETURN_IF_ERROR(AddRequesterMessage(
        batch, row, key, request.contact, "Your code to see your privacy preferences",
        "Someone, probably you, asked to see and change their privacy preferences with " +
            policy_.controller.name + ". To confirm it is you, enter this code: " + code +
            ". It is valid for 30 minutes. If this was not you, ignore this message.",
        code, at));
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
                                          std::optional<Timestamp> at_opt,
                                          std::string_view only_type) {
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  if (!only_type.empty() && row.type != only_type) {
    return Status(ErrorCode::kUnknownRequest, "no " + std::string(only_type) + " " + request_id);
  }
  Timestamp at = At(at_opt);
  if (row.state != RequestState::kVerifyingIdentity || row.code_hash.empty()) {
    return Status(ErrorCode::kRequestState,
                  "request " + request_id + " is not waiting for a one-time code");
  }
  // Wrong guesses count over every code the request had: a new code does not reset them.
  ASSIGN_OR_RETURN(std::vector<store::RequestEventRow> events,
                   store_.ListRequestEvents(controller_, request_id));
  const int64_t failed = CountEvents(events, "code_rejected");
  if (failed >= kMaxFailedCodeAttempts) return Locked(request_id);
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
    if (failed + 1 >= kMaxFailedCodeAttempts) return Locked(request_id);
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
  if (row.type == kPreferencesSignIn) {
    // Nothing to answer: the proven identifier opens the person's own preferences, and the
    // sign-in closes at once (the secret works for kPreferencesSignInMicros from now).
    row.state = RequestState::kCompleted;
    row.closed_at = at;
    row.outcome = "signed_in";
    AddRequestStep(batch, row, version, "identity_verified", RequestState::kCompleted,
                   row.verification + "; " + std::to_string(row.subject_ids.size()) +
                       " subject(s) found; signed in to preferences",
                   "requester", at);
    RETURN_IF_ERROR(audit_
                        .Commit(std::move(batch), {Entry("requester", "preferences_sign_in",
                                                         Join(row.subject_ids), at, request_id)})
                        .status());
    return secret;
  }
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
                                 const std::string& actor, int64_t* retry_after_seconds) {
  if (retry_after_seconds != nullptr) *retry_after_seconds = 0;
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  Timestamp at = At(at_opt);
  if (row.state != RequestState::kVerifyingIdentity || row.intake != "self_service") {
    return Status(ErrorCode::kRequestState,
                  "request " + request_id + " is not waiting for a one-time code");
  }
  ASSIGN_OR_RETURN(crypto::SecretKey key, RequestKey(row));
  ASSIGN_OR_RETURN(Details details, ReadDetails(key, row, RequestKeyContext(row.request_id)));
  ASSIGN_OR_RETURN(std::vector<store::RequestEventRow> events,
                   store_.ListRequestEvents(controller_, request_id));
  if (CountEvents(events, "code_rejected") >= kMaxFailedCodeAttempts) return Locked(request_id);
  // The first code came with the request; waiting does not lift this cap.
  if (CountEvents(events, "code_sent") > kMaxCodeResends) {
    return Status(ErrorCode::kTooManyCodes, "request " + request_id + " already had " +
                                                std::to_string(kMaxCodeResends) +
                                                " new codes; staff can still check identity");
  }
  store::WriteBatch batch;
  RETURN_IF_ERROR(CountCodeSend(batch, details.contact, at, retry_after_seconds));
  const int64_t version = row.version;
  std::string code = NewCode();
  row.code_hash = RequestSecretHash(request_id, "code", code);
  row.code_expires_at = Timestamp{at.micros + kCodeLifetimeMicros};
  // This code's own tries start again; the request's total (above) does not.
  row.code_attempts = 0;
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

Status Engine::CountCodeSend(store::WriteBatch& batch, const RequestIdentifier& contact,
                             Timestamp at, int64_t* retry_after_seconds) {
  store::Bytes address = IdentifierHash(contact.kind, contact.value);
  // The 24 hours before `at`: a code sent exactly a day ago no longer counts.
  const Timestamp since{at.micros - kDayMicros + 1};
  ASSIGN_OR_RETURN(std::vector<Timestamp> sent, store_.ListCodeSends(controller_, address, since));
  if (static_cast<int64_t>(sent.size()) >= kMaxCodesPerAddressPerDay) {
    // One more may go when the oldest of the last kMaxCodesPerAddressPerDay turns a day old.
    const Timestamp frees = sent[sent.size() - kMaxCodesPerAddressPerDay];
    if (retry_after_seconds != nullptr) {
      *retry_after_seconds =
          std::max<int64_t>(1, (frees.micros + kDayMicros - at.micros + 999999) / 1000000);
    }
    return Status(ErrorCode::kTooManyCodes, "this " + contact.kind + " already received " +
                                                std::to_string(kMaxCodesPerAddressPerDay) +
                                                " codes in the last 24 hours; try again later");
  }
  batch.Add(store::ForgetCodeSends{controller_, since});
  batch.Add(store::CodeSendRow{controller_, std::move(address), at});
  return Status::Ok();
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

}  // namespace custos::engine
