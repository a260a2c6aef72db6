// The Store contract (store/store.h), run against every backend. A backend joins by adding a
// StoreFactory to the INSTANTIATE_TEST_SUITE_P list at the bottom.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "pg_test_database.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"
#include "temp_dir.h"

namespace custos::store {
namespace {

struct StoreFactory {
  std::string name;
  // Opens the store kept in `dir` (the same dir opens the same data); nullptr on failure.
  std::function<std::unique_ptr<Store>(const std::string& dir)> open;
  // Removes what `open` created outside `dir` (e.g. a PostgreSQL schema); may be empty.
  std::function<void(const std::string& dir)> drop;
  // Runs trusted SQL on the database of a store `open` gave, past the Store interface (to
  // show the database itself refuses what no Store method would do).
  std::function<Status(Store& store, const std::string& sql)> exec;
};

std::ostream& operator<<(std::ostream& out, const StoreFactory& factory) {
  return out << factory.name;
}

Timestamp At(int64_t seconds) { return Timestamp::FromUnixSeconds(1'700'000'000 + seconds); }
Bytes B(std::string_view text) { return Bytes(text.begin(), text.end()); }

// --- Rows and how to compare them --------------------------------------------------------

SubjectRow Subject(const std::string& controller, const std::string& id,
                   std::vector<std::string> types = {"member"}) {
  SubjectRow row;
  row.controller = controller;
  row.subject_id = id;
  row.types = std::move(types);
  row.created_at = At(1);
  row.wrapped_key = B("key:" + controller + "/" + id);
  return row;
}

RecordRow Record(const std::string& controller, const std::string& id, const std::string& category,
                 const std::string& value) {
  RecordRow row;
  row.controller = controller;
  row.subject_id = id;
  row.category = category;
  row.sealed_value = B(value);
  row.source = "direct";
  row.purpose = "membership";
  row.collected_at = At(2);
  row.updated_at = At(2);
  return row;
}

ConsentEventRow Consent(const std::string& controller, const std::string& id,
                        const std::string& target, ConsentAction action, int64_t at) {
  ConsentEventRow row;
  row.controller = controller;
  row.subject_id = id;
  row.target_kind = ConsentTarget::kPurpose;
  row.target = target;
  row.action = action;
  row.notice_version = "2022-02-10";
  row.channel = "web";
  row.at = At(at);
  row.sealed_evidence = B("form-7");
  return row;
}

RestrictionRow Restriction(const std::string& controller, const std::string& id,
                           std::vector<std::string> categories) {
  RestrictionRow row;
  row.controller = controller;
  row.subject_id = id;
  row.categories = std::move(categories);
  row.reason = "accuracy_contested";
  row.at = At(5);
  return row;
}

IdentifierRow Identifier(const std::string& controller, const std::string& id,
                         const std::string& kind, const Bytes& blind_index) {
  IdentifierRow row;
  row.controller = controller;
  row.subject_id = id;
  row.kind = kind;
  row.blind_index = blind_index;
  row.sealed_value = B("sealed:" + id);
  row.verified = true;
  row.added_at = At(3);
  return row;
}

AuditRow Audit(int64_t seq, const std::string& action) {
  AuditRow row;
  row.seq = seq;
  row.controller = "wig";
  row.at = At(seq);
  row.actor = "cli";
  row.action = action;
  row.purpose = "membership";
  row.subject_id = "s1";
  row.detail = "allow";
  row.prev_hash = Bytes(32, static_cast<uint8_t>(seq - 1));
  row.hash = Bytes(32, static_cast<uint8_t>(seq));
  return row;
}

auto Fields(const ControllerRow& r) {
  return std::make_tuple(r.controller, r.name, r.policy_version, r.policy_text, r.loaded_at);
}
auto Fields(const SubjectRow& r) {
  return std::make_tuple(r.controller, r.subject_id, r.types, r.created_at, r.wrapped_key, r.state,
                         r.erased_at);
}
auto Fields(const EventRow& r) {
  return std::make_tuple(r.controller, r.subject_id, r.event, r.at);
}
auto Fields(const IdentifierRow& r) {
  return std::make_tuple(r.controller, r.subject_id, r.kind, r.blind_index, r.sealed_value,
                         r.verified, r.added_at);
}
// The id is compared separately: the store assigns it.
auto Fields(const RecordRow& r) {
  return std::make_tuple(r.controller, r.subject_id, r.category, r.sealed_value, r.source,
                         r.purpose, r.collected_at, r.state, r.updated_at);
}
auto Fields(const ConsentEventRow& r) {
  return std::make_tuple(r.controller, r.subject_id, r.target_kind, r.target, r.action,
                         r.notice_version, r.channel, r.at, r.sealed_evidence);
}
auto Fields(const PreferenceRow& r) {
  return std::make_tuple(r.controller, r.subject_id, r.channel, r.allowed, r.at);
}
auto Fields(const ObjectionRow& r) {
  return std::make_tuple(r.controller, r.subject_id, r.purpose, r.at, r.lifted_at);
}
auto Fields(const RestrictionRow& r) {
  return std::make_tuple(r.controller, r.subject_id, r.categories, r.reason, r.at, r.lifted_at);
}
auto Fields(const AuditRow& r) {
  return std::make_tuple(r.seq, r.controller, r.at, r.actor, r.action, r.purpose, r.subject_id,
                         r.detail, r.prev_hash, r.hash);
}

auto Fields(const RequestRow& r) {
  return std::make_tuple(r.controller, r.request_id, r.version, r.type, r.state, r.intake,
                         r.verification, r.waiting_for, r.subject_ids, r.received_at,
                         r.clock_started_at, r.due_at, r.extended_at, r.closed_at, r.outcome,
                         r.wrapped_key, r.sealed_details, r.sealed_result, r.code_hash,
                         r.code_expires_at, r.code_attempts, r.access_hash);
}
// The seq is compared separately: the store assigns it.
auto Fields(const RequestEventRow& r) {
  return std::make_tuple(r.controller, r.request_id, r.at, r.actor, r.event, r.state, r.detail);
}
// The id is compared separately: the store assigns it.
auto Fields(const OutboxRow& r) {
  return std::make_tuple(r.controller, r.request_id, r.kind, r.target, r.state, r.attempts,
                         r.created_at, r.next_attempt_at, r.delivered_at, r.claimed_until,
                         r.last_error, r.sealed_payload, r.payload_digest);
}
auto Fields(const RecipientEndpointRow& r) {
  return std::make_tuple(r.controller, r.recipient, r.url, r.sealed_secret, r.updated_at);
}

template <typename Row>
bool Same(const Row& a, const Row& b) {
  return Fields(a) == Fields(b);
}

template <typename Row>
bool SameList(const std::vector<Row>& a, const std::vector<Row>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const Row& x, const Row& y) { return Same(x, y); });
}

// --- The fixture ---------------------------------------------------------------------------

class StoreConformance : public testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam().open(dir_.path());
    ASSERT_NE(store_, nullptr) << "cannot open " << GetParam().name;
  }
  void TearDown() override {
    store_.reset();
    if (GetParam().drop) GetParam().drop(dir_.path());
  }

  void Reopen() {
    store_.reset();
    store_ = GetParam().open(dir_.path());
    ASSERT_NE(store_, nullptr);
  }

  template <typename... Rows>
  static WriteBatch Batch(Rows... rows) {
    WriteBatch batch;
    (batch.Add(std::move(rows)), ...);
    return batch;
  }

  // Applies `batch`, failing the test on an error.
  AppliedIds MustApply(const WriteBatch& batch) {
    Result<AppliedIds> applied = store_->Apply(batch);
    EXPECT_TRUE(applied.ok()) << applied.status().ToString();
    return applied.ok() ? *applied : AppliedIds{};
  }

  template <typename T>
  static T Must(Result<T> result) {
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? std::move(result).value() : T{};
  }

