// The routes of what a person has agreed to and asked for, and the decisions made from it:
// consents (change, export the ledger), channel preferences, objections, restrictions,
// suppressions of an identifier, and POST /v1/decisions, which asks the engine whether a
// purpose may use some categories of a person's data now (for an application's token, within
// its grant). Each handler parses strictly, checks
// the token's purposes and categories where the route names them, and calls one Engine
// function.
#include <optional>
#include <string>

#include "api/applications.h"
#include "api/handler_support.h"
#include "api/held_answer.h"

namespace custos::api {

using internal::Empty;
using internal::Forbidden;
using internal::Json;
using internal::OneMember;
using internal::ParseId;

HttpResponse Api::ChangeConsent(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body,
              {{"target", FieldType::kString, true},
               {"given", FieldType::kBool, true},
               {"cookie", FieldType::kBool},
               {"channel", FieldType::kString},
               {"evidence", FieldType::kString},
               {"notice_version", FieldType::kString},
               {"at", FieldType::kTime}},
              &problem)) {
    return problem;
  }
  engine::ConsentChangeRequest request;
  request.subject_id = c.Param("id");
  request.target = body.String("target");
  request.cookie = body.Bool("cookie");
  request.given = body.Bool("given");
  request.channel = body.String("channel", "api");
  request.evidence = body.String("evidence");
  request.notice_version = body.String("notice_version");
  request.at = body.Time("at");
  request.actor = c.actor;
  if (!request.cookie && !c.who->MayUsePurpose(request.target)) {
    return Forbidden("purpose not on this token");
  }
  // Answered once stored (and known to the decision cache), without a thread waiting.
  auto held = std::make_shared<HeldAnswer>([](const Status& failed) { return ProblemFor(failed); });
  Status status = engine_.ChangeConsentThen(request, [held](Status stored) { held->Done(stored); });
  if (!status.ok()) return ProblemFor(status);
  return HeldAnswer::Answer(held, Empty(201));
}

HttpResponse Api::ExportConsents(Context& c) {
  auto json = engine_.ExportConsentRecords(c.Param("id"), c.actor);
  if (!json.ok()) return ProblemFor(json.status());
  HttpResponse response;
  response.body = std::move(*json);
  return response;
}

HttpResponse Api::SetPreference(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {{"allowed", FieldType::kBool, true}, {"at", FieldType::kTime}}, &problem)) {
    return problem;
  }
  Status status = engine_.SetPreference(c.Param("id"), c.Param("channel"), body.Bool("allowed"),
                                        body.Time("at"), c.actor);
  return status.ok() ? Empty(200) : ProblemFor(status);
}

HttpResponse Api::Object(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {{"purpose", FieldType::kString, true}, {"at", FieldType::kTime}}, &problem)) {
    return problem;
  }
  std::string purpose = body.String("purpose");
  if (!c.who->MayUsePurpose(purpose)) return Forbidden("purpose not on this token");
  Status status = engine_.Object(c.Param("id"), purpose, body.Time("at"), c.actor);
  return status.ok() ? Empty(201) : ProblemFor(status);
}

HttpResponse Api::LiftObjection(Context& c) {
  Status status = engine_.LiftObjection(c.Param("id"), c.Param("purpose"), std::nullopt, c.actor);
  return status.ok() ? Empty(200) : ProblemFor(status);
}

HttpResponse Api::Restrict(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body,
              {{"categories", FieldType::kStrings},
               {"reason", FieldType::kString, true},
               {"at", FieldType::kTime}},
              &problem)) {
    return problem;
  }
  auto id = engine_.Restrict(c.Param("id"), body.Strings("categories"), body.String("reason"),
                             body.Time("at"), c.actor);
  if (!id.ok()) return ProblemFor(id.status());
  return OneMember("restriction_id", *id, 201);
}

HttpResponse Api::LiftRestriction(Context& c) {
  auto id = ParseId(c.Param("restriction_id"));
  if (!id) return ProblemFor(Status(ErrorCode::kNotFound, "no such restriction"));
  Status status = engine_.LiftRestriction(c.Param("id"), *id, std::nullopt, c.actor);
  return status.ok() ? Empty(200) : ProblemFor(status);
}

HttpResponse Api::Suppress(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body,
              {{"kind", FieldType::kString, true},
               {"value", FieldType::kString, true},
               {"reason", FieldType::kString},
               {"at", FieldType::kTime}},
              &problem)) {
    return problem;
  }
  Status status =
      engine_.Suppress(body.String("kind"), body.String("value"),
                       body.String("reason", "marketing_opt_out"), body.Time("at"), c.actor);
  return status.ok() ? Empty(201) : ProblemFor(status);
}

namespace {

// A decision as POST /v1/decisions answers it.
HttpResponse DecisionBody(const engine::Decision& decision) {
  Json j;
  auto& w = j.w();
  w.StartObject();
  j.Field("allow", decision.allow);
  j.Field("basis", decision.basis);
  j.Field("at", decision.at);
  j.Key("reasons");
  w.StartArray();
  for (const auto& reason : decision.reasons) {
    w.StartObject();
    j.Field("code", std::string(CodeName(reason.code)));
    j.Field("detail", reason.detail);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return j.Done();
}

}  // namespace

HttpResponse Api::Decide(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body,
              {{"subject_id", FieldType::kString, true},
               {"purpose", FieldType::kString, true},
               {"categories", FieldType::kStrings, true},
               {"channel", FieldType::kString},
               {"at", FieldType::kTime}},
              &problem)) {
    return problem;
  }
  engine::DecisionRequest request;
  request.subject_id = body.String("subject_id");
  request.purpose = body.String("purpose");
  request.categories = body.Strings("categories");
  request.channel = body.String("channel");
  request.at = body.Time("at").value_or(engine_.Now());
  request.actor = c.actor;
  if (c.who->Is(Role::kApplication)) return DecideForApplication(c, body.Has("at"), request);
  if (!c.who->MayUsePurpose(request.purpose)) return Forbidden("purpose not on this token");
  for (const auto& category : request.categories) {
    if (!c.who->MayUseCategory(category)) return Forbidden("category not on this token");
  }
  // The decision leaves only once its audit entry is stored (durable decisions): the answer is
  // held, without a thread waiting, until the commit that takes the entry ends; if it fails,
  // the caller gets its error instead of the decision.
  auto held = std::make_shared<HeldAnswer>([](const Status& failed) { return ProblemFor(failed); });
  auto decided = engine_.DecideThen(request, [held](Status stored) { held->Done(stored); });
  if (!decided.ok()) return ProblemFor(decided.status());  // unaudited: no decision is given
  return HeldAnswer::Answer(held, DecisionBody(*decided));
}

// An application's decision (role application): asked about now only (a time of its choosing
// could fall inside a grant that has ended), checked against its grant, and written to the
// person's disclosure log when allowed (Engine::DecideForApplication).
HttpResponse Api::DecideForApplication(Context& c, bool asked_at,
                                       const engine::DecisionRequest& request) {
  if (asked_at) return Forbidden("an application's decisions are about now: leave out `at`");
  auto decided = engine_.DecideForApplication(GrantOf(*c.who), request);
  if (!decided.ok()) return ProblemFor(decided.status());
  return DecisionBody(*decided);
}

}  // namespace custos::api
