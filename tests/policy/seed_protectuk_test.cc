// The ProtectUK (Metropolitan Police Service) privacy policy, seed
// ../shared/seeds/003_6d7c4f32532ed23c.txt, encoded in policies/protectuk.yaml: each test holds
// one promise of the seed (quoted above it) against the loaded policy. The promise-by-promise map
// is docs/coverage/protectuk.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "policy/loader.h"
#include "policy/taxonomy.h"

namespace custos::policy {
namespace {

constexpr char kPolicyPath[] = CUSTOS_SOURCE_DIR "/policies/protectuk.yaml";

// The seed's data groups (section 3) as the category keys the policy uses for them.
const std::vector<std::string> kIdentity = {"user.name", "user.account.username"};
const std::vector<std::string> kContact = {"user.contact.email", "user.contact.phone_number"};
const std::vector<std::string> kTechnical = {"user.device.ip_address", "user.device.configuration",
                                             "user.account.login_data"};
const std::vector<std::string> kProfile = {"user.account.username", "user.authorization.password",
                                           "user.job_title",        "user.contact.organization",
                                           "user.contact.url",      "user.demographic.profile"};
const std::vector<std::string> kUsage = {"user.behavior", "user.content.public", "user.social"};
const std::vector<std::string> kMarketing = {"user.account.settings.notifications"};

// Loads the policy once; a load failure fails every test that uses it.
const Policy& ProtectUk() {
  static const Result<Policy> loaded = LoadValidPolicy(kPolicyPath);
  if (!loaded.ok()) {
    ADD_FAILURE() << loaded.status().ToString();
    static const Policy empty;
    return empty;
  }
  return loaded.value();
}

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool HasRef(const std::vector<Ref>& refs, std::string_view key) {
  return std::any_of(refs.begin(), refs.end(), [&](const Ref& r) { return r.key == key; });
}

// True when some ref in `refs` covers `category` (equal or an ancestor).
bool CoversCategory(const std::vector<Ref>& refs, std::string_view category) {
  return std::any_of(refs.begin(), refs.end(),
                     [&](const Ref& r) { return CategoryCovers(r.key, category); });
}

// True when the purpose's categories cover every key of each group.
bool UsesGroups(const Purpose& purpose, const std::vector<std::vector<std::string>>& groups) {
  for (const auto& group : groups) {
    for (const auto& key : group) {
      if (!CoversCategory(purpose.categories, key)) return false;
    }
  }
  return true;
}

// True when every category in `categories` lies inside one of the groups.
bool UsesOnlyGroups(const std::vector<Ref>& categories,
                    const std::vector<std::vector<std::string>>& groups) {
  for (const auto& ref : categories) {
    bool inside = false;
    for (const auto& group : groups) {
      for (const auto& key : group) inside = inside || CategoryCovers(key, ref.key);
    }
    if (!inside) return false;
  }
  return true;
}

bool Mentions(std::string_view text, std::string_view words) {
  return text.find(words) != std::string_view::npos;
}

// The purposes sharing an `activity` label, as basis keys.
std::set<std::string> BasesOfActivity(const Policy& policy, std::string_view activity) {
  std::set<std::string> bases;
  for (const auto& purpose : policy.purposes) {
    if (purpose.activity == activity) bases.insert(std::string(LawfulBasisKey(purpose.basis)));
  }
  return bases;
}

std::vector<std::string> CountryCodes(const Recipient& recipient) {
  std::vector<std::string> codes;
  for (const auto& ref : recipient.countries) codes.push_back(ref.key);
  return codes;
}

bool RuleAppliesTo(const Policy& policy, const RetentionRule& rule, std::string_view subject) {
  return Contains(policy.SubjectsOrAll(rule.subjects), subject);
}

// "policy check" accepts the file: no structural or semantic problem at all.
TEST(SeedPolicyProtectUk, LoadsWithoutDiagnostics) {
  auto outcome = LoadPolicy(kPolicyPath);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_TRUE(outcome->ok()) << outcome->Report();
}

// "This version was created on 15/09/2021 and is the first version."
TEST(SeedPolicyProtectUk, NoticeIsTheFirstVersionCreatedOn15September2021) {
  const Policy& p = ProtectUk();
  EXPECT_EQ(p.notice.version, "1");
  ASSERT_TRUE(p.notice.date.has_value());
  EXPECT_EQ(p.notice.date->ToString(), "2021-09-15");
  EXPECT_TRUE(Mentions(p.notice.changes, "under regular review"));
}

// "ProtectUK is not intended for children and we do not knowingly collect data relating to
// children."
TEST(SeedPolicyProtectUk, ServiceIsNotForChildren) {
  const Policy& p = ProtectUk();
  EXPECT_TRUE(p.notice.not_for_children);
  for (const auto& purpose : p.purposes) {
    EXPECT_FALSE(CoversCategory(purpose.categories, "user.childrens")) << purpose.key;
  }
}

// "This privacy policy aims to give you information on how ProtectUK collects and processes your
// personal data through your use of this website, including any data you may provide through
// this platform/website when you sign up for notifications."
TEST(SeedPolicyProtectUk, CoversTheWebsiteAndNotificationSignUps) {
  const Policy& p = ProtectUk();
  ASSERT_EQ(p.notice.scope.size(), 2u);
  EXPECT_TRUE(Mentions(p.notice.scope[0], "website"));
  EXPECT_TRUE(Mentions(p.notice.scope[1], "notifications"));
}

// "The Commissioner of the Metropolitan Police Service is the controller and responsible for
// your personal data (... MPS as hosts of the National Counter Terrorism Security Office
// (NaCTSO), the operators of ProtectUK ...)"
TEST(SeedPolicyProtectUk, ControllerIsTheCommissionerOfTheMetropolitanPoliceService) {
  const Policy& p = ProtectUk();
  EXPECT_EQ(p.controller.name, "ProtectUK");
  EXPECT_EQ(p.controller.legal_name, "The Commissioner of the Metropolitan Police Service");
  EXPECT_TRUE(Mentions(p.controller.represents, "National Counter Terrorism Security Office"));
  EXPECT_EQ(p.controller.role, Role::kController);
}

// "The Data Protection Officer is Darren Curtis. You can contact him at:
// DataProtection_FreedomofInformationOfficer@met.police.uk Information Rights Unit PO Box 313
// Sidcup DA15 0HH"
TEST(SeedPolicyProtectUk, DpoIsDarrenCurtisAtTheInformationRightsUnit) {
  const Policy& p = ProtectUk();
  ASSERT_TRUE(p.dpo.present);
  EXPECT_EQ(p.dpo.name, "Darren Curtis");
  EXPECT_EQ(p.dpo.email, "DataProtection_FreedomofInformationOfficer@met.police.uk");
  EXPECT_EQ(p.dpo.address, "Information Rights Unit, PO Box 313, Sidcup, DA15 0HH");
  const Contact* dpo = p.FindContactFor("dpo");
  ASSERT_NE(dpo, nullptr);
  EXPECT_EQ(dpo->email, p.dpo.email);
}

// "If you have any questions about this privacy policy, including any requests to exercise
// [your legal rights], please contact the DPO"
TEST(SeedPolicyProtectUk, DpoAnswersQuestionsAndRightsRequests) {
  const Contact* dpo = ProtectUk().FindContact("dpo");
  ASSERT_NE(dpo, nullptr);
  EXPECT_TRUE(Mentions(dpo->name, "questions about this policy"));
  EXPECT_TRUE(Mentions(dpo->name, "requests to exercise your rights"));
}

// "The MPS's Information Rights Unit manages the MPS's data protection compliance and can be
// contacted at: mpsdataoffice@met.police.uk"
TEST(SeedPolicyProtectUk, InformationRightsUnitCanBeContactedByEmail) {
  const Contact* iru = ProtectUk().FindContact("information_rights_unit");
  ASSERT_NE(iru, nullptr);
  EXPECT_EQ(iru->purpose, "general");
  EXPECT_EQ(iru->email, "mpsdataoffice@met.police.uk");
}

// "You have the right to make a complaint at any time to the Information Commissioner's Office
// (ICO) ... We would, however, appreciate the chance to deal with your concerns before you
// approach the ICO so please contact us in the first instance."
TEST(SeedPolicyProtectUk, ComplaintsGoToTheIcoAfterContactingUsFirst) {
  const Regulator& ico = ProtectUk().regulator;
  EXPECT_EQ(ico.name, "Information Commissioner's Office (ICO)");
  EXPECT_EQ(ico.address, "Wycliffe House, Water Lane, Wilmslow, Cheshire, SK9 5AF");
  EXPECT_EQ(ico.phone, "0303 123 1113");
  EXPECT_EQ(ico.website, "https://ico.org.uk");
  EXPECT_EQ(ico.country, "GB");
  EXPECT_TRUE(ico.first_contact_us);
}

// "We will only use your personal data for the purposes for which we collected it, unless we
// reasonably consider that we need to use it for another reason and that reason is compatible
// with the original purpose. We will notify you should we do this. ... If we need to use your
// personal data for an unrelated purpose, we will notify you and we will explain the legal
// basis which allows us to do so"
TEST(SeedPolicyProtectUk, ANewPurposeIsNotifiedAndExplained) {
  const std::string& changes = ProtectUk().notice.changes;
  EXPECT_TRUE(Mentions(changes, "compatible with the original purpose"));
  EXPECT_TRUE(Mentions(changes, "we will notify you"));
  EXPECT_TRUE(Mentions(changes, "explain the legal basis"));
}

// "This privacy policy supplements other notices and privacy policies and is not intended to
// override them." / "Please keep us informed if your personal data changes during your
// relationship with us."
TEST(SeedPolicyProtectUk, PolicySupplementsOtherNoticesAndAsksForUpdates) {
  const std::string& changes = ProtectUk().notice.changes;
  EXPECT_TRUE(Mentions(changes, "supplements any other privacy notice"));
  EXPECT_TRUE(Mentions(changes, "keep us informed"));
}

// "We may collect, use, store and transfer different kinds of personal data about you ...
// Identity Data ... Contact Data ... Technical Data ... Profile Data ... Usage Data ...
// Marketing and Communications Data"
TEST(SeedPolicyProtectUk, CollectsTheSixGroupsOfData) {
  const Policy& p = ProtectUk();
  for (const auto* group : {&kIdentity, &kContact, &kTechnical, &kProfile, &kUsage, &kMarketing}) {
    for (const auto& key : *group) {
      EXPECT_NE(p.FindCategory(key), nullptr) << key << " is not declared";
      bool collected = std::any_of(p.purposes.begin(), p.purposes.end(), [&](const Purpose& pu) {
        return CoversCategory(pu.categories, key);
      });
      EXPECT_TRUE(collected) << key << " is not used by any purpose";
    }
  }
}

// "Identity Data includes [first name, last name, username or similar identifier, title]."
// "Technical Data includes [internet protocol (IP) address, your login data, browser type and
// version, time zone setting and location, browser plug-in types and versions, operating system
// and platform, and other technology on the devices you use to access this website]."
// "Profile Data includes [your username and password, your business sector, interests,
// preferences, feedback and survey responses]."
TEST(SeedPolicyProtectUk, DataGroupsHoldTheFieldsTheSeedLists) {
  const Policy& p = ProtectUk();
  for (const char* key :
       {"user.name.first", "user.name.last", "user.name.title", "user.account.username",
        "user.device.ip_address", "user.account.login_data", "user.authorization.password",
        "user.demographic.profile.business_sector", "user.demographic.profile.interests",
        "user.demographic.profile.preferences", "user.demographic.profile.feedback"}) {
    EXPECT_NE(p.FindCategory(key), nullptr) << key;
  }
  const Category* device = p.FindCategory("user.device.configuration");
  ASSERT_NE(device, nullptr);
  for (const char* example :
       {"browser type and version", "time zone setting and location",
        "browser plug-in types and versions", "operating system and platform"}) {
    EXPECT_TRUE(Contains(device->examples, example)) << example;
  }
}

// "We do not collect any Special Categories of Personal Data about you ... Nor do we collect
// any information about criminal convictions and offences."
TEST(SeedPolicyProtectUk, CollectsNoSpecialCategoryOrCriminalOffenceData) {
  const Policy& p = ProtectUk();
  for (const auto& category : p.categories) {
    EXPECT_FALSE(category.special) << category.key;
    EXPECT_FALSE(IsInherentlySpecial(category.key)) << category.key;
  }
  const std::vector<std::string> special = {"user.health_and_medical",
                                            "user.biometric",
                                            "user.authorization.biometric",
                                            "user.demographic.race_ethnicity",
                                            "user.demographic.religious_belief",
                                            "user.demographic.political_opinion",
                                            "user.demographic.sexual_orientation",
                                            "user.criminal_history"};
  for (const auto& purpose : p.purposes) {
    for (const auto& ref : purpose.categories) {
      for (const auto& key : special) {
        EXPECT_FALSE(CategoryCovers(ref.key, key) || CategoryCovers(key, ref.key))
            << purpose.key << " uses " << ref.key;
      }
    }
  }
}

// "Direct interactions. You may give us your identity and contact Data by filling in forms or
// by corresponding with us ..." "Automated technologies or interactions ... cookies, server logs
// and other similar technologies." "Technical Data from the following parties: (a) Contracted,
// vetted and accredited technical suppliers partners based within the UK; (b) Contracted, vetted
// and accredited analytics partners based within the UK"
TEST(SeedPolicyProtectUk, DataComesFromYouOurWebsiteAndUkTechnicalPartners) {
  const Policy& p = ProtectUk();
  ASSERT_EQ(p.sources.size(), 4u);
  const Source* direct = p.FindSource("direct");
  const Source* automated = p.FindSource("automated");
  const Source* suppliers = p.FindSource("technical_suppliers");
  const Source* analytics = p.FindSource("analytics_partners");
  ASSERT_TRUE(direct && automated && suppliers && analytics);
  EXPECT_EQ(direct->kind, SourceKind::kDirect);
  EXPECT_EQ(automated->kind, SourceKind::kAutomated);
  EXPECT_TRUE(Mentions(automated->description, "other websites employing our cookies"));
  EXPECT_EQ(suppliers->kind, SourceKind::kThirdParty);
  EXPECT_EQ(analytics->kind, SourceKind::kThirdParty);
  EXPECT_TRUE(Mentions(suppliers->name, "based within the UK"));
  EXPECT_TRUE(Mentions(analytics->name, "based within the UK"));
  for (const auto* source : {suppliers, analytics}) {
    EXPECT_TRUE(Mentions(source->description, "Technical Data")) << source->key;
  }
}

// "To register you as a user of ProtectUK | (a) Identity (b) Contact | Performance of a contract
// with you"
TEST(SeedPolicyProtectUk, RegistrationUsesIdentityAndContactUnderContract) {
  const Purpose* p = ProtectUk().FindPurpose("register_user");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->basis, LawfulBasis::kContract);
  EXPECT_TRUE(UsesGroups(*p, {kIdentity, kContact}));
  EXPECT_TRUE(UsesOnlyGroups(p->categories, {kIdentity, kContact}));
}

// "you fail to provide that data when requested, we may not be able to perform the contract ...
// (for example, to provide you access interactive content such as forums and webinars which
// require user registration)."
TEST(SeedPolicyProtectUk, WithoutRegistrationDataForumsAndWebinarsAreUnavailable) {
  const Purpose* p = ProtectUk().FindPurpose("register_user");
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(Mentions(p->necessary_for_service, "forums and webinars"));
}

// "To manage our relationship with you ... | (a) Identity (b) Contact (c) Profile (d) Marketing
// and Communications | (a) Performance of a contract with you (b) Necessary to comply with a
// legal obligation (c) Necessary for our legitimate interests (to keep our records updated and
// to study how customers use our products/services)"
TEST(SeedPolicyProtectUk, RelationshipManagementRestsOnContractLegalObligationAndInterests) {
  const Policy& p = ProtectUk();
  EXPECT_EQ(BasesOfActivity(p, "Managing our relationship with you"),
            (std::set<std::string>{"contract", "legal_obligation", "legitimate_interests"}));
  for (const char* key : {"manage_relationship_contract", "manage_relationship_legal_obligation",
                          "manage_relationship_legitimate_interests"}) {
    const Purpose* purpose = p.FindPurpose(key);
    ASSERT_NE(purpose, nullptr) << key;
    EXPECT_TRUE(UsesGroups(*purpose, {kIdentity, kContact, kProfile, kMarketing})) << key;
    EXPECT_TRUE(UsesOnlyGroups(purpose->categories, {kIdentity, kContact, kProfile, kMarketing}))
        << key;
    EXPECT_TRUE(Mentions(purpose->description, "changes to our terms or privacy policy")) << key;
    EXPECT_TRUE(Mentions(purpose->description, "leave a review or take a survey")) << key;
  }
  EXPECT_EQ(p.FindPurpose("manage_relationship_legitimate_interests")->interest,
            "To keep our records updated and to study how customers use our products/services.");
}

// "To enable you to complete a survey | (a) Identity (b) Contact (c) Profile (d) Usage
// (e) Marketing and Communications | (a) Performance of a contract with you (b) Necessary for
// our legitimate interests (to study how customers use our products/services, to develop them
// and grow our website content)."
TEST(SeedPolicyProtectUk, SurveysRestOnContractAndInterests) {
  const Policy& p = ProtectUk();
  EXPECT_EQ(BasesOfActivity(p, "Enabling you to complete a survey"),
            (std::set<std::string>{"contract", "legitimate_interests"}));
  for (const char* key : {"survey_contract", "survey_legitimate_interests"}) {
    const Purpose* purpose = p.FindPurpose(key);
    ASSERT_NE(purpose, nullptr) << key;
    EXPECT_TRUE(UsesGroups(*purpose, {kIdentity, kContact, kProfile, kUsage, kMarketing})) << key;
    EXPECT_TRUE(
        UsesOnlyGroups(purpose->categories, {kIdentity, kContact, kProfile, kUsage, kMarketing}))
        << key;
  }
  EXPECT_TRUE(Mentions(p.FindPurpose("survey_legitimate_interests")->interest,
                       "to develop them and grow our website content"));
}

// "To administer and protect our business and this website (including troubleshooting, data
// analysis, testing, system maintenance, support, reporting and hosting of data) | (a) Identity
// (b) Contact (c) Technical | (a) Necessary for our legitimate interests (for running our
// business, provision of administration and IT services, network security, to prevent fraud
// and in the context of a business reorganisation or group restructuring exercise)
// (b) Necessary to comply with a legal obligation"
TEST(SeedPolicyProtectUk, AdministeringTheWebsiteRestsOnInterestsAndLegalObligation) {
  const Policy& p = ProtectUk();
  EXPECT_EQ(BasesOfActivity(p, "Administering and protecting our business and this website"),
            (std::set<std::string>{"legal_obligation", "legitimate_interests"}));
  for (const char* key :
       {"administer_protect_legitimate_interests", "administer_protect_legal_obligation"}) {
    const Purpose* purpose = p.FindPurpose(key);
    ASSERT_NE(purpose, nullptr) << key;
    EXPECT_TRUE(UsesGroups(*purpose, {kIdentity, kContact, kTechnical})) << key;
    EXPECT_TRUE(UsesOnlyGroups(purpose->categories, {kIdentity, kContact, kTechnical})) << key;
    EXPECT_TRUE(Mentions(purpose->description, "hosting of data")) << key;
  }
  const std::string& interest = p.FindPurpose("administer_protect_legitimate_interests")->interest;
  for (const char* words :
       {"Running our business", "administration and IT services", "network security",
        "preventing fraud", "business reorganisation or group restructuring"}) {
    EXPECT_TRUE(Mentions(interest, words)) << words;
  }
}

// "To deliver relevant website content to you and measure or understand the effectiveness of
// the 'advertising' we serve to you | (a) Identity (b) Contact (c) Profile (d) Usage
// (e) Marketing and Communications (f) Technical | Necessary for our legitimate interests (to
// study how customers use our products/services, to develop them, to grow our business and to
// inform our marketing strategy)"
TEST(SeedPolicyProtectUk, RelevantContentAndAdvertisingMeasurementRestOnInterests) {
  const Purpose* p = ProtectUk().FindPurpose("relevant_content");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->basis, LawfulBasis::kLegitimateInterests);
  EXPECT_TRUE(UsesGroups(*p, {kIdentity, kContact, kProfile, kUsage, kMarketing, kTechnical}));
  EXPECT_EQ(p->interest,
            "To study how customers use our products/services, to develop them, to grow our "
            "business and to inform our marketing strategy.");
}

