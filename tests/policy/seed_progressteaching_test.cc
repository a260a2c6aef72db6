// The ProgressTeaching seed (../shared/seeds/001_22b79a674f37bc10.txt) as policy files:
// policies/progressteaching.yaml (controller: website [W] and the Parent App's technical data
// [A]) and policies/progressteaching_schools.yaml (processor for schools: platform statement
// [P] and the rest of the Parent App statement [A]). Each test proves one promise of the
// notice; docs/coverage/progressteaching.md maps every promise to its test.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "policy/loader.h"
#include "policy/notice.h"
#include "policy/policy.h"

namespace custos::policy {
namespace {

const char kControllerFile[] = CUSTOS_SOURCE_DIR "/policies/progressteaching.yaml";
const char kSchoolsFile[] = CUSTOS_SOURCE_DIR "/policies/progressteaching_schools.yaml";

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

bool HasRef(const std::vector<Ref>& refs, std::string_view key) {
  return std::any_of(refs.begin(), refs.end(), [&](const Ref& r) { return r.key == key; });
}

bool HasText(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

const RetentionRule* FindRule(const Policy& policy, std::string_view id) {
  for (const auto& rule : policy.retention) {
    if (rule.id == id) return &rule;
  }
  return nullptr;
}

// True when `rule` covers `category` (itself or an ancestor listed) for `subject`.
bool RuleCovers(const RetentionRule& rule, std::string_view category, std::string_view subject) {
  bool subject_ok = rule.subjects.empty() || HasRef(rule.subjects, subject);
  bool category_ok = std::any_of(rule.categories.begin(), rule.categories.end(),
                                 [&](const Ref& r) { return CategoryCovers(r.key, category); });
  return subject_ok && category_ok;
}

const CookieCategory* FindCookie(const Policy& policy, std::string_view key) {
  for (const auto& cookie : policy.cookies) {
    if (cookie.key == key) return &cookie;
  }
  return nullptr;
}

const SecurityMeasure* FindSecurity(const Policy& policy, std::string_view key) {
  for (const auto& measure : policy.security) {
    if (measure.key == key) return &measure;
  }
  return nullptr;
}

bool PurposeUses(const Purpose& purpose, std::string_view category) {
  return std::any_of(purpose.categories.begin(), purpose.categories.end(),
                     [&](const Ref& r) { return CategoryCovers(r.key, category); });
}

class SeedPolicyProgressTeaching : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto controller = LoadValidPolicy(kControllerFile);
    ASSERT_TRUE(controller.ok()) << controller.status().ToString();
    controller_ = new Policy(std::move(controller).value());
    auto schools = LoadValidPolicy(kSchoolsFile);
    ASSERT_TRUE(schools.ok()) << schools.status().ToString();
    schools_ = new Policy(std::move(schools).value());
  }
  static void TearDownTestSuite() {
    delete controller_;
    delete schools_;
    controller_ = nullptr;
    schools_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(controller_, nullptr);
    ASSERT_NE(schools_, nullptr);
  }
  const Policy& c() const { return *controller_; }
  const Policy& s() const { return *schools_; }
  const Purpose& CP(std::string_view key) const {
    const Purpose* p = c().FindPurpose(key);
    EXPECT_NE(p, nullptr) << "controller purpose " << key;
    return p ? *p : empty_;
  }
  const Purpose& SP(std::string_view key) const {
    const Purpose* p = s().FindPurpose(key);
    EXPECT_NE(p, nullptr) << "schools purpose " << key;
    return p ? *p : empty_;
  }

