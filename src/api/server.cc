// Api's core: construction, the route table and Handle(). AddRoutes is the one list of what the
// server serves, one line per route with the roles that may call it. Handle() is the pipeline
// every request goes through: match the path against the table, authenticate (an API token, or
// the requester secret on kRequester routes), check the role and the token's scope, rate-limit,
// call the handler, keep the body's personal strings and the URL's values out of any problem,
// name the request's path as the problem's instance, add the security headers and the request
// id, count and log. Reads of /metrics may be let through by the scrape token or the address
// allow-list first (metrics_access.h). The handlers are in the *_routes.cc files, one family
// per file.
#include "api/server.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>

#include "api/centre.h"
#include "api/handler_support.h"
#include "api/import_jobs.h"
#include "api/request_id.h"

namespace custos::api {

namespace {

using internal::Forbidden;

constexpr Role A = Role::kAdmin, D = Role::kDpo, S = Role::kStaff, P = Role::kProcessor,
               U = Role::kSubject, T = Role::kApplication;
constexpr bool kRequester = true;  // RouteInfo::requester

std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    parts.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

constexpr size_t kMaxRouteSegments = 8;

// A "{name}" segment of a route pattern.
bool IsParam(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Strings of the request body that must not come back in an error: every value of a field that
// carries personal data (or a secret), and every string that is not shaped like a policy key (a
// client may put a personal value in the wrong field, and the engine names the keys it
// rejects). Objects inside arrays (rectifications) are read the same way, one level deep.
std::vector<std::string> PersonalStrings(const std::string& body) {
  std::vector<std::string> out;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.c_str(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return out;
  auto key_shaped = [](std::string_view text) {
    for (char c : text) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' ||
            c == '*' || c == ':')) {
        return false;
      }
    }
    return true;
  };
  auto consider = [&](const rapidjson::Value& v, bool personal_field) {
    if (!v.IsString() || v.GetStringLength() == 0) return;
    std::string_view text(v.GetString(), v.GetStringLength());
    if (personal_field || !key_shaped(text)) out.emplace_back(text);
  };
  auto members = [&](const rapidjson::Value& object, bool nested, auto& self) -> void {
    for (const auto& member : object.GetObject()) {
      std::string_view name(member.name.GetString(), member.name.GetStringLength());
      bool personal = name == "value" || name == "email" || name == "phone" || name == "external" ||
                      name == "evidence" || name == "note" || name == "code" || name == "secret";
      if (!key_shaped(name)) out.emplace_back(name);
      if (member.value.IsArray()) {
        for (const auto& item : member.value.GetArray()) {
          if (item.IsObject() && !nested) self(item, true, self);
          consider(item, personal);
        }
      } else {
        consider(member.value, personal);
      }
    }
  };
  const rapidjson::Value& object = doc;  // const iterators: unambiguous operator!= in C++20
  members(object, false, members);
  return out;
}

// Values of the URL that must not come back in an error: a client may put an email or a phone
// number where an id belongs (GET /v1/subjects/<an email>), and the engine names what it
// cannot find. Every path parameter and query value is left out of the detail, except the
// policy's own words (a purpose, a channel, a category, a recipient, a format or filter name,
// when shaped like one) and values too short to be personal (under three characters: the
// replacement would mangle the sentence for nothing).
std::vector<std::string> UrlValues(const std::vector<std::pair<std::string, std::string>>& params,
                                   const std::vector<std::pair<std::string, std::string>>& query) {
  auto vocabulary = [](std::string_view name, std::string_view value) {
    static constexpr std::string_view kWords[] = {"purpose", "channel", "category", "recipient",
                                                  "format",  "filter",  "all"};
    if (std::find(std::begin(kWords), std::end(kWords), name) == std::end(kWords)) return false;
    bool letter = false;
    for (char c : value) {
      if (c >= 'a' && c <= 'z') letter = true;
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) {
        return false;
      }
    }
    return letter;
  };
  std::vector<std::string> out;
  for (const auto* list : {&params, &query}) {
    for (const auto& [name, value] : *list) {
      if (value.size() >= 3 && !vocabulary(name, value)) out.push_back(value);
      if (list == &query && name.size() >= 3 && !vocabulary("purpose", name)) {
        out.push_back(name);  // a query name is the client's too
      }
    }
  }
  return out;
}

