// Third-party applications, the DPO's and admins' to authorise, list and revoke: the grant's
// rules are the engine's (engine/application_grant.h) and the grant's token the TokenStore's,
// both through api/applications.h, as the CLI's `custos application` goes. An application's own
// token asks decisions (consent_routes.cc, Api::Decide), within its grant.
#include <string>

#include "api/applications.h"
#include "api/handler_support.h"

namespace custos::api {

using internal::Json;

namespace {

void WriteApplication(Json& j, const TokenRecord& record, const std::string& state) {
  const Principal& p = record.principal;
  auto& w = j.w();
  w.StartObject();
  j.Field("id", p.token_id);
  j.Field("name", p.application);
  j.Field("recipient", p.recipient);
  j.Strings("purposes", p.purposes);
  j.Strings("categories", p.categories);
  j.Field("expires_at", p.expires_at);
  j.Field("created_at", record.created_at);
  if (!record.revoked_at.empty()) j.Field("revoked_at", record.revoked_at);
  j.Field("state", state);
  w.EndObject();
}

}  // namespace

HttpResponse Api::AuthoriseApplication(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body,
              {{"name", FieldType::kString, true},
               {"recipient", FieldType::kString, true},
               {"purposes", FieldType::kStrings, true},
               {"categories", FieldType::kStrings, true},
               {"expires_at", FieldType::kTime, true}},
              &problem)) {
    return problem;
  }
  engine::ApplicationGrant grant;
  grant.application = body.String("name");
  grant.recipient = body.String("recipient");
  grant.purposes = body.Strings("purposes");
  grant.categories = body.Strings("categories");
  grant.expires_at = *body.Time("expires_at");
  auto issued = api::AuthoriseApplication(engine_, tokens_, grant, c.actor);
  if (!issued.ok()) return ProblemFor(issued.status());
  Json j;
  auto& w = j.w();
  w.StartObject();
  j.Field("id", issued->id);
  j.Field("token", issued->token);  // shown once: only its hash is kept
  j.Field("name", grant.application);
  j.Field("recipient", grant.recipient);
  j.Strings("purposes", grant.purposes);
  j.Strings("categories", grant.categories);
  j.Field("expires_at", grant.expires_at);
  j.Field("state", "active");
  w.EndObject();
  HttpResponse response = j.Done(201);
  response.headers.emplace_back("Location", "/v1/applications/" + issued->id);
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

HttpResponse Api::ListApplications(Context&) {
  auto applications = api::ListApplications(tokens_, engine_.Now());
  if (!applications.ok()) return ProblemFor(applications.status());
  Json j;
  auto& w = j.w();
  w.StartObject();
  j.Key("applications");
  w.StartArray();
  for (const auto& entry : *applications) WriteApplication(j, entry.record, entry.state);
  w.EndArray();
  w.EndObject();
  return j.Done();
}

HttpResponse Api::RevokeApplication(Context& c) {
  auto revoked = api::RevokeApplication(engine_, tokens_, c.Param("id"), c.actor);
  if (!revoked.ok()) return ProblemFor(revoked.status());
  Json j;
  WriteApplication(j, revoked->record, revoked->state);
  return j.Done();
}

}  // namespace custos::api
