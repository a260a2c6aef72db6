// Notices of a changed policy: loading a version that changes something material for people
// queues, through the outbox, one plain-language notice to each person a change reaches, sealed
// with that person's key, never twice, and only to those the change is about.
// Seeds: Pluggin (004) "If we collect materially different personal data or materially change
// how we use your data, we will notify you and will also modify this Privacy Policy";
// ProtectUK (003) "If we need to use your personal data for an unrelated purpose, we will notify
// you and we will explain the legal basis which allows us to do so"; ProgressTeaching (001)
// "Where you have given us your email address, we may use this to notify you of such changes".
#include "engine/policy_change_notice.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/engine.h"
#include "engine_on_sqlite.h"
#include "policy/loader.h"
#include "policy/policy_diff.h"

namespace custos::engine {
namespace {

namespace fs = std::filesystem;

Timestamp T(const char* text) { return *Timestamp::Parse(text); }

std::string SeedText(const std::string& file) {
  std::ifstream in(std::string(CUSTOS_SOURCE_DIR) + "/policies/" + file + ".yaml");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Replaced(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

policy::Policy Parsed(const std::string& text) {
  policy::LoadOutcome loaded = policy::CheckPolicyText(text, "wig.yaml");
  EXPECT_TRUE(loaded.ok()) << loaded.Report();
  return loaded.policy;
}

// WIG's policy, and a next version that also uses members' job titles for key membership
// information and keeps members' contact details six years instead of five: both about
// members only.
const std::string& WigV1() {
  static const std::string text = SeedText("wig");
  return text;
}
const std::string& WigV2() {
  static const std::string text = Replaced(
      Replaced(Replaced(WigV1(), "version: \"2022-02-10\"", "version: \"2027-01-01\""),
               "    categories: [user.name, user.contact]\n    subjects: [member]",
               "    categories: [user.name, user.contact, user.job_title]\n    subjects: [member]"),
      "    after: membership_ended\n    period: P5Y\n    action: delete\n    description: >-\n"
      "      We keep your contact details while",
      "    after: membership_ended\n    period: P6Y\n    action: delete\n    description: >-\n"
      "      We keep your contact details while");
  return text;
}

class PolicyChangeNoticeTest : public EngineOnSqlite {
 protected:
  void SetUp() override {
    OpenSeed("wig", "wig", T("2026-03-01T09:00:00Z"));
    Load(WigV1());
    Person("m1", "member", {{"email", "member.one@example.test", true}});
    Person("m2", "member", {{"phone", "+447700900123", true}});
    Person("n1", "non_member", {{"email", "non.member@example.test", true}});
  }

  // Opens the engine on `text` (as a restarted server with an edited policy file would).
  void Load(const std::string& text) {
    engine_.reset();
    engine_ = std::make_unique<Engine>(Parsed(text), "wig", *store_, master_, clock_);
    Status opened = engine_->Open(text);
    ASSERT_TRUE(opened.ok()) << opened.ToString();
  }

  void Person(const std::string& id, const std::string& type, std::vector<Identifier> ids) {
    NewSubject subject;
    subject.subject_id = id;
    subject.types = {type};
    subject.identifiers = std::move(ids);
    ASSERT_TRUE(engine_->AddSubject(subject).ok());
  }

  std::vector<store::OutboxRow> Notices(const std::string& subject_id) {
    auto rows = store_->ListOutbox("wig", "person:" + subject_id);
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? *rows : std::vector<store::OutboxRow>{};
  }

  std::string LastLoadDetail() {
    std::string detail;
    EXPECT_TRUE(store_
                    ->ScanAudit(1,
                                [&](const store::AuditRow& row) {
                                  if (row.action == "policy_loaded") detail = row.detail;
                                  return true;
                                })
                    .ok());
    return detail;
  }
};

TEST_F(PolicyChangeNoticeTest, AMaterialChangeQueuesOneNoticeToEachPersonItReachesByEmail) {
  clock_.Set(T("2027-01-01T08:00:00Z"));
  Load(WigV2());
  // The member with an e-mail address is told; the member with only a phone number is counted,
  // not written to (ProgressTeaching: "where you have given us your email address"); the
  // non-member is untouched: both changes are about members.
  std::vector<store::OutboxRow> m1 = Notices("m1");
  ASSERT_EQ(m1.size(), 1u);
  EXPECT_EQ(m1[0].kind, "policy_change_notice");
  EXPECT_EQ(m1[0].target, "requester");
  EXPECT_EQ(m1[0].state, store::OutboxState::kManual) << "no mail server set yet";
  EXPECT_TRUE(Notices("m2").empty());
  EXPECT_TRUE(Notices("n1").empty());
  EXPECT_EQ(LastLoadDetail(),
            "notice 2027-01-01 (was 2022-02-10); 2 material change(s); 1 notice(s) of the "
            "changes queued to people, 1 without an e-mail address");
  // The new version is in force and the old one kept.
  auto row = store_->GetController("wig");
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->policy_version, "2027-01-01");

  // The message, as a person reads it out of the outbox.
  auto payload = engine_->ReadOutboxMessage(m1[0].outbox_id, "dpo");
  ASSERT_TRUE(payload.ok()) << payload.status().ToString();
  rapidjson::Document doc;
  doc.Parse(payload->c_str());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_STREQ(doc["to"]["kind"].GetString(), "email");
  EXPECT_STREQ(doc["to"]["value"].GetString(), "member.one@example.test");
  EXPECT_STREQ(doc["request_id"].GetString(), "person:m1");
  EXPECT_STREQ(doc["subject"].GetString(),
               "The Whitehall & Industry Group (WIG) has changed how it uses your personal "
               "information");
  const std::string body = doc["body"].GetString();
  EXPECT_NE(body.find("We have updated our privacy notice (version 2027-01-01)"), std::string::npos)
      << body;
  EXPECT_NE(body.find("- For Key membership information, we now also use: "), std::string::npos)
      << body;
  EXPECT_NE(body.find("How long we keep your information has changed: "), std::string::npos)
      << body;
  EXPECT_NE(body.find("6 years"), std::string::npos) << body;
  EXPECT_NE(body.find("(before: 5 years)"), std::string::npos) << body;

  // Nothing of the address in the database's files.
  for (const auto& entry : fs::directory_iterator(dir_)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find("member.one@example.test"), std::string::npos) << entry.path();
  }
}

TEST_F(PolicyChangeNoticeTest, TheSameNoticeIsNeverQueuedTwice) {
  clock_.Set(T("2027-01-01T08:00:00Z"));
  Load(WigV2());
  ASSERT_EQ(Notices("m1").size(), 1u);
  // Opened again with the same version: nothing new to tell.
  Load(WigV2());
  EXPECT_EQ(Notices("m1").size(), 1u);
  // Back to the old version (less data, shorter keeping: nothing material) and forward again,
  // as a load cut short before the new version was recorded would be run again: the notice
  // already queued is not queued a second time.
  Load(WigV1());
  EXPECT_EQ(Notices("m1").size(), 1u);
  EXPECT_NE(LastLoadDetail().find("0 material change(s)"), std::string::npos) << LastLoadDetail();
  Load(WigV2());
  EXPECT_EQ(Notices("m1").size(), 1u);
  EXPECT_NE(LastLoadDetail().find("1 notice(s) of the changes queued"), std::string::npos)
      << LastLoadDetail();
}

TEST_F(PolicyChangeNoticeTest, ANoticeGoesByTheMailServerOnceOneIsSetAndIsRecordedDelivered) {
  clock_.Set(T("2027-01-01T08:00:00Z"));
  Load(WigV2());
  ASSERT_TRUE(engine_->SetRecipientEndpoint("requester", "smtp://127.0.0.1:2525", "", {}).ok());
  ASSERT_EQ(Notices("m1")[0].state, store::OutboxState::kPending);
  auto claimed = engine_->ClaimDeliveries(10, 60'000'000);
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_NE((*claimed)[0].payload.find("member.one@example.test"), std::string::npos);
  ASSERT_TRUE(engine_->RecordDelivery((*claimed)[0], true, "").ok());
  std::vector<store::OutboxRow> m1 = Notices("m1");
  EXPECT_EQ(m1[0].state, store::OutboxState::kDelivered);
  EXPECT_TRUE(m1[0].sealed_payload.empty()) << "only the digest is kept once delivered";
}

// A person erased before their notice left: it cannot be opened any more (it was sealed with
// their key), and it is given up, not left for someone to send by hand.
TEST_F(PolicyChangeNoticeTest, ANoticeToAPersonErasedMeanwhileIsGivenUp) {
  clock_.Set(T("2027-01-01T08:00:00Z"));
  Load(WigV2());
  ASSERT_EQ(Notices("m1").size(), 1u);
  NewRequest request;
  request.request_id = "r1";
  request.type = "erasure";
  request.intake = "staff";
  request.subject_id = "m1";
  request.verification = "member_portal";
  ASSERT_TRUE(engine_->OpenRequest(request).ok());
  auto fulfilled = engine_->FulfilRequest("r1", "", std::nullopt);
  ASSERT_TRUE(fulfilled.ok()) << fulfilled.status().ToString();
  std::vector<store::OutboxRow> m1 = Notices("m1");
  EXPECT_EQ(m1[0].state, store::OutboxState::kDead);
  EXPECT_EQ(m1[0].last_error, "SUBJECT_ERASED");
  EXPECT_TRUE(m1[0].sealed_payload.empty());
  EXPECT_FALSE(engine_->ReadOutboxMessage(m1[0].outbox_id, "dpo").ok());
  // A mail server set afterwards sends it to nobody.
  ASSERT_TRUE(engine_->SetRecipientEndpoint("requester", "smtp://127.0.0.1:2525", "", {}).ok());
  auto claimed = engine_->ClaimDeliveries(10, 60'000'000);
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  for (const auto& delivery : *claimed) EXPECT_NE(delivery.request_id, "person:m1");
  EXPECT_EQ(Notices("m1")[0].state, store::OutboxState::kDead);
}

// The words, on the policy model directly: a new purpose resting on consent says its legal
// basis (ProtectUK: "we will explain the legal basis") and that consent is asked first.
TEST(PolicyChangeNoticeWords, ANewConsentPurposeNamesItsBasisAndAsksFirstAndReachesOnlyItsPeople) {
  const policy::Policy before = Parsed(WigV1());
  policy::Policy after = before;
  after.notice.version = "2027-02-01";
  policy::Purpose podcast;
  podcast.key = "podcast";
  podcast.name = "Our podcast";
  podcast.description = "We invite members to speak on our podcast";
  podcast.basis = policy::LawfulBasis::kConsent;
  podcast.subjects = {{"member", {}}};
  podcast.categories = {{"user.name", {}}};
  after.purposes.push_back(podcast);
  const std::vector<policy::PolicyChange> changes = policy::DiffPolicies(before, after);
  EXPECT_TRUE(ChangesReaching(after, changes, {"non_member"}).empty());
  const std::vector<policy::PolicyChange> reaching = ChangesReaching(after, changes, {"member"});
  ASSERT_EQ(reaching.size(), 1u);
  EXPECT_EQ(reaching[0].kind, "purpose_added");
  const PolicyChangeNotice notice = PolicyChangeNoticeFor(before, after, reaching);
  EXPECT_NE(notice.body.find("- We now use your information for a new purpose: Our podcast. We "
                             "invite members to speak on our podcast. The legal basis for it is "
                             "your consent. We will ask for your consent first"),
            std::string::npos)
      << notice.body;
  EXPECT_NE(notice.body.find("If you have questions, or want to use your rights, contact "),
            std::string::npos);
  EXPECT_EQ(notice.body, PolicyChangeNoticeFor(before, after, reaching).body) << "deterministic";
}

// A retention period the notice leaves out (`period_stated: false`) is not told either: the
// message says no more than the notice.
TEST(PolicyChangeNoticeWords, AnUnstatedRetentionPeriodReachesNobody) {
  const policy::Policy before = Parsed(WigV1());
  policy::Policy after = before;
  ASSERT_FALSE(after.retention.empty());
  after.retention[0].period.text = "P9Y";
  after.retention[0].period.value->years = 9;
  after.retention[0].period_stated = false;
  const std::vector<policy::PolicyChange> changes = policy::DiffPolicies(before, after);
  ASSERT_FALSE(changes.empty());
  EXPECT_TRUE(changes[0].material);
  EXPECT_TRUE(ChangesReaching(after, changes, {"member"}).empty());
  after.retention[0].period_stated = true;
  EXPECT_EQ(ChangesReaching(after, changes, {"member"}).size(), 1u);
}

}  // namespace
}  // namespace custos::engine
