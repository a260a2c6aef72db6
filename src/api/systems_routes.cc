// The organisation's own systems (the policy's `systems:`), the DPO's and admins' only: whether
// each answers as declared, what a request will do in them, the DPO's reason one cannot answer
// a request, and retention in them. The rules are the engine's (engine_systems.cc); these
// handlers only read bodies and write the engine's JSON (engine/systems_json.h).
#include <string>

#include "api/handler_support.h"
#include "engine/systems_json.h"

namespace custos::api {

namespace {

HttpResponse Wrapped(const std::string& key, const std::string& array) {
  HttpResponse response;
  response.body = "{\"" + key + "\":" + array + "}";
  return response;
}

}  // namespace

HttpResponse Api::CheckSystems(Context& c) {
  auto checks = engine_.CheckSystems(c.actor);
  if (!checks.ok()) return ProblemFor(checks.status());
  return Wrapped("systems", engine::SystemChecksJson(*checks));
}

HttpResponse Api::SweepSystems(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body,
              {{"apply", FieldType::kBool}, {"batch", FieldType::kInt}, {"at", FieldType::kTime}},
              &problem)) {
    return problem;
  }
  int64_t batch = body.Int("batch").value_or(500);
  if (batch < 1 || batch > 100000) {
    return Problem(HttpProblem::kInvalidValue, "batch must be between 1 and 100000 rows");
  }
  auto lines = engine_.SweepSystemsRetention(body.Bool("apply"), batch, body.Time("at"), c.actor);
  if (!lines.ok()) return ProblemFor(lines.status());
  return Wrapped("lines", engine::SystemRetentionJson(*lines));
}

HttpResponse Api::PlanRequestInSystems(Context& c) {
  auto plans = engine_.PlanRequestInSystems(c.Param("id"), c.actor);
  if (!plans.ok()) return ProblemFor(plans.status());
  return Wrapped("systems", engine::SystemPlansJson(*plans));
}

HttpResponse Api::WaiveSystem(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body,
              {{"system", FieldType::kString, true},
               {"reason", FieldType::kString, true},
               {"at", FieldType::kTime}},
              &problem)) {
    return problem;
  }
  const std::string id = c.Param("id");
  return RequestStep(engine_.WaiveSystem(id, body.String("system"), body.String("reason"),
                                         body.Time("at"), c.actor),
                     id, c.actor);
}

}  // namespace custos::api
