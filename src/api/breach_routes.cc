// The breach register's routes, the DPO's and admins' only: list and record breaches, read one,
// change it step by step (assessment, details and scope, the report to the regulator,
// closing), tell the people affected, and the report shaped like the ICO's breach report form.
// The rules are the engine's (engine_breach.cc); these handlers only read bodies and write JSON.
#include <optional>
#include <string>

#include "api/handler_support.h"
#include "engine/breach.h"

namespace custos::api {

namespace {

std::optional<std::string> OptionalString(const JsonBody& body, const char* name) {
  return body.Has(name) ? std::optional<std::string>(body.String(name)) : std::nullopt;
}

// The scope's members, at the top level of a body: categories, purposes, subject_types, from
// and to. nullopt when none is present.
std::optional<engine::BreachScope> ScopeOf(const JsonBody& body) {
  if (!body.Has("categories") && !body.Has("purposes") && !body.Has("subject_types") &&
      !body.Has("from") && !body.Has("to")) {
    return std::nullopt;
  }
  engine::BreachScope scope;
  scope.categories = body.Strings("categories");
  scope.purposes = body.Strings("purposes");
  scope.subject_types = body.Strings("subject_types");
  scope.from = body.Time("from");
  scope.to = body.Time("to");
  return scope;
}

HttpResponse BreachResponse(const engine::Engine& engine, const Result<engine::Breach>& breach,
                            int status = 200) {
  if (!breach.ok()) return ProblemFor(breach.status());
  HttpResponse response;
  response.status = status;
  response.body = engine::BreachJson(engine.policy(), *breach, engine.Now());
  return response;
}

}  // namespace

HttpResponse Api::ListBreaches(Context& c) {
  auto breaches = engine_.ListBreaches(c.actor);
  if (!breaches.ok()) return ProblemFor(breaches.status());
  HttpResponse response;
  response.body = "{\"breaches\":[";
  for (size_t i = 0; i < breaches->size(); ++i) {
    if (i > 0) response.body += ',';
    response.body += engine::BreachJson(engine_.policy(), (*breaches)[i], engine_.Now());
  }
  response.body += "]}";
  return response;
}

HttpResponse Api::RecordBreach(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body,
              {{"breach_id", FieldType::kString},
               {"discovered_at", FieldType::kTime, true},
               {"aware_at", FieldType::kTime},
               {"nature", FieldType::kString, true},
               {"how_discovered", FieldType::kString},
               {"cyber_incident", FieldType::kBool},
               {"categories", FieldType::kStrings, true},
               {"purposes", FieldType::kStrings},
               {"subject_types", FieldType::kStrings},
               {"from", FieldType::kTime},
               {"to", FieldType::kTime},
               {"consequences", FieldType::kString},
               {"measures", FieldType::kString},
               {"risk", FieldType::kString},
               {"risk_reasoning", FieldType::kString},
               {"at", FieldType::kTime}},
              &problem)) {
    return problem;
  }
  engine::NewBreach breach;
  breach.id = body.String("breach_id");
  breach.discovered_at = *body.Time("discovered_at");
  breach.aware_at = body.Time("aware_at");
  breach.nature = body.String("nature");
  breach.how_discovered = body.String("how_discovered");
  breach.cyber_incident = body.Bool("cyber_incident");
  breach.scope = ScopeOf(body).value_or(engine::BreachScope{});
  breach.consequences = body.String("consequences");
  breach.measures = body.String("measures");
  breach.risk = body.String("risk", "unassessed");
  breach.risk_reasoning = body.String("risk_reasoning");
  return BreachResponse(engine_, engine_.RecordBreach(breach, body.Time("at"), c.actor), 201);
}

HttpResponse Api::GetBreach(Context& c) {
  return BreachResponse(engine_, engine_.ViewBreach(c.Param("id"), c.actor));
}

// One later step; which members the body has says what changes. `close` closes it.
HttpResponse Api::ChangeBreach(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body,
              {{"nature", FieldType::kString},
               {"how_discovered", FieldType::kString},
               {"cyber_incident", FieldType::kBool},
               {"categories", FieldType::kStrings},
               {"purposes", FieldType::kStrings},
               {"subject_types", FieldType::kStrings},
               {"from", FieldType::kTime},
               {"to", FieldType::kTime},
               {"consequences", FieldType::kString},
               {"measures", FieldType::kString},
               {"risk", FieldType::kString},
               {"risk_reasoning", FieldType::kString},
               {"reported_at", FieldType::kTime},
               {"regulator_reference", FieldType::kString},
               {"delay_reason", FieldType::kString},
               {"people_not_told_reason", FieldType::kString},
               {"close", FieldType::kBool},
               {"at", FieldType::kTime}},
              &problem)) {
    return problem;
  }
  engine::BreachChange change;
  change.nature = OptionalString(body, "nature");
  change.how_discovered = OptionalString(body, "how_discovered");
  if (body.Has("cyber_incident")) change.cyber_incident = body.Bool("cyber_incident");
  change.scope = ScopeOf(body);
  change.consequences = OptionalString(body, "consequences");
  change.measures = OptionalString(body, "measures");
  change.risk = OptionalString(body, "risk");
  change.risk_reasoning = OptionalString(body, "risk_reasoning");
  change.reported_at = body.Time("reported_at");
  change.regulator_reference = OptionalString(body, "regulator_reference");
  change.delay_reason = OptionalString(body, "delay_reason");
  change.people_not_told_reason = OptionalString(body, "people_not_told_reason");
  change.close = body.Bool("close");
  return BreachResponse(engine_,
                        engine_.ChangeBreach(c.Param("id"), change, body.Time("at"), c.actor));
}

HttpResponse Api::TellPeopleOfBreach(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {{"at", FieldType::kTime}}, &problem)) return problem;
  return BreachResponse(engine_,
                        engine_.TellPeopleOfBreach(c.Param("id"), body.Time("at"), c.actor));
}

HttpResponse Api::BreachReport(Context& c) {
  const std::string* format = c.request.Query("format");
  const std::string f = format ? *format : "json";
  if (f != "json" && f != "html") {
    return Problem(HttpProblem::kInvalidValue, "format must be json or html");
  }
  auto breach = engine_.ViewBreach(c.Param("id"), c.actor);
  if (!breach.ok()) return ProblemFor(breach.status());
  HttpResponse response;
  if (f == "html") {
    response.content_type = "text/html; charset=utf-8";
    response.body = engine::BreachReportHtml(engine_.policy(), *breach, engine_.Now());
  } else {
    response.body = engine::BreachReportJson(engine_.policy(), *breach, engine_.Now());
  }
  return response;
}

}  // namespace custos::api