  std::vector<std::string> ScanIds(const std::string& controller) {
    std::vector<std::string> ids;
    Status scanned = store_->ScanSubjects(controller, [&](const SubjectRow& row) {
      ids.push_back(row.subject_id);
      return true;
    });
    EXPECT_TRUE(scanned.ok()) << scanned.ToString();
    return ids;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

// --- Round trips --------------------------------------------------------------------------

TEST_P(StoreConformance, EveryRowTypeRoundTrips) {
  ControllerRow controller{"wig", "The Whitehall & Industry Group", "2022-02-10", "custos: 1\n",
                           At(0)};
  SubjectRow subject = Subject("wig", "s1", {"member", "staff"});
  EventRow event{"wig", "s1", "membership_ended", At(10)};
  IdentifierRow identifier = Identifier("wig", "s1", "email", B("blind-1"));
  RecordRow record = Record("wig", "s1", "user.contact.email", "sealed-email");
  ConsentEventRow consent = Consent("wig", "s1", "newsletter", ConsentAction::kGiven, 4);
  consent.target_kind = ConsentTarget::kCookieCategory;
  PreferenceRow preference{"wig", "s1", "sms", true, At(6)};
  ObjectionRow objection{"wig", "s1", "opportunities", At(7), std::nullopt};
  ObjectionRow lifted_objection{"wig", "s1", "*", At(7), At(8)};
  RestrictionRow restriction = Restriction("wig", "s1", {"user.contact", "user.name"});
  RestrictionRow all_restriction = Restriction("wig", "s1", {});
  SuppressionRow suppression{"wig", B("hash-1"), "email", "erased", At(9)};
  AuditRow audit = Audit(1, "write");

  MustApply(Batch(controller, subject, event, identifier, record, consent, preference, objection,
                  lifted_objection, restriction, all_restriction, suppression, audit));

  auto got_controller = Must(store_->GetController("wig"));
  ASSERT_TRUE(got_controller.has_value());
  EXPECT_TRUE(Same(*got_controller, controller));
  auto got_subject = Must(store_->GetSubject("wig", "s1"));
  ASSERT_TRUE(got_subject.has_value());
  EXPECT_TRUE(Same(*got_subject, subject));
  EXPECT_TRUE(SameList(Must(store_->ListEvents("wig", "s1")), {event}));
  EXPECT_TRUE(SameList(Must(store_->ListIdentifiers("wig", "s1")), {identifier}));
  EXPECT_TRUE(SameList(Must(store_->ListRecords("wig", "s1")), {record}));
  EXPECT_TRUE(SameList(Must(store_->ListConsentEvents("wig", "s1")), {consent}));
  EXPECT_TRUE(SameList(Must(store_->ListPreferences("wig", "s1")), {preference}));
  EXPECT_TRUE(SameList(Must(store_->ListObjections("wig", "s1")), {objection, lifted_objection}));
  EXPECT_TRUE(
      SameList(Must(store_->ListRestrictions("wig", "s1")), {restriction, all_restriction}));
  EXPECT_TRUE(Must(store_->IsSuppressed("wig", B("hash-1"))));
  auto got_audit = Must(store_->LastAudit());
  ASSERT_TRUE(got_audit.has_value());
  EXPECT_TRUE(Same(*got_audit, audit));
}

// An import's batch (only_new_rows: PostgreSQL loads it with COPY) stores exactly what the
// same rows applied one by one store, audit entries included, and is as atomic: a person
// already there fails the whole batch and stores none of it.
TEST_P(StoreConformance, ABatchOfNewRowsStoresWhatTheRowsOneByOneStore) {
  ControllerRow controller{"wig", "WIG", "2022-02-10", "custos: 1\n", At(0)};
  MustApply(Batch(controller, Subject("wig", "s0")));
  WriteBatch bulk;
  bulk.only_new_rows = true;
  std::vector<std::string> ids;
  for (int i = 1; i <= 40; ++i) {
    std::string id = "s" + std::to_string(i);
    ids.push_back(id);
    bulk.Add(Subject("wig", id));
    bulk.Add(EventRow{"wig", id, "subject_created", At(1)});
    // Bytes COPY's text format must escape: tab, line feed, backslash, quote, NUL.
    Bytes awkward = {'\t', '\n', '\\', '"', 0, static_cast<uint8_t>(i)};
    bulk.Add(Identifier("wig", id, "email", awkward));
    bulk.Add(Record("wig", id, "user.name", "name\twith\\tab"));
    bulk.Add(Consent("wig", id, "newsletter", ConsentAction::kGiven, 4));
  }
  AuditRow audit = Audit(1, "import");
  audit.detail = "1 identifiers, 1 records, 0 events, 1 consents";
  bulk.Add(audit);
  MustApply(bulk);
  for (int i : {1, 17, 40}) {
    std::string id = "s" + std::to_string(i);
    auto subject = Must(store_->GetSubject("wig", id));
    ASSERT_TRUE(subject.has_value()) << id;
    EXPECT_TRUE(Same(*subject, Subject("wig", id)));
    Bytes awkward = {'\t', '\n', '\\', '"', 0, static_cast<uint8_t>(i)};
    EXPECT_TRUE(SameList(Must(store_->ListIdentifiers("wig", id)),
                         {Identifier("wig", id, "email", awkward)}));
    EXPECT_TRUE(SameList(Must(store_->ListRecords("wig", id)),
                         {Record("wig", id, "user.name", "name\twith\\tab")}));
    EXPECT_TRUE(SameList(Must(store_->ListConsentEvents("wig", id)),
                         {Consent("wig", id, "newsletter", ConsentAction::kGiven, 4)}));
    EXPECT_EQ(Must(store_->FindSubjectsByIdentifier("wig", "email", awkward)),
              std::vector<std::string>{id});
  }
  auto last = Must(store_->LastAudit());
  ASSERT_TRUE(last.has_value());
  EXPECT_TRUE(Same(*last, audit));

  // Many at once: the same answers as one by one, the erased and the absent included.
  MustApply(Batch(EraseSubject{"wig", "s2", At(60)},
                  SuppressionRow{"wig", B("q\"uote\\d"), "email", "erased", At(60)}));
  ids.push_back("nobody");
  auto states = Must(store_->SubjectStates("wig", ids));
  EXPECT_EQ(states.size(), 40u);
  EXPECT_EQ(states.at("s1"), SubjectState::kActive);
  EXPECT_EQ(states.at("s2"), SubjectState::kErased);
  EXPECT_EQ(states.count("nobody"), 0u);
  EXPECT_TRUE(Must(store_->SubjectStates("wig", {})).empty());
  const std::vector<Bytes> hashes = {B("q\"uote\\d"), B("absent"), B("q\"uote")};
  EXPECT_EQ(Must(store_->AreSuppressed("wig", hashes)), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(Must(store_->AreSuppressed("other", hashes)), (std::vector<bool>{false, false, false}));

  // A person already there: the whole batch fails, none of it is stored.
  WriteBatch again;
  again.only_new_rows = true;
  again.Add(Subject("wig", "s41"));
  again.Add(Subject("wig", "s40"));
  EXPECT_FALSE(store_->Apply(again).ok());
  EXPECT_FALSE(Must(store_->GetSubject("wig", "s41")).has_value());
}

// The master key a database belongs to is recorded once and never replaced: a second key is
// answered with the first, for the caller to refuse. A database with entries already chained
// before the key was recorded is keyed from its head + 1.
TEST_P(StoreConformance, TheFirstKeyRecordedIsKeptAndNamesWhereTheKeyedChainStarts) {
  EXPECT_FALSE(Must(store_->GetKeyBinding()).has_value());
  MustApply(Batch(Audit(1, "a"), Audit(2, "b")));
  KeyBindingRow first = Must(store_->BindKey("0123456789abcdef0123456789abcdef"));
  EXPECT_EQ(first.key_id, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(first.chain_keyed_from, 3);
  MustApply(Batch(Audit(3, "c")));
  KeyBindingRow again = Must(store_->BindKey("ffffffffffffffffffffffffffffffff"));
  EXPECT_EQ(again.key_id, first.key_id);
  EXPECT_EQ(again.chain_keyed_from, 3);
  auto kept = Must(store_->GetKeyBinding());
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->key_id, first.key_id);
}

TEST_P(StoreConformance, EmptyAndBinaryValuesRoundTrip) {
  SubjectRow subject = Subject("wig", "s1", {});
  subject.wrapped_key = {0, 1, 0, 255};
  RecordRow empty = Record("wig", "s1", "user.name", "");
  RecordRow binary = Record("wig", "s1", "user.name", std::string("\0\xff\0", 3));
  MustApply(Batch(subject, empty, binary));

  auto got = Must(store_->GetSubject("wig", "s1"));
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->types.empty());
  EXPECT_EQ(got->wrapped_key, subject.wrapped_key);
  auto records = Must(store_->ListRecords("wig", "s1"));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_TRUE(records[0].sealed_value.empty());
  EXPECT_EQ(records[1].sealed_value, binary.sealed_value);
}

TEST_P(StoreConformance, MissingRowsReadAsAbsent) {
  EXPECT_FALSE(Must(store_->GetController("nobody")).has_value());
  EXPECT_FALSE(Must(store_->GetSubject("wig", "nobody")).has_value());
  EXPECT_TRUE(Must(store_->ListRecords("wig", "nobody")).empty());
  EXPECT_TRUE(Must(store_->ListEvents("wig", "nobody")).empty());
  EXPECT_EQ(Must(store_->CountSubjects("wig")), 0);
  EXPECT_TRUE(ScanIds("wig").empty());
  EXPECT_FALSE(Must(store_->LastAudit()).has_value());
  EXPECT_FALSE(Must(store_->IsSuppressed("wig", B("h"))));
  EXPECT_TRUE(Must(store_->FindSubjectsByIdentifier("wig", "email", B("b"))).empty());
}

TEST_P(StoreConformance, NewestPolicyVersionIsTheControllersAndOldOnesStay) {
  MustApply(Batch(ControllerRow{"wig", "WIG", "v1", "one", At(0)}));
  MustApply(Batch(ControllerRow{"wig", "WIG", "v2", "two", At(1)}));
  MustApply(Batch(ControllerRow{"other", "Other", "v9", "nine", At(2)}));
  auto wig = Must(store_->GetController("wig"));
  ASSERT_TRUE(wig.has_value());
  EXPECT_EQ(wig->policy_version, "v2");
  EXPECT_EQ(wig->policy_text, "two");
  // Loading the first version again makes it the one in force.
  MustApply(Batch(ControllerRow{"wig", "WIG", "v1", "one", At(3)}));
  EXPECT_EQ(Must(store_->GetController("wig"))->policy_version, "v1");
  EXPECT_EQ(Must(store_->GetController("other"))->policy_version, "v9");
}

// --- Ids ----------------------------------------------------------------------------------

TEST_P(StoreConformance, AssignsIncreasingIdsInBatchOrder) {
  MustApply(Batch(Subject("wig", "s1"), Subject("wig", "s2")));
  AppliedIds first =
      MustApply(Batch(Record("wig", "s1", "user.name", "a"), Record("wig", "s2", "user.name", "b"),
                      Consent("wig", "s1", "newsletter", ConsentAction::kGiven, 1),
                      Record("wig", "s1", "user.contact.email", "c"),
                      Consent("wig", "s1", "newsletter", ConsentAction::kWithdrawn, 2),
                      Restriction("wig", "s1", {}), Restriction("wig", "s2", {"user.name"})));
  AppliedIds second = MustApply(Batch(Record("wig", "s1", "user.name", "d"),
                                      Consent("wig", "s2", "newsletter", ConsentAction::kGiven, 3),
                                      Restriction("wig", "s1", {"user.name"})));

  ASSERT_EQ(first.record_ids.size(), 3u);
  ASSERT_EQ(first.consent_seqs.size(), 2u);
  ASSERT_EQ(first.restriction_ids.size(), 2u);
  ASSERT_EQ(second.record_ids.size(), 1u);
  ASSERT_EQ(second.consent_seqs.size(), 1u);
  ASSERT_EQ(second.restriction_ids.size(), 1u);
  auto increasing = [](std::vector<int64_t> ids) {
    return ids.front() > 0 && std::is_sorted(ids.begin(), ids.end()) &&
           std::adjacent_find(ids.begin(), ids.end()) == ids.end();
  };
  EXPECT_TRUE(increasing(
      {first.record_ids[0], first.record_ids[1], first.record_ids[2], second.record_ids[0]}));
  EXPECT_TRUE(increasing({first.consent_seqs[0], first.consent_seqs[1], second.consent_seqs[0]}));
  EXPECT_TRUE(
      increasing({first.restriction_ids[0], first.restriction_ids[1], second.restriction_ids[0]}));

  // Reads return the ids, in insertion order.
  auto records = Must(store_->ListRecords("wig", "s1"));
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].record_id, first.record_ids[0]);
  EXPECT_EQ(records[1].record_id, first.record_ids[2]);
  EXPECT_EQ(records[2].record_id, second.record_ids[0]);
  EXPECT_EQ(records[0].sealed_value, B("a"));
  EXPECT_EQ(records[2].sealed_value, B("d"));
  auto consents = Must(store_->ListConsentEvents("wig", "s1"));
  ASSERT_EQ(consents.size(), 2u);
  EXPECT_EQ(consents[0].seq, first.consent_seqs[0]);
  EXPECT_EQ(consents[1].seq, first.consent_seqs[1]);
  EXPECT_EQ(consents[1].action, ConsentAction::kWithdrawn);
  auto restrictions = Must(store_->ListRestrictions("wig", "s1"));
  ASSERT_EQ(restrictions.size(), 2u);
  EXPECT_EQ(restrictions[0].restriction_id, first.restriction_ids[0]);
  EXPECT_EQ(restrictions[1].restriction_id, second.restriction_ids[0]);
}

TEST_P(StoreConformance, EventsPreferencesAndIdentifiersKeepInsertionOrder) {
  MustApply(Batch(Subject("wig", "s1")));
  for (int i = 0; i < 5; ++i) {
    // Times go backwards: order must follow insertion, not time.
    MustApply(Batch(EventRow{"wig", "s1", "e" + std::to_string(i), At(100 - i)},
                    PreferenceRow{"wig", "s1", "email", i % 2 == 0, At(100 - i)},
                    Identifier("wig", "s1", "email", B("b" + std::to_string(i)))));
  }
  auto events = Must(store_->ListEvents("wig", "s1"));
  auto preferences = Must(store_->ListPreferences("wig", "s1"));
  auto identifiers = Must(store_->ListIdentifiers("wig", "s1"));
  ASSERT_EQ(events.size(), 5u);
  ASSERT_EQ(preferences.size(), 5u);
  ASSERT_EQ(identifiers.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(events[i].event, "e" + std::to_string(i));
    EXPECT_EQ(preferences[i].allowed, i % 2 == 0);
    EXPECT_EQ(identifiers[i].blind_index, B("b" + std::to_string(i)));
  }
}

// --- Isolation between subjects and controllers --------------------------------------------

TEST_P(StoreConformance, ListsOnlyTheRowsOfThatSubjectOfThatController) {
  const std::vector<std::string> controllers = {"c1", "c2"};
  const std::vector<std::string> subjects = {"s1", "s2"};
  for (const auto& c : controllers) {
    for (const auto& s : subjects) {
      std::string tag = c + "/" + s;
      MustApply(Batch(Subject(c, s, {tag}), EventRow{c, s, tag, At(1)},
                      Identifier(c, s, "email", B(tag)), Record(c, s, "user.name", tag),
                      Consent(c, s, tag, ConsentAction::kGiven, 1),
                      PreferenceRow{c, s, tag, true, At(1)}, ObjectionRow{c, s, tag, At(1), {}},
                      Restriction(c, s, {tag})));
    }
  }
  for (const auto& c : controllers) {
    EXPECT_EQ(Must(store_->CountSubjects(c)), 2);
    for (const auto& s : subjects) {
      std::string tag = c + "/" + s;
      SCOPED_TRACE(tag);
      EXPECT_EQ(Must(store_->GetSubject(c, s))->types, std::vector<std::string>{tag});
      auto events = Must(store_->ListEvents(c, s));
      ASSERT_EQ(events.size(), 1u);
      EXPECT_EQ(events[0].event, tag);
      auto identifiers = Must(store_->ListIdentifiers(c, s));
      ASSERT_EQ(identifiers.size(), 1u);
      EXPECT_EQ(identifiers[0].blind_index, B(tag));
      auto records = Must(store_->ListRecords(c, s));
      ASSERT_EQ(records.size(), 1u);
      EXPECT_EQ(records[0].sealed_value, B(tag));
      EXPECT_EQ(records[0].controller, c);
      EXPECT_EQ(records[0].subject_id, s);
      auto consents = Must(store_->ListConsentEvents(c, s));
      ASSERT_EQ(consents.size(), 1u);
      EXPECT_EQ(consents[0].target, tag);
      auto preferences = Must(store_->ListPreferences(c, s));
      ASSERT_EQ(preferences.size(), 1u);
      EXPECT_EQ(preferences[0].channel, tag);
      auto objections = Must(store_->ListObjections(c, s));
      ASSERT_EQ(objections.size(), 1u);
      EXPECT_EQ(objections[0].purpose, tag);
      auto restrictions = Must(store_->ListRestrictions(c, s));
      ASSERT_EQ(restrictions.size(), 1u);
      EXPECT_EQ(restrictions[0].categories, std::vector<std::string>{tag});
    }
  }
}

