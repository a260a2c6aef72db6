// Engine: the disclosure log. The application records what of a person it sent to which
// recipient, for which purpose; only what the policy (and so the notice) told the person may be
// recorded. Access packages list these disclosures and Article 19 notices follow them
// (request_notices.cc).
#include <algorithm>

#include "engine/engine.h"
#include "engine/request_internal.h"

namespace custos::engine {

using internal::Invalid;
using internal::RefsCover;

namespace internal {

Result<const policy::Recipient*> DisclosableTo(const policy::Policy& policy,
                                               const std::string& recipient_key,
                                               const std::string& purpose_key,
                                               const std::vector<std::string>& categories) {
  const policy::Recipient* recipient = policy.FindRecipient(recipient_key);
  if (recipient == nullptr) {
    return Invalid("recipient '" + recipient_key + "' is not in the policy");
  }
  const policy::Purpose* purpose = policy.FindPurpose(purpose_key);
  if (purpose == nullptr) return Invalid("purpose '" + purpose_key + "' is not in the policy");
  // The purpose names the recipient, or a processor the recipient works for.
  auto named = [&](const std::string& key) {
    return std::any_of(purpose->recipients.begin(), purpose->recipients.end(),
                       [&](const policy::Ref& r) { return r.key == key; });
  };
  if (!named(recipient->key) && !(recipient->processor_of && named(recipient->processor_of->key))) {
    return Invalid("purpose '" + purpose->key + "' does not name recipient '" + recipient->key +
                   "': the notice has not told people their data goes there for it");
  }
  if (categories.empty()) return Invalid("a disclosure names the categories sent");
  for (const auto& category : categories) {
    if (!RefsCover(purpose->categories, category)) {
      return Invalid("purpose '" + purpose->key + "' does not use '" + category + "'");
    }
    if (!recipient->categories.empty() && !RefsCover(recipient->categories, category)) {
      return Invalid("recipient '" + recipient->key + "' does not receive '" + category + "'");
    }
  }
  return recipient;
}

}  // namespace internal

Result<int64_t> Engine::RecordDisclosure(const Disclosure& disclosure) {
  ASSIGN_OR_RETURN(const policy::Recipient* recipient,
                   internal::DisclosableTo(policy_, disclosure.recipient, disclosure.purpose,
                                           disclosure.categories));
  ASSIGN_OR_RETURN(store::SubjectRow subject, ActiveSubject(disclosure.subject_id));
  (void)subject;
  const Timestamp at = At(disclosure.at);
  store::WriteBatch batch;
  batch.Add(store::DisclosureRow{controller_, disclosure.subject_id, 0, recipient->key,
                                 disclosure.purpose, disclosure.categories, at, ""});
  ASSIGN_OR_RETURN(
      store::AppliedIds ids,
      audit_.Commit(std::move(batch),
                    {Entry(disclosure.actor, "disclosure", disclosure.subject_id, at,
                           recipient->key + ": " + internal::Join(disclosure.categories),
                           disclosure.purpose)}));
  return ids.disclosure_ids.empty() ? 0 : ids.disclosure_ids.front();
}

}  // namespace custos::engine
