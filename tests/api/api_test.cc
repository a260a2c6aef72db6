// The HTTP adapter in-process (Api::Handle, no sockets): the route table against the OpenAPI
// document and answers against its schemas, every route with every role against one table,
// problem+json for client mistakes, no personal values in error bodies or logs, security
// headers, rate limits, the test clock.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "api/auth.h"
#include "api/catch_up_schedule.h"
#include "api/server.h"
#include "crypto/key.h"
#include "crypto/master_key.h"
#include "openapi_contract.h"
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
  // The one-time code last sent for `request_id`, read from the outbox as the person reads it
  // from their mail.
  std::string LastCode(const std::string& request_id) {
    auto messages = store_->ListOutbox("wig", request_id);
    EXPECT_TRUE(messages.ok() && !messages->empty());
    if (!messages.ok() || messages->empty()) return "";
    auto payload = engine_->ReadOutboxMessage(messages->back().outbox_id, "test");
    EXPECT_TRUE(payload.ok()) << payload.status().ToString();
    if (!payload.ok()) return "";
    rapidjson::Document doc;
    doc.Parse(payload->c_str());
    return doc.HasMember("code") ? doc["code"].GetString() : "";
  }
  std::string OpenByPerson(const std::string& type, const std::string& email) {
    HttpResponse opened = Call("POST", "/v1/requests",
                               R"({"type":")" + type + R"(","email":")" + email + R"("})", "");
    EXPECT_EQ(opened.status, 202) << opened.body;
    return JsonString(opened.body, "request_id");
  }
  struct Verified {
    std::string id, secret;
  };
  // A request the person opened and verified with the code; `secret` follows it.
  Verified OpenVerified(const std::string& type, const std::string& email) {
    std::string id = OpenByPerson(type, email);
    HttpResponse verified = Call("POST", "/v1/requests/" + id + "/verification",
                                 R"({"code":")" + LastCode(id) + R"("})", "");
    EXPECT_EQ(verified.status, 200) << verified.body;
    return {id, JsonString(verified.body, "requester_secret")};
  }
  // A request staff opened for s1 (identity checked unless `verified_by` is empty).
  std::string OpenByStaff(const std::string& type, const std::string& verified_by,
                          const std::string& subject = "s1") {
    std::string body = R"({"type":")" + type + "\"" +
                       (verified_by.empty() ? "" : R"(,"verified_by":")" + verified_by + "\"") +
                       "}";
    HttpResponse opened =
        Call("POST", "/v1/subjects/" + subject + "/requests", body, token_[Role::kAdmin]);
    EXPECT_EQ(opened.status, 201) << opened.body;
    return JsonString(opened.body, "request_id");
  }
  // The operation a method and path reach; empty when no route takes them.
  std::string OperationOf(const std::string& method, const std::string& path) {
    auto segments = [](const std::string& text) {
      std::vector<std::string> out;
      std::stringstream in(text.substr(1));
      for (std::string part; std::getline(in, part, '/');) out.push_back(part);
      if (!text.empty() && text.back() == '/') out.emplace_back();
      return out;
    };
    std::vector<std::string> parts = segments(path);
    for (const auto& route : api_->Routes()) {
      std::vector<std::string> pattern = segments(route.pattern);
      if (route.method != method || pattern.size() != parts.size()) continue;
      bool match = true;
      for (size_t i = 0; i < parts.size() && match; ++i) {
        match = pattern[i].front() == '{' ? !parts[i].empty() : pattern[i] == parts[i];
      }
      if (match) return route.operation;
    }
    return "";
  }
  // A problem the document promises for what the call reached (any problem when nothing).
  ::testing::AssertionResult DocumentedProblem(const std::string& method, const std::string& path,
                                               const HttpResponse& response) {
    std::string operation = OperationOf(method, path);
    if (response.content_type != "application/problem+json") {
      return ::testing::AssertionFailure() << "not problem+json: " << response.body;
    }
    return operation.empty() ? ServedContract().CheckProblem(response)
                             : ServedContract().Check(operation, response);
  }
  static std::string JsonString(const std::string& json, const char* key) {
    rapidjson::Document doc;
    doc.Parse(json.c_str());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember(key) || !doc[key].IsString()) {
      return "";
    }
    return doc[key].GetString();
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
    if (route.requester) roles += "requester,";
    served.insert(route.method + " " + route.pattern + " " + route.operation + " [" + roles + "]");
  }
  EXPECT_EQ(documented, served);
}

TEST_F(ApiTest, OpenApiDocumentIsServed) {
  HttpResponse response = Call("GET", "/v1/openapi.json", "", "");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, std::string(OpenApiDocument()));
}

