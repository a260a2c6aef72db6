// PostgreSQL specifics of PostgresStore; the Store contract itself is in conformance_test.cc.
// Every test works in a schema of its own on the cluster of ctest's `postgres` fixture.
#include "store/postgres/postgres_store.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "crypto/key.h"
#include "crypto/master_key.h"
#include "engine/audit_log.h"
#include "engine/engine.h"
#include "pg_test_database.h"
#include "policy/loader.h"
#include "temp_dir.h"

namespace custos::store {
namespace {

Timestamp At(int64_t seconds) { return Timestamp::FromUnixSeconds(1'700'000'000 + seconds); }
Bytes B(std::string_view text) { return Bytes(text.begin(), text.end()); }

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = pgtest::PostgresTestUrl();
    ASSERT_FALSE(url_.empty());
    schema_ = pgtest::SchemaFor(dir_.path());
    store_ = Open();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    if (!url_.empty()) (void)DropPostgresSchemaForTesting(url_, schema_);
  }

  std::unique_ptr<PostgresStore> Open() {
    PostgresOptions options;
    options.url = url_;
    options.schema = schema_;
    Result<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // Runs `sql`, which must raise when `condition_sql` (a boolean query) is false.
  Status Require(const std::string& condition_sql, const std::string& what) {
    return store_->ExecForTesting("DO $$ BEGIN IF NOT (" + condition_sql +
                                  ") THEN RAISE EXCEPTION '" + what + "'; END IF; END $$");
  }

  static SubjectRow Subject(const std::string& id) {
    SubjectRow row;
    row.controller = "wig";
    row.subject_id = id;
    row.types = {"member"};
    row.created_at = At(1);
    row.wrapped_key = Bytes(40, 1);
    return row;
  }

  template <typename... Rows>
  static WriteBatch Batch(Rows... rows) {
    WriteBatch batch;
    (batch.Add(std::move(rows)), ...);
    return batch;
  }

  TempDir dir_;
  std::string url_, schema_;
  std::unique_ptr<PostgresStore> store_;
};

TEST_F(PostgresStoreTest, MigratesToTheLatestVersionOnceAndReopensWithoutChange) {
  Result<int> version = store_->SchemaVersion();
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(*version, PostgresStore::LatestSchemaVersion());
  // Two more stores opening at once find nothing left to do.
  std::unique_ptr<PostgresStore> second, third;
  std::thread a([&] { second = Open(); });
  std::thread b([&] { third = Open(); });
  a.join();
  b.join();
  ASSERT_NE(second, nullptr);
  ASSERT_NE(third, nullptr);
  EXPECT_EQ(*second->SchemaVersion(), PostgresStore::LatestSchemaVersion());
  EXPECT_TRUE(Require("(SELECT count(*) FROM schema_migrations) = " +
                          std::to_string(PostgresStore::LatestSchemaVersion()),
                      "one row per migration")
                  .ok());
}

TEST_F(PostgresStoreTest, RefusesBadOptions) {
  PostgresOptions options;
  EXPECT_EQ(PostgresStore::Open(options).status().code(), ErrorCode::kInvalidArgument);
  options.url = url_;
  options.schema = "Robert'); DROP TABLE x;--";
  EXPECT_EQ(PostgresStore::Open(options).status().code(), ErrorCode::kInvalidArgument);
  options.schema = "ok";
  options.url = "postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=2";
  // Nothing listens there: the server waits and retries (serve --wait-for-database).
  EXPECT_EQ(PostgresStore::Open(options).status().code(), ErrorCode::kUnavailable);
}

TEST_F(PostgresStoreTest, ConsentLedgerAuditLogAndRequestHistoryAreAppendOnlyInTheDatabase) {
  ConsentEventRow consent;
  consent.controller = "wig";
  consent.subject_id = "s1";
  consent.target = "newsletter";
  consent.notice_version = "v1";
  consent.channel = "web";
  AuditRow audit;
  audit.seq = 1;
  audit.controller = "wig";
  audit.prev_hash = Bytes(32, 0);
  audit.hash = Bytes(32, 1);
  RequestRow request;
  request.controller = "wig";
  request.request_id = "r1";
  RequestEventRow received;
  received.controller = "wig";
  received.request_id = "r1";
  received.event = "received";
  ASSERT_TRUE(store_->Apply(Batch(Subject("s1"), consent, audit, request, received)).ok());
  for (const char* table : {"consent_events", "audit_log", "request_events"}) {
    SCOPED_TRACE(table);
    std::string t(table);
    EXPECT_FALSE(store_->ExecForTesting("UPDATE " + t + " SET at = 0").ok());
    EXPECT_FALSE(store_->ExecForTesting("DELETE FROM " + t).ok());
    EXPECT_FALSE(store_->ExecForTesting("TRUNCATE " + t + " CASCADE").ok());
    EXPECT_TRUE(Require("(SELECT count(*) FROM " + t + ") = 1", "the row is still there").ok());
  }
}

TEST_F(PostgresStoreTest, EveryPersonalTableIsKeyedByControllerAndSubjectFirst) {
  // Ready to be distributed on (controller, subject): the primary key of every table with a
  // subject_id column leads with controller, subject_id (docs/SCALING.md).
  const std::string personal_tables_keyed =
      "NOT EXISTS (SELECT 1 FROM information_schema.columns c"
      " WHERE c.table_schema = current_schema() AND c.column_name = 'subject_id'"
      " AND c.table_name NOT IN ('audit_log', 'legal_holds')"
      " AND (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_index i"
      "      CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord)"
      "      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
      "      WHERE i.indrelid = (current_schema() || '.' || c.table_name)::regclass"
      "      AND i.indisprimary)[1:2] IS DISTINCT FROM ARRAY['controller', 'subject_id'])";
  Status keyed = Require(personal_tables_keyed, "a personal table is not keyed by subject");
  EXPECT_TRUE(keyed.ok()) << keyed.ToString();
  EXPECT_TRUE(Require("(SELECT count(*) FROM information_schema.columns WHERE table_schema ="
                      " current_schema() AND column_name = 'subject_id') >= 9",
                      "the personal tables exist")
                  .ok());
}

TEST_F(PostgresStoreTest, ImportLoadsEveryRowThroughCopyAllOrNothing) {
  WriteBatch batch;
  const std::string awkward = "tab\there\nnew\\line\r";
  const Bytes binary = {0, '\t', '\n', '\\', 255, 'N'};
  for (int i = 0; i < 50; ++i) {
    std::string id = "s" + std::to_string(i);
    SubjectRow subject = Subject(id);
    subject.types = {"member", "staff"};
    subject.wrapped_key = binary;
    batch.Add(subject);
    batch.Add(EventRow{"wig", id, "last_activity", At(i)});
    IdentifierRow identifier;
    identifier.controller = "wig";
    identifier.subject_id = id;
    identifier.kind = "email";
    identifier.blind_index = B("blind-" + id);
    identifier.sealed_value = binary;
    identifier.verified = i % 2 == 0;
    identifier.added_at = At(2);
    batch.Add(identifier);
    RecordRow record;
    record.controller = "wig";
    record.subject_id = id;
    record.category = "user.name";
    record.sealed_value = binary;
    record.source = awkward;
    record.purpose = "membership";
    record.collected_at = At(3);
    record.updated_at = At(3);
    batch.Add(record);
    ConsentEventRow consent;
    consent.controller = "wig";
    consent.subject_id = id;
    consent.target = "newsletter";
    consent.action = ConsentAction::kWithdrawn;
    consent.notice_version = "v1";
    consent.channel = "web";
    consent.at = At(4);
    consent.sealed_evidence = binary;
    batch.Add(consent);
    batch.Add(PreferenceRow{"wig", id, "sms", true, At(5)});
  }
  Result<int64_t> loaded = store_->Import(batch);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded, 300);
  EXPECT_EQ(*store_->CountSubjects("wig"), 50);
  auto subject = store_->GetSubject("wig", "s7");
  ASSERT_TRUE(subject.ok() && subject->has_value());
  EXPECT_EQ((*subject)->types, (std::vector<std::string>{"member", "staff"}));
  EXPECT_EQ((*subject)->wrapped_key, binary);
  EXPECT_FALSE((*subject)->erased_at.has_value());
  auto records = store_->ListRecords("wig", "s7");
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].source, awkward);
  EXPECT_EQ((*records)[0].sealed_value, binary);
  EXPECT_GT((*records)[0].record_id, 0);
  auto consents = store_->ListConsentEvents("wig", "s7");
  ASSERT_EQ(consents->size(), 1u);
  EXPECT_EQ((*consents)[0].action, ConsentAction::kWithdrawn);
  EXPECT_EQ((*consents)[0].sealed_evidence, binary);
  auto identifiers = store_->ListIdentifiers("wig", "s8");
  ASSERT_EQ(identifiers->size(), 1u);
  EXPECT_TRUE((*identifiers)[0].verified);
  EXPECT_EQ(*store_->FindSubjectsByIdentifier("wig", "email", B("blind-s8")),
            std::vector<std::string>{"s8"});
  EXPECT_EQ(store_->ListPreferences("wig", "s9")->size(), 1u);
  EXPECT_EQ(store_->ListEvents("wig", "s9")->at(0).at, At(9));
  // Ids assigned by COPY and by Apply come from the same sequences.
  RecordRow later = (*records)[0];
  later.record_id = 0;
  auto applied = store_->Apply(Batch(later));
  ASSERT_TRUE(applied.ok());
  EXPECT_GT(applied->record_ids[0], (*records)[0].record_id);

