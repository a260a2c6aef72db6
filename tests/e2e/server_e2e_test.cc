// End to end: the real `custos` binary started on a free port and driven over HTTP with a small
// socket client. Readiness is the "listening on" line the server prints; the port is the one
// the kernel chose (--listen 127.0.0.1:0), so tests never collide.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "deployment/session.h"

extern char** environ;

namespace custos {
namespace {

namespace fs = std::filesystem;

const std::string kSecretEmail = "e2e.private.person@example.test";

// Runs `program` to completion and returns its stdout. *code gets the exit status.
std::string RunProgram(const std::string& program, const std::vector<std::string>& args,
                       int* code) {
  int out[2];
  if (pipe(out) != 0) return "";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::vector<std::string> argv_storage = {program};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int spawned = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  std::string text;
  char buffer[4096];
  ssize_t n;
  while (spawned == 0 && (n = read(out[0], buffer, sizeof buffer)) > 0) text.append(buffer, n);
  close(out[0]);
  int status = 0;
  if (spawned == 0) waitpid(pid, &status, 0);
  *code = spawned == 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return text;
}

std::string RunCustos(const std::vector<std::string>& args, int* code) {
  return RunProgram(CUSTOS_BINARY, args, code);
}

struct Reply {
  int status = 0;  // 0: no answer (connection refused or closed)
  std::string headers, body;
};

// One request on a fresh connection (Connection: close), read to the end.
Reply Send(uint16_t port, const std::string& method, const std::string& path,
           const std::string& body = "", const std::string& token = "",
           const std::string& content_type = "application/json") {
  Reply reply;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return reply;
  timeval timeout{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return reply;
  }
  std::string request =
      method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    request += "Content-Type: " + content_type +
               "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n" + body;
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may answer (413) and close before reading everything
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buffer[8192];
  ssize_t n;
  while ((n = recv(fd, buffer, sizeof buffer, 0)) > 0) raw.append(buffer, n);
  close(fd);
  auto end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return reply;
  reply.status = std::atoi(raw.c_str() + 9);
  reply.headers = raw.substr(0, end);
  reply.body = raw.substr(end + 4);
  return reply;
}

// GET /ping to `host` (a name or an address of either family) on `port`: the status, 0 if none.
int PingAt(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return 0;
  int status = 0;
  for (addrinfo* a = found; a != nullptr && status == 0; a = a->ai_next) {
    int fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    timeval timeout{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      std::string request = "GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
      if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) > 0) {
        char buffer[64] = {};
        if (recv(fd, buffer, sizeof buffer - 1, 0) > 12) status = std::atoi(buffer + 9);
      }
    }
    close(fd);
  }
  freeaddrinfo(found);
  return status;
}

std::string Field(const std::string& json, const std::string& key) {
  auto at = json.find("\"" + key + "\":\"");
  if (at == std::string::npos) return "";
  at += key.size() + 4;
  return json.substr(at, json.find('"', at) - at);
}

