// The HTTP adapter in-process (Api::Handle, no sockets): the route table against the OpenAPI
// document, every route with every role against one table, problem+json for client mistakes,
// no personal values in error bodies or logs, security headers, rate limits, the test clock.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "api/auth.h"
#include "api/server.h"
#include "crypto/key.h"
#include "crypto/master_key.h"
#include "policy/loader.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::api {
namespace {

namespace fs = std::filesystem;

Timestamp T(const char* text) { return *Timestamp::Parse(text); }

Principal Scope(Role role, std::vector<std::string> purposes = {}, std::string controller = {},
                std::vector<std::string> categories = {}, std::string subject = {}) {
  Principal p;
  p.role = role;
  p.purposes = std::move(purposes);
  p.controller = std::move(controller);
  p.categories = std::move(categories);
  p.subject_id = std::move(subject);
  return p;
}

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("custos-api-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    log_file_ = std::tmpfile();
    log_ = std::make_unique<JsonLog>(log_file_);
    auto store = store::OpenSqliteStore({dir_.string(), true});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto policy = policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml");
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();
    engine_ = std::make_unique<engine::Engine>(std::move(*policy), "wig", *store_, master_, clock_);
    ASSERT_TRUE(engine_->Open("policy text").ok());
    ASSERT_TRUE(engine_->AddSubject({"s1", {"non_member"}, {}, T("2026-01-01"), "t"}).ok());
    ASSERT_TRUE(engine_->AddSubject({"s2", {"non_member"}, {}, T("2026-01-01"), "t"}).ok());
    tokens_ = std::make_unique<TokenStore>((dir_ / "tokens.jsonl").string());
    ASSERT_TRUE(tokens_->Load().ok());
    token_[Role::kAdmin] = NewToken(Scope(Role::kAdmin));
    token_[Role::kDpo] = NewToken(Scope(Role::kDpo));
    token_[Role::kStaff] = NewToken(Scope(Role::kStaff, {"newsletter"}));
    token_[Role::kProcessor] = NewToken(Scope(Role::kProcessor, {}, "wig", {"user.contact"}));
    token_[Role::kSubject] = NewToken(Scope(Role::kSubject, {}, "", {}, "s1"));
    MakeApi({});
  }
  void TearDown() override {
    api_.reset();
    engine_.reset();
    store_.reset();
    std::fclose(log_file_);
    fs::remove_all(dir_);
  }

  std::string NewToken(const Principal& scope) {
    auto token = tokens_->Create(scope, "test", "2026-01-01");
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    return token.ok() ? *token : "";
  }
  void MakeApi(ApiOptions options) {
    api_ = std::make_unique<Api>(*engine_, *store_, *tokens_, *log_, options, &clock_);
  }
  HttpResponse Call(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& token,
                    std::vector<std::pair<std::string, std::string>> query = {}) {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.query = std::move(query);
    request.body = body;
    request.content_type = body.empty() ? "" : "application/json";
    request.client_address = "127.0.0.1";
    if (!token.empty()) request.authorization = "Bearer " + token;
    return api_->Handle(request);
  }
  std::string Logs() {
    std::fflush(log_file_);
    std::rewind(log_file_);
    std::string out;
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, log_file_)) > 0) out.append(buffer, n);
    return out;
  }

  fs::path dir_;
  std::FILE* log_file_ = nullptr;
  std::unique_ptr<JsonLog> log_;
  crypto::MasterKey master_ = crypto::MasterKey::FromSecretForTesting(crypto::SecretKey::Random());
  FixedClock clock_{T("2026-02-01")};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<TokenStore> tokens_;
  std::map<Role, std::string> token_;
  std::unique_ptr<Api> api_;
};

std::string Header(const HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "";
}