  static Policy* controller_;
  static Policy* schools_;
  Purpose empty_;
};

Policy* SeedPolicyProgressTeaching::controller_ = nullptr;
Policy* SeedPolicyProgressTeaching::schools_ = nullptr;

// ===================================================================== both files load

// Every promise must be in a policy custos accepts.
TEST_F(SeedPolicyProgressTeaching, BothPoliciesAreValid) {
  auto controller = LoadPolicy(kControllerFile);
  ASSERT_TRUE(controller.ok());
  EXPECT_TRUE(controller->ok()) << controller->Report();
  auto schools = LoadPolicy(kSchoolsFile);
  ASSERT_TRUE(schools.ok());
  EXPECT_TRUE(schools->ok()) << schools->Report();
}

// [W] "Last updated 7th November 2019."  [A] "Last Revised May 2020."
TEST_F(SeedPolicyProgressTeaching, NoticeVersionNamesBothDocuments) {
  EXPECT_TRUE(Contains(c().notice.version, "2019-11-07"));
  EXPECT_TRUE(Contains(c().notice.version, "2020-05"));
  ASSERT_TRUE(c().notice.date.has_value());
  EXPECT_EQ(c().notice.date->year, 2020);
  EXPECT_EQ(c().notice.date->month, 5);
  EXPECT_TRUE(Contains(s().notice.version, "2020-05"));
}

// ===================================================================== who we are

// [W] "We are PROGRESS TEACHING LIMITED, a company incorporated under the laws of England and
// Wales with company number 12872957 whose registered office is 86-90 Paul Street, London,
// EC2A 4NE."
TEST_F(SeedPolicyProgressTeaching, ControllerIsProgressTeachingLimited) {
  for (const Policy* p : {&c(), &s()}) {
    EXPECT_EQ(p->controller.legal_name, "PROGRESS TEACHING LIMITED");
    EXPECT_EQ(p->controller.company_number, "12872957");
    EXPECT_EQ(p->controller.address, "86-90 Paul Street, London, EC2A 4NE");
    EXPECT_TRUE(Contains(p->controller.registration, "England and Wales"));
    EXPECT_EQ(p->controller.email, "info@progressteaching.com");
    EXPECT_EQ(p->controller.phone, "0333 2420393");
  }
  EXPECT_EQ(c().controller.role, Role::kController);
}

// [W] "please contact our data protection officer at info@progressteaching.com"  [A] "Our data
// protection lead (DPL) ... can be contacted at info@progressteaching.com."
TEST_F(SeedPolicyProgressTeaching, DataProtectionOfficerIsReachedAtInfo) {
  for (const Policy* p : {&c(), &s()}) {
    ASSERT_TRUE(p->dpo.present);
    EXPECT_EQ(p->dpo.email, "info@progressteaching.com");
    const Contact* dpo = p->FindContactFor("dpo");
    ASSERT_NE(dpo, nullptr);
    EXPECT_EQ(dpo->email, "info@progressteaching.com");
  }
}

// [W] "Individuals also have a right to complain to the UK Information Commissioner's Office by
// visiting www.ico.org.uk, or to the data protection regulator in the country where they live
// or work"
TEST_F(SeedPolicyProgressTeaching, ComplaintsGoToTheIcoOrLocalRegulator) {
  for (const Policy* p : {&c(), &s()}) {
    EXPECT_EQ(p->regulator.name, "Information Commissioner's Office");
    EXPECT_EQ(p->regulator.website, "https://ico.org.uk");
    EXPECT_TRUE(Contains(p->regulator.address, "SK9 5AF"));
    EXPECT_EQ(p->regulator.phone, "0303 123 1113");
    EXPECT_TRUE(Contains(p->regulator.other_regulators, "country where you live or work"));
  }
}

// [W] "via the following online services: the ProgressTeaching website ...; social media or
// official ProgressTeaching content on other websites; It also relates to ... by phone, SMS,
// email, in letters, other correspondence and in person."
TEST_F(SeedPolicyProgressTeaching, NoticeCoversWebsiteSocialMediaAndOfflineChannels) {
  const auto& scope = c().notice.scope;
  auto any = [&](std::string_view needle) {
    return std::any_of(scope.begin(), scope.end(),
                       [&](const std::string& line) { return Contains(line, needle); });
  };
  EXPECT_TRUE(any("ProgressTeaching website"));
  EXPECT_TRUE(any("social media"));
  EXPECT_TRUE(any("phone, SMS, email, in letters"));
  EXPECT_TRUE(any("Parent App (available only to users in the UK)"));
  // "We do not accept any responsibility or liability for the privacy practices of such third
  // party websites"
  EXPECT_TRUE(any("not covered: websites of third parties"));
}

// [W] "We may need to update the website and this policy at any time and without notice. Where
// you have given us your email address, we may use this to notify you of such changes."
TEST_F(SeedPolicyProgressTeaching, PolicyChangesMayBeNotifiedByEmail) {
  EXPECT_TRUE(Contains(c().notice.changes, "without notice"));
  EXPECT_TRUE(Contains(c().notice.changes, "email address"));
  const Purpose& p = CP("notice_changes");
  EXPECT_EQ(p.categories.size(), 1u);
  EXPECT_TRUE(HasRef(p.categories, "user.contact.email"));
}

// ===================================================================== what we collect

// [W] "The types of information we collect about you may include: Your name and job title;
// Work or personal email addresses; Home or work postal address; Telephone or mobile numbers"
TEST_F(SeedPolicyProgressTeaching, CollectsNameJobTitleEmailPostalAddressAndPhone) {
  const Purpose& p = CP("relationship_management");
  for (auto key : {"user.name", "user.job_title", "user.contact.email", "user.contact.address",
                   "user.contact.phone_number"}) {
    EXPECT_TRUE(PurposeUses(p, key)) << key;
  }
  ASSERT_NE(c().FindCategory("user.contact.email"), nullptr);
  EXPECT_TRUE(HasText(c().FindCategory("user.contact.email")->examples, "personal email address"));
}

// [W] "Collecting unique online identifiers such as IP addresses ...; Your use of the
// ProgressTeaching website, such as what you read, what pages and content you visited or
// documents you download."
TEST_F(SeedPolicyProgressTeaching, CollectsIpAddressesAndWebsiteUse) {
  const Purpose& p = CP("website_analytics");
  EXPECT_TRUE(PurposeUses(p, "user.device.ip_address"));
  EXPECT_TRUE(PurposeUses(p, "user.behavior.browsing_history"));
  const Category* use = c().FindCategory("user.behavior.browsing_history");
  ASSERT_NE(use, nullptr);
  EXPECT_TRUE(HasText(use->examples, "documents you download"));
}

// [W] "We may collect data about you through: Signing up to receive newsletters; Submitting an
// enquiry through a form; Entering competitions; Live chats, web and mobile notifications;
// Telephone and email conversations; Booking event tickets; Market research" ... "Some of this
// information will come directly from you. We might also get some of it from publicly
// available sources." ... "Sometimes, other people give us data about you"
TEST_F(SeedPolicyProgressTeaching, SourcesAreDirectPublicAndOtherPeople) {
  for (auto key :
       {"newsletter_signup", "enquiry_form", "competitions", "live_chat_and_notifications",
        "phone_and_email", "event_booking", "market_research"}) {
    const Source* source = c().FindSource(key);
    ASSERT_NE(source, nullptr) << key;
    EXPECT_EQ(source->kind, SourceKind::kDirect) << key;
  }
  ASSERT_NE(c().FindSource("public_sources"), nullptr);
  EXPECT_EQ(c().FindSource("public_sources")->kind, SourceKind::kPublic);
  ASSERT_NE(c().FindSource("other_people"), nullptr);
  EXPECT_EQ(c().FindSource("other_people")->kind, SourceKind::kThirdParty);
  ASSERT_NE(c().FindSource("website_use"), nullptr);
  EXPECT_EQ(c().FindSource("website_use")->kind, SourceKind::kAutomated);
}

// ===================================================================== how we use it

// [W] "We'll only use information on you where we have consent or we have another lawful
// reason for using it." -- each purpose has exactly one basis, and each legitimate-interests
// purpose says which interest (in both files).
TEST_F(SeedPolicyProgressTeaching, EveryLegitimateInterestPurposeStatesItsInterest) {
  for (const Policy* p : {&c(), &s()}) {
    for (const auto& purpose : p->purposes) {
      EXPECT_NE(purpose.basis, LawfulBasis::kNone) << purpose.key;
      if (purpose.basis == LawfulBasis::kLegitimateInterests) {
        EXPECT_FALSE(purpose.interest.empty()) << purpose.key;
      }
    }
  }
}

// [W] "To provide you with the most user-friendly online navigation experience"
TEST_F(SeedPolicyProgressTeaching, NavigationRestsOnLegitimateInterests) {
  const Purpose& p = CP("website_navigation");
  EXPECT_EQ(p.basis, LawfulBasis::kLegitimateInterests);
  EXPECT_TRUE(Contains(p.interest, "user-friendly online navigation experience"));
}

// [W] "Where we provide personalised services, we may analyse the information you supply, as
// well as your activity on our website so that we can offer a more relevant, tailored
// experience"
TEST_F(SeedPolicyProgressTeaching, PersonalisationIsProfilingForATailoredExperience) {
  const Purpose& p = CP("personalisation");
  EXPECT_TRUE(p.profiling);
  EXPECT_TRUE(Contains(p.interest, "more relevant, tailored experience"));
  EXPECT_TRUE(PurposeUses(p, "user.behavior.browsing_history"));
}

// [W] "Managing our relationship with you" ... "Need to process the information to carry out
// an agreement we have with you"; "To provide you with products you've requested"
TEST_F(SeedPolicyProgressTeaching, RelationshipManagementRestsOnContractAndLegitimateInterests) {
  const Purpose& contract = CP("relationship_agreement");
  const Purpose& li = CP("relationship_management");
  EXPECT_EQ(contract.basis, LawfulBasis::kContract);
  EXPECT_EQ(li.basis, LawfulBasis::kLegitimateInterests);
  EXPECT_FALSE(contract.activity.empty());
  EXPECT_EQ(contract.activity, li.activity);
  EXPECT_TRUE(Contains(contract.description, "products you have requested"));
}

// [W] "Understanding how you use our website content"; "Undertaking website content
// improvement"
TEST_F(SeedPolicyProgressTeaching, WebsiteAnalyticsUnderstandsAndImprovesContent) {
  const Purpose& p = CP("website_analytics");
  EXPECT_EQ(p.basis, LawfulBasis::kLegitimateInterests);
  EXPECT_TRUE(Contains(p.interest, "understanding how you use our website content"));
  EXPECT_TRUE(Contains(p.interest, "improving"));
}

// [W] "Undertaking risk management"
TEST_F(SeedPolicyProgressTeaching, RiskManagementRestsOnLegitimateInterests) {
  const Purpose& p = CP("risk_management");
  EXPECT_EQ(p.basis, LawfulBasis::kLegitimateInterests);
  EXPECT_TRUE(Contains(p.interest, "risk management"));
}

// [W] "Protecting our legal rights and complying with our legal obligations"
TEST_F(SeedPolicyProgressTeaching, LegalRightsAndObligationsAreTwoBasesOfOneActivity) {
  const Purpose& obligation = CP("legal_obligations");
  const Purpose& rights = CP("legal_rights");
  EXPECT_EQ(obligation.basis, LawfulBasis::kLegalObligation);
  EXPECT_FALSE(obligation.obligation.empty());
  EXPECT_EQ(rights.basis, LawfulBasis::kLegitimateInterests);
  EXPECT_TRUE(Contains(rights.interest, "protecting our legal rights"));
  EXPECT_EQ(obligation.activity, rights.activity);
  EXPECT_FALSE(obligation.activity.empty());
}

// [W] "To use IP addresses and device identifiers to identify the location of users, to block
// disruptive use, to establish the number of visits from different regions or countries"
TEST_F(SeedPolicyProgressTeaching, IpAndDeviceIdsLocateUsersBlockAbuseAndCountVisits) {
  const Purpose& p = CP("visitor_location_and_abuse");
  EXPECT_TRUE(PurposeUses(p, "user.device.ip_address"));
  EXPECT_TRUE(PurposeUses(p, "user.device.device_id"));
  EXPECT_TRUE(PurposeUses(p, "user.location.imprecise"));
  EXPECT_TRUE(Contains(p.interest, "block"));
  EXPECT_TRUE(Contains(p.interest, "regions or countries"));
}

// [W] "We may also use and disclose information in aggregate (so that no individuals are
// identified) for marketing and strategic development purposes"
TEST_F(SeedPolicyProgressTeaching, AggregatesServeMarketingAndStrategicDevelopment) {
  const Purpose& p = CP("aggregate_insights");
  EXPECT_TRUE(Contains(p.interest, "marketing and strategic development"));
  EXPECT_TRUE(Contains(p.interest, "no individuals are identified"));
  EXPECT_TRUE(p.recipients.empty()) << "only aggregates leave us (see anonymisation)";
}

// [W] "We may use information which we hold about you to show you relevant advertising on
// third party sites (e.g. Facebook, Google, Instagram, Snapchat and Twitter). ... If you don't
// want to be shown targeted advertising messages from ProgressTeaching, ... contact us to
// request removal at support@progressteaching.com"
TEST_F(SeedPolicyProgressTeaching, TargetedAdvertisingStopsOnRequestToSupport) {
  const Purpose& p = CP("targeted_advertising");
  EXPECT_TRUE(p.direct_marketing) << "an objection stops it absolutely";
  EXPECT_TRUE(HasRef(p.recipients, "advertising_platforms"));
  const Recipient* sites = c().FindRecipient("advertising_platforms");
  ASSERT_NE(sites, nullptr);
  for (auto name : {"Facebook", "Google", "Instagram", "Snapchat", "Twitter"}) {
    EXPECT_TRUE(Contains(sites->name, name)) << name;
  }
  EXPECT_TRUE(Contains(p.description, "support@progressteaching.com"));
  const Contact* opt_out = c().FindContactFor("marketing_opt_out");
  ASSERT_NE(opt_out, nullptr);
  EXPECT_EQ(opt_out->email, "support@progressteaching.com");
}

// [W] "we may share with third party sites (e.g. Facebook, Google, ...) some data, with
// appropriate security measures" -- the seed names no country or safeguard, so the policy
// names neither (the notice then invents no "Where: the United States" and no adequacy).
TEST_F(SeedPolicyProgressTeaching, AdvertisingSitesNameNoCountryOrSafeguardTheSeedDoesNotGive) {
  const Recipient* sites = c().FindRecipient("advertising_platforms");
  ASSERT_NE(sites, nullptr);
  EXPECT_TRUE(Contains(sites->description, "appropriate security measures"));
  EXPECT_TRUE(sites->countries.empty());
  EXPECT_TRUE(sites->safeguard.empty());
  std::string md = RenderNotice(c(), NoticeFormat::kMarkdown);
  EXPECT_EQ(md.find("the United States"), std::string::npos);
  EXPECT_EQ(md.find("adequacy"), std::string::npos);
}

// [W] "We may use automated systems to help us make decisions, for example helping us to
// identify the relevancy of products to new or existing customers or non-customers or to help
// us understand the renewal risk profile of a customer. Individuals ... may also have a right
// to request human intervention and to challenge the decision."
TEST_F(SeedPolicyProgressTeaching, AutomatedDecisionsOfferHumanInterventionAndChallenge) {
  const Purpose& p = CP("automated_decisions");
  ASSERT_TRUE(p.automated_decision.present);
  EXPECT_TRUE(p.automated_decision.human_review);
  EXPECT_TRUE(Contains(p.automated_decision.logic, "renewal risk profile"));
  EXPECT_TRUE(Contains(p.automated_decision.significance, "challenge the decision"));
  EXPECT_TRUE(p.profiling);
  EXPECT_TRUE(HasRef(p.subjects, "customer"));
  EXPECT_TRUE(HasRef(p.subjects, "prospect"));
  EXPECT_TRUE(HasText(c().rights.available, "automated_decision_review"));
}

// ===================================================================== contacting you

// [W] "In relation to any correspondence we receive from you or any comment or complaint you
// make about ProgressTeaching products"  [A] "... or any comment or complaint you make about
// the Parent App directly to us"
TEST_F(SeedPolicyProgressTeaching, WeContactYouAboutYourCorrespondenceAndComplaints) {
  const Purpose& p = CP("correspondence");
  EXPECT_TRUE(PurposeUses(p, "user.content.correspondence"));
  EXPECT_TRUE(HasRef(p.subjects, "parent_app_user"));
  EXPECT_TRUE(HasRef(p.subjects, "customer"));
}

// [W] "To invite you to participate in surveys or research about ProgressTeaching's current or
// potential products (participation is always voluntary)"
TEST_F(SeedPolicyProgressTeaching, ResearchParticipationIsAlwaysVoluntary) {
  const Purpose& p = CP("research_invitations");
  EXPECT_TRUE(Contains(p.description, "always voluntary"));
  EXPECT_TRUE(PurposeUses(p, "user.content.survey_responses"));
}

// [W] "We may use your information to provide information about other ProgressTeaching
// products, and also products and services from our partners and other relevant third
// parties. We may send marketing messages by post, email, telephone, text or other
// ProgressTeaching platforms."
TEST_F(SeedPolicyProgressTeaching, MarketingOfOurAndPartnersProductsByFiveChannels) {
  for (auto key : {"marketing_own_products", "marketing_partner_products"}) {
    const Purpose& p = CP(key);
    EXPECT_TRUE(p.direct_marketing) << key;
    for (auto channel : {"post", "email", "phone", "sms", "in_app"}) {
      EXPECT_TRUE(HasText(p.channels, channel)) << key << " " << channel;
    }
  }
  EXPECT_TRUE(Contains(CP("marketing_partner_products").interest, "partners"));
  // "(unless you tell us otherwise) telling you about products we think may be relevant": the
  // seed claims no PECR soft opt-in, so the policy claims none.
  EXPECT_FALSE(CP("marketing_own_products").soft_opt_in);
}

// [W] "You may opt out of receiving marketing by amending your preferences. You can do this by
// emailing us at support@progressteaching.com, or by clicking the link on any marketing
// emails"; "You have the right to ask us not to process your data for marketing purposes at
// any time by emailing us at support@progressteaching.com."
TEST_F(SeedPolicyProgressTeaching, MarketingOptOutBySupportEmailOrUnsubscribeLink) {
  EXPECT_TRUE(HasText(c().rights.available, "marketing_opt_out"));
  const Contact* opt_out = c().FindContactFor("marketing_opt_out");
  ASSERT_NE(opt_out, nullptr);
  EXPECT_EQ(opt_out->email, "support@progressteaching.com");
  EXPECT_TRUE(Contains(opt_out->name, "unsubscribe link"));
}

// [A] "Will I be contacted for marketing purposes? No."
TEST_F(SeedPolicyProgressTeaching, ParentAppUsersAreNeverMarketedTo) {
  for (const auto& purpose : c().purposes) {
    if (!purpose.direct_marketing && purpose.channels.empty()) continue;
    for (const auto& subject : c().SubjectsOrAll(purpose.subjects)) {
      EXPECT_NE(subject, "parent_app_user") << purpose.key;
    }
  }
  for (const auto& purpose : s().purposes) {
    EXPECT_FALSE(purpose.direct_marketing) << purpose.key;
  }
}

// ===================================================================== sharing

// [W] "Have a public or legal duty to do so; Need to in connection with regulatory reporting,
// litigation or asserting or defending legal rights and interests"
TEST_F(SeedPolicyProgressTeaching, SharedWithAuthoritiesForDutiesAndLegalClaims) {
  const Recipient* authorities = c().FindRecipient("public_authorities");
  ASSERT_NE(authorities, nullptr);
  EXPECT_EQ(authorities->kind, RecipientKind::kAuthority);
  EXPECT_TRUE(Contains(authorities->when, "public or legal duty"));
  EXPECT_TRUE(Contains(authorities->when, "litigation"));
  EXPECT_TRUE(HasRef(CP("legal_obligations").recipients, "public_authorities"));
  EXPECT_TRUE(HasRef(CP("legal_rights").recipients, "public_authorities"));
}

// [W] "Have a legitimate business reason for doing so"; "Have asked you or the individuals
// connected to your business for your permission to share it, and you (or they) have agreed"
TEST_F(SeedPolicyProgressTeaching, SharedForABusinessReasonOrWithYourPermission) {
  EXPECT_EQ(CP("sharing_with_permission").basis, LawfulBasis::kConsent);
  EXPECT_TRUE(HasRef(CP("sharing_with_permission").recipients, "others_with_permission"));
  EXPECT_EQ(CP("legitimate_business_sharing").basis, LawfulBasis::kLegitimateInterests);
  EXPECT_TRUE(Contains(CP("legitimate_business_sharing").interest, "legitimate business reason"));
}

// [W] "we may want to share your information around our group so they can use it for the same
// internal purposes as we do"
TEST_F(SeedPolicyProgressTeaching, FutureGroupCompaniesUseItForTheSamePurposes) {
  const Recipient* group = c().FindRecipient("group_companies");
  ASSERT_NE(group, nullptr);
  EXPECT_EQ(group->kind, RecipientKind::kInternal);
  EXPECT_TRUE(Contains(group->description, "same internal purposes"));
  EXPECT_TRUE(Contains(group->when, "if we come to have"));
}

// [W] "It is possible that we could sell our business to a third party, or re-organise our
// business or become insolvent. ... we would need to share it with the buyer and their
// advisers."
TEST_F(SeedPolicyProgressTeaching, BusinessSaleSharesCustomerDatabaseWithBuyerAndAdvisers) {
  const Purpose& p = CP("business_transfer");
  EXPECT_TRUE(HasRef(p.recipients, "business_buyer"));
  const Recipient* buyer = c().FindRecipient("business_buyer");
  ASSERT_NE(buyer, nullptr);
  EXPECT_TRUE(Contains(buyer->name, "advisers"));
  EXPECT_TRUE(Contains(buyer->when, "insolvent"));
}

// [W] "Sometimes ProgressTeaching uses third parties to process your information on our
// behalf, for example to provide analysis. ProgressTeaching requires these third parties to
// comply strictly with its instructions and ... that they do not use your personal information
// for their own business purposes."
TEST_F(SeedPolicyProgressTeaching, ProcessorsFollowInstructionsAndNeverUseDataForThemselves) {
  const Recipient* providers = c().FindRecipient("service_providers");
  ASSERT_NE(providers, nullptr);
  EXPECT_EQ(providers->kind, RecipientKind::kProcessor);
  EXPECT_TRUE(Contains(providers->description, "follow our instructions strictly"));
  EXPECT_TRUE(Contains(providers->description, "own business purposes"));
}

// [W] section 8 / [A]: "We may share aggregated or anonymised information within and outside of
// ProgressTeaching, with partners such as research groups, policy groups, the DfE, or Ofsted.
// You will not be able to be identified from this information."
TEST_F(SeedPolicyProgressTeaching, OnlyAnonymisedAggregatesGoToResearchPolicyGroupsDfeOfsted) {
  for (const Policy* p : {&c(), &s()}) {
    ASSERT_TRUE(p->anonymisation.present);
    const auto& with = p->anonymisation.shared_with;
    EXPECT_TRUE(HasText(with, "Ofsted"));
    EXPECT_TRUE(HasText(with, "the Department for Education (DfE)"));
    EXPECT_TRUE(HasText(with, "policy groups"));
    EXPECT_TRUE(HasText(with, "partners such as research groups"));
  }
  EXPECT_TRUE(Contains(s().anonymisation.description, "pseudonymisation"));
}

// [W] "If you post or send content which may reasonably be deemed to be offensive ...
// ProgressTeaching may remove such content. Where ProgressTeaching reasonably believes that you
// are or may be in breach of any applicable laws, ... may disclose your personal information to
// ... law enforcement agencies or your internet provider. ... only ... where such disclosure is
// permitted under applicable laws"  [A] "... and may deny you access to the Parent App
// temporarily or permanently as we see fit."
TEST_F(SeedPolicyProgressTeaching, OffensiveContentRemovedAndDisclosedOnlyWhereLawful) {
  const Purpose& p = CP("content_moderation");
  EXPECT_TRUE(HasRef(p.recipients, "law_enforcement"));
  EXPECT_TRUE(HasRef(p.recipients, "communications_providers"));
  EXPECT_TRUE(HasRef(p.subjects, "parent_app_user"));
  EXPECT_TRUE(Contains(p.description, "deny you access to the Parent App"));
  for (auto key : {"law_enforcement", "communications_providers"}) {
    const Recipient* r = c().FindRecipient(key);
    ASSERT_NE(r, nullptr);
    EXPECT_TRUE(Contains(r->when, "only where the law"));
  }
}

// ===================================================================== retention

// [W] "we'll normally keep your core information for a period of seven years from the end of
// our relationship with you. ... If we don't need to retain information for this period of
// time, we may destroy, delete or anonymise it more promptly."
TEST_F(SeedPolicyProgressTeaching, CoreInformationDeletedSevenYearsAfterRelationshipEnds) {
  const RetentionRule* rule = FindRule(c(), "core_information");
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->after.key, "relationship_ended");
  ASSERT_TRUE(rule->period.value.has_value());
  EXPECT_EQ(rule->period.value->years, 7);
  EXPECT_EQ(rule->action, RetentionAction::kDelete);
  for (auto subject : {"customer", "prospect"}) {
    for (auto category : {"user.name", "user.job_title", "user.contact.email",
                          "user.contact.address", "user.contact.phone_number"}) {
      EXPECT_TRUE(RuleCovers(*rule, category, subject)) << category << " " << subject;
    }
  }
  EXPECT_TRUE(Contains(rule->description, "sooner"));
}

