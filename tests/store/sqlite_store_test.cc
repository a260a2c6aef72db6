// SQLite specifics of SqliteStore; the Store contract itself is in conformance_test.cc.
#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "temp_dir.h"

namespace custos::store {
namespace {

std::unique_ptr<SqliteStore> MustOpen(const std::string& dir, bool durable = true) {
  SqliteOptions options;
  options.data_dir = dir;
  options.durable = durable;
  Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

SubjectRow Subject(const std::string& id, std::vector<std::string> types = {"member"}) {
  SubjectRow row;
  row.controller = "wig";
  row.subject_id = id;
  row.types = std::move(types);
  row.wrapped_key = Bytes(40, 1);
  return row;
}

WriteBatch One(WriteOp op) {
  WriteBatch batch;
  batch.ops.push_back(std::move(op));
  return batch;
}

unsigned Mode(const std::string& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return info.st_mode & 0777;
}

TEST(SqliteStore, CreatesThePrivateDataDirectoryAndDatabase) {
  TempDir temp;
  std::string dir = temp.Sub("nested/data");
  auto store = MustOpen(dir);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Mode(dir), 0700u);
  std::string file = dir + "/" + SqliteStore::kFileName;
  ASSERT_TRUE(std::filesystem::exists(file));
  EXPECT_EQ(Mode(file), 0600u);
  // SQLite gives the WAL the database file's mode.
  ASSERT_TRUE(store->Apply(One(Subject("s1"))).ok());
  ASSERT_TRUE(std::filesystem::exists(file + "-wal"));
  EXPECT_EQ(Mode(file + "-wal"), 0600u);
}

TEST(SqliteStore, UsesWalAndForeignKeys) {
  TempDir temp;
  auto store = MustOpen(temp.path());
  ASSERT_NE(store, nullptr);
  Result<std::string> mode = store->PragmaForTesting("journal_mode");
  ASSERT_TRUE(mode.ok()) << mode.status().ToString();
  EXPECT_EQ(*mode, "wal");
  EXPECT_EQ(*store->PragmaForTesting("foreign_keys"), "1");
  EXPECT_EQ(*store->PragmaForTesting("busy_timeout"), "5000");
}

TEST(SqliteStore, RecordsTheSchemaVersionAndReopensIdempotently) {
  TempDir temp;
  ASSERT_GE(SqliteStore::LatestSchemaVersion(), 1);
  {
    auto store = MustOpen(temp.path());
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(*store->SchemaVersion(), SqliteStore::LatestSchemaVersion());
    ASSERT_TRUE(store->Apply(One(Subject("s1"))).ok());
  }
  for (int i = 0; i < 2; ++i) {
    auto store = MustOpen(temp.path(), /*durable=*/i == 0);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(*store->SchemaVersion(), SqliteStore::LatestSchemaVersion());
    EXPECT_EQ(*store->CountSubjects("wig"), 1);
  }
}

TEST(SqliteStore, TwoStoresOnOneDirectorySeeEachOthersWrites) {
  // As two custos processes sharing a data directory would.
  TempDir temp;
  auto a = MustOpen(temp.path());
  auto b = MustOpen(temp.path());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->Apply(One(Subject("s1"))).ok());
  Result<AppliedIds> ids_b =
      b->Apply(One(RecordRow{"wig", "s1", 0, "user.name", Bytes{1}, "direct", "membership",
                             Timestamp{}, RecordState::kActive, Timestamp{}}));
  ASSERT_TRUE(ids_b.ok()) << ids_b.status().ToString();
  Result<AppliedIds> ids_a =
      a->Apply(One(RecordRow{"wig", "s1", 0, "user.name", Bytes{2}, "direct", "membership",
                             Timestamp{}, RecordState::kActive, Timestamp{}}));
  ASSERT_TRUE(ids_a.ok()) << ids_a.status().ToString();
  EXPECT_LT(ids_b->record_ids[0], ids_a->record_ids[0]);
  EXPECT_EQ(b->ListRecords("wig", "s1")->size(), 2u);
}

TEST(SqliteStore, KeepsGivenIdsAndAssignsLaterOnesAfterThem) {
  TempDir temp;
  auto store = MustOpen(temp.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Apply(One(Subject("s1"))).ok());
  WriteBatch batch;
  RecordRow given{"wig", "s1", 100, "user.name", {}, "direct", "membership", {}, {}, {}};
  RecordRow assigned = given;
  assigned.record_id = 0;
  batch.Add(given);
  batch.Add(assigned);
  Result<AppliedIds> ids = store->Apply(batch);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  EXPECT_EQ(ids->record_ids, (std::vector<int64_t>{100, 101}));
  given.record_id = -1;
  EXPECT_EQ(store->Apply(One(given)).status().code(), ErrorCode::kInvalidArgument);
}

TEST(SqliteStore, RejectsKeysThatCannotBeStoredAsAList) {
  TempDir temp;
  auto store = MustOpen(temp.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Apply(One(Subject("s1", {"a,b"}))).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(store->Apply(One(Subject("s1", {""}))).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(store->Apply(One(Subject(""))).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(*store->CountSubjects("wig"), 0);
}

TEST(SqliteStore, ErrorMessagesCarryNoValues) {
  TempDir temp;
  auto store = MustOpen(temp.path());
  ASSERT_NE(store, nullptr);
  AuditRow row;
  row.seq = 1;
  row.detail = "SECRET-DETAIL";
  row.hash = {0x53, 0x45, 0x43};
  ASSERT_TRUE(store->Apply(One(row)).ok());
  Status failed = store->Apply(One(row)).status();
  EXPECT_EQ(failed.code(), ErrorCode::kConflict);
  EXPECT_EQ(failed.message().find("SECRET"), std::string::npos) << failed.message();
  EXPECT_NE(failed.message().find("audit_log"), std::string::npos) << failed.message();
}

TEST(SqliteStore, OpenFailsCleanly) {
  TempDir temp;
  SqliteOptions options;
  EXPECT_EQ(SqliteStore::Open(options).status().code(), ErrorCode::kInvalidArgument);
  std::filesystem::create_directories(temp.path());
  std::string file = temp.Sub("not-a-dir");
  std::ofstream(file) << "x";
  options.data_dir = file;
  EXPECT_EQ(SqliteStore::Open(options).status().code(), ErrorCode::kIo);
  // A file that is not a database.
  std::string dir = temp.Sub("garbage");
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/" + SqliteStore::kFileName) << std::string(4096, 'g');
  options.data_dir = dir;
  EXPECT_EQ(SqliteStore::Open(options).status().code(), ErrorCode::kIo);
}

TEST(SqliteStore, OpenSqliteStoreGivesAStore) {
  TempDir temp;
  SqliteOptions options;
  options.data_dir = temp.path();
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE((*store)->Apply(One(Subject("s1"))).ok());
}

}  // namespace
}  // namespace custos::store
