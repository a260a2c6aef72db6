// Two engines over one store, as two `custos serve` processes over one database are:
// each decides from its own cache, and CatchUpWithOtherWriters makes it see what the other
// wrote. Also the cache's rule that a load racing a Forget is not kept.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "crypto/key.h"
#include "crypto/master_key.h"
#include "engine/engine.h"
#include "engine/subject_state.h"
#include "policy/loader.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::engine {
namespace {

namespace fs = std::filesystem;

Timestamp T(const char* text) { return *Timestamp::Parse(text); }

class OtherWritersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("custos-other-writers-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    auto store = store::OpenSqliteStore({dir_.string(), true});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    a_ = MakeEngine("policy text");
    b_ = MakeEngine("policy text");
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }
  std::unique_ptr<Engine> MakeEngine(const std::string& policy_text) {
    auto policy = policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) +
                                          "/tests/fixtures/policy/valid/decisions.yaml");
    EXPECT_TRUE(policy.ok()) << policy.status().ToString();
    auto engine = std::make_unique<Engine>(std::move(*policy), "club", *store_, master_, clock_);
    EXPECT_TRUE(engine->Open(policy_text).ok());
    return engine;
  }

  void AddMember(Engine& engine, const std::string& id, const std::string& email) {
    NewSubject subject;
    subject.subject_id = id;
    subject.types = {"member"};
    subject.identifiers = {{"email", email, true}};
    subject.at = T("2021-01-01");
    ASSERT_TRUE(engine.AddSubject(subject).ok());
  }
  void ChangeConsent(Engine& engine, const std::string& id, bool given, const char* at) {
    ConsentChangeRequest change;
    change.subject_id = id;
    change.target = "event_booking";
    change.given = given;
    change.at = T(at);
    ASSERT_TRUE(engine.ChangeConsent(change).ok());
  }
  CatchUpReport CatchUp(Engine& engine) {
    auto report = engine.CatchUpWithOtherWriters();
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : CatchUpReport{};
  }

  fs::path dir_;
  crypto::MasterKey master_ = crypto::MasterKey::FromSecretForTesting(crypto::SecretKey::Random());
  FixedClock clock_{T("2021-06-01")};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Engine> a_, b_;
};

const DecisionRequest kBooking{"s1", "event_booking", {"user.name"}, "", T("2021-06-01"), "t"};

TEST_F(OtherWritersTest, ConsentWithdrawnThroughOneEngineIsDeniedByTheOtherOnceItCatchesUp) {
  AddMember(*a_, "s1", "s1@example.test");
  ChangeConsent(*a_, "s1", true, "2021-03-01");
  EXPECT_TRUE(b_->Decide(kBooking)->allow);  // b loads s1, consent given
  ChangeConsent(*a_, "s1", false, "2021-05-01");
  // Until b reads the chain it answers from what it loaded: the bound of coherence is how
  // often it catches up.
  EXPECT_TRUE(b_->Decide(kBooking)->allow);
  CatchUpReport report = CatchUp(*b_);
  EXPECT_EQ(report.changes_by_others, 3);  // subject_add, consent_given, consent_withdrawn
  EXPECT_EQ(report.subjects_forgotten, 1);
  EXPECT_FALSE(b_->IsCachedForTesting("s1"));
  Decision decision = b_->Decide(kBooking).value();
  EXPECT_FALSE(decision.allow);
  EXPECT_TRUE(decision.Has(ErrorCode::kConsentWithdrawn));
  // Nothing new: nothing forgotten, s1 stays cached.
  report = CatchUp(*b_);
  EXPECT_EQ(report.changes_by_others, 0);
  EXPECT_TRUE(b_->IsCachedForTesting("s1"));
}

