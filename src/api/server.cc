#include "api/server.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>

#include "api/handler_support.h"
#include "delivery/outbox_dispatcher.h"
#include "engine/audit_log.h"
#include "policy/notice.h"
#include "policy/ropa.h"

namespace custos::api {

namespace {

using internal::Empty;
using internal::Forbidden;
using internal::Json;
using internal::ParseId;

constexpr Role A = Role::kAdmin, D = Role::kDpo, S = Role::kStaff, P = Role::kProcessor,
               U = Role::kSubject;
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

const char* StateName(store::RecordState state) {
  switch (state) {
    case store::RecordState::kActive: return "active";
    case store::RecordState::kRestricted: return "restricted";
    case store::RecordState::kAnonymised: return "anonymised";
    case store::RecordState::kErased: return "erased";
  }
  return "?";
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

// Replaces `secrets` in a problem's detail, the only member that carries the engine's words
// (type, title and code are the server's own), so the problem stays well-formed whatever the
// secrets are.
void Redact(std::string& problem, const std::vector<std::string>& secrets) {
  if (secrets.empty()) return;
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

void WriteReport(Json& j, const engine::RetentionReport& report, bool plan) {
  auto& w = j.w();
  w.StartObject();
  if (!plan) {
    j.Field("run_id", report.run_id);
    j.Field("resumed", report.resumed);
  }
  j.Field("as_of", report.as_of);
  j.Key("totals");
  w.StartObject();
  j.Field("subjects", report.totals.subjects);
  j.Field("deleted", report.totals.deleted);
  j.Field("anonymised", report.totals.anonymised);
  j.Field("reviews", report.totals.reviews);
  j.Field("held", report.totals.held);
  j.Field("erased", report.totals.erased);
  w.EndObject();
  j.Key("by_rule");
  w.StartObject();
  for (const auto& [rule, c] : report.by_rule) {
    j.Key(rule.c_str());
    w.StartObject();
    j.Field("deleted", c.deleted);
    j.Field("anonymised", c.anonymised);
    j.Field("reviews", c.reviews);
    j.Field("held", c.held);
    w.EndObject();
  }
  w.EndObject();
  j.Key("not_covered");
  w.StartObject();
  for (const auto& [category, count] : report.not_covered) j.Field(category.c_str(), count);
  w.EndObject();
  j.Field("not_due", report.not_due);
  w.EndObject();
}

}  // namespace

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
      address_limiter_(options.address_rate, std::max(1.0, options.address_rate * 2)) {
  AddRoutes();
  std::vector<std::string> labels;
  for (const auto& route : routes_) labels.push_back(route.info.method + " " + route.info.pattern);
  metrics_ = std::make_unique<Metrics>(std::move(labels));
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
  Add("GET", "/ping", "ping", {}, &Api::Ping);
  Add("GET", "/metrics", "metrics", {A}, &Api::MetricsText);
  Add("GET", "/v1/openapi.json", "openapi", {}, &Api::OpenApi);
  Add("GET", "/v1/notice", "getNotice", {}, &Api::Notice);
  Add("GET", "/v1/policy", "getPolicy", {A, D}, &Api::PolicyDocument);
  Add("GET", "/v1/ropa", "getRopa", {A, D}, &Api::Ropa);
  Add("POST", "/v1/subjects", "createSubject", {A, D, S}, &Api::CreateSubject);
  Add("GET", "/v1/subjects/{id}", "getSubject", {A, D, S, U}, &Api::GetSubject);
  Add("POST", "/v1/subjects/{id}/identifiers", "addIdentifier", {A, D, S, U}, &Api::AddIdentifier);
  Add("POST", "/v1/identifiers/lookup", "lookupIdentifier", {A, D, S}, &Api::LookupIdentifier);
  Add("POST", "/v1/subjects/{id}/events", "addEvent", {A, D, S}, &Api::AddEvent);
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
  Add("POST", "/v1/decisions", "decide", {A, D, S, P}, &Api::Decide);
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
  // Rights requests (request_routes.cc). The person, without a token (rate-limited per address):
  Add("POST", "/v1/requests", "openRequest", {}, &Api::OpenRequest);
  Add("POST", "/v1/requests/{id}/verification", "verifyRequest", {}, &Api::VerifyRequest);
  Add("POST", "/v1/requests/{id}/code", "resendRequestCode", {}, &Api::ResendRequestCode);
  // The person with their requester secret (kRequester); staff, the DPO and admins where they
  // help. Staff never refuse, extend, erase or restrict: those are the DPO's (the handlers
  // narrow staff further: no fee, fulfilment of what staff may do themselves).
  Add("GET", "/v1/requests/{id}/status", "getRequestStatus", {}, &Api::RequestStatus, kRequester);
  Add("GET", "/v1/requests/{id}/document", "getRequestDocument", {A, D, S}, &Api::RequestDocument,
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
  if (options_.test_clock) {
    Add("POST", "/v1/test/clock", "setTestClock", {A}, &Api::SetTestClock);
  }
}

std::vector<RouteInfo> Api::Routes() const {
  std::vector<RouteInfo> out;
  for (const auto& route : routes_) out.push_back(route.info);
  return out;
}

HttpResponse Api::Draining() {
  return Problem(HttpProblem::kUnavailable, "the server is stopping");
}

void Api::Secure(HttpResponse& response, bool html) const {
  auto& h = response.headers;
  h.emplace_back("X-Content-Type-Options", "nosniff");
  h.emplace_back("Content-Security-Policy",
                 html ? "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
                      : "default-src 'none'; frame-ancestors 'none'");
  h.emplace_back("X-Frame-Options", "DENY");
  h.emplace_back("Referrer-Policy", "no-referrer");
  h.emplace_back("Cache-Control", "no-store");
  if (options_.tls) {
    h.emplace_back("Strict-Transport-Security", "max-age=63072000; includeSubDomains");
  }
}

HttpResponse Api::Handle(HttpRequest& request) {
  auto start = std::chrono::steady_clock::now();
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
  if (request.body_too_large) {
    response = Problem(HttpProblem::kPayloadTooLarge, "the body is larger than the server accepts");
  } else if (route == nullptr) {
    response = path_known ? Problem(HttpProblem::kMethodNotAllowed, "allowed: " + allow)
                          : Problem(HttpProblem::kNotFound, "no such resource");
    if (path_known) response.headers.emplace_back("Allow", allow);
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
  if (response.status >= 400 && !request.body.empty()) {
    Redact(response.body, PersonalStrings(request.body));
  }
  Secure(response, response.content_type.rfind("text/html", 0) == 0);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics_->Observe(route_index, response.status, seconds);
  bool log = options_.request_log == ApiOptions::RequestLog::kAll ||
             (options_.request_log == ApiOptions::RequestLog::kErrors && response.status >= 400);
  if (log) {
    std::vector<JsonLog::FieldValue> fields = {
        {"method", request.method.size() <= 8 ? request.method : "?"},
        {"route", route != nullptr ? route->info.pattern : "unmatched"},
        {"status", std::to_string(response.status), true},
        {"us", std::to_string(static_cast<int64_t>(seconds * 1e6)), true}};
    if (!token_id.empty()) fields.push_back({"token", token_id});
    if (response.status >= 400 && response.content_type == "application/problem+json") {
      // The code only: details are for the caller.
      auto code_at = response.body.rfind("\"code\":\"");
      if (code_at != std::string::npos) {
        auto end = response.body.find('"', code_at + 8);
        fields.push_back({"code", response.body.substr(code_at + 8, end - code_at - 8)});
      }
    }
    log_.Write(response.status >= 500 ? "error" : "info", "request", fields);
  }
  return response;
}

// --- Operations ---------------------------------------------------------------------------

HttpResponse Api::Healthz(Context&) {
  Json j;
  j.w().StartObject();
  j.Field("status", std::string("ok"));
  j.Field("controller", engine_.controller());
  j.w().EndObject();
  return j.Done();
}

HttpResponse Api::Ping(Context&) {
  HttpResponse response;
  response.content_type = "text/plain";
  response.body = "pong";
  return response;
}

HttpResponse Api::MetricsText(Context&) {
  std::string extra;
  engine::AuditLog::Stats stats = engine_.audit().stats();
  extra += "# HELP custos_writes_total Engine writes stored (each with its audit entries).\n";
  extra += "# TYPE custos_writes_total counter\n";
  extra += "custos_writes_total " + std::to_string(stats.commits) + "\n";
  extra += "# HELP custos_write_transactions_total Store transactions that carried them.\n";
  extra += "# TYPE custos_write_transactions_total counter\n";
  extra += "custos_write_transactions_total " + std::to_string(stats.groups) + "\n";
  extra += "# TYPE custos_audit_buffered_entries gauge\n";
  extra += "custos_audit_buffered_entries " + std::to_string(engine_.audit().buffered()) + "\n";
  const delivery::DeliveryTotals& deliveries = delivery::ProcessDeliveryTotals();
  extra += "# HELP custos_outbox_deliveries_total Outbox messages sent, by outcome.\n";
  extra += "# TYPE custos_outbox_deliveries_total counter\n";
  for (const auto& [outcome, count] :
       {std::pair{"delivered", &deliveries.delivered}, std::pair{"failed", &deliveries.failed},
        std::pair{"dead", &deliveries.dead}}) {
    extra += std::string("custos_outbox_deliveries_total{outcome=\"") + outcome + "\"} " +
             std::to_string(count->load()) + "\n";
  }
  engine::CatchUpStats catch_up = engine_.catch_up_stats();
  extra +=
      "# HELP custos_catch_up_changes_total Subject changes by other processes read from the "
      "audit chain.\n";
  extra += "# TYPE custos_catch_up_changes_total counter\n";
  extra += "custos_catch_up_changes_total " + std::to_string(catch_up.changes_by_others) + "\n";
  extra += "# HELP custos_catch_up_forgotten_total Cached subjects forgotten for them.\n";
  extra += "# TYPE custos_catch_up_forgotten_total counter\n";
  extra += "custos_catch_up_forgotten_total " + std::to_string(catch_up.subjects_forgotten) + "\n";
  extra += "# HELP custos_catch_up_seq The last audit seq read for other processes' writes.\n";
  extra += "# TYPE custos_catch_up_seq gauge\n";
  extra += "custos_catch_up_seq " + std::to_string(catch_up.through_seq) + "\n";
  extra += "# TYPE custos_cached_subjects gauge\n";
  extra += "custos_cached_subjects " + std::to_string(engine_.cached_subjects()) + "\n";
  HttpResponse response;
  response.content_type = "text/plain; version=0.0.4";
  response.body = metrics_->Render(extra);
  return response;
}

HttpResponse Api::OpenApi(Context&) {
  HttpResponse response;
  response.body = std::string(OpenApiDocument());
  return response;
}

HttpResponse Api::Notice(Context& c) {
  const std::string* format = c.request.Query("format");
  std::string f = format ? *format : "html";
  if (f != "html" && f != "md") {
    return Problem(HttpProblem::kInvalidValue, "format must be html or md");
  }
  HttpResponse response;
  response.content_type = f == "html" ? "text/html; charset=utf-8" : "text/markdown; charset=utf-8";
  response.body =
      policy::RenderNotice(engine_.policy(), f == "html" ? policy::NoticeFormat::kHtml
                                                         : policy::NoticeFormat::kMarkdown);
  return response;
}

HttpResponse Api::PolicyDocument(Context&) {
  auto row = store_.GetController(engine_.controller());
  if (!row.ok()) return ProblemFor(row.status());
  if (!row->has_value()) return ProblemFor(Status(ErrorCode::kNotFound, "no policy"));
  Json j;
  j.w().StartObject();
  j.Field("controller", (*row)->controller);
  j.Field("name", (*row)->name);
  j.Field("version", (*row)->policy_version);
  j.Field("loaded_at", (*row)->loaded_at);
  j.Field("text", (*row)->policy_text);
  j.w().EndObject();
  return j.Done();
}

HttpResponse Api::Ropa(Context& c) {
  const std::string* format = c.request.Query("format");
  std::string f = format ? *format : "json";
  if (f != "json" && f != "csv")
    return Problem(HttpProblem::kInvalidValue, "format must be json or csv");
  HttpResponse response;
  if (f == "csv") {
    response.content_type = "text/csv; charset=utf-8";
    response.body = policy::RenderRopaCsv(engine_.policy());
  } else {
    response.body = policy::RenderRopaJson(engine_.policy());
  }
  return response;
}

HttpResponse Api::CreateSubject(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body,
              {{"id", FieldType::kString},
               {"types", FieldType::kStrings, true},
               {"email", FieldType::kString},
               {"phone", FieldType::kString},
               {"external", FieldType::kString},
               {"verified", FieldType::kBool},
               {"at", FieldType::kTime}},
              &problem)) {
    return problem;
  }
  engine::NewSubject request;
  request.subject_id = body.String("id");
  request.types = body.Strings("types");
  for (const char* kind : {"email", "phone", "external"}) {
    if (body.Has(kind))
      request.identifiers.push_back({kind, body.String(kind), body.Bool("verified")});
  }
  request.at = body.Time("at");
  request.actor = c.actor;
  auto id = engine_.AddSubject(request);
  if (!id.ok()) return ProblemFor(id.status());
  Json j;
  j.w().StartObject();
  j.Field("subject_id", *id);
  j.w().EndObject();
  HttpResponse response = j.Done(201);
  response.headers.emplace_back("Location", "/v1/subjects/" + *id);
  return response;
}

HttpResponse Api::GetSubject(Context& c) {
  const std::string* purpose = c.request.Query("purpose");
  std::string why = purpose ? *purpose : (c.who->Is(Role::kSubject) ? "subject_access" : "");
  if (c.who->Is(Role::kStaff) && (why.empty() || !c.who->MayUsePurpose(why))) {
    return Forbidden("staff read a subject for one of their token's purposes (?purpose=)");
  }
  if (why.empty()) why = "api_read";
  auto view = engine_.ReadSubject(c.Param("id"), c.actor, why);
  if (!view.ok()) return ProblemFor(view.status());
  Json j;
  auto& w = j.w();
  w.StartObject();
  j.Field("subject_id", view->subject.subject_id);
  j.Strings("types", view->subject.types);
  j.Field("created_at", view->subject.created_at);
  j.Field("state",
          std::string(view->subject.state == store::SubjectState::kErased ? "erased" : "active"));
  j.Key("events");
  w.StartArray();
  for (const auto& e : view->events) {
    w.StartObject();
    j.Field("event", e.event);
    j.Field("at", e.at);
    w.EndObject();
  }
  w.EndArray();
  j.Key("identifiers");
  w.StartArray();
  for (const auto& id : view->identifiers) {
    w.StartObject();
    j.Field("kind", id.kind);
    j.Field("value", id.value);
    j.Field("verified", id.verified);
    j.Field("added_at", id.added_at);
    w.EndObject();
  }
  w.EndArray();
  j.Key("records");
  w.StartArray();
  for (const auto& r : view->records) {
    if (c.who->Is(Role::kStaff) && !c.who->MayUsePurpose(r.purpose)) continue;
    w.StartObject();
    j.Field("record_id", r.record_id);
    j.Field("category", r.category);
    j.Field("value", r.value);
    j.Field("source", r.source);
    j.Field("purpose", r.purpose);
    j.Field("collected_at", r.collected_at);
    j.Field("state", std::string(StateName(r.state)));
    w.EndObject();
  }
  w.EndArray();
  j.Key("consents");
  w.StartArray();
  for (const auto& e : view->consents) {
    w.StartObject();
    j.Field("target", e.target);
    j.Field("cookie", e.target_kind == store::ConsentTarget::kCookieCategory);
    j.Field("given", e.action == store::ConsentAction::kGiven);
    j.Field("channel", e.channel);
    j.Field("notice_version", e.notice_version);
    j.Field("at", e.at);
    w.EndObject();
  }
  w.EndArray();
  j.Key("preferences");
  w.StartArray();
  for (const auto& p : view->preferences) {
    w.StartObject();
    j.Field("channel", p.channel);
    j.Field("allowed", p.allowed);
    j.Field("at", p.at);
    w.EndObject();
  }
  w.EndArray();
  j.Key("objections");
  w.StartArray();
  for (const auto& o : view->objections) {
    w.StartObject();
    j.Field("purpose", o.purpose);
    j.Field("at", o.at);
    j.Field("lifted_at", o.lifted_at);
    w.EndObject();
  }
  w.EndArray();
  j.Key("restrictions");
  w.StartArray();
  for (const auto& r : view->restrictions) {
    w.StartObject();
    j.Field("restriction_id", r.restriction_id);
    j.Strings("categories", r.categories);
    j.Field("reason", r.reason);
    j.Field("at", r.at);
    j.Field("lifted_at", r.lifted_at);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return j.Done();
}

HttpResponse Api::AddIdentifier(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body,
              {{"kind", FieldType::kString, true},
               {"value", FieldType::kString, true},
               {"verified", FieldType::kBool},
               {"at", FieldType::kTime}},
              &problem)) {
    return problem;
  }
  Status status = engine_.AddIdentifier(
      c.Param("id"), {body.String("kind"), body.String("value"), body.Bool("verified")},
      body.Time("at"), c.actor);
  return status.ok() ? Empty(201) : ProblemFor(status);
}

HttpResponse Api::LookupIdentifier(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {{"kind", FieldType::kString, true}, {"value", FieldType::kString, true}},
              &problem)) {
    return problem;
  }
  auto found = engine_.FindSubjects(body.String("kind"), body.String("value"), c.actor);
  if (!found.ok()) return ProblemFor(found.status());
  Json j;
  j.w().StartObject();
  j.Strings("subjects", *found);
  j.w().EndObject();
  return j.Done();
}

