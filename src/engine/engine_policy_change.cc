// Telling people of a changed policy: when a new version changes something material for them
// (policy/policy_diff.h), each active person a change reaches, and who gave an e-mail address,
// is sent the notice engine/policy_change_notice.h writes, through the outbox, sealed with
// that person's own key (so erasing the person makes an unsent notice unreadable too).
#include <sodium.h>

#include <algorithm>

#include "crypto/sealing.h"
#include "engine/engine.h"
#include "engine/policy_change_notice.h"
#include "engine/request_internal.h"

namespace custos::engine {

namespace {

constexpr size_t kNoticesPerBatch = 500;

// The person's e-mail address to write to: a verified one before one that is not.
const store::IdentifierRow* EmailOf(const std::vector<store::IdentifierRow>& identifiers) {
  const store::IdentifierRow* best = nullptr;
  for (const auto& identifier : identifiers) {
    if (identifier.kind != "email") continue;
    if (best == nullptr || (identifier.verified && !best->verified)) best = &identifier;
  }
  return best;
}

}  // namespace

std::optional<std::string> Engine::PersonOfMessage(const store::OutboxRow& message) {
  if (!message.request_id.starts_with(kPersonReferencePrefix)) return std::nullopt;
  return message.request_id.substr(kPersonReferencePrefix.size());
}

Result<Engine::ChangeNotices> Engine::QueuePolicyChangeNotices(
    const policy::Policy& before, const std::vector<policy::PolicyChange>& changes, Timestamp at) {
  ChangeNotices count;
  store::WriteBatch batch;
  RETURN_IF_ERROR(ForEachPerson([&](const store::SweepSubject& person) -> Status {
    const store::SubjectRow& subject = person.subject;
    if (subject.state == store::SubjectState::kErased) return Status::Ok();
    std::vector<policy::PolicyChange> reaching = ChangesReaching(policy_, changes, subject.types);
    if (reaching.empty()) return Status::Ok();
    const store::IdentifierRow* email = EmailOf(person.identifiers);
    if (email == nullptr) {
      ++count.without_address;
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(crypto::SecretKey key, DataKey(subject));
    ASSIGN_OR_RETURN(std::string address,
                     crypto::Open(key, email->sealed_value,
                                  KeyContext(subject.subject_id) + "/id/" + email->kind));
    const PolicyChangeNotice notice = PolicyChangeNoticeFor(before, policy_, reaching);
    const std::string reference = std::string(kPersonReferencePrefix) + subject.subject_id;
    std::string payload = internal::PersonMessagePayload(
        reference, policy_.controller.name, "email", address, notice.subject, notice.body,
        {{"policy_version", policy_.notice.version}});
    sodium_memzero(address.data(), address.size());
    // The same notice queued by a load that was cut short is not queued again: the payload
    // is deterministic, and its digest is kept beside the message.
    const store::Bytes digest = internal::PayloadDigest(payload);
    ASSIGN_OR_RETURN(std::vector<store::OutboxRow> sent, store_.ListOutbox(controller_, reference));
    const bool queued_before =
        std::any_of(sent.begin(), sent.end(),
                    [&](const store::OutboxRow& m) { return m.payload_digest == digest; });
    if (queued_before) {
      ++count.queued_before;
    } else {
      RETURN_IF_ERROR(AddOutboxMessage(batch, reference, key, KeyContext(subject.subject_id),
                                       "policy_change_notice", "requester", payload, at));
      ++count.queued;
    }
    sodium_memzero(payload.data(), payload.size());
    return batch.ops.size() >= kNoticesPerBatch ? CommitPart(batch) : Status::Ok();
  }));
  RETURN_IF_ERROR(CommitPart(batch));
  return count;
}

}  // namespace custos::engine
