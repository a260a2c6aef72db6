// The rights-request routes of the HTTP API: the person's own (intake, the one-time code, and
// following their request with the requester secret), staff's and the DPO's (intake on the
// person's behalf, identity, pauses, extension, refusal, fulfilment, purge), and the outbox and
// recipients' endpoints. Each handler parses strictly, calls one Engine function (the same the
// CLI calls in cli/request_commands.cc) and renders JSON. Personal values (the contact, the
// note, corrected values, the person's data) appear only in the answers meant to carry them:
// the full view of a request and the document; never in a problem or a log line.
#include <string>
#include <vector>

#include "api/handler_support.h"
#include "api/staff_scope.h"
#include "delivery/webhook_url.h"
#include "engine/mail_endpoint.h"

namespace custos::api {

namespace {

using internal::Forbidden;
using internal::Json;
using internal::OneMember;
using internal::ParseId;
using store::RequestState;

constexpr std::string_view kBearer = "Bearer ";

// A due date is a day: "2026-03-02", or null while the month does not run.
void DueOn(Json& j, const std::optional<Timestamp>& due) {
  j.Key("due_on");
  if (due) {
    j.Str(due->Date().ToString());
  } else {
    j.w().Null();
  }
}

// The fields both intakes share, read into `request`. False with *problem on a bad item of
// `rectifications` or a contact given twice.
bool ReadRequestFields(const JsonBody& body, engine::NewRequest& request, HttpResponse* problem) {
  request.type = body.String("type");
  request.categories = body.Strings("categories");
  request.purpose = body.String("purpose");
  request.note = body.String("note");
  if (!body.CheckItems(
          "rectifications",
          {{"category", FieldType::kString, true}, {"value", FieldType::kString, true}}, problem)) {
    return false;
  }
  for (size_t i = 0; i < body.ItemCount("rectifications"); ++i) {
    request.rectifications.push_back({body.ItemString("rectifications", i, "category"),
                                      body.ItemString("rectifications", i, "value")});
  }
  if (body.Has("email") && body.Has("phone")) {
    *problem = Problem(HttpProblem::kInvalidValue, "give 'email' or 'phone', not both");
    return false;
  }
  if (body.Has("email")) request.contact = {"email", body.String("email")};
  if (body.Has("phone")) request.contact = {"phone", body.String("phone")};
  return true;
}

void WriteRow(Json& j, const store::RequestRow& row) {
  j.Field("request_id", row.request_id);
  j.Field("type", row.type);
  j.Field("state", store::RequestStateName(row.state));
  j.Field("intake", row.intake);
  j.Field("verification", row.verification);
  j.Field("waiting_for", row.waiting_for);
  j.Strings("subject_ids", row.subject_ids);
  j.Field("received_at", row.received_at);
  j.Key("clock_started_on");
  if (row.clock_started_at) {
    j.Str(row.clock_started_at->Date().ToString());
  } else {
    j.w().Null();
  }
  DueOn(j, row.due_at);
  j.Field("extended_at", row.extended_at);
  j.Field("closed_at", row.closed_at);
  j.Field("outcome", row.outcome);
}

void WriteHistory(Json& j, const std::vector<store::RequestEventRow>& history, bool actors) {
  auto& w = j.w();
  j.Key("history");
  w.StartArray();
  for (const auto& event : history) {
    w.StartObject();
    j.Field("at", event.at);
    j.Field("event", event.event);
    j.Field("state", store::RequestStateName(event.state));
    j.Field("detail", event.detail);
    if (actors) j.Field("actor", event.actor);
    w.EndObject();
  }
  w.EndArray();
}

void WriteItems(Json& j, const std::vector<engine::FulfilmentItem>& items) {
  auto& w = j.w();
  j.Key("items");
  w.StartArray();
  for (const auto& item : items) {
    w.StartObject();
    j.Field("subject_id", item.subject_id);
    j.Field("category", item.category);
    j.Field("action", item.action);
    j.Field("reason", item.reason);
    j.Field("detail", item.detail);
    w.EndObject();
  }
  w.EndArray();
}

void WriteOutboxMessage(Json& j, const store::OutboxRow& m) {
  j.Field("outbox_id", m.outbox_id);
  j.Field("request_id", m.request_id);
  j.Field("kind", m.kind);
  j.Field("target", m.target);
  j.Field("state", store::OutboxStateName(m.state));
  j.Field("attempts", m.attempts);
  j.Field("created_at", m.created_at);
  j.Field("next_attempt_at", m.next_attempt_at);
  j.Field("delivered_at", m.delivered_at);
  j.Field("last_error", m.last_error);
}

// True when `who` is a staff token and request `id` of `controller` is one whose answer is a
// copy of everything held about the person (access, portability): the DPO's and admins' to
// handle, never staff's, whose tokens reach only some purposes (api/staff_scope.h). Read
// without an audited view: nothing of the request is shown.
bool StaffAtACopy(const Principal* who, store::Store& store, const std::string& controller,
                  const std::string& id) {
  if (who == nullptr || !who->Is(Role::kStaff)) return false;
  auto row = store.GetRequest(controller, id);
  return row.ok() && row->has_value() && IsCopyOfEverything((*row)->type);
}

constexpr const char* kCopyIsTheDpos =
    "access and portability requests hand over everything held about the person: the DPO's or "
    "an admin's, not staff's";

// A refusal for too many codes says how long to wait, when waiting helps (RFC 9110 §10.2.3).
HttpResponse WithRetryAfter(HttpResponse response, int64_t retry_after_seconds) {
  if (response.status == 429 && retry_after_seconds > 0) {
    response.headers.emplace_back("Retry-After", std::to_string(retry_after_seconds));
  }
  return response;
}

}  // namespace

// --- Who may call: the requester secret ---------------------------------------------------

HttpResponse Api::AsRequester(Context& c, Handler handler) {
  const std::string& authorization = c.request.authorization;
  if (authorization.rfind("Bearer rq_", 0) != 0) {
    if (authorization.empty()) {
      return Problem(HttpProblem::kUnauthorized,
                     "send Authorization: Bearer rq_... (the secret given when the request was "
                     "verified)");
    }
    return Forbidden("this route takes the requester's secret, not an API token");
  }
  Status opened = engine_.CheckRequesterSecret(c.Param("id"), authorization.substr(kBearer.size()));
  if (!opened.ok()) {
    // An unknown request and a wrong secret look the same: ids are not confirmed to strangers.
    if (opened.code() == ErrorCode::kVerificationFailed ||
        opened.code() == ErrorCode::kUnknownRequest) {
      return ProblemFor(Status(ErrorCode::kVerificationFailed,
                               "the requester secret does not open this request"));
    }
    return ProblemFor(opened);
  }
  c.actor = "requester";
  return (this->*handler)(c);
}

HttpResponse Api::RequestStep(const Status& status, const std::string& request_id,
                              const std::string& actor, int http_status) {
  if (!status.ok()) return ProblemFor(status);
  auto view = engine_.ViewRequest(request_id, actor);
  if (!view.ok()) return ProblemFor(view.status());
  Json j;
  j.w().StartObject();
  j.Field("request_id", view->row.request_id);
  j.Field("state", store::RequestStateName(view->row.state));
  DueOn(j, view->row.due_at);
  j.Field("waiting_for", view->row.waiting_for);
  j.w().EndObject();
  return j.Done(http_status);
}

// --- The person ----------------------------------------------------------------------------

HttpResponse Api::OpenRequest(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body,
              {{"type", FieldType::kString, true},
               {"email", FieldType::kString},
               {"phone", FieldType::kString},
               {"categories", FieldType::kStrings},
               {"purpose", FieldType::kString},
               {"rectifications", FieldType::kObjects},
               {"note", FieldType::kString}},
              &problem)) {
    return problem;
  }
  engine::NewRequest request;
  request.intake = "self_service";
  request.actor = "requester";
  if (!ReadRequestFields(body, request, &problem)) return problem;
  if (request.contact.kind.empty()) {
    return Problem(HttpProblem::kMissingField,
                   "'email' or 'phone' is required: the one-time code goes there");
  }
  int64_t retry_after = 0;
  auto opened = engine_.OpenRequest(request, &retry_after);
  if (!opened.ok()) return WithRetryAfter(ProblemFor(opened.status()), retry_after);
  // The code went to the contact through the outbox; it is never in this answer.
  Json j;
  j.w().StartObject();
  j.Field("request_id", opened->request_id);
  j.Field("state", store::RequestStateName(opened->state));
  j.w().EndObject();
  HttpResponse response = j.Done(202);
  response.headers.emplace_back("Location", "/v1/requests/" + opened->request_id + "/status");
  return response;
}

