// The HTTPS connector (connectors/https_system.h) against a real service over TLS: the mailing
// tool of tests/connectors/mailing_service.h, on 127.0.0.1 with the test certificate. First the
// connector alone, then Pluggin's policy with its mailing tool (policies/systems/
// pluggin_mailer.yaml) through the engine: an erasure request and the retention sweep.
//
// Pluggin: "We keep data for three years. All other data is deleted." and "We retain data even
// after a user or organisation has ceased their use to ... fulfil your request to
// "unsubscribe" from further messages from us."
#include "connectors/https_system.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "../engine/engine_on_sqlite.h"
#include "connectors/system_connectors.h"
#include "mailing_service.h"
#include "policy/loader.h"

namespace custos::connectors {
namespace {

using engine::RowChange;
using engine::SystemConnector;
using engine::SystemRow;
using testing_support::MailingService;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string MailerSection() {
  return ReadFile(std::string(CUSTOS_SOURCE_DIR) + "/policies/systems/pluggin_mailer.yaml");
}

// Pluggin's policy with its mailing tool: the system the connector is opened for.
policy::System MailerSystem() {
  const std::string path = std::string(CUSTOS_SOURCE_DIR) + "/policies/pluggin.yaml";
  policy::LoadOutcome loaded =
      policy::CheckPolicyText(ReadFile(path) + "\n" + MailerSection(), path);
  EXPECT_TRUE(loaded.ok()) << loaded.Report();
  EXPECT_EQ(loaded.policy.systems.size(), 1u);
  return loaded.policy.systems.empty() ? policy::System{} : loaded.policy.systems[0];
}

class HttpsSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(service_.ok()) << "the mailing service did not start";
    service_.AddSubscriber("s1", {{"email", "ada+news@example.test"},
                                  {"name", "Ada Lovelace"},
                                  {"subscribed_on", "2022-05-01"}});
    // Found by a search for Ada's address (it contains it), but not Ada's.
    service_.AddSubscriber("s2", {{"email", "nada+news@example.test"},
                                  {"name", "Nada Other"},
                                  {"subscribed_on", "2020-01-10"}});
    service_.AddSubscriber(
        "s3",
        {{"email", "cy@example.test"}, {"name", "Cy Former"}, {"subscribed_on", "2019-03-31"}});
    service_.AddActivity(
        "a1", {{"subscriber_id", "s1"}, {"campaign", "spring"}, {"opened_at", "2026-04-02"}});
    service_.AddActivity(
        "a2", {{"subscriber_id", "s2"}, {"campaign", "spring"}, {"opened_at", "2026-04-03"}});
  }

  std::unique_ptr<SystemConnector> Open(const std::string& connection) {
    auto opened = OpenHttpsSystem(system_, connection);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return opened.ok() ? std::move(*opened) : nullptr;
  }

  MailingService service_;
  policy::System system_ = MailerSystem();
};

TEST_F(HttpsSystemTest, TheConnectionMustBeHttpsWithoutAUserAndNamesNoSecretInItsErrors) {
  for (const std::string connection :
       {"url=http://127.0.0.1:1/v1 token=s3cr3t", "url=https://ada:s3cr3t@127.0.0.1:1/v1",
        "url=https://127.0.0.1:1/v1?key=s3cr3t", "token=s3cr3t",
        "url=https://127.0.0.1:1 pw=s3cr3t", "url=not-a-url token=s3cr3t"}) {
    auto opened = OpenHttpsSystem(system_, connection);
    ASSERT_FALSE(opened.ok()) << connection;
    EXPECT_EQ(opened.status().code(), ErrorCode::kInvalidArgument) << connection;
    EXPECT_NE(opened.status().message().find("system mailer"), std::string::npos);
    EXPECT_EQ(opened.status().message().find("s3cr3t"), std::string::npos)
        << opened.status().message();
  }
}

TEST_F(HttpsSystemTest, FindKeepsOnlyExactMatchesAndFetchesTheWholeRow) {
  auto connector = Open(service_.Connection());
  ASSERT_NE(connector, nullptr);
  // The address in another case, as a person may type it; '+' must reach the service encoded.
  auto rows = connector->Select("subscribers", {"id", "email", "name", "subscribed_on"}, "email",
                                {"Ada+News@example.test"});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u) << "the search also answered nada+news@, which is not Ada's";
  EXPECT_EQ((*rows)[0], (SystemRow{"s1", "ada+news@example.test", "Ada Lovelace", "2022-05-01"}));
  // One search, then the whole row of the one match only.
  EXPECT_EQ(service_.calls(),
            (std::vector<std::string>{"GET /v1/subscribers", "GET /v1/subscribers/s1"}));

  auto nobody = connector->Select("subscribers", {"id"}, "email", {"nobody@example.test"});
  ASSERT_TRUE(nobody.ok());
  EXPECT_TRUE(nobody->empty());
  auto unknown = connector->Select("no_such_dataset", {"id"}, "email", {"x"});
  EXPECT_EQ(unknown.status().code(), ErrorCode::kNotFound);
}

