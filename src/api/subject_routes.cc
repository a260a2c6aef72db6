// The subject routes: people (create, read everything held about one), their identifiers
// (add, and look a person up by one through its keyed hash), their lifecycle events, and their
// records (store one, list them). Each handler parses strictly, checks the token's scope (staff
// to their purposes, processors to their categories), calls one Engine function and renders
// JSON. Personal values come back only in the reads meant to carry them, never in a problem.
#include <string>

#include "api/handler_support.h"
#include "api/staff_scope.h"

namespace custos::api {

namespace {

using internal::Empty;
using internal::Forbidden;
using internal::Json;
using internal::OneMember;

const char* StateName(store::RecordState state) {
  switch (state) {
    case store::RecordState::kActive: return "active";
    case store::RecordState::kRestricted: return "restricted";
    case store::RecordState::kAnonymised: return "anonymised";
    case store::RecordState::kErased: return "erased";
  }
  return "?";
}

// A record as GetSubject and ListRecords show it (the value in clear: only reads carry it).
void WriteRecord(Json& j, const engine::SubjectView::RecordValue& r) {
  auto& w = j.w();
  w.StartObject();
  j.Field("record_id", r.record_id);
  j.Field("category", r.category);
  j.Field("value", r.value);
  j.Field("source", r.source);
  j.Field("purpose", r.purpose);
  j.Field("collected_at", r.collected_at);
  j.Field("state", std::string(StateName(r.state)));
  w.EndObject();
}

// A ?purpose= is written to the audit log as the read's purpose: it must be a key (a lower-case
// letter, then letters, digits, '_', '.', '-'), never whatever a client put there (an email,
// a name, a phone number).
bool KeyShaped(const std::string& text) {
  if (text.empty() || text.size() > 64 || text[0] < 'a' || text[0] > 'z') return false;
  for (char c : text) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) {
      return false;
    }
  }
  return true;
}

}  // namespace

HttpResponse Api::CreateSubject(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body,
              {{"id", FieldType::kString},
               {"types", FieldType::kStrings, true},
               {"email", FieldType::kString},
               {"phone", FieldType::kString},
               {"external", FieldType::kString},
               {"verified", FieldType::kBool},
               {"at", FieldType::kTime}},
              &problem)) {
    return problem;
  }
  engine::NewSubject request;
  request.subject_id = body.String("id");
  request.types = body.Strings("types");
  for (const char* kind : {"email", "phone", "external"}) {
    if (body.Has(kind))
      request.identifiers.push_back({kind, body.String(kind), body.Bool("verified")});
  }
  request.at = body.Time("at");
  request.actor = c.actor;
  std::vector<engine::SharedIdentifier> shared;
  auto id = engine_.AddSubject(request, &shared);
  if (!id.ok()) return ProblemFor(id.status());
  Json j;
  j.w().StartObject();
  j.Field("subject_id", *id);
  // Allowed (families share addresses), but a lookup by it now finds several people.
  if (!shared.empty()) {
    j.Key("shared_identifiers");
    j.w().StartArray();
    for (const auto& same : shared) {
      j.w().StartObject();
      j.Field("kind", same.kind);
      j.Key("other_subjects");
      j.w().Uint64(same.others);
      j.w().EndObject();
    }
    j.w().EndArray();
  }
  j.w().EndObject();
  HttpResponse response = j.Done(201);
  response.headers.emplace_back("Location", "/v1/subjects/" + *id);
  return response;
}

