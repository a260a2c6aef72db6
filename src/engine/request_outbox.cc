// Engine: the outbox of rights requests. Messages that must leave custos (to the requester,
// to recipients, to a processor's controller) are written, sealed with the request's key, in
// the same transaction as the change that causes them; recipients' webhook endpoints decide
// whether a message goes automatically or waits for a person; claiming due messages under a
// lease, recording each delivery attempt (with backoff, then dead), and reading a waiting
// message by hand.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>

#include "crypto/sealing.h"
#include "engine/engine.h"
#include "engine/mail_endpoint.h"
#include "engine/policy_change_notice.h"
#include "engine/request_internal.h"

namespace custos::engine {

namespace {

using internal::Invalid;
using internal::Str;
using internal::Writer;
using store::OutboxState;
using store::RequestState;

// What a person's own notice carries once someone took it out of the outbox by hand.
constexpr char kReadByHand[] = "read by hand";

// Whether an outbox payload is a message to a person who gave an e-mail address.
bool AddressedToEmail(const std::string& payload) {
  rapidjson::Document doc;
  doc.Parse(payload.c_str(), payload.size());
  return !doc.HasParseError() && doc.IsObject() && doc.HasMember("to") && doc["to"].IsObject() &&
         internal::GetString(doc["to"], "kind") == "email";
}

}  // namespace

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
  // A message about stopping direct marketing is marketing-related: the mail notifier gives it
  // a one-click unsubscribe (List-Unsubscribe, RFC 8058).
  if (row.type == "objection" || row.type == "withdraw_consent") {
    auto details = internal::ReadDetails(key, row, RequestKeyContext(row.request_id));
    if (details.ok()) {
      const policy::Purpose* purpose = policy_.FindPurpose(details->purpose);
      if (details->purpose == "direct_marketing" ||
          (purpose != nullptr && purpose->direct_marketing)) {
        w.Key("marketing");
        w.Bool(true);
        Str(w, "unsubscribe_token", MessageUnsubscribeToken(row.request_id));
      }
    }
  }
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
  return AddOutboxMessage(batch, row.request_id, key, RequestKeyContext(row.request_id), kind,
                          target, payload, at);
}

// `reference` is what the message belongs to: a request id, or "breach:" and a breach id; the
// payload is sealed with that one's key under `key_context` + "/outbox".
Status Engine::AddOutboxMessage(store::WriteBatch& batch, const std::string& reference,
                                const crypto::SecretKey& key, const std::string& key_context,
                                const std::string& kind, const std::string& target,
                                const std::string& payload, Timestamp at) {
  ASSIGN_OR_RETURN(std::optional<store::RecipientEndpointRow> endpoint,
                   store_.GetRecipientEndpoint(controller_, target));
  // A mail server cannot reach someone who gave a phone number: that message waits for a person.
  const bool by_hand =
      endpoint.has_value() && IsMailServerUrl(endpoint->url) && !AddressedToEmail(payload);
  store::OutboxRow message;
  message.controller = controller_;
  message.request_id = reference;
  message.kind = kind;
  message.target = target;
  message.state = endpoint.has_value() && !by_hand ? OutboxState::kPending : OutboxState::kManual;
  message.created_at = at;
  message.next_attempt_at = at;
  message.payload_digest = internal::PayloadDigest(payload);
  message.sealed_payload = crypto::Seal(key, payload, key_context + "/outbox");
  batch.Add(std::move(message));
  return Status::Ok();
}