TEST_F(HttpsSystemTest, ChangesUpdateAndDeleteRowsAndARetryChangesNothing) {
  auto connector = Open(service_.Connection());
  ASSERT_NE(connector, nullptr);
  std::vector<RowChange> changes{{"s1", false, {{"name", std::nullopt}, {"email", "0f0f"}}},
                                 {"s3", true, {}}};
  auto changed = connector->Apply("subscribers", "id", changes);
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_EQ(*changed, 2);
  auto subscribers = service_.subscribers();
  EXPECT_EQ(subscribers.count("s3"), 0u);
  EXPECT_EQ(subscribers["s1"]["name"], std::nullopt);
  EXPECT_EQ(subscribers["s1"]["email"], "0f0f");
  EXPECT_EQ(subscribers["s2"]["name"], "Nada Other");
  EXPECT_EQ(service_.bodies(), (std::vector<std::string>{R"({"name":null,"email":"0f0f"})"}));
  // s3 is gone (404): a retry of the same step is harmless and counts only what it changed.
  auto again = connector->Apply("subscribers", "id", {{"s3", true, {}}});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, 0);
}

TEST_F(HttpsSystemTest, ListingPassesOverRowsNotYetDueEvenWhenTheServiceListsThem) {
  auto connector = Open(service_.Connection());
  ASSERT_NE(connector, nullptr);
  // The service ignores `before`; s1 (2022) is not due before 2021-12-07 and is never handed on.
  auto page = connector->SelectBefore("subscribers", {"id", "subscribed_on"}, "subscribed_on",
                                      "2021-12-07", "id", "", 2);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(*page, (std::vector<SystemRow>{{"s2", "2020-01-10"}, {"s3", "2019-03-31"}}));
  auto rest = connector->SelectBefore("subscribers", {"id", "subscribed_on"}, "subscribed_on",
                                      "2021-12-07", "id", "s3", 2);
  ASSERT_TRUE(rest.ok());
  EXPECT_TRUE(rest->empty());
}

TEST_F(HttpsSystemTest, ColumnsAndCountComeFromTheServicesOwnRows) {
  auto connector = Open(service_.Connection());
  ASSERT_NE(connector, nullptr);
  auto columns = connector->Columns("subscribers");
  ASSERT_TRUE(columns.ok()) << columns.status().ToString();
  for (const char* column : {"id", "email", "name", "subscribed_on"}) {
    EXPECT_NE(std::find(columns->begin(), columns->end(), column), columns->end()) << column;
  }
  EXPECT_EQ(std::find(columns->begin(), columns->end(), "phone"), columns->end());
  auto count = connector->CountRows("subscribers");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(*count, 3);
  // The activity list says no total: its count is not known, and that is not an error of reach.
  EXPECT_EQ(connector->CountRows("activity").status().code(), ErrorCode::kInvalidValue);
}

TEST_F(HttpsSystemTest, AServiceThatRefusesFailsOrIsUntrustedIsUnavailableWithoutValues) {
  struct Case {
    std::string connection;
    int fail;
    std::string says;
  };
  const std::string url = "url=https://127.0.0.1:" + std::to_string(service_.port()) + "/v1";
  for (const Case& c : std::vector<Case>{
           {url + " token=wrong-token ca=" + service_.CaFile(), 0, "refused custos's credentials"},
           {url + " token=" + service_.token(), 0, "the find call failed"},  // CA not trusted
           {service_.Connection(), 503, "answered HTTP 503 to find"},
           {service_.Connection(), 429, "answered HTTP 429 to find"}}) {
    service_.Fail(c.fail);
    auto connector = Open(c.connection);
    ASSERT_NE(connector, nullptr);
    auto rows = connector->Select("subscribers", {"id"}, "email", {"ada+news@example.test"});
    ASSERT_FALSE(rows.ok()) << c.connection;
    EXPECT_EQ(rows.status().code(), ErrorCode::kUnavailable) << rows.status().ToString();
    EXPECT_NE(rows.status().message().find(c.says), std::string::npos) << rows.status().ToString();
    for (const char* secret : {"ada", "token", "mt-token"}) {
      EXPECT_EQ(rows.status().message().find(secret), std::string::npos)
          << secret << " in " << rows.status().message();
    }
  }
  service_.Fail(0);
  service_.Stop();
  auto connector = Open(service_.Connection());
  auto rows = connector->Select("subscribers", {"id"}, "email", {"ada+news@example.test"});
  EXPECT_EQ(rows.status().code(), ErrorCode::kUnavailable) << rows.status().ToString();
}

