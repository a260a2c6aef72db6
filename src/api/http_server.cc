#include "api/http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

namespace custos::api {

// One request as it is read: created on the first callback, freed when MHD says it is done.
struct HttpServer::Call {
  HttpRequest request;
  bool counted = false;   // in in_flight_ (admitted requests only)
  bool admitted = false;  // arrived before draining began: it is served in full
  bool answered = false;
  bool dispatched = false;         // with the pool or held (the connection is suspended)
  std::atomic<bool> ready{false};  // the pool's thread has set `response`
  HttpResponse response;
  size_t discarded = 0;  // bytes of a chunked body over the limit, read and thrown away
  // A streamed body (HttpServerOptions::streams_body): the handler's sink, what has arrived
  // since the last piece was taken (PII), and whether the sink stopped reading.
  std::shared_ptr<BodySink> sink;
  std::string pending;
  bool sink_refused = false;
  Connection* connection = nullptr;  // its deadline, set again after each piece
};

// One TCP connection, from libmicrohttpd's connection notifications (its socket context).
struct HttpServer::Connection {
  int fd = -1;
  std::string address;  // the client's, as text: read once, for every request on the connection
  // Steady-clock milliseconds by which the request being received must have arrived; 0 while
  // none is being received (the handler runs or the answer is sent).
  std::atomic<int64_t> deadline_ms{0};
};

namespace {

MHD_Result Trampoline(void* self, MHD_Connection* connection, const char* url, const char* method,
                      const char* version, const char* upload_data, size_t* upload_data_size,
                      void** call);
void CompletedTrampoline(void* self, MHD_Connection* connection, void** call,
                         MHD_RequestTerminationCode reason);
void ConnectionTrampoline(void* self, MHD_Connection* connection, void** socket_context,
                          MHD_ConnectionNotificationCode code);

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool SameName(const char* a, const char* b) { return a != nullptr && strcasecmp(a, b) == 0; }

// How the request's head declares its body's length: Content-Length values and whether a
// Transfer-Encoding was sent.
struct Framing {
  std::vector<std::string> lengths;
  bool transfer_encoding = false;
};

MHD_Result CollectFraming(void* cls, MHD_ValueKind, const char* key, const char* value) {
  auto* framing = static_cast<Framing*>(cls);
  if (SameName(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
    std::string_view v = value ? value : "";
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    if (framing->lengths.size() < 8) framing->lengths.emplace_back(v);
  } else if (SameName(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
    framing->transfer_encoding = true;
  }
  return MHD_YES;
}

// True when the head declares the body's length in two ways that may disagree: two different
// Content-Length values, or a Content-Length beside a Transfer-Encoding (RFC 9112 6.3).
bool AmbiguousLength(MHD_Connection* connection) {
  Framing framing;
  MHD_get_connection_values(connection, MHD_HEADER_KIND, &CollectFraming, &framing);
  if (framing.lengths.empty()) return false;
  if (framing.transfer_encoding) return true;
  for (const auto& length : framing.lengths) {
    if (length != framing.lengths.front()) return true;
  }
  return false;
}

// libmicrohttpd stops the process when it finds its own state broken; the reason goes to the
// log (stderr, one JSON line, as JsonLog writes them) before it does, so the stop can be traced.
// The reason is the library's own text, never a request's.
void LogTransportPanic(void*, const char* file, unsigned int line, const char* reason) {
  std::string text = reason != nullptr ? reason : "";
  std::string escaped;
  for (char c : text) {
    if (c == '"' || c == '\\') escaped += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) escaped += c;
  }
  std::fprintf(stderr,
               "{\"level\":\"error\",\"event\":\"transport_panic\",\"file\":\"%s\","
               "\"line\":%u,\"reason\":\"%s\"}\n",
               file != nullptr ? file : "", line, escaped.c_str());
  std::fflush(stderr);
  std::abort();
}

const char* Header(MHD_Connection* connection, const char* name) {
  return MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name);
}

MHD_Result CollectQuery(void* cls, MHD_ValueKind, const char* key, const char* value) {
  auto* query = static_cast<std::vector<std::pair<std::string, std::string>>*>(cls);
  if (query->size() < 64) query->emplace_back(key ? key : "", value ? value : "");
  return MHD_YES;
}

std::string ClientAddress(MHD_Connection* connection) {
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (info == nullptr || info->client_addr == nullptr) return "";
  char text[INET6_ADDRSTRLEN] = {0};
  if (info->client_addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(info->client_addr);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
  } else if (info->client_addr->sa_family == AF_INET6) {
    const auto* in = reinterpret_cast<const sockaddr_in6*>(info->client_addr);
    inet_ntop(AF_INET6, &in->sin6_addr, text, sizeof text);
  }
  return text;
}

}  // namespace

HttpServer::HttpServer(HttpServerOptions options, Handler handler, HttpResponse draining_response)
    : options_(std::move(options)),
      handler_(std::move(handler)),
      draining_response_(std::move(draining_response)),
      pool_(options_.threads) {}

HttpServer::~HttpServer() {
  pool_.Stop();  // every handler has finished and resumed its connection
  {
    std::lock_guard lock(holds_mutex_);
    holds_closed_ = true;
  }
  if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
  daemon_ = nullptr;
  StopWatching();
}

namespace {

// Binds and listens on host:port (a name such as localhost, an IPv4 or an IPv6 address), so a
// failure can say why ("Address already in use"); libmicrohttpd then serves the socket.
Result<int> ListenSocket(const std::string& host, uint16_t port, bool* ipv6) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_ADDRCONFIG;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  std::string where =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + service;
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return Status(ErrorCode::kInvalidArgument,
                  "cannot listen on " + where + ": " + std::string(gai_strerror(rc)));
  }
  std::string reason = "no address";
  int fd = -1;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      reason = std::strerror(errno);
      continue;
    }
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (a->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 1024) == 0) {
      *ipv6 = a->ai_family == AF_INET6;
      break;
    }
    reason = std::strerror(errno);
    close(fd);
    fd = -1;
  }
  freeaddrinfo(found);
  if (fd < 0) return Status(ErrorCode::kIo, "cannot listen on " + where + ": " + reason);
  return fd;
}

}  // namespace

