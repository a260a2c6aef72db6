#include "engine/retention.h"

#include <algorithm>

#include "engine/decide.h"
#include "engine/subject_state.h"

namespace custos::engine {

namespace {

using policy::CategoryCovers;
using policy::RetentionAction;

// Delete outranks anonymise outranks review: when several deadlines have passed, the data
// goes the furthest way any of them asks.
int Strength(RetentionVerdict verdict) {
  switch (verdict) {
    case RetentionVerdict::kDelete: return 3;
    case RetentionVerdict::kAnonymise: return 2;
    case RetentionVerdict::kReview: return 1;
    default: return 0;
  }
}

bool AnyTypeIn(const store::SubjectRow& subject, const std::vector<policy::Ref>& subjects) {
  if (subjects.empty()) return true;
  return std::any_of(subjects.begin(), subjects.end(), [&](const policy::Ref& ref) {
    return std::find(subject.types.begin(), subject.types.end(), ref.key) != subject.types.end();
  });
}

// The declared category that governs `key`: itself or its nearest declared ancestor.
const policy::Category* GoverningCategory(const policy::Policy& policy, std::string_view key) {
  const policy::Category* best = nullptr;
  for (const auto& category : policy.categories) {
    if (CategoryCovers(category.key, key) && (!best || category.key.size() > best->key.size())) {
      best = &category;
    }
  }
  return best;
}

// What `rule` does to an item of `category` once due.
RetentionVerdict ActionFor(const policy::Policy& policy, const policy::RetentionRule& rule,
                           std::string_view category, bool is_identifier) {
  switch (rule.action) {
    case RetentionAction::kDelete: return RetentionVerdict::kDelete;
    case RetentionAction::kReview: return RetentionVerdict::kReview;
    case RetentionAction::kAnonymise: break;
  }
  if (is_identifier) return RetentionVerdict::kDelete;
  bool kept = std::any_of(rule.keep.begin(), rule.keep.end(), [&](const policy::Ref& ref) {
    return CategoryCovers(ref.key, category);
  });
  // The validator insists kept categories are non-identifying; checked again here because an
  // identifying value must never reach the anonymised facts.
  const policy::Category* governing = GoverningCategory(policy, category);
  if (!kept || governing == nullptr || governing->identifying) return RetentionVerdict::kDelete;
  return RetentionVerdict::kAnonymise;
}

// True when `rule` covers an item of `category` collected for `purpose` of `subject`.
bool RuleCovers(const policy::RetentionRule& rule, const store::SubjectRow& subject,
                std::string_view category, std::string_view purpose, bool is_identifier) {
  if (!AnyTypeIn(subject, rule.subjects)) return false;
  if (std::none_of(rule.categories.begin(), rule.categories.end(),
                   [&](const policy::Ref& ref) { return CategoryCovers(ref.key, category); })) {
    return false;
  }
  return is_identifier || rule.purposes.empty() ||
         std::any_of(rule.purposes.begin(), rule.purposes.end(),
                     [&](const policy::Ref& ref) { return ref.key == purpose; });
}

struct Candidate {
  std::string_view category, purpose;
  Timestamp collected;
  bool is_identifier = false;
};

// Decides one item. `state` carries the subject's types and events for RetentionDeadline.
RetentionItem Decide(const policy::Policy& policy, const store::SweepSubject& sweep,
                     const SubjectState& state, const std::vector<store::LegalHoldRow>& holds,
                     const Candidate& candidate, Timestamp as_of) {
  RetentionItem item;
  item.category = std::string(candidate.category);
  bool covered = false;
  const policy::RetentionRule* best = nullptr;
  RetentionVerdict best_verdict = RetentionVerdict::kNotDue;
  Timestamp best_due;
  std::optional<Timestamp> next_due;
  std::string next_rule;
  for (const auto& rule : policy.retention) {
    if (!rule.period.value || !RuleCovers(rule, sweep.subject, candidate.category,
                                          candidate.purpose, candidate.is_identifier)) {
      continue;
    }
    covered = true;
    std::optional<Timestamp> due;
    if (rule.after.key == "collected") {
      due = AddPeriod(candidate.collected, *rule.period.value);
    } else {
      // Identifiers have no purpose: ask with one the rule accepts.
      std::string_view purpose = candidate.purpose;
      if (candidate.is_identifier && !rule.purposes.empty()) purpose = rule.purposes.front().key;
      due = RetentionDeadline(policy, rule, state, candidate.category, purpose, as_of);
    }
    if (!due) continue;  // the trigger has not happened (yet)
    if (*due > as_of) {
      if (!next_due || *due < *next_due) {
        next_due = due;
        next_rule = rule.id;
      }
      continue;
    }
    RetentionVerdict verdict = ActionFor(policy, rule, candidate.category, candidate.is_identifier);
    if (best == nullptr || Strength(verdict) > Strength(best_verdict) ||
        (Strength(verdict) == Strength(best_verdict) && *due < best_due)) {
      best = &rule;
      best_verdict = verdict;
      best_due = *due;
    }
  }
  if (!covered) {
    item.verdict = RetentionVerdict::kNotCovered;
    return item;
  }
  if (best == nullptr) {
    item.verdict = RetentionVerdict::kNotDue;
    item.rule_id = next_rule;
    item.due = next_due;
    return item;
  }
  item.rule_id = best->id;
  item.due = best_due;
  item.verdict = best_verdict;
  if (best_verdict == RetentionVerdict::kDelete || best_verdict == RetentionVerdict::kAnonymise) {
    if (const store::LegalHoldRow* hold =
            FindLegalHold(holds, sweep.subject.subject_id, candidate.category, as_of)) {
      item.held_verdict = best_verdict;
      item.verdict = RetentionVerdict::kHeld;
      item.hold_id = hold->hold_id;
    }
  }
  return item;
}

}  // namespace

std::string_view RetentionVerdictKey(RetentionVerdict verdict) {
  switch (verdict) {
    case RetentionVerdict::kDelete: return "delete";
    case RetentionVerdict::kAnonymise: return "anonymise";
    case RetentionVerdict::kReview: return "review";
    case RetentionVerdict::kHeld: return "held";
    case RetentionVerdict::kNotDue: return "not_due";
    case RetentionVerdict::kNotCovered: return "not_covered";
  }
  return "";
}

bool SubjectRetentionPlan::HasActions() const {
  if (erase_subject || !reviews.empty()) return true;
  return std::any_of(items.begin(), items.end(), [](const RetentionItem& item) {
    return item.verdict == RetentionVerdict::kDelete ||
           item.verdict == RetentionVerdict::kAnonymise;
  });
}

std::string IdentifierCategory(std::string_view kind) {
  if (kind == "email") return "user.contact.email";
  if (kind == "phone") return "user.contact.phone_number";
  return "user.unique_id";
}

const store::LegalHoldRow* FindLegalHold(const std::vector<store::LegalHoldRow>& holds,
                                         std::string_view subject_id, std::string_view category,
                                         Timestamp at) {
  for (const auto& hold : holds) {
    if (!hold.ActiveAt(at)) continue;
    if (!hold.subject_id.empty() && hold.subject_id != subject_id) continue;
    if (!hold.category.empty()) {
      if (category.empty()) {
        // Asked about any of the subject's data: a category hold counts when it names this
        // subject; one on everyone is found by asking about the categories themselves.
        if (hold.subject_id.empty()) continue;
      } else if (!CategoryCovers(hold.category, category)) {
        continue;
      }
    }
    return &hold;
  }
  return nullptr;
}

SubjectRetentionPlan PlanSubjectRetention(const policy::Policy& policy,
                                          const store::SweepSubject& sweep,
                                          const std::vector<store::LegalHoldRow>& holds,
                                          Timestamp as_of) {
  SubjectRetentionPlan plan;
  plan.subject_id = sweep.subject.subject_id;
  if (sweep.subject.state == store::SubjectState::kErased) return plan;

  SubjectState state;
  state.subject_id = sweep.subject.subject_id;
  state.types = sweep.subject.types;
  for (const auto& event : sweep.events) state.events[event.event].push_back(event.at);
  for (auto& [key, times] : state.events) std::sort(times.begin(), times.end());

  bool removes = false;
  bool remains = false;
  for (const auto& record : sweep.records) {
    if (record.state == store::RecordState::kErased ||
        record.state == store::RecordState::kAnonymised) {
      continue;
    }
    if (record.collected_at > as_of) {
      remains = true;
      continue;
    }
    RetentionItem item =
        Decide(policy, sweep, state, holds,
               {record.category, record.purpose, record.collected_at, false}, as_of);
    item.record_id = record.record_id;
    plan.items.push_back(std::move(item));
  }
  for (const auto& identifier : sweep.identifiers) {
    if (identifier.added_at > as_of) {
      remains = true;
      continue;
    }
    std::string category = IdentifierCategory(identifier.kind);
    RetentionItem item =
        Decide(policy, sweep, state, holds, {category, "", identifier.added_at, true}, as_of);
    item.is_identifier = true;
    item.identifier_kind = identifier.kind;
    item.identifier_hash = identifier.blind_index;
    plan.items.push_back(std::move(item));
  }

  for (const auto& item : plan.items) {
    switch (item.verdict) {
      case RetentionVerdict::kDelete:
      case RetentionVerdict::kAnonymise: removes = true; break;
      case RetentionVerdict::kReview: {
        remains = true;
        bool known = std::any_of(sweep.review_tasks.begin(), sweep.review_tasks.end(),
                                 [&](const store::ReviewTaskRow& task) {
                                   return task.rule_id == item.rule_id &&
                                          task.category == item.category &&
                                          task.due_at == *item.due;
                                 });
        bool planned =
            std::any_of(plan.reviews.begin(), plan.reviews.end(), [&](const PlannedReview& review) {
              return review.rule_id == item.rule_id && review.category == item.category &&
                     review.due == *item.due;
            });
        if (!known && !planned) plan.reviews.push_back({item.rule_id, item.category, *item.due});
        break;
      }
      default: remains = true; break;
    }
  }
  plan.erase_subject = removes && !remains;
  return plan;
}

void CountPlan(const SubjectRetentionPlan& plan, RetentionReport* report) {
  for (const auto& item : plan.items) {
    switch (item.verdict) {
      case RetentionVerdict::kDelete:
        ++report->by_rule[item.rule_id].deleted;
        ++report->totals.deleted;
        break;
      case RetentionVerdict::kAnonymise:
        ++report->by_rule[item.rule_id].anonymised;
        ++report->totals.anonymised;
        break;
      case RetentionVerdict::kHeld:
        ++report->by_rule[item.rule_id].held;
        ++report->totals.held;
        break;
      case RetentionVerdict::kNotDue: ++report->not_due; break;
      case RetentionVerdict::kNotCovered: ++report->not_covered[item.category]; break;
      case RetentionVerdict::kReview: break;  // counted per task below
    }
  }
  for (const auto& review : plan.reviews) {
    ++report->by_rule[review.rule_id].reviews;
    ++report->totals.reviews;
  }
  if (plan.erase_subject) ++report->totals.erased;
}

const policy::RetentionRule* RuleKeepingAfterErasure(const policy::Policy& policy,
                                                     const store::SubjectRow& subject,
                                                     std::string_view category,
                                                     std::string_view purpose, bool is_identifier) {
  const policy::RetentionRule* keeping = nullptr;
  for (const auto& rule : policy.retention) {
    if (rule.after.key != kErasureRequestedEvent || !rule.period.value) continue;
    if (!RuleCovers(rule, subject, category, purpose, is_identifier)) continue;
    if (rule.period.value->IsZero()) {
      RetentionVerdict verdict = ActionFor(policy, rule, category, is_identifier);
      if (verdict == RetentionVerdict::kDelete || verdict == RetentionVerdict::kAnonymise) {
        return nullptr;
      }
      continue;
    }
    if (keeping == nullptr) keeping = &rule;
  }
  return keeping;
}

}  // namespace custos::engine