// "To use data analytics to improve our website, products/services, marketing, customer
// relationships and experiences | (a) Technical (b) Usage | Necessary for our legitimate
// interests (to define types of customers for our products and services, to keep our website
// updated and relevant, to develop our business and to inform our marketing strategy)"
TEST(SeedPolicyProtectUk, AnalyticsUsesOnlyTechnicalAndUsageDataOnInterests) {
  const Purpose* p = ProtectUk().FindPurpose("analytics");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->basis, LawfulBasis::kLegitimateInterests);
  EXPECT_TRUE(UsesGroups(*p, {kTechnical, kUsage}));
  EXPECT_TRUE(UsesOnlyGroups(p->categories, {kTechnical, kUsage}));
  EXPECT_EQ(p->interest,
            "To define types of customers for our products and services, to keep our website "
            "updated and relevant, to develop our business and to inform our marketing strategy.");
}

// "To make suggestions and recommendations to you about goods or services that may be of
// interest to you | (a) Identity (b) Contact (c) Technical (d) Usage (e) Profile (f) Marketing
// and Communications | Necessary for our legitimate interests (to develop our products/services
// and grow our business)"; "We may use your Identity, Contact, Technical, Usage and Profile Data
// to form a view on what we think you may want or need ... (we call this marketing)."
TEST(SeedPolicyProtectUk, SuggestionsAreProfilingForMarketingOnInterests) {
  const Purpose* p = ProtectUk().FindPurpose("suggestions");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->basis, LawfulBasis::kLegitimateInterests);
  EXPECT_EQ(p->interest, "To develop our products/services and grow our business.");
  EXPECT_TRUE(UsesGroups(*p, {kIdentity, kContact, kTechnical, kUsage, kProfile, kMarketing}));
  EXPECT_TRUE(p->profiling);
  EXPECT_TRUE(p->direct_marketing);
  EXPECT_TRUE(Mentions(p->description, "we call this marketing"));
}

