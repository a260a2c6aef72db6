// The Pluggin (Social Emotional Developments Limited) privacy policy, seed
// 004_f81c814f3e677000.txt, as encoded in policies/pluggin.yaml: each test checks that the
// loaded policy holds one promise of the notice. The promise-to-field map is
// docs/coverage/pluggin.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "policy/loader.h"

namespace custos::policy {
namespace {

const Policy& Pluggin() {
  static const Policy* policy = [] {
    auto outcome = LoadPolicy(CUSTOS_SOURCE_DIR "/policies/pluggin.yaml");
    EXPECT_TRUE(outcome.ok()) << outcome.status().ToString();
    if (!outcome.ok()) return new Policy();
    EXPECT_TRUE(outcome->ok()) << outcome->Report();
    return new Policy(std::move(outcome->policy));
  }();
  return *policy;
}

bool HasRef(const std::vector<Ref>& refs, std::string_view key) {
  return std::any_of(refs.begin(), refs.end(), [&](const Ref& ref) { return ref.key == key; });
}

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

bool Has(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

const Purpose& PurposeOrDie(std::string_view key) {
  const Purpose* purpose = Pluggin().FindPurpose(key);
  if (purpose == nullptr) {
    ADD_FAILURE() << "no purpose " << key;
    static const Purpose kEmpty;
    return kEmpty;
  }
  return *purpose;
}

const Recipient& RecipientOrDie(std::string_view key) {
  const Recipient* recipient = Pluggin().FindRecipient(key);
  if (recipient == nullptr) {
    ADD_FAILURE() << "no recipient " << key;
    static const Recipient kEmpty;
    return kEmpty;
  }
  return *recipient;
}

const RetentionRule* RuleById(std::string_view id) {
  for (const auto& rule : Pluggin().retention) {
    if (rule.id == id) return &rule;
  }
  return nullptr;
}

// Retention rules that apply to `category` about `subject` collected for `purpose`.
std::vector<const RetentionRule*> RulesFor(std::string_view category, std::string_view subject,
                                           std::string_view purpose) {
  std::vector<const RetentionRule*> found;
  for (const auto& rule : Pluggin().retention) {
    bool subject_ok = rule.subjects.empty() || HasRef(rule.subjects, subject);
    bool purpose_ok = rule.purposes.empty() || HasRef(rule.purposes, purpose);
    bool category_ok =
        std::any_of(rule.categories.begin(), rule.categories.end(),
                    [&](const Ref& ref) { return CategoryCovers(ref.key, category); });
    if (subject_ok && purpose_ok && category_ok) found.push_back(&rule);
  }
  return found;
}

void ExpectRule(const RetentionRule* rule, std::string_view after, std::string_view period,
                RetentionAction action) {
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->after.key, after) << rule->id;
  ASSERT_TRUE(rule->period.value.has_value()) << rule->id;
  EXPECT_EQ(*rule->period.value, *IsoPeriod::Parse(period)) << rule->id;
  EXPECT_EQ(rule->action, action) << rule->id;
  EXPECT_FALSE(rule->description.empty()) << rule->id;
}

// Every purpose that uses `category` (or a parent or child of it).
std::vector<const Purpose*> PurposesUsing(std::string_view category) {
  std::vector<const Purpose*> found;
  for (const auto& purpose : Pluggin().purposes) {
    for (const auto& ref : purpose.categories) {
      if (CategoryCovers(ref.key, category) || CategoryCovers(category, ref.key)) {
        found.push_back(&purpose);
        break;
      }
    }
  }
  return found;
}

const std::vector<std::string> kFuseSubProcessors = {"aws",        "baremetrics",      "bugsnag",
                                                     "cloudflare", "google_analytics", "mixpanel",
                                                     "segment",    "trackjs"};

// --- The policy as a whole -----------------------------------------------------------------

TEST(SeedPolicyPluggin, LoadsWithoutDiagnostics) {
  auto outcome = LoadPolicy(CUSTOS_SOURCE_DIR "/policies/pluggin.yaml");
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_TRUE(outcome->ok()) << outcome->Report();
  EXPECT_EQ(outcome->policy.format_version, 1);
}

// The seed carries no date or version; the policy says so rather than inventing one.
TEST(SeedPolicyPluggin, NoticeIsMarkedUndated) {
  EXPECT_EQ(Pluggin().notice.version, "undated");
  EXPECT_EQ(Pluggin().notice.title, "Pluggin Privacy Policy");
}

// "We may need to change this Privacy Policy from time to time. ... We encourage you to check
// this Privacy Policy for changes whenever you visit our website." / 4.10 "If we collect
// materially different personal data or materially change how we use your data, we will
// notify you and will also modify this Privacy Policy."
TEST(SeedPolicyPluggin, MaterialChangesAreNotifiedAndThePolicyUpdated) {
  const std::string& changes = Pluggin().notice.changes;
  EXPECT_TRUE(Contains(changes, "check it for changes whenever you visit our website"));
  EXPECT_TRUE(Contains(changes, "materially different personal data"));
  EXPECT_TRUE(Contains(changes, "we will notify you"));
}

// "Social Emotional Developments Limited, trading as Pluggin (Data Controller registration
// reference ZB617096)" / "registered in England and Wales (11392570)" / "Grosvenor House, 11 St
// Paul's Square, Birmingham. B3 1RB."
TEST(SeedPolicyPluggin, ControllerIsSocialEmotionalDevelopmentsTradingAsPluggin) {
  const Controller& c = Pluggin().controller;
  EXPECT_EQ(c.name, "Pluggin");
  EXPECT_EQ(c.legal_name, "Social Emotional Developments Limited");
  EXPECT_EQ(c.company_number, "11392570");
  EXPECT_EQ(c.registration, "ZB617096");
  EXPECT_EQ(c.role, Role::kController);
  EXPECT_EQ(c.address, "Grosvenor House, 11 St Paul's Square, Birmingham, B3 1RB");
  EXPECT_TRUE(Contains(c.represents, "social enterprise registered in England and Wales"));
}

// "please contact our Data Protection team by emailing us at data.protection@pluggin.org
// calling us on 0121 0121 828 78287 (Mon-Fri 9am-5pm), or writing to us at: The Data Protection
// Officer ..."
TEST(SeedPolicyPluggin, DataProtectionTeamAnswersQuestionsByEmailPhoneOrPost) {
  const Contact* general = Pluggin().FindContactFor("general");
  ASSERT_NE(general, nullptr);
  EXPECT_EQ(general->email, "data.protection@pluggin.org");
  EXPECT_EQ(general->phone, "0121 0121 828 78287 (Mon-Fri 9am-5pm)");
  EXPECT_TRUE(Contains(general->address, "The Data Protection Officer"));
  EXPECT_TRUE(Contains(general->address, "Grosvenor House"));
}

// "writing to us at: The Data Protection Officer, Pluggin, Grosvenor House, 11 St Paul's
// Square, Birmingham B3 1RB WC2N 6EZ"
TEST(SeedPolicyPluggin, DpoIsTheDataProtectionOfficerAtGrosvenorHouse) {
  const Person& dpo = Pluggin().dpo;
  EXPECT_TRUE(dpo.present);
  EXPECT_EQ(dpo.name, "The Data Protection Officer");
  EXPECT_EQ(dpo.email, "data.protection@pluggin.org");
  EXPECT_TRUE(Contains(dpo.address, "Grosvenor House, 11 St Paul's Square, Birmingham"));
}

// "To make a formal complaint ... or raise privacy concerns directly with our Data Protection
// team, please contact us at the email address or postal address given above."
TEST(SeedPolicyPluggin, ComplaintsGoToTheDataProtectionTeamByEmailOrPost) {
  const Contact* complaints = Pluggin().FindContactFor("complaints");
  ASSERT_NE(complaints, nullptr);
  EXPECT_EQ(complaints->email, "data.protection@pluggin.org");
  EXPECT_FALSE(complaints->address.empty());
  EXPECT_TRUE(complaints->phone.empty()) << "the seed offers e-mail or post for complaints";
}

// "You also have the right to make a complaint direct to the UK's data protection authority,
// the Information Commissioner's Office (ICO). The ICO can be contacted at:
// https://ico.org.uk/global/contact-us/"
TEST(SeedPolicyPluggin, YouMayComplainDirectToTheIco) {
  const Regulator& ico = Pluggin().regulator;
  EXPECT_EQ(ico.name, "Information Commissioner's Office");
  EXPECT_EQ(ico.website, "https://ico.org.uk/global/contact-us/");
  EXPECT_EQ(ico.country, "GB");
  EXPECT_FALSE(ico.first_contact_us);
}

// --- Section 3: the lawful basis for processing business data -----------------------------

// "Pluggin holds and processes business data on the basis of legitimate interest. This
// includes undertaking sponsorship; promoting charities & social enterprises, public bodies and
// businesses; maintaining our records, accounts, and commercial activities; and managing the
// overall running of the Pluggin ecosystem, including the monitoring and evaluation of its
// performance and effectiveness."
TEST(SeedPolicyPluggin, BusinessDataLegitimateInterestsAreTheSeedsOwn) {
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"sponsorship", "Undertaking sponsorship"},
      {"promoting_organisations", "Promoting charities & social enterprises, public bodies"},
      {"records_and_accounts", "Maintaining our records, accounts, and commercial activities"},
      {"ecosystem_management", "monitoring and evaluation of its performance and effectiveness"},
  };
  for (const auto& [key, interest] : expected) {
    const Purpose& purpose = PurposeOrDie(key);
    EXPECT_EQ(purpose.basis, LawfulBasis::kLegitimateInterests) << key;
    EXPECT_TRUE(Contains(purpose.interest, interest)) << key << ": " << purpose.interest;
  }
}