// Replaces `secrets` in a problem's detail, the only member that carries the engine's words
// (type, title and code are the server's own), so the problem stays well-formed whatever the
// secrets are.
void Redact(std::string& problem, std::vector<std::string> secrets) {
  if (secrets.empty()) return;
  // The longest first: a secret inside another is replaced with it, not piecemeal.
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  rapidjson::Document doc;
  doc.Parse(problem.c_str(), problem.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("detail") ||
      !doc["detail"].IsString()) {
    return;
  }
  std::string detail(doc["detail"].GetString(), doc["detail"].GetStringLength());
  for (const auto& secret : secrets) {
    for (size_t at = detail.find(secret); at != std::string::npos; at = detail.find(secret, at)) {
      detail.replace(at, secret.size(), "[redacted]");
      at += 10;
    }
  }
  doc["detail"].SetString(detail.c_str(), static_cast<rapidjson::SizeType>(detail.size()),
                          doc.GetAllocator());
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  doc.Accept(w);
  problem.assign(buffer.GetString(), buffer.GetSize());
}

}  // namespace

// The sink of a streamed body, wrapped so its answer leaves as Handle's do: with the problem's
// instance, the security headers and the request id, counted and logged when it is made.
class Api::SentSink final : public BodySink {
 public:
  SentSink(Api& api, std::shared_ptr<BodySink> inner, Sent sent, std::string path)
      : api_(api), inner_(std::move(inner)), sent_(std::move(sent)), path_(std::move(path)) {}
  bool Take(std::string_view piece) override { return inner_->Take(piece); }
  HttpResponse Finish() override {
    HttpResponse response = inner_->Finish();
    if (response.status >= 400) AddInstance(response, path_, {});
    api_.Secure(response, false);
    response.headers.emplace_back("X-Request-Id", sent_.request_id);
    api_.Account(sent_, response);
    return response;
  }

 private:
  Api& api_;
  std::shared_ptr<BodySink> inner_;
  Sent sent_;
  std::string path_;
};

struct Api::Route {
  RouteInfo info;
  std::vector<std::string> segments;
  Handler handler;
};

Api::Api(engine::Engine& engine, store::Store& store, TokenStore& tokens, JsonLog& log,
         ApiOptions options, FixedClock* test_clock)
    : engine_(engine),
      store_(store),
      tokens_(tokens),
      log_(log),
      options_(options),
      test_clock_(test_clock),
      token_limiter_(options.token_rate, std::max(1.0, options.token_rate)),
      address_limiter_(options.address_rate, std::max(1.0, options.address_rate * 2)),
      import_jobs_(std::make_unique<ImportJobs>()) {
  AddRoutes();
  std::vector<std::string> labels;
  for (const auto& route : routes_) labels.push_back(route.info.method + " " + route.info.pattern);
  metrics_ = std::make_unique<Metrics>(std::move(labels));
  if (!options_.centre_path.empty()) {
    CentreOptions centre;
    centre.base_path = options_.centre_path;
    centre.tls = options_.tls;
    centre.demo_site = options_.demo_site;
    centre.notice_templates = options_.notice_templates;
    centre_ = std::make_unique<Centre>(engine_, std::move(centre));
  }
}

Api::~Api() = default;

void Api::Add(const char* method, const char* pattern, const char* operation,
              std::vector<Role> roles, Handler handler, bool requester) {
  std::vector<std::string> segments = Split(pattern);
  if (segments.size() > kMaxRouteSegments) std::abort();  // a programming error: raise the limit
  routes_.push_back(Route{
      {method, pattern, operation, std::move(roles), requester}, std::move(segments), handler});
}

