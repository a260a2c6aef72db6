// HttpServer with a handler of the test's own: a handler that blocks (as a decision does while
// its audit entry waits for the group commit) holds up no other connection, and the requests
// of many connections wait inside the handler together, even with a single polling thread.
#include "api/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace custos::api {
namespace {

using Clock = std::chrono::steady_clock;

// Sends one GET for `path` on a new connection and returns the status line's code (0: none).
int Get(uint16_t port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return 0;
  }
  std::string raw = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  if (send(fd, raw.data(), raw.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(raw.size())) {
    close(fd);
    return 0;
  }
  std::string reply;
  char buffer[4096];
  ssize_t n;
  while ((n = recv(fd, buffer, sizeof buffer, 0)) > 0) reply.append(buffer, n);
  close(fd);
  return reply.rfind("HTTP/1.1 ", 0) == 0 ? std::atoi(reply.c_str() + 9) : 0;
}

// A handler whose /block requests wait until `release` or until `needed` of them are inside
// together (as requests waiting for one group commit do), at most 3 s; /ping answers at once.
struct Gate {
  std::mutex mutex;
  std::condition_variable changed;
  int inside = 0, most_inside = 0, needed = 0;
  bool release = false;

  HttpResponse Handle(HttpRequest& request) {
    HttpResponse response;
    response.content_type = "text/plain";
    response.status = 200;
    if (request.path != "/block") return response;
    std::unique_lock lock(mutex);
    ++inside;
    most_inside = std::max(most_inside, inside);
    changed.notify_all();
    changed.wait_for(lock, std::chrono::seconds(3),
                     [&] { return release || most_inside >= needed; });
    --inside;
    return response;
  }
};

TEST(HttpServer, RequestsOnManyConnectionsWaitInTheHandlerTogetherWithOnePollingThread) {
  constexpr int kConnections = 24;
  Gate gate;
  gate.needed = kConnections;
  HttpServerOptions options;
  options.port = 0;
  options.threads = kConnections;
  options.io_threads = 1;  // one thread polls every connection
  HttpServer server(options, [&](HttpRequest& request) { return gate.Handle(request); }, {});
  ASSERT_TRUE(server.Start().ok());
  std::vector<int> statuses(kConnections);
  std::vector<std::thread> clients;
  for (int i = 0; i < kConnections; ++i) {
    clients.emplace_back([&, i] { statuses[i] = Get(server.port(), "/block"); });
  }
  for (auto& client : clients) client.join();
  // Every request was inside the handler at once: none waited for another to finish.
  EXPECT_EQ(gate.most_inside, kConnections);
  for (int status : statuses) EXPECT_EQ(status, 200);
  server.Drain(std::chrono::seconds(1));
}

TEST(HttpServer, AHandlerThatBlocksHoldsUpNoOtherConnection) {
  Gate gate;
  gate.needed = 1000;  // never reached: /block waits until released
  HttpServerOptions options;
  options.port = 0;
  options.threads = 8;
  options.io_threads = 1;
  HttpServer server(options, [&](HttpRequest& request) { return gate.Handle(request); }, {});
  ASSERT_TRUE(server.Start().ok());
  std::vector<std::thread> blocked;
  for (int i = 0; i < 4; ++i) blocked.emplace_back([&] { Get(server.port(), "/block"); });
  {
    std::unique_lock lock(gate.mutex);
    ASSERT_TRUE(
        gate.changed.wait_for(lock, std::chrono::seconds(5), [&] { return gate.inside == 4; }));
  }
  // Four requests block in the handler; a fifth, on its own connection, is answered at once.
  auto start = Clock::now();
  EXPECT_EQ(Get(server.port(), "/ping"), 200);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(1));
  {
    std::lock_guard lock(gate.mutex);
    gate.release = true;
  }
  gate.changed.notify_all();
  for (auto& client : blocked) client.join();
  EXPECT_EQ(server.Drain(std::chrono::seconds(2)), 0);
}