// Section 3 names three bases for business data: legitimate interest, contract and consent.
TEST(SeedPolicyPluggin, BusinessDataIsOneActivityWithThreeBases) {
  std::set<LawfulBasis> bases;
  for (const auto& purpose : Pluggin().purposes) {
    if (purpose.activity == "Processing business data") bases.insert(purpose.basis);
  }
  EXPECT_EQ(bases, (std::set<LawfulBasis>{LawfulBasis::kLegitimateInterests, LawfulBasis::kContract,
                                          LawfulBasis::kConsent}));
}

// "necessary for the performance of a contract or in order to take steps at an individual
// organisation's request prior to entering into a contract. For example, interacting with
// individual businesses before they apply to be a Business Member."
TEST(SeedPolicyPluggin, DealingsBeforeBusinessMembershipRestOnContract) {
  const Purpose& pre = PurposeOrDie("pre_contract");
  EXPECT_EQ(pre.basis, LawfulBasis::kContract);
  EXPECT_TRUE(HasRef(pre.subjects, "business_contact"));
  EXPECT_TRUE(Contains(pre.description, "Business Member"));
}

// 3 "where we have specific consent to do so, for example to support
// Members/Enablers/Beneficiaries to form networks, run events and projects, and collaborate."
// 4.4 "To create an account, data gathered includes an individual's name, email address, and a
// password."
TEST(SeedPolicyPluggin, RegisterAccountAndNetworkingRestOnConsent) {
  const Purpose& networking = PurposeOrDie("networking_collaboration");
  EXPECT_EQ(networking.basis, LawfulBasis::kConsent);
  for (const char* key : {"user.name", "user.contact.email", "user.authorization.password"}) {
    EXPECT_TRUE(HasRef(networking.categories, key)) << key;
  }
  EXPECT_TRUE(HasRef(networking.subjects, "registered_user"));
  EXPECT_TRUE(Contains(networking.description, "form networks, run events and projects"));
}