class ServerE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("custos-e2e-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    data_ = (dir_ / "data").string();
    int code = 0;
    RunCustos({"--data", data_, "init", "--policy",
               std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml"},
              &code);
    ASSERT_EQ(code, 0);
    admin_ = RunCustos({"--data", data_, "token", "create", "--role", "admin"}, &code);
    ASSERT_EQ(code, 0);
    while (!admin_.empty() && admin_.back() == '\n') admin_.pop_back();
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    fs::remove_all(dir_);
  }

  // Starts the server and waits for its "listening on" line.
  void Start(const std::vector<std::string>& extra = {}) {
    int out[2];
    ASSERT_EQ(pipe(out), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    std::string log = (dir_ / "server.log").string();
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<std::string> args = {CUSTOS_BINARY, "serve",          "--data",
                                     data_,         "--log-requests", "all"};
    if (std::find(extra.begin(), extra.end(), "--listen") == extra.end()) {
      args.insert(args.end(), {"--listen", "127.0.0.1:0"});
    }
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ASSERT_EQ(posix_spawn(&pid_, CUSTOS_BINARY, &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    std::string text;
    // A server starts in well under a second; the bound only ends a test whose server never
    // prints that it listens.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (text.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{out[0], POLLIN, 0};
      if (poll(&p, 1, 1000) <= 0) continue;
      char buffer[256];
      ssize_t n = read(out[0], buffer, sizeof buffer);
      if (n <= 0) break;
      text.append(buffer, n);
    }
    close(out[0]);
    listening_ = text;
    auto colon = text.rfind(':');
    ASSERT_NE(text.find("listening on http"), std::string::npos) << text;
    port_ = static_cast<uint16_t>(std::atoi(text.c_str() + colon + 1));
    ASSERT_GT(port_, 0);
  }
  // SIGTERM, then the exit code.
  int Stop() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string Logs() {
    std::ifstream in(dir_ / "server.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  fs::path dir_;
  std::string data_, admin_, listening_;
  pid_t pid_ = 0;
  uint16_t port_ = 0;
};

TEST_F(ServerE2eTest, ServesTheEngineOverHttp) {
  Start();
  Reply ping = Send(port_, "GET", "/ping");
  EXPECT_EQ(ping.status, 200);
  EXPECT_EQ(ping.body, "pong");
  EXPECT_NE(ping.headers.find("X-Content-Type-Options: nosniff"), std::string::npos);
  EXPECT_EQ(Send(port_, "GET", "/healthz").status, 200);
  Reply created = Send(port_, "POST", "/v1/subjects",
                       R"({"types":["non_member"],"email":")" + kSecretEmail + R"("})", admin_);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = Field(created.body, "subject_id");
  ASSERT_FALSE(id.empty());
  std::string decide = R"({"subject_id":")" + id +
                       R"(","purpose":"newsletter","categories":["user.contact.email"]})";
  Reply denied = Send(port_, "POST", "/v1/decisions", decide, admin_);
  EXPECT_EQ(denied.status, 200);
  EXPECT_NE(denied.body.find("CONSENT_MISSING"), std::string::npos) << denied.body;
  EXPECT_EQ(Send(port_, "POST", "/v1/subjects/" + id + "/consents",
                 R"({"target":"newsletter","given":true,"channel":"web"})", admin_)
                .status,
            201);
  Reply allowed = Send(port_, "POST", "/v1/decisions", decide, admin_);
  EXPECT_NE(allowed.body.find("\"allow\":true"), std::string::npos) << allowed.body;
  Reply lookup = Send(port_, "POST", "/v1/identifiers/lookup",
                      R"({"kind":"email","value":")" + kSecretEmail + R"("})", admin_);
  EXPECT_NE(lookup.body.find(id), std::string::npos) << lookup.body;
  Reply audit = Send(port_, "GET", "/v1/audit/verify", "", admin_);
  EXPECT_NE(audit.body.find("\"intact\":true"), std::string::npos) << audit.body;
  EXPECT_EQ(Send(port_, "GET", "/v1/openapi.json").status, 200);
  EXPECT_EQ(Stop(), 0);
}

TEST_F(ServerE2eTest, TheServerWritesNoCoreFileAndIsNotDumpable) {
  // Keys and opened personal values must never reach a core file (UK GDPR Art. 32, security
  // of processing): the running server's core limit is 0, soft and hard.
  Start();
  std::ifstream limits("/proc/" + std::to_string(pid_) + "/limits");
  std::string line, core;
  while (std::getline(limits, line)) {
    if (line.rfind("Max core file size", 0) == 0) core = line;
  }
  ASSERT_FALSE(core.empty()) << "no core limit in /proc/" << pid_ << "/limits";
  std::istringstream fields(core.substr(std::string("Max core file size").size()));
  std::string soft, hard;
  fields >> soft >> hard;
  EXPECT_EQ(soft, "0") << core;
  EXPECT_EQ(hard, "0") << core;
  // Not dumpable: the kernel hands a non-dumpable process's /proc entries to root. As root that
  // cannot be told from outside (the in-process check is common/core_dumps_test.cc).
  if (::geteuid() != 0) {
    struct stat st {};
    ASSERT_EQ(::stat(("/proc/" + std::to_string(pid_)).c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 0u) << "the server is dumpable";
  }
  EXPECT_EQ(Stop(), 0);
}

TEST_F(ServerE2eTest, ClientMistakesGet4xxProblemJsonAndNoPersonalValueIsLogged) {
  Start({"--max-body", "4096"});
  struct Case {
    std::string method, path, body, content_type;
    int status;
  };
  std::vector<Case> cases = {
      {"POST", "/v1/subjects", "{\"types\":[\"member\"],\"email\":\"" + kSecretEmail,
       "application/json", 400},
      {"POST", "/v1/subjects", "{\"types\":[\"member\"],\"mail\":\"" + kSecretEmail + "\"}",
       "application/json", 400},
      {"POST", "/v1/subjects", "{\"types\":[\"member\"],\"email\":42}", "application/json", 400},
      {"POST", "/v1/subjects", "{\"types\":[\"" + kSecretEmail + "\"]}", "application/json", 422},
      {"POST", "/v1/subjects", kSecretEmail, "text/plain", 415},
      {"POST", "/v1/decisions", std::string(100000, ' ') + kSecretEmail, "application/json", 413},
      {"GET", "/v1/subjects/no-such-subject", "", "application/json", 404},
      {"POST", "/v1/test/clock", R"({"now":"2030-01-01"})", "application/json", 404},
  };
  for (const auto& c : cases) {
    Reply reply = Send(port_, c.method, c.path, c.body, admin_, c.content_type);
    EXPECT_EQ(reply.status, c.status) << c.path << " " << reply.body;
    EXPECT_NE(reply.headers.find("Content-Type: application/problem+json"), std::string::npos)
        << reply.headers;
    EXPECT_EQ(reply.body.find(kSecretEmail), std::string::npos) << reply.body;
  }
  EXPECT_EQ(Send(port_, "GET", "/v1/subjects/x").status, 401);
  // The server still serves after all that.
  EXPECT_EQ(Send(port_, "GET", "/ping").status, 200);
  EXPECT_EQ(Stop(), 0);
  std::string logs = Logs();
  EXPECT_NE(logs.find("\"status\":413"), std::string::npos) << logs;
  EXPECT_EQ(logs.find(kSecretEmail), std::string::npos) << logs;
}

TEST_F(ServerE2eTest, TestClockRouteOnlyWithTheFlag) {
  Start({"--test-clock", "--now", "2026-01-01"});
  Reply set = Send(port_, "POST", "/v1/test/clock", R"({"now":"2031-06-01"})", admin_);
  EXPECT_EQ(set.status, 200) << set.body;
  Reply created = Send(port_, "POST", "/v1/subjects", R"({"types":["non_member"]})", admin_);
  std::string id = Field(created.body, "subject_id");
  Reply subject = Send(port_, "GET", "/v1/subjects/" + id, "", admin_);
  EXPECT_NE(subject.body.find("\"created_at\":\"2031-06-01T00:00:00Z\""), std::string::npos)
      << subject.body;
  EXPECT_EQ(Stop(), 0);
}

TEST_F(ServerE2eTest, ServesTlsWithHsts) {
  const std::string fixtures = std::string(CUSTOS_SOURCE_DIR) + "/tests/fixtures/tls/";
  Start({"--tls-cert", fixtures + "cert.pem", "--tls-key", fixtures + "key.pem"});
  int code = 0;
  std::string reply = RunProgram(
      "curl", {"-sk", "-D", "-", "https://127.0.0.1:" + std::to_string(port_) + "/ping"}, &code);
  ASSERT_EQ(code, 0) << "curl (from scripts/setup-deps.sh) failed";
  EXPECT_NE(reply.find("200"), std::string::npos) << reply;
  EXPECT_NE(reply.find("Strict-Transport-Security: max-age="), std::string::npos) << reply;
  EXPECT_NE(reply.find("pong"), std::string::npos);
  // Plain HTTP to a TLS port gets no HTTP answer.
  EXPECT_EQ(Send(port_, "GET", "/ping").status, 0);
  EXPECT_EQ(Stop(), 0);
}

TEST_F(ServerE2eTest, SigtermDrainsAndLosesNoAcknowledgedWrite) {
  // issue 4.1: "SIGTERM drains in-flight requests and loses no acknowledged write".
  Start();
  constexpr int kWriters = 8;
  std::vector<std::string> ids;
  for (int i = 0; i < kWriters; ++i) {
    Reply created = Send(port_, "POST", "/v1/subjects", R"({"types":["non_member"]})", admin_);
    ASSERT_EQ(created.status, 201);
    ids.push_back(Field(created.body, "subject_id"));
  }
  std::atomic<int> acknowledged{0};
  std::vector<int> per_writer(kWriters, 0);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0;; ++i) {
        std::string body = std::string(R"({"target":"newsletter","given":)") +
                           (i % 2 == 0 ? "true" : "false") + "}";
        Reply reply = Send(port_, "POST", "/v1/subjects/" + ids[w] + "/consents", body, admin_);
        if (reply.status == 201) {
          ++per_writer[w];
          ++acknowledged;
        } else {
          EXPECT_TRUE(reply.status == 0 || reply.status == 503) << reply.status << reply.body;
          return;  // refused or told the server is stopping: no more writes
        }
      }
    });
  }
  // Forty writes take milliseconds; the bound only ends a test whose writers are stuck.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (acknowledged.load() < 40 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(Stop(), 0);
  for (auto& writer : writers) writer.join();
  ASSERT_GE(acknowledged.load(), 40);

  deployment::Options options;
  options.data_dir = data_;
  auto session = deployment::Session::Open(options);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  for (int w = 0; w < kWriters; ++w) {
    auto events = (*session)->store().ListConsentEvents("wig", ids[w]);
    ASSERT_TRUE(events.ok());
    EXPECT_GE(static_cast<int>(events->size()), per_writer[w]) << ids[w];
  }
  session->reset();
  int code = 0;
  RunCustos({"--data", data_, "audit", "verify"}, &code);
  EXPECT_EQ(code, 0);
  std::string logs = Logs();
  EXPECT_NE(logs.find("\"event\":\"draining\""), std::string::npos);
  EXPECT_NE(logs.find("\"unfinished_requests\":0"), std::string::npos) << logs;
}