Status HttpServer::Start() {
  bool ipv6 = false;
  ASSIGN_OR_RETURN(int listen_fd, ListenSocket(options_.host, options_.port, &ipv6));
  sockaddr_storage bound{};
  socklen_t bound_size = sizeof bound;
  getsockname(listen_fd, reinterpret_cast<sockaddr*>(&bound), &bound_size);
  const uint16_t bound_port =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_TURBO |
                   MHD_USE_SUPPRESS_DATE_NO_CLOCK | MHD_ALLOW_SUSPEND_RESUME;
  unsigned io_threads = options_.io_threads;
  if (io_threads == 0) io_threads = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  const bool tls = !options_.tls_cert_pem.empty() && !options_.tls_key_pem.empty();
  if (tls) flags |= MHD_USE_TLS;
  if (ipv6) flags |= MHD_USE_IPv6;
  std::vector<MHD_OptionItem> items = {
      {MHD_OPTION_LISTEN_SOCKET, listen_fd, nullptr},
      {MHD_OPTION_THREAD_POOL_SIZE, io_threads, nullptr},
      {MHD_OPTION_CONNECTION_TIMEOUT, options_.connection_timeout_seconds, nullptr},
      {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&CompletedTrampoline), this},
      {MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&ConnectionTrampoline), this},
      {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, nullptr},
      {MHD_OPTION_CONNECTION_LIMIT, 4096, nullptr},
  };
  if (options_.per_address_connections > 0) {
    items.push_back(
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, options_.per_address_connections, nullptr});
  }
  if (tls) {
    items.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0, options_.tls_cert_pem.data()});
    items.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, options_.tls_key_pem.data()});
    items.push_back({MHD_OPTION_HTTPS_PRIORITIES, 0, const_cast<char*>(kTlsPriorities)});
  }
  items.push_back({MHD_OPTION_END, 0, nullptr});
  MHD_set_panic_func(&LogTransportPanic, nullptr);
  daemon_ = MHD_start_daemon(flags, 0, nullptr, nullptr, &Trampoline, this, MHD_OPTION_ARRAY,
                             items.data(), MHD_OPTION_END);
  if (daemon_ == nullptr) {
    close(listen_fd);
    return Status(ErrorCode::kIo, "cannot serve on " + options_.host + ":" +
                                      std::to_string(bound_port) +
                                      (tls ? ": the TLS certificate or key is not usable"
                                           : ": the HTTP server could not start"));
  }
  port_ = bound_port;
  if (options_.request_deadline_seconds > 0) watcher_ = std::thread([this] { WatchDeadlines(); });
  return Status::Ok();
}

