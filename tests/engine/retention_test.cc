// Retention: the pure planner (PlanSubjectRetention) over hand-built rows, then sweeps through
// the Engine over a real SqliteStore: actions, audit, legal holds, review tasks, aggregates, and
// a sweep interrupted by a failing store that resumes without acting twice.
#include "engine/retention.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <utility>

#include "crypto/key.h"
#include "crypto/master_key.h"
#include "engine/audit_log.h"
#include "engine/engine.h"
#include "policy/loader.h"
#include "store/forwarding_store.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::engine {
namespace {

namespace fs = std::filesystem;

Timestamp T(const char* text) { return *Timestamp::Parse(text); }

const policy::Policy& Fixture() {
  static const policy::Policy* policy = [] {
    auto loaded = policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) +
                                          "/tests/fixtures/policy/valid/retention.yaml");
    EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
    return new policy::Policy(std::move(*loaded));
  }();
  return *policy;
}

// --- The planner ---------------------------------------------------------------------------

class RetentionPlanner : public ::testing::Test {
 protected:
  store::SweepSubject Person(const std::string& type) {
    store::SweepSubject s;
    s.subject.controller = "club";
    s.subject.subject_id = "s1";
    s.subject.types = {type};
    s.subject.created_at = T("2020-01-01");
    s.subject.wrapped_key = {1, 2, 3};
    return s;
  }
  static void Event(store::SweepSubject& s, const std::string& event, const char* at) {
    s.events.push_back({"club", s.subject.subject_id, event, T(at)});
  }
  static int64_t Record(store::SweepSubject& s, const std::string& category,
                        const char* at = "2020-01-01") {
    store::RecordRow row;
    row.controller = "club";
    row.subject_id = s.subject.subject_id;
    row.record_id = static_cast<int64_t>(s.records.size()) + 1;
    row.category = category;
    row.purpose = "membership";
    row.source = "direct";
    row.collected_at = T(at);
    row.updated_at = T(at);
    s.records.push_back(row);
    return row.record_id;
  }
  static void Identifier(store::SweepSubject& s, const std::string& kind) {
    store::IdentifierRow row;
    row.controller = "club";
    row.subject_id = s.subject.subject_id;
    row.kind = kind;
    row.blind_index = {9, 9, static_cast<uint8_t>(kind.size())};
    row.added_at = T("2020-01-01");
    s.identifiers.push_back(row);
  }
  SubjectRetentionPlan Plan(const store::SweepSubject& s, const char* as_of) {
    return PlanSubjectRetention(Fixture(), s, holds_, T(as_of));
  }
  static const RetentionItem& Item(const SubjectRetentionPlan& plan, const std::string& category) {
    for (const auto& item : plan.items) {
      if (item.category == category) return item;
    }
    static const RetentionItem kMissing;
    ADD_FAILURE() << "no item for " << category;
    return kMissing;
  }
  store::LegalHoldRow& Hold(const std::string& subject, const std::string& category,
                            const char* placed = "2020-01-01") {
    store::LegalHoldRow hold;
    hold.controller = "club";
    hold.hold_id = static_cast<int64_t>(holds_.size()) + 1;
    hold.subject_id = subject;
    hold.category = category;
    hold.reason = "litigation";
    hold.placed_at = T(placed);
    holds_.push_back(hold);
    return holds_.back();
  }

  std::vector<store::LegalHoldRow> holds_;
};

TEST_F(RetentionPlanner, DeletesOnTheDeadlineNotTheDayBefore) {
  // WIG: "for the following five years if your organisation does not renew membership".
  auto s = Person("member");
  Record(s, "user.name");
  Event(s, "membership_ended", "2021-06-30");
  SubjectRetentionPlan before = Plan(s, "2026-06-29");
  EXPECT_EQ(Item(before, "user.name").verdict, RetentionVerdict::kNotDue);
  EXPECT_EQ(Item(before, "user.name").rule_id, "member_contact");
  EXPECT_EQ(Item(before, "user.name").due, T("2026-06-30"));
  EXPECT_FALSE(before.HasActions());

  SubjectRetentionPlan after = Plan(s, "2026-06-30");
  EXPECT_EQ(Item(after, "user.name").verdict, RetentionVerdict::kDelete);
  EXPECT_EQ(Item(after, "user.name").rule_id, "member_contact");
  EXPECT_EQ(Item(after, "user.name").record_id, 1);
  EXPECT_TRUE(after.HasActions());
}