HttpResponse Api::AddEvent(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {{"event", FieldType::kString, true}, {"at", FieldType::kTime}}, &problem)) {
    return problem;
  }
  Status status =
      engine_.RecordEvent(c.Param("id"), body.String("event"), body.Time("at"), c.actor);
  return status.ok() ? Empty(201) : ProblemFor(status);
}

HttpResponse Api::PutRecord(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body,
              {{"category", FieldType::kString, true},
               {"value", FieldType::kString, true},
               {"source", FieldType::kString, true},
               {"purpose", FieldType::kString, true},
               {"at", FieldType::kTime}},
              &problem)) {
    return problem;
  }
  engine::NewRecord request{c.Param("id"),
                            body.String("category"),
                            body.String("value"),
                            body.String("source"),
                            body.String("purpose"),
                            body.Time("at"),
                            c.actor};
  if (!c.who->MayUsePurpose(request.purpose)) return Forbidden("purpose not on this token");
  if (!c.who->MayUseCategory(request.category)) return Forbidden("category not on this token");
  auto id = engine_.PutRecord(request);
  if (!id.ok()) return ProblemFor(id.status());
  Json j;
  j.w().StartObject();
  j.Field("record_id", *id);
  j.w().EndObject();
  return j.Done(201);
}

HttpResponse Api::ListRecords(Context& c) {
  const std::string* purpose = c.request.Query("purpose");
  auto view = engine_.ReadSubject(c.Param("id"), c.actor, purpose ? *purpose : "records_read");
  if (!view.ok()) return ProblemFor(view.status());
  Json j;
  auto& w = j.w();
  w.StartObject();
  j.Key("records");
  w.StartArray();
  for (const auto& r : view->records) {
    if (!c.who->MayUsePurpose(r.purpose) || !c.who->MayUseCategory(r.category)) continue;
    w.StartObject();
    j.Field("record_id", r.record_id);
    j.Field("category", r.category);
    j.Field("value", r.value);
    j.Field("source", r.source);
    j.Field("purpose", r.purpose);
    j.Field("collected_at", r.collected_at);
    j.Field("state", std::string(StateName(r.state)));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return j.Done();
}

HttpResponse Api::ChangeConsent(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body,
              {{"target", FieldType::kString, true},
               {"given", FieldType::kBool, true},
               {"cookie", FieldType::kBool},
               {"channel", FieldType::kString},
               {"evidence", FieldType::kString},
               {"notice_version", FieldType::kString},
               {"at", FieldType::kTime}},
              &problem)) {
    return problem;
  }
  engine::ConsentChangeRequest request;
  request.subject_id = c.Param("id");
  request.target = body.String("target");
  request.cookie = body.Bool("cookie");
  request.given = body.Bool("given");
  request.channel = body.String("channel", "api");
  request.evidence = body.String("evidence");
  request.notice_version = body.String("notice_version");
  request.at = body.Time("at");
  request.actor = c.actor;
  if (!request.cookie && !c.who->MayUsePurpose(request.target)) {
    return Forbidden("purpose not on this token");
  }
  Status status = engine_.ChangeConsent(request);
  return status.ok() ? Empty(201) : ProblemFor(status);
}

