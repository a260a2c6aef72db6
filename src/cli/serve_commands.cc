// `custos serve` and `custos token`: the server's options parsed into an api::ServeConfig, and
// the API tokens made, listed and revoked (DIR/tokens.jsonl through api::TokenStore).
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <ostream>
#include <sstream>

#include "api/auth.h"
#include "api/serve.h"
#include "cli/command_helpers.h"
#include "cli/commands.h"
#include "crypto/api_token.h"
#include "policy/notice.h"

namespace custos::cli {

namespace {

constexpr const char* kServeUsage =
    "usage: custos serve --data DIR [--policy FILE] [--listen HOST:PORT] [--tls-cert FILE "
    "--tls-key FILE] [--threads N] [--max-body BYTES] [--rate-limit PER_SECOND] "
    "[--address-rate-limit PER_SECOND] [--connections-per-address N] [--request-deadline SECONDS] "
    "[--log-requests all|errors|none] "
    "[--log-level debug|info|warn|error] [--metrics-token-file FILE] [--metrics-allow CIDR,...] "
    "[--test-clock] "
    "[--drain-seconds N] [--sweep-every SECONDS] [--deliver-every SECONDS] [--mail FILE] "
    "[--refresh-every MILLISECONDS] [--audit-decisions durable|buffered] [--cache-people N] "
    "[--wait-for-database SECONDS] "
    "[--centre-path PATH|none] [--notice-templates DIR] [--demo-site] [--import-mappings DIR]";
constexpr const char* kTokenUsage =
    "usage: custos --data DIR token create --role admin|dpo|staff|processor|subject "
    "[--purpose P]... [--controller C --category C...] [--subject ID] [--label TEXT] | "
    "token list | token revoke ID";

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(ErrorCode::kIo, "cannot read " + path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

bool ParseNumber(const std::string& text, double* out) {
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return !text.empty() && end != nullptr && *end == '\0';
}

}  // namespace

int RunServeCommand(deployment::Options options, const std::vector<std::string>& args,
                    std::ostream& out, std::ostream& err) {
  auto parsed = ParseArgs(args,
                          {"--data",
                           "--policy",
                           "--listen",
                           "--tls-cert",
                           "--tls-key",
                           "--threads",
                           "--max-body",
                           "--rate-limit",
                           "--address-rate-limit",
                           "--connections-per-address",
                           "--request-deadline",
                           "--log-requests",
                           "--drain-seconds",
                           "--sweep-every",
                           "--deliver-every",
                           "--mail",
                           "--refresh-every",
                           "--master-key",
                           "--controller",
                           "--now",
                           "--log-level",
                           "--metrics-token-file",
                           "--metrics-allow",
                           "--audit-decisions",
                           "--centre-path",
                           "--cache-people",
                           "--wait-for-database",
                           "--notice-templates",
                           "--import-mappings"},
                          {"--test-clock", "--demo-site"});
  if (!parsed.ok() || !parsed->positional.empty()) {
    err << kServeUsage << "\n";
    return kExitUsage;
  }
  const Args& a = *parsed;
  if (const auto* v = a.Option("--data")) options.data_dir = *v;
  if (const auto* v = a.Option("--master-key")) options.master_key_path = *v;
  if (const auto* v = a.Option("--controller")) options.controller = *v;
  if (const auto* v = a.Option("--now")) {
    options.now = Timestamp::Parse(*v);
    if (!options.now) {
      err << "custos: --now is not an ISO-8601 time\n";
      return kExitUsage;
    }
  }
  options.test_clock = a.Flag("--test-clock");

  api::ServeConfig config;
  config.policy_path = a.Option("--policy") ? *a.Option("--policy") : "";
  api::HttpServerOptions& http = config.http;
  std::string listen = a.Option("--listen") ? *a.Option("--listen") : "127.0.0.1:8080";
  // HOST:PORT, with an IPv6 address in brackets ([::1]:8080).
  std::string host, port;
  if (!listen.empty() && listen.front() == '[') {
    auto close = listen.find("]:");
    if (close != std::string::npos) {
      host = listen.substr(1, close - 1);
      port = listen.substr(close + 2);
    }
  } else if (auto colon = listen.rfind(':'); colon != std::string::npos) {
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  double number = 0;
  if (host.empty() || (host.find(':') != std::string::npos && listen.front() != '[') ||
      !ParseNumber(port, &number) || number < 0 || number > 65535) {
    err << "custos: --listen wants HOST:PORT, e.g. 127.0.0.1:8080, localhost:8080 or [::1]:8080\n";
    return kExitUsage;
  }
  http.host = host;
  http.port = static_cast<uint16_t>(number);
  api::ApiOptions& api_options = config.api;
  struct NumberOption {
    const char* name;
    double min, max;
    std::function<void(double)> set;
  };
  const NumberOption numbers[] = {
      {"--threads", 1, 1024, [&](double v) { http.threads = static_cast<unsigned>(v); }},
      {"--max-body", 64, 64 << 20, [&](double v) { http.max_body_bytes = static_cast<size_t>(v); }},
      {"--rate-limit", 0, 1e9, [&](double v) { api_options.token_rate = v; }},
      {"--address-rate-limit", 0, 1e9, [&](double v) { api_options.address_rate = v; }},
      // One client address holds at most this many connections at once (0: no limit, e.g.
      // behind a proxy that is the only client).
      {"--connections-per-address", 0, 4096,
       [&](double v) { http.per_address_connections = static_cast<unsigned>(v); }},
      // A request's head and body must arrive within this many seconds (0: no deadline).
      {"--request-deadline", 0, 3600,
       [&](double v) { http.request_deadline_seconds = static_cast<unsigned>(v); }},
  };
  for (const auto& n : numbers) {
    if (const auto* v = a.Option(n.name)) {
      if (!ParseNumber(*v, &number) || number < n.min || number > n.max) {
        err << "custos: " << n.name << " is out of range\n";
        return kExitUsage;
      }
      n.set(number);
    }
  }
  // The privacy centre's pages: at "/" unless moved ("/privacy") or turned off ("none").
  if (const auto* v = a.Option("--centre-path")) {
    bool shaped =
        *v == "none" || (!v->empty() && v->front() == '/' && v->find("//") == std::string::npos &&
                         v->find_first_of("?#%\\ ") == std::string::npos);
    if (!shaped || v->starts_with("/v1") || v->starts_with("/.well-known")) {
      err << "custos: --centre-path wants a path such as /privacy (not under /v1), or none\n";
      return kExitUsage;
    }
    api_options.centre_path = *v == "none" ? "" : *v;
  }
  // An example page of the organisation's site embedding the cookie banner (make run).
  api_options.demo_site = a.Flag("--demo-site");
  // The organisation's own layout of the notice (GET /v1/notice and the centre's notice page).
  if (const auto* v = a.Option("--notice-templates")) {
    auto templates = policy::LoadNoticeTemplates(*v);
    if (!templates.ok()) {
      err << "custos: --notice-templates: " << templates.status().message() << "\n";
      return ExitCodeFor(templates.status());
    }
    api_options.notice_templates = std::move(*templates);
  }
  // Retention runs by itself: at start, then every --sweep-every seconds (0: never).
  double sweep_seconds = 3600;
  if (const auto* v = a.Option("--sweep-every")) {
    if (!ParseNumber(*v, &sweep_seconds) || sweep_seconds < 0) {
      err << "custos: --sweep-every must be a number of seconds (0: no scheduled sweep)\n";
      return kExitUsage;
    }
  }
  // The outbox is delivered by itself: at start, then every --deliver-every seconds (0: never;
  // `custos outbox deliver` then does it by hand).
  double deliver_seconds = 10;
  if (const auto* v = a.Option("--deliver-every")) {
    if (!ParseNumber(*v, &deliver_seconds) || deliver_seconds < 0) {
      err << "custos: --deliver-every must be a number of seconds (0: no scheduled delivery)\n";
      return kExitUsage;
    }
  }
  // Other processes' writes (another server over the same database, a CLI) reach this one's
  // decisions within about --refresh-every milliseconds (0: never; one process alone needs none).
  double refresh_millis = 200;
  if (const auto* v = a.Option("--refresh-every")) {
    if (!ParseNumber(*v, &refresh_millis) || refresh_millis < 0) {
      err << "custos: --refresh-every must be a number of milliseconds (0: no catching up with "
             "other processes)\n";
      return kExitUsage;
    }
  }
  // The decision cache's bound in people: memory stays flat however many there are.
  if (const auto* v = a.Option("--cache-people")) {
    double people = 0;
    if (!ParseNumber(*v, &people) || people < 1 || people > 1e9 ||
        people != static_cast<double>(static_cast<int64_t>(people))) {
      err << "custos: --cache-people must be a whole number of people from 1 to 1000000000\n";
      return kExitUsage;
    }
    config.cache_people = static_cast<size_t>(people);
  }
  // A database that cannot be reached at start is waited for, with backoff, this long.
  double wait_seconds = 30;
  if (const auto* v = a.Option("--wait-for-database")) {
    if (!ParseNumber(*v, &wait_seconds) || wait_seconds < 0 || wait_seconds > 86400) {
      err << "custos: --wait-for-database must be a number of seconds from 0 to 86400\n";
      return kExitUsage;
    }
  }
  config.wait_for_database = std::chrono::milliseconds(static_cast<int64_t>(wait_seconds * 1000));
  double drain_seconds = 30;
  if (const auto* v = a.Option("--drain-seconds")) {
    if (!ParseNumber(*v, &drain_seconds) || drain_seconds < 0) {
      err << "custos: --drain-seconds must be a number of seconds\n";
      return kExitUsage;
    }
  }
  if (const auto* v = a.Option("--log-requests")) {
    if (*v == "all") {
      api_options.request_log = api::ApiOptions::RequestLog::kAll;
    } else if (*v == "errors") {
      api_options.request_log = api::ApiOptions::RequestLog::kErrors;
    } else if (*v == "none") {
      api_options.request_log = api::ApiOptions::RequestLog::kNone;
    } else {
      err << kServeUsage << "\n";
      return kExitUsage;
    }
  }
  if (const auto* v = a.Option("--log-level")) {
    auto level = api::LogLevelFromName(*v);
    if (!level || *v == "warning") {
      err << "custos: --log-level is one of debug, info, warn, error\n";
      return kExitUsage;
    }
    config.log_level = *level;
  }
  // /metrics: an admin token by default; a scrape token and/or an address allow-list open it to
  // a scraper (api/metrics_access.h).
  std::string scrape_token;
  if (const auto* v = a.Option("--metrics-token-file")) {
    auto text = ReadFile(*v);
    if (!text.ok()) return Fail(err, text.status());
    scrape_token = std::move(*text);
    while (!scrape_token.empty() && (scrape_token.back() == '\n' || scrape_token.back() == '\r')) {
      scrape_token.pop_back();
    }
    if (scrape_token.empty()) {
      err << "custos: --metrics-token-file holds no token\n";
      return kExitUsage;
    }
  }
  if (auto checked = api::MetricsAccess::Make(scrape_token, ""); !checked.ok()) {
    // What is wrong with the token, never the token itself.
    err << "custos: --metrics-token-file: " << checked.status().message() << "\n";
    return kExitUsage;
  }
  auto metrics_access = api::MetricsAccess::Make(
      scrape_token, a.Option("--metrics-allow") ? *a.Option("--metrics-allow") : "");
  if (!metrics_access.ok()) {
    err << "custos: --metrics-allow " << metrics_access.status().message() << "\n";
    return kExitUsage;
  }
  api_options.metrics_access = std::move(*metrics_access);
  // A decision is answered once its audit entry is committed (durable), unless the operator
  // trades that for speed (buffered: entries written about every 100 ms, lost on a crash).
  if (const auto* v = a.Option("--audit-decisions")) {
    if (*v == "durable") {
      options.decision_audit = engine::DecisionAudit::kDurable;
    } else if (*v == "buffered") {
      options.decision_audit = engine::DecisionAudit::kBuffered;
    } else {
      err << "custos: --audit-decisions is durable or buffered\n";
      return kExitUsage;
    }
  }
  if ((a.Option("--tls-cert") == nullptr) != (a.Option("--tls-key") == nullptr)) {
    err << "custos: --tls-cert and --tls-key go together\n";
    return kExitUsage;
  }
  if (a.Option("--tls-cert")) {
    auto cert = ReadFile(*a.Option("--tls-cert"));
    if (!cert.ok()) return Fail(err, cert.status());
    auto key = ReadFile(*a.Option("--tls-key"));
    if (!key.ok()) return Fail(err, key.status());
    http.tls_cert_pem = std::move(*cert);
    http.tls_key_pem = std::move(*key);
    api_options.tls = true;
  }

  using std::chrono::milliseconds;
  config.deployment = options;
  if (const auto* v = a.Option("--mail")) config.mail_config = *v;
  // Mappings for the bulk import over HTTP (POST /v1/imports?mapping=NAME), read at start.
  if (const auto* v = a.Option("--import-mappings")) config.import_mappings_dir = *v;
  config.sweep_every = milliseconds(static_cast<int64_t>(sweep_seconds * 1000));
  config.deliver_every =
      deliver_seconds > 0
          ? milliseconds(std::max<int64_t>(1, static_cast<int64_t>(deliver_seconds * 1000)))
          : milliseconds(0);
  config.refresh_every =
      refresh_millis > 0 ? milliseconds(std::max<int64_t>(1, static_cast<int64_t>(refresh_millis)))
                         : milliseconds(0);
  config.drain = milliseconds(static_cast<int64_t>(drain_seconds * 1000));
  Status served = api::Serve(config, out);
  if (!served.ok()) return Fail(err, served);
  return kExitOk;
}

int RunTokenCommand(const deployment::Options& options, const std::vector<std::string>& args,
                    std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    err << kTokenUsage << "\n";
    return kExitUsage;
  }
  // Tokens belong to an initialised data directory: never a token file in a stray folder.
  if (Status ready = deployment::CheckDataDirectory(options); !ready.ok()) return Fail(err, ready);
  api::TokenStore tokens(api::TokenPath(options.data_dir));
  Status loaded = tokens.Load();
  if (!loaded.ok()) return Fail(err, loaded);
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "list") {
    for (const auto& record : tokens.List()) {
      const api::Principal& p = record.principal;
      out << p.token_id << " " << api::RoleName(p.role);
      for (const auto& purpose : p.purposes) out << " purpose=" << purpose;
      if (!p.controller.empty()) out << " controller=" << p.controller;
      for (const auto& category : p.categories) out << " category=" << category;
      if (!p.subject_id.empty()) out << " subject=" << p.subject_id;
      if (!record.label.empty()) out << " label=" << record.label;
      out << " created=" << record.created_at;
      if (!record.revoked_at.empty()) out << " revoked=" << record.revoked_at;
      out << "\n";
    }
    return kExitOk;
  }
  if (args[0] == "revoke") {
    if (rest.size() != 1) {
      err << kTokenUsage << "\n";
      return kExitUsage;
    }
    // The id, or the whole token (whoever holds it may revoke it): never echoed back.
    std::optional<std::string_view> in_token = crypto::ApiTokenId(rest[0]);
    std::string id = in_token ? std::string(*in_token) : rest[0];
    Status revoked = tokens.Revoke(id, SystemClock().Now().ToString());
    if (!revoked.ok()) return Fail(err, revoked);
    out << "revoked " << id << " (a running server refuses it within a second)\n";
    return kExitOk;
  }
  auto parsed = ParseArgs(
      rest, {"--role", "--purpose", "--controller", "--category", "--subject", "--label"}, {});
  if (args[0] != "create" || !parsed.ok() || !parsed->positional.empty() ||
      !parsed->Option("--role")) {
    err << kTokenUsage << "\n";
    return kExitUsage;
  }
  auto role = api::RoleFromName(*parsed->Option("--role"));
  if (!role) {
    err << kTokenUsage << "\n";
    return kExitUsage;
  }
  api::Principal scope;
  scope.role = *role;
  for (const auto& [name, value] : parsed->options) {
    if (name == "--purpose") scope.purposes.push_back(value);
    if (name == "--category") scope.categories.push_back(value);
  }
  if (const auto* v = parsed->Option("--controller")) scope.controller = *v;
  if (const auto* v = parsed->Option("--subject")) scope.subject_id = *v;
  std::string label = parsed->Option("--label") ? *parsed->Option("--label") : "";
  auto token = tokens.Create(scope, label, SystemClock().Now().ToString());
  if (!token.ok()) return Fail(err, token.status());
  out << *token << "\n";
  return kExitOk;
}

}  // namespace custos::cli
