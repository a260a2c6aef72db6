// Retention: the policy's retention rules applied to what custos holds about one person.
//
// PlanSubjectRetention() is a pure function (no I/O, no clock: the time is `as_of`) from the
// policy, one subject's rows as a sweep reads them (store::SweepSubject) and the controller's
// legal holds to a plan: for every record and identifier, what happens now and under which rule.
//   - A rule applies to an item when the subject has one of its subject types, the item's
//     category lies under one of its categories, and (records only) the record was collected
//     for one of its purposes. Identifiers count as the category of their kind
//     (IdentifierCategory) and are not tied to a purpose, so purpose-limited rules apply to them.
//   - Its deadline is the latest occurrence of its trigger (or of an event that resets it,
//     e.g. a WIG login) plus its period, as in RetentionDeadline() (decide.h); for the built-in
//     trigger `collected` it is the item's own collection time plus the period.
//   - Of the rules whose deadline has passed, the strongest action wins: delete, then
//     anonymise, then review. Anonymise keeps the categories in the rule's `keep` (declared
//     `identifying: false`) as anonymised facts and deletes every other item the rule covers;
//     identifiers are never kept.
//   - A legal hold in force at `as_of` on the subject, the item's category, or both, stops a
//     delete or anonymise: the item is reported as held. Reviews are not stopped.
//   - An item no rule covers is reported as not covered (data is never kept silently).
//   - When the plan removes something and afterwards no record or identifier of the person is
//     left (everything deleted or anonymised, nothing held or awaiting its deadline), the whole
//     person is erased: their data key is destroyed (crypto-shredding) and the keyed hashes of
//     their identifiers go on the suppression list.
// Records already erased or anonymised, records collected after `as_of`, and erased subjects
// produce no items.
//
// Engine::PlanRetention / RunRetention (engine.h) sweep every subject with this planner and apply
// the plans through the Store with audit entries; see engine_retention.cc.
// Thread-safety: reentrant; value types.
#ifndef CUSTOS_ENGINE_RETENTION_H_
#define CUSTOS_ENGINE_RETENTION_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "policy/policy.h"
#include "store/rows.h"

namespace custos::engine {

enum class RetentionVerdict {
  kDelete,      // the item goes now
  kAnonymise,   // the record's value becomes an anonymised fact; the record keeps no value
  kReview,      // a DPO review task is due (the item stays)
  kHeld,        // a delete or anonymise is due but a legal hold stops it
  kNotDue,      // covered, and no rule's deadline has passed
  kNotCovered,  // no retention rule covers it: reported, not kept silently
};

// "delete", "anonymise", "review", "held", "not_due", "not_covered".
std::string_view RetentionVerdictKey(RetentionVerdict verdict);

// One record or identifier of the subject and what happens to it.
struct RetentionItem {
  bool is_identifier = false;
  int64_t record_id = 0;         // records
  std::string identifier_kind;   // identifiers: email, phone, external
  store::Bytes identifier_hash;  // identifiers: the keyed hash (blind index)
  std::string category;
  RetentionVerdict verdict = RetentionVerdict::kNotCovered;
  std::string rule_id;           // the rule that decides; empty when not covered
  std::optional<Timestamp> due;  // that rule's deadline (kNotDue: the next known deadline)
  // kHeld: the hold and what it stops (kDelete or kAnonymise).
  int64_t hold_id = 0;
  RetentionVerdict held_verdict = RetentionVerdict::kDelete;
};

// A DPO review task the plan asks for (one per rule, category and deadline).
struct PlannedReview {
  std::string rule_id, category;
  Timestamp due;
};

struct SubjectRetentionPlan {
  std::string subject_id;
  std::vector<RetentionItem> items;
  std::vector<PlannedReview> reviews;  // new tasks only: tasks already in the store are left out
  bool erase_subject = false;          // destroy the data key: nothing of the person is left

