// What monitoring and API tooling rely on, in-process (Api::Handle, no sockets): every metric
// family on /metrics has # HELP and # TYPE, with the process metrics and custos_build_info;
// who may read /metrics (admin tokens by default, a scrape token, an address allow-list);
// request ids made or kept, returned in X-Request-Id and written on the log lines with their
// level; problem+json names its `instance` without a personal value; a malformed body is
// described in the server's own words. The scrape through a real server piped to
// `promtool check metrics` is tests/api/promtool_metrics_test.sh.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "api/auth.h"
#include "api/metrics_access.h"
#include "api/problem.h"
#include "api/request_id.h"
#include "api/server.h"
#include "common/build_info.h"
#include "crypto/key.h"
#include "crypto/master_key.h"
#include "openapi_contract.h"
#include "policy/loader.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::api {
namespace {

namespace fs = std::filesystem;

constexpr const char* kScrapeToken = "scrape-token-0123456789abcdef";

class OperatorConventions : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("custos-operator-test-" +
            std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
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
    tokens_ = std::make_unique<TokenStore>((dir_ / "tokens.jsonl").string());
    ASSERT_TRUE(tokens_->Load().ok());
    Principal admin;
    admin.role = Role::kAdmin;
    admin_ = *tokens_->Create(admin, "test", "2026-01-01");
    Principal staff;
    staff.role = Role::kStaff;
    staff.purposes = {"newsletter"};
    staff_ = *tokens_->Create(staff, "test", "2026-01-01");
    MakeApi({});
  }
  void TearDown() override {
    api_.reset();
    engine_.reset();
    store_.reset();
    std::fclose(log_file_);
    fs::remove_all(dir_);
  }
  void MakeApi(ApiOptions options) {
    api_ = std::make_unique<Api>(*engine_, *store_, *tokens_, *log_, options, &clock_);
  }
  // Serves /metrics as `custos serve --metrics-token-file F --metrics-allow LIST` would.
  void MakeApiWithMetricsAccess(const std::string& token, const std::string& allow) {
    auto access = MetricsAccess::Make(token, allow);
    ASSERT_TRUE(access.ok()) << access.status().ToString();
    ApiOptions options;
    options.metrics_access = *access;
    MakeApi(options);
  }
  HttpResponse Get(const std::string& path, const std::string& authorization,
                   const std::string& address = "127.0.0.1", const std::string& request_id = "") {
    HttpRequest request;
    request.method = "GET";
    request.path = path;
    request.client_address = address;
    request.authorization = authorization;
    request.request_id = request_id;
    return api_->Handle(request);
  }
  HttpResponse Post(const std::string& path, const std::string& body,
                    std::vector<std::pair<std::string, std::string>> query = {}) {
    HttpRequest request;
    request.method = "POST";
    request.path = path;
    request.query = std::move(query);
    request.body = body;
    request.content_type = "application/json";
    request.client_address = "127.0.0.1";
    request.authorization = "Bearer " + admin_;
    return api_->Handle(request);
  }
  static std::string Header(const HttpResponse& response, const std::string& name) {
    for (const auto& [key, value] : response.headers) {
      if (key == name) return value;
    }
    return "";
  }
  static std::string Member(const HttpResponse& response, const char* name) {
    rapidjson::Document doc;
    doc.Parse(response.body.c_str(), response.body.size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember(name) || !doc[name].IsString()) {
      return "";
    }
    return doc[name].GetString();
  }
  // The log's lines, each parsed.
  std::vector<rapidjson::Document> LogLines() {
    std::fflush(log_file_);
    std::rewind(log_file_);
    std::string text;
    char buffer[4096];
    for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, log_file_)) > 0;)
      text.append(buffer, n);
    std::vector<rapidjson::Document> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      lines.emplace_back();
      lines.back().Parse(line.c_str(), line.size());
      EXPECT_FALSE(lines.back().HasParseError()) << line;
    }
    return lines;
  }
  static OpenApiContract& Contract() {
    static OpenApiContract contract(OpenApiDocument());
    return contract;
  }

  fs::path dir_;
  std::FILE* log_file_ = nullptr;
  std::unique_ptr<JsonLog> log_;
  crypto::MasterKey master_ = crypto::MasterKey::FromSecretForTesting(crypto::SecretKey::Random());
  FixedClock clock_{*Timestamp::Parse("2026-02-01")};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<Api> api_;
  std::string admin_, staff_;
};

