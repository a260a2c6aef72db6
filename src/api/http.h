// HttpRequest and HttpResponse: what the HTTP library hands the API and what it sends back.
// Plain values with no library types, so the router and handlers are tested without sockets.
// Thread-safety: value types.
#ifndef CUSTOS_API_HTTP_H_
#define CUSTOS_API_HTTP_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace custos::api {

struct HttpResponse;

// A request body taken as it arrives, piece by piece, rather than in full (a bulk import of
// any size): the handler answers the request's head with a sink (HttpResponse::sink), the
// transport hands it the body's pieces in order, one at a time, not reading further while a
// piece is taken, and sends what Finish answers.
class BodySink {
 public:
  virtual ~BodySink() = default;
  // The next piece of the body (PII). False: read no more; Finish says why.
  virtual bool Take(std::string_view piece) = 0;
  // The answer, once the body has ended or Take refused.
  virtual HttpResponse Finish() = 0;
};

// Sends an answer the handler held (HttpResponse::hold): std::nullopt sends the held response
// as it is, a response is sent in its place. Called once, from any thread.
using ReleaseAnswer = std::function<void(std::optional<HttpResponse>)>;

struct HttpRequest {
  std::string method;  // GET, POST, ...
  std::string path;    // without the query string, percent-decoded
  std::vector<std::pair<std::string, std::string>> query;  // decoded
  std::string authorization;                               // the Authorization header
  std::string content_type;                                // the Content-Type header
  std::string cookie;           // the Cookie header (the privacy centre's session and form cookies)
  std::string accept_encoding;  // the Accept-Encoding header (the centre sends gzip when asked)
  bool gpc = false;             // Sec-GPC: 1 (Global Privacy Control; the cookie banner honours it)
  std::string request_id;       // the X-Request-Id header as received (used only when well-formed)
  std::string client_address;   // peer IP, for rate limits only: never logged (personal data)
  std::string body;             // PII possible: never logged
  // The body is not in `body`: it will be handed to the sink the handler answers with
  // (HttpResponse::sink), as it arrives. Only for the requests the transport is told stream.
  bool body_streamed = false;
  bool body_too_large = false;  // the transport stopped reading: the body exceeded the limit
  // The head declares the body's length twice, differently (two Content-Length values, or one
  // beside Transfer-Encoding): the body cannot be read safely and is not.
  bool ambiguous_length = false;

  const std::string* Query(const std::string& name) const {
    for (const auto& [key, value] : query) {
      if (key == name) return &value;
    }
    return nullptr;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // besides the security headers
  // Set by a handler whose answer may leave only once something it started has ended (a
  // decision, once its audit entry is committed): the transport keeps the connection waiting,
  // without a thread, and calls hold(release); the answer leaves when release is called.
  std::function<void(ReleaseAnswer)> hold;
  // Set by a handler of a streamed request (HttpRequest::body_streamed) that accepts its body:
  // the transport feeds the body to it and sends its Finish() instead of this response.
  std::shared_ptr<BodySink> sink;
};

}  // namespace custos::api

#endif  // CUSTOS_API_HTTP_H_
