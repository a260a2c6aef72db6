#include "engine/decide.h"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

namespace custos::engine {

namespace {

using policy::CategoryCovers;
using policy::LawfulBasis;

bool AnyTypeIn(const SubjectState& state, const std::vector<policy::Ref>& subjects) {
  if (subjects.empty()) return true;
  for (const auto& ref : subjects) {
    if (state.HasType(ref.key)) return true;
  }
  return false;
}

// The declared category that governs `key`: itself or its nearest declared ancestor. The keys
// that cover `key` are `key` and its prefixes ending before a '.', so the nearest declared one
// is the first found walking up ("a.b.c", "a.b", "a").
const policy::Category* GoverningCategory(const policy::Policy& policy, std::string_view key) {
  while (true) {
    if (const policy::Category* category = policy.FindCategory(key)) return category;
    size_t dot = key.rfind('.');
    if (dot == std::string_view::npos) return nullptr;
    key = key.substr(0, dot);
  }
}

bool ConsentGivenAt(const SubjectState& state, std::string_view purpose, Timestamp at) {
  const ConsentChange* change = state.ConsentAt(purpose, at);
  return change != nullptr && change->given;
}

void Deny(Decision& decision, ErrorCode code, std::string detail = {}) {
  decision.reasons.push_back({code, std::move(detail)});
}

bool Overlaps(const std::vector<std::string>& restricted, const std::string& category) {
  if (restricted.empty()) return true;
  for (const auto& key : restricted) {
    if (CategoryCovers(key, category) || CategoryCovers(category, key)) return true;
  }
  return false;
}

// The parts of a retention rule's test that do not depend on the category: the rule has a
// period, names this purpose (or none) and one of the subject's types (or none).
bool RuleAppliesToSubject(const policy::RetentionRule& rule, const SubjectState& state,
                          std::string_view purpose) {
  if (!rule.period.value) return false;
  if (!rule.purposes.empty() &&
      std::none_of(rule.purposes.begin(), rule.purposes.end(),
                   [&](const policy::Ref& ref) { return ref.key == purpose; })) {
    return false;
  }
  return AnyTypeIn(state, rule.subjects);
}

bool RuleCoversCategory(const policy::RetentionRule& rule, std::string_view category) {
  return std::any_of(rule.categories.begin(), rule.categories.end(),
                     [&](const policy::Ref& ref) { return CategoryCovers(ref.key, category); });
}

bool RunsFromCollection(const policy::RetentionRule& rule) { return rule.after.key == "collected"; }

// The deadline of a rule that runs from an event: the latest occurrence, or of the events
// declared to reset it, plus the period. REQUIRES: rule.period.value, !RunsFromCollection(rule).
std::optional<Timestamp> EventDeadline(const policy::Policy& policy,
                                       const policy::RetentionRule& rule, const SubjectState& state,
                                       Timestamp at) {
  // The latest occurrence counts, and the events declared to reset it restart the clock
  // (WIG: "inactive for five years (no website login or product bookings)").
  std::optional<Timestamp> trigger = state.LatestEvent(rule.after.key, at);
  if (const policy::Event* event = policy.FindEvent(rule.after.key)) {
    for (const auto& reset : event->resets) {
      std::optional<Timestamp> when = state.LatestEvent(reset.key, at);
      if (when && (!trigger || *when > *trigger)) trigger = when;
    }
  }
  if (!trigger) return std::nullopt;
  return AddPeriod(*trigger, *rule.period.value);
}

// The deadline of a rule that runs from collection, for `category`: its latest collection of
// a category it covers, plus the period. REQUIRES: rule.period.value.
std::optional<Timestamp> CollectionDeadline(const policy::RetentionRule& rule,
                                            const SubjectState& state, std::string_view category,
                                            Timestamp at) {
  std::optional<Timestamp> trigger;
  for (const auto& [key, when] : state.last_collected) {
    if (CategoryCovers(category, key) && when <= at && (!trigger || when > *trigger)) {
      trigger = when;
    }
  }
  if (!trigger) return std::nullopt;
  return AddPeriod(*trigger, *rule.period.value);
}

// Appends RETENTION_EXPIRED for each requested category whose data is past a retention rule:
// per category, in request order, the first such rule in policy order. Rules are the outer
// loop so a rule's purpose and subject tests, and its deadline when it runs from an event, are
// worked out once per rule rather than once per category (most of a decision's time went
// there; see docs/PERFORMANCE.md).
void CheckRetention(const policy::Policy& policy, const SubjectState& state,
                    const policy::Purpose& purpose, const DecisionRequest& request,
                    Decision& decision) {
  const size_t count = request.categories.size();
  if (count == 0) return;
  constexpr size_t kInline = 16;
  std::array<const policy::RetentionRule*, kInline> inline_expired{};
  std::vector<const policy::RetentionRule*> heap_expired;
  const policy::RetentionRule** expired = inline_expired.data();
  if (count > kInline) {
    heap_expired.assign(count, nullptr);
    expired = heap_expired.data();
  }
  size_t open = count;  // categories without an expired rule yet
  for (const auto& rule : policy.retention) {
    if (open == 0) break;
    if (rule.action == policy::RetentionAction::kReview) continue;
    if (!RuleAppliesToSubject(rule, state, purpose.key)) continue;
    bool from_collection = RunsFromCollection(rule);
    bool event_deadline_known = false;
    std::optional<Timestamp> event_deadline;
    for (size_t i = 0; i < count; ++i) {
      if (expired[i] != nullptr) continue;
      const std::string& category = request.categories[i];
      if (!RuleCoversCategory(rule, category)) continue;
      std::optional<Timestamp> deadline;
      if (from_collection) {
        deadline = CollectionDeadline(rule, state, category, request.at);
      } else {
        if (!event_deadline_known) {
          event_deadline = EventDeadline(policy, rule, state, request.at);
          event_deadline_known = true;
        }
        deadline = event_deadline;
      }
      if (deadline && request.at >= *deadline) {
        expired[i] = &rule;
        --open;
      }
    }
  }
  for (size_t i = 0; i < count; ++i) {
    if (expired[i] != nullptr) {
      Deny(decision, ErrorCode::kRetentionExpired,
           request.categories[i] + " (" + expired[i]->id + ")");
    }
  }
}

}  // namespace

std::optional<Timestamp> RetentionDeadline(const policy::Policy& policy,
                                           const policy::RetentionRule& rule,
                                           const SubjectState& state, std::string_view category,
                                           std::string_view purpose, Timestamp at) {
  if (!RuleAppliesToSubject(rule, state, purpose)) return std::nullopt;
  if (!RuleCoversCategory(rule, category)) return std::nullopt;
  if (RunsFromCollection(rule)) return CollectionDeadline(rule, state, category, at);
  return EventDeadline(policy, rule, state, at);
}

Decision Decide(const policy::Policy& policy, const SubjectState* state,
                const DecisionRequest& request) {
  Decision decision;
  decision.at = request.at;
  const policy::Purpose* purpose = policy.FindPurpose(request.purpose);
  if (purpose == nullptr) {
    Deny(decision, ErrorCode::kPurposeUnknown, request.purpose);
    return decision;
  }
  if (state == nullptr) {
    Deny(decision, ErrorCode::kUnknownSubject);
    return decision;
  }
  if (state->erased) {
    Deny(decision, ErrorCode::kSubjectErased);
    return decision;
  }
  decision.basis = std::string(policy::LawfulBasisKey(purpose->basis));

  // The purpose must cover the categories and the person's type (data minimisation).
  for (const auto& category : request.categories) {
    bool covered =
        std::any_of(purpose->categories.begin(), purpose->categories.end(),
                    [&](const policy::Ref& ref) { return CategoryCovers(ref.key, category); });
    if (!covered) Deny(decision, ErrorCode::kCategoryNotInPurpose, category);
  }
  if (!AnyTypeIn(*state, purpose->subjects)) {
    Deny(decision, ErrorCode::kSubjectTypeNotInPurpose);
  }

  // The lawful basis must hold now.
  switch (purpose->basis) {
    case LawfulBasis::kConsent: {
      const ConsentChange* change = state->ConsentAt(purpose->key, request.at);
      if (change == nullptr) {
        Deny(decision, ErrorCode::kConsentMissing, purpose->key);
      } else if (!change->given) {
        Deny(decision, ErrorCode::kConsentWithdrawn, change->at.ToString());
      } else if (purpose->consent_since &&
                 change->at < Timestamp::FromDate(*purpose->consent_since)) {
        // The purpose changed since: consent given before then was to something else.
        Deny(decision, ErrorCode::kConsentStale,
             "given " + change->at.ToString() + "; this purpose needs consent given from " +
                 purpose->consent_since->ToString());
      }
      break;
    }
    case LawfulBasis::kLegitimateInterests:
      if (!purpose->direct_marketing &&
          (state->ObjectedAt(purpose->key, request.at) || state->ObjectedAt("*", request.at))) {
        Deny(decision, ErrorCode::kObjected, purpose->key);
      }
      break;
    default: break;
  }

  // Direct marketing stops absolutely on objection or suppression (Article 21(3)).
  if (purpose->direct_marketing) {
    if (state->ObjectedAt(purpose->key, request.at) || state->ObjectedAt("*", request.at) ||
        state->ObjectedAt("direct_marketing", request.at)) {
      Deny(decision, ErrorCode::kMarketingObjected, purpose->key);
    }
    if (state->suppressed) Deny(decision, ErrorCode::kSuppressed);
    if (!request.channel.empty()) {
      auto it = state->channel_allowed.find(request.channel);
      if (it != state->channel_allowed.end() && !it->second) {
        Deny(decision, ErrorCode::kChannelOptedOut, request.channel);
      }
    }
  }

  // Restriction: the data may be stored but not otherwise processed (Article 18).
  for (const auto& restriction : state->restrictions) {
    if (!restriction.when.CoversTime(request.at)) continue;
    for (const auto& category : request.categories) {
      if (Overlaps(restriction.categories, category)) {
        Deny(decision, ErrorCode::kRestricted, category);
        break;
      }
    }
  }

  // Data past its retention may not be used, whatever the basis.
  CheckRetention(policy, *state, *purpose, request, decision);

  // Special category data needs its Article 9 condition to hold.
  for (const auto& category : request.categories) {
    if (decision.Has(ErrorCode::kCategoryNotInPurpose)) break;  // already refused; say it once
    const policy::Category* governing = GoverningCategory(policy, category);
    if (governing == nullptr || governing->condition.empty()) continue;
    if (governing->condition == "explicit_consent" &&
        !ConsentGivenAt(*state, purpose->key, request.at)) {
      Deny(decision, ErrorCode::kSpecialConditionNotMet, category);
    }
  }

  decision.allow = decision.reasons.empty();
  return decision;
}

}  // namespace custos::engine
