// The decision table: every reason decide() can give, each with the seed sentence it keeps.
// Policy: tests/fixtures/policy/valid/decisions.yaml (WIG's promises in miniature).
#include "engine/decide.h"

#include <gtest/gtest.h>

#include <functional>

#include "policy/loader.h"

namespace custos::engine {
namespace {

const std::string kPolicyFile =
    std::string(CUSTOS_SOURCE_DIR) + "/tests/fixtures/policy/valid/decisions.yaml";

Timestamp T(const char* text) { return *Timestamp::Parse(text); }

struct Row {
  const char* name;
  const char* seed;  // the promise this row keeps
  std::function<void(SubjectState&)> setup;
  const char* purpose;
  std::vector<std::string> categories;
  const char* at;
  bool allow;
  std::vector<ErrorCode> reasons;
  const char* channel = "";
};

SubjectState Member() {
  SubjectState state;
  state.subject_id = "s1";
  state.types = {"member"};
  state.events["subject_created"] = {T("2020-01-01")};
  return state;
}

void GiveConsent(SubjectState& s, const char* purpose, const char* at) {
  s.consent[purpose].push_back({T(at), true});
}
void WithdrawConsent(SubjectState& s, const char* purpose, const char* at) {
  s.consent[purpose].push_back({T(at), false});
}

class DecisionTable : public ::testing::TestWithParam<Row> {
 protected:
  static void SetUpTestSuite() {
    auto loaded = policy::LoadValidPolicy(kPolicyFile);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    policy_ = new policy::Policy(std::move(*loaded));
  }
  static void TearDownTestSuite() { delete policy_; }
  static policy::Policy* policy_;
};
policy::Policy* DecisionTable::policy_ = nullptr;

TEST_P(DecisionTable, Decides) {
  const Row& row = GetParam();
  SubjectState state = Member();
  if (row.setup) row.setup(state);
  DecisionRequest request{"s1", row.purpose, row.categories, row.channel, T(row.at), "test"};
  Decision decision = Decide(*policy_, &state, request);
  EXPECT_EQ(decision.allow, row.allow) << row.seed;
  std::vector<ErrorCode> codes;
  for (const auto& reason : decision.reasons) codes.push_back(reason.code);
  EXPECT_EQ(codes, row.reasons) << row.seed;
}

const Row kRows[] = {
    {"ConsentGivenAllows",
     "WIG 002: \"We rely on consent to process information given to us for specific purposes "
     "including event bookings\"",
     [](SubjectState& s) { GiveConsent(s, "event_booking", "2021-01-01"); },
     "event_booking",
     {"user.name", "user.contact.email"},
     "2021-06-01",
     true,
     {}},
    {"ConsentMissingDenies",
     "WIG 002: \"We rely on consent ... including event bookings\"",
     nullptr,
     "event_booking",
     {"user.name"},
     "2021-06-01",
     false,
     {ErrorCode::kConsentMissing}},
    {"ConsentWithdrawnDenies",
     "WIG 002: \"You are able to remove your consent at any time.\"",
     [](SubjectState& s) {
       GiveConsent(s, "event_booking", "2021-01-01");
       WithdrawConsent(s, "event_booking", "2021-03-01");
     },
     "event_booking",
     {"user.name"},
     "2021-06-01",
     false,
     {ErrorCode::kConsentWithdrawn}},
    {"ConsentWithdrawnLaterStillAllowedBefore",
     "Pluggin 004 / ProtectUK 003: withdrawal \"will not affect the lawfulness of any processing "
     "carried out before you withdraw your consent\"",
     [](SubjectState& s) {
       GiveConsent(s, "event_booking", "2021-01-01");
       WithdrawConsent(s, "event_booking", "2021-03-01");
     },
     "event_booking",
     {"user.name"},
     "2021-02-01",
     true,
     {}},
    {"LegitimateInterestsAllowWithoutConsent",
     "WIG 002: \"We also rely on legitimate interest ... to administer and maintain our "
     "organisational and membership records\"",
     nullptr,
     "membership_records",
     {"user.name", "user.job_title"},
     "2021-06-01",
     true,
     {}},
    {"ObjectionStopsLegitimateInterests",
     "WIG 002: \"You have the the right to object to the processing of your personal "
     "information\"",
     [](SubjectState& s) {
       s.objections["membership_records"].push_back({T("2021-05-01"), {}});
     },
     "membership_records",
     {"user.name"},
     "2021-06-01",
     false,
     {ErrorCode::kObjected}},
    {"ObjectionToAllLegitimateInterests",
     "ProtectUK 003: \"Object to processing of your personal "
     "data where we are relying on a legitimate interest\"",
     [](SubjectState& s) {
       s.objections["*"].push_back({T("2021-05-01"), {}});
     },
     "membership_records",
     {"user.name"},
     "2021-06-01",
     false,
     {ErrorCode::kObjected}},
    {"DirectMarketingStopsOnObjection",
     "ProtectUK 003: \"You also have the right to object where we are processing your personal "
     "data for direct marketing purposes.\"",
     [](SubjectState& s) {
       s.objections["direct_marketing"].push_back({T("2021-05-01"), {}});
     },
     "opportunities",
     {"user.contact.email"},
     "2021-06-01",
     false,
     {ErrorCode::kMarketingObjected}},
    {"DirectMarketingStopsWhenSuppressed",
     "ProgressTeaching 001: \"we may hold a list of the 'opt out' requests to administer your "
     "request\"",
     [](SubjectState& s) { s.suppressed = true; },
     "opportunities",
     {"user.contact.email"},
     "2021-06-01",
     false,
     {ErrorCode::kSuppressed}},
    {"ChannelOptOutStopsThatChannel",
     "ProgressTeaching 001: \"You may opt out of receiving marketing by amending your "
     "preferences.\"",
     [](SubjectState& s) { s.channel_allowed["email"] = false; },
     "opportunities",
     {"user.contact.email"},
     "2021-06-01",
     false,
     {ErrorCode::kChannelOptedOut},
     "email"},
    {"OtherChannelStillAllowed",
     "ProtectUK 003: \"You are able to select your subscription and notification preference\"",
     [](SubjectState& s) { s.channel_allowed["email"] = false; },
     "opportunities",
     {"user.contact.email"},
     "2021-06-01",
     true,
     {},
     "phone"},
    {"RestrictionStopsProcessing",
     "WIG 002: \"You have the right to ask us to restrict the processing of your personal "
     "information in certain circumstances.\"",
     [](SubjectState& s) {
       s.restrictions.push_back({1, {"user.contact"}, {T("2021-05-01"), {}}});
     },
     "membership_records",
     {"user.contact.email"},
     "2021-06-01",
     false,
     {ErrorCode::kRestricted}},
    {"RestrictionOfOtherCategoryDoesNotApply",
     "WIG 002: restriction \"in certain circumstances\" (only the restricted data)",
     [](SubjectState& s) {
       s.restrictions.push_back({1, {"user.contact"}, {T("2021-05-01"), {}}});
     },
     "membership_records",
     {"user.job_title"},
     "2021-06-01",
     true,
     {}},
    {"LiftedRestrictionNoLongerApplies",
     "WIG 002: restriction of processing (lifted)",
     [](SubjectState& s) {
       s.restrictions.push_back({1, {}, {T("2021-05-01"), T("2021-05-20")}});
     },
     "membership_records",
     {"user.name"},
     "2021-06-01",
     true,
     {}},
    {"MemberDataUsableUntilFiveYearsAfterLapse",
     "WIG 002: \"for the following five years if your organisation does not renew membership\"",
     [](SubjectState& s) { s.events["membership_ended"] = {T("2021-03-31")}; },
     "membership_records",
     {"user.contact.email"},
     "2026-03-30",
     true,
     {}},
    {"MemberDataExpiredFiveYearsAfterLapse",
     "WIG 002: \"We will then dispose of your information by deleting your contact details\"",
     [](SubjectState& s) { s.events["membership_ended"] = {T("2021-03-31")}; },
     "membership_records",
     {"user.contact.email"},
     "2026-03-31",
     false,
     {ErrorCode::kRetentionExpired}},
    {"NonMemberLoginRestartsTheFiveYears",
     "WIG 002: \"or your account has been inactive for five years (no website login or product "
     "bookings)\"",
     [](SubjectState& s) {
       s.types = {"non_member"};
       s.events["last_activity"] = {T("2020-01-01")};
       s.events["website_login"] = {T("2023-06-01")};
     },
     "membership_records",
     {"user.contact.email"},
     "2026-01-02",
     true,
     {}},
    {"NonMemberInactiveFiveYearsExpired",
     "WIG 002: \"your account has been inactive for five years\"",
     [](SubjectState& s) {
       s.types = {"non_member"};
       s.events["last_activity"] = {T("2020-01-01")};
     },
     "membership_records",
     {"user.contact.email"},
     "2025-01-01",
     false,
     {ErrorCode::kRetentionExpired}},
    {"SpecialCategoryNeedsExplicitConsent",
     "WIG 002: \"Special category data – including health data relating to access and dietary "
     "requirements\" (Article 9(2)(a))",
     [](SubjectState& s) { s.types = {"non_member"}; },
     "programme_delivery",
     {"user.health_and_medical.access_needs"},
     "2021-06-01",
     false,
     {ErrorCode::kSpecialConditionNotMet}},
    {"SpecialCategoryUnderContractWithExplicitConsentAllowed",
     "WIG 002: access requirements \"where service delivery is in-person\" with explicit consent",
     [](SubjectState& s) { GiveConsent(s, "programme_delivery", "2021-01-01"); },
     "programme_delivery",
     {"user.health_and_medical.access_needs"},
     "2021-06-01",
     true,
     {}},
    {"SpecialCategoryWithExplicitConsentAllowed",
     "WIG 002: \"including dietary and access requirements so we can host delegates "
     "appropriately\"",
     [](SubjectState& s) { GiveConsent(s, "event_booking", "2021-01-01"); },
     "event_booking",
     {"user.health_and_medical.access_needs"},
     "2021-06-01",
     true,
     {}},
    {"SpecialCategoryDeletedWhenMembershipEnds",
     "WIG 002: \"We keep special category personal data ... for the period of time that you are "
     "a member of WIG\"",
     [](SubjectState& s) {
       GiveConsent(s, "event_booking", "2021-01-01");
       s.events["membership_ended"] = {T("2021-03-31")};
     },
     "event_booking",
     {"user.health_and_medical.access_needs"},
     "2021-04-01",
     false,
     {ErrorCode::kRetentionExpired}},
    {"CategoryOutsideThePurposeDenied",
     "Pluggin 004 / DESIGN: a purpose covers only the categories its notice names",
     [](SubjectState& s) { GiveConsent(s, "event_booking", "2021-01-01"); },
     "event_booking",
     {"user.job_title"},
     "2021-06-01",
     false,
     {ErrorCode::kCategoryNotInPurpose}},
    {"SubjectTypeOutsideThePurposeDenied",
     "Pluggin 004: staff data is processed for employment, not for member services",
     nullptr,
     "payroll",
     {"user.name"},
     "2021-06-01",
     false,
     {ErrorCode::kSubjectTypeNotInPurpose}},
    {"ContractBasisAllows",
     "Pluggin 004: \"necessary for the performance of a contract\"",
     [](SubjectState& s) { s.types = {"staff"}; },
     "payroll",
     {"user.name"},
     "2021-06-01",
     true,
     {}},
    {"ReviewRulesDoNotExpireData",
     "Pluggin 004: staff records kept six years, then reviewed (a DPO task, not a deny)",
     [](SubjectState& s) {
       s.types = {"staff"};
       s.last_collected["user.name"] = T("2010-01-01");
     },
     "payroll",
     {"user.name"},
     "2021-06-01",
     true,
     {}},
    {"UnknownPurposeDenied",
     "DESIGN: deny by default",
     nullptr,
     "profiling_for_fun",
     {"user.name"},
     "2021-06-01",
     false,
     {ErrorCode::kPurposeUnknown}},
    {"ErasedSubjectDenied",
     "WIG 002: \"Your right to erasure\"",
     [](SubjectState& s) { s.erased = true; },
     "membership_records",
     {"user.name"},
     "2021-06-01",
     false,
     {ErrorCode::kSubjectErased}},
};

INSTANTIATE_TEST_SUITE_P(Seeds, DecisionTable, ::testing::ValuesIn(kRows),
                         [](const auto& info) { return std::string(info.param.name); });

// A purpose that changed needs fresh consent where the policy says so (`consent_since`):
// consent given before that date no longer counts, and the decision says why; consent given
// again afterwards allows it. UK GDPR Article 7(1): the controller shows that the person
// consented to the processing as it now is.
TEST(Decide, ConsentGivenBeforeThePurposeChangedIsStale) {
  auto policy = policy::LoadValidPolicy(kPolicyFile);
  ASSERT_TRUE(policy.ok());
  policy::Purpose* purpose = nullptr;
  for (auto& p : policy->purposes) {
    if (p.key == "event_booking") purpose = &p;
  }
  ASSERT_NE(purpose, nullptr);
  purpose->consent_since = CivilDate::Parse("2021-03-01");
  SubjectState state = Member();
  GiveConsent(state, "event_booking", "2021-01-01");
  DecisionRequest request{"s1", "event_booking", {"user.name"}, "", T("2021-06-01"), "test"};
  Decision stale = Decide(*policy, &state, request);
  EXPECT_FALSE(stale.allow);
  ASSERT_EQ(stale.reasons.size(), 1u);
  EXPECT_EQ(stale.reasons[0].code, ErrorCode::kConsentStale);
  EXPECT_NE(stale.reasons[0].detail.find("from 2021-03-01"), std::string::npos)
      << stale.reasons[0].detail;
  GiveConsent(state, "event_booking", "2021-04-01");
  EXPECT_TRUE(Decide(*policy, &state, request).allow);
}

TEST(Decide, UnknownSubjectDenied) {
  auto policy = policy::LoadValidPolicy(kPolicyFile);
  ASSERT_TRUE(policy.ok());
  DecisionRequest request{"nobody", "membership_records", {"user.name"}, "", T("2021-01-01"), ""};
  Decision decision = Decide(*policy, nullptr, request);
  EXPECT_FALSE(decision.allow);
  EXPECT_TRUE(decision.Has(ErrorCode::kUnknownSubject));
}

TEST(Decide, ReportsEveryReasonNotOnlyTheFirst) {
  auto policy = policy::LoadValidPolicy(kPolicyFile);
  ASSERT_TRUE(policy.ok());
  SubjectState state = Member();
  state.restrictions.push_back({1, {}, {T("2021-01-01"), {}}});
  DecisionRequest request{"s1", "event_booking", {"user.name"}, "", T("2021-06-01"), ""};
  Decision decision = Decide(*policy, &state, request);
  EXPECT_TRUE(decision.Has(ErrorCode::kConsentMissing));
  EXPECT_TRUE(decision.Has(ErrorCode::kRestricted));
}

}  // namespace
}  // namespace custos::engine