void Api::AddRoutes() {
  // The one table of routes and roles. Scoped roles are narrowed further by the handlers:
  // staff to their purposes, processors to their categories, subjects to themselves.
  Add("GET", "/healthz", "healthz", {}, &Api::Healthz);
  Add("GET", "/readyz", "readyz", {}, &Api::Readyz);
  Add("GET", "/ping", "ping", {}, &Api::Ping);
  Add("GET", "/metrics", "metrics", {A}, &Api::MetricsText);
  Add("GET", "/v1/openapi.json", "openapi", {}, &Api::OpenApi);
  Add("GET", "/v1/notice", "getNotice", {}, &Api::Notice);
  Add("GET", "/v1/policy", "getPolicy", {A, D}, &Api::PolicyDocument);
  Add("GET", "/v1/ropa", "getRopa", {A, D}, &Api::Ropa);
  Add("POST", "/v1/policy/diff", "diffPolicy", {A, D}, &Api::PolicyDiff);
  Add("POST", "/v1/subjects", "createSubject", {A, D, S}, &Api::CreateSubject);
  Add("GET", "/v1/subjects/{id}", "getSubject", {A, D, S, U}, &Api::GetSubject);
  Add("POST", "/v1/subjects/{id}/identifiers", "addIdentifier", {A, D, S, U}, &Api::AddIdentifier);
  Add("POST", "/v1/identifiers/lookup", "lookupIdentifier", {A, D, S}, &Api::LookupIdentifier);
  Add("POST", "/v1/subjects/{id}/events", "addEvent", {A, D, S}, &Api::AddEvent);
  Add("POST", "/v1/subjects/{id}/disclosures", "recordDisclosure", {A, D, S},
      &Api::RecordDisclosure);
  Add("POST", "/v1/subjects/{id}/records", "putRecord", {A, D, S, P}, &Api::PutRecord);
  Add("GET", "/v1/subjects/{id}/records", "listRecords", {A, D, S, P, U}, &Api::ListRecords);
  Add("POST", "/v1/subjects/{id}/consents", "changeConsent", {A, D, S, U}, &Api::ChangeConsent);
  Add("GET", "/v1/subjects/{id}/consents", "exportConsents", {A, D, U}, &Api::ExportConsents);
  Add("PUT", "/v1/subjects/{id}/preferences/{channel}", "setPreference", {A, D, S, U},
      &Api::SetPreference);
  Add("POST", "/v1/subjects/{id}/objections", "object", {A, D, S, U}, &Api::Object);
  Add("DELETE", "/v1/subjects/{id}/objections/{purpose}", "liftObjection", {A, D, U},
      &Api::LiftObjection);
  Add("POST", "/v1/subjects/{id}/restrictions", "restrict", {A, D, U}, &Api::Restrict);
  Add("DELETE", "/v1/subjects/{id}/restrictions/{restriction_id}", "liftRestriction", {A, D},
      &Api::LiftRestriction);
  Add("POST", "/v1/suppressions", "suppress", {A, D}, &Api::Suppress);
  Add("POST", "/v1/decisions", "decide", {A, D, S, P, T}, &Api::Decide);
  Add("POST", "/v1/retention/plan", "planRetention", {A, D}, &Api::PlanRetention);
  Add("POST", "/v1/retention/runs", "runRetention", {A, D}, &Api::RunRetention);
  Add("GET", "/v1/legal-holds", "listLegalHolds", {A, D}, &Api::ListHolds);
  Add("POST", "/v1/legal-holds", "placeLegalHold", {A, D}, &Api::PlaceHold);
  Add("POST", "/v1/legal-holds/{hold_id}/release", "releaseLegalHold", {A, D}, &Api::ReleaseHold);
  Add("GET", "/v1/review-tasks", "listReviewTasks", {A, D}, &Api::ListReviewTasks);
  Add("POST", "/v1/review-tasks/{task_id}/done", "completeReviewTask", {A, D},
      &Api::CompleteReviewTask);
  Add("GET", "/v1/aggregates/{category}", "aggregate", {A, D}, &Api::Aggregate);
  Add("GET", "/v1/audit/verify", "verifyAudit", {A, D}, &Api::VerifyAudit);
  Add("GET", "/v1/audit/checkpoint", "getAuditCheckpoint", {A, D}, &Api::GetAuditCheckpoint);
  // Rights requests (request_routes.cc). The person, without a token (rate-limited per address):
  Add("POST", "/v1/requests", "openRequest", {}, &Api::OpenRequest);
  Add("POST", "/v1/requests/{id}/verification", "verifyRequest", {}, &Api::VerifyRequest);
  Add("POST", "/v1/requests/{id}/code", "resendRequestCode", {}, &Api::ResendRequestCode);
  // The person with their requester secret (kRequester); staff, the DPO and admins where they
  // help. Staff never refuse, extend, erase or restrict, and never read a package: those are
  // the DPO's (the handlers narrow staff further: no fee, no access or portability request
  // opened, read or fulfilled, fulfilment only of what staff may do themselves; staff_scope.h).
  Add("GET", "/v1/requests/{id}/status", "getRequestStatus", {}, &Api::RequestStatus, kRequester);
  Add("GET", "/v1/requests/{id}/document", "getRequestDocument", {A, D}, &Api::RequestDocument,
      kRequester);
  Add("GET", "/v1/requests/{id}/recipients", "listRequestRecipients", {A, D, S},
      &Api::RequestRecipients, kRequester);
  Add("POST", "/v1/requests/{id}/withdrawal", "withdrawRequest", {A, D, S}, &Api::WithdrawRequest,
      kRequester);
  Add("POST", "/v1/subjects/{id}/requests", "openStaffRequest", {A, D, S}, &Api::OpenStaffRequest);
  Add("GET", "/v1/requests", "listRequests", {A, D, S}, &Api::ListRequests);
  Add("POST", "/v1/requests/purge", "purgeRequests", {A, D}, &Api::PurgeRequests);
  Add("GET", "/v1/requests/{id}", "getRequest", {A, D, S}, &Api::GetRequest);
  Add("POST", "/v1/requests/{id}/identity", "verifyRequestIdentity", {A, D, S},
      &Api::VerifyRequestIdentity);
  Add("POST", "/v1/requests/{id}/wait", "awaitRequester", {A, D, S}, &Api::AwaitRequester);
  Add("POST", "/v1/requests/{id}/answer", "requesterAnswered", {A, D, S}, &Api::RequesterAnswered);
  Add("POST", "/v1/requests/{id}/extension", "extendRequest", {A, D}, &Api::ExtendRequest);
  Add("POST", "/v1/requests/{id}/refusal", "refuseRequest", {A, D}, &Api::RefuseRequest);
  Add("POST", "/v1/requests/{id}/fulfilment", "fulfilRequest", {A, D, S}, &Api::FulfilRequest);
  Add("PUT", "/v1/endpoints/{recipient}", "setEndpoint", {A, D}, &Api::SetEndpoint);
  Add("GET", "/v1/endpoints", "listEndpoints", {A, D}, &Api::ListEndpoints);
  Add("GET", "/v1/outbox", "listOutbox", {A, D}, &Api::ListOutbox);
  // The breach register (breach_routes.cc): the DPO's and admins' only.
  Add("GET", "/v1/breaches", "listBreaches", {A, D}, &Api::ListBreaches);
  Add("POST", "/v1/breaches", "recordBreach", {A, D}, &Api::RecordBreach);
  Add("GET", "/v1/breaches/{id}", "getBreach", {A, D}, &Api::GetBreach);
  Add("POST", "/v1/breaches/{id}/changes", "changeBreach", {A, D}, &Api::ChangeBreach);
  Add("POST", "/v1/breaches/{id}/people-notices", "tellPeopleOfBreach", {A, D},
      &Api::TellPeopleOfBreach);
  Add("GET", "/v1/breaches/{id}/ico-report", "getBreachReport", {A, D}, &Api::BreachReport);
  // Third-party applications (application_routes.cc): the DPO and admins authorise them.
  Add("GET", "/v1/applications", "listApplications", {A, D}, &Api::ListApplications);
  Add("POST", "/v1/applications", "authoriseApplication", {A, D}, &Api::AuthoriseApplication);
  Add("POST", "/v1/applications/{id}/revocation", "revokeApplication", {A, D},
      &Api::RevokeApplication);
  // The organisation's own systems (systems_routes.cc): the DPO's and admins' only.
  // Bulk import (import_routes.cc): the DPO's and admins' only.
  Add("POST", "/v1/imports", "startImport", {A, D}, &Api::StartImport);
  Add("GET", "/v1/imports", "listImports", {A, D}, &Api::ListImports);
  Add("GET", "/v1/imports/{id}", "getImport", {A, D}, &Api::GetImport);
  Add("GET", "/v1/systems/check", "checkSystems", {A, D}, &Api::CheckSystems);
  Add("POST", "/v1/systems/retention", "sweepSystems", {A, D}, &Api::SweepSystems);
  Add("GET", "/v1/requests/{id}/systems-plan", "planRequestInSystems", {A, D},
      &Api::PlanRequestInSystems);
  Add("POST", "/v1/requests/{id}/system-waivers", "waiveSystem", {A, D}, &Api::WaiveSystem);
  if (options_.test_clock) {
    Add("POST", "/v1/test/clock", "setTestClock", {A}, &Api::SetTestClock);
  }
}

