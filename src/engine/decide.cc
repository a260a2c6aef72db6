#include "engine/decide.h"

#include <algorithm>

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

}  // namespace

std::optional<Timestamp> RetentionDeadline(const policy::Policy& policy,
                                           const policy::RetentionRule& rule,
                                           const SubjectState& state, std::string_view category,
                                           std::string_view purpose, Timestamp at) {
  if (!rule.period.value) return std::nullopt;
  if (!AnyTypeIn(state, rule.subjects)) return std::nullopt;
  if (!rule.purposes.empty() &&
      std::none_of(rule.purposes.begin(), rule.purposes.end(),
                   [&](const policy::Ref& ref) { return ref.key == purpose; })) {
    return std::nullopt;
  }
  if (std::none_of(rule.categories.begin(), rule.categories.end(),
                   [&](const policy::Ref& ref) { return CategoryCovers(ref.key, category); })) {
    return std::nullopt;
  }
  std::optional<Timestamp> trigger;
  if (rule.after.key == "collected") {
    for (const auto& [key, when] : state.last_collected) {
      if (CategoryCovers(category, key) && when <= at && (!trigger || when > *trigger)) {
        trigger = when;
      }
    }
  } else {
    // The latest occurrence counts, and the events declared to reset it restart the clock
    // (WIG: "inactive for five years (no website login or product bookings)").
    trigger = state.LatestEvent(rule.after.key, at);
    if (const policy::Event* event = policy.FindEvent(rule.after.key)) {
      for (const auto& reset : event->resets) {
        std::optional<Timestamp> when = state.LatestEvent(reset.key, at);
        if (when && (!trigger || *when > *trigger)) trigger = when;
      }
    }
  }
  if (!trigger) return std::nullopt;
  return AddPeriod(*trigger, *rule.period.value);
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
    bool covered = std::any_of(purpose->categories.begin(), purpose->categories.end(),
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
      }
      break;
    }
    case LawfulBasis::kLegitimateInterests:
      if (!purpose->direct_marketing &&
          (state->ObjectedAt(purpose->key, request.at) || state->ObjectedAt("*", request.at))) {
        Deny(decision, ErrorCode::kObjected, purpose->key);
      }
      break;
    default:
      break;
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
  for (const auto& category : request.categories) {
    for (const auto& rule : policy.retention) {
      if (rule.action == policy::RetentionAction::kReview) continue;
      std::optional<Timestamp> deadline =
          RetentionDeadline(policy, rule, *state, category, purpose->key, request.at);
      if (deadline && request.at >= *deadline) {
        Deny(decision, ErrorCode::kRetentionExpired, category + " (" + rule.id + ")");
        break;
      }
    }
  }

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