  // True when applying the plan writes something (a delete, anonymise, review or erasure).
  bool HasActions() const;
};

// The data category an identifier of `kind` holds: email -> user.contact.email,
// phone -> user.contact.phone_number, external -> user.unique_id.
std::string IdentifierCategory(std::string_view kind);

// The first legal hold in force at `at` that covers `category` of `subject_id`, or nullptr.
// A hold covers when its subject is empty or equal, and its category is empty or an ancestor
// of (or equal to) `category`; `category` empty asks about any of the subject's data.
const store::LegalHoldRow* FindLegalHold(const std::vector<store::LegalHoldRow>& holds,
                                         std::string_view subject_id, std::string_view category,
                                         Timestamp at);

// The retention rule under which an item outlives an erasure request: a rule triggered by
// `erasure_requested` with a period longer than zero that covers the item (subject type,
// category and, for records, purpose), when no rule with that trigger and a zero period
// deletes or anonymises it at once (as a sweep on the day of the request would). nullptr when
// erasure may take the item. ProgressTeaching: "we may hold a list of the 'opt out' requests to
// administer your request".
const policy::RetentionRule* RuleKeepingAfterErasure(const policy::Policy& policy,
                                                     const store::SubjectRow& subject,
                                                     std::string_view category,
                                                     std::string_view purpose, bool is_identifier);

// REQUIRES: `policy` is valid. `holds` may hold every hold of the controller; only those in
// force at `as_of` and covering this subject count.
SubjectRetentionPlan PlanSubjectRetention(const policy::Policy& policy,
                                          const store::SweepSubject& subject,
                                          const std::vector<store::LegalHoldRow>& holds,
                                          Timestamp as_of);

// --- Sweeps (Engine::PlanRetention, Engine::RunRetention) -------------------------------------

struct RetentionRuleCounts {
  int64_t deleted = 0, anonymised = 0, reviews = 0, held = 0;
};

// What a sweep did (RunRetention) or would do (PlanRetention).
struct RetentionReport {
  int64_t run_id = 0;    // 0 for a plan
  bool resumed = false;  // the run had been interrupted and was carried on from its checkpoint
  Timestamp as_of;
  // Totals. For a resumed run they include the work done before the interruption.
  store::RetentionCounts totals;
  // Per rule id, for the subjects swept by this call (a resumed run: since the resumption).
  std::map<std::string, RetentionRuleCounts> by_rule;
  // Items no rule covers, per category (this call).
  std::map<std::string, int64_t> not_covered;
  int64_t not_due = 0;            // items covered whose deadline has not come (this call)
  int64_t requests_shredded = 0;  // closed rights requests whose personal parts were shredded
};

// Adds one subject's plan to a report (counts only).
void CountPlan(const SubjectRetentionPlan& plan, RetentionReport* report);

struct RetentionOptions {
  // The time the sweep judges deadlines at; default the engine clock's now. RunRetention
  // refuses a time after now (acting early would break the promise the other way).
  std::optional<Timestamp> as_of;
  size_t page_size = 512;  // subjects read (and, for a run, committed) together
  // Called after each page with the subjects done so far and the total at the start.
  std::function<void(int64_t done, int64_t total)> progress;
  std::string actor = "system:retention";
};

// Anonymised counts by value of one category (Engine::Aggregate).
struct AggregateCell {
  std::string category, value;
  int64_t count = 0;
};
struct AggregateResult {
  std::string category;
  int threshold = 0;                 // cells with fewer people than this are suppressed
  std::vector<AggregateCell> cells;  // cells at or above the threshold, by (category, value)
  int64_t suppressed_cells = 0;      // how many cells were suppressed (their counts are not given)
};

// The small-cell threshold when the policy states none.
inline constexpr int kDefaultSmallCellThreshold = 10;

struct LegalHoldRequest {
  std::string subject_id;  // empty: every subject
  std::string category;    // empty: every category of the subject
  std::string reason;      // required; free text, sealed at rest (engine/sealed_notes.cc)
  std::optional<Timestamp> expires_at;
  std::optional<Timestamp> at;
  std::string actor = "system";
};

}  // namespace custos::engine

#endif  // CUSTOS_ENGINE_RETENTION_H_