TEST_F(ApiTest, RoutesAreExactlyThoseOfTheOpenApiDocument) {
  // issue 4.2: "A test checks that the routes the server registers and the routes the document
  // lists are the same set." The roles the document states must be the server's too.
  ApiOptions options;
  options.test_clock = true;
  MakeApi(options);
  rapidjson::Document parsed;
  std::string text(OpenApiDocument());
  parsed.Parse(text.c_str());
  const rapidjson::Value& doc = parsed;  // const iterators: unambiguous operator!= in C++20
  ASSERT_FALSE(parsed.HasParseError());
  EXPECT_STREQ(doc["openapi"].GetString(), "3.1.0");
  std::set<std::string> documented, served;
  for (const auto& path : doc["paths"].GetObject()) {
    for (const auto& op : path.value.GetObject()) {
      std::string method = op.name.GetString();
      for (char& c : method) c = static_cast<char>(std::toupper(c));
      std::string roles;
      for (const auto& role : op.value["x-custos-roles"].GetArray()) {
        roles += std::string(role.GetString()) + ",";
      }
      documented.insert(method + " " + path.name.GetString() + " " +
                        op.value["operationId"].GetString() + " [" + roles + "]");
    }
  }
  for (const auto& route : api_->Routes()) {
    std::string roles;
    for (Role role : route.roles) roles += std::string(RoleName(role)) + ",";
    served.insert(route.method + " " + route.pattern + " " + route.operation + " [" + roles + "]");
  }
  EXPECT_EQ(documented, served);
}

TEST_F(ApiTest, OpenApiDocumentIsServed) {
  HttpResponse response = Call("GET", "/v1/openapi.json", "", "");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, std::string(OpenApiDocument()));
}

// A request that is valid and within every scoped token's scope, for each operation.
struct Sample {
  std::string path, body;
};
std::map<std::string, Sample> Samples() {
  return {
      {"healthz", {"/healthz", ""}},
      {"ping", {"/ping", ""}},
      {"metrics", {"/metrics", ""}},
      {"openapi", {"/v1/openapi.json", ""}},
      {"getNotice", {"/v1/notice", ""}},
      {"getPolicy", {"/v1/policy", ""}},
      {"getRopa", {"/v1/ropa", ""}},
      {"createSubject", {"/v1/subjects", R"({"types":["non_member"]})"}},
      {"getSubject", {"/v1/subjects/s1", ""}},
      {"addIdentifier",
       {"/v1/subjects/s1/identifiers", R"({"kind":"email","value":"x1@example.test"})"}},
      {"lookupIdentifier",
       {"/v1/identifiers/lookup", R"({"kind":"email","value":"x1@example.test"})"}},
      {"addEvent", {"/v1/subjects/s1/events", R"({"event":"last_activity"})"}},
      {"putRecord",
       {"/v1/subjects/s1/records",
        R"({"category":"user.contact.email","value":"x2@example.test","source":"direct","purpose":"newsletter"})"}},
      {"listRecords", {"/v1/subjects/s1/records", ""}},
      {"changeConsent", {"/v1/subjects/s1/consents", R"({"target":"newsletter","given":true})"}},
      {"exportConsents", {"/v1/subjects/s1/consents", ""}},
      {"setPreference", {"/v1/subjects/s1/preferences/email", R"({"allowed":true})"}},
      {"object", {"/v1/subjects/s1/objections", R"({"purpose":"newsletter"})"}},
      {"liftObjection", {"/v1/subjects/s1/objections/newsletter", ""}},
      {"restrict", {"/v1/subjects/s1/restrictions", R"({"reason":"accuracy_contested"})"}},
      {"liftRestriction", {"/v1/subjects/s1/restrictions/1", ""}},
      {"suppress", {"/v1/suppressions", R"({"kind":"email","value":"x3@example.test"})"}},
      {"decide",
       {"/v1/decisions",
        R"({"subject_id":"s1","purpose":"newsletter","categories":["user.contact.email"]})"}},
      {"planRetention", {"/v1/retention/plan", ""}},
      {"runRetention", {"/v1/retention/runs", ""}},
      {"listLegalHolds", {"/v1/legal-holds", ""}},
      {"placeLegalHold", {"/v1/legal-holds", R"({"subject_id":"s2","reason":"litigation"})"}},
      {"releaseLegalHold", {"/v1/legal-holds/1/release", ""}},
      {"listReviewTasks", {"/v1/review-tasks", ""}},
      {"completeReviewTask", {"/v1/review-tasks/1/done", ""}},
      {"aggregate", {"/v1/aggregates/user.contact.email", ""}},
      {"verifyAudit", {"/v1/audit/verify", ""}},
      {"setTestClock", {"/v1/test/clock", R"({"now":"2026-02-01"})"}},
  };
}

