// The HTTP adapter in-process (Api::Handle, no sockets): the route table against the OpenAPI
// document, every route with every role against one table (the exact status each caller gets),
// a success test for every operation (its status, its body against the document's schema, its
// effect in the store or the engine), problem+json for client mistakes, no personal values in
// error bodies or logs, security headers, rate limits, the test clock.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "api/auth.h"
#include "api/catch_up_schedule.h"
#include "api/server.h"
#include "crypto/api_token.h"
#include "crypto/hash_chain.h"
#include "crypto/key.h"
#include "crypto/master_key.h"
#include "deployment/checkpoint_file.h"
#include "deployment/import_mappings.h"
#include "engine/engine.h"
#include "openapi_contract.h"
#include "policy/loader.h"
#include "policy/notice.h"
#include "policy/ropa.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::api {
namespace {

namespace fs = std::filesystem;

Timestamp T(const char* text) { return *Timestamp::Parse(text); }

// One row of WIG's CRM export as JSON Lines (tests/fixtures/import/wig_crm.yaml's columns).
constexpr char kImportLine[] =
    R"({"crm_id": "7001", "kind": "member", "joined": "2020-02-02", "email": "ida@example.test"})"
    "\n";

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

// An application's grant, written straight to the token file (WIG's policy authorises none):
// event venues' names for event bookings, until 2030.
Principal ApplicationScope() {
  Principal p = Scope(Role::kApplication, {"event_bookings"}, "", {"user.name"});
  p.application = "Venue Check-in";
  p.recipient = "event_venues";
  p.expires_at = "2030-01-01T00:00:00Z";
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
    token_[Role::kApplication] = NewToken(ApplicationScope());
    ASSERT_TRUE(deployment::PublishCheckpoint(*engine_, CheckpointPath()).ok());
    MakeApi({});
  }
  void TearDown() override {
    api_.reset();
    engine_.reset();
    store_.reset();
    std::fclose(log_file_);
    fs::remove_all(dir_);
  }

  std::string CheckpointPath() const { return (dir_ / "master.key.checkpoint").string(); }

