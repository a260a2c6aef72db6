// Rights requests and retention reach the organisation's own systems (docs/SYSTEMS.md): WIG's
// policy with its CRM (policies/systems/wig_crm.yaml) over a real SQLite CRM made from
// scripts/demo-crm.sql, through the real connectors.
//
// WIG: "We will then dispose of your information by deleting your contact details from our CRM
// platform, and member engagement data based on your transactions with WIG will be anonymised."
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "connectors/system_connectors.h"
#include "engine/systems_json.h"
#include "engine_on_sqlite.h"

namespace custos::engine {
namespace {

using Rows = std::vector<std::vector<std::string>>;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class SystemsReachTest : public EngineOnSqlite {
 protected:
  void SetUp() override {
    OpenSeed("wig", "wig", *Timestamp::Parse("2026-12-07T10:00:00Z"),
             ReadFile(std::string(CUSTOS_SOURCE_DIR) + "/policies/systems/wig_crm.yaml"));
    crm_ = (dir_ / "crm.sqlite").string();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(crm_.c_str(), &db), SQLITE_OK);
    std::string sql = ReadFile(std::string(CUSTOS_SOURCE_DIR) + "/scripts/demo-crm.sql");
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    ::setenv("CUSTOS_WIG_CRM", crm_.c_str(), 1);
    connectors_ = std::make_unique<connectors::PolicySystemConnectors>(dir_.string());
    engine_->AttachSystems(connectors_.get());
    NewSubject ben;
    ben.subject_id = "n1";
    ben.types = {"non_member"};
    ben.identifiers = {{"email", "N1@example.test", true}};  // as the person typed it
    ASSERT_TRUE(engine_->AddSubject(ben).ok());
  }
  void TearDown() override {
    engine_.reset();
    connectors_.reset();
    ::unsetenv("CUSTOS_WIG_CRM");
    EngineOnSqlite::TearDown();
  }

  // Rows of the CRM, each column as text ("NULL" for NULL).
  Rows Crm(const std::string& sql) {
    Rows rows;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(crm_.c_str(), &db), SQLITE_OK);
    sqlite3_exec(
        db, sql.c_str(),
        [](void* out, int n, char** values, char**) {
          std::vector<std::string> row;
          for (int i = 0; i < n; ++i) row.push_back(values[i] ? values[i] : "NULL");
          static_cast<Rows*>(out)->push_back(row);
          return 0;
        },
        &rows, nullptr);
    sqlite3_close(db);
    return rows;
  }
  void CrmExec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(crm_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sql;
    sqlite3_close(db);
  }

  void OpenStaffRequest(const std::string& id, const std::string& type) {
    NewRequest request;
    request.request_id = id;
    request.type = type;
    request.intake = "staff";
    request.subject_id = "n1";
    request.verification = "passport_seen";
    auto opened = engine_->OpenRequest(request);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  }

  std::string AuditText() {
    std::string text;
    EXPECT_TRUE(store_
                    ->ScanAudit(0,
                                [&](const store::AuditRow& row) {
                                  text += row.action + " " + row.detail + "\n";
                                  return true;
                                })
                    .ok());
    return text;
  }

  std::string crm_;
  std::unique_ptr<connectors::PolicySystemConnectors> connectors_;
};

TEST_F(SystemsReachTest, ThePlanShowsWhatErasureWillDoInTheCrmAndChangesNothing) {
  OpenStaffRequest("r1", "erasure");
  auto plans = engine_->PlanRequestInSystems("r1", "dpo");
  ASSERT_TRUE(plans.ok()) << plans.status().ToString();
  ASSERT_EQ(plans->size(), 1u);
  const SystemPlan& crm = (*plans)[0];
  ASSERT_TRUE(crm.status.ok()) << crm.status.ToString();
  // Children first: the booking loses its link before its contact row goes.
  ASSERT_EQ(crm.datasets.size(), 3u);
  EXPECT_EQ(crm.datasets[0].dataset, "bookings");
  EXPECT_EQ(crm.datasets[1].dataset, "contacts");
  EXPECT_EQ(crm.datasets[1].deletes, 1);  // found by the email the person gave, in any case
  EXPECT_EQ(crm.datasets[0].updates, 1);
  EXPECT_EQ(crm.datasets[2].dataset, "newsletter");
  EXPECT_EQ(crm.datasets[2].updates, 1);
  std::string json = SystemPlansJson(*plans);
  EXPECT_NE(json.find("\"action\":\"hash\""), std::string::npos) << json;
  EXPECT_EQ(json.find("example.test"), std::string::npos) << "a plan holds no value: " << json;
  EXPECT_EQ(Crm("SELECT count(*) FROM contacts"), (Rows{{"3"}}));
  EXPECT_NE(AuditText().find("system_plan r1 crm: 1 row(s) deleted, 2 changed"), std::string::npos)
      << AuditText();
}