TEST_F(OtherWritersTest, AnEnginesOwnWritesAndDecisionsCostItNoReload) {
  AddMember(*b_, "s1", "s1@example.test");
  ChangeConsent(*b_, "s1", true, "2021-03-01");
  ASSERT_TRUE(b_->Object("s1", "membership_records", T("2021-04-01")).ok());
  ASSERT_TRUE(b_->Restrict("s1", {"user.job_title"}, "accuracy_contested", T("2021-04-02")).ok());
  for (int i = 0; i < 100; ++i) (void)b_->Decide(kBooking);
  ASSERT_TRUE(b_->Flush().ok());
  ASSERT_TRUE(b_->IsCachedForTesting("s1"));
  CatchUpReport report = CatchUp(*b_);
  EXPECT_EQ(report.entries_read, 0);  // only its own writes and decisions: not even read
  EXPECT_EQ(report.changes_by_others, 0);
  EXPECT_EQ(report.subjects_forgotten, 0);
  EXPECT_TRUE(b_->IsCachedForTesting("s1"));
  EXPECT_TRUE(b_->Decide(kBooking)->allow);
  EXPECT_TRUE(report.policies_loaded_elsewhere.empty());

  // Interleaved with another engine's writes, only those count.
  AddMember(*a_, "s2", "s2@example.test");
  EXPECT_TRUE(b_->Decide({"s2", "event_booking", {"user.name"}, "", T("2021-06-01"), "t"})
                  ->Has(ErrorCode::kConsentMissing));
  ChangeConsent(*b_, "s1", false, "2021-05-01");
  ChangeConsent(*a_, "s2", true, "2021-05-01");
  ChangeConsent(*b_, "s1", true, "2021-05-02");
  report = CatchUp(*b_);
  EXPECT_EQ(report.changes_by_others, 2);  // subject_add and consent_given of s2
  EXPECT_EQ(report.subjects_forgotten, 1);
  EXPECT_TRUE(b_->IsCachedForTesting("s1"));
  EXPECT_FALSE(b_->IsCachedForTesting("s2"));
  EXPECT_TRUE(b_->Decide({"s2", "event_booking", {"user.name"}, "", T("2021-06-01"), "t"})->allow);
}

TEST_F(OtherWritersTest, RestrictionErasureAndSuppressionThroughAnotherEngineAreSeen) {
  for (const char* id : {"s1", "s2", "s3"}) AddMember(*a_, id, std::string(id) + "@example.test");
  const DecisionRequest records{"s1", "membership_records", {"user.job_title"},
                                "",   T("2021-06-01"),      "t"};
  const DecisionRequest marketing{"s3", "opportunities", {"user.contact.email"},
                                  "",   T("2021-06-01"), "t"};
  DecisionRequest erased = records;
  erased.subject_id = "s2";
  EXPECT_TRUE(b_->Decide(records)->allow);
  EXPECT_TRUE(b_->Decide(erased)->allow);
  EXPECT_TRUE(b_->Decide(marketing)->allow);

  ASSERT_TRUE(a_->Restrict("s1", {}, "accuracy_contested", T("2021-05-01")).ok());
  NewRequest erasure;
  erasure.request_id = "r1";
  erasure.type = "erasure";
  erasure.intake = "staff";
  erasure.subject_id = "s2";
  erasure.verification = "passport_seen";
  ASSERT_TRUE(a_->OpenRequest(erasure).ok());
  auto fulfilled = a_->FulfilRequest("r1", "", std::nullopt);
  ASSERT_TRUE(fulfilled.ok()) << fulfilled.status().ToString();
  ASSERT_TRUE(a_->Suppress("email", "S3@example.test", "marketing_opt_out", std::nullopt).ok());

  EXPECT_TRUE(b_->Decide(records)->allow);  // not yet caught up
  EXPECT_TRUE(b_->Decide(erased)->allow);
  EXPECT_TRUE(b_->Decide(marketing)->allow);
  CatchUpReport report = CatchUp(*b_);
  EXPECT_EQ(report.subjects_forgotten, 3);
  EXPECT_TRUE(b_->Decide(records)->Has(ErrorCode::kRestricted));
  EXPECT_TRUE(b_->Decide(erased)->Has(ErrorCode::kSubjectErased));
  EXPECT_TRUE(b_->Decide(marketing)->Has(ErrorCode::kSuppressed));
}