// Each sample's metric family (a histogram's _bucket, _sum and _count belong to it).
std::string FamilyOf(const std::string& sample, const std::map<std::string, std::string>& types) {
  std::string name = sample.substr(0, sample.find_first_of("{ "));
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    std::string s = suffix;
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      std::string base = name.substr(0, name.size() - s.size());
      auto type = types.find(base);
      if (type != types.end() && (type->second == "histogram" || type->second == "summary")) {
        return base;
      }
    }
  }
  return name;
}

TEST_F(OperatorConventions, EveryMetricFamilyHasHelpAndType) {
  Get("/ping", "");
  HttpResponse metrics = Get("/metrics", "Bearer " + admin_);
  ASSERT_EQ(metrics.status, 200) << metrics.body;
  std::map<std::string, std::string> types;
  std::set<std::string> helped, sampled;
  std::map<std::string, double> values;
  std::istringstream in(metrics.body);
  std::vector<std::string> samples;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string first, second, name, rest;
    if (line.rfind("# TYPE ", 0) == 0) {
      words >> first >> second >> name >> rest;
      EXPECT_TRUE(types.emplace(name, rest).second) << "two TYPE lines for " << name;
    } else if (line.rfind("# HELP ", 0) == 0) {
      words >> first >> second >> name;
      EXPECT_TRUE(helped.insert(name).second) << "two HELP lines for " << name;
    } else if (!line.empty()) {
      samples.push_back(line);
    }
  }
  for (const std::string& sample : samples) {
    std::string family = FamilyOf(sample, types);
    sampled.insert(family);
    EXPECT_TRUE(types.count(family)) << "no # TYPE for " << sample;
    EXPECT_TRUE(helped.count(family)) << "no # HELP for " << sample;
    values[sample.substr(0, sample.rfind(' '))] = std::stod(sample.substr(sample.rfind(' ') + 1));
  }
  // The process, read from /proc/self: this test's own process.
  EXPECT_GT(values["process_resident_memory_bytes"], 1e6);
  EXPECT_GE(values["process_virtual_memory_bytes"], values["process_resident_memory_bytes"]);
  EXPECT_GT(values["process_open_fds"], 2);  // stdin, stdout, stderr and the test's files
  EXPECT_GT(values["process_cpu_seconds_total"], 0);
  double started = values["process_start_time_seconds"];
  double now = static_cast<double>(SystemClock().Now().micros) / 1e6;
  EXPECT_LE(started, now + 1);
  EXPECT_GT(started, now - 24 * 3600) << "this process started today";
  EXPECT_EQ(types["process_cpu_seconds_total"], "counter");
  EXPECT_EQ(types["process_resident_memory_bytes"], "gauge");
  // What was built.
  std::string build = "custos_build_info{version=\"" + std::string(BuildVersion()) +
                      "\",commit=\"" + std::string(BuildCommit()) + "\"}";
  EXPECT_EQ(values.count(build), 1u) << metrics.body;
  EXPECT_EQ(values[build], 1);
  EXPECT_EQ(types["custos_build_info"], "gauge");
  for (const char* family :
       {"custos_audit_buffered_entries", "custos_cached_subjects", "custos_http_requests_total",
        "custos_http_request_duration_seconds"}) {
    EXPECT_TRUE(sampled.count(family)) << family;
  }
}

TEST_F(OperatorConventions, MetricsNeedAnAdminTokenByDefault) {
  EXPECT_EQ(Get("/metrics", "").status, 401);
  HttpResponse staff = Get("/metrics", "Bearer " + staff_);
  EXPECT_EQ(staff.status, 403);
  EXPECT_EQ(staff.content_type, "application/problem+json");
  EXPECT_EQ(Get("/metrics", "Bearer " + std::string(kScrapeToken)).status, 401);
  EXPECT_EQ(Get("/metrics", "Bearer " + admin_, "192.0.2.7").status, 200);
}

