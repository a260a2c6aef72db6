// `custos import --mapping FILE DATA...`: reads each export a row at a time, maps rows to people
// (engine/import.h) and hands them to Engine::ImportBatch a batch at a time; each batch is one
// transaction, so a killed import leaves whole batches and the same command run again skips
// them. Prints progress (a bar on a terminal, plain lines otherwise), then a summary; rejected
// rows go to a reject file as file, line and reason (never the row's values).
#include "cli/import_commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <ostream>
#include <sstream>

#include "cli/command_helpers.h"
#include "cli/commands.h"
#include "deployment/import_mappings.h"
#include "engine/import.h"
#include "engine/import_run.h"

namespace custos::cli {

namespace {

constexpr char kUsage[] =
    "import --mapping FILE [--rejects FILE] [--batch N] [--progress auto|bar|lines|none] "
    "DATA...";
constexpr size_t kRejectionsShown = 20;

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string Duration(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "--:--";
  auto total = static_cast<int64_t>(seconds + 0.5);
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", static_cast<long long>(total / 3600),
                  static_cast<long long>(total / 60 % 60), static_cast<long long>(total % 60));
  } else {
    std::snprintf(text, sizeof text, "%02lld:%02lld", static_cast<long long>(total / 60),
                  static_cast<long long>(total % 60));
  }
  return text;
}

// Progress of the whole import by bytes read (rows have no known count before the end).
class Progress {
 public:
  enum class Mode { kNone, kBar, kLines };
  Progress(Mode mode, int64_t total_bytes, std::ostream& err)
      : mode_(mode), total_(total_bytes), err_(err), start_(Clock::now()), last_(start_) {}

  void Update(int64_t rows, int64_t bytes, bool final) {
    if (mode_ == Mode::kNone) return;
    auto now = Clock::now();
    auto interval = mode_ == Mode::kBar ? std::chrono::milliseconds(200) : std::chrono::seconds(1);
    if (!final && now - last_ < interval) return;
    last_ = now;
    double elapsed = std::chrono::duration<double>(now - start_).count();
    double rate = elapsed > 0 ? static_cast<double>(rows) / elapsed : 0;
    double fraction = total_ > 0 ? std::min(1.0, static_cast<double>(bytes) / total_) : 1.0;
    double eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : -1;
    char line[160];
    if (mode_ == Mode::kBar) {
      constexpr int kWidth = 30;
      int filled = static_cast<int>(fraction * kWidth);
      std::string bar(filled, '#');
      bar.append(kWidth - filled, '.');
      std::snprintf(line, sizeof line, "\rimport [%s] %3d%% %lld rows, %.0f rows/s, ETA %s ",
                    bar.c_str(), static_cast<int>(fraction * 100), static_cast<long long>(rows),
                    rate, Duration(eta).c_str());
      err_ << line;
      if (final) err_ << "\n";
      err_ << std::flush;
    } else {
      std::snprintf(line, sizeof line, "import: %d%%, %lld rows, %.0f rows/s, ETA %s",
                    static_cast<int>(fraction * 100), static_cast<long long>(rows), rate,
                    Duration(final ? 0 : eta).c_str());
      err_ << line << "\n" << std::flush;
    }
  }

 private:
  using Clock = std::chrono::steady_clock;
  Mode mode_;
  int64_t total_;
  std::ostream& err_;
  Clock::time_point start_, last_;
};

struct Rejection {
  std::string file;
  engine::ImportRejection row;
};

// Feeds each file's rows to one engine::ImportRun, writes the reject file (file, line, reason)
// and keeps the first rejections for the summary.
class Importer {
 public:
  Importer(deployment::Session& session, const engine::ImportMapping& mapping, int batch_size,
           std::string rejects_path, Progress& progress)
      : run_(session.engine(), mapping, batch_size, "cli:import",
             [this](engine::ImportRejection rejection) { return Rejected(std::move(rejection)); }),
        rejects_path_(std::move(rejects_path)),
        progress_(progress) {}

