// What a person is told when a new version of the policy changes what happens to their data in a
// way that matters to them (policy/policy_diff.h calls such a change material): which changes
// reach a person, by the kinds of person the changed purposes, recipients and retention rules
// are about, and the message in plain words.
// Seeds: ProtectUK "If we need to use your personal data for an unrelated purpose, we will
// notify you and we will explain the legal basis which allows us to do so"; Pluggin
// "If we collect materially different personal data or materially change how we use your data,
// we will notify you"; ProgressTeaching "Where you have given us your email address, we may use
// this to notify you of such changes".
// Thread-safety: pure functions.
#ifndef CUSTOS_ENGINE_POLICY_CHANGE_NOTICE_H_
#define CUSTOS_ENGINE_POLICY_CHANGE_NOTICE_H_

#include <string>
#include <string_view>
#include <vector>

#include "policy/policy.h"
#include "policy/policy_diff.h"

namespace custos::engine {

// What an outbox message addressed to one person on their own belongs to: this prefix and the
// subject id (a request's messages name the request, a breach's "breach:" and its id).
inline constexpr std::string_view kPersonReferencePrefix = "person:";

// The message's subject line and body (plain text).
struct PolicyChangeNotice {
  std::string subject, body;
};

// The material changes among `changes` that reach a person of `types` (subject type keys), in
// the diff's order. A change about a purpose reaches the kinds of person the purpose is about
// (all, when it names none); one about a recipient's countries, the people of the purposes that
// share with it; one about a retention rule, the people it names (or its purposes' people);
// a right no longer offered, everyone. A change the notice does not state (a retention period
// the notice leaves out) reaches nobody: the message says no more than the notice.
std::vector<policy::PolicyChange> ChangesReaching(const policy::Policy& after,
                                                  const std::vector<policy::PolicyChange>& changes,
                                                  const std::vector<std::string>& types);

// The message for the changes that reach one person (`reaching` not empty): one plain sentence
// per change, the legal basis of a new purpose, whether consent will be asked first, where the
// whole notice is and who to ask. Deterministic: the same changes give the same message.
PolicyChangeNotice PolicyChangeNoticeFor(const policy::Policy& before, const policy::Policy& after,
                                         const std::vector<policy::PolicyChange>& reaching);

}  // namespace custos::engine

#endif  // CUSTOS_ENGINE_POLICY_CHANGE_NOTICE_H_