TEST_F(RetentionPlanner, TriggerThatHasNotHappenedKeepsTheData) {
  auto s = Person("member");
  Record(s, "user.name");
  SubjectRetentionPlan plan = Plan(s, "2060-01-01");
  EXPECT_EQ(Item(plan, "user.name").verdict, RetentionVerdict::kNotDue);
  EXPECT_FALSE(Item(plan, "user.name").due.has_value());
}

TEST_F(RetentionPlanner, LatestTriggerAndResetEventsRestartTheClock) {
  // WIG: "inactive for five years (no website login or product bookings)".
  auto s = Person("non_member");
  Record(s, "user.name");
  Event(s, "last_activity", "2020-01-01");
  EXPECT_EQ(Item(Plan(s, "2025-01-01"), "user.name").verdict, RetentionVerdict::kDelete);
  Event(s, "website_login", "2023-03-01");
  EXPECT_EQ(Item(Plan(s, "2025-01-01"), "user.name").verdict, RetentionVerdict::kNotDue);
  EXPECT_EQ(Item(Plan(s, "2028-02-29"), "user.name").verdict, RetentionVerdict::kNotDue);
  EXPECT_EQ(Item(Plan(s, "2028-03-01"), "user.name").verdict, RetentionVerdict::kDelete);
  // A login after the time asked about does not count.
  Event(s, "website_login", "2030-01-01");
  EXPECT_EQ(Item(Plan(s, "2028-03-01"), "user.name").verdict, RetentionVerdict::kDelete);
}

TEST_F(RetentionPlanner, AnonymiseKeepsOnlyTheNamedNonIdentifyingCategories) {
  // WIG: "member engagement data ... will be anonymised"; meeting notes can identify.
  auto s = Person("member");
  Record(s, "user.engagement.events");
  Record(s, "user.communication_history");
  Event(s, "membership_ended", "2020-01-01");
  SubjectRetentionPlan plan = Plan(s, "2025-01-01");
  EXPECT_EQ(Item(plan, "user.engagement.events").verdict, RetentionVerdict::kAnonymise);
  EXPECT_EQ(Item(plan, "user.communication_history").verdict, RetentionVerdict::kDelete);
  EXPECT_EQ(Item(plan, "user.communication_history").rule_id, "engagement");
}

TEST_F(RetentionPlanner, TheStrongestDueActionWins) {
  // WIG: "If you leave a member organisation ... we will delete your contact details
  // immediately on notification" -- whichever of the two member rules comes first.
  auto s = Person("member");
  Record(s, "user.name");
  Event(s, "membership_ended", "2020-01-01");
  Event(s, "left_member_organisation", "2021-01-01");
  SubjectRetentionPlan early = Plan(s, "2021-01-01");
  EXPECT_EQ(Item(early, "user.name").verdict, RetentionVerdict::kDelete);
  EXPECT_EQ(Item(early, "user.name").rule_id, "member_contact_on_leaving");
  // Both due: the earlier deadline is named.
  EXPECT_EQ(Item(Plan(s, "2026-01-01"), "user.name").rule_id, "member_contact_on_leaving");
}

TEST_F(RetentionPlanner, KeepsRecordsUnderLegalHold) {
  auto s = Person("member");
  Record(s, "user.name");
  Record(s, "user.engagement.events");
  Event(s, "membership_ended", "2020-01-01");

  Hold("s1", "");  // all of s1's data
  SubjectRetentionPlan held = Plan(s, "2025-06-01");
  EXPECT_EQ(Item(held, "user.name").verdict, RetentionVerdict::kHeld);
  EXPECT_EQ(Item(held, "user.name").held_verdict, RetentionVerdict::kDelete);
  EXPECT_EQ(Item(held, "user.name").hold_id, 1);
  EXPECT_EQ(Item(held, "user.engagement.events").held_verdict, RetentionVerdict::kAnonymise);
  EXPECT_FALSE(held.erase_subject);
  EXPECT_FALSE(held.HasActions());

  // Released, it goes; expired, it goes; placed after the time asked about, it does not count.
  holds_[0].released_at = T("2025-01-01");
  EXPECT_EQ(Item(Plan(s, "2025-06-01"), "user.name").verdict, RetentionVerdict::kDelete);
  holds_[0].released_at.reset();
  holds_[0].expires_at = T("2025-01-01");
  EXPECT_EQ(Item(Plan(s, "2025-06-01"), "user.name").verdict, RetentionVerdict::kDelete);
  holds_[0].expires_at.reset();
  holds_[0].placed_at = T("2026-01-01");
  EXPECT_EQ(Item(Plan(s, "2025-06-01"), "user.name").verdict, RetentionVerdict::kDelete);

  // A hold on a category of everyone holds that category (and what lies under it) only.
  holds_.clear();
  Hold("", "user.engagement");
  SubjectRetentionPlan category = Plan(s, "2025-06-01");
  EXPECT_EQ(Item(category, "user.name").verdict, RetentionVerdict::kDelete);
  EXPECT_EQ(Item(category, "user.engagement.events").verdict, RetentionVerdict::kHeld);
  EXPECT_FALSE(category.erase_subject);

  // A hold on another person changes nothing here.
  holds_.clear();
  Hold("s2", "");
  EXPECT_EQ(Item(Plan(s, "2025-06-01"), "user.name").verdict, RetentionVerdict::kDelete);
}

