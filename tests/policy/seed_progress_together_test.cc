// The Progress Together policy (policies/progress_together.yaml) holds every promise of its seed
// notice (../shared/seeds/000_70fcab05c54e0f24.txt, "WEBSITE PRIVACY NOTICE", last updated
// 23 November 2022). One test per promise family; docs/coverage/progress_together.md maps each
// promise to the test that proves it. Each test quotes the seed sentence it checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "policy/loader.h"

namespace custos::policy {
namespace {

const char kPolicyFile[] = CUSTOS_SOURCE_DIR "/policies/progress_together.yaml";

const std::vector<std::string> kNonLegalPurposes = {
    "responding_to_queries", "administrative_communications", "marketing",
    "marketing_consent",     "website_interaction",
};

class SeedPolicyProgressTogether : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto loaded = LoadPolicy(kPolicyFile);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    report_ = new std::string(loaded->Report());
    ok_ = loaded->ok();
    policy_ = new Policy(std::move(loaded->policy));
  }
  static void TearDownTestSuite() {
    delete policy_;
    delete report_;
    policy_ = nullptr;
    report_ = nullptr;
  }

  const Policy& P() const { return *policy_; }

  const Purpose& PurposeOf(std::string_view key) const {
    const Purpose* p = P().FindPurpose(key);
    EXPECT_NE(p, nullptr) << "purpose " << key;
    static const Purpose kEmpty;
    return p != nullptr ? *p : kEmpty;
  }
  const Recipient& RecipientOf(std::string_view key) const {
    const Recipient* r = P().FindRecipient(key);
    EXPECT_NE(r, nullptr) << "recipient " << key;
    static const Recipient kEmpty;
    return r != nullptr ? *r : kEmpty;
  }
  const RetentionRule& Rule(std::string_view id) const {
    for (const RetentionRule& rule : P().retention) {
      if (rule.id == id) return rule;
    }
    ADD_FAILURE() << "retention rule " << id;
    static const RetentionRule kEmpty;
    return kEmpty;
  }

  static std::vector<std::string> Keys(const std::vector<Ref>& refs) {
    std::vector<std::string> out;
    for (const Ref& r : refs) out.push_back(r.key);
    return out;
  }
  static bool Has(const std::vector<Ref>& refs, std::string_view key) {
    return std::any_of(refs.begin(), refs.end(), [&](const Ref& r) { return r.key == key; });
  }
  static bool Has(const std::vector<std::string>& list, std::string_view key) {
    return std::find(list.begin(), list.end(), key) != list.end();
  }
  static bool Contains(std::string_view text, std::string_view part) {
    return text.find(part) != std::string_view::npos;
  }
  static IsoPeriod Period(std::string_view text) { return *IsoPeriod::Parse(text); }

  static Policy* policy_;
  static std::string* report_;
  static bool ok_;
};

Policy* SeedPolicyProgressTogether::policy_ = nullptr;
std::string* SeedPolicyProgressTogether::report_ = nullptr;
bool SeedPolicyProgressTogether::ok_ = false;

// The whole seed, encoded: the policy loads and validates with no diagnostics.
TEST_F(SeedPolicyProgressTogether, PolicyIsValid) {
  EXPECT_TRUE(ok_) << *report_;
  EXPECT_EQ(P().format_version, 1);
}

// "This Privacy Policy was last updated on 23rd November 2022."
TEST_F(SeedPolicyProgressTogether, NoticeLastUpdated23November2022) {
  ASSERT_TRUE(P().notice.date.has_value());
  EXPECT_EQ(P().notice.date->ToString(), "2022-11-23");
  EXPECT_EQ(P().notice.version, "2022-11-23");
}

// "We may change this privacy notice from time to time. We encourage you to review this privacy
// notice periodically."
TEST_F(SeedPolicyProgressTogether, NoticeMayChangeAndShouldBeReviewedPeriodically) {
  EXPECT_TRUE(Contains(P().notice.changes, "from time to time"));
  EXPECT_TRUE(Contains(P().notice.changes, "review this privacy notice periodically"));
}

// "what personal information we may collect about you when you interact with Progress Together"
// (website, getting in touch, newsletter, social media pages, member portal).
TEST_F(SeedPolicyProgressTogether, NoticeCoversEveryChannelTheSeedNames) {
  const auto& scope = P().notice.scope;
  ASSERT_EQ(scope.size(), 5u);
  EXPECT_TRUE(Has(scope, "this website"));
  EXPECT_TRUE(Has(scope, "our newsletter"));
  EXPECT_TRUE(Has(scope, "our social media pages"));
}

