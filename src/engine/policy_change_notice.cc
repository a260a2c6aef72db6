#include "engine/policy_change_notice.h"

#include <algorithm>
#include <cctype>

#include "engine/people_words.h"
#include "policy/notice.h"

namespace custos::engine {

namespace {

using policy::Policy;
using policy::PolicyChange;

bool Intersects(const std::vector<policy::Ref>& named, const std::vector<std::string>& types) {
  return std::any_of(named.begin(), named.end(), [&](const policy::Ref& r) {
    return std::find(types.begin(), types.end(), r.key) != types.end();
  });
}

// A purpose reaches the kinds of person it names, or everyone when it names none.
bool PurposeReaches(const policy::Purpose& purpose, const std::vector<std::string>& types) {
  return purpose.subjects.empty() || Intersects(purpose.subjects, types);
}

const policy::RetentionRule* FindRule(const Policy& policy, const std::string& id) {
  for (const auto& rule : policy.retention) {
    if (rule.id == id) return &rule;
  }
  return nullptr;
}

bool RuleReaches(const Policy& policy, const policy::RetentionRule& rule,
                 const std::vector<std::string>& types) {
  if (!rule.subjects.empty()) return Intersects(rule.subjects, types);
  if (rule.purposes.empty()) return true;
  return std::any_of(rule.purposes.begin(), rule.purposes.end(), [&](const policy::Ref& p) {
    const policy::Purpose* purpose = policy.FindPurpose(p.key);
    return purpose != nullptr && PurposeReaches(*purpose, types);
  });
}

bool Reaches(const Policy& after, const PolicyChange& change,
             const std::vector<std::string>& types) {
  const std::string& kind = change.kind;
  if (kind == "purpose_added" || kind == "consent_renewed" || kind == "basis_changed" ||
      kind == "categories_added" || kind == "recipient_added") {
    const policy::Purpose* purpose = after.FindPurpose(change.key);
    return purpose != nullptr && PurposeReaches(*purpose, types);
  }
  if (kind == "countries_added") {
    return std::any_of(after.purposes.begin(), after.purposes.end(), [&](const auto& purpose) {
      return PurposeReaches(purpose, types) &&
             std::any_of(purpose.recipients.begin(), purpose.recipients.end(),
                         [&](const policy::Ref& r) { return r.key == change.key; });
    });
  }
  if (kind == "retention_added" || kind == "retention_changed") {
    const policy::RetentionRule* rule = FindRule(after, change.key);
    return rule != nullptr && rule->period_stated && RuleReaches(after, *rule, types);
  }
  return kind == "right_removed";
}

std::vector<std::string> SplitKeys(const std::string& joined) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= joined.size()) {
    size_t end = joined.find(", ", start);
    if (end == std::string::npos) end = joined.size();
    if (end > start) out.push_back(joined.substr(start, end - start));
    start = end + 2;
  }
  return out;
}

std::string BasisWords(policy::LawfulBasis basis) {
  switch (basis) {
    case policy::LawfulBasis::kConsent: return "your consent";
    case policy::LawfulBasis::kContract: return "our contract with you";
    case policy::LawfulBasis::kLegalObligation: return "a legal obligation we must meet";
    case policy::LawfulBasis::kVitalInterests: return "protecting someone's life (vital interests)";
    case policy::LawfulBasis::kPublicTask: return "a task we carry out in the public interest";
    case policy::LawfulBasis::kLegitimateInterests: return "our legitimate interests";
    case policy::LawfulBasis::kNone: break;
  }
  return "not stated";
}

policy::LawfulBasis BasisOfKey(const std::string& key) {
  for (auto basis : {policy::LawfulBasis::kConsent, policy::LawfulBasis::kContract,
                     policy::LawfulBasis::kLegalObligation, policy::LawfulBasis::kVitalInterests,
                     policy::LawfulBasis::kPublicTask, policy::LawfulBasis::kLegitimateInterests}) {
    if (policy::LawfulBasisKey(basis) == key) return basis;
  }
  return policy::LawfulBasis::kNone;
}

