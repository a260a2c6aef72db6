// Engine over a real SqliteStore: sealing at rest, the consent ledger, the audit chain.
#include "engine/engine.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "crypto/key.h"
#include "crypto/master_key.h"
#include "engine/audit_log.h"
#include "policy/loader.h"
#include "store/forwarding_store.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::engine {
namespace {

namespace fs = std::filesystem;

Timestamp T(const char* text) { return *Timestamp::Parse(text); }

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() /
        ("custos-engine-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    auto policy = policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) +
                                          "/tests/fixtures/policy/valid/decisions.yaml");
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();
    Reopen(std::move(*policy));
  }
  void TearDown() override {
    engine_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }
  void Reopen(policy::Policy policy) {
    engine_.reset();
    store_.reset();
    auto store = store::OpenSqliteStore({dir_.string(), true});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    engine_ = std::make_unique<Engine>(std::move(policy), "club", *store_, master_, clock_);
    ASSERT_TRUE(engine_->Open("policy text").ok());
  }

  std::string AddMember(const std::string& id, const std::string& email) {
    NewSubject request;
    request.subject_id = id;
    request.types = {"member"};
    request.identifiers = {{"email", email, true}};
    request.at = T("2021-01-01");
    auto added = engine_->AddSubject(request);
    EXPECT_TRUE(added.ok()) << added.status().ToString();
    return added.ok() ? *added : "";
  }

  fs::path dir_;
  crypto::MasterKey master_ = crypto::MasterKey::FromSecretForTesting(crypto::SecretKey::Random());
  FixedClock clock_{T("2021-06-01")};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Engine> engine_;
};

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TEST_F(EngineTest, NoPlaintextInTheDatabaseWalOrJournal) {
  // DESIGN: "Personal values are sealed at rest with per-subject data keys".
  const std::vector<std::string> secrets = {"alice.plaintext@example.test", "+447700900123",
                                            "Alice Plaintextperson", "Severe nut allergy XYZZY",
                                            "203.0.113.77"};
  NewSubject request;
  request.subject_id = "s1";
  request.types = {"member"};
  request.identifiers = {{"email", secrets[0], true}, {"phone", secrets[1], false}};
  ASSERT_TRUE(engine_->AddSubject(request).ok());
  ASSERT_TRUE(engine_
                  ->PutRecord({"s1", "user.name", secrets[2], "direct", "event_booking",
                               T("2021-02-01"), "test"})
                  .ok());
  ASSERT_TRUE(engine_
                  ->PutRecord({"s1", "user.health_and_medical.access_needs", secrets[3], "direct",
                               "event_booking", T("2021-02-01"), "test"})
                  .ok());
  ConsentChangeRequest consent;
  consent.subject_id = "s1";
  consent.target = "event_booking";
  consent.evidence = secrets[4];
  ASSERT_TRUE(engine_->ChangeConsent(consent).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  // Read back through the engine: the values are really there.
  auto view = engine_->ReadSubject("s1", "test", "test");
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  ASSERT_EQ(view->records.size(), 2u);
  EXPECT_EQ(view->records[1].value, secrets[3]);
  EXPECT_EQ(view->identifiers[0].value, secrets[0]);
  // Search every file of the data directory while the database is still open (WAL present).
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    std::string bytes = ReadAll(entry.path());
    ++files;
    for (const auto& secret : secrets) {
      EXPECT_EQ(bytes.find(secret), std::string::npos)
          << "plaintext found in " << entry.path().filename();
    }
  }
  EXPECT_GE(files, 1);
}