void HttpServer::OnConnection(void* self_ptr, MHD_Connection* connection, void** socket_context,
                              bool opened) {
  auto* self = static_cast<HttpServer*>(self_ptr);
  if (opened) {
    auto* conn = new Connection();
    const MHD_ConnectionInfo* info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (info != nullptr) conn->fd = info->connect_fd;
    conn->address = ClientAddress(connection);
    if (self->options_.request_deadline_seconds > 0) {
      conn->deadline_ms = NowMillis() + 1000 * int64_t{self->options_.request_deadline_seconds};
    }
    *socket_context = conn;
    std::lock_guard lock(self->connections_mutex_);
    self->connections_.insert(conn);
    return;
  }
  auto* conn = static_cast<Connection*>(*socket_context);
  if (conn == nullptr) return;
  {
    // libmicrohttpd closes the socket after this returns; the watch never touches it after.
    std::lock_guard lock(self->connections_mutex_);
    self->connections_.erase(conn);
  }
  delete conn;
  *socket_context = nullptr;
}

HttpServer::Connection* HttpServer::ConnectionOf(MHD_Connection* connection) {
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return info == nullptr ? nullptr : static_cast<Connection*>(info->socket_context);
}

void HttpServer::StartReceiving(MHD_Connection* connection) {
  if (options_.request_deadline_seconds == 0) return;
  if (Connection* conn = ConnectionOf(connection)) {
    conn->deadline_ms = NowMillis() + 1000 * int64_t{options_.request_deadline_seconds};
  }
}

void HttpServer::StopReceiving(MHD_Connection* connection) {
  if (Connection* conn = ConnectionOf(connection)) conn->deadline_ms = 0;
}

void HttpServer::WatchDeadlines() {
  std::unique_lock lock(connections_mutex_);
  while (!watch_stop_) {
    watch_wake_.wait_for(lock, std::chrono::milliseconds(100));
    const int64_t now = NowMillis();
    for (Connection* conn : connections_) {
      const int64_t deadline = conn->deadline_ms.load();
      if (deadline == 0 || now < deadline || conn->fd < 0) continue;
      // libmicrohttpd sees the connection end and closes it in its own thread.
      conn->deadline_ms = 0;
      shutdown(conn->fd, SHUT_RDWR);
      deadline_closes_.fetch_add(1);
    }
  }
}

