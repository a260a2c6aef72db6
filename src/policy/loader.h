// Loading a policy file: YAML text -> Policy, with every structural problem reported.
//
// LoadPolicy reads, parses and validates (validator.h) in one step and is what adapters call.
// ParsePolicyText only builds the model and reports structural problems (syntax, unknown or
// missing fields, wrong types, bad enumerations and periods); it never reads files.
// Thread-safety: all functions are reentrant.
#ifndef CUSTOS_POLICY_LOADER_H_
#define CUSTOS_POLICY_LOADER_H_

#include <string>
#include <string_view>

#include "common/status.h"
#include "policy/diagnostic.h"
#include "policy/policy.h"

namespace custos::policy {

struct LoadOutcome {
  Policy policy;  // as much of the policy as could be read, even when diagnostics exist
  Diagnostics diagnostics;
  bool ok() const { return diagnostics.empty(); }
  // Every diagnostic formatted with the file name, one per line.
  std::string Report() const;
};

// Builds the model from `text`; `file` is used in diagnostics only. Never fails as a whole:
// problems are in the outcome's diagnostics.
LoadOutcome ParsePolicyText(std::string_view text, std::string file);

// ParsePolicyText, then ValidatePolicy when the structure is sound.
LoadOutcome CheckPolicyText(std::string_view text, std::string file);

// Reads `path`, parses and validates it.
// Returns IO_ERROR when the file cannot be read; otherwise the outcome (check ok()).
Result<LoadOutcome> LoadPolicy(const std::string& path);

// Like LoadPolicy but only accepts a valid policy: POLICY_INVALID carries the first
// diagnostic, formatted with file:line:column.
Result<Policy> LoadValidPolicy(const std::string& path);

}  // namespace custos::policy

#endif  // CUSTOS_POLICY_LOADER_H_
