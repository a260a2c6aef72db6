// The words the notice uses: text clean-up, lists, names of what the policy declares, retention
// rules, rights and safeguards. The RoPA and the access package reuse the public ones (notice.h).
#include <algorithm>
#include <array>
#include <cctype>
#include <utility>
#include <vector>

#include "policy/notice.h"
#include "policy/notice_internal.h"
#include "policy/taxonomy.h"

namespace custos::policy {
// The public words below (PeriodInWords, RightInWords) are translated as the notice's are.
using notice_internal::Tr;
}  // namespace custos::policy

namespace custos::policy::notice_internal {

// ---------------------------------------------------------------------------------------------
// Text.

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

std::string CollapseSpace(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_space = false;
  for (char c : text) {
    if (IsSpace(c)) {
      if (!in_space) out += ' ';
      in_space = true;
    } else {
      out += c;
      in_space = false;
    }
  }
  return out;
}

bool Blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return IsSpace(c); });
}

std::string Trim(std::string_view text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && IsSpace(text[begin])) ++begin;
  while (end > begin && IsSpace(text[end - 1])) --end;
  return std::string(text.substr(begin, end - begin));
}

// ---------------------------------------------------------------------------------------------
// Words shared by the sections.

std::string JoinWords(const std::vector<std::string>& items, std::string_view last) {
  std::string out;
  const std::string last_word = Tr(last);
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += (i + 1 == items.size()) ? " " + last_word + " " : ", ";
    out += items[i];
  }
  return out;
}

void AddUnique(std::vector<std::string>& items, std::string item) {
  if (std::find(items.begin(), items.end(), item) == items.end()) items.push_back(std::move(item));
}

std::string LowerFirst(std::string_view name) {
  std::string out(name);
  if (out.size() >= 2 && std::isupper(static_cast<unsigned char>(out[0])) &&
      std::islower(static_cast<unsigned char>(out[1]))) {
    out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  }
  return out;
}

