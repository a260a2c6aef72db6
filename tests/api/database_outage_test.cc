// The server around a database that goes away, in-process (Api::Handle over a store that can be
// switched off): while it is away a data request is answered 503 STORE_UNAVAILABLE with
// Retry-After, never a 5xx that blames the server or a 4xx that blames the client; /healthz
// (liveness) stays 200 and /readyz (readiness) fails; a person not yet in the decision cache is
// not answered as unknown; when it is back everything answers again without a restart; the
// watch logs the outage and the recovery as JSON events. With a real PostgreSQL stopped and
// started under load: tests/postgres/outage_test.sh.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "api/readiness.h"
#include "api/server.h"
#include "crypto/key.h"
#include "crypto/master_key.h"
#include "openapi_contract.h"
#include "policy/loader.h"
#include "store/forwarding_store.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::api {
namespace {

namespace fs = std::filesystem;

// Answers every read and write the tests below reach with STORE_UNAVAILABLE while `down`.
class SwitchableStore : public store::ForwardingStore {
 public:
  explicit SwitchableStore(store::Store& base) : ForwardingStore(base) {}
  std::atomic<bool> down{false};
  std::atomic<bool> writes_down{false};  // reads still answer (a full disk, a read-only replica)

  Result<store::AppliedIds> Apply(const store::WriteBatch& batch) override {
    if (down || writes_down) return Away();
    return ForwardingStore::Apply(batch);
  }
  Result<std::vector<store::AppliedIds>> ApplyGroup(
      const std::vector<const store::WriteBatch*>& batches) override {
    if (down || writes_down) return Away();
    return ForwardingStore::ApplyGroup(batches);
  }
  Result<std::optional<store::SubjectRow>> GetSubject(const std::string& controller,
                                                      const std::string& subject_id) override {
    if (down) return Away();
    return ForwardingStore::GetSubject(controller, subject_id);
  }
  Result<std::optional<store::AuditRow>> LastAudit() override {
    if (down) return Away();
    return ForwardingStore::LastAudit();
  }

 private:
  static Status Away() {
    return Status(ErrorCode::kUnavailable, "postgresql: cannot connect: connection refused");
  }
};

class DatabaseOutage : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() /
        ("custos-outage-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    log_file_ = std::tmpfile();
    log_ = std::make_unique<JsonLog>(log_file_);
    auto sqlite = store::OpenSqliteStore({dir_.string(), true});
    ASSERT_TRUE(sqlite.ok()) << sqlite.status().ToString();
    sqlite_ = std::move(*sqlite);
    store_ = std::make_unique<SwitchableStore>(*sqlite_);
    // People written by one engine; the server's engine starts with an empty decision cache, as
    // `custos serve` does.
    {
      engine::Engine writer(Policy(), "wig", *store_, master_, clock_);
      ASSERT_TRUE(writer.Open("policy text").ok());
      for (const char* id : {"s1", "s2"}) {
        ASSERT_TRUE(writer.AddSubject({id, {"non_member"}, {}, clock_.Now(), "t"}).ok());
      }
    }
    engine_ = std::make_unique<engine::Engine>(Policy(), "wig", *store_, master_, clock_);
    ASSERT_TRUE(engine_->Open("policy text").ok());
    tokens_ = std::make_unique<TokenStore>((dir_ / "tokens.jsonl").string());
    ASSERT_TRUE(tokens_->Load().ok());
    Principal admin;
    admin.role = Role::kAdmin;
    admin_ = *tokens_->Create(admin, "test", "2026-01-01");
    api_ = std::make_unique<Api>(*engine_, *store_, *tokens_, *log_, ApiOptions{}, &clock_);
  }
  void TearDown() override {
    api_.reset();
    engine_.reset();
    store_.reset();
    sqlite_.reset();
    std::fclose(log_file_);
    fs::remove_all(dir_);
  }
  static policy::Policy Policy() {
    auto policy = policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml");
    EXPECT_TRUE(policy.ok()) << policy.status().ToString();
    return std::move(*policy);
  }
  HttpResponse Call(const std::string& method, const std::string& path, const std::string& body,
                    bool with_token = true) {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.body = body;
    request.content_type = body.empty() ? "" : "application/json";
    request.client_address = "127.0.0.1";
    if (with_token) request.authorization = "Bearer " + admin_;
    return api_->Handle(request);
  }
  HttpResponse Decide(const std::string& subject) {
    return Call("POST", "/v1/decisions",
                R"({"subject_id":")" + subject +
                    R"(","purpose":"newsletter","categories":["user.contact.email"]})");
  }
  static std::string Header(const HttpResponse& response, const std::string& name) {
    for (const auto& [key, value] : response.headers) {
      if (key == name) return value;
    }
    return "";
  }
  std::string LogText() {
    std::fflush(log_file_);
    std::rewind(log_file_);
    std::string text;
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, log_file_)) > 0) text.append(buffer, n);
    return text;
  }
  // A 503 a client may simply send again: problem+json, STORE_UNAVAILABLE, Retry-After, and no
  // word of the database's own.
  static ::testing::AssertionResult Retryable(const HttpResponse& response) {
    if (response.status != 503) {
      return ::testing::AssertionFailure() << "status " << response.status << ": " << response.body;
    }
    if (response.content_type != "application/problem+json") {
      return ::testing::AssertionFailure() << "content type " << response.content_type;
    }
    if (Header(response, "Retry-After").empty()) {
      return ::testing::AssertionFailure() << "no Retry-After";
    }
    rapidjson::Document doc;
    doc.Parse(response.body.c_str());
    if (doc.HasParseError() || !doc.HasMember("code") ||
        std::string(doc["code"].GetString()) != "STORE_UNAVAILABLE") {
      return ::testing::AssertionFailure() << "body " << response.body;
    }
    if (response.body.find("postgresql") != std::string::npos ||
        response.body.find("refused") != std::string::npos) {
      return ::testing::AssertionFailure() << "database text in " << response.body;
    }
    return ::testing::AssertionSuccess();
  }

  fs::path dir_;
  std::FILE* log_file_ = nullptr;
  std::unique_ptr<JsonLog> log_;
  std::unique_ptr<store::Store> sqlite_;
  std::unique_ptr<SwitchableStore> store_;
  crypto::MasterKey master_ = crypto::MasterKey::FromSecretForTesting(crypto::SecretKey::Random());
  FixedClock clock_{*Timestamp::Parse("2026-02-01")};
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<TokenStore> tokens_;
  std::string admin_;
  std::unique_ptr<Api> api_;
};