Status Engine::SetRecipientEndpoint(const std::string& recipient, const std::string& url,
                                    const std::string& secret, std::optional<Timestamp> at_opt,
                                    const std::string& actor) {
  if (recipient != "requester" && recipient != "controller" && !policy_.FindRecipient(recipient)) {
    return Invalid("recipient '" + recipient + "' is not in the policy (or requester, controller)");
  }
  const bool mail = IsMailServerUrl(url);
  if (mail && recipient != "requester") {
    return Invalid("only the requester's messages go by e-mail (smtp:// or smtps://)");
  }
  if (!mail && url.rfind("https://", 0) != 0 && url.rfind("http://127.0.0.1", 0) != 0 &&
      url.rfind("http://localhost", 0) != 0) {
    return Invalid("a webhook URL is https:// (plain http only to this machine)");
  }
  // A mail server's credentials come from the notifier's configuration, never the store.
  if (mail && !secret.empty()) return Invalid("a mail server endpoint takes no secret");
  if (!mail && secret.size() < 16) return Invalid("a webhook secret has at least 16 characters");
  Timestamp at = At(at_opt);
  store::WriteBatch batch;
  batch.Add(store::RecipientEndpointRow{
      controller_, recipient, url,
      crypto::Seal(EndpointKey(), secret, controller_ + "/endpoint/" + recipient), at});
  // Messages that waited by hand for want of an endpoint go by webhook from now on, except
  // those a person already handled (read out of the outbox) and codes nobody can use any more.
  ASSIGN_OR_RETURN(std::vector<store::OutboxRow> outbox, store_.ListOutbox(controller_, ""));
  int64_t requeued = 0, kept = 0;
  for (const auto& message : outbox) {
    if (message.target != recipient || message.state != OutboxState::kManual ||
        message.sealed_payload.empty()) {
      continue;
    }
    ASSIGN_OR_RETURN(bool stays, StaysManual(message, outbox, at));
    if (!stays && mail) {
      // A mail server cannot reach someone who gave a phone number.
      ASSIGN_OR_RETURN(std::string payload, OpenOutboxPayload(message));
      stays = !AddressedToEmail(payload);
      sodium_memzero(payload.data(), payload.size());
    }
    if (stays) {
      ++kept;
      continue;
    }
    batch.Add(store::UpdateOutbox{controller_, message.outbox_id, OutboxState::kPending,
                                  message.attempts, at, std::nullopt, "", false});
    ++requeued;
  }
  return audit_
      .Commit(std::move(batch),
              {Entry(actor, "endpoint_set", "", at,
                     recipient + "; " + std::to_string(requeued) + " waiting message(s) queued, " +
                         std::to_string(kept) + " left to be handled by hand")})
      .status();
}

// A waiting message stays manual when an endpoint appears if a person read it out already (the
// request's history has its outbox_read step), or if it carries a one-time code that can no
// longer be used: the request is past identity, a newer message of the request replaced it, or
// the code expired. Sending such a message again would only confuse the person.
Result<bool> Engine::StaysManual(const store::OutboxRow& message,
                                 const std::vector<store::OutboxRow>& outbox, Timestamp at) {
  if (std::optional<std::string> breach = BreachOfMessage(message)) {
    ASSIGN_OR_RETURN(Breach b, LoadBreach(*breach));
    const auto& read = b.details.messages_read_by_hand;
    return std::find(read.begin(), read.end(), message.outbox_id) != read.end();
  }
  if (PersonOfMessage(message)) return message.last_error == kReadByHand;
  ASSIGN_OR_RETURN(std::vector<store::RequestEventRow> events,
                   store_.ListRequestEvents(controller_, message.request_id));
  const std::string read = OutboxMessageLabel(message);
  for (const auto& e : events) {
    if (e.event == "outbox_read" && e.detail == read) return true;
  }
  if (message.kind != "requester_message") return false;
  ASSIGN_OR_RETURN(store::RequestRow request, LoadRequest(message.request_id));
  ASSIGN_OR_RETURN(crypto::SecretKey key, RequestKey(request));
  ASSIGN_OR_RETURN(
      std::string payload,
      crypto::Open(key, message.sealed_payload, RequestKeyContext(message.request_id) + "/outbox"));
  rapidjson::Document doc;
  doc.Parse(payload.c_str(), payload.size());
  const bool has_code = !doc.HasParseError() && doc.IsObject() && doc.HasMember("code");
  sodium_memzero(payload.data(), payload.size());
  if (!has_code) return false;
  if (request.state != RequestState::kVerifyingIdentity || request.code_hash.empty()) return true;
  if (!request.code_expires_at || at >= *request.code_expires_at) return true;
  // Only the request's newest code works (a new one replaces the old).
  for (const auto& other : outbox) {
    if (other.request_id == message.request_id && other.kind == "requester_message" &&
        other.outbox_id > message.outbox_id) {
      return true;
    }
  }
  return false;
}

bool IsMailServerUrl(std::string_view url) {
  auto starts = [&](std::string_view scheme) {
    if (url.size() < scheme.size()) return false;
    for (size_t i = 0; i < scheme.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(url[i])) != scheme[i]) return false;
    }
    return true;
  };
  return starts("smtp://") || starts("smtps://");
}

