// Api: the HTTP adapter over the engine. Handle() turns one HttpRequest into one HttpResponse:
// route, authenticate, authorise, rate-limit, parse, call the same Engine functions the CLI
// calls, render JSON or problem+json, add the security headers, count and log.
//
// The route table (Routes()) is the one list of what the server serves, which roles may call
// each route, and the operation it implements; the OpenAPI document (src/api/openapi.json,
// served at /v1/openapi.json) lists the same set, and a test checks that.
// Handle() does no network I/O: tests call it directly; HttpServer calls it for real traffic.
// Thread-safety: Handle() is safe from many threads at once.
// PII: bodies and some responses hold personal values; they are never logged, and problem
// details name fields and subject ids only.
#ifndef CUSTOS_API_SERVER_H_
#define CUSTOS_API_SERVER_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/auth.h"
#include "api/http.h"
#include "api/log.h"
#include "api/metrics.h"
#include "api/metrics_access.h"
#include "api/rate_limit.h"
#include "common/time.h"
#include "deployment/import_mappings.h"
#include "engine/engine.h"
#include "policy/notice.h"
#include "store/store.h"

namespace custos::api {

struct ApiOptions {
  bool tls = false;          // adds Strict-Transport-Security
  bool test_clock = false;   // registers POST /v1/test/clock (REQUIRES a FixedClock)
  double token_rate = 1000;  // requests/s per token (<= 0: unlimited)
  double address_rate = 50;  // requests/s per client address on routes without a token
  enum class RequestLog { kNone, kErrors, kAll } request_log = RequestLog::kErrors;
  MetricsAccess metrics_access;  // who may read /metrics (default: admin tokens only)
  // The file holding the latest signed audit checkpoint (deployment/checkpoint_file.h), read by
  // the audit routes; empty: none is kept (verification checks the chain alone).
  std::string checkpoint_path;
  // Where the privacy centre's pages live ("/" or "/privacy"); empty: no pages are served.
  std::string centre_path = "/";
  bool demo_site = false;  // the centre also serves <centre>demo-site, embedding the banner
  // The organisation's own notice templates (policy/notice.h); empty: the defaults.
  policy::NoticeTemplates notice_templates;
  // The import mappings POST /v1/imports?mapping=NAME may use (serve --import-mappings DIR).
  deployment::ImportMappings import_mappings;
};

class Centre;
class ImportJobs;

// What the router knows about a route. `roles`: the token roles that may call it. `requester`:
// the person who made the rights request in the path ({id}) may call it with the secret that
// verifying the request gave them (Authorization: Bearer rq_...), checked by the engine.
// Neither (roles empty, requester false): no token needed, rate-limited per client address.
struct RouteInfo {
  std::string method, pattern, operation;
  std::vector<Role> roles;
  bool requester = false;
};

class Api {
 public:
  struct Context;
  using Handler = HttpResponse (Api::*)(Context&);

  // REQUIRES: everything outlives the Api; `test_clock` is the engine's clock when
  // options.test_clock is set.
  Api(engine::Engine& engine, store::Store& store, TokenStore& tokens, JsonLog& log,
      ApiOptions options, FixedClock* test_clock);
  ~Api();

  HttpResponse Handle(HttpRequest& request);
  std::vector<RouteInfo> Routes() const;
  // The response sent to requests that arrive while the server shuts down (with the security
  // headers every answer carries).
  HttpResponse Draining() const;
  // True for the requests Handle() answers without waiting on the store or a commit (GET
  // /ping and /healthz, the privacy centre's pages and assets written from the policy alone,
  // and decisions about people in the decision cache, whose answers are held rather than
  // waited for): the transport may run them on its polling thread.
  bool AnswersAtOnce(const HttpRequest& request) const;
  // True for the requests whose body Handle() takes as it arrives (a bulk import: POST
  // /v1/imports): the transport calls Handle() on their head, with body_streamed set, and
  // feeds the body to the sink of the answer (HttpResponse::sink).
  bool StreamsBody(const HttpRequest& request) const;

 private:
  struct Route;
  // What /metrics and the request log say of an answer, known when the request was handled.
  struct Sent {
    size_t route_index;
    std::string route, method, request_id, token_id;
    std::chrono::steady_clock::time_point start;
  };
  // Counts (and, as --log-requests says, logs) `response` as sent now for `sent`.
  void Account(const Sent& sent, const HttpResponse& response);
  void AddRoutes();
  void Add(const char* method, const char* pattern, const char* operation, std::vector<Role> roles,
           Handler handler, bool requester = false);
  // Checks the requester secret for the request in the path and calls `handler` as the
  // requester (request_routes.cc).
  HttpResponse AsRequester(Context& c, Handler handler);
  void Secure(HttpResponse& response, bool html) const;
  // A streamed body's sink, whose answer is secured, counted and logged as any other.
  class SentSink;

