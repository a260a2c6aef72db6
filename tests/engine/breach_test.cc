// The breach register through the Engine over a real SqliteStore: the people and records a
// breach touched counted from the store, the regulator's 72-hour clock (UK GDPR Article 33(1):
// "without undue delay and, where feasible, not later than 72 hours after having become aware
// of it"), the reasons for a late report, the notices to the people affected through the
// outbox when the risk is high (Article 34(1)), a processor's notice to its controller, closing
// rules, the ICO-shaped report, and nothing of it in plaintext in the database.
// Seeds: protectuk.yaml (003) "we will notify you and any applicable regulator of a breach where
// we are legally required to do so"; progressteaching (001) "ProgressTeaching will contact Data
// Controller of the affected data, and inform the Information Commissioner's Office (ICO)".
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "crypto/key.h"
#include "crypto/master_key.h"
#include "engine/engine.h"
#include "engine_on_sqlite.h"
#include "policy/loader.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::engine {
namespace {

namespace fs = std::filesystem;

Timestamp T(const char* text) { return *Timestamp::Parse(text); }

class BreachTest : public EngineOnSqlite {
 protected:
  void SetUp() override { Open("wig"); }

  void Open(const std::string& controller) {
    OpenSeed(controller == "wig" ? "wig" : "progressteaching_schools", controller,
             T("2026-03-01T09:00:00Z"));
  }

  // A person of `type` with an e-mail address and one record of `category` for `purpose`.
  void AddPerson(const std::string& id, const std::string& type, const std::string& email,
                 const std::string& category, const std::string& purpose, const char* at) {
    clock_.Set(T(at));
    NewSubject subject;
    subject.subject_id = id;
    subject.types = {type};
    if (!email.empty()) subject.identifiers = {{"email", email, true}};
    ASSERT_TRUE(engine_->AddSubject(subject).ok());
    NewRecord record;
    record.subject_id = id;
    record.category = category;
    record.value = "value of " + id;
    record.source = "direct";
    record.purpose = purpose;
    auto put = engine_->PutRecord(record);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }

  NewBreach LaptopStolen() {
    NewBreach breach;
    breach.id = "BR-1";
    breach.discovered_at = T("2026-03-02T08:00:00Z");
    breach.aware_at = T("2026-03-02T10:00:00Z");
    breach.nature = "A laptop holding the newsletter list was stolen from a car.";
    breach.how_discovered = "The member of staff reported it the next morning.";
    breach.scope.categories = {"user.contact.email"};
    breach.scope.purposes = {"newsletter"};
    return breach;
  }

  std::string DatabaseBytes() {
    std::string all;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      std::ifstream file(entry.path(), std::ios::binary);
      all.append(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    }
    return all;
  }
};

TEST_F(BreachTest, CountsThePeopleAndRecordsTheScopeCoversFromTheStore) {
  AddPerson("a", "member", "a@example.test", "user.contact.email", "newsletter",
            "2026-01-01T00:00:00Z");
  AddPerson("b", "non_member", "b@example.test", "user.contact.email", "newsletter",
            "2026-01-02T00:00:00Z");
  // Not in scope: another purpose, another category, collected after the window.
  AddPerson("c", "member", "c@example.test", "user.contact.email", "enquiries",
            "2026-01-03T00:00:00Z");
  AddPerson("d", "member", "d@example.test", "user.name", "newsletter", "2026-01-04T00:00:00Z");
  AddPerson("e", "member", "e@example.test", "user.contact.email", "newsletter",
            "2026-03-05T00:00:00Z");
  clock_.Set(T("2026-03-06T00:00:00Z"));
  NewBreach breach = LaptopStolen();
  breach.scope.to = T("2026-03-02T08:00:00Z");
  auto recorded = engine_->RecordBreach(breach, std::nullopt, "dpo");
  ASSERT_TRUE(recorded.ok()) << recorded.status().ToString();
  EXPECT_EQ(recorded->details.people, 2);
  EXPECT_EQ(recorded->details.records, 2);

  // Narrowed to members: only a.
  BreachChange change;
  change.scope = breach.scope;
  change.scope->subject_types = {"member"};
  auto changed = engine_->ChangeBreach("BR-1", change, std::nullopt, "dpo");
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_EQ(changed->details.people, 1);
  // A parent category covers its children: user.contact covers user.contact.email.
  change.scope->subject_types.clear();
  change.scope->categories = {"user.contact"};
  change.scope->purposes.clear();
  changed = engine_->ChangeBreach("BR-1", change, std::nullopt, "dpo");
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->details.people, 3);  // a, b, c (e came after the window)
}

