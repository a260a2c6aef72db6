// `custos request ...`, `custos outbox list|read|deliver`, `custos endpoint set|list`. Each parses
// its arguments, calls one Engine function and prints lines a person can read (or JSON with
// --json). Requests are shown by id and subject id; personal values (the requester's contact,
// corrected values, the person's data) are printed only by `request show`, `request document`
// and `outbox read`, which are audited reads.
#include "cli/request_commands.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <optional>
#include <ostream>

#include "cli/command_helpers.h"
#include "cli/commands.h"
#include "cli/systems_commands.h"
#include "delivery/outbox_dispatcher.h"
#include "delivery/smtp_sender.h"
#include "delivery/webhook_sender.h"
#include "delivery/webhook_url.h"
#include "engine/mail_endpoint.h"

namespace custos::cli {

namespace {

using store::RequestState;

std::string Date(const std::optional<Timestamp>& at) {
  return at ? at->Date().ToString() : std::string("none");
}

std::string JoinIds(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ",") + id;
  return out.empty() ? "none" : out;
}

std::string Field(const store::RequestRow& row, const std::string& field, bool* known) {
  *known = true;
  if (field == "state") return std::string(store::RequestStateName(row.state));
  if (field == "due") return Date(row.due_at);
  if (field == "clock") return Date(row.clock_started_at);
  if (field == "subjects") return JoinIds(row.subject_ids);
  if (field == "waiting") return row.waiting_for.empty() ? "nothing" : row.waiting_for;
  if (field == "outcome") return row.outcome.empty() ? "none" : row.outcome;
  if (field == "verification") return row.verification.empty() ? "none" : row.verification;
  if (field == "intake") return row.intake;
  if (field == "type") return row.type;
  *known = false;
  return {};
}

void WriteRow(JsonWriter& w, const store::RequestRow& row) {
  Str(w, "request_id", row.request_id);
  Str(w, "type", row.type);
  Str(w, "state", store::RequestStateName(row.state));
  Str(w, "intake", row.intake);
  Str(w, "verification", row.verification);
  Str(w, "waiting_for", row.waiting_for);
  Key(w, "subject_ids");
  w.StartArray();
  for (const auto& id : row.subject_ids) w.String(id.c_str());
  w.EndArray();
  Str(w, "received_at", row.received_at.ToString());
  Str(w, "clock_started_on", Date(row.clock_started_at));
  Str(w, "due_on", Date(row.due_at));
  Str(w, "outcome", row.outcome);
}

void PrintView(const engine::RequestView& view, std::ostream& out) {
  const store::RequestRow& row = view.row;
  out << "request " << row.request_id << ": " << row.type << ", "
      << store::RequestStateName(row.state) << "\n";
  out << "  intake " << row.intake << ", identity "
      << (row.verification.empty() ? "not verified" : row.verification) << "\n";
  out << "  received " << row.received_at.ToString() << "; month from "
      << Date(row.clock_started_at) << "; due " << Date(row.due_at)
      << (row.waiting_for.empty() ? "" : "; waiting for " + row.waiting_for) << "\n";
  out << "  subjects " << JoinIds(row.subject_ids) << "\n";
  if (!row.outcome.empty()) out << "  outcome: " << row.outcome << "\n";
  if (view.personal_parts_shredded) {
    out << "  personal parts shredded: only this history remains\n";
  } else if (!view.contact.value.empty()) {
    out << "  contact " << view.contact.kind << " " << view.contact.value << "\n";
  }
  for (const auto& item : view.items) {
    out << "  " << item.action << " " << item.subject_id
        << (item.category.empty() ? "" : " " + item.category)
        << (item.reason.empty() ? "" : ": " + item.reason) << "\n";
  }
  out << "  history:\n";
  for (const auto& event : view.history) {
    out << "    " << event.at.ToString() << " " << event.event << " ("
        << store::RequestStateName(event.state) << ")"
        << (event.detail.empty() ? "" : ": " + event.detail) << "\n";
  }
  if (!view.outbox.empty()) out << "  outbox:\n";
  for (const auto& message : view.outbox) {
    out << "    " << message.outbox_id << " " << message.kind << " " << message.target << " "
        << store::OutboxStateName(message.state) << "\n";
  }
}

int Open(Session& s, const Args& a, std::ostream& out, std::ostream& err,
         const std::string& usage) {
  if (a.positional.size() != 1) return Usage(err, usage);
  engine::NewRequest request;
  request.type = a.positional[0];
  if (const auto* id = a.Option("--id")) request.request_id = *id;
  if (const auto* email = a.Option("--email")) request.contact = {"email", *email};
  if (const auto* phone = a.Option("--phone")) request.contact = {"phone", *phone};
  if (const auto* subject = a.Option("--subject")) {
    request.intake = "staff";
    request.subject_id = *subject;
    if (const auto* method = a.Option("--verified-by")) request.verification = *method;
  }
  for (const auto& [name, value] : a.options) {
    if (name == "--category") request.categories.push_back(value);
    if (name == "--rectify") {
      auto eq = value.find('=');
      if (eq == std::string::npos || eq == 0) {
        return Fail(err, Status(ErrorCode::kInvalidArgument,
                                "--rectify takes CATEGORY=VALUE (the corrected value)"));
      }
      request.rectifications.push_back({value.substr(0, eq), value.substr(eq + 1)});
    }
  }
  if (const auto* purpose = a.Option("--purpose")) request.purpose = *purpose;
  if (const auto* note = a.Option("--note")) request.note = *note;
  auto at = TimeOption(a, "--at");
  if (!at.ok()) return Fail(err, at.status());
  request.at = *at;
  request.actor = "cli";
  auto opened = s.engine().OpenRequest(request);
  if (!opened.ok()) return Fail(err, opened.status());
  if (s.options().json) {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    Str(w, "request_id", opened->request_id);
    Str(w, "state", store::RequestStateName(opened->state));
    Str(w, "due_on", Date(opened->due_at));
    w.EndObject();
    out << buffer.GetString() << "\n";
  } else {
    out << opened->request_id << " " << store::RequestStateName(opened->state)
        << (opened->due_at ? ", due " + opened->due_at->Date().ToString() : "") << "\n";
  }
  return kExitOk;
}

}  // namespace