void HttpServer::StopWatching() {
  {
    std::lock_guard lock(connections_mutex_);
    watch_stop_ = true;
  }
  watch_wake_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

int HttpServer::Drain(std::chrono::milliseconds timeout) {
  if (daemon_ == nullptr) return 0;
  draining_ = true;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (in_flight_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  int left = in_flight_.load();
  pool_.Stop();
  {
    // An answer still held past the deadline has no connection to go to any more.
    std::lock_guard lock(holds_mutex_);
    holds_closed_ = true;
  }
  MHD_stop_daemon(daemon_);
  daemon_ = nullptr;
  StopWatching();
  return left;
}

int HttpServer::Answer(MHD_Connection* connection, const HttpResponse& response, bool close) {
  MHD_Response* reply = MHD_create_response_from_buffer(
      response.body.size(), const_cast<char*>(response.body.data()), MHD_RESPMEM_MUST_COPY);
  if (reply == nullptr) return MHD_NO;
  MHD_add_response_header(reply, MHD_HTTP_HEADER_CONTENT_TYPE, response.content_type.c_str());
  for (const auto& [name, value] : response.headers) {
    MHD_add_response_header(reply, name.c_str(), value.c_str());
  }
  if (close) MHD_add_response_header(reply, MHD_HTTP_HEADER_CONNECTION, "close");
  MHD_Result queued = MHD_queue_response(connection, static_cast<unsigned>(response.status), reply);
  MHD_destroy_response(reply);
  return queued;
}

int HttpServer::OnRequest(void* self_ptr, MHD_Connection* connection, const char* url,
                          const char* method, const char*, const char* upload_data,
                          size_t* upload_data_size, void** call_ptr) {
  auto* self = static_cast<HttpServer*>(self_ptr);
  auto* call = static_cast<Call*>(*call_ptr);
  if (call == nullptr) {
    // First callback: headers only. Answering here would make libmicrohttpd close the
    // connection, so only remember the request (unless its body is declared too large).
    call = new Call();
    *call_ptr = call;
    // Counted before draining_ is read, as Drain sets draining_ before it reads the count: a
    // request Drain does not wait for sees that draining began.
    self->in_flight_.fetch_add(1);
    call->admitted = !self->draining_.load();
    call->counted = call->admitted;
    if (!call->admitted) self->in_flight_.fetch_sub(1);  // answered 503 at once, not waited for
    call->request.method = method;
    call->request.path = url;
    const Connection* conn = ConnectionOf(connection);
    call->request.client_address = conn != nullptr ? conn->address : ClientAddress(connection);
    if (const char* auth = Header(connection, MHD_HTTP_HEADER_AUTHORIZATION)) {
      call->request.authorization = auth;
    }
    if (const char* type = Header(connection, MHD_HTTP_HEADER_CONTENT_TYPE)) {
      call->request.content_type = type;
    }
    if (const char* encoding = Header(connection, MHD_HTTP_HEADER_ACCEPT_ENCODING)) {
      call->request.accept_encoding = encoding;
    }
    if (const char* gpc = Header(connection, "Sec-GPC")) {
      call->request.gpc = std::string_view(gpc) == "1";
    }
    if (const char* cookie = Header(connection, MHD_HTTP_HEADER_COOKIE)) {
      call->request.cookie = cookie;
    }
    call->request.ambiguous_length = AmbiguousLength(connection);
    if (const char* id = Header(connection, "X-Request-Id")) call->request.request_id = id;
    if (const char* length = Header(connection, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
      char* end = nullptr;
      unsigned long long declared = std::strtoull(length, &end, 10);
      if (declared > self->options_.max_body_bytes) call->request.body_too_large = true;
    }
    MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, &CollectQuery,
                              &call->request.query);
    if (self->options_.streams_body && call->admitted && !call->request.ambiguous_length &&
        self->options_.streams_body(call->request)) {
      // The body is handed over as it arrives, with no overall limit.
      call->request.body_too_large = false;
      call->request.body_streamed = true;
      call->connection = ConnectionOf(connection);
      HttpResponse response = self->handler_(call->request);
      if (response.sink) {
        call->sink = std::move(response.sink);
        return MHD_YES;
      }
      // Refused on its head (no token, an unknown mapping, ...): the body is not read.
      call->answered = true;
      return self->Answer(connection, response, /*close=*/true);
    }
    // Answered before the body is read: the length is refused or cannot be trusted.
    if (!call->request.body_too_large && !call->request.ambiguous_length) return MHD_YES;
  }
  if (call->answered) {
    *upload_data_size = 0;  // discard the rest of a body we refused
    return MHD_YES;
  }
  if (call->sink) return self->Stream(call, connection, upload_data, upload_data_size);
  if (*upload_data_size > 0) {
    if (!call->request.body_too_large &&
        call->request.body.size() + *upload_data_size <= self->options_.max_body_bytes) {
      call->request.body.append(upload_data, *upload_data_size);
      *upload_data_size = 0;
      return MHD_YES;
    }
    // A chunked body grew over the limit: read it to its end and answer 413 then (answering
    // while the client still sends would reset the connection under the answer), unless it
    // goes on too long.
    if (!call->request.body_too_large) {
      call->request.body_too_large = true;
      std::string().swap(call->request.body);
    }
    call->discarded += *upload_data_size;
    *upload_data_size = 0;
    return call->discarded > kChunkedDiscardBytes ? MHD_NO : MHD_YES;
  }
  // A refused or ambiguous body is not read: the connection cannot be reused after it.
  const bool draining = !call->admitted;
  const bool close = draining || call->request.body_too_large || call->request.ambiguous_length;
  if (call->ready.load()) {
    // Called again after the pool's thread resumed the connection: send its answer.
    call->answered = true;
    return self->Answer(connection, call->response, close);
  }
  if (call->dispatched) return MHD_YES;  // still with the pool, or held
  self->StopReceiving(connection);
  if (draining) {
    call->answered = true;
    return self->Answer(connection, self->draining_response_, close);
  }
  if (self->options_.answers_at_once && self->options_.answers_at_once(call->request)) {
    HttpResponse response = self->handler_(call->request);
    if (!response.hold) {
      call->answered = true;
      return self->Answer(connection, response, close);
    }
    call->dispatched = true;
    MHD_suspend_connection(connection);
    self->Hold(call, connection, std::move(response));
    return MHD_YES;
  }
  call->dispatched = true;
  MHD_suspend_connection(connection);
  self->pool_.Submit([self, call, connection] {
    HttpResponse response = self->handler_(call->request);
    if (!response.hold) {
      call->response = std::move(response);
      call->ready.store(true);
      MHD_resume_connection(connection);
      return;
    }
    self->Hold(call, connection, std::move(response));
  });
  return MHD_YES;
}

int HttpServer::Stream(Call* call, MHD_Connection* connection, const char* upload_data,
                       size_t* upload_data_size) {
  if (call->ready.load()) {
    // The sink has answered: the body ended, or it stopped reading (the rest is not read).
    call->answered = true;
    *upload_data_size = 0;
    return Answer(connection, call->response, /*close=*/call->sink_refused);
  }
  if (*upload_data_size > 0) {
    call->pending.append(upload_data, *upload_data_size);
    *upload_data_size = 0;
    if (call->pending.size() >= options_.stream_piece_bytes) TakePiece(call, connection, false);
    return MHD_YES;
  }
  if (call->dispatched) return MHD_YES;  // the last piece is with the sink
  call->dispatched = true;
  TakePiece(call, connection, true);
  return MHD_YES;
}

void HttpServer::TakePiece(Call* call, MHD_Connection* connection, bool last) {
  // The sink's time is not the client's: the deadline starts again after the piece.
  if (call->connection != nullptr) call->connection->deadline_ms = 0;
  std::string piece;
  piece.swap(call->pending);
  MHD_suspend_connection(connection);
  pool_.Submit([this, call, connection, last, piece = std::move(piece)] {
    const bool go_on = call->sink->Take(piece);
    if (!go_on || last) {
      call->sink_refused = !go_on;
      call->response = call->sink->Finish();
      call->ready.store(true);
    } else if (call->connection != nullptr && options_.request_deadline_seconds > 0) {
      call->connection->deadline_ms =
          NowMillis() + 1000 * int64_t{options_.request_deadline_seconds};
    }
    MHD_resume_connection(connection);
  });
}

void HttpServer::Hold(Call* call, MHD_Connection* connection, HttpResponse response) {
  // The connection is suspended and no thread waits: the answer leaves when it is released.
  auto hold = std::move(response.hold);
  response.hold = nullptr;
  call->response = std::move(response);
  hold([this, call, connection](std::optional<HttpResponse> instead) {
    if (instead) call->response = std::move(*instead);
    call->ready.store(true);
    std::lock_guard lock(holds_mutex_);
    if (!holds_closed_) MHD_resume_connection(connection);
  });
}

void HttpServer::OnCompleted(void* self_ptr, MHD_Connection* connection, void** call_ptr, int) {
  auto* self = static_cast<HttpServer*>(self_ptr);
  self->StartReceiving(connection);  // the next request on a kept-alive connection
  auto* call = static_cast<Call*>(*call_ptr);
  if (call == nullptr) return;
  if (call->counted) self->in_flight_.fetch_sub(1);
  delete call;
  *call_ptr = nullptr;
}

namespace {

MHD_Result Trampoline(void* self, MHD_Connection* connection, const char* url, const char* method,
                      const char* version, const char* upload_data, size_t* upload_data_size,
                      void** call) {
  return static_cast<MHD_Result>(HttpServer::OnRequestForTransport(
      self, connection, url, method, version, upload_data, upload_data_size, call));
}

void CompletedTrampoline(void* self, MHD_Connection* connection, void** call,
                         MHD_RequestTerminationCode reason) {
  HttpServer::OnCompletedForTransport(self, connection, call, static_cast<int>(reason));
}

void ConnectionTrampoline(void* self, MHD_Connection* connection, void** socket_context,
                          MHD_ConnectionNotificationCode code) {
  HttpServer::OnConnectionForTransport(self, connection, socket_context,
                                       code == MHD_CONNECTION_NOTIFY_STARTED);
}

}  // namespace

}  // namespace custos::api