// [W] "We'll keep information in line with our data retention policy." -- no period is
// promised for anything but core information, so it is reviewed, not deleted on a date.
TEST_F(SeedPolicyProgressTeaching, OtherInformationIsReviewedWhereNoPeriodIsPromised) {
  for (auto id : {"other_relationship_information", "website_visits", "app_technical_data"}) {
    const RetentionRule* rule = FindRule(c(), id);
    ASSERT_NE(rule, nullptr) << id;
    EXPECT_EQ(rule->action, RetentionAction::kReview) << id;
    // "We'll keep information in line with our data retention policy": no period published.
    EXPECT_FALSE(rule->period_stated) << id;
    EXPECT_TRUE(Contains(rule->description, "data retention policy")) << id;
  }
}

// [A] "we will only store your data for as long we need it ... To determine the appropriate
// period, we consider the amount of data, its nature and sensitivity, the potential for harm
// ... Details of our records retention policy is available upon request. We will regularly
// cleanse this data."
TEST_F(SeedPolicyProgressTeaching, AppTechnicalDataIsCleansedRegularly) {
  const RetentionRule* rule = FindRule(c(), "app_technical_data");
  ASSERT_NE(rule, nullptr);
  EXPECT_TRUE(RuleCovers(*rule, "user.behavior.app_usage", "parent_app_user"));
  EXPECT_TRUE(RuleCovers(*rule, "user.device.app_device_information", "parent_app_user"));
  EXPECT_TRUE(Contains(rule->description, "cleanse this data regularly"));
  EXPECT_TRUE(Contains(rule->description, "on request"));
  EXPECT_TRUE(Contains(rule->description, "potential for harm"));
}