TEST_F(RetentionPlanner, FindLegalHoldMatchesSubjectAndCategory) {
  Hold("s1", "user.contact");
  Hold("", "user.engagement");
  const Timestamp at = T("2024-01-01");
  EXPECT_EQ(FindLegalHold(holds_, "s1", "user.contact.email", at)->hold_id, 1);
  EXPECT_EQ(FindLegalHold(holds_, "s1", "", at)->hold_id, 1);
  EXPECT_EQ(FindLegalHold(holds_, "s1", "user.name", at), nullptr);
  EXPECT_EQ(FindLegalHold(holds_, "s2", "user.contact.email", at), nullptr);
  EXPECT_EQ(FindLegalHold(holds_, "s2", "user.engagement.events", at)->hold_id, 2);
  EXPECT_EQ(FindLegalHold(holds_, "s2", "", at), nullptr);
}

TEST_F(RetentionPlanner, ReviewIsAskedForOnceAndNotAgainWhenTheTaskExists) {
  auto s = Person("member");
  Record(s, "user.notes", "2020-03-01");
  Record(s, "user.notes", "2020-03-01");  // two notes, one deadline: one task
  EXPECT_EQ(Item(Plan(s, "2021-02-28"), "user.notes").verdict, RetentionVerdict::kNotDue);
  SubjectRetentionPlan plan = Plan(s, "2021-03-01");
  EXPECT_EQ(Item(plan, "user.notes").verdict, RetentionVerdict::kReview);
  ASSERT_EQ(plan.reviews.size(), 1u);
  EXPECT_EQ(plan.reviews[0].rule_id, "notes_review");
  EXPECT_EQ(plan.reviews[0].category, "user.notes");
  EXPECT_EQ(plan.reviews[0].due, T("2021-03-01"));
  EXPECT_FALSE(plan.erase_subject);  // a review keeps the data

  store::ReviewTaskRow task;
  task.rule_id = "notes_review";
  task.category = "user.notes";
  task.due_at = T("2021-03-01");
  s.review_tasks.push_back(task);
  SubjectRetentionPlan again = Plan(s, "2021-06-01");
  EXPECT_TRUE(again.reviews.empty());
  EXPECT_FALSE(again.HasActions());
}

TEST_F(RetentionPlanner, ReportsDataNoRuleCovers) {
  auto s = Person("member");
  Identifier(s, "external");  // user.unique_id: no rule of the fixture covers it
  Event(s, "membership_ended", "2020-01-01");
  SubjectRetentionPlan plan = Plan(s, "2030-01-01");
  EXPECT_EQ(Item(plan, "user.unique_id").verdict, RetentionVerdict::kNotCovered);
  EXPECT_TRUE(Item(plan, "user.unique_id").rule_id.empty());
  RetentionReport report;
  CountPlan(plan, &report);
  EXPECT_EQ(report.not_covered["user.unique_id"], 1);
}

TEST_F(RetentionPlanner, IdentifiersFollowTheRulesOfTheirCategory) {
  EXPECT_EQ(IdentifierCategory("email"), "user.contact.email");
  EXPECT_EQ(IdentifierCategory("phone"), "user.contact.phone_number");
  EXPECT_EQ(IdentifierCategory("external"), "user.unique_id");
  auto s = Person("member");
  Identifier(s, "email");
  Event(s, "membership_ended", "2020-01-01");
  EXPECT_EQ(Item(Plan(s, "2024-12-31"), "user.contact.email").verdict, RetentionVerdict::kNotDue);
  SubjectRetentionPlan plan = Plan(s, "2025-01-01");
  const RetentionItem& email = Item(plan, "user.contact.email");
  EXPECT_TRUE(email.is_identifier);
  EXPECT_EQ(email.identifier_kind, "email");
  EXPECT_EQ(email.verdict, RetentionVerdict::kDelete);
  EXPECT_EQ(email.rule_id, "member_contact");
}