std::string KeyToWords(std::string_view key) {
  std::string out(key);
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

std::string Sentence(std::string_view text) {
  std::string out = CollapseSpace(text);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (!out.empty() && out.back() != '.' && out.back() != '!' && out.back() != '?') out += '.';
  return out;
}

bool IsSpecial(const Category& category) {
  return category.special || IsInherentlySpecial(category.key);
}

bool IsCriminalOffenceData(std::string_view key) {
  return CategoryCovers("user.criminal_history", key);
}

std::string PlaceName(std::string_view code) {
  std::string name = Tr(CountryName(code));
  if (name.rfind("United ", 0) == 0 || name == "Netherlands") return Tr("the ") + name;
  return name;
}

std::vector<std::string> PlaceNames(const std::vector<Ref>& codes) {
  std::vector<std::string> out;
  for (const auto& code : codes) AddUnique(out, PlaceName(code.key));
  return out;
}

std::vector<std::string> CategoryNames(const Policy& policy, const std::vector<Ref>& refs) {
  std::vector<std::string> out;
  for (const auto& ref : refs) {
    const Category* declared = policy.FindCategory(ref.key);
    if (declared != nullptr) {
      AddUnique(out, Blank(declared->group) ? policy.CategoryName(ref.key) : declared->group);
      continue;
    }
    // An undeclared key (a fideslang parent such as user.contact) is named by what the policy
    // declares beneath it, in the organisation's words, never by the taxonomy's label.
    std::vector<std::string> beneath;
    for (const auto& category : policy.categories) {
      if (!CategoryCovers(ref.key, category.key)) continue;
      AddUnique(beneath,
                Blank(category.group) ? policy.CategoryName(category.key) : category.group);
    }
    if (beneath.empty()) {
      AddUnique(out, policy.CategoryName(ref.key));
    } else {
      for (auto& name : beneath) AddUnique(out, std::move(name));
    }
  }
  return out;
}

namespace {

std::string SubjectName(const Policy& policy, std::string_view key) {
  const SubjectType* type = policy.FindSubjectType(key);
  if (type != nullptr && !type->name.empty()) return type->name;
  return KeyToWords(key);
}

}  // namespace

std::vector<std::string> SubjectNames(const Policy& policy, const std::vector<Ref>& refs) {
  std::vector<std::string> out;
  for (const auto& ref : refs) AddUnique(out, SubjectName(policy, ref.key));
  return out;
}

std::string SourceKindWords(SourceKind kind) {
  switch (kind) {
    case SourceKind::kDirect: return Tr("You give it to us");
    case SourceKind::kThirdParty: return Tr("Others give it to us");
    case SourceKind::kAutomated: return Tr("Collected automatically");
    case SourceKind::kPublic: return Tr("From publicly available sources");
  }
  return "";
}

std::string SourceName(const Policy& policy, std::string_view key) {
  const Source* source = policy.FindSource(key);
  if (source == nullptr) return KeyToWords(key);
  if (!source->name.empty()) return source->name;
  if (source->kind == SourceKind::kDirect) return Tr("You");
  return KeyToWords(key);
}

std::vector<std::string> SourceNames(const Policy& policy, const std::vector<Ref>& refs) {
  std::vector<std::string> out;
  for (const auto& ref : refs) AddUnique(out, SourceName(policy, ref.key));
  return out;
}

std::string RecipientName(const Policy& policy, std::string_view key) {
  const Recipient* recipient = policy.FindRecipient(key);
  if (recipient != nullptr && !recipient->name.empty()) return recipient->name;
  return KeyToWords(key);
}

std::vector<std::string> RecipientNames(const Policy& policy, const std::vector<Ref>& refs) {
  std::vector<std::string> out;
  for (const auto& ref : refs) AddUnique(out, RecipientName(policy, ref.key));
  return out;
}

std::vector<std::string> PurposeNames(const Policy& policy, const std::vector<Ref>& refs) {
  std::vector<std::string> out;
  for (const auto& ref : refs) {
    const Purpose* purpose = policy.FindPurpose(ref.key);
    AddUnique(out,
              purpose != nullptr && !purpose->name.empty() ? purpose->name : KeyToWords(ref.key));
  }
  return out;
}

namespace {

// The trigger of a retention rule as a clause after "after" ("membership ended").
std::string EventClause(const Policy& policy, std::string_view key) {
  if (key == "collected") return Tr("we collected it");
  if (key == "subject_created") return Tr("we first recorded you");
  if (key == "erasure_requested") return Tr("you asked us to delete it");
  if (key == "consent_withdrawn") return Tr("you withdrew your consent");
  if (key == "objection_made") return Tr("you objected");
  const Event* event = policy.FindEvent(key);
  if (event != nullptr && !event->name.empty()) return LowerFirst(CollapseSpace(event->name));
  return KeyToWords(key);
}

std::string EventResetsClause(const Policy& policy, std::string_view key) {
  const Event* event = policy.FindEvent(key);
  if (event == nullptr || event->resets.empty()) return "";
  std::vector<std::string> names;
  for (const auto& reset : event->resets) AddUnique(names, EventClause(policy, reset.key));
  return Tr("the clock restarts on each ") + JoinWords(names, "or");
}

std::string ActionWords(RetentionAction action) {
  switch (action) {
    case RetentionAction::kDelete: return Tr("deleted");
    case RetentionAction::kAnonymise: return Tr("anonymised");
    case RetentionAction::kReview: return Tr("reviewed (we check whether we still need it)");
  }
  return "";
}

}  // namespace

std::string WhenClause(const Policy& policy, const RetentionRule& rule) {
  std::string period =
      rule.period.value ? PeriodInWords(*rule.period.value) : std::string(rule.period.text);
  return period + Tr(" after ") + EventClause(policy, rule.after.key);
}

std::pair<std::string, std::string> RetentionRuleParts(const Policy& policy,
                                                       const RetentionRule& rule) {
  std::string label = JoinWords(CategoryNames(policy, rule.categories));
  if (!rule.subjects.empty()) label += " (" + JoinWords(SubjectNames(policy, rule.subjects)) + ")";
  std::string rest = ActionWords(rule.action) + " " + WhenClause(policy, rule);
  std::vector<std::string> notes;
  if (std::string resets = EventResetsClause(policy, rule.after.key); !resets.empty()) {
    notes.push_back(resets);
  }
  if (!rule.purposes.empty()) {
    notes.push_back(Tr("for data collected for ") + JoinWords(PurposeNames(policy, rule.purposes)));
  }
  if (!notes.empty()) rest += " (" + JoinWords(notes, "; ") + ")";
  if (rule.action == RetentionAction::kAnonymise && !rule.keep.empty()) {
    rest += Tr("; we keep ") + JoinWords(CategoryNames(policy, rule.keep)) +
            Tr(" only in a form that no longer identifies you");
  }
  return {label, rest};
}

std::string GroundWords(std::string_view ground) {
  if (ground == "legal_obligation") return Tr("where we must keep or use the data by law");
  if (ground == "legal_claims") return Tr("where we need the data for legal claims");
  if (ground == "research_article_89") {
    return Tr(
        "where the data is used for research, archiving or statistics under safeguards "
        "(Article 89 UK GDPR) and the right would make that impossible or seriously harm it");
  }
  if (ground == "public_task")
    return Tr("where we need the data for a task in the public interest");
  if (ground == "freedom_of_expression") {
    return Tr("where we need the data for freedom of expression and information");
  }
  if (ground == "crime_prevention") {
    return Tr("where using the right would prejudice the prevention or detection of crime");
  }
  return KeyToWords(ground);
}

std::string ContactPurposeWords(std::string_view purpose) {
  if (purpose == "general") return Tr("General enquiries");
  if (purpose == "rights_requests") return Tr("Requests about your data");
  if (purpose == "complaints") return Tr("Complaints to us");
  if (purpose == "marketing_opt_out") return Tr("Stopping marketing");
  if (purpose == "dpo") return Tr("Data protection officer");
  if (purpose == "security") return Tr("Reporting a security problem");
  if (purpose == "withdraw_consent") return Tr("Withdrawing your consent");
  return KeyToWords(purpose);
}

std::string ChannelWords(std::string_view channel) {
  if (channel == "email") return Tr("email");
  if (channel == "sms") return Tr("SMS text message");
  if (channel == "post") return Tr("post");
  if (channel == "phone") return Tr("phone");
  if (channel == "in_app") return Tr("messages in the app");
  if (channel == "push") return Tr("push notifications");
  return KeyToWords(channel);
}

}  // namespace custos::policy::notice_internal