// [A] "We will also delete your data on your request though we may hold a list of the 'opt
// out' requests to administer your request."
TEST_F(SeedPolicyProgressTeaching, DeletionOnRequestKeepsTheOptOutList) {
  const RetentionRule* deletion = FindRule(c(), "app_deletion_on_request");
  ASSERT_NE(deletion, nullptr);
  EXPECT_EQ(deletion->after.key, "erasure_requested");
  ASSERT_TRUE(deletion->period.value.has_value());
  EXPECT_TRUE(deletion->period.value->IsZero());
  EXPECT_EQ(deletion->action, RetentionAction::kDelete);
  EXPECT_TRUE(RuleCovers(*deletion, "user.behavior.app_usage", "parent_app_user"));
  // The opt-out list survives the deletion: the deletion rule does not cover it, its own
  // rule keeps it under review.
  EXPECT_FALSE(
      RuleCovers(*deletion, "user.privacy_preferences.opt_out_requests", "parent_app_user"));
  const RetentionRule* list = FindRule(c(), "opt_out_list");
  ASSERT_NE(list, nullptr);
  EXPECT_EQ(list->after.key, "erasure_requested");
  EXPECT_EQ(list->action, RetentionAction::kReview);
  EXPECT_TRUE(RuleCovers(*list, "user.privacy_preferences.opt_out_requests", "parent_app_user"));
  EXPECT_TRUE(Contains(CP("opt_out_administration").interest, "administering your request"));
}