// Issue 7 with SQLite: a consent withdrawn with the CLI on the data directory a server serves
// reaches the server's decisions within about --refresh-every (here 200 ms; allowed 1 s).
TEST_F(ServerE2eTest, AConsentWithdrawnWithTheCliIsDeniedByTheRunningServer) {
  Start({"--refresh-every", "200"});
  Reply created = Send(port_, "POST", "/v1/subjects", R"({"types":["non_member"]})", admin_);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = Field(created.body, "subject_id");
  ASSERT_EQ(Send(port_, "POST", "/v1/subjects/" + id + "/consents",
                 R"({"target":"newsletter","given":true})", admin_)
                .status,
            201);
  std::string decide = R"({"subject_id":")" + id +
                       R"(","purpose":"newsletter","categories":["user.contact.email"]})";
  ASSERT_NE(Send(port_, "POST", "/v1/decisions", decide, admin_).body.find("\"allow\":true"),
            std::string::npos);  // cached in the server now
  int code = 0;
  RunCustos({"--data", data_, "consent", "withdraw", id, "newsletter"}, &code);
  ASSERT_EQ(code, 0);
  auto written = std::chrono::steady_clock::now();
  std::string body;
  while (std::chrono::steady_clock::now() - written < std::chrono::seconds(5)) {
    body = Send(port_, "POST", "/v1/decisions", decide, admin_).body;
    if (body.find("CONSENT_WITHDRAWN") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto seen = std::chrono::steady_clock::now() - written;
  EXPECT_NE(body.find("CONSENT_WITHDRAWN"), std::string::npos) << body;
  // The promise is about one --refresh-every (200 ms); 1 s leaves 800 ms for a loaded machine
  // to schedule the refresh and answer the decision.
  EXPECT_LT(seen, std::chrono::seconds(1));
  EXPECT_EQ(Stop(), 0);
}

// A token revoked with the CLI beside the running server is refused within a second (the
// server looks at the token file once a second); the other tokens keep working.
TEST_F(ServerE2eTest, ATokenRevokedWithTheCliIsRefusedByTheRunningServer) {
  int code = 0;
  std::string dpo = RunCustos({"--data", data_, "token", "create", "--role", "dpo"}, &code);
  ASSERT_EQ(code, 0);
  while (!dpo.empty() && dpo.back() == '\n') dpo.pop_back();
  Start();
  ASSERT_EQ(Send(port_, "GET", "/v1/policy", "", dpo).status, 200);
  std::string id = dpo.substr(4, 16);  // cst_<id>_<secret>
  std::string said = RunCustos({"--data", data_, "token", "revoke", dpo}, &code);  // whole token
  ASSERT_EQ(code, 0) << said;
  EXPECT_EQ(said.find(dpo.substr(22)), std::string::npos);  // the secret is never echoed
  auto revoked = std::chrono::steady_clock::now();
  int status = 0;
  while (std::chrono::steady_clock::now() - revoked < std::chrono::seconds(5)) {
    status = Send(port_, "GET", "/v1/policy", "", dpo).status;
    if (status == 401) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(status, 401);
  // The server looks at the token file once a second, so the refusal comes within 1 s of the
  // revocation; 1.5 s leaves 500 ms for a loaded machine.
  EXPECT_LT(std::chrono::steady_clock::now() - revoked, std::chrono::milliseconds(1500));
  EXPECT_EQ(Send(port_, "GET", "/v1/policy", "", admin_).status, 200);
  std::string listed = RunCustos({"--data", data_, "token", "list"}, &code);
  EXPECT_NE(listed.find(id + " dpo"), std::string::npos) << listed;
  EXPECT_NE(listed.find("revoked="), std::string::npos) << listed;
  // Revoking it again, or a token that never was: one clear line, a non-zero exit.
  RunCustos({"--data", data_, "token", "revoke", id}, &code);
  EXPECT_NE(code, 0);
  RunCustos({"--data", data_, "token", "revoke", "0123456789abcdef"}, &code);
  EXPECT_NE(code, 0);
  EXPECT_EQ(Stop(), 0);
}

// Issue 5 over real HTTP: a person opens an access request without a token, reads the code
// from the outbox (here with `custos outbox read` on the data directory, beside the running
// server, as an operator without a notifier would), verifies, the DPO fulfils it (a copy of
// everything held is not for staff tokens, which reach only some purposes), and the person
// downloads their copy with the requester secret.
TEST_F(ServerE2eTest, ARightsRequestFromIntakeToDownload) {
  Start();
  int code = 0;
  std::string staff = RunCustos(
      {"--data", data_, "token", "create", "--role", "dpo"}, &code);
  ASSERT_EQ(code, 0);
  while (!staff.empty() && staff.back() == '\n') staff.pop_back();
  Reply created =
      Send(port_, "POST", "/v1/subjects",
           R"({"types":["non_member"],"email":")" + kSecretEmail + R"(","verified":true})", admin_);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string subject = Field(created.body, "subject_id");
  const std::string name = "E2e Private Name";
  ASSERT_EQ(Send(port_, "POST", "/v1/subjects/" + subject + "/records",
                 R"({"category":"user.name","value":")" + name +
                     R"(","source":"direct","purpose":"newsletter"})",
                 admin_)
                .status,
            201);

  Reply opened =
      Send(port_, "POST", "/v1/requests", R"({"type":"access","email":")" + kSecretEmail + R"("})");
  ASSERT_EQ(opened.status, 202) << opened.body;
  std::string id = Field(opened.body, "request_id");
  ASSERT_FALSE(id.empty());
  std::string one_time = RunCustos(
      {"--data", data_, "outbox", "read", "--request", id, "--last", "--field", "code"}, &code);
  ASSERT_EQ(code, 0) << one_time;
  while (!one_time.empty() && one_time.back() == '\n') one_time.pop_back();
  ASSERT_EQ(one_time.size(), 8u) << one_time;
  EXPECT_EQ(opened.body.find(one_time), std::string::npos);

  Reply verified = Send(port_, "POST", "/v1/requests/" + id + "/verification",
                        R"({"code":")" + one_time + R"("})");
  ASSERT_EQ(verified.status, 200) << verified.body;
  std::string secret = Field(verified.body, "requester_secret");
  ASSERT_EQ(secret.rfind("rq_" + id + "_", 0), 0u) << verified.body;
  EXPECT_EQ(Send(port_, "GET", "/v1/requests/" + id + "/status").status, 401);

  Reply fulfilled = Send(port_, "POST", "/v1/requests/" + id + "/fulfilment", "", staff);
  ASSERT_EQ(fulfilled.status, 200) << fulfilled.body;
  EXPECT_EQ(Field(fulfilled.body, "state"), "completed");

  Reply html = Send(port_, "GET", "/v1/requests/" + id + "/document?format=html", "", secret);
  ASSERT_EQ(html.status, 200) << html.body;
  EXPECT_NE(html.headers.find("Content-Type: text/html"), std::string::npos) << html.headers;
  EXPECT_NE(html.headers.find("frame-ancestors 'none'"), std::string::npos) << html.headers;
  EXPECT_NE(html.body.find(name), std::string::npos);
  Reply json = Send(port_, "GET", "/v1/requests/" + id + "/document", "", secret);
  ASSERT_EQ(json.status, 200) << json.body;
  EXPECT_NE(json.body.find(name), std::string::npos);
  Reply status = Send(port_, "GET", "/v1/requests/" + id + "/status", "", secret);
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(Field(status.body, "state"), "completed");
  EXPECT_EQ(Send(port_, "GET", "/v1/requests/" + id + "/document", "", admin_).status, 200);
  EXPECT_EQ(Stop(), 0);

  std::string logs = Logs();
  EXPECT_EQ(logs.find(kSecretEmail), std::string::npos) << logs;
  EXPECT_EQ(logs.find(one_time), std::string::npos) << logs;
  EXPECT_EQ(logs.find(secret), std::string::npos) << logs;
  EXPECT_EQ(logs.find(name), std::string::npos) << logs;
  // The server and the CLI wrote to one audit chain; it holds together.
  RunCustos({"--data", data_, "audit", "verify"}, &code);
  EXPECT_EQ(code, 0);
}

