#include "policy/validator.h"

#include <set>
#include <string>
#include <utility>

#include "policy/taxonomy.h"

namespace custos::policy {

namespace {

class Validator {
 public:
  Validator(const Policy& policy, Diagnostics& diagnostics)
      : policy_(policy), diagnostics_(diagnostics) {}

  void Run() {
    CheckDuplicates();
    CheckSubjectTypes();
    CheckEvents();
    CheckCategories();
    CheckPurposes();
    CheckRecipients();
    CheckTransfers();
    CheckRetention();
    CheckRetentionCoverage();
    CheckRights();
    ValidateSystems(
        policy_, [this](std::string_view key) { return KnownCategory(key); }, diagnostics_);
  }

 private:
  void Report(ErrorCode code, Loc loc, std::string message, std::string hint) {
    diagnostics_.push_back({code, loc, std::move(message), std::move(hint)});
  }

  // A category reference is known when it is declared, in fideslang, or an ancestor of a
  // declared key (so `user.engagement` is known once `user.engagement.events` is declared).
  bool KnownCategory(std::string_view key) const {
    if (policy_.FindCategory(key) || FindFideslangCategory(key)) return true;
    for (const auto& category : policy_.categories) {
      if (CategoryCovers(key, category.key)) return true;
    }
    return false;
  }

  void CheckCategoryRefs(const std::vector<Ref>& refs, const std::string& where) {
    for (const auto& ref : refs) {
      if (!KnownCategory(ref.key)) {
        Report(ErrorCode::kUnknownCategory, ref.loc,
               where + " names category '" + ref.key +
                   "', which is neither a fideslang key nor "
                   "declared under 'categories'",
               "declare it under 'categories' with a 'parent' and 'name', or fix the spelling");
      }
    }
  }

  void CheckSubjectRefs(const std::vector<Ref>& refs, const std::string& where) {
    for (const auto& ref : refs) {
      if (!policy_.FindSubjectType(ref.key)) {
        Report(ErrorCode::kUnknownSubjectType, ref.loc,
               where + " names subject type '" + ref.key + "', which is not declared",
               "declare it under 'subject_types' or fix the spelling");
      }
    }
  }

  void CheckPurposeRefs(const std::vector<Ref>& refs, const std::string& where) {
    for (const auto& ref : refs) {
      if (!policy_.FindPurpose(ref.key)) {
        Report(ErrorCode::kUnknownPurpose, ref.loc,
               where + " names purpose '" + ref.key + "', which is not declared",
               "declare it under 'purposes' or fix the spelling");
      }
    }
  }

  void CheckEventRef(const Ref& ref, const std::string& where) {
    if (!policy_.FindEvent(ref.key)) {
      Report(ErrorCode::kUnknownEvent, ref.loc,
             where + " names event '" + ref.key + "', which is not declared",
             "declare it under 'events', or use a built-in event: collected, subject_created, "
             "erasure_requested, consent_withdrawn, objection_made");
    }
  }

  void CheckDuplicates() {
    std::set<std::string> ids;
    for (const auto& rule : policy_.retention) {
      if (!rule.id.empty() && !ids.insert(rule.id).second) {
        Report(ErrorCode::kDuplicateKey, rule.loc,
               "retention rule id '" + rule.id + "' is used twice",
               "give each retention rule its own id");
      }
    }
  }

  void CheckSubjectTypes() {
    if (policy_.subject_types.empty()) {
      Report(ErrorCode::kMissingField, Loc{1, 1}, "the policy declares no subject types",
             "list the kinds of people the data is about under 'subject_types'");
    }
  }

  void CheckEvents() {
    for (const auto& event : policy_.events) {
      for (const auto& ref : event.resets) CheckEventRef(ref, "event '" + event.key + "'");
    }
  }

  void CheckCategories() {
    for (const auto& category : policy_.categories) {
      if (!category.fideslang) {
        if (!category.parent) {
          Report(ErrorCode::kUnknownCategory, category.loc,
                 "category '" + category.key + "' is not a fideslang key and has no 'parent'",
                 "add 'parent:' naming the fideslang or declared category it refines, and a "
                 "'name:'");
        } else if (!KnownCategory(category.parent->key)) {
          Report(
              ErrorCode::kUnknownCategory, category.parent->loc,
              "category '" + category.key + "' has unknown parent '" + category.parent->key + "'",
              "the parent must be a fideslang key or a declared category");
        } else if (!CategoryCovers(category.parent->key, category.key) ||
                   category.parent->key == category.key) {
          Report(ErrorCode::kInvalidParent, category.parent->loc,
                 "category '" + category.key + "' does not extend its parent '" +
                     category.parent->key + "'",
                 "a custom key starts with its parent's key, e.g. " + category.parent->key +
                     ".something");
        }
        if (category.name.empty()) {
          Report(ErrorCode::kMissingField, category.loc,
                 "custom category '" + category.key + "' has no 'name'",
                 "add 'name:' with the words a person would use");
        }
      }
      bool special = category.special || IsInherentlySpecial(category.key);
      if (special && category.condition.empty()) {
        Report(ErrorCode::kSpecialCategoryWithoutCondition, category.loc,
               "category '" + category.key +
                   "' is special category (Article 9/10) data but states no condition",
               "add 'special: true' and 'condition:' with the Article 9(2) condition relied on, "
               "e.g. explicit_consent");
      }
    }
  }

