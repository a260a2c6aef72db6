#include "policy/policy.h"

#include <algorithm>
#include <array>
#include <utility>

#include "policy/taxonomy.h"

namespace custos::policy {

namespace {

template <typename T>
const T* FindByKey(const std::vector<T>& items, std::string_view key) {
  for (const auto& item : items) {
    if (item.key == key) return &item;
  }
  return nullptr;
}

struct Country {
  std::string_view code;
  std::string_view name;
  bool eu;
  bool eea_only;  // EEA but not EU
};

// EU and EEA members plus the countries processors in the seeds commonly name. Extend freely.
constexpr std::array<Country, 44> kCountries = {{
    {"GB", "United Kingdom", false, false}, {"AT", "Austria", true, false},
    {"BE", "Belgium", true, false},         {"BG", "Bulgaria", true, false},
    {"HR", "Croatia", true, false},         {"CY", "Cyprus", true, false},
    {"CZ", "Czechia", true, false},         {"DK", "Denmark", true, false},
    {"EE", "Estonia", true, false},         {"FI", "Finland", true, false},
    {"FR", "France", true, false},          {"DE", "Germany", true, false},
    {"GR", "Greece", true, false},          {"HU", "Hungary", true, false},
    {"IE", "Ireland", true, false},         {"IT", "Italy", true, false},
    {"LV", "Latvia", true, false},          {"LT", "Lithuania", true, false},
    {"LU", "Luxembourg", true, false},      {"MT", "Malta", true, false},
    {"NL", "Netherlands", true, false},     {"PL", "Poland", true, false},
    {"PT", "Portugal", true, false},        {"RO", "Romania", true, false},
    {"SK", "Slovakia", true, false},        {"SI", "Slovenia", true, false},
    {"ES", "Spain", true, false},           {"SE", "Sweden", true, false},
    {"IS", "Iceland", false, true},         {"LI", "Liechtenstein", false, true},
    {"NO", "Norway", false, true},          {"US", "United States", false, false},
    {"CA", "Canada", false, false},         {"AU", "Australia", false, false},
    {"NZ", "New Zealand", false, false},    {"IN", "India", false, false},
    {"CH", "Switzerland", false, false},    {"JP", "Japan", false, false},
    {"KR", "South Korea", false, false},    {"IL", "Israel", false, false},
    {"SG", "Singapore", false, false},      {"ZA", "South Africa", false, false},
    {"BR", "Brazil", false, false},         {"AR", "Argentina", false, false},
}};

const Country* FindCountry(std::string_view code) {
  for (const auto& country : kCountries) {
    if (country.code == code) return &country;
  }
  return nullptr;
}

}  // namespace

const Purpose* Policy::FindPurpose(std::string_view key) const { return FindByKey(purposes, key); }
const Recipient* Policy::FindRecipient(std::string_view key) const {
  return FindByKey(recipients, key);
}
const SubjectType* Policy::FindSubjectType(std::string_view key) const {
  return FindByKey(subject_types, key);
}
const Category* Policy::FindCategory(std::string_view key) const {
  return FindByKey(categories, key);
}
const Event* Policy::FindEvent(std::string_view key) const { return FindByKey(events, key); }
const Source* Policy::FindSource(std::string_view key) const { return FindByKey(sources, key); }
const Contact* Policy::FindContact(std::string_view key) const { return FindByKey(contacts, key); }

const System* Policy::FindSystem(std::string_view key) const { return FindByKey(systems, key); }

const Contact* Policy::FindContactFor(std::string_view purpose) const {
  for (const auto& contact : contacts) {
    if (contact.purpose == purpose) return &contact;
  }
  return nullptr;
}

std::string Policy::CategoryName(std::string_view key) const {
  if (const Category* category = FindCategory(key); category && !category->name.empty()) {
    return category->name;
  }
  if (const TaxonomyEntry* entry = FindFideslangCategory(key)) return std::string(entry->name);
  return std::string(key);
}

std::vector<std::string> Policy::SubjectsOrAll(const std::vector<Ref>& subjects) const {
  std::vector<std::string> out;
  if (subjects.empty()) {
    for (const auto& type : subject_types) out.push_back(type.key);
  } else {
    for (const auto& ref : subjects) out.push_back(ref.key);
  }
  return out;
}

bool CategoryCovers(std::string_view ancestor, std::string_view key) {
  if (key.size() < ancestor.size() || key.substr(0, ancestor.size()) != ancestor) return false;
  return key.size() == ancestor.size() || key[ancestor.size()] == '.';
}

const std::vector<std::string_view>& StatementSections() {
  static const std::vector<std::string_view> kSections = {
      "who",    "collect", "purposes", "marketing", "recipients", "transfers",  "retention",
      "rights", "cookies", "security", "children",  "links",      "complaints", "changes"};
  return kSections;
}

const std::vector<std::string_view>& Article9Conditions() {
  static const std::vector<std::string_view> kConditions = {"explicit_consent",
                                                            "employment_social_security",
                                                            "vital_interests",
                                                            "not_for_profit_body",
                                                            "made_public",
                                                            "legal_claims",
                                                            "substantial_public_interest",
                                                            "health_social_care",
                                                            "public_health",
                                                            "archiving_research_statistics"};
  return kConditions;
}

std::string_view Article9Letter(std::string_view condition) {
  static constexpr std::array<std::string_view, 10> kLetters = {
      "Article 9(2)(a)", "Article 9(2)(b)", "Article 9(2)(c)", "Article 9(2)(d)",
      "Article 9(2)(e)", "Article 9(2)(f)", "Article 9(2)(g)", "Article 9(2)(h)",
      "Article 9(2)(i)", "Article 9(2)(j)"};
  const auto& conditions = Article9Conditions();
  for (size_t i = 0; i < conditions.size(); ++i) {
    if (conditions[i] == condition) return kLetters[i];
  }
  return "";
}

std::string_view LawfulBasisKey(LawfulBasis basis) {
  switch (basis) {
    case LawfulBasis::kNone: return "";
    case LawfulBasis::kConsent: return "consent";
    case LawfulBasis::kContract: return "contract";
    case LawfulBasis::kLegalObligation: return "legal_obligation";
    case LawfulBasis::kVitalInterests: return "vital_interests";
    case LawfulBasis::kPublicTask: return "public_task";
    case LawfulBasis::kLegitimateInterests: return "legitimate_interests";
  }
  return "";
}

std::string_view LawfulBasisName(LawfulBasis basis) {
  switch (basis) {
    case LawfulBasis::kNone: return "(none stated)";
    case LawfulBasis::kConsent: return "Consent";
    case LawfulBasis::kContract: return "Contract";
    case LawfulBasis::kLegalObligation: return "Legal obligation";
    case LawfulBasis::kVitalInterests: return "Vital interests";
    case LawfulBasis::kPublicTask: return "Public task";
    case LawfulBasis::kLegitimateInterests: return "Legitimate interests";
  }
  return "";
}

std::string_view LawfulBasisArticle(LawfulBasis basis) {
  switch (basis) {
    case LawfulBasis::kNone: return "";
    case LawfulBasis::kConsent: return "Article 6(1)(a)";
    case LawfulBasis::kContract: return "Article 6(1)(b)";
    case LawfulBasis::kLegalObligation: return "Article 6(1)(c)";
    case LawfulBasis::kVitalInterests: return "Article 6(1)(d)";
    case LawfulBasis::kPublicTask: return "Article 6(1)(e)";
    case LawfulBasis::kLegitimateInterests: return "Article 6(1)(f)";
  }
  return "";
}

std::string_view RecipientKindKey(RecipientKind kind) {
  switch (kind) {
    case RecipientKind::kProcessor: return "processor";
    case RecipientKind::kSubProcessor: return "sub_processor";
    case RecipientKind::kThirdParty: return "third_party";
    case RecipientKind::kJointController: return "joint_controller";
    case RecipientKind::kRegulator: return "regulator";
    case RecipientKind::kAuthority: return "authority";
    case RecipientKind::kProfessionalAdviser: return "professional_adviser";
    case RecipientKind::kInternal: return "internal";
    case RecipientKind::kOtherUsers: return "other_users";
    case RecipientKind::kPublic: return "public";
  }
  return "";
}

std::string_view RecipientKindName(RecipientKind kind) {
  switch (kind) {
    case RecipientKind::kProcessor: return "Processor (acts on our instructions)";
    case RecipientKind::kSubProcessor: return "Sub-processor";
    case RecipientKind::kThirdParty: return "Third party";
    case RecipientKind::kJointController: return "Joint controller";
    case RecipientKind::kRegulator: return "Regulator";
    case RecipientKind::kAuthority: return "Public authority";
    case RecipientKind::kProfessionalAdviser: return "Professional adviser";
    case RecipientKind::kInternal: return "Within our organisation";
    case RecipientKind::kOtherUsers: return "Other users of the service";
    case RecipientKind::kPublic: return "The public";
  }
  return "";
}

std::string_view SourceKindKey(SourceKind kind) {
  switch (kind) {
    case SourceKind::kDirect: return "direct";
    case SourceKind::kThirdParty: return "third_party";
    case SourceKind::kAutomated: return "automated";
    case SourceKind::kPublic: return "public";
  }
  return "";
}

std::string_view RetentionActionKey(RetentionAction action) {
  switch (action) {
    case RetentionAction::kDelete: return "delete";
    case RetentionAction::kAnonymise: return "anonymise";
    case RetentionAction::kReview: return "review";
  }
  return "";
}

std::string_view RightName(std::string_view right) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kNames = {{
      {"informed", "Right to be informed"},
      {"access", "Right of access"},
      {"rectification", "Right to rectification"},
      {"erasure", "Right to erasure"},
      {"restriction", "Right to restrict processing"},
      {"objection", "Right to object"},
      {"portability", "Right to data portability"},
      {"withdraw_consent", "Right to withdraw consent"},
      {"automated_decision_review", "Rights about automated decision-making"},
      {"marketing_opt_out", "Right to opt out of marketing"},
  }};
  for (const auto& [key, name] : kNames) {
    if (key == right) return name;
  }
  return right;
}

std::string CountryName(std::string_view code) {
  if (const Country* country = FindCountry(code)) return std::string(country->name);
  if (code == "UK") return "United Kingdom";
  if (code == "EU") return "the European Union";
  if (code == "EEA") return "the European Economic Area";
  return std::string(code);
}

bool IsKnownRegionOrCountry(std::string_view code) {
  return code == "UK" || code == "EU" || code == "EEA" || FindCountry(code) != nullptr;
}

bool RegionIncludes(std::string_view region, std::string_view country) {
  if (region == country) return true;
  if (region == "UK") return country == "GB";
  const Country* found = FindCountry(country);
  if (found == nullptr) return false;
  if (region == "EU") return found->eu;
  if (region == "EEA") return found->eu || found->eea_only;
  return false;
}

}  // namespace custos::policy
