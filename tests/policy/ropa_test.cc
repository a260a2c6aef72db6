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
#include "policy/warnings.h"
#include "policy_text.h"

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

using policy_text::Load;
using policy_text::Replace;

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

// --- The ICO template's further columns ------------------------------------------------------

const std::vector<std::string>& Row(const std::vector<std::vector<std::string>>& rows,
                                    const std::string& purpose_key) {
  size_t key = Column(rows[0], "purpose_key");
  for (const auto& row : rows) {
    if (row[key] == purpose_key) return row;
  }
  ADD_FAILURE() << "no row for " << purpose_key;
  return rows[0];
}

TEST(RopaRecord, PolicyDetailsFillEachActivityAndAPurposesOwnDetailsWin) {
  std::string text = Replace(kPolicy, "rights:\n  available",
                             "record:\n  business_function: Membership\n  owner: Head of "
                             "Membership\n  systems: [CRM (UK), Mail platform (US)]\n"
                             "  dpia: not_required\n  retention_schedule: RS-2025\n"
                             "  review_date: 2027-01-31\nrights:\n  available");
  text = Replace(text, "    direct_marketing: true\n",
                 "    direct_marketing: true\n    record:\n      owner: Marketing lead\n"
                 "      lia: LIA-7\n      dpia: DPIA-12\n");
  text = Replace(text, "  mailer: {name: Mailer Inc, kind: processor,",
                 "  mailer: {name: Mailer Inc, kind: processor, contract: DPA signed 2024-03-01,");
  Policy policy = Load(text);
  bool well_formed = false;
  auto rows = ParseCsv(RenderRopaCsv(policy), &well_formed);
  ASSERT_TRUE(well_formed);
  const auto& header = rows[0];
  const auto& events = Row(rows, "events");
  const auto& news = Row(rows, "news");
  EXPECT_EQ(events[Column(header, "business_function")], "Membership");
  EXPECT_EQ(events[Column(header, "business_owner")], "Head of Membership");
  EXPECT_EQ(news[Column(header, "business_owner")], "Marketing lead");
  EXPECT_EQ(news[Column(header, "business_function")], "Membership");  // from the policy
  EXPECT_EQ(events[Column(header, "dpia")], "not required");
  EXPECT_EQ(news[Column(header, "dpia")], "DPIA-12");
  EXPECT_EQ(events[Column(header, "location_of_data")], "CRM (UK); Mail platform (US)");
  EXPECT_EQ(events[Column(header, "retention_schedule")], "RS-2025");
  EXPECT_EQ(events[Column(header, "review_date")], "2027-01-31");
  EXPECT_EQ(events[Column(header, "policy_version")], "3 (2025-06-01)");
  // An LIA concerns a legitimate interests purpose only.
  EXPECT_EQ(news[Column(header, "lia_reference")], "LIA-7");
  EXPECT_EQ(events[Column(header, "lia_reference")], "");
  // The processor's contract, and its sub-processor's gap.
  EXPECT_EQ(news[Column(header, "processor_contracts")],
            "Mailer Inc: DPA signed 2024-03-01; Mailer's host: not stated");
  EXPECT_EQ(events[Column(header, "processor_contracts")], "");  // no processor

  std::string json = RenderRopaJson(policy);
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  ASSERT_FALSE(doc.HasParseError());
  const auto& news_record = doc["activities"][1]["record"];
  EXPECT_STREQ(news_record["business_owner"].GetString(), "Marketing lead");
  EXPECT_STREQ(news_record["lia_reference"].GetString(), "LIA-7");
  EXPECT_FALSE(doc["activities"][0]["record"].HasMember("lia_reference"));
}

TEST(RopaRecord, WhatAppliesButIsNotStatedSaysSoAndWhatDoesNotApplyIsBlank) {
  Policy policy = Load(kPolicy);  // no record details at all
  bool well_formed = false;
  auto rows = ParseCsv(RenderRopaCsv(policy), &well_formed);
  ASSERT_TRUE(well_formed);
  const auto& header = rows[0];
  const auto& events = Row(rows, "events");
  const auto& news = Row(rows, "news");
  for (const char* column : {"business_function", "business_owner", "joint_controller", "dpia",
                             "location_of_data", "retention_schedule", "review_date"}) {
    EXPECT_EQ(events[Column(header, column)], "not stated") << column;
  }
  EXPECT_EQ(news[Column(header, "lia_reference")], "not stated");
  EXPECT_EQ(events[Column(header, "lia_reference")], "");
  // Dietary needs under explicit consent need no Schedule 1 condition; no criminal data.
  EXPECT_EQ(events[Column(header, "schedule1_condition")], "");
  EXPECT_EQ(events[Column(header, "article10_basis")], "");
  EXPECT_EQ(news[Column(header, "processor_contracts")],
            "Mailer Inc: not stated; Mailer's host: not stated");

  std::string json = RenderRopaJson(policy);
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  ASSERT_FALSE(doc.HasParseError());
  const auto& record = doc["activities"][0]["record"];
  EXPECT_TRUE(record["business_owner"].IsNull());
  EXPECT_FALSE(record.HasMember("schedule1_condition"));
  EXPECT_TRUE(RequiredRecordGaps(policy).empty());
}