// ===================================================================== security

// [W]/[A] "stored on our servers, and we have implemented reasonable and appropriate security
// measures to protect the data including HTTPS and the industry standard for encryption and SSL
// technology. Unfortunately, the transmission of information via the internet is not
// completely secure"
TEST_F(SeedPolicyProgressTeaching, WebsiteDataProtectedByHttpsEncryptionAndSsl) {
  ASSERT_NE(FindSecurity(c(), "https"), nullptr);
  ASSERT_NE(FindSecurity(c(), "encryption"), nullptr);
  EXPECT_TRUE(Contains(FindSecurity(c(), "encryption")->description, "SSL"));
  ASSERT_NE(FindSecurity(c(), "own_servers"), nullptr);
  ASSERT_NE(FindSecurity(c(), "limits"), nullptr);
  EXPECT_TRUE(Contains(FindSecurity(c(), "limits")->description, "never completely secure"));
}

// [W] "We do not recommend that you put email addresses, URLs, phone numbers, full names or
// addresses, credit-card details or other identifying or sensitive information in any online
// chat function"  [A] "... holiday / home absence information ..."; "keep your login
// credentials and your Device safe ... log out of or close down the App after use."
TEST_F(SeedPolicyProgressTeaching, PeopleAreAdvisedWhatNotToShareAndToGuardDevices) {
  const SecurityMeasure* chat = FindSecurity(c(), "chat_advice");
  ASSERT_NE(chat, nullptr);
  EXPECT_TRUE(Contains(chat->description, "credit-card details"));
  EXPECT_TRUE(Contains(chat->description, "holiday or home absence"));
  ASSERT_NE(FindSecurity(c(), "device_advice"), nullptr);
  EXPECT_TRUE(Contains(FindSecurity(c(), "device_advice")->description, "log out"));
  ASSERT_NE(FindSecurity(s(), "credentials_advice"), nullptr);
  EXPECT_TRUE(Contains(FindSecurity(s(), "credentials_advice")->description, "co-parent"));
}

// ===================================================================== rights

// [W] section 12 and [A] "Your rights": informed, access, withdraw consent, portability,
// rectification, erasure, objection, restriction (and [W] 4 automated decisions, marketing).
TEST_F(SeedPolicyProgressTeaching, AllRightsOfTheNoticeAreAvailable) {
  for (auto right :
       {"informed", "access", "withdraw_consent", "portability", "rectification", "erasure",
        "objection", "restriction", "automated_decision_review", "marketing_opt_out"}) {
    EXPECT_TRUE(HasText(c().rights.available, right)) << right;
  }
}

// [W] "You can exercise your rights by contacting us at support@progressteaching.com";
// "Simply email us at info@progressteaching.com and we will tell you how to do this."
// [A] "You and individuals ... can exercise your rights by contacting us at
// info@progressteaching.com."
TEST_F(SeedPolicyProgressTeaching, RightsRequestsGoToSupportAndAccessRequestsToInfo) {
  ASSERT_TRUE(c().rights.contact.has_value());
  const Contact* rights = c().FindContact(c().rights.contact->key);
  ASSERT_NE(rights, nullptr);
  EXPECT_EQ(rights->email, "support@progressteaching.com");
  const Contact* access = c().FindContact("access_and_app_rights");
  ASSERT_NE(access, nullptr);
  EXPECT_EQ(access->purpose, "rights_requests");
  EXPECT_EQ(access->email, "info@progressteaching.com");
}

// [A] "we may ask you to specify what you wish to see in order to focus our search, and we may
// have to verify your identity/authority."; "we may need to verify the accuracy of the new
// data you provide to us."
TEST_F(SeedPolicyProgressTeaching, IdentityOrAuthorityMayBeVerified) {
  EXPECT_TRUE(c().rights.identity_verification_required);
  EXPECT_TRUE(Contains(c().rights.identity_note, "identity or your authority"));
  EXPECT_TRUE(Contains(c().rights.identity_note, "focus our search"));
  EXPECT_TRUE(Contains(c().rights.identity_note, "accurate"));
}

// The seed states no response period; the statutory month is used (see Format gaps).
TEST_F(SeedPolicyProgressTeaching, ResponsePeriodIsTheStatutoryMonth) {
  for (const Policy* p : {&c(), &s()}) {
    ASSERT_TRUE(p->rights.response_period.value.has_value());
    EXPECT_EQ(p->rights.response_period.value->months, 1);
  }
}

// "whose registered office is 86-90 Paul Street, London, EC2A 4NE": England's bank holidays
// move a response deadline (the schools the processor policy serves are not named).
TEST_F(SeedPolicyProgressTeaching, DeadlinesSkipEnglandAndWalesBankHolidays) {
  for (const Policy* p : {&c(), &s()}) {
    EXPECT_EQ(p->rights.bank_holidays, "england_and_wales");
  }
}

// [W] "We may continue to retain your information if we're entitled or required to retain
// it"; "there may be situations where you object to, or ask us to restrict, our processing of
// your information but we're entitled to continue processing it and/or to refuse your
// request"; "We may continue to process your information if we have another legitimate reason
// for doing so"  [A] "we may not always be able to comply with your request of erasure for
// specific legal reasons which will be notified to you"
TEST_F(SeedPolicyProgressTeaching, ErasureObjectionRestrictionAndWithdrawalHaveLimits) {
  std::set<std::string> limited;
  for (const auto& exemption : c().rights.exemptions) {
    limited.insert(exemption.right);
    EXPECT_FALSE(exemption.description.empty()) << exemption.right;
    if (exemption.right == "erasure") {
      EXPECT_TRUE(Contains(exemption.description, "entitled or required to keep it"));
      EXPECT_TRUE(Contains(exemption.description, "tell you at the time"));
    }
    if (exemption.right == "withdraw_consent") {
      EXPECT_TRUE(Contains(exemption.description, "another legitimate reason"));
    }
  }
  EXPECT_EQ(limited,
            (std::set<std::string>{"erasure", "objection", "restriction", "withdraw_consent"}));
}

// ===================================================================== cookies

// [W] "Strictly necessary cookies: These cookies are required for the sites to perform
// correctly." ... "You can withdraw your consent to accept cookies through settings"
TEST_F(SeedPolicyProgressTeaching, OnlyStrictlyNecessaryCookiesNeedNoConsent) {
  ASSERT_EQ(c().cookies.size(), 4u);
  for (const auto& cookie : c().cookies) {
    EXPECT_EQ(cookie.consent_required, cookie.key != "strictly_necessary") << cookie.key;
  }
}