TEST_F(DatabaseOutage, DataRequestsAre503WithRetryAfterAndReadinessFailsWhileLivenessHolds) {
  EXPECT_TRUE(Answers(Call("GET", "/readyz", "", false), 200, "readyz"));
  ASSERT_EQ(Decide("s1").status, 200);  // s1 is now cached; s2 is not

  store_->down = true;
  HttpResponse uncached = Decide("s2");
  EXPECT_TRUE(Retryable(uncached)) << "a person not yet read is not 'unknown' while it is away";
  EXPECT_TRUE(Answers(uncached, 503, "decide"));
  // A durable decision about a cached person still needs its audit entry stored: not given.
  EXPECT_TRUE(Retryable(Decide("s1")));
  EXPECT_TRUE(Retryable(
      Call("POST", "/v1/subjects/s1/consents", R"({"target":"newsletter","given":true})")));
  HttpResponse ready = Call("GET", "/readyz", "", false);
  EXPECT_TRUE(Retryable(ready));
  EXPECT_TRUE(Answers(ready, 503, "readyz"));
  EXPECT_TRUE(Answers(Call("GET", "/healthz", "", false), 200, "healthz"));

  store_->down = false;
  EXPECT_TRUE(Answers(Call("GET", "/readyz", "", false), 200, "readyz"));
  EXPECT_EQ(Decide("s2").status, 200);
  EXPECT_EQ(Decide("s1").status, 200);
}

TEST_F(DatabaseOutage, AFailedReadOfAPersonIsNotKeptInTheDecisionCache) {
  store_->down = true;
  EXPECT_EQ(Decide("s2").status, 503);
  EXPECT_FALSE(engine_->IsCachedForTesting("s2"));
  store_->down = false;
  HttpResponse answered = Decide("s2");
  ASSERT_EQ(answered.status, 200) << answered.body;
  EXPECT_TRUE(engine_->IsCachedForTesting("s2"));
}

TEST_F(DatabaseOutage, TheWatchLogsTheOutageAndTheRecoveryOnceEachAsJson) {
  DatabaseWatch watch(*store_, *log_, std::chrono::milliseconds(5));
  auto wait_for = [&](const std::string& event) {
    for (int i = 0; i < 400; ++i) {
      if (LogText().find(event) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  };
  store_->down = true;
  ASSERT_TRUE(wait_for("\"database_unavailable\""));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // several more failed passes
  store_->down = false;
  ASSERT_TRUE(wait_for("\"database_available\""));
  watch.Stop();
  std::string text = LogText();
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
      ++n;
    }
    return n;
  };
  EXPECT_EQ(count("\"database_unavailable\""), 1u) << text;
  EXPECT_EQ(count("\"database_available\""), 1u) << text;
  EXPECT_NE(text.find("\"code\":\"STORE_UNAVAILABLE\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"outage_ms\":"), std::string::npos) << text;
  // Every line is one JSON object.
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end - start);
    rapidjson::Document doc;
    doc.Parse(line.c_str());
    EXPECT_FALSE(doc.HasParseError()) << line;
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

// The database still answers reads but the audit log cannot store its entries (a full disk):
// the server is not ready until a flush succeeds again, though its probe read works.
TEST_F(DatabaseOutage, ReadinessFailsWhileTheAuditLogCannotStoreItsEntries) {
  EXPECT_TRUE(Answers(Call("GET", "/readyz", "", false), 200, "readyz"));
  store_->writes_down = true;
  Decide("s1");  // its audit entry cannot be stored: it stays buffered
  EXPECT_FALSE(engine_->Flush().ok());
  EXPECT_TRUE(CheckReadiness(*store_).ok());  // the database alone answers
  Status audit = CheckReadiness(*store_, &engine_->audit());
  EXPECT_EQ(audit.code(), ErrorCode::kUnavailable);
  EXPECT_NE(audit.message().find("audit log"), std::string::npos) << audit.message();
  HttpResponse ready = Call("GET", "/readyz", "", false);
  EXPECT_TRUE(Answers(ready, 503, "readyz"));
  store_->writes_down = false;
  ASSERT_TRUE(engine_->Flush().ok());
  EXPECT_EQ(engine_->audit().buffered(), 0u);
  EXPECT_TRUE(Answers(Call("GET", "/readyz", "", false), 200, "readyz"));
}

}  // namespace
}  // namespace custos::api
