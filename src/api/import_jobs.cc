#include "api/import_jobs.h"

#include "api/request_id.h"

namespace custos::api {

ImportJob::ImportJob(std::string id, std::string mapping, std::string actor, Timestamp started_at)
    : id_(std::move(id)) {
  snapshot_.id = id_;
  snapshot_.mapping = std::move(mapping);
  snapshot_.actor = std::move(actor);
  snapshot_.state = "running";
  snapshot_.started_at = started_at;
}

void ImportJob::Reject(engine::ImportRejection rejection) {
  std::lock_guard lock(mutex_);
  if (snapshot_.rejections.size() < kRejectionsKept) {
    snapshot_.rejections.push_back(std::move(rejection));
  }
}

void ImportJob::Progress(const engine::ImportTotals& totals) {
  std::lock_guard lock(mutex_);
  snapshot_.totals = totals;
}

void ImportJob::End(const engine::ImportTotals& totals, const Status& status, Timestamp at) {
  std::lock_guard lock(mutex_);
  snapshot_.totals = totals;
  snapshot_.state = status.ok() ? "done" : "failed";
  if (!status.ok()) snapshot_.error = status.message();
  snapshot_.ended_at = at;
}

bool ImportJob::running() const {
  std::lock_guard lock(mutex_);
  return !snapshot_.ended_at.has_value();
}

ImportJob::Snapshot ImportJob::Read() const {
  std::lock_guard lock(mutex_);
  return snapshot_;
}

std::shared_ptr<ImportJob> ImportJobs::Start(const std::string& mapping, const std::string& actor,
                                             Timestamp now) {
  auto job =
      std::make_shared<ImportJob>("imp_" + NewRequestId().substr(0, 24), mapping, actor, now);
  std::lock_guard lock(mutex_);
  jobs_.push_back(job);
  // The oldest ended job makes room; running jobs are never dropped.
  for (auto it = jobs_.begin(); jobs_.size() > kJobsKept && it != jobs_.end();) {
    it = (*it)->running() ? std::next(it) : jobs_.erase(it);
  }
  return job;
}

std::shared_ptr<const ImportJob> ImportJobs::Find(const std::string& id) const {
  std::lock_guard lock(mutex_);
  for (const auto& job : jobs_) {
    if (job->id() == id) return job;
  }
  return nullptr;
}

std::vector<ImportJob::Snapshot> ImportJobs::List() const {
  std::lock_guard lock(mutex_);
  std::vector<ImportJob::Snapshot> out;
  for (auto it = jobs_.rbegin(); it != jobs_.rend(); ++it) out.push_back((*it)->Read());
  return out;
}

}  // namespace custos::api
