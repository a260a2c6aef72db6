// The breach register's model: what staff record about a personal-data breach, the regulator's
// clock (UK GDPR Article 33: without undue delay and, where feasible, within 72 hours of
// becoming aware), who is affected, and the documents made from it: the report shaped like the
// ICO's breach report form (JSON and HTML) and the clear-language notice to the people affected
// (Article 34). Pure functions over a Breach and the policy; Engine (engine_breach.cc) keeps the
// register in the store.
// Thread-safety: value types and pure functions.
// PII: BreachDetails is free text staff type, which may name people: it is sealed in the store.
#ifndef CUSTOS_ENGINE_BREACH_H_
#define CUSTOS_ENGINE_BREACH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "policy/policy.h"

namespace custos::engine {

// The risk to people's rights and freedoms, as the controller assessed it.
inline constexpr std::string_view kBreachRisks[] = {"unassessed", "none", "risk", "high_risk"};
bool IsBreachRisk(std::string_view risk);

// The regulator's deadline when the policy states none (Article 33(1)).
inline constexpr int64_t kStatutoryReportMicros = int64_t{72} * 3600 * 1000000;

// Which of the controller's data the breach touched: records of these categories (and their
// descendants), held for these purposes and of people of these types (empty: any), that
// existed at some moment between `from` and `to` (unset: without bound).
struct BreachScope {
  std::vector<std::string> categories, purposes, subject_types;
  std::optional<Timestamp> from, to;
};

struct BreachDetails {
  Timestamp discovered_at;
  std::string nature;          // what happened
  std::string how_discovered;  // how the controller found out
  bool cyber_incident = false;
  BreachScope scope;
  // The people and records affected, counted from the store when the breach was recorded or
  // its scope last changed.
  int64_t people = 0, records = 0;
  Timestamp counted_at;
  std::string consequences;  // likely consequences for the people
  std::string measures;      // containment, recovery and measures taken or proposed
  std::string risk_reasoning;
  std::string regulator_reference;  // the regulator's case number, once reported
  std::string delay_reason;         // why the report came after the deadline
  // The people told (Article 34): when, how many notices were queued; or why not.
  std::optional<Timestamp> people_told_at;
  int64_t notices_queued = 0;
  std::string people_not_told_reason;
  std::optional<Timestamp> controller_told_at;  // a processor's notice to its controller
  std::vector<int64_t> messages_read_by_hand;   // outbox ids a person took out to send

  std::string ToJson() const;
  static Result<BreachDetails> FromJson(const std::string& text);
};

// A breach as staff first record it. `id`: the organisation's own reference, or empty for one
// made up ("BR-" and the date and 6 hex digits). `aware_at` unset: the moment it was discovered.
struct NewBreach {
  std::string id;
  Timestamp discovered_at;
  std::optional<Timestamp> aware_at;
  std::string nature, how_discovered;
  bool cyber_incident = false;
  BreachScope scope;
  std::string consequences, measures;
  std::string risk = "unassessed", risk_reasoning;
};

// What a later step changes; unset fields stay as they are. A new scope is counted again.
struct BreachChange {
  std::optional<std::string> nature, how_discovered, consequences, measures, risk, risk_reasoning,
      delay_reason, regulator_reference, people_not_told_reason;
  std::optional<bool> cyber_incident;
  std::optional<BreachScope> scope;
  std::optional<Timestamp> reported_at;  // the report reached the regulator then
  bool close = false;
};

// What an outbox message of a breach carries as its reference: this and the breach's id.
inline constexpr std::string_view kBreachReferencePrefix = "breach:";

// One breach as the register shows it.
struct Breach {
  std::string id;
  int64_t version = 0;
  Timestamp aware_at, updated_at;
  std::string risk = "unassessed";
  std::optional<Timestamp> reported_at, closed_at;
  BreachDetails details;
};

// The regulator's clock of a breach at `now`.
struct BreachClock {
  Timestamp due_at;           // aware_at + the policy's notify_regulator_within, else 72 hours
  bool report_needed = true;  // false once assessed as no risk (the reasoning is kept instead)
  bool reported = false;
  bool overdue = false;  // needed, not reported and past due_at
  bool reported_late = false;
  int64_t seconds_left = 0;  // until due_at (negative when past)
};
BreachClock RegulatorClock(const policy::Policy& policy, const Breach& breach, Timestamp now);

// Whether the people affected must be told, by the policy's `breach.notify_subjects`
// (when_high_risk when the policy is silent, the law's threshold in Article 34(1)).
bool PeopleMustBeTold(const policy::Policy& policy, const Breach& breach);

// The report for the regulator, section by section as the ICO's breach report form asks.
std::string BreachReportJson(const policy::Policy& policy, const Breach& breach, Timestamp now);
std::string BreachReportHtml(const policy::Policy& policy, const Breach& breach, Timestamp now);

// What a person affected is told (Article 34(2)): the nature of the breach, the contact point,
// the likely consequences and the measures taken, in clear language.
struct BreachNotice {
  std::string subject, body;
};
BreachNotice BreachNoticeFor(const policy::Policy& policy, const Breach& breach);

// The breach as JSON for the API and the CLI (the register's row and its details, and the
// clock at `now`). PII: the details as staff typed them.
std::string BreachJson(const policy::Policy& policy, const Breach& breach, Timestamp now);

}  // namespace custos::engine

#endif  // CUSTOS_ENGINE_BREACH_H_
