// Diagnostic: one problem found in a policy file, with where it is and how to fix it.
// Thread-safety: value types.
#ifndef CUSTOS_POLICY_DIAGNOSTIC_H_
#define CUSTOS_POLICY_DIAGNOSTIC_H_

#include <string>
#include <vector>

#include "common/error_code.h"

namespace custos::policy {

// A 1-based position in the policy file; line 0 means "the file as a whole".
struct Loc {
  int line = 0;
  int column = 0;
};

struct Diagnostic {
  ErrorCode code = ErrorCode::kOk;
  Loc loc;
  std::string message;   // what is wrong; never contains personal data (policies hold none)
  std::string hint;      // how to fix it
  bool warning = false;  // a warning (policy/warnings.h) rather than an error

  // "FILE:LINE:COLUMN: error CODE: message\n  hint: hint" ("warning" for a warning)
  std::string Format(const std::string& file) const;
};

using Diagnostics = std::vector<Diagnostic>;

}  // namespace custos::policy

#endif  // CUSTOS_POLICY_DIAGNOSTIC_H_