TEST_F(ApiTest, EveryRouteWithEveryRoleFollowsTheRoleTable) {
  // issue 4.3: "A test calls every route with every role and checks allow or deny against one
  // table." Columns: admin, dpo, staff, processor, subject ('-' = no token needed).
  const std::map<std::string, std::string> kTable = {
      {"healthz", "-"},
      {"ping", "-"},
      {"openapi", "-"},
      {"getNotice", "-"},
      {"metrics", "A...."},
      {"getPolicy", "AD..."},
      {"getRopa", "AD..."},
      {"createSubject", "ADS.."},
      {"getSubject", "ADS.U"},
      {"addIdentifier", "ADS.U"},
      {"lookupIdentifier", "ADS.."},
      {"addEvent", "ADS.."},
      {"putRecord", "ADSP."},
      {"listRecords", "ADSPU"},
      {"changeConsent", "ADS.U"},
      {"exportConsents", "AD..U"},
      {"setPreference", "ADS.U"},
      {"object", "ADS.U"},
      {"liftObjection", "AD..U"},
      {"restrict", "AD..U"},
      {"liftRestriction", "AD..."},
      {"suppress", "AD..."},
      {"decide", "ADSP."},
      {"planRetention", "AD..."},
      {"runRetention", "AD..."},
      {"listLegalHolds", "AD..."},
      {"placeLegalHold", "AD..."},
      {"releaseLegalHold", "AD..."},
      {"listReviewTasks", "AD..."},
      {"completeReviewTask", "AD..."},
      {"aggregate", "AD..."},
      {"verifyAudit", "AD..."},
      {"setTestClock", "A...."},
  };
  ApiOptions options;
  options.test_clock = true;
  MakeApi(options);
  auto samples = Samples();
  auto routes = api_->Routes();
  ASSERT_EQ(routes.size(), kTable.size());
  for (const auto& route : routes) {
    ASSERT_TRUE(kTable.count(route.operation)) << route.operation << " is not in the table";
    ASSERT_TRUE(samples.count(route.operation)) << route.operation << " has no sample";
    const std::string& allowed = kTable.at(route.operation);
    const Sample& sample = samples.at(route.operation);
    std::vector<std::pair<std::string, std::string>> query = {{"purpose", "newsletter"}};
    if (allowed == "-") {
      HttpResponse response = Call(route.method, sample.path, sample.body, "", query);
      EXPECT_LT(response.status, 400) << route.operation << ": " << response.body;
      continue;
    }
    HttpResponse anonymous = Call(route.method, sample.path, sample.body, "", query);
    EXPECT_EQ(anonymous.status, 401) << route.operation;
    const char kLetters[] = "ADSPU";
    for (size_t r = 0; r < 5; ++r) {
      Role role = kAllRoles[r];
      HttpResponse response = Call(route.method, sample.path, sample.body, token_[role], query);
      bool expect_allow = allowed[r] == kLetters[r];
      if (expect_allow) {
        EXPECT_NE(response.status, 401) << route.operation << " as " << RoleName(role);
        EXPECT_NE(response.status, 403)
            << route.operation << " as " << RoleName(role) << ": " << response.body;
        EXPECT_LT(response.status, 500) << route.operation << ": " << response.body;
      } else {
        EXPECT_EQ(response.status, 403) << route.operation << " as " << RoleName(role);
      }
    }
  }
}

TEST_F(ApiTest, ScopedTokensStayInsideTheirScope) {
  // Staff: their purposes only. Processor: its categories and controller. Subject: themselves.
  std::string decide_other_purpose =
      R"({"subject_id":"s1","purpose":"opportunities","categories":["user.contact.email"]})";
  EXPECT_EQ(Call("POST", "/v1/decisions", decide_other_purpose, token_[Role::kStaff]).status, 403);
  std::string decide_other_category =
      R"({"subject_id":"s1","purpose":"newsletter","categories":["user.name"]})";
  EXPECT_EQ(Call("POST", "/v1/decisions", decide_other_category, token_[Role::kProcessor]).status,
            403);
  EXPECT_EQ(Call("GET", "/v1/subjects/s2", "", token_[Role::kSubject]).status, 403);
  EXPECT_EQ(
      Call("GET", "/v1/subjects/s1", "", token_[Role::kStaff], {{"purpose", "mentoring"}}).status,
      403);
  std::string other = NewToken(Scope(Role::kProcessor, {}, "another_controller", {"user"}));
  EXPECT_EQ(Call("POST", "/v1/decisions", decide_other_category, other).status, 403);
  EXPECT_EQ(
      Call("GET", "/v1/subjects/s1", "", "cst_0000000000000000_" + std::string(64, '0')).status,
      401);
}