TEST(RopaRecord, RightsFollowTheLawfulBasis) {
  std::string text = Replace(kPolicy, "  available: [access, erasure]",
                             "  available: [access, erasure, portability, objection, "
                             "withdraw_consent]");
  text = Replace(text, "recipients:\n  venue:",
                 "  tax:\n    name: Keeping tax records\n    basis: legal_obligation\n"
                 "    obligation: HMRC record keeping\n    categories: [user.name]\n"
                 "    subjects: [member]\n"
                 "recipients:\n  venue:");
  Policy policy = Load(text);
  std::string json = RenderRopaJson(policy);
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  ASSERT_FALSE(doc.HasParseError());
  auto keys = [&doc](size_t i) {
    std::vector<std::string> out;
    for (const auto& key : doc["activities"][i]["record"]["rights_available_keys"].GetArray()) {
      out.emplace_back(key.GetString());
    }
    return out;
  };
  EXPECT_EQ(keys(0), (std::vector<std::string>{"access", "erasure", "portability",
                                               "withdraw_consent"}));                // consent
  EXPECT_EQ(keys(1), (std::vector<std::string>{"access", "erasure", "objection"}));  // LI
  EXPECT_EQ(keys(2), (std::vector<std::string>{"access"}));  // legal obligation
}

TEST(RopaRecord, APublicTaskIsRecordedAsSuchNotAsALegalObligation) {
  std::string text = Replace(kPolicy, "recipients:\n  venue:",
                             "  safety:\n    name: Public safety work\n    basis: public_task\n"
                             "    task: protecting the public under our charter\n"
                             "    categories: [user.name]\n    subjects: [member]\n"
                             "recipients:\n  venue:");
  Policy policy = Load(text);
  bool well_formed = false;
  auto rows = ParseCsv(RenderRopaCsv(policy), &well_formed);
  ASSERT_TRUE(well_formed);
  const auto& safety = Row(rows, "safety");
  EXPECT_EQ(safety[Column(rows[0], "public_task")], "protecting the public under our charter");
  EXPECT_EQ(safety[Column(rows[0], "legal_obligation")], "");

  // The basis's words go under the basis's own field.
  LoadOutcome wrong = CheckPolicyText(
      Replace(text, "    task: protecting", "    obligation: protecting"), "inline.yaml");
  EXPECT_FALSE(wrong.ok());
  EXPECT_CONTAINS(wrong.Report(), "'task:'");
}

TEST(RopaRecord, ASpecialCategoryNeedingSchedule1IsAGapUntilItsConditionIsStated) {
  std::string text = Replace(kPolicy, "    condition: explicit_consent",
                             "    condition: substantial_public_interest");
  Policy policy = Load(text);
  auto gaps = RequiredRecordGaps(policy);
  ASSERT_EQ(gaps.size(), 2u);
  EXPECT_EQ(gaps[0].purpose, "events");
  EXPECT_EQ(gaps[0].column, "schedule1_condition");
  EXPECT_EQ(gaps[1].column, "appropriate_policy_document");

  Policy filled = Load(Replace(text, "    recipients: [venue]\n",
                               "    recipients: [venue]\n    record:\n"
                               "      schedule1_condition: Sch. 1 para 8 (equality)\n"
                               "      appropriate_policy_document: APD-2025\n"));
  EXPECT_TRUE(RequiredRecordGaps(filled).empty());
  bool well_formed = false;
  auto rows = ParseCsv(RenderRopaCsv(filled), &well_formed);
  EXPECT_EQ(Row(rows, "events")[Column(rows[0], "schedule1_condition")],
            "Sch. 1 para 8 (equality)");
}