HttpResponse Api::ExportConsents(Context& c) {
  auto json = engine_.ExportConsentRecords(c.Param("id"), c.actor);
  if (!json.ok()) return ProblemFor(json.status());
  HttpResponse response;
  response.body = std::move(*json);
  return response;
}

HttpResponse Api::SetPreference(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {{"allowed", FieldType::kBool, true}, {"at", FieldType::kTime}}, &problem)) {
    return problem;
  }
  Status status = engine_.SetPreference(c.Param("id"), c.Param("channel"), body.Bool("allowed"),
                                        body.Time("at"), c.actor);
  return status.ok() ? Empty(200) : ProblemFor(status);
}

HttpResponse Api::Object(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {{"purpose", FieldType::kString, true}, {"at", FieldType::kTime}}, &problem)) {
    return problem;
  }
  std::string purpose = body.String("purpose");
  if (!c.who->MayUsePurpose(purpose)) return Forbidden("purpose not on this token");
  Status status = engine_.Object(c.Param("id"), purpose, body.Time("at"), c.actor);
  return status.ok() ? Empty(201) : ProblemFor(status);
}

HttpResponse Api::LiftObjection(Context& c) {
  Status status = engine_.LiftObjection(c.Param("id"), c.Param("purpose"), std::nullopt, c.actor);
  return status.ok() ? Empty(200) : ProblemFor(status);
}