  std::string NewToken(const Principal& scope) {
    auto token = tokens_->Create(scope, "test", "2026-01-01T00:00:00Z");
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    return token.ok() ? *token : "";
  }
  void MakeApi(ApiOptions options) {
    // The checkpoint a deployment keeps beside its master key (deployment/checkpoint_file.h).
    if (options.checkpoint_path.empty()) options.checkpoint_path = CheckpointPath();
    api_ = std::make_unique<Api>(*engine_, *store_, *tokens_, *log_, options, &clock_);
  }
  // Serves `controller` under the policy in policies/`file` (changed by `adjust`) from now on,
  // over the same store, clock and tokens.
  void UsePolicy(const std::string& file, const std::string& controller,
                 const std::function<void(policy::Policy&)>& adjust = nullptr,
                 ApiOptions options = {}) {
    api_.reset();
    engine_.reset();
    auto policy = policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) + "/policies/" + file);
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();
    if (adjust) adjust(*policy);
    engine_ =
        std::make_unique<engine::Engine>(std::move(*policy), controller, *store_, master_, clock_);
    ASSERT_TRUE(engine_->Open("policy text of " + file).ok());
    MakeApi(options);
  }
  // WIG's policy states no extension; Article 12(3) allows two further months, which these
  // tests need to extend a request.
  void AllowExtensions(ApiOptions options = {}) {
    UsePolicy(
        "wig.yaml", "wig",
        [](policy::Policy& p) {
          p.rights.extension_max = policy::Period{"P2M", *IsoPeriod::Parse("P2M"), {}};
        },
        options);
  }
  // WIG's CRM mapping (tests/fixtures/import/wig_crm.yaml) as the server's "wig_crm".
  deployment::ImportMappings WigImportMapping() {
    auto mapping = deployment::ReadImportMapping(
        std::string(CUSTOS_SOURCE_DIR) + "/tests/fixtures/import/wig_crm.yaml", engine_->policy());
    EXPECT_TRUE(mapping.ok()) << mapping.status().ToString();
    deployment::ImportMappings out;
    if (mapping.ok()) {
      out["wig_crm"] = std::make_shared<const engine::ImportMapping>(std::move(*mapping));
    }
    return out;
  }
  HttpResponse Call(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& token,
                    std::vector<std::pair<std::string, std::string>> query = {}) {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.query = std::move(query);
    request.body = body;
    // The bulk import takes JSON Lines; every other body is JSON.
    request.content_type =
        body.empty() ? "" : (path == "/v1/imports" ? "application/x-ndjson" : "application/json");
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
  // The body as JSON (an empty object when it is not JSON). Read members only after
  // Answers(): the schema check makes sure they are there.
  static rapidjson::Document Parsed(const HttpResponse& response) {
    rapidjson::Document doc;
    doc.Parse(response.body.c_str(), response.body.size());
    if (doc.HasParseError() || !doc.IsObject()) doc.SetObject();
    return doc;
  }
  // The engine's decision now for s1 (or `subject`): `purpose` over `category`.
  engine::Decision DecideNow(const std::string& purpose, const std::string& category,
                             const std::string& subject = "s1", const std::string& channel = "") {
    return engine_->Decide({subject, purpose, {category}, channel, engine_->Now(), "test"}).value();
  }
  std::optional<store::RequestRow> StoredRequest(const std::string& id) {
    auto row = store_->GetRequest("wig", id);
    EXPECT_TRUE(row.ok()) << row.status().ToString();
    return row.ok() ? *row : std::nullopt;
  }
  // A DPO review task for s2 as a sweep opens it (WIG's rules never ask for a review), written
  // to the store; returns its id.
  int64_t OpenReviewTask() {
    store::ReviewTaskRow task;
    task.controller = engine_->controller();
    task.subject_id = "s2";
    task.rule_id = "non_member_contact_after_inactivity";
    task.category = "user.contact.email";
    task.due_at = Timestamp{T("2031-01-01").micros + ++review_tasks_};  // one task per due time
    task.created_at = engine_->Now();
    store::WriteBatch batch;
    batch.Add(task);
    EXPECT_TRUE(store_->Apply(batch).ok());
    auto open = store_->ListReviewTasks(engine_->controller(), true);
    EXPECT_TRUE(open.ok() && !open->empty());
    return open.ok() && !open->empty() ? open->back().task_id : 0;
  }
  // A breach of s1's e-mail address recorded through the engine; returns its id.
  std::string NewBreach(const std::string& risk = "unassessed") {
    engine::NewBreach breach;
    breach.discovered_at = T("2026-01-01");
    breach.nature = "a mailing list was sent to the wrong address";
    breach.scope.categories = {"user.contact.email"};
    breach.risk = risk;
    if (risk != "unassessed") breach.risk_reasoning = "names and addresses of many people";
    auto recorded = engine_->RecordBreach(breach, std::nullopt, "test");
    EXPECT_TRUE(recorded.ok()) << recorded.status().ToString();
    return recorded.ok() ? recorded->id : "";
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
  static int64_t JsonNumber(const std::string& json, const char* key) {
    rapidjson::Document doc;
    doc.Parse(json.c_str());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember(key) || !doc[key].IsInt64()) {
      return -1;
    }
    return doc[key].GetInt64();
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
  int64_t review_tasks_ = 0;
};

std::string Header(const HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "";
}

TEST_F(ApiTest, RoutesAreExactlyThoseOfTheOpenApiDocument) {
  // "A test checks that the routes the server registers and the routes the document
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

// A candidate policy compared with the one running, before it is loaded: a new purpose resting
// on consent is material and needs fresh consent (UK GDPR Articles 13(3) and 6(1)(a)); an
// invalid candidate is refused with its line, as `policy check` refuses it.
TEST_F(ApiTest, APolicyDiffNamesWhatWouldChangeAndRefusesAnInvalidCandidate) {
  std::ifstream file(std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml");
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const std::string anchor = "\npurposes:\n";
  ASSERT_NE(text.find(anchor), std::string::npos);
  text.insert(text.find(anchor) + anchor.size(),
              "  podcast:\n    name: Our podcast list\n    basis: consent\n"
              "    categories: [user.contact.email]\n    sources: [direct]\n");
  auto body = [](const std::string& policy) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("policy");
    w.String(policy.c_str(), static_cast<rapidjson::SizeType>(policy.size()));
    w.EndObject();
    return std::string(buffer.GetString());
  };
  HttpResponse diff = Call("POST", "/v1/policy/diff", body(text), token_[Role::kDpo]);
  ASSERT_TRUE(Answers(diff, 200, "diffPolicy"));
  rapidjson::Document doc;
  doc.Parse(diff.body.c_str());
  ASSERT_TRUE(doc.IsObject());
  EXPECT_TRUE(doc["material"].GetBool());
  ASSERT_EQ(doc["needs_consent"].Size(), 1u);
  EXPECT_STREQ(doc["needs_consent"][0].GetString(), "podcast");
  HttpResponse bad =
      Call("POST", "/v1/policy/diff", body(text + "\nunknown_section: 1\n"), token_[Role::kDpo]);
  EXPECT_TRUE(Answers(bad, 422, "diffPolicy"));
  EXPECT_NE(bad.body.find("candidate.yaml:"), std::string::npos) << bad.body;
}

TEST_F(ApiTest, OpenApiDocumentIsServed) {
  HttpResponse response = Call("GET", "/v1/openapi.json", "", "");
  EXPECT_EQ(response.status, 200);
  // The document as written in the source tree, not the copy built into the binary.
  std::ifstream file(std::string(CUSTOS_SOURCE_DIR) + "/src/api/openapi.json");
  ASSERT_TRUE(file) << "src/api/openapi.json";
  std::stringstream text;
  text << file.rdbuf();
  rapidjson::Document written, served;
  written.Parse(text.str().c_str());
  served.Parse(response.body.c_str(), response.body.size());
  ASSERT_FALSE(written.HasParseError());
  ASSERT_FALSE(served.HasParseError()) << response.body.substr(0, 200);
  EXPECT_TRUE(served == written);
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

// One call of an operation: the path (with the ids it acts on), the body, and the requester
// secret that opens the request in the path (requester routes). Valid, and within every scoped
// token's scope.
struct Sample {
  std::string path, body, secret;
};

TEST_F(ApiTest, EveryRouteWithEveryRoleFollowsTheRoleTable) {
  // "A test calls every route with every role and checks allow or deny against one
  // table." Columns: admin, dpo, staff, processor, subject, application, and R: the requester
  // secret of the request in the path (allowed with that request's secret, denied with another
  // request's).
  // '-' = no token needed. An allowed call answers the status beside the columns; a refused one
  // 401 without a token (or with a requester secret where none opens the route), else 403. A
  // lower-case letter: the route admits the role, but the handler refuses it this sample (403):
  // staff never open, read or fulfil an access or portability request (api/staff_scope.h); the
  // samples they may act on are in kStaffSamples below.
  struct Expected {
    const char* callers;
    int status;
  };
  const std::map<std::string, Expected> kTable = {
      {"healthz", {"-", 200}},
      {"readyz", {"-", 200}},
      {"ping", {"-", 200}},
      {"openapi", {"-", 200}},
      {"getNotice", {"-", 200}},
      {"metrics", {"A......", 200}},
      {"getPolicy", {"AD.....", 200}},
      {"getRopa", {"AD.....", 200}},
      {"diffPolicy", {"AD.....", 200}},
      {"createSubject", {"ADS....", 201}},
      {"getSubject", {"ADS.U..", 200}},
      {"addIdentifier", {"ADS.U..", 201}},
      {"lookupIdentifier", {"ADS....", 200}},
      {"addEvent", {"ADS....", 201}},
      {"recordDisclosure", {"ADS....", 201}},
      {"putRecord", {"ADSP...", 201}},
      {"listRecords", {"ADSPU..", 200}},
      {"changeConsent", {"ADS.U..", 201}},
      {"exportConsents", {"AD..U..", 200}},
      {"setPreference", {"ADS.U..", 200}},
      {"object", {"ADS.U..", 201}},
      {"liftObjection", {"AD..U..", 200}},
      {"restrict", {"AD..U..", 201}},
      {"liftRestriction", {"AD.....", 200}},
      {"suppress", {"AD.....", 201}},
      {"decide", {"ADSP.t.", 200}},
      {"planRetention", {"AD.....", 200}},
      {"runRetention", {"AD.....", 201}},
      {"listLegalHolds", {"AD.....", 200}},
      {"placeLegalHold", {"AD.....", 201}},
      {"releaseLegalHold", {"AD.....", 200}},
      {"listReviewTasks", {"AD.....", 200}},
      {"completeReviewTask", {"AD.....", 200}},
      {"aggregate", {"AD.....", 200}},
      {"verifyAudit", {"AD.....", 200}},
      {"getAuditCheckpoint", {"AD.....", 200}},
      {"setTestClock", {"A......", 200}},
      // Rights requests: the person (no token, or their requester secret), staff, the DPO.
      {"openRequest", {"-", 202}},
      {"verifyRequest", {"-", 200}},
      {"resendRequestCode", {"-", 202}},
      {"getRequestStatus", {"......R", 200}},
      {"getRequestDocument", {"AD....R", 200}},
      {"listRequestRecipients", {"ADS...R", 200}},
      {"withdrawRequest", {"ADS...R", 200}},
      {"openStaffRequest", {"ADs....", 201}},
      {"listRequests", {"ADS....", 200}},
      {"purgeRequests", {"AD.....", 200}},
      {"getRequest", {"ADs....", 200}},
      {"verifyRequestIdentity", {"ADS....", 200}},
      {"awaitRequester", {"ADS....", 200}},
      {"requesterAnswered", {"ADS....", 200}},
      {"extendRequest", {"AD.....", 200}},
      {"refuseRequest", {"AD.....", 200}},
      {"fulfilRequest", {"ADs....", 200}},
      {"setEndpoint", {"AD.....", 200}},
      {"listEndpoints", {"AD.....", 200}},
      {"listOutbox", {"AD.....", 200}},
      // The breach register: the DPO's and admins' only.
      {"listBreaches", {"AD.....", 200}},
      {"recordBreach", {"AD.....", 201}},
      {"getBreach", {"AD.....", 200}},
      {"changeBreach", {"AD.....", 200}},
      {"tellPeopleOfBreach", {"AD.....", 200}},
      {"getBreachReport", {"AD.....", 200}},
      // The organisation's own systems: the DPO's and admins'. This test's policy declares
      // none, so a waiver is admitted and then refused by the engine (422, no such system).
      {"checkSystems", {"AD.....", 200}},
      {"sweepSystems", {"AD.....", 200}},
      {"planRequestInSystems", {"AD.....", 200}},
      {"waiveSystem", {"AD.....", 422}},
      // Bulk import: the DPO's and admins' only.
      {"startImport", {"AD.....", 201}},
      {"listImports", {"AD.....", 200}},
      {"getImport", {"AD.....", 200}},
      // Third-party applications: the DPO and admins authorise them. This test's policy has
      // no third_party_apps, so a grant is admitted and then refused by the engine (422). An
      // application's token may ask decisions only within its grant: the sample's purpose is
      // not in it ('t').
      {"listApplications", {"AD.....", 200}},
      {"authoriseApplication", {"AD.....", 422}},
      {"revokeApplication", {"AD.....", 200}},
  };
  ApiOptions options;
  options.import_mappings = WigImportMapping();
  options.test_clock = true;
  options.token_rate = 0;  // some hundred calls in a second: no rate limit in the way
  options.address_rate = 0;
  AllowExtensions(options);
  auto follow = OpenVerified("access", "x7@example.test");
  auto done = OpenVerified("access", "x8@example.test");
  auto other = OpenVerified("access", "x10@example.test");
  ASSERT_EQ(
      Call("POST", "/v1/requests/" + done.id + "/fulfilment", "", token_[Role::kAdmin]).status,
      200);
  ASSERT_FALSE(other.secret.empty());

  // Each call gets a sample of its own: where an operation changes what it acts on (lifts an
  // objection, withdraws a request), its sample first makes a fresh one for it.
  const std::string q = "/v1/requests/";
  int made = 0;
  auto fixed = [](std::string path, std::string body, std::string secret = {}) {
    return [=] { return Sample{path, body, secret}; };
  };
  auto running = [&] { return OpenByStaff("access", "passport_seen"); };
  auto email = [&] { return "x" + std::to_string(100 + made++) + "@example.test"; };
  std::map<std::string, std::function<Sample()>> samples = {
      {"healthz", fixed("/healthz", "")},
      {"readyz", fixed("/readyz", "")},
      {"ping", fixed("/ping", "")},
      {"metrics", fixed("/metrics", "")},
      {"openapi", fixed("/v1/openapi.json", "")},
      {"getNotice", fixed("/v1/notice", "")},
      {"getPolicy", fixed("/v1/policy", "")},
      {"getRopa", fixed("/v1/ropa", "")},
      {"diffPolicy",
       [&] {
         rapidjson::StringBuffer buffer;
         rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
         w.StartObject();
         w.Key("policy");
         std::ifstream file(std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml");
         std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
         w.String(text.c_str(), static_cast<rapidjson::SizeType>(text.size()));
         w.EndObject();
         return Sample{"/v1/policy/diff", buffer.GetString(), ""};
       }},
      {"createSubject", fixed("/v1/subjects", R"({"types":["non_member"]})")},
      {"getSubject", fixed("/v1/subjects/s1", "")},
      {"addIdentifier",
       fixed("/v1/subjects/s1/identifiers", R"({"kind":"email","value":"x1@example.test"})")},
      {"lookupIdentifier",
       fixed("/v1/identifiers/lookup", R"({"kind":"email","value":"x1@example.test"})")},
      {"addEvent", fixed("/v1/subjects/s1/events", R"({"event":"last_activity"})")},
      {"recordDisclosure", fixed("/v1/subjects/s1/disclosures",
                                 R"({"recipient":"third_party_platforms","purpose":"newsletter",)"
                                 R"("categories":["user.contact.email"]})")},
      {"putRecord",
       fixed(
           "/v1/subjects/s1/records",
           R"({"category":"user.contact.email","value":"x2@example.test","source":"direct","purpose":"newsletter"})")},
      {"listRecords", fixed("/v1/subjects/s1/records", "")},
      {"changeConsent",
       fixed("/v1/subjects/s1/consents", R"({"target":"newsletter","given":true})")},
      {"exportConsents", fixed("/v1/subjects/s1/consents", "")},
      {"setPreference", fixed("/v1/subjects/s1/preferences/email", R"({"allowed":true})")},
      {"object", fixed("/v1/subjects/s1/objections", R"({"purpose":"newsletter"})")},
      {"liftObjection",
       [&] {
         EXPECT_TRUE(engine_->Object("s1", "newsletter", std::nullopt, "test").ok());
         return Sample{"/v1/subjects/s1/objections/newsletter", "", ""};
       }},
      {"restrict", fixed("/v1/subjects/s1/restrictions", R"({"reason":"accuracy_contested"})")},
      {"liftRestriction",
       [&] {
         auto id = engine_->Restrict("s1", {}, "accuracy_contested", std::nullopt, "test");
         EXPECT_TRUE(id.ok());
         return Sample{"/v1/subjects/s1/restrictions/" + std::to_string(id.ok() ? *id : 0), "", ""};
       }},
      {"suppress", fixed("/v1/suppressions", R"({"kind":"email","value":"x3@example.test"})")},
      {"decide",
       fixed("/v1/decisions",
             R"({"subject_id":"s1","purpose":"newsletter","categories":["user.contact.email"]})")},
      {"planRetention", fixed("/v1/retention/plan", "")},
      {"runRetention", fixed("/v1/retention/runs", "")},
      {"listLegalHolds", fixed("/v1/legal-holds", "")},
      {"placeLegalHold", fixed("/v1/legal-holds", R"({"subject_id":"s2","reason":"litigation"})")},
      {"releaseLegalHold",
       [&] {
         engine::LegalHoldRequest hold;
         hold.subject_id = "s2";
         hold.reason = "litigation";
         auto id = engine_->PlaceLegalHold(hold);
         EXPECT_TRUE(id.ok());
         return Sample{"/v1/legal-holds/" + std::to_string(id.ok() ? *id : 0) + "/release", "", ""};
       }},
      {"listReviewTasks", fixed("/v1/review-tasks", "")},
      {"completeReviewTask",
       [&] {
         return Sample{"/v1/review-tasks/" + std::to_string(OpenReviewTask()) + "/done", "", ""};
       }},
      {"aggregate", fixed("/v1/aggregates/user.contact.email", "")},
      {"verifyAudit", fixed("/v1/audit/verify", "")},
      {"getAuditCheckpoint", fixed("/v1/audit/checkpoint", "")},
      {"setTestClock", fixed("/v1/test/clock", R"({"now":"2026-02-01"})")},
      {"openRequest",
       [&] {
         return Sample{"/v1/requests", R"({"type":"access","email":")" + email() + R"("})", ""};
       }},
      {"verifyRequest",
       [&] {
         std::string id = OpenByPerson("access", email());
         return Sample{q + id + "/verification", R"({"code":")" + LastCode(id) + R"("})", ""};
       }},
      {"resendRequestCode",
       [&] {
         return Sample{q + OpenByPerson("access", email()) + "/code", "", ""};
       }},
      {"getRequestStatus", fixed(q + follow.id + "/status", "", follow.secret)},
      {"getRequestDocument", fixed(q + done.id + "/document", "", done.secret)},
      {"listRequestRecipients", fixed(q + done.id + "/recipients", "", done.secret)},
      {"withdrawRequest",
       [&] {
         auto fresh = OpenVerified("erasure", email());
         return Sample{q + fresh.id + "/withdrawal", "", fresh.secret};
       }},
      {"openStaffRequest",
       fixed("/v1/subjects/s1/requests", R"({"type":"access","verified_by":"passport_seen"})")},
      {"listRequests", fixed("/v1/requests", "")},
      {"purgeRequests", fixed("/v1/requests/purge", "")},
      {"getRequest", fixed(q + done.id, "")},
      {"verifyRequestIdentity",
       [&] {
         return Sample{q + OpenByStaff("access", "") + "/identity", R"({"method":"passport_seen"})",
                       ""};
       }},
      {"awaitRequester",
       [&] {
         return Sample{q + running() + "/wait", R"({"for":"clarification"})", ""};
       }},
      {"requesterAnswered",
       [&] {
         std::string id = running();
         EXPECT_TRUE(engine_->AwaitRequester(id, "clarification", std::nullopt, "test").ok());
         return Sample{q + id + "/answer", "", ""};
       }},
      {"extendRequest",
       [&] {
         return Sample{q + running() + "/extension", R"({"reason":"complex"})", ""};
       }},
      {"refuseRequest",
       [&] {
         return Sample{q + running() + "/refusal", R"({"reason":"manifestly_unfounded"})", ""};
       }},
      {"fulfilRequest",
       [&] {
         return Sample{q + running() + "/fulfilment", "", ""};
       }},
      {"setEndpoint",
       fixed("/v1/endpoints/third_party_platforms",
             R"({"url":"https://hooks.example.test/custos","secret":"0123456789abcdef"})")},
      {"listEndpoints", fixed("/v1/endpoints", "")},
      {"listOutbox", fixed("/v1/outbox", "")},
      {"listBreaches", fixed("/v1/breaches", "")},
      {"recordBreach",
       fixed("/v1/breaches", R"({"discovered_at":"2026-01-01","nature":"a laptop was stolen",)"
                             R"("categories":["user.contact.email"]})")},
      {"getBreach",
       [&] {
         return Sample{"/v1/breaches/" + NewBreach(), "", ""};
       }},
      {"changeBreach",
       [&] {
         return Sample{"/v1/breaches/" + NewBreach() + "/changes",
                       R"({"measures":"the laptop's disk was encrypted"})", ""};
       }},
      {"tellPeopleOfBreach",
       [&] {
         return Sample{"/v1/breaches/" + NewBreach("high_risk") + "/people-notices", "", ""};
       }},
      {"getBreachReport",
       [&] {
         return Sample{"/v1/breaches/" + NewBreach() + "/ico-report", "", ""};
       }},
      {"checkSystems", fixed("/v1/systems/check", "")},
      {"sweepSystems", fixed("/v1/systems/retention", R"({"batch":100})")},
      {"planRequestInSystems",
       [&] {
         return Sample{q + running() + "/systems-plan", "", ""};
       }},
      {"waiveSystem",
       [&] {
         return Sample{q + running() + "/system-waivers",
                       R"({"system":"crm","reason":"the CRM was retired"})", ""};
       }},
      {"startImport", fixed("/v1/imports?mapping=wig_crm", kImportLine)},
      {"listImports", fixed("/v1/imports", "")},
      {"listApplications", fixed("/v1/applications", "")},
      {"authoriseApplication",
       fixed("/v1/applications",
             R"({"name":"Planner","recipient":"event_venues","purposes":["event_bookings"],)"
             R"("categories":["user.name"],"expires_at":"2027-01-01"})")},
      {"revokeApplication",
       [&] {
         std::string token = NewToken(ApplicationScope());
         auto id = crypto::ApiTokenId(token);
         return Sample{"/v1/applications/" + std::string(id.value_or("")) + "/revocation", "", ""};
       }},
      {"getImport",
       [&] {
         HttpResponse started = Call("POST", "/v1/imports", kImportLine, token_[Role::kAdmin],
                                     {{"mapping", "wig_crm"}});
         EXPECT_EQ(started.status, 201) << started.body;
         return Sample{"/v1/imports/" + JsonString(started.body, "import_id"), "", ""};
       }},
  };

  auto routes = api_->Routes();
  ASSERT_EQ(routes.size(), kTable.size());
  const std::vector<std::pair<std::string, std::string>> query = {{"purpose", "newsletter"}};
  for (const auto& route : routes) {
    const std::string& op = route.operation;
    ASSERT_TRUE(kTable.count(op)) << op << " is not in the table";
    ASSERT_TRUE(samples.count(op)) << op << " has no sample";
    const std::string allowed = kTable.at(op).callers;
    const int success = kTable.at(op).status;
    auto call = [&](const std::string& token) {
      Sample sample = samples.at(op)();
      auto with = query;
      if (auto mark = sample.path.find('?'); mark != std::string::npos) {
        // A sample's own query parameter (name=value), besides the purpose.
        std::string pair = sample.path.substr(mark + 1);
        with.emplace_back(pair.substr(0, pair.find('=')), pair.substr(pair.find('=') + 1));
        sample.path.resize(mark);
      }
      return Call(route.method, sample.path, sample.body, token, with);
    };
    if (allowed == "-") {
      ASSERT_FALSE(route.requester) << op;
      EXPECT_TRUE(Answers(call(""), success, op));
      continue;
    }
    ASSERT_EQ(allowed.size(), 7u) << op;
    EXPECT_TRUE(Answers(call(""), 401, op)) << "without a token";
    const char kLetters[] = "ADSPUT";
    for (size_t i = 0; i < 6; ++i) {
      Role role = kAllRoles[i];
      bool allow = allowed[i] == kLetters[i];
      bool admitted = allow || allowed[i] == kLetters[i] - 'A' + 'a';
      EXPECT_EQ(std::find(route.roles.begin(), route.roles.end(), role) != route.roles.end(),
                admitted)
          << op << " as " << RoleName(role);
      EXPECT_TRUE(Answers(call(token_[role]), allow ? success : 403, op))
          << "as " << RoleName(role);
    }
    // The requester: another request's secret never opens this one; the right one does where
    // the table says so.
    EXPECT_EQ(route.requester, allowed[6] == 'R') << op;
    EXPECT_TRUE(Answers(call(other.secret), route.requester ? 403 : 401, op))
        << "with another request's secret";
    if (route.requester) {
      Sample sample = samples.at(op)();
      EXPECT_TRUE(
          Answers(Call(route.method, sample.path, sample.body, sample.secret, query), success, op))
          << "as the requester";
    }
  }
  // The samples staff may act on, on the routes where the handler narrows them: the exact
  // status per role (same letters; the purpose is newsletter, the staff token's).
  struct StaffSample {
    const char* op;
    const char* callers;
    int status;
    std::function<Sample()> sample;
  };
  const std::vector<StaffSample> kStaffSamples = {
      {"openStaffRequest", "ADS....", 201,
       fixed("/v1/subjects/s1/requests",
             R"({"type":"objection","purpose":"newsletter","verified_by":"passport_seen"})")},
      {"openStaffRequest", "ADs....", 201,
       fixed("/v1/subjects/s1/requests",
             R"({"type":"portability","verified_by":"passport_seen"})")},
      {"getRequest", "ADS....", 200,
       [&] {
         return Sample{q + OpenByStaff("erasure", "passport_seen"), "", ""};
       }},
      {"fulfilRequest", "ADS....", 200,
       [&] {
         HttpResponse opened =
             Call("POST", "/v1/subjects/s1/requests",
                  R"({"type":"objection","purpose":"newsletter","verified_by":"passport_seen"})",
                  token_[Role::kAdmin]);
         EXPECT_EQ(opened.status, 201) << opened.body;
         return Sample{q + JsonString(opened.body, "request_id") + "/fulfilment", "", ""};
       }},
      {"fulfilRequest", "ADs....", 200,
       [&] {
         return Sample{q + OpenByStaff("restriction", "passport_seen") + "/fulfilment", "", ""};
       }},
  };
  for (const auto& extra : kStaffSamples) {
    std::string method;
    for (const auto& route : routes) {
      if (route.operation == extra.op) method = route.method;
    }
    const std::string allowed = extra.callers;
    const char kLetters[] = "ADSPUT";
    for (size_t i = 0; i < 6; ++i) {
      Role role = kAllRoles[i];
      bool allow = allowed[i] == kLetters[i];
      Sample sample = extra.sample();
      EXPECT_TRUE(Answers(Call(method, sample.path, sample.body, token_[role], query),
                          allow ? extra.status : 403, extra.op))
          << extra.op << " " << sample.body << " as " << RoleName(role);
    }
  }
}

// --- Every operation's success, family by family: the exact status, the body the document
// promises, and what changed in the store or the engine. -----------------------------------

TEST_F(ApiTest, ServiceRoutesAnswerWhatTheServerAndPolicyHold) {
  ApiOptions options;
  options.test_clock = true;
  MakeApi(options);
  const std::string& admin = token_[Role::kAdmin];
  HttpResponse health = Call("GET", "/healthz", "", "");
  ASSERT_TRUE(Answers(health, 200, "healthz"));
  EXPECT_EQ(JsonString(health.body, "controller"), "wig");
  HttpResponse ping = Call("GET", "/ping", "", "");
  ASSERT_TRUE(Answers(ping, 200, "ping"));
  EXPECT_EQ(ping.body, "pong");
  HttpResponse metrics = Call("GET", "/metrics", "", admin);
  ASSERT_TRUE(Answers(metrics, 200, "metrics"));
  EXPECT_NE(metrics.body.find("custos_http_requests_total{route=\"GET /ping\",status=\"200\"} 1"),
            std::string::npos)
      << metrics.body;
  HttpResponse openapi = Call("GET", "/v1/openapi.json", "", "");
  ASSERT_TRUE(Answers(openapi, 200, "openapi"));
  EXPECT_EQ(openapi.body, std::string(OpenApiDocument()));

  // The notice and the RoPA are the policy's, rendered as the CLI renders them.
  HttpResponse html = Call("GET", "/v1/notice", "", "");
  ASSERT_TRUE(Answers(html, 200, "getNotice"));
  EXPECT_EQ(html.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(html.body, policy::RenderNotice(engine_->policy(), policy::NoticeFormat::kHtml));
  HttpResponse markdown = Call("GET", "/v1/notice", "", "", {{"format", "md"}});
  ASSERT_TRUE(Answers(markdown, 200, "getNotice"));
  EXPECT_EQ(markdown.content_type, "text/markdown; charset=utf-8");
  EXPECT_EQ(markdown.body,
            policy::RenderNotice(engine_->policy(), policy::NoticeFormat::kMarkdown));
  HttpResponse ropa = Call("GET", "/v1/ropa", "", token_[Role::kDpo]);
  ASSERT_TRUE(Answers(ropa, 200, "getRopa"));
  EXPECT_EQ(ropa.body, policy::RenderRopaJson(engine_->policy()));
  std::set<std::string> activities, purposes;
  rapidjson::Document ropa_json = Parsed(ropa);  // kept alive while its array is walked
  for (const auto& activity : ropa_json["activities"].GetArray()) {
    activities.insert(activity["purpose_key"].GetString());
  }
  for (const auto& purpose : engine_->policy().purposes) purposes.insert(purpose.key);
  EXPECT_EQ(activities, purposes);
  HttpResponse csv = Call("GET", "/v1/ropa", "", token_[Role::kDpo], {{"format", "csv"}});
  ASSERT_TRUE(Answers(csv, 200, "getRopa"));
  EXPECT_EQ(csv.content_type, "text/csv; charset=utf-8");
  EXPECT_EQ(csv.body, policy::RenderRopaCsv(engine_->policy()));

  // The policy the store holds for this controller.
  HttpResponse held = Call("GET", "/v1/policy", "", admin);
  ASSERT_TRUE(Answers(held, 200, "getPolicy"));
  auto row = store_->GetController("wig");
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ(JsonString(held.body, "text"), "policy text");
  EXPECT_EQ(JsonString(held.body, "version"), (*row)->policy_version);
  EXPECT_EQ(JsonString(held.body, "name"), "The Whitehall & Industry Group (WIG)");

  // The test clock moves the engine's now; the audit check flushes the buffered decisions.
  HttpResponse clock = Call("POST", "/v1/test/clock", R"({"now":"2026-03-04T05:06:07Z"})", admin);
  ASSERT_TRUE(Answers(clock, 200, "setTestClock"));
  EXPECT_EQ(JsonString(clock.body, "now"), "2026-03-04T05:06:07Z");
  EXPECT_EQ(engine_->Now(), T("2026-03-04T05:06:07Z"));
  DecideNow("newsletter", "user.contact.email");  // buffered, not yet stored
  HttpResponse audit = Call("GET", "/v1/audit/verify", "", admin);
  ASSERT_TRUE(Answers(audit, 200, "verifyAudit"));
  auto last = store_->LastAudit();
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ((*last)->action, "decide");
  rapidjson::Document verified = Parsed(audit);
  EXPECT_TRUE(verified["intact"].GetBool());
  EXPECT_EQ(verified["entries_checked"].GetInt64(), (*last)->seq);

  // The latest signed checkpoint and the deployment's public key, for a witness to keep: the
  // signature verifies over the signed message with that key alone.
  ASSERT_TRUE(deployment::PublishCheckpoint(*engine_, CheckpointPath()).ok());
  HttpResponse checkpoint = Call("GET", "/v1/audit/checkpoint", "", admin);
  ASSERT_TRUE(Answers(checkpoint, 200, "getAuditCheckpoint"));
  rapidjson::Document signed_head = Parsed(checkpoint);
  EXPECT_EQ(signed_head["seq"].GetInt64(), (*last)->seq);
  EXPECT_EQ(JsonString(checkpoint.body, "hash"), crypto::ToHex((*last)->hash));
  EXPECT_EQ(JsonString(checkpoint.body, "public_key"),
            JsonString(checkpoint.body, "deployment_public_key"));
  auto public_key = crypto::FromHex(JsonString(checkpoint.body, "public_key"));
  auto signature = crypto::FromHex(JsonString(checkpoint.body, "signature"));
  ASSERT_TRUE(public_key && signature);
  std::string message = JsonString(checkpoint.body, "signed_message");
  EXPECT_TRUE(crypto::VerifySignature(*public_key, message, *signature));
  message.back() = message.back() == ';' ? ':' : ';';
  EXPECT_FALSE(crypto::VerifySignature(*public_key, message, *signature));
  // A staff token may not read it (the role table: admin and DPO).
  EXPECT_EQ(Call("GET", "/v1/audit/checkpoint", "", token_[Role::kStaff]).status, 403);
}

TEST_F(ApiTest, SubjectsIdentifiersEventsAndRecordsReachTheStore) {
  const std::string& staff = token_[Role::kStaff];
  const std::string& admin = token_[Role::kAdmin];
  HttpResponse created =
      Call("POST", "/v1/subjects",
           R"({"id":"p9","types":["member"],"email":"p9@example.test","verified":true})", staff);
  ASSERT_TRUE(Answers(created, 201, "createSubject"));
  EXPECT_EQ(JsonString(created.body, "subject_id"), "p9");
  EXPECT_EQ(Header(created, "Location"), "/v1/subjects/p9");
  auto subject = store_->GetSubject("wig", "p9");
  ASSERT_TRUE(subject.ok() && subject->has_value());
  EXPECT_EQ((*subject)->types, std::vector<std::string>{"member"});
  EXPECT_EQ((*subject)->created_at, T("2026-02-01"));
  EXPECT_TRUE(Answers(Call("POST", "/v1/subjects", R"({"id":"p9","types":["member"]})", staff), 409,
                      "createSubject"))
      << "the id is taken";
  HttpResponse generated = Call("POST", "/v1/subjects", R"({"types":["non_member"]})", admin);
  ASSERT_TRUE(Answers(generated, 201, "createSubject"));
  std::string generated_id = JsonString(generated.body, "subject_id");
  EXPECT_EQ(generated_id.rfind("s_", 0), 0u) << generated_id;
  subject = store_->GetSubject("wig", generated_id);
  EXPECT_TRUE(subject.ok() && subject->has_value());

  // Identifiers: kept as a keyed hash and a sealed value; a lookup finds the subject by value.
  HttpResponse added = Call("POST", "/v1/subjects/p9/identifiers",
                            R"({"kind":"phone","value":"+44 20 7946 0000"})", staff);
  ASSERT_TRUE(Answers(added, 201, "addIdentifier"));
  auto identifiers = store_->ListIdentifiers("wig", "p9");
  ASSERT_TRUE(identifiers.ok());
  ASSERT_EQ(identifiers->size(), 2u);
  EXPECT_EQ((*identifiers)[0].kind, "email");
  EXPECT_TRUE((*identifiers)[0].verified);
  EXPECT_EQ((*identifiers)[1].kind, "phone");
  EXPECT_FALSE((*identifiers)[1].verified);
  HttpResponse found = Call("POST", "/v1/identifiers/lookup",
                            R"({"kind":"phone","value":"+44 20 7946 0000"})", staff);
  ASSERT_TRUE(Answers(found, 200, "lookupIdentifier"));
  rapidjson::Document lookup = Parsed(found);
  ASSERT_EQ(lookup["subjects"].Size(), 1u);
  EXPECT_STREQ(lookup["subjects"][0].GetString(), "p9");
  HttpResponse nobody = Call("POST", "/v1/identifiers/lookup",
                             R"({"kind":"email","value":"nobody@example.test"})", staff);
  ASSERT_TRUE(Answers(nobody, 200, "lookupIdentifier"));
  EXPECT_EQ(Parsed(nobody)["subjects"].Size(), 0u);

  // A family shares a phone: the second person is created (201) and the answer says another
  // subject holds it (no value, no id); a lookup lists both.
  HttpResponse sharing =
      Call("POST", "/v1/subjects", R"({"id":"p10","types":["member"],"phone":"+44 20 7946 0000"})",
           staff);
  ASSERT_TRUE(Answers(sharing, 201, "createSubject"));
  rapidjson::Document shared = Parsed(sharing);
  ASSERT_TRUE(shared.HasMember("shared_identifiers")) << sharing.body;
  ASSERT_EQ(shared["shared_identifiers"].Size(), 1u);
  EXPECT_STREQ(shared["shared_identifiers"][0]["kind"].GetString(), "phone");
  EXPECT_EQ(shared["shared_identifiers"][0]["other_subjects"].GetInt(), 1);
  EXPECT_EQ(sharing.body.find("7946"), std::string::npos);
  EXPECT_EQ(sharing.body.find("p9"), std::string::npos);
  EXPECT_FALSE(Parsed(generated).HasMember("shared_identifiers"));
  HttpResponse both = Call("POST", "/v1/identifiers/lookup",
                           R"({"kind":"phone","value":"+44 20 7946 0000"})", staff);
  ASSERT_TRUE(Answers(both, 200, "lookupIdentifier"));
  rapidjson::Document family = Parsed(both);
  ASSERT_EQ(family["subjects"].Size(), 2u);
  EXPECT_STREQ(family["subjects"][0].GetString(), "p9");
  EXPECT_STREQ(family["subjects"][1].GetString(), "p10");

  // Events, at the time given.
  HttpResponse event = Call("POST", "/v1/subjects/p9/events",
                            R"({"event":"membership_ended","at":"2026-01-20"})", staff);
  ASSERT_TRUE(Answers(event, 201, "addEvent"));
  auto events = store_->ListEvents("wig", "p9");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].event, "subject_created");
  EXPECT_EQ((*events)[1].event, "membership_ended");
  EXPECT_EQ((*events)[1].at, T("2026-01-20"));

  // Records: stored sealed under their category and purpose; read back unsealed.
  HttpResponse put = Call("POST", "/v1/subjects/p9/records",
                          R"({"category":"user.contact.email","value":"work.p9@example.test",)"
                          R"("source":"direct","purpose":"newsletter"})",
                          staff);
  ASSERT_TRUE(Answers(put, 201, "putRecord"));
  int64_t record_id = Parsed(put)["record_id"].GetInt64();
  auto records = store_->ListRecords("wig", "p9");
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].record_id, record_id);
  EXPECT_EQ((*records)[0].category, "user.contact.email");
  EXPECT_EQ((*records)[0].purpose, "newsletter");
  EXPECT_EQ((*records)[0].state, store::RecordState::kActive);
  std::string sealed((*records)[0].sealed_value.begin(), (*records)[0].sealed_value.end());
  EXPECT_EQ(sealed.find("work.p9"), std::string::npos) << "stored sealed";
  HttpResponse listed = Call("GET", "/v1/subjects/p9/records", "", staff);
  ASSERT_TRUE(Answers(listed, 200, "listRecords"));
  rapidjson::Document list = Parsed(listed);
  ASSERT_EQ(list["records"].Size(), 1u);
  EXPECT_EQ(list["records"][0]["record_id"].GetInt64(), record_id);
  EXPECT_STREQ(list["records"][0]["value"].GetString(), "work.p9@example.test");
  EXPECT_STREQ(list["records"][0]["state"].GetString(), "active");

  // The whole of what custos holds about the person.
  HttpResponse view = Call("GET", "/v1/subjects/p9", "", admin);
  ASSERT_TRUE(Answers(view, 200, "getSubject"));
  rapidjson::Document whole = Parsed(view);
  EXPECT_STREQ(whole["subject_id"].GetString(), "p9");
  EXPECT_STREQ(whole["state"].GetString(), "active");
  ASSERT_EQ(whole["identifiers"].Size(), 2u);
  EXPECT_STREQ(whole["identifiers"][0]["value"].GetString(), "p9@example.test");
  EXPECT_STREQ(whole["identifiers"][1]["value"].GetString(), "+44 20 7946 0000");
  ASSERT_EQ(whole["events"].Size(), 2u);
  EXPECT_STREQ(whole["events"][1]["event"].GetString(), "membership_ended");
  EXPECT_STREQ(whole["events"][1]["at"].GetString(), "2026-01-20T00:00:00Z");
  ASSERT_EQ(whole["records"].Size(), 1u);
  EXPECT_STREQ(whole["records"][0]["value"].GetString(), "work.p9@example.test");
}

TEST_F(ApiTest, ConsentsAndPreferencesChangeWhatDecisionsAllow) {
  const std::string& subject = token_[Role::kSubject];  // s1's own token
  EXPECT_TRUE(DecideNow("event_bookings", "user.name").Has(ErrorCode::kConsentMissing));
  HttpResponse given =
      Call("POST", "/v1/subjects/s1/consents",
           R"({"target":"event_bookings","given":true,"evidence":"form-7"})", subject);
  ASSERT_TRUE(Answers(given, 201, "changeConsent"));
  auto ledger = store_->ListConsentEvents("wig", "s1");
  ASSERT_TRUE(ledger.ok());
  ASSERT_EQ(ledger->size(), 1u);
  EXPECT_EQ((*ledger)[0].target, "event_bookings");
  EXPECT_EQ((*ledger)[0].action, store::ConsentAction::kGiven);
  EXPECT_EQ((*ledger)[0].channel, "api");
  EXPECT_EQ((*ledger)[0].notice_version, "2022-02-10");
  EXPECT_TRUE(DecideNow("event_bookings", "user.name").allow);

  HttpResponse withdrawn = Call("POST", "/v1/subjects/s1/consents",
                                R"({"target":"event_bookings","given":false})", subject);
  ASSERT_TRUE(Answers(withdrawn, 201, "changeConsent"));
  ledger = store_->ListConsentEvents("wig", "s1");
  ASSERT_TRUE(ledger.ok());
  ASSERT_EQ(ledger->size(), 2u) << "the ledger only grows";
  EXPECT_EQ((*ledger)[1].action, store::ConsentAction::kWithdrawn);
  EXPECT_TRUE(DecideNow("event_bookings", "user.name").Has(ErrorCode::kConsentWithdrawn));

  // The ledger as ISO/IEC 27560 consent records, evidence unsealed for the person.
  HttpResponse exported = Call("GET", "/v1/subjects/s1/consents", "", subject);
  ASSERT_TRUE(Answers(exported, 200, "exportConsents"));
  rapidjson::Document records = Parsed(exported);
  EXPECT_STREQ(records["pii_principal_id"].GetString(), "s1");
  ASSERT_EQ(records["records"].Size(), 2u);
  EXPECT_STREQ(records["records"][0]["purpose"]["id"].GetString(), "event_bookings");
  EXPECT_STREQ(records["records"][0]["event_type"].GetString(), "given");
  EXPECT_STREQ(records["records"][0]["evidence"].GetString(), "form-7");
  EXPECT_STREQ(records["records"][1]["state"].GetString(), "withdrawn");

  // A channel preference: the newsletter goes by email only while email is allowed.
  ASSERT_TRUE(Answers(
      Call("POST", "/v1/subjects/s1/consents", R"({"target":"newsletter","given":true})", subject),
      201, "changeConsent"));
  EXPECT_TRUE(DecideNow("newsletter", "user.contact.email", "s1", "email").allow);
  HttpResponse off =
      Call("PUT", "/v1/subjects/s1/preferences/email", R"({"allowed":false})", subject);
  ASSERT_TRUE(Answers(off, 200, "setPreference"));
  auto preferences = store_->ListPreferences("wig", "s1");
  ASSERT_TRUE(preferences.ok());
  ASSERT_EQ(preferences->size(), 1u);
  EXPECT_EQ((*preferences)[0].channel, "email");
  EXPECT_FALSE((*preferences)[0].allowed);
  EXPECT_TRUE(DecideNow("newsletter", "user.contact.email", "s1", "email")
                  .Has(ErrorCode::kChannelOptedOut));
  HttpResponse on =
      Call("PUT", "/v1/subjects/s1/preferences/email", R"({"allowed":true})", token_[Role::kStaff]);
  ASSERT_TRUE(Answers(on, 200, "setPreference"));
  EXPECT_TRUE(DecideNow("newsletter", "user.contact.email", "s1", "email").allow);
}

TEST_F(ApiTest, ObjectionsAndRestrictionsStopProcessingUntilLifted) {
  const std::string& subject = token_[Role::kSubject];
  ASSERT_TRUE(DecideNow("membership_records", "user.name").allow) << "legitimate interests";
  HttpResponse objected =
      Call("POST", "/v1/subjects/s1/objections", R"({"purpose":"membership_records"})", subject);
  ASSERT_TRUE(Answers(objected, 201, "object"));
  auto objections = store_->ListObjections("wig", "s1");
  ASSERT_TRUE(objections.ok());
  ASSERT_EQ(objections->size(), 1u);
  EXPECT_EQ((*objections)[0].purpose, "membership_records");
  EXPECT_FALSE((*objections)[0].lifted_at.has_value());
  EXPECT_TRUE(DecideNow("membership_records", "user.name").Has(ErrorCode::kObjected));

  clock_.Set(T("2026-02-03"));
  HttpResponse lifted =
      Call("DELETE", "/v1/subjects/s1/objections/membership_records", "", subject);
  ASSERT_TRUE(Answers(lifted, 200, "liftObjection"));
  objections = store_->ListObjections("wig", "s1");
  ASSERT_TRUE(objections.ok());
  ASSERT_EQ(objections->size(), 1u) << "kept, marked lifted";
  EXPECT_EQ((*objections)[0].lifted_at, T("2026-02-03"));
  EXPECT_TRUE(DecideNow("membership_records", "user.name").allow);

  // A restriction (Article 18) of one category holds its processing until the DPO lifts it.
  HttpResponse restricted =
      Call("POST", "/v1/subjects/s1/restrictions",
           R"({"categories":["user.name"],"reason":"accuracy_contested"})", subject);
  ASSERT_TRUE(Answers(restricted, 201, "restrict"));
  int64_t restriction_id = Parsed(restricted)["restriction_id"].GetInt64();
  auto restrictions = store_->ListRestrictions("wig", "s1");
  ASSERT_TRUE(restrictions.ok());
  ASSERT_EQ(restrictions->size(), 1u);
  EXPECT_EQ((*restrictions)[0].restriction_id, restriction_id);
  EXPECT_EQ((*restrictions)[0].categories, std::vector<std::string>{"user.name"});
  // The reason is stored sealed and read back as given.
  EXPECT_EQ((*restrictions)[0].reason.rfind("sealed:", 0), 0u) << (*restrictions)[0].reason;
  auto view = engine_->ReadSubject("s1", "test", "test");
  ASSERT_TRUE(view.ok() && view->restrictions.size() == 1u);
  EXPECT_EQ(view->restrictions[0].reason, "accuracy_contested");
  EXPECT_TRUE(DecideNow("membership_records", "user.name").Has(ErrorCode::kRestricted));
  EXPECT_TRUE(DecideNow("membership_records", "user.job_title").allow) << "one category only";

  clock_.Set(T("2026-02-05"));
  HttpResponse unrestricted =
      Call("DELETE", "/v1/subjects/s1/restrictions/" + std::to_string(restriction_id), "",
           token_[Role::kDpo]);
  ASSERT_TRUE(Answers(unrestricted, 200, "liftRestriction"));
  restrictions = store_->ListRestrictions("wig", "s1");
  ASSERT_TRUE(restrictions.ok());
  ASSERT_EQ(restrictions->size(), 1u);
  EXPECT_EQ((*restrictions)[0].lifted_at, T("2026-02-05"));
  EXPECT_TRUE(DecideNow("membership_records", "user.name").allow);
}

TEST_F(ApiTest, DecisionsAndSuppressionsAnswerWithTheirReasons) {
  const std::string email = "p3@example.test";
  ASSERT_TRUE(
      engine_->AddSubject({"p3", {"non_member"}, {{"email", email, true}}, T("2026-01-01"), "t"})
          .ok());
  engine::ConsentChangeRequest consent;
  consent.subject_id = "p3";
  consent.target = "newsletter";
  ASSERT_TRUE(engine_->ChangeConsent(consent).ok());
  const std::string ask =
      R"({"subject_id":"p3","purpose":"newsletter","categories":["user.contact.email"],)"
      R"("channel":"email"})";
  HttpResponse allowed = Call("POST", "/v1/decisions", ask, token_[Role::kProcessor]);
  ASSERT_TRUE(Answers(allowed, 200, "decide"));
  rapidjson::Document yes = Parsed(allowed);
  EXPECT_TRUE(yes["allow"].GetBool());
  EXPECT_STREQ(yes["basis"].GetString(), "consent");
  EXPECT_STREQ(yes["at"].GetString(), "2026-02-01T00:00:00Z");
  EXPECT_EQ(yes["reasons"].Size(), 0u);

  // Suppressing the address (a keyed hash, kept even after erasure) stops the marketing.
  auto suppressed = engine_->IsSuppressed("email", email);
  ASSERT_TRUE(suppressed.ok());
  EXPECT_FALSE(*suppressed);
  HttpResponse suppress =
      Call("POST", "/v1/suppressions", R"({"kind":"email","value":")" + email + R"("})",
           token_[Role::kDpo]);
  ASSERT_TRUE(Answers(suppress, 201, "suppress"));
  suppressed = engine_->IsSuppressed("email", email);
  ASSERT_TRUE(suppressed.ok());
  EXPECT_TRUE(*suppressed);
  HttpResponse denied = Call("POST", "/v1/decisions", ask, token_[Role::kStaff]);
  ASSERT_TRUE(Answers(denied, 200, "decide"));
  rapidjson::Document no = Parsed(denied);
  EXPECT_FALSE(no["allow"].GetBool());
  ASSERT_GE(no["reasons"].Size(), 1u);
  EXPECT_STREQ(no["reasons"][0]["code"].GetString(), "SUPPRESSED") << denied.body;
}

TEST_F(ApiTest, RetentionPlansAndRunsKeepWhatALegalHoldCovers) {
  // Both people's emails fall due five years after their last activity; a legal hold keeps s2's.
  for (const char* id : {"s1", "s2"}) {
    ASSERT_TRUE(engine_->RecordEvent(id, "last_activity", T("2026-01-02"), "t").ok());
    ASSERT_TRUE(engine_
                    ->PutRecord({id, "user.contact.email", std::string(id) + "@example.test",
                                 "direct", "newsletter", T("2026-01-02"), "t"})
                    .ok());
  }
  const std::string& dpo = token_[Role::kDpo];
  HttpResponse placed =
      Call("POST", "/v1/legal-holds", R"({"subject_id":"s2","reason":"litigation"})", dpo);
  ASSERT_TRUE(Answers(placed, 201, "placeLegalHold"));
  int64_t hold_id = Parsed(placed)["hold_id"].GetInt64();
  auto holds = store_->ListLegalHolds("wig");
  ASSERT_TRUE(holds.ok());
  ASSERT_EQ(holds->size(), 1u);
  EXPECT_EQ((*holds)[0].hold_id, hold_id);
  EXPECT_EQ((*holds)[0].subject_id, "s2");
  EXPECT_EQ((*holds)[0].reason.rfind("sealed:", 0), 0u) << "stored sealed";
  auto opened_holds = engine_->ListLegalHolds();
  ASSERT_TRUE(opened_holds.ok() && opened_holds->size() == 1u);
  EXPECT_EQ((*opened_holds)[0].reason, "litigation");
  HttpResponse listed = Call("GET", "/v1/legal-holds", "", dpo);
  ASSERT_TRUE(Answers(listed, 200, "listLegalHolds"));
  rapidjson::Document list = Parsed(listed);
  ASSERT_EQ(list["legal_holds"].Size(), 1u);
  EXPECT_EQ(list["legal_holds"][0]["hold_id"].GetInt64(), hold_id);
  EXPECT_TRUE(list["legal_holds"][0]["released_at"].IsNull());

  clock_.Set(T("2031-06-01"));
  const std::string rule = "non_member_contact_after_inactivity";
  HttpResponse plan = Call("POST", "/v1/retention/plan", "", dpo);
  ASSERT_TRUE(Answers(plan, 200, "planRetention"));
  rapidjson::Document planned = Parsed(plan);
  EXPECT_STREQ(planned["as_of"].GetString(), "2031-06-01T00:00:00Z");
  EXPECT_EQ(planned["totals"]["deleted"].GetInt64(), 1);
  EXPECT_EQ(planned["totals"]["held"].GetInt64(), 1);
  EXPECT_EQ(planned["by_rule"][rule.c_str()]["held"].GetInt64(), 1);
  auto records = store_->ListRecords("wig", "s1");
  ASSERT_TRUE(records.ok() && records->size() == 1);
  EXPECT_EQ((*records)[0].state, store::RecordState::kActive) << "a plan changes nothing";

  HttpResponse run = Call("POST", "/v1/retention/runs", "", dpo);
  ASSERT_TRUE(Answers(run, 201, "runRetention"));
  rapidjson::Document ran = Parsed(run);
  EXPECT_GT(ran["run_id"].GetInt64(), 0);
  EXPECT_FALSE(ran["resumed"].GetBool());
  EXPECT_EQ(ran["totals"]["deleted"].GetInt64(), 1);
  EXPECT_EQ(ran["totals"]["held"].GetInt64(), 1);
  auto last_run = store_->LastRetentionRun("wig");
  ASSERT_TRUE(last_run.ok() && last_run->has_value());
  EXPECT_EQ((*last_run)->run_id, ran["run_id"].GetInt64());
  // Nothing of s1 was left but the email: the whole person is erased (their key destroyed).
  EXPECT_EQ(ran["totals"]["erased"].GetInt64(), 1);
  auto erased = store_->GetSubject("wig", "s1");
  ASSERT_TRUE(erased.ok() && erased->has_value());
  EXPECT_EQ((*erased)->state, store::SubjectState::kErased);
  EXPECT_TRUE((*erased)->wrapped_key.empty());
  EXPECT_TRUE(Answers(Call("GET", "/v1/subjects/s1", "", dpo), 410, "getSubject"));
  auto kept = store_->ListRecords("wig", "s2");
  ASSERT_TRUE(kept.ok() && kept->size() == 1);
  EXPECT_EQ((*kept)[0].state, store::RecordState::kActive) << "held";

  HttpResponse released =
      Call("POST", "/v1/legal-holds/" + std::to_string(hold_id) + "/release", "", dpo);
  ASSERT_TRUE(Answers(released, 200, "releaseLegalHold"));
  holds = store_->ListLegalHolds("wig");
  ASSERT_TRUE(holds.ok() && holds->size() == 1);
  EXPECT_EQ((*holds)[0].released_at, T("2031-06-01"));
  listed = Call("GET", "/v1/legal-holds", "", dpo);
  ASSERT_TRUE(Answers(listed, 200, "listLegalHolds"));
  EXPECT_STREQ(Parsed(listed)["legal_holds"][0]["released_at"].GetString(), "2031-06-01T00:00:00Z");
  plan = Call("POST", "/v1/retention/plan", "", dpo);
  ASSERT_TRUE(Answers(plan, 200, "planRetention"));
  planned = Parsed(plan);
  EXPECT_EQ(planned["totals"]["held"].GetInt64(), 0);
  EXPECT_EQ(planned["totals"]["deleted"].GetInt64(), 1) << "s2's email, released";
}

TEST_F(ApiTest, ReviewTasksOpenedBySweepsAreListedAndDone) {
  // Progress Together reviews an enquirer's data once the query is answered.
  UsePolicy("progress_together.yaml", "progress_together");
  ASSERT_TRUE(engine_->AddSubject({"e1", {"enquirer"}, {}, T("2026-01-05"), "t"}).ok());
  ASSERT_TRUE(engine_
                  ->PutRecord({"e1", "user.name", "Sam Enquirer", "you", "responding_to_queries",
                               T("2026-01-05"), "t"})
                  .ok());
  ASSERT_TRUE(engine_->RecordEvent("e1", "query_answered", T("2026-01-10"), "t").ok());
  const std::string& dpo = token_[Role::kDpo];
  HttpResponse run = Call("POST", "/v1/retention/runs", "", dpo);
  ASSERT_TRUE(Answers(run, 201, "runRetention"));
  EXPECT_EQ(Parsed(run)["totals"]["reviews"].GetInt64(), 1) << run.body;

  HttpResponse open = Call("GET", "/v1/review-tasks", "", dpo);
  ASSERT_TRUE(Answers(open, 200, "listReviewTasks"));
  rapidjson::Document tasks = Parsed(open);
  ASSERT_EQ(tasks["review_tasks"].Size(), 1u) << open.body;
  const rapidjson::Value& task = tasks["review_tasks"][0];
  EXPECT_STREQ(task["subject_id"].GetString(), "e1");
  EXPECT_STREQ(task["rule_id"].GetString(), "query_answered_review");
  EXPECT_TRUE(task["done_at"].IsNull());
  int64_t task_id = task["task_id"].GetInt64();

  clock_.Set(T("2026-02-02"));
  HttpResponse done =
      Call("POST", "/v1/review-tasks/" + std::to_string(task_id) + "/done", "", dpo);
  ASSERT_TRUE(Answers(done, 200, "completeReviewTask"));
  auto stored = store_->ListReviewTasks("progress_together", false);
  ASSERT_TRUE(stored.ok() && stored->size() == 1);
  EXPECT_EQ((*stored)[0].done_at, T("2026-02-02"));
  open = Call("GET", "/v1/review-tasks", "", dpo);
  ASSERT_TRUE(Answers(open, 200, "listReviewTasks"));
  EXPECT_EQ(Parsed(open)["review_tasks"].Size(), 0u) << "done: no longer open";
  HttpResponse all = Call("GET", "/v1/review-tasks", "", dpo, {{"all", "true"}});
  ASSERT_TRUE(Answers(all, 200, "listReviewTasks"));
  rapidjson::Document every = Parsed(all);
  ASSERT_EQ(every["review_tasks"].Size(), 1u);
  EXPECT_STREQ(every["review_tasks"][0]["done_at"].GetString(), "2026-02-02T00:00:00Z");
}

TEST_F(ApiTest, AggregatesCountPeoplePerValueAndSuppressSmallCells) {
  // Ten analysts make a cell; two directors are a small cell, suppressed.
  for (int i = 0; i < 12; ++i) {
    std::string id = "a" + std::to_string(i);
    ASSERT_TRUE(engine_->AddSubject({id, {"non_member"}, {}, T("2026-01-01"), "t"}).ok());
    ASSERT_TRUE(engine_
                    ->PutRecord({id, "user.job_title", i < 10 ? "Analyst" : "Director", "direct",
                                 "membership_records", T("2026-01-02"), "t"})
                    .ok());
  }
  HttpResponse counted = Call("GET", "/v1/aggregates/user.job_title", "", token_[Role::kDpo]);
  ASSERT_TRUE(Answers(counted, 200, "aggregate"));
  rapidjson::Document cells = Parsed(counted);
  EXPECT_STREQ(cells["category"].GetString(), "user.job_title");
  EXPECT_EQ(cells["threshold"].GetInt(), 10);
  ASSERT_EQ(cells["cells"].Size(), 1u) << counted.body;
  EXPECT_STREQ(cells["cells"][0]["value"].GetString(), "Analyst");
  EXPECT_EQ(cells["cells"][0]["count"].GetInt64(), 10);
  EXPECT_EQ(cells["suppressed_cells"].GetInt64(), 1);
  HttpResponse raised =
      Call("GET", "/v1/aggregates/user.job_title", "", token_[Role::kAdmin], {{"threshold", "11"}});
  ASSERT_TRUE(Answers(raised, 200, "aggregate"));
  EXPECT_EQ(Parsed(raised)["cells"].Size(), 0u);
  EXPECT_EQ(Parsed(raised)["suppressed_cells"].GetInt64(), 2);
}

TEST_F(ApiTest, ThePersonOpensVerifiesFollowsAndWithdrawsTheirRequest) {
  HttpResponse opened =
      Call("POST", "/v1/requests", R"({"type":"erasure","email":"sam.person@example.test"})", "");
  ASSERT_TRUE(Answers(opened, 202, "openRequest"));
  std::string id = JsonString(opened.body, "request_id");
  EXPECT_EQ(JsonString(opened.body, "state"), "verifying_identity");
  EXPECT_EQ(Header(opened, "Location"), "/v1/requests/" + id + "/status");
  auto row = StoredRequest(id);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->type, "erasure");
  EXPECT_EQ(row->intake, "self_service");
  EXPECT_EQ(row->state, store::RequestState::kVerifyingIdentity);
  std::string first = LastCode(id);

  // A new code replaces the first, which stops working.
  HttpResponse resent = Call("POST", "/v1/requests/" + id + "/code", "", "");
  ASSERT_TRUE(Answers(resent, 202, "resendRequestCode"));
  EXPECT_EQ(JsonString(resent.body, "request_id"), id);
  auto messages = store_->ListOutbox("wig", id);
  ASSERT_TRUE(messages.ok());
  EXPECT_EQ(messages->size(), 2u) << "a second code went out";
  std::string second = LastCode(id);
  ASSERT_NE(second, first);
  const std::string verify = "/v1/requests/" + id + "/verification";
  EXPECT_TRUE(
      Answers(Call("POST", verify, R"({"code":")" + first + R"("})", ""), 403, "verifyRequest"));
  HttpResponse verified = Call("POST", verify, R"({"code":")" + second + R"("})", "");
  ASSERT_TRUE(Answers(verified, 200, "verifyRequest"));
  EXPECT_EQ(JsonString(verified.body, "state"), "in_progress");
  EXPECT_EQ(JsonString(verified.body, "due_on"), "2026-03-02");
  std::string secret = JsonString(verified.body, "requester_secret");
  EXPECT_EQ(secret.rfind("rq_" + id + "_", 0), 0u);
  row = StoredRequest(id);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->state, store::RequestState::kInProgress);
  EXPECT_EQ(row->verification, "code_to_email");
  ASSERT_TRUE(row->due_at.has_value());
  EXPECT_EQ(row->due_at->Date().ToString(), "2026-03-02");

  HttpResponse status = Call("GET", "/v1/requests/" + id + "/status", "", secret);
  ASSERT_TRUE(Answers(status, 200, "getRequestStatus"));
  rapidjson::Document followed = Parsed(status);
  EXPECT_STREQ(followed["type"].GetString(), "erasure");
  EXPECT_STREQ(followed["state"].GetString(), "in_progress");
  auto history = store_->ListRequestEvents("wig", id);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(followed["history"].Size(), history->size());

  HttpResponse withdrawn = Call("POST", "/v1/requests/" + id + "/withdrawal", "", secret);
  ASSERT_TRUE(Answers(withdrawn, 200, "withdrawRequest"));
  EXPECT_EQ(JsonString(withdrawn.body, "state"), "withdrawn");
  row = StoredRequest(id);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->state, store::RequestState::kWithdrawn);
  EXPECT_EQ(row->closed_at, T("2026-02-01"));
}

TEST_F(ApiTest, StaffStepsMoveTheRequestAndItsDueDate) {
  AllowExtensions();
  const std::string& staff = token_[Role::kStaff];
  const std::string& dpo = token_[Role::kDpo];
  HttpResponse opened =
      Call("POST", "/v1/subjects/s1/requests",
           R"({"type":"objection","purpose":"newsletter","note":"by phone"})", staff);
  ASSERT_TRUE(Answers(opened, 201, "openStaffRequest"));
  std::string id = JsonString(opened.body, "request_id");
  EXPECT_EQ(Header(opened, "Location"), "/v1/requests/" + id);
  EXPECT_TRUE(Parsed(opened)["due_on"].IsNull()) << "the month waits for the identity check";
  auto row = StoredRequest(id);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->intake, "staff");
  EXPECT_EQ(row->subject_ids, std::vector<std::string>{"s1"});
  EXPECT_EQ(std::string(store::RequestStateName(row->state)), JsonString(opened.body, "state"));
  EXPECT_FALSE(row->due_at.has_value());
  const std::string path = "/v1/requests/" + id;

  HttpResponse identity = Call("POST", path + "/identity", R"({"method":"passport_seen"})", staff);
  ASSERT_TRUE(Answers(identity, 200, "verifyRequestIdentity"));
  EXPECT_EQ(JsonString(identity.body, "state"), "in_progress");
  EXPECT_EQ(JsonString(identity.body, "due_on"), "2026-03-02");
  row = StoredRequest(id);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->verification, "staff:passport_seen");
  EXPECT_EQ(row->clock_started_at, T("2026-02-01"));

  // Waiting for the person stops the month; their answer starts it again from that day.
  HttpResponse wait = Call("POST", path + "/wait", R"({"for":"clarification"})", staff);
  ASSERT_TRUE(Answers(wait, 200, "awaitRequester"));
  EXPECT_EQ(JsonString(wait.body, "waiting_for"), "clarification");
  EXPECT_TRUE(Parsed(wait)["due_on"].IsNull());
  row = StoredRequest(id);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->waiting_for, "clarification");
  EXPECT_FALSE(row->due_at.has_value());
  clock_.Set(T("2026-02-10"));
  HttpResponse answered = Call("POST", path + "/answer", "", staff);
  ASSERT_TRUE(Answers(answered, 200, "requesterAnswered"));
  EXPECT_EQ(JsonString(answered.body, "waiting_for"), "");
  EXPECT_EQ(JsonString(answered.body, "due_on"), "2026-03-10");
  row = StoredRequest(id);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->clock_started_at, T("2026-02-10"));
  ASSERT_TRUE(row->due_at.has_value());
  EXPECT_EQ(row->due_at->Date().ToString(), "2026-03-10");

  // An extension moves the due date by the policy's two months (Sunday 10 May: Monday 11).
  clock_.Set(T("2026-02-11"));
  HttpResponse extended = Call("POST", path + "/extension", R"({"reason":"complex"})", dpo);
  ASSERT_TRUE(Answers(extended, 200, "extendRequest"));
  EXPECT_EQ(JsonString(extended.body, "state"), "extended");
  EXPECT_EQ(JsonString(extended.body, "due_on"), "2026-05-11");
  row = StoredRequest(id);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->state, store::RequestState::kExtended);
  EXPECT_EQ(row->extended_at, T("2026-02-11"));
  ASSERT_TRUE(row->due_at.has_value());
  EXPECT_EQ(row->due_at->Date().ToString(), "2026-05-11");

  HttpResponse fulfilled = Call("POST", path + "/fulfilment", "", staff);
  ASSERT_TRUE(Answers(fulfilled, 200, "fulfilRequest"));
  EXPECT_EQ(JsonString(fulfilled.body, "state"), "completed");
  row = StoredRequest(id);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->state, store::RequestState::kCompleted);
  EXPECT_EQ(row->closed_at, T("2026-02-11"));

  // The lists and the full view show every step, with who took it.
  HttpResponse all = Call("GET", "/v1/requests", "", staff);
  ASSERT_TRUE(Answers(all, 200, "listRequests"));
  rapidjson::Document listed = Parsed(all);
  ASSERT_EQ(listed["requests"].Size(), 1u);
  EXPECT_STREQ(listed["requests"][0]["request_id"].GetString(), id.c_str());
  EXPECT_STREQ(listed["requests"][0]["state"].GetString(), "completed");
  HttpResponse open = Call("GET", "/v1/requests", "", staff, {{"filter", "open"}});
  ASSERT_TRUE(Answers(open, 200, "listRequests"));
  EXPECT_EQ(Parsed(open)["requests"].Size(), 0u);
  HttpResponse view = Call("GET", path, "", dpo);
  ASSERT_TRUE(Answers(view, 200, "getRequest"));
  rapidjson::Document full = Parsed(view);
  EXPECT_STREQ(full["note"].GetString(), "by phone");
  EXPECT_STREQ(full["due_on"].GetString(), "2026-05-11");
  std::vector<std::string> events;
  for (const auto& step : full["history"].GetArray()) events.push_back(step["event"].GetString());
  for (const char* step : {"identity_verified", "clarification_requested", "clarification_received",
                           "extended", "completed"}) {
    EXPECT_NE(std::find(events.begin(), events.end(), step), events.end()) << step;
  }

  // A refusal closes another request with its reason.
  std::string refused_id = OpenByStaff("access", "passport_seen");
  HttpResponse refused = Call("POST", "/v1/requests/" + refused_id + "/refusal",
                              R"({"reason":"manifestly_unfounded"})", dpo);
  ASSERT_TRUE(Answers(refused, 200, "refuseRequest"));
  EXPECT_EQ(JsonString(refused.body, "state"), "refused");
  row = StoredRequest(refused_id);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->state, store::RequestState::kRefused);
  EXPECT_EQ(row->outcome, "refused:manifestly_unfounded");
  EXPECT_EQ(row->closed_at, T("2026-02-11"));
}

