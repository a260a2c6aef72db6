// Metrics: request counts and latencies per route, rendered in Prometheus text format
// (exposition format 0.0.4) at /metrics. Labels are route patterns and status codes, never
// paths (which hold subject ids) or anything from a body.
// Thread-safety: Observe() is lock-free and safe from many threads.
#ifndef CUSTOS_API_METRICS_H_
#define CUSTOS_API_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace custos::api {

class Metrics {
 public:
  // `routes`: "METHOD pattern" labels, by route index. Index routes.size() counts requests that
  // matched no route.
  explicit Metrics(std::vector<std::string> routes);

  void Observe(size_t route, int status, double seconds);
  // Prometheus text for the counters, plus `extra` lines appended as they are.
  std::string Render(const std::string& extra) const;

 private:
  static constexpr std::array<int, 16> kStatuses = {200, 201, 204, 400, 401, 403, 404, 405,
                                                    409, 410, 413, 415, 422, 429, 500, 503};
  static constexpr std::array<double, 10> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                      0.025,  0.05,  0.1,    0.5,   1.0};
  struct PerRoute {
    std::array<std::atomic<int64_t>, kStatuses.size() + 1> by_status{};  // last: other
    std::array<std::atomic<int64_t>, kBuckets.size() + 1> buckets{};     // last: +Inf
    std::atomic<int64_t> micros_total{0};
  };
  std::vector<std::string> routes_;
  std::unique_ptr<PerRoute[]> per_route_;
};

}  // namespace custos::api

#endif  // CUSTOS_API_METRICS_H_