HttpResponse Api::VerifyRequest(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {{"code", FieldType::kString, true}}, &problem)) return problem;
  const std::string& id = c.Param("id");
  auto secret = engine_.VerifyRequest(id, body.String("code"), std::nullopt);
  if (!secret.ok()) return ProblemFor(secret.status());
  auto view = engine_.ViewRequest(id, "requester");
  if (!view.ok()) return ProblemFor(view.status());
  Json j;
  j.w().StartObject();
  j.Field("request_id", id);
  j.Field("state", store::RequestStateName(view->row.state));
  DueOn(j, view->row.due_at);
  j.Field("requester_secret", *secret);
  j.w().EndObject();
  return j.Done();
}

HttpResponse Api::ResendRequestCode(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {}, &problem)) return problem;
  const std::string& id = c.Param("id");
  int64_t retry_after = 0;
  Status sent = engine_.ResendRequestCode(id, std::nullopt, "requester", &retry_after);
  if (!sent.ok()) return WithRetryAfter(ProblemFor(sent), retry_after);
  // Nothing about the request is read back for a caller who has proven nothing yet.
  Json j;
  j.w().StartObject();
  j.Field("request_id", id);
  j.Field("state", store::RequestStateName(RequestState::kVerifyingIdentity));
  j.w().EndObject();
  return j.Done(202);
}