  // A row of an unknown subject fails the whole import; other ops are refused.
  WriteBatch bad = Batch(Subject("new"), EventRow{"wig", "ghost", "x", At(1)});
  EXPECT_EQ(store_->Import(bad).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(store_->GetSubject("wig", "new")->has_value());
  EXPECT_EQ(store_->Import(Batch(EraseSubject{"wig", "s1", At(1)})).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(*store_->Import(WriteBatch{}), 0);
}

TEST_F(PostgresStoreTest, TwoStoresOverOneSchemaKeepOneAuditChain) {
  // Two engines on two stores (as two processes would be) write consents at once; every write
  // lands once and the audit chain stays one verifiable line.
  auto policy = policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) +
                                        "/tests/fixtures/policy/valid/decisions.yaml");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  crypto::MasterKey master = crypto::MasterKey::FromSecretForTesting(crypto::SecretKey::Random());
  FixedClock clock(*Timestamp::Parse("2021-06-01"));
  std::unique_ptr<PostgresStore> other = Open();
  ASSERT_NE(other, nullptr);
  engine::Engine first(*policy, "club", *store_, master, clock);
  engine::Engine second(*policy, "club", *other, master, clock);
  ASSERT_TRUE(first.Open("policy text").ok());
  ASSERT_TRUE(second.Open("policy text").ok());
  constexpr int kPeople = 12;
  for (int i = 0; i < kPeople; ++i) {
    engine::NewSubject request;
    request.subject_id = "s" + std::to_string(i);
    request.types = {"member"};
    request.at = *Timestamp::Parse("2021-01-01");
    ASSERT_TRUE((i % 2 == 0 ? first : second).AddSubject(request).ok());
  }
  std::atomic<int> failures{0};
  auto give = [&](engine::Engine& engine, bool given) {
    for (int i = 0; i < kPeople; ++i) {
      engine::ConsentChangeRequest consent;
      consent.subject_id = "s" + std::to_string(i);
      consent.target = "event_booking";
      consent.given = given;
      if (!engine.ChangeConsent(consent).ok()) ++failures;
    }
  };
  std::thread a([&] { give(first, true); });
  std::thread b([&] { give(second, false); });
  a.join();
  b.join();
  EXPECT_EQ(failures.load(), 0);
  for (int i = 0; i < kPeople; ++i) {
    EXPECT_EQ(store_->ListConsentEvents("club", "s" + std::to_string(i))->size(), 2u);
  }
  auto verified = engine::AuditLog::Verify(*store_, master.AuditChainKey());
  ASSERT_TRUE(verified.ok());
  EXPECT_FALSE(verified->first_broken_seq.has_value()) << verified->problem;
  EXPECT_GE(verified->entries_checked, 2 * kPeople + kPeople);
}

