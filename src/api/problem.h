// Problem details (RFC 9457): every error the API returns is application/problem+json with a
// stable `type` URI, a `title`, the HTTP `status`, a `detail`, custos's error `code` and the
// `instance`: the request's path (never its query string, which may hold an e-mail address).
//
// ProblemFor() is the one mapping from custos's ErrorCode list to HTTP statuses and types.
// Client mistakes are 4xx; only failures of the server itself (I/O, crypto, internal) are 5xx.
// `detail` never holds a personal value: engine messages name subjects by id only, and
// request-parsing problems name fields, never their values.
// Thread-safety: pure functions.
#ifndef CUSTOS_API_PROBLEM_H_
#define CUSTOS_API_PROBLEM_H_

#include <string>
#include <string_view>
#include <vector>

#include "api/http.h"
#include "common/status.h"

namespace custos::api {

// Problem types of the HTTP layer itself (request shape, auth, limits). Engine errors use
// their ErrorCode's name.
enum class HttpProblem {
  kMalformedJson,     // 400
  kWrongType,         // 400
  kUnknownField,      // 400
  kMissingField,      // 400
  kMissingBody,       // 400 (an operation that reads a body got none)
  kAmbiguousLength,   // 400 (two Content-Length values, or one beside Transfer-Encoding)
  kInvalidValue,      // 400 (a field or parameter with a value out of range)
  kUnsupportedMedia,  // 415
  kPayloadTooLarge,   // 413
  kNotFound,          // 404 (no such route)
  kMethodNotAllowed,  // 405
  kUnauthorized,      // 401
  kForbidden,         // 403
  kRateLimited,       // 429
  kUnavailable,       // 503 (shutting down)
};

// "urn:custos:problem:<name>", e.g. urn:custos:problem:unknown-subject.
std::string ProblemType(std::string_view name);

HttpResponse Problem(HttpProblem problem, std::string detail);
// The response for a failed engine Status. REQUIRES: !status.ok().
// STORE_UNAVAILABLE is 503 with Retry-After (kStoreRetryAfterSeconds): the database is away, the
// request may be sent again as it is. SYSTEM_UNAVAILABLE is 503 with Retry-After
// (kSystemRetryAfterSeconds) and the engine's message, which names the organisation's systems
// that could not be reached (a rights request waits for them).
HttpResponse ProblemFor(const Status& status);
inline constexpr int kStoreRetryAfterSeconds = 2;
inline constexpr int kSystemRetryAfterSeconds = 60;
// The HTTP status for an engine ErrorCode.
int HttpStatusFor(ErrorCode code);

// The `instance` of a problem answering a request for `path` (the path without the query
// string): the path, with each segment that is not shaped like an identifier (1 to 64 letters,
// digits, '-', '_', '.' or ':') written as "-", so a value a client put in a URL (an e-mail
// address, a phone number with its '+') never comes back; a segment equal to one of `hidden`
// (the values a client put in the route's parameters: a subject id may be a phone number
// without its '+') is written as "-" too.
std::string ProblemInstance(std::string_view path, const std::vector<std::string>& hidden = {});
// Adds `instance` (ProblemInstance(path, hidden)) to an application/problem+json response;
// leaves any other response as it is.
void AddInstance(HttpResponse& response, std::string_view path,
                 const std::vector<std::string>& hidden);

}  // namespace custos::api

#endif  // CUSTOS_API_PROBLEM_H_