// "Progress Together of Progress Together, Leonard House, 5-7 Newman Road, Bromley, BR1 1RJ is
// the controller of your personal information."
TEST_F(SeedPolicyProgressTogether, ControllerIsProgressTogetherAtLeonardHouseBromley) {
  EXPECT_EQ(P().controller.name, "Progress Together");
  EXPECT_EQ(P().controller.address, "Leonard House, 5-7 Newman Road, Bromley, BR1 1RJ");
  EXPECT_EQ(P().controller.role, Role::kController);
  EXPECT_FALSE(P().processor.present);
}

// "If you have questions or requests about the processing of your personal information, or need
// additional information, you can contact us at: info@progresstogether.co.uk."
TEST_F(SeedPolicyProgressTogether, QuestionsAndRequestsGoToInfoAddress) {
  EXPECT_EQ(P().controller.email, "info@progresstogether.co.uk");
  const Contact* general = P().FindContactFor("general");
  ASSERT_NE(general, nullptr);
  EXPECT_EQ(general->email, "info@progresstogether.co.uk");
  const Contact* requests = P().FindContactFor("rights_requests");
  ASSERT_NE(requests, nullptr);
  EXPECT_EQ(requests->email, "info@progresstogether.co.uk");
  ASSERT_TRUE(P().rights.contact.has_value());
  EXPECT_EQ(P().rights.contact->key, "rights_requests");
}

// The seed names no data protection officer.
TEST_F(SeedPolicyProgressTogether, NoDataProtectionOfficerIsNamed) {
  EXPECT_FALSE(P().dpo.present);
  EXPECT_EQ(P().FindContactFor("dpo"), nullptr);
}

// "You can also complain to the UK Information Commissioner's Office ... Wycliffe House Water
// Lane Wilmslow Cheshire SK9 5AF Helpline number: 0303 123 1113 ICO website:
// https://www.ico.org.uk"
TEST_F(SeedPolicyProgressTogether, ComplaintsGoToTheIco) {
  const Regulator& ico = P().regulator;
  EXPECT_TRUE(Contains(ico.name, "Information Commissioner"));
  EXPECT_EQ(ico.address, "Wycliffe House, Water Lane, Wilmslow, Cheshire, SK9 5AF");
  EXPECT_EQ(ico.phone, "0303 123 1113");
  EXPECT_TRUE(Contains(ico.website, "ico.org.uk"));
  EXPECT_EQ(ico.country, "GB");
  // The seed does not ask people to contact Progress Together before the ICO.
  EXPECT_FALSE(ico.first_contact_us);
}

// "We gather information about you when you provide it to us, or interact with us directly,
// for example, when you: get in touch with us; or sign up for our newsletter."
TEST_F(SeedPolicyProgressTogether, InformationComesFromYouDirectly) {
  const Source* you = P().FindSource("you");
  ASSERT_NE(you, nullptr);
  EXPECT_EQ(you->kind, SourceKind::kDirect);
  EXPECT_NE(P().FindSubjectType("enquirer"), nullptr);
  EXPECT_NE(P().FindSubjectType("newsletter_subscriber"), nullptr);
  EXPECT_TRUE(Has(PurposeOf("responding_to_queries").sources, "you"));
  EXPECT_TRUE(Has(PurposeOf("marketing_consent").sources, "you"));
}

// "Sometimes, we may receive information about you from other sources, such as from your
// employer, if they are one of our members. For example, if your employer is one of our
// members, they may add your contact details to the member portal."
// "We may combine information that we have about you from various sources"
TEST_F(SeedPolicyProgressTogether, EmployerMayAddYourContactDetailsToTheMemberPortal) {
  const Source* employer = P().FindSource("employer");
  ASSERT_NE(employer, nullptr);
  EXPECT_EQ(employer->kind, SourceKind::kThirdParty);
  EXPECT_TRUE(Contains(employer->description, "member portal"));
  EXPECT_TRUE(Contains(employer->description, "combine"));
  ASSERT_NE(P().FindSubjectType("member_contact"), nullptr);
  ASSERT_NE(P().FindEvent("added_to_member_portal"), nullptr);
  for (const char* key : {"administrative_communications", "marketing"}) {
    const Purpose& p = PurposeOf(key);
    EXPECT_TRUE(Has(p.sources, "employer")) << key;
    EXPECT_TRUE(Has(p.subjects, "member_contact")) << key;
  }
  // Consent is given by the person, never by the employer.
  EXPECT_FALSE(Has(PurposeOf("marketing_consent").sources, "employer"));
}

// "information about the device you use ..."; "information from your visits to this website";
// "social media tracking pixels that allow platforms such as Twitter to interact with this
// website and give feedback on your actions"
TEST_F(SeedPolicyProgressTogether, TechnicalInformationIsCollectedAutomatically) {
  const Source* website = P().FindSource("website");
  ASSERT_NE(website, nullptr);
  EXPECT_EQ(website->kind, SourceKind::kAutomated);
  const Source* pixels = P().FindSource("social_media_pixels");
  ASSERT_NE(pixels, nullptr);
  EXPECT_EQ(pixels->kind, SourceKind::kAutomated);
  EXPECT_TRUE(Contains(pixels->description, "Twitter"));
  EXPECT_EQ(Keys(PurposeOf("website_interaction").sources),
            (std::vector<std::string>{"website", "social_media_pixels"}));
}