HttpResponse Api::GetSubject(Context& c) {
  const std::string* purpose = c.request.Query("purpose");
  if (purpose && !KeyShaped(*purpose)) {
    return Problem(HttpProblem::kInvalidValue, "purpose must be a purpose key");
  }
  std::string why = purpose ? *purpose : (c.who->Is(Role::kSubject) ? "subject_access" : "");
  if (c.who->Is(Role::kStaff) && (why.empty() || !c.who->MayUsePurpose(why))) {
    return Forbidden("staff read a subject for one of their token's purposes (?purpose=)");
  }
  if (why.empty()) why = "api_read";
  auto view = engine_.ReadSubject(c.Param("id"), c.actor, why);
  if (!view.ok()) return ProblemFor(view.status());
  // Staff see only what their purposes use (api/staff_scope.h).
  const StaffScope scope(c.who, engine_.policy());
  Json j;
  auto& w = j.w();
  w.StartObject();
  j.Field("subject_id", view->subject.subject_id);
  j.Strings("types", view->subject.types);
  j.Field("created_at", view->subject.created_at);
  j.Field("state",
          std::string(view->subject.state == store::SubjectState::kErased ? "erased" : "active"));
  j.Key("events");
  w.StartArray();
  for (const auto& e : view->events) {
    if (!scope.Event(e.event)) continue;
    w.StartObject();
    j.Field("event", e.event);
    j.Field("at", e.at);
    w.EndObject();
  }
  w.EndArray();
  j.Key("identifiers");
  w.StartArray();
  for (const auto& id : view->identifiers) {
    if (!scope.Identifier(id.kind)) continue;
    w.StartObject();
    j.Field("kind", id.kind);
    j.Field("value", id.value);
    j.Field("verified", id.verified);
    j.Field("added_at", id.added_at);
    w.EndObject();
  }
  w.EndArray();
  j.Key("records");
  w.StartArray();
  for (const auto& r : view->records) {
    if (!scope.Record(r.purpose, r.category)) continue;
    WriteRecord(j, r);
  }
  w.EndArray();
  j.Key("consents");
  w.StartArray();
  for (const auto& e : view->consents) {
    if (scope.narrowed() &&
        (e.target_kind != store::ConsentTarget::kPurpose || !scope.Purpose(e.target))) {
      continue;
    }
    w.StartObject();
    j.Field("target", e.target);
    j.Field("cookie", e.target_kind == store::ConsentTarget::kCookieCategory);
    j.Field("given", e.action == store::ConsentAction::kGiven);
    j.Field("channel", e.channel);
    j.Field("notice_version", e.notice_version);
    j.Field("at", e.at);
    w.EndObject();
  }
  w.EndArray();
  j.Key("preferences");
  w.StartArray();
  for (const auto& p : view->preferences) {
    if (!scope.Channel(p.channel)) continue;
    w.StartObject();
    j.Field("channel", p.channel);
    j.Field("allowed", p.allowed);
    j.Field("at", p.at);
    w.EndObject();
  }
  w.EndArray();
  j.Key("objections");
  w.StartArray();
  for (const auto& o : view->objections) {
    if (!scope.Objection(o.purpose)) continue;
    w.StartObject();
    j.Field("purpose", o.purpose);
    j.Field("at", o.at);
    j.Field("lifted_at", o.lifted_at);
    w.EndObject();
  }
  w.EndArray();
  j.Key("restrictions");
  w.StartArray();
  for (const auto& r : view->restrictions) {
    if (!scope.Restriction(r.categories)) continue;
    w.StartObject();
    j.Field("restriction_id", r.restriction_id);
    j.Strings("categories", r.categories);
    j.Field("reason", r.reason);
    j.Field("at", r.at);
    j.Field("lifted_at", r.lifted_at);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return j.Done();
}

HttpResponse Api::AddIdentifier(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body,
              {{"kind", FieldType::kString, true},
               {"value", FieldType::kString, true},
               {"verified", FieldType::kBool},
               {"at", FieldType::kTime}},
              &problem)) {
    return problem;
  }
  Status status = engine_.AddIdentifier(
      c.Param("id"), {body.String("kind"), body.String("value"), body.Bool("verified")},
      body.Time("at"), c.actor);
  return status.ok() ? Empty(201) : ProblemFor(status);
}

HttpResponse Api::LookupIdentifier(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {{"kind", FieldType::kString, true}, {"value", FieldType::kString, true}},
              &problem)) {
    return problem;
  }
  auto found = engine_.FindSubjects(body.String("kind"), body.String("value"), c.actor);
  if (!found.ok()) return ProblemFor(found.status());
  Json j;
  j.w().StartObject();
  j.Strings("subjects", *found);
  j.w().EndObject();
  return j.Done();
}

HttpResponse Api::AddEvent(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {{"event", FieldType::kString, true}, {"at", FieldType::kTime}}, &problem)) {
    return problem;
  }
  Status status =
      engine_.RecordEvent(c.Param("id"), body.String("event"), body.Time("at"), c.actor);
  return status.ok() ? Empty(201) : ProblemFor(status);
}

HttpResponse Api::PutRecord(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body,
              {{"category", FieldType::kString, true},
               {"value", FieldType::kString, true},
               {"source", FieldType::kString, true},
               {"purpose", FieldType::kString, true},
               {"at", FieldType::kTime}},
              &problem)) {
    return problem;
  }
  engine::NewRecord request{c.Param("id"),
                            body.String("category"),
                            body.String("value"),
                            body.String("source"),
                            body.String("purpose"),
                            body.Time("at"),
                            c.actor};
  if (!c.who->MayUsePurpose(request.purpose)) return Forbidden("purpose not on this token");
  if (!c.who->MayUseCategory(request.category)) return Forbidden("category not on this token");
  auto id = engine_.PutRecord(request);
  if (!id.ok()) return ProblemFor(id.status());
  return OneMember("record_id", *id, 201);
}

HttpResponse Api::RecordDisclosure(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body,
              {{"recipient", FieldType::kString, true},
               {"purpose", FieldType::kString, true},
               {"categories", FieldType::kStrings, true},
               {"at", FieldType::kTime}},
              &problem)) {
    return problem;
  }
  engine::Disclosure disclosure{c.Param("id"),          body.String("recipient"),
                                body.String("purpose"), body.Strings("categories"),
                                body.Time("at"),        c.actor};
  if (!c.who->MayUsePurpose(disclosure.purpose)) return Forbidden("purpose not on this token");
  for (const auto& category : disclosure.categories) {
    if (!c.who->MayUseCategory(category)) return Forbidden("category not on this token");
  }
  auto id = engine_.RecordDisclosure(disclosure);
  if (!id.ok()) return ProblemFor(id.status());
  return OneMember("disclosure_id", *id, 201);
}

HttpResponse Api::ListRecords(Context& c) {
  const std::string* purpose = c.request.Query("purpose");
  if (purpose && !KeyShaped(*purpose)) {
    return Problem(HttpProblem::kInvalidValue, "purpose must be a purpose key");
  }
  auto view = engine_.ReadSubject(c.Param("id"), c.actor, purpose ? *purpose : "records_read");
  if (!view.ok()) return ProblemFor(view.status());
  const StaffScope scope(c.who, engine_.policy());
  Json j;
  auto& w = j.w();
  w.StartObject();
  j.Key("records");
  w.StartArray();
  for (const auto& r : view->records) {
    if (!scope.Record(r.purpose, r.category) || !c.who->MayUseCategory(r.category)) continue;
    WriteRecord(j, r);
  }
  w.EndArray();
  w.EndObject();
  return j.Done();
}

}  // namespace custos::api