HttpResponse Api::RequestStatus(Context& c) {
  auto view = engine_.ViewRequest(c.Param("id"), c.actor);
  if (!view.ok()) return ProblemFor(view.status());
  const store::RequestRow& row = view->row;
  Json j;
  j.w().StartObject();
  j.Field("request_id", row.request_id);
  j.Field("type", row.type);
  j.Field("state", store::RequestStateName(row.state));
  j.Field("received_at", row.received_at);
  DueOn(j, row.due_at);
  j.Field("waiting_for", row.waiting_for);
  j.Field("outcome", row.outcome);
  WriteHistory(j, view->history, false);
  j.w().EndObject();
  return j.Done();
}

HttpResponse Api::RequestDocument(Context& c) {
  const std::string* format = c.request.Query("format");
  std::string f = format ? *format : "json";
  if (f != "json" && f != "html" && f != "csv") {
    return Problem(HttpProblem::kInvalidValue, "format must be json, html or csv");
  }
  const std::string& id = c.Param("id");
  auto document = engine_.RequestDocument(id, f, c.actor);
  if (!document.ok()) return ProblemFor(document.status());
  HttpResponse response;
  response.content_type = f == "html"  ? "text/html; charset=utf-8"
                          : f == "csv" ? "text/csv; charset=utf-8"
                                       : "application/json";
  response.body = std::move(*document);
  if (f != "html") {
    response.headers.emplace_back("Content-Disposition",
                                  "attachment; filename=\"" + id + "." + f + "\"");
  }
  return response;
}

HttpResponse Api::RequestRecipients(Context& c) {
  auto notices = engine_.RequestRecipients(c.Param("id"));
  if (!notices.ok()) return ProblemFor(notices.status());
  Json j;
  auto& w = j.w();
  w.StartObject();
  j.Key("recipients");
  w.StartArray();
  for (const auto& notice : *notices) {
    w.StartObject();
    j.Field("recipient", notice.recipient);
    j.Field("name", notice.name);
    j.Strings("categories", notice.categories);
    j.Field("state", store::OutboxStateName(notice.state));
    j.Field("outbox_id", notice.outbox_id);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return j.Done();
}

HttpResponse Api::WithdrawRequest(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {}, &problem)) return problem;
  const std::string& id = c.Param("id");
  return RequestStep(engine_.WithdrawRequest(id, std::nullopt, c.actor), id, c.actor);
}

// --- Staff and the DPO ---------------------------------------------------------------------

HttpResponse Api::OpenStaffRequest(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body,
              {{"type", FieldType::kString, true},
               {"verified_by", FieldType::kString},
               {"email", FieldType::kString},
               {"phone", FieldType::kString},
               {"categories", FieldType::kStrings},
               {"purpose", FieldType::kString},
               {"rectifications", FieldType::kObjects},
               {"note", FieldType::kString}},
              &problem)) {
    return problem;
  }
  if (c.who->Is(Role::kStaff) && IsCopyOfEverything(body.String("type"))) {
    return Forbidden(kCopyIsTheDpos);
  }
  engine::NewRequest request;
  request.intake = "staff";
  request.subject_id = c.Param("id");
  request.verification = body.String("verified_by");
  request.actor = c.actor;
  if (!ReadRequestFields(body, request, &problem)) return problem;
  auto opened = engine_.OpenRequest(request);
  if (!opened.ok()) return ProblemFor(opened.status());
  Json j;
  j.w().StartObject();
  j.Field("request_id", opened->request_id);
  j.Field("state", store::RequestStateName(opened->state));
  DueOn(j, opened->due_at);
  j.w().EndObject();
  HttpResponse response = j.Done(201);
  response.headers.emplace_back("Location", "/v1/requests/" + opened->request_id);
  return response;
}