// "your basic information – such as name"; "contact information – email address, phone
// number(s)"; "Job title, company name"
TEST_F(SeedPolicyProgressTogether, CollectsNameContactDetailsJobTitleAndCompanyName) {
  for (const char* key : {"user.name", "user.contact.email", "user.contact.phone_number",
                          "user.job_title", "user.workplace"}) {
    EXPECT_NE(P().FindCategory(key), nullptr) << key;
    for (const char* purpose : {"responding_to_queries", "administrative_communications",
                                "marketing", "marketing_consent", "legal_compliance"}) {
      EXPECT_TRUE(Has(PurposeOf(purpose).categories, key)) << purpose << " " << key;
    }
  }
}

// "information about the device you use to interact with us (including the type of browser and
// operating system and version you use, unique device identifier, hardware model and mobile
// network information)"
TEST_F(SeedPolicyProgressTogether, CollectsDeviceInformation) {
  EXPECT_NE(P().FindCategory("user.device.device_id"), nullptr);
  const Category* config = P().FindCategory("user.device.configuration");
  ASSERT_NE(config, nullptr);
  ASSERT_TRUE(config->parent.has_value());
  EXPECT_EQ(config->parent->key, "user.device");
  for (const char* example : {"type of browser", "operating system and version", "hardware model",
                              "mobile network information"}) {
    EXPECT_TRUE(Has(config->examples, example)) << example;
  }
  const Purpose& web = PurposeOf("website_interaction");
  EXPECT_TRUE(Has(web.categories, "user.device.device_id"));
  EXPECT_TRUE(Has(web.categories, "user.device.configuration"));
}

// "information from your visits to this website, including access times, pages viewed, URLs
// clicked on, your IP address and the pages you visited before and after navigating to this
// website"
TEST_F(SeedPolicyProgressTogether, CollectsWebsiteVisitInformation) {
  EXPECT_NE(P().FindCategory("user.device.ip_address"), nullptr);
  const Category* visits = P().FindCategory("user.behavior.browsing_history");
  ASSERT_NE(visits, nullptr);
  for (const char* example :
       {"access times", "pages viewed", "URLs clicked on",
        "the pages you visited before and after navigating to this website"}) {
    EXPECT_TRUE(Has(visits->examples, example)) << example;
  }
  const Purpose& web = PurposeOf("website_interaction");
  EXPECT_TRUE(Has(web.categories, "user.device.ip_address"));
  EXPECT_TRUE(Has(web.categories, "user.behavior.browsing_history"));
  EXPECT_EQ(Keys(web.subjects), std::vector<std::string>{"website_visitor"});
}

// "social media tracking pixels that allow platforms such as Twitter to interact with this
// website and give feedback on your actions"
TEST_F(SeedPolicyProgressTogether, CollectsFeedbackFromSocialMediaTrackingPixels) {
  const Category* feedback = P().FindCategory("user.behavior.social_media_feedback");
  ASSERT_NE(feedback, nullptr);
  ASSERT_TRUE(feedback->parent.has_value());
  EXPECT_EQ(feedback->parent->key, "user.behavior");
  EXPECT_TRUE(Contains(feedback->description, "Twitter"));
  EXPECT_TRUE(
      Has(PurposeOf("website_interaction").categories, "user.behavior.social_media_feedback"));
}

// "Any other information relating to you which you may provide to us: in your email
// communications with Progress Together; and that you may provide in your interactions with us
// via our website or social media pages."
TEST_F(SeedPolicyProgressTogether, CollectsWhatYouTellUsByEmailWebsiteOrSocialMedia) {
  const Category* said = P().FindCategory("user.content.communications");
  ASSERT_NE(said, nullptr);
  ASSERT_TRUE(said->parent.has_value());
  EXPECT_EQ(said->parent->key, "user.content");
  EXPECT_EQ(said->examples.size(), 3u);
  EXPECT_TRUE(Has(PurposeOf("responding_to_queries").categories, "user.content.communications"));
}

// No Article 9 or Article 10 data appears anywhere in the seed.
TEST_F(SeedPolicyProgressTogether, NoSpecialCategoryData) {
  for (const Category& c : P().categories) EXPECT_FALSE(c.special) << c.key;
}