TEST_F(SystemsReachTest, ErasureDeletesContactDetailsAnonymisesBookingsAndHashesTheAddress) {
  OpenStaffRequest("r1", "erasure");
  auto done = engine_->FulfilRequest("r1", "", std::nullopt, "dpo");
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->row.state, store::RequestState::kCompleted);
  EXPECT_NE(done->row.outcome.find("WIG CRM platform: 1 row(s) deleted, 2 changed"),
            std::string::npos)
      << done->row.outcome;
  // "deleting your contact details from our CRM platform"
  EXPECT_EQ(Crm("SELECT id FROM contacts ORDER BY id"), (Rows{{"2"}, {"3"}}));
  // "member engagement data ... will be anonymised": the booking stays, unlinked, without the
  // dietary needs.
  EXPECT_EQ(Crm("SELECT contact_id, event, dietary FROM bookings WHERE id = 1"),
            (Rows{{"NULL", "Leadership seminar", "NULL"}}));
  Rows newsletter = Crm("SELECT email FROM newsletter_subscribers WHERE id = 1");
  ASSERT_EQ(newsletter.size(), 1u);
  EXPECT_EQ(newsletter[0][0].size(), 64u);
  EXPECT_EQ(newsletter[0][0].find('@'), std::string::npos);
  // Nobody else is touched.
  EXPECT_EQ(Crm("SELECT email FROM newsletter_subscribers WHERE id = 2"),
            (Rows{{"ada@example.test"}}));
  EXPECT_EQ(Crm("SELECT contact_id, dietary FROM bookings WHERE id = 3"),
            (Rows{{"3", "wheelchair access"}}));
  bool crm_item = false;
  for (const auto& item : done->items) {
    if (item.action == "erased" && item.detail == "WIG CRM platform" &&
        item.category == "user.health_and_medical.access_dietary") {
      crm_item = true;
    }
  }
  EXPECT_TRUE(crm_item);
  std::string audit = AuditText();
  EXPECT_NE(audit.find("system_erase r1 crm"), std::string::npos) << audit;
  EXPECT_EQ(audit.find("example.test"), std::string::npos);
}

TEST_F(SystemsReachTest, ALegalHoldKeepsTheHeldDataInTheCrmAndTheRestGoes) {
  LegalHoldRequest hold;
  hold.subject_id = "n1";
  hold.category = "user.contact.email";
  hold.reason = "a claim about an event booking";
  ASSERT_TRUE(engine_->PlaceLegalHold(hold).ok());
  OpenStaffRequest("r1", "erasure");
  auto done = engine_->FulfilRequest("r1", "", std::nullopt, "dpo");
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  // The row stays for its held email; the other contact details are emptied instead.
  EXPECT_EQ(Crm("SELECT full_name, email, job_title FROM contacts WHERE id = 1"),
            (Rows{{"NULL", "n1@example.test", "NULL"}}));
  EXPECT_EQ(Crm("SELECT email FROM newsletter_subscribers WHERE id = 1"),
            (Rows{{"n1@example.test"}}));
  bool kept = false;
  for (const auto& item : done->items) {
    kept = kept || (item.action == "kept" && item.category == "user.contact.email" &&
                    item.reason == "legal_claims");
  }
  EXPECT_TRUE(kept);
}

TEST_F(SystemsReachTest, AnUnreachableCrmKeepsTheRequestWaitingUntilTheDpoWaivesIt) {
  ::setenv("CUSTOS_WIG_CRM", (dir_ / "no-such-crm.sqlite").c_str(), 1);
  OpenStaffRequest("r1", "erasure");
  auto failed = engine_->FulfilRequest("r1", "", std::nullopt, "dpo");
  ASSERT_EQ(failed.status().code(), ErrorCode::kSystemUnavailable) << failed.status().ToString();
  EXPECT_NE(failed.status().message().find("crm"), std::string::npos);
  EXPECT_EQ(failed.status().message().find(crm_), std::string::npos);
  // Nothing of custos's own copy went: the person can still be found in the CRM later.
  auto view = engine_->ViewRequest("r1");
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->row.state, store::RequestState::kInProgress);
  auto subject = store_->GetSubject("wig", "n1");
  ASSERT_TRUE(subject.ok() && subject->has_value());
  EXPECT_EQ((*subject)->state, store::SubjectState::kActive);
  EXPECT_EQ(engine_->WaiveSystem("r1", "crm", " ", std::nullopt, "dpo").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(engine_->WaiveSystem("r1", "mailchimp", "gone", std::nullopt, "dpo").code(),
            ErrorCode::kInvalidArgument);
  ASSERT_TRUE(
      engine_->WaiveSystem("r1", "crm", "the CRM was retired in 2025", std::nullopt, "dpo").ok());
  auto done = engine_->FulfilRequest("r1", "", std::nullopt, "dpo");
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->row.state, store::RequestState::kCompleted);
  EXPECT_NE(done->row.outcome.find("WIG CRM platform left out"), std::string::npos)
      << done->row.outcome;
}

