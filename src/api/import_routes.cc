// Bulk import over HTTP, for integrations: POST /v1/imports?mapping=NAME takes a JSON Lines
// body (a CRM's export) and imports it with one of the mappings the server was started with
// (`serve --import-mappings DIR`), through the same ImportRun as `custos import`: the same
// mapping rules, a transaction per batch, people already imported skipped, suppression
// honoured. The body is streamed (HttpServerOptions::streams_body): each piece's complete lines
// are imported as it arrives, so memory holds a piece and a batch, whatever the body's size.
// The request is a job (api/import_jobs.h) that GET /v1/imports/{id} follows from another
// connection; the answer, once the body has ended, is the job's summary. The DPO's and admins'
// only. Rejections name lines and reasons, never values.
#include <string>

#include "api/handler_support.h"
#include "api/import_jobs.h"
#include "engine/import_run.h"

namespace custos::api {

namespace {

using internal::Json;

constexpr int kMaxBatch = 100000;

bool JsonLinesType(const std::string& content_type) {
  for (std::string_view type : {"application/x-ndjson", "application/jsonl",
                                "application/json-lines", "application/x-jsonlines"}) {
    if (IsMediaType(content_type, type)) return true;
  }
  return false;
}

void WriteJob(Json& j, const ImportJob::Snapshot& job, bool rejections) {
  auto& w = j.w();
  w.StartObject();
  j.Field("import_id", job.id);
  j.Field("mapping", job.mapping);
  j.Field("state", job.state);
  j.Field("started_at", job.started_at);
  j.Field("ended_at", job.ended_at);
  j.Field("rows", job.totals.rows);
  j.Field("imported", job.totals.imported);
  j.Field("skipped", job.totals.skipped);
  j.Field("rejected", job.totals.rejected);
  j.Field("consents_withheld", job.totals.consents_withheld);
  j.Field("batches", job.totals.batches);
  j.Key("skipped_by_reason");
  w.StartObject();
  for (const auto& [reason, count] : job.totals.skipped_by_reason) j.Field(reason.c_str(), count);
  w.EndObject();
  if (rejections) {
    j.Key("rejections");
    w.StartArray();
    for (const auto& r : job.rejections) {
      w.StartObject();
      j.Field("line", r.line);
      j.Field("reason", r.reason);
      w.EndObject();
    }
    w.EndArray();
  }
  if (!job.error.empty()) j.Field("error", job.error);
  w.EndObject();
}

// One import's body, line by line into an ImportRun; the job follows it after each piece.
class ImportStream final : public BodySink {
 public:
  ImportStream(engine::Engine& engine, std::shared_ptr<const engine::ImportMapping> mapping,
               int batch_size, const std::string& actor, std::shared_ptr<ImportJob> job)
      : engine_(engine),
        mapping_(std::move(mapping)),
        job_(std::move(job)),
        splitter_(*mapping_),
        run_(engine, *mapping_, batch_size, actor, [this](engine::ImportRejection rejection) {
          job_->Reject(std::move(rejection));
          return Status::Ok();
        }) {}

  bool Take(std::string_view piece) override {
    status_ = splitter_.Feed(piece, add_);
    job_->Progress(run_.totals());
    return status_.ok();
  }

  HttpResponse Finish() override {
    if (status_.ok()) status_ = splitter_.Finish(add_);
    if (status_.ok()) status_ = run_.Flush();
    job_->End(run_.totals(), status_, engine_.Now());
    if (!status_.ok()) {
      HttpResponse problem = ProblemFor(
          Status(status_.code(), status_.message() + " (import " + job_->id() +
                                     ": the batches before are imported; send the same body "
                                     "again to go on, what is imported is skipped)"));
      problem.headers.emplace_back("Location", "/v1/imports/" + job_->id());
      return problem;
    }
    Json j;
    WriteJob(j, job_->Read(), /*rejections=*/true);
    HttpResponse response = j.Done(201);
    response.headers.emplace_back("Location", "/v1/imports/" + job_->id());
    return response;
  }

 private:
  engine::Engine& engine_;
  std::shared_ptr<const engine::ImportMapping> mapping_;
  std::shared_ptr<ImportJob> job_;
  engine::JsonLinesSplitter splitter_;
  engine::ImportRun run_;
  const engine::JsonLinesSplitter::RowSink add_ = [this](engine::ImportRow& row) {
    return run_.Add(row);
  };
  Status status_;
};

}  // namespace

bool Api::StreamsBody(const HttpRequest& request) const {
  return request.method == "POST" && request.path == "/v1/imports";
}

HttpResponse Api::StartImport(Context& c) {
  std::string known;
  for (const auto& [name, mapping] : options_.import_mappings) {
    known += (known.empty() ? "" : ", ") + name;
  }
  if (known.empty()) known = "none (start the server with --import-mappings DIR)";
  const std::string* name = c.request.Query("mapping");
  if (name == nullptr) {
    return Problem(
        HttpProblem::kMissingField,
        "name the import mapping: POST /v1/imports?mapping=NAME; this server has: " + known);
  }
  auto found = options_.import_mappings.find(*name);
  if (found == options_.import_mappings.end()) {
    return Problem(HttpProblem::kInvalidValue,
                   "no import mapping of that name; this server has: " + known);
  }
  if (found->second->format == engine::ImportMapping::Format::kCsv) {
    return Problem(HttpProblem::kUnsupportedMedia,
                   "this mapping reads CSV; the API imports JSON Lines (send the CSV with "
                   "`custos import`, or use a mapping without 'format: csv')");
  }
  if (!JsonLinesType(c.request.content_type)) {
    return Problem(HttpProblem::kUnsupportedMedia,
                   "send the rows as JSON Lines, one object per line, with Content-Type: "
                   "application/x-ndjson");
  }
  int batch = found->second->batch_size;
  if (const std::string* text = c.request.Query("batch")) {
    char* end = nullptr;
    long n = std::strtol(text->c_str(), &end, 10);
    if (text->empty() || *end != '\0' || n < 1 || n > kMaxBatch) {
      return Problem(HttpProblem::kInvalidValue,
                     "batch must be a number of people from 1 to " + std::to_string(kMaxBatch));
    }
    batch = static_cast<int>(n);
  }
  auto job = import_jobs_->Start(*name, c.actor, engine_.Now());
  auto sink = std::make_shared<ImportStream>(engine_, found->second, batch, c.actor, job);
  if (!c.request.body_streamed) {
    // The whole body is here already (a caller without the streaming transport).
    sink->Take(c.request.body);
    return sink->Finish();
  }
  HttpResponse accepted;
  accepted.sink = std::move(sink);
  return accepted;
}

HttpResponse Api::GetImport(Context& c) {
  auto job = import_jobs_->Find(c.Param("id"));
  if (!job) {
    return ProblemFor(
        Status(ErrorCode::kNotFound, "no import job of that id; the server keeps its last " +
                                         std::to_string(ImportJobs::kJobsKept) +
                                         " jobs, not across a restart"));
  }
  Json j;
  WriteJob(j, job->Read(), /*rejections=*/true);
  return j.Done();
}

HttpResponse Api::ListImports(Context&) {
  Json j;
  auto& w = j.w();
  w.StartObject();
  j.Key("imports");
  w.StartArray();
  for (const auto& job : import_jobs_->List()) WriteJob(j, job, /*rejections=*/false);
  w.EndArray();
  w.EndObject();
  return j.Done();
}

}  // namespace custos::api