// issue 6.4: "the server sweeps on a schedule". WIG: a non-member inactive for five years is
// swept (seed 002: "... or your account has been inactive for five years ... We will then
// dispose of your information"). No one calls the retention route: the schedule does it.
TEST_F(ServerE2eTest, TheServerSweepsRetentionOnASchedule) {
  Start({"--test-clock", "--now", "2026-01-01", "--sweep-every", "1"});
  Reply created = Send(port_, "POST", "/v1/subjects",
                       R"({"types":["non_member"],"email":")" + kSecretEmail + R"("})", admin_);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = Field(created.body, "subject_id");
  ASSERT_EQ(Send(port_, "POST", "/v1/subjects/" + id + "/events",
                 R"({"event":"last_activity","at":"2026-01-10T00:00:00Z"})", admin_)
                .status,
            201);
  // The day before the five years are up, sweeps leave the person alone.
  ASSERT_EQ(Send(port_, "POST", "/v1/test/clock", R"({"now":"2031-01-09"})", admin_).status, 200);
  // Sweeps run every second, so 2.5 s is two or more of them. Under load fewer may run: the
  // check below then passes without having been put to the test, it never fails falsely.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  Reply before = Send(port_, "GET", "/v1/subjects/" + id, "", admin_);
  EXPECT_NE(before.body.find("\"state\":\"active\""), std::string::npos) << before.body;
  // The day after, the next scheduled sweep erases them.
  ASSERT_EQ(Send(port_, "POST", "/v1/test/clock", R"({"now":"2031-01-11"})", admin_).status, 200);
  // The next sweep comes within a second; 20 s of polling only ends a test whose sweeps stopped.
  bool erased = false;
  for (int i = 0; i < 200 && !erased; ++i) {
    Reply after = Send(port_, "GET", "/v1/subjects/" + id, "", admin_);
    erased = after.body.find("erased") != std::string::npos;
    if (!erased) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(erased);
  EXPECT_EQ(Stop(), 0);
  std::string logs = Logs();
  EXPECT_NE(logs.find("\"event\":\"retention_swept\""), std::string::npos) << logs;
  EXPECT_NE(logs.find("\"erased\":1"), std::string::npos) << logs;
  EXPECT_EQ(logs.find(kSecretEmail), std::string::npos);
}

}  // namespace
}  // namespace custos

