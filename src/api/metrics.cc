#include "api/metrics.h"

#include <cstdio>

namespace custos::api {

Metrics::Metrics(std::vector<std::string> routes)
    : routes_(std::move(routes)), per_route_(new PerRoute[routes_.size() + 1]) {
  routes_.push_back("unmatched");
}

void Metrics::Observe(size_t route, int status, double seconds) {
  if (route >= routes_.size()) route = routes_.size() - 1;
  PerRoute& r = per_route_[route];
  size_t s = 0;
  while (s < kStatuses.size() && kStatuses[s] != status) ++s;
  r.by_status[s].fetch_add(1, std::memory_order_relaxed);
  size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  r.buckets[b].fetch_add(1, std::memory_order_relaxed);
  r.micros_total.fetch_add(static_cast<int64_t>(seconds * 1e6), std::memory_order_relaxed);
}

std::string Metrics::Render(const std::string& extra) const {
  std::string out;
  out += "# HELP custos_http_requests_total HTTP requests by route and status.\n";
  out += "# TYPE custos_http_requests_total counter\n";
  for (size_t i = 0; i < routes_.size(); ++i) {
    for (size_t s = 0; s <= kStatuses.size(); ++s) {
      int64_t n = per_route_[i].by_status[s].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out += "custos_http_requests_total{route=\"" + routes_[i] + "\",status=\"" +
             (s < kStatuses.size() ? std::to_string(kStatuses[s]) : std::string("other")) + "\"} " +
             std::to_string(n) + "\n";
    }
  }
  out += "# HELP custos_http_request_duration_seconds Time to answer, by route.\n";
  out += "# TYPE custos_http_request_duration_seconds histogram\n";
  for (size_t i = 0; i < routes_.size(); ++i) {
    const PerRoute& r = per_route_[i];
    int64_t cumulative = 0;
    for (size_t b = 0; b <= kBuckets.size(); ++b) cumulative += r.buckets[b].load();
    if (cumulative == 0) continue;
    int64_t running = 0;
    for (size_t b = 0; b <= kBuckets.size(); ++b) {
      running += r.buckets[b].load(std::memory_order_relaxed);
      char le[32];
      if (b < kBuckets.size()) {
        std::snprintf(le, sizeof le, "%g", kBuckets[b]);
      } else {
        std::snprintf(le, sizeof le, "+Inf");
      }
      out += "custos_http_request_duration_seconds_bucket{route=\"" + routes_[i] + "\",le=\"" + le +
             "\"} " + std::to_string(running) + "\n";
    }
    char sum[64];
    std::snprintf(sum, sizeof sum, "%.6f", static_cast<double>(r.micros_total.load()) / 1e6);
    out += "custos_http_request_duration_seconds_sum{route=\"" + routes_[i] + "\"} " + sum + "\n";
    out += "custos_http_request_duration_seconds_count{route=\"" + routes_[i] + "\"} " +
           std::to_string(running) + "\n";
  }
  out += extra;
  return out;
}

}  // namespace custos::api