int RequestCommand(Session& s, const std::vector<std::string>& args, std::ostream& out,
                   std::ostream& err) {
  const std::string usage =
      "request open TYPE (--email E | --phone P | --subject S [--verified-by METHOD]) [--id R]\n"
      "         [--category C]... [--purpose P] [--rectify CATEGORY=VALUE]... [--note TEXT]\n"
      "       | request verify R CODE | request verify R --staff METHOD [--subject S]\n"
      "       | request resend R | request wait R clarification|fee | request answered R\n"
      "       | request extend R complex|numerous | request refuse R REASON | request withdraw R\n"
      "       | request fulfil R [--outcome TEXT] | request show R [--field F]\n"
      "       | request list [--open|--due-soon|--overdue] [--within DAYS] [--as-of TIME]\n"
      "       | request document R json|html|csv | request recipients R\n"
      "       | request plan R [--json] | request waive-system R SYSTEM --reason TEXT\n"
      "       | request purge [--as-of TIME]        (every verb takes --at TIME)";
  if (args.empty()) return Usage(err, usage);
  const std::string& verb = args[0];
  // The organisation's own systems (systems_commands.cc).
  if (verb == "plan") return RequestPlanCommand(s, args, out, err);
  if (verb == "waive-system") return RequestWaiveSystemCommand(s, args, out, err);
  std::vector<std::string> rest(args.begin() + 1, args.end());
  auto parsed = ParseArgs(
      rest,
      {"--id", "--email", "--phone", "--subject", "--verified-by", "--category", "--purpose",
       "--rectify", "--note", "--at", "--staff", "--outcome", "--field", "--within", "--as-of"},
      {"--open", "--due-soon", "--overdue"});
  if (!parsed.ok()) return Fail(err, parsed.status());
  const Args& a = *parsed;
  auto at = TimeOption(a, "--at");
  if (!at.ok()) return Fail(err, at.status());
  engine::Engine& engine = s.engine();
  auto done = [&](const Status& status, const std::string& id) {
    if (!status.ok()) return Fail(err, status);
    auto row = engine.ViewRequest(id, "cli");
    if (!row.ok()) return Fail(err, row.status());
    bool open = engine::IsOpen(row->row.state);
    out << id << " " << store::RequestStateName(row->row.state)
        << (open && row->row.due_at ? ", due " + row->row.due_at->Date().ToString() : "")
        << (row->row.waiting_for.empty() ? "" : ", waiting for " + row->row.waiting_for) << "\n";
    return kExitOk;
  };

  if (verb == "open") return Open(s, a, out, err, usage);
  if (verb == "list" || verb == "purge") {
    if (!a.positional.empty()) return Usage(err, usage);
    auto as_of = TimeOption(a, "--as-of");
    if (!as_of.ok()) return Fail(err, as_of.status());
    if (verb == "purge") {
      auto purged = engine.PurgeClosedRequests(*as_of, "cli");
      if (!purged.ok()) return Fail(err, purged.status());
      out << *purged << " request(s) shredded\n";
      return kExitOk;
    }
    engine::RequestListFilter filter = a.Flag("--due-soon")  ? engine::RequestListFilter::kDueSoon
                                       : a.Flag("--overdue") ? engine::RequestListFilter::kOverdue
                                       : a.Flag("--open")    ? engine::RequestListFilter::kOpen
                                                             : engine::RequestListFilter::kAll;
    int within = 7;
    if (const auto* text = a.Option("--within")) {
      auto days = IdArgument(*text, "--within");
      if (!days.ok()) return Fail(err, days.status());
      within = static_cast<int>(*days);
    }
    auto rows = engine.ListRequests(filter, *as_of, within);
    if (!rows.ok()) return Fail(err, rows.status());
    if (s.options().json) {
      rapidjson::StringBuffer buffer;
      JsonWriter w(buffer);
      w.StartArray();
      for (const auto& row : *rows) {
        w.StartObject();
        WriteRow(w, row);
        w.EndObject();
      }
      w.EndArray();
      out << buffer.GetString() << "\n";
      return kExitOk;
    }
    if (rows->empty()) out << "no requests\n";
    for (const auto& row : *rows) {
      out << row.request_id << " " << row.type << " " << store::RequestStateName(row.state)
          << " due " << Date(row.due_at) << "\n";
    }
    return kExitOk;
  }
  if (a.positional.empty()) return Usage(err, usage);
  const std::string& id = a.positional[0];
  if (verb == "verify") {
    if (const auto* method = a.Option("--staff")) {
      std::string subject = a.Option("--subject") ? *a.Option("--subject") : "";
      return done(engine.VerifyRequestByStaff(id, *method, subject, *at, "cli"), id);
    }
    if (a.positional.size() != 2) return Usage(err, usage);
    auto secret = engine.VerifyRequest(id, a.positional[1], *at);
    if (!secret.ok()) return Fail(err, secret.status());
    int code = done(Status::Ok(), id);
    if (code == kExitOk && !s.options().json) err << "requester secret: " << *secret << "\n";
    return code;
  }
  if (verb == "resend") return done(engine.ResendRequestCode(id, *at, "cli"), id);
  if (verb == "answered") return done(engine.RequesterAnswered(id, *at, "cli"), id);
  if (verb == "withdraw") return done(engine.WithdrawRequest(id, *at, "cli"), id);
  if (verb == "wait" || verb == "extend" || verb == "refuse" || verb == "document") {
    if (a.positional.size() != 2) return Usage(err, usage);
    const std::string& what = a.positional[1];
    if (verb == "wait") return done(engine.AwaitRequester(id, what, *at, "cli"), id);
    if (verb == "extend") return done(engine.ExtendRequest(id, what, *at, "cli"), id);
    if (verb == "refuse") return done(engine.RefuseRequest(id, what, *at, "cli"), id);
    auto document = engine.RequestDocument(id, what, "cli");
    if (!document.ok()) return Fail(err, document.status());
    out << *document << (document->empty() || document->back() != '\n' ? "\n" : "");
    return kExitOk;
  }
  if (a.positional.size() != 1) return Usage(err, usage);
  if (verb == "fulfil") {
    std::string outcome = a.Option("--outcome") ? *a.Option("--outcome") : "";
    auto view = engine.FulfilRequest(id, outcome, *at, "cli");
    if (!view.ok()) return Fail(err, view.status());
    out << id << " " << store::RequestStateName(view->row.state) << ": " << view->row.outcome
        << "\n";
    for (const auto& item : view->items) {
      if (item.action != "kept") continue;
      out << "  kept " << item.subject_id << " " << item.category << ": " << item.reason << "\n";
    }
    return kExitOk;
  }
  if (verb == "show") {
    auto view = engine.ViewRequest(id, "cli");
    if (!view.ok()) return Fail(err, view.status());
    if (const auto* field = a.Option("--field")) {
      bool known = false;
      std::string value = Field(view->row, *field, &known);
      if (!known) {
        return Fail(err, Status(ErrorCode::kInvalidArgument,
                                "--field is one of state, due, clock, subjects, waiting, outcome, "
                                "verification, intake, type"));
      }
      out << value << "\n";
      return kExitOk;
    }
    if (s.options().json) {
      rapidjson::StringBuffer buffer;
      JsonWriter w(buffer);
      w.StartObject();
      WriteRow(w, view->row);
      Key(w, "history");
      w.StartArray();
      for (const auto& event : view->history) {
        w.StartObject();
        Str(w, "at", event.at.ToString());
        Str(w, "event", event.event);
        Str(w, "state", store::RequestStateName(event.state));
        Str(w, "detail", event.detail);
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
      out << buffer.GetString() << "\n";
      return kExitOk;
    }
    PrintView(*view, out);
    return kExitOk;
  }
  if (verb == "recipients") {
    auto notices = engine.RequestRecipients(id);
    if (!notices.ok()) return Fail(err, notices.status());
    if (notices->empty()) out << "no recipients notified\n";
    for (const auto& notice : *notices) {
      out << notice.recipient << " (" << notice.name << "): ";
      for (size_t i = 0; i < notice.categories.size(); ++i) {
        out << (i ? "," : "") << notice.categories[i];
      }
      out << " " << store::OutboxStateName(notice.state) << "\n";
    }
    return kExitOk;
  }
  return Usage(err, usage);
}

int OutboxCommand(Session& s, const std::vector<std::string>& args, std::ostream& out,
                  std::ostream& err) {
  const std::string usage =
      "outbox list [--request R] | outbox read ID [--field "
      "to|subject|body|code|unsubscribe_token]\n"
      "       | outbox read --request R --last [--field F] | outbox deliver [--max N] [--mail "
      "FILE]";
  if (args.empty()) return Usage(err, usage);
  std::vector<std::string> rest(args.begin() + 1, args.end());
  auto parsed = ParseArgs(rest, {"--request", "--field", "--max", "--mail"}, {"--last"});
  if (!parsed.ok()) return Fail(err, parsed.status());
  const Args& a = *parsed;
  if (args[0] == "deliver") {
    // One pass of what `custos serve` does every --deliver-every seconds.
    if (!a.positional.empty()) return Usage(err, usage);
    int64_t max = 100;
    if (const auto* text = a.Option("--max")) {
      auto n = IdArgument(*text, "--max");
      if (!n.ok()) return Fail(err, n.status());
      if (*n > 1000) {
        return Fail(err, Status(ErrorCode::kInvalidArgument, "--max is at most 1000 a pass"));
      }
      max = *n;
    }
    delivery::CurlWebhookSender sender;
    std::optional<delivery::SmtpSender> mail;
    if (const auto* path = a.Option("--mail")) {
      auto config = delivery::LoadMailConfig(*path);
      if (!config.ok()) return Fail(err, config.status());
      mail.emplace(s.engine().policy(), std::move(*config));
    }
    delivery::OutboxDispatcher dispatcher(s.engine(), sender, mail ? &*mail : nullptr);
    auto counts = dispatcher.RunOnce(static_cast<size_t>(max));
    if (!counts.ok()) return Fail(err, counts.status());
    for (const auto& o : counts->outcomes) {
      out << o.outbox_id << " " << o.target << " " << store::OutboxStateName(o.state)
          << (o.error.empty() ? "" : " (" + o.error + ")") << "\n";
    }
    out << "claimed " << counts->claimed << ", delivered " << counts->delivered << ", failed "
        << counts->failed << ", dead " << counts->dead << ", deferred " << counts->deferred << "\n";
    return kExitOk;
  }
  std::string request = a.Option("--request") ? *a.Option("--request") : "";
  auto messages = s.store().ListOutbox(s.engine().controller(), request);
  if (!messages.ok()) return Fail(err, messages.status());
  if (args[0] == "list") {
    if (messages->empty()) out << "outbox empty\n";
    for (const auto& m : *messages) {
      out << m.outbox_id << " " << m.request_id << " " << m.kind << " " << m.target << " "
          << store::OutboxStateName(m.state) << " attempts " << m.attempts
          << (m.last_error.empty() ? "" : " (" + m.last_error + ")") << "\n";
    }
    return kExitOk;
  }
  if (args[0] != "read") return Usage(err, usage);
  int64_t outbox_id = 0;
  if (a.Flag("--last")) {
    if (messages->empty()) return Fail(err, Status(ErrorCode::kNotFound, "no outbox message"));
    outbox_id = messages->back().outbox_id;
  } else {
    if (a.positional.size() != 1) return Usage(err, usage);
    auto parsed_id = IdArgument(a.positional[0], "outbox message id");
    if (!parsed_id.ok()) return Fail(err, parsed_id.status());
    outbox_id = *parsed_id;
  }
  auto payload = s.engine().ReadOutboxMessage(outbox_id, "cli");
  if (!payload.ok()) return Fail(err, payload.status());
  const std::string* field = a.Option("--field");
  if (field == nullptr) {
    out << *payload << "\n";
    return kExitOk;
  }
  rapidjson::Document doc;
  doc.Parse(payload->c_str(), payload->size());
  const char* name = field->c_str();
  if (!doc.IsObject()) return Fail(err, Status(ErrorCode::kInternal, "payload is not JSON"));
  if (*field == "to" && doc.HasMember("to") && doc["to"].IsObject() &&
      doc["to"].HasMember("value") && doc["to"]["value"].IsString()) {
    out << doc["to"]["value"].GetString() << "\n";
    return kExitOk;
  }
  if (!doc.HasMember(name) || !doc[name].IsString()) {
    return Fail(err, Status(ErrorCode::kNotFound, "the message has no field " + *field));
  }
  out << doc[name].GetString() << "\n";
  return kExitOk;
}

int EndpointCommand(Session& s, const std::vector<std::string>& args, std::ostream& out,
                    std::ostream& err) {
  const std::string usage =
      "endpoint set RECIPIENT URL --secret S | endpoint set requester smtp[s]://HOST[:PORT]"
      " | endpoint list";
  if (args.empty()) return Usage(err, usage);
  std::vector<std::string> rest(args.begin() + 1, args.end());
  auto parsed = ParseArgs(rest, {"--secret", "--at"}, {});
  if (!parsed.ok()) return Fail(err, parsed.status());
  const Args& a = *parsed;
  if (args[0] == "list") {
    auto endpoints = s.store().ListRecipientEndpoints(s.engine().controller());
    if (!endpoints.ok()) return Fail(err, endpoints.status());
    if (endpoints->empty()) out << "no endpoints\n";
    for (const auto& e : *endpoints) {
      out << e.recipient << " " << e.url << " (set " << e.updated_at.ToString() << ")\n";
    }
    return kExitOk;
  }
  if (args[0] != "set" || a.positional.size() != 2) return Usage(err, usage);
  // A webhook needs its secret; a mail server takes none (its credentials are in the mail
  // configuration, never on a command line).
  const bool mail = engine::IsMailServerUrl(a.positional[1]);  // engine/mail_endpoint.h
  if (mail == (a.Option("--secret") != nullptr)) return Usage(err, usage);
  auto at = TimeOption(a, "--at");
  if (!at.ok()) return Fail(err, at.status());
  Status url_ok = delivery::CheckEndpointUrl(a.positional[1]);
  if (!url_ok.ok()) return Fail(err, url_ok);
  Status set = s.engine().SetRecipientEndpoint(a.positional[0], a.positional[1],
                                               mail ? "" : *a.Option("--secret"), *at, "cli");
  if (!set.ok()) return Fail(err, set);
  out << "endpoint for " << a.positional[0] << " set\n";
  return kExitOk;
}

}  // namespace custos::cli
