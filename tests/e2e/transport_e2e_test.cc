// End to end: the transport's defences against clients that misbehave: old TLS versions and
// suites without forward secrecy, one address holding many connections, requests that trickle,
// chunked bodies over the limit, and ambiguous body lengths.
#include <sys/resource.h>

#include <cerrno>
#include <cstring>

#include "e2e/server_fixture.h"

namespace custos {
namespace {

using namespace e2e;
using Clock = std::chrono::steady_clock;

long long MillisSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// A connection to 127.0.0.1:port from the address `from` (127.0.0.2 is another client on
// Linux loopback). -1 when it cannot connect within 2 s.
int Connect(uint16_t port, const char* from = "127.0.0.1") {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval timeout{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);  // bounds connect() too
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, from, &local.sin_addr);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Sends `raw` on a fresh connection and reads the answer to the end.
Reply Exchange(uint16_t port, const std::string& raw) {
  int fd = Connect(port);
  if (fd < 0) return {};
  SendAll(fd, raw);
  Reply reply = ReadReply(fd);
  close(fd);
  return reply;
}

// True when the server has closed `fd` (end of stream or reset); waits up to `wait_ms`.
bool ClosedByServer(int fd, int wait_ms) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (poll(&p, 1, wait_ms) <= 0) return false;
  char byte;
  ssize_t n = recv(fd, &byte, 1, MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

class TransportE2eTest : public ServerE2eTest {
 protected:
  // `openssl s_client` against the server with `args`: the cipher it settled on ("(NONE)" when
  // the handshake failed), and the protocol in *protocol.
  std::string Handshake(const std::vector<std::string>& args, std::string* protocol) {
    std::vector<std::string> all = {"s_client", "-connect", "127.0.0.1:" + std::to_string(port_)};
    all.insert(all.end(), args.begin(), args.end());
    int code = 0;
    std::string out = RunProgram("openssl", all, &code);
    auto line = out.find("Cipher is ");
    auto first = out.find("New, ");
    *protocol = first == std::string::npos
                    ? ""
                    : out.substr(first + 5, out.find(',', first + 5) - first - 5);
    if (line == std::string::npos) return "(NONE)";
    line += 10;
    return out.substr(line, out.find('\n', line) - line);
  }
};

TEST_F(TransportE2eTest, TlsSpeaksOnlyTls12And13WithForwardSecretAeadSuites) {
  const std::string fixtures = std::string(CUSTOS_SOURCE_DIR) + "/tests/fixtures/tls/";
  Start({"--tls-cert", fixtures + "cert.pem", "--tls-key", fixtures + "key.pem"});
  std::string protocol;
  // The client side allows everything (SECLEVEL=0), so a refusal is the server's.
  EXPECT_EQ(Handshake({"-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"}, &protocol), "(NONE)");
  EXPECT_EQ(Handshake({"-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"}, &protocol), "(NONE)");
  // TLS 1.2 without forward secrecy (RSA key exchange), or without AEAD (CBC with HMAC).
  EXPECT_EQ(Handshake({"-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0"}, &protocol), "(NONE)");
  EXPECT_EQ(Handshake({"-tls1_2", "-cipher", "AES256-GCM-SHA384:@SECLEVEL=0"}, &protocol),
            "(NONE)");
  EXPECT_EQ(Handshake({"-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA:@SECLEVEL=0"}, &protocol),
            "(NONE)");
  // What a current client offers is accepted.
  EXPECT_EQ(Handshake({"-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"}, &protocol),
            "ECDHE-RSA-AES128-GCM-SHA256");
  EXPECT_EQ(protocol, "TLSv1.2");
  EXPECT_EQ(Handshake({"-tls1_2", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305"}, &protocol),
            "ECDHE-RSA-CHACHA20-POLY1305");
  EXPECT_EQ(Handshake({"-tls1_3"}, &protocol), "TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(protocol, "TLSv1.3");
  EXPECT_EQ(Stop(), 0);
}

TEST_F(TransportE2eTest, OneAddressCannotHoldTheServerDown) {
  // More idle connections from one address than the server's connection limit (4096), each
  // having sent a request line and one header only. Enough descriptors for them first.
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = std::min<rlim_t>(files.rlim_max, 8192);
  setrlimit(RLIMIT_NOFILE, &files);
  const int slow_count = std::min<int>(4200, static_cast<int>(files.rlim_cur) - 256);
  Start();  // the default: at most 64 connections per address
  std::vector<int> slow;
  for (int i = 0; i < slow_count; ++i) {
    int fd = Connect(port_);
    if (fd < 0) continue;
    ::send(fd, "GET /ping HTTP/1.1\r\nHost: x\r\n", 29, MSG_NOSIGNAL | MSG_DONTWAIT);
    slow.push_back(fd);
  }
  // Another client, from another address, is served at once.
  int other = Connect(port_, "127.0.0.2");
  ASSERT_GE(other, 0);
  auto asked = Clock::now();
  ASSERT_TRUE(SendAll(other, "GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  Reply reply = ReadReply(other);
  long long waited = MillisSince(asked);
  close(other);
  EXPECT_EQ(reply.status, 200);
  EXPECT_LT(waited, 1000) << "ms for another address's answer";
  // The server keeps at most 64 of the slow ones; the rest it closed.
  int open = 0;
  for (int fd : slow) {
    if (!ClosedByServer(fd, 0)) ++open;
  }
  EXPECT_LE(open, 64);
  for (int fd : slow) close(fd);
  EXPECT_EQ(Stop(), 0);
}

TEST_F(TransportE2eTest, ConnectionsPerAddressIsConfigurable) {
  Start({"--connections-per-address", "4"});
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(Connect(port_));
    ASSERT_GE(held.back(), 0);
    ASSERT_TRUE(SendAll(held.back(), "GET /ping HTTP/1.1\r\n"));
  }
  int fifth = Connect(port_);
  ASSERT_GE(fifth, 0);
  EXPECT_TRUE(ClosedByServer(fifth, 2000));  // over the limit: closed as it arrives
  close(fifth);
  EXPECT_EQ(Send(port_, "GET", "/ping").status, 0);  // still over it from 127.0.0.1
  close(held.back());
  held.pop_back();
  // One fewer held: a connection from this address is served again.
  int answered = 0;
  for (int attempt = 0; attempt < 50 && answered != 200; ++attempt) {
    answered = Send(port_, "GET", "/ping").status;
    if (answered != 200) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(answered, 200);
  for (int fd : held) close(fd);
  EXPECT_EQ(Stop(), 0);
}

TEST_F(TransportE2eTest, ARequestStillArrivingAtTheDeadlineIsClosed) {
  Start({"--request-deadline", "2"});
  // A head trickling one header line every 300 ms (never idle long enough for the idle
  // timeout), and a body trickling one byte every 300 ms.
  int head = Connect(port_);
  int body = Connect(port_);
  ASSERT_GE(head, 0);
  ASSERT_GE(body, 0);
  auto opened = Clock::now();
  ASSERT_TRUE(SendAll(head, "GET /ping HTTP/1.1\r\nHost: x\r\n"));
  ASSERT_TRUE(
      SendAll(body, "POST /v1/subjects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + admin_ +
                        "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"));
  long long head_closed = -1, body_closed = -1;
  while (MillisSince(opened) < 10000 && (head_closed < 0 || body_closed < 0)) {
    if (head_closed < 0 && (!SendAll(head, "X-Slow: 1\r\n") || ClosedByServer(head, 0))) {
      head_closed = MillisSince(opened);
    }
    if (body_closed < 0 && (!SendAll(body, " ") || ClosedByServer(body, 0))) {
      body_closed = MillisSince(opened);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  close(head);
  close(body);
  // Closed at the deadline (2 s; the watch looks every 100 ms), not when the trickle ended.
  EXPECT_GE(head_closed, 1900);
  EXPECT_LE(head_closed, 4500);
  EXPECT_GE(body_closed, 1900);
  EXPECT_LE(body_closed, 4500);
  // A kept-alive connection has the deadline afresh for each request.
  int kept = Connect(port_);
  ASSERT_GE(kept, 0);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(SendAll(kept, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"));
    char buffer[1024] = {};
    ASSERT_GT(recv(kept, buffer, sizeof buffer - 1, 0), 12);
    EXPECT_EQ(std::atoi(buffer + 9), 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  }
  close(kept);
  EXPECT_EQ(Send(port_, "GET", "/ping").status, 200);
  EXPECT_EQ(Stop(), 0);
}

TEST_F(TransportE2eTest, AChunkedBodyOverMaxBodyIsAnswered413) {
  Start({"--max-body", "4096"});
  std::string raw = "POST /v1/decisions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + admin_ +
                    "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                    "Connection: close\r\n\r\n";
  const std::string chunk(1000, ' ');
  for (int i = 0; i < 40; ++i) raw += "3e8\r\n" + chunk + "\r\n";
  raw += "0\r\n\r\n";
  Reply reply = Exchange(port_, raw);
  EXPECT_EQ(reply.status, 413) << reply.headers;
  EXPECT_NE(reply.headers.find("Content-Type: application/problem+json"), std::string::npos);
  EXPECT_NE(reply.headers.find("X-Content-Type-Options: nosniff"), std::string::npos);
  // Under the limit, chunked is read as any body.
  std::string small = "POST /v1/subjects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + admin_ +
                      "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                      "Connection: close\r\n\r\n18\r\n{\"types\":[\"non_member\"]}\r\n0\r\n\r\n";
  EXPECT_EQ(Exchange(port_, small).status, 201);
  EXPECT_EQ(Stop(), 0);
}

TEST_F(TransportE2eTest, AnAmbiguousBodyLengthIsAnswered400) {
  Start();
  const std::string head = "POST /v1/subjects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                           admin_ + "\r\nContent-Type: application/json\r\n";
  const std::string json = R"({"types":["non_member"]})";
  // RFC 9112 6.3: two different lengths, or a length beside Transfer-Encoding, are refused.
  for (const char* framing : {"Content-Length: 24\r\nContent-Length: 2\r\n",
                              "Content-Length: 24\r\nTransfer-Encoding: chunked\r\n"}) {
    Reply reply = Exchange(port_, head + framing + "\r\n" + json);
    EXPECT_EQ(reply.status, 400) << framing << reply.headers;
    EXPECT_NE(reply.body.find("urn:custos:problem:ambiguous-length"), std::string::npos)
        << reply.body;
    EXPECT_NE(reply.headers.find("X-Content-Type-Options: nosniff"), std::string::npos);
    EXPECT_NE(reply.headers.find("Connection: close"), std::string::npos);
  }
  // The same length twice is one length.
  Reply same = Exchange(port_, head +
                                   "Content-Length: 24\r\nContent-Length: 24\r\n"
                                   "Connection: close\r\n\r\n" +
                                   json);
  EXPECT_EQ(same.status, 201) << same.body;
  EXPECT_EQ(Stop(), 0);
}

}  // namespace
}  // namespace custos