HttpResponse Api::Restrict(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body,
              {{"categories", FieldType::kStrings},
               {"reason", FieldType::kString, true},
               {"at", FieldType::kTime}},
              &problem)) {
    return problem;
  }
  auto id = engine_.Restrict(c.Param("id"), body.Strings("categories"), body.String("reason"),
                             body.Time("at"), c.actor);
  if (!id.ok()) return ProblemFor(id.status());
  Json j;
  j.w().StartObject();
  j.Field("restriction_id", *id);
  j.w().EndObject();
  return j.Done(201);
}

HttpResponse Api::LiftRestriction(Context& c) {
  auto id = ParseId(c.Param("restriction_id"));
  if (!id) return ProblemFor(Status(ErrorCode::kNotFound, "no such restriction"));
  Status status = engine_.LiftRestriction(c.Param("id"), *id, std::nullopt, c.actor);
  return status.ok() ? Empty(200) : ProblemFor(status);
}

HttpResponse Api::Suppress(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body,
              {{"kind", FieldType::kString, true},
               {"value", FieldType::kString, true},
               {"reason", FieldType::kString},
               {"at", FieldType::kTime}},
              &problem)) {
    return problem;
  }
  Status status =
      engine_.Suppress(body.String("kind"), body.String("value"),
                       body.String("reason", "marketing_opt_out"), body.Time("at"), c.actor);
  return status.ok() ? Empty(201) : ProblemFor(status);
}