TEST_F(ApiTest, PortabilityExportHoldsWhatThePersonGave) {
  ASSERT_TRUE(engine_
                  ->PutRecord({"s1", "user.contact.email", "s1.own@example.test", "direct",
                               "newsletter", T("2026-01-02"), "t"})
                  .ok());
  std::string id = OpenByStaff("portability", "passport_seen");
  HttpResponse fulfilled =
      Call("POST", "/v1/requests/" + id + "/fulfilment", "", token_[Role::kDpo]);
  ASSERT_TRUE(Answers(fulfilled, 200, "fulfilRequest"));
  HttpResponse json = Call("GET", "/v1/requests/" + id + "/document", "", token_[Role::kDpo]);
  ASSERT_TRUE(Answers(json, 200, "getRequestDocument"));
  EXPECT_EQ(Header(json, "Content-Disposition"), "attachment; filename=\"" + id + ".json\"");
  rapidjson::Document exported = Parsed(json);
  EXPECT_STREQ(exported["format"].GetString(), "custos.portability_export.v1");
  ASSERT_EQ(exported["subjects"].Size(), 1u);
  ASSERT_EQ(exported["subjects"][0]["records"].Size(), 1u);
  EXPECT_STREQ(exported["subjects"][0]["records"][0]["value"].GetString(), "s1.own@example.test");
  HttpResponse csv =
      Call("GET", "/v1/requests/" + id + "/document", "", token_[Role::kDpo], {{"format", "csv"}});
  ASSERT_TRUE(Answers(csv, 200, "getRequestDocument"));
  EXPECT_EQ(csv.content_type, "text/csv; charset=utf-8");
  EXPECT_NE(csv.body.find("s1,user.contact.email"), std::string::npos) << csv.body;
  EXPECT_NE(csv.body.find("s1.own@example.test"), std::string::npos);
}

