// What changed between two versions of a policy, as the people it describes would care: purposes
// added or removed, a lawful basis changed, categories a purpose collects, recipients and the
// countries they are in, retention periods and the rights offered. Each change says whether it
// is material (people must be told before it applies: more data, more sharing, longer keeping,
// fewer rights, another basis) and whether it needs fresh consent (a new purpose resting on
// consent, or a purpose whose basis became consent). `custos policy diff OLD NEW` prints it.
// Thread-safety: pure functions.
#ifndef CUSTOS_POLICY_POLICY_DIFF_H_
#define CUSTOS_POLICY_POLICY_DIFF_H_

#include <string>
#include <vector>

#include "policy/policy.h"

namespace custos::policy {

struct PolicyChange {
  // purpose_added, purpose_removed, basis_changed, categories_added, categories_removed,
  // recipient_added, recipient_removed, countries_added, countries_removed, retention_added,
  // retention_removed, retention_changed, right_added, right_removed, notice_version,
  // consent_renewed (the purpose's consent_since moved: earlier consent no longer counts)
  std::string kind;
  std::string key;            // the purpose, recipient, retention rule or right it is about
  std::string before, after;  // what it was and is, in the policy's own words or keys
  bool material = false;
  bool needs_consent = false;
};

std::vector<PolicyChange> DiffPolicies(const Policy& before, const Policy& after);

// One line per change ("+ purpose_added newsletter: ... [material] [needs consent]"), or
// "no change" when there is none.
std::string PolicyDiffText(const std::vector<PolicyChange>& changes);
// {"changes": [{"kind", "key", "before", "after", "material", "needs_consent"}...],
//  "material": bool, "needs_consent": [purpose keys]}
std::string PolicyDiffJson(const std::vector<PolicyChange>& changes);

}  // namespace custos::policy

#endif  // CUSTOS_POLICY_POLICY_DIFF_H_