TEST_F(ApiTest, ContractCheckRefusesWhatTheDocumentDoesNotPromise) {
  // The check the tests here rely on bites: a status the operation does not list, a
  // missing required field, a wrong type, a member the schema does not declare, a time that is
  // not ISO-8601, a content type not listed, a problem whose status is not the response's.
  auto response = [](int status, std::string body, std::string type = "application/json") {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.content_type = std::move(type);
    return r;
  };
  EXPECT_TRUE(Answers(response(200, R"({"status":"ok","controller":"wig"})"), 200, "healthz"));
  EXPECT_FALSE(Answers(response(201, R"({"status":"ok","controller":"wig"})"), 201, "healthz"));
  EXPECT_FALSE(Answers(response(200, R"({"status":"ok"})"), 200, "healthz"));
  EXPECT_FALSE(Answers(response(200, R"({"status":"ok","controller":7})"), 200, "healthz"));
  EXPECT_FALSE(
      Answers(response(200, R"({"status":"ok","controller":"wig","x":1})"), 200, "healthz"));
  EXPECT_FALSE(Answers(response(200, "ok", "text/plain"), 200, "healthz"));
  EXPECT_TRUE(Answers(response(200, R"({"now":"2026-02-01T10:00:00Z"})"), 200, "setTestClock"));
  EXPECT_FALSE(Answers(response(200, R"({"now":"1 February 2026"})"), 200, "setTestClock"));
  const std::string problem =
      R"({"type":"urn:custos:problem:unknown-subject","title":"Not found","status":404,)"
      R"("code":"UNKNOWN_SUBJECT"})";
  EXPECT_TRUE(Answers(response(404, problem, "application/problem+json"), 404, "getSubject"));
  EXPECT_FALSE(Answers(response(422, problem, "application/problem+json"), 422, "getSubject"));
  EXPECT_FALSE(Answers(response(404, problem), 404, "getSubject")) << "problem+json only";
  EXPECT_FALSE(ServedContract().CheckProblem(
      response(404, R"({"type":"about:blank","title":"x","status":404,"code":"X"})",
               "application/problem+json")))
      << "custos problem types are urn:custos:problem:...";
}