// "retries for systems that are down": the server tries again the requests that waited.
TEST_F(SystemsReachTest, ARequestThatWaitedIsFinishedOnceItsSystemIsBack) {
  ::setenv("CUSTOS_WIG_CRM", (dir_ / "no-such-crm.sqlite").c_str(), 1);
  OpenStaffRequest("r1", "erasure");
  OpenStaffRequest("r2", "access");  // never fulfilled by anyone: not for a retry to start
  ASSERT_EQ(engine_->FulfilRequest("r1", "", std::nullopt, "dpo").status().code(),
            ErrorCode::kSystemUnavailable);
  auto history = engine_->ViewRequest("r1");
  ASSERT_TRUE(history.ok());
  bool waiting = false;
  for (const auto& event : history->history) {
    waiting = waiting || (event.event == "systems_waiting" && event.detail == "crm");
  }
  EXPECT_TRUE(waiting);
  auto still = engine_->RetryRequestsWaitingForSystems("system:retention-schedule");
  ASSERT_TRUE(still.ok()) << still.status().ToString();
  EXPECT_EQ(*still, 0);
  // The CRM is back.
  ::setenv("CUSTOS_WIG_CRM", crm_.c_str(), 1);
  auto retried = engine_->RetryRequestsWaitingForSystems("system:retention-schedule");
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_EQ(*retried, 1);
  EXPECT_EQ(engine_->ViewRequest("r1")->row.state, store::RequestState::kCompleted);
  EXPECT_EQ(engine_->ViewRequest("r2")->row.state, store::RequestState::kInProgress);
  EXPECT_EQ(Crm("SELECT count(*) FROM contacts WHERE id = 1"), (Rows{{"0"}}));
}

TEST_F(SystemsReachTest, AFailureHalfwayIsFinishedByTheNextFulfilment) {
  CrmExec(
      "CREATE TRIGGER locked BEFORE DELETE ON contacts BEGIN SELECT RAISE(ABORT, 'locked'); END");
  OpenStaffRequest("r1", "erasure");
  auto failed = engine_->FulfilRequest("r1", "", std::nullopt, "dpo");
  ASSERT_EQ(failed.status().code(), ErrorCode::kSystemUnavailable) << failed.status().ToString();
  // The bookings (children, first) were done; the contact row could not go.
  EXPECT_EQ(Crm("SELECT contact_id FROM bookings WHERE id = 1"), (Rows{{"NULL"}}));
  EXPECT_EQ(Crm("SELECT count(*) FROM contacts WHERE id = 1"), (Rows{{"1"}}));
  EXPECT_NE(AuditText().find("system_erase_failed r1 crm"), std::string::npos);
  CrmExec("DROP TRIGGER locked");
  auto done = engine_->FulfilRequest("r1", "", std::nullopt, "dpo");
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(Crm("SELECT count(*) FROM contacts WHERE id = 1"), (Rows{{"0"}}));
  Rows hashed = Crm("SELECT email FROM newsletter_subscribers WHERE id = 1");
  ASSERT_EQ(hashed.size(), 1u);
  EXPECT_EQ(hashed[0][0].size(), 64u);
}