  // A category a purpose uses that is special by fideslang but not declared is also caught.
  void CheckUndeclaredSpecial(const Ref& ref, const std::string& where) {
    if (IsInherentlySpecial(ref.key) && !policy_.FindCategory(ref.key)) {
      bool declared_below = false;
      for (const auto& category : policy_.categories) {
        if (CategoryCovers(ref.key, category.key) && !category.condition.empty()) {
          declared_below = true;
        }
      }
      if (!declared_below) {
        Report(
            ErrorCode::kSpecialCategoryWithoutCondition, ref.loc,
            where + " uses special category data '" + ref.key + "' without an Article 9 condition",
            "declare '" + ref.key +
                "' under 'categories' with 'special: true' and "
                "'condition:'");
      }
    }
  }

  void CheckPurposes() {
    if (policy_.purposes.empty()) {
      Report(ErrorCode::kMissingField, Loc{1, 1}, "the policy declares no purposes",
             "list why data is processed under 'purposes'");
    }
    for (const auto& purpose : policy_.purposes) {
      std::string where = "purpose '" + purpose.key + "'";
      if (purpose.basis == LawfulBasis::kNone) {
        Report(ErrorCode::kMissingLawfulBasis, purpose.loc, where + " has no lawful basis",
               "add 'basis:' with one of consent, contract, legal_obligation, vital_interests, "
               "public_task, legitimate_interests");
      }
      if (purpose.basis == LawfulBasis::kLegitimateInterests && purpose.interest.empty()) {
        Report(ErrorCode::kInterestNotStated, purpose.loc,
               where + " relies on legitimate interests but does not say which interest",
               "add 'interest:' stating the interest in words a person understands");
      }
      // Each basis has its own words: a public task written as a legal obligation would be
      // published and recorded under the wrong basis.
      if (!purpose.obligation.empty() && purpose.basis != LawfulBasis::kLegalObligation) {
        Report(ErrorCode::kInvalidValue, purpose.loc,
               where + " states an 'obligation:' but its basis is " +
                   std::string(LawfulBasisKey(purpose.basis)),
               purpose.basis == LawfulBasis::kPublicTask
                   ? "write the task in the public interest (or official authority) as 'task:'"
                   : "'obligation:' belongs to basis legal_obligation; remove it or change the "
                     "basis");
      }
      if (!purpose.task.empty() && purpose.basis != LawfulBasis::kPublicTask) {
        Report(ErrorCode::kInvalidValue, purpose.loc,
               where + " states a 'task:' but its basis is " +
                   std::string(LawfulBasisKey(purpose.basis)),
               "'task:' belongs to basis public_task; remove it or change the basis");
      }
      CheckCategoryRefs(purpose.categories, where);
      for (const auto& ref : purpose.categories) CheckUndeclaredSpecial(ref, where);
      CheckSubjectRefs(purpose.subjects, where);
      for (const auto& ref : purpose.sources) {
        if (!policy_.FindSource(ref.key)) {
          Report(ErrorCode::kUnknownSource, ref.loc,
                 where + " names source '" + ref.key + "', which is not declared",
                 "declare it under 'sources' or fix the spelling");
        }
      }
      for (const auto& ref : purpose.recipients) {
        if (!policy_.FindRecipient(ref.key)) {
          Report(ErrorCode::kUnknownRecipient, ref.loc,
                 where + " names recipient '" + ref.key + "', which is not declared",
                 "declare it under 'recipients' or fix the spelling");
        }
      }
    }
  }

  void CheckRecipients() {
    for (const auto& recipient : policy_.recipients) {
      std::string where = "recipient '" + recipient.key + "'";
      CheckCategoryRefs(recipient.categories, where);
      if (recipient.processor_of && !policy_.FindRecipient(recipient.processor_of->key)) {
        Report(ErrorCode::kUnknownRecipient, recipient.processor_of->loc,
               where + " is a sub-processor of '" + recipient.processor_of->key +
                   "', which is not declared",
               "name the processor's key from 'recipients'");
      }
      for (const auto& country : recipient.countries) {
        if (!IsKnownRegionOrCountry(country.key)) {
          Report(ErrorCode::kInvalidValue, country.loc,
                 where + " names country '" + country.key + "', which custos does not know",
                 "use an ISO 3166-1 alpha-2 code such as GB, IE, US");
        }
      }
    }
  }