TEST_F(RetentionPlanner, ErasesTheWholePersonOnlyWhenNothingIsLeft) {
  auto s = Person("member");
  Record(s, "user.name");
  Record(s, "user.engagement.events");
  Identifier(s, "email");
  Event(s, "membership_ended", "2020-01-01");
  EXPECT_TRUE(Plan(s, "2025-01-01").erase_subject);

  // A note awaiting its own deadline keeps the person.
  auto with_note = s;
  Record(with_note, "user.notes", "2024-12-01");
  EXPECT_FALSE(Plan(with_note, "2025-01-01").erase_subject);
  // So does data no rule covers, and held data.
  auto with_external = s;
  Identifier(with_external, "external");
  EXPECT_FALSE(Plan(with_external, "2025-01-01").erase_subject);
  Hold("s1", "user.contact");
  EXPECT_FALSE(Plan(s, "2025-01-01").erase_subject);
  holds_.clear();

  // Nothing held about a person who never had data: nothing to do, no erasure.
  auto empty = Person("member");
  Event(empty, "membership_ended", "2020-01-01");
  EXPECT_FALSE(Plan(empty, "2025-01-01").erase_subject);
  EXPECT_TRUE(Plan(empty, "2025-01-01").items.empty());
}

TEST_F(RetentionPlanner, SkipsErasedPeopleProcessedRecordsAndLaterData) {
  auto s = Person("member");
  Record(s, "user.name");
  Record(s, "user.engagement.events");
  Record(s, "user.name", "2026-01-01");  // collected after the time asked about
  s.records[0].state = store::RecordState::kErased;
  s.records[1].state = store::RecordState::kAnonymised;
  Event(s, "membership_ended", "2020-01-01");
  SubjectRetentionPlan plan = Plan(s, "2025-06-01");
  EXPECT_TRUE(plan.items.empty());
  EXPECT_FALSE(plan.erase_subject);

  s.subject.state = store::SubjectState::kErased;
  s.records[2].collected_at = T("2020-01-01");
  EXPECT_TRUE(Plan(s, "2025-06-01").items.empty());
}

// --- Sweeps through the Engine --------------------------------------------------------------

// Passes everything through, but fails every Apply after the first `budget` (a crash between
// two commits, as far as the sweep can tell).
class FailingStore final : public store::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  void FailAfter(int budget) { budget_ = budget; }
  Result<store::AppliedIds> Apply(const store::WriteBatch& batch) override {
    if (budget_ >= 0 && budget_-- == 0) {
      budget_ = 0;
      return Status(ErrorCode::kIo, "injected failure");
    }
    return ForwardingStore::Apply(batch);
  }
  // The audit log commits through ApplyGroup: one transaction, one unit of the budget.
  Result<std::vector<store::AppliedIds>> ApplyGroup(
      const std::vector<const store::WriteBatch*>& batches) override {
    if (budget_ >= 0 && budget_-- == 0) {
      budget_ = 0;
      return Status(ErrorCode::kIo, "injected failure");
    }
    return ForwardingStore::ApplyGroup(batches);
  }

 private:
  int budget_ = -1;  // < 0: never fail
};