// "To investigate any actual or suspected breach of the terms of use of ProtectUK | (a) Identity
// (b) Contact (c) Technical (d) Usage (e) Profile | (i) Performance of a contract with you
// (ii) Performance of a task carried out in the public interest or in the exercise of official
// authority vested in us."
TEST(SeedPolicyProtectUk, TermsBreachInvestigationRestsOnContractAndPublicTask) {
  const Policy& p = ProtectUk();
  EXPECT_EQ(BasesOfActivity(
                p, "Investigating any actual or suspected breach of the ProtectUK terms of use"),
            (std::set<std::string>{"contract", "public_task"}));
  for (const char* key :
       {"investigate_terms_breach_contract", "investigate_terms_breach_public_task"}) {
    const Purpose* purpose = p.FindPurpose(key);
    ASSERT_NE(purpose, nullptr) << key;
    EXPECT_TRUE(UsesGroups(*purpose, {kIdentity, kContact, kTechnical, kUsage, kProfile})) << key;
    EXPECT_TRUE(
        UsesOnlyGroups(purpose->categories, {kIdentity, kContact, kTechnical, kUsage, kProfile}))
        << key;
  }
  EXPECT_TRUE(Mentions(p.FindPurpose("investigate_terms_breach_public_task")->task,
                       "official authority vested in us"));
}

