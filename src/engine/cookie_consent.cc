// Engine: cookie consent. The banner's choices become cookie-category consents in the consent
// ledger (through ChangeConsent, like any other consent), for a pseudonymous visitor and for a
// person who is signed in; DecideCookies answers "may category C be set now" for each category
// with the reasons, honouring Global Privacy Control as a refusal of targeting categories.
#include <sodium.h>

#include <algorithm>

#include "crypto/hash_chain.h"
#include "engine/engine.h"
#include "engine/request_internal.h"

namespace custos::engine {

namespace {

using internal::Invalid;

// "v_" and 24 hex digits, as RecordCookieChoices makes them.
bool IsVisitorId(std::string_view id) {
  return id.size() == 26 && id.starts_with("v_") &&
         std::all_of(id.begin() + 2, id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string NewVisitorId() {
  unsigned char bytes[12];
  randombytes_buf(bytes, sizeof(bytes));
  return "v_" + crypto::ToHex(bytes);
}

// The policy's own type for website visitors, or the built-in one.
std::string VisitorType(const policy::Policy& policy) {
  for (const auto& type : policy.subject_types) {
    if (type.fideslang == "visitor") return type.key;
  }
  return std::string(kCookieVisitorType);
}

}  // namespace

Result<std::string> Engine::RecordCookieChoices(const CookieChoices& request) {
  for (const auto& [key, accepted] : request.choices) {
    (void)accepted;
    bool known = std::any_of(policy_.cookies.begin(), policy_.cookies.end(),
                             [&](const policy::CookieCategory& c) { return c.key == key; });
    if (!known) return Invalid("cookie category '" + key + "' is not in the policy");
  }
  if (!request.visitor_id.empty() && !IsVisitorId(request.visitor_id)) {
    return Invalid("a visitor id is v_ and 24 hex digits");
  }
  const Timestamp at = At(request.at);
  std::string visitor = request.visitor_id;
  bool exists = false;
  if (!visitor.empty()) {
    ASSIGN_OR_RETURN(std::optional<store::SubjectRow> row, store_.GetSubject(controller_, visitor));
    exists = row.has_value() && row->state != store::SubjectState::kErased;
  }
  if (!exists) {
    NewSubject subject;
    subject.subject_id = NewVisitorId();
    subject.types = {VisitorType(policy_)};
    subject.at = at;
    subject.actor = "cookie_banner";
    ASSIGN_OR_RETURN(visitor, AddSubject(subject));
  }
  std::vector<std::string> holders = {visitor};
  for (const auto& person : request.people) {
    if (std::find(holders.begin(), holders.end(), person) == holders.end()) {
      holders.push_back(person);
    }
  }
  for (const auto& [key, accepted] : request.choices) {
    const policy::CookieCategory* category = nullptr;
    for (const auto& c : policy_.cookies) {
      if (c.key == key) category = &c;
    }
    if (!category->consent_required) continue;  // strictly necessary: nothing to record
    const bool given = accepted && !(request.gpc && category->targeting);
    for (const auto& holder : holders) {
      ConsentChangeRequest change;
      change.subject_id = holder;
      change.target = key;
      change.cookie = true;
      change.given = given;
      change.channel = "cookie_banner";
      change.evidence = request.evidence + (request.gpc ? " gpc" : "");
      change.at = at;
      change.actor = "cookie_banner";
      Status recorded = ChangeConsent(change);
      // A signed-in person erased meanwhile keeps no new consent; the visitor's stays.
      if (!recorded.ok() && holder == visitor) return recorded;
    }
  }
  return visitor;
}

Result<std::vector<CookieVerdict>> Engine::DecideCookies(const std::string& subject_id, bool gpc,
                                                         std::optional<Timestamp> at_opt) {
  const Timestamp at = At(at_opt);
  std::optional<SubjectState> state;
  if (!subject_id.empty()) {
    ASSIGN_OR_RETURN(state, LoadState(subject_id));
    if (state && state->erased) state.reset();
  }
  std::vector<CookieVerdict> out;
  std::string allowed;
  for (const auto& category : policy_.cookies) {
    CookieVerdict verdict;
    verdict.category = category.key;
    verdict.consent_required = category.consent_required;
    if (!category.consent_required) {
      verdict.allow = true;
    } else if (gpc && category.targeting) {
      verdict.gpc_refused = true;
      verdict.reasons.push_back({ErrorCode::kGpcRefused, category.key});
    } else {
      const ConsentChange* change =
          state ? state->ConsentAt("cookie:" + category.key, at) : nullptr;
      if (change == nullptr) {
        verdict.reasons.push_back({ErrorCode::kConsentMissing, category.key});
      } else if (!change->given) {
        verdict.reasons.push_back({ErrorCode::kConsentWithdrawn, category.key});
      } else {
        verdict.allow = true;
      }
    }
    if (verdict.allow) allowed += (allowed.empty() ? "" : ",") + category.key;
    out.push_back(std::move(verdict));
  }
  // One entry for the question; the visitor's id is pseudonymous, never a personal value.
  AuditEntry entry = Entry("cookie_banner", "cookie_decision", state ? subject_id : "", at,
                           (gpc ? "gpc; allow " : "allow ") + (allowed.empty() ? "-" : allowed));
  if (decision_audit_ == DecisionAudit::kDurable) {
    RETURN_IF_ERROR(audit_.RecordDurably(std::move(entry)));
  } else {
    audit_.Record(std::move(entry));
  }
  return out;
}

}  // namespace custos::engine