TEST_F(EngineTest, ADecisionAboutAnUnknownIdKeepsOnlyAKeyedHashOfItInTheAuditLog) {
  // A caller may send an email or a phone number where a subject id belongs; the decision is
  // audited (UK GDPR Art. 5(2), accountability) but the audit log is never a plaintext store of
  // personal data (Art. 32): it keeps "unknown:" and a keyed hash, the same for the same id.
  AddMember("s1", "known.member@example.test");
  const std::vector<std::string> unknown = {"unknown.caller@example.test", "+447700900999"};
  for (const auto& id : unknown) {
    DecisionRequest ask{id, "event_booking", {"user.name"}, "", T("2021-06-01"), "test"};
    EXPECT_TRUE(engine_->Decide(ask)->Has(ErrorCode::kUnknownSubject));
    EXPECT_TRUE(engine_->Decide(ask)->Has(ErrorCode::kUnknownSubject));
  }
  EXPECT_TRUE(engine_->Decide({"s1", "event_booking", {"user.name"}, "", T("2021-06-01"), "test"})
                  ->Has(ErrorCode::kConsentMissing));
  ASSERT_TRUE(engine_->Flush().ok());
  // The audit rows as the store holds them.
  std::vector<std::string> subjects;
  ASSERT_TRUE(store_
                  ->ScanAudit(1,
                              [&](const store::AuditRow& row) {
                                if (row.action == "decide") subjects.push_back(row.subject_id);
                                return true;
                              })
                  .ok());
  ASSERT_EQ(subjects.size(), 5u);
  EXPECT_EQ(subjects[0].rfind("unknown:", 0), 0u) << subjects[0];
  EXPECT_EQ(subjects[0].size(), std::string("unknown:").size() + 32);
  EXPECT_EQ(subjects[0], subjects[1]) << "the same id gives the same marker";
  EXPECT_NE(subjects[0], subjects[2]) << "another id another";
  EXPECT_EQ(subjects[4], "s1") << "a known subject is named";
  // And as the file holds them: the database, its WAL, its journal.
  for (const auto& entry : fs::directory_iterator(dir_)) {
    std::string bytes = ReadAll(entry.path());
    for (const auto& id : unknown) {
      EXPECT_EQ(bytes.find(id), std::string::npos) << id << " in " << entry.path().filename();
    }
  }
  // The chain still verifies with the markers in it.
  auto verified = AuditLog::Verify(*store_, master_.AuditChainKey());
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_FALSE(verified->first_broken_seq.has_value()) << verified->problem;
}

TEST_F(EngineTest, FindsSubjectsByIdentifierThroughTheBlindIndex) {
  AddMember("s1", "Bob@Example.test");
  AddMember("s2", "carol@example.test");
  auto found = engine_->FindSubjects("email", "  bob@example.TEST ");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, std::vector<std::string>{"s1"});
}

TEST_F(EngineTest, ConsentLedgerDrivesDecisionsAndSurvivesRestart) {
  // WIG 002: "You are able to remove your consent at any time."
  AddMember("s1", "dora@example.test");
  DecisionRequest ask{"s1", "event_booking", {"user.name"}, "", T("2021-06-01"), "test"};
  EXPECT_TRUE(engine_->Decide(ask)->Has(ErrorCode::kConsentMissing));
  ConsentChangeRequest give;
  give.subject_id = "s1";
  give.target = "event_booking";
  give.at = T("2021-03-01");
  ASSERT_TRUE(engine_->ChangeConsent(give).ok());
  EXPECT_TRUE(engine_->Decide(ask)->allow);
  ConsentChangeRequest withdraw = give;
  withdraw.given = false;
  withdraw.at = T("2021-05-01");
  ASSERT_TRUE(engine_->ChangeConsent(withdraw).ok());
  EXPECT_TRUE(engine_->Decide(ask)->Has(ErrorCode::kConsentWithdrawn));
  // The ledger is append-only: both events remain, in order.
  auto policy = engine_->policy();
  Reopen(policy);
  EXPECT_TRUE(engine_->Decide(ask)->Has(ErrorCode::kConsentWithdrawn));
  auto events = store_->ListConsentEvents("club", "s1");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].action, store::ConsentAction::kGiven);
  EXPECT_EQ((*events)[0].notice_version, "2022-02-10");
  EXPECT_EQ((*events)[1].action, store::ConsentAction::kWithdrawn);
}

// A person who changes their mind often costs the decision cache bounded memory (the soak saw
// about 55 bytes per change kept for good); a decision about an earlier moment still gets the
// ledger's answer for that moment, read from the store.
TEST_F(EngineTest, ACachedPersonKeepsTheLatestConsentChangesAndOlderMomentsAreStillExact) {
  AddMember("s1", "fay@example.test");
  constexpr int kChanges = 40;
  for (int i = 0; i < kChanges; ++i) {
    ConsentChangeRequest change;
    change.subject_id = "s1";
    change.target = "event_booking";
    change.given = i % 2 == 0;  // given on even days, withdrawn on odd ones
    change.at = Timestamp{T("2021-02-01").micros + int64_t{86400} * i * 1000000};
    ASSERT_TRUE(engine_->ChangeConsent(change).ok());
  }
  // Day d of the changes, plus an hour: just after that day's change.
  auto day = [](int d) {
    return Timestamp{T("2021-02-01").micros + (int64_t{86400} * d + 3600) * 1000000};
  };
  auto ask = [&](Timestamp at) {
    DecisionRequest request{"s1", "event_booking", {"user.name"}, "", at, "test"};
    return *engine_->Decide(request);
  };
  // Now (after the last change, a withdrawal) and inside the kept window: from the cache.
  EXPECT_TRUE(ask(T("2021-06-01")).Has(ErrorCode::kConsentWithdrawn));
  EXPECT_TRUE(ask(day(kChanges - 2)).allow);
  uint64_t misses = engine_->subject_cache_stats().misses;
  // Long before the kept window: given on day 2, withdrawn on day 3, never before day 0.
  EXPECT_TRUE(ask(day(2)).allow);
  EXPECT_TRUE(ask(day(3)).Has(ErrorCode::kConsentWithdrawn));
  EXPECT_TRUE(ask(T("2021-01-15")).Has(ErrorCode::kConsentMissing));
  // Those were read from the store for the decision alone: the cache was not refilled.
  EXPECT_EQ(engine_->subject_cache_stats().misses, misses);
  EXPECT_TRUE(ask(T("2021-06-01")).Has(ErrorCode::kConsentWithdrawn));
}