// "contacting and interacting with you, including to respond to your queries and requests"
// "For our legitimate interests including ... responding to your queries"
TEST_F(SeedPolicyProgressTogether, RespondingToQueriesRestsOnLegitimateInterests) {
  const Purpose& p = PurposeOf("responding_to_queries");
  EXPECT_EQ(p.basis, LawfulBasis::kLegitimateInterests);
  EXPECT_TRUE(Contains(p.interest, "Responding to your queries"));
  EXPECT_EQ(p.activity, "Contacting and interacting with you");
  EXPECT_EQ(Keys(p.subjects), std::vector<std::string>{"enquirer"});
  EXPECT_FALSE(p.direct_marketing);
}

// "to send you helpful information" / "For our legitimate interests including ...
// administrative communications"
TEST_F(SeedPolicyProgressTogether, AdministrativeCommunicationsRestOnLegitimateInterests) {
  const Purpose& p = PurposeOf("administrative_communications");
  EXPECT_EQ(p.basis, LawfulBasis::kLegitimateInterests);
  EXPECT_TRUE(Contains(p.interest, "Administrative communications"));
  EXPECT_TRUE(Contains(p.description, "helpful information"));
  EXPECT_EQ(p.activity, "Contacting and interacting with you");
}

// "to send you ... marketing communications including about events, and about our
// organisation" / "For our legitimate interests including marketing"
TEST_F(SeedPolicyProgressTogether, MarketingRestsOnLegitimateInterestsAndIsDirectMarketing) {
  const Purpose& p = PurposeOf("marketing");
  EXPECT_EQ(p.basis, LawfulBasis::kLegitimateInterests);
  EXPECT_TRUE(Contains(p.interest, "Marketing"));
  EXPECT_TRUE(Contains(p.description, "events"));
  EXPECT_TRUE(p.direct_marketing);
  EXPECT_EQ(p.use, "marketing.communications");
  // The seed names no marketing channel and no soft opt-in.
  EXPECT_TRUE(p.channels.empty());
  EXPECT_FALSE(p.soft_opt_in);
}

// "We will always obtain consent for marketing where required by law" / "Because you have given
// your consent. At times we may ask for your consent to allow us to use your personal
// information for one or more purposes."
TEST_F(SeedPolicyProgressTogether, MarketingUsesConsentWhereTheLawRequiresIt) {
  const Purpose& consent = PurposeOf("marketing_consent");
  EXPECT_EQ(consent.basis, LawfulBasis::kConsent);
  EXPECT_TRUE(consent.direct_marketing);
  EXPECT_TRUE(Contains(consent.description, "newsletter"));
  EXPECT_TRUE(Contains(consent.description, "where the law requires it"));
  EXPECT_EQ(consent.on_withdrawal, "stop");
  // One notice row, two bases: they share an activity.
  EXPECT_EQ(consent.activity, "Marketing communications");
  EXPECT_EQ(PurposeOf("marketing").activity, consent.activity);
}

// "contacting and interacting with you" covers the technical information collected while you
// use this website; the only basis the seed can give it is "our legitimate interests including
// marketing, administrative communications and responding to your queries".
TEST_F(SeedPolicyProgressTogether, WebsiteInteractionRestsOnTheSeedsLegitimateInterests) {
  const Purpose& p = PurposeOf("website_interaction");
  EXPECT_EQ(p.basis, LawfulBasis::kLegitimateInterests);
  EXPECT_TRUE(Contains(p.interest, "marketing, administrative communications and responding"));
  EXPECT_EQ(p.activity, "Contacting and interacting with you");
  EXPECT_FALSE(p.profiling);
  EXPECT_FALSE(p.automated_decision.present);
}

// "complying with legal, regulatory and other requirements" / "To comply with legal and
// regulatory obligations"
TEST_F(SeedPolicyProgressTogether, LegalComplianceRestsOnLegalObligation) {
  const Purpose& p = PurposeOf("legal_compliance");
  EXPECT_EQ(p.basis, LawfulBasis::kLegalObligation);
  EXPECT_TRUE(Contains(p.obligation, "legal and regulatory obligations"));
  EXPECT_TRUE(p.subjects.empty()) << "applies to everyone the notice covers";
}

// "Data protection law sets out a number of different bases ..." -- every purpose has exactly
// one basis, and only the three bases the seed lists are used; every legitimate interest is
// stated in words.
TEST_F(SeedPolicyProgressTogether, OnlyTheThreeBasesTheSeedListsAreUsed) {
  std::set<LawfulBasis> used;
  for (const Purpose& p : P().purposes) {
    EXPECT_NE(p.basis, LawfulBasis::kNone) << p.key;
    used.insert(p.basis);
    if (p.basis == LawfulBasis::kLegitimateInterests) {
      EXPECT_FALSE(p.interest.empty()) << p.key;
    }
  }
  EXPECT_EQ(used, (std::set<LawfulBasis>{LawfulBasis::kLegitimateInterests,
                                         LawfulBasis::kLegalObligation, LawfulBasis::kConsent}));
  EXPECT_EQ(P().purposes.size(), 6u);
}