TEST_P(StoreConformance, ScansSubjectsInIdOrderAndStopsWhenAsked) {
  MustApply(
      Batch(Subject("wig", "b"), Subject("wig", "c"), Subject("wig", "a"), Subject("other", "aa")));
  EXPECT_EQ(ScanIds("wig"), (std::vector<std::string>{"a", "b", "c"}));
  std::vector<std::string> seen;
  ASSERT_TRUE(store_
                  ->ScanSubjects("wig",
                                 [&](const SubjectRow& row) {
                                   seen.push_back(row.subject_id);
                                   return seen.size() < 2;
                                 })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Must(store_->CountSubjects("wig")), 3);
  EXPECT_EQ(Must(store_->CountSubjects("other")), 1);
}

// --- Updates ------------------------------------------------------------------------------

TEST_P(StoreConformance, SetRecordStateChangesStateAndOptionallyTheValue) {
  MustApply(Batch(Subject("wig", "s1")));
  AppliedIds ids = MustApply(Batch(Record("wig", "s1", "user.name", "ada"),
                                   Record("wig", "s1", "user.contact.email", "ada@")));
  ASSERT_EQ(ids.record_ids.size(), 2u);
  MustApply(Batch(
      SetRecordState{"wig", "s1", ids.record_ids[0], RecordState::kAnonymised, B("anon"), At(50)},
      SetRecordState{"wig", "s1", ids.record_ids[1], RecordState::kRestricted, std::nullopt,
                     At(51)}));
  auto records = Must(store_->ListRecords("wig", "s1"));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].state, RecordState::kAnonymised);
  EXPECT_EQ(records[0].sealed_value, B("anon"));
  EXPECT_EQ(records[0].updated_at, At(50));
  EXPECT_EQ(records[0].collected_at, At(2));
  EXPECT_EQ(records[1].state, RecordState::kRestricted);
  EXPECT_EQ(records[1].sealed_value, B("ada@"));
  EXPECT_EQ(records[1].updated_at, At(51));

  // Erasing with an empty value leaves nothing behind.
  MustApply(
      Batch(SetRecordState{"wig", "s1", ids.record_ids[0], RecordState::kErased, Bytes(), At(52)}));
  records = Must(store_->ListRecords("wig", "s1"));
  EXPECT_EQ(records[0].state, RecordState::kErased);
  EXPECT_TRUE(records[0].sealed_value.empty());
}

TEST_P(StoreConformance, SetRecordStateOfAnotherSubjectsRecordFails) {
  MustApply(Batch(Subject("wig", "s1"), Subject("wig", "s2")));
  AppliedIds ids = MustApply(Batch(Record("wig", "s1", "user.name", "ada")));
  Result<AppliedIds> applied = store_->Apply(
      Batch(SetRecordState{"wig", "s2", ids.record_ids[0], RecordState::kErased, Bytes(), At(9)}));
  EXPECT_EQ(applied.status().code(), ErrorCode::kInvalidArgument);
  applied = store_->Apply(
      Batch(SetRecordState{"wig", "s1", 999999, RecordState::kErased, Bytes(), At(9)}));
  EXPECT_EQ(applied.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Must(store_->ListRecords("wig", "s1"))[0].state, RecordState::kActive);
}

TEST_P(StoreConformance, LiftsRestrictionsAndObjections) {
  MustApply(Batch(Subject("wig", "s1")));
  AppliedIds ids =
      MustApply(Batch(Restriction("wig", "s1", {"user.name"}), Restriction("wig", "s1", {}),
                      ObjectionRow{"wig", "s1", "opportunities", At(1), {}},
                      ObjectionRow{"wig", "s1", "*", At(1), {}}));
  ASSERT_EQ(ids.restriction_ids.size(), 2u);
  MustApply(Batch(LiftRestriction{"wig", "s1", ids.restriction_ids[1], At(20)},
                  LiftObjection{"wig", "s1", "opportunities", At(21)}));

  auto restrictions = Must(store_->ListRestrictions("wig", "s1"));
  ASSERT_EQ(restrictions.size(), 2u);
  EXPECT_FALSE(restrictions[0].lifted_at.has_value());
  EXPECT_EQ(restrictions[1].lifted_at, At(20));
  auto objections = Must(store_->ListObjections("wig", "s1"));
  ASSERT_EQ(objections.size(), 2u);
  EXPECT_EQ(objections[0].lifted_at, At(21));
  EXPECT_FALSE(objections[1].lifted_at.has_value());

  // A second lift keeps the first time; a new objection to the same purpose is open again.
  MustApply(Batch(LiftRestriction{"wig", "s1", ids.restriction_ids[1], At(30)},
                  ObjectionRow{"wig", "s1", "opportunities", At(31), {}}));
  EXPECT_EQ(Must(store_->ListRestrictions("wig", "s1"))[1].lifted_at, At(20));
  objections = Must(store_->ListObjections("wig", "s1"));
  ASSERT_EQ(objections.size(), 3u);
  EXPECT_EQ(objections[0].lifted_at, At(21));
  EXPECT_FALSE(objections[2].lifted_at.has_value());

  // Lifting a restriction that does not exist is an error.
  EXPECT_EQ(store_->Apply(Batch(LiftRestriction{"wig", "s1", 999999, At(40)})).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST_P(StoreConformance, EraseSubjectDropsTheKeyAndMarksItErased) {
  MustApply(Batch(Subject("wig", "s1"), Subject("wig", "s2")));
  MustApply(Batch(Record("wig", "s1", "user.name", "ada")));
  MustApply(Batch(EraseSubject{"wig", "s1", At(60)}));

  auto erased = Must(store_->GetSubject("wig", "s1"));
  ASSERT_TRUE(erased.has_value());
  EXPECT_EQ(erased->state, SubjectState::kErased);
  EXPECT_TRUE(erased->wrapped_key.empty());
  EXPECT_EQ(erased->erased_at, At(60));
  EXPECT_EQ(erased->types, std::vector<std::string>{"member"});
  auto other = Must(store_->GetSubject("wig", "s2"));
  EXPECT_EQ(other->state, SubjectState::kActive);
  EXPECT_FALSE(other->wrapped_key.empty());

  EXPECT_EQ(store_->Apply(Batch(EraseSubject{"wig", "nobody", At(61)})).status().code(),
            ErrorCode::kInvalidArgument);
}

// --- Lookups ------------------------------------------------------------------------------

TEST_P(StoreConformance, FindsEverySubjectSharingAnIdentifier) {
  Bytes family = B("family-email");
  MustApply(Batch(Subject("wig", "parent"), Subject("wig", "child"), Subject("wig", "other"),
                  Subject("c2", "parent")));
  MustApply(Batch(
      Identifier("wig", "parent", "email", family), Identifier("wig", "child", "email", family),
      Identifier("wig", "other", "email", B("own-email")),
      Identifier("wig", "other", "phone", family), Identifier("c2", "parent", "email", family)));

  EXPECT_EQ(Must(store_->FindSubjectsByIdentifier("wig", "email", family)),
            (std::vector<std::string>{"parent", "child"}));
  EXPECT_EQ(Must(store_->FindSubjectsByIdentifier("wig", "phone", family)),
            std::vector<std::string>{"other"});
  EXPECT_EQ(Must(store_->FindSubjectsByIdentifier("c2", "email", family)),
            std::vector<std::string>{"parent"});
  EXPECT_TRUE(Must(store_->FindSubjectsByIdentifier("wig", "email", B("nobody"))).empty());
}

TEST_P(StoreConformance, SuppressionIsPerControllerAndAddingItTwiceKeepsTheFirst) {
  MustApply(Batch(SuppressionRow{"wig", B("h1"), "email", "erased", At(1)}));
  EXPECT_TRUE(Must(store_->IsSuppressed("wig", B("h1"))));
  EXPECT_FALSE(Must(store_->IsSuppressed("wig", B("h2"))));
  EXPECT_FALSE(Must(store_->IsSuppressed("c2", B("h1"))));
  MustApply(Batch(SuppressionRow{"wig", B("h1"), "email", "marketing_opt_out", At(2)}));
  EXPECT_TRUE(Must(store_->IsSuppressed("wig", B("h1"))));
}

// --- Audit log ----------------------------------------------------------------------------

TEST_P(StoreConformance, AuditIsReadBackInSeqOrder) {
  MustApply(Batch(Audit(1, "a"), Audit(2, "b")));
  MustApply(Batch(Audit(3, "c"), Audit(4, "d"), Audit(5, "e")));
  auto last = Must(store_->LastAudit());
  ASSERT_TRUE(last.has_value());
  EXPECT_TRUE(Same(*last, Audit(5, "e")));

  std::vector<int64_t> seqs;
  ASSERT_TRUE(store_
                  ->ScanAudit(3,
                              [&](const AuditRow& row) {
                                seqs.push_back(row.seq);
                                EXPECT_TRUE(Same(row, Audit(row.seq, row.action)));
                                return true;
                              })
                  .ok());
  EXPECT_EQ(seqs, (std::vector<int64_t>{3, 4, 5}));
  seqs.clear();
  ASSERT_TRUE(store_
                  ->ScanAudit(1,
                              [&](const AuditRow& row) {
                                seqs.push_back(row.seq);
                                return row.seq < 2;
                              })
                  .ok());
  EXPECT_EQ(seqs, (std::vector<int64_t>{1, 2}));
}

TEST_P(StoreConformance, ManyAuditEntriesInOneBatchRoundTripAndATakenSeqFailsThemAll) {
  // A flush of buffered decisions: many entries in one batch (PostgreSQL COPYs them; SQLite
  // inserts them 32 to a statement, and the rest one by one: 70 is two runs and six more).
  WriteBatch first;
  for (int64_t seq = 1; seq <= 70; ++seq) {
    AuditRow row = Audit(seq, "decide");
    row.detail = "deny\tCONSENT_MISSING\n\\ " + std::to_string(seq);
    first.Add(row);
  }
  first.Add(Subject("wig", "s1"));
  MustApply(first);
  std::vector<AuditRow> read;
  ASSERT_TRUE(store_
                  ->ScanAudit(1,
                              [&](const AuditRow& row) {
                                read.push_back(row);
                                return true;
                              })
                  .ok());
  ASSERT_EQ(read.size(), 70u);
  for (size_t i = 0; i < read.size(); ++i) {
    EXPECT_TRUE(Same(read[i], std::get<AuditRow>(first.ops[i]))) << i;
  }
  WriteBatch overlapping;  // taken seqs inside a run of 32
  overlapping.Add(Subject("wig", "s2"));
  for (int64_t seq = 21; seq <= 60; ++seq) overlapping.Add(Audit(seq, "decide"));
  EXPECT_EQ(store_->Apply(overlapping).status().code(), ErrorCode::kConflict);
  WriteBatch late;  // two good runs, then one taken seq on its own
  late.Add(Subject("wig", "s2"));
  for (int64_t seq = 71; seq <= 134; ++seq) late.Add(Audit(seq, "decide"));
  late.Add(Audit(70, "decide"));
  EXPECT_EQ(store_->Apply(late).status().code(), ErrorCode::kConflict);
  EXPECT_EQ(Must(store_->LastAudit())->seq, 70);
  EXPECT_FALSE(Must(store_->GetSubject("wig", "s2")).has_value());
}

TEST_P(StoreConformance, DuplicateAuditSeqIsRejected) {
  MustApply(Batch(Audit(1, "a")));
  // CONFLICT on both backends: the engine re-reads the head and chains again (audit_log.cc).
  Result<AppliedIds> applied = store_->Apply(Batch(Audit(2, "b"), Audit(1, "again")));
  EXPECT_EQ(applied.status().code(), ErrorCode::kConflict);
  EXPECT_EQ(Must(store_->LastAudit())->seq, 1);
}

// --- Retention: legal holds, review tasks, anonymised facts, sweeps -----------------------

LegalHoldRow Hold(const std::string& controller, const std::string& subject,
                  const std::string& category, int64_t placed) {
  LegalHoldRow row;
  row.controller = controller;
  row.subject_id = subject;
  row.category = category;
  row.reason = "litigation";
  row.placed_at = At(placed);
  return row;
}

ReviewTaskRow Task(const std::string& id, const std::string& rule, const std::string& category,
                   int64_t due) {
  ReviewTaskRow row;
  row.controller = "wig";
  row.subject_id = id;
  row.rule_id = rule;
  row.category = category;
  row.due_at = At(due);
  row.created_at = At(due + 1);
  return row;
}

AnonymisedFactRow Fact(const std::string& controller, int64_t id, const std::string& category,
                       const std::string& value) {
  return AnonymisedFactRow{controller, id, category, value};
}

TEST_P(StoreConformance, LegalHoldsAreAssignedIdsListedAndReleasedOnce) {
  LegalHoldRow with_expiry = Hold("wig", "", "user.engagement", 2);
  with_expiry.expires_at = At(100);
  AppliedIds ids = MustApply(Batch(Hold("wig", "s1", "", 1), with_expiry, Hold("c2", "s1", "", 3)));
  ASSERT_EQ(ids.hold_ids.size(), 3u);
  EXPECT_LT(ids.hold_ids[0], ids.hold_ids[1]);

  auto holds = Must(store_->ListLegalHolds("wig"));
  ASSERT_EQ(holds.size(), 2u);
  EXPECT_EQ(holds[0].hold_id, ids.hold_ids[0]);
  EXPECT_EQ(holds[0].subject_id, "s1");
  EXPECT_EQ(holds[0].category, "");
  EXPECT_EQ(holds[0].reason, "litigation");
  EXPECT_EQ(holds[0].placed_at, At(1));
  EXPECT_FALSE(holds[0].expires_at.has_value());
  EXPECT_FALSE(holds[0].released_at.has_value());
  EXPECT_EQ(holds[1].category, "user.engagement");
  EXPECT_EQ(holds[1].expires_at, At(100));
  EXPECT_TRUE(holds[1].ActiveAt(At(99)));
  EXPECT_FALSE(holds[1].ActiveAt(At(100)));
  EXPECT_FALSE(holds[1].ActiveAt(At(1)));  // not yet placed

  MustApply(Batch(ReleaseLegalHold{"wig", ids.hold_ids[0], At(50)}));
  MustApply(Batch(ReleaseLegalHold{"wig", ids.hold_ids[0], At(60)}));  // keeps the first time
  holds = Must(store_->ListLegalHolds("wig"));
  EXPECT_EQ(holds[0].released_at, At(50));
  EXPECT_TRUE(holds[0].ActiveAt(At(49)));
  EXPECT_FALSE(holds[0].ActiveAt(At(50)));
  EXPECT_FALSE(Must(store_->ListLegalHolds("c2"))[0].released_at.has_value());

  // Another controller's hold cannot be released from here; a hold needs a subject or category.
  EXPECT_EQ(store_->Apply(Batch(ReleaseLegalHold{"wig", ids.hold_ids[2], At(70)})).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->Apply(Batch(Hold("wig", "", "", 4))).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Must(store_->ListLegalHolds("nobody")).empty());
}

TEST_P(StoreConformance, ReviewTaskAddedTwiceIsOneTaskAndCanBeCompleted) {
  MustApply(Batch(Subject("wig", "s1"), Subject("wig", "s2")));
  MustApply(Batch(Task("s1", "review_rule", "user.name", 10),
                  Task("s1", "review_rule", "user.name", 10)));  // the same task twice
  MustApply(Batch(Task("s1", "review_rule", "user.name", 10)));  // and again later
  MustApply(Batch(Task("s1", "review_rule", "user.name", 20),    // a later due date
                  Task("s2", "review_rule", "user.name", 10)));
  auto tasks = Must(store_->ListReviewTasks("wig", /*open_only=*/true));
  ASSERT_EQ(tasks.size(), 3u);
  EXPECT_EQ(tasks[0].subject_id, "s1");
  EXPECT_EQ(tasks[0].rule_id, "review_rule");
  EXPECT_EQ(tasks[0].category, "user.name");
  EXPECT_EQ(tasks[0].due_at, At(10));
  EXPECT_EQ(tasks[0].created_at, At(11));
  EXPECT_LT(tasks[0].task_id, tasks[1].task_id);
  EXPECT_LT(tasks[1].task_id, tasks[2].task_id);

  MustApply(Batch(CompleteReviewTask{"wig", tasks[1].task_id, At(30)}));
  MustApply(Batch(CompleteReviewTask{"wig", tasks[1].task_id, At(40)}));
  EXPECT_EQ(Must(store_->ListReviewTasks("wig", true)).size(), 2u);
  auto all = Must(store_->ListReviewTasks("wig", false));
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].done_at, At(30));
  EXPECT_EQ(store_->Apply(Batch(CompleteReviewTask{"wig", 999999, At(30)})).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->Apply(Batch(Task("ghost", "r", "user.name", 1))).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Must(store_->ListReviewTasks("c2", false)).empty());
}