TEST_F(EngineTest, ConsentRecordsExportShapedAfterIso27560) {
  AddMember("s1", "erin@example.test");
  ConsentChangeRequest give;
  give.subject_id = "s1";
  give.target = "event_booking";
  give.channel = "web";
  give.evidence = "form:booking-2021";
  give.at = T("2021-03-01");
  ASSERT_TRUE(engine_->ChangeConsent(give).ok());
  auto json = engine_->ExportConsentRecords("s1");
  ASSERT_TRUE(json.ok());
  for (const char* field :
       {"\"pii_principal_id\":\"s1\"", "\"event_type\":\"given\"", "\"lawful_basis\":\"consent\"",
        "\"notice_version\":\"2022-02-10\"", "\"collection_method\":\"web\"",
        "\"evidence\":\"form:booking-2021\"", "\"event_time\":\"2021-03-01T00:00:00Z\""}) {
    EXPECT_NE(json->find(field), std::string::npos) << field << " in " << *json;
  }
}

TEST_F(EngineTest, SuppressionStopsMarketingEvenAfterReimport) {
  // ProgressTeaching 001: "we may hold a list of the 'opt out' requests to administer your
  // request" — importing the same person again never re-enables marketing.
  AddMember("s1", "frank@example.test");
  DecisionRequest ask{"s1", "opportunities", {"user.contact.email"}, "", T("2021-06-01"), "t"};
  EXPECT_TRUE(engine_->Decide(ask)->allow);
  ASSERT_TRUE(engine_->Suppress("email", "FRANK@example.test", "marketing_opt_out", {}).ok());
  EXPECT_TRUE(engine_->Decide(ask)->Has(ErrorCode::kSuppressed));
  AddMember("s2", "frank@example.test");
  ask.subject_id = "s2";
  EXPECT_TRUE(engine_->Decide(ask)->Has(ErrorCode::kSuppressed));
}

TEST_F(EngineTest, ObjectionAndRestrictionChangeDecisionsFromThatMoment) {
  AddMember("s1", "gail@example.test");
  DecisionRequest ask{"s1", "membership_records", {"user.job_title"}, "", T("2021-06-01"), "t"};
  EXPECT_TRUE(engine_->Decide(ask)->allow);
  ASSERT_TRUE(engine_->Object("s1", "membership_records", T("2021-05-01")).ok());
  EXPECT_TRUE(engine_->Decide(ask)->Has(ErrorCode::kObjected));
  ask.at = T("2021-04-01");  // before the objection
  EXPECT_TRUE(engine_->Decide(ask)->allow);
  auto restriction =
      engine_->Restrict("s1", {"user.job_title"}, "accuracy_contested", T("2021-03-01"));
  ASSERT_TRUE(restriction.ok());
  EXPECT_TRUE(engine_->Decide(ask)->Has(ErrorCode::kRestricted));
  ASSERT_TRUE(engine_->LiftRestriction("s1", *restriction, T("2021-03-15")).ok());
  EXPECT_TRUE(engine_->Decide(ask)->allow);
}

TEST_F(EngineTest, RejectsWhatThePolicyDoesNotAllow) {
  AddMember("s1", "hal@example.test");
  NewSubject bad_type;
  bad_type.types = {"alien"};
  EXPECT_EQ(engine_->AddSubject(bad_type).status().code(), ErrorCode::kUnknownSubjectType);
  EXPECT_EQ(engine_->PutRecord({"s1", "user.job_title", "x", "direct", "event_booking", {}, "t"})
                .status()
                .code(),
            ErrorCode::kInvalidArgument);  // event booking does not collect job titles
  EXPECT_EQ(engine_->RecordEvent("s1", "no_such_event", {}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(engine_->RecordEvent("nobody", "membership_ended", {}).code(),
            ErrorCode::kUnknownSubject);
  NewSubject again;
  again.subject_id = "s1";
  again.types = {"member"};
  EXPECT_EQ(engine_->AddSubject(again).status().code(), ErrorCode::kAlreadyExists);
}

// Writes fail while `failing` is set, as on a full or lost disk.
class WritesFail final : public store::ForwardingStore {
 public:
  explicit WritesFail(store::Store& base) : ForwardingStore(base) {}
  Result<store::AppliedIds> Apply(const store::WriteBatch& batch) override {
    if (failing) return Status(ErrorCode::kIo, "disk gone");
    return ForwardingStore::Apply(batch);
  }
  Result<std::vector<store::AppliedIds>> ApplyGroup(
      const std::vector<const store::WriteBatch*>& batches) override {
    if (failing) return Status(ErrorCode::kIo, "disk gone");
    return ForwardingStore::ApplyGroup(batches);
  }
  bool failing = false;
};

policy::Policy Fixture() {
  auto policy = policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) +
                                        "/tests/fixtures/policy/valid/decisions.yaml");
  EXPECT_TRUE(policy.ok()) << policy.status().ToString();
  return std::move(*policy);
}