HttpResponse Api::ListRequests(Context& c) {
  engine::RequestListFilter filter = engine::RequestListFilter::kAll;
  if (const std::string* f = c.request.Query("filter")) {
    if (*f == "open") {
      filter = engine::RequestListFilter::kOpen;
    } else if (*f == "due_soon") {
      filter = engine::RequestListFilter::kDueSoon;
    } else if (*f == "overdue") {
      filter = engine::RequestListFilter::kOverdue;
    } else if (*f != "all") {
      return Problem(HttpProblem::kInvalidValue, "filter must be all, open, due_soon or overdue");
    }
  }
  int within = 7;
  if (const std::string* text = c.request.Query("within")) {
    auto days = ParseId(*text);
    if (!days || *days > 3660) {
      return Problem(HttpProblem::kInvalidValue, "within must be a number of days, 0 to 3660");
    }
    within = static_cast<int>(*days);
  }
  std::optional<Timestamp> as_of;
  if (const std::string* text = c.request.Query("as_of")) {
    as_of = Timestamp::Parse(*text);
    if (!as_of) return Problem(HttpProblem::kInvalidValue, "as_of must be an ISO-8601 time");
  }
  auto rows = engine_.ListRequests(filter, as_of, within);
  if (!rows.ok()) return ProblemFor(rows.status());
  Json j;
  auto& w = j.w();
  w.StartObject();
  j.Key("requests");
  w.StartArray();
  for (const auto& row : *rows) {
    w.StartObject();
    WriteRow(j, row);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return j.Done();
}

HttpResponse Api::GetRequest(Context& c) {
  if (StaffAtACopy(c.who, store_, engine_.controller(), c.Param("id"))) {
    return Forbidden(kCopyIsTheDpos);
  }
  auto view = engine_.ViewRequest(c.Param("id"), c.actor);
  if (!view.ok()) return ProblemFor(view.status());
  // Staff see the corrections and the items of the categories their purposes use.
  const StaffScope scope(c.who, engine_.policy());
  std::erase_if(view->rectifications,
                [&](const auto& r) { return !scope.Category(r.category); });
  std::erase_if(view->items, [&](const engine::FulfilmentItem& item) {
    return !item.category.empty() && !scope.Category(item.category);
  });
  Json j;
  auto& w = j.w();
  w.StartObject();
  WriteRow(j, view->row);
  j.Field("personal_parts_shredded", view->personal_parts_shredded);
  j.Key("contact");
  if (view->contact.value.empty()) {
    w.Null();
  } else {
    w.StartObject();
    j.Field("kind", view->contact.kind);
    j.Field("value", view->contact.value);
    w.EndObject();
  }
  j.Strings("categories", view->categories);
  j.Field("purpose", view->purpose);
  j.Field("note", view->note);
  j.Key("rectifications");
  w.StartArray();
  for (const auto& r : view->rectifications) {
    w.StartObject();
    j.Field("category", r.category);
    j.Field("value", r.value);
    w.EndObject();
  }
  w.EndArray();
  WriteItems(j, view->items);
  WriteHistory(j, view->history, true);
  j.Key("outbox");
  w.StartArray();
  for (const auto& m : view->outbox) {
    w.StartObject();
    WriteOutboxMessage(j, m);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return j.Done();
}

HttpResponse Api::VerifyRequestIdentity(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {{"method", FieldType::kString, true}, {"subject_id", FieldType::kString}},
              &problem)) {
    return problem;
  }
  const std::string& id = c.Param("id");
  return RequestStep(engine_.VerifyRequestByStaff(id, body.String("method"),
                                                  body.String("subject_id"), std::nullopt, c.actor),
                     id, c.actor);
}

HttpResponse Api::AwaitRequester(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {{"for", FieldType::kString, true}}, &problem)) return problem;
  std::string what = body.String("for");
  // A fee says the request is manifestly unfounded or excessive: the DPO's call, as a refusal.
  if (what == "fee" && c.who != nullptr && c.who->Is(Role::kStaff)) {
    return Forbidden("asking a fee is for the DPO; staff may wait for clarification");
  }
  const std::string& id = c.Param("id");
  return RequestStep(engine_.AwaitRequester(id, what, std::nullopt, c.actor), id, c.actor);
}

HttpResponse Api::RequesterAnswered(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {}, &problem)) return problem;
  const std::string& id = c.Param("id");
  return RequestStep(engine_.RequesterAnswered(id, std::nullopt, c.actor), id, c.actor);
}

