// The Whitehall & Industry Group (WIG) notice, seed 002_4d78ac5d7017d3c4.txt, as encoded in
// policies/wig.yaml: each test checks that the loaded policy holds one promise of the notice.
// The promise-to-field map is docs/coverage/wig.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "policy/loader.h"

namespace custos::policy {
namespace {

const Policy& Wig() {
  static const Policy* policy = [] {
    auto outcome = LoadPolicy(CUSTOS_SOURCE_DIR "/policies/wig.yaml");
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

// Retention rules that apply to `category` about `subject` and fire after `event`.
std::vector<const RetentionRule*> RulesFor(std::string_view category, std::string_view subject,
                                           std::string_view event) {
  std::vector<const RetentionRule*> found;
  for (const auto& rule : Wig().retention) {
    bool subject_ok = rule.subjects.empty() || HasRef(rule.subjects, subject);
    bool category_ok =
        std::any_of(rule.categories.begin(), rule.categories.end(),
                    [&](const Ref& ref) { return CategoryCovers(ref.key, category); });
    if (subject_ok && category_ok && rule.after.key == event) found.push_back(&rule);
  }
  return found;
}

// Exactly one rule for (category, subject, event), with this period and action.
void ExpectRetention(std::string_view category, std::string_view subject, std::string_view event,
                     std::string_view period, RetentionAction action) {
  auto rules = RulesFor(category, subject, event);
  ASSERT_EQ(rules.size(), 1u) << category << " / " << subject << " / " << event;
  const RetentionRule& rule = *rules.front();
  ASSERT_TRUE(rule.period.value.has_value()) << rule.id;
  EXPECT_EQ(*rule.period.value, *IsoPeriod::Parse(period)) << rule.id;
  EXPECT_EQ(rule.action, action) << rule.id;
  EXPECT_FALSE(rule.description.empty()) << rule.id;
}

// Every purpose that collects `category` (or a parent of it).
std::vector<const Purpose*> PurposesUsing(std::string_view category) {
  std::vector<const Purpose*> found;
  for (const auto& purpose : Wig().purposes) {
    for (const auto& ref : purpose.categories) {
      if (CategoryCovers(ref.key, category) || CategoryCovers(category, ref.key)) {
        found.push_back(&purpose);
        break;
      }
    }
  }
  return found;
}

const std::vector<std::string> kContactCategories = {
    "user.name", "user.job_title", "user.contact.email", "user.contact.phone_number"};
const std::vector<std::string> kEngagementCategories = {
    "user.engagement.participation", "user.engagement.applications", "user.engagement.website",
    "user.engagement.browsing"};
constexpr std::string_view kSpecial = "user.health_and_medical.access_dietary";

// --- The policy as a whole -----------------------------------------------------------------

TEST(SeedPolicyWig, LoadsWithoutDiagnostics) {
  auto outcome = LoadPolicy(CUSTOS_SOURCE_DIR "/policies/wig.yaml");
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_TRUE(outcome->ok()) << outcome->Report();
  EXPECT_EQ(outcome->policy.format_version, 1);
}

// "Privacy policy draft completed: 10 February 2022"
TEST(SeedPolicyWig, NoticeIsDatedTenthFebruary2022) {
  EXPECT_EQ(Wig().notice.version, "2022-02-10");
  ASSERT_TRUE(Wig().notice.date.has_value());
  EXPECT_EQ(Wig().notice.date->ToString(), "2022-02-10");
  EXPECT_EQ(Wig().notice.title, "The Whitehall & Industry Group privacy policy");
}

// "Name: The Whitehall & Industry Group (WIG) / Address: 80 Petty France, London, SW1H 9EX /
// Phone Number: 020 7222 1166 / Website: www.wig.co.uk"
TEST(SeedPolicyWig, ControllerIsWigAtPettyFrance) {
  const Controller& wig = Wig().controller;
  EXPECT_EQ(wig.name, "The Whitehall & Industry Group (WIG)");
  EXPECT_EQ(wig.role, Role::kController);
  EXPECT_EQ(wig.address, "80 Petty France, London, SW1H 9EX");
  EXPECT_EQ(wig.phone, "020 7222 1166");
  EXPECT_EQ(wig.website, "www.wig.co.uk");
}

// "Communicate key membership information, including updates to our Terms & Conditions and
// Privacy Policy."
TEST(SeedPolicyWig, MembersAreToldOfUpdatesToThePrivacyPolicy) {
  EXPECT_TRUE(Contains(Wig().notice.changes, "privacy policy"));
  const Purpose* comms = Wig().FindPurpose("membership_communications");
  ASSERT_NE(comms, nullptr);
  EXPECT_TRUE(Contains(comms->description, "Terms & Conditions"));
  EXPECT_TRUE(Contains(comms->description, "privacy policy"));
  EXPECT_TRUE(HasRef(comms->subjects, "member"));
}

// --- What we collect -------------------------------------------------------------------------

// "Personal identifiers and contact data - including name, job title, phone numbers and email
// addresses."
TEST(SeedPolicyWig, CollectsNameJobTitlePhoneAndEmail) {
  for (const auto& category : kContactCategories) {
    EXPECT_FALSE(PurposesUsing(category).empty()) << category;
  }
}

// "Special category data - including health data relating to access and dietary requirements
// where service delivery is in-person."
TEST(SeedPolicyWig, AccessAndDietaryRequirementsAreSpecialCategoryHealthData) {
  const Category* special = Wig().FindCategory(kSpecial);
  ASSERT_NE(special, nullptr);
  EXPECT_TRUE(special->special);
  EXPECT_EQ(special->condition, "explicit_consent");
  ASSERT_TRUE(special->parent.has_value());
  EXPECT_EQ(special->parent->key, "user.health_and_medical");
  EXPECT_TRUE(Contains(special->description, "in person"));
}

// "WIG engagement data (transactional data) - including event responses; participation in WIG
// events, leadership programmes, seminars; applications for roles and other talent vacancies,
// including secondments; website engagement including resource downloads and video views;
// website browsing behaviour via website cookies."
TEST(SeedPolicyWig, EngagementDataCoversEventsApplicationsWebsiteAndBrowsing) {
  ASSERT_NE(Wig().FindCategory("user.engagement"), nullptr);
  for (const auto& key : kEngagementCategories) {
    const Category* category = Wig().FindCategory(key);
    ASSERT_NE(category, nullptr) << key;
    ASSERT_TRUE(category->parent.has_value()) << key;
    EXPECT_EQ(category->parent->key, "user.engagement") << key;
    EXPECT_FALSE(PurposesUsing(key).empty()) << key;
  }
}

// "Communication history data (transactional data) - for example history of marketing emails
// sent including tracked responses and meeting notes."
TEST(SeedPolicyWig, CollectsCommunicationHistory) {
  const Category* history = Wig().FindCategory("user.communication_history");
  ASSERT_NE(history, nullptr);
  auto has = [&](std::string_view example) {
    return std::find(history->examples.begin(), history->examples.end(), example) !=
           history->examples.end();
  };
  EXPECT_TRUE(has("marketing emails sent"));
  EXPECT_TRUE(has("tracked responses to marketing emails"));
  EXPECT_TRUE(has("meeting notes"));
  EXPECT_FALSE(PurposesUsing("user.communication_history").empty());
}

// "Areas of interest and skill set - including subject matters of interest and areas for
// personal professional development."
TEST(SeedPolicyWig, CollectsAreasOfInterestAndSkillSet) {
  const Category* interests = Wig().FindCategory("user.interests");
  ASSERT_NE(interests, nullptr);
  EXPECT_EQ(interests->name, "Areas of interest and skill set");
  EXPECT_FALSE(PurposesUsing("user.interests").empty());
}

// --- Where it comes from ---------------------------------------------------------------------

// "Most of the personal information we process is provided to us directly by you"
TEST(SeedPolicyWig, MostDataComesDirectlyFromYou) {
  const Source* direct = Wig().FindSource("direct");
  ASSERT_NE(direct, nullptr);
  EXPECT_EQ(direct->kind, SourceKind::kDirect);
  for (const char* key : {"event_bookings", "programme_applications", "vacancy_applications",
                          "mentoring", "newsletter", "enquiries", "service_evaluation"}) {
    const Purpose* purpose = Wig().FindPurpose(key);
    ASSERT_NE(purpose, nullptr) << key;
    EXPECT_TRUE(HasRef(purpose->sources, "direct")) << key;
  }
}

// "If you are part of a member organisation, your employer or colleague may give us your work
// contact details as the recommended best contact for a particular WIG offer or opportunity."
TEST(SeedPolicyWig, EmployerOrColleagueMayGiveWorkContactDetails) {
  const Source* employer = Wig().FindSource("employer_or_colleague");
  ASSERT_NE(employer, nullptr);
  EXPECT_EQ(employer->kind, SourceKind::kThirdParty);
  const Purpose* opportunities = Wig().FindPurpose("opportunities");
  ASSERT_NE(opportunities, nullptr);
  EXPECT_TRUE(HasRef(opportunities->sources, "employer_or_colleague"));
}

// "If you give consent, website cookies on wig.co.uk allow us to identify logged-in users and
// track their engagement with WIG's products and services online."
TEST(SeedPolicyWig, EngagementCookiesOnlyWithConsent) {
  const Source* cookies = Wig().FindSource("website_cookies");
  ASSERT_NE(cookies, nullptr);
  EXPECT_EQ(cookies->kind, SourceKind::kAutomated);
  const Purpose* tracking = Wig().FindPurpose("website_engagement_tracking");
  ASSERT_NE(tracking, nullptr);
  EXPECT_EQ(tracking->basis, LawfulBasis::kConsent);
  EXPECT_TRUE(HasRef(tracking->sources, "website_cookies"));
  EXPECT_TRUE(HasRef(tracking->categories, "user.engagement.browsing"));
  ASSERT_EQ(Wig().cookies.size(), 1u);
  EXPECT_TRUE(Wig().cookies.front().consent_required);
}

// --- Why we have it, and on what basis --------------------------------------------------------

// "Under the General Data Protection Regulation (GDPR), the lawful bases we rely on for
// processing this information are: Your consent ... We have a legitimate interest"
TEST(SeedPolicyWig, EveryPurposeReliesOnConsentOrLegitimateInterests) {
  for (const auto& purpose : Wig().purposes) {
    EXPECT_TRUE(purpose.basis == LawfulBasis::kConsent ||
                purpose.basis == LawfulBasis::kLegitimateInterests)
        << purpose.key;
  }
}

// "We rely on consent to process information given to us for specific purposes including event
// bookings, programme applications, vacancy applications and mentoring brokering."
TEST(SeedPolicyWig, BookingsApplicationsAndMentoringRelyOnConsent) {
  for (const char* key :
       {"event_bookings", "programme_applications", "vacancy_applications", "mentoring"}) {
    const Purpose* purpose = Wig().FindPurpose(key);
    ASSERT_NE(purpose, nullptr) << key;
    EXPECT_EQ(purpose->basis, LawfulBasis::kConsent) << key;
  }
}

// "Process event bookings and programme applications, including dietary and access requirements
// so we can host delegates appropriately."
TEST(SeedPolicyWig, EventsAndProgrammesUseAccessAndDietaryRequirements) {
  for (const char* key : {"event_bookings", "programme_applications"}) {
    const Purpose* purpose = Wig().FindPurpose(key);
    ASSERT_NE(purpose, nullptr) << key;
    EXPECT_TRUE(HasRef(purpose->categories, kSpecial)) << key;
  }
  // Special category data is used nowhere else but mentoring ("for example a leadership
  // programme or mentoring arrangement").
  for (const Purpose* purpose : PurposesUsing(kSpecial)) {
    EXPECT_EQ(purpose->basis, LawfulBasis::kConsent) << purpose->key;
    EXPECT_TRUE(purpose->key == "event_bookings" || purpose->key == "programme_applications" ||
                purpose->key == "mentoring")
        << purpose->key;
  }
}

// "Process applications to role vacancies and placements."
TEST(SeedPolicyWig, VacancyApplicationsAreProcessed) {
  const Purpose* vacancies = Wig().FindPurpose("vacancy_applications");
  ASSERT_NE(vacancies, nullptr);
  EXPECT_TRUE(HasRef(vacancies->categories, "user.engagement.applications"));
  EXPECT_TRUE(HasRef(vacancies->recipients, "prospective_employers"));
}

// "Understand requirements for set-up of a mentoring partnership." / "Sign up to our Mentor
// Match platform (run by a third party provider -PushFar)."
TEST(SeedPolicyWig, MentorMatchIsRunByPushFarAsOurProcessor) {
  const Purpose* mentoring = Wig().FindPurpose("mentoring");
  ASSERT_NE(mentoring, nullptr);
  EXPECT_TRUE(HasRef(mentoring->recipients, "pushfar"));
  EXPECT_TRUE(HasRef(mentoring->recipients, "mentoring_partners"));
  const Recipient* pushfar = Wig().FindRecipient("pushfar");
  ASSERT_NE(pushfar, nullptr);
  EXPECT_EQ(pushfar->name, "PushFar");
  EXPECT_EQ(pushfar->kind, RecipientKind::kProcessor);
}

// "Sign up to our regular eNewsletter via the website."
TEST(SeedPolicyWig, NewsletterIsSentOnlyAfterSignUp) {
  const Purpose* newsletter = Wig().FindPurpose("newsletter");
  ASSERT_NE(newsletter, nullptr);
  EXPECT_EQ(newsletter->basis, LawfulBasis::kConsent);
  EXPECT_TRUE(newsletter->direct_marketing);
  EXPECT_EQ(newsletter->channels, std::vector<std::string>{"email"});
}

// "Completion of a Contact Us form via the website, or a direct enquiry to WIG via phone or
// email." / "Service evaluation: to gain feedback on your experience of a WIG product or
// service."
TEST(SeedPolicyWig, EnquiriesAndServiceEvaluationAreDeclared) {
  const Purpose* enquiries = Wig().FindPurpose("enquiries");
  ASSERT_NE(enquiries, nullptr);
  EXPECT_TRUE(HasRef(enquiries->categories, "user.communication_history"));
  const Purpose* evaluation = Wig().FindPurpose("service_evaluation");
  ASSERT_NE(evaluation, nullptr);
  EXPECT_TRUE(HasRef(evaluation->categories, "user.engagement.feedback"));
}

// "We rely on legitimate interest for processing personal data to contact you about relevant
// opportunities based on your role, interests and past engagement with WIG."
TEST(SeedPolicyWig, OpportunitiesRelyOnLegitimateInterestInRoleInterestsAndEngagement) {
  const Purpose* opportunities = Wig().FindPurpose("opportunities");
  ASSERT_NE(opportunities, nullptr);
  EXPECT_EQ(opportunities->basis, LawfulBasis::kLegitimateInterests);
  EXPECT_TRUE(Contains(opportunities->interest,
                       "relevant opportunities based on your role, interests and past "
                       "engagement with WIG"))
      << opportunities->interest;
  EXPECT_TRUE(opportunities->direct_marketing);
  EXPECT_TRUE(opportunities->profiling);
  EXPECT_EQ(opportunities->channels, std::vector<std::string>{"email"});
  EXPECT_TRUE(HasRef(opportunities->categories, "user.interests"));
  EXPECT_TRUE(HasRef(opportunities->categories, "user.engagement"));
  EXPECT_TRUE(HasRef(opportunities->categories, "user.job_title"));
}

// "We also rely on legitimate interest as our lawful basis to administer and maintain our
// organisational and membership records, including tracking membership use."
TEST(SeedPolicyWig, MembershipRecordsRelyOnLegitimateInterestIncludingTrackingUse) {
  const Purpose* records = Wig().FindPurpose("membership_records");
  ASSERT_NE(records, nullptr);
  EXPECT_EQ(records->basis, LawfulBasis::kLegitimateInterests);
  EXPECT_TRUE(Contains(records->interest, "organisational and membership records"));
  EXPECT_TRUE(Contains(records->interest, "tracking membership use"));
}

// "Process whether you are part of a member organisation and therefore whether you are eligible
// to access member-only services and resources online."
TEST(SeedPolicyWig, MemberEligibilityIsChecked) {
  const Purpose* eligibility = Wig().FindPurpose("membership_eligibility");
  ASSERT_NE(eligibility, nullptr);
  EXPECT_TRUE(HasRef(eligibility->categories, "user.contact"));
  EXPECT_NE(Wig().FindCategory("user.contact.organization"), nullptr);
}

// Each legitimate-interests purpose states the interest (UK GDPR Art. 13(1)(d)).
TEST(SeedPolicyWig, EveryLegitimateInterestsPurposeStatesItsInterest) {
  int count = 0;
  for (const auto& purpose : Wig().purposes) {
    if (purpose.basis != LawfulBasis::kLegitimateInterests) continue;
    ++count;
    EXPECT_FALSE(purpose.interest.empty()) << purpose.key;
  }
  EXPECT_EQ(count, 4);
}

// --- Who we share it with -----------------------------------------------------------------------

// "We may share this information with third parties where the information is necessary to
// deliver the service as required e.g. event venues, programme facilitators, prospective
// employers and mentoring partners."
TEST(SeedPolicyWig, SharesWithThirdPartiesOnlyWhereNecessaryForTheService) {
  for (const char* key :
       {"event_venues", "programme_facilitators", "prospective_employers", "mentoring_partners"}) {
    const Recipient* recipient = Wig().FindRecipient(key);
    ASSERT_NE(recipient, nullptr) << key;
    EXPECT_EQ(recipient->kind, RecipientKind::kThirdParty) << key;
    EXPECT_TRUE(Contains(recipient->when, "necessary to deliver the service")) << key;
  }
  EXPECT_TRUE(HasRef(Wig().FindPurpose("event_bookings")->recipients, "event_venues"));
  EXPECT_TRUE(
      HasRef(Wig().FindPurpose("programme_applications")->recipients, "programme_facilitators"));
  // Legitimate-interests purposes disclose to no third party, only to our storage platforms.
  for (const auto& purpose : Wig().purposes) {
    if (purpose.basis != LawfulBasis::kLegitimateInterests) continue;
    for (const auto& ref : purpose.recipients) {
      EXPECT_EQ(ref.key, "third_party_platforms") << purpose.key;
    }
  }
}

// "Your information is securely stored in our password protected CRM (customer relationship
// management) database, on our system or on third party platforms where due data protection and
// security checks have been made."
TEST(SeedPolicyWig, StoredInPasswordProtectedCrmOrCheckedThirdPartyPlatforms) {
  const Recipient* platforms = Wig().FindRecipient("third_party_platforms");
  ASSERT_NE(platforms, nullptr);
  EXPECT_EQ(platforms->kind, RecipientKind::kProcessor);
  EXPECT_TRUE(Contains(platforms->description, "data protection"));
  auto measure = [&](std::string_view key) -> const SecurityMeasure* {
    for (const auto& m : Wig().security) {
      if (m.key == key) return &m;
    }
    return nullptr;
  };
  ASSERT_NE(measure("password_protected_crm"), nullptr);
  EXPECT_TRUE(Contains(measure("password_protected_crm")->description, "password-protected CRM"));
  ASSERT_NE(measure("third_party_platform_checks"), nullptr);
}

// The notice makes no promise about transfers outside the UK: only the UK GDPR rule applies.
TEST(SeedPolicyWig, TransfersFollowTheUkGdprDefault) {
  ASSERT_EQ(Wig().transfers.regions.size(), 1u);
  EXPECT_EQ(Wig().transfers.regions.front().key, "UK");
  EXPECT_EQ(Wig().transfers.outside, TransferRule::kWithSafeguard);
}

// --- How long we keep it: people at member organisations ----------------------------------------

// "we keep personal contact data ... for the duration of time that your organisation is a member
// of WIG, and for the following five years if your organisation does not renew membership. We
// will then dispose of your information by deleting your contact details from our CRM platform"
TEST(SeedPolicyWig, MemberContactDetailsDeletedFiveYearsAfterMembershipEnds) {
  for (const auto& category : kContactCategories) {
    ExpectRetention(category, "member", "membership_ended", "P5Y", RetentionAction::kDelete);
  }
}

// "...and member engagement data based on your transactions with WIG will be anonymised."
TEST(SeedPolicyWig, MemberEngagementAnonymisedFiveYearsAfterMembershipEnds) {
  for (const auto& category : kEngagementCategories) {
    ExpectRetention(category, "member", "membership_ended", "P5Y", RetentionAction::kAnonymise);
  }
  ExpectRetention("user.communication_history", "member", "membership_ended", "P5Y",
                  RetentionAction::kAnonymise);
  auto rules = RulesFor("user.engagement.participation", "member", "membership_ended");
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_TRUE(HasRef(rules.front()->keep, "user.engagement"));
}

// "we keep ... interest preferences ... for the following five years if your organisation does
// not renew membership. We will then dispose of your information"
TEST(SeedPolicyWig, MemberInterestPreferencesDisposedFiveYearsAfterMembershipEnds) {
  ExpectRetention("user.interests", "member", "membership_ended", "P5Y", RetentionAction::kDelete);
}

// "If you leave a member organisation, and no longer wish to hear from us, we will delete your
// contact details immediately on notification."
TEST(SeedPolicyWig, MemberContactDetailsDeletedImmediatelyOnLeaving) {
  const Event* left = Wig().FindEvent("left_member_organisation");
  ASSERT_NE(left, nullptr);
  EXPECT_TRUE(Contains(left->description, "no longer wish to hear from us"));
  for (const auto& category : kContactCategories) {
    ExpectRetention(category, "member", "left_member_organisation", "P0D",
                    RetentionAction::kDelete);
  }
}

// --- How long we keep it: people not at a member organisation -----------------------------------

// "we will keep your personal contact data, interest preferences and transactional data until
// the time that you notify us otherwise ... We will then dispose of your information by deleting
// your contact details from our CRM platform and anonymise historic engagement data."
TEST(SeedPolicyWig, NonMemberDataDisposedWhenTheyNotifyUs) {
  for (const auto& category : kContactCategories) {
    ExpectRetention(category, "non_member", "notified_us_otherwise", "P0D",
                    RetentionAction::kDelete);
  }
  for (const auto& category : kEngagementCategories) {
    ExpectRetention(category, "non_member", "notified_us_otherwise", "P0D",
                    RetentionAction::kAnonymise);
  }
  ExpectRetention("user.interests", "non_member", "notified_us_otherwise", "P0D",
                  RetentionAction::kDelete);
}

// "...or your account has been inactive for five years (no website login or product bookings).
// We will then dispose of your information by deleting your contact details from our CRM
// platform and anonymise historic engagement data."
TEST(SeedPolicyWig, NonMemberDataDisposedAfterFiveYearsInactivity) {
  for (const auto& category : kContactCategories) {
    ExpectRetention(category, "non_member", "last_activity", "P5Y", RetentionAction::kDelete);
  }
  for (const auto& category : kEngagementCategories) {
    ExpectRetention(category, "non_member", "last_activity", "P5Y", RetentionAction::kAnonymise);
  }
  ExpectRetention("user.communication_history", "non_member", "last_activity", "P5Y",
                  RetentionAction::kAnonymise);
  ExpectRetention("user.interests", "non_member", "last_activity", "P5Y", RetentionAction::kDelete);
}

// "...inactive for five years (no website login or product bookings)": every login or booking
// restarts the five years.
TEST(SeedPolicyWig, InactivityRunsFromTheLatestLoginOrBooking) {
  const Event* last = Wig().FindEvent("last_activity");
  ASSERT_NE(last, nullptr);
  ASSERT_EQ(last->resets.size(), 2u);
  EXPECT_TRUE(HasRef(last->resets, "website_login"));
  EXPECT_TRUE(HasRef(last->resets, "product_booking"));
}

// Members' data is never timed by inactivity, nor non-members' by membership.
TEST(SeedPolicyWig, MemberAndNonMemberClocksAreSeparate) {
  for (const auto& rule : Wig().retention) {
    ASSERT_EQ(rule.subjects.size(), 1u) << rule.id;
    const std::string& subject = rule.subjects.front().key;
    if (rule.after.key == "last_activity" || rule.after.key == "notified_us_otherwise" ||
        rule.after.key == "service_completed") {
      EXPECT_EQ(subject, "non_member") << rule.id;
    }
    if (rule.after.key == "membership_ended" || rule.after.key == "left_member_organisation") {
      EXPECT_EQ(subject, "member") << rule.id;
    }
  }
}

// --- How long we keep it: special category data ------------------------------------------------

// "We keep special category personal data (including health information like accessibility
// requirements) for the period of time that you are a member of WIG ... We will then dispose of
// this special category data by deleting it from our records."
TEST(SeedPolicyWig, MemberSpecialCategoryDataDeletedWhenMembershipEnds) {
  ExpectRetention(kSpecial, "member", "membership_ended", "P0D", RetentionAction::kDelete);
  ExpectRetention(kSpecial, "member", "left_member_organisation", "P0D", RetentionAction::kDelete);
}

// "...or, if you are not a member, for the duration of the service you are participating in (for
// example a leadership programme or mentoring arrangement). We will then dispose of this special
// category data by deleting it from our records."
TEST(SeedPolicyWig, NonMemberSpecialCategoryDataDeletedWhenServiceEnds) {
  ExpectRetention(kSpecial, "non_member", "service_completed", "P0D", RetentionAction::kDelete);
}

// "...deleting it from our records": special category data is never anonymised or reviewed,
// and neither it nor contact details survive anonymisation.
TEST(SeedPolicyWig, SpecialCategoryAndContactDetailsAreOnlyEverDeleted) {
  for (const auto& rule : Wig().retention) {
    for (const auto& ref : rule.keep) {
      EXPECT_TRUE(CategoryCovers("user.engagement", ref.key)) << rule.id << " keeps " << ref.key;
    }
    bool special = std::any_of(rule.categories.begin(), rule.categories.end(),
                               [](const Ref& ref) { return CategoryCovers(ref.key, kSpecial); });
    if (special) {
      EXPECT_EQ(rule.action, RetentionAction::kDelete) << rule.id;
    }
    for (const auto& category : kContactCategories) {
      bool contact = std::any_of(rule.categories.begin(), rule.categories.end(),
                                 [&](const Ref& ref) { return CategoryCovers(ref.key, category); });
      if (contact) {
        EXPECT_EQ(rule.action, RetentionAction::kDelete) << rule.id;
      }
    }
  }
}

// --- Your rights ------------------------------------------------------------------------------

// "Your right of access ... to rectification ... to erasure ... to restriction of processing ...
// to object to processing ... to data portability"
TEST(SeedPolicyWig, SixRightsAreAvailable) {
  const auto& available = Wig().rights.available;
  for (const char* right :
       {"access", "rectification", "erasure", "restriction", "objection", "portability"}) {
    EXPECT_NE(std::find(available.begin(), available.end(), right), available.end()) << right;
  }
}

// "You are able to remove your consent at any time. You can do this by contacting
// [email protected]"
TEST(SeedPolicyWig, ConsentCanBeWithdrawnAtAnyTime) {
  const auto& available = Wig().rights.available;
  EXPECT_NE(std::find(available.begin(), available.end(), "withdraw_consent"), available.end());
  const Contact* withdrawal = Wig().FindContact("consent_withdrawal");
  ASSERT_NE(withdrawal, nullptr);
  for (const auto& purpose : Wig().purposes) {
    if (purpose.basis == LawfulBasis::kConsent) {
      EXPECT_EQ(purpose.on_withdrawal, "stop") << purpose.key;
    }
  }
}

// "If you make a request, we have one month to respond to you."
TEST(SeedPolicyWig, RequestsAreAnsweredWithinOneMonth) {
  ASSERT_TRUE(Wig().rights.response_period.value.has_value());
  EXPECT_EQ(*Wig().rights.response_period.value, *IsoPeriod::Parse("P1M"));
  EXPECT_FALSE(Wig().rights.extension_max.has_value()) << "the notice promises no extension";
}

// 80 Petty France, London, SW1H 9EX: England's bank holidays move a response deadline.
TEST(SeedPolicyWig, DeadlinesSkipEnglandAndWalesBankHolidays) {
  EXPECT_EQ(Wig().rights.bank_holidays, "england_and_wales");
}

// "You are not required to pay any charge for exercising your rights."
TEST(SeedPolicyWig, NoFeeForExercisingRights) {
  EXPECT_EQ(Wig().rights.fee, "none");
  EXPECT_FALSE(Wig().rights.refuse_if_unfounded_or_excessive);
}

// "Please contact us at [email protected] or on 020 7222 1166 if you wish to make a request."
TEST(SeedPolicyWig, RightsRequestsByPhoneToWig) {
  ASSERT_TRUE(Wig().rights.contact.has_value());
  const Contact* contact = Wig().FindContact(Wig().rights.contact->key);
  ASSERT_NE(contact, nullptr);
  EXPECT_EQ(contact->purpose, "rights_requests");
  EXPECT_EQ(contact->phone, "020 7222 1166");
}

// --- How to complain ----------------------------------------------------------------------------

// "If you have any concerns about our use of your personal information, you can make a complaint
// to us at [email protected]. Alternatively, you can find our formal complaints procedure here."
TEST(SeedPolicyWig, ComplaintsCanBeMadeToWig) {
  const Contact* complaints = Wig().FindContactFor("complaints");
  ASSERT_NE(complaints, nullptr);
  EXPECT_TRUE(Contains(complaints->name, "formal complaints procedure"));
}

// "You can also complain to the ICO ... Information Commissioner's Office, Wycliffe House, Water
// Lane, Wilmslow, Cheshire, SK9 5AF / Helpline number: 0303 123 1113 / ICO website:
// https://www.ico.org.uk"
TEST(SeedPolicyWig, ComplaintsCanGoToTheIco) {
  const Regulator& ico = Wig().regulator;
  EXPECT_EQ(ico.name, "Information Commissioner's Office");
  EXPECT_EQ(ico.address, "Wycliffe House, Water Lane, Wilmslow, Cheshire, SK9 5AF");
  EXPECT_EQ(ico.phone, "0303 123 1113");
  EXPECT_EQ(ico.website, "https://www.ico.org.uk");
  EXPECT_EQ(ico.country, "GB");
  EXPECT_FALSE(ico.first_contact_us) << "the notice does not ask people to come to WIG first";
}

}  // namespace
}  // namespace custos::policy
