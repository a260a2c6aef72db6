// Import: the mapping file's checks (with lines), the CSV and JSON Lines readers, rows to
// people, and Engine::ImportBatch over a real SqliteStore (a batch is all or nothing, a second
// run changes nothing, suppression is kept).
#include "engine/import.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "crypto/key.h"
#include "crypto/master_key.h"
#include "engine/engine.h"
#include "policy/loader.h"
#include "store/forwarding_store.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::engine {
namespace {

namespace fs = std::filesystem;

Timestamp T(const char* text) { return *Timestamp::Parse(text); }

const policy::Policy& Wig() {
  static const policy::Policy policy = [] {
    auto loaded = policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml");
    EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
    return loaded.ok() ? *loaded : policy::Policy{};
  }();
  return policy;
}

constexpr char kMapping[] = R"(custos_import: 1
person:
  external_id: crm_id
  type: member
identifiers:
  - {column: email, kind: email}
records:
  - {column: name, category: user.name, source: direct, purpose: membership_records}
events:
  - {column: ended, event: membership_ended}
consents:
  - {column: news, purpose: newsletter, date: news_at, evidence: form}
)";

ImportMapping Mapping(const char* text = kMapping) {
  ImportMapping mapping;
  policy::Diagnostics diagnostics;
  EXPECT_TRUE(ParseImportMapping(text, Wig(), mapping, diagnostics))
      << (diagnostics.empty() ? "" : diagnostics.front().Format("mapping"));
  return mapping;
}

// The diagnostics of a mapping, each "LINE CODE".
std::vector<std::string> Problems(const std::string& text) {
  ImportMapping mapping;
  policy::Diagnostics diagnostics;
  EXPECT_FALSE(ParseImportMapping(text, Wig(), mapping, diagnostics));
  std::vector<std::string> out;
  for (const auto& d : diagnostics) {
    EXPECT_FALSE(d.hint.empty()) << d.message;
    out.push_back(std::to_string(d.loc.line) + " " + std::string(CodeName(d.code)));
  }
  return out;
}

TEST(ImportMapping, ReadsEveryPart) {
  ImportMapping mapping = Mapping();
  EXPECT_EQ(mapping.external_id.name, "crm_id");
  EXPECT_EQ(mapping.subject_type, "member");
  ASSERT_EQ(mapping.identifiers.size(), 1u);
  EXPECT_EQ(mapping.identifiers[0].kind, "email");
  ASSERT_EQ(mapping.records.size(), 1u);
  EXPECT_EQ(mapping.records[0].purpose, "membership_records");
  ASSERT_EQ(mapping.consents.size(), 1u);
  EXPECT_EQ(mapping.consents[0].date.name, "news_at");
  EXPECT_EQ(mapping.columns, (std::vector<std::string>{"crm_id", "email", "name", "ended", "news",
                                                       "news_at", "form"}));
  EXPECT_EQ(mapping.batch_size, 1000);
}

TEST(ImportMapping, NamesTheLineOfEveryMistake) {
  EXPECT_EQ(Problems("custos_import: 2\nperson: {external_id: id, type: member}\n"
                     "events: [{column: e, event: membership_ended}]\n"),
            std::vector<std::string>{"1 UNSUPPORTED_VERSION"});
  EXPECT_EQ(Problems("custos_import: 1\nperson: {external_id: id, type: member}\n"
                     "records:\n"
                     "  - {column: a, category: user.name, source: direct, purpose: nope}\n"
                     "  - {column: b, category: user.health_and_medical, source: direct,"
                     " purpose: newsletter}\n"
                     "  - {column: c, category: user.name, source: carrier_pigeon,"
                     " purpose: newsletter}\n"
                     "events: [{column: e, event: became_famous}]\n"
                     "colour: blue\n"),
            (std::vector<std::string>{"4 UNKNOWN_PURPOSE", "5 CATEGORY_NOT_IN_PURPOSE",
                                      "6 UNKNOWN_SOURCE", "7 UNKNOWN_EVENT", "8 UNKNOWN_FIELD"}));
  EXPECT_EQ(
      Problems("custos_import: 1\nperson:\n  type: pirate\n"
               "identifiers: [{column: e, kind: fax}]\n"),
      (std::vector<std::string>{"3 MISSING_FIELD", "3 UNKNOWN_SUBJECT_TYPE", "4 INVALID_VALUE"}));
  // Consent to a purpose that is not on consent cannot be imported as consent.
  EXPECT_EQ(Problems("custos_import: 1\nperson: {external_id: id, type: member}\n"
                     "consents:\n  - {column: c, purpose: membership_records, date: d}\n"),
            std::vector<std::string>{"4 INVALID_VALUE"});
  EXPECT_EQ(Problems("custos_import: 1\nperson: {external_id: id, type: member}\n"),
            std::vector<std::string>{"1 MISSING_FIELD"});
  EXPECT_EQ(Problems("custos_import: 1\nperson: [a\n"), std::vector<std::string>{"3 YAML_SYNTAX"});
}