// "Storage of your personal data for the purpose set out in this table | (a) Identity
// (b) Contact (c) Technical (d) Usage (e) Profile | Performance of a contract with you"
TEST(SeedPolicyProtectUk, StorageRestsOnContract) {
  const Purpose* p = ProtectUk().FindPurpose("storage");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->basis, LawfulBasis::kContract);
  EXPECT_TRUE(UsesGroups(*p, {kIdentity, kContact, kTechnical, kUsage, kProfile}));
  EXPECT_TRUE(UsesOnlyGroups(p->categories, {kIdentity, kContact, kTechnical, kUsage, kProfile}));
}

// "We have also identified what our legitimate interests are" / Glossary: "Legitimate Interest
// means the interest of our business in conducting and managing our business"
TEST(SeedPolicyProtectUk, EveryLegitimateInterestPurposeStatesItsInterest) {
  int count = 0;
  for (const auto& purpose : ProtectUk().purposes) {
    if (purpose.basis != LawfulBasis::kLegitimateInterests) continue;
    ++count;
    EXPECT_FALSE(purpose.interest.empty()) << purpose.key;
  }
  EXPECT_EQ(count, 6);
}

// "We have set out below, in a table format, a description of all the ways we plan to use your
// personal data" — nine rows, one purpose per lawful basis, plus consent-based notifications.
TEST(SeedPolicyProtectUk, EveryTableRowAndBasisIsAPurpose) {
  const Policy& p = ProtectUk();
  EXPECT_EQ(p.purposes.size(), 15u);
  for (const auto& purpose : p.purposes) {
    EXPECT_NE(purpose.basis, LawfulBasis::kNone) << purpose.key;
    EXPECT_FALSE(purpose.categories.empty()) << purpose.key;
  }
}