TEST_F(ApiTest, ClientMistakesAreProblemJson4xxWithoutPersonalValues) {
  // issue 4.4: malformed JSON, wrong types, unknown fields, oversized bodies, unknown ids: 4xx,
  // never 5xx; no personal value in an error body or a log line.
  ApiOptions options;
  options.request_log = ApiOptions::RequestLog::kAll;
  MakeApi(options);
  const std::string secret = "secret.person.42@example.test";
  const std::string& admin = token_[Role::kAdmin];
  struct Case {
    std::string method, path, body;
    int status;
    std::string code;
  };
  std::vector<Case> cases = {
      {"POST", "/v1/subjects", "{\"types\":[\"member\"],\"email\":\"" + secret, 400,
       "MALFORMED_JSON"},
      {"POST", "/v1/subjects", "[\"" + secret + "\"]", 400, "WRONG_TYPE"},
      {"POST", "/v1/subjects", "{\"types\":\"" + secret + "\"}", 400, "WRONG_TYPE"},
      {"POST", "/v1/subjects", "{\"types\":[\"member\"],\"emial\":\"" + secret + "\"}", 400,
       "UNKNOWN_FIELD"},
      {"POST", "/v1/subjects", "{\"types\":[\"member\"],\"" + secret + "\":1}", 400,
       "UNKNOWN_FIELD"},
      {"POST", "/v1/subjects", "{\"email\":\"" + secret + "\"}", 400, "MISSING_FIELD"},
      {"POST", "/v1/subjects", "{\"types\":[\"" + secret + "\"],\"email\":\"" + secret + "\"}", 422,
       ""},
      {"POST", "/v1/subjects",
       "{\"types\":[\"member\"],\"email\":\"" + secret + "\",\"at\":\"" + secret + "\"}", 400,
       "INVALID_VALUE"},
      {"POST", "/v1/subjects/nobody/records",
       "{\"category\":\"user.name\",\"value\":\"" + secret +
           "\",\"source\":\"direct\",\"purpose\":\"membership_records\"}",
       404, "UNKNOWN_SUBJECT"},
      {"POST", "/v1/subjects/s1/records",
       "{\"category\":\"user.nonsense\",\"value\":\"" + secret +
           "\",\"source\":\"direct\",\"purpose\":\"membership_records\"}",
       422, ""},
      {"POST", "/v1/identifiers/lookup", "{\"kind\":\"fax\",\"value\":\"" + secret + "\"}", 422,
       ""},
      // A short value is redacted from the detail only: the problem stays well-formed.
      {"POST", "/v1/identifiers/lookup", R"({"kind":"fax","value":"2"})", 422, ""},
      {"GET", "/v1/subjects/nobody", "", 404, "UNKNOWN_SUBJECT"},
      {"DELETE", "/v1/subjects/s1/restrictions/99", "", 422, ""},
      {"POST", "/v1/legal-holds/abc/release", "", 404, ""},
      {"GET", "/v1/nothing-here", "", 404, "NOT_FOUND"},
      {"PATCH", "/v1/subjects", "", 405, "METHOD_NOT_ALLOWED"},
      {"POST", "/v1/decisions", std::string(200, '['), 400, "MALFORMED_JSON"},
      {"POST", "/v1/decisions", std::string(100000, '[') + std::string(100000, ']'), 400,
       "WRONG_TYPE"},
      {"POST", "/v1/subjects/s1/events", R"({"event":"last_activity","event":"x"})", 400,
       "MALFORMED_JSON"},
  };
  for (const auto& c : cases) {
    HttpResponse response = Call(c.method, c.path, c.body, admin);
    EXPECT_EQ(response.status, c.status) << c.method << " " << c.path << " " << response.body;
    EXPECT_EQ(response.content_type, "application/problem+json") << c.path;
    EXPECT_EQ(response.body.find(secret), std::string::npos) << response.body;
    rapidjson::Document problem;
    problem.Parse(response.body.c_str());
    ASSERT_FALSE(problem.HasParseError()) << response.body;
    EXPECT_EQ(std::string(problem["type"].GetString()).rfind("urn:custos:problem:", 0), 0u);
    EXPECT_EQ(problem["status"].GetInt(), c.status);
    if (!c.code.empty()) {
      EXPECT_EQ(problem["code"].GetString(), c.code) << response.body;
    }
  }
  // A body the transport refused for its size; a body that is not JSON.
  HttpRequest big;
  big.method = "POST";
  big.path = "/v1/decisions";
  big.authorization = "Bearer " + admin;
  big.body_too_large = true;
  EXPECT_EQ(api_->Handle(big).status, 413);
  HttpRequest text;
  text.method = "POST";
  text.path = "/v1/subjects";
  text.authorization = "Bearer " + admin;
  text.content_type = "text/plain";
  text.body = secret;
  HttpResponse unsupported = api_->Handle(text);
  EXPECT_EQ(unsupported.status, 415);
  EXPECT_EQ(unsupported.body.find(secret), std::string::npos);
  std::string logs = Logs();
  EXPECT_NE(logs.find("\"status\":400"), std::string::npos);
  EXPECT_EQ(logs.find(secret), std::string::npos) << logs;
  EXPECT_EQ(logs.find("nobody"), std::string::npos) << "paths are not logged";
}

