// The Article 30 record of processing (src/policy/ropa.h): CSV per RFC 4180, JSON that parses
// back with the expected fields, the processor variant, the `custos ropa` verb and every seed.
#include "policy/ropa.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "policy/loader.h"

namespace custos::policy {
namespace {

constexpr const char* kPolicy = R"yaml(
custos: 1
notice: {version: "3", date: 2025-06-01}
controller:
  name: Example Club
  legal_name: Example Club Limited
  address: 1 High Street, London
  email: privacy@example.test
dpo: {name: Dana Officer, email: dpo@example.test}
regulator: {name: Information Commissioner's Office, website: https://ico.org.uk}
subject_types:
  member: {name: Members}
  visitor: {name: Website visitors}
events:
  membership_ended: {name: Membership ended}
sources:
  direct: {kind: direct, name: You}
  employer: {kind: third_party, name: Your employer}
categories:
  user.name: {}
  user.contact.email: {name: Email address}
  user.health_and_medical.dietary:
    parent: user.health_and_medical
    name: Dietary needs
    special: true
    condition: explicit_consent
purposes:
  events:
    name: Booking events
    basis: consent
    categories: [user.name, user.contact.email, user.health_and_medical.dietary]
    subjects: [member]
    sources: [direct]
    recipients: [venue]
  news:
    name: News, offers and "tips"
    basis: legitimate_interests
    interest: |-
      keeping members informed,
      line two
    categories: [user.contact.email]
    recipients: [mailer]
    direct_marketing: true
    use: marketing.communications.email
recipients:
  venue: {name: Event venues, kind: third_party, countries: [GB]}
  mailer: {name: Mailer Inc, kind: processor, countries: [US], safeguard: idta}
  hosting: {name: Mailer's host, kind: sub_processor, processor_of: mailer, countries: [IE]}
transfers:
  regions: [UK, EEA]
retention:
  - id: member_data
    subjects: [member]
    categories: [user.name, user.contact, user.health_and_medical]
    after: membership_ended
    period: P5Y
    action: delete
  - id: visitor_email
    subjects: [visitor]
    categories: [user.contact.email]
    after: collected
    period: P2Y
    action: delete
rights:
  available: [access, erasure]
  response_period: P1M
security:
  encryption: Encrypted at rest, with keys held apart.
  access: Staff see only what their role needs.
)yaml";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "fixture text not found: " << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

Policy Load(const std::string& text) {
  LoadOutcome outcome = CheckPolicyText(text, "inline.yaml");
  EXPECT_TRUE(outcome.ok()) << outcome.Report();
  return outcome.policy;
}

// A strict RFC 4180 reader: records end in CRLF; quoted fields may hold anything.
std::vector<std::vector<std::string>> ParseCsv(const std::string& csv, bool* well_formed) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  bool was_quoted = false;
  *well_formed = true;
  for (size_t i = 0; i < csv.size(); ++i) {
    char c = csv[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < csv.size() && csv[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c == '"') {
      if (!field.empty() || was_quoted) *well_formed = false;
      quoted = true;
      was_quoted = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
      was_quoted = false;
    } else if (c == '\r' && i + 1 < csv.size() && csv[i + 1] == '\n') {
      row.push_back(field);
      rows.push_back(row);
      row.clear();
      field.clear();
      was_quoted = false;
      ++i;
    } else if (c == '\n' || c == '\r') {
      *well_formed = false;  // a bare line break outside quotes
    } else {
      if (was_quoted) *well_formed = false;
      field += c;
    }
  }
  if (quoted || !row.empty() || !field.empty()) *well_formed = false;
  return rows;
}

size_t Column(const std::vector<std::string>& header, const std::string& name) {
  auto it = std::find(header.begin(), header.end(), name);
  EXPECT_NE(it, header.end()) << "no column " << name;
  return static_cast<size_t>(it - header.begin());
}

// Number of lines in `text`.
long Lines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE((haystack).find(needle), std::string::npos) << "missing: " << (needle)

TEST(RopaCsv, HasOneRowPerPurposeWithTheArticle30Fields) {
  Policy policy = Load(kPolicy);
  bool well_formed = false;
  auto rows = ParseCsv(RenderRopaCsv(policy), &well_formed);
  EXPECT_TRUE(well_formed);
  ASSERT_EQ(rows.size(), 1 + policy.purposes.size());
  const auto& header = rows[0];
  for (const auto& row : rows) EXPECT_EQ(row.size(), header.size());

  const auto& events = rows[1];
  EXPECT_EQ(events[Column(header, "controller")], "Example Club (Example Club Limited)");
  EXPECT_EQ(events[Column(header, "controller_contact")],
            "1 High Street, London; email privacy@example.test");
  EXPECT_EQ(events[Column(header, "dpo")], "Dana Officer; email dpo@example.test");
  EXPECT_EQ(events[Column(header, "purpose_key")], "events");
  EXPECT_EQ(events[Column(header, "lawful_basis")], "Consent");
  EXPECT_EQ(events[Column(header, "lawful_basis_article")], "Article 6(1)(a)");
  EXPECT_EQ(events[Column(header, "data_subjects")], "Members");
  EXPECT_CONTAINS(events[Column(header, "personal_data")], "Email address (user.contact.email)");
  EXPECT_EQ(events[Column(header, "special_categories")],
            "Dietary needs: your explicit consent (Article 9(2)(a))");
  EXPECT_EQ(events[Column(header, "sources")], "You");
  EXPECT_EQ(events[Column(header, "recipients")], "Event venues (Third party; GB)");
  EXPECT_EQ(events[Column(header, "third_country_transfers")], "");
  EXPECT_CONTAINS(events[Column(header, "erasure_time_limits")],
                  "deleted 5 years after membership ended [member_data: P5Y after "
                  "membership_ended, delete]");
  // The visitor rule does not cover a members-only purpose.
  EXPECT_EQ(events[Column(header, "erasure_time_limits")].find("visitor_email"), std::string::npos);
  EXPECT_EQ(events[Column(header, "security_measures")],
            "Encrypted at rest, with keys held apart.; Staff see only what their role needs.");
  EXPECT_EQ(events[Column(header, "role")], "controller");

  const auto& news = rows[2];
  EXPECT_EQ(news[Column(header, "purpose")], "News, offers and \"tips\"");
  EXPECT_EQ(news[Column(header, "legitimate_interest")], "keeping members informed,\nline two");
  EXPECT_EQ(news[Column(header, "data_subjects")], "Members; Website visitors");
  EXPECT_EQ(news[Column(header, "recipients")],
            "Mailer Inc (Processor (acts on our instructions); US); Mailer's host (Sub-processor; "
            "IE)");
  EXPECT_EQ(news[Column(header, "third_country_transfers")],
            "Mailer Inc to US: the International Data Transfer Agreement (IDTA)");
  EXPECT_CONTAINS(news[Column(header, "erasure_time_limits")],
                  "visitor_email: P2Y after collected");
  EXPECT_EQ(news[Column(header, "direct_marketing")], "yes");
  EXPECT_EQ(news[Column(header, "data_use")], "marketing.communications.email");
}

TEST(RopaCsv, QuotesFieldsWithCommasQuotesAndLineBreaks) {
  std::string csv = RenderRopaCsv(Load(kPolicy));
  EXPECT_CONTAINS(csv, ",\"News, offers and \"\"tips\"\"\",");
  EXPECT_CONTAINS(csv, ",\"keeping members informed,\nline two\",");
  EXPECT_CONTAINS(csv, ",Consent,Article 6(1)(a),");  // plain fields stay unquoted
  EXPECT_EQ(csv.substr(csv.size() - 2), "\r\n");
  EXPECT_EQ(csv.rfind("record,controller,controller_contact,dpo,role,", 0), 0u);
}

TEST(RopaJson, ParsesBackWithTheExpectedFields) {
  std::string json = RenderRopaJson(Load(kPolicy));
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  ASSERT_FALSE(doc.HasParseError()) << json;
  ASSERT_TRUE(doc.IsObject());
  EXPECT_STREQ(doc["article"].GetString(), "30(1)");
  EXPECT_STREQ(doc["controller"]["name"].GetString(), "Example Club");
  EXPECT_STREQ(doc["controller"]["role"].GetString(), "controller");
  EXPECT_TRUE(doc["controller"]["phone"].IsNull());
  EXPECT_STREQ(doc["dpo"]["email"].GetString(), "dpo@example.test");
  EXPECT_FALSE(doc.HasMember("processor"));
  EXPECT_EQ(doc["security_measures"].Size(), 2u);

  const auto& activities = doc["activities"];
  ASSERT_TRUE(activities.IsArray());
  ASSERT_EQ(activities.Size(), 2u);
  const auto& events = activities[0];
  EXPECT_STREQ(events["purpose_key"].GetString(), "events");
  EXPECT_STREQ(events["lawful_basis"]["key"].GetString(), "consent");
  EXPECT_STREQ(events["lawful_basis"]["article"].GetString(), "Article 6(1)(a)");
  ASSERT_EQ(events["special_categories"].Size(), 1u);
  EXPECT_STREQ(events["special_categories"][0]["condition"].GetString(), "explicit_consent");
  EXPECT_STREQ(events["special_categories"][0]["article"].GetString(), "Article 9(2)(a)");
  ASSERT_EQ(events["erasure_time_limits"].Size(), 1u);
  EXPECT_STREQ(events["erasure_time_limits"][0]["rule"].GetString(), "member_data");
  EXPECT_STREQ(events["erasure_time_limits"][0]["period"].GetString(), "P5Y");
  EXPECT_STREQ(events["erasure_time_limits"][0]["action"].GetString(), "delete");
  EXPECT_NE(std::string(events["erasure_time_limits"][0]["words"].GetString()).find("5 years"),
            std::string::npos);

  const auto& news = activities[1];
  EXPECT_STREQ(news["purpose"].GetString(), "News, offers and \"tips\"");
  EXPECT_STREQ(news["lawful_basis"]["name"].GetString(), "Legitimate interests");
  EXPECT_STREQ(news["legitimate_interest"].GetString(), "keeping members informed,\nline two");
  EXPECT_EQ(news["data_subjects"].Size(), 2u);
  ASSERT_EQ(news["recipients"].Size(), 2u);
  EXPECT_STREQ(news["recipients"][1]["processor_of"].GetString(), "mailer");
  ASSERT_EQ(news["third_country_transfers"].Size(), 1u);
  EXPECT_STREQ(news["third_country_transfers"][0]["recipient"].GetString(), "mailer");
  EXPECT_STREQ(news["third_country_transfers"][0]["countries"][0].GetString(), "US");
  EXPECT_STREQ(news["third_country_transfers"][0]["safeguard"].GetString(), "idta");
  EXPECT_TRUE(news["direct_marketing"].GetBool());
  EXPECT_TRUE(news["automated_decision"].IsNull());
}

TEST(RopaJson, AddsTheArticle30_2FieldsForAProcessor) {
  std::string text = Replace(kPolicy, "  email: privacy@example.test\n",
                             "  email: privacy@example.test\n  role: processor\n"
                             "processor:\n  controllers: Schools that subscribe\n"
                             "  requests: forward_to_controller\n");
  Policy policy = Load(text);
  std::string json = RenderRopaJson(policy);
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_STREQ(doc["article"].GetString(), "30(2)");
  EXPECT_STREQ(doc["controller"]["role"].GetString(), "processor");
  ASSERT_TRUE(doc.HasMember("processor"));
  EXPECT_STREQ(doc["processor"]["controllers"].GetString(), "Schools that subscribe");
  EXPECT_TRUE(doc["processor"]["requests_forwarded_to_controller"].GetBool());
  EXPECT_EQ(doc["processor"]["processing_on_behalf_of_controllers"].Size(), 2u);

  bool well_formed = false;
  auto rows = ParseCsv(RenderRopaCsv(policy), &well_formed);
  ASSERT_TRUE(well_formed);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1][Column(rows[0], "role")], "processor");
  EXPECT_EQ(rows[1][Column(rows[0], "on_behalf_of_controllers")], "Schools that subscribe");
  EXPECT_CONTAINS(rows[1][Column(rows[0], "record")], "Article 30(2)");
}

TEST(RopaJson, AlwaysParsesEvenWithInvalidUtf8InThePolicy) {
  Policy policy = Load(kPolicy);
  policy.controller.name = "Bad \xff\xfe bytes \xe2\x82";
  std::string json = RenderRopaJson(policy);
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_STREQ(doc["controller"]["name"].GetString(),
               "Bad \xEF\xBF\xBD\xEF\xBF\xBD bytes \xEF\xBF\xBD\xEF\xBF\xBD");
}

// ---------------------------------------------------------------------------------------------

class RopaCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("custos_ropa_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "policy.yaml").string();
    std::ofstream(path_) << kPolicy;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  int Run(const std::vector<std::string>& args) {
    out_.str("");
    err_.str("");
    return cli::RunCli(args, out_, err_);
  }

  std::filesystem::path dir_;
  std::string path_;
  std::ostringstream out_, err_;
};

TEST_F(RopaCommand, WritesCsvByDefaultAndJsonOnRequest) {
  EXPECT_EQ(Run({"ropa", path_}), cli::kExitOk) << err_.str();
  EXPECT_EQ(out_.str().rfind("record,controller,", 0), 0u);
  EXPECT_EQ(Run({"ropa", path_, "--format", "json"}), cli::kExitOk) << err_.str();
  rapidjson::Document doc;
  doc.Parse(out_.str().c_str());
  EXPECT_FALSE(doc.HasParseError());
}

TEST_F(RopaCommand, RejectsAnUnknownFormat) {
  EXPECT_EQ(Run({"ropa", path_, "--format", "xlsx"}), cli::kExitUsage);
  EXPECT_EQ(Lines(err_.str()), 1);
  EXPECT_CONTAINS(err_.str(), "usage: custos ropa FILE [--format csv|json]");
}

TEST_F(RopaCommand, RefusesAnInvalidPolicy) {
  std::ofstream(path_) << Replace(kPolicy,
                                  "    interest: |-\n      keeping members informed,\n"
                                  "      line two\n",
                                  "");
  EXPECT_EQ(Run({"ropa", path_}), cli::kExitRefused);
  EXPECT_CONTAINS(err_.str(), "INTEREST_NOT_STATED");
}

TEST(RopaSeeds, EverySeedPolicyGivesOneActivityPerPurpose) {
  std::filesystem::path dir = std::filesystem::path(CUSTOS_SOURCE_DIR) / "policies";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no seed policies yet";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().filename().string());
    auto policy = LoadValidPolicy(entry.path().string());
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();
    std::string json = RenderRopaJson(*policy);
    rapidjson::Document doc;
    doc.Parse(json.c_str(), json.size());
    ASSERT_FALSE(doc.HasParseError());
    ASSERT_EQ(doc["activities"].Size(), policy->purposes.size());
    for (const auto& activity : doc["activities"].GetArray()) {
      // Every purpose's data has a time limit for erasure (the validator guarantees coverage).
      EXPECT_GT(activity["erasure_time_limits"].Size(), 0u) << activity["purpose_key"].GetString();
    }
    bool well_formed = false;
    auto rows = ParseCsv(RenderRopaCsv(*policy), &well_formed);
    EXPECT_TRUE(well_formed);
    EXPECT_EQ(rows.size(), policy->purposes.size() + 1);
  }
}

}  // namespace
}  // namespace custos::policy
