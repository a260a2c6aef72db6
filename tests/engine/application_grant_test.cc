// Third-party applications a controller authorises, through the Engine over a real SqliteStore.
// Seed: ProgressTeaching (001), platform statement: "Before we allow Third Party Applications to
// access school data, schools must authorise the requests to connect to their data and review
// the type of data that an application is requesting. These permissions can be revoked at any
// time by the school." A grant names the application's purposes and categories and ends; each
// access is audited and listed in the person's access package (Article 15(1)(c)).
#include "engine/application_grant.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "engine/access_package.h"
#include "engine/engine.h"
#include "engine_on_sqlite.h"

namespace custos::engine {
namespace {

Timestamp T(const char* text) { return *Timestamp::Parse(text); }

class ApplicationGrantTest : public EngineOnSqlite {
 protected:
  void SetUp() override {
    OpenSeed("progressteaching_schools", "school", T("2026-03-01T09:00:00Z"));
  }

  // A homework planner the school lets read pupils' school records and names until the summer.
  static ApplicationGrant Planner() {
    ApplicationGrant grant;
    grant.grant_id = "0123456789abcdef";
    grant.application = "Homework Planner";
    grant.recipient = "third_party_applications";
    grant.purposes = {"school_legal_obligation"};
    grant.categories = {"user.childrens.school_records", "user.name"};
    grant.expires_at = T("2026-07-31T00:00:00Z");
    return grant;
  }

  void AddPupil(const std::string& id) {
    NewSubject subject;
    subject.subject_id = id;
    subject.types = {"pupil"};
    ASSERT_TRUE(engine_->AddSubject(subject).ok());
    NewRecord record;
    record.subject_id = id;
    record.category = "user.childrens.school_records";
    record.value = "Year 7 reading age of " + id;
    record.source = "school";
    record.purpose = "school_legal_obligation";
    auto put = engine_->PutRecord(record);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }

  // The audit rows after seq `head`, in order.
  std::vector<store::AuditRow> AuditAfter(int64_t head) {
    std::vector<store::AuditRow> rows;
    EXPECT_TRUE(store_
                    ->ScanAudit(head + 1,
                                [&](const store::AuditRow& row) {
                                  rows.push_back(row);
                                  return true;
                                })
                    .ok());
    return rows;
  }

  DecisionRequest Ask(const std::string& subject, const std::string& purpose,
                      std::vector<std::string> categories) {
    DecisionRequest request;
    request.subject_id = subject;
    request.purpose = purpose;
    request.categories = std::move(categories);
    request.at = clock_.Now();
    request.actor = "token:0123456789abcdef";
    return request;
  }
};

TEST_F(ApplicationGrantTest, AGrantNamesOnlyWhatThePolicyLetsAnApplicationReceive) {
  EXPECT_TRUE(CheckApplicationGrant(engine_->policy(), Planner(), clock_.Now()).ok());
  auto refused = [&](ApplicationGrant grant, const char* words) {
    Status status = CheckApplicationGrant(engine_->policy(), grant, clock_.Now());
    EXPECT_EQ(status.code(), ErrorCode::kInvalidArgument) << words;
    EXPECT_NE(status.message().find(words), std::string::npos) << status.message();
  };
  ApplicationGrant grant = Planner();
  grant.recipient = "sub_processors";  // a processor, not a third party
  refused(grant, "is not a third party");
  grant = Planner();
  grant.recipient = "advertisers";
  refused(grant, "is not in the policy");
  grant = Planner();
  grant.purposes = {"app_notifications"};  // its recipients do not include applications
  refused(grant, "does not name recipient");
  grant = Planner();
  grant.categories = {"user.health_and_medical"};  // the granted purpose does not use it
  refused(grant, "no granted purpose uses");
  grant = Planner();
  grant.application = "";
  refused(grant, "needs a name");
  grant = Planner();
  grant.application = "Planner\nInjected: line";
  refused(grant, "control characters");
  grant = Planner();
  grant.expires_at = T("2026-03-01T09:00:00Z");  // ends as it starts
  refused(grant, "expiry must be after now");
}

TEST_F(ApplicationGrantTest, APolicyWithoutThirdPartyAppsAuthorisesNone) {
  // WIG's notice says nothing of third-party applications: none can be authorised.
  OpenSeed("wig", "wig", T("2026-03-01T09:00:00Z"));
  ApplicationGrant grant = Planner();
  grant.recipient = "event_venues";
  grant.purposes = {"event_bookings"};
  grant.categories = {"user.name"};
  Status status = CheckApplicationGrant(engine_->policy(), grant, clock_.Now());
  EXPECT_EQ(status.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(status.message().find("third_party_apps"), std::string::npos);
}

TEST_F(ApplicationGrantTest, ADecisionOutsideTheGrantOrAfterItEndsIsRefused) {
  AddPupil("p1");
  const ApplicationGrant grant = Planner();
  auto outside_purpose =
      engine_->DecideForApplication(grant, Ask("p1", "school_legitimate_interests", {"user.name"}));
  EXPECT_EQ(outside_purpose.status().code(), ErrorCode::kOutsideGrant);
  auto outside_category =
      engine_->DecideForApplication(grant, Ask("p1", "school_legal_obligation", {"user.contact"}));
  EXPECT_EQ(outside_category.status().code(), ErrorCode::kOutsideGrant);
  clock_.Set(T("2026-07-31T00:00:00Z"));
  auto ended = engine_->DecideForApplication(
      grant, Ask("p1", "school_legal_obligation", {"user.childrens.school_records"}));
  EXPECT_EQ(ended.status().code(), ErrorCode::kGrantExpired);
  // None of them reached the person's disclosure log.
  auto view = engine_->ReadSubject("p1", "test", "records_read");
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->disclosures.empty());
}

TEST_F(ApplicationGrantTest, AnAllowedDecisionIsAuditedAndListedInTheAccessPackage) {
  AddPupil("p1");
  const ApplicationGrant grant = Planner();
  const int64_t head = engine_->audit().head_seq();
  auto allowed = engine_->DecideForApplication(
      grant, Ask("p1", "school_legal_obligation", {"user.childrens.school_records"}));
  ASSERT_TRUE(allowed.ok()) << allowed.status().ToString();
  ASSERT_TRUE(allowed->allow);
  // The decision and the disclosure, in one commit.
  ASSERT_TRUE(engine_->Flush().ok());
  auto entries = AuditAfter(head);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].action, "decide");
  EXPECT_EQ(entries[1].action, "disclosure");
  EXPECT_EQ(entries[1].actor, "token:0123456789abcdef");
  auto view = engine_->ReadSubject("p1", "test", "records_read");
  ASSERT_TRUE(view.ok());
  ASSERT_EQ(view->disclosures.size(), 1u);
  EXPECT_EQ(view->disclosures[0].recipient, "third_party_applications");
  EXPECT_EQ(view->disclosures[0].application, "Homework Planner");