// "It also enables us to send marketing information about our projects, sponsorship
// activities where we have the consent or are otherwise allowed to."
// 7 "Objection - you have the right to object to certain processing ... such as direct
// marketing"
TEST(SeedPolicyPluggin, MarketingAboutProjectsNeedsConsentAndStopsOnObjection) {
  const Purpose& marketing = PurposeOrDie("marketing");
  EXPECT_EQ(marketing.basis, LawfulBasis::kConsent);
  EXPECT_TRUE(marketing.direct_marketing);
  EXPECT_TRUE(Has(marketing.channels, "email"));
  EXPECT_TRUE(Contains(marketing.description, "projects and sponsorship activities"));
}

// "and also to ensure we do not send unwanted information to supporters who have informed us
// they do not wish to be contacted."
TEST(SeedPolicyPluggin, RequestsNotToBeContactedAreKeptAndHonoured) {
  const Purpose& suppression = PurposeOrDie("marketing_suppression");
  EXPECT_EQ(suppression.basis, LawfulBasis::kLegitimateInterests);
  EXPECT_TRUE(Contains(suppression.interest, "do not send unwanted information to supporters"));
  EXPECT_TRUE(HasRef(suppression.categories, "user.privacy_preferences"));
  EXPECT_TRUE(HasRef(suppression.subjects, "supporter"));
}

// --- 4.1 Applying for a job to work with us ------------------------------------------------

// "Data gathered during the recruitment process is used for shortlisting and interviewing
// purposes and for equality and diversity monitoring."
TEST(SeedPolicyPluggin, RecruitmentDataIsForShortlistingInterviewsAndEqualityMonitoring) {
  const Purpose& recruitment = PurposeOrDie("recruitment");
  const Purpose& equality = PurposeOrDie("equality_monitoring");
  EXPECT_TRUE(Contains(recruitment.description, "shortlist and interview"));
  EXPECT_TRUE(HasRef(equality.categories, "user.recruitment.equality_monitoring"));
  EXPECT_EQ(equality.basis, LawfulBasis::kLegitimateInterests);
  for (const Purpose* p : {&recruitment, &equality}) {
    ASSERT_EQ(p->subjects.size(), 1u) << p->key;
    EXPECT_EQ(p->subjects.front().key, "job_applicant") << p->key;
  }
}

// 3 "We also process personal data to provide administrative and support services to our
// staff." 4.1 "The processing of employee personal data includes payroll and pension
// administration, management of absence records, performance management, and disciplinary and
// grievance procedures."
TEST(SeedPolicyPluggin, StaffAdministrationRestsOnLegitimateInterests) {
  const Purpose& staff = PurposeOrDie("staff_administration");
  EXPECT_EQ(staff.basis, LawfulBasis::kLegitimateInterests);
  EXPECT_TRUE(Contains(staff.interest, "administrative and support services to our staff"));
  ASSERT_EQ(staff.subjects.size(), 1u);
  EXPECT_EQ(staff.subjects.front().key, "staff");
  const Category* records = Pluggin().FindCategory("user.employment");
  ASSERT_NE(records, nullptr);
  for (const char* example :
       {"payroll and pension administration records", "absence records",
        "performance management records", "disciplinary and grievance records"}) {
    EXPECT_TRUE(Has(records->examples, example)) << example;
  }
}

// --- 4.2 Attending events or involvement in our projects -----------------------------------

// "We gather information on those who participate in projects or attend our events, including
// names and e-mail addresses. This enables us to record our campaigning actions and those of
// our supporters; to meet our wider legal obligations, such as those of our grant funders; to
// invite people to become involved in our work and projects."
TEST(SeedPolicyPluggin, EventDataServesRecordsGrantFunderObligationsAndInvitations) {
  const Purpose& records = PurposeOrDie("event_records");
  const Purpose& funders = PurposeOrDie("grant_funder_obligations");
  const Purpose& invitations = PurposeOrDie("event_invitations");
  EXPECT_EQ(records.basis, LawfulBasis::kLegitimateInterests);
  EXPECT_TRUE(Contains(records.interest, "record our campaigning actions"));
  EXPECT_EQ(funders.basis, LawfulBasis::kLegalObligation);
  EXPECT_TRUE(Contains(funders.obligation, "grant funders"));
  EXPECT_EQ(invitations.basis, LawfulBasis::kConsent);
  EXPECT_TRUE(invitations.direct_marketing);
  for (const Purpose* p : {&records, &funders, &invitations}) {
    EXPECT_EQ(p->activity, "Attending events or involvement in our projects") << p->key;
    EXPECT_TRUE(HasRef(p->categories, "user.name")) << p->key;
    EXPECT_TRUE(HasRef(p->categories, "user.contact.email")) << p->key;
    EXPECT_TRUE(HasRef(p->subjects, "event_participant")) << p->key;
  }
}

// --- 4.5 Research --------------------------------------------------------------------------