HttpResponse Api::ExtendRequest(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {{"reason", FieldType::kString, true}}, &problem)) return problem;
  const std::string& id = c.Param("id");
  return RequestStep(engine_.ExtendRequest(id, body.String("reason"), std::nullopt, c.actor), id,
                     c.actor);
}

HttpResponse Api::RefuseRequest(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {{"reason", FieldType::kString, true}}, &problem)) return problem;
  const std::string& id = c.Param("id");
  return RequestStep(engine_.RefuseRequest(id, body.String("reason"), std::nullopt, c.actor), id,
                     c.actor);
}

HttpResponse Api::FulfilRequest(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {{"outcome", FieldType::kString}}, &problem)) return problem;
  const std::string& id = c.Param("id");
  if (StaffAtACopy(c.who, store_, engine_.controller(), id)) return Forbidden(kCopyIsTheDpos);
  if (c.who->Is(Role::kStaff)) {
    // Staff carry out what the role table lets them do themselves: an objection or a consent
    // withdrawal for a purpose on their token. A copy for the person (access, portability)
    // holds data of every purpose; rectification, erasure, restriction and automated-decision
    // reviews change data across purposes: the DPO's or an admin's.
    auto view = engine_.ViewRequest(id, c.actor);
    if (!view.ok()) return ProblemFor(view.status());
    const std::string& type = view->row.type;
    bool purpose_bound = (type == "objection" || type == "withdraw_consent") &&
                         !view->purpose.empty() && c.who->MayUsePurpose(view->purpose);
    if (!purpose_bound) {
      return Forbidden(
          "staff fulfil objections or consent withdrawals for a purpose on their token; this "
          "one is for the DPO");
    }
  }
  auto view = engine_.FulfilRequest(id, body.String("outcome"), std::nullopt, c.actor);
  if (!view.ok()) return ProblemFor(view.status());
  Json j;
  j.w().StartObject();
  j.Field("request_id", view->row.request_id);
  j.Field("state", store::RequestStateName(view->row.state));
  j.Field("outcome", view->row.outcome);
  WriteItems(j, view->items);
  j.w().EndObject();
  return j.Done();
}

HttpResponse Api::PurgeRequests(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {}, &problem)) return problem;
  auto purged = engine_.PurgeClosedRequests(std::nullopt, c.actor);
  if (!purged.ok()) return ProblemFor(purged.status());
  return OneMember("purged", *purged);
}

// --- Recipients' endpoints and the outbox --------------------------------------------------

HttpResponse Api::SetEndpoint(Context& c) {
  JsonBody body;
  HttpResponse problem;
  if (!c.Body(body, {{"url", FieldType::kString, true}, {"secret", FieldType::kString, false}},
              &problem)) {
    return problem;
  }
  // A webhook needs its secret; a mail server takes none (its credentials are configured).
  if (!engine::IsMailServerUrl(body.String("url")) && !body.Has("secret")) {
    return Problem(HttpProblem::kMissingField, "'secret' is required for a webhook");
  }
  const std::string& recipient = c.Param("recipient");
  Status url_ok = delivery::CheckEndpointUrl(body.String("url"));
  if (!url_ok.ok()) return ProblemFor(url_ok);
  Status set = engine_.SetRecipientEndpoint(recipient, body.String("url"), body.String("secret"),
                                            std::nullopt, c.actor);
  if (!set.ok()) return ProblemFor(set);
  Json j;  // the secret is never echoed
  j.w().StartObject();
  j.Field("recipient", recipient);
  j.Field("url", body.String("url"));
  j.w().EndObject();
  return j.Done();
}

HttpResponse Api::ListEndpoints(Context&) {
  auto endpoints = store_.ListRecipientEndpoints(engine_.controller());
  if (!endpoints.ok()) return ProblemFor(endpoints.status());
  Json j;
  auto& w = j.w();
  w.StartObject();
  j.Key("endpoints");
  w.StartArray();
  for (const auto& e : *endpoints) {
    w.StartObject();
    j.Field("recipient", e.recipient);
    j.Field("url", e.url);
    j.Field("updated_at", e.updated_at);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return j.Done();
}

HttpResponse Api::ListOutbox(Context& c) {
  const std::string* request_id = c.request.Query("request_id");
  auto messages = store_.ListOutbox(engine_.controller(), request_id ? *request_id : "");
  if (!messages.ok()) return ProblemFor(messages.status());
  Json j;  // states only: payloads stay sealed
  auto& w = j.w();
  w.StartObject();
  j.Key("messages");
  w.StartArray();
  for (const auto& m : *messages) {
    w.StartObject();
    WriteOutboxMessage(j, m);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return j.Done();
}

}  // namespace custos::api