// "Where you are given the option to share your personal information with us, you can always
// choose not to do so." "If you fail to provide certain information when requested, we may not
// be able to provide you with the information (such as responses to your queries or the
// newsletter) that you have requested."
TEST_F(SeedPolicyProgressTogether, WithholdingInformationMayMeanNoResponseOrNewsletter) {
  EXPECT_TRUE(
      Contains(PurposeOf("responding_to_queries").necessary_for_service, "respond to your query"));
  EXPECT_TRUE(Contains(PurposeOf("responding_to_queries").necessary_for_service,
                       "always choose not to share"));
  EXPECT_TRUE(Contains(PurposeOf("marketing_consent").necessary_for_service, "newsletter"));
}

// "MyKindaCrowd Limited, trading as Connectr, as the Taskforce and Progress Together Delivery
// Partner"
TEST_F(SeedPolicyProgressTogether, SharedWithConnectrAsDeliveryPartner) {
  const Recipient& r = RecipientOf("connectr");
  EXPECT_EQ(r.name, "MyKindaCrowd Limited, trading as Connectr");
  EXPECT_TRUE(Contains(r.description, "Delivery Partner"));
  EXPECT_TRUE(Has(PurposeOf("responding_to_queries").recipients, "connectr"));
  EXPECT_TRUE(Has(PurposeOf("marketing").recipients, "connectr"));
}

// "employees (which includes secondees) of Progress Together"; "personnel and other departments
// throughout Progress Together, including human resources, legal, technology services,
// security, accounting and internal audit"
TEST_F(SeedPolicyProgressTogether, SharedWithStaffSecondeesAndInternalDepartments) {
  EXPECT_EQ(RecipientOf("staff").kind, RecipientKind::kInternal);
  EXPECT_TRUE(Contains(RecipientOf("staff").name, "secondees"));
  const Recipient& depts = RecipientOf("internal_departments");
  EXPECT_EQ(depts.kind, RecipientKind::kInternal);
  for (const char* d : {"human resources", "legal", "technology services", "security", "accounting",
                        "internal audit"}) {
    EXPECT_TRUE(Contains(depts.description, d)) << d;
  }
}

// "selected agents and suppliers, including those who provide us with technology services such
// as hosting and technical support"
TEST_F(SeedPolicyProgressTogether, SharedWithSuppliersForHostingAndTechnicalSupport) {
  const Recipient& r = RecipientOf("suppliers");
  EXPECT_EQ(r.kind, RecipientKind::kProcessor);
  EXPECT_TRUE(Contains(r.description, "hosting and technical support"));
  for (const Purpose& p : P().purposes) {
    EXPECT_TRUE(Has(p.recipients, "suppliers")) << p.key;
  }
}

// "certain sponsors and funding bodies to whom we are required to provide a report in relation to
// certain projects they have helped us to fund"
TEST_F(SeedPolicyProgressTogether, SponsorsAndFundersReceiveOnlyRequiredProjectReports) {
  const Recipient& r = RecipientOf("sponsors_and_funders");
  EXPECT_EQ(r.kind, RecipientKind::kThirdParty);
  EXPECT_TRUE(Contains(r.when, "required"));
  for (const Purpose& p : P().purposes) {
    EXPECT_EQ(Has(p.recipients, "sponsors_and_funders"), p.key == "legal_compliance") << p.key;
  }
}

// "From time to time, we may also need to make your personal data available to other parties,
// such as: legal and regulatory authorities; and accountants, auditors, lawyers and other
// outside professional advisors."
TEST_F(SeedPolicyProgressTogether, AuthoritiesAndAdvisersOnlyFromTimeToTime) {
  EXPECT_EQ(RecipientOf("authorities").kind, RecipientKind::kAuthority);
  EXPECT_EQ(RecipientOf("professional_advisers").kind, RecipientKind::kProfessionalAdviser);
  for (const char* key : {"authorities", "professional_advisers"}) {
    // "From time to time, we may also need to make your personal data available": when, not
    // at the person's request.
    EXPECT_NE(RecipientOf(key).visibility, "on_request") << key;
    EXPECT_TRUE(Contains(RecipientOf(key).when, "From time to time")) << key;
    for (const Purpose& p : P().purposes) {
      EXPECT_EQ(Has(p.recipients, key), p.key == "legal_compliance") << p.key << " " << key;
    }
  }
  EXPECT_TRUE(Contains(RecipientOf("professional_advisers").name, "auditors"));
}