// "We ensure that it is in the public interest when we use personal data from people who have
// agreed to take part in research."
TEST(SeedPolicyPluggin, ResearchRestsOnThePublicInterest) {
  const Purpose& research = PurposeOrDie("research");
  EXPECT_EQ(research.basis, LawfulBasis::kPublicTask);
  EXPECT_TRUE(Contains(research.task, "public interest"));
  ASSERT_EQ(research.subjects.size(), 1u);
  EXPECT_EQ(research.subjects.front().key, "research_participant");
}

// "If you withdraw from the study, we will keep the information about you that we have
// already obtained."
TEST(SeedPolicyPluggin, WithdrawingFromAStudyKeepsWhatWasAlreadyObtained) {
  EXPECT_EQ(PurposeOrDie("research").on_withdrawal, "keep_obtained");
}

// "This may include: details about a person, such as their name, family information and work
// details; a person's thoughts or feelings; or their views or opinions ... Data is collected
// ... from individuals themselves or others."
TEST(SeedPolicyPluggin, ResearchCollectsNameFamilyWorkAndOpinionsFromYouOrOthers) {
  const Purpose& research = PurposeOrDie("research");
  for (const char* key : {"user.name", "user.family", "user.workplace", "user.opinions"}) {
    EXPECT_TRUE(HasRef(research.categories, key)) << key;
  }
  EXPECT_TRUE(HasRef(research.sources, "direct"));
  EXPECT_TRUE(HasRef(research.sources, "others"));
  const Source* others = Pluggin().FindSource("others");
  ASSERT_NE(others, nullptr);
  EXPECT_EQ(others->kind, SourceKind::kThirdParty);
}

// "Our research may include special category data such as ethnicity, political or religious
// views, genetic data and health data. ... (Article 9(2)(j) of the UK GDPR)."
TEST(SeedPolicyPluggin, ResearchSpecialCategoriesRelyOnArticle9_2j) {
  const std::vector<std::string> special = {
      "user.demographic.race_ethnicity", "user.demographic.political_opinion",
      "user.demographic.religious_belief", "user.health_and_medical",
      "user.health_and_medical.genetic"};
  for (const auto& key : special) {
    const Category* category = Pluggin().FindCategory(key);
    ASSERT_NE(category, nullptr) << key;
    EXPECT_TRUE(category->special) << key;
    EXPECT_EQ(category->condition, "archiving_research_statistics") << key;
    EXPECT_EQ(Article9Letter(category->condition), std::string_view("Article 9(2)(j)")) << key;
    // Special category data is used for research only.
    for (const Purpose* purpose : PurposesUsing(key)) {
      EXPECT_EQ(purpose->key, "research") << key;
    }
  }
}

// "Some of your rights, such as deletion of your data from the research project, may be
// limited, as we need to manage your data in specific ways in order for the research to be
// reliable and accurate."
TEST(SeedPolicyPluggin, ErasureFromResearchMayBeLimited) {
  const auto& exemptions = Pluggin().rights.exemptions;
  auto it = std::find_if(exemptions.begin(), exemptions.end(),
                         [](const Exemption& e) { return e.right == "erasure"; });
  ASSERT_NE(it, exemptions.end());
  EXPECT_EQ(it->ground, "research_article_89");
  EXPECT_TRUE(HasRef(it->purposes, "research"));
  EXPECT_TRUE(Contains(it->description, "reliable and accurate"));
}

// "We only collect personal data that is needed for research purposes ... Individuals are
// provided with an information sheet ... To safeguard your rights, we will use the minimum
// amount of personal data possible."
TEST(SeedPolicyPluggin, ResearchUsesTheMinimumDataAndGivesAnInformationSheet) {
  const Purpose& research = PurposeOrDie("research");
  EXPECT_TRUE(Contains(research.description, "minimum amount of personal data possible"));
  EXPECT_TRUE(Contains(research.description, "information sheet"));
  auto measure =
      std::find_if(Pluggin().security.begin(), Pluggin().security.end(),
                   [](const SecurityMeasure& m) { return m.key == "research_minimisation"; });
  EXPECT_NE(measure, Pluggin().security.end());
}

// --- 4.6 Website use, 4.7 device and location ----------------------------------------------

// "We use logins, cookies, device information and internet protocol ("IP") addresses to
// identify you and log your use. This helps us to understand your engagement with our content,
// and the preferences of our communities, allowing us to improve the targeting of our
// communications"
TEST(SeedPolicyPluggin, UsageIsLoggedByLoginsCookiesDeviceAndIp) {
  const Purpose& usage = PurposeOrDie("usage_logging");
  EXPECT_EQ(usage.basis, LawfulBasis::kLegitimateInterests);
  EXPECT_TRUE(Contains(usage.interest, "understand your engagement with our content"));
  for (const char* key :
       {"user.account", "user.device.cookie_id", "user.device.ip_address", "user.device.technical",
        "user.behavior.search_history", "user.behavior.engagement"}) {
    EXPECT_TRUE(std::any_of(usage.categories.begin(), usage.categories.end(), [&](const Ref& ref) {
      return CategoryCovers(ref.key, key);
    })) << key;
  }
  EXPECT_TRUE(HasRef(usage.sources, "automated"));
}

// 4.7 "we receive the URL of both the site you came from and the one you go to next. We also
// get information about your IP address, proxy server, operating system, web browser and
// add-ons, device identifier and features, and/or ISP or your mobile carrier."
TEST(SeedPolicyPluggin, DeviceAndReferrerInformationIsCollected) {
  const Category* device = Pluggin().FindCategory("user.device.technical");
  ASSERT_NE(device, nullptr);
  for (const char* example :
       {"proxy server", "operating system", "web browser and add-ons", "device features"}) {
    EXPECT_TRUE(Has(device->examples, example)) << example;
  }
  EXPECT_TRUE(HasRef(PurposeOrDie("usage_logging").categories, "user.behavior.browsing_history"));
}

