// What changed between two versions of a policy (`custos policy diff`), and which changes are
// material or need fresh consent. UK GDPR Article 13(3): a new purpose means telling people
// first; Article 7 and Article 6(1)(a): a purpose that now rests on consent needs it given.
#include "policy/policy_diff.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fstream>
#include <sstream>

#include "policy/loader.h"
#include "policy_text.h"

namespace custos::policy {
namespace {

std::string Fixture() {
  std::ifstream in(std::string(CUSTOS_SOURCE_DIR) + "/tests/fixtures/policy/valid/minimal.yaml");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

using policy_text::Load;
using policy_text::Replace;

const PolicyChange* Find(const std::vector<PolicyChange>& changes, const std::string& kind,
                         const std::string& key) {
  for (const auto& c : changes) {
    if (c.kind == kind && c.key == key) return &c;
  }
  return nullptr;
}

TEST(PolicyDiff, TheSamePolicyHasNoChange) {
  Policy p = Load(Fixture());
  EXPECT_TRUE(DiffPolicies(p, p).empty());
  EXPECT_EQ(PolicyDiffText({}), "no change\n");
}

TEST(PolicyDiff, NamesEachChangeAndWhichAreMaterialOrNeedConsent) {
  const std::string before = Fixture();
  std::string after = Replace(before, "version: \"2026-01\"", "version: \"2026-02\"");
  // Opportunities now rest on consent; events collect the employer too; a new consent purpose.
  after = Replace(after,
                  "    basis: legitimate_interests\n"
                  "    interest: contacting members about opportunities that fit their role\n",
                  "    basis: consent\n");
  after =
      Replace(after, "categories: [user.name, user.contact.email, user.health_and_medical.dietary]",
              "categories: [user.name, user.health_and_medical.dietary, user.engagement.events]");
  after = Replace(after, "recipients:\n  venue:",
                  "  surveys:\n    name: Member surveys\n    basis: consent\n"
                  "    categories: [user.contact.email]\n    subjects: [member]\n"
                  "    sources: [direct]\nrecipients:\n  venue:");
  // Kept longer; portability no longer offered; the venue also in France.
  after = Replace(after, "after: membership_ended\n    period: P5Y\n    action: delete",
                  "after: membership_ended\n    period: P6Y\n    action: delete");
  after = Replace(after, "erasure, restriction, objection, portability]",
                  "erasure, restriction, objection]");
  after = Replace(after, "    kind: third_party\n    countries: [GB]",
                  "    kind: third_party\n    countries: [GB, FR]");
  std::vector<PolicyChange> changes = DiffPolicies(Load(before), Load(after));

  const PolicyChange* added = Find(changes, "purpose_added", "surveys");
  ASSERT_NE(added, nullptr) << PolicyDiffText(changes);
  EXPECT_TRUE(added->material);
  EXPECT_TRUE(added->needs_consent);
  const PolicyChange* basis = Find(changes, "basis_changed", "opportunities");
  ASSERT_NE(basis, nullptr);
  EXPECT_EQ(basis->before, "legitimate_interests");
  EXPECT_EQ(basis->after, "consent");
  EXPECT_TRUE(basis->needs_consent);
  const PolicyChange* more = Find(changes, "categories_added", "events");
  ASSERT_NE(more, nullptr);
  EXPECT_EQ(more->after, "user.engagement.events");
  EXPECT_TRUE(more->material);
  const PolicyChange* fewer = Find(changes, "categories_removed", "events");
  ASSERT_NE(fewer, nullptr);
  EXPECT_FALSE(fewer->material);  // less data is no new burden
  const PolicyChange* longer = Find(changes, "retention_changed", "member_data");
  ASSERT_NE(longer, nullptr);
  EXPECT_EQ(longer->before, "P5Y");
  EXPECT_EQ(longer->after, "P6Y");
  EXPECT_TRUE(longer->material);
  const PolicyChange* right = Find(changes, "right_removed", "portability");
  ASSERT_NE(right, nullptr);
  EXPECT_TRUE(right->material);
  const PolicyChange* country = Find(changes, "countries_added", "venue");
  ASSERT_NE(country, nullptr);
  EXPECT_EQ(country->after, "FR");
  ASSERT_NE(Find(changes, "notice_version", "notice"), nullptr);

  rapidjson::Document doc;
  const std::string json = PolicyDiffJson(changes);
  doc.Parse(json.c_str());
  ASSERT_TRUE(doc.IsObject()) << json;
  EXPECT_TRUE(doc["material"].GetBool());
  ASSERT_EQ(doc["needs_consent"].Size(), 2u);

  // The other way round nothing needs consent, and a shorter period is not material.
  std::vector<PolicyChange> back = DiffPolicies(Load(after), Load(before));
  for (const auto& c : back) EXPECT_FALSE(c.needs_consent) << c.kind << " " << c.key;
  const PolicyChange* shorter = Find(back, "retention_changed", "member_data");
  ASSERT_NE(shorter, nullptr);
  EXPECT_FALSE(shorter->material);
}

// Setting a purpose's consent_since asks everyone again: material, and it needs consent. A date
// that is not one, or consent_since on a purpose that does not rest on consent, is refused.
TEST(PolicyDiff, ConsentSinceRenewsConsentAndIsCheckedByTheLoader) {
  const std::string before = Fixture();
  const std::string after =
      Replace(before, "    name: Booking events\n    basis: consent\n",
              "    name: Booking events\n    basis: consent\n    consent_since: 2026-02-01\n");
  std::vector<PolicyChange> changes = DiffPolicies(Load(before), Load(after));
  const PolicyChange* renewed = Find(changes, "consent_renewed", "events");
  ASSERT_NE(renewed, nullptr) << PolicyDiffText(changes);
  EXPECT_TRUE(renewed->material);
  EXPECT_TRUE(renewed->needs_consent);
  LoadOutcome bad = CheckPolicyText(
      Replace(before, "    name: Booking events\n    basis: consent\n",
              "    name: Booking events\n    basis: consent\n    consent_since: soon\n"),
      "bad.yaml");
  EXPECT_NE(bad.Report().find("consent_since 'soon' is not a calendar date"), std::string::npos)
      << bad.Report();
  LoadOutcome not_consent =
      CheckPolicyText(Replace(before, "    basis: legitimate_interests\n",
                              "    basis: legitimate_interests\n    consent_since: 2026-02-01\n"),
                      "bad.yaml");
  EXPECT_NE(not_consent.Report().find("does not rest on consent"), std::string::npos)
      << not_consent.Report();
}

}  // namespace
}  // namespace custos::policy