// [W] "Performance cookies ... Functionality cookies ... such as live chat ... Targeting
// and/or advertising cookies: These cookies track your visits to the sites, the links you have
// clicked and the articles you have viewed."
TEST_F(SeedPolicyProgressTeaching, CookieCategoriesAreDescribedAsTheNoticeDoes) {
  ASSERT_NE(FindCookie(c(), "performance"), nullptr);
  EXPECT_TRUE(HasText(FindCookie(c(), "performance")->examples, "which pages are most popular"));
  ASSERT_NE(FindCookie(c(), "functionality"), nullptr);
  EXPECT_TRUE(HasText(FindCookie(c(), "functionality")->examples, "live chat"));
  ASSERT_NE(FindCookie(c(), "targeting"), nullptr);
  EXPECT_TRUE(HasText(FindCookie(c(), "targeting")->examples, "links you clicked"));
  // "If you turn off cookies, you may not be able to use all of our functionality. However, you
  // will still be able to see content."
  EXPECT_TRUE(Contains(FindCookie(c(), "performance")->description, "still be able to see"));
  // "Unless you choose to tell them, the third party sites will never know who you are"
  EXPECT_TRUE(Contains(FindCookie(c(), "targeting")->description, "never know who you are"));
}

// [A] "the App does not contain cookies at present."
TEST_F(SeedPolicyProgressTeaching, ParentAppHasNoCookies) { EXPECT_TRUE(s().cookies.empty()); }

// ===================================================================== Parent App, controller

// [A] "we at ProgressTeaching will rely on our legitimate interests whenever we act as data
// controller ... When we compile and use technical information; When we maintain or update the
// App (including fixes/patches)"; "for our legitimate interests of operating our business and
// our App effectively"; "We are happy to make our up to date assessment of our legitimate
// interests available to you upon request."
TEST_F(SeedPolicyProgressTeaching, AppTechnicalDataRestsOnStatedLegitimateInterests) {
  for (auto key : {"app_technical_information", "app_maintenance", "app_service_notices",
                   "app_login_safety", "opt_out_administration"}) {
    const Purpose& p = CP(key);
    EXPECT_EQ(p.basis, LawfulBasis::kLegitimateInterests) << key;
    EXPECT_EQ(c().SubjectsOrAll(p.subjects), std::vector<std::string>{"parent_app_user"}) << key;
  }
  const Purpose& tech = CP("app_technical_information");
  EXPECT_TRUE(Contains(tech.interest, "operating our business and our App effectively"));
  EXPECT_TRUE(Contains(tech.interest, "give it to you on request"));
  EXPECT_TRUE(Contains(tech.interest, "less intrusive means"));
  EXPECT_TRUE(Contains(tech.interest, "objection to processing"));
  EXPECT_TRUE(Contains(CP("app_maintenance").interest, "correct bugs"));
}

// [A] "Technical information relating to how you use the App, which will include information
// about your Device, its settings, its IP address, and certain permissions within the Device,
// plus analytics regarding your use of the App - frequency of usage, what you read, interact
// with, upload and download"
TEST_F(SeedPolicyProgressTeaching, AppTechnicalInformationIsDeviceIpInstallationAndAnalytics) {
  const Purpose& p = CP("app_technical_information");
  EXPECT_TRUE(PurposeUses(p, "user.device.app_device_information"));
  EXPECT_TRUE(PurposeUses(p, "user.device.ip_address"));
  EXPECT_TRUE(PurposeUses(p, "user.unique_id.app_installation"));
  EXPECT_TRUE(PurposeUses(p, "user.behavior.app_usage"));
  const Category* usage = c().FindCategory("user.behavior.app_usage");
  ASSERT_NE(usage, nullptr);
  EXPECT_TRUE(HasText(usage->examples, "frequency of usage"));
}

// [A] "For safety and child protection purposes only, in the future, we may require users to
// verify their credentials. We also reserve the right to contact the school in the event of
// any unusual or noteworthy login activity or patterns of usage."
TEST_F(SeedPolicyProgressTeaching, UnusualLoginActivityMayBeReportedToTheSchool) {
  const Purpose& p = CP("app_login_safety");
  EXPECT_EQ(p.interest, "safety and child protection");
  EXPECT_TRUE(HasRef(p.recipients, "your_school"));
  EXPECT_TRUE(Contains(p.description, "won't use this information for unexpected reasons"));
}

// [A] "It is possible in the future (we do not store any contact data for you ourselves), we
// may contact you as follows: To notify you about any planned maintenance and downtime"
TEST_F(SeedPolicyProgressTeaching, AppUsersMayHearOfPlannedMaintenanceWithoutStoredContacts) {
  const Purpose& p = CP("app_service_notices");
  EXPECT_TRUE(Contains(p.description, "planned maintenance and downtime"));
  EXPECT_FALSE(PurposeUses(p, "user.contact"));
}

// [A] "We do not engage in restricted transfers of personal data save than as permitted by the
// exceptions and permissions contained in the data protection laws. We therefore do not
// currently store or transport personal data outside of the EU."
TEST_F(SeedPolicyProgressTeaching, AppTechnicalDataStaysInUkOrEu) {
  EXPECT_TRUE(HasRef(c().transfers.regions, "UK"));
  EXPECT_TRUE(HasRef(c().transfers.regions, "EU"));
  EXPECT_EQ(c().transfers.outside, TransferRule::kWithSafeguard);
  for (auto key : {"app_technical_information", "app_maintenance", "app_login_safety"}) {
    for (const auto& ref : CP(key).recipients) {
      const Recipient* r = c().FindRecipient(ref.key);
      ASSERT_NE(r, nullptr);
      for (const auto& country : r->countries) {
        bool inside = RegionIncludes("UK", country.key) || RegionIncludes("EU", country.key);
        EXPECT_TRUE(inside) << key << " -> " << ref.key << " in " << country.key;
      }
    }
  }
}

// ===================================================================== schools: processor

// [A] "in respect of the App Personal Data, ProgressTeaching acts as data processor acting on
// the instruction of your school (the data controller)."  [P] "Any pupil or parent/guardian
// enquiries we receive will be directed to the relevant school as the Data Controller"
TEST_F(SeedPolicyProgressTeaching, SchoolsPolicyIsAProcessorForwardingRequestsToTheSchool) {
  EXPECT_EQ(s().controller.role, Role::kProcessor);
  ASSERT_TRUE(s().processor.present);
  EXPECT_EQ(s().processor.requests, "forward_to_controller");
  EXPECT_TRUE(Contains(s().processor.controllers, "data controller"));
  // [A] "Your school's Privacy Policy will set out how the school makes decisions about you";
  // "Your school's privacy policy should provide information about the security measures"
  EXPECT_TRUE(Contains(s().processor.controllers, "makes decisions"));
  EXPECT_TRUE(Contains(s().processor.controllers, "security"));
  EXPECT_TRUE(Contains(s().processor.controllers, "transfers neither control"));
  ASSERT_TRUE(s().rights.contact.has_value());
  EXPECT_EQ(s().rights.contact->key, "your_school");
}

// [P] "Hold school data for the purposes of education management and school improvement only";
// "Only store and process the minimum data required"; "Comply with all Subject Access
// Requests"; "Always maintain adequate liability insurance"; "Claim ownership or exclusive
// rights over any of the data" (DO NOT)
TEST_F(SeedPolicyProgressTeaching, SchoolDataOnlyForEducationManagementOnInstruction) {
  const std::string& text = s().processor.instructions;
  EXPECT_TRUE(Contains(text, "education management and school improvement only"));
  EXPECT_TRUE(Contains(text, "minimum data"));
  EXPECT_TRUE(Contains(text, "subject access request"));
  EXPECT_TRUE(Contains(text, "liability insurance"));
  EXPECT_TRUE(Contains(text, "do not claim ownership"));
  EXPECT_TRUE(Contains(text, "written instructions"));
}

