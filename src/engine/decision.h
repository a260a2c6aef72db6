// Decision: the answer to "may purpose P process categories C of subject S now?".
// Thread-safety: value type.
#ifndef CUSTOS_ENGINE_DECISION_H_
#define CUSTOS_ENGINE_DECISION_H_

#include <string>
#include <vector>

#include "common/error_code.h"
#include "common/time.h"

namespace custos::engine {

struct DecisionReason {
  ErrorCode code = ErrorCode::kOk;  // CONSENT_MISSING, OBJECTED, RETENTION_EXPIRED, ...
  std::string detail;               // non-personal: a category key, a rule id, a date
};

struct Decision {
  bool allow = false;
  std::string basis;                    // the lawful basis relied on when allowed
  std::vector<DecisionReason> reasons;  // why not (empty when allowed)
  Timestamp at;

  bool Has(ErrorCode code) const {
    for (const auto& reason : reasons) {
      if (reason.code == code) return true;
    }
    return false;
  }
};

// What is asked. `channel` matters only for direct marketing (email, sms, post, phone).
struct DecisionRequest {
  std::string subject_id;
  std::string purpose;
  std::vector<std::string> categories;
  std::string channel;
  Timestamp at;
  std::string actor = "system";
};

}  // namespace custos::engine

#endif  // CUSTOS_ENGINE_DECISION_H_