TEST_F(OperatorConventions, AnAllowListOpensMetricsToItsAddressesAndRefusesOthers) {
  MakeApiWithMetricsAccess("", "127.0.0.1/32, ::1/128,10.1.0.0/16");
  EXPECT_EQ(Get("/metrics", "").status, 200);
  EXPECT_EQ(Get("/metrics", "", "::1").status, 200);
  EXPECT_EQ(Get("/metrics", "", "::ffff:127.0.0.1").status, 200);
  EXPECT_EQ(Get("/metrics", "", "10.1.255.3").status, 200);
  for (const char* outside : {"10.2.0.1", "127.0.0.2", "::2", "2001:db8::1", ""}) {
    HttpResponse refused = Get("/metrics", "Bearer " + admin_, outside);
    EXPECT_EQ(refused.status, 403) << outside;
    EXPECT_EQ(refused.content_type, "application/problem+json");
    EXPECT_EQ(Member(refused, "code"), "FORBIDDEN");
    EXPECT_EQ(refused.body.find(outside[0] ? outside : "\x01"), std::string::npos)
        << "the client's address is personal data: " << refused.body;
    EXPECT_TRUE(Contract().Check("metrics", refused));
  }
  // The list is about /metrics only.
  EXPECT_EQ(Get("/healthz", "", "10.2.0.1").status, 200);
  EXPECT_EQ(Get("/v1/policy", "", "127.0.0.1").status, 401);
}

TEST_F(OperatorConventions, AScrapeTokenReadsMetricsAndNothingElse) {
  MakeApiWithMetricsAccess(kScrapeToken, "");
  HttpResponse scraped = Get("/metrics", "Bearer " + std::string(kScrapeToken), "192.0.2.7");
  EXPECT_EQ(scraped.status, 200);
  EXPECT_NE(scraped.body.find("custos_build_info"), std::string::npos);
  EXPECT_EQ(Get("/metrics", "Bearer " + std::string(kScrapeToken) + "x").status, 401);
  EXPECT_EQ(Get("/metrics", std::string(kScrapeToken)).status, 401);
  EXPECT_EQ(Get("/metrics", "").status, 401);
  EXPECT_EQ(Get("/metrics", "Bearer " + admin_).status, 200);
  EXPECT_EQ(Get("/v1/policy", "Bearer " + std::string(kScrapeToken)).status, 401);
}

TEST_F(OperatorConventions, ATokenAndAnAllowListTogetherNeedBoth) {
  MakeApiWithMetricsAccess(kScrapeToken, "127.0.0.1/32");
  EXPECT_EQ(Get("/metrics", "").status, 401);
  EXPECT_EQ(Get("/metrics", "Bearer " + std::string(kScrapeToken)).status, 200);
  EXPECT_EQ(Get("/metrics", "Bearer " + std::string(kScrapeToken), "192.0.2.7").status, 403);
  EXPECT_EQ(Get("/metrics", "Bearer " + admin_, "192.0.2.7").status, 403);
}

TEST_F(OperatorConventions, MetricsAccessRefusesWhatIsNotANetworkOrAStrongToken) {
  EXPECT_FALSE(MetricsAccess::Make("short", "").ok());
  EXPECT_FALSE(MetricsAccess::Make("has a space in the middle", "").ok());
  for (const char* bad : {"10.0.0.0/33", "::1/129", "example.test", "10.0.0.0/", "10.0.0.0/x",
                          "127.0.0.1,", "1.2.3.4/-1"}) {
    auto access = MetricsAccess::Make("", bad);
    EXPECT_FALSE(access.ok()) << bad;
    if (!access.ok()) {
      EXPECT_EQ(access.status().message().find("example.test"), std::string::npos);
    }
  }
  auto access = MetricsAccess::Make("", "10.0.0.0/8,fd00::/8,192.0.2.1");
  ASSERT_TRUE(access.ok()) << access.status().ToString();
  EXPECT_TRUE(access->AddressAllowed("10.200.1.1"));
  EXPECT_FALSE(access->AddressAllowed("11.0.0.1"));
  EXPECT_TRUE(access->AddressAllowed("fd12:3456::1"));
  EXPECT_FALSE(access->AddressAllowed("fe80::1"));
  EXPECT_TRUE(access->AddressAllowed("192.0.2.1"));
  EXPECT_FALSE(access->AddressAllowed("192.0.2.2"));
  EXPECT_TRUE(MetricsAccess().AddressAllowed("anything"));
}