std::string OutboxMessageLabel(const store::OutboxRow& message) {
  return message.target + " (message " + std::to_string(message.outbox_id) + ")";
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

std::optional<std::string> Engine::BreachOfMessage(const store::OutboxRow& message) {
  if (!message.request_id.starts_with(kBreachReferencePrefix)) return std::nullopt;
  return message.request_id.substr(kBreachReferencePrefix.size());
}

Result<std::string> Engine::OpenOutboxPayload(const store::OutboxRow& message) {
  if (std::optional<std::string> breach_id = BreachOfMessage(message)) {
    ASSIGN_OR_RETURN(store::BreachRow row, LoadBreachRow(*breach_id));
    ASSIGN_OR_RETURN(crypto::SecretKey key, BreachKey(row));
    return crypto::Open(key, message.sealed_payload, BreachKeyContext(*breach_id) + "/outbox");
  }
  if (std::optional<std::string> subject_id = PersonOfMessage(message)) {
    ASSIGN_OR_RETURN(store::SubjectRow subject, ActiveSubject(*subject_id));
    ASSIGN_OR_RETURN(crypto::SecretKey key, DataKey(subject));
    return crypto::Open(key, message.sealed_payload, KeyContext(*subject_id) + "/outbox");
  }
  ASSIGN_OR_RETURN(store::RequestRow request, LoadRequest(message.request_id));
  ASSIGN_OR_RETURN(crypto::SecretKey key, RequestKey(request));
  return crypto::Open(key, message.sealed_payload,
                      RequestKeyContext(message.request_id) + "/outbox");
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
    Status problem = Status::Ok();
    if (!endpoint.has_value()) problem = Status(ErrorCode::kNotFound, "no endpoint");
    std::string payload, secret;
    if (problem.ok()) {
      auto opened = OpenOutboxPayload(message);
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
      // Nobody can deliver it automatically: leave it for a person (manual), say why; a
      // person's own notice after they were erased has nobody to go to, and cannot be read.
      const bool erased =
          problem.code() == ErrorCode::kSubjectErased && PersonOfMessage(message).has_value();
      store::WriteBatch batch;
      batch.Add(store::UpdateOutbox{controller_, message.outbox_id,
                                    erased ? OutboxState::kDead : OutboxState::kManual,
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
  const bool permanent = !delivered && IsPermanentFailure(error);
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
  } else if (permanent || attempts >= kMaxDeliveryAttempts) {
    update.state = OutboxState::kDead;
    update.next_attempt_at = now;
  } else {
    update.state = OutboxState::kPending;
    update.next_attempt_at = Timestamp{now.micros + OutboxRetryDelayMicros(attempts)};
  }
  batch.Add(update);
  const bool of_request = !delivery.request_id.starts_with(kBreachReferencePrefix) &&
                          !delivery.request_id.starts_with(kPersonReferencePrefix);
  if (of_request) {
    batch.Add(store::RequestEventRow{
        controller_, delivery.request_id, 0, now, "system:outbox",
        delivered ? "delivered"
                  : (update.state == OutboxState::kDead ? "delivery_abandoned" : "delivery_failed"),
        // The request's state does not change with a delivery; read it to keep the history true.
        [&] {
          auto request = store_.GetRequest(controller_, delivery.request_id);
          return request.ok() && request->has_value() ? (*request)->state
                                                      : RequestState::kCompleted;
        }(),
        delivery.target + " (message " + std::to_string(delivery.outbox_id) + ")" +
            (delivered ? "" : ": " + error)});
  }
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
  ASSIGN_OR_RETURN(std::string payload, OpenOutboxPayload(*it));
  // Read by hand: a person takes the message from here, so it is never sent automatically
  // later (SetRecipientEndpoint), and the request's history (or the breach's record) says so.
  Timestamp now = clock_.Now();
  store::WriteBatch batch;
  if (std::optional<std::string> breach_id = BreachOfMessage(*it)) {
    ASSIGN_OR_RETURN(Breach breach, LoadBreach(*breach_id));
    breach.details.messages_read_by_hand.push_back(outbox_id);
    RETURN_IF_ERROR(AddBreachUpdate(batch, breach, now));
  } else if (PersonOfMessage(*it)) {
    // A person's own notice has no history of its own: the message itself says it was read.
    batch.Add(store::UpdateOutbox{controller_, outbox_id, it->state, it->attempts,
                                  it->next_attempt_at, it->delivered_at, kReadByHand, false});
  } else {
    ASSIGN_OR_RETURN(store::RequestRow request, LoadRequest(it->request_id));
    batch.Add(store::RequestEventRow{controller_, it->request_id, 0, now, actor, "outbox_read",
                                     request.state, OutboxMessageLabel(*it)});
  }
  RETURN_IF_ERROR(
      audit_
          .Commit(std::move(batch), {Entry(actor, "outbox_read", "", now,
                                           it->target + " " + std::to_string(outbox_id))})
          .status());
  return payload;
}

}  // namespace custos::engine
