// The words a person reads in a message custos writes to them (a breach notice, a notice of a
// changed privacy notice): the policy's names for its categories, people, purposes and
// recipients, and who to contact. Thread-safety: pure functions.
#ifndef CUSTOS_ENGINE_PEOPLE_WORDS_H_
#define CUSTOS_ENGINE_PEOPLE_WORDS_H_

#include <string>
#include <string_view>
#include <vector>

#include "policy/policy.h"

namespace custos::engine {

// The policy's name for a key, or the key itself when the policy gives no name.
std::string CategoryName(const policy::Policy& policy, const std::string& key);
std::string SubjectTypeName(const policy::Policy& policy, const std::string& key);
std::string PurposeName(const policy::Policy& policy, const std::string& key);
std::string RecipientName(const policy::Policy& policy, const std::string& key);

// The names of `keys` joined with ", ", or `none` when there are none.
std::string Names(const policy::Policy& policy, const std::vector<std::string>& keys,
                  std::string (*name)(const policy::Policy&, const std::string&),
                  std::string_view none);

// Who to contact: the DPO when there is one, else the security or general contact, else the
// organisation itself; a name with its e-mail address and phone number.
std::string ContactPoint(const policy::Policy& policy);

}  // namespace custos::engine

#endif  // CUSTOS_ENGINE_PEOPLE_WORDS_H_