TEST_F(ApiTest, PurgeShredsThePersonalPartsOfRequestsClosedAMonthAgo) {
  HttpResponse opened = Call("POST", "/v1/subjects/s1/requests",
                             R"({"type":"access","verified_by":"passport_seen",)"
                             R"("email":"s1.contact@example.test","note":"asked at the desk"})",
                             token_[Role::kDpo]);
  ASSERT_TRUE(Answers(opened, 201, "openStaffRequest"));
  std::string id = JsonString(opened.body, "request_id");
  std::string open_id = OpenByStaff("access", "passport_seen");  // stays open: kept whole
  ASSERT_EQ(Call("POST", "/v1/requests/" + id + "/fulfilment", "", token_[Role::kDpo]).status, 200);
  HttpResponse before = Call("GET", "/v1/requests/" + id, "", token_[Role::kDpo]);
  ASSERT_TRUE(Answers(before, 200, "getRequest"));
  EXPECT_STREQ(Parsed(before)["contact"]["value"].GetString(), "s1.contact@example.test");
  EXPECT_STREQ(Parsed(before)["note"].GetString(), "asked at the desk");

  // Not yet: the answer is kept for 30 days after closing.
  HttpResponse early = Call("POST", "/v1/requests/purge", "", token_[Role::kDpo]);
  ASSERT_TRUE(Answers(early, 200, "purgeRequests"));
  EXPECT_EQ(Parsed(early)["purged"].GetInt64(), 0);
  clock_.Set(T("2026-03-15"));
  HttpResponse purged = Call("POST", "/v1/requests/purge", "", token_[Role::kAdmin]);
  ASSERT_TRUE(Answers(purged, 200, "purgeRequests"));
  EXPECT_EQ(Parsed(purged)["purged"].GetInt64(), 1);
  auto row = StoredRequest(id);
  ASSERT_TRUE(row.has_value());
  EXPECT_TRUE(row->wrapped_key.empty());
  EXPECT_TRUE(row->sealed_details.empty());
  EXPECT_TRUE(row->sealed_result.empty());
  EXPECT_EQ(row->state, store::RequestState::kCompleted) << "the proof stays";
  auto still = StoredRequest(open_id);
  ASSERT_TRUE(still.has_value());
  EXPECT_FALSE(still->wrapped_key.empty());
  HttpResponse after = Call("GET", "/v1/requests/" + id, "", token_[Role::kDpo]);
  ASSERT_TRUE(Answers(after, 200, "getRequest"));
  rapidjson::Document shredded = Parsed(after);
  EXPECT_TRUE(shredded["personal_parts_shredded"].GetBool());
  EXPECT_TRUE(shredded["contact"].IsNull());
  EXPECT_STREQ(shredded["note"].GetString(), "");
  EXPECT_EQ(after.body.find("s1.contact@example.test"), std::string::npos);
  EXPECT_NE(after.body.find("personal_parts_shredded\",\"state"), std::string::npos)
      << "the shredding is in the history";
  EXPECT_TRUE(Answers(Call("GET", "/v1/requests/" + id + "/document", "", token_[Role::kDpo]), 404,
                      "getRequestDocument"))
      << "the answer is gone";
}