// The engine, through the policy's mailing tool: what a rights request and the retention sweep
// do there.
class MailerReachTest : public engine::EngineOnSqlite {
 protected:
  void SetUp() override {
    ASSERT_TRUE(service_.ok());
    OpenSeed("pluggin", "pluggin", *Timestamp::Parse("2026-12-07T10:00:00Z"), MailerSection());
    service_.AddSubscriber("s1", {{"email", "ada+news@example.test"},
                                  {"name", "Ada Lovelace"},
                                  {"subscribed_on", "2025-05-01"}});
    service_.AddSubscriber("s2", {{"email", "nada+news@example.test"},
                                  {"name", "Nada Other"},
                                  {"subscribed_on", "2025-01-10"}});
    service_.AddSubscriber(
        "s3",
        {{"email", "cy@example.test"}, {"name", "Cy Former"}, {"subscribed_on", "2022-03-31"}});
    service_.AddActivity(
        "a1", {{"subscriber_id", "s1"}, {"campaign", "spring"}, {"opened_at", "2026-04-02"}});
    service_.AddActivity(
        "a2", {{"subscriber_id", "s2"}, {"campaign", "spring"}, {"opened_at", "2026-04-03"}});
    ::setenv("CUSTOS_PLUGGIN_MAILER", service_.Connection().c_str(), 1);
    connectors_ = std::make_unique<PolicySystemConnectors>(dir_.string());
    engine_->AttachSystems(connectors_.get());
    engine::NewSubject ada;
    ada.subject_id = "p1";
    ada.types = {"supporter"};
    ada.identifiers = {{"email", "ADA+news@example.test", true}};
    ASSERT_TRUE(engine_->AddSubject(ada).ok());
  }
  void TearDown() override {
    engine_.reset();
    connectors_.reset();
    ::unsetenv("CUSTOS_PLUGGIN_MAILER");
    EngineOnSqlite::TearDown();
  }

  MailingService service_;
  std::unique_ptr<PolicySystemConnectors> connectors_;
};

TEST_F(MailerReachTest, ErasureHashesTheAddressEmptiesTheNameAndDeletesTheActivity) {
  engine::NewRequest request;
  request.request_id = "r1";
  request.type = "erasure";
  request.intake = "staff";
  request.subject_id = "p1";
  request.verification = "passport_seen";
  ASSERT_TRUE(engine_->OpenRequest(request).ok());
  auto done = engine_->FulfilRequest("r1", "", std::nullopt, "dpo");
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->row.state, store::RequestState::kCompleted) << done->row.outcome;
  EXPECT_NE(done->row.outcome.find("Mailing tool: 1 row(s) deleted, 1 changed"), std::string::npos)
      << done->row.outcome;
  auto subscribers = service_.subscribers();
  // "fulfil your request to unsubscribe": the row stays, its address a keyed hash.
  ASSERT_EQ(subscribers.count("s1"), 1u);
  ASSERT_TRUE(subscribers["s1"]["email"].has_value());
  EXPECT_EQ(subscribers["s1"]["email"]->size(), 64u);
  EXPECT_EQ(subscribers["s1"]["email"]->find('@'), std::string::npos);
  EXPECT_EQ(subscribers["s1"]["name"], std::nullopt);
  // "All other data is deleted."
  EXPECT_EQ(service_.activity().count("a1"), 0u);
  // Nada's address contains Ada's, and the service's search found it: untouched.
  EXPECT_EQ(subscribers["s2"]["name"], "Nada Other");
  EXPECT_EQ(service_.activity().count("a2"), 1u);
}

TEST_F(MailerReachTest, SystemsCheckReachesTheServiceAndRetentionEndsWhatIsThreeYearsOld) {
  auto checked = engine_->CheckSystems("dpo");
  ASSERT_TRUE(checked.ok()) << checked.status().ToString();
  const auto& checks = *checked;
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_TRUE(checks[0].status.ok()) << checks[0].status.ToString();
  ASSERT_EQ(checks[0].datasets.size(), 2u);
  EXPECT_EQ(checks[0].datasets[0].rows, 3);
  EXPECT_TRUE(checks[0].datasets[0].missing_columns.empty());

  // "We keep data for three years": before 2023-12-07, only Cy's subscription (2022-03-31).
  auto swept = engine_->SweepSystemsRetention(true, 100, std::nullopt, "system:retention");
  ASSERT_TRUE(swept.ok()) << swept.status().ToString();
  ASSERT_EQ(swept->size(), 1u);
  EXPECT_TRUE((*swept)[0].status.ok()) << (*swept)[0].status.ToString();
  EXPECT_EQ((*swept)[0].cutoff, "2023-12-07");
  EXPECT_EQ((*swept)[0].due, 1);
  auto subscribers = service_.subscribers();
  EXPECT_EQ(subscribers["s3"]["name"], std::nullopt);
  EXPECT_EQ(subscribers["s3"]["email"]->size(), 64u);
  EXPECT_EQ(subscribers["s1"]["name"], "Ada Lovelace");
  EXPECT_EQ(subscribers["s2"]["name"], "Nada Other");
}

}  // namespace
}  // namespace custos::connectors
