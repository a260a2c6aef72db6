#include "api/problem.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>

namespace custos::api {

namespace {

struct HttpProblemInfo {
  const char* name;
  const char* title;
  int status;
};

HttpProblemInfo Info(HttpProblem problem) {
  switch (problem) {
    case HttpProblem::kMalformedJson: return {"malformed-json", "Malformed JSON", 400};
    case HttpProblem::kWrongType: return {"wrong-type", "A field has the wrong type", 400};
    case HttpProblem::kUnknownField: return {"unknown-field", "Unknown field", 400};
    case HttpProblem::kMissingField: return {"missing-field", "Missing field", 400};
    case HttpProblem::kMissingBody: return {"missing-body", "Missing body", 400};
    case HttpProblem::kAmbiguousLength: return {"ambiguous-length", "Ambiguous body length", 400};
    case HttpProblem::kInvalidValue: return {"invalid-value", "Invalid value", 400};
    case HttpProblem::kUnsupportedMedia:
      return {"unsupported-media-type", "Unsupported media type", 415};
    case HttpProblem::kPayloadTooLarge: return {"payload-too-large", "Body too large", 413};
    case HttpProblem::kNotFound: return {"not-found", "Not found", 404};
    case HttpProblem::kMethodNotAllowed: return {"method-not-allowed", "Method not allowed", 405};
    case HttpProblem::kUnauthorized: return {"unauthorized", "Authentication required", 401};
    case HttpProblem::kForbidden: return {"forbidden", "Not allowed for this token", 403};
    case HttpProblem::kRateLimited: return {"rate-limited", "Too many requests", 429};
    case HttpProblem::kUnavailable: return {"unavailable", "Shutting down", 503};
  }
  return {"internal", "Internal error", 500};
}

HttpResponse Render(int status, const std::string& type, const char* title,
                    const std::string& detail, std::string_view code) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("type");
  w.String(type.c_str(), static_cast<rapidjson::SizeType>(type.size()));
  w.Key("title");
  w.String(title);
  w.Key("status");
  w.Int(status);
  if (!detail.empty()) {
    w.Key("detail");
    w.String(detail.c_str(), static_cast<rapidjson::SizeType>(detail.size()));
  }
  w.Key("code");
  w.String(code.data(), static_cast<rapidjson::SizeType>(code.size()));
  w.EndObject();
  HttpResponse response;
  response.status = status;
  response.content_type = "application/problem+json";
  response.body.assign(buffer.GetString(), buffer.GetSize());
  return response;
}

std::string DashedLower(std::string_view name) {
  std::string out;
  for (char c : name) {
    out += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

std::string ProblemType(std::string_view name) { return "urn:custos:problem:" + std::string(name); }

HttpResponse Problem(HttpProblem problem, std::string detail) {
  HttpProblemInfo info = Info(problem);
  std::string code = info.name;
  for (char& c : code) c = c == '-' ? '_' : static_cast<char>(std::toupper(c));
  HttpResponse response = Render(info.status, ProblemType(info.name), info.title, detail, code);
  if (problem == HttpProblem::kUnauthorized) {
    response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"custos\"");
  }
  return response;
}

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return 200;
    case ErrorCode::kNotFound:
    case ErrorCode::kUnknownSubject:
    case ErrorCode::kUnknownRequest:
    case ErrorCode::kUnknownBreach: return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kLegalHoldActive:
    case ErrorCode::kRequestState:
    case ErrorCode::kBreachState:
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kVerificationFailed:
    case ErrorCode::kGrantExpired:
    case ErrorCode::kOutsideGrant: return 403;
    case ErrorCode::kTooManyCodes:
    case ErrorCode::kTooManyAttempts: return 429;
    case ErrorCode::kSubjectErased: return 410;
    case ErrorCode::kUnavailable:
    case ErrorCode::kSystemUnavailable: return 503;
    case ErrorCode::kIo:
    case ErrorCode::kInternal:
    case ErrorCode::kCryptoFailure:
    case ErrorCode::kKeyFile:
    case ErrorCode::kAuditBroken:
    case ErrorCode::kKeyMismatch:
    case ErrorCode::kNotInitialised:
    case ErrorCode::kPolicyInvalid: return 500;
    default: return 422;  // understood, but the policy or the engine's rules refuse it
  }
}

HttpResponse ProblemFor(const Status& status) {
  int http = HttpStatusFor(status.code());
  std::string_view name = CodeName(status.code());
  // A server-side failure says nothing about internals beyond its code.
  std::string detail = http >= 500 ? "the server could not complete the request" : status.message();
  const char* title = http == 404   ? "Not found"
                      : http == 403 ? "Forbidden"
                      : http == 409 ? "Conflict"
                      : http == 410 ? "Gone"
                      : http == 429 ? "Too many requests"
                      : http >= 500 ? "Server error"
                                    : "Refused";
  if (status.code() == ErrorCode::kUnavailable) {
    HttpResponse response = Render(http, ProblemType(DashedLower(name)), "Service unavailable",
                                   "the database cannot be reached; retry shortly", name);
    response.headers.emplace_back("Retry-After", std::to_string(kStoreRetryAfterSeconds));
    return response;
  }
  if (status.code() == ErrorCode::kSystemUnavailable) {
    // The engine's message names the systems that could not be reached (never a value).
    HttpResponse response = Render(http, ProblemType(DashedLower(name)), "A system is unavailable",
                                   status.message(), name);
    response.headers.emplace_back("Retry-After", std::to_string(kSystemRetryAfterSeconds));
    return response;
  }
  return Render(http, ProblemType(DashedLower(name)), title, detail, name);
}

std::string ProblemInstance(std::string_view path, const std::vector<std::string>& hidden) {
  if (path.empty() || path.front() != '/') return "/";
  auto id_shaped = [](std::string_view segment) {
    if (segment.empty() || segment.size() > 64) return false;
    for (char c : segment) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == '.' || c == ':';
      if (!ok) return false;
    }
    return true;
  };
  std::string out;
  size_t start = 1, segments = 0;
  // A path longer than any route is cut short: it names no resource anyway.
  while (start <= path.size() && segments < 16) {
    size_t end = std::min(path.find('/', start), path.size());
    std::string_view segment = path.substr(start, end - start);
    out += '/';
    bool shown =
        id_shaped(segment) && std::find(hidden.begin(), hidden.end(), segment) == hidden.end();
    if (!segment.empty()) out += shown ? std::string(segment) : std::string("-");
    start = end + 1;
    ++segments;
  }
  return out;
}

void AddInstance(HttpResponse& response, std::string_view path,
                 const std::vector<std::string>& hidden) {
  if (response.content_type != "application/problem+json") return;
  size_t close = response.body.rfind('}');
  if (close == std::string::npos || response.body.find("\"instance\"") != std::string::npos) {
    return;
  }
  // ProblemInstance() writes only characters JSON strings take as they are.
  response.body.insert(close, ",\"instance\":\"" + ProblemInstance(path, hidden) + "\"");
}

}  // namespace custos::api
