// Free text staff type (a restriction's reason, a legal hold's reason, a suppression's reason)
// is sealed at rest on both backends (UK GDPR Art. 32, security of processing: the text may
// name or describe the person), reads back as typed, and a row written before reasons were
// sealed still reads as it was written.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "../store/pg_test_database.h"
#include "../store/temp_dir.h"
#include "crypto/key.h"
#include "crypto/master_key.h"
#include "engine/engine.h"
#include "policy/loader.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::engine {
namespace {

namespace fs = std::filesystem;

Timestamp T(const char* text) { return *Timestamp::Parse(text); }

const std::string kSubject = "sealed-notes-subject";
const std::vector<std::string> kTypedText = {
    "Restricted while Jane Plaintextperson disputes her address",
    "Hold for the claim Jane Plaintextperson brought in March",
    "Hold on names for the Holdtext tribunal",
    "Suppressed at Jane Plaintextperson's solicitor's request"};

struct Backend {
  const char* name;
  // Opens a store over `dir`; empty on failure (after a test failure).
  std::function<std::unique_ptr<store::Store>(const std::string& dir)> open;
  // OK when no stored row of any table holds `text`; ALREADY_EXISTS naming the table
  // when one does.
  std::function<Status(store::Store&, const std::string& dir, const std::string& text)> absent;
  std::function<void(const std::string& dir)> drop;
};

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

const Backend kSqlite{
    "sqlite",
    [](const std::string& dir) -> std::unique_ptr<store::Store> {
      auto opened = store::OpenSqliteStore({dir, true});
      EXPECT_TRUE(opened.ok()) << opened.status().ToString();
      return opened.ok() ? std::move(*opened) : nullptr;
    },
    // Every file of the data directory, byte for byte: the database, its WAL, its journal.
    [](store::Store&, const std::string& dir, const std::string& text) {
      for (const auto& entry : fs::directory_iterator(dir)) {
        if (ReadAll(entry.path()).find(text) != std::string::npos) {
          return Status(ErrorCode::kAlreadyExists,
                        "found in " + entry.path().filename().string());
        }
      }
      return Status::Ok();
    },
    [](const std::string&) {}};

const Backend kPostgres{
    "postgres",
    [](const std::string& dir) -> std::unique_ptr<store::Store> {
      std::string url = store::pgtest::PostgresTestUrl();
      if (url.empty()) return nullptr;
      store::PostgresOptions options;
      options.url = url;
      options.schema = store::pgtest::SchemaFor(dir);
      auto opened = store::OpenPostgresStore(options);
      EXPECT_TRUE(opened.ok()) << opened.status().ToString();
      return opened.ok() ? std::move(*opened) : nullptr;
    },
    // Every row of every table of the store's schema, as text: the statement raises an
    // exception (an error status) naming the first table whose rows hold `text`.
    [](store::Store& s, const std::string&, const std::string& text) {
      auto* pg = dynamic_cast<store::PostgresStore*>(&s);
      if (pg == nullptr) return Status(ErrorCode::kInternal, "not a PostgresStore");
      std::string quoted = "'%" + text + "%'";
      for (size_t at = 2; (at = quoted.find('\'', at)) < quoted.size() - 2; at += 2) {
        quoted.insert(at, "'");
      }
      return pg->ExecForTesting(
          "DO $$ DECLARE t text; found boolean; BEGIN "
          "FOR t IN SELECT table_name FROM information_schema.tables WHERE table_schema = '" +
          pg->schema() +
          "' AND table_type = 'BASE TABLE' LOOP "
          "EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I r WHERE r::text LIKE %L)', '" +
          pg->schema() + "', t, " + quoted +
          ") INTO found; "
          "IF found THEN RAISE EXCEPTION 'found in %', t; END IF; END LOOP; END $$");
    },
    [](const std::string& dir) {
      std::string url = store::pgtest::PostgresTestUrl();
      if (!url.empty()) (void)store::DropPostgresSchemaForTesting(url, store::pgtest::SchemaFor(dir));
    }};

class SealedNotesTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    store_ = GetParam().open(dir_.path());
    ASSERT_NE(store_, nullptr);
    auto policy = policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml");
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();
    engine_ = std::make_unique<Engine>(std::move(*policy), "wig", *store_, master_, clock_);
    ASSERT_TRUE(engine_->Open("policy text").ok());
    ASSERT_TRUE(engine_->AddSubject({kSubject, {"member"}, {}, T("2026-01-01"), "t"}).ok());
  }
  void TearDown() override {
    engine_.reset();
    store_.reset();
    GetParam().drop(dir_.path());
  }
  Status Absent(const std::string& text) { return GetParam().absent(*store_, dir_.path(), text); }

  store::TempDir dir_;
  crypto::MasterKey master_ = crypto::MasterKey::FromSecretForTesting(crypto::SecretKey::Random());
  FixedClock clock_{T("2026-02-01")};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Engine> engine_;
};

