// Engine: Article 19 for rights requests. Which recipients received the changed data of these
// people (RecipientsOf, from the policy and the person's purposes and consents), the OpenDSR-
// shaped notice each gets through the outbox (AddRecipientNotice; also a processor's notice to
// its controller), and the list of recipients told, for the person (RequestRecipients).
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <map>
#include <set>

#include "crypto/blind_index.h"
#include "crypto/sealing.h"
#include "engine/engine.h"
#include "engine/request_internal.h"

namespace custos::engine {

namespace {

using internal::Covers;
using internal::Details;
using internal::Join;
using internal::ReadDetails;
using internal::RefsCover;
using internal::Str;
using internal::Writer;

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
  // Once the disclosure log names recipients of this person's data, those are the ones told
  // (with the sub-processors of a processor they went to), `when` recipients included: the
  // occasion is on record. Until then, the recipients the policy's purposes name.
  std::map<std::string, std::set<std::string>> disclosed;
  for (const auto& subject_id : subject_ids) {
    ASSIGN_OR_RETURN(std::vector<store::DisclosureRow> log,
                     store_.ListDisclosures(controller_, subject_id));
    for (const auto& d : log) {
      for (const auto& category : d.categories) {
        if (Covers(categories, category)) disclosed[d.recipient].insert(category);
      }
    }
  }
  const bool logged = !disclosed.empty();
  if (logged) {
    for (const auto& recipient : policy_.recipients) {
      if (!recipient.processor_of) continue;
      auto of = disclosed.find(recipient.processor_of->key);
      if (of == disclosed.end()) continue;
      for (const auto& category : std::set<std::string>(of->second)) {
        if (recipient_gets(recipient, category)) disclosed[recipient.key].insert(category);
      }
    }
    by_recipient = std::move(disclosed);
  }
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& recipient : policy_.recipients) {  // in the policy's order
    // A recipient that receives data only on occasions (`when`: a court order, a threat) has
    // it only if such an occasion happened, which custos does not record.
    if (!NotifiableRecipient(recipient.kind) || (!logged && !recipient.when.empty())) continue;
    auto it = by_recipient.find(recipient.key);
    if (it != by_recipient.end()) {
      out.emplace_back(recipient.key,
                       std::vector<std::string>(it->second.begin(), it->second.end()));
    }
  }
  return out;
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

}  // namespace custos::engine
