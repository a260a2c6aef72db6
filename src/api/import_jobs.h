// Import jobs: a bulk import over HTTP (POST /v1/imports) is a job that another connection can
// follow while its body is still arriving (GET /v1/imports/{id}), and look back on after. What a
// job records names lines, reasons and counts, never a personal value. The last kJobsKept jobs
// are kept in memory, not across a restart: what a job imported is in the store, and sending
// the same body again skips it (ImportRun).
// Thread-safety: ImportJobs and ImportJob are safe for concurrent use.
#ifndef CUSTOS_API_IMPORT_JOBS_H_
#define CUSTOS_API_IMPORT_JOBS_H_

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "engine/import_run.h"

namespace custos::api {

class ImportJob {
 public:
  static constexpr size_t kRejectionsKept = 1000;  // the rest are counted

  struct Snapshot {
    std::string id, mapping, actor;
    std::string state;  // running, done, failed
    Timestamp started_at;
    std::optional<Timestamp> ended_at;
    engine::ImportTotals totals;
    std::vector<engine::ImportRejection> rejections;  // the first kRejectionsKept, by line
    std::string error;                                // failed: why (no personal value)
  };

  ImportJob(std::string id, std::string mapping, std::string actor, Timestamp started_at);

  void Reject(engine::ImportRejection rejection);
  void Progress(const engine::ImportTotals& totals);
  // The body has ended (or the import stopped with `status`).
  void End(const engine::ImportTotals& totals, const Status& status, Timestamp at);
  Snapshot Read() const;
  const std::string& id() const { return id_; }
  bool running() const;

 private:
  const std::string id_;
  mutable std::mutex mutex_;
  Snapshot snapshot_;
};

class ImportJobs {
 public:
  static constexpr size_t kJobsKept = 100;

  // A new running job with a fresh id ("imp_" and 24 hex digits).
  std::shared_ptr<ImportJob> Start(const std::string& mapping, const std::string& actor,
                                   Timestamp now);
  // Null when no job of that id is kept.
  std::shared_ptr<const ImportJob> Find(const std::string& id) const;
  // The jobs kept, the newest first.
  std::vector<ImportJob::Snapshot> List() const;

 private:
  mutable std::mutex mutex_;
  std::deque<std::shared_ptr<ImportJob>> jobs_;  // the oldest first
};

}  // namespace custos::api

#endif  // CUSTOS_API_IMPORT_JOBS_H_