TEST_P(StoreConformance, AnonymisedFactsAreCountedByValueUnderACategory) {
  MustApply(Batch(Fact("wig", 9001, "user.engagement.participation", "mentoring"),
                  Fact("wig", 17, "user.engagement.participation", "mentoring"),
                  Fact("wig", 123456789012345, "user.engagement.participation", "seminar"),
                  Fact("wig", 5, "user.engagement", "member"),
                  Fact("wig", 6, "user.engagementx", "not under user.engagement"),
                  Fact("wig", 7, "user.engagement.website", "downloads"),
                  Fact("c2", 9001, "user.engagement.participation", "mentoring")));
  auto counts = Must(store_->CountAnonymisedFacts("wig", "user.engagement"));
  ASSERT_EQ(counts.size(), 4u);
  EXPECT_EQ(counts[0].category, "user.engagement");
  EXPECT_EQ(counts[0].value, "member");
  EXPECT_EQ(counts[0].count, 1);
  EXPECT_EQ(counts[1].category, "user.engagement.participation");
  EXPECT_EQ(counts[1].value, "mentoring");
  EXPECT_EQ(counts[1].count, 2);
  EXPECT_EQ(counts[2].value, "seminar");
  EXPECT_EQ(counts[3].category, "user.engagement.website");

  auto one = Must(store_->CountAnonymisedFacts("wig", "user.engagement.participation"));
  EXPECT_EQ(one.size(), 2u);
  EXPECT_EQ(Must(store_->CountAnonymisedFacts("c2", "user.engagement"))[0].count, 1);
  EXPECT_TRUE(Must(store_->CountAnonymisedFacts("wig", "user.contact")).empty());

  // The writer chooses the (random) id; none, or one already used, is refused.
  EXPECT_EQ(store_->Apply(Batch(Fact("wig", 0, "user.engagement", "x"))).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->Apply(Batch(Fact("wig", 17, "user.engagement", "x"))).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST_P(StoreConformance, DeleteIdentifiersRemovesOneKindOrAll) {
  MustApply(Batch(Subject("wig", "s1"), Subject("wig", "s2")));
  MustApply(
      Batch(Identifier("wig", "s1", "email", B("e1")), Identifier("wig", "s1", "email", B("e2")),
            Identifier("wig", "s1", "phone", B("p1")), Identifier("wig", "s2", "email", B("e1"))));
  MustApply(Batch(DeleteIdentifiers{"wig", "s1", "email", B("e2")}));
  auto left = Must(store_->ListIdentifiers("wig", "s1"));
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].blind_index, B("e1"));
  MustApply(Batch(DeleteIdentifiers{"wig", "s1", "email", {}}));
  left = Must(store_->ListIdentifiers("wig", "s1"));
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].kind, "phone");
  EXPECT_EQ(Must(store_->FindSubjectsByIdentifier("wig", "email", B("e1"))),
            std::vector<std::string>{"s2"});
  MustApply(Batch(DeleteIdentifiers{"wig", "s1", "", {}}));
  MustApply(Batch(DeleteIdentifiers{"wig", "s1", "", {}}));  // nothing left: a no-op
  EXPECT_TRUE(Must(store_->ListIdentifiers("wig", "s1")).empty());
  EXPECT_EQ(Must(store_->ListIdentifiers("wig", "s2")).size(), 1u);
}

TEST_P(StoreConformance, SweepPagesVisitEverySubjectOnceWithItsRows) {
  MustApply(Batch(Subject("wig", "a"), Subject("wig", "b"), Subject("wig", "c"),
                  Subject("wig", "d"), Subject("wig", "e"), Subject("c2", "b")));
  MustApply(Batch(
      Record("wig", "b", "user.name", "bee"), Record("wig", "d", "user.name", "dee"),
      Record("wig", "b", "user.contact.email", "b@x"),
      Record("c2", "b", "user.name", "other controller"),
      EventRow{"wig", "b", "last_activity", At(4)}, EventRow{"wig", "e", "membership_ended", At(5)},
      EventRow{"c2", "b", "last_activity", At(6)}, Identifier("wig", "c", "email", B("c-hash")),
      Identifier("c2", "b", "email", B("other"))));
  MustApply(Batch(Task("d", "r", "user.name", 7)));

  std::vector<std::vector<std::string>> pages;
  std::string after;
  std::vector<SweepSubject> all;
  while (true) {
    auto page = Must(store_->ListSweepPage("wig", after, 2));
    if (page.empty()) break;
    pages.emplace_back();
    for (auto& subject : page) {
      pages.back().push_back(subject.subject.subject_id);
      after = subject.subject.subject_id;
      all.push_back(std::move(subject));
    }
  }
  EXPECT_EQ(pages, (std::vector<std::vector<std::string>>{{"a", "b"}, {"c", "d"}, {"e"}}));
  ASSERT_EQ(all.size(), 5u);
  EXPECT_TRUE(all[0].records.empty() && all[0].events.empty() && all[0].identifiers.empty());
  ASSERT_EQ(all[1].records.size(), 2u);
  EXPECT_EQ(all[1].records[0].category, "user.name");
  EXPECT_EQ(all[1].records[0].sealed_value, B("bee"));
  EXPECT_EQ(all[1].records[1].category, "user.contact.email");
  ASSERT_EQ(all[1].events.size(), 1u);
  EXPECT_EQ(all[1].events[0].event, "last_activity");
  EXPECT_TRUE(all[1].identifiers.empty());
  ASSERT_EQ(all[2].identifiers.size(), 1u);
  EXPECT_EQ(all[2].identifiers[0].blind_index, B("c-hash"));
  ASSERT_EQ(all[3].records.size(), 1u);
  ASSERT_EQ(all[3].review_tasks.size(), 1u);
  EXPECT_EQ(all[3].review_tasks[0].rule_id, "r");
  ASSERT_EQ(all[4].events.size(), 1u);
  EXPECT_EQ(all[4].events[0].at, At(5));

  EXPECT_EQ(Must(store_->ListSweepPage("wig", "", 100)).size(), 5u);
  EXPECT_TRUE(Must(store_->ListSweepPage("wig", "e", 100)).empty());
  EXPECT_TRUE(Must(store_->ListSweepPage("wig", "", 0)).empty());
  auto other = Must(store_->ListSweepPage("c2", "", 100));
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0].records.size(), 1u);
  EXPECT_EQ(other[0].identifiers.size(), 1u);
}