HttpResponse Api::Decide(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body,
              {{"subject_id", FieldType::kString, true},
               {"purpose", FieldType::kString, true},
               {"categories", FieldType::kStrings, true},
               {"channel", FieldType::kString},
               {"at", FieldType::kTime}},
              &problem)) {
    return problem;
  }
  engine::DecisionRequest request;
  request.subject_id = body.String("subject_id");
  request.purpose = body.String("purpose");
  request.categories = body.Strings("categories");
  request.channel = body.String("channel");
  request.at = body.Time("at").value_or(engine_.Now());
  request.actor = c.actor;
  if (!c.who->MayUsePurpose(request.purpose)) return Forbidden("purpose not on this token");
  for (const auto& category : request.categories) {
    if (!c.who->MayUseCategory(category)) return Forbidden("category not on this token");
  }
  engine::Decision decision = engine_.Decide(request);
  Json j;
  auto& w = j.w();
  w.StartObject();
  j.Field("allow", decision.allow);
  j.Field("basis", decision.basis);
  j.Field("at", decision.at);
  j.Key("reasons");
  w.StartArray();
  for (const auto& reason : decision.reasons) {
    w.StartObject();
    j.Field("code", std::string(CodeName(reason.code)));
    j.Field("detail", reason.detail);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return j.Done();
}