TEST_F(ApiTest, SecurityHeadersOnEveryResponseAndHstsOnlyWithTls) {
  HttpResponse plain = Call("GET", "/ping", "", "");
  EXPECT_EQ(Header(plain, "X-Content-Type-Options"), "nosniff");
  EXPECT_NE(Header(plain, "Content-Security-Policy").find("frame-ancestors 'none'"),
            std::string::npos);
  EXPECT_EQ(Header(plain, "Strict-Transport-Security"), "");
  HttpResponse problem = Call("GET", "/v1/nothing", "", "");
  EXPECT_EQ(Header(problem, "X-Content-Type-Options"), "nosniff");
  ApiOptions options;
  options.tls = true;
  MakeApi(options);
  EXPECT_NE(Header(Call("GET", "/ping", "", ""), "Strict-Transport-Security"), "");
}

TEST_F(ApiTest, RateLimitsPerTokenAndPerAddress) {
  ApiOptions options;
  options.token_rate = 2;
  options.address_rate = 2;
  MakeApi(options);
  int limited = 0;
  for (int i = 0; i < 10; ++i) {
    if (Call("GET", "/v1/policy", "", token_[Role::kAdmin]).status == 429) ++limited;
  }
  EXPECT_GE(limited, 6);
  // Another token has its own bucket.
  EXPECT_EQ(Call("GET", "/v1/policy", "", token_[Role::kDpo]).status, 200);
  limited = 0;
  for (int i = 0; i < 10; ++i) {
    if (Call("GET", "/healthz", "", "").status == 429) ++limited;
  }
  EXPECT_GE(limited, 4);
}

TEST_F(ApiTest, TestClockRouteExistsOnlyWhenEnabled) {
  // issue 4.6: without --test-clock the route does not exist.
  const std::string body = R"({"now":"2031-06-01T00:00:00Z"})";
  EXPECT_EQ(Call("POST", "/v1/test/clock", body, token_[Role::kAdmin]).status, 404);
  EXPECT_EQ(engine_->Now(), T("2026-02-01"));
  ApiOptions options;
  options.test_clock = true;
  MakeApi(options);
  EXPECT_EQ(Call("POST", "/v1/test/clock", body, token_[Role::kAdmin]).status, 200);
  EXPECT_EQ(engine_->Now(), T("2031-06-01"));
}

TEST_F(ApiTest, MetricsAreInPrometheusTextFormat) {
  Call("GET", "/ping", "", "");
  HttpResponse metrics = Call("GET", "/metrics", "", token_[Role::kAdmin]);
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.content_type.rfind("text/plain", 0), 0u);
  EXPECT_NE(metrics.body.find("custos_http_requests_total{route=\"GET /ping\",status=\"200\"} 1"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("# TYPE custos_http_request_duration_seconds histogram"),
            std::string::npos);
  EXPECT_NE(metrics.body.find("custos_write_transactions_total"), std::string::npos);
}

TEST_F(ApiTest, TokensAreStoredHashed) {
  std::ifstream in(dir_ / "tokens.jsonl");
  std::stringstream file;
  file << in.rdbuf();
  ASSERT_FALSE(file.str().empty());
  for (const auto& [role, token] : token_) {
    EXPECT_EQ(file.str().find(token.substr(22)), std::string::npos) << RoleName(role);
  }
  // A second store reading the same file authenticates the same tokens.
  TokenStore again((dir_ / "tokens.jsonl").string());
  ASSERT_TRUE(again.Load().ok());
  auto who = again.Authenticate("Bearer " + token_[Role::kStaff]);
  ASSERT_TRUE(who.has_value());
  EXPECT_EQ(who->role, Role::kStaff);
  EXPECT_EQ(who->purposes, std::vector<std::string>{"newsletter"});
  EXPECT_FALSE(again.Authenticate("Bearer " + token_[Role::kStaff] + "0").has_value());
}

}  // namespace
}  // namespace custos::api