  // Imports one file. Errors: the store's (the batches before stay imported).
  Status File(const std::string& path, engine::RowReader& reader, int64_t bytes_before) {
    file_ = path;
    engine::ImportRow row;
    while (reader.Next(row)) {
      RETURN_IF_ERROR(run_.Add(row));
      if (run_.totals().rows % 256 == 0) {
        progress_.Update(run_.totals().rows, bytes_before + reader.bytes_read(), false);
      }
    }
    return run_.Flush();
  }

  // Writes the reject file's last lines.
  Status Close() {
    if (rejects_.is_open()) {
      rejects_.flush();
      if (!rejects_) return Status(ErrorCode::kIo, "cannot write the reject file " + rejects_path_);
    }
    return Status::Ok();
  }

  const engine::ImportTotals& totals() const { return run_.totals(); }
  const std::vector<Rejection>& shown() const { return shown_; }
  bool wrote_rejects() const { return rejects_.is_open(); }

 private:
  Status Rejected(engine::ImportRejection rejection) {
    if (!rejects_.is_open()) {
      rejects_.open(rejects_path_, std::ios::trunc);
      if (!rejects_) return Status(ErrorCode::kIo, "cannot write the reject file " + rejects_path_);
      rejects_ << "file,line,reason\n";
    }
    rejects_ << CsvField(file_) << "," << rejection.line << "," << CsvField(rejection.reason)
             << "\n";
    if (shown_.size() < kRejectionsShown) shown_.push_back({file_, std::move(rejection)});
    return Status::Ok();
  }

  engine::ImportRun run_;
  std::string rejects_path_;
  Progress& progress_;
  std::string file_;
  std::ofstream rejects_;
  std::vector<Rejection> shown_;
};

void PrintSummary(const Importer& importer, const std::string& rejects_path, bool json,
                  std::ostream& out) {
  const engine::ImportTotals& t = importer.totals();
  const std::vector<Rejection>& shown = importer.shown();
  const bool wrote_rejects = importer.wrote_rejects();
  if (json) {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    Int(w, "rows", t.rows);
    Int(w, "imported", t.imported);
    Int(w, "skipped", t.skipped);
    Int(w, "rejected", t.rejected);
    Int(w, "consents_withheld", t.consents_withheld);
    Int(w, "batches", t.batches);
    Key(w, "skipped_by_reason");
    w.StartObject();
    for (const auto& [reason, count] : t.skipped_by_reason) Int(w, reason, count);
    w.EndObject();
    Key(w, "rejections");
    w.StartArray();
    for (const auto& r : shown) {
      w.StartObject();
      Str(w, "file", r.file);
      Int(w, "line", r.row.line);
      Str(w, "reason", r.row.reason);
      w.EndObject();
    }
    w.EndArray();
    if (wrote_rejects) Str(w, "rejects_file", rejects_path);
    w.EndObject();
    out << buffer.GetString() << "\n";
    return;
  }
  out << "imported " << t.imported << ", skipped " << t.skipped << ", rejected " << t.rejected
      << " of " << t.rows << " rows\n";
  for (const auto& [reason, count] : t.skipped_by_reason) {
    out << "  skipped " << count << ": " << reason << "\n";
  }
  for (const auto& r : shown) {
    out << "  rejected " << r.file << ":" << r.row.line << ": " << r.row.reason << "\n";
  }
  if (t.rejected > static_cast<int64_t>(shown.size())) {
    out << "  ... and " << (t.rejected - static_cast<int64_t>(shown.size())) << " more rejected\n";
  }
  if (t.consents_withheld > 0) {
    out << "  consents withheld: " << t.consents_withheld
        << " (direct marketing, the person is on the suppression list)\n";
  }
  if (wrote_rejects) out << "  rejected rows listed in " << rejects_path << "\n";
}

}  // namespace