TEST_F(OtherWritersTest, CatchesUpThroughMoreEntriesThanOneScanReads) {
  AddMember(*a_, "s1", "s1@example.test");
  ChangeConsent(*a_, "s1", true, "2021-03-01");
  EXPECT_TRUE(b_->Decide(kBooking)->allow);
  for (int i = 0; i < 5000; ++i) (void)a_->Decide(kBooking);  // more than one chunk of 4096
  ASSERT_TRUE(a_->Flush().ok());
  ChangeConsent(*a_, "s1", false, "2021-05-01");
  CatchUpReport report = CatchUp(*b_);
  EXPECT_GE(report.entries_read, 5001);
  EXPECT_EQ(report.subjects_forgotten, 1);
  auto head = store_->LastAudit();  // before b's own decision adds its (durable) entry
  ASSERT_TRUE(head.ok() && head->has_value());
  EXPECT_EQ(report.through_seq, (*head)->seq);
  EXPECT_EQ(b_->catch_up_stats().through_seq, (*head)->seq);
  EXPECT_TRUE(b_->Decide(kBooking)->Has(ErrorCode::kConsentWithdrawn));
}

TEST_F(OtherWritersTest, ReportsAPolicyAnotherEngineLoaded) {
  EXPECT_TRUE(CatchUp(*b_).policies_loaded_elsewhere.empty());  // its own Open is not reported
  std::unique_ptr<Engine> c = MakeEngine("another policy text");
  CatchUpReport report = CatchUp(*b_);
  ASSERT_EQ(report.policies_loaded_elsewhere.size(), 1u);
  EXPECT_EQ(report.policies_loaded_elsewhere[0].rfind("notice ", 0), 0u);
  EXPECT_TRUE(CatchUp(*c).policies_loaded_elsewhere.empty());
}

TEST_F(OtherWritersTest, ANewEngineStartsFromTheHeadOfTheChain) {
  AddMember(*a_, "s1", "s1@example.test");
  ChangeConsent(*a_, "s1", true, "2021-03-01");
  std::unique_ptr<Engine> c = MakeEngine("policy text");
  CatchUpReport report = CatchUp(*c);
  EXPECT_EQ(report.entries_read, 0);
  EXPECT_EQ(report.changes_by_others, 0);
}

TEST(ActionChangesSubjectState, OnlyKnownReadsAndBookkeepingLeaveTheCacheAlone) {
  for (const char* action : {"decide", "read", "lookup", "request_read", "legal_hold_placed"}) {
    EXPECT_FALSE(ActionChangesSubjectState(action)) << action;
  }
  for (const char* action :
       {"consent_withdrawn", "consent_given", "restriction", "restriction_lifted", "objection",
        "preference", "suppress", "request_erase", "retention_erase", "retention_delete",
        "record_put", "event", "an_action_added_later"}) {
    EXPECT_TRUE(ActionChangesSubjectState(action)) << action;
  }
}

TEST(SubjectStateCache, ALoadThatRacedAForgetIsAnsweredButNotKept) {
  SubjectStateCache* cache_ptr = nullptr;
  bool forget_while_loading = true;
  SubjectStateCache cache([&](const std::string& id) -> Result<std::optional<SubjectState>> {
    // Another thread forgets the subject after this load read the store.
    if (forget_while_loading) cache_ptr->Forget(id);
    SubjectState state;
    state.subject_id = id;
    return std::optional<SubjectState>(state);
  });
  cache_ptr = &cache;
  EXPECT_NE(*cache.Get("s1"), nullptr);
  EXPECT_FALSE(cache.Contains("s1"));
  forget_while_loading = false;
  EXPECT_NE(*cache.Get("s1"), nullptr);
  EXPECT_TRUE(cache.Contains("s1"));
}

// A loader standing in for the store: every person it is asked for exists, and counts loads.
SubjectStateCache::Loader CountingLoader(int* loads) {
  return [loads](const std::string& id) -> Result<std::optional<SubjectState>> {
    ++*loads;
    SubjectState state;
    state.subject_id = id;
    return std::optional<SubjectState>(state);
  };
}

