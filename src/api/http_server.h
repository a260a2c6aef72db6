// HttpServer: the HTTP transport (libmicrohttpd), and the only file that includes its header.
//
// Serves every request with one handler function on a pool of threads (epoll, one listening
// socket shared by the pool). A handler may block (e.g. on a group commit); the pool is sized
// so that many requests can wait for one commit together. Bodies are read in full before the
// handler runs; a body over `max_body_bytes` is not read further and the handler gets the
// request with body_too_large set (it answers 413). With a certificate and key the server
// speaks TLS (GnuTLS inside libmicrohttpd).
//
// Shutdown (Drain): stop accepting connections, let requests already inside the handler finish
// and be answered, answer requests that arrive meanwhile on open connections with
// `draining_response` (and close them), then stop.
// Thread-safety: Start, Drain and Stop from one thread; the handler runs on many threads.
#ifndef CUSTOS_API_HTTP_SERVER_H_
#define CUSTOS_API_HTTP_SERVER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "api/http.h"
#include "common/status.h"

struct MHD_Daemon;
struct MHD_Connection;

namespace custos::api {

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // a name (localhost), an IPv4 or an IPv6 address (no brackets)
  uint16_t port = 8080;            // 0: any free port (see port())
  unsigned threads = 64;           // many handlers may wait on one group commit together
  size_t max_body_bytes = 64 * 1024;
  std::string tls_cert_pem, tls_key_pem;  // both set: TLS
  unsigned connection_timeout_seconds = 60;
};

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
  // Stops accepting, waits up to `timeout` for requests already received to be answered, then
  // stops. Returns the number of requests still unfinished at the deadline (0 normally).
  int Drain(std::chrono::milliseconds timeout);
  // Requests inside the handler or being answered.
  int in_flight() const { return in_flight_.load(); }

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

 private:
  struct Call;
  static int OnRequest(void* self, struct MHD_Connection* connection, const char* url,
                       const char* method, const char* version, const char* upload_data,
                       size_t* upload_data_size, void** call);
  static void OnCompleted(void* self, struct MHD_Connection* connection, void** call, int reason);
  int Answer(struct MHD_Connection* connection, const HttpResponse& response, bool close);

  HttpServerOptions options_;
  Handler handler_;
  HttpResponse draining_response_;
  MHD_Daemon* daemon_ = nullptr;
  uint16_t port_ = 0;
  std::atomic<int> in_flight_{0};
  std::atomic<bool> draining_{false};
};

}  // namespace custos::api

#endif  // CUSTOS_API_HTTP_SERVER_H_
