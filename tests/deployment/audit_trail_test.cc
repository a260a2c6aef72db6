// The audit trail cannot be cut, rebuilt or rolled back unnoticed, and a deployment cannot be
// opened with the wrong master key: through the command line, on SQLite and on PostgreSQL.
//
// Each test attacks the database the way someone with write access to it could (deleting,
// editing and re-chaining, reordering, restoring an older copy) and expects `audit verify` to
// say so. UK GDPR Article 5(2) (accountability) and Article 32(1)(b) (integrity of processing
// systems) are what the log is for: a record that can be silently trimmed proves nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "../store/pg_test_database.h"
#include "../store/temp_dir.h"
#include "cli/commands.h"
#include "crypto/hash_chain.h"
#include "engine/audit_log.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"

namespace custos {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int code = 0;
  std::string out, err;
};

class AuditTrail : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    data_ = dir_.Sub("data");
    if (Postgres()) {
      url_ = store::pgtest::PostgresTestUrl();
      ASSERT_FALSE(url_.empty());
      schema_ = store::pgtest::SchemaFor(dir_.Sub(""));
    }
  }
  void TearDown() override {
    if (Postgres() && !url_.empty()) {
      (void)store::DropPostgresSchemaForTesting(url_, schema_);
    }
  }
  bool Postgres() const { return GetParam() == "postgres"; }

  // Runs `custos` on this test's deployment; `key` replaces the default master key path.
  CliRun Run(std::vector<std::string> args, const std::string& key = "") {
    std::vector<std::string> full = {"--data", data_, "--now", "2026-01-05"};
    if (Postgres()) full.insert(full.end(), {"--database", url_, "--schema", schema_});
    if (!key.empty()) full.insert(full.end(), {"--master-key", key});
    full.insert(full.end(), args.begin(), args.end());
    std::ostringstream out, err;
    CliRun run;
    run.code = cli::RunCli(full, out, err);
    run.out = out.str();
    run.err = err.str();
    return run;
  }
  void Ok(std::vector<std::string> args) {
    CliRun run = Run(args);
    ASSERT_EQ(run.code, 0) << run.err;
  }
  void Init() {
    Ok({"init", "--policy", std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml"});
  }
  void AddPerson(const std::string& id) {
    Ok({"subject", "add", id, "--type", "non_member", "--email", id + "@example.test"});
  }
  // A few people with consents: a log of a dozen entries or so.
  void Populate() {
    Init();
    for (const char* id : {"p1", "p2", "p3"}) {
      AddPerson(id);
      Ok({"consent", "give", id, "event_bookings", "--channel", "web"});
    }
  }

  // Direct access to the database, as an attacker with write access has it.
  Status Exec(const std::string& sql) {
    if (Postgres()) {
      store::PostgresOptions options;
      options.url = url_;
      options.schema = schema_;
      auto store = store::PostgresStore::Open(options);
      if (!store.ok()) return store.status();
      return (*store)->ExecForTesting(sql);
    }
    auto store = store::SqliteStore::Open({data_, true});
    if (!store.ok()) return store.status();
    return (*store)->ExecForTesting(sql);
  }
  std::vector<store::AuditRow> ReadLog() {
    std::unique_ptr<store::Store> store;
    if (Postgres()) {
      store::PostgresOptions options;
      options.url = url_;
      options.schema = schema_;
      store = std::move(store::OpenPostgresStore(options)).value();
    } else {
      store = std::move(store::OpenSqliteStore({data_, true})).value();
    }
    std::vector<store::AuditRow> rows;
    EXPECT_TRUE(store->ScanAudit(1, [&](const store::AuditRow& row) {
                       rows.push_back(row);
                       return true;
                     }).ok());
    return rows;
  }
  std::string DisableAppendOnly() const {
    return Postgres() ? "ALTER TABLE audit_log DISABLE TRIGGER USER;"
                      : "DROP TRIGGER IF EXISTS audit_log_no_update;"
                        "DROP TRIGGER IF EXISTS audit_log_no_delete;";
  }
  std::string Blob(const store::Bytes& bytes) const {
    return Postgres() ? "'\\x" + crypto::ToHex(bytes) + "'::bytea" : "X'" + crypto::ToHex(bytes) + "'";
  }
  static std::string Text(const std::string& text) {
    std::string quoted = "'";
    for (char c : text) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    return quoted + "'";
  }
  // Writes `rows` back from index `from` on, re-chained with the public (unkeyed) hash, as
  // someone who edited the log and wants it to look whole would.
  void RewriteChainedFrom(std::vector<store::AuditRow> rows, size_t from) {
    std::string sql = DisableAppendOnly();
    for (size_t i = from; i < rows.size(); ++i) {
      rows[i].prev_hash = i == 0 ? store::Bytes(32, 0) : rows[i - 1].hash;
      crypto::Digest digest =
          crypto::ChainHash(rows[i].prev_hash, engine::AuditLog::Canonical(rows[i]));
      rows[i].hash.assign(digest.begin(), digest.end());
      sql += "UPDATE audit_log SET actor = " + Text(rows[i].actor) +
             ", action = " + Text(rows[i].action) + ", purpose = " + Text(rows[i].purpose) +
             ", subject_id = " + Text(rows[i].subject_id) + ", detail = " + Text(rows[i].detail) +
             ", prev_hash = " + Blob(rows[i].prev_hash) + ", hash = " + Blob(rows[i].hash) +
             " WHERE seq = " + std::to_string(rows[i].seq) + ";";
    }
    ASSERT_TRUE(Exec(sql).ok());
  }
  CliRun Verify() { return Run({"audit", "verify"}); }

  store::TempDir dir_;
  std::string data_, url_, schema_;
};

TEST_P(AuditTrail, AnUntouchedLogVerifiesAndEveryWriteLeavesASignedCheckpoint) {
  Populate();
  CliRun verified = Verify();
  EXPECT_EQ(verified.code, 0) << verified.err;
  EXPECT_EQ(verified.out.rfind("audit log intact: ", 0), 0u) << verified.out;
  std::ifstream kept(data_ + "/master.key.checkpoint");
  ASSERT_TRUE(kept) << "the checkpoint is kept beside the master key";
  std::string text((std::istreambuf_iterator<char>(kept)), std::istreambuf_iterator<char>());
  const int64_t head = ReadLog().back().seq;
  EXPECT_NE(text.find("\"seq\":" + std::to_string(head) + ","), std::string::npos) << text;
  EXPECT_NE(text.find("\"signature\":\""), std::string::npos) << text;
  EXPECT_EQ(fs::status(data_ + "/master.key.checkpoint").permissions() & fs::perms::group_all,
            fs::perms::none);
}

TEST_P(AuditTrail, DeletingTheNewestEntriesIsCaughtByTheCheckpoint) {
  Populate();
  const int64_t head = ReadLog().back().seq;
  ASSERT_TRUE(Exec(DisableAppendOnly() + "DELETE FROM audit_log WHERE seq > " +
                   std::to_string(head - 2) + ";")
                  .ok());
  CliRun verified = Verify();
  EXPECT_EQ(verified.code, 1);
  EXPECT_NE(verified.err.find("AUDIT_CHAIN_BROKEN: the log ends at seq " +
                              std::to_string(head - 2) + " but the checkpoint of "),
            std::string::npos)
      << verified.err;
  EXPECT_NE(verified.err.find("vouches for seq " + std::to_string(head)), std::string::npos)
      << verified.err;
}

TEST_P(AuditTrail, AnEditedEntryReChainedWithThePublicHashIsCaughtByTheKeyedChain) {
  Populate();
  std::vector<store::AuditRow> rows = ReadLog();
  ASSERT_GE(rows.size(), 6u);
  rows[3].detail = rows[3].detail == "withdrawn" ? "given" : "withdrawn";
  RewriteChainedFrom(rows, 3);
  CliRun verified = Verify();
  EXPECT_EQ(verified.code, 1);
  EXPECT_NE(verified.err.find("entry " + std::to_string(rows[3].seq) + " was changed"),
            std::string::npos)
      << verified.err;
}

TEST_P(AuditTrail, ReorderedEntriesAreCaught) {
  Populate();
  std::vector<store::AuditRow> rows = ReadLog();
  ASSERT_GE(rows.size(), 6u);
  // Swap what entries 3 and 4 say (their seqs stay in order) and re-chain from there.
  std::swap(rows[2].action, rows[3].action);
  std::swap(rows[2].subject_id, rows[3].subject_id);
  std::swap(rows[2].detail, rows[3].detail);
  std::swap(rows[2].purpose, rows[3].purpose);
  RewriteChainedFrom(rows, 2);
  CliRun verified = Verify();
  EXPECT_EQ(verified.code, 1);
  EXPECT_NE(verified.err.find("entry 3 was changed"), std::string::npos) << verified.err;
}

TEST_P(AuditTrail, AnOlderCopyOfTheDatabaseIsCaughtAndTheCheckpointKeptAsEvidence) {
  Populate();
  const int64_t old_head = ReadLog().back().seq;
  // Take a copy of the whole database now (for PostgreSQL, of the schema's audit log, which is
  // what verification reads), then write on.
  const std::string copy = dir_.Sub("copy");
  if (Postgres()) {
    ASSERT_TRUE(Exec("CREATE TABLE old_audit AS SELECT * FROM audit_log").ok());
  } else {
    fs::create_directories(copy);
    for (const char* name : {"custos.db", "custos.db-wal", "custos.db-shm"}) {
      if (fs::exists(data_ + "/" + name)) fs::copy_file(data_ + "/" + name, copy + "/" + name);
    }
  }
  AddPerson("p4");
  AddPerson("p5");
  const int64_t new_head = ReadLog().back().seq;
  ASSERT_GT(new_head, old_head);
  // Put the older copy back.
  if (Postgres()) {
    ASSERT_TRUE(Exec(DisableAppendOnly() +
                     "DELETE FROM audit_log; INSERT INTO audit_log SELECT * FROM old_audit;")
                    .ok());
  } else {
    for (const char* name : {"custos.db", "custos.db-wal", "custos.db-shm"}) {
      fs::remove(data_ + "/" + name);
      if (fs::exists(copy + "/" + name)) fs::copy_file(copy + "/" + name, data_ + "/" + name);
    }
  }
  ASSERT_EQ(ReadLog().back().seq, old_head);
  CliRun truncated = Verify();
  EXPECT_EQ(truncated.code, 1);
  EXPECT_NE(truncated.err.find("the log ends at seq " + std::to_string(old_head) +
                               " but the checkpoint of 2026-01-05T00:00:00Z vouches for seq " +
                               std::to_string(new_head)),
            std::string::npos)
      << truncated.err;

  // Writing on over the restored copy does not overwrite the evidence: the checkpoint stays,
  // and once the log is as long again, the entry it vouches for differs (a rollback).
  for (int i = 0; ReadLog().back().seq < new_head; ++i) {
    Ok({"consent", "give", "p1", "event_bookings", "--channel", "web"});
    ASSERT_LT(i, 20);
  }
  CliRun write = Run({"consent", "give", "p2", "event_bookings", "--channel", "web"});
  EXPECT_EQ(write.code, 0);
  EXPECT_NE(write.err.find("warning AUDIT_CHAIN_BROKEN: no new checkpoint"), std::string::npos)
      << write.err;
  CliRun rolled_back = Verify();
  EXPECT_EQ(rolled_back.code, 1);
  EXPECT_NE(rolled_back.err.find("entry " + std::to_string(new_head) + " is not the one the " +
                                 "checkpoint of 2026-01-05T00:00:00Z vouches for"),
            std::string::npos)
      << rolled_back.err;
  EXPECT_NE(Run({"audit", "checkpoint"}).code, 0) << "no checkpoint vouches for a rolled-back log";
}

TEST_P(AuditTrail, AnAlteredCheckpointIsRefused) {
  Populate();
  const std::string path = data_ + "/master.key.checkpoint";
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  // Move its time back a year: the signature no longer covers it.
  size_t at = text.find("\"at\":\"2026");
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at + 6, 4, "2025");
  std::ofstream(path, std::ios::trunc) << text;
  CliRun verified = Verify();
  EXPECT_EQ(verified.code, 1);
  EXPECT_NE(verified.err.find("not signed by this deployment's key"), std::string::npos)
      << verified.err;
}