TEST(SubjectStateCache, UpdateLeavesAnUncachedSubjectToItsNextLoad) {
  int loads = 0;
  SubjectStateCache cache(CountingLoader(&loads));
  cache.Update("s1", [](SubjectState& state) { state.suppressed = true; });
  EXPECT_EQ(loads, 0);
  EXPECT_FALSE(cache.Contains("s1"));
  EXPECT_FALSE((*cache.Get("s1"))->suppressed);  // the store (here: the loader) has the truth
  cache.Update("s1", [](SubjectState& state) { state.suppressed = true; });
  EXPECT_TRUE((*cache.Get("s1"))->suppressed);
  EXPECT_EQ(loads, 1);
}

// Without this, a withdrawal stored while another thread was reading the person would be lost
// from the cache: the load (read before the withdrawal) would be kept, and the Update that
// found nothing cached would have changed nothing.
TEST(SubjectStateCache, ALoadThatRacedAnUpdateOfAnUncachedSubjectIsAnsweredButNotKept) {
  SubjectStateCache* cache_ptr = nullptr;
  bool update_while_loading = true;
  SubjectStateCache cache([&](const std::string& id) -> Result<std::optional<SubjectState>> {
    SubjectState state;  // read before the write below
    state.subject_id = id;
    if (update_while_loading) {
      cache_ptr->Update(id, [](SubjectState& s) { s.suppressed = true; });
    }
    return std::optional<SubjectState>(state);
  });
  cache_ptr = &cache;
  EXPECT_NE(*cache.Get("s1"), nullptr);
  EXPECT_FALSE(cache.Contains("s1"));
  update_while_loading = false;
  EXPECT_NE(*cache.Get("s1"), nullptr);
  EXPECT_TRUE(cache.Contains("s1"));
}

TEST(SubjectStateCache, AFailedLoadIsAnErrorAndNothingIsCached) {
  bool store_down = true;
  SubjectStateCache cache([&](const std::string& id) -> Result<std::optional<SubjectState>> {
    if (store_down) return Status(ErrorCode::kUnavailable, "database unreachable");
    SubjectState state;
    state.subject_id = id;
    return std::optional<SubjectState>(state);
  });
  auto first = cache.Get("s1");
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().code(), ErrorCode::kUnavailable);
  EXPECT_FALSE(cache.Contains("s1"));
  store_down = false;
  auto second = cache.Get("s1");
  ASSERT_TRUE(second.ok());
  EXPECT_NE(*second, nullptr);
}

TEST(SubjectStateCache, StaysWithinItsBoundAndKeepsThePeopleInUse) {
  int loads = 0;
  SubjectStateCache cache(CountingLoader(&loads), /*capacity=*/640);  // 10 per shard
  for (int i = 0; i < 10'000; ++i) {
    ASSERT_TRUE(cache.Get("p" + std::to_string(i)).ok());
    // One person is used between every two others: the second chance keeps them.
    ASSERT_TRUE(cache.Get("hot").ok());
  }
  SubjectCacheStats stats = cache.Stats();
  EXPECT_LE(stats.entries, 640u);
  EXPECT_EQ(stats.capacity, 640u);
  EXPECT_GE(stats.evictions, 10'000u - 640u);
  EXPECT_TRUE(cache.Contains("hot"));
  EXPECT_EQ(stats.misses, 10'001u);  // each cold person once, "hot" once
  EXPECT_EQ(stats.hits, 9'999u);
  EXPECT_EQ(loads, 10'001);
  // An evicted person is read again on next use, not answered as unknown.
  int before = loads;
  auto again = cache.Get("p0");
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*again, nullptr);
  EXPECT_EQ(loads, before + 1);
}

TEST(SubjectStateCache, ALoweredBoundIsReachedAsNewPeopleArrive) {
  int loads = 0;
  SubjectStateCache cache(CountingLoader(&loads), 64'000);
  for (int i = 0; i < 5'000; ++i) ASSERT_TRUE(cache.Get("p" + std::to_string(i)).ok());
  EXPECT_EQ(cache.size(), 5'000u);
  cache.SetCapacity(64);  // one per shard
  for (int i = 5'000; i < 10'000; ++i) ASSERT_TRUE(cache.Get("p" + std::to_string(i)).ok());
  EXPECT_LE(cache.size(), 64u);
  EXPECT_EQ(cache.Stats().capacity, 64u);
}

}  // namespace
}  // namespace custos::engine
