// HttpServer: the HTTP transport (libmicrohttpd), and the only file that includes its header.
//
// Serves every request with one handler function. A few polling threads (epoll, one listening
// socket shared by them) read and write the connections; once a request has arrived in full its
// connection is suspended and the handler runs on a HandlerPool (handler_pool.h), so a handler
// that blocks (on a group commit) holds up no other connection, and as many requests as the
// pool has threads can wait for one commit together. Bodies are read in full before the
// handler runs; a body over `max_body_bytes` is not read further and the handler gets the
// request with body_too_large set (it answers 413): a declared Content-Length over the limit is
// answered at once; a chunked body that grows over it is read on and discarded to its end (at
// most kChunkedDiscardBytes more), so the client is answered rather than reset. A request that
// declares its length twice, differently (two Content-Length values, or Content-Length with
// Transfer-Encoding), reaches the handler with ambiguous_length set (it answers 400) and its
// connection is closed. With a certificate and key the server speaks TLS (GnuTLS inside
// libmicrohttpd): TLS 1.2 and 1.3 only, forward-secret key exchange, AEAD ciphers only
// (kTlsPriorities).
//
// A streamed request (HttpServerOptions::streams_body, a bulk import) is read a piece at a
// time: each piece is handed to the handler's sink on the pool while the connection waits, so
// a body of any size holds one piece in memory, and the deadline below applies to each piece.
//
// Holding the server down: one client address may hold at most `per_address_connections`
// connections at once (further ones are closed as they arrive), and every request must have
// arrived, head and body, within `request_deadline_seconds` of its connection opening (or of the
// previous answer on a kept-alive connection); a connection still receiving after that is
// closed, however steadily it trickles. The handler's own time and the answer's sending do not
// count. libmicrohttpd's own timeout (connection_timeout_seconds) closes idle connections.
//
// Shutdown (Drain): stop accepting connections, let requests already inside the handler finish
// and be answered, answer requests that arrive meanwhile on open connections with
// `draining_response` (and close them), then stop.
// Thread-safety: Start, Drain and Stop from one thread; the handler runs on many threads.
#ifndef CUSTOS_API_HTTP_SERVER_H_
#define CUSTOS_API_HTTP_SERVER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>

#include "api/handler_pool.h"
#include "api/http.h"
#include "common/status.h"

struct MHD_Daemon;
struct MHD_Connection;

namespace custos::api {

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // a name (localhost), an IPv4 or an IPv6 address (no brackets)
  uint16_t port = 8080;            // 0: any free port (see port())
  unsigned threads = 64;           // handler threads: many may wait on one group commit together
  unsigned io_threads = 0;         // polling threads; 0: one per core, at most 8
  // Requests the handler answers at once without waiting on anything (health, ping): run on
  // the polling thread, sparing them the hand-off to the pool. Unset: every request goes to it.
  std::function<bool(const HttpRequest&)> answers_at_once;
  // Requests whose body is streamed (a bulk import): the handler sees the head alone, on the
  // polling thread, with body_streamed set, and answers with a sink (HttpResponse::sink) that
  // takes the body on the pool, stream_piece_bytes at a time, with no max_body_bytes limit; an
  // answer without a sink (a refusal) is sent at once and the body is not read.
  std::function<bool(const HttpRequest&)> streams_body;
  size_t stream_piece_bytes = 256 * 1024;
  size_t max_body_bytes = 64 * 1024;
  std::string tls_cert_pem, tls_key_pem;     // both set: TLS
  unsigned connection_timeout_seconds = 60;  // idle: nothing received or sent for this long
  unsigned per_address_connections = 64;     // at once from one client address; 0: no limit
  unsigned request_deadline_seconds = 30;    // to receive a request's head and body; 0: none
};

// The GnuTLS priorities of a TLS server: TLS 1.3 and 1.2 only; in 1.2 only ECDHE or DHE key
// exchange (forward secrecy) with AES-GCM or ChaCha20-Poly1305 (AEAD); the server's order.
inline constexpr const char* kTlsPriorities =
    "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:"
    "+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:+DHE-RSA:"
    "%SERVER_PRECEDENCE";