class RetentionSweep : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("custos-retention-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    auto store = store::OpenSqliteStore({dir_.string(), false});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    failing_ = std::make_unique<FailingStore>(*store_);
    Restart();
  }
  void TearDown() override {
    engine_.reset();
    failing_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }
  // A new engine over the same store: a process restarting after a crash.
  void Restart() {
    engine_ = std::make_unique<Engine>(Fixture(), "club", *failing_, master_, clock_);
    ASSERT_TRUE(engine_->Open("policy text").ok());
  }

  void AddMember(const std::string& id, const char* ended = "2020-01-01") {
    NewSubject request;
    request.subject_id = id;
    request.types = {"member"};
    request.identifiers = {{"email", id + "@example.test", true}};
    request.at = T("2019-01-01");
    ASSERT_TRUE(engine_->AddSubject(request).ok());
    for (auto [category, value] : {std::pair{"user.name", "Name of " + id},
                                   std::pair{"user.engagement.events", std::string("mentoring")},
                                   std::pair{"user.communication_history", "notes on " + id}}) {
      ASSERT_TRUE(
          engine_->PutRecord({id, category, value, "direct", "membership", T("2019-02-01"), "test"})
              .ok());
    }
    ASSERT_TRUE(engine_->RecordEvent(id, "membership_ended", T(ended)).ok());
  }

  Result<RetentionReport> Run(const char* as_of, size_t page_size = 512) {
    RetentionOptions options;
    options.as_of = T(as_of);
    options.page_size = page_size;
    return engine_->RunRetention(options);
  }

  std::map<std::string, int> AuditActions() {
    std::map<std::string, int> actions;
    EXPECT_TRUE(store_
                    ->ScanAudit(1,
                                [&](const store::AuditRow& row) {
                                  ++actions[row.action + ":" + row.subject_id];
                                  return true;
                                })
                    .ok());
    return actions;
  }

  int64_t Facts() {
    auto counts = store_->CountAnonymisedFacts("club", "user");
    EXPECT_TRUE(counts.ok());
    int64_t total = 0;
    for (const auto& count : *counts) total += count.count;
    return total;
  }

  store::RecordState StateOf(const std::string& id, const std::string& category) {
    auto records = store_->ListRecords("club", id);
    EXPECT_TRUE(records.ok());
    for (const auto& record : *records) {
      if (record.category == category) return record.state;
    }
    ADD_FAILURE() << "no " << category << " for " << id;
    return store::RecordState::kActive;
  }

  fs::path dir_;
  crypto::MasterKey master_ = crypto::MasterKey::FromSecretForTesting(crypto::SecretKey::Random());
  FixedClock clock_{T("2030-01-01")};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<FailingStore> failing_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(RetentionSweep, DeletesAnonymisesAndErasesThePersonWithAnAuditTrail) {
  AddMember("s1");
  AddMember("s2", "2024-06-01");  // not due until 2029-06-01
  auto report = Run("2025-01-01");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->totals.subjects, 2);
  EXPECT_EQ(report->totals.deleted, 3);  // name, notes, email of s1
  EXPECT_EQ(report->totals.anonymised, 1);
  EXPECT_EQ(report->totals.erased, 1);
  EXPECT_EQ(report->by_rule["member_contact"].deleted, 2);
  EXPECT_EQ(report->by_rule["engagement"].anonymised, 1);
  EXPECT_EQ(report->by_rule["engagement"].deleted, 1);
  EXPECT_EQ(report->not_due, 4);

  // s1 is gone: key destroyed, identifiers removed, their keyed hash suppressed.
  auto s1 = store_->GetSubject("club", "s1");
  ASSERT_TRUE(s1.ok() && s1->has_value());
  EXPECT_EQ((*s1)->state, store::SubjectState::kErased);
  EXPECT_TRUE((*s1)->wrapped_key.empty());
  EXPECT_TRUE(store_->ListIdentifiers("club", "s1")->empty());
  EXPECT_TRUE(*engine_->IsSuppressed("email", "s1@example.test"));
  EXPECT_EQ(StateOf("s1", "user.engagement.events"), store::RecordState::kAnonymised);
  EXPECT_TRUE(store_->ListRecords("club", "s1")->at(1).sealed_value.empty());
  Decision decision =
      engine_->Decide({"s1", "membership", {"user.name"}, "", T("2030-01-01")}).value();
  EXPECT_TRUE(decision.Has(ErrorCode::kSubjectErased));

  // The fact kept says nothing about who it came from.
  auto facts = store_->CountAnonymisedFacts("club", "user.engagement");
  ASSERT_TRUE(facts.ok());
  ASSERT_EQ(facts->size(), 1u);
  EXPECT_EQ((*facts)[0].value, "mentoring");

  // s2 is untouched.
  EXPECT_EQ(StateOf("s2", "user.name"), store::RecordState::kActive);
  EXPECT_FALSE(*engine_->IsSuppressed("email", "s2@example.test"));

  auto actions = AuditActions();
  EXPECT_EQ(actions["retention_delete:s1"], 2);  // rules member_contact and engagement
  EXPECT_EQ(actions["retention_anonymise:s1"], 1);
  EXPECT_EQ(actions["retention_erase:s1"], 1);
  EXPECT_EQ(actions["retention_run_started:"], 1);
  EXPECT_EQ(actions["retention_run_finished:"], 1);
  EXPECT_EQ(actions.count("retention_delete:s2"), 0u);
  auto verified = AuditLog::Verify(*store_, master_.AuditChainKey());
  ASSERT_TRUE(verified.ok());
  EXPECT_FALSE(verified->first_broken_seq.has_value());
}