TEST_F(OperatorConventions, EveryResponseCarriesARequestIdThatItsLogLinesCarry) {
  ApiOptions options;
  options.request_log = ApiOptions::RequestLog::kAll;
  MakeApi(options);
  HttpResponse first = Get("/healthz", "");
  HttpResponse second = Get("/nowhere", "");
  std::string first_id = Header(first, "X-Request-Id"), second_id = Header(second, "X-Request-Id");
  EXPECT_EQ(first_id.size(), 32u) << first_id;
  EXPECT_EQ(first_id.find_first_not_of("0123456789abcdef"), std::string::npos) << first_id;
  EXPECT_NE(first_id, second_id);
  // A caller's well-formed id is kept; anything else is replaced.
  HttpResponse kept = Get("/healthz", "", "127.0.0.1", "trace-42.abc:DEF_9");
  EXPECT_EQ(Header(kept, "X-Request-Id"), "trace-42.abc:DEF_9");
  for (const char* bad : {"short", "has spaces in it", "someone@example.test", "x\ny-injected"}) {
    HttpResponse replaced = Get("/healthz", "", "127.0.0.1", bad);
    std::string id = Header(replaced, "X-Request-Id");
    EXPECT_NE(id, bad);
    EXPECT_TRUE(IsWellFormedRequestId(id)) << id;
  }
  std::vector<rapidjson::Document> lines = LogLines();
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_STREQ(lines[0]["event"].GetString(), "request");
  EXPECT_STREQ(lines[0]["request_id"].GetString(), first_id.c_str());
  EXPECT_STREQ(lines[0]["level"].GetString(), "info");
  EXPECT_STREQ(lines[1]["request_id"].GetString(), second_id.c_str());
  EXPECT_STREQ(lines[1]["level"].GetString(), "warn");  // a client's mistake
  EXPECT_EQ(lines[1]["status"].GetInt(), 404);
  EXPECT_STREQ(lines[2]["request_id"].GetString(), "trace-42.abc:DEF_9");
  for (const auto& line : lines) {
    EXPECT_TRUE(line.HasMember("ts") && line.HasMember("level") && line.HasMember("request_id"));
    EXPECT_NE(std::string(line["request_id"].GetString()), "someone@example.test");
  }
}

TEST_F(OperatorConventions, TheLogLevelDropsLinesBelowIt) {
  std::fclose(log_file_);
  log_file_ = std::tmpfile();
  log_ = std::make_unique<JsonLog>(log_file_, LogLevel::kWarn);
  ApiOptions options;
  options.request_log = ApiOptions::RequestLog::kAll;
  MakeApi(options);
  Get("/healthz", "");  // info: dropped
  Get("/nowhere", "");  // warn
  log_->Write("debug", "detail", {});
  log_->Write(LogLevel::kError, "broken", {{"code", "IO_ERROR"}});
  std::vector<rapidjson::Document> lines = LogLines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_STREQ(lines[0]["level"].GetString(), "warn");
  EXPECT_EQ(lines[0]["status"].GetInt(), 404);
  EXPECT_STREQ(lines[1]["level"].GetString(), "error");
  EXPECT_STREQ(lines[1]["event"].GetString(), "broken");

  EXPECT_EQ(LogLevelFromName("debug"), LogLevel::kDebug);
  EXPECT_EQ(LogLevelFromName("error"), LogLevel::kError);
  EXPECT_FALSE(LogLevelFromName("loud").has_value());
  JsonLog debug(log_file_, LogLevel::kDebug);
  EXPECT_TRUE(debug.Enabled(LogLevel::kDebug));
  EXPECT_FALSE(log_->Enabled(LogLevel::kInfo));
}