// 4.7 "If you use our website from a mobile device, that device will send us data about your
// location. Most devices allow you to prevent location data from being sent to us and we
// honour your settings."
TEST(SeedPolicyPluggin, MobileLocationFollowsYourDeviceSettings) {
  const Category* location = Pluggin().FindCategory("user.location.precise");
  ASSERT_NE(location, nullptr);
  EXPECT_TRUE(Contains(location->description, "we honour your settings"));
  EXPECT_TRUE(HasRef(PurposeOrDie("usage_logging").categories, "user.location.precise"));
}

// 4.6 "We may process personal data collected through this website or other electronic
// networks used by Pluggin, for the purposes of advertising, marketing, public relations and
// general advice services."
TEST(SeedPolicyPluggin, WebsiteDataMayServeAdvertisingMarketingPrAndAdvice) {
  const Purpose& ads = PurposeOrDie("advertising_and_pr");
  EXPECT_TRUE(Contains(ads.name, "public relations and general advice services"));
  EXPECT_TRUE(ads.direct_marketing);
}

// --- 4.8 Messages ---------------------------------------------------------------------------

// "Messages are stored for up to three years"
TEST(SeedPolicyPluggin, MessagesAreDeletedAfterThreeYears) {
  ExpectRule(RuleById("messages_three_years"), "collected", "P3Y", RetentionAction::kDelete);
  ASSERT_NE(RuleById("messages_three_years"), nullptr);
  EXPECT_TRUE(
      HasRef(RuleById("messages_three_years")->categories, "user.content.private.messages"));
  // No rule keeps messages longer.
  for (const RetentionRule* rule :
       RulesFor("user.content.private.messages", "registered_user", "messaging")) {
    ASSERT_TRUE(rule->period.value.has_value());
    EXPECT_LE(rule->period.value->years, 3) << rule->id;
  }
}

// "and are accessed only if we receive a complaint or to perform an aggregated analysis of
// usage."
TEST(SeedPolicyPluggin, MessagesAreAccessedOnlyForComplaintsOrAggregatedAnalysis) {
  std::set<std::string> users;
  for (const Purpose* purpose : PurposesUsing("user.content.private.messages")) {
    users.insert(purpose->key);
  }
  // Legal disclosures may name all user content ("when required by law").
  users.erase("legal_disclosure_required");
  users.erase("protective_disclosure");
  EXPECT_EQ(users,
            (std::set<std::string>{"messaging", "message_complaints", "message_usage_analysis"}));
  EXPECT_TRUE(Contains(PurposeOrDie("messaging").description, "We do not otherwise access them"));
}

// --- 4.9 Profiling --------------------------------------------------------------------------

// "Profiling allows us to target our resources effectively, which users consistently tell us
// is a key priority for them. It enables us to generate sponsorship sooner, and more
// cost-effectively, than we otherwise would." "we may analyse geographic and other information
// relating to you, as well as your previous responses to our content."
TEST(SeedPolicyPluggin, ProfilingIsDeclaredWithTheSeedsInterest) {
  const Purpose& profiling = PurposeOrDie("profiling");
  EXPECT_TRUE(profiling.profiling);
  EXPECT_EQ(profiling.basis, LawfulBasis::kLegitimateInterests);
  EXPECT_TRUE(Contains(profiling.interest, "target our resources effectively"));
  EXPECT_TRUE(Contains(profiling.interest, "generate sponsorship sooner"));
  EXPECT_TRUE(HasRef(profiling.categories, "user.location"));
  EXPECT_TRUE(HasRef(profiling.categories, "user.behavior.engagement"));
  EXPECT_FALSE(profiling.automated_decision.present)
      << "the seed describes no solely automated decision";
}

// --- 5 How we share information -------------------------------------------------------------

// "We do not share our data with third parties unless compelled to do so or in a strictly
// controlled way to certain Service Providers working on our behalf as set out below."
TEST(SeedPolicyPluggin, NoSharingWithThirdPartiesBeyondTheNoticesExceptions) {
  for (const auto& recipient : Pluggin().recipients) {
    switch (recipient.kind) {
      case RecipientKind::kProcessor:
      case RecipientKind::kSubProcessor:
      case RecipientKind::kAuthority:
      case RecipientKind::kOtherUsers: break;
      case RecipientKind::kThirdParty:
        // 5.3 (4) "such as by sharing with companies facing similar threats"
        EXPECT_EQ(recipient.key, "companies_facing_similar_threats");
        EXPECT_FALSE(recipient.when.empty());
        break;
      default: ADD_FAILURE() << recipient.key << " is not a recipient the notice allows";
    }
  }
}

// "The profiles contained on the Social Impact Register® section of our website are shared
// with other users within the Pluggin ecosystem. If you join an ecosystem community, we share a
// user's digital profile to all."
TEST(SeedPolicyPluggin, RegisterProfilesAreSharedWithEcosystemUsers) {
  const Recipient& users = RecipientOrDie("register_users");
  EXPECT_EQ(users.kind, RecipientKind::kOtherUsers);
  EXPECT_EQ(users.visibility, "always");
  EXPECT_TRUE(HasRef(users.categories, "user.demographic.profile"));
  EXPECT_TRUE(Contains(users.description, "If you join an ecosystem community"));
  EXPECT_TRUE(HasRef(PurposeOrDie("networking_collaboration").recipients, "register_users"));
}

