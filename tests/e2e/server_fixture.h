// What the end-to-end tests share: the real `custos` binary started on a free port and driven
// over HTTP with a small socket client. Readiness is the "listening on" line the server prints;
// the port is the one the kernel chose (--listen 127.0.0.1:0), so tests never collide.
#ifndef CUSTOS_TESTS_E2E_SERVER_FIXTURE_H_
#define CUSTOS_TESTS_E2E_SERVER_FIXTURE_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace custos::e2e {

namespace fs = std::filesystem;

inline const std::string kSecretEmail = "e2e.private.person@example.test";

// Runs `program` to completion and returns its stdout. *code gets the exit status.
inline std::string RunProgram(const std::string& program, const std::vector<std::string>& args,
                              int* code) {
  int out[2];
  if (pipe(out) != 0) return "";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
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

inline std::string RunCustos(const std::vector<std::string>& args, int* code) {
  return RunProgram(CUSTOS_BINARY, args, code);
}

struct Reply {
  int status = 0;  // 0: no answer (connection refused or closed)
  std::string headers, body;
};

// Writes all of `bytes` to `fd`; false when the connection went away first.
inline bool SendAll(int fd, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Reads to the end of the connection and parses the answer (status 0: none).
inline Reply ReadReply(int fd) {
  std::string raw;
  char buffer[8192];
  ssize_t n;
  while ((n = recv(fd, buffer, sizeof buffer, 0)) > 0) raw.append(buffer, n);
  Reply reply;
  auto end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return reply;
  reply.status = std::atoi(raw.c_str() + 9);
  reply.headers = raw.substr(0, end);
  reply.body = raw.substr(end + 4);
  return reply;
}

// One request on a fresh connection (Connection: close), read to the end.
inline Reply Send(uint16_t port, const std::string& method, const std::string& path,
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
  // The server may answer (413) and close before reading everything: the answer is read anyway.
  (void)SendAll(fd, request);
  reply = ReadReply(fd);
  close(fd);
  return reply;
}

// GET /ping to `host` (a name or an address of either family) on `port`: the status, 0 if none.
inline int PingAt(const std::string& host, uint16_t port) {
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

inline std::string Field(const std::string& json, const std::string& key) {
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
               std::string(CUSTOS_SOURCE_DIR) + "/policies/" + PolicyFile()},
              &code);
    ASSERT_EQ(code, 0);
    admin_ = RunCustos({"--data", data_, "token", "create", "--role", "admin"}, &code);
    ASSERT_EQ(code, 0);
    while (!admin_.empty() && admin_.back() == '\n') admin_.pop_back();
  }
  // The seed policy the data directory is initialised with (policies/NAME).
  virtual std::string PolicyFile() const { return "wig.yaml"; }
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
  // A server that did not stop cleanly leaves its log's last lines in the test's output.
  int Stop() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code != 0) {
      std::string log = Logs();
      if (log.size() > 4000) log = log.substr(log.size() - 4000);
      std::cerr << "the server "
                << (WIFSIGNALED(status) ? "ended on signal " + std::to_string(WTERMSIG(status))
                                        : "exited with " + std::to_string(code))
                << "; the end of its log:\n"
                << log << "\n";
    }
    return code;
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

}  // namespace custos::e2e

#endif  // CUSTOS_TESTS_E2E_SERVER_FIXTURE_H_