// "We will get your consent before sending direct alerts or notifications (communications) to
// you via email or text message."
TEST(SeedPolicyProtectUk, EmailAndTextNotificationsNeedConsent) {
  const Purpose* p = ProtectUk().FindPurpose("notifications");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->basis, LawfulBasis::kConsent);
  EXPECT_EQ(p->channels, (std::vector<std::string>{"email", "sms"}));
  EXPECT_TRUE(p->direct_marketing);
  EXPECT_FALSE(p->soft_opt_in);
  // No other purpose sends messages by any channel.
  for (const auto& other : ProtectUk().purposes) {
    if (other.key != "notifications") {
      EXPECT_TRUE(other.channels.empty()) << other.key;
    }
  }
}

// "You have the right to withdraw consent to marketing at any time through preference settings
// or by contacting us directly." / "You can ask us to stop sending you notifications at any time
// [by logging into the website and checking or unchecking relevant boxes"
TEST(SeedPolicyProtectUk, NotificationsCanBeStoppedInSettingsOrByContactingUs) {
  const Policy& p = ProtectUk();
  EXPECT_TRUE(Contains(p.rights.available, "withdraw_consent"));
  EXPECT_TRUE(Contains(p.rights.available, "marketing_opt_out"));
  const Contact* opt_out = p.FindContactFor("marketing_opt_out");
  ASSERT_NE(opt_out, nullptr);
  EXPECT_TRUE(Mentions(opt_out->name, "profile settings"));
  EXPECT_TRUE(Mentions(opt_out->name, "contact us directly"));
  EXPECT_EQ(opt_out->email, "mpsdataoffice@met.police.uk");
  const Contact* withdraw = p.FindContactFor("withdraw_consent");
  ASSERT_NE(withdraw, nullptr);
  EXPECT_TRUE(Mentions(withdraw->name, "preference settings"));
  EXPECT_EQ(withdraw->email, "mpsdataoffice@met.police.uk");
  EXPECT_EQ(withdraw->url, "https://protectuk.police.uk/contact");
  EXPECT_EQ(p.FindPurpose("notifications")->on_withdrawal, "stop");
}

// "Where you opt out of receiving these marketing messages, this will not apply to personal data
// provided to us as a result of registration, product/service experience or other transaction."
TEST(SeedPolicyProtectUk, OptingOutLeavesRegistrationDataInUse) {
  const Policy& p = ProtectUk();
  EXPECT_TRUE(Mentions(p.FindPurpose("notifications")->description,
                       "Opting out stops these messages only"));
  for (const char* key : {"register_user", "storage"}) {
    const Purpose* purpose = p.FindPurpose(key);
    ASSERT_NE(purpose, nullptr);
    EXPECT_NE(purpose->basis, LawfulBasis::kConsent) << key;
    EXPECT_FALSE(purpose->direct_marketing) << key;
  }
}

// "Registered members of ProtectUK: Your screen name will be shared with all registered members
// of the ProtectUK via display on your profile page." / table: "Group memberships and
// Connections -> Registered members of ProtectUK"
TEST(SeedPolicyProtectUk, ScreenNameAndGroupsAreAlwaysShownToRegisteredMembers) {
  const Recipient* r = ProtectUk().FindRecipient("registered_members");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->kind, RecipientKind::kOtherUsers);
  EXPECT_EQ(r->visibility, "always");
  EXPECT_TRUE(CoversCategory(r->categories, "user.account.username.screen_name"));
  EXPECT_TRUE(CoversCategory(r->categories, "user.social"));
  EXPECT_FALSE(CoversCategory(r->categories, "user.contact.email"));
  EXPECT_FALSE(CoversCategory(r->categories, "user.name"));
}

// "It is also always attached to any content you post or social interaction you make, along
// with data about when the activity happened." / table: "Content uploaded by user and social
// interactions -> Users who browse ProtectUK"
TEST(SeedPolicyProtectUk, ContentIsVisibleToAnyoneBrowsingWithYourScreenName) {
  const Recipient* r = ProtectUk().FindRecipient("website_users");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->kind, RecipientKind::kPublic);
  EXPECT_EQ(r->visibility, "always");
  EXPECT_TRUE(CoversCategory(r->categories, "user.content.public"));
  EXPECT_TRUE(CoversCategory(r->categories, "user.account.username.screen_name"));
  EXPECT_EQ(r->categories.size(), 2u);
  EXPECT_TRUE(Mentions(ProtectUk().FindCategory("user.content.public")->description,
                       "when the activity happened"));
}

// table: "Email address -> As per user's privacy settings ..."; "Job title, organisation -> As
// per user's privacy settings ..."
TEST(SeedPolicyProtectUk, EmailJobTitleAndOrganisationAreShownAsPrivacySettingsAllow) {
  const Recipient* r = ProtectUk().FindRecipient("profile_viewers");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->visibility, "user_settings");
  std::vector<std::string> keys;
  for (const auto& ref : r->categories) keys.push_back(ref.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"user.contact.email", "user.job_title",
                                            "user.contact.organization"}));
}

// "Other third parties: Network and Group Administrators, so they can facilitate and support
// networks and groups you belong to" / table rows: first name, surname; job title,
// organisation; biography, location, website, social media accounts, phone number, interests,
// skills; last login and contribution dates; last pages visited -> (Network and) Group
// Administrators
TEST(SeedPolicyProtectUk, NetworkAndGroupAdministratorsSeeProfileAndActivityFields) {
  const Recipient* r = ProtectUk().FindRecipient("network_group_admins");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->kind, RecipientKind::kThirdParty);
  EXPECT_EQ(r->visibility, "always");
  for (const char* key :
       {"user.name.first", "user.name.last", "user.job_title", "user.contact.organization",
        "user.demographic.profile.biography", "user.demographic.profile.location",
        "user.contact.url", "user.demographic.profile.social_media", "user.contact.phone_number",
        "user.demographic.profile.interests", "user.demographic.profile.skills",
        "user.account.login_data", "user.behavior.contribution_dates",
        "user.behavior.browsing_history"}) {
    EXPECT_TRUE(CoversCategory(r->categories, key)) << key;
  }
  // Email only on request (next test); never the password or the full content.
  EXPECT_FALSE(CoversCategory(r->categories, "user.contact.email"));
  EXPECT_FALSE(CoversCategory(r->categories, "user.authorization.password"));
  EXPECT_FALSE(CoversCategory(r->categories, "user.content.public"));
}

