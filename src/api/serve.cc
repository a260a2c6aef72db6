#include "api/serve.h"

#include <signal.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <ostream>
#include <thread>

#include "api/auth.h"
#include "api/catch_up_schedule.h"
#include "api/checkpoint_schedule.h"
#include "api/delivery_schedule.h"
#include "api/http_server.h"
#include "api/log.h"
#include "api/readiness.h"
#include "api/retention_schedule.h"
#include "api/server.h"
#include "delivery/outbox_dispatcher.h"
#include "delivery/smtp_sender.h"
#include "delivery/webhook_sender.h"

namespace custos::api {

namespace {

// How often the server signs a checkpoint of the audit chain's head (when it has grown).
constexpr int64_t kCheckpointEveryMs = 60 * 1000;

// Writes buffered audit entries (reads' and plans' entries; decisions and lookups with
// --audit-decisions buffered) every interval until stopped.
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

// PostgreSQL's notices become JSON log lines, never raw text on stderr.
JsonLog* notice_log = nullptr;
void LogDatabaseNotice(std::string_view severity, std::string_view message) {
  if (notice_log == nullptr) return;
  notice_log->Write("warn", "database_notice",
                    {{"severity", std::string(severity)}, {"message", std::string(message)}});
}

// Opens the deployment; while its database cannot be reached (STORE_UNAVAILABLE), tries again
// with backoff (0.25 s doubling to 2 s) until `wait` has passed. A SIGTERM or SIGINT meanwhile
// ends the wait (and start-up) at once.
Result<std::unique_ptr<deployment::Session>> OpenWaitingForDatabase(const ServeConfig& config,
                                                                    const sigset_t& signals,
                                                                    JsonLog& log) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point started = Clock::now();
  const Clock::time_point give_up = started + config.wait_for_database;
  std::chrono::milliseconds pause(250);
  for (int attempt = 1;; ++attempt) {
    auto session = !config.policy_path.empty()
                       ? deployment::Session::Init(config.deployment, config.policy_path)
                       : deployment::Session::Open(config.deployment);
    if (session.ok() || session.status().code() != ErrorCode::kUnavailable ||
        Clock::now() + pause > give_up) {
      if (session.ok() && attempt > 1) {
        auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
        log.Write("info", "database_available",
                  {{"outage_ms", std::to_string(waited.count()), true}});
      }
      return session;
    }
    if (attempt == 1) {
      log.Write("warn", "waiting_for_database",
                {{"code", std::string(CodeName(session.status().code()))},
                 {"wait_ms", std::to_string(config.wait_for_database.count()), true}});
    }
    timespec timeout{static_cast<time_t>(pause.count() / 1000),
                     static_cast<long>((pause.count() % 1000) * 1'000'000)};
    if (sigtimedwait(&signals, nullptr, &timeout) > 0) {
      return Status(ErrorCode::kUnavailable, "stopped while waiting for the database");
    }
    pause = std::min(pause * 2, std::chrono::milliseconds(2000));
  }
}

}  // namespace

Status Serve(const ServeConfig& config, std::ostream& out) {
  // Every thread started from here on inherits the blocked signals; this one waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  JsonLog log(stderr, config.log_level);
  notice_log = &log;
  deployment::SetDatabaseNoticeSink(&LogDatabaseNotice);
  auto session = OpenWaitingForDatabase(config, signals, log);
  RETURN_IF_ERROR(session.status());
  engine::Engine& engine = (*session)->engine();
  // People are read on first use, so start time does not grow with their number.
  engine.LimitCachedSubjects(config.cache_people);
  TokenStore tokens(TokenPath(config.deployment.data_dir));
  RETURN_IF_ERROR(tokens.Load());
  ApiOptions api_options = config.api;
  api_options.test_clock = config.deployment.test_clock;
  api_options.checkpoint_path = (*session)->checkpoint_path();
  if (!config.import_mappings_dir.empty()) {
    ASSIGN_OR_RETURN(api_options.import_mappings,
                     deployment::ReadImportMappings(config.import_mappings_dir, engine.policy()));
  }
  Api api(engine, (*session)->store(), tokens, log, api_options, (*session)->test_clock());
  HttpServerOptions http = config.http;
  http.answers_at_once = [&api](const HttpRequest& request) { return api.AnswersAtOnce(request); };
  http.streams_body = [&api](const HttpRequest& request) { return api.StreamsBody(request); };
  HttpServer server(
      http, [&api](HttpRequest& request) { return api.Handle(request); }, api.Draining());
  RETURN_IF_ERROR(server.Start());
  AuditFlusher flusher(engine, log);
  DatabaseWatch database_watch((*session)->store(), log, std::chrono::seconds(1));
  CheckpointSchedule checkpoints(engine, log, api_options.checkpoint_path,
                                 std::chrono::milliseconds(kCheckpointEveryMs));
  using std::chrono::milliseconds;
  std::optional<CatchUpSchedule> catch_up;
  if (config.refresh_every.count() > 0) catch_up.emplace(engine, log, config.refresh_every);
  std::optional<RetentionSchedule> sweeps;
  if (config.sweep_every.count() > 0) sweeps.emplace(engine, log, config.sweep_every);
  delivery::CurlWebhookSender sender;
  std::optional<delivery::SmtpSender> mail;
  if (!config.mail_config.empty()) {
    auto mail_config = delivery::LoadMailConfig(config.mail_config);
    RETURN_IF_ERROR(mail_config.status());
    mail.emplace(engine.policy(), std::move(*mail_config));
  }
  delivery::OutboxDispatcher dispatcher(engine, sender, mail ? &*mail : nullptr);
  std::optional<DeliverySchedule> deliveries;
  if (config.deliver_every.count() > 0) {
    deliveries.emplace(dispatcher, log, config.deliver_every);
  }
  // Held decisions' audit commits are led on the handler pool, from here to the drain
  // (AuditLog::RecordDurablyThen).
  engine.audit().SetLeadRunner(
      [&server](std::function<void()> job) { server.RunInPool(std::move(job)); });
  std::string scheme = api_options.tls ? "https" : "http";
  log.Write("info", "listening",
            {{"controller", engine.controller()},
             {"port", std::to_string(server.port()), true},
             {"tls", api_options.tls ? "true" : "false", true},
             {"test_clock", api_options.test_clock ? "true" : "false", true},
             {"refresh_every_ms", std::to_string(config.refresh_every.count()), true},
             {"audit_decisions",
              engine.decision_audit() == engine::DecisionAudit::kDurable ? "durable" : "buffered"},
             {"cache_people", std::to_string(config.cache_people), true}});
  const std::string& host = config.http.host;
  out << "custos serve: listening on " << scheme << "://"
      << (host.find(':') != std::string::npos ? "[" + host + "]" : host) << ":" << server.port()
      << std::endl;

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  log.Write("info", "draining", {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
  int unfinished = server.Drain(config.drain);
  engine.audit().SetLeadRunner(nullptr);  // commits are led by their callers again
  if (sweeps) sweeps->Stop();
  if (deliveries) deliveries->Stop();
  if (catch_up) catch_up->Stop();
  database_watch.Stop();
  flusher.Stop();
  Status flushed = engine.Flush();
  checkpoints.Stop();
  log.Write(flushed.ok() && unfinished == 0 ? "info" : "error", "stopped",
            {{"unfinished_requests", std::to_string(unfinished), true},
             {"audit_flushed", flushed.ok() ? "true" : "false", true}});
  session->reset();  // commits every queued batch before returning
  return flushed;
}

}  // namespace custos::api