std::vector<RouteInfo> Api::Routes() const {
  std::vector<RouteInfo> out;
  for (const auto& route : routes_) out.push_back(route.info);
  return out;
}

HttpResponse Api::Draining() const {
  HttpResponse response = Problem(HttpProblem::kUnavailable, "the server is stopping");
  Secure(response, false);
  return response;
}

bool Api::AnswersAtOnce(const HttpRequest& request) const {
  if (request.method == "POST" && request.path == "/v1/decisions") {
    // A decision about a cached person, asked about now, reads nothing and waits for nothing
    // (its answer is held until its audit entry is committed): handing it to another thread
    // would cost more than deciding it. Anything else about the body is Decide's to judge.
    // An application's decision writes its disclosure before it answers: not at once.
    if (request.authorization.find("Bearer") != std::string::npos) {
      auto who = tokens_.Authenticate(request.authorization);
      if (who && who->Is(Role::kApplication)) return false;
    }
    // A decision's body is small: parsed in pools over the stack (a larger one spills onto the
    // heap), not in a default document's 64 KiB heap chunk, allocated and freed per request.
    using Pool = rapidjson::MemoryPoolAllocator<>;
    alignas(8) char value_buffer[1024];
    alignas(8) char stack_buffer[1024];
    Pool values(value_buffer, sizeof value_buffer), stack(stack_buffer, sizeof stack_buffer);
    rapidjson::GenericDocument<rapidjson::UTF8<>, Pool, Pool> body(&values, sizeof stack_buffer,
                                                                   &stack);
    body.Parse(request.body.data(), request.body.size());
    if (body.HasParseError() || !body.IsObject() || body.HasMember("at")) return false;
    auto subject = body.FindMember("subject_id");
    if (subject == body.MemberEnd() || !subject->value.IsString()) return false;
    return engine_.DecidesWithoutWaiting(
        std::string(subject->value.GetString(), subject->value.GetStringLength()));
  }
  if (request.method != "GET") return false;
  if (request.path == "/ping" || request.path == "/healthz") return true;
  return centre_ && centre_->IsFixed(request.path);
}