// 5.2 "other users of the Website, App or Services may view any content that you make public."
TEST(SeedPolicyPluggin, OtherUsersSeeOnlyContentYouMakePublic) {
  const Recipient& users = RecipientOrDie("platform_users");
  EXPECT_EQ(users.kind, RecipientKind::kOtherUsers);
  EXPECT_EQ(users.visibility, "user_settings");
  ASSERT_EQ(users.categories.size(), 1u);
  EXPECT_EQ(users.categories.front().key, "user.content.posts");
}

// 5.2 "our Customer Relationship Management System (CRM), User Experience Platform,
// single-sign-on (SSO) and mailing tools ... They will have access to your information as
// reasonably necessary to perform these tasks on our behalf and are obligated not to disclose
// or use it for other purposes."
TEST(SeedPolicyPluggin, ServiceProvidersAreProcessorsBoundNotToReuseData) {
  const Recipient& providers = RecipientOrDie("service_providers");
  EXPECT_EQ(providers.kind, RecipientKind::kProcessor);
  for (const char* tool :
       {"(CRM)", "user experience platform", "single sign-on (SSO)", "mailing tools"}) {
    EXPECT_TRUE(Contains(providers.description, tool)) << tool;
  }
  EXPECT_TRUE(Contains(providers.description, "obliged not to disclose it or use it"));
}

// "Pluggin has contracted with Fuse Universal Limited to provide a community platform ... As
// set out in Fuse's Data Processing agreement, the personal data to be transferred are:
// Account information ..., Identifiers ..., User-generated content ..., Cookies ..."
TEST(SeedPolicyPluggin, FuseIsOurProcessorForTheCommunityPlatform) {
  const Recipient& fuse = RecipientOrDie("fuse_universal");
  EXPECT_EQ(fuse.name, "Fuse Universal Limited");
  EXPECT_EQ(fuse.kind, RecipientKind::kProcessor);
  for (const char* key : {"user.name", "user.contact.email", "user.authorization.password",
                          "user.device", "user.content.posts", "user.behavior.engagement"}) {
    EXPECT_TRUE(HasRef(fuse.categories, key)) << key;
  }
  for (const char* purpose : {"networking_collaboration", "platform_enquiries", "fraud_monitoring",
                              "platform_personalisation"}) {
    EXPECT_TRUE(HasRef(PurposeOrDie(purpose).recipients, "fuse_universal")) << purpose;
  }
}

// "Share with its sub-processors (AWS, Baremetrics, Bugsnag, Cloudflare, Google Analytics,
// Mixpanel, Segment, TrackJS) for the purposes of personalising Fuse's service and data
// analytics."
TEST(SeedPolicyPluggin, FusesEightNamedSubProcessorsPersonaliseAndAnalyse) {
  const Purpose& personalisation = PurposeOrDie("platform_personalisation");
  for (const auto& key : kFuseSubProcessors) {
    const Recipient& sub = RecipientOrDie(key);
    EXPECT_EQ(sub.kind, RecipientKind::kSubProcessor) << key;
    ASSERT_TRUE(sub.processor_of.has_value()) << key;
    EXPECT_EQ(sub.processor_of->key, "fuse_universal") << key;
    EXPECT_TRUE(Contains(sub.description, "personalising Fuse's service and data analytics"))
        << key;
    EXPECT_TRUE(HasRef(personalisation.recipients, key)) << key;
  }
}

// "User-generated content (e.g. posts, comments, likes). ... Fuse does not share this
// information with any third-party provider."
TEST(SeedPolicyPluggin, FuseSharesNoUserContentWithItsProviders) {
  for (const auto& recipient : Pluggin().recipients) {
    if (recipient.kind != RecipientKind::kSubProcessor) continue;
    for (const auto& ref : recipient.categories) {
      EXPECT_FALSE(CategoryCovers("user.content.posts", ref.key) ||
                   CategoryCovers(ref.key, "user.content.posts"))
          << recipient.key << " sees " << ref.key;
    }
  }
}

// "Other than information you choose to provide to Fuse, information about your precise
// location is not collected. However, your device's IP address may help to determine an
// approximate location."
TEST(SeedPolicyPluggin, FuseCollectsNoPreciseLocation) {
  for (const char* key : {"fuse_universal", "aws", "help_scout"}) {
    for (const auto& ref : RecipientOrDie(key).categories) {
      EXPECT_FALSE(CategoryCovers(ref.key, "user.location.precise")) << key;
    }
  }
  EXPECT_TRUE(HasRef(RecipientOrDie("fuse_universal").categories, "user.location.imprecise"));
}

// "If you contact Fuse directly, e.g., by email or phone, they will record your comments and
// opinions. ... Fuse may also share this information with Help scout, the provider of Fuse's
// customer support platform, which processes customer support queries."
TEST(SeedPolicyPluggin, HelpScoutProcessesFuseSupportQueries) {
  const Recipient& help_scout = RecipientOrDie("help_scout");
  EXPECT_EQ(help_scout.kind, RecipientKind::kSubProcessor);
  ASSERT_TRUE(help_scout.processor_of.has_value());
  EXPECT_EQ(help_scout.processor_of->key, "fuse_universal");
  EXPECT_TRUE(HasRef(help_scout.categories, "user.content.private.enquiries"));
  const Purpose& enquiries = PurposeOrDie("platform_enquiries");
  EXPECT_TRUE(HasRef(enquiries.recipients, "help_scout"));
  EXPECT_TRUE(Contains(enquiries.interest, "address your questions, issues and concerns"));
}

