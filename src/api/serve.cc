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
#include "api/retention_schedule.h"
#include "api/server.h"
#include "delivery/outbox_dispatcher.h"
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
  auto session = !config.policy_path.empty()
                     ? deployment::Session::Init(config.deployment, config.policy_path)
                     : deployment::Session::Open(config.deployment);
  RETURN_IF_ERROR(session.status());
  engine::Engine& engine = (*session)->engine();
  RETURN_IF_ERROR(engine.LoadAllSubjects());
  TokenStore tokens(TokenPath(config.deployment.data_dir));
  RETURN_IF_ERROR(tokens.Load());
  ApiOptions api_options = config.api;
  api_options.test_clock = config.deployment.test_clock;
  api_options.checkpoint_path = (*session)->checkpoint_path();
  Api api(engine, (*session)->store(), tokens, log, api_options, (*session)->test_clock());
  HttpServerOptions http = config.http;
  http.answers_at_once = [](const HttpRequest& request) { return Api::AnswersAtOnce(request); };
  HttpServer server(
      http, [&api](HttpRequest& request) { return api.Handle(request); }, api.Draining());
  RETURN_IF_ERROR(server.Start());
  AuditFlusher flusher(engine, log);
  CheckpointSchedule checkpoints(engine, log, api_options.checkpoint_path,
                                 std::chrono::milliseconds(kCheckpointEveryMs));
  using std::chrono::milliseconds;
  std::optional<CatchUpSchedule> catch_up;
  if (config.refresh_every.count() > 0) catch_up.emplace(engine, log, config.refresh_every);
  std::optional<RetentionSchedule> sweeps;
  if (config.sweep_every.count() > 0) sweeps.emplace(engine, log, config.sweep_every);
  delivery::CurlWebhookSender sender;
  delivery::OutboxDispatcher dispatcher(engine, sender);
  std::optional<DeliverySchedule> deliveries;
  if (config.deliver_every.count() > 0) {
    deliveries.emplace(dispatcher, log, config.deliver_every);
  }
  std::string scheme = api_options.tls ? "https" : "http";
  log.Write("info", "listening",
            {{"controller", engine.controller()},
             {"port", std::to_string(server.port()), true},
             {"tls", api_options.tls ? "true" : "false", true},
             {"test_clock", api_options.test_clock ? "true" : "false", true},
             {"refresh_every_ms", std::to_string(config.refresh_every.count()), true},
             {"audit_decisions",
              engine.decision_audit() == engine::DecisionAudit::kDurable ? "durable" : "buffered"},
             {"subjects_cached", std::to_string(engine.cached_subjects()), true}});
  const std::string& host = config.http.host;
  out << "custos serve: listening on " << scheme << "://"
      << (host.find(':') != std::string::npos ? "[" + host + "]" : host) << ":" << server.port()
      << std::endl;

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  log.Write("info", "draining", {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
  int unfinished = server.Drain(config.drain);
  if (sweeps) sweeps->Stop();
  if (deliveries) deliveries->Stop();
  if (catch_up) catch_up->Stop();
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