void Api::Secure(HttpResponse& response, bool html) const {
  auto& h = response.headers;
  // The privacy centre sets its own policy and caching (assets are cached for a year).
  auto has = [&h](std::string_view name) {
    return std::any_of(h.begin(), h.end(),
                       [&](const auto& header) { return header.first == name; });
  };
  const bool own_policy = has("Content-Security-Policy"), own_caching = has("Cache-Control");
  h.emplace_back("X-Content-Type-Options", "nosniff");
  if (!own_policy) {
    h.emplace_back("Content-Security-Policy",
                   html ? "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
                        : "default-src 'none'; frame-ancestors 'none'");
  }
  h.emplace_back("X-Frame-Options", "DENY");
  h.emplace_back("Referrer-Policy", "no-referrer");
  if (!own_caching) h.emplace_back("Cache-Control", "no-store");
  if (options_.tls) {
    h.emplace_back("Strict-Transport-Security", "max-age=63072000; includeSubDomains");
  }
}

HttpResponse Api::Handle(HttpRequest& request) {
  auto start = std::chrono::steady_clock::now();
  const std::string request_id = RequestIdFor(request.request_id);
  const Route* route = nullptr;
  size_t route_index = routes_.size();
  Context context{request, nullptr, {}, "anonymous"};
  bool path_known = false;
  // The path's segments, as views (a longer path matches no route).
  constexpr size_t kMaxSegments = kMaxRouteSegments;
  std::array<std::string_view, kMaxSegments> parts;
  size_t part_count = 0;
  {
    std::string_view path = request.path;
    size_t start = 1;
    while (start <= path.size() && part_count <= kMaxSegments) {
      size_t end = std::min(path.find('/', start), path.size());
      if (part_count < kMaxSegments) parts[part_count] = path.substr(start, end - start);
      ++part_count;
      start = end + 1;
    }
  }
  std::string allow;
  for (size_t i = 0; i < routes_.size() && route == nullptr; ++i) {
    const Route& candidate = routes_[i];
    if (candidate.segments.size() != part_count) continue;
    bool match = true;
    for (size_t s = 0; s < part_count && match; ++s) {
      const std::string& seg = candidate.segments[s];
      match = IsParam(seg) ? !parts[s].empty() : seg == parts[s];
    }
    if (!match) continue;
    path_known = true;
    if (candidate.info.method != request.method) {
      allow += (allow.empty() ? "" : ", ") + candidate.info.method;
      continue;
    }
    route = &candidate;
    route_index = i;
    for (size_t s = 0; s < part_count; ++s) {
      const std::string& seg = candidate.segments[s];
      if (IsParam(seg)) context.params.emplace_back(seg.substr(1, seg.size() - 2), parts[s]);
    }
  }

  HttpResponse response;
  std::string token_id;
  MetricsAccess::Verdict metrics = MetricsAccess::Verdict::kNeedsAdmin;
  if (route != nullptr && route->handler == &Api::MetricsText) {
    metrics = options_.metrics_access.Check(request.client_address, request.authorization);
  }
  if (request.ambiguous_length) {
    response = Problem(HttpProblem::kAmbiguousLength,
                       "the request declares its body's length twice, differently (Content-Length "
                       "and Transfer-Encoding, or two Content-Length values)");
  } else if (request.body_too_large) {
    response = Problem(HttpProblem::kPayloadTooLarge, "the body is larger than the server accepts");
  } else if (route == nullptr && !path_known && centre_ && centre_->Owns(request.path)) {
    // The privacy centre's pages: the forms are tokenless, so they share the address limit.
    if (request.method == "POST" && address_limiter_.enabled() &&
        !address_limiter_.Allow(request.client_address)) {
      response = Problem(HttpProblem::kRateLimited, "slow down");
      response.headers.emplace_back("Retry-After", "1");
    } else {
      response = centre_->Handle(request);
    }
  } else if (route == nullptr) {
    response = path_known ? Problem(HttpProblem::kMethodNotAllowed, "allowed: " + allow)
                          : Problem(HttpProblem::kNotFound, "no such resource");
    if (path_known) response.headers.emplace_back("Allow", allow);
  } else if (metrics == MetricsAccess::Verdict::kRefused) {
    response = Forbidden("this address may not read the metrics");
  } else if (metrics == MetricsAccess::Verdict::kAllowed) {
    if (address_limiter_.enabled() && !address_limiter_.Allow(request.client_address)) {
      response = Problem(HttpProblem::kRateLimited, "slow down");
      response.headers.emplace_back("Retry-After", "1");
    } else {
      context.actor = "metrics-scraper";
      response = MetricsText(context);
    }
  } else if (route->info.roles.empty() ||
             (route->info.requester && request.authorization.rfind("Bearer rq_", 0) == 0)) {
    if (address_limiter_.enabled() && !address_limiter_.Allow(request.client_address)) {
      response = Problem(HttpProblem::kRateLimited, "slow down");
      response.headers.emplace_back("Retry-After", "1");
    } else if (route->info.requester) {
      response = AsRequester(context, route->handler);
    } else {
      response = (this->*route->handler)(context);
    }
  } else {
    std::shared_ptr<const Principal> who = tokens_.Authenticate(request.authorization);
    if (!who) {
      response = Problem(HttpProblem::kUnauthorized, "send Authorization: Bearer <token>");
    } else {
      token_id = who->token_id;
      context.who = who.get();
      context.actor = "token:" + who->token_id;
      const auto& roles = route->info.roles;
      if (std::find(roles.begin(), roles.end(), who->role) == roles.end()) {
        response = Forbidden(std::string(RoleName(who->role)) + " tokens may not call this");
      } else if (who->Is(Role::kProcessor) && who->controller != engine_.controller()) {
        response = Forbidden("this processor token is for another controller");
      } else if (!who->MayActFor(context.Param("id"))) {
        response = Forbidden("a subject token reaches only its own data");
      } else if (!token_limiter_.Allow(who->token_id)) {
        response = Problem(HttpProblem::kRateLimited, "slow down");
        response.headers.emplace_back("Retry-After", "1");
      } else {
        response = (this->*route->handler)(context);
      }
    }
  }
  if (response.status >= 400) {
    std::vector<std::string> secrets = UrlValues(context.params, request.query);
    AddInstance(response, request.path, secrets);
    if (!request.body.empty()) {
      std::vector<std::string> body = PersonalStrings(request.body);
      secrets.insert(secrets.end(), body.begin(), body.end());
    }
    Redact(response.body, std::move(secrets));
  }
  Secure(response, response.content_type.rfind("text/html", 0) == 0);
  response.headers.emplace_back("X-Request-Id", request_id);
  // Counted and logged as sent: a held answer when it is released (it may be replaced by an
  // error then, which carries the same headers).
  Sent sent{route_index,
            route != nullptr ? route->info.pattern : "unmatched",
            request.method.size() <= 8 ? request.method : "?",
            request_id,
            token_id,
            start};
  if (response.sink) {
    response.sink =
        std::make_shared<SentSink>(*this, std::move(response.sink), std::move(sent), request.path);
    return response;
  }
  if (!response.hold) {
    Account(sent, response);
    return response;
  }
  response.hold = [this, inner = std::move(response.hold), sent,
                   status = response.status](ReleaseAnswer release) {
    inner([this, release = std::move(release), sent, status](std::optional<HttpResponse> instead) {
      if (instead) {
        Secure(*instead, false);
        instead->headers.emplace_back("X-Request-Id", sent.request_id);
        Account(sent, *instead);
      } else {
        HttpResponse as_built;
        as_built.status = status;
        Account(sent, as_built);
      }
      release(std::move(instead));
    });
  };
  return response;
}