// The seed shares with exactly the seven recipients it lists, and names no country outside the
// UK ("the countries to which we transfer your personal information" is announced but never
// given): every recipient is encoded in GB and the allowed region is the UK.
TEST_F(SeedPolicyProgressTogether, EveryRecipientIsInTheUk) {
  EXPECT_EQ(P().recipients.size(), 7u);
  for (const Recipient& r : P().recipients) {
    ASSERT_EQ(r.countries.size(), 1u) << r.key;
    EXPECT_EQ(r.countries[0].key, "GB") << r.key;
    EXPECT_TRUE(r.safeguard.empty()) << r.key;
  }
  EXPECT_EQ(Keys(P().transfers.regions), std::vector<std::string>{"UK"});
  // The seed does not promise that data never leaves the UK.
  EXPECT_EQ(P().transfers.outside, TransferRule::kWithSafeguard);
}

// "We will retain your personal data unless you request to be removed from our database, either
// through unsubscribing, or emailing info@progresstogether.co.uk"
// "we keep your personal information: for as long as needed to provide you with access to our
// communications"
TEST_F(SeedPolicyProgressTogether, UnsubscribingRemovesYouFromTheDatabase) {
  const RetentionRule& rule = Rule("removed_on_unsubscribe");
  EXPECT_EQ(rule.after.key, "unsubscribed");
  ASSERT_TRUE(rule.period.value.has_value());
  EXPECT_TRUE(rule.period.value->IsZero());
  EXPECT_EQ(rule.action, RetentionAction::kDelete);
  EXPECT_EQ(Keys(rule.categories), std::vector<std::string>{"user"});
  EXPECT_TRUE(rule.subjects.empty()) << "everyone who unsubscribes";
  EXPECT_EQ(Keys(rule.purposes), kNonLegalPurposes);
  EXPECT_NE(P().FindEvent("unsubscribed"), nullptr);
  const Contact* opt_out = P().FindContactFor("marketing_opt_out");
  ASSERT_NE(opt_out, nullptr);
  EXPECT_EQ(opt_out->email, "info@progresstogether.co.uk");
}

// "... or emailing info@progresstogether.co.uk"
TEST_F(SeedPolicyProgressTogether, EmailingToBeRemovedDeletesYourData) {
  const RetentionRule& rule = Rule("removed_on_request");
  EXPECT_EQ(rule.after.key, "erasure_requested");
  ASSERT_TRUE(rule.period.value.has_value());
  EXPECT_TRUE(rule.period.value->IsZero());
  EXPECT_EQ(rule.action, RetentionAction::kDelete);
  EXPECT_EQ(Keys(rule.categories), std::vector<std::string>{"user"});
  EXPECT_EQ(Keys(rule.purposes), kNonLegalPurposes);
  EXPECT_TRUE(Contains(rule.description, "info@progresstogether.co.uk"));
}

// "where you have contacted us with a question or request, for as long as necessary to allow us
// to respond your question or request"
TEST_F(SeedPolicyProgressTogether, QueryDataIsKeptUntilAnsweredThenReviewed) {
  const RetentionRule& rule = Rule("query_answered_review");
  EXPECT_EQ(rule.after.key, "query_answered");
  EXPECT_EQ(rule.action, RetentionAction::kReview);
  ASSERT_TRUE(rule.period.value.has_value());
  EXPECT_TRUE(rule.period.value->IsZero());
  EXPECT_EQ(Keys(rule.subjects), std::vector<std::string>{"enquirer"});
  EXPECT_EQ(Keys(rule.purposes), std::vector<std::string>{"responding_to_queries"});
  EXPECT_EQ(Keys(rule.categories), Keys(PurposeOf("responding_to_queries").categories));
  EXPECT_TRUE(Contains(rule.description, "as long as necessary"));
}

// "for as long as it is necessary and relevant for our business." "To determine the appropriate
// retention period for personal data, we consider the amount, nature, and sensitivity of the
// personal data, the potential risk of harm ..."
TEST_F(SeedPolicyProgressTogether, BusinessNeedIsReviewedAfterYourLastInteraction) {
  const RetentionRule& rule = Rule("business_need_review");
  EXPECT_EQ(rule.after.key, "last_activity");
  EXPECT_EQ(rule.action, RetentionAction::kReview);
  ASSERT_TRUE(rule.period.value.has_value());
  EXPECT_EQ(*rule.period.value, Period("P1Y"));
  EXPECT_EQ(Keys(rule.categories), std::vector<std::string>{"user"});
  EXPECT_TRUE(Contains(rule.description, "necessary and relevant for our business"));
  EXPECT_TRUE(Contains(rule.description, "amount, nature and sensitivity"));
  // The seed gives no period: the year is our working rule, kept out of the notice.
  EXPECT_FALSE(rule.period_stated);
  EXPECT_FALSE(Contains(rule.description, "gives no fixed period"));
  const Event* last = P().FindEvent("last_activity");
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(Keys(last->resets),
            (std::vector<std::string>{"contacted_us", "newsletter_signup", "added_to_member_portal",
                                      "website_visit"}));
}