TEST_P(AuditTrail, AStoreWrittenBeforeTheKeyWasRecordedReportsItsUnkeyedEntries) {
  Populate();
  // What a store of an older version looks like: every entry chained with the public hash, and
  // no key recorded.
  RewriteChainedFrom(ReadLog(), 0);
  ASSERT_TRUE(Exec(Postgres() ? "ALTER TABLE key_binding DISABLE TRIGGER USER;"
                                "DELETE FROM key_binding;"
                              : "DROP TRIGGER key_binding_no_delete; DELETE FROM key_binding;")
                  .ok());
  fs::remove(data_ + "/master.key.checkpoint");
  const int64_t legacy = ReadLog().back().seq;
  // The first open records the key; the old entries stay as they were, reported as unkeyed.
  CliRun verified = Verify();
  EXPECT_EQ(verified.code, 0) << verified.err;
  EXPECT_NE(verified.out.find("entries 1.." + std::to_string(legacy) +
                              " were written before the log was keyed"),
            std::string::npos)
      << verified.out;
  // Entries written from now on are keyed: re-chaining one with the public hash is caught.
  AddPerson("p9");
  std::vector<store::AuditRow> rows = ReadLog();
  rows.back().detail += "x";
  RewriteChainedFrom(rows, rows.size() - 1);
  CliRun broken = Verify();
  EXPECT_EQ(broken.code, 1);
  EXPECT_NE(broken.err.find("entry " + std::to_string(rows.back().seq) + " was changed"),
            std::string::npos)
      << broken.err;
}