// [A] "For the most part your school is obliged to use personal data ... pursuant to a legal
// obligation ... Education Acts"; "ProgressTeaching is required to help your school process
// this personal data because of a contractual necessity"; "your school will rely on its
// legitimate interests"
TEST_F(SeedPolicyProgressTeaching, SchoolDataRestsOnLegalObligationContractAndSchoolInterests) {
  const Purpose& obligation = SP("school_legal_obligation");
  const Purpose& interests = SP("school_legitimate_interests");
  const Purpose& contract = SP("subscription_agreement");
  EXPECT_EQ(obligation.basis, LawfulBasis::kLegalObligation);
  EXPECT_TRUE(Contains(obligation.obligation, "Education Acts"));
  EXPECT_EQ(interests.basis, LawfulBasis::kLegitimateInterests);
  EXPECT_TRUE(Contains(interests.interest, "school's privacy policy"));
  EXPECT_EQ(contract.basis, LawfulBasis::kContract);
  EXPECT_TRUE(Contains(contract.description, "subscription agreement"));
  EXPECT_EQ(obligation.activity, interests.activity);
  EXPECT_EQ(obligation.activity, contract.activity);
}

// [A] "This Privacy Policy applies to information about you the User, about pupils and about
// third parties such as family members, key others connected to your child (for example
// carers, uncles, aunts or grandparents) or other personnel within your school"
TEST_F(SeedPolicyProgressTeaching, AppPersonalDataCoversPupilsParentsFamilyAndStaff) {
  for (auto key : {"pupil", "parent", "family_member", "school_staff"}) {
    EXPECT_NE(s().FindSubjectType(key), nullptr) << key;
  }
  EXPECT_TRUE(Contains(s().FindSubjectType("family_member")->description, "grandparents"));
}

// [P] "ProgressTeaching is a secure, cloud-based platform that stores and processes your school
// data."  [A] "this Privacy Policy also rightly relates to our use of any personal information
// you provide to us by phone, SMS, email, in letters, other correspondence and in person";
// "The App is not available to users outside the UK."
TEST_F(SeedPolicyProgressTeaching, SchoolsNoticeCoversPlatformAppAndOfflineChannels) {
  const auto& scope = s().notice.scope;
  auto any = [&](std::string_view needle) {
    return std::any_of(scope.begin(), scope.end(),
                       [&](const std::string& line) { return Contains(line, needle); });
  };
  EXPECT_TRUE(any("cloud-based platform"));
  EXPECT_TRUE(any("Parent App"));
  EXPECT_TRUE(any("available only to users in the UK"));
  EXPECT_TRUE(any("phone, SMS, email, in letters"));
}

// [A] "The predominant types of data that might be used (but not necessarily cached) in the
// App include: The technical and other information that you give us when downloading and
// registering the App ...; The information we get from your day to day use of the App ...;
// Other types of information ... from the MIS ...; Messaging services or feedback
// opportunities or surveys ...; Special category data ...; Monitoring information and
// communications"
TEST_F(SeedPolicyProgressTeaching, AppPersonalDataTypesAreAllDeclared) {
  for (auto key : {"user.account", "user.authorization.credentials", "user.behavior.app_usage",
                   "user.childrens.school_records", "user.content.messages",
                   "user.content.survey_responses", "user.content.uploads",
                   "user.health_and_medical", "user.content.recorded_communications"}) {
    EXPECT_NE(s().FindCategory(key), nullptr) << key;
    bool used = std::any_of(s().purposes.begin(), s().purposes.end(),
                            [&](const Purpose& p) { return PurposeUses(p, key); });
    EXPECT_TRUE(used) << key;
  }
}

// [A] "Other types of information ... which emanate from the MIS controlled by the school (such
// as your child/pupil's attendance record, school reports and achievements)"
TEST_F(SeedPolicyProgressTeaching, SchoolRecordsIncludeAttendanceReportsAndAchievements) {
  for (auto key :
       {"user.childrens.school_records.attendance", "user.childrens.school_records.reports",
        "user.childrens.school_records.achievements"}) {
    EXPECT_NE(s().FindCategory(key), nullptr) << key;
    EXPECT_TRUE(PurposeUses(SP("school_legal_obligation"), key)) << key;
  }
}

// [A] "Special category data where the school is obliged to (and therefore will) obtain your
// specific consent before processing it - such as blood group, medical details ... (particular
// allergies, medicines, procedures and conditions ...)"
TEST_F(SeedPolicyProgressTeaching, MedicalInformationNeedsSpecificConsent) {
  const Category* health = s().FindCategory("user.health_and_medical");
  ASSERT_NE(health, nullptr);
  EXPECT_TRUE(health->special);
  EXPECT_EQ(health->condition, "explicit_consent");
  EXPECT_TRUE(HasText(health->examples, "blood group"));
  EXPECT_TRUE(HasText(health->examples, "allergies"));
  const Purpose& p = SP("pupil_medical_information");
  EXPECT_EQ(p.basis, LawfulBasis::kConsent);
  EXPECT_TRUE(HasRef(p.subjects, "pupil"));
  EXPECT_TRUE(HasRef(p.subjects, "family_member"));
  // No other purpose touches medical data.
  for (const auto& purpose : s().purposes) {
    if (purpose.key == "pupil_medical_information") continue;
    EXPECT_FALSE(PurposeUses(purpose, "user.health_and_medical")) << purpose.key;
  }
}

// [A] "A parent or legal guardian can only use the Parent App after being authorised to do so
// by their school."; "Only users whose details have been registered with us by a school will be
// permitted to use the App."
TEST_F(SeedPolicyProgressTeaching, OnlySchoolAuthorisedParentsGetAccess) {
  const Purpose& p = SP("app_access");
  EXPECT_TRUE(HasRef(p.sources, "school_registration"));
  EXPECT_TRUE(Contains(p.description, "Only users your school has registered and authorised"));
  // "All parents or guardians ... are entitled under the licensing agreement to set up their
  // own profiles."
  EXPECT_TRUE(Contains(p.description, "your own profile"));
  EXPECT_FALSE(p.necessary_for_service.empty());
}

// [A] "At the school's request only, to verify your credentials ...; At the school's request
// only, in relation to any tailored or trial services ...; At the school's request only to
// occasionally invite you to participate in surveys or research about the App."
TEST_F(SeedPolicyProgressTeaching, ParentsAreContactedOnlyAtTheSchoolsRequest) {
  for (auto key : {"account_help_at_school_request", "trials_at_school_request",
                   "surveys_at_school_request"}) {
    const Purpose& p = SP(key);
    EXPECT_TRUE(Contains(p.description, "At your school's request only")) << key;
    EXPECT_FALSE(p.direct_marketing) << key;
  }
  // "This may include notifications within the App alerting you to new messages or notices
  // which we can display on behalf of the school."
  EXPECT_TRUE(Contains(SP("app_notifications").description, "on behalf of your school"));
}

// [A] "Monitoring information and communications which may be recorded for purposes of quality
// assurance, training and fraud prevention."
TEST_F(SeedPolicyProgressTeaching, RecordedCommunicationsServeQualityTrainingAndFraud) {
  const Purpose& p = SP("quality_monitoring");
  EXPECT_TRUE(PurposeUses(p, "user.content.recorded_communications"));
  EXPECT_TRUE(Contains(p.description, "quality assurance, training and fraud prevention"));
}

// [P] "We DO NOT: ... Use your data for the purposes of advertising or marketing, except where
// it is relevant to your usage of the system itself (e.g. awareness of new functionality)."
TEST_F(SeedPolicyProgressTeaching, SchoolDataIsNeverUsedForMarketing) {
  for (const auto& purpose : s().purposes) {
    EXPECT_FALSE(purpose.direct_marketing) << purpose.key;
    EXPECT_TRUE(purpose.channels.empty()) << purpose.key;
    EXPECT_FALSE(purpose.use.rfind("marketing", 0) == 0) << purpose.key;
  }
  const Purpose& updates = SP("system_updates");
  EXPECT_TRUE(Contains(updates.description, "new functionality"));
  EXPECT_EQ(s().SubjectsOrAll(updates.subjects), std::vector<std::string>{"school_staff"});
}