HttpResponse Api::PlanRetention(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {{"as_of", FieldType::kTime}}, &problem)) return problem;
  engine::RetentionOptions options;
  options.as_of = body.Time("as_of");
  options.actor = c.actor;
  auto report = engine_.PlanRetention(options);
  if (!report.ok()) return ProblemFor(report.status());
  Json j;
  WriteReport(j, *report, true);
  return j.Done();
}

HttpResponse Api::RunRetention(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {{"as_of", FieldType::kTime}}, &problem)) return problem;
  engine::RetentionOptions options;
  options.as_of = body.Time("as_of");
  options.actor = c.actor;
  auto report = engine_.RunRetention(options);
  if (!report.ok()) return ProblemFor(report.status());
  Json j;
  WriteReport(j, *report, false);
  return j.Done(201);
}

HttpResponse Api::ListHolds(Context&) {
  auto holds = engine_.ListLegalHolds();
  if (!holds.ok()) return ProblemFor(holds.status());
  Json j;
  auto& w = j.w();
  w.StartObject();
  j.Key("legal_holds");
  w.StartArray();
  for (const auto& h : *holds) {
    w.StartObject();
    j.Field("hold_id", h.hold_id);
    j.Field("subject_id", h.subject_id);
    j.Field("category", h.category);
    j.Field("reason", h.reason);
    j.Field("placed_at", h.placed_at);
    j.Field("expires_at", h.expires_at);
    j.Field("released_at", h.released_at);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return j.Done();
}

HttpResponse Api::PlaceHold(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body,
              {{"subject_id", FieldType::kString},
               {"category", FieldType::kString},
               {"reason", FieldType::kString, true},
               {"expires_at", FieldType::kTime},
               {"at", FieldType::kTime}},
              &problem)) {
    return problem;
  }
  engine::LegalHoldRequest request;
  request.subject_id = body.String("subject_id");
  request.category = body.String("category");
  request.reason = body.String("reason");
  request.expires_at = body.Time("expires_at");
  request.at = body.Time("at");
  request.actor = c.actor;
  auto id = engine_.PlaceLegalHold(request);
  if (!id.ok()) return ProblemFor(id.status());
  Json j;
  j.w().StartObject();
  j.Field("hold_id", *id);
  j.w().EndObject();
  return j.Done(201);
}