TEST_F(OperatorConventions, ProblemsNameTheirInstanceWithoutQueryOrPersonalValues) {
  HttpResponse unknown = Get("/v1/subjects/nobody", "Bearer " + admin_);
  EXPECT_EQ(unknown.status, 404);
  // The subject id a client sent is a value of theirs (it may be a phone number): "-".
  EXPECT_EQ(Member(unknown, "instance"), "/v1/subjects/-");
  EXPECT_TRUE(Contract().Check("getSubject", unknown));
  // The query string (here an e-mail address) is not part of the instance.
  HttpResponse listed = Post("/v1/identifiers/lookup", "{", {{"email", "someone@example.test"}});
  EXPECT_EQ(listed.status, 400);
  EXPECT_EQ(Member(listed, "instance"), "/v1/identifiers/lookup");
  EXPECT_EQ(listed.body.find("someone@example.test"), std::string::npos);
  // A value a client put in the path comes back as "-".
  HttpResponse emailed = Get("/v1/subjects/someone@example.test/records", "Bearer " + admin_);
  EXPECT_GE(emailed.status, 400);
  EXPECT_EQ(Member(emailed, "instance"), "/v1/subjects/-/records");
  HttpResponse nowhere = Get("/+447700900123", "");
  EXPECT_EQ(Member(nowhere, "instance"), "/-");
  EXPECT_TRUE(Contract().CheckProblem(nowhere));
  EXPECT_EQ(ProblemInstance("/v1/a//b/"), "/v1/a//b/");
  EXPECT_EQ(ProblemInstance(""), "/");
  EXPECT_EQ(ProblemInstance("/" + std::string(65, 'a')), "/-");
  EXPECT_EQ(ProblemInstance("/v1/subjects/07700900123/records", {"07700900123"}),
            "/v1/subjects/-/records");
  // Other responses are left as they are.
  HttpResponse ok = Get("/healthz", "");
  EXPECT_EQ(ok.body.find("instance"), std::string::npos);
}

TEST_F(OperatorConventions, AMalformedBodyIsDescribedInTheServersOwnWords) {
  struct Case {
    std::string body, detail;
    rapidjson::ParseErrorCode parser_code;
  };
  const std::vector<Case> cases = {
      {R"({"types":["member"])", "an object member is followed by neither ',' nor '}' (at byte 19)",
       rapidjson::kParseErrorObjectMissCommaOrCurlyBracket},
      {R"({"types" ["member"]})", "a member name is not followed by ':' (at byte 9)",
       rapidjson::kParseErrorObjectMissColon},
      {R"({"types":["member"]} x)", "something follows the end of the JSON value (at byte 21)",
       rapidjson::kParseErrorDocumentRootNotSingular},
      {R"({"types":["mem)", "a string is not closed (at byte 14)",
       rapidjson::kParseErrorStringMissQuotationMark},
      {R"({"types":[tru]})", "a value is not valid JSON (at byte 13)",
       rapidjson::kParseErrorValueInvalid},
  };
  for (const Case& c : cases) {
    HttpResponse problem = Post("/v1/subjects", c.body);
    EXPECT_EQ(problem.status, 400) << c.body;
    EXPECT_EQ(Member(problem, "code"), "MALFORMED_JSON");
    EXPECT_EQ(Member(problem, "detail"), c.detail) << c.body;
    // The parser's own message never reaches the caller.
    std::string parser = rapidjson::GetParseError_En(c.parser_code);
    EXPECT_EQ(problem.body.find(parser.substr(0, parser.size() - 1)), std::string::npos)
        << problem.body;
    EXPECT_TRUE(Contract().Check("createSubject", problem));
  }
}

// A rights request waiting for one of the organisation's systems (docs/SYSTEMS.md) is a 503 the
// caller may retry: it says which system, never how to reach it, and when to try again.
TEST(ProblemFor, ASystemThatCannotAnswerIsA503ThatNamesItAndSaysWhenToRetry) {
  HttpResponse response = ProblemFor(Status(
      ErrorCode::kSystemUnavailable,
      "request r1 waits for crm (system crm: cannot open its SQLite database (unable to open "
      "database file)): fulfil it again once they answer, or record why they cannot"));
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.content_type, "application/problem+json");
  EXPECT_NE(response.body.find("\"code\":\"SYSTEM_UNAVAILABLE\""), std::string::npos)
      << response.body;
  EXPECT_NE(response.body.find("request r1 waits for crm"), std::string::npos) << response.body;
  bool retry_after = false;
  for (const auto& [name, value] : response.headers) {
    retry_after = retry_after || (name == "Retry-After" && value == "60");
  }
  EXPECT_TRUE(retry_after);
  // Any other server-side failure still says nothing of its cause.
  HttpResponse internal = ProblemFor(Status(ErrorCode::kInternal, "system crm: SQLSTATE 23502"));
  EXPECT_EQ(internal.status, 500);
  EXPECT_EQ(internal.body.find("crm"), std::string::npos);
}

}  // namespace
}  // namespace custos::api
