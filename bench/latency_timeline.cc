// A load client that keeps every request's latency, so the tail can be seen over time: CONNS
// keep-alive connections over loopback, each sending its next request as soon as the answer
// to the last has arrived (as wrk does), for SECONDS. Each answer's latency (from the request's
// first byte written to the answer's last byte read) is put in the 100 ms window it ended in.
// Prints one line per window ("ms count p50_us p99_us max_us", for tools/timeline_plot.py) to
// OUT, and a summary on stdout: requests/s, p50, p99 and p99.9 over the run, and the worst
// window's p99. Any answer other than 2xx, or a connection the server closed, fails the run.
//
// Usage: latency_timeline PORT SECONDS CONNS KIND TOKEN SUBJECTS OUT
//   KIND: ping (GET /ping), decide (POST /v1/decisions about b1..bSUBJECTS, newsletter), or
//   consent (POST /v1/subjects/bN/consents, given and withdrawn in turn: durable writes).
// One thread, epoll: the client costs about what wrk's two threads cost on the same cores.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr int64_t kWindowMicros = 100'000;

int64_t MicrosSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
}

[[noreturn]] void Fail(const std::string& why) {
  std::fprintf(stderr, "latency_timeline: %s\n", why.c_str());
  std::exit(1);
}

std::vector<std::string> Requests(const std::string& kind, const std::string& token, int subjects) {
  std::vector<std::string> out;
  auto post = [&](const std::string& path, const std::string& body) {
    return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
  };
  if (kind == "ping") {
    out.push_back("GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  } else if (kind == "decide") {
    for (int i = 1; i <= subjects; ++i) {
      out.push_back(post("/v1/decisions",
                         R"({"subject_id":"b)" + std::to_string(i) +
                             R"(","purpose":"newsletter","categories":["user.contact.email"]})"));
    }
  } else if (kind == "consent") {
    for (int i = 1; i <= subjects; ++i) {
      for (const char* given : {"true", "false"}) {
        out.push_back(post("/v1/subjects/b" + std::to_string(i) + "/consents",
                           std::string(R"({"target":"newsletter","given":)") + given + "}"));
      }
    }
  } else {
    Fail("KIND is ping, decide or consent");
  }
  return out;
}

struct Connection {
  int fd = -1;
  const std::string* request = nullptr;
  size_t sent = 0;
  std::string in;
  int64_t started = 0;  // micros since the run began
};

// The length of a complete answer at the start of `in`, or 0 while it is incomplete. Sets
// *status.
size_t AnswerLength(const std::string& in, int* status) {
  size_t head = in.find("\r\n\r\n");
  if (head == std::string::npos) return 0;
  *status = std::atoi(in.c_str() + 9);
  size_t length = 0;
  for (size_t at = in.find("\r\n"); at < head; at = in.find("\r\n", at + 2)) {
    if (strncasecmp(in.c_str() + at + 2, "Content-Length:", 15) == 0) {
      length = std::strtoull(in.c_str() + at + 17, nullptr, 10);
    }
  }
  return in.size() >= head + 4 + length ? head + 4 + length : 0;
}

