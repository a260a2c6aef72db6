// Semantic checks of a loaded Policy: references resolve, every purpose has a lawful basis
// (and states its legitimate interest), special category data has an Article 9 condition,
// everything collected has a retention rule, transfers respect the allowed regions.
// See docs/POLICY.md "Validation" for the codes.
// Thread-safety: reentrant.
#ifndef CUSTOS_POLICY_VALIDATOR_H_
#define CUSTOS_POLICY_VALIDATOR_H_

#include <functional>
#include <string_view>

#include "policy/diagnostic.h"
#include "policy/policy.h"

namespace custos::policy {

// Appends one diagnostic per problem to `diagnostics`, in file order where possible.
void ValidatePolicy(const Policy& policy, Diagnostics& diagnostics);

// The `systems:` section's references (systems_validator.cc); `known_category` says whether a
// category key is one the policy knows.
void ValidateSystems(const Policy& policy,
                     const std::function<bool(std::string_view)>& known_category,
                     Diagnostics& diagnostics);

}  // namespace custos::policy

#endif  // CUSTOS_POLICY_VALIDATOR_H_
