#include "api/serve.h"

#include <signal.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <ostream>
#include <sstream>
#include <thread>

#include "api/auth.h"
#include "api/catch_up_schedule.h"
#include "api/http_server.h"
#include "api/log.h"
#include "api/outbox_dispatcher.h"
#include "api/retention_schedule.h"
#include "api/server.h"
#include "api/webhook_sender.h"
#include "cli/commands.h"
#include "crypto/api_token.h"

namespace custos::api {

namespace {

namespace fs = std::filesystem;

constexpr const char* kServeUsage =
    "usage: custos serve --data DIR [--policy FILE] [--listen HOST:PORT] [--tls-cert FILE "
    "--tls-key FILE] [--threads N] [--max-body BYTES] [--rate-limit PER_SECOND] "
    "[--address-rate-limit PER_SECOND] [--log-requests all|errors|none] [--test-clock] "
    "[--drain-seconds N] [--sweep-every SECONDS] [--deliver-every SECONDS] "
    "[--refresh-every MILLISECONDS]";
constexpr const char* kTokenUsage =
    "usage: custos --data DIR token create --role admin|dpo|staff|processor|subject "
    "[--purpose P]... [--controller C --category C...] [--subject ID] [--label TEXT] | "
    "token list | token revoke ID";

int Fail(std::ostream& err, const Status& status) {
  err << "custos: error " << CodeName(status.code()) << ": " << status.message() << "\n";
  return cli::ExitCodeFor(status);
}

std::string TokenPath(const cli::GlobalOptions& options) {
  return (fs::path(options.data_dir) / "tokens.jsonl").string();
}

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

// Writes buffered audit entries (decisions, lookups) every interval until stopped.
class AuditFlusher {
 public:
  AuditFlusher(engine::Engine& engine, JsonLog& log) : engine_(engine), log_(log) {
    thread_ = std::thread([this] { Run(); });
  }
  ~AuditFlusher() { Stop(); }
  void Stop() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      wake_.wait_for(lock, std::chrono::milliseconds(100));
      if (stop_) break;
      lock.unlock();
      if (engine_.audit().buffered() > 0) {
        Status flushed = engine_.Flush();
        if (!flushed.ok()) {
          log_.Write("error", "audit_flush_failed",
                     {{"code", std::string(CodeName(flushed.code()))}});
        }
      }
      lock.lock();
    }
  }