// [P] "ProgressTeaching does not inspect any of the data we store, except where a school has
// given us permission to inspect their data; for example, to provide technical support"
TEST_F(SeedPolicyProgressTeaching, StaffInspectDataOnlyWithTheSchoolsPermission) {
  ASSERT_NE(FindSecurity(s(), "no_inspection"), nullptr);
  EXPECT_TRUE(Contains(SP("technical_support").description,
                       "only where your school has given us permission"));
}

// [P] "We DO NOT: Share your data with any third parties except where explicitly requested by
// you or required by law."
TEST_F(SeedPolicyProgressTeaching, SchoolDataGoesToThirdPartiesOnlyOnRequestOrByLaw) {
  for (const auto& recipient : s().recipients) {
    if (recipient.kind != RecipientKind::kThirdParty) continue;
    EXPECT_EQ(recipient.key, "third_party_applications");
    EXPECT_EQ(recipient.visibility, "on_request");
    EXPECT_TRUE(Contains(recipient.when, "explicitly authorised"));
  }
  const Recipient* authorities = s().FindRecipient("authorities");
  ASSERT_NE(authorities, nullptr);
  EXPECT_EQ(authorities->when, "only where required by law");
}

// [A] "there are times when we use third parties to process your information on our behalf,
// for example to provide services such as email deployment or cloud storage services or
// analysis ... it will be required in order to fulfil our obligations under the subscription
// agreement"
TEST_F(SeedPolicyProgressTeaching, SubProcessorsOnlyToFulfilTheSubscriptionAgreement) {
  const Recipient* sub = s().FindRecipient("sub_processors");
  ASSERT_NE(sub, nullptr);
  EXPECT_EQ(sub->kind, RecipientKind::kSubProcessor);
  EXPECT_TRUE(Contains(sub->name, "email deployment"));
  EXPECT_TRUE(Contains(sub->name, "cloud storage"));
  EXPECT_TRUE(Contains(sub->description, "subscription agreement"));
}

// [A] "Your school's privacy policy sets out the relevant permissions to access your data and
// school records to which the App interfaces."
TEST_F(SeedPolicyProgressTeaching, OtherAppUsersSeeDataAsTheSchoolPermits) {
  const Recipient* others = s().FindRecipient("other_app_users");
  ASSERT_NE(others, nullptr);
  EXPECT_EQ(others->kind, RecipientKind::kOtherUsers);
  EXPECT_TRUE(Contains(others->when, "school's privacy policy"));
}

// [P] "We DO NOT: Store personal or sensitive data outside of the EU."; "All personal and
// sensitive ProgressTeaching data is stored and transported within the EU."
TEST_F(SeedPolicyProgressTeaching, SchoolDataNeverLeavesTheUkOrEu) {
  EXPECT_EQ(s().transfers.outside, TransferRule::kForbidden);
  EXPECT_TRUE(HasRef(s().transfers.regions, "UK"));
  EXPECT_TRUE(HasRef(s().transfers.regions, "EU"));
  for (const auto& recipient : s().recipients) {
    for (const auto& country : recipient.countries) {
      bool inside = RegionIncludes("UK", country.key) || RegionIncludes("EU", country.key);
      EXPECT_TRUE(inside) << recipient.key << " in " << country.key;
    }
  }
}

// [P] "We retain personal data on our platform for as long as necessary to provide the
// ProgressTeaching service. If a school terminates their contract with ProgressTeaching, we
// will delete their personal data within 12 months."
TEST_F(SeedPolicyProgressTeaching, SchoolDataDeletedWithinTwelveMonthsOfContractEnd) {
  const RetentionRule* end = FindRule(s(), "after_contract_termination");
  ASSERT_NE(end, nullptr);
  EXPECT_EQ(end->after.key, "contract_terminated");
  ASSERT_TRUE(end->period.value.has_value());
  EXPECT_EQ(end->period.value->months + 12 * end->period.value->years, 12);
  EXPECT_EQ(end->action, RetentionAction::kDelete);
  for (const auto& subject : s().SubjectsOrAll({})) {
    EXPECT_TRUE(RuleCovers(*end, "user.health_and_medical", subject)) << subject;
    EXPECT_TRUE(RuleCovers(*end, "user.childrens.school_records", subject)) << subject;
  }
  const RetentionRule* during = FindRule(s(), "while_providing_service");
  ASSERT_NE(during, nullptr);
  EXPECT_EQ(during->action, RetentionAction::kReview);
  EXPECT_TRUE(Contains(during->description, "as long as necessary"));
}

// [A] "data accessed within the Parent App does not reside anywhere other than the school's
// databases. It is not cached or copied in the provision of the Parent App."
TEST_F(SeedPolicyProgressTeaching, ParentAppDoesNotCacheSchoolRecords) {
  const SecurityMeasure* cache = FindSecurity(s(), "no_app_cache");
  ASSERT_NE(cache, nullptr);
  EXPECT_TRUE(Contains(cache->description, "does not cache or copy"));
}

// [P] "Transport and store all personal data originating from schools using modern and best
// practice encryption technologies ... SSL/TLS"; "data is not corrupted or lost"; "all staff
// having access to personal data hold a valid Disclosure and Barring Service certificate";
// "abide by the Security and Data Protection Policy"; "All servers are situated in secure
// locations."
TEST_F(SeedPolicyProgressTeaching, PlatformSecurityMeasuresAreAllStated) {
  for (auto key : {"encryption_in_transit", "encryption_at_rest", "integrity", "secure_locations",
                   "secure_development", "staff_dbs", "staff_policy"}) {
    EXPECT_NE(FindSecurity(s(), key), nullptr) << key;
  }
  EXPECT_TRUE(Contains(FindSecurity(s(), "encryption_in_transit")->description, "SSL/TLS"));
  EXPECT_TRUE(Contains(FindSecurity(s(), "staff_dbs")->description, "Disclosure and Barring"));
  // [P] "it is not possible to 100% guarantee the security of any data"
  ASSERT_NE(FindSecurity(s(), "limits"), nullptr);
  EXPECT_TRUE(Contains(FindSecurity(s(), "limits")->description, "100%"));
}

// [P] "Report any breaches of security to the data controller, the Information Commissioner's
// Office (ICO) and other authorities if required by law, and, in co-operation with the data
// controller, to data subjects."
TEST_F(SeedPolicyProgressTeaching, BreachesAreReportedToTheSchoolAndTheIco) {
  EXPECT_TRUE(s().processor.breach_notify_controller);
  ASSERT_TRUE(s().breach.present);
  EXPECT_TRUE(s().breach.notify_controller);
  EXPECT_FALSE(s().breach.notify_subjects.empty());
  EXPECT_TRUE(Contains(s().breach.description, "Information Commissioner's Office (ICO)"));
  EXPECT_TRUE(Contains(s().breach.description, "in co-operation with the school"));
  EXPECT_FALSE(s().breach.notify_regulator_within.has_value()) << "the seed sets no deadline";
  const Recipient* ico = s().FindRecipient("ico");
  ASSERT_NE(ico, nullptr);
  EXPECT_EQ(ico->kind, RecipientKind::kRegulator);
  // The website policy promises no breach process: none is invented.
  EXPECT_FALSE(c().breach.present);
}

// [P] "Before we allow Third Party Applications to access school data, schools must authorise
// the requests to connect to their data and review the type of data that an application is
// requesting. These permissions can be revoked at any time by the school."
TEST_F(SeedPolicyProgressTeaching, ThirdPartyAppsAreAuthorisedAndRevocableBySchools) {
  ASSERT_TRUE(s().third_party_apps.present);
  EXPECT_TRUE(Contains(s().third_party_apps.authorised_by, "school"));
  EXPECT_TRUE(s().third_party_apps.revocable);
  EXPECT_TRUE(Contains(s().third_party_apps.description, "terms and conditions"));
  EXPECT_TRUE(Contains(s().third_party_apps.description, "review the type of data"));
}

}  // namespace
}  // namespace custos::policy