std::vector<ImportRow> ReadAll(RowReader& reader) {
  std::vector<ImportRow> rows;
  ImportRow row;
  while (reader.Next(row)) rows.push_back(row);
  return rows;
}

TEST(ImportReader, CsvQuotesLineBreaksAndCrlf) {
  ImportMapping mapping = Mapping();
  std::istringstream in(
      "\xEF\xBB\xBF"
      "crm_id,unused,name,email,ended,news,news_at,form\r\n"
      "1,x,\"Ada \"\"A\"\" Lovelace, Countess\",ada@example.test,,yes,2020-01-01,f1\r\n"
      "\r\n"
      "2,x,\"two\nlines\",bo@example.test,2019-06-30,,,\r\n"
      "3,x,too,few\r\n"
      "4,x,\"never closed,b@example.test,,,,\r\n");
  auto reader = OpenCsvReader(in, mapping, "m.yaml");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto rows = ReadAll(**reader);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].line, 2);
  EXPECT_EQ(rows[0].values[2], "Ada \"A\" Lovelace, Countess");
  EXPECT_EQ(rows[0].values[0], "1");
  EXPECT_EQ(rows[1].line, 4);
  EXPECT_EQ(rows[1].values[2], "two\nlines");
  EXPECT_EQ(rows[1].values[3], "2019-06-30");
  EXPECT_EQ(rows[2].line, 6);
  EXPECT_EQ(rows[2].error, "the row has 4 fields, the header 8");
  EXPECT_EQ(rows[3].line, 7);
  EXPECT_EQ(rows[3].error, "a quote opened on this line is never closed");
  EXPECT_EQ((*reader)->bytes_read(), static_cast<int64_t>(in.str().size()));
}

TEST(ImportReader, CsvHeaderMustHoldEveryMappedColumn) {
  ImportMapping mapping = Mapping();
  std::istringstream in("crm_id,name,email,ended,news,news_at\n");
  auto reader = OpenCsvReader(in, mapping, "m.yaml");
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), ErrorCode::kMappingInvalid);
  // The mapping names `form` on line 12.
  EXPECT_NE(reader.status().message().find("m.yaml:12:"), std::string::npos)
      << reader.status().message();
  EXPECT_NE(reader.status().message().find("'form'"), std::string::npos);
}

TEST(ImportReader, JsonLinesValuesAndMistakes) {
  ImportMapping mapping = Mapping();
  std::istringstream in(
      "{\"crm_id\": 7, \"name\": \"Ada\", \"news\": true, \"news_at\": \"2020-01-01\", "
      "\"form\": null, \"other\": [1]}\n"
      "\n"
      "{\"crm_id\": \"8\", \"name\": {\"first\": \"Bo\"}}\n"
      "[1, 2]\n"
      "{broken\n");
  auto reader = OpenJsonLinesReader(in, mapping);
  auto rows = ReadAll(*reader);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].values[0], "7");
  EXPECT_EQ(rows[0].values[4], "true");
  EXPECT_FALSE(rows[0].values[6].has_value());
  EXPECT_TRUE(rows[0].error.empty());
  EXPECT_EQ(rows[1].line, 3);
  EXPECT_EQ(rows[1].error, "field 'name' is a list or an object, not a value");
  EXPECT_EQ(rows[2].error, "a JSON Lines row must be an object");
  EXPECT_EQ(rows[3].line, 5);
  EXPECT_EQ(rows[3].error.rfind("not JSON: ", 0), 0u) << rows[3].error;
}