  engine::Engine& engine_;
  JsonLog& log_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

int RunServeCommand(cli::GlobalOptions options, const std::vector<std::string>& args,
                    std::ostream& out, std::ostream& err) {
  auto parsed = cli::ParseArgs(
      args,
      {"--data", "--policy", "--listen", "--tls-cert", "--tls-key", "--threads", "--max-body",
       "--rate-limit", "--address-rate-limit", "--log-requests", "--drain-seconds", "--sweep-every",
       "--deliver-every", "--refresh-every", "--master-key", "--controller", "--now"},
      {"--test-clock"});
  if (!parsed.ok() || !parsed->positional.empty()) {
    err << kServeUsage << "\n";
    return cli::kExitUsage;
  }
  const cli::Args& a = *parsed;
  if (const auto* v = a.Option("--data")) options.data_dir = *v;
  if (const auto* v = a.Option("--master-key")) options.master_key_path = *v;
  if (const auto* v = a.Option("--controller")) options.controller = *v;
  if (const auto* v = a.Option("--now")) {
    options.now = Timestamp::Parse(*v);
    if (!options.now) {
      err << "custos: --now is not an ISO-8601 time\n";
      return cli::kExitUsage;
    }
  }
  options.test_clock = a.Flag("--test-clock");

  HttpServerOptions http;
  std::string listen = a.Option("--listen") ? *a.Option("--listen") : "127.0.0.1:8080";
  auto colon = listen.rfind(':');
  double number = 0;
  if (colon == std::string::npos || !ParseNumber(listen.substr(colon + 1), &number) || number < 0 ||
      number > 65535) {
    err << "custos: --listen wants HOST:PORT, e.g. 127.0.0.1:8080\n";
    return cli::kExitUsage;
  }
  http.host = listen.substr(0, colon);
  http.port = static_cast<uint16_t>(number);
  ApiOptions api_options;
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
  };
  for (const auto& n : numbers) {
    if (const auto* v = a.Option(n.name)) {
      if (!ParseNumber(*v, &number) || number < n.min || number > n.max) {
        err << "custos: " << n.name << " is out of range\n";
        return cli::kExitUsage;
      }
      n.set(number);
    }
  }
  // Retention runs by itself: at start, then every --sweep-every seconds (0: never).
  double sweep_seconds = 3600;
  if (const auto* v = a.Option("--sweep-every")) {
    if (!ParseNumber(*v, &sweep_seconds) || sweep_seconds < 0) {
      err << "custos: --sweep-every must be a number of seconds (0: no scheduled sweep)\n";
      return cli::kExitUsage;
    }
  }
  // The outbox is delivered by itself: at start, then every --deliver-every seconds (0: never;
  // `custos outbox deliver` then does it by hand).
  double deliver_seconds = 10;
  if (const auto* v = a.Option("--deliver-every")) {
    if (!ParseNumber(*v, &deliver_seconds) || deliver_seconds < 0) {
      err << "custos: --deliver-every must be a number of seconds (0: no scheduled delivery)\n";
      return cli::kExitUsage;
    }
  }
  // Other processes' writes (another server over the same database, a CLI) reach this one's
  // decisions within about --refresh-every milliseconds (0: never; one process alone needs none).
  double refresh_millis = 200;
  if (const auto* v = a.Option("--refresh-every")) {
    if (!ParseNumber(*v, &refresh_millis) || refresh_millis < 0) {
      err << "custos: --refresh-every must be a number of milliseconds (0: no catching up with "
             "other processes)\n";
      return cli::kExitUsage;
    }
  }
  double drain_seconds = 30;
  if (const auto* v = a.Option("--drain-seconds")) {
    if (!ParseNumber(*v, &drain_seconds) || drain_seconds < 0) {
      err << "custos: --drain-seconds must be a number of seconds\n";
      return cli::kExitUsage;
    }
  }
  if (const auto* v = a.Option("--log-requests")) {
    if (*v == "all") {
      api_options.request_log = ApiOptions::RequestLog::kAll;
    } else if (*v == "errors") {
      api_options.request_log = ApiOptions::RequestLog::kErrors;
    } else if (*v == "none") {
      api_options.request_log = ApiOptions::RequestLog::kNone;
    } else {
      err << kServeUsage << "\n";
      return cli::kExitUsage;
    }
  }
  if ((a.Option("--tls-cert") == nullptr) != (a.Option("--tls-key") == nullptr)) {
    err << "custos: --tls-cert and --tls-key go together\n";
    return cli::kExitUsage;
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
  api_options.test_clock = options.test_clock;

  // Every thread started from here on inherits the blocked signals; this one waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  JsonLog log(stderr);
  auto session = a.Option("--policy") ? cli::Session::Init(options, *a.Option("--policy"))
                                      : cli::Session::Open(options);
  if (!session.ok()) return Fail(err, session.status());
  engine::Engine& engine = (*session)->engine();
  Status warmed = engine.LoadAllSubjects();
  if (!warmed.ok()) return Fail(err, warmed);
  TokenStore tokens(TokenPath(options));
  Status loaded = tokens.Load();
  if (!loaded.ok()) return Fail(err, loaded);
  Api api(engine, (*session)->store(), tokens, log, api_options, (*session)->test_clock());
  HttpServer server(
      http, [&api](HttpRequest& request) { return api.Handle(request); }, Api::Draining());
  Status started = server.Start();
  if (!started.ok()) return Fail(err, started);
  AuditFlusher flusher(engine, log);
  std::optional<CatchUpSchedule> catch_up;
  if (refresh_millis > 0) {
    catch_up.emplace(
        engine, log,
        std::chrono::milliseconds(std::max<int64_t>(1, static_cast<int64_t>(refresh_millis))));
  }
  std::optional<RetentionSchedule> sweeps;
  if (sweep_seconds > 0) {
    sweeps.emplace(engine, log,
                   std::chrono::milliseconds(static_cast<int64_t>(sweep_seconds * 1000)));
  }
  CurlWebhookSender sender;
  OutboxDispatcher dispatcher(engine, sender);
  std::optional<DeliverySchedule> deliveries;
  if (deliver_seconds > 0) {
    deliveries.emplace(dispatcher, log,
                       std::chrono::milliseconds(
                           std::max<int64_t>(1, static_cast<int64_t>(deliver_seconds * 1000))));
  }
  std::string scheme = api_options.tls ? "https" : "http";
  log.Write("info", "listening",
            {{"controller", engine.controller()},
             {"port", std::to_string(server.port()), true},
             {"tls", api_options.tls ? "true" : "false", true},
             {"test_clock", api_options.test_clock ? "true" : "false", true},
             {"refresh_every_ms", std::to_string(static_cast<int64_t>(refresh_millis)), true},
             {"subjects_cached", std::to_string(engine.cached_subjects()), true}});
  out << "custos serve: listening on " << scheme << "://" << http.host << ":" << server.port()
      << std::endl;

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  log.Write("info", "draining", {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
  int unfinished =
      server.Drain(std::chrono::milliseconds(static_cast<int64_t>(drain_seconds * 1000)));
  if (sweeps) sweeps->Stop();
  if (deliveries) deliveries->Stop();
  if (catch_up) catch_up->Stop();
  flusher.Stop();
  Status flushed = engine.Flush();
  log.Write(flushed.ok() && unfinished == 0 ? "info" : "error", "stopped",
            {{"unfinished_requests", std::to_string(unfinished), true},
             {"audit_flushed", flushed.ok() ? "true" : "false", true}});
  session->reset();  // commits every queued batch before returning
  return flushed.ok() ? cli::kExitOk : cli::kExitIo;
}

int RunTokenCommand(const cli::GlobalOptions& options, const std::vector<std::string>& args,
                    std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    err << kTokenUsage << "\n";
    return cli::kExitUsage;
  }
  if (options.data_dir.empty() || !fs::is_directory(options.data_dir)) {
    err << "custos: token needs --data DIR (an initialised data directory)\n";
    return cli::kExitUsage;
  }
  TokenStore tokens(TokenPath(options));
  Status loaded = tokens.Load();
  if (!loaded.ok()) return Fail(err, loaded);
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "list") {
    for (const auto& record : tokens.List()) {
      const Principal& p = record.principal;
      out << p.token_id << " " << RoleName(p.role);
      for (const auto& purpose : p.purposes) out << " purpose=" << purpose;
      if (!p.controller.empty()) out << " controller=" << p.controller;
      for (const auto& category : p.categories) out << " category=" << category;
      if (!p.subject_id.empty()) out << " subject=" << p.subject_id;
      if (!record.label.empty()) out << " label=" << record.label;
      out << " created=" << record.created_at;
      if (!record.revoked_at.empty()) out << " revoked=" << record.revoked_at;
      out << "\n";
    }
    return cli::kExitOk;
  }
  if (args[0] == "revoke") {
    if (rest.size() != 1) {
      err << kTokenUsage << "\n";
      return cli::kExitUsage;
    }
    // The id, or the whole token (whoever holds it may revoke it): never echoed back.
    std::optional<std::string_view> in_token = crypto::ApiTokenId(rest[0]);
    std::string id = in_token ? std::string(*in_token) : rest[0];
    Status revoked = tokens.Revoke(id, SystemClock().Now().ToString());
    if (!revoked.ok()) return Fail(err, revoked);
    out << "revoked " << id << " (a running server refuses it within a second)\n";
    return cli::kExitOk;
  }
  auto parsed = cli::ParseArgs(
      rest, {"--role", "--purpose", "--controller", "--category", "--subject", "--label"}, {});
  if (args[0] != "create" || !parsed.ok() || !parsed->positional.empty() ||
      !parsed->Option("--role")) {
    err << kTokenUsage << "\n";
    return cli::kExitUsage;
  }
  auto role = RoleFromName(*parsed->Option("--role"));
  if (!role) {
    err << kTokenUsage << "\n";
    return cli::kExitUsage;
  }
  Principal scope;
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
  return cli::kExitOk;
}

}  // namespace custos::api