TEST_F(RetentionSweep, DeletesRecordByRecordWhenThePersonStays) {
  AddMember("s1");
  ASSERT_TRUE(engine_
                  ->PutRecord({"s1", "user.notes", "keep me", "direct", "membership",
                               T("2024-12-01"), "test"})
                  .ok());
  ASSERT_TRUE(Run("2025-01-01").ok());
  EXPECT_EQ(StateOf("s1", "user.name"), store::RecordState::kErased);
  EXPECT_EQ(StateOf("s1", "user.notes"), store::RecordState::kActive);
  auto records = store_->ListRecords("club", "s1");
  EXPECT_TRUE(records->at(0).sealed_value.empty());
  EXPECT_EQ((*store_->GetSubject("club", "s1"))->state, store::SubjectState::kActive);
  EXPECT_TRUE(store_->ListIdentifiers("club", "s1")->empty());
  EXPECT_TRUE(*engine_->IsSuppressed("email", "s1@example.test"));
  auto view = engine_->ReadSubject("s1", "test", "test");
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_TRUE(view->identifiers.empty());
}

TEST_F(RetentionSweep, RunningTwiceActsOnce) {
  AddMember("s1");
  AddMember("s2");
  ASSERT_TRUE(Run("2025-01-01").ok());
  int64_t facts = Facts();
  auto again = Run("2025-01-01");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->resumed);
  EXPECT_EQ(again->totals.deleted + again->totals.anonymised + again->totals.erased, 0);
  EXPECT_EQ(Facts(), facts);
  EXPECT_EQ(AuditActions()["retention_erase:s1"], 1);
}

TEST_F(RetentionSweep, InterruptedSweepResumesAndNeverActsTwice) {
  for (const char* id : {"s1", "s2", "s3", "s4", "s5", "s6"}) AddMember(id);
  // One subject per page: the run row, then two pages commit, then the store "crashes".
  failing_->FailAfter(3);
  auto crashed = Run("2025-01-01", /*page_size=*/1);
  ASSERT_FALSE(crashed.ok());
  EXPECT_EQ(crashed.status().code(), ErrorCode::kIo);
  EXPECT_EQ(Facts(), 2);
  auto last = store_->LastRetentionRun("club");
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_FALSE((*last)->finished_at.has_value());
  EXPECT_EQ((*last)->last_subject_id, "s2");

  failing_->FailAfter(-1);
  Restart();  // the process comes back; its clock has moved on, the run keeps its as_of
  clock_.Set(T("2030-02-01"));
  auto resumed = Run("2030-02-01", /*page_size=*/1);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_TRUE(resumed->resumed);
  EXPECT_EQ(resumed->run_id, (*last)->run_id);
  EXPECT_EQ(resumed->as_of, T("2025-01-01"));
  EXPECT_EQ(resumed->totals.subjects, 6);
  EXPECT_EQ(resumed->totals.erased, 6);
  EXPECT_EQ(resumed->totals.anonymised, 6);
  EXPECT_EQ(resumed->totals.deleted, 18);
  EXPECT_TRUE((*store_->LastRetentionRun("club"))->finished_at.has_value());

  // Every person acted on exactly once; one fact each, none twice.
  EXPECT_EQ(Facts(), 6);
  auto actions = AuditActions();
  for (const char* id : {"s1", "s2", "s3", "s4", "s5", "s6"}) {
    EXPECT_EQ(actions[std::string("retention_erase:") + id], 1) << id;
    EXPECT_EQ(actions[std::string("retention_anonymise:") + id], 1) << id;
  }
  EXPECT_EQ(actions["retention_run_started:"], 1);
  EXPECT_EQ(actions["retention_run_resumed:"], 1);
  EXPECT_EQ(actions["retention_run_finished:"], 1);
  auto verified = AuditLog::Verify(*store_, master_.AuditChainKey());
  ASSERT_TRUE(verified.ok());
  EXPECT_FALSE(verified->first_broken_seq.has_value()) << verified->problem;

  // The next call starts a new run.
  auto next = Run("2030-02-01");
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->resumed);
  EXPECT_GT(next->run_id, resumed->run_id);
}

// Runs `during` once, right after the first sweep page is read: another sweep racing this one.
class RacingStore final : public store::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  std::function<void()> during;
  Result<std::vector<store::SweepSubject>> ListSweepPage(const std::string& controller,
                                                         const std::string& after,
                                                         size_t max_subjects) override {
    auto page = ForwardingStore::ListSweepPage(controller, after, max_subjects);
    if (during) std::exchange(during, nullptr)();
    return page;
  }
};

