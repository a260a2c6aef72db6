// PolicyWarnings: what a valid policy leaves a person or a DPO without, found before it is
// published. Warnings do not make a policy invalid: `custos policy check` prints them and exits 0
// (1 with --strict). A purpose whose data no retention rule covers is not a warning but an error
// of the validator (CATEGORY_WITHOUT_RETENTION).
// Thread-safety: pure function.
#ifndef CUSTOS_POLICY_WARNINGS_H_
#define CUSTOS_POLICY_WARNINGS_H_

#include "policy/diagnostic.h"
#include "policy/policy.h"

namespace custos::policy {

// Each warning is a Diagnostic with `warning` set:
//   CONTACT_WITHOUT_ADDRESS     a contact channel with no e-mail, phone, postal address or URL
//                               (the notice could only say "contact us" with nowhere to go);
//   RECIPIENT_WITHOUT_COUNTRY   a processor, sub-processor or third party with no country, so
//                               whether data leaves the UK cannot be told;
//   CONSENT_WITHOUT_WITHDRAWAL  a consent purpose while the policy gives no contact with an
//                               address through which consent can be withdrawn;
//   ADDRESS_NOT_STATED          a contact whose notice names an e-mail channel but leaves the
//                               address out (`email: not_stated`);
//   SAFEGUARD_NOT_STATED        a recipient outside the allowed regions whose notice names no
//                               transfer safeguard (`safeguard: not_stated`);
//   RECORD_INCOMPLETE           special category or criminal offence data processed without the
//                               Schedule 1 condition, appropriate policy document or Article 10
//                               basis the RoPA must record (ropa.h RequiredRecordGaps).
// REQUIRES: `policy` passed ValidatePolicy (references resolve).
Diagnostics PolicyWarnings(const Policy& policy);

}  // namespace custos::policy

#endif  // CUSTOS_POLICY_WARNINGS_H_
