// The controller's accountability routes: the privacy notice, the policy as loaded, the record
// of processing activities (RoPA), all rendered from the one policy the engine runs, so they
// cannot say anything the policy does not; the verification of the audit log's keyed hash chain
// against the latest signed checkpoint, and that checkpoint with the key that signed it.
// No personal value is read or returned here.
#include <string>

#include "api/handler_support.h"
#include "crypto/hash_chain.h"
#include "deployment/checkpoint_file.h"
#include "engine/audit_log.h"
#include "policy/loader.h"
#include "policy/notice.h"
#include "policy/policy_diff.h"
#include "policy/ropa.h"

namespace custos::api {

using internal::Json;

HttpResponse Api::Notice(Context& c) {
  const std::string* format = c.request.Query("format");
  std::string f = format ? *format : "html";
  if (f != "html" && f != "md") {
    return Problem(HttpProblem::kInvalidValue, "format must be html or md");
  }
  HttpResponse response;
  response.content_type = f == "html" ? "text/html; charset=utf-8" : "text/markdown; charset=utf-8";
  response.body = policy::RenderNotice(
      engine_.policy(), f == "html" ? policy::NoticeFormat::kHtml : policy::NoticeFormat::kMarkdown,
      options_.notice_templates);
  return response;
}

HttpResponse Api::PolicyDocument(Context&) {
  auto row = store_.GetController(engine_.controller());
  if (!row.ok()) return ProblemFor(row.status());
  if (!row->has_value()) return ProblemFor(Status(ErrorCode::kNotFound, "no policy"));
  Json j;
  j.w().StartObject();
  j.Field("controller", (*row)->controller);
  j.Field("name", (*row)->name);
  j.Field("version", (*row)->policy_version);
  j.Field("loaded_at", (*row)->loaded_at);
  j.Field("text", (*row)->policy_text);
  j.w().EndObject();
  return j.Done();
}

// What a candidate policy would change against the one running: its differences, which are
// material and which purposes would need fresh consent. Nothing is loaded.
HttpResponse Api::PolicyDiff(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {{"policy", FieldType::kString, true}}, &problem)) return problem;
  policy::LoadOutcome candidate = policy::CheckPolicyText(body.String("policy"), "candidate.yaml");
  if (!candidate.ok()) {
    // The first problem's code (UNKNOWN_FIELD, YAML_SYNTAX, ...) and every problem at its line.
    return ProblemFor(Status(candidate.diagnostics.front().code, candidate.Report()));
  }
  HttpResponse response;
  response.body = policy::PolicyDiffJson(policy::DiffPolicies(engine_.policy(), candidate.policy));
  return response;
}

HttpResponse Api::Ropa(Context& c) {
  const std::string* format = c.request.Query("format");
  std::string f = format ? *format : "json";
  if (f != "json" && f != "csv")
    return Problem(HttpProblem::kInvalidValue, "format must be json or csv");
  HttpResponse response;
  if (f == "csv") {
    response.content_type = "text/csv; charset=utf-8";
    response.body = policy::RenderRopaCsv(engine_.policy());
  } else {
    response.body = policy::RenderRopaJson(engine_.policy());
  }
  return response;
}

HttpResponse Api::VerifyAudit(Context&) {
  Status flushed = engine_.Flush();
  if (!flushed.ok()) return ProblemFor(flushed);
  auto result = options_.checkpoint_path.empty()
                    ? engine_.VerifyAudit(std::nullopt)
                    : deployment::VerifyAudit(engine_, options_.checkpoint_path);
  if (!result.ok()) return ProblemFor(result.status());
  Json j;
  j.w().StartObject();
  j.Field("intact", result->intact());
  j.Field("entries_checked", result->entries_checked);
  if (result->unkeyed_entries > 0) j.Field("unkeyed_entries", result->unkeyed_entries);
  if (result->first_broken_seq) j.Field("first_broken_seq", *result->first_broken_seq);
  if (!result->intact()) j.Field("problem", result->problem);
  j.w().EndObject();
  return j.Done();
}

HttpResponse Api::GetAuditCheckpoint(Context&) {
  if (options_.checkpoint_path.empty()) {
    return ProblemFor(Status(ErrorCode::kNotFound, "this server keeps no audit checkpoint"));
  }
  auto kept = deployment::ReadCheckpointFile(options_.checkpoint_path);
  if (!kept.ok()) return ProblemFor(kept.status());
  if (!kept->has_value()) {
    return ProblemFor(Status(ErrorCode::kNotFound, "no audit checkpoint has been signed yet"));
  }
  const engine::AuditCheckpoint& checkpoint = **kept;
  Json j;
  j.w().StartObject();
  j.Field("controller", checkpoint.controller);
  j.Field("seq", checkpoint.seq);
  j.Field("hash", crypto::ToHex(checkpoint.hash));
  j.Field("at", checkpoint.at);
  j.Field("public_key", crypto::ToHex(checkpoint.public_key));
  j.Field("signature", crypto::ToHex(checkpoint.signature));
  j.Field("signed_message", engine::CheckpointMessage(checkpoint));
  j.Field("deployment_public_key", crypto::ToHex(engine_.CheckpointPublicKey()));
  j.w().EndObject();
  return j.Done();
}

}  // namespace custos::api
