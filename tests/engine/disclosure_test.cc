// The disclosure log through the Engine over a real SqliteStore: only what the policy told the
// person may be recorded; access packages list the recipients that actually received the data
// (UK GDPR Article 15(1)(c)); Article 19 notices go to the recipients the person's data actually
// went to ("each recipient to whom the personal data have been disclosed"), not to every
// recipient a purpose names.
// Seed: wig (002) "We may share your information with event venues ... where the information is
// necessary to deliver the service you asked for".
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <set>

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

class DisclosureTest : public EngineOnSqlite {
 protected:
  void SetUp() override { OpenSeed("wig", "wig", T("2026-03-01T09:00:00Z")); }

  // A member who booked an event: consent, and their name kept for it.
  void Booked(const std::string& id) {
    NewSubject subject;
    subject.subject_id = id;
    subject.types = {"member"};
    subject.identifiers = {{"email", id + "@example.test", true}};
    ASSERT_TRUE(engine_->AddSubject(subject).ok());
    ConsentChangeRequest consent;
    consent.subject_id = id;
    consent.target = "event_bookings";
    ASSERT_TRUE(engine_->ChangeConsent(consent).ok());
    NewRecord record;
    record.subject_id = id;
    record.category = "user.name";
    record.value = "Name of " + id;
    record.source = "direct";
    record.purpose = "event_bookings";
    ASSERT_TRUE(engine_->PutRecord(record).ok());
  }

  // Erases `subject` through a request staff open; returns the recipients told.
  std::set<std::string> ErasureNoticesFor(const std::string& subject, const std::string& id) {
    NewRequest request;
    request.request_id = id;
    request.type = "erasure";
    request.intake = "staff";
    request.subject_id = subject;
    request.verification = "member_portal";
    EXPECT_TRUE(engine_->OpenRequest(request).ok());
    auto fulfilled = engine_->FulfilRequest(id, "", std::nullopt);
    EXPECT_TRUE(fulfilled.ok()) << fulfilled.status().ToString();
    std::set<std::string> told;
    auto outbox = store_->ListOutbox("wig", id);
    EXPECT_TRUE(outbox.ok());
    for (const auto& message : *outbox) {
      if (message.kind == "recipient_notice") told.insert(message.target);
    }
    return told;
  }
};

TEST_F(DisclosureTest, OnlyWhatThePolicyToldThePersonMayBeRecorded) {
  Booked("m1");
  Disclosure d{"m1", "event_venues", "event_bookings", {"user.name"}, std::nullopt, "app"};
  auto id = engine_->RecordDisclosure(d);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_GT(*id, 0);
  Disclosure unknown = d;
  unknown.recipient = "data_brokers";
  EXPECT_EQ(engine_->RecordDisclosure(unknown).status().code(), ErrorCode::kInvalidArgument);
  Disclosure unnamed = d;  // the newsletter does not go to event venues
  unnamed.purpose = "newsletter";
  unnamed.categories = {"user.contact.email"};
  auto refused = engine_->RecordDisclosure(unnamed);
  EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("does not name recipient"), std::string::npos);
  Disclosure unused = d;
  unused.categories = {"user.financial"};
  EXPECT_EQ(engine_->RecordDisclosure(unused).status().code(), ErrorCode::kInvalidArgument);
  Disclosure nobody = d;
  nobody.subject_id = "m9";
  EXPECT_EQ(engine_->RecordDisclosure(nobody).status().code(), ErrorCode::kUnknownSubject);
  auto view = engine_->ReadSubject("m1", "test", "records_read");
  ASSERT_TRUE(view.ok());
  ASSERT_EQ(view->disclosures.size(), 1u);
  EXPECT_EQ(view->disclosures[0].recipient, "event_venues");
  EXPECT_EQ(view->disclosures[0].categories, std::vector<std::string>{"user.name"});
}

TEST_F(DisclosureTest, ErasureNoticesGoToTheRecipientsThatActuallyReceivedTheData) {
  // Without a log: the recipients the purposes name (a venue only "where necessary" is left
  // out, for custos cannot know the occasion arose).
  Booked("m1");
  EXPECT_EQ(ErasureNoticesFor("m1", "r1"), (std::set<std::string>{"third_party_platforms"}));
  // With one: exactly the recipients it names, the venue included.
  Booked("m2");
  ASSERT_TRUE(engine_
                  ->RecordDisclosure(
                      {"m2", "event_venues", "event_bookings", {"user.name"}, std::nullopt, "app"})
                  .ok());
  EXPECT_EQ(ErasureNoticesFor("m2", "r2"), (std::set<std::string>{"event_venues"}));
}

TEST_F(DisclosureTest, TheAccessPackageListsWhoReceivedTheData) {
  Booked("m1");
  ASSERT_TRUE(engine_
                  ->RecordDisclosure({"m1",
                                      "event_venues",
                                      "event_bookings",
                                      {"user.name"},
                                      T("2026-02-10T12:00:00Z"),
                                      "app"})
                  .ok());
  NewRequest request;
  request.request_id = "a1";
  request.type = "access";
  request.intake = "staff";
  request.subject_id = "m1";
  request.verification = "member_portal";
  ASSERT_TRUE(engine_->OpenRequest(request).ok());
  ASSERT_TRUE(engine_->FulfilRequest("a1", "", std::nullopt).ok());
  auto json = engine_->RequestDocument("a1", "json");
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  rapidjson::Document doc;
  doc.Parse(json->c_str());
  ASSERT_TRUE(doc.IsObject());
  const auto& disclosures = doc["subjects"][0]["disclosures"];
  ASSERT_EQ(disclosures.Size(), 1u);
  EXPECT_STREQ(disclosures[0]["recipient"].GetString(), "event_venues");
  EXPECT_STREQ(disclosures[0]["at"].GetString(), "2026-02-10T12:00:00Z");
  auto html = engine_->RequestDocument("a1", "html");
  ASSERT_TRUE(html.ok());
  EXPECT_NE(html->find("Who received your data"), std::string::npos);
}

}  // namespace
}  // namespace custos::engine