// table: "Email address -> ... Other Third Parties (Network and Group Administrators) on request"
TEST(SeedPolicyProtectUk, NetworkAndGroupAdministratorsGetEmailOnlyOnRequest) {
  const Recipient* r = ProtectUk().FindRecipient("network_group_admins_on_request");
  ASSERT_NE(r, nullptr);
  // The seed does not say who asks: not `on_request`, which means "when you ask us to".
  EXPECT_TRUE(r->visibility.empty());
  EXPECT_EQ(r->when, "On request.");
  ASSERT_EQ(r->categories.size(), 1u);
  EXPECT_EQ(r->categories[0].key, "user.contact.email");
}

// "Our system administrators have access to all content on our site, including user profiles,
// content which is posted by members and content on all Networks and Group pages." / table:
// "Full user profile details -> System administrators"
TEST(SeedPolicyProtectUk, SystemAdministratorsSeeFullProfilesAndAllContent) {
  const Recipient* r = ProtectUk().FindRecipient("system_administrators");
  ASSERT_NE(r, nullptr);
  for (const char* key : {"user.name", "user.account.username", "user.contact.email",
                          "user.job_title", "user.contact.organization", "user.demographic.profile",
                          "user.content.public", "user.social"}) {
    EXPECT_TRUE(CoversCategory(r->categories, key)) << key;
  }
  EXPECT_TRUE(Mentions(r->description, "terms of use"));
  EXPECT_TRUE(HasRef(ProtectUk().FindPurpose("administer_protect_legitimate_interests")->recipients,
                     "system_administrators"));
}

// "We do not allow our third-party service providers to use your personal data for their own
// purposes and only permit them to process your personal data for specified purposes and in
// accordance with our instructions." / "our service providers who provide IT and systems
// administration support services" / "Business support partners ... All such partners are
// approved by us."
TEST(SeedPolicyProtectUk, ServiceProvidersAreProcessorsActingOnOurInstructions) {
  const Policy& p = ProtectUk();
  for (const char* key : {"it_service_providers", "business_support_partners"}) {
    const Recipient* r = p.FindRecipient(key);
    ASSERT_NE(r, nullptr) << key;
    EXPECT_EQ(r->kind, RecipientKind::kProcessor) << key;
    EXPECT_TRUE(Mentions(r->description, "never for their own purposes")) << key;
    EXPECT_TRUE(HasRef(p.FindPurpose("administer_protect_legitimate_interests")->recipients, key));
  }
  EXPECT_TRUE(
      Mentions(p.FindRecipient("business_support_partners")->description, "approved by us"));
}

// "We also may disclose your identity to any third party who is claiming that any content posted
// or uploaded by you to our site constitutes a violation of their intellectual property rights,
// in accordance with our Acceptable Use Policy."
TEST(SeedPolicyProtectUk, IdentityMayGoOnlyToIntellectualPropertyClaimants) {
  const Recipient* r = ProtectUk().FindRecipient("ip_rights_claimants");
  ASSERT_NE(r, nullptr);
  EXPECT_NE(r->visibility, "on_request");  // the claimant asks, not you
  EXPECT_TRUE(Mentions(r->when, "intellectual property rights"));
  EXPECT_TRUE(Mentions(r->description, "Acceptable Use Policy"));
  EXPECT_TRUE(UsesOnlyGroups(r->categories, {kIdentity}));
}

// "We reserve the right to give your personal information to a third party without your consent
// where we believe that such disclosure is: Required by law; Necessary to assist in the
// prevention or detection of any criminal action; and Is in the overriding public interest and
// is permitted by law."
TEST(SeedPolicyProtectUk, DisclosureWithoutConsentOnlyWhereLawOrCrimePreventionRequires) {
  const Recipient* r = ProtectUk().FindRecipient("lawful_disclosures");
  ASSERT_NE(r, nullptr);
  EXPECT_NE(r->visibility, "on_request");  // "without your consent"
  EXPECT_TRUE(Mentions(r->description, "without your consent"));
  // "your personal information": everything any purpose collects.
  for (const auto& purpose : ProtectUk().purposes) {
    for (const auto& ref : purpose.categories) {
      EXPECT_TRUE(CoversCategory(r->categories, ref.key)) << ref.key;
    }
  }
  for (const char* words : {"required by law", "prevention or detection of any criminal action",
                            "overriding public interest and is permitted by law"}) {
    EXPECT_TRUE(Mentions(r->when, words)) << words;
  }
}

// "We will not share your personal data with any third party for marketing purposes." / "We do
// not sell, trade or rent your information to other parties."
TEST(SeedPolicyProtectUk, NoThirdPartyReceivesDataForMarketing) {
  const Policy& p = ProtectUk();
  for (const auto& purpose : p.purposes) {
    bool marketing = purpose.direct_marketing || purpose.use.rfind("marketing", 0) == 0;
    if (!marketing) continue;
    EXPECT_TRUE(purpose.recipients.empty()) << purpose.key;
  }
  for (const auto& purpose : p.purposes) {
    EXPECT_NE(purpose.use.rfind("third_party_sharing", 0), 0u) << purpose.key;
    EXPECT_NE(purpose.use, "sales") << purpose.key;
    EXPECT_NE(purpose.use.rfind("marketing.advertising.third_party", 0), 0u) << purpose.key;
  }
}

// "We do not transfer your personal data outside the United Kingdom."
TEST(SeedPolicyProtectUk, NoDataLeavesTheUnitedKingdom) {
  const Policy& p = ProtectUk();
  ASSERT_EQ(p.transfers.regions.size(), 1u);
  EXPECT_EQ(p.transfers.regions[0].key, "GB");
  EXPECT_EQ(p.transfers.outside, TransferRule::kForbidden);
  EXPECT_EQ(p.transfers.note, "We do not transfer your personal data outside the United Kingdom.");
  EXPECT_EQ(p.recipients.size(), 10u);
  for (const auto& recipient : p.recipients) {
    EXPECT_EQ(CountryCodes(recipient), (std::vector<std::string>{"GB"})) << recipient.key;
    EXPECT_TRUE(recipient.safeguard.empty()) << recipient.key;
  }
}