// An HTTP body arrives in pieces that cut lines anywhere: every split gives the rows (values,
// lines, mistakes) that reading the same text as a file gives.
TEST(ImportReader, JsonLinesInPiecesOfAnySizeGiveTheFilesRows) {
  ImportMapping mapping = Mapping();
  const std::string text =
      "{\"crm_id\": 7, \"name\": \"Ada\", \"news\": true}\r\n"
      "\n"
      "{\"crm_id\": \"8\", \"name\": {\"first\": \"Bo\"}}\n"
      "  \n"
      "{broken\n"
      "{\"crm_id\": \"9\", \"name\": \"Cy\u00e9\"}";  // the last line has no line break
  std::istringstream in(text);
  auto expected = ReadAll(*OpenJsonLinesReader(in, mapping));
  ASSERT_EQ(expected.size(), 4u);
  for (size_t piece : {1, 2, 3, 7, 64, 4096}) {
    JsonLinesSplitter splitter(mapping);
    std::vector<ImportRow> rows;
    auto keep = [&rows](ImportRow& row) {
      rows.push_back(row);
      return Status::Ok();
    };
    for (size_t at = 0; at < text.size(); at += piece) {
      ASSERT_TRUE(splitter.Feed(std::string_view(text).substr(at, piece), keep).ok());
    }
    ASSERT_TRUE(splitter.Finish(keep).ok());
    ASSERT_EQ(rows.size(), expected.size()) << "pieces of " << piece;
    for (size_t i = 0; i < rows.size(); ++i) {
      EXPECT_EQ(rows[i].line, expected[i].line) << "pieces of " << piece;
      EXPECT_EQ(rows[i].values, expected[i].values) << "pieces of " << piece;
      EXPECT_EQ(rows[i].error, expected[i].error) << "pieces of " << piece;
    }
  }
  EXPECT_EQ(expected[3].line, 6);
  EXPECT_EQ(expected[3].values[0], "9");
}