namespace custos::policy {

std::string PeriodInWords(const IsoPeriod& period) {
  std::string words = period.ToHuman();
  // "1 month" reads as a number in a table; a notice says "one month".
  if (words.rfind("1 ", 0) == 0) words.replace(0, 1, "one");
  return Tr(words);
}

std::string DescribeRetentionRule(const Policy& policy, const RetentionRule& rule) {
  auto [label, rest] = notice_internal::RetentionRuleParts(policy, rule);
  return label + ": " + rest;
}

std::string_view ConditionInWords(std::string_view condition) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kWords = {{
      {"explicit_consent", "your explicit consent"},
      {"employment_social_security",
       "our obligations and rights in employment, social security and social protection law"},
      {"vital_interests",
       "protecting your vital interests, or someone else's, when consent cannot be given"},
      {"not_for_profit_body",
       "the legitimate activities of a not-for-profit body, about its members or regular "
       "contacts"},
      {"made_public", "data you have manifestly made public yourself"},
      {"legal_claims", "establishing, exercising or defending legal claims"},
      {"substantial_public_interest", "reasons of substantial public interest"},
      {"health_social_care", "the provision of health or social care"},
      {"public_health", "reasons of public interest in public health"},
      {"archiving_research_statistics",
       "archiving, scientific or historical research, or statistics, in the public interest"},
  }};
  for (const auto& [key, words] : kWords) {
    if (key == condition) return words;
  }
  return condition;
}

std::string_view SafeguardInWords(std::string_view safeguard) {
  if (safeguard == "adequacy") {
    return "UK adequacy regulations (the country is recognised as protecting personal data "
           "adequately)";
  }
  if (safeguard == "idta") return "the International Data Transfer Agreement (IDTA)";
  if (safeguard == "uk_addendum_scc") {
    return "the EU standard contractual clauses with the UK Addendum";
  }
  if (safeguard == "scc") return "standard contractual clauses";
  if (safeguard == "bcr") return "binding corporate rules";
  if (safeguard == "derogation") {
    return "a derogation for a specific situation (Article 49 UK GDPR)";
  }
  if (safeguard.empty()) return "no stated safeguard";
  return safeguard;
}

std::string RightInWords(std::string_view right) {
  if (right == "informed") {
    return Tr(
        "You have the right to be told how we use your personal data. This notice does that.");
  }
  if (right == "access") {
    return Tr("You can ask for a copy of the personal data we hold about you and how we use it.");
  }
  if (right == "rectification") {
    return Tr(
        "You can ask us to correct personal data that is wrong and to complete data that is "
        "incomplete.");
  }
  if (right == "erasure") {
    return Tr("You can ask us to delete your personal data in certain circumstances.");
  }
  if (right == "restriction") {
    return Tr(
        "You can ask us to limit how we use your personal data in certain circumstances, for "
        "example while we check that it is accurate.");
  }
  if (right == "objection") {
    return Tr(
        "You can object to our using your personal data where we rely on legitimate interests "
        "or a public task; we then stop unless we have compelling grounds. You can object to "
        "direct marketing at any time, and we will always stop.");
  }
  if (right == "portability") {
    return Tr(
        "You can ask for the personal data you gave us in a structured, machine-readable "
        "format, for yourself or for another organisation, where we process it by automated "
        "means on the basis of your consent or a contract.");
  }
  if (right == "withdraw_consent") {
    return Tr(
        "Where we rely on your consent, you can withdraw it at any time. This does not affect "
        "what we did before you withdrew it.");
  }
  if (right == "automated_decision_review") {
    return Tr(
        "You can ask for a person to review a decision made about you by automated means "
        "alone, give your point of view and contest the decision.");
  }
  if (right == "marketing_opt_out") {
    return Tr("You can tell us at any time to stop sending you marketing.");
  }
  return "";
}

}  // namespace custos::policy