  // The handlers, one family per file. The server's own (service_routes.cc).
  HttpResponse Healthz(Context& c);
  HttpResponse Readyz(Context& c);
  HttpResponse Ping(Context& c);
  HttpResponse MetricsText(Context& c);
  HttpResponse OpenApi(Context& c);
  HttpResponse SetTestClock(Context& c);
  // The policy's documents and the audit chain (governance_routes.cc).
  HttpResponse Notice(Context& c);
  HttpResponse PolicyDocument(Context& c);
  HttpResponse Ropa(Context& c);
  HttpResponse VerifyAudit(Context& c);
  HttpResponse GetAuditCheckpoint(Context& c);
  // Subjects, identifiers, events, records (subject_routes.cc).
  HttpResponse CreateSubject(Context& c);
  HttpResponse GetSubject(Context& c);
  HttpResponse AddIdentifier(Context& c);
  HttpResponse LookupIdentifier(Context& c);
  HttpResponse AddEvent(Context& c);
  HttpResponse PutRecord(Context& c);
  HttpResponse ListRecords(Context& c);
  // Consents, preferences, objections, restrictions, suppressions, decisions
  // (consent_routes.cc).
  HttpResponse ChangeConsent(Context& c);
  HttpResponse ExportConsents(Context& c);
  HttpResponse SetPreference(Context& c);
  HttpResponse Object(Context& c);
  HttpResponse LiftObjection(Context& c);
  HttpResponse Restrict(Context& c);
  HttpResponse LiftRestriction(Context& c);
  HttpResponse Suppress(Context& c);
  HttpResponse Decide(Context& c);
  HttpResponse DecideForApplication(Context& c, bool asked_at,
                                    const engine::DecisionRequest& request);
  // Retention sweeps, legal holds, review tasks, aggregates (retention_routes.cc).
  HttpResponse PlanRetention(Context& c);
  HttpResponse RunRetention(Context& c);
  HttpResponse ListHolds(Context& c);
  HttpResponse PlaceHold(Context& c);
  HttpResponse ReleaseHold(Context& c);
  HttpResponse ListReviewTasks(Context& c);
  HttpResponse CompleteReviewTask(Context& c);
  HttpResponse Aggregate(Context& c);

  // Rights requests (request_routes.cc). The person: intake, verification, following.
  HttpResponse OpenRequest(Context& c);
  HttpResponse VerifyRequest(Context& c);
  HttpResponse ResendRequestCode(Context& c);
  HttpResponse RequestStatus(Context& c);
  HttpResponse RequestDocument(Context& c);
  HttpResponse RequestRecipients(Context& c);
  HttpResponse WithdrawRequest(Context& c);
  // Staff and the DPO.
  HttpResponse OpenStaffRequest(Context& c);
  HttpResponse ListRequests(Context& c);
  HttpResponse GetRequest(Context& c);
  HttpResponse VerifyRequestIdentity(Context& c);
  HttpResponse AwaitRequester(Context& c);
  HttpResponse RequesterAnswered(Context& c);
  HttpResponse ExtendRequest(Context& c);
  HttpResponse RefuseRequest(Context& c);
  HttpResponse FulfilRequest(Context& c);
  HttpResponse PurgeRequests(Context& c);
  HttpResponse SetEndpoint(Context& c);
  HttpResponse ListEndpoints(Context& c);
  HttpResponse ListOutbox(Context& c);
  // The breach register (breach_routes.cc).
  HttpResponse PolicyDiff(Context& c);        // governance_routes.cc
  HttpResponse RecordDisclosure(Context& c);  // subject_routes.cc
  HttpResponse ListBreaches(Context& c);
  HttpResponse RecordBreach(Context& c);
  HttpResponse GetBreach(Context& c);
  HttpResponse ChangeBreach(Context& c);
  HttpResponse TellPeopleOfBreach(Context& c);
  HttpResponse BreachReport(Context& c);
  // Bulk import of JSON Lines, streamed, and its jobs (import_routes.cc).
  HttpResponse StartImport(Context& c);
  HttpResponse GetImport(Context& c);
  HttpResponse ListImports(Context& c);
  // Third-party applications a controller authorises (application_routes.cc).
  HttpResponse AuthoriseApplication(Context& c);
  HttpResponse ListApplications(Context& c);
  HttpResponse RevokeApplication(Context& c);
  // The organisation's own systems (systems_routes.cc).
  HttpResponse CheckSystems(Context& c);
  HttpResponse SweepSystems(Context& c);
  HttpResponse PlanRequestInSystems(Context& c);
  HttpResponse WaiveSystem(Context& c);
  // The request's state after a step, as every step's route answers it.
  HttpResponse RequestStep(const Status& status, const std::string& request_id,
                           const std::string& actor, int http_status = 200);

  engine::Engine& engine_;
  store::Store& store_;
  TokenStore& tokens_;
  JsonLog& log_;
  const ApiOptions options_;
  FixedClock* test_clock_;
  std::vector<Route> routes_;
  std::unique_ptr<Metrics> metrics_;
  RateLimiter token_limiter_, address_limiter_;
  std::unique_ptr<Centre> centre_;
  std::unique_ptr<ImportJobs> import_jobs_;  // the privacy centre's pages (api/centre.h), or null
};

// The OpenAPI 3.1 document served at /v1/openapi.json (src/api/openapi.json, built in).
std::string_view OpenApiDocument();

}  // namespace custos::api

#endif  // CUSTOS_API_SERVER_H_