void Api::Account(const Sent& sent, const HttpResponse& response) {
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - sent.start).count();
  metrics_->Observe(sent.route_index, response.status, seconds);
  bool log = options_.request_log == ApiOptions::RequestLog::kAll ||
             (options_.request_log == ApiOptions::RequestLog::kErrors && response.status >= 400);
  if (!log) return;
  std::vector<JsonLog::FieldValue> fields = {
      {"method", sent.method},
      {"route", sent.route},
      {"status", std::to_string(response.status), true},
      {"us", std::to_string(static_cast<int64_t>(seconds * 1e6)), true},
      {"request_id", sent.request_id}};
  if (!sent.token_id.empty()) fields.push_back({"token", sent.token_id});
  if (response.status >= 400 && response.content_type == "application/problem+json") {
    // The code only: details are for the caller.
    auto code_at = response.body.rfind("\"code\":\"");
    if (code_at != std::string::npos) {
      auto end = response.body.find('"', code_at + 8);
      fields.push_back({"code", response.body.substr(code_at + 8, end - code_at - 8)});
    }
  }
  log_.Write(response.status >= 500   ? LogLevel::kError
             : response.status >= 400 ? LogLevel::kWarn
                                      : LogLevel::kInfo,
             "request", fields);
}

}  // namespace custos::api