TEST(ImportReader, AJsonLineLongerThanTheLimitStopsTheStreamWithItsLine) {
  ImportMapping mapping = Mapping();
  JsonLinesSplitter splitter(mapping);
  int rows = 0;
  auto count = [&rows](ImportRow&) {
    ++rows;
    return Status::Ok();
  };
  ASSERT_TRUE(splitter.Feed("{\"crm_id\": 1}\n", count).ok());
  const std::string endless(64 * 1024, 'x');
  Status status;
  for (size_t sent = 0; status.ok() && sent <= JsonLinesSplitter::kMaxLineBytes;
       sent += endless.size()) {
    status = splitter.Feed(endless, count);
  }
  EXPECT_EQ(status.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(status.message().find("line 2 "), std::string::npos) << status.message();
  EXPECT_EQ(rows, 1);
}

ImportRow Row(std::vector<std::optional<std::string>> values) {
  ImportRow row;
  row.line = 9;
  row.values = std::move(values);
  return row;
}

TEST(ImportRows, MapsARowAndRejectsWithoutValues) {
  ImportMapping mapping = Mapping();
  auto person = MapRow(mapping, Row({" 42 ", "ada@example.test", "Ada", "2019-06-30", "Yes",
                                     "2015-01-01T10:00:00Z", "form-3"}));
  ASSERT_TRUE(person.ok()) << person.status().ToString();
  EXPECT_EQ(person->external_id, "42");
  EXPECT_EQ(person->line, 9);
  ASSERT_EQ(person->events.size(), 1u);
  EXPECT_EQ(person->events[0].at, T("2019-06-30"));
  ASSERT_EQ(person->consents.size(), 1u);
  EXPECT_TRUE(person->consents[0].given);
  EXPECT_EQ(person->consents[0].evidence, "form-3");

  auto no_id = MapRow(mapping, Row({"", "a@example.test", "Ada", {}, {}, {}, {}}));
  EXPECT_EQ(no_id.status().message(), "column 'crm_id' (the external id) is empty");
  auto bad_time = MapRow(mapping, Row({"1", {}, "Ada", "secret-value", {}, {}, {}}));
  EXPECT_EQ(bad_time.status().message().rfind("column 'ended' is not an ISO-8601", 0), 0u);
  EXPECT_EQ(bad_time.status().message().find("secret-value"), std::string::npos);
  auto no_date = MapRow(mapping, Row({"1", {}, "Ada", {}, "no", {}, {}}));
  EXPECT_EQ(no_date.status().message(),
            "column 'news_at' (when consent to 'newsletter' was withdrawn) is empty");
  auto bad_answer = MapRow(mapping, Row({"1", {}, "Ada", {}, "perhaps", "2020-01-01", {}}));
  EXPECT_FALSE(bad_answer.ok());
}

class ImportBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("custos-import-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    auto store = store::OpenSqliteStore({dir_.string(), true});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    failing_ = std::make_unique<WritesFail>(*store_);
    engine_ = std::make_unique<Engine>(Wig(), "wig", *failing_, master_, clock_);
    ASSERT_TRUE(engine_->Open("policy text").ok());
  }
  void TearDown() override {
    engine_.reset();
    failing_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  class WritesFail final : public store::ForwardingStore {
   public:
    using ForwardingStore::ForwardingStore;
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

  static ImportPerson Person(const std::string& id, const std::string& email) {
    ImportPerson person;
    person.line = std::stoi(id);
    person.external_id = id;
    person.types = {"member"};
    person.since = T("2015-01-01");
    person.identifiers = {{"email", email, false}};
    person.records = {{"user.name", "Name " + id, "direct", "membership_records", {}}};
    person.events = {{"membership_ended", T("2020-01-01")}};
    person.consents = {{"newsletter", "web", "form-1", "", true, T("2015-01-01")}};
    return person;
  }

  int64_t AuditEntries() {
    int64_t n = 0;
    EXPECT_TRUE(store_
                    ->ScanAudit(0,
                                [&](const store::AuditRow&) {
                                  ++n;
                                  return true;
                                })
                    .ok());
    return n;
  }

  fs::path dir_;
  crypto::MasterKey master_ = crypto::MasterKey::FromSecretForTesting(crypto::SecretKey::Random());
  FixedClock clock_{T("2026-01-01")};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<WritesFail> failing_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(ImportBatchTest, StoresPeopleWithTheirHistoryAndSkipsThemNextTime) {
  auto bad = Person("3", "not-an-email");
  auto outcomes =
      engine_->ImportBatch({Person("1", "a@example.test"), Person("2", "b@example.test"), bad,
                            Person("1", "a@example.test")});
  ASSERT_TRUE(outcomes.ok()) << outcomes.status().ToString();
  ASSERT_EQ(outcomes->size(), 4u);
  EXPECT_EQ((*outcomes)[0].kind, ImportOutcome::Kind::kImported);
  EXPECT_EQ((*outcomes)[0].subject_id, engine_->ImportedSubjectId("1"));
  EXPECT_EQ((*outcomes)[2].kind, ImportOutcome::Kind::kRejected);
  EXPECT_EQ((*outcomes)[2].reason.rfind("INVALID_ARGUMENT: ", 0), 0u) << (*outcomes)[2].reason;
  EXPECT_EQ((*outcomes)[2].reason.find("not-an-email"), std::string::npos);
  EXPECT_EQ((*outcomes)[3].kind, ImportOutcome::Kind::kSkipped);

  std::string id = engine_->ImportedSubjectId("1");
  auto view = engine_->ReadSubject(id, "test", "test");
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->subject.created_at, T("2015-01-01"));
  ASSERT_EQ(view->records.size(), 1u);
  EXPECT_EQ(view->records[0].value, "Name 1");
  EXPECT_EQ(view->records[0].collected_at, T("2015-01-01"));
  ASSERT_EQ(view->identifiers.size(), 1u);  // the email; the external id is not kept
  ASSERT_EQ(view->consents.size(), 1u);
  EXPECT_EQ(view->consents[0].at, T("2015-01-01"));
  bool ended = false;
  for (const auto& e : view->events)
    ended |= e.event == "membership_ended" && e.at == T("2020-01-01");
  EXPECT_TRUE(ended);
  auto found = engine_->FindSubjects("email", "a@example.test");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, std::vector<std::string>{id});

  // The same people again: nothing changes, not even the audit log.
  int64_t entries = AuditEntries();
  auto again = engine_->ImportBatch({Person("1", "a@example.test"), Person("2", "b@example.test")});
  ASSERT_TRUE(again.ok());
  for (const auto& outcome : *again) {
    EXPECT_EQ(outcome.kind, ImportOutcome::Kind::kSkipped);
    EXPECT_EQ(outcome.reason, "already imported (same external id)");
  }
  EXPECT_EQ(AuditEntries(), entries);
}

TEST_F(ImportBatchTest, AFailedBatchStoresNoneOfItsPeople) {
  failing_->failing = true;
  auto outcomes =
      engine_->ImportBatch({Person("1", "a@example.test"), Person("2", "b@example.test")});
  EXPECT_FALSE(outcomes.ok());
  failing_->failing = false;
  for (const char* id : {"1", "2"}) {
    auto row = store_->GetSubject("wig", engine_->ImportedSubjectId(id));
    ASSERT_TRUE(row.ok());
    EXPECT_FALSE(row->has_value()) << id;
  }
  // Run again after the failure: both come in whole.
  auto retried =
      engine_->ImportBatch({Person("1", "a@example.test"), Person("2", "b@example.test")});
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ((*retried)[0].kind, ImportOutcome::Kind::kImported);
  EXPECT_EQ((*retried)[1].kind, ImportOutcome::Kind::kImported);
}

// WIG: "You may opt out of receiving marketing" / suppression outlives erasure; an old opt-in
// in the CRM must not re-subscribe a person on the suppression list.
TEST_F(ImportBatchTest, ASuppressedPersonIsNotResubscribed) {
  ASSERT_TRUE(engine_->Suppress("email", "A@example.test", "opt out", T("2025-01-01")).ok());
  auto outcomes = engine_->ImportBatch({Person("1", "a@example.test")});
  ASSERT_TRUE(outcomes.ok());
  EXPECT_EQ((*outcomes)[0].kind, ImportOutcome::Kind::kImported);
  EXPECT_EQ((*outcomes)[0].consents_withheld, 1);
  std::string id = engine_->ImportedSubjectId("1");
  auto consents = store_->ListConsentEvents("wig", id);
  ASSERT_TRUE(consents.ok());
  EXPECT_TRUE(consents->empty());
  DecisionRequest request;
  request.subject_id = id;
  request.purpose = "newsletter";
  request.categories = {"user.contact.email"};
  request.channel = "email";
  request.at = T("2026-01-01");
  auto decision = engine_->Decide(request);
  ASSERT_TRUE(decision.ok());
  EXPECT_FALSE(decision->allow);
}

TEST_F(ImportBatchTest, ImportedIdsDependOnTheKeyNotOnlyTheExternalId) {
  std::string id = engine_->ImportedSubjectId("1001");
  EXPECT_EQ(id.size(), 26u);
  EXPECT_EQ(id.rfind("x_", 0), 0u);
  EXPECT_EQ(id.find("1001"), std::string::npos);
  crypto::MasterKey other = crypto::MasterKey::FromSecretForTesting(crypto::SecretKey::Random());
  Engine second(Wig(), "wig", *store_, other, clock_);
  EXPECT_NE(second.ImportedSubjectId("1001"), id);
}

}  // namespace
}  // namespace custos::engine