// "When you delete your account on ProtectUK we shall retain your personal data for a period of
// six months from the date you delete your account for the purpose of investigating any actual
// or suspected breach of the terms of use that may be notified after the date you delete your
// account."
TEST(SeedPolicyProtectUk, AccountDataIsDeletedSixMonthsAfterTheAccountIsDeleted) {
  const Policy& p = ProtectUk();
  ASSERT_NE(p.FindEvent("account_deleted"), nullptr);
  EXPECT_FALSE(p.FindEvent("account_deleted")->builtin);
  const RetentionRule* rule = nullptr;
  for (const auto& r : p.retention) {
    if (r.id == "six_months_after_account_deletion") rule = &r;
  }
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->after.key, "account_deleted");
  ASSERT_TRUE(rule->period.value.has_value());
  EXPECT_EQ(rule->period.value->ToString(), "P6M");
  EXPECT_EQ(rule->action, RetentionAction::kDelete);
  EXPECT_TRUE(RuleAppliesTo(p, *rule, "registered_user"));
  EXPECT_FALSE(RuleAppliesTo(p, *rule, "website_visitor"));
  EXPECT_TRUE(Mentions(rule->description, "only to investigate any actual or suspected breach"));
  // Everything a registered user's account holds is under this rule.
  for (const auto& purpose : p.purposes) {
    if (!Contains(p.SubjectsOrAll(purpose.subjects), "registered_user")) continue;
    for (const auto& ref : purpose.categories) {
      EXPECT_TRUE(CoversCategory(rule->categories, ref.key)) << purpose.key << " " << ref.key;
    }
  }
}

// "We may retain your personal data for a longer period in the event of a complaint or if we
// reasonably believe there is a prospect of litigation in respect to our relationship with you."
TEST(SeedPolicyProtectUk, RetentionMayBeLongerForComplaintsOrLitigation) {
  for (const auto& rule : ProtectUk().retention) {
    if (rule.id != "six_months_after_account_deletion") continue;
    EXPECT_TRUE(Mentions(rule.description, "in the event of a complaint"));
    EXPECT_TRUE(Mentions(rule.description, "prospect of litigation"));
    return;
  }
  FAIL() << "rule six_months_after_account_deletion is missing";
}

// "We will only retain your personal data for as long as reasonably necessary to fulfil the
// purposes we collected it for, including for the purposes of satisfying any legal, accounting
// or reporting requirements." / "To determine the appropriate retention period for personal
// data, we consider the amount, nature and sensitivity of the personal data ..."
TEST(SeedPolicyProtectUk, DataIsReviewedRatherThanKeptLongerThanNecessary) {
  const Policy& p = ProtectUk();
  const RetentionRule* rule = nullptr;
  for (const auto& r : p.retention) {
    if (r.id == "reasonably_necessary_review") rule = &r;
  }
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->action, RetentionAction::kReview);
  EXPECT_EQ(rule->after.key, "collected");
  EXPECT_TRUE(rule->subjects.empty());  // every subject type
  // The seed gives no period: the review period is a working rule, never published, and the
  // drafting note stays out of the description.
  EXPECT_FALSE(rule->period_stated);
  EXPECT_TRUE(Mentions(rule->note, "no fixed period"));
  EXPECT_FALSE(Mentions(rule->description, "no fixed period"));
  EXPECT_TRUE(Mentions(rule->description, "amount, nature and sensitivity"));
  EXPECT_TRUE(Mentions(rule->description, "legal, accounting or reporting requirements"));
}

// Every category a purpose collects, for each of its subject types, has a retention rule.
TEST(SeedPolicyProtectUk, EveryCollectedCategoryHasARetentionRule) {
  const Policy& p = ProtectUk();
  for (const auto& purpose : p.purposes) {
    for (const auto& subject : p.SubjectsOrAll(purpose.subjects)) {
      for (const auto& ref : purpose.categories) {
        bool covered = std::any_of(p.retention.begin(), p.retention.end(), [&](const auto& rule) {
          return RuleAppliesTo(p, rule, subject) && CoversCategory(rule.categories, ref.key);
        });
        EXPECT_TRUE(covered) << purpose.key << " " << subject << " " << ref.key;
      }
    }
  }
}

// "Request access ... Request correction ... Request erasure ... Object to processing ...
// Request restriction of processing ... Request transfer ... Right to withdraw consent"
TEST(SeedPolicyProtectUk, AllSevenRightsAreAvailable) {
  const auto& available = ProtectUk().rights.available;
  for (const char* right : {"access", "rectification", "erasure", "objection", "restriction",
                            "portability", "withdraw_consent"}) {
    EXPECT_TRUE(Contains(available, right)) << right;
  }
  EXPECT_FALSE(Contains(available, "automated_decision_review"));
}

// "If you wish to exercise any of the rights set out above, please contact us at
// mpsdataoffice@met.police.uk or [ProtectUK.police.uk/contact] Or via: MPS Information Rights
// Unit PO Box 313 Sidcup"
TEST(SeedPolicyProtectUk, RightsRequestsGoToTheInformationRightsUnit) {
  const Policy& p = ProtectUk();
  ASSERT_TRUE(p.rights.contact.has_value());
  const Contact* c = p.FindContact(p.rights.contact->key);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->purpose, "rights_requests");
  EXPECT_EQ(c->email, "mpsdataoffice@met.police.uk");
  EXPECT_EQ(c->url, "https://protectuk.police.uk/contact");
  EXPECT_TRUE(Mentions(c->address, "MPS Information Rights Unit, PO Box 313, Sidcup"));
}

// "We try to respond to all legitimate requests within one month."
TEST(SeedPolicyProtectUk, RequestsAreAnsweredWithinOneMonth) {
  const Rights& rights = ProtectUk().rights;
  ASSERT_TRUE(rights.response_period.value.has_value());
  EXPECT_EQ(rights.response_period.value->ToString(), "P1M");
}

// The Metropolitan Police Service, "Information Rights Unit PO Box 313 Sidcup DA15 0HH":
// England's bank holidays move a response deadline.
TEST(SeedPolicyProtectUk, DeadlinesSkipEnglandAndWalesBankHolidays) {
  EXPECT_EQ(ProtectUk().rights.bank_holidays, "england_and_wales");
}