TEST_P(StoreConformance, ExpectStateFailsTheBatchWhenTheRowChanged) {
  MustApply(Batch(Subject("wig", "s1"), Subject("wig", "s2")));
  AppliedIds ids = MustApply(Batch(Record("wig", "s1", "user.name", "ada")));
  const int64_t id = ids.record_ids[0];
  MustApply(Batch(ExpectState{"wig", "s1", 0, RecordState::kActive},
                  ExpectState{"wig", "s1", id, RecordState::kActive},
                  SetRecordState{"wig", "s1", id, RecordState::kErased, Bytes(), At(10)}));
  // Planned from "active", but it is erased now: nothing of the batch is applied.
  Result<AppliedIds> stale = store_->Apply(
      Batch(SuppressionRow{"wig", B("h"), "email", "retention", At(11)},
            ExpectState{"wig", "s1", id, RecordState::kActive},
            SetRecordState{"wig", "s1", id, RecordState::kAnonymised, Bytes(), At(11)}));
  EXPECT_EQ(stale.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(Must(store_->IsSuppressed("wig", B("h"))));
  EXPECT_EQ(Must(store_->ListRecords("wig", "s1"))[0].state, RecordState::kErased);
  // A subject erased since, or unknown, fails the same way; the record of another subject too.
  MustApply(Batch(EraseSubject{"wig", "s2", At(12)}));
  EXPECT_EQ(store_->Apply(Batch(ExpectState{"wig", "s2", 0, RecordState::kActive})).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(
      store_->Apply(Batch(ExpectState{"wig", "ghost", 0, RecordState::kActive})).status().code(),
      ErrorCode::kInvalidArgument);
  EXPECT_EQ(
      store_->Apply(Batch(ExpectState{"wig", "s2", id, RecordState::kErased})).status().code(),
      ErrorCode::kInvalidArgument);
}

TEST_P(StoreConformance, RetentionRunKeepsItsCheckpointAndFinishesOnce) {
  EXPECT_FALSE(Must(store_->LastRetentionRun("wig")).has_value());
  RetentionRunRow run;
  run.controller = "wig";
  run.as_of = At(100);
  run.started_at = At(101);
  AppliedIds first = MustApply(Batch(run));
  ASSERT_EQ(first.run_ids.size(), 1u);

  RetentionCounts counts{5, 4, 3, 2, 1, 1};
  MustApply(Batch(RetentionCheckpoint{"wig", first.run_ids[0], "s5", counts, std::nullopt}));
  auto last = Must(store_->LastRetentionRun("wig"));
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->run_id, first.run_ids[0]);
  EXPECT_EQ(last->as_of, At(100));
  EXPECT_EQ(last->started_at, At(101));
  EXPECT_EQ(last->last_subject_id, "s5");
  EXPECT_EQ(last->counts.subjects, 5);
  EXPECT_EQ(last->counts.deleted, 4);
  EXPECT_EQ(last->counts.anonymised, 3);
  EXPECT_EQ(last->counts.reviews, 2);
  EXPECT_EQ(last->counts.held, 1);
  EXPECT_EQ(last->counts.erased, 1);
  EXPECT_FALSE(last->finished_at.has_value());

  MustApply(Batch(RetentionCheckpoint{"wig", first.run_ids[0], "s9", counts, At(110)}));
  MustApply(Batch(RetentionCheckpoint{"wig", first.run_ids[0], "s9", counts, At(120)}));
  EXPECT_EQ(Must(store_->LastRetentionRun("wig"))->finished_at, At(110));

  AppliedIds second = MustApply(Batch(run));
  EXPECT_GT(second.run_ids[0], first.run_ids[0]);
  EXPECT_EQ(Must(store_->LastRetentionRun("wig"))->run_id, second.run_ids[0]);
  EXPECT_FALSE(Must(store_->LastRetentionRun("c2")).has_value());
  EXPECT_EQ(
      store_->Apply(Batch(RetentionCheckpoint{"c2", first.run_ids[0], "x", counts, std::nullopt}))
          .status()
          .code(),
      ErrorCode::kInvalidArgument);
}

// --- Rights requests: requests, history, outbox, endpoints, record versions -----------------

RequestRow Request(const std::string& controller, const std::string& id, int64_t received) {
  RequestRow row;
  row.controller = controller;
  row.request_id = id;
  row.type = "access";
  row.intake = "self_service";
  row.received_at = At(received);
  row.wrapped_key = B("request-key:" + id);
  row.sealed_details = B("sealed-details");
  row.access_hash = B("access-hash");
  return row;
}

RequestEventRow RequestEvent(const std::string& controller, const std::string& id,
                             const std::string& event, RequestState state, int64_t at) {
  RequestEventRow row;
  row.controller = controller;
  row.request_id = id;
  row.at = At(at);
  row.actor = "staff:dpo";
  row.event = event;
  row.state = state;
  row.detail = "detail of " + event;
  return row;
}

OutboxRow Message(const std::string& controller, const std::string& request_id,
                  int64_t next_attempt) {
  OutboxRow row;
  row.controller = controller;
  row.request_id = request_id;
  row.kind = "recipient_notice";
  row.target = "mailchimp";
  row.created_at = At(1);
  row.next_attempt_at = At(next_attempt);
  row.sealed_payload = B("sealed-payload");
  row.payload_digest = B("digest");
  return row;
}

RecordVersionRow Version(const std::string& controller, const std::string& subject,
                         int64_t record_id, const std::string& value) {
  RecordVersionRow row;
  row.controller = controller;
  row.subject_id = subject;
  row.record_id = record_id;
  row.sealed_value = B(value);
  row.replaced_at = At(20);
  row.request_id = "r1";
  return row;
}

std::vector<int64_t> OutboxIds(const std::vector<OutboxRow>& rows) {
  std::vector<int64_t> ids;
  for (const OutboxRow& row : rows) ids.push_back(row.outbox_id);
  return ids;
}

TEST_P(StoreConformance, RequestRoundTripsAndAnUnknownOneIsAbsent) {
  RequestRow full = Request("wig", "r1", 10);
  full.type = "rectification";
  full.state = RequestState::kExtended;
  full.intake = "staff";
  full.verification = "staff:passport";
  full.waiting_for = "clarification";
  full.subject_ids = {"s1", "s2"};
  full.clock_started_at = At(11);
  full.due_at = At(12);
  full.extended_at = At(13);
  full.closed_at = At(14);
  full.outcome = "rectified";
  full.sealed_result = Bytes{0, 1, 2, 255};
  full.code_hash = B("code-hash");
  full.code_expires_at = At(15);
  full.code_attempts = 2;
  RequestRow bare = Request("wig", "r2", 20);  // optional times unset, empty bytes
  bare.wrapped_key = {};
  bare.sealed_details = {};
  bare.access_hash = {};
  MustApply(Batch(full, bare));

  auto got = Must(store_->GetRequest("wig", "r1"));
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(Same(*got, full));
  got = Must(store_->GetRequest("wig", "r2"));
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(Same(*got, bare));
  EXPECT_FALSE(Must(store_->GetRequest("wig", "r3")).has_value());
  EXPECT_FALSE(Must(store_->GetRequest("c2", "r1")).has_value());

  // A request id is taken once per controller, and a new request starts at version 1.
  EXPECT_EQ(store_->Apply(Batch(Request("wig", "r1", 30))).status().code(),
            ErrorCode::kInvalidArgument);
  RequestRow versioned = Request("wig", "r4", 30);
  versioned.version = 2;
  EXPECT_EQ(store_->Apply(Batch(versioned)).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(Must(store_->GetRequest("wig", "r4")).has_value());
}

TEST_P(StoreConformance, UpdateRequestWithTheStoredVersionReplacesTheRowAndBumpsTheVersion) {
  MustApply(Batch(Request("wig", "r1", 10)));
  RequestRow next = Request("wig", "r1", 10);
  next.version = 2;
  next.state = RequestState::kInProgress;
  next.verification = "email_code";
  next.subject_ids = {"s1"};
  next.clock_started_at = At(11);
  next.due_at = At(40);
  MustApply(Batch(UpdateRequest{next, 1}));
  auto got = Must(store_->GetRequest("wig", "r1"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->version, 2);
  EXPECT_TRUE(Same(*got, next));

  next.version = 3;
  next.state = RequestState::kCompleted;
  next.closed_at = At(30);
  next.wrapped_key = {};  // shredded
  MustApply(Batch(UpdateRequest{next, 2}));
  got = Must(store_->GetRequest("wig", "r1"));
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(Same(*got, next));
}

TEST_P(StoreConformance, UpdateRequestWithAStaleVersionFailsAndAppliesNothingOfItsBatch) {
  MustApply(Batch(Request("wig", "r1", 10)));
  RequestRow first = Request("wig", "r1", 10);
  first.version = 2;
  first.state = RequestState::kInProgress;
  MustApply(Batch(UpdateRequest{first, 1}));

  // A second writer that read version 1 loses, and nothing of its batch is applied.
  RequestRow stale = Request("wig", "r1", 10);
  stale.version = 2;
  stale.state = RequestState::kRefused;
  Result<AppliedIds> applied = store_->Apply(
      Batch(RequestEvent("wig", "r1", "refused", RequestState::kRefused, 12),
            Message("wig", "r1", 12), Request("wig", "r2", 12), UpdateRequest{stale, 1}));
  EXPECT_EQ(applied.status().code(), ErrorCode::kInvalidArgument);
  auto got = Must(store_->GetRequest("wig", "r1"));
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(Same(*got, first));
  EXPECT_TRUE(Must(store_->ListRequestEvents("wig", "r1")).empty());
  EXPECT_TRUE(Must(store_->ListOutbox("wig", "")).empty());
  EXPECT_FALSE(Must(store_->GetRequest("wig", "r2")).has_value());

  // An update must set version expected_version + 1; an absent request cannot be updated;
  // another controller's request is absent.
  RequestRow skip = first;
  skip.version = 4;
  EXPECT_EQ(store_->Apply(Batch(UpdateRequest{skip, 2})).status().code(),
            ErrorCode::kInvalidArgument);
  RequestRow ghost = Request("wig", "ghost", 10);
  ghost.version = 2;
  EXPECT_EQ(store_->Apply(Batch(UpdateRequest{ghost, 1})).status().code(),
            ErrorCode::kInvalidArgument);
  RequestRow other = first;
  other.controller = "c2";
  other.version = 3;
  EXPECT_EQ(store_->Apply(Batch(UpdateRequest{other, 2})).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Must(store_->GetRequest("wig", "r1"))->version, 2);
}

TEST_P(StoreConformance, ListRequestsOrdersByReceivedAtAndOpenOnlySkipsClosedOnes) {
  RequestRow late = Request("wig", "a-late", 30);
  RequestRow closed = Request("wig", "b-closed", 10);
  closed.state = RequestState::kCompleted;
  closed.closed_at = At(15);
  RequestRow early = Request("wig", "c-early", 5);
  RequestRow tie = Request("wig", "B-tie", 30);  // same time as a-late: request_id decides
  MustApply(Batch(late, closed, early, tie, Request("c2", "z-other", 1)));

  auto ids = [](const std::vector<RequestRow>& rows) {
    std::vector<std::string> out;
    for (const RequestRow& row : rows) out.push_back(row.request_id);
    return out;
  };
  EXPECT_EQ(ids(Must(store_->ListRequests("wig", false))),
            (std::vector<std::string>{"c-early", "b-closed", "B-tie", "a-late"}));
  EXPECT_EQ(ids(Must(store_->ListRequests("wig", true))),
            (std::vector<std::string>{"c-early", "B-tie", "a-late"}));
  EXPECT_TRUE(Must(store_->ListRequests("nobody", false)).empty());
}

TEST_P(StoreConformance, RequestEventsAreListedInAppendOrderAndAreAppendOnly) {
  MustApply(Batch(Request("wig", "r1", 10), Request("wig", "r2", 10)));
  RequestEventRow received = RequestEvent("wig", "r1", "received", RequestState::kReceived, 10);
  RequestEventRow sent =
      RequestEvent("wig", "r1", "code_sent", RequestState::kVerifyingIdentity, 11);
  RequestEventRow other = RequestEvent("wig", "r2", "received", RequestState::kReceived, 10);
  RequestEventRow verified =
      RequestEvent("wig", "r1", "identity_verified", RequestState::kInProgress, 11);
  MustApply(Batch(received, sent, other));
  MustApply(Batch(verified));

  auto events = Must(store_->ListRequestEvents("wig", "r1"));
  EXPECT_TRUE(SameList(events, {received, sent, verified}));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_GT(events[0].seq, 0);
  EXPECT_LT(events[0].seq, events[1].seq);
  EXPECT_LT(events[1].seq, events[2].seq);
  EXPECT_TRUE(SameList(Must(store_->ListRequestEvents("wig", "r2")), {other}));
  EXPECT_TRUE(Must(store_->ListRequestEvents("c2", "r1")).empty());

  // The history of an unknown request is refused.
  EXPECT_EQ(
      store_->Apply(Batch(RequestEvent("wig", "ghost", "received", RequestState::kReceived, 10)))
          .status()
          .code(),
      ErrorCode::kInvalidArgument);

  // The database itself refuses to change or delete history (it takes other SQL).
  EXPECT_TRUE(GetParam().exec(*store_, "UPDATE requests SET outcome = outcome").ok());
  EXPECT_FALSE(GetParam().exec(*store_, "UPDATE request_events SET detail = 'x'").ok());
  EXPECT_FALSE(GetParam().exec(*store_, "DELETE FROM request_events").ok());
  EXPECT_TRUE(SameList(Must(store_->ListRequestEvents("wig", "r1")), {received, sent, verified}));
}

TEST_P(StoreConformance, OutboxInsertsGiveTheirIdsAndListInIdOrder) {
  MustApply(Batch(Request("wig", "r1", 10), Request("wig", "r2", 10)));
  OutboxRow notice = Message("wig", "r1", 10);
  OutboxRow code = Message("wig", "r2", 11);
  code.kind = "requester_message";
  code.target = "requester";
  code.state = OutboxState::kManual;
  code.attempts = 3;
  code.delivered_at = At(12);
  code.claimed_until = At(13);
  code.last_error = "http_503";
  OutboxRow second = Message("wig", "r1", 14);
  AppliedIds ids = MustApply(Batch(notice, code, second));
  ASSERT_EQ(ids.outbox_ids.size(), 3u);
  EXPECT_LT(ids.outbox_ids[0], ids.outbox_ids[1]);
  EXPECT_LT(ids.outbox_ids[1], ids.outbox_ids[2]);

  auto all = Must(store_->ListOutbox("wig", ""));
  EXPECT_TRUE(SameList(all, {notice, code, second}));
  EXPECT_EQ(OutboxIds(all), ids.outbox_ids);
  auto of_r1 = Must(store_->ListOutbox("wig", "r1"));
  EXPECT_TRUE(SameList(of_r1, {notice, second}));
  EXPECT_EQ(OutboxIds(of_r1), (std::vector<int64_t>{ids.outbox_ids[0], ids.outbox_ids[2]}));

  // Later ids come after these, in a later batch too; a message needs its request.
  AppliedIds more = MustApply(Batch(Message("wig", "r2", 15)));
  ASSERT_EQ(more.outbox_ids.size(), 1u);
  EXPECT_GT(more.outbox_ids[0], ids.outbox_ids[2]);
  EXPECT_EQ(store_->Apply(Batch(Message("wig", "ghost", 10))).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST_P(StoreConformance, ClaimOutboxTakesDuePendingUnleasedMessagesUntilTheirLeaseEnds) {
  MustApply(Batch(Request("wig", "r1", 10), Request("c2", "r1", 10)));
  OutboxRow due = Message("wig", "r1", 100);
  OutboxRow not_yet = Message("wig", "r1", 150);
  OutboxRow delivered = Message("wig", "r1", 100);
  delivered.state = OutboxState::kDelivered;
  OutboxRow manual = Message("wig", "r1", 100);
  manual.state = OutboxState::kManual;
  OutboxRow leased = Message("wig", "r1", 100);
  leased.claimed_until = At(300);
  OutboxRow lease_over = Message("wig", "r1", 90);
  lease_over.claimed_until = At(120);
  OutboxRow others = Message("c2", "r1", 100);
  AppliedIds ids = MustApply(Batch(due, not_yet, delivered, manual, leased, lease_over, others));
  ASSERT_EQ(ids.outbox_ids.size(), 7u);
  const int64_t due_id = ids.outbox_ids[0], not_yet_id = ids.outbox_ids[1];
  const int64_t leased_id = ids.outbox_ids[4], lease_over_id = ids.outbox_ids[5];

  // At 120: `due` and `lease_over` (its lease ends at 120), in id order, leased until 200.
  auto claimed = Must(store_->ClaimOutbox("wig", At(120), At(200), 10));
  EXPECT_EQ(OutboxIds(claimed), (std::vector<int64_t>{due_id, lease_over_id}));
  for (const OutboxRow& row : claimed) {
    EXPECT_EQ(row.claimed_until, At(200));
    EXPECT_EQ(row.sealed_payload, B("sealed-payload"));
    EXPECT_EQ(row.state, OutboxState::kPending);
  }
  auto listed = Must(store_->ListOutbox("wig", "r1"));
  ASSERT_EQ(listed.size(), 6u);
  EXPECT_EQ(listed[0].claimed_until, At(200));

  // Before the lease ends, nothing more (not_yet is due at 150, but claim at 140).
  EXPECT_TRUE(Must(store_->ClaimOutbox("wig", At(140), At(250), 10)).empty());
  // At 199 not_yet is due; the claimed two are still leased.
  EXPECT_EQ(OutboxIds(Must(store_->ClaimOutbox("wig", At(199), At(400), 10))),
            (std::vector<int64_t>{not_yet_id}));
  // When the lease is over they can be claimed again; `max` takes the lowest ids first.
  EXPECT_EQ(OutboxIds(Must(store_->ClaimOutbox("wig", At(200), At(500), 1))),
            (std::vector<int64_t>{due_id}));
  EXPECT_EQ(OutboxIds(Must(store_->ClaimOutbox("wig", At(200), At(500), 10))),
            (std::vector<int64_t>{lease_over_id}));
  // At 400 `leased` (until 300) and `not_yet` (until 400) are free again; delivered and manual
  // messages never are.
  EXPECT_EQ(OutboxIds(Must(store_->ClaimOutbox("wig", At(400), At(600), 10))),
            (std::vector<int64_t>{not_yet_id, leased_id}));
  EXPECT_TRUE(Must(store_->ClaimOutbox("wig", At(400), At(600), 0)).empty());
  // The other controller's message is its own.
  EXPECT_EQ(OutboxIds(Must(store_->ClaimOutbox("c2", At(400), At(600), 10))),
            (std::vector<int64_t>{ids.outbox_ids[6]}));
  EXPECT_TRUE(Must(store_->ClaimOutbox("nobody", At(400), At(600), 10)).empty());
}

TEST_P(StoreConformance, UpdateOutboxChangesDeliveryStateAndCanClearThePayload) {
  MustApply(Batch(Request("wig", "r1", 10)));
  AppliedIds ids = MustApply(Batch(Message("wig", "r1", 100), Message("wig", "r1", 100)));
  ASSERT_EQ(ids.outbox_ids.size(), 2u);
  ASSERT_EQ(Must(store_->ClaimOutbox("wig", At(100), At(200), 10)).size(), 2u);

  // A failed attempt: retried later, the payload kept, the lease given back.
  UpdateOutbox retry{
      "wig", ids.outbox_ids[0], OutboxState::kPending, 1, At(150), std::nullopt, "http_503", false};
  // Delivered: the payload is dropped, its digest stays as proof of what was sent.
  UpdateOutbox delivered{"wig", ids.outbox_ids[1], OutboxState::kDelivered, 1, At(100), At(110), "",
                         true};
  MustApply(Batch(retry, delivered));

  auto rows = Must(store_->ListOutbox("wig", "r1"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].state, OutboxState::kPending);
  EXPECT_EQ(rows[0].attempts, 1);
  EXPECT_EQ(rows[0].next_attempt_at, At(150));
  EXPECT_FALSE(rows[0].delivered_at.has_value());
  EXPECT_FALSE(rows[0].claimed_until.has_value());
  EXPECT_EQ(rows[0].last_error, "http_503");
  EXPECT_EQ(rows[0].sealed_payload, B("sealed-payload"));
  EXPECT_EQ(rows[1].state, OutboxState::kDelivered);
  EXPECT_EQ(rows[1].delivered_at, At(110));
  EXPECT_FALSE(rows[1].claimed_until.has_value());
  EXPECT_TRUE(rows[1].sealed_payload.empty());
  EXPECT_EQ(rows[1].payload_digest, B("digest"));

  // The retried message is claimable at its next attempt, the delivered one never again.
  EXPECT_TRUE(Must(store_->ClaimOutbox("wig", At(149), At(300), 10)).empty());
  EXPECT_EQ(OutboxIds(Must(store_->ClaimOutbox("wig", At(150), At(300), 10))),
            (std::vector<int64_t>{ids.outbox_ids[0]}));

  // An unknown message, or another controller's, cannot be updated.
  UpdateOutbox ghost = retry;
  ghost.outbox_id = ids.outbox_ids[1] + 100;
  EXPECT_EQ(store_->Apply(Batch(ghost)).status().code(), ErrorCode::kInvalidArgument);
  UpdateOutbox other = retry;
  other.controller = "c2";
  EXPECT_EQ(store_->Apply(Batch(other)).status().code(), ErrorCode::kInvalidArgument);
}

TEST_P(StoreConformance, RecipientEndpointPutTwiceKeepsTheSecondAndListsByRecipient) {
  RecipientEndpointRow mailchimp{"wig", "mailchimp", "https://a.example/hook", B("secret-1"),
                                 At(1)};
  RecipientEndpointRow crm{"wig", "crm", "https://crm.example/hook", B("secret-2"), At(2)};
  RecipientEndpointRow elsewhere{"c2", "mailchimp", "https://c2.example/hook", B("s"), At(3)};
  MustApply(Batch(mailchimp, crm, elsewhere));
  RecipientEndpointRow moved{"wig", "mailchimp", "https://b.example/hook", B("secret-3"), At(4)};
  MustApply(Batch(moved));

  auto got = Must(store_->GetRecipientEndpoint("wig", "mailchimp"));
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(Same(*got, moved));
  EXPECT_TRUE(SameList(Must(store_->ListRecipientEndpoints("wig")), {crm, moved}));
  EXPECT_TRUE(SameList(Must(store_->ListRecipientEndpoints("c2")), {elsewhere}));
  EXPECT_FALSE(Must(store_->GetRecipientEndpoint("wig", "unknown")).has_value());
  EXPECT_FALSE(Must(store_->GetRecipientEndpoint("wig", "")).has_value());
  EXPECT_TRUE(Must(store_->ListRecipientEndpoints("nobody")).empty());

  RecipientEndpointRow no_url{"wig", "sms", "", B("s"), At(5)};
  EXPECT_EQ(store_->Apply(Batch(no_url)).status().code(), ErrorCode::kInvalidArgument);
}

// Codes sent per address (by blind index) for the daily cap: listed oldest first from a time
// on, per controller and address; ForgetCodeSends drops those before a time.
TEST_P(StoreConformance, CodeSendsAreCountedPerAddressAndForgottenAfterATime) {
  MustApply(Batch(CodeSendRow{"wig", B("addr-1"), At(3)}, CodeSendRow{"wig", B("addr-1"), At(1)},
                  CodeSendRow{"wig", B("addr-2"), At(2)}, CodeSendRow{"c2", B("addr-1"), At(2)}));
  EXPECT_EQ(Must(store_->ListCodeSends("wig", B("addr-1"), At(0))),
            (std::vector<Timestamp>{At(1), At(3)}));
  EXPECT_EQ(Must(store_->ListCodeSends("wig", B("addr-1"), At(2))), std::vector<Timestamp>{At(3)});
  EXPECT_EQ(Must(store_->ListCodeSends("wig", B("addr-2"), At(0))), std::vector<Timestamp>{At(2)});
  EXPECT_TRUE(Must(store_->ListCodeSends("wig", B("addr-3"), At(0))).empty());
  MustApply(Batch(ForgetCodeSends{"wig", At(3)}));
  EXPECT_EQ(Must(store_->ListCodeSends("wig", B("addr-1"), At(0))), std::vector<Timestamp>{At(3)});
  EXPECT_TRUE(Must(store_->ListCodeSends("wig", B("addr-2"), At(0))).empty());
  EXPECT_EQ(Must(store_->ListCodeSends("c2", B("addr-1"), At(0))), std::vector<Timestamp>{At(2)})
      << "another controller's sends stay";
  MustApply(Batch(ForgetCodeSends{"nobody", At(9)}));  // nothing to forget: not an error
  EXPECT_EQ(store_->Apply(Batch(CodeSendRow{"wig", Bytes{}, At(4)})).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST_P(StoreConformance, RecordVersionsAreNumberedPerRecordAndGoWhenTheRecordIsErased) {
  MustApply(Batch(Subject("wig", "s1"), Subject("wig", "s2")));
  AppliedIds ids = MustApply(Batch(Record("wig", "s1", "user.name", "v3"),
                                   Record("wig", "s1", "user.contact.email", "e2"),
                                   Record("wig", "s1", "user.contact.phone_number", "p2"),
                                   Record("wig", "s2", "user.name", "x2")));
  ASSERT_EQ(ids.record_ids.size(), 4u);
  const int64_t name = ids.record_ids[0], email = ids.record_ids[1], phone = ids.record_ids[2];
  MustApply(Batch(Version("wig", "s1", name, "v1"), Version("wig", "s1", email, "e1")));
  MustApply(Batch(Version("wig", "s1", name, "v2"), Version("wig", "s1", phone, "p1"),
                  Version("wig", "s2", ids.record_ids[3], "x1")));

  auto versions = Must(store_->ListRecordVersions("wig", "s1"));
  ASSERT_EQ(versions.size(), 4u);
  std::vector<std::tuple<int64_t, int64_t, Bytes>> got;
  for (const RecordVersionRow& v : versions)
    got.emplace_back(v.record_id, v.version, v.sealed_value);
  EXPECT_EQ(got,
            (std::vector<std::tuple<int64_t, int64_t, Bytes>>{
                {name, 1, B("v1")}, {name, 2, B("v2")}, {email, 1, B("e1")}, {phone, 1, B("p1")}}));
  EXPECT_EQ(versions[0].controller, "wig");
  EXPECT_EQ(versions[0].subject_id, "s1");
  EXPECT_EQ(versions[0].replaced_at, At(20));
  EXPECT_EQ(versions[0].request_id, "r1");
  ASSERT_EQ(Must(store_->ListRecordVersions("wig", "s2")).size(), 1u);
  EXPECT_EQ(Must(store_->ListRecordVersions("wig", "s2"))[0].version, 1);

  // Restricting keeps the history; erasing or anonymising a record drops it, only its own.
  MustApply(
      Batch(SetRecordState{"wig", "s1", phone, RecordState::kRestricted, std::nullopt, At(30)}));
  EXPECT_EQ(Must(store_->ListRecordVersions("wig", "s1")).size(), 4u);
  MustApply(Batch(SetRecordState{"wig", "s1", name, RecordState::kErased, Bytes{}, At(31)}));
  versions = Must(store_->ListRecordVersions("wig", "s1"));
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].record_id, email);
  EXPECT_EQ(versions[1].record_id, phone);
  MustApply(Batch(SetRecordState{"wig", "s1", email, RecordState::kAnonymised, Bytes{}, At(32)}));
  versions = Must(store_->ListRecordVersions("wig", "s1"));
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions[0].record_id, phone);
  EXPECT_EQ(Must(store_->ListRecordVersions("wig", "s2")).size(), 1u);

  // A version needs the record, of that subject.
  EXPECT_EQ(store_->Apply(Batch(Version("wig", "s1", phone + 1000, "?"))).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->Apply(Batch(Version("wig", "s2", phone, "?"))).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST_P(StoreConformance, RequestRowsOfOneControllerNeverShowInAnothers) {
  MustApply(Batch(Request("wig", "r1", 10), Request("c2", "r1", 20), Subject("wig", "s1"),
                  Subject("c2", "s1")));
  AppliedIds records =
      MustApply(Batch(Record("wig", "s1", "user.name", "a"), Record("c2", "s1", "user.name", "b")));
  MustApply(Batch(RequestEvent("wig", "r1", "received", RequestState::kReceived, 10),
                  Message("wig", "r1", 10),
                  RecipientEndpointRow{"wig", "crm", "https://wig.example", B("s"), At(1)},
                  Version("wig", "s1", records.record_ids[0], "old")));

  EXPECT_EQ(Must(store_->GetRequest("c2", "r1"))->received_at, At(20));
  ASSERT_EQ(Must(store_->ListRequests("c2", false)).size(), 1u);
  EXPECT_TRUE(Must(store_->ListRequestEvents("c2", "r1")).empty());
  EXPECT_TRUE(Must(store_->ListOutbox("c2", "")).empty());
  EXPECT_TRUE(Must(store_->ListOutbox("c2", "r1")).empty());
  EXPECT_TRUE(Must(store_->ClaimOutbox("c2", At(100), At(200), 10)).empty());
  EXPECT_FALSE(Must(store_->GetRecipientEndpoint("c2", "crm")).has_value());
  EXPECT_TRUE(Must(store_->ListRecipientEndpoints("c2")).empty());
  EXPECT_TRUE(Must(store_->ListRecordVersions("c2", "s1")).empty());

  EXPECT_EQ(Must(store_->ListRequestEvents("wig", "r1")).size(), 1u);
  EXPECT_EQ(Must(store_->ListOutbox("wig", "")).size(), 1u);
  EXPECT_EQ(Must(store_->ListRecipientEndpoints("wig")).size(), 1u);
  EXPECT_EQ(Must(store_->ListRecordVersions("wig", "s1")).size(), 1u);
}

// --- Atomicity ----------------------------------------------------------------------------

TEST_P(StoreConformance, FailingBatchAppliesNothing) {
  MustApply(Batch(Subject("wig", "s1")));
  Result<AppliedIds> applied =
      store_->Apply(Batch(Subject("wig", "s2"), Record("wig", "s2", "user.name", "x"),
                          Audit(1, "a"), SuppressionRow{"wig", B("h"), "email", "erased", At(1)},
                          EraseSubject{"wig", "s1", At(2)}, Subject("wig", "s1")));
  EXPECT_EQ(applied.status().code(), ErrorCode::kInvalidArgument);

  EXPECT_FALSE(Must(store_->GetSubject("wig", "s2")).has_value());
  EXPECT_TRUE(Must(store_->ListRecords("wig", "s2")).empty());
  EXPECT_FALSE(Must(store_->LastAudit()).has_value());
  EXPECT_FALSE(Must(store_->IsSuppressed("wig", B("h"))));
  EXPECT_EQ(Must(store_->GetSubject("wig", "s1"))->state, SubjectState::kActive);
  EXPECT_EQ(Must(store_->CountSubjects("wig")), 1);

  // The store is still usable afterwards.
  MustApply(Batch(Subject("wig", "s2")));
  EXPECT_EQ(Must(store_->CountSubjects("wig")), 2);
}

TEST_P(StoreConformance, RowsOfAnUnknownSubjectAreRejected) {
  EXPECT_EQ(store_->Apply(Batch(Record("wig", "ghost", "user.name", "x"))).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->Apply(Batch(EventRow{"wig", "ghost", "last_activity", At(1)})).status().code(),
            ErrorCode::kInvalidArgument);
  // The subject added earlier in the same batch counts.
  MustApply(Batch(Subject("wig", "s1"), EventRow{"wig", "s1", "subject_created", At(1)}));
}

TEST_P(StoreConformance, ApplyGroupIsAllOrNothing) {
  MustApply(Batch(Subject("wig", "s1")));
  WriteBatch good1 = Batch(Subject("wig", "g1"), Record("wig", "g1", "user.name", "a"));
  WriteBatch bad = Batch(Subject("wig", "b1"), Subject("wig", "s1"));
  WriteBatch good2 = Batch(Subject("wig", "g2"), Record("wig", "g2", "user.name", "b"));

  auto failed = store_->ApplyGroup({&good1, &bad, &good2});
  EXPECT_EQ(failed.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Must(store_->CountSubjects("wig")), 1);

  auto applied = store_->ApplyGroup({&good1, &good2});
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  ASSERT_EQ(applied->size(), 2u);
  ASSERT_EQ((*applied)[0].record_ids.size(), 1u);
  ASSERT_EQ((*applied)[1].record_ids.size(), 1u);
  EXPECT_LT((*applied)[0].record_ids[0], (*applied)[1].record_ids[0]);
  EXPECT_EQ(Must(store_->ListRecords("wig", "g1"))[0].record_id, (*applied)[0].record_ids[0]);
  EXPECT_EQ(Must(store_->ListRecords("wig", "g2"))[0].record_id, (*applied)[1].record_ids[0]);
  EXPECT_EQ(Must(store_->CountSubjects("wig")), 3);

  // Later batches of a group see the rows of earlier ones.
  WriteBatch subject = Batch(Subject("wig", "later"));
  WriteBatch record = Batch(Record("wig", "later", "user.name", "c"));
  ASSERT_TRUE(store_->ApplyGroup({&subject, &record}).ok());
  EXPECT_TRUE(store_->ApplyGroup({}).ok());
}

TEST_P(StoreConformance, EmptyBatchIsANoOp) {
  AppliedIds ids = MustApply(WriteBatch{});
  EXPECT_TRUE(ids.record_ids.empty());
}

// --- Durability and concurrency -----------------------------------------------------------

TEST_P(StoreConformance, DataSurvivesCloseAndReopen) {
  MustApply(Batch(ControllerRow{"wig", "WIG", "v1", "text", At(0)}, Subject("wig", "s1")));
  AppliedIds ids = MustApply(Batch(Record("wig", "s1", "user.name", "ada"), Audit(1, "write")));
  Reopen();
  EXPECT_EQ(Must(store_->GetController("wig"))->policy_version, "v1");
  EXPECT_TRUE(Must(store_->GetSubject("wig", "s1")).has_value());
  auto records = Must(store_->ListRecords("wig", "s1"));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].record_id, ids.record_ids[0]);
  EXPECT_EQ(Must(store_->LastAudit())->seq, 1);
  // Ids keep increasing across a reopen.
  AppliedIds more = MustApply(Batch(Record("wig", "s1", "user.name", "lovelace")));
  EXPECT_GT(more.record_ids[0], ids.record_ids[0]);
}

TEST_P(StoreConformance, ConcurrentApplyLosesNothingAndIdsAreUnique) {
  constexpr int kThreads = 8;
  constexpr int kBatchesPerThread = 40;
  std::vector<std::vector<int64_t>> record_ids(kThreads);
  std::vector<std::vector<int64_t>> consent_seqs(kThreads);
  std::atomic<int> failures{0};
  std::atomic<bool> writing{true};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kBatchesPerThread; ++i) {
        std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        Result<AppliedIds> applied =
            store_->Apply(Batch(Subject("wig", id), Record("wig", id, "user.name", id),
                                Record("wig", id, "user.contact.email", id),
                                Consent("wig", id, "newsletter", ConsentAction::kGiven, i)));
        if (!applied.ok()) {
          ++failures;
          continue;
        }
        for (int64_t r : applied->record_ids) record_ids[t].push_back(r);
        for (int64_t c : applied->consent_seqs) consent_seqs[t].push_back(c);
      }
    });
  }
  // Readers run alongside the writers and never see a count go down.
  std::thread reader([&] {
    int64_t last = 0;
    while (writing.load()) {
      Result<int64_t> count = store_->CountSubjects("wig");
      if (!count.ok() || *count < last) ++failures;
      if (count.ok()) last = *count;
    }
  });
  for (auto& thread : threads) thread.join();
  writing = false;
  reader.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Must(store_->CountSubjects("wig")), kThreads * kBatchesPerThread);
  std::set<int64_t> unique_records;
  std::set<int64_t> unique_consents;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_TRUE(std::is_sorted(record_ids[t].begin(), record_ids[t].end()));
    unique_records.insert(record_ids[t].begin(), record_ids[t].end());
    unique_consents.insert(consent_seqs[t].begin(), consent_seqs[t].end());
  }
  EXPECT_EQ(unique_records.size(), size_t{2 * kThreads * kBatchesPerThread});
  EXPECT_EQ(unique_consents.size(), size_t{kThreads * kBatchesPerThread});
  for (int t = 0; t < kThreads; ++t) {
    std::string id = "t" + std::to_string(t) + "-7";
    auto records = Must(store_->ListRecords("wig", id));
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].sealed_value, B(id));
  }
}