TEST_F(SystemsReachTest, TheAccessPackageHoldsThePersonsRowsFromTheCrm) {
  OpenStaffRequest("r1", "access");
  auto done = engine_->FulfilRequest("r1", "", std::nullopt, "dpo");
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  auto json = engine_->RequestDocument("r1", "json", "dpo");
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_NE(json->find("\"systems\""), std::string::npos);
  EXPECT_NE(json->find("\"value\": \"Ben Visitor\""), std::string::npos) << *json;
  EXPECT_NE(json->find("\"value\": \"vegetarian\""), std::string::npos);
  EXPECT_EQ(json->find("Ada Member"), std::string::npos);
  // The CRM's categories are held too: the health data's purposes and retention are explained.
  EXPECT_NE(json->find("\"key\": \"user.health_and_medical.access_dietary\""), std::string::npos);
  auto html = engine_->RequestDocument("r1", "html", "dpo");
  ASSERT_TRUE(html.ok());
  EXPECT_NE(html->find("In our other systems"), std::string::npos);
  EXPECT_NE(html->find("vegetarian"), std::string::npos);
  // Reading is not erasing.
  EXPECT_EQ(Crm("SELECT count(*) FROM contacts"), (Rows{{"3"}}));
  EXPECT_NE(AuditText().find("system_read r1 crm"), std::string::npos);
}

// "for the following five years if your organisation does not renew membership. We will then
// dispose of your information by deleting your contact details from our CRM platform"
TEST_F(SystemsReachTest, RetentionEmptiesContactDetailsFiveYearsAfterMembershipEnded) {
  auto preview = engine_->SweepSystemsRetention(false, 100, std::nullopt, "system:retention");
  ASSERT_TRUE(preview.ok()) << preview.status().ToString();
  ASSERT_EQ(preview->size(), 1u);
  const SystemRetentionLine& line = (*preview)[0];
  EXPECT_EQ(line.dataset, "contacts");
  EXPECT_EQ(line.cutoff, "2021-12-07");
  EXPECT_EQ(line.due, 1);  // Cy, whose membership ended on 2018-03-31
  EXPECT_EQ(line.changed, 1);
  EXPECT_EQ(Crm("SELECT full_name FROM contacts WHERE id = 3"), (Rows{{"Cy Former"}}));

  auto swept = engine_->SweepSystemsRetention(true, 100, std::nullopt, "system:retention");
  ASSERT_TRUE(swept.ok()) << swept.status().ToString();
  // The rule erases contact details; the member number is outside it, so the row stays.
  EXPECT_EQ(Crm("SELECT member_no, full_name, email, job_title FROM contacts WHERE id = 3"),
            (Rows{{"M-1003", "NULL", "NULL", "NULL"}}));
  EXPECT_EQ(Crm("SELECT full_name FROM contacts WHERE id = 2"), (Rows{{"Ada Member"}}));
  EXPECT_NE(AuditText().find("system_retention crm.contacts rule member_contact_after_membership"),
            std::string::npos);
}

TEST_F(SystemsReachTest, RetentionInTheCrmHonoursALegalHoldOnThePerson) {
  NewSubject cy;
  cy.subject_id = "m3";
  cy.types = {"member"};
  cy.identifiers = {{"email", "cy@example.test", true}};
  ASSERT_TRUE(engine_->AddSubject(cy).ok());
  LegalHoldRequest hold;
  hold.subject_id = "m3";
  hold.reason = "an unpaid invoice in dispute";
  ASSERT_TRUE(engine_->PlaceLegalHold(hold).ok());
  auto swept = engine_->SweepSystemsRetention(true, 100, std::nullopt, "system:retention");
  ASSERT_TRUE(swept.ok()) << swept.status().ToString();
  EXPECT_EQ((*swept)[0].held, 1);
  EXPECT_EQ((*swept)[0].changed, 0);
  EXPECT_EQ(Crm("SELECT full_name FROM contacts WHERE id = 3"), (Rows{{"Cy Former"}}));
}

TEST_F(SystemsReachTest, SystemsCheckFindsEveryTableAndColumnAndNamesWhatIsMissing) {
  auto checks = engine_->CheckSystems("dpo");
  ASSERT_TRUE(checks.ok());
  ASSERT_EQ(checks->size(), 1u);
  EXPECT_TRUE((*checks)[0].status.ok()) << (*checks)[0].status.ToString();
  EXPECT_EQ((*checks)[0].datasets[0].rows, 3);
  CrmExec("ALTER TABLE bookings DROP COLUMN dietary");
  checks = engine_->CheckSystems("dpo");
  ASSERT_TRUE(checks.ok());
  EXPECT_FALSE((*checks)[0].status.ok());
  EXPECT_EQ((*checks)[0].datasets[1].missing_columns, (std::vector<std::string>{"dietary"}));
  std::string json = SystemChecksJson(*checks);
  EXPECT_NE(json.find("\"missing_columns\":[\"dietary\"]"), std::string::npos) << json;
}

}  // namespace
}  // namespace custos::engine