TEST_F(RetentionSweep, TwoSweepsRacingOverThePeopleActOnce) {
  AddMember("s1");
  AddMember("s2");
  RacingStore racing(*failing_);
  Engine slow(Fixture(), "club", racing, master_, clock_);
  ASSERT_TRUE(slow.Open("policy text").ok());
  Status other;
  racing.during = [&] {
    ASSERT_TRUE(engine_->audit().Open().ok());  // the other process sees the chain as it is
    RetentionOptions options;
    options.as_of = T("2025-01-01");
    other = engine_->RunRetention(options).status();
    // One process per engine in real life; here the slow one re-reads the audit chain's head
    // so that only the retention guards, not the chain, can stop it.
    ASSERT_TRUE(slow.audit().Open().ok());
  };
  RetentionOptions options;
  options.as_of = T("2025-01-01");
  auto late = slow.RunRetention(options);
  EXPECT_TRUE(other.ok()) << other.ToString();
  // The slower sweep planned from rows the other one has changed since: its page is refused
  // whole, read again and planned anew, and then there is nothing left for it to do.
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  EXPECT_EQ(late->totals.erased, 0);
  EXPECT_EQ(late->totals.anonymised, 0);
  EXPECT_EQ(late->totals.deleted, 0);
  EXPECT_EQ(Facts(), 2);
  auto actions = AuditActions();
  EXPECT_EQ(actions["retention_erase:s1"], 1);
  EXPECT_EQ(actions["retention_erase:s2"], 1);
  EXPECT_EQ(actions["retention_anonymise:s1"], 1);
}

TEST_F(RetentionSweep, PlanWritesNothing) {
  AddMember("s1");
  RetentionOptions options;
  options.as_of = T("2040-01-01");  // a plan may look into the future
  auto plan = engine_->PlanRetention(options);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->totals.erased, 1);
  EXPECT_EQ(plan->run_id, 0);
  EXPECT_EQ(StateOf("s1", "user.name"), store::RecordState::kActive);
  EXPECT_FALSE(store_->LastRetentionRun("club")->has_value());
  EXPECT_EQ(Facts(), 0);
}

TEST_F(RetentionSweep, RunRefusesToActAsOfTheFuture) {
  AddMember("s1");
  auto early = Run("2030-01-02");
  EXPECT_EQ(early.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(StateOf("s1", "user.name"), store::RecordState::kActive);
}

TEST_F(RetentionSweep, LegalHoldKeepsDataUntilReleasedAndIsAudited) {
  AddMember("s1");
  AddMember("s2");
  LegalHoldRequest request;
  request.subject_id = "s1";
  request.reason = "claim 2029/17";
  request.at = T("2024-01-01");
  auto hold = engine_->PlaceLegalHold(request);
  ASSERT_TRUE(hold.ok()) << hold.status().ToString();
  EXPECT_EQ(engine_->CheckNoLegalHold("s1", {"user.name"}, T("2025-01-01")).code(),
            ErrorCode::kLegalHoldActive);
  EXPECT_TRUE(engine_->CheckNoLegalHold("s2", {}, T("2025-01-01")).ok());

  auto report = Run("2025-01-01");
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->totals.held, 4);  // s1's three records and email
  EXPECT_EQ(report->totals.erased, 1);
  EXPECT_EQ(StateOf("s1", "user.name"), store::RecordState::kActive);
  EXPECT_EQ((*store_->GetSubject("club", "s1"))->state, store::SubjectState::kActive);
  EXPECT_EQ((*store_->GetSubject("club", "s2"))->state, store::SubjectState::kErased);

  ASSERT_TRUE(engine_->ReleaseLegalHold(*hold, T("2029-12-01"), "dpo").ok());
  ASSERT_TRUE(engine_->ReleaseLegalHold(*hold, T("2029-12-02"), "dpo").ok());  // idempotent
  EXPECT_EQ(engine_->ReleaseLegalHold(999, std::nullopt, "dpo").code(), ErrorCode::kNotFound);
  ASSERT_TRUE(Run("2030-01-01").ok());
  EXPECT_EQ((*store_->GetSubject("club", "s1"))->state, store::SubjectState::kErased);

  auto holds = engine_->ListLegalHolds();
  ASSERT_EQ(holds->size(), 1u);
  EXPECT_EQ(holds->at(0).released_at, T("2029-12-01"));
  auto actions = AuditActions();
  EXPECT_EQ(actions["legal_hold_placed:s1"], 1);
  EXPECT_EQ(actions["legal_hold_released:s1"], 1);
  EXPECT_EQ(actions["retention_held:s1"], 2);  // one entry per rule: member_contact, engagement
}