// "Monitor and detect fraud or suspicious activity relating to your account." / "Tailor how
// the Website, App, or Services are displayed to you (such as the language ...)."
TEST(SeedPolicyPluggin, FuseUsesIdentifiersForFraudDetectionAndTailoring) {
  const Purpose& fraud = PurposeOrDie("fraud_monitoring");
  EXPECT_TRUE(Contains(fraud.interest, "detect fraud or suspicious activity"));
  EXPECT_TRUE(HasRef(fraud.categories, "user.device.ip_address"));
  EXPECT_TRUE(HasRef(fraud.categories, "user.device.device_id"));
  EXPECT_TRUE(Contains(PurposeOrDie("platform_personalisation").interest, "such as the language"));
}

// 5.3 "disclose information about you when required by law, warrant, or other legal process
// or if we have a good faith belief that disclosure is reasonably necessary to (1) ... (5)
// exercise or protect the rights and safety of Pluggin."
TEST(SeedPolicyPluggin, LegalDisclosuresAreRequiredByLawOrInGoodFaith) {
  const Purpose& required = PurposeOrDie("legal_disclosure_required");
  const Purpose& protective = PurposeOrDie("protective_disclosure");
  EXPECT_EQ(required.basis, LawfulBasis::kLegalObligation);
  EXPECT_TRUE(Contains(required.obligation, "law, warrant, or other legal process"));
  EXPECT_EQ(protective.basis, LawfulBasis::kLegitimateInterests);
  for (const char* part :
       {"(1)", "(2) enforcing our agreements", "(3)", "(4)", "(5) exercising or"}) {
    EXPECT_TRUE(Contains(protective.interest, part)) << part;
  }
  EXPECT_EQ(RecipientOrDie("law_enforcement").kind, RecipientKind::kAuthority);
  EXPECT_TRUE(HasRef(protective.recipients, "companies_facing_similar_threats"));
}

// 5.4 "We process data both inside and outside of the United Kingdom. Where we transfer data,
// we do so either within the EEA, under the 'Adequacy Regulations', 'Appropriate Safeguards'
// or under one of the exclusions permitted by the UK GDPR."
TEST(SeedPolicyPluggin, TransfersStayInTheUkAndEeaOrHaveASafeguard) {
  const Transfers& transfers = Pluggin().transfers;
  EXPECT_TRUE(HasRef(transfers.regions, "UK"));
  EXPECT_TRUE(HasRef(transfers.regions, "EEA"));
  EXPECT_EQ(transfers.outside, TransferRule::kWithSafeguard);
  EXPECT_TRUE(Contains(transfers.note, "inside and outside the United Kingdom"));
  bool any_outside = false;
  for (const auto& recipient : Pluggin().recipients) {
    for (const auto& country : recipient.countries) {
      if (RegionIncludes("UK", country.key) || RegionIncludes("EEA", country.key)) continue;
      any_outside = true;
      EXPECT_FALSE(recipient.safeguard.empty()) << recipient.key;
      EXPECT_TRUE(Contains(recipient.safeguard_note, "exclusions the UK GDPR permits"))
          << recipient.key;
    }
  }
  EXPECT_TRUE(any_outside) << "the notice says data is processed outside the UK";
}

// --- 6 Data retention -----------------------------------------------------------------------

// "If you are a member of staff, should you cease working for Pluggin we will retain your
// personal data for six years after you leave."
TEST(SeedPolicyPluggin, StaffDataIsKeptSixYearsAfterLeaving) {
  auto rules = RulesFor("user.employment", "staff", "staff_administration");
  ASSERT_EQ(rules.size(), 1u);
  ExpectRule(rules.front(), "employment_ended", "P6Y", RetentionAction::kDelete);
  ASSERT_NE(Pluggin().FindEvent("employment_ended"), nullptr);
  // No other rule shortens staff records.
  for (const auto& rule : Pluggin().retention) {
    if (rule.id == "staff_six_years") continue;
    EXPECT_FALSE(HasRef(rule.subjects, "staff")) << rule.id;
  }
}

// "We retain the data you provide as needed to carry out our work. We keep data for three
// years. All other data is deleted."
TEST(SeedPolicyPluggin, OtherDataIsKeptThreeYearsThenDeleted) {
  const RetentionRule* general = RuleById("general_three_years");
  ExpectRule(general, "collected", "P3Y", RetentionAction::kDelete);
  for (const char* purpose : {"networking_collaboration", "marketing", "recruitment",
                              "event_records", "usage_logging", "profiling", "research"}) {
    const Purpose& p = PurposeOrDie(purpose);
    for (const auto& subject : Pluggin().SubjectsOrAll(p.subjects)) {
      auto rules = RulesFor(p.categories.front().key, subject, purpose);
      EXPECT_TRUE(std::find(rules.begin(), rules.end(), general) != rules.end())
          << purpose << " / " << subject;
    }
  }
  EXPECT_FALSE(HasRef(general->subjects, "staff"));
}

// "We retain data even after a user or organisation has ceased their use to comply with legal
// obligations (including law enforcement requests), meet our regulatory and financial
// requirements, resolve disputes, maintain security, prevent fraud and abuse, or fulfil your
// request to "unsubscribe" from further messages from us."
TEST(SeedPolicyPluggin, SomeDataIsKeptAfterUseEndsForLegalSecurityAndUnsubscribeReasons) {
  const RetentionRule* after = RuleById("retained_after_use");
  ExpectRule(after, "use_ceased", "P1Y", RetentionAction::kReview);
  for (const char* purpose :
       {"records_and_accounts", "grant_funder_obligations", "marketing_suppression",
        "fraud_monitoring", "legal_disclosure_required", "protective_disclosure"}) {
    EXPECT_TRUE(HasRef(after->purposes, purpose)) << purpose;
    EXPECT_FALSE(HasRef(RuleById("general_three_years")->purposes, purpose)) << purpose;
  }
  for (const char* reason : {"law enforcement requests", "regulatory and financial",
                             "resolve disputes", "prevent fraud and abuse", "unsubscribe"}) {
    EXPECT_TRUE(Contains(after->description, reason)) << reason;
  }
  ASSERT_NE(Pluggin().FindEvent("use_ceased"), nullptr);
}

