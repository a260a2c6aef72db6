// The record of processing activities (Article 30 UK GDPR), generated only from a Policy.
//
// One activity per purpose, each with the Article 30(1) fields: the controller's name and
// contact details and its DPO; the purpose with its lawful basis (and legitimate interest);
// categories of data subjects and of personal data (special categories with their Article 9
// condition); categories of recipients with their countries; transfers to third countries with
// their safeguards; the envisaged time limits for erasure (each retention rule covering the
// purpose's data, in words and as ISO-8601); and a general description of security measures.
// For a policy whose controller.role is processor, the Article 30(2) fields are added: the
// controllers on whose behalf the processing is carried out, and each activity as a category of
// processing carried out on their behalf.
//
// Beyond Article 30, each activity carries the further columns of the ICO's template (business
// function and owner, joint controller, LIA and DPIA references, the DPA 2018 Schedule 1
// condition and appropriate policy document for special category data, the Article 10 basis for
// criminal offence data, processor contracts, where the data is, the rights available under the
// lawful basis, the retention schedule, the review date and the policy version), from the
// policy's `record` details (policy.h RecordDetails). What applies but is not stated is written
// "not stated" (CSV) or null (JSON), so a DPO sees each gap.
//
// Every recipient the policy declares is in the record: one that no purpose names belongs to
// each activity whose data it receives.
//
// All functions are pure (no I/O) and reentrant. Thread-safety: safe to call concurrently.
#ifndef CUSTOS_POLICY_ROPA_H_
#define CUSTOS_POLICY_ROPA_H_

#include <string>
#include <vector>

#include "policy/policy.h"

namespace custos::policy {

// The record as CSV (RFC 4180): a header line, then one line per purpose in policy order.
// Fields holding commas, quotes or line breaks are quoted, quotes doubled; lines end in CRLF.
// Multi-valued fields (categories, recipients, rules) are joined with "; ".
// REQUIRES: `policy` is valid. PII: none (a policy holds no personal data).
std::string RenderRopaCsv(const Policy& policy);

// The record as JSON (UTF-8, pretty-printed): {"record", "article", "controller", "dpo",
// "processor" (processor role only), "transfers", "security_measures", "activities": [...]}.
// Invalid UTF-8 in a policy string is replaced by U+FFFD so the output always parses.
// REQUIRES: `policy` is valid. PII: none.
std::string RenderRopaJson(const Policy& policy);

// The record's gaps that the law requires filled: an activity processing special category data
// under a condition that needs a DPA 2018 Schedule 1 condition (or criminal offence data) without
// one, without the appropriate policy document that condition needs, or criminal offence data
// without its Article 10 basis. `column` is the RoPA column left empty.
struct RecordGap {
  std::string purpose, column;
  Loc loc;
};
std::vector<RecordGap> RequiredRecordGaps(const Policy& policy);

}  // namespace custos::policy

#endif  // CUSTOS_POLICY_ROPA_H_