HttpResponse Api::ReleaseHold(Context& c) {
  auto id = ParseId(c.Param("hold_id"));
  if (!id) return ProblemFor(Status(ErrorCode::kNotFound, "no such legal hold"));
  Status status = engine_.ReleaseLegalHold(*id, std::nullopt, c.actor);
  return status.ok() ? Empty(200) : ProblemFor(status);
}

HttpResponse Api::ListReviewTasks(Context& c) {
  const std::string* all = c.request.Query("all");
  auto tasks = engine_.ListReviewTasks(!(all && *all == "true"));
  if (!tasks.ok()) return ProblemFor(tasks.status());
  Json j;
  auto& w = j.w();
  w.StartObject();
  j.Key("review_tasks");
  w.StartArray();
  for (const auto& t : *tasks) {
    w.StartObject();
    j.Field("task_id", t.task_id);
    j.Field("subject_id", t.subject_id);
    j.Field("rule_id", t.rule_id);
    j.Field("category", t.category);
    j.Field("due_at", t.due_at);
    j.Field("created_at", t.created_at);
    j.Field("done_at", t.done_at);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return j.Done();
}

HttpResponse Api::CompleteReviewTask(Context& c) {
  auto id = ParseId(c.Param("task_id"));
  if (!id) return ProblemFor(Status(ErrorCode::kNotFound, "no such review task"));
  Status status = engine_.CompleteReviewTask(*id, std::nullopt, c.actor);
  return status.ok() ? Empty(200) : ProblemFor(status);
}

HttpResponse Api::Aggregate(Context& c) {
  std::optional<int> threshold;
  if (const std::string* t = c.request.Query("threshold")) {
    auto value = ParseId(*t);
    if (!value || *value > 1000000) {
      return Problem(HttpProblem::kInvalidValue, "threshold must be a positive integer");
    }
    threshold = static_cast<int>(*value);
  }
  auto result = engine_.Aggregate(c.Param("category"), threshold, c.actor);
  if (!result.ok()) return ProblemFor(result.status());
  Json j;
  auto& w = j.w();
  w.StartObject();
  j.Field("category", result->category);
  j.Field("threshold", static_cast<int64_t>(result->threshold));
  j.Key("cells");
  w.StartArray();
  for (const auto& cell : result->cells) {
    w.StartObject();
    j.Field("category", cell.category);
    j.Field("value", cell.value);
    j.Field("count", cell.count);
    w.EndObject();
  }
  w.EndArray();
  j.Field("suppressed_cells", result->suppressed_cells);
  w.EndObject();
  return j.Done();
}

HttpResponse Api::VerifyAudit(Context&) {
  Status flushed = engine_.Flush();
  if (!flushed.ok()) return ProblemFor(flushed);
  auto result = engine::AuditLog::Verify(store_);
  if (!result.ok()) return ProblemFor(result.status());
  Json j;
  j.w().StartObject();
  j.Field("intact", !result->first_broken_seq.has_value());
  j.Field("entries_checked", result->entries_checked);
  if (result->first_broken_seq) {
    j.Field("first_broken_seq", *result->first_broken_seq);
    j.Field("problem", result->problem);
  }
  j.w().EndObject();
  return j.Done();
}

HttpResponse Api::SetTestClock(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {{"now", FieldType::kTime, true}}, &problem)) return problem;
  Timestamp now = *body.Time("now");
  test_clock_->Set(now);
  log_.Write("info", "test_clock_set", {{"now", now.ToString()}});
  Json j;
  j.w().StartObject();
  j.Field("now", now);
  j.w().EndObject();
  return j.Done();
}

}  // namespace custos::api