int ImportCommand(deployment::Session& s, const std::vector<std::string>& args, std::ostream& out,
                  std::ostream& err) {
  auto a = ParseArgs(args, {"--mapping", "--rejects", "--batch", "--progress"}, {});
  if (!a.ok() || a->Option("--mapping") == nullptr || a->positional.empty()) {
    return Usage(err, kUsage, a.status());
  }
  const std::string mapping_path = *a->Option("--mapping");
  auto read = deployment::ReadImportMapping(mapping_path, s.engine().policy());
  if (!read.ok()) return Fail(err, read.status());
  const engine::ImportMapping& mapping = *read;
  int batch_size = mapping.batch_size;
  if (const std::string* batch = a->Option("--batch")) {
    auto n = IdArgument(*batch, "--batch");
    if (!n.ok() || *n > 100000) {
      return Fail(err, Status(ErrorCode::kInvalidArgument,
                              "--batch must be a number of people from 1 to 100000"));
    }
    batch_size = static_cast<int>(*n);
  }
  Progress::Mode mode = Progress::Mode::kNone;
  std::string progress = a->Option("--progress") ? *a->Option("--progress") : "auto";
  if (progress == "auto") {
    // Only the real standard error gets progress unasked: a caller's stream wants the result.
    if (&err == &std::cerr) {
      mode = ::isatty(STDERR_FILENO) ? Progress::Mode::kBar : Progress::Mode::kLines;
    }
  } else if (progress == "bar") {
    mode = Progress::Mode::kBar;
  } else if (progress == "lines") {
    mode = Progress::Mode::kLines;
  } else if (progress != "none") {
    return Usage(err, kUsage,
                 Status(ErrorCode::kInvalidArgument, "--progress is auto, bar, lines or none"));
  }

  // Every file is checked before anything is imported.
  int64_t total_bytes = 0;
  std::vector<engine::ImportMapping::Format> formats;
  for (const auto& path : a->positional) {
    std::error_code ec;
    auto size = std::filesystem::file_size(path, ec);
    if (ec) return Fail(err, Status(ErrorCode::kIo, "cannot read the data file " + path));
    total_bytes += static_cast<int64_t>(size);
    auto format = mapping.format;
    if (format == engine::ImportMapping::Format::kByExtension) {
      std::string ext = std::filesystem::path(path).extension().string();
      if (ext == ".csv" || ext == ".tsv") {
        format = engine::ImportMapping::Format::kCsv;
      } else if (ext == ".jsonl" || ext == ".ndjson") {
        format = engine::ImportMapping::Format::kJsonLines;
      } else {
        return Fail(err, Status(ErrorCode::kInvalidArgument,
                                "cannot tell the format of " + path +
                                    " from its name; name it .csv or .jsonl, or write "
                                    "'format: csv' or 'format: jsonl' in the mapping"));
      }
    }
    formats.push_back(format);
  }
  std::string rejects_path =
      a->Option("--rejects") ? *a->Option("--rejects") : a->positional.front() + ".rejects.csv";

  Progress bar(mode, total_bytes, err);
  Importer importer(s, mapping, batch_size, rejects_path, bar);
  int64_t bytes_before = 0;
  for (size_t i = 0; i < a->positional.size(); ++i) {
    const std::string& path = a->positional[i];
    std::ifstream in(path, std::ios::binary);
    if (!in) return Fail(err, Status(ErrorCode::kIo, "cannot read the data file " + path));
    std::unique_ptr<engine::RowReader> reader;
    if (formats[i] == engine::ImportMapping::Format::kCsv) {
      auto opened = engine::OpenCsvReader(in, mapping, mapping_path);
      if (!opened.ok()) {
        return Fail(err,
                    opened.status().code() == ErrorCode::kMappingInvalid
                        ? opened.status()
                        : Status(opened.status().code(), path + ": " + opened.status().message()));
      }
      reader = std::move(*opened);
    } else {
      reader = engine::OpenJsonLinesReader(in, mapping);
    }
    Status done = importer.File(path, *reader, bytes_before);
    if (!done.ok()) {
      (void)importer.Close();
      PrintSummary(importer, rejects_path, s.options().json, out);
      return Fail(err, Status(done.code(), done.message() +
                                               " (the batches before are imported; run the same "
                                               "command again to go on)"));
    }
    bytes_before += static_cast<int64_t>(std::filesystem::file_size(path));
  }
  bar.Update(importer.totals().rows, total_bytes, true);
  if (Status closed = importer.Close(); !closed.ok()) return Fail(err, closed);
  // A reject file left from an earlier run would describe rows this run imported.
  if (!importer.wrote_rejects()) {
    std::error_code ec;
    std::filesystem::remove(rejects_path, ec);
  }
  PrintSummary(importer, rejects_path, s.options().json, out);
  return kExitOk;
}

}  // namespace custos::cli