TEST_F(BreachTest, TheRegulatorClockRunsSeventyTwoHoursFromAwareness) {
  clock_.Set(T("2026-03-02T12:00:00Z"));
  auto breach = engine_->RecordBreach(LaptopStolen(), std::nullopt, "dpo");
  ASSERT_TRUE(breach.ok()) << breach.status().ToString();
  const policy::Policy& policy = engine_->policy();
  BreachClock clock = RegulatorClock(policy, *breach, T("2026-03-05T09:59:59Z"));
  EXPECT_EQ(clock.due_at, T("2026-03-05T10:00:00Z"));  // aware 10:00 + 72 h, not discovery
  EXPECT_FALSE(clock.overdue);
  EXPECT_EQ(clock.seconds_left, 1);
  clock = RegulatorClock(policy, *breach, T("2026-03-05T10:00:01Z"));
  EXPECT_TRUE(clock.overdue);
  // Assessed as no risk: no report is needed, and nothing is overdue.
  Breach none = *breach;
  none.risk = "none";
  EXPECT_FALSE(RegulatorClock(policy, none, T("2026-04-01")).overdue);
  EXPECT_FALSE(RegulatorClock(policy, none, T("2026-04-01")).report_needed);
}

TEST_F(BreachTest, ALateReportNeedsTheReasonsForTheDelay) {
  clock_.Set(T("2026-03-06T12:00:00Z"));
  ASSERT_TRUE(engine_->RecordBreach(LaptopStolen(), std::nullopt, "dpo").ok());
  BreachChange report;
  report.reported_at = T("2026-03-06T09:00:00Z");  // 71 hours after the 72 ran out
  report.regulator_reference = "ICO-123";
  auto late = engine_->ChangeBreach("BR-1", report, std::nullopt, "dpo");
  EXPECT_EQ(late.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(late.status().message().find("delay"), std::string::npos);
  report.delay_reason = "The theft was first thought to involve no personal data.";
  auto reported = engine_->ChangeBreach("BR-1", report, std::nullopt, "dpo");
  ASSERT_TRUE(reported.ok()) << reported.status().ToString();
  EXPECT_TRUE(RegulatorClock(engine_->policy(), *reported, clock_.Now()).reported_late);
  // A report is recorded once.
  EXPECT_EQ(engine_->ChangeBreach("BR-1", report, std::nullopt, "dpo").status().code(),
            ErrorCode::kBreachState);
}

TEST_F(BreachTest, AnAssessmentStatesItsReasoning) {
  NewBreach breach = LaptopStolen();
  breach.risk = "high_risk";
  EXPECT_EQ(engine_->RecordBreach(breach, T("2026-03-02T12:00:00Z"), "dpo").status().code(),
            ErrorCode::kInvalidArgument);
  breach.risk = "severe";
  breach.risk_reasoning = "x";
  EXPECT_EQ(engine_->RecordBreach(breach, T("2026-03-02T12:00:00Z"), "dpo").status().code(),
            ErrorCode::kInvalidArgument);
  // Keys the policy does not have, awareness before discovery, a time in the future.
  breach = LaptopStolen();
  breach.scope.categories = {"user.financial"};
  EXPECT_EQ(engine_->RecordBreach(breach, T("2026-03-02T12:00:00Z"), "dpo").status().code(),
            ErrorCode::kInvalidArgument);
  breach = LaptopStolen();
  breach.aware_at = T("2026-03-01");
  EXPECT_EQ(engine_->RecordBreach(breach, T("2026-03-02T12:00:00Z"), "dpo").status().code(),
            ErrorCode::kInvalidArgument);
  breach = LaptopStolen();
  EXPECT_EQ(engine_->RecordBreach(breach, T("2026-03-01"), "dpo").status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(engine_->ListBreaches("dpo")->size(), 0u);
}

TEST_F(BreachTest, HighRiskQueuesAClearNoticeToEveryoneAffectedThroughTheOutbox) {
  AddPerson("a", "member", "a@example.test", "user.contact.email", "newsletter",
            "2026-01-01T00:00:00Z");
  AddPerson("b", "member", "b@example.test", "user.contact.email", "newsletter",
            "2026-01-02T00:00:00Z");
  AddPerson("n", "member", "", "user.contact.email", "newsletter", "2026-01-03T00:00:00Z");
  clock_.Set(T("2026-03-02T12:00:00Z"));
  NewBreach input = LaptopStolen();
  input.consequences = "You may receive phishing e-mails that pretend to come from us.";
  input.measures = "We have reported the theft to the police and changed our passwords.";
  ASSERT_TRUE(engine_->RecordBreach(input, std::nullopt, "dpo").ok());
  // Not before the risk is assessed high.
  EXPECT_EQ(engine_->TellPeopleOfBreach("BR-1", std::nullopt, "dpo").status().code(),
            ErrorCode::kBreachState);
  BreachChange assess;
  assess.risk = "high_risk";
  assess.risk_reasoning = "E-mail addresses with membership: phishing is likely.";
  ASSERT_TRUE(engine_->ChangeBreach("BR-1", assess, std::nullopt, "dpo").ok());
  auto told = engine_->TellPeopleOfBreach("BR-1", std::nullopt, "dpo");
  ASSERT_TRUE(told.ok()) << told.status().ToString();
  EXPECT_EQ(told->details.notices_queued, 2);  // n gave no address
  auto outbox = store_->ListOutbox("wig", "breach:BR-1");
  ASSERT_TRUE(outbox.ok());
  ASSERT_EQ(outbox->size(), 2u);
  EXPECT_EQ((*outbox)[0].kind, "breach_notice");
  EXPECT_EQ((*outbox)[0].target, "requester");
  auto payload = engine_->ReadOutboxMessage((*outbox)[0].outbox_id, "dpo");
  ASSERT_TRUE(payload.ok()) << payload.status().ToString();
  rapidjson::Document doc;
  doc.Parse(payload->c_str());
  ASSERT_TRUE(doc.IsObject());
  EXPECT_STREQ(doc["to"]["value"].GetString(), "a@example.test");
  const std::string body = doc["body"].GetString();
  // Article 34(2): the nature, the contact point, the likely consequences, the measures.
  EXPECT_NE(body.find("A laptop holding the newsletter list was stolen"), std::string::npos);
  EXPECT_NE(body.find("phishing e-mails"), std::string::npos);
  EXPECT_NE(body.find("reported the theft to the police"), std::string::npos);
  EXPECT_NE(body.find("Email addresses"), std::string::npos) << body;
  EXPECT_NE(body.find("Information Commissioner"), std::string::npos);
  // Told once; a message read by hand is not sent again when an endpoint appears.
  EXPECT_EQ(engine_->TellPeopleOfBreach("BR-1", std::nullopt, "dpo").status().code(),
            ErrorCode::kBreachState);
  ASSERT_TRUE(engine_
                  ->SetRecipientEndpoint("requester", "https://notify.example.test/hook",
                                         "0123456789abcdef0123", std::nullopt, "admin")
                  .ok());
  outbox = store_->ListOutbox("wig", "breach:BR-1");
  EXPECT_EQ((*outbox)[0].state, store::OutboxState::kManual);
  EXPECT_EQ((*outbox)[1].state, store::OutboxState::kPending);
  // The deliverer opens the message with the breach's key, and records it delivered.
  auto claimed = engine_->ClaimDeliveries(10, 60'000'000);
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_NE((*claimed)[0].payload.find("b@example.test"), std::string::npos);
  ASSERT_TRUE(engine_->RecordDelivery((*claimed)[0], true, "").ok());
  outbox = store_->ListOutbox("wig", "breach:BR-1");
  EXPECT_EQ((*outbox)[1].state, store::OutboxState::kDelivered);
}

TEST_F(BreachTest, ClosesOnlyOnceAssessedReportedAndThePeopleTold) {
  AddPerson("a", "member", "a@example.test", "user.contact.email", "newsletter",
            "2026-01-01T00:00:00Z");
  clock_.Set(T("2026-03-02T12:00:00Z"));
  ASSERT_TRUE(engine_->RecordBreach(LaptopStolen(), std::nullopt, "dpo").ok());
  BreachChange close;
  close.close = true;
  EXPECT_EQ(engine_->ChangeBreach("BR-1", close, std::nullopt, "dpo").status().code(),
            ErrorCode::kBreachState);  // not assessed
  BreachChange assess;
  assess.risk = "high_risk";
  assess.risk_reasoning = "Addresses and membership.";
  ASSERT_TRUE(engine_->ChangeBreach("BR-1", assess, std::nullopt, "dpo").ok());
  EXPECT_EQ(engine_->ChangeBreach("BR-1", close, std::nullopt, "dpo").status().code(),
            ErrorCode::kBreachState);  // not reported
  BreachChange report;
  report.reported_at = T("2026-03-02T11:00:00Z");
  ASSERT_TRUE(engine_->ChangeBreach("BR-1", report, std::nullopt, "dpo").ok());
  auto refused = engine_->ChangeBreach("BR-1", close, std::nullopt, "dpo");
  EXPECT_EQ(refused.status().code(), ErrorCode::kBreachState);  // people not told
  EXPECT_NE(refused.status().message().find("people_not_told_reason"), std::string::npos);
  ASSERT_TRUE(engine_->TellPeopleOfBreach("BR-1", std::nullopt, "dpo").ok());
  auto closed = engine_->ChangeBreach("BR-1", close, std::nullopt, "dpo");
  ASSERT_TRUE(closed.ok()) << closed.status().ToString();
  EXPECT_TRUE(closed->closed_at.has_value());
  BreachChange more;
  more.measures = "late";
  EXPECT_EQ(engine_->ChangeBreach("BR-1", more, std::nullopt, "dpo").status().code(),
            ErrorCode::kBreachState);
}

TEST_F(BreachTest, EveryStepIsAuditedAndNothingIsStoredInPlaintext) {
  AddPerson("a", "member", "a@example.test", "user.contact.email", "newsletter",
            "2026-01-01T00:00:00Z");
  clock_.Set(T("2026-03-02T12:00:00Z"));
  NewBreach input = LaptopStolen();
  input.nature = "Stolen laptop of Zebedee Quartermain";
  ASSERT_TRUE(engine_->RecordBreach(input, std::nullopt, "dpo").ok());
  BreachChange assess;
  assess.risk = "risk";
  assess.risk_reasoning = "Quartermain's list holds e-mail addresses.";
  ASSERT_TRUE(engine_->ChangeBreach("BR-1", assess, std::nullopt, "dpo").ok());
  ASSERT_TRUE(engine_->Flush().ok());
  std::vector<std::string> actions;
  ASSERT_TRUE(store_
                  ->ScanAudit(1,
                              [&](const store::AuditRow& row) {
                                if (row.action.rfind("breach", 0) == 0) {
                                  actions.push_back(row.action);
                                }
                                return true;
                              })
                  .ok());
  EXPECT_EQ(actions, (std::vector<std::string>{"breach_recorded", "breach_changed"}));
  EXPECT_EQ(DatabaseBytes().find("Quartermain"), std::string::npos);
  auto viewed = engine_->ViewBreach("BR-1", "dpo");
  ASSERT_TRUE(viewed.ok());
  EXPECT_EQ(viewed->details.nature, "Stolen laptop of Zebedee Quartermain");
  EXPECT_EQ(engine_->ViewBreach("BR-2", "dpo").status().code(), ErrorCode::kUnknownBreach);
}

TEST_F(BreachTest, TheReportFollowsTheIcoFormSections) {
  AddPerson("a", "member", "a@example.test", "user.contact.email", "newsletter",
            "2026-01-01T00:00:00Z");
  clock_.Set(T("2026-03-02T12:00:00Z"));
  auto breach = engine_->RecordBreach(LaptopStolen(), std::nullopt, "dpo");
  ASSERT_TRUE(breach.ok());
  rapidjson::Document doc;
  const std::string json = BreachReportJson(engine_->policy(), *breach, clock_.Now());
  doc.Parse(json.c_str());
  ASSERT_TRUE(doc.IsObject()) << json;
  for (const char* section :
       {"organisation", "about_the_breach", "personal_data_placed_at_risk",
        "containment_and_recovery", "notifying_people", "other_organisations"}) {
    EXPECT_TRUE(doc.HasMember(section)) << section;
  }
  EXPECT_STREQ(doc["report_type"].GetString(), "initial");
  EXPECT_EQ(doc["personal_data_placed_at_risk"]["number_of_people"].GetInt64(), 1);
  EXPECT_STREQ(doc["about_the_breach"]["report_due_at"].GetString(), "2026-03-05T10:00:00Z");
  const std::string html = BreachReportHtml(engine_->policy(), *breach, clock_.Now());
  EXPECT_NE(html.find("<h2>Personal data placed at risk</h2>"), std::string::npos);
  EXPECT_NE(html.find("Email addresses"), std::string::npos);
  // Staff text is escaped in the page.
  BreachChange change;
  change.measures = "<script>alert(1)</script>";
  auto changed = engine_->ChangeBreach("BR-1", change, std::nullopt, "dpo");
  ASSERT_TRUE(changed.ok());
  const std::string escaped = BreachReportHtml(engine_->policy(), *changed, clock_.Now());
  EXPECT_EQ(escaped.find("<script>"), std::string::npos);
}

TEST_F(BreachTest, AProcessorTellsItsControllerWhenItRecordsABreach) {
  // ProgressTeaching "will contact Data Controller of the affected data".
  Open("progressteaching_schools");
  clock_.Set(T("2026-03-02T12:00:00Z"));
  NewBreach breach;
  breach.discovered_at = T("2026-03-02T09:00:00Z");
  breach.nature = "A misconfigured report exposed pupils' names to another school.";
  breach.scope.categories = {engine_->policy().categories.front().key};
  auto recorded = engine_->RecordBreach(breach, std::nullopt, "dpo");
  ASSERT_TRUE(recorded.ok()) << recorded.status().ToString();
  EXPECT_EQ(recorded->id.rfind("BR-20260302-", 0), 0u) << recorded->id;
  ASSERT_TRUE(recorded->details.controller_told_at.has_value());
  auto outbox = store_->ListOutbox("progressteaching_schools", "breach:" + recorded->id);
  ASSERT_TRUE(outbox.ok());
  ASSERT_EQ(outbox->size(), 1u);
  EXPECT_EQ((*outbox)[0].target, "controller");
  EXPECT_EQ((*outbox)[0].kind, "breach_controller_notice");
  auto payload = engine_->ReadOutboxMessage((*outbox)[0].outbox_id, "dpo");
  ASSERT_TRUE(payload.ok());
  EXPECT_NE(payload->find("misconfigured report"), std::string::npos);
}

}  // namespace
}  // namespace custos::engine
