// The retention routes, the DPO's and admins' only: plan a sweep (what it would do, writing
// nothing) and run one (the same sweep the server's schedule runs), legal holds (list, place,
// release), the review tasks a sweep opens (list, mark done) and aggregates over anonymised
// and live data, with small cells suppressed. Reports and lists name subject ids, rules and
// categories, never personal values.
#include <optional>
#include <string>

#include "api/handler_support.h"

namespace custos::api {

namespace {

using internal::Empty;
using internal::Json;
using internal::OneMember;
using internal::ParseId;

void WriteReport(Json& j, const engine::RetentionReport& report, bool plan) {
  auto& w = j.w();
  w.StartObject();
  if (!plan) {
    j.Field("run_id", report.run_id);
    j.Field("resumed", report.resumed);
  }
  j.Field("as_of", report.as_of);
  j.Key("totals");
  w.StartObject();
  j.Field("subjects", report.totals.subjects);
  j.Field("deleted", report.totals.deleted);
  j.Field("anonymised", report.totals.anonymised);
  j.Field("reviews", report.totals.reviews);
  j.Field("held", report.totals.held);
  j.Field("erased", report.totals.erased);
  w.EndObject();
  j.Key("by_rule");
  w.StartObject();
  for (const auto& [rule, c] : report.by_rule) {
    j.Key(rule.c_str());
    w.StartObject();
    j.Field("deleted", c.deleted);
    j.Field("anonymised", c.anonymised);
    j.Field("reviews", c.reviews);
    j.Field("held", c.held);
    w.EndObject();
  }
  w.EndObject();
  j.Key("not_covered");
  w.StartObject();
  for (const auto& [category, count] : report.not_covered) j.Field(category.c_str(), count);
  w.EndObject();
  j.Field("not_due", report.not_due);
  w.EndObject();
}

// A plan and a run take the same body and answer the same report; a run also names itself
// (run_id, resumed) and answers 201, for it wrote.
HttpResponse Sweep(Api::Context& c, engine::Engine& engine, bool run) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {{"as_of", FieldType::kTime}}, &problem)) return problem;
  engine::RetentionOptions options;
  options.as_of = body.Time("as_of");
  options.actor = c.actor;
  auto report = run ? engine.RunRetention(options) : engine.PlanRetention(options);
  if (!report.ok()) return ProblemFor(report.status());
  Json j;
  WriteReport(j, *report, !run);
  return j.Done(run ? 201 : 200);
}

}  // namespace

HttpResponse Api::PlanRetention(Context& c) { return Sweep(c, engine_, /*run=*/false); }

HttpResponse Api::RunRetention(Context& c) { return Sweep(c, engine_, /*run=*/true); }

HttpResponse Api::ListHolds(Context&) {
  auto holds = engine_.ListLegalHolds();
  if (!holds.ok()) return ProblemFor(holds.status());
  Json j;
  auto& w = j.w();
  w.StartObject();
  j.Key("legal_holds");
  w.StartArray();
  for (const auto& h : *holds) {
    w.StartObject();
    j.Field("hold_id", h.hold_id);
    j.Field("subject_id", h.subject_id);
    j.Field("category", h.category);
    j.Field("reason", h.reason);
    j.Field("placed_at", h.placed_at);
    j.Field("expires_at", h.expires_at);
    j.Field("released_at", h.released_at);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return j.Done();
}

HttpResponse Api::PlaceHold(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body,
              {{"subject_id", FieldType::kString},
               {"category", FieldType::kString},
               {"reason", FieldType::kString, true},
               {"expires_at", FieldType::kTime},
               {"at", FieldType::kTime}},
              &problem)) {
    return problem;
  }
  engine::LegalHoldRequest request;
  request.subject_id = body.String("subject_id");
  request.category = body.String("category");
  request.reason = body.String("reason");
  request.expires_at = body.Time("expires_at");
  request.at = body.Time("at");
  request.actor = c.actor;
  auto id = engine_.PlaceLegalHold(request);
  if (!id.ok()) return ProblemFor(id.status());
  return OneMember("hold_id", *id, 201);
}

HttpResponse Api::ReleaseHold(Context& c) {
  auto id = ParseId(c.Param("hold_id"));
  if (!id) return ProblemFor(Status(ErrorCode::kNotFound, "no such legal hold"));
  Status status = engine_.ReleaseLegalHold(*id, std::nullopt, c.actor);
  return status.ok() ? Empty(200) : ProblemFor(status);
}

HttpResponse Api::ListReviewTasks(Context& c) {
  const std::string* all = c.request.Query("all");
  auto tasks = engine_.ListReviewTasks(!(all && *all == "true"));
  if (!tasks.ok()) return ProblemFor(tasks.status());
  Json j;
  auto& w = j.w();
  w.StartObject();
  j.Key("review_tasks");
  w.StartArray();
  for (const auto& t : *tasks) {
    w.StartObject();
    j.Field("task_id", t.task_id);
    j.Field("subject_id", t.subject_id);
    j.Field("rule_id", t.rule_id);
    j.Field("category", t.category);
    j.Field("due_at", t.due_at);
    j.Field("created_at", t.created_at);
    j.Field("done_at", t.done_at);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return j.Done();
}

HttpResponse Api::CompleteReviewTask(Context& c) {
  auto id = ParseId(c.Param("task_id"));
  if (!id) return ProblemFor(Status(ErrorCode::kNotFound, "no such review task"));
  Status status = engine_.CompleteReviewTask(*id, std::nullopt, c.actor);
  return status.ok() ? Empty(200) : ProblemFor(status);
}

HttpResponse Api::Aggregate(Context& c) {
  std::optional<int> threshold;
  if (const std::string* t = c.request.Query("threshold")) {
    auto value = ParseId(*t);
    if (!value || *value > 1000000) {
      return Problem(HttpProblem::kInvalidValue, "threshold must be a positive integer");
    }
    threshold = static_cast<int>(*value);
  }
  auto result = engine_.Aggregate(c.Param("category"), threshold, c.actor);
  if (!result.ok()) return ProblemFor(result.status());
  Json j;
  auto& w = j.w();
  w.StartObject();
  j.Field("category", result->category);
  j.Field("threshold", static_cast<int64_t>(result->threshold));
  j.Key("cells");
  w.StartArray();
  for (const auto& cell : result->cells) {
    w.StartObject();
    j.Field("category", cell.category);
    j.Field("value", cell.value);
    j.Field("count", cell.count);
    w.EndObject();
  }
  w.EndArray();
  j.Field("suppressed_cells", result->suppressed_cells);
  w.EndObject();
  return j.Done();
}

}  // namespace custos::api