// "We will always keep your personal information for the period required by law. We will also
// keep your personal information where we need to do so in connection with legal action or an
// investigation involving Progress Together."
TEST_F(SeedPolicyProgressTogether, DataRequiredByLawIsKeptAndNeverDeletedOnRequest) {
  const RetentionRule& rule = Rule("legal_requirement");
  EXPECT_EQ(Keys(rule.purposes), std::vector<std::string>{"legal_compliance"});
  EXPECT_EQ(rule.after.key, "collected");
  EXPECT_EQ(rule.action, RetentionAction::kReview);
  ASSERT_TRUE(rule.period.value.has_value());
  EXPECT_EQ(*rule.period.value, Period("P1Y"));
  EXPECT_TRUE(Contains(rule.description, "period required by law"));
  // No delete rule reaches data held for legal compliance.
  for (const RetentionRule& r : P().retention) {
    if (r.action != RetentionAction::kDelete) continue;
    EXPECT_FALSE(r.purposes.empty()) << r.id << " would reach legal_compliance data";
    EXPECT_FALSE(Has(r.purposes, "legal_compliance")) << r.id;
  }
}

// "In addition, we may retain information from closed accounts to comply with the law, prevent
// fraud, resolve disputes, troubleshoot problems, assist with investigations, enforce our terms
// and conditions and take other actions permitted by law. The information we retain will be
// handled in accordance with this Privacy Notice."
TEST_F(SeedPolicyProgressTogether, ClosedAccountInformationIsReviewedNotDeletedOutright) {
  const RetentionRule& rule = Rule("closed_account_review");
  EXPECT_EQ(rule.after.key, "account_closed");
  EXPECT_EQ(rule.action, RetentionAction::kReview);
  for (const char* reason : {"comply with the law", "prevent fraud", "resolve disputes",
                             "troubleshoot problems", "assist with investigations",
                             "enforce our terms and conditions", "handled in accordance"}) {
    EXPECT_TRUE(Contains(rule.description, reason)) << reason;
  }
}

// Every category a purpose collects, for each of its subject types, has a retention rule (the
// seed's retention section covers all personal information).
TEST_F(SeedPolicyProgressTogether, EveryCollectedCategoryHasARetentionRule) {
  for (const Purpose& p : P().purposes) {
    for (const std::string& subject : P().SubjectsOrAll(p.subjects)) {
      for (const Ref& category : p.categories) {
        bool covered = std::any_of(P().retention.begin(), P().retention.end(), [&](const auto& r) {
          bool cat = std::any_of(r.categories.begin(), r.categories.end(),
                                 [&](const Ref& c) { return CategoryCovers(c.key, category.key); });
          bool subj = r.subjects.empty() || Has(r.subjects, subject);
          bool purp = r.purposes.empty() || Has(r.purposes, p.key);
          return cat && subj && purp;
        });
        EXPECT_TRUE(covered) << p.key << " / " << subject << " / " << category.key;
      }
    }
  }
}

// "You may be entitled to: opt out from processing ...; ask us about the processing ...,
// including to be provided with a copy ...; request the correction and/or deletion ...; request
// the restriction of the processing ..., or object to that processing; withdraw your consent
// ...; and request receipt or transmission to another organisation, in a machine-readable form,
// of the personal information that you have provided to us."
TEST_F(SeedPolicyProgressTogether, RightsTheSeedLists) {
  const auto& available = P().rights.available;
  for (const char* right : {"informed", "access", "rectification", "erasure", "restriction",
                            "objection", "marketing_opt_out", "withdraw_consent", "portability"}) {
    EXPECT_TRUE(Has(available, right)) << right;
  }
  // No automated decisions in the seed, so no right to have one reviewed.
  EXPECT_FALSE(Has(available, "automated_decision_review"));
  EXPECT_EQ(available.size(), 9u);
}

// The seed states no response period, fee, extension or identity check; the response period
// holds the UK GDPR one month (see Format gaps) and nothing else is promised.
TEST_F(SeedPolicyProgressTogether, NoResponseTermsBeyondTheStatutoryMonth) {
  ASSERT_TRUE(P().rights.response_period.value.has_value());
  EXPECT_EQ(*P().rights.response_period.value, Period("P1M"));
  EXPECT_FALSE(P().rights.extension_max.has_value());
  EXPECT_FALSE(P().rights.identity_verification_required);
  EXPECT_FALSE(P().rights.refuse_if_unfounded_or_excessive);
}