TEST_F(RetentionSweep, LegalHoldRequestsAreChecked) {
  AddMember("s1");
  LegalHoldRequest none;
  none.reason = "x";
  EXPECT_EQ(engine_->PlaceLegalHold(none).status().code(), ErrorCode::kInvalidArgument);
  LegalHoldRequest no_reason;
  no_reason.subject_id = "s1";
  EXPECT_EQ(engine_->PlaceLegalHold(no_reason).status().code(), ErrorCode::kInvalidArgument);
  LegalHoldRequest unknown = no_reason;
  unknown.reason = "x";
  unknown.subject_id = "nobody";
  EXPECT_EQ(engine_->PlaceLegalHold(unknown).status().code(), ErrorCode::kUnknownSubject);
  LegalHoldRequest bad_category;
  bad_category.category = "user.nonsense";
  bad_category.reason = "x";
  EXPECT_EQ(engine_->PlaceLegalHold(bad_category).status().code(), ErrorCode::kInvalidArgument);
  LegalHoldRequest expired = no_reason;
  expired.reason = "x";
  expired.at = T("2025-01-01");
  expired.expires_at = T("2025-01-01");
  EXPECT_EQ(engine_->PlaceLegalHold(expired).status().code(), ErrorCode::kInvalidArgument);
  LegalHoldRequest category;
  category.category = "user.engagement";
  category.reason = "Ofsted inspection";
  auto first = engine_->PlaceLegalHold(category);
  auto second = engine_->PlaceLegalHold(category);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*second, *first + 1);
}

TEST_F(RetentionSweep, ReviewTasksAreOpenedOnceAndClosedByTheDpo) {
  AddMember("s1", "2029-01-01");
  ASSERT_TRUE(
      engine_
          ->PutRecord({"s1", "user.notes", "note", "direct", "membership", T("2025-01-01"), "test"})
          .ok());
  auto first = Run("2026-01-01");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->totals.reviews, 1);
  EXPECT_EQ(first->by_rule["notes_review"].reviews, 1);
  auto second = Run("2026-02-01");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->totals.reviews, 0);
  auto tasks = engine_->ListReviewTasks(true);
  ASSERT_EQ(tasks->size(), 1u);
  EXPECT_EQ(tasks->at(0).subject_id, "s1");
  EXPECT_EQ(tasks->at(0).rule_id, "notes_review");
  EXPECT_EQ(tasks->at(0).due_at, T("2026-01-01"));
  ASSERT_TRUE(engine_->CompleteReviewTask(tasks->at(0).task_id, std::nullopt, "dpo").ok());
  EXPECT_TRUE(engine_->ListReviewTasks(true)->empty());
  EXPECT_EQ(engine_->CompleteReviewTask(12345, std::nullopt, "dpo").code(), ErrorCode::kNotFound);
  EXPECT_EQ(StateOf("s1", "user.notes"), store::RecordState::kActive);
}

TEST_F(RetentionSweep, AggregatesSuppressSmallCells) {
  // ProgressTeaching: "We may share aggregated or anonymised information ... You will not be
  // able to be identified from this information."
  for (int i = 0; i < 12; ++i)
    AddMember("m" + std::to_string(i), i < 10 ? "2020-01-01" : "2029-06-01");
  ASSERT_TRUE(engine_
                  ->PutRecord({"m11", "user.engagement.events", "seminar", "direct", "membership",
                               T("2019-03-01"), "test"})
                  .ok());
  ASSERT_TRUE(Run("2025-01-01").ok());  // m0..m9 anonymised; m10, m11 still live
  EXPECT_EQ(Facts(), 10);
  auto result = engine_->Aggregate("user.engagement", std::nullopt, "test");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->threshold, kDefaultSmallCellThreshold);
  ASSERT_EQ(result->cells.size(), 1u);
  EXPECT_EQ(result->cells[0].category, "user.engagement.events");
  EXPECT_EQ(result->cells[0].value, "mentoring");
  EXPECT_EQ(result->cells[0].count, 12);   // 10 anonymised + 2 live, one per person
  EXPECT_EQ(result->suppressed_cells, 1);  // "seminar": 1 person

  auto raised = engine_->Aggregate("user.engagement", 13, "test");
  ASSERT_TRUE(raised.ok());
  EXPECT_TRUE(raised->cells.empty());
  EXPECT_EQ(raised->suppressed_cells, 2);
  EXPECT_EQ(engine_->Aggregate("user.engagement", 2, "test").status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(engine_->Aggregate("user.nonsense", std::nullopt, "test").status().code(),
            ErrorCode::kInvalidArgument);
  // A restricted record is left out of the count (Article 18).
  ASSERT_TRUE(
      engine_->Restrict("m10", {"user.engagement"}, "accuracy_contested", T("2029-12-01")).ok());
  auto restricted = engine_->Aggregate("user.engagement", std::nullopt, "test");
  ASSERT_TRUE(restricted.ok());
  EXPECT_EQ(restricted->cells[0].count, 11);
}

}  // namespace
}  // namespace custos::engine
