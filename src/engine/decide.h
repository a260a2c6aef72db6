// Decide: the rules that answer a DecisionRequest, as a pure function of the policy and one
// subject's state. No I/O, no clock: the time is in the request. Engine::Decide wraps it with
// state lookup and the audit log.
// Thread-safety: reentrant.
#ifndef CUSTOS_ENGINE_DECIDE_H_
#define CUSTOS_ENGINE_DECIDE_H_

#include "engine/decision.h"
#include "engine/subject_state.h"
#include "policy/policy.h"

namespace custos::engine {

// `state` is nullptr for an unknown subject. Every applicable reason is reported, not only
// the first, so a caller can see all that stands in the way.
Decision Decide(const policy::Policy& policy, const SubjectState* state,
                const DecisionRequest& request);

// When the retention of `category` of this subject (collected for `purpose`) runs out under
// `rule`, as of `at`; nullopt when the rule does not apply or its trigger has not happened.
std::optional<Timestamp> RetentionDeadline(const policy::Policy& policy,
                                           const policy::RetentionRule& rule,
                                           const SubjectState& state, std::string_view category,
                                           std::string_view purpose, Timestamp at);

}  // namespace custos::engine

#endif  // CUSTOS_ENGINE_DECIDE_H_