// "Occasionally it could take us longer than a month if your request is particularly complex or
// you have made a number of requests. In this case, we will notify you and keep you updated."
TEST(SeedPolicyProtectUk, ComplexOrNumerousRequestsMayTakeLongerWithNotice) {
  const Rights& rights = ProtectUk().rights;
  ASSERT_TRUE(rights.extension_max.has_value());
  ASSERT_TRUE(rights.extension_max->value.has_value());
  EXPECT_EQ(rights.extension_max->value->ToString(), "P2M");  // the law's cap; the seed names none
  EXPECT_TRUE(Mentions(rights.extension_when, "particularly complex"));
  EXPECT_TRUE(Mentions(rights.extension_when, "a number of requests"));
  EXPECT_TRUE(Mentions(rights.extension_when, "notify you and keep you updated"));
  EXPECT_FALSE(rights.extension_notify_within.has_value());  // the seed names no deadline
}

// "You will not have to pay a fee to access your personal data (or to exercise any of the other
// rights). However, we may charge a reasonable fee if your request is clearly unfounded,
// repetitive or excessive. Alternatively, we could refuse to comply with your request in these
// circumstances."
TEST(SeedPolicyProtectUk, NoFeeUnlessUnfoundedOrExcessiveWhenWeMayChargeOrRefuse) {
  const Rights& rights = ProtectUk().rights;
  EXPECT_EQ(rights.fee, "reasonable_if_unfounded_or_excessive");
  EXPECT_TRUE(rights.refuse_if_unfounded_or_excessive);
}

// "We may need to request specific information from you to help us confirm your identity and
// ensure your right to access your personal data (or to exercise any of your other rights).
// ... We may also contact you to ask you for further information in relation to your request to
// speed up our response."
TEST(SeedPolicyProtectUk, IdentityIsConfirmedBeforeRequestsAreAnswered) {
  const Rights& rights = ProtectUk().rights;
  EXPECT_TRUE(rights.identity_verification_required);
  EXPECT_FALSE(rights.identity_methods.empty());
  EXPECT_TRUE(Mentions(rights.identity_note, "no right to receive it"));
  EXPECT_TRUE(Mentions(rights.identity_note, "speed up our response"));
}

// "Note, however, that we may not always be able to comply with your request of erasure for
// specific legal reasons which will be notified to you, if applicable, at the time of your
// request."
TEST(SeedPolicyProtectUk, ErasureMayBeRefusedForSpecificLegalReasons) {
  const Rights& rights = ProtectUk().rights;
  ASSERT_EQ(rights.exemptions.size(), 1u);
  EXPECT_EQ(rights.exemptions[0].right, "erasure");
  EXPECT_EQ(rights.exemptions[0].ground, "legal_obligation");
  EXPECT_TRUE(Mentions(rights.exemptions[0].description, "at the time of your request"));
}

// "You can set your browser to refuse all or some browser cookies, or to alert you when websites
// set or access cookies. If you disable or refuse cookies, please note that some parts of this
// website may become inaccessible or not function properly."
TEST(SeedPolicyProtectUk, BrowserSettingsCanRefuseCookies) {
  const Policy& p = ProtectUk();
  ASSERT_EQ(p.cookies.size(), 1u);
  EXPECT_TRUE(Mentions(p.cookies[0].description, "refuse all or some browser cookies"));
  EXPECT_TRUE(Mentions(p.cookies[0].description, "may become inaccessible"));
  EXPECT_TRUE(Mentions(p.cookies[0].description, "Cookie policy"));
}

// "We have put in place appropriate security measures ... we limit access to your personal data
// to those employees, agents, contractors and other third parties who have a business need to
// know. They will only process your personal data on our instructions and they are subject to a
// duty of confidentiality." / "We require all third parties to respect the security of your
// personal data"
TEST(SeedPolicyProtectUk, AccessIsLimitedToNeedToKnowUnderConfidentiality) {
  const Policy& p = ProtectUk();
  std::set<std::string> keys;
  for (const auto& measure : p.security) keys.insert(measure.key);
  EXPECT_EQ(keys,
            (std::set<std::string>{"appropriate_measures", "need_to_know_access", "confidentiality",
                                   "third_party_security", "requester_identity_checks"}));
  for (const auto& measure : p.security) {
    if (measure.key == "need_to_know_access") {
      EXPECT_TRUE(Mentions(measure.description, "business need to know"));
    }
    if (measure.key == "confidentiality") {
      EXPECT_TRUE(Mentions(measure.description, "duty of confidentiality"));
    }
  }
}

// "We have put in place procedures to deal with any suspected personal data breach and will
// notify you and any applicable regulator of a breach where we are legally required to do so."
TEST(SeedPolicyProtectUk, BreachesAreNotifiedWhereTheLawRequires) {
  const BreachProcess& breach = ProtectUk().breach;
  ASSERT_TRUE(breach.present);
  EXPECT_EQ(breach.notify_subjects, "when_high_risk");
  EXPECT_FALSE(breach.notify_regulator_within.has_value());  // the seed names no deadline
  EXPECT_FALSE(breach.notify_controller);
  EXPECT_TRUE(Mentions(breach.description, "where we are legally required"));
}

// "We also collect, use and share Aggregated Data ... However, if we combine or connect
// Aggregated Data with your personal data so that it can directly or indirectly identify you,
// we treat the combined data as personal data"
TEST(SeedPolicyProtectUk, AggregatedDataBecomesPersonalDataWhenRecombined) {
  const Anonymisation& a = ProtectUk().anonymisation;
  ASSERT_TRUE(a.present);
  EXPECT_TRUE(Mentions(a.description, "we treat the combined data as personal data"));
  EXPECT_EQ(a.small_cell_threshold, 0);  // the seed names no threshold
}

// "As you interact with our website, we will automatically collect Technical Data" — visitors
// without an account are covered only by the Technical/Usage purposes that name them.
TEST(SeedPolicyProtectUk, VisitorsWithoutAccountsAreOnlyInWebsitePurposes) {
  const Policy& p = ProtectUk();
  std::set<std::string> with_visitors;
  for (const auto& purpose : p.purposes) {
    if (Contains(p.SubjectsOrAll(purpose.subjects), "website_visitor")) {
      with_visitors.insert(purpose.key);
    }
  }
  EXPECT_EQ(with_visitors, (std::set<std::string>{"administer_protect_legitimate_interests",
                                                  "administer_protect_legal_obligation",
                                                  "relevant_content", "analytics"}));
}

}  // namespace
}  // namespace custos::policy
