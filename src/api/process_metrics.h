// The process's own metrics in Prometheus text format, under the names every Prometheus client
// library uses (process_resident_memory_bytes, process_virtual_memory_bytes,
// process_cpu_seconds_total, process_open_fds, process_start_time_seconds), read from
// /proc/self on Linux; and custos_build_info{version,commit} 1, which says what is running.
// A figure /proc does not give is left out, never made up.
// Thread-safety: safe from many threads (reads files, keeps no state).
#ifndef CUSTOS_API_PROCESS_METRICS_H_
#define CUSTOS_API_PROCESS_METRICS_H_

#include <string>

namespace custos::api {

// # HELP, # TYPE and the sample of each process metric /proc/self gives.
std::string ProcessMetricsText();
// # HELP, # TYPE and custos_build_info{version="0.1.0",commit="a11d0be"} 1.
std::string BuildInfoMetricText();

}  // namespace custos::api

#endif  // CUSTOS_API_PROCESS_METRICS_H_