double Quantile(std::vector<uint32_t>& values, double q) {
  if (values.empty()) return 0;
  size_t index = static_cast<size_t>(q * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index),
                   values.end());
  return values[index];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) Fail("usage: latency_timeline PORT SECONDS CONNS KIND TOKEN SUBJECTS OUT");
  const int port = std::atoi(argv[1]);
  const int64_t run_micros = static_cast<int64_t>(std::atof(argv[2]) * 1e6);
  const int conns = std::atoi(argv[3]);
  const std::vector<std::string> requests = Requests(argv[4], argv[5], std::atoi(argv[6]));
  std::mt19937 random(7);
  std::vector<std::vector<uint32_t>> windows(static_cast<size_t>(run_micros / kWindowMicros) + 2);

  int epoll = epoll_create1(EPOLL_CLOEXEC);
  std::vector<Connection> connections(static_cast<size_t>(conns));
  const auto begin = Clock::now();
  auto send_next = [&](Connection& c) {
    c.request = &requests[random() % requests.size()];
    c.sent = 0;
    c.started = MicrosSince(begin);
    while (c.sent < c.request->size()) {
      ssize_t n =
          ::send(c.fd, c.request->data() + c.sent, c.request->size() - c.sent, MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;  // EPOLLOUT finishes it
      if (n <= 0) Fail("the server closed a connection");
      c.sent += static_cast<size_t>(n);
    }
  };
  for (auto& c : connections) {
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    if (connect(c.fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 &&
        errno != EINPROGRESS) {
      Fail("cannot connect");
    }
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT | EPOLLET;
    event.data.ptr = &c;
    epoll_ctl(epoll, EPOLL_CTL_ADD, c.fd, &event);
  }
  for (auto& c : connections) c.started = -1;  // connected: the first request goes on EPOLLOUT

  int64_t answered = 0;
  std::vector<epoll_event> events(256);
  char buffer[65536];
  while (MicrosSince(begin) < run_micros) {
    int n = epoll_wait(epoll, events.data(), static_cast<int>(events.size()), 100);
    for (int e = 0; e < n; ++e) {
      auto& c = *static_cast<Connection*>(events[e].data.ptr);
      if (events[e].events & (EPOLLERR | EPOLLHUP)) Fail("a connection failed");
      if (c.started < 0) {
        send_next(c);
      } else if ((events[e].events & EPOLLOUT) && c.sent < c.request->size()) {
        while (c.sent < c.request->size()) {
          ssize_t w =
              ::send(c.fd, c.request->data() + c.sent, c.request->size() - c.sent, MSG_NOSIGNAL);
          if (w <= 0) break;
          c.sent += static_cast<size_t>(w);
        }
      }
      if (!(events[e].events & EPOLLIN)) continue;
      for (;;) {
        ssize_t r = recv(c.fd, buffer, sizeof buffer, 0);
        if (r == 0) Fail("the server closed a connection");
        if (r < 0) break;
        c.in.append(buffer, static_cast<size_t>(r));
      }
      int status = 0;
      if (size_t length = AnswerLength(c.in, &status); length > 0) {
        if (status < 200 || status > 299) Fail("an answer of " + std::to_string(status));
        const int64_t now = MicrosSince(begin);
        windows[static_cast<size_t>(now / kWindowMicros)].push_back(
            static_cast<uint32_t>(now - c.started));
        ++answered;
        c.in.erase(0, length);
        if (now < run_micros) send_next(c);
      }
    }
  }
  const double seconds = static_cast<double>(MicrosSince(begin)) / 1e6;
  for (auto& c : connections) close(c.fd);

  FILE* out = std::fopen(argv[7], "w");
  if (out == nullptr) Fail("cannot write OUT");
  std::vector<uint32_t> all;
  all.reserve(static_cast<size_t>(answered));
  double worst_p99 = 0;
  int64_t worst_at = 0;
  // Windows of the run only: answers that arrive after it (to requests sent before its end)
  // count in the totals, not in a last, partial window.
  const size_t run_windows = static_cast<size_t>(run_micros / kWindowMicros);
  for (size_t w = 0; w < windows.size(); ++w) {
    auto& values = windows[w];
    if (w >= run_windows) {
      all.insert(all.end(), values.begin(), values.end());
      continue;
    }
    if (values.empty()) continue;
    all.insert(all.end(), values.begin(), values.end());
    const double max = *std::max_element(values.begin(), values.end());
    const double p50 = Quantile(values, 0.5), p99 = Quantile(values, 0.99);
    std::fprintf(out, "%lld %zu %.0f %.0f %.0f\n", static_cast<long long>(w * 100), values.size(),
                 p50, p99, max);
    if (p99 > worst_p99) {
      worst_p99 = p99;
      worst_at = static_cast<int64_t>(w * 100);
    }
  }
  std::fclose(out);
  std::printf(
      "%s: %.0f req/s, p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms; worst 100 ms window p99 "
      "%.3f ms (at %.1f s); %lld answers\n",
      argv[4], static_cast<double>(answered) / seconds, Quantile(all, 0.5) / 1000,
      Quantile(all, 0.99) / 1000, Quantile(all, 0.999) / 1000, worst_p99 / 1000,
      static_cast<double>(worst_at) / 1000, static_cast<long long>(answered));
  return 0;
}