// A request that is valid and within every scoped token's scope, for each operation.
// `secret`: the requester secret that opens the request in the path (requester routes).
struct Sample {
  Sample(std::string p, std::string b, std::string s = {})
      : path(std::move(p)), body(std::move(b)), secret(std::move(s)) {}
  std::string path, body, secret;
};
// The requests the samples act on, opened by the role test.
struct SampleRequests {
  std::string verify_id, verify_code, resend_id;
  std::string follow_id, follow_secret, done_id, done_secret, withdraw_id, withdraw_secret;
  std::string identity_id, waiting_id, refuse_id, fulfil_id;
};
std::map<std::string, Sample> Samples(const SampleRequests& r) {
  const std::string q = "/v1/requests/";
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
      {"openRequest", {"/v1/requests", R"({"type":"access","email":"x4@example.test"})"}},
      {"verifyRequest",
       {q + r.verify_id + "/verification", R"({"code":")" + r.verify_code + R"("})"}},
      {"resendRequestCode", {q + r.resend_id + "/code", ""}},
      {"getRequestStatus", {q + r.follow_id + "/status", "", r.follow_secret}},
      {"getRequestDocument", {q + r.done_id + "/document", "", r.done_secret}},
      {"listRequestRecipients", {q + r.done_id + "/recipients", "", r.done_secret}},
      {"withdrawRequest", {q + r.withdraw_id + "/withdrawal", "", r.withdraw_secret}},
      {"openStaffRequest",
       {"/v1/subjects/s1/requests", R"({"type":"access","verified_by":"passport_seen"})"}},
      {"listRequests", {"/v1/requests", ""}},
      {"purgeRequests", {"/v1/requests/purge", ""}},
      {"getRequest", {q + r.done_id, ""}},
      {"verifyRequestIdentity", {q + r.identity_id + "/identity", R"({"method":"passport_seen"})"}},
      {"awaitRequester", {q + r.waiting_id + "/wait", R"({"for":"clarification"})"}},
      {"requesterAnswered", {q + r.waiting_id + "/answer", ""}},
      {"extendRequest", {q + r.fulfil_id + "/extension", R"({"reason":"complex"})"}},
      {"refuseRequest", {q + r.refuse_id + "/refusal", R"({"reason":"manifestly_unfounded"})"}},
      {"fulfilRequest", {q + r.fulfil_id + "/fulfilment", ""}},
      {"setEndpoint",
       {"/v1/endpoints/third_party_platforms",
        R"({"url":"https://hooks.example.test/custos","secret":"0123456789abcdef"})"}},
      {"listEndpoints", {"/v1/endpoints", ""}},
      {"listOutbox", {"/v1/outbox", ""}},
  };
}

TEST_F(ApiTest, EveryRouteWithEveryRoleFollowsTheRoleTable) {
  // issue 4.3: "A test calls every route with every role and checks allow or deny against one
  // table." Columns: admin, dpo, staff, processor, subject, and R: the requester secret of the
  // request in the path (allowed with that request's secret, denied with another request's).
  // '-' = no token needed.
  const std::map<std::string, std::string> kTable = {
      {"healthz", "-"},
      {"ping", "-"},
      {"openapi", "-"},
      {"getNotice", "-"},
      {"metrics", "A....."},
      {"getPolicy", "AD...."},
      {"getRopa", "AD...."},
      {"createSubject", "ADS..."},
      {"getSubject", "ADS.U."},
      {"addIdentifier", "ADS.U."},
      {"lookupIdentifier", "ADS..."},
      {"addEvent", "ADS..."},
      {"putRecord", "ADSP.."},
      {"listRecords", "ADSPU."},
      {"changeConsent", "ADS.U."},
      {"exportConsents", "AD..U."},
      {"setPreference", "ADS.U."},
      {"object", "ADS.U."},
      {"liftObjection", "AD..U."},
      {"restrict", "AD..U."},
      {"liftRestriction", "AD...."},
      {"suppress", "AD...."},
      {"decide", "ADSP.."},
      {"planRetention", "AD...."},
      {"runRetention", "AD...."},
      {"listLegalHolds", "AD...."},
      {"placeLegalHold", "AD...."},
      {"releaseLegalHold", "AD...."},
      {"listReviewTasks", "AD...."},
      {"completeReviewTask", "AD...."},
      {"aggregate", "AD...."},
      {"verifyAudit", "AD...."},
      {"setTestClock", "A....."},
      // Rights requests: the person (no token, or their requester secret), staff, the DPO.
      {"openRequest", "-"},
      {"verifyRequest", "-"},
      {"resendRequestCode", "-"},
      {"getRequestStatus", ".....R"},
      {"getRequestDocument", "ADS..R"},
      {"listRequestRecipients", "ADS..R"},
      {"withdrawRequest", "ADS..R"},
      {"openStaffRequest", "ADS..."},
      {"listRequests", "ADS..."},
      {"purgeRequests", "AD...."},
      {"getRequest", "ADS..."},
      {"verifyRequestIdentity", "ADS..."},
      {"awaitRequester", "ADS..."},
      {"requesterAnswered", "ADS..."},
      {"extendRequest", "AD...."},
      {"refuseRequest", "AD...."},
      {"fulfilRequest", "ADS..."},
      {"setEndpoint", "AD...."},
      {"listEndpoints", "AD...."},
      {"listOutbox", "AD...."},
  };
  ApiOptions options;
  options.test_clock = true;
  MakeApi(options);
  SampleRequests r;
  r.verify_id = OpenByPerson("access", "x5@example.test");
  r.verify_code = LastCode(r.verify_id);
  r.resend_id = OpenByPerson("access", "x6@example.test");
  auto follow = OpenVerified("access", "x7@example.test");
  auto done = OpenVerified("access", "x8@example.test");
  auto withdraw = OpenVerified("erasure", "x9@example.test");
  auto other = OpenVerified("access", "x10@example.test");
  r.follow_id = follow.id;
  r.follow_secret = follow.secret;
  r.done_id = done.id;
  r.done_secret = done.secret;
  r.withdraw_id = withdraw.id;
  r.withdraw_secret = withdraw.secret;
  ASSERT_EQ(
      Call("POST", "/v1/requests/" + done.id + "/fulfilment", "", token_[Role::kAdmin]).status,
      200);
  r.identity_id = OpenByStaff("access", "");
  r.waiting_id = OpenByStaff("access", "passport_seen");
  r.refuse_id = OpenByStaff("access", "passport_seen");
  r.fulfil_id = OpenByStaff("access", "passport_seen");
  ASSERT_FALSE(other.secret.empty());

  auto samples = Samples(r);
  auto routes = api_->Routes();
  ASSERT_EQ(routes.size(), kTable.size());
  for (const auto& route : routes) {
    ASSERT_TRUE(kTable.count(route.operation)) << route.operation << " is not in the table";
    ASSERT_TRUE(samples.count(route.operation)) << route.operation << " has no sample";
    const std::string& allowed = kTable.at(route.operation);
    const Sample& sample = samples.at(route.operation);
    std::vector<std::pair<std::string, std::string>> query = {{"purpose", "newsletter"}};
    if (allowed == "-") {
      ASSERT_FALSE(route.requester) << route.operation;
      HttpResponse response = Call(route.method, sample.path, sample.body, "", query);
      EXPECT_LT(response.status, 400) << route.operation << ": " << response.body;
      continue;
    }
    ASSERT_EQ(allowed.size(), 6u) << route.operation;
    HttpResponse anonymous = Call(route.method, sample.path, sample.body, "", query);
    EXPECT_EQ(anonymous.status, 401) << route.operation;
    const char kLetters[] = "ADSPU";
    for (size_t i = 0; i < 5; ++i) {
      Role role = kAllRoles[i];
      HttpResponse response = Call(route.method, sample.path, sample.body, token_[role], query);
      bool expect_allow = allowed[i] == kLetters[i];
      if (expect_allow) {
        EXPECT_NE(response.status, 401) << route.operation << " as " << RoleName(role);
        EXPECT_NE(response.status, 403)
            << route.operation << " as " << RoleName(role) << ": " << response.body;
        EXPECT_LT(response.status, 500) << route.operation << ": " << response.body;
      } else {
        EXPECT_EQ(response.status, 403) << route.operation << " as " << RoleName(role);
      }
    }
    // The requester: another request's secret never opens this one; the right one does where
    // the table says so.
    EXPECT_EQ(route.requester, allowed[5] == 'R') << route.operation;
    HttpResponse stranger = Call(route.method, sample.path, sample.body, other.secret, query);
    EXPECT_TRUE(stranger.status == 401 || stranger.status == 403)
        << route.operation << " with another request's secret: " << stranger.status;
    if (allowed[5] == 'R') {
      EXPECT_EQ(stranger.status, 403) << route.operation;
      HttpResponse response = Call(route.method, sample.path, sample.body, sample.secret, query);
      EXPECT_NE(response.status, 401) << route.operation << " as the requester";
      EXPECT_NE(response.status, 403) << route.operation << " as the requester: " << response.body;
      EXPECT_LT(response.status, 500) << route.operation << ": " << response.body;
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
      {"GET", "/v1/subjects//consents", "", 404, "NOT_FOUND"},  // an empty {id}
      {"GET", "/v1/subjects/s1/consents/a/b/c/d/e/f/g/h/i", "", 404, "NOT_FOUND"},
      {"PATCH", "/v1/subjects", "", 405, "METHOD_NOT_ALLOWED"},
      {"POST", "/v1/decisions", std::string(200, '['), 400, "MALFORMED_JSON"},
      {"POST", "/v1/decisions", std::string(100000, '[') + std::string(100000, ']'), 400,
       "WRONG_TYPE"},
      {"POST", "/v1/subjects/s1/events", R"({"event":"last_activity","event":"x"})", 400,
       "MALFORMED_JSON"},
      // Rights requests: the contact, the code, a corrected value and the note never come back.
      {"POST", "/v1/requests", "{\"type\":\"access\",\"email\":\"" + secret, 400, "MALFORMED_JSON"},
      {"POST", "/v1/requests", "{\"type\":\"access\",\"emial\":\"" + secret + "\"}", 400,
       "UNKNOWN_FIELD"},
      {"POST", "/v1/requests",
       "{\"type\":\"access\",\"email\":\"" + secret + "\",\"phone\":\"" + secret + "\"}", 400,
       "INVALID_VALUE"},
      {"POST", "/v1/requests", "{\"type\":\"" + secret + "\",\"email\":\"" + secret + "\"}", 422,
       "INVALID_ARGUMENT"},
      {"POST", "/v1/requests",
       "{\"type\":\"erasure\",\"email\":\"" + secret + "\",\"categories\":[\"" + secret + "\"]}",
       422, "INVALID_ARGUMENT"},
      {"POST", "/v1/requests",
       "{\"type\":\"rectification\",\"email\":\"a@example.test\",\"rectifications\":[{\"category\":"
       "\"" +
           secret + "\",\"value\":\"" + secret + "\"}]}",
       422, "INVALID_ARGUMENT"},
      {"POST", "/v1/requests",
       "{\"type\":\"rectification\",\"email\":\"a@example.test\",\"rectifications\":[{\"category\":"
       "\"user.name\",\"valeu\":\"" +
           secret + "\"}]}",
       400, "UNKNOWN_FIELD"},
      {"POST", "/v1/requests",
       "{\"type\":\"nonsense\",\"email\":\"a@example.test\",\"note\":\"" + secret + "\"}", 422,
       "INVALID_ARGUMENT"},
      {"POST", "/v1/requests/r_nobody/verification", "{\"code\":\"" + secret + "\"}", 404,
       "UNKNOWN_REQUEST"},
      {"POST", "/v1/subjects/s1/requests",
       "{\"type\":\"rectification\",\"rectifications\":[{\"category\":\"user.nonsense\",\"value\":"
       "\"" +
           secret + "\"}],\"note\":\"" + secret + "\"}",
       422, "INVALID_ARGUMENT"},
      {"POST", "/v1/subjects/nobody/requests", "{\"type\":\"access\",\"note\":\"" + secret + "\"}",
       404, "UNKNOWN_SUBJECT"},
      {"PUT", "/v1/endpoints/third_party_platforms",
       "{\"url\":\"http://example.test/" + secret + "\",\"secret\":\"" + secret + "\"}", 422,
       "INVALID_ARGUMENT"},
  };
  for (const auto& c : cases) {
    HttpResponse response = Call(c.method, c.path, c.body, admin);
    EXPECT_EQ(response.status, c.status) << c.method << " " << c.path << " " << response.body;
    EXPECT_TRUE(DocumentedProblem(c.method, c.path, response)) << c.method << " " << c.path;
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
  HttpResponse too_large = api_->Handle(big);
  EXPECT_EQ(too_large.status, 413);
  EXPECT_TRUE(DocumentedProblem("POST", "/v1/decisions", too_large));
  HttpRequest text;
  text.method = "POST";
  text.path = "/v1/subjects";
  text.authorization = "Bearer " + admin;
  text.content_type = "text/plain";
  text.body = secret;
  HttpResponse unsupported = api_->Handle(text);
  EXPECT_EQ(unsupported.status, 415);
  EXPECT_TRUE(DocumentedProblem("POST", "/v1/subjects", unsupported));
  EXPECT_EQ(unsupported.body.find(secret), std::string::npos);
  std::string logs = Logs();
  EXPECT_NE(logs.find("\"status\":400"), std::string::npos);
  EXPECT_EQ(logs.find(secret), std::string::npos) << logs;
  EXPECT_EQ(logs.find("nobody"), std::string::npos) << "paths are not logged";
}

TEST_F(ApiTest, WrongCodesAreRefusedCountedAndLockTheRequest) {
  // A code that does not match is 403 and counted in the history; after five the right code
  // no longer works either, until a new one is sent.
  ApiOptions options;
  options.request_log = ApiOptions::RequestLog::kAll;
  MakeApi(options);
  std::string id = OpenByPerson("access", "locked.person@example.test");
  std::string code = LastCode(id);
  ASSERT_EQ(code.size(), 8u);
  std::string wrong = code == "00000000" ? "11111111" : "00000000";
  const std::string path = "/v1/requests/" + id + "/verification";
  for (int i = 0; i < 5; ++i) {
    HttpResponse refused = Call("POST", path, R"({"code":")" + wrong + R"("})", "");
    EXPECT_TRUE(Answers(refused, 403, "verifyRequest"));
    EXPECT_EQ(JsonString(refused.body, "code"), "VERIFICATION_FAILED");
    EXPECT_EQ(refused.body.find(wrong), std::string::npos);
  }
  HttpResponse locked = Call("POST", path, R"({"code":")" + code + R"("})", "");
  EXPECT_EQ(locked.status, 403) << locked.body;
  HttpResponse view = Call("GET", "/v1/requests/" + id, "", token_[Role::kDpo]);
  ASSERT_EQ(view.status, 200) << view.body;
  size_t rejected = 0;
  for (size_t at = view.body.find("code_rejected"); at != std::string::npos;
       at = view.body.find("code_rejected", at + 1)) {
    ++rejected;
  }
  EXPECT_EQ(rejected, 6u);
  EXPECT_EQ(JsonString(view.body, "state"), "verifying_identity");
  // A new code (the old one stops working) opens it.
  HttpResponse resent = Call("POST", "/v1/requests/" + id + "/code", "", "");
  EXPECT_EQ(resent.status, 202) << resent.body;
  std::string fresh = LastCode(id);
  EXPECT_EQ(resent.body.find(fresh), std::string::npos) << "the code goes to the contact only";
  HttpResponse verified = Call("POST", path, R"({"code":")" + fresh + R"("})", "");
  EXPECT_EQ(verified.status, 200) << verified.body;
  EXPECT_EQ(JsonString(verified.body, "state"), "in_progress");
  EXPECT_EQ(JsonString(verified.body, "requester_secret").rfind("rq_" + id + "_", 0), 0u);
  // Once verified, codes are done with.
  EXPECT_EQ(Call("POST", path, R"({"code":")" + fresh + R"("})", "").status, 409);
  std::string logs = Logs();
  EXPECT_EQ(logs.find(code), std::string::npos);
  EXPECT_EQ(logs.find(fresh), std::string::npos);
  EXPECT_EQ(logs.find("locked.person"), std::string::npos);
}

TEST_F(ApiTest, SelfServiceAccessRequestFromIntakeToDownload) {
  // The person opens an access request without a token, proves their email with the code the
  // outbox holds for them, staff fulfil it, and the person downloads their copy.
  const std::string email = "jo.person@example.test";
  ASSERT_TRUE(
      engine_->AddSubject({"p1", {"non_member"}, {{"email", email, true}}, T("2026-01-01"), "t"})
          .ok());
  ASSERT_TRUE(engine_
                  ->PutRecord({"p1", "user.name", "Jo Sample-Person", "direct", "newsletter",
                               T("2026-01-02"), "t"})
                  .ok());
  HttpResponse opened =
      Call("POST", "/v1/requests", R"({"type":"access","email":")" + email + R"("})", "");
  ASSERT_TRUE(Answers(opened, 202, "openRequest"));
  std::string id = JsonString(opened.body, "request_id");
  EXPECT_EQ(JsonString(opened.body, "state"), "verifying_identity");
  EXPECT_EQ(Header(opened, "Location"), "/v1/requests/" + id + "/status");
  std::string code = LastCode(id);
  ASSERT_FALSE(code.empty());
  EXPECT_EQ(opened.body.find(code), std::string::npos);

  HttpResponse verified =
      Call("POST", "/v1/requests/" + id + "/verification", R"({"code":")" + code + R"("})", "");
  ASSERT_TRUE(Answers(verified, 200, "verifyRequest"));
  EXPECT_EQ(JsonString(verified.body, "state"), "in_progress");
  // A month from 2026-02-01 is Sunday 2026-03-01: the next working day.
  EXPECT_EQ(JsonString(verified.body, "due_on"), "2026-03-02");
  std::string secret = JsonString(verified.body, "requester_secret");
  ASSERT_FALSE(secret.empty());

  HttpResponse status = Call("GET", "/v1/requests/" + id + "/status", "", secret);
  ASSERT_TRUE(Answers(status, 200, "getRequestStatus"));
  EXPECT_EQ(JsonString(status.body, "state"), "in_progress");
  EXPECT_EQ(JsonString(status.body, "due_on"), "2026-03-02");
  EXPECT_EQ(Call("GET", "/v1/requests/" + id + "/status", "", "").status, 401);
  EXPECT_EQ(Call("GET", "/v1/requests/" + id + "/status", "", secret + "0").status, 403);
  EXPECT_EQ(Call("GET", "/v1/requests/" + id + "/document", "", secret).status, 404)
      << "nothing to download before fulfilment";

  HttpResponse fulfilled =
      Call("POST", "/v1/requests/" + id + "/fulfilment", "", token_[Role::kStaff]);
  ASSERT_TRUE(Answers(fulfilled, 200, "fulfilRequest"));
  EXPECT_EQ(JsonString(fulfilled.body, "state"), "completed");

  HttpResponse html =
      Call("GET", "/v1/requests/" + id + "/document", "", secret, {{"format", "html"}});
  ASSERT_TRUE(Answers(html, 200, "getRequestDocument"));
  EXPECT_EQ(html.content_type.rfind("text/html", 0), 0u);
  EXPECT_NE(html.body.find("Jo Sample-Person"), std::string::npos);
  EXPECT_NE(Header(html, "Content-Security-Policy").find("frame-ancestors 'none'"),
            std::string::npos);
  EXPECT_EQ(Header(html, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(Header(html, "Cache-Control"), "no-store");
  HttpResponse json = Call("GET", "/v1/requests/" + id + "/document", "", secret);
  ASSERT_TRUE(Answers(json, 200, "getRequestDocument"));
  EXPECT_EQ(json.content_type, "application/json");
  EXPECT_NE(json.body.find("Jo Sample-Person"), std::string::npos);
  rapidjson::Document package;
  package.Parse(json.body.c_str());
  EXPECT_FALSE(package.HasParseError());
  EXPECT_EQ(Call("GET", "/v1/requests/" + id + "/document", "", secret, {{"format", "csv"}}).status,
            404)
      << "an access package has no csv";
  EXPECT_EQ(Call("GET", "/v1/requests/" + id + "/document", "", secret, {{"format", "pdf"}}).status,
            400);
  // Staff may download it too (to send it another way); another request's secret may not.
  EXPECT_EQ(Call("GET", "/v1/requests/" + id + "/document", "", token_[Role::kStaff]).status, 200);
  auto stranger = OpenVerified("access", "stranger@example.test");
  EXPECT_EQ(Call("GET", "/v1/requests/" + id + "/document", "", stranger.secret).status, 403);

  HttpResponse done = Call("GET", "/v1/requests/" + id + "/status", "", secret);
  ASSERT_TRUE(Answers(done, 200, "getRequestStatus"));
  EXPECT_EQ(JsonString(done.body, "state"), "completed");
  EXPECT_NE(done.body.find("\"event\":\"completed\""), std::string::npos) << done.body;
  EXPECT_EQ(done.body.find(email), std::string::npos) << "the status holds nothing personal";
  EXPECT_EQ(done.body.find("Jo Sample-Person"), std::string::npos);
  // Withdrawing a completed request is a conflict, not a server error.
  EXPECT_EQ(Call("POST", "/v1/requests/" + id + "/withdrawal", "", secret).status, 409);
}

TEST_F(ApiTest, ErasureOpenedByStaffTellsTheRecipients) {
  // Staff take an erasure request on the person's behalf; erasing is the DPO's; the recipients
  // told (Article 19) are listed, and the outbox shows states without payloads.
  const std::string email = "erase.me@example.test";
  ASSERT_TRUE(
      engine_->AddSubject({"p2", {"non_member"}, {{"email", email, true}}, T("2026-01-01"), "t"})
          .ok());
  ASSERT_TRUE(engine_
                  ->PutRecord({"p2", "user.contact.email", email, "direct", "newsletter",
                               T("2026-01-02"), "t"})
                  .ok());
  HttpResponse opened = Call("POST", "/v1/subjects/p2/requests",
                             R"({"type":"erasure","verified_by":"passport_seen","email":")" +
                                 email + R"(","note":"asked by phone"})",
                             token_[Role::kStaff]);
  ASSERT_TRUE(Answers(opened, 201, "openStaffRequest"));
  std::string id = JsonString(opened.body, "request_id");
  EXPECT_EQ(JsonString(opened.body, "state"), "in_progress");
  EXPECT_EQ(JsonString(opened.body, "due_on"), "2026-03-02");
  const std::string path = "/v1/requests/" + id;
  EXPECT_EQ(Call("POST", path + "/fulfilment", "", token_[Role::kStaff]).status, 403);
  EXPECT_EQ(
      Call("POST", path + "/refusal", R"({"reason":"exemption"})", token_[Role::kStaff]).status,
      403);
  HttpResponse fulfilled = Call("POST", path + "/fulfilment", "", token_[Role::kDpo]);
  ASSERT_TRUE(Answers(fulfilled, 200, "fulfilRequest"));
  EXPECT_EQ(JsonString(fulfilled.body, "state"), "completed");
  EXPECT_NE(fulfilled.body.find("\"action\":\"erased\""), std::string::npos) << fulfilled.body;

  HttpResponse recipients = Call("GET", path + "/recipients", "", token_[Role::kStaff]);
  ASSERT_TRUE(Answers(recipients, 200, "listRequestRecipients"));
  rapidjson::Document doc;
  doc.Parse(recipients.body.c_str());
  ASSERT_TRUE(doc.IsObject() && doc["recipients"].IsArray()) << recipients.body;
  bool told = false;
  for (const auto& r : doc["recipients"].GetArray()) {
    if (std::string(r["recipient"].GetString()) != "third_party_platforms") continue;
    told = true;
    EXPECT_STREQ(r["state"].GetString(), "manual") << "no endpoint: left for a person";
    bool email_category = false;
    for (const auto& c : r["categories"].GetArray()) {
      email_category = email_category || std::string(c.GetString()) == "user.contact.email";
    }
    EXPECT_TRUE(email_category) << recipients.body;
  }
  EXPECT_TRUE(told) << recipients.body;

  HttpResponse outbox = Call("GET", "/v1/outbox", "", token_[Role::kDpo], {{"request_id", id}});
  ASSERT_TRUE(Answers(outbox, 200, "listOutbox"));
  EXPECT_NE(outbox.body.find("recipient_notice"), std::string::npos);
  EXPECT_EQ(outbox.body.find(email), std::string::npos) << "payloads stay sealed";
  EXPECT_EQ(Call("GET", "/v1/outbox", "", token_[Role::kStaff]).status, 403);
  HttpResponse view = Call("GET", path, "", token_[Role::kStaff]);
  ASSERT_TRUE(Answers(view, 200, "getRequest"));
  EXPECT_NE(view.body.find("recipient_notified"), std::string::npos);
  EXPECT_NE(view.body.find("asked by phone"), std::string::npos) << "the full view has the note";
  HttpResponse subject = Call("GET", "/v1/subjects/p2", "", token_[Role::kAdmin]);
  EXPECT_TRUE(Answers(subject, 410, "getSubject")) << "the whole person was erased";
}

TEST_F(ApiTest, RequestStepsAnswerMistakesWithProblemJson) {
  // Every rights-request POST and PUT refuses a malformed body, an unknown field, a wrong type
  // and a missing field with 400, a value the engine refuses with 422, a step the request's
  // state does not allow with 409: problem+json, never 5xx.
  std::string waiting = OpenByStaff("access", "");
  std::string running = OpenByStaff("access", "passport_seen");
  const std::string q = "/v1/requests/";
  const std::string& dpo = token_[Role::kDpo];
  struct Case {
    std::string method, path, body;
    int status;
    std::string code;
  };
  std::vector<Case> cases = {
      {"POST", "/v1/requests", "{", 400, "MALFORMED_JSON"},
      {"POST", "/v1/requests", R"({"email":"a@example.test"})", 400, "MISSING_FIELD"},
      {"POST", "/v1/requests", R"({"type":1,"email":"a@example.test"})", 400, "WRONG_TYPE"},
      {"POST", "/v1/requests", R"({"type":"access"})", 400, "MISSING_FIELD"},
      {"POST", "/v1/requests", R"({"type":"access","email":"a@example.test","at":"2026-01-01"})",
       400, "UNKNOWN_FIELD"},
      {"POST", "/v1/requests", R"({"type":"rectification","email":"a@example.test",
         "rectifications":["user.name"]})",
       400, "WRONG_TYPE"},
      {"POST", "/v1/requests", R"({"type":"rectification","email":"a@example.test",
         "rectifications":[{"category":"user.name"}]})",
       400, "MISSING_FIELD"},
      {"POST", "/v1/requests", R"({"type":"rectification","email":"a@example.test"})", 422,
       "INVALID_ARGUMENT"},
      {"POST", "/v1/requests", R"({"type":"automated_decision_review","email":"a@example.test"})",
       422, "RIGHT_NOT_AVAILABLE"},
      {"POST", "/v1/requests", R"({"type":"access","email":"   "})", 422, "INVALID_ARGUMENT"},
      {"POST", q + waiting + "/verification", R"({"code":12345678})", 400, "WRONG_TYPE"},
      {"POST", q + waiting + "/verification", "", 400, "MISSING_FIELD"},
      {"POST", q + waiting + "/verification", R"({"code":"12345678"})", 409,
       "REQUEST_STATE_INVALID"},
      {"POST", q + "r_nobody/code", "", 404, "UNKNOWN_REQUEST"},
      {"POST", q + running + "/code", R"({"email":"a@example.test"})", 400, "UNKNOWN_FIELD"},
      {"POST", q + running + "/code", "", 409, "REQUEST_STATE_INVALID"},
      {"POST", q + running + "/withdrawal", "[]", 400, "WRONG_TYPE"},
      {"POST", "/v1/subjects/s1/requests", R"({"verified_by":"passport_seen"})", 400,
       "MISSING_FIELD"},
      {"POST", "/v1/subjects/s1/requests", R"({"type":"access","verified_by":true})", 400,
       "WRONG_TYPE"},
      {"POST", "/v1/subjects/s1/requests", R"({"type":"objection","purpose":"nothing_such"})", 422,
       "INVALID_ARGUMENT"},
      {"POST", q + waiting + "/identity", "{}", 400, "MISSING_FIELD"},
      {"POST", q + waiting + "/identity", R"({"method":"passport_seen","subject_id":"nobody"})",
       404, "UNKNOWN_SUBJECT"},
      {"POST", q + running + "/identity", R"({"method":"passport_seen"})", 409,
       "REQUEST_STATE_INVALID"},
      {"POST", q + running + "/wait", R"({"for":"later"})", 422, "INVALID_ARGUMENT"},
      {"POST", q + running + "/wait", R"({"for":"fee"})", 422, "FEE_NOT_ALLOWED"},
      {"POST", q + running + "/wait", R"({"what":"fee"})", 400, "UNKNOWN_FIELD"},
      {"POST", q + running + "/answer", "", 409, "REQUEST_STATE_INVALID"},
      {"POST", q + running + "/extension", R"({"reason":"busy"})", 422, "INVALID_ARGUMENT"},
      {"POST", q + running + "/extension", R"({"reason":"complex"})", 422, "EXTENSION_NOT_ALLOWED"},
      {"POST", q + running + "/refusal", "{}", 400, "MISSING_FIELD"},
      {"POST", q + running + "/refusal", R"({"reason":"because"})", 422, "INVALID_ARGUMENT"},
      {"POST", q + running + "/fulfilment", R"({"outcome":7})", 400, "WRONG_TYPE"},
      {"POST", q + waiting + "/fulfilment", "", 409, "REQUEST_STATE_INVALID"},
      {"POST", q + "r_nobody/fulfilment", "", 404, "UNKNOWN_REQUEST"},
      {"POST", "/v1/requests/purge", R"({"as_of":"2030-01-01"})", 400, "UNKNOWN_FIELD"},
      {"PUT", "/v1/endpoints/third_party_platforms", R"({"url":"https://h.example.test"})", 400,
       "MISSING_FIELD"},
      {"PUT", "/v1/endpoints/third_party_platforms",
       R"({"url":"https://h.example.test","secret":"short"})", 422, "INVALID_ARGUMENT"},
      {"PUT", "/v1/endpoints/nobody_known", R"({"url":"https://h.example.test",
         "secret":"0123456789abcdef"})",
       422, "INVALID_ARGUMENT"},
      {"GET", "/v1/requests", "", 400, "INVALID_VALUE"},
  };
  for (const auto& c : cases) {
    std::vector<std::pair<std::string, std::string>> query;
    if (c.method == "GET") query = {{"filter", "late"}};
    HttpResponse response = Call(c.method, c.path, c.body, dpo, query);
    EXPECT_EQ(response.status, c.status)
        << c.method << " " << c.path << " " << c.body << " " << response.body;
    EXPECT_TRUE(DocumentedProblem(c.method, c.path, response)) << c.method << " " << c.path;
    EXPECT_EQ(JsonString(response.body, "code"), c.code) << c.path << " " << response.body;
  }
  EXPECT_EQ(Call("GET", "/v1/requests", "", dpo, {{"within", "x"}}).status, 400);
  EXPECT_EQ(Call("GET", "/v1/requests", "", dpo, {{"as_of", "yesterday"}}).status, 400);
  EXPECT_EQ(Call("POST", q + running + "/wait", R"({"for":"fee"})", token_[Role::kStaff]).status,
            403)
      << "a fee is the DPO's call";
  // A well-formed list answers.
  HttpResponse open = Call("GET", "/v1/requests", "", dpo, {{"filter", "open"}});
  EXPECT_EQ(open.status, 200);
  EXPECT_NE(open.body.find(running), std::string::npos);
  // An endpoint is set without its secret ever coming back.
  HttpResponse set =
      Call("PUT", "/v1/endpoints/third_party_platforms",
           R"({"url":"https://h.example.test/x","secret":"s3cr3t-s3cr3t-s3cr3t"})", dpo);
  EXPECT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(set.body.find("s3cr3t"), std::string::npos);
  HttpResponse listed = Call("GET", "/v1/endpoints", "", dpo);
  EXPECT_NE(listed.body.find("https://h.example.test/x"), std::string::npos);
  EXPECT_EQ(listed.body.find("s3cr3t"), std::string::npos);
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
  EXPECT_TRUE(
      Answers(Call("POST", "/v1/test/clock", body, token_[Role::kAdmin]), 200, "setTestClock"));
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

TEST_F(ApiTest, CatchUpScheduleMakesDecisionsSeeAnotherProcesssWrites) {
  // Issue 7: another engine over the same store stands for another `custos serve` process.
  auto policy = policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml");
  ASSERT_TRUE(policy.ok());
  engine::Engine other(std::move(*policy), "wig", *store_, master_, clock_);
  ASSERT_TRUE(other.Open("another policy text").ok());
  const engine::DecisionRequest ask{"s1", "event_bookings", {"user.name"},
                                    "",   T("2026-02-01"),  "t"};
  ASSERT_TRUE(engine_->Decide(ask).Has(ErrorCode::kConsentMissing));
  CatchUpSchedule schedule(*engine_, *log_, std::chrono::milliseconds(10));
  engine::ConsentChangeRequest give;
  give.subject_id = "s1";
  give.target = "event_bookings";
  give.at = T("2026-01-15");
  ASSERT_TRUE(other.ChangeConsent(give).ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!engine_->Decide(ask).allow && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(engine_->Decide(ask).allow);
  schedule.Stop();
  EXPECT_GT(schedule.runs(), 0);
  std::string logs = Logs();
  EXPECT_NE(logs.find("\"event\":\"policy_loaded_elsewhere\""), std::string::npos) << logs;
  EXPECT_EQ(logs.find("s1"), std::string::npos) << logs;  // counts and versions, never ids
  HttpResponse metrics = Call("GET", "/metrics", "", token_[Role::kAdmin]);
  EXPECT_NE(metrics.body.find("custos_catch_up_forgotten_total 1"), std::string::npos)
      << metrics.body;
}

// Each thread remembers the last token it verified: a different token, the same token with
// one character changed, and the same token after the file was re-read are all checked again.
TEST_F(ApiTest, RememberedTokenNeverStandsForAnother) {
  const std::string& staff = token_[Role::kStaff];
  auto first = tokens_->Authenticate("Bearer " + staff);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->role, Role::kStaff);
  std::string forged = staff;
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_EQ(tokens_->Authenticate("Bearer " + forged), nullptr);
  auto dpo = tokens_->Authenticate("Bearer " + token_[Role::kDpo]);
  ASSERT_NE(dpo, nullptr);
  EXPECT_EQ(dpo->role, Role::kDpo);
  auto again = tokens_->Authenticate("Bearer " + staff);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->role, Role::kStaff);
  // Another store over the same file on this thread: its own verification, its own principal.
  TokenStore other((dir_ / "tokens.jsonl").string());
  ASSERT_TRUE(other.Load().ok());
  auto from_other = other.Authenticate("Bearer " + staff);
  ASSERT_NE(from_other, nullptr);
  EXPECT_NE(from_other.get(), again.get());
  EXPECT_EQ(other.Authenticate("Bearer " + forged), nullptr);
  // A store that forgot its tokens (the file emptied and re-read) no longer accepts it.
  { std::ofstream truncate(dir_ / "tokens.jsonl", std::ios::trunc); }
  ASSERT_TRUE(other.Load().ok());
  EXPECT_EQ(other.Authenticate("Bearer " + staff), nullptr);
}