// 4.5 "only keep the information in a way that enables individuals to be identified, for as
// long as is necessary."
TEST(SeedPolicyPluggin, ResearchDataIdentifiesYouOnlyAsLongAsNecessary) {
  const RetentionRule* rule = RuleById("research_identifiable");
  ExpectRule(rule, "collected", "P1Y", RetentionAction::kReview);
  EXPECT_TRUE(HasRef(rule->purposes, "research"));
  EXPECT_TRUE(Contains(rule->description, "as long as is necessary"));
}

// --- 7 Your rights --------------------------------------------------------------------------

// "You have a number of rights under data protection legislation: Information ... Access ...
// Rectification ... Erasure ... Restriction ... Data portability ... Objection ... Decision
// making ... Withdrawal of consent"
TEST(SeedPolicyPluggin, EveryRightTheNoticeListsIsAvailable) {
  const auto& available = Pluggin().rights.available;
  for (const char* right :
       {"informed", "access", "rectification", "erasure", "restriction", "portability", "objection",
        "automated_decision_review", "withdraw_consent", "marketing_opt_out"}) {
    EXPECT_TRUE(Has(available, right)) << right;
  }
}

// The seed states no response period, fee or identity check: the statutory month is encoded
// and nothing else is promised.
TEST(SeedPolicyPluggin, RequestsAreAnsweredWithinTheStatutoryMonthAndNothingMoreIsPromised) {
  const Rights& rights = Pluggin().rights;
  ASSERT_TRUE(rights.response_period.value.has_value());
  EXPECT_EQ(*rights.response_period.value, *IsoPeriod::Parse("P1M"));
  EXPECT_FALSE(rights.extension_max.has_value());
  EXPECT_FALSE(rights.identity_verification_required);
  EXPECT_FALSE(rights.refuse_if_unfounded_or_excessive);
}

// "Pluggin registered address is Grosvenor House, 11 St Paul's Square, Birmingham": England's
// bank holidays move a response deadline.
TEST(SeedPolicyPluggin, DeadlinesSkipEnglandAndWalesBankHolidays) {
  EXPECT_EQ(Pluggin().rights.bank_holidays, "england_and_wales");
}

// "Withdrawal of consent - where your consent is the legal basis for our processing, you have
// the right to withdraw your consent."
TEST(SeedPolicyPluggin, ConsentPurposesStopOnWithdrawal) {
  for (const auto& purpose : Pluggin().purposes) {
    if (purpose.basis != LawfulBasis::kConsent) continue;
    EXPECT_EQ(purpose.on_withdrawal, "stop") << purpose.key;
  }
}

// --- 8 Cookies, security, breach ----------------------------------------------------------

// 8.1 "Cookies are files placed on your computer to collect standard internet log information
// and visitor-behaviour information. This helps us to understand visitor behaviour, to
// remember your preferences and improve user experience."
TEST(SeedPolicyPluggin, CookiesCollectLogAndBehaviourInformationAndRememberPreferences) {
  std::set<std::string> keys;
  for (const auto& cookie : Pluggin().cookies) keys.insert(cookie.key);
  EXPECT_TRUE(keys.count("visitor_behaviour"));
  EXPECT_TRUE(keys.count("preferences"));
  for (const auto& cookie : Pluggin().cookies) {
    EXPECT_TRUE(cookie.consent_required) << cookie.key << " is not strictly necessary";
  }
}

// 5.2 Cookies: "The above information is shared with Fuse's sub-processors (AWS, Baremetrics,
// Bugsnag, Cloudflare, Google Analytics, Mixpanel, Segment, TrackJS)"
TEST(SeedPolicyPluggin, CommunityPlatformCookiesAreSharedWithFusesSubProcessors) {
  auto it = std::find_if(Pluggin().cookies.begin(), Pluggin().cookies.end(),
                         [](const CookieCategory& c) { return c.key == "community_platform"; });
  ASSERT_NE(it, Pluggin().cookies.end());
  for (const char* name : {"Fuse Universal Limited", "AWS", "Baremetrics", "Bugsnag", "Cloudflare",
                           "Google Analytics", "Mixpanel", "Segment", "TrackJS"}) {
    EXPECT_TRUE(Has(it->third_parties, name)) << name;
  }
}

// 8.2 "We implement security safeguards designed to protect your data and regularly monitor
// our systems for possible vulnerabilities and attacks."
TEST(SeedPolicyPluggin, SecuritySafeguardsAndRegularMonitoring) {
  std::set<std::string> keys;
  for (const auto& measure : Pluggin().security) keys.insert(measure.key);
  EXPECT_TRUE(keys.count("safeguards"));
  EXPECT_TRUE(keys.count("monitoring"));
}

// 9 "The Data Protection Policy includes the process to be followed should a data breach
// occur."
TEST(SeedPolicyPluggin, BreachProcessIsInTheDataProtectionPolicy) {
  const BreachProcess& breach = Pluggin().breach;
  EXPECT_TRUE(breach.present);
  EXPECT_TRUE(Contains(breach.description, "Data Protection Policy"));
  EXPECT_FALSE(breach.notify_regulator_within.has_value()) << "the seed states no deadline";
}

}  // namespace
}  // namespace custos::policy
