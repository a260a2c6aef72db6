// What the policy tests that write a policy as text share: replacing one passage of it (the
// test fails when the passage is not there) and loading it (the test fails on any problem).
#ifndef CUSTOS_TESTS_POLICY_POLICY_TEXT_H_
#define CUSTOS_TESTS_POLICY_POLICY_TEXT_H_

#include <gtest/gtest.h>

#include <string>

#include "policy/loader.h"

namespace custos::policy::policy_text {

// `text` with the first `from` replaced by `to`.
inline std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "fixture text not found: " << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// The policy `text` describes, checked as `policy check` checks a file.
inline Policy Load(const std::string& text) {
  LoadOutcome outcome = CheckPolicyText(text, "inline.yaml");
  EXPECT_TRUE(outcome.ok()) << outcome.Report();
  return outcome.policy;
}

}  // namespace custos::policy::policy_text

#endif  // CUSTOS_TESTS_POLICY_POLICY_TEXT_H_
