// StaffScope: what a staff token may see of a person, from the purposes on the token and what
// the policy says those purposes use. Admins, the DPO and subjects see everything of whom
// they may read (a subject only themselves, checked in Handle()); processors are narrowed to
// their categories elsewhere. The rule, for a staff token:
//   - a record: its purpose is on the token and its category is one the token's purposes use
//     (the category or one under it);
//   - an identifier: the token's purposes use its category (email user.contact.email, phone
//     user.contact.phone_number, external user.unique_id, as retention counts them);
//   - a consent: given or withdrawn for a purpose on the token (cookie consents: never);
//   - a preference: for a channel one of the token's purposes contacts people on;
//   - an objection: to a purpose on the token, to all processing on legitimate interests, or
//     to direct marketing when a purpose on the token is direct marketing;
//   - a restriction: of all the person's data, or of a category the token's purposes use;
//   - a lifecycle event: one a retention rule of the token's purposes (or, for a rule naming
//     no purpose, of a category overlapping one they use) counts from.
// Rights requests for access or portability hand over everything of a person: staff neither
// open nor fulfil them nor read them or their documents (the DPO and admins do).
// Thread-safety: an immutable value; build one per request.
#ifndef CUSTOS_API_STAFF_SCOPE_H_
#define CUSTOS_API_STAFF_SCOPE_H_

#include <string>
#include <string_view>
#include <vector>

#include "api/auth.h"
#include "policy/policy.h"

namespace custos::api {

class StaffScope {
 public:
  // Everything, unless `who` is a staff token.
  StaffScope(const Principal* who, const policy::Policy& policy);

  bool narrowed() const { return narrowed_; }
  bool Category(std::string_view category) const;
  bool Record(std::string_view purpose, std::string_view category) const;
  bool Identifier(std::string_view kind) const;
  bool Purpose(std::string_view purpose) const;
  bool Channel(std::string_view channel) const;
  bool Objection(std::string_view purpose) const;
  bool Restriction(const std::vector<std::string>& categories) const;
  bool Event(std::string_view event) const;

 private:
  bool narrowed_ = false;
  bool direct_marketing_ = false;  // a purpose on the token is direct marketing
  std::vector<std::string> purposes_, categories_, channels_, events_;
};

// Request types whose answer is a copy of everything held about the person.
bool IsCopyOfEverything(std::string_view request_type);

}  // namespace custos::api

#endif  // CUSTOS_API_STAFF_SCOPE_H_