// Answers held by their handler (HttpResponse::hold: a decision waiting for its audit commit)
// keep no thread: many wait at once on a pool of two, and each leaves as it is released, as
// built or replaced.
// `at_once`: the handler runs on the polling thread (as decisions about cached people do), not
// on the pool.
void HeldAnswersLeaveWhenReleased(bool at_once) {
  constexpr int kHeld = 20;
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<ReleaseAnswer> releases;
  HttpServerOptions options;
  options.port = 0;
  options.threads = 2;
  options.io_threads = 1;
  if (at_once) options.answers_at_once = [](const HttpRequest&) { return true; };
  HttpServer server(options,
                    [&](HttpRequest& request) {
                      HttpResponse response;
                      response.content_type = "text/plain";
                      if (request.path != "/held") return response;
                      response.hold = [&](ReleaseAnswer release) {
                        std::lock_guard lock(mutex);
                        releases.push_back(std::move(release));
                        changed.notify_all();
                      };
                      return response;
                    },
                    {});
  ASSERT_TRUE(server.Start().ok());
  std::vector<int> statuses(kHeld);
  std::vector<std::thread> clients;
  for (int i = 0; i < kHeld; ++i) {
    clients.emplace_back([&, i] { statuses[i] = Get(server.port(), "/held"); });
  }
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(
        changed.wait_for(lock, std::chrono::seconds(10), [&] { return releases.size() == kHeld; }));
  }
  // Twenty answers are held while no thread waits for them, and others are still served.
  EXPECT_EQ(Get(server.port(), "/other"), 200);
  EXPECT_EQ(server.in_flight(), kHeld);
  std::vector<ReleaseAnswer> taken;
  {
    std::lock_guard lock(mutex);
    taken.swap(releases);
  }
  for (size_t i = 0; i < taken.size(); ++i) {
    if (i % 2 == 0) {
      taken[i](std::nullopt);
    } else {
      HttpResponse instead;
      instead.status = 503;
      taken[i](instead);
    }
  }
  for (auto& client : clients) client.join();
  int sent = 0, replaced = 0;
  for (int status : statuses) {
    sent += status == 200 ? 1 : 0;
    replaced += status == 503 ? 1 : 0;
  }
  EXPECT_EQ(sent, kHeld / 2);
  EXPECT_EQ(replaced, kHeld / 2);
  EXPECT_EQ(server.Drain(std::chrono::seconds(2)), 0);
}

TEST(HttpServer, HeldAnswersWaitWithoutAThreadAndLeaveWhenReleased) {
  HeldAnswersLeaveWhenReleased(false);
}

TEST(HttpServer, AnswersHeldOnThePollingThreadLeaveWhenReleasedToo) {
  HeldAnswersLeaveWhenReleased(true);
}

// Draining: a request received before it is answered in full; one that arrives on a new
// connection meanwhile gets the draining answer (503) at once, and the server stops cleanly
// under a steady stream of such requests (no quiesce race with libmicrohttpd's threads).
TEST(HttpServer, WhileDrainingARequestReceivedBeforeIsAnsweredAndANewOneGets503) {
  Gate gate;
  gate.needed = 1000;  // never reached: /block waits until released
  HttpServerOptions options;
  options.port = 0;
  options.threads = 4;
  options.io_threads = 2;
  HttpResponse stopping;
  stopping.status = 503;
  stopping.content_type = "text/plain";
  HttpServer server(
      options, [&](HttpRequest& request) { return gate.Handle(request); }, stopping);
  ASSERT_TRUE(server.Start().ok());
  const uint16_t port = server.port();
  int blocked_status = 0;
  std::thread blocked([&] { blocked_status = Get(port, "/block"); });
  {
    std::unique_lock lock(gate.mutex);
    ASSERT_TRUE(
        gate.changed.wait_for(lock, std::chrono::seconds(5), [&] { return gate.inside == 1; }));
  }
  int unfinished = -1;
  std::thread draining([&] { unfinished = server.Drain(std::chrono::seconds(5)); });
  // Drain has begun once a new request is refused; until then it may still be served.
  int status = 200;
  auto start = Clock::now();
  while (status == 200 && Clock::now() - start < std::chrono::seconds(5)) {
    status = Get(port, "/ping");
  }
  EXPECT_EQ(status, 503);
  // More arrive, from several clients at once, while the received one is still inside.
  std::vector<std::thread> late;
  std::vector<int> late_status(8, -1);
  for (int i = 0; i < 8; ++i) {
    late.emplace_back([&, i] { late_status[i] = Get(port, "/ping"); });
  }
  for (auto& client : late) client.join();
  for (int s : late_status) EXPECT_EQ(s, 503);
  {
    std::lock_guard lock(gate.mutex);
    gate.release = true;
  }
  gate.changed.notify_all();
  blocked.join();
  draining.join();
  EXPECT_EQ(blocked_status, 200);
  EXPECT_EQ(unfinished, 0);
  EXPECT_EQ(Get(port, "/ping"), 0);  // stopped: nothing listens
}

}  // namespace
}  // namespace custos::api