  // ProgressTeaching forwards a person's request to their school: the package the school
  // gives them is built from the same view.
  AccessPackage package =
      BuildAccessPackage(engine_->policy(), PackageMeta{"a1", clock_.Now(), clock_.Now()}, {*view});
  rapidjson::Document doc;
  doc.Parse(package.json.c_str());
  ASSERT_TRUE(doc.IsObject());
  const auto& disclosures = doc["subjects"][0]["disclosures"];
  ASSERT_EQ(disclosures.Size(), 1u);
  EXPECT_STREQ(disclosures[0]["application"].GetString(), "Homework Planner");
  EXPECT_NE(package.html.find("Homework Planner (Third-party applications your school authorises)"),
            std::string::npos);
}

TEST_F(ApplicationGrantTest, ADeniedDecisionIsAuditedButDisclosesNothing) {
  AddPupil("p1");
  // The person's processing is restricted: the school may not use it, nor may an application.
  ASSERT_TRUE(engine_->Restrict("p1", {}, "accuracy contested", std::nullopt).ok());
  const int64_t head = engine_->audit().head_seq();
  auto denied = engine_->DecideForApplication(
      Planner(), Ask("p1", "school_legal_obligation", {"user.childrens.school_records"}));
  ASSERT_TRUE(denied.ok()) << denied.status().ToString();
  EXPECT_FALSE(denied->allow);
  ASSERT_TRUE(engine_->Flush().ok());
  auto entries = AuditAfter(head);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].action, "decide");
  auto view = engine_->ReadSubject("p1", "test", "records_read");
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->disclosures.empty());
}

TEST_F(ApplicationGrantTest, GrantsAndRevocationsAreAudited) {
  const int64_t head = engine_->audit().head_seq();
  ASSERT_TRUE(engine_->RecordApplicationGrant(Planner(), "token:dpo").ok());
  ASSERT_TRUE(engine_->RecordApplicationRevocation(Planner(), "token:dpo").ok());
  auto entries = AuditAfter(head);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].action, "application_authorised");
  EXPECT_NE(entries[0].detail.find("Homework Planner"), std::string::npos);
  EXPECT_NE(entries[0].detail.find("2026-07-31"), std::string::npos);
  EXPECT_EQ(entries[1].action, "application_revoked");
  // A grant the policy does not allow is neither made nor audited.
  ApplicationGrant bad = Planner();
  bad.recipient = "sub_processors";
  EXPECT_EQ(engine_->RecordApplicationGrant(bad, "token:dpo").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(engine_->audit().head_seq(), head + 2);
}

}  // namespace
}  // namespace custos::engine