// How much of a chunked body over the limit is read and thrown away so that the client gets
// its 413; a client sending more is disconnected instead.
inline constexpr size_t kChunkedDiscardBytes = 1 << 20;

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(HttpRequest&)>;

  HttpServer(HttpServerOptions options, Handler handler, HttpResponse draining_response);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the threads. Errors: IO_ERROR (address in use, bad TLS material, ...).
  Status Start();
  // The port bound (useful with port 0). REQUIRES: Start() succeeded.
  uint16_t port() const { return port_; }
  // From now on answers every new request 503 (the draining response) and closes its connection,
  // waits up to `timeout` for the requests received before to be answered, then stops (the
  // listening socket closes with the daemon). Returns the number of those requests still
  // unfinished at the deadline (0 normally). It does not stop accepting first: libmicrohttpd's
  // MHD_quiesce_daemon races its own epoll threads for the listening socket and can abort the
  // process (MHD_PANIC) when a thread is busy as it is called.

  int Drain(std::chrono::milliseconds timeout);
  // Runs `job` on the handler pool (at once on the caller's thread once the pool has stopped):
  // the audit log leads the commits of held decisions there.
  void RunInPool(std::function<void()> job) { pool_.Submit(std::move(job)); }
  // Requests received before draining began, inside the handler or being answered.
  int in_flight() const { return in_flight_.load(); }
  // Connections closed because their request had not arrived by the deadline.
  int64_t deadline_closes() const { return deadline_closes_.load(); }

  // libmicrohttpd's callbacks (called through trampolines with its exact types).
  static int OnRequestForTransport(void* self, struct MHD_Connection* connection, const char* url,
                                   const char* method, const char* version, const char* upload_data,
                                   size_t* upload_data_size, void** call) {
    return OnRequest(self, connection, url, method, version, upload_data, upload_data_size, call);
  }
  static void OnCompletedForTransport(void* self, struct MHD_Connection* connection, void** call,
                                      int reason) {
    OnCompleted(self, connection, call, reason);
  }
  static void OnConnectionForTransport(void* self, struct MHD_Connection* connection,
                                       void** socket_context, bool opened) {
    OnConnection(self, connection, socket_context, opened);
  }

 private:
  struct Call;
  struct Connection;
  static void OnConnection(void* self, struct MHD_Connection* connection, void** socket_context,
                           bool opened);
  static int OnRequest(void* self, struct MHD_Connection* connection, const char* url,
                       const char* method, const char* version, const char* upload_data,
                       size_t* upload_data_size, void** call);
  static void OnCompleted(void* self, struct MHD_Connection* connection, void** call, int reason);
  int Answer(struct MHD_Connection* connection, const HttpResponse& response, bool close);
  // A streamed body's next callback: gathers a piece, hands it to the sink on the pool (the
  // connection suspended meanwhile), and sends the sink's answer once it has one.
  int Stream(Call* call, struct MHD_Connection* connection, const char* upload_data,
             size_t* upload_data_size);
  void TakePiece(Call* call, struct MHD_Connection* connection, bool last);
  static Connection* ConnectionOf(struct MHD_Connection* connection);
  // The deadline for the next request on `connection` (now + request_deadline_seconds), or none.
  void StartReceiving(struct MHD_Connection* connection);
  void StopReceiving(struct MHD_Connection* connection);
  // Every 100 ms: closes the connections past their deadline.
  void WatchDeadlines();
  void StopWatching();

  HttpServerOptions options_;
  Handler handler_;
  HttpResponse draining_response_;
  MHD_Daemon* daemon_ = nullptr;
  uint16_t port_ = 0;
  std::atomic<int> in_flight_{0};
  std::atomic<bool> draining_{false};
  std::atomic<int64_t> deadline_closes_{0};
  // Open connections, for the deadline watch.
  std::mutex connections_mutex_;
  std::unordered_set<Connection*> connections_;
  std::condition_variable watch_wake_;
  bool watch_stop_ = false;
  std::thread watcher_;
  // Keeps `call`'s suspended connection waiting, without a thread, for response.hold's release.
  void Hold(Call* call, struct MHD_Connection* connection, HttpResponse response);
  // Guards resuming a connection whose answer was held (HttpResponse::hold) against the
  // daemon's stop: once closed, a late release resumes nothing.
  std::mutex holds_mutex_;
  bool holds_closed_ = false;
  HandlerPool pool_;  // last: stopped (its handlers finished) before the members above go
};

}  // namespace custos::api

#endif  // CUSTOS_API_HTTP_SERVER_H_