// "Leonard House, 5-7 Newman Road, Bromley, BR1 1RJ": England's bank holidays move a response
// deadline.
TEST_F(SeedPolicyProgressTogether, DeadlinesSkipEnglandAndWalesBankHolidays) {
  EXPECT_EQ(P().rights.bank_holidays, "england_and_wales");
}

// "We will always keep your personal information for the period required by law. We will also
// keep your personal information where we need to do so in connection with legal action or an
// investigation"; "... prevent fraud, resolve disputes, ... assist with investigations, enforce
// our terms and conditions"
TEST_F(SeedPolicyProgressTogether, ErasureGivesWayToLawLegalActionAndFraudPrevention) {
  std::set<std::string> grounds;
  for (const Exemption& e : P().rights.exemptions) {
    if (e.right == "erasure") grounds.insert(e.ground);
  }
  EXPECT_EQ(grounds,
            (std::set<std::string>{"legal_obligation", "legal_claims", "crime_prevention"}));
}

// "If you object to the processing of your personal information, or if you have provided your
// consent to processing and you later choose to withdraw it, we will respect that choice in
// accordance with our legal obligations. This could mean that we are unable to perform the
// actions necessary to achieve the purposes of processing described"
TEST_F(SeedPolicyProgressTogether, ObjectionIsRespectedInAccordanceWithLegalObligations) {
  const Exemption* objection = nullptr;
  for (const Exemption& e : P().rights.exemptions) {
    if (e.right == "objection") objection = &e;
  }
  ASSERT_NE(objection, nullptr);
  EXPECT_EQ(objection->ground, "legal_obligation");
  EXPECT_EQ(Keys(objection->purposes), std::vector<std::string>{"legal_compliance"});
  EXPECT_TRUE(Contains(objection->description, "respect that choice"));
  EXPECT_TRUE(Contains(objection->description, "unable to perform"));
}

// "We take appropriate security measures to limit abuse of and unauthorised access to personal
// data ... our security measures are regularly reviewed. The security measures we use consist
// of, but are not limited to: Vulnerability Detection; HTTP Strict Transport Security and
// related security headers; TLS / SSL; Recommended site hardening features"
TEST_F(SeedPolicyProgressTogether, SecurityMeasuresTheSeedLists) {
  std::set<std::string> keys;
  for (const SecurityMeasure& m : P().security) keys.insert(m.key);
  EXPECT_EQ(keys,
            (std::set<std::string>{"access_limitation", "regular_review", "vulnerability_detection",
                                   "hsts", "tls", "site_hardening"}));
  for (const SecurityMeasure& m : P().security) {
    if (m.key == "hsts") {
      EXPECT_EQ(m.description, "HTTP Strict Transport Security and related security headers.");
    }
    if (m.key == "access_limitation") {
      EXPECT_TRUE(Contains(m.description, "only the necessary persons have access"));
    }
  }
}

// "social media tracking pixels that allow platforms such as Twitter to interact with this
// website and give feedback on your actions" -- the only cookie-like technology the seed names.
TEST_F(SeedPolicyProgressTogether, SocialMediaPixelsAreTheOnlyCookieCategory) {
  ASSERT_EQ(P().cookies.size(), 1u);
  const CookieCategory& pixels = P().cookies[0];
  EXPECT_EQ(pixels.key, "social_media_pixels");
  EXPECT_TRUE(pixels.consent_required) << "not strictly necessary";
  EXPECT_EQ(pixels.third_parties, std::vector<std::string>{"Twitter"});
  EXPECT_TRUE(pixels.duration.empty()) << "the seed gives no duration";
}

// "In some circumstances we may anonymise your personal data so that it can no longer be
// associated with you, in which case we may use such information without further notice to
// you."
TEST_F(SeedPolicyProgressTogether, AnonymisedDataMayBeUsedWithoutFurtherNotice) {
  EXPECT_TRUE(P().anonymisation.present);
  EXPECT_TRUE(Contains(P().anonymisation.description, "no longer be associated with you"));
  EXPECT_TRUE(Contains(P().anonymisation.description, "without further notice"));
  // "may ... in some circumstances": no retention rule anonymises on a timer.
  for (const RetentionRule& r : P().retention) {
    EXPECT_NE(r.action, RetentionAction::kAnonymise) << r.id;
  }
}

// The seed says nothing about breaches, processors' roles, third-party apps or automated
// decisions: nothing is promised about them.
TEST_F(SeedPolicyProgressTogether, NothingPromisedWhereTheSeedIsSilent) {
  EXPECT_FALSE(P().breach.present);
  EXPECT_FALSE(P().third_party_apps.present);
  EXPECT_FALSE(P().notice.not_for_children);
  for (const Purpose& p : P().purposes) {
    EXPECT_FALSE(p.automated_decision.present) << p.key;
    EXPECT_FALSE(p.profiling) << p.key;
  }
}

}  // namespace
}  // namespace custos::policy