TEST_F(ApiTest, EndpointsAndTheOutboxShowStatesNeverSecrets) {
  const std::string& dpo = token_[Role::kDpo];
  HttpResponse set =
      Call("PUT", "/v1/endpoints/third_party_platforms",
           R"({"url":"https://hooks.example.test/wig","secret":"s3cr3t-s3cr3t-42"})", dpo);
  ASSERT_TRUE(Answers(set, 200, "setEndpoint"));
  EXPECT_EQ(JsonString(set.body, "recipient"), "third_party_platforms");
  EXPECT_EQ(JsonString(set.body, "url"), "https://hooks.example.test/wig");
  auto endpoint = store_->GetRecipientEndpoint("wig", "third_party_platforms");
  ASSERT_TRUE(endpoint.ok() && endpoint->has_value());
  EXPECT_EQ((*endpoint)->url, "https://hooks.example.test/wig");
  std::string sealed((*endpoint)->sealed_secret.begin(), (*endpoint)->sealed_secret.end());
  EXPECT_EQ(sealed.find("s3cr3t"), std::string::npos) << "stored sealed";
  HttpResponse endpoints = Call("GET", "/v1/endpoints", "", dpo);
  ASSERT_TRUE(Answers(endpoints, 200, "listEndpoints"));
  rapidjson::Document listed = Parsed(endpoints);
  ASSERT_EQ(listed["endpoints"].Size(), 1u);
  EXPECT_STREQ(listed["endpoints"][0]["url"].GetString(), "https://hooks.example.test/wig");
  EXPECT_STREQ(listed["endpoints"][0]["updated_at"].GetString(), "2026-02-01T00:00:00Z");
  EXPECT_EQ(endpoints.body.find("s3cr3t"), std::string::npos);

  // The code sent to a person waits in the outbox for someone to deliver it by hand (no
  // endpoint for requesters); its payload never shows.
  std::string id = OpenByPerson("access", "outbox.person@example.test");
  std::string other = OpenByPerson("access", "outbox.other@example.test");
  HttpResponse outbox = Call("GET", "/v1/outbox", "", dpo, {{"request_id", id}});
  ASSERT_TRUE(Answers(outbox, 200, "listOutbox"));
  rapidjson::Document messages = Parsed(outbox);
  auto stored = store_->ListOutbox("wig", id);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(messages["messages"].Size(), stored->size());
  ASSERT_EQ(stored->size(), 1u);
  const rapidjson::Value& message = messages["messages"][0];
  EXPECT_EQ(message["outbox_id"].GetInt64(), (*stored)[0].outbox_id);
  EXPECT_STREQ(message["request_id"].GetString(), id.c_str());
  EXPECT_STREQ(message["kind"].GetString(), "requester_message");
  EXPECT_STREQ(message["target"].GetString(), "requester");
  EXPECT_STREQ(message["state"].GetString(), "manual");
  EXPECT_EQ(outbox.body.find(LastCode(id)), std::string::npos);
  EXPECT_EQ(outbox.body.find("outbox.person"), std::string::npos);
  HttpResponse everything = Call("GET", "/v1/outbox", "", token_[Role::kAdmin]);
  ASSERT_TRUE(Answers(everything, 200, "listOutbox"));
  EXPECT_EQ(Parsed(everything)["messages"].Size(), 2u);
  EXPECT_NE(everything.body.find(other), std::string::npos);
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

TEST_F(ApiTest, StaffReadingASubjectSeeOnlyWhatTheirPurposesUse) {
  // A staff token for WIG's newsletter (user.name, user.contact.email,
  // user.communication_history by email; UK GDPR Art. 5(1)(b)-(c), purpose limitation and data
  // minimisation) reads s1 for the newsletter: nothing of other purposes comes back. The same
  // read as the DPO shows everything, so each thing left out is really there.
  const std::string email = "narrow.person@example.test", phone = "+447700900456",
                    external = "crm-narrow-77", name = "Narrow Namedperson",
                    member_name = "Member Recordname";
  ASSERT_TRUE(engine_->AddIdentifier("s1", {"email", email, true}, std::nullopt, "t").ok());
  ASSERT_TRUE(engine_->AddIdentifier("s1", {"phone", phone, true}, std::nullopt, "t").ok());
  ASSERT_TRUE(engine_->AddIdentifier("s1", {"external", external, true}, std::nullopt, "t").ok());
  ASSERT_TRUE(
      engine_->PutRecord({"s1", "user.name", name, "direct", "newsletter", std::nullopt, "t"})
          .ok());
  ASSERT_TRUE(engine_
                  ->PutRecord({"s1", "user.name", member_name, "direct", "membership_records",
                               std::nullopt, "t"})
                  .ok());
  for (const char* purpose : {"newsletter", "event_bookings"}) {
    engine::ConsentChangeRequest consent;
    consent.subject_id = "s1";
    consent.target = purpose;
    ASSERT_TRUE(engine_->ChangeConsent(consent).ok());
  }
  ASSERT_TRUE(engine_->SetPreference("s1", "email", true, std::nullopt, "t").ok());
  ASSERT_TRUE(engine_->SetPreference("s1", "post", false, std::nullopt, "t").ok());
  ASSERT_TRUE(engine_->Object("s1", "opportunities", std::nullopt, "t").ok());
  ASSERT_TRUE(engine_->Object("s1", "newsletter", std::nullopt, "t").ok());
  ASSERT_TRUE(engine_->RecordEvent("s1", "service_completed", std::nullopt, "t").ok());
  ASSERT_TRUE(engine_->RecordEvent("s1", "last_activity", std::nullopt, "t").ok());
  ASSERT_TRUE(engine_
                  ->Restrict("s1", {"user.health_and_medical.access_dietary"}, "accuracy_contested",
                             std::nullopt, "t")
                  .ok());
  ASSERT_TRUE(engine_->Restrict("s1", {}, "legal_claims", std::nullopt, "t").ok());

  const std::vector<std::pair<std::string, std::string>> query = {{"purpose", "newsletter"}};
  HttpResponse all = Call("GET", "/v1/subjects/s1", "", token_[Role::kDpo], query);
  HttpResponse staff = Call("GET", "/v1/subjects/s1", "", token_[Role::kStaff], query);
  ASSERT_TRUE(Answers(all, 200, "getSubject"));
  ASSERT_TRUE(Answers(staff, 200, "getSubject"));
  rapidjson::Document a = Parsed(all), st = Parsed(staff);
  auto strings = [](const rapidjson::Value& list, const char* key) {
    std::multiset<std::string> out;
    for (const auto& item : list.GetArray()) {
      const auto& v = item[key];
      out.insert(v.IsString() ? v.GetString() : v.IsArray() ? std::to_string(v.Size()) : "?");
    }
    return out;
  };
  using Set = std::multiset<std::string>;
  // Identifiers: only the email (user.contact.email is the newsletter's; phone and external
  // ids are not).
  EXPECT_EQ(strings(a["identifiers"], "value"), (Set{email, phone, external}));
  EXPECT_EQ(strings(st["identifiers"], "value"), Set{email});
  // Records: those kept for the newsletter.
  EXPECT_EQ(strings(a["records"], "value"), (Set{name, member_name}));
  EXPECT_EQ(strings(st["records"], "value"), Set{name});
  // Consents, preferences, objections: the newsletter's and its channel's.
  EXPECT_EQ(strings(a["consents"], "target"), (Set{"newsletter", "event_bookings"}));
  EXPECT_EQ(strings(st["consents"], "target"), Set{"newsletter"});
  EXPECT_EQ(strings(a["preferences"], "channel"), (Set{"email", "post"}));
  EXPECT_EQ(strings(st["preferences"], "channel"), Set{"email"});
  EXPECT_EQ(strings(a["objections"], "purpose"), (Set{"opportunities", "newsletter"}));
  EXPECT_EQ(strings(st["objections"], "purpose"), Set{"newsletter"});
  // Events: last_activity starts the clock on contact details; service_completed only on
  // access and dietary needs, which the newsletter does not use.
  EXPECT_EQ(strings(a["events"], "event"),
            (Set{"subject_created", "service_completed", "last_activity"}));
  EXPECT_EQ(strings(st["events"], "event"), Set{"last_activity"});
  // Restrictions: of all data (it covers the newsletter's too), not of dietary needs alone.
  EXPECT_EQ(strings(a["restrictions"], "categories"), (Set{"1", "0"}));
  EXPECT_EQ(strings(st["restrictions"], "categories"), Set{"0"});
  for (const auto& hidden : {phone, external, member_name, std::string("event_bookings"),
                             std::string("opportunities"), std::string("access_dietary")}) {
    EXPECT_EQ(staff.body.find(hidden), std::string::npos) << hidden;
  }
  // The records route narrows alike.
  HttpResponse records = Call("GET", "/v1/subjects/s1/records", "", token_[Role::kStaff], query);
  ASSERT_TRUE(Answers(records, 200, "listRecords"));
  EXPECT_EQ(strings(Parsed(records)["records"], "value"), Set{name});
}

TEST_F(ApiTest, StaffNeverHandleACopyOfEverythingHeldAboutAPerson) {
  // An access or portability package holds every purpose's data (UK GDPR Art. 15, 20): a
  // staff token narrowed to the newsletter may not open such a request, read it, fulfil it or
  // download its package; the DPO may.
  const std::string& staff = token_[Role::kStaff];
  for (const char* type : {"access", "portability"}) {
    std::string body = std::string(R"({"type":")") + type + R"(","verified_by":"passport_seen"})";
    EXPECT_EQ(Call("POST", "/v1/subjects/s1/requests", body, staff).status, 403) << type;
    std::string id = OpenByStaff(type, "passport_seen");
    EXPECT_EQ(Call("GET", "/v1/requests/" + id, "", staff).status, 403) << type;
    EXPECT_EQ(Call("POST", "/v1/requests/" + id + "/fulfilment", "", staff).status, 403) << type;
    ASSERT_EQ(Call("POST", "/v1/requests/" + id + "/fulfilment", "", token_[Role::kDpo]).status,
              200)
        << type;
    EXPECT_EQ(Call("GET", "/v1/requests/" + id + "/document", "", staff).status, 403) << type;
    EXPECT_EQ(Call("GET", "/v1/requests/" + id + "/document", "", token_[Role::kDpo]).status, 200)
        << type;
  }
}

TEST_F(ApiTest, ClientMistakesAreProblemJson4xxWithoutPersonalValues) {
  // malformed JSON, wrong types, unknown fields, oversized bodies, unknown ids: 4xx,
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

TEST_F(ApiTest, AValueInTheUrlNeverComesBackInAProblem) {
  // An email or a phone number put where an id, a key or a query value belongs (GET
  // /v1/subjects/<an email>) is personal data the server must not repeat (UK GDPR Art. 5(1)(f)):
  // every route, every path parameter in turn and every query parameter the API reads, as an
  // admin, with a staff token and with a requester secret. Answers are 4xx, never 5xx.
  ApiOptions options;
  options.test_clock = true;
  options.token_rate = 0;
  options.address_rate = 0;
  options.request_log = ApiOptions::RequestLog::kAll;
  MakeApi(options);
  const std::vector<std::string> values = {"url.person.7@example.test", "+447700900123",
                                           "07700900123"};
  const std::vector<std::string> query_names = {"purpose", "format",    "filter",     "within",
                                                "as_of",   "threshold", "request_id", "all"};
  int problems = 0;
  for (const auto& route : api_->Routes()) {
    std::vector<std::string> segments;
    std::stringstream in(route.pattern.substr(1));
    for (std::string part; std::getline(in, part, '/');) segments.push_back(part);
    auto path_with = [&](size_t replaced, const std::string& value) {
      std::string path;
      for (size_t i = 0; i < segments.size(); ++i) {
        bool param = segments[i].front() == '{';
        path += "/" + (i == replaced ? value : param ? std::string("s1") : segments[i]);
      }
      return path;
    };
    for (const auto& value : values) {
      std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> calls;
      for (size_t i = 0; i < segments.size(); ++i) {
        if (segments[i].front() == '{') calls.push_back({path_with(i, value), {}});
      }
      std::vector<std::pair<std::string, std::string>> query;
      for (const auto& name : query_names) query.emplace_back(name, value);
      calls.push_back({path_with(segments.size(), value), query});
      for (const auto& [path, q] : calls) {
        for (const std::string& token :
             {token_[Role::kAdmin], token_[Role::kStaff], std::string("rq_notarequestsecret")}) {
          HttpResponse response = Call(route.method, path, "", token, q);
          EXPECT_LT(response.status, 500) << route.method << " " << path << " " << response.body;
          if (response.status < 400) continue;
          ++problems;
          EXPECT_EQ(response.content_type, "application/problem+json") << path;
          EXPECT_EQ(response.body.find(value), std::string::npos)
              << route.method << " " << path << ": " << response.body;
          rapidjson::Document problem;
          problem.Parse(response.body.c_str());
          EXPECT_FALSE(problem.HasParseError()) << response.body;
        }
      }
    }
  }
  EXPECT_GT(problems, 100);  // the URL values reached the handlers' problems, not only 200s
  for (const auto& value : values) EXPECT_EQ(Logs().find(value), std::string::npos);
  // Nor in the audit log: a read's ?purpose= must be a key, the rest are never written there.
  ASSERT_TRUE(engine_->Flush().ok());
  ASSERT_TRUE(store_
                  ->ScanAudit(1,
                              [&](const store::AuditRow& row) {
                                for (const auto& value : values) {
                                  std::string all = row.actor + " " + row.action + " " +
                                                    row.purpose + " " + row.subject_id + " " +
                                                    row.detail;
                                  EXPECT_EQ(all.find(value), std::string::npos) << all;
                                }
                                return true;
                              })
                  .ok());
  // The fix redacts the value and nothing else: a subject that is not there is still named as
  // not found.
  HttpResponse missing =
      Call("GET", "/v1/subjects/url.person.7@example.test", "", token_[Role::kAdmin]);
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("UNKNOWN_SUBJECT"), std::string::npos) << missing.body;
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

TEST_F(ApiTest, BruteForcingACodeByAskingForNewOnesIsBounded) {
  // The attacker guesses, asks for a new code when one locks, and opens new requests for the
  // same address when a request locks, until custos refuses. How many guesses were compared
  // with a real code is bounded: per request by kMaxFailedCodeAttempts, per address and day by
  // kMaxCodesPerAddressPerDay codes of kMaxCodeAttempts tries each.
  const std::string email = "victim@example.test";
  int64_t compared = 0, requests = 0;
  HttpResponse open_refused;
  for (int round = 0; round < 100; ++round) {
    HttpResponse opened =
        Call("POST", "/v1/requests", R"({"type":"access","email":")" + email + R"("})", "");
    if (opened.status != 202) {
      open_refused = opened;
      break;
    }
    ++requests;
    const std::string id = JsonString(opened.body, "request_id");
    int64_t compared_here = 0;
    for (int guess = 0; guess < 1000; ++guess) {
      HttpResponse answer =
          Call("POST", "/v1/requests/" + id + "/verification", R"({"code":"00000000"})", "");
      ASSERT_NE(answer.status, 200) << "a guess got through";
      EXPECT_TRUE(DocumentedProblem("POST", "/v1/requests/{id}/verification", answer))
          << answer.body;
      if (answer.status == 403) {
        ++compared_here;
        if (answer.body.find("ask for a new code") == std::string::npos) continue;
      } else {
        ASSERT_EQ(answer.status, 429) << answer.body;
        EXPECT_EQ(JsonString(answer.body, "code"), "TOO_MANY_ATTEMPTS");
        ++compared_here;  // the guess that locked the request was still compared
        break;
      }
      HttpResponse resent = Call("POST", "/v1/requests/" + id + "/code", "", "");
      if (resent.status == 202) continue;
      EXPECT_TRUE(DocumentedProblem("POST", "/v1/requests/{id}/code", resent)) << resent.body;
      ASSERT_EQ(resent.status, 429) << resent.body;
      break;
    }
    EXPECT_LE(compared_here, engine::kMaxFailedCodeAttempts);
    compared += compared_here;
  }
  EXPECT_LE(compared, engine::kMaxCodesPerAddressPerDay * engine::kMaxCodeAttempts);
  EXPECT_LE(requests, engine::kMaxCodesPerAddressPerDay);
  // Opening one more for this address is refused for now, with how long to wait.
  EXPECT_EQ(open_refused.status, 429) << open_refused.body;
  EXPECT_EQ(open_refused.content_type, "application/problem+json");
  EXPECT_EQ(JsonString(open_refused.body, "code"), "TOO_MANY_CODES");
  EXPECT_TRUE(DocumentedProblem("POST", "/v1/requests", open_refused)) << open_refused.body;
  const std::string wait = Header(open_refused, "Retry-After");
  ASSERT_FALSE(wait.empty());
  EXPECT_GT(std::stoll(wait), 0);
  EXPECT_LE(std::stoll(wait), 24 * 3600);
  EXPECT_EQ(open_refused.body.find("victim"), std::string::npos) << "the address is not echoed";
  // Another address is not held back.
  EXPECT_EQ(
      Call("POST", "/v1/requests", R"({"type":"access","email":"other@example.test"})", "").status,
      202);
}

TEST_F(ApiTest, ARequestThatHadFiveNewCodesIsRefusedMoreWithoutRetryAfter) {
  std::string id = OpenByPerson("access", "often@example.test");
  for (int i = 0; i < engine::kMaxCodeResends; ++i) {
    EXPECT_EQ(Call("POST", "/v1/requests/" + id + "/code", "", "").status, 202) << i;
  }
  HttpResponse refused = Call("POST", "/v1/requests/" + id + "/code", "", "");
  EXPECT_EQ(refused.status, 429) << refused.body;
  EXPECT_EQ(JsonString(refused.body, "code"), "TOO_MANY_CODES");
  EXPECT_EQ(Header(refused, "Retry-After"), "") << "waiting does not help this request";
  EXPECT_TRUE(DocumentedProblem("POST", "/v1/requests/{id}/code", refused)) << refused.body;
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
      Call("POST", "/v1/requests/" + id + "/fulfilment", "", token_[Role::kDpo]);
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
  // The DPO may download it too (to send it another way); staff, whose tokens reach only some
  // purposes, and another request's secret may not.
  EXPECT_EQ(Call("GET", "/v1/requests/" + id + "/document", "", token_[Role::kDpo]).status, 200);
  EXPECT_EQ(Call("GET", "/v1/requests/" + id + "/document", "", token_[Role::kStaff]).status, 403);
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
      {"POST", q + waiting + "/verification", "", 400, "MISSING_BODY"},  // no body is not {}
      {"POST", q + waiting + "/verification", "{}", 400, "MISSING_FIELD"},
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
      // Plain http only to this machine, judged on the host a URL parser finds.
      {"PUT", "/v1/endpoints/third_party_platforms",
       R"({"url":"http://127.0.0.1@127.0.0.2/x","secret":"0123456789abcdef"})", 422,
       "INVALID_ARGUMENT"},
      {"PUT", "/v1/endpoints/third_party_platforms",
       R"({"url":"http://localhost.example.com/x","secret":"0123456789abcdef"})", 422,
       "INVALID_ARGUMENT"},
      {"PUT", "/v1/endpoints/third_party_platforms",
       R"({"url":"https://user:pw@h.example.test/x","secret":"0123456789abcdef"})", 422,
       "INVALID_ARGUMENT"},
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
  // One request per bucket, refilled at one a million seconds, so the counts below hold however
  // slowly the test runs; refill timing is tested on a clock the test moves
  // (tests/api/rate_limit_test.cc).
  ApiOptions options;
  options.token_rate = 1e-6;
  options.address_rate = 1e-6;
  MakeApi(options);
  EXPECT_EQ(Call("GET", "/v1/policy", "", token_[Role::kAdmin]).status, 200);
  for (int i = 0; i < 3; ++i) {
    HttpResponse limited = Call("GET", "/v1/policy", "", token_[Role::kAdmin]);
    EXPECT_EQ(limited.status, 429);
    EXPECT_EQ(Header(limited, "Retry-After"), "1");
  }
  // Another token has its own bucket.
  EXPECT_EQ(Call("GET", "/v1/policy", "", token_[Role::kDpo]).status, 200);
  EXPECT_EQ(Call("GET", "/v1/policy", "", token_[Role::kDpo]).status, 429);
  // Routes without a token are limited per client address.
  EXPECT_EQ(Call("GET", "/healthz", "", "").status, 200);
  EXPECT_EQ(Call("GET", "/healthz", "", "").status, 429);
}

TEST_F(ApiTest, TestClockRouteExistsOnlyWhenEnabled) {
  // without --test-clock the route does not exist.
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
  // another engine over the same store stands for another `custos serve` process.
  auto policy = policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml");
  ASSERT_TRUE(policy.ok());
  engine::Engine other(std::move(*policy), "wig", *store_, master_, clock_);
  ASSERT_TRUE(other.Open("another policy text").ok());
  const engine::DecisionRequest ask{"s1", "event_bookings", {"user.name"},
                                    "",   T("2026-02-01"),  "t"};
  ASSERT_TRUE(engine_->Decide(ask)->Has(ErrorCode::kConsentMissing));
  CatchUpSchedule schedule(*engine_, *log_, std::chrono::milliseconds(10));
  engine::ConsentChangeRequest give;
  give.subject_id = "s1";
  give.target = "event_bookings";
  give.at = T("2026-01-15");
  ASSERT_TRUE(other.ChangeConsent(give).ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!engine_->Decide(ask)->allow && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(engine_->Decide(ask)->allow);
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

namespace custos::api {
namespace {

TEST_F(ApiTest, AnEmptyBodyIsMissingNotAnEmptyObject) {
  const std::string& admin = token_[Role::kAdmin];
  // An operation with a required field answers that the body is missing, whether it came
  // empty or blank, with or without a Content-Type.
  for (const std::string& body : {std::string(), std::string(" \r\n")}) {
    HttpResponse missing = Call("POST", "/v1/subjects", body, admin);
    ASSERT_TRUE(Answers(missing, 400, "createSubject")) << missing.body;
    EXPECT_EQ(missing.content_type, "application/problem+json");
    EXPECT_NE(missing.body.find("urn:custos:problem:missing-body"), std::string::npos);
    EXPECT_NE(missing.body.find("the request body is missing"), std::string::npos);
  }
  EXPECT_TRUE(Answers(Call("POST", "/v1/decisions", "", admin), 400, "decide"));
  EXPECT_TRUE(Answers(Call("POST", "/v1/requests", "", ""), 400, "openRequest"));
  // A restriction needs its reason (UK GDPR Art. 18): no body is not a restriction of all.
  HttpResponse restricted = Call("POST", "/v1/subjects/s1/restrictions", "", admin);
  EXPECT_TRUE(Answers(restricted, 400, "restrict"));
  EXPECT_NE(restricted.body.find("'reason'"), std::string::npos) << restricted.body;
  // A step whose body is all optional may still be sent without one (the role table posts
  // fulfilment, withdrawal and code resends with no body).
}

TEST_F(ApiTest, IdentifiersOfTheWrongFormAreRefusedNamingTheField) {
  // A person is found, told and suppressed by their email or phone (UK GDPR Art. 5(1)(d),
  // accuracy): a value that cannot be an address or an E.164 number is refused where it
  // enters, with the field named and the value never echoed.
  const std::string& admin = token_[Role::kAdmin];
  struct Case {
    std::string path, body, operation, field;
  };
  const std::vector<Case> cases = {
      {"/v1/subjects", R"({"types":["member"],"email":"not-an-address.example.test"})",
       "createSubject", "email"},
      {"/v1/subjects", R"({"types":["member"],"phone":"555-0143 not-a-number"})", "createSubject",
       "phone"},
      {"/v1/subjects/s1/identifiers", R"({"kind":"email","value":"not-an-address@"})",
       "addIdentifier", "email"},
      {"/v1/identifiers/lookup", R"({"kind":"phone","value":"12345"})", "lookupIdentifier",
       "phone"},
      {"/v1/suppressions", R"({"kind":"email","value":"not-an-address","reason":"asked"})",
       "suppress", "email"},
      {"/v1/requests", R"({"type":"access","email":"not-an-address@example"})", "openRequest",
       "email"},
      {"/v1/requests", R"({"type":"access","phone":"+0 not-a-number"})", "openRequest", "phone"},
  };
  for (const auto& c : cases) {
    HttpResponse refused = Call("POST", c.path, c.body, c.path == "/v1/requests" ? "" : admin);
    EXPECT_TRUE(Answers(refused, 422, c.operation)) << c.path << " " << refused.body;
    EXPECT_EQ(refused.content_type, "application/problem+json");
    EXPECT_NE(refused.body.find("the " + c.field + " is not"), std::string::npos) << refused.body;
    EXPECT_EQ(refused.body.find("not-a"), std::string::npos) << refused.body;
  }
  // E.164 and UK national forms, and plausible addresses, are taken.
  EXPECT_TRUE(Answers(Call("POST", "/v1/subjects",
                           R"({"types":["member"],"email":"a.person@example.test",)"
                           R"("phone":"07700 900123"})",
                           admin),
                      201, "createSubject"));
  EXPECT_TRUE(Answers(
      Call("POST", "/v1/identifiers/lookup", R"({"kind":"phone","value":"+447700900123"})", admin),
      200, "lookupIdentifier"));
}

// Bulk import over HTTP: the transport hands the body over in pieces (HttpRequest::body_streamed,
// the answer's sink); pieces that cut lines anywhere import what the whole body imports, with the
// same mapping and rules as `custos import`, and the job is followed by GET /v1/imports/{id}.
TEST_F(ApiTest, ABulkImportTakesItsBodyInPiecesAndIsFollowedAsAJob) {
  ApiOptions options;
  options.import_mappings = WigImportMapping();
  MakeApi(options);
  std::string body;
  for (int i = 1; i <= 40; ++i) {
    body += R"({"crm_id": ")" + std::to_string(5000 + i) +
            R"(", "kind": "member", "joined": "2021-01-01", "email": "bulk)" + std::to_string(i) +
            R"(@example.test", "name": "Bulk Person"})" + "\n";
    if (i == 10) body += "{not json: bulk-secret@example.test\n";  // line 11
    if (i == 20)
      body += R"({"kind": "member", "email": "nobody@example.test"})"
              "\n";  // 22
  }
  HttpRequest request;
  request.method = "POST";
  request.path = "/v1/imports";
  request.query = {{"mapping", "wig_crm"}, {"batch", "8"}};
  request.content_type = "application/x-ndjson; charset=utf-8";
  request.authorization = "Bearer " + token_[Role::kDpo];
  request.client_address = "127.0.0.1";
  request.body_streamed = true;
  HttpResponse head = api_->Handle(request);
  ASSERT_TRUE(head.sink) << head.status << " " << head.body;
  // Pieces of 13 bytes: most lines arrive cut in two or more.
  for (size_t at = 0; at < body.size(); at += 13) {
    ASSERT_TRUE(head.sink->Take(std::string_view(body).substr(at, 13)));
  }
  HttpResponse done = head.sink->Finish();
  ASSERT_TRUE(Answers(done, 201, "startImport"));
  EXPECT_EQ(JsonNumber(done.body, "rows"), 42);
  EXPECT_EQ(JsonNumber(done.body, "imported"), 40);
  EXPECT_EQ(JsonNumber(done.body, "rejected"), 2);
  EXPECT_EQ(JsonNumber(done.body, "batches"), 6);  // 8 rows a batch; the last holds 2
  EXPECT_EQ(JsonString(done.body, "state"), "done");
  // The rejections name their lines and what is wrong, never a value of the row.
  EXPECT_NE(done.body.find(R"("line":11)"), std::string::npos) << done.body;
  EXPECT_NE(done.body.find(R"("line":22)"), std::string::npos) << done.body;
  EXPECT_EQ(done.body.find("example.test"), std::string::npos) << done.body;
  EXPECT_NE(std::find(done.headers.begin(), done.headers.end(),
                      std::pair<std::string, std::string>{"X-Content-Type-Options", "nosniff"}),
            done.headers.end())
      << "the sink's answer carries the security headers";
  const std::string id = JsonString(done.body, "import_id");
  auto followed = Call("GET", "/v1/imports/" + id, "", token_[Role::kDpo]);
  ASSERT_TRUE(Answers(followed, 200, "getImport"));
  EXPECT_EQ(JsonNumber(followed.body, "imported"), 40);
  // The people are there, found by their e-mail address as any other person.
  auto found = Call("POST", "/v1/identifiers/lookup",
                    R"({"kind":"email","value":"bulk7@example.test"})", token_[Role::kDpo]);
  EXPECT_EQ(found.status, 200) << found.body;

  // The same body again, whole this time: nothing is imported twice.
  auto again = Call("POST", "/v1/imports", body, token_[Role::kAdmin], {{"mapping", "wig_crm"}});
  ASSERT_TRUE(Answers(again, 201, "startImport"));
  EXPECT_EQ(JsonNumber(again.body, "imported"), 0);
  EXPECT_EQ(JsonNumber(again.body, "skipped"), 40);
  auto list = Call("GET", "/v1/imports", "", token_[Role::kAdmin]);
  ASSERT_TRUE(Answers(list, 200, "listImports"));
  EXPECT_LT(list.body.find(JsonString(again.body, "import_id")), list.body.find(id))
      << "the newest first";
}

TEST_F(ApiTest, ABulkImportIsRefusedOnItsHeadWithTheReason) {
  ApiOptions options;
  options.import_mappings = WigImportMapping();
  auto csv = std::make_shared<engine::ImportMapping>(*options.import_mappings.at("wig_crm"));
  csv->format = engine::ImportMapping::Format::kCsv;
  options.import_mappings["wig_csv"] = csv;
  MakeApi(options);
  auto head = [&](const std::string& token, std::vector<std::pair<std::string, std::string>> query,
                  const std::string& type = "application/x-ndjson") {
    HttpRequest request;
    request.method = "POST";
    request.path = "/v1/imports";
    request.query = std::move(query);
    request.content_type = type;
    if (!token.empty()) request.authorization = "Bearer " + token;
    request.client_address = "127.0.0.1";
    request.body_streamed = true;
    return api_->Handle(request);
  };
  const auto dpo = token_[Role::kDpo];
  struct Case {
    HttpResponse response;
    int status;
    const char* detail;
  };
  const Case cases[] = {
      {head("", {{"mapping", "wig_crm"}}), 401, "Bearer"},
      {head(token_[Role::kStaff], {{"mapping", "wig_crm"}}), 403, "staff"},
      {head(dpo, {}), 400, "wig_crm, wig_csv"},
      {head(dpo, {{"mapping", "nope"}}), 400, "this server has: wig_crm, wig_csv"},
      {head(dpo, {{"mapping", "wig_csv"}}), 415, "reads CSV"},
      {head(dpo, {{"mapping", "wig_crm"}}, "text/csv"), 415, "application/x-ndjson"},
      {head(dpo, {{"mapping", "wig_crm"}, {"batch", "0"}}), 400, "batch"},
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(c.response.sink) << c.detail;
    EXPECT_TRUE(Answers(c.response, c.status, "startImport")) << c.detail;
    EXPECT_NE(c.response.body.find(c.detail), std::string::npos) << c.response.body;
  }
  EXPECT_TRUE(Answers(Call("GET", "/v1/imports/imp_0123", "", dpo), 404, "getImport"));
}

// ProgressTeaching (001), platform statement: "Before we allow Third Party Applications to access
// school data, schools must authorise the requests to connect to their data and review the type
// of data that an application is requesting. These permissions can be revoked at any time by the
// school." The school's DPO authorises an application; its token asks decisions only within the
// grant, until it ends or is revoked; each allowed one reaches the pupil's disclosure log.
TEST_F(ApiTest, AnAuthorisedApplicationAsksOnlyWithinItsGrantUntilItEndsOrIsRevoked) {
  UsePolicy("progressteaching_schools.yaml", "school");
  ASSERT_TRUE(engine_->AddSubject({"p1", {"pupil"}, {}, T("2026-01-01"), "t"}).ok());
  engine::NewRecord record{"p1",     "user.childrens.school_records", "Reading age 11",
                           "school", "school_legal_obligation",       std::nullopt,
                           "t"};
  ASSERT_TRUE(engine_->PutRecord(record).ok());
  const std::string dpo = token_[Role::kDpo];
  const std::string grant =
      R"({"name":"Homework Planner","recipient":"third_party_applications",)"
      R"("purposes":["school_legal_obligation"],"categories":["user.childrens.school_records"],)"
      R"("expires_at":"2026-07-31"})";
  HttpResponse authorised = Call("POST", "/v1/applications", grant, dpo);
  ASSERT_TRUE(Answers(authorised, 201, "authoriseApplication"));
  const std::string id = JsonString(authorised.body, "id");
  const std::string app = JsonString(authorised.body, "token");
  EXPECT_EQ(Header(authorised, "Location"), "/v1/applications/" + id);
  EXPECT_EQ(Header(authorised, "Cache-Control"), "no-store");

  const std::string ask = R"({"subject_id":"p1","purpose":"school_legal_obligation",)"
                          R"("categories":["user.childrens.school_records"]})";
  HttpResponse allowed = Call("POST", "/v1/decisions", ask, app);
  ASSERT_TRUE(Answers(allowed, 200, "decide"));
  EXPECT_NE(allowed.body.find("\"allow\":true"), std::string::npos) << allowed.body;
  auto view = engine_->ReadSubject("p1", "test", "records_read");
  ASSERT_TRUE(view.ok());
  ASSERT_EQ(view->disclosures.size(), 1u);
  EXPECT_EQ(view->disclosures[0].application, "Homework Planner");

  // Outside the grant: another purpose, another category, a time of its choosing, another route.
  HttpResponse purpose = Call("POST", "/v1/decisions",
                              R"({"subject_id":"p1","purpose":"school_legitimate_interests",)"
                              R"("categories":["user.childrens.school_records"]})",
                              app);
  ASSERT_TRUE(Answers(purpose, 403, "decide"));
  EXPECT_NE(purpose.body.find("OUTSIDE_APPLICATION_GRANT"), std::string::npos) << purpose.body;
  HttpResponse category = Call("POST", "/v1/decisions",
                               R"({"subject_id":"p1","purpose":"school_legal_obligation",)"
                               R"("categories":["user.contact"]})",
                               app);
  EXPECT_TRUE(Answers(category, 403, "decide"));
  HttpResponse earlier =
      Call("POST", "/v1/decisions",
           R"({"subject_id":"p1","purpose":"school_legal_obligation",)"
           R"("categories":["user.childrens.school_records"],"at":"2026-01-02"})",
           app);
  EXPECT_TRUE(Answers(earlier, 403, "decide"));
  EXPECT_EQ(Call("GET", "/v1/subjects/p1", "", app).status, 403);
  EXPECT_EQ(Call("GET", "/v1/applications", "", app).status, 403);

  HttpResponse listed = Call("GET", "/v1/applications", "", dpo);
  ASSERT_TRUE(Answers(listed, 200, "listApplications"));
  EXPECT_NE(listed.body.find("\"state\":\"active\""), std::string::npos) << listed.body;

  // The grant ends: the next decision is refused, and the list says so.
  clock_.Set(T("2026-07-31T00:00:01Z"));
  HttpResponse ended = Call("POST", "/v1/decisions", ask, app);
  ASSERT_TRUE(Answers(ended, 403, "decide"));
  EXPECT_NE(ended.body.find("APPLICATION_GRANT_EXPIRED"), std::string::npos) << ended.body;
  EXPECT_NE(Call("GET", "/v1/applications", "", dpo).body.find("\"state\":\"expired\""),
            std::string::npos);

  // Revoked: the very next decision is refused.
  clock_.Set(T("2026-09-01"));
  HttpResponse second = Call("POST", "/v1/applications",
                             R"({"name":"Reading Tracker","recipient":"third_party_applications",)"
                             R"("purposes":["school_legal_obligation"],"categories":)"
                             R"(["user.childrens.school_records"],"expires_at":"2027-07-31"})",
                             dpo);
  ASSERT_TRUE(Answers(second, 201, "authoriseApplication"));
  const std::string tracker = JsonString(second.body, "token");
  const std::string tracker_id = JsonString(second.body, "id");
  EXPECT_EQ(Call("POST", "/v1/decisions", ask, tracker).status, 200);
  HttpResponse revoked =
      Call("POST", "/v1/applications/" + tracker_id + "/revocation", "", token_[Role::kAdmin]);
  ASSERT_TRUE(Answers(revoked, 200, "revokeApplication"));
  EXPECT_NE(revoked.body.find("\"state\":\"revoked\""), std::string::npos) << revoked.body;
  EXPECT_TRUE(Answers(Call("POST", "/v1/decisions", ask, tracker), 401, "decide"));
  EXPECT_TRUE(Answers(Call("POST", "/v1/applications/" + tracker_id + "/revocation", "", dpo), 409,
                      "revokeApplication"));
  EXPECT_TRUE(Answers(Call("POST", "/v1/applications/0000000000000000/revocation", "", dpo), 404,
                      "revokeApplication"));
  // Another token's id is not an application's.
  auto staff_id = crypto::ApiTokenId(token_[Role::kStaff]);
  EXPECT_EQ(Call("POST", "/v1/applications/" + std::string(staff_id.value_or("")) + "/revocation",
                 "", dpo)
                .status,
            404);

  // A grant the policy does not allow: a processor is not a third-party application.
  HttpResponse processor = Call("POST", "/v1/applications",
                                R"({"name":"X","recipient":"sub_processors",)"
                                R"("purposes":["school_legal_obligation"],)"
                                R"("categories":["user.name"],"expires_at":"2027-01-01"})",
                                dpo);
  ASSERT_TRUE(Answers(processor, 422, "authoriseApplication"));
  EXPECT_NE(processor.body.find("not a third party"), std::string::npos) << processor.body;

  // Every grant, decision and revocation is in the audit log, under the token that made it.
  std::string actions;
  ASSERT_TRUE(store_
                  ->ScanAudit(1,
                              [&](const store::AuditRow& row) {
                                if (row.actor == "token:" + id ||
                                    row.action.rfind("application_", 0) == 0) {
                                  actions += row.action + " ";
                                }
                                return true;
                              })
                  .ok());
  EXPECT_NE(actions.find("application_authorised decide disclosure"), std::string::npos) << actions;
  EXPECT_NE(actions.find("application_revoked"), std::string::npos) << actions;
}

}  // namespace
}  // namespace custos::api