TEST(RopaRecord, ARecipientNoPurposeNamesIsInTheActivitiesWhoseDataItReceives) {
  std::string text = Replace(kPolicy, "  hosting:",
                             "  auditors: {name: Our auditors, kind: third_party, countries: "
                             "[GB], categories: [user.name]}\n  police: {name: Police, kind: "
                             "authority, countries: [GB]}\n  hosting:");
  Policy policy = Load(text);
  bool well_formed = false;
  auto rows = ParseCsv(RenderRopaCsv(policy), &well_formed);
  ASSERT_TRUE(well_formed);
  const auto& events = Row(rows, "events")[Column(rows[0], "recipients")];
  const auto& news = Row(rows, "news")[Column(rows[0], "recipients")];
  EXPECT_CONTAINS(events, "Our auditors");                  // events uses user.name
  EXPECT_EQ(news.find("Our auditors"), std::string::npos);  // news does not
  EXPECT_CONTAINS(events, "Police");                        // names no categories: every activity
  EXPECT_CONTAINS(news, "Police");
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
    // Every recipient the policy declares is in the record.
    for (const auto& recipient : policy->recipients) {
      bool found = false;
      for (const auto& activity : doc["activities"].GetArray()) {
        for (const auto& listed : activity["recipients"].GetArray()) {
          found = found || recipient.key == listed["key"].GetString();
        }
      }
      EXPECT_TRUE(found) << recipient.key;
    }
  }
}

// Pluggin: "We ensure that it is in the public interest when we use personal data from people who
// have agreed to take part in research." Its special category data rests on Article 9(2)(j), which
// needs a DPA 2018 Schedule 1 condition; the notice names none, so `policy check` warns.
TEST(RopaSeeds, PlugginsResearchWarnsThatItsSchedule1ConditionIsNotStated) {
  auto policy = LoadValidPolicy(
      (std::filesystem::path(CUSTOS_SOURCE_DIR) / "policies/pluggin.yaml").string());
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  int found = 0;
  for (const auto& warning : PolicyWarnings(*policy)) {
    if (warning.code != ErrorCode::kRecordIncomplete) continue;
    ++found;
    EXPECT_CONTAINS(warning.message, "purpose 'research'");
    EXPECT_CONTAINS(warning.message, "Schedule 1 condition");
  }
  EXPECT_EQ(found, 1);
}

// ProtectUK's terms-breach investigation rests in part on "a task carried out in the public
// interest or in the exercise of official authority vested in us": a public task, not a legal
// obligation.
TEST(RopaSeeds, ProtectUkRecordsItsPublicTaskAsAPublicTask) {
  auto policy = LoadValidPolicy(
      (std::filesystem::path(CUSTOS_SOURCE_DIR) / "policies/protectuk.yaml").string());
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  bool well_formed = false;
  auto rows = ParseCsv(RenderRopaCsv(*policy), &well_formed);
  ASSERT_TRUE(well_formed);
  const auto& row = Row(rows, "investigate_terms_breach_public_task");
  EXPECT_CONTAINS(row[Column(rows[0], "public_task")], "official authority vested in us");
  EXPECT_EQ(row[Column(rows[0], "legal_obligation")], "");
}

}  // namespace
// Registers: a processor's contract (Article 28(3)) with the date it was signed, and the
// transfer risk assessment behind a restricted transfer under an IDTA, in the RoPA; a processor
// without a contract reference is warned about by `policy check`.
TEST(RopaRecord, ProcessorContractsWithTheirDatesAndTransferAssessmentsAreRecorded) {
  std::string text = Replace(
      kPolicy, "  mailer: {name: Mailer Inc, kind: processor,",
      "  mailer: {name: Mailer Inc, kind: processor, contract: DPA-9, contract_date: 2024-03-01,"
      " transfer_assessment: TRA-US-2024,");
  Policy policy = Load(text);
  bool well_formed = false;
  auto rows = ParseCsv(RenderRopaCsv(policy), &well_formed);
  ASSERT_TRUE(well_formed);
  const auto& header = rows[0];
  const auto& news = Row(rows, "news");
  EXPECT_EQ(news[Column(header, "processor_contracts")],
            "Mailer Inc: DPA-9 (signed 2024-03-01); Mailer's host: not stated");
  EXPECT_NE(news[Column(header, "third_country_transfers")].find(
                "; transfer risk assessment TRA-US-2024"),
            std::string::npos)
      << news[Column(header, "third_country_transfers")];
  rapidjson::Document doc;
  std::string json = RenderRopaJson(policy);
  doc.Parse(json.c_str(), json.size());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_STREQ(
      doc["activities"][1]["third_country_transfers"][0]["transfer_assessment"].GetString(),
      "TRA-US-2024");
  std::vector<std::string> warned;
  for (const auto& warning : PolicyWarnings(policy)) {
    if (warning.code == ErrorCode::kProcessorWithoutContract) warned.push_back(warning.message);
  }
  ASSERT_EQ(warned.size(), 1u);  // the host has none; the mailer's is given
  EXPECT_NE(warned[0].find("processor 'hosting'"), std::string::npos) << warned[0];

  // A date that is not one is refused at its line.
  LoadOutcome bad = CheckPolicyText(
      Replace(text, "contract_date: 2024-03-01", "contract_date: soon"), "bad.yaml");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.Report().find("contract_date 'soon' is not a calendar date"), std::string::npos)
      << bad.Report();
}

}  // namespace custos::policy