// A revocation written by another process (the CLI) reaches a running store at its next
// look at the file; the revoked token's record stays, marked, and the others keep working.
TEST_F(ApiTest, RevokedTokensAreRefusedAndKeptInTheRecord) {
  const std::string path = (dir_ / "tokens.jsonl").string();
  TokenStore serving(path, std::chrono::milliseconds(0));
  ASSERT_TRUE(serving.Load().ok());
  const std::string& staff = token_[Role::kStaff];
  ASSERT_NE(serving.Authenticate("Bearer " + staff), nullptr);  // remembered by this thread
  TokenStore cli(path);
  ASSERT_TRUE(cli.Load().ok());
  const std::string id = staff.substr(4, 16);
  ASSERT_TRUE(cli.Revoke(id, "2026-12-01T10:00:00Z").ok());
  EXPECT_EQ(cli.Authenticate("Bearer " + staff), nullptr);
  EXPECT_EQ(serving.Authenticate("Bearer " + staff), nullptr);
  EXPECT_NE(serving.Authenticate("Bearer " + token_[Role::kDpo]), nullptr);
  EXPECT_EQ(cli.Revoke(id, "2026-12-01T11:00:00Z").code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(cli.Revoke("0123456789abcdef", "2026-12-01T11:00:00Z").code(), ErrorCode::kNotFound);
  bool listed = false;
  for (const auto& record : serving.List()) {
    if (record.principal.token_id != id) continue;
    listed = true;
    EXPECT_EQ(record.revoked_at, "2026-12-01T10:00:00Z");
    EXPECT_EQ(record.principal.role, Role::kStaff);
  }
  EXPECT_TRUE(listed);
  // A fresh read of the file (a restart) agrees.
  TokenStore restarted(path);
  ASSERT_TRUE(restarted.Load().ok());
  EXPECT_EQ(restarted.Authenticate("Bearer " + staff), nullptr);
  EXPECT_NE(restarted.Authenticate("Bearer " + token_[Role::kAdmin]), nullptr);
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
  ASSERT_NE(who, nullptr);
  EXPECT_EQ(who->role, Role::kStaff);
  EXPECT_EQ(who->purposes, std::vector<std::string>{"newsletter"});
  EXPECT_EQ(again.Authenticate("Bearer " + token_[Role::kStaff] + "0"), nullptr);
}

}  // namespace
}  // namespace custos::api
