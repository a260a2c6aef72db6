#include "api/process_metrics.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <vector>

#include "common/build_info.h"

namespace custos::api {

namespace {

std::string Slurp(const char* path) {
  std::ifstream in(path);
  if (!in) return "";
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The fields of /proc/self/stat after the command name (which may hold spaces and parentheses,
// so the text is read from the last ')'). fields[0] is field 3 of proc(5), "state".
std::vector<std::string> StatFields() {
  std::string stat = Slurp("/proc/self/stat");
  std::vector<std::string> fields;
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return fields;
  std::istringstream rest(stat.substr(close + 1));
  for (std::string field; rest >> field;) fields.push_back(field);
  return fields;
}

// Field `number` of proc(5)'s /proc/[pid]/stat (1-based, as the manual numbers them).
bool StatField(const std::vector<std::string>& fields, size_t number, double* out) {
  if (number < 3 || number - 3 >= fields.size()) return false;
  char* end = nullptr;
  *out = std::strtod(fields[number - 3].c_str(), &end);
  return end != nullptr && *end == '\0';
}

// Seconds since the epoch at which the machine booted (the btime line of /proc/stat).
bool BootTime(double* out) {
  std::istringstream stat(Slurp("/proc/stat"));
  for (std::string line; std::getline(stat, line);) {
    if (line.rfind("btime ", 0) == 0) {
      char* end = nullptr;
      *out = std::strtod(line.c_str() + 6, &end);
      return end != line.c_str() + 6;
    }
  }
  return false;
}

void Sample(std::string& out, const char* name, const char* type, const char* help, double value) {
  char number[64];
  std::snprintf(number, sizeof number, "%.17g", value);
  out += std::string("# HELP ") + name + " " + help + "\n";
  out += std::string("# TYPE ") + name + " " + type + "\n";
  out += std::string(name) + " " + number + "\n";
}

// Label values are the project's own version and commit; escaped as the format asks anyway.
std::string LabelValue(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string ProcessMetricsText() {
  std::string out;
  std::vector<std::string> fields = StatFields();
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  double utime = 0, stime = 0, start = 0, vsize = 0, rss = 0, boot = 0;
  if (ticks > 0 && StatField(fields, 14, &utime) && StatField(fields, 15, &stime)) {
    Sample(out, "process_cpu_seconds_total", "counter",
           "Total user and system CPU time spent in seconds.", (utime + stime) / ticks);
  }
  if (StatField(fields, 23, &vsize)) {
    Sample(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", vsize);
  }
  if (page > 0 && StatField(fields, 24, &rss)) {
    Sample(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
           rss * page);
  }
  std::error_code error;
  size_t fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", error), end; !error && it != end;
       it.increment(error)) {
    ++fds;
  }
  if (!error) {
    // The directory's own descriptor, open while it is read, is not counted.
    Sample(out, "process_open_fds", "gauge", "Number of open file descriptors.",
           static_cast<double>(fds > 0 ? fds - 1 : 0));
  }
  if (ticks > 0 && StatField(fields, 22, &start) && BootTime(&boot)) {
    Sample(out, "process_start_time_seconds", "gauge",
           "Start time of the process since unix epoch in seconds.", boot + start / ticks);
  }
  return out;
}

std::string BuildInfoMetricText() {
  return "# HELP custos_build_info The version and commit this server was built from.\n"
         "# TYPE custos_build_info gauge\n"
         "custos_build_info{version=\"" +
         LabelValue(BuildVersion()) + "\",commit=\"" + LabelValue(BuildCommit()) + "\"} 1\n";
}

}  // namespace custos::api