std::string LowerFirst(std::string_view text) {
  std::string out(text);
  if (!out.empty()) out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  return out;
}

std::string PeriodWords(const policy::Period& period) {
  return period.value ? policy::PeriodInWords(*period.value) : period.text;
}

std::string Line(const Policy& before, const Policy& after, const PolicyChange& c) {
  const std::string purpose = PurposeName(after, c.key);
  const std::string ask_first =
      c.needs_consent ? " We will ask for your consent first, and do not use your information "
                        "for this until you give it."
                      : "";
  if (c.kind == "purpose_added") {
    const policy::Purpose* p = after.FindPurpose(c.key);
    std::string line = "We now use your information for a new purpose: " + purpose + ".";
    if (p != nullptr && !p->description.empty()) line += " " + p->description;
    if (!line.empty() && line.back() != '.') line += ".";
    if (p != nullptr) line += " The legal basis for it is " + BasisWords(p->basis) + ".";
    return line + ask_first;
  }
  if (c.kind == "consent_renewed") {
    return purpose + " has changed, so consent given before it changed no longer counts." +
           (ask_first.empty() ? std::string(" We will ask you again.") : ask_first);
  }
  if (c.kind == "basis_changed") {
    return "For " + purpose + ", the legal basis is now " + BasisWords(BasisOfKey(c.after)) +
           " (it was " + BasisWords(BasisOfKey(c.before)) + ")." + ask_first;
  }
  if (c.kind == "categories_added") {
    return "For " + purpose +
           ", we now also use: " + Names(after, SplitKeys(c.after), CategoryName, "") + ".";
  }
  if (c.kind == "recipient_added") {
    return "For " + purpose + ", we now share your information with: " +
           Names(after, SplitKeys(c.after), RecipientName, "") + ".";
  }
  if (c.kind == "countries_added") {
    std::string places;
    for (const auto& code : SplitKeys(c.after)) {
      places += (places.empty() ? "" : ", ") + policy::CountryName(code);
    }
    return RecipientName(after, c.key) + " now handles your information in: " + places + ".";
  }
  if (c.kind == "retention_added" || c.kind == "retention_changed") {
    const policy::RetentionRule* rule = FindRule(after, c.key);
    const policy::RetentionRule* was = FindRule(before, c.key);
    std::string line = (c.kind == "retention_added" ? "A new rule on how long we keep your "
                                                      "information: "
                                                    : "How long we keep your information has "
                                                      "changed: ") +
                       policy::DescribeRetentionRule(after, *rule);
    if (was != nullptr && was->period_stated) line += " (before: " + PeriodWords(was->period) + ")";
    return line + ".";
  }
  // right_removed
  return "Our privacy notice no longer lists the " + LowerFirst(policy::RightName(c.key)) + ".";
}

}  // namespace

std::vector<PolicyChange> ChangesReaching(const Policy& after,
                                          const std::vector<PolicyChange>& changes,
                                          const std::vector<std::string>& types) {
  std::vector<PolicyChange> out;
  for (const auto& change : changes) {
    if (change.material && Reaches(after, change, types)) out.push_back(change);
  }
  return out;
}

PolicyChangeNotice PolicyChangeNoticeFor(const Policy& before, const Policy& after,
                                         const std::vector<PolicyChange>& reaching) {
  PolicyChangeNotice notice;
  notice.subject = after.controller.name + " has changed how it uses your personal information";
  std::string& b = notice.body;
  b = "We have updated our privacy notice" +
      (after.notice.version.empty() ? std::string() : " (version " + after.notice.version + ")") +
      ". These changes affect you:\n\n";
  for (const auto& change : reaching) b += "- " + Line(before, after, change) + "\n";
  b += "\n";
  if (!after.notice.url.empty())
    b += "You can read the whole notice at " + after.notice.url + ".\n\n";
  b += "If you have questions, or want to use your rights, contact " + ContactPoint(after) + ".\n";
  return notice;
}

}  // namespace custos::engine