TEST_P(StoreConformance, ConcurrentClaimsNeverHandOutOneMessageTwiceWhileItsLeaseRuns) {
  // Two stores over one database, as two processes would be, each claimed from by two threads.
  std::unique_ptr<Store> second = GetParam().open(dir_.path());
  ASSERT_NE(second, nullptr);
  constexpr int kMessages = 60;
  MustApply(Batch(Request("wig", "r1", 10)));
  WriteBatch messages;
  for (int i = 0; i < kMessages; ++i) messages.Add(Message("wig", "r1", 100));
  ASSERT_EQ(MustApply(messages).outbox_ids.size(), size_t{kMessages});

  constexpr int kThreads = 4;
  std::vector<std::vector<int64_t>> claimed(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    Store* store = t % 2 == 0 ? store_.get() : second.get();
    threads.emplace_back([&, t, store] {
      // Claims until one finds nothing left; the lease (until 1000) outlives the test's clock.
      for (int round = 0; round < 4 * kMessages; ++round) {
        Result<std::vector<OutboxRow>> got = store->ClaimOutbox("wig", At(100), At(1000), 3);
        if (!got.ok()) {
          ++failures;
          continue;
        }
        if (got->empty()) break;
        for (const OutboxRow& row : *got) claimed[t].push_back(row.outbox_id);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  second.reset();

  EXPECT_EQ(failures.load(), 0);
  std::multiset<int64_t> all;
  for (const auto& ids : claimed) all.insert(ids.begin(), ids.end());
  EXPECT_EQ(all.size(), size_t{kMessages});
  EXPECT_EQ(std::set<int64_t>(all.begin(), all.end()).size(), size_t{kMessages});
  EXPECT_TRUE(Must(store_->ClaimOutbox("wig", At(999), At(2000), 100)).empty());
  for (const OutboxRow& row : Must(store_->ListOutbox("wig", "r1"))) {
    EXPECT_EQ(row.claimed_until, At(1000));
  }
}

TEST_P(StoreConformance, ConcurrentUpdatesOfOneRequestWinEachVersionOnce) {
  // Two stores over one database, two threads on each, all updating one request from what
  // they last read: each version is won by one writer, and a loser's batch leaves no trace.
  std::unique_ptr<Store> second = GetParam().open(dir_.path());
  ASSERT_NE(second, nullptr);
  MustApply(Batch(Request("wig", "r1", 10)));
  constexpr int kThreads = 4;
  constexpr int kTries = 15;
  std::vector<std::vector<int64_t>> won(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    Store* store = t % 2 == 0 ? store_.get() : second.get();
    threads.emplace_back([&, t, store] {
      for (int i = 0; i < kTries; ++i) {
        Result<std::optional<RequestRow>> read = store->GetRequest("wig", "r1");
        if (!read.ok() || !read->has_value()) {
          ++failures;
          continue;
        }
        RequestRow next = **read;
        const int64_t expected = next.version;
        next.version = expected + 1;
        next.outcome = "t" + std::to_string(t);
        Result<AppliedIds> applied = store->Apply(
            Batch(UpdateRequest{next, expected},
                  RequestEvent("wig", "r1", "updated", RequestState::kInProgress, next.version)));
        if (applied.ok()) {
          won[t].push_back(next.version);
        } else if (applied.status().code() != ErrorCode::kInvalidArgument) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  second.reset();

  EXPECT_EQ(failures.load(), 0);
  std::multiset<int64_t> versions;
  for (const auto& mine : won) versions.insert(mine.begin(), mine.end());
  auto final_row = Must(store_->GetRequest("wig", "r1"));
  ASSERT_TRUE(final_row.has_value());
  EXPECT_EQ(final_row->version, 1 + static_cast<int64_t>(versions.size()));
  std::multiset<int64_t> expected_versions;
  for (int64_t v = 2; v <= final_row->version; ++v) expected_versions.insert(v);
  EXPECT_EQ(versions, expected_versions);
  auto events = Must(store_->ListRequestEvents("wig", "r1"));
  ASSERT_EQ(events.size(), versions.size());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].at, At(static_cast<int64_t>(i) + 2));  // appended in version order
  }
}

// --- Backends -----------------------------------------------------------------------------

std::unique_ptr<Store> OpenSqlite(const std::string& dir) {
  SqliteOptions options;
  options.data_dir = dir;
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(options);
  if (!store.ok()) {
    ADD_FAILURE() << store.status().ToString();
    return nullptr;
  }
  return std::move(store).value();
}

// One schema per test directory, so tests run in parallel on one cluster.
std::unique_ptr<Store> OpenPostgres(const std::string& dir) {
  std::string url = pgtest::PostgresTestUrl();
  if (url.empty()) return nullptr;
  PostgresOptions options;
  options.url = url;
  options.schema = pgtest::SchemaFor(dir);
  Result<std::unique_ptr<Store>> store = OpenPostgresStore(options);
  if (!store.ok()) {
    ADD_FAILURE() << store.status().ToString();
    return nullptr;
  }
  return std::move(store).value();
}

void DropPostgres(const std::string& dir) {
  std::string url = pgtest::PostgresTestUrl();
  if (!url.empty()) (void)DropPostgresSchemaForTesting(url, pgtest::SchemaFor(dir));
}

Status ExecSqlite(Store& store, const std::string& sql) {
  auto* sqlite = dynamic_cast<SqliteStore*>(&store);
  if (sqlite == nullptr) return Status(ErrorCode::kInternal, "not a SqliteStore");
  return sqlite->ExecForTesting(sql);
}

Status ExecPostgres(Store& store, const std::string& sql) {
  auto* postgres = dynamic_cast<PostgresStore*>(&store);
  if (postgres == nullptr) return Status(ErrorCode::kInternal, "not a PostgresStore");
  return postgres->ExecForTesting(sql);
}

// --- The breach register (schema version 6) --------------------------------------------------

BreachRow Breach(const std::string& controller, const std::string& id, int64_t aware) {
  BreachRow row;
  row.controller = controller;
  row.breach_id = id;
  row.aware_at = At(aware);
  row.risk = "unassessed";
  row.updated_at = At(aware);
  row.wrapped_key = B("breach-key:" + id);
  row.sealed_details = B("sealed-breach-details");
  return row;
}

bool SameBreach(const BreachRow& a, const BreachRow& b) {
  return a.controller == b.controller && a.breach_id == b.breach_id && a.version == b.version &&
         a.aware_at == b.aware_at && a.risk == b.risk && a.reported_at == b.reported_at &&
         a.closed_at == b.closed_at && a.updated_at == b.updated_at &&
         a.wrapped_key == b.wrapped_key && a.sealed_details == b.sealed_details;
}

TEST_P(StoreConformance, BreachesListInOrderOfAwarenessAndUpdateOnlyAtTheirVersion) {
  MustApply(Batch(Breach("wig", "b2", 20), Breach("wig", "b1", 10), Breach("c2", "b1", 5)));
  auto listed = Must(store_->ListBreaches("wig"));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].breach_id, "b1");
  EXPECT_EQ(listed[1].breach_id, "b2");
  EXPECT_TRUE(SameBreach(listed[0], Breach("wig", "b1", 10)));
  EXPECT_FALSE(Must(store_->GetBreach("wig", "b3")).has_value());
  // The same id twice is refused.
  EXPECT_EQ(store_->Apply(Batch(Breach("wig", "b1", 11))).status().code(),
            ErrorCode::kInvalidArgument);

  BreachRow next = Breach("wig", "b1", 10);
  next.version = 2;
  next.risk = "high_risk";
  next.reported_at = At(12);
  next.updated_at = At(12);
  next.sealed_details = B("assessed");
  MustApply(Batch(UpdateBreach{next, 1}));
  auto got = Must(store_->GetBreach("wig", "b1"));
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(SameBreach(*got, next));
  // A writer that read version 1 loses, and nothing of its batch is applied; another
  // controller's breach of the same id is untouched.
  BreachRow stale = Breach("wig", "b1", 10);
  stale.version = 2;
  stale.risk = "none";
  EXPECT_EQ(store_->Apply(Batch(Breach("wig", "b9", 30), UpdateBreach{stale, 1})).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_FALSE(Must(store_->GetBreach("wig", "b9")).has_value());
  EXPECT_TRUE(SameBreach(*Must(store_->GetBreach("wig", "b1")), next));
  EXPECT_TRUE(SameBreach(*Must(store_->GetBreach("c2", "b1")), Breach("c2", "b1", 5)));
  // A risk the register does not know is refused by the database itself.
  BreachRow odd = Breach("wig", "b4", 40);
  odd.risk = "catastrophic";
  EXPECT_EQ(store_->Apply(Batch(odd)).status().code(), ErrorCode::kInvalidArgument);
}

TEST_P(StoreConformance, AnOutboxMessageBelongsToARequestABreachOrAPersonThatExists) {
  MustApply(Batch(Request("wig", "r1", 10), Breach("wig", "b1", 10), Subject("wig", "s1")));
  AppliedIds ids = MustApply(Batch(Message("wig", "r1", 10), Message("wig", "breach:b1", 10),
                                   Message("wig", "person:s1", 10)));
  ASSERT_EQ(ids.outbox_ids.size(), 3u);
  auto of_person = Must(store_->ListOutbox("wig", "person:s1"));
  ASSERT_EQ(of_person.size(), 1u);
  EXPECT_EQ(of_person[0].outbox_id, ids.outbox_ids[2]);
  EXPECT_EQ(store_->Apply(Batch(Message("wig", "person:s9", 10))).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->Apply(Batch(Message("c2", "person:s1", 10))).status().code(),
            ErrorCode::kInvalidArgument);  // another controller's person
  auto of_breach = Must(store_->ListOutbox("wig", "breach:b1"));
  ASSERT_EQ(of_breach.size(), 1u);
  EXPECT_EQ(of_breach[0].outbox_id, ids.outbox_ids[1]);
  EXPECT_EQ(store_->Apply(Batch(Message("wig", "breach:b2", 10))).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->Apply(Batch(Message("c2", "breach:b1", 10))).status().code(),
            ErrorCode::kInvalidArgument);  // another controller's breach
  EXPECT_EQ(store_->Apply(Batch(Message("wig", "r9", 10))).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST_P(StoreConformance, DisclosuresListPerSubjectInIdOrderWithTheirIds) {
  MustApply(Batch(Subject("wig", "s1"), Subject("wig", "s2")));
  DisclosureRow first{"wig", "s1", 0, "venue", "events", {"user.name", "user.contact.email"},
                      At(5), ""};
  // One to a third-party application, by name.
  DisclosureRow second{
      "wig", "s1", 0, "apps", "news", {"user.contact.email"}, At(6), "Homework Planner"};
  AppliedIds ids = MustApply(Batch(first, second));
  ASSERT_EQ(ids.disclosure_ids.size(), 2u);
  EXPECT_LT(ids.disclosure_ids[0], ids.disclosure_ids[1]);
  auto listed = Must(store_->ListDisclosures("wig", "s1"));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].disclosure_id, ids.disclosure_ids[0]);
  EXPECT_EQ(listed[0].recipient, "venue");
  EXPECT_EQ(listed[0].categories, (std::vector<std::string>{"user.name", "user.contact.email"}));
  EXPECT_EQ(listed[0].at, At(5));
  EXPECT_EQ(listed[0].application, "");
  EXPECT_EQ(listed[1].purpose, "news");
  EXPECT_EQ(listed[1].application, "Homework Planner");
  EXPECT_TRUE(Must(store_->ListDisclosures("wig", "s2")).empty());
  // A disclosure needs its subject.
  EXPECT_EQ(store_
                ->Apply(Batch(
                    DisclosureRow{"wig", "ghost", 0, "venue", "events", {"user.name"}, At(7), ""}))
                .status()
                .code(),
            ErrorCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(
    Backends, StoreConformance,
    testing::Values(StoreFactory{"sqlite", OpenSqlite, {}, ExecSqlite},
                    StoreFactory{"postgres", OpenPostgres, DropPostgres, ExecPostgres}),
    [](const testing::TestParamInfo<StoreFactory>& info) { return info.param.name; });

}  // namespace
}  // namespace custos::store