TEST_F(PostgresStoreTest, KeepsTheConnectionsABusyServerUsedForItsNextRequests) {
  // A server's handler threads lease connections at once; closing them after use made every
  // request under load open a new one (a server process each). kLeases statements that overlap
  // (each sleeps) hold kLeases connections at once; afterwards all of them stay open, and the
  // next kLeases overlapping statements run on those same connections. Each statement carries a
  // tag in a comment, so pg_stat_activity (its `query` is a backend's last statement) tells
  // which of this test's connections are open and what they last ran.
  constexpr int kLeases = 20;
  auto overlapping = [&](const std::string& tag) {
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kLeases; ++i) {
      threads.emplace_back([&] {
        if (!store_->ExecForTesting("SELECT pg_sleep(0.3) /* " + tag + " */").ok()) ++failures;
      });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(failures.load(), 0);
  };
  const std::string first = "first_" + schema_, second = "second_" + schema_;
  auto open_with = [&](const std::string& tag) {
    return "(SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%" + tag +
           " */%' AND query NOT LIKE '%pg_stat_activity%')";
  };
  overlapping(first);
  EXPECT_TRUE(Require(open_with(first) + " = " + std::to_string(kLeases - 1),
                      "the connections used at once were not kept")
                  .ok());
  overlapping(second);
  // All kLeases ran the second statements, the one now running this check included.
  EXPECT_TRUE(Require(open_with(second) + " = " + std::to_string(kLeases - 1) + " AND " +
                          open_with(first) + " = 0",
                      "new connections were opened instead of the kept ones")
                  .ok());
}

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TEST_F(PostgresStoreTest, NoPlaintextInADumpOfTheDatabase) {
  // DESIGN: "Personal values are sealed at rest" -- in PostgreSQL too: pg_dump every table of
  // the schema and search the dump for the values.
  auto policy = policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) +
                                        "/tests/fixtures/policy/valid/decisions.yaml");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  crypto::MasterKey master = crypto::MasterKey::FromSecretForTesting(crypto::SecretKey::Random());
  FixedClock clock(*Timestamp::Parse("2021-06-01"));
  engine::Engine engine(std::move(*policy), "club", *store_, master, clock);
  ASSERT_TRUE(engine.Open("policy text").ok());
  const std::vector<std::string> secrets = {"alice.plaintext@example.test", "+447700900123",
                                            "Alice Plaintextperson", "Severe nut allergy XYZZY",
                                            "203.0.113.77"};
  engine::NewSubject request;
  request.subject_id = "s1";
  request.types = {"member"};
  request.identifiers = {{"email", secrets[0], true}, {"phone", secrets[1], false}};
  ASSERT_TRUE(engine.AddSubject(request).ok());
  ASSERT_TRUE(engine
                  .PutRecord({"s1", "user.name", secrets[2], "direct", "event_booking",
                              *Timestamp::Parse("2021-02-01"), "test"})
                  .ok());
  ASSERT_TRUE(engine
                  .PutRecord({"s1", "user.health_and_medical.access_needs", secrets[3], "direct",
                              "event_booking", *Timestamp::Parse("2021-02-01"), "test"})
                  .ok());
  engine::ConsentChangeRequest consent;
  consent.subject_id = "s1";
  consent.target = "event_booking";
  consent.evidence = secrets[4];
  ASSERT_TRUE(engine.ChangeConsent(consent).ok());
  ASSERT_TRUE(engine.Flush().ok());
  auto view = engine.ReadSubject("s1", "test", "test");
  ASSERT_TRUE(view.ok());
  ASSERT_EQ(view->records.size(), 2u);
  EXPECT_EQ(view->records[1].value, secrets[3]);

  std::filesystem::path dump = std::filesystem::path(dir_.path() + ".sql");
  std::string command = "/usr/lib/postgresql/15/bin/pg_dump --data-only --schema=" + schema_ +
                        " -f '" + dump.string() + "' '" + url_ + "'";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::string bytes = ReadAll(dump);
  std::filesystem::remove(dump);
  EXPECT_NE(bytes.find("COPY " + schema_ + ".records"), std::string::npos);
  EXPECT_GT(bytes.size(), 1000u);
  for (const auto& secret : secrets) {
    EXPECT_EQ(bytes.find(secret), std::string::npos) << "plaintext found in the dump";
  }
}

}  // namespace
}  // namespace custos::store
