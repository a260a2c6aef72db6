#include "engine/application_grant.h"

#include <algorithm>

#include "engine/request_internal.h"

namespace custos::engine {

using internal::Invalid;
using internal::RefsCover;

namespace {

bool Named(const std::vector<policy::Ref>& refs, std::string_view key) {
  return std::any_of(refs.begin(), refs.end(), [&](const policy::Ref& r) { return r.key == key; });
}

bool Granted(const std::vector<std::string>& scope, std::string_view category) {
  return std::any_of(scope.begin(), scope.end(), [&](const std::string& granted) {
    return policy::CategoryCovers(granted, category);
  });
}

}  // namespace

Status CheckApplicationGrant(const policy::Policy& policy, const ApplicationGrant& grant,
                             Timestamp now) {
  if (!policy.third_party_apps.present) {
    return Invalid(
        "the policy does not let third-party applications be authorised: add `third_party_apps:` "
        "(who authorises them and whether they can revoke) so the notice tells people first");
  }
  if (grant.application.empty() || grant.application.size() > kMaxApplicationName) {
    return Invalid("an application needs a name of 1 to " + std::to_string(kMaxApplicationName) +
                   " bytes");
  }
  if (std::any_of(grant.application.begin(), grant.application.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    return Invalid("an application's name has no control characters");
  }
  const policy::Recipient* recipient = policy.FindRecipient(grant.recipient);
  if (recipient == nullptr) {
    return Invalid("recipient '" + grant.recipient + "' is not in the policy");
  }
  if (recipient->kind != policy::RecipientKind::kThirdParty) {
    return Invalid("recipient '" + recipient->key +
                   "' is not a third party: an application is authorised as one of the "
                   "policy's third-party recipients");
  }
  if (grant.purposes.empty()) return Invalid("a grant names at least one purpose");
  if (grant.categories.empty()) return Invalid("a grant names at least one category");
  std::vector<const policy::Purpose*> purposes;
  for (const auto& key : grant.purposes) {
    const policy::Purpose* purpose = policy.FindPurpose(key);
    if (purpose == nullptr) return Invalid("purpose '" + key + "' is not in the policy");
    if (!Named(purpose->recipients, recipient->key)) {
      return Invalid("purpose '" + key + "' does not name recipient '" + recipient->key +
                     "': the notice has not told people their data goes there for it");
    }
    purposes.push_back(purpose);
  }
  for (const auto& category : grant.categories) {
    if (!recipient->categories.empty() && !RefsCover(recipient->categories, category)) {
      return Invalid("recipient '" + recipient->key + "' does not receive '" + category + "'");
    }
    if (std::none_of(purposes.begin(), purposes.end(), [&](const policy::Purpose* p) {
          return RefsCover(p->categories, category);
        })) {
      return Invalid("no granted purpose uses '" + category + "'");
    }
  }
  if (!(now < grant.expires_at)) {
    return Invalid("a grant's expiry must be after now (" + now.ToString() + ")");
  }
  return Status::Ok();
}

Status GrantCovers(const ApplicationGrant& grant, std::string_view purpose,
                   const std::vector<std::string>& categories, Timestamp at) {
  if (GrantEnded(grant, at)) {
    return Status(ErrorCode::kGrantExpired,
                  "the authorisation of this application ended at " + grant.expires_at.ToString());
  }
  if (std::find(grant.purposes.begin(), grant.purposes.end(), purpose) == grant.purposes.end()) {
    return Status(ErrorCode::kOutsideGrant,
                  "purpose '" + std::string(purpose) + "' is not in this application's grant");
  }
  for (const auto& category : categories) {
    if (!Granted(grant.categories, category)) {
      return Status(ErrorCode::kOutsideGrant,
                    "category '" + category + "' is not in this application's grant");
    }
  }
  return Status::Ok();
}

}  // namespace custos::engine