int64_t DecideEntries(store::Store& store) {
  int64_t entries = 0;
  EXPECT_TRUE(store
                  .ScanAudit(1,
                             [&](const store::AuditRow& row) {
                               entries += row.action == "decide" ? 1 : 0;
                               return true;
                             })
                  .ok());
  return entries;
}

// Decisions fail closed: by default a decision is given only once its audit entry is stored,
// and not at all when it cannot be.
TEST_F(EngineTest, ADecisionIsGivenOnlyOnceItsAuditEntryIsStored) {
  AddMember("s1", "ada@example.test");
  DecisionRequest ask{"s1", "membership_records", {"user.name"}, "", T("2021-06-01"), "t"};
  EXPECT_EQ(engine_->decision_audit(), DecisionAudit::kDurable);
  auto decided = engine_->Decide(ask);
  ASSERT_TRUE(decided.ok()) << decided.status().ToString();
  EXPECT_EQ(engine_->audit().buffered(), 0u);
  EXPECT_EQ(DecideEntries(*store_), 1);  // on disk before any flush

  WritesFail failing(*store_);
  Engine engine(Fixture(), "club", failing, master_, clock_);
  ASSERT_TRUE(engine.Open("policy text").ok());
  failing.failing = true;
  auto refused = engine.Decide(ask);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kIo);
  EXPECT_EQ(DecideEntries(*store_), 1);
  failing.failing = false;
  ASSERT_TRUE(engine.Decide(ask).ok());
  EXPECT_EQ(DecideEntries(*store_), 3);  // the refused decision's entry is written late, not lost
  auto verified = AuditLog::Verify(*store_, master_.AuditChainKey());
  ASSERT_TRUE(verified.ok());
  EXPECT_FALSE(verified->first_broken_seq.has_value()) << verified->problem;
}

// Buffered (an explicit, weaker choice): the decision is given at once and its entry waits for
// the next flush.
TEST_F(EngineTest, ABufferedDecisionIsGivenAtOnceAndWrittenByTheNextFlush) {
  AddMember("s1", "ada@example.test");
  Engine engine(Fixture(), "club", *store_, master_, clock_, DecisionAudit::kBuffered);
  ASSERT_TRUE(engine.Open("policy text").ok());
  DecisionRequest ask{"s1", "membership_records", {"user.name"}, "", T("2021-06-01"), "t"};
  ASSERT_TRUE(engine.Decide(ask).ok());
  EXPECT_EQ(engine.audit().buffered(), 1u);
  EXPECT_EQ(DecideEntries(*store_), 0);
  ASSERT_TRUE(engine.Flush().ok());
  EXPECT_EQ(DecideEntries(*store_), 1);
}

TEST_F(EngineTest, AuditChainCatchesOneChangedByte) {
  AddMember("s1", "ivy@example.test");
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        engine_->Decide({"s1", "membership_records", {"user.name"}, "", T("2021-06-01"), "t"})
            .ok());
  }
  ASSERT_TRUE(engine_->RecordEvent("s1", "membership_ended", T("2021-07-01")).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  auto intact = AuditLog::Verify(*store_, master_.AuditChainKey());
  ASSERT_TRUE(intact.ok());
  EXPECT_FALSE(intact->first_broken_seq.has_value()) << intact->problem;
  EXPECT_GE(intact->entries_checked, 8);
  // Change one byte of one stored entry's detail, directly in the database file.
  engine_.reset();
  store_.reset();
  ASSERT_TRUE(store::TamperWithAuditDetailForTesting(dir_.string(), 4).ok());
  auto store = store::OpenSqliteStore({dir_.string(), true});
  ASSERT_TRUE(store.ok());
  auto broken = AuditLog::Verify(**store, master_.AuditChainKey());
  ASSERT_TRUE(broken.ok());
  ASSERT_TRUE(broken->first_broken_seq.has_value());
  EXPECT_EQ(*broken->first_broken_seq, 4);
  EXPECT_EQ(broken->entries_checked, 3);
}

}  // namespace
}  // namespace custos::engine