  bool InAllowedRegions(std::string_view country) const {
    for (const auto& region : policy_.transfers.regions) {
      if (RegionIncludes(region.key, country)) return true;
    }
    return false;
  }

  void CheckTransfers() {
    for (const auto& region : policy_.transfers.regions) {
      if (!IsKnownRegionOrCountry(region.key)) {
        Report(ErrorCode::kInvalidValue, region.loc,
               "transfers.regions names '" + region.key + "', which custos does not know",
               "use UK, EU, EEA or an ISO 3166-1 alpha-2 country code");
      }
    }
    for (const auto& recipient : policy_.recipients) {
      for (const auto& country : recipient.countries) {
        if (!IsKnownRegionOrCountry(country.key) || InAllowedRegions(country.key)) continue;
        if (policy_.transfers.outside == TransferRule::kForbidden) {
          Report(ErrorCode::kTransferForbidden, country.loc,
                 "recipient '" + recipient.key + "' is in " + CountryName(country.key) +
                     ", but the notice promises data never leaves the allowed regions",
                 "remove the recipient or the country, or change the promise in 'transfers'");
        } else if (recipient.safeguard.empty()) {
          Report(ErrorCode::kTransferWithoutSafeguard, country.loc,
                 "recipient '" + recipient.key + "' is in " + CountryName(country.key) +
                     ", outside the allowed regions, with no transfer safeguard",
                 "add 'safeguard:' (adequacy, idta, uk_addendum_scc, scc, bcr or derogation)");
        }
      }
    }
  }

  void CheckRetention() {
    for (const auto& rule : policy_.retention) {
      std::string where = "retention rule '" + rule.id + "'";
      CheckCategoryRefs(rule.categories, where);
      CheckCategoryRefs(rule.keep, where);
      CheckSubjectRefs(rule.subjects, where);
      CheckPurposeRefs(rule.purposes, where);
      if (!rule.after.key.empty()) CheckEventRef(rule.after, where);
      if (!rule.keep.empty() && rule.action != RetentionAction::kAnonymise) {
        Report(ErrorCode::kInvalidValue, rule.keep.front().loc,
               where + " keeps categories but does not anonymise",
               "'keep' applies to 'action: anonymise' only");
      }
      for (const auto& ref : rule.keep) {
        const Category* category = policy_.FindCategory(ref.key);
        if (category == nullptr || category->identifying) {
          Report(ErrorCode::kInvalidValue, ref.loc,
                 where + " keeps '" + ref.key +
                     "' after anonymising, but it is not declared "
                     "non-identifying",
                 "declare the category with 'identifying: false', or do not keep it");
        }
      }
    }
  }

  // Every (purpose, category, subject type) a purpose collects needs a rule covering it.
  void CheckRetentionCoverage() {
    for (const auto& purpose : policy_.purposes) {
      for (const auto& category : purpose.categories) {
        for (const auto& subject : policy_.SubjectsOrAll(purpose.subjects)) {
          if (!Covered(purpose.key, category.key, subject)) {
            Report(ErrorCode::kCategoryWithoutRetention, category.loc,
                   "purpose '" + purpose.key + "' collects '" + category.key + "' about '" +
                       subject + "', but no retention rule says how long it is kept",
                   "add a retention rule covering this category and subject type (use 'action: "
                   "review' with a period where the notice says 'as long as necessary')");
            break;  // one report per category is enough
          }
        }
      }
    }
  }

  bool Covered(const std::string& purpose, const std::string& category,
               const std::string& subject) const {
    for (const auto& rule : policy_.retention) {
      bool subject_ok = rule.subjects.empty();
      for (const auto& ref : rule.subjects) subject_ok = subject_ok || ref.key == subject;
      bool purpose_ok = rule.purposes.empty();
      for (const auto& ref : rule.purposes) purpose_ok = purpose_ok || ref.key == purpose;
      bool category_ok = false;
      for (const auto& ref : rule.categories) {
        category_ok = category_ok || CategoryCovers(ref.key, category);
      }
      if (subject_ok && purpose_ok && category_ok) return true;
    }
    return false;
  }

  void CheckRights() {
    const Rights& rights = policy_.rights;
    if (rights.contact && !policy_.FindContact(rights.contact->key)) {
      Report(ErrorCode::kUnknownContact, rights.contact->loc,
             "rights.contact names '" + rights.contact->key + "', which is not under 'contacts'",
             "declare the contact point under 'contacts' or fix the spelling");
    }
    for (const auto& exemption : rights.exemptions) {
      CheckCategoryRefs(exemption.categories, "rights exemption");
      CheckPurposeRefs(exemption.purposes, "rights exemption");
    }
  }

  const Policy& policy_;
  Diagnostics& diagnostics_;
};

}  // namespace

void ValidatePolicy(const Policy& policy, Diagnostics& diagnostics) {
  Validator(policy, diagnostics).Run();
}

}  // namespace custos::policy