TEST_P(SealedNotesTest, ReasonsStaffTypeAreSealedAtRestAndReadBackAsTyped) {
  auto restriction = engine_->Restrict(kSubject, {}, kTypedText[0], std::nullopt, "t");
  ASSERT_TRUE(restriction.ok()) << restriction.status().ToString();
  LegalHoldRequest on_person;
  on_person.subject_id = kSubject;
  on_person.reason = kTypedText[1];
  ASSERT_TRUE(engine_->PlaceLegalHold(on_person).ok());
  LegalHoldRequest on_category;
  on_category.category = "user.name";
  on_category.reason = kTypedText[2];
  ASSERT_TRUE(engine_->PlaceLegalHold(on_category).ok());
  ASSERT_TRUE(engine_->Suppress("email", "suppressed@example.test", kTypedText[3], std::nullopt,
                                "t")
                  .ok());
  ASSERT_TRUE(engine_->Flush().ok());

  // Read back as typed.
  auto view = engine_->ReadSubject(kSubject, "t", "test");
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  ASSERT_EQ(view->restrictions.size(), 1u);
  EXPECT_EQ(view->restrictions[0].reason, kTypedText[0]);
  auto holds = engine_->ListLegalHolds();
  ASSERT_TRUE(holds.ok()) << holds.status().ToString();
  ASSERT_EQ(holds->size(), 2u);
  EXPECT_EQ((*holds)[0].reason, kTypedText[1]);
  EXPECT_EQ((*holds)[1].reason, kTypedText[2]);

  // Not at rest, in any table (the audit log included).
  for (const auto& text : kTypedText) {
    Status absent = Absent(text);
    EXPECT_TRUE(absent.ok()) << "'" << text << "': " << absent.ToString();
    EXPECT_TRUE(Absent("Plaintextperson").ok());
  }
  // The search finds what is stored in the clear: the subject's id.
  EXPECT_FALSE(Absent(kSubject).ok()) << "the search cannot see the rows";
}

TEST_P(SealedNotesTest, AReasonWrittenBeforeReasonsWereSealedReadsAsItWasWritten) {
  // Rows of earlier versions hold the reason in plain text; they are read as they are.
  store::RestrictionRow old;
  old.controller = "wig";
  old.subject_id = kSubject;
  old.reason = "accuracy_contested";
  old.at = T("2026-01-15");
  store::LegalHoldRow hold;
  hold.controller = "wig";
  hold.hold_id = 7;
  hold.subject_id = kSubject;
  hold.reason = "litigation";
  hold.placed_at = T("2026-01-15");
  store::WriteBatch batch;
  batch.Add(std::move(old));
  batch.Add(std::move(hold));
  ASSERT_TRUE(store_->Apply(batch).ok());
  auto view = engine_->ReadSubject(kSubject, "t", "test");
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  ASSERT_EQ(view->restrictions.size(), 1u);
  EXPECT_EQ(view->restrictions[0].reason, "accuracy_contested");
  auto holds = engine_->ListLegalHolds();
  ASSERT_TRUE(holds.ok()) << holds.status().ToString();
  ASSERT_EQ(holds->size(), 1u);
  EXPECT_EQ((*holds)[0].reason, "litigation");
}

INSTANTIATE_TEST_SUITE_P(Backends, SealedNotesTest, ::testing::Values(kSqlite, kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace custos::engine