TEST_P(AuditTrail, AMistypedMasterKeyPathIsRefusedAndCreatesNothing) {
  Populate();
  const std::string typo = dir_.Sub("mastr.key");
  CliRun run = Run({"subject", "add", "p7", "--type", "non_member"}, typo);
  EXPECT_EQ(run.code, 3);
  EXPECT_NE(run.err.find("error NOT_INITIALISED: master key file " + typo + " does not exist"),
            std::string::npos)
      << run.err;
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
  EXPECT_FALSE(fs::exists(typo));
  EXPECT_EQ(Run({"subject", "show", "p7"}).code, 1) << "nobody was written";
  EXPECT_EQ(Verify().code, 0);
}

TEST_P(AuditTrail, AnotherDeploymentsKeyIsRefused) {
  Populate();
  // A real key, but another deployment's.
  const std::string other_data = dir_.Sub("other");
  std::ostringstream out, err;
  ASSERT_EQ(cli::RunCli({"--data", other_data, "init", "--policy",
                         std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml"},
                        out, err),
            0)
      << err.str();
  const std::string other_key = other_data + "/master.key";
  CliRun run = Run({"subject", "add", "p7", "--type", "non_member"}, other_key);
  EXPECT_EQ(run.code, 3);
  EXPECT_NE(run.err.find("error KEY_MISMATCH: cannot use "), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("belongs to another master key"), std::string::npos) << run.err;
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
  // init with the wrong key is refused too: it never re-keys a database.
  CliRun init = Run({"init", "--policy", std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml"},
                    other_key);
  EXPECT_EQ(init.code, 3) << init.err;
  EXPECT_EQ(Run({"subject", "show", "p7"}).code, 1) << "nobody was written";
  EXPECT_EQ(Verify().code, 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditTrail, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace custos
