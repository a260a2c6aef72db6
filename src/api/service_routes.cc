// The server's own routes: liveness (/healthz, /ping), readiness (/readyz), the Prometheus metrics
// (the request counters of Handle() plus the engine's write, audit, catch-up and cache figures and
// this process's outbox deliveries, what was built, and the process's memory, CPU time, descriptors
// and start time), the OpenAPI document built into the binary, and the test clock
// that exists only when the server was started with one. None reads or writes personal data.
#include <string>
#include <utility>

#include "api/handler_support.h"
#include "api/process_metrics.h"
#include "api/readiness.h"
#include "delivery/outbox_dispatcher.h"
#include "engine/audit_log.h"

namespace custos::api {

using internal::Json;
using internal::OneMember;

HttpResponse Api::Healthz(Context&) {
  Json j;
  j.w().StartObject();
  j.Field("status", std::string("ok"));
  j.Field("controller", engine_.controller());
  j.w().EndObject();
  return j.Done();
}

HttpResponse Api::Readyz(Context&) {
  // Buffered audit entries a failed flush left behind are tried again first: the server is
  // ready again as soon as they can be stored, not only at the flusher's next pass.
  if (!engine_.audit().Health().ok()) (void)engine_.Flush();
  Status ready = CheckReadiness(store_, &engine_.audit());
  if (!ready.ok()) return ProblemFor(ready);
  Json j;
  j.w().StartObject();
  j.Field("status", std::string("ready"));
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

namespace {
// One metric family of one sample: # HELP, # TYPE and the value.
void AppendMetric(std::string& out, const char* name, const char* type, const char* help,
                  const std::string& value) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
         name + " " + value + "\n";
}
}  // namespace

HttpResponse Api::MetricsText(Context&) {
  std::string extra;
  engine::AuditLog::Stats stats = engine_.audit().stats();
  AppendMetric(extra, "custos_writes_total", "counter",
               "Engine writes stored (each with its audit entries).",
               std::to_string(stats.commits));
  AppendMetric(extra, "custos_write_transactions_total", "counter",
               "Store transactions that carried them.", std::to_string(stats.groups));
  AppendMetric(extra, "custos_audit_buffered_entries", "gauge",
               "Audit entries (decisions, lookups) not yet written.",
               std::to_string(engine_.audit().buffered()));
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
  AppendMetric(extra, "custos_catch_up_changes_total", "counter",
               "Subject changes by other processes read from the audit chain.",
               std::to_string(catch_up.changes_by_others));
  AppendMetric(extra, "custos_catch_up_forgotten_total", "counter",
               "Cached subjects forgotten for them.", std::to_string(catch_up.subjects_forgotten));
  AppendMetric(extra, "custos_catch_up_seq", "gauge",
               "The last audit seq read for other processes' writes.",
               std::to_string(catch_up.through_seq));
  engine::SubjectCacheStats cache = engine_.subject_cache_stats();
  AppendMetric(extra, "custos_cached_subjects", "gauge", "Subjects held in the decision cache.",
               std::to_string(cache.entries));
  AppendMetric(extra, "custos_cached_subjects_limit", "gauge",
               "The most subjects the decision cache holds.", std::to_string(cache.capacity));
  AppendMetric(extra, "custos_subject_cache_hits_total", "counter",
               "Decision-cache lookups answered from memory.", std::to_string(cache.hits));
  AppendMetric(extra, "custos_subject_cache_misses_total", "counter",
               "Decision-cache lookups read from the store.", std::to_string(cache.misses));
  AppendMetric(extra, "custos_subject_cache_evictions_total", "counter",
               "Subjects evicted to keep the bound.", std::to_string(cache.evictions));
  HttpResponse response;
  response.content_type = "text/plain; version=0.0.4";
  extra += BuildInfoMetricText();
  extra += ProcessMetricsText();
  response.body = metrics_->Render(extra);
  return response;
}

HttpResponse Api::OpenApi(Context&) {
  HttpResponse response;
  response.body = std::string(OpenApiDocument());
  return response;
}

HttpResponse Api::SetTestClock(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {{"now", FieldType::kTime, true}}, &problem)) return problem;
  Timestamp now = *body.Time("now");
  test_clock_->Set(now);
  log_.Write("info", "test_clock_set", {{"now", now.ToString()}});
  return OneMember("now", now);
}

}  // namespace custos::api