namespace custos {
namespace {

TEST_F(ServerE2eTest, ListensOnAHostNameAndOnIpv6) {
  Start({"--listen", "localhost:0"});
  EXPECT_NE(listening_.find("listening on http://localhost:"), std::string::npos) << listening_;
  EXPECT_EQ(PingAt("localhost", port_), 200);
  EXPECT_EQ(Stop(), 0);
  Start({"--listen", "[::1]:0"});
  EXPECT_NE(listening_.find("listening on http://[::1]:"), std::string::npos) << listening_;
  EXPECT_EQ(PingAt("::1", port_), 200);
  EXPECT_EQ(Stop(), 0);
}

TEST_F(ServerE2eTest, CannotListenSaysWhy) {
  Start();
  int code = 0;
  std::string said =
      RunProgram("/bin/sh",
                 {"-c", std::string(CUSTOS_BINARY) + " serve --data '" + data_ +
                            "' --listen 127.0.0.1:" + std::to_string(port_) + " 2>&1"},
                 &code);
  EXPECT_EQ(code, 3);
  EXPECT_NE(said.find("error IO_ERROR: cannot listen on 127.0.0.1:" + std::to_string(port_) +
                      ": Address already in use"),
            std::string::npos)
      << said;
  EXPECT_EQ(Stop(), 0);
}

}  // namespace
}  // namespace custos
