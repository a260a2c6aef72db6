// The verbs over a data directory: init, subject, event, record, consent, preference, object,
// restrict, suppress, decide, audit. Each parses its arguments, calls one Engine function and
// prints a line a person can read (or JSON with --json). Personal values are printed only by
// `subject show` and `record get`, which are audited reads.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <ostream>

#include "cli/application_commands.h"
#include "cli/breach_commands.h"
#include "cli/command_helpers.h"
#include "cli/commands.h"
#include "cli/import_commands.h"
#include "cli/request_commands.h"
#include "cli/retention_commands.h"
#include "cli/systems_commands.h"
#include "crypto/hash_chain.h"
#include "deployment/checkpoint_file.h"
#include "deployment/session.h"
#include "engine/audit_log.h"

namespace custos::cli {

namespace {

Result<std::optional<Timestamp>> AtOption(const Args& args) { return TimeOption(args, "--at"); }

std::string StateName(store::RecordState state) {
  switch (state) {
    case store::RecordState::kActive: return "active";
    case store::RecordState::kRestricted: return "restricted";
    case store::RecordState::kAnonymised: return "anonymised";
    case store::RecordState::kErased: return "erased";
  }
  return "?";
}

using Handler = int (*)(Session&, const std::vector<std::string>&, std::ostream&, std::ostream&);

int SubjectCommand(Session& s, const std::vector<std::string>& args, std::ostream& out,
                   std::ostream& err) {
  const std::string usage =
      "subject add [ID] --type TYPE [--type TYPE] [--email E] [--phone P] [--external X] "
      "[--verified] [--at TIME] | subject show ID | subject find --email E|--phone P|--external X";
  if (args.empty()) return Usage(err, usage);
  std::vector<std::string> rest(args.begin() + 1, args.end());
  auto parsed =
      ParseArgs(rest, {"--type", "--email", "--phone", "--external", "--at"}, {"--verified"});
  if (!parsed.ok()) return Usage(err, usage, parsed.status());
  const Args& a = *parsed;
  if (args[0] == "add") {
    if (a.positional.size() > 1) return Usage(err, usage);
    engine::NewSubject request;
    if (!a.positional.empty()) request.subject_id = a.positional[0];
    for (const auto& [name, value] : a.options) {
      if (name == "--type") request.types.push_back(value);
      if (name == "--email" || name == "--phone" || name == "--external") {
        request.identifiers.push_back({name.substr(2), value, a.Flag("--verified")});
      }
    }
    auto at = AtOption(a);
    if (!at.ok()) return Fail(err, at.status());
    request.at = *at;
    request.actor = "cli";
    std::vector<engine::SharedIdentifier> shared;
    auto id = s.engine().AddSubject(request, &shared);
    if (!id.ok()) return Fail(err, id.status());
    out << *id << "\n";
    // Allowed (families share addresses), but a lookup by it now finds several people.
    for (const auto& same : shared) {
      err << "custos: warning: " << same.others << " other subject(s) already have this "
          << same.kind << "; subject find --" << same.kind << " lists them all\n";
    }
    return kExitOk;
  }
  if (args[0] == "show") {
    if (a.positional.size() != 1) return Usage(err, usage);
    auto view = s.engine().ReadSubject(a.positional[0], "cli", "subject_show");
    if (!view.ok()) return Fail(err, view.status());
    out << "subject " << view->subject.subject_id << " (";
    for (size_t i = 0; i < view->subject.types.size(); ++i) {
      out << (i ? ", " : "") << view->subject.types[i];
    }
    out << ") created " << view->subject.created_at.ToString() << "\n";
    for (const auto& id : view->identifiers) {
      out << "  identifier " << id.kind << " " << id.value << (id.verified ? " (verified)" : "")
          << "\n";
    }
    for (const auto& event : view->events) {
      out << "  event " << event.event << " " << event.at.ToString() << "\n";
    }
    for (const auto& record : view->records) {
      out << "  record " << record.record_id << " " << record.category << " = " << record.value
          << " [" << StateName(record.state) << ", " << record.source << ", for " << record.purpose
          << ", " << record.collected_at.ToString() << "]\n";
    }
    for (const auto& earlier : view->record_versions) {
      out << "  earlier value of record " << earlier.record_id << " = " << earlier.value
          << " [replaced " << earlier.replaced_at.ToString()
          << (earlier.request_id.empty() ? "" : " by request " + earlier.request_id) << "]\n";
    }
    for (const auto& consent : view->consents) {
      out << "  consent "
          << (consent.action == store::ConsentAction::kGiven ? "given " : "withdrawn ")
          << consent.target << " " << consent.at.ToString() << " via " << consent.channel
          << " (notice " << consent.notice_version << ")\n";
    }
    for (const auto& p : view->preferences) {
      out << "  preference " << p.channel << " " << (p.allowed ? "on" : "off") << " "
          << p.at.ToString() << "\n";
    }
    for (const auto& o : view->objections) {
      out << "  objection " << o.purpose << " " << o.at.ToString()
          << (o.lifted_at ? " lifted " + o.lifted_at->ToString() : "") << "\n";
    }
    for (const auto& r : view->restrictions) {
      out << "  restriction " << r.restriction_id << " " << r.reason << " " << r.at.ToString()
          << (r.lifted_at ? " lifted " + r.lifted_at->ToString() : "") << "\n";
    }
    return kExitOk;
  }
  if (args[0] == "find") {
    for (const auto& [name, value] : a.options) {
      if (name == "--email" || name == "--phone" || name == "--external") {
        auto found = s.engine().FindSubjects(name.substr(2), value, "cli");
        if (!found.ok()) return Fail(err, found.status());
        if (found->empty()) {
          return Fail(err, Status(ErrorCode::kNotFound, "no subject holds that " + name.substr(2)));
        }
        for (const auto& id : *found) out << id << "\n";
        return kExitOk;
      }
    }
    return Usage(err, usage);
  }
  return Usage(err, usage);
}

int EventCommand(Session& s, const std::vector<std::string>& args, std::ostream& out,
                 std::ostream& err) {
  const std::string usage = "event SUBJECT EVENT [--at TIME]";
  auto a = ParseArgs(args, {"--at"}, {});
  if (!a.ok() || a->positional.size() != 2) return Usage(err, usage, a.status());
  auto at = AtOption(*a);
  if (!at.ok()) return Fail(err, at.status());
  Status status = s.engine().RecordEvent(a->positional[0], a->positional[1], *at, "cli");
  if (!status.ok()) return Fail(err, status);
  out << "recorded " << a->positional[1] << " for " << a->positional[0] << "\n";
  return kExitOk;
}

// `disclose SUBJECT RECIPIENT PURPOSE CATEGORY...`: the disclosure log.
int DiscloseCommand(Session& s, const std::vector<std::string>& args, std::ostream& out,
                    std::ostream& err) {
  const std::string usage = "disclose SUBJECT RECIPIENT PURPOSE CATEGORY... [--at TIME]";
  auto a = ParseArgs(args, {"--at"}, {});
  if (!a.ok() || a->positional.size() < 4) return Usage(err, usage, a.status());
  auto at = AtOption(*a);
  if (!at.ok()) return Fail(err, at.status());
  const std::vector<std::string>& p = a->positional;
  engine::Disclosure disclosure{p[0], p[1], p[2], {p.begin() + 3, p.end()}, *at, "cli"};
  auto id = s.engine().RecordDisclosure(disclosure);
  if (!id.ok()) return Fail(err, id.status());
  out << "disclosure " << *id << ": " << p[0] << " to " << p[1] << "\n";
  return kExitOk;
}

int RecordCommand(Session& s, const std::vector<std::string>& args, std::ostream& out,
                  std::ostream& err) {
  const std::string usage =
      "record put SUBJECT CATEGORY VALUE --source SOURCE --purpose PURPOSE [--at TIME] | "
      "record state SUBJECT CATEGORY";
  if (args.empty()) return Usage(err, usage);
  auto a = ParseArgs({args.begin() + 1, args.end()}, {"--source", "--purpose", "--at"}, {});
  if (!a.ok()) return Usage(err, usage, a.status());
  if (args[0] == "put") {
    const std::string* source = a->Option("--source");
    const std::string* purpose = a->Option("--purpose");
    if (a->positional.size() != 3 || !source || !purpose) return Usage(err, usage);
    auto at = AtOption(*a);
    if (!at.ok()) return Fail(err, at.status());
    engine::NewRecord request{
        a->positional[0], a->positional[1], a->positional[2], *source, *purpose, *at, "cli"};
    auto id = s.engine().PutRecord(request);
    if (!id.ok()) return Fail(err, id.status());
    out << "record " << *id << "\n";
    return kExitOk;
  }
  if (args[0] == "state") {
    if (a->positional.size() != 2) return Usage(err, usage);
    auto records = s.store().ListRecords(s.engine().controller(), a->positional[0]);
    if (!records.ok()) return Fail(err, records.status());
    std::string state = "absent";
    for (const auto& record : *records) {
      if (record.category == a->positional[1]) state = StateName(record.state);
    }
    auto subject = s.store().GetSubject(s.engine().controller(), a->positional[0]);
    if (subject.ok() && subject->has_value() && (*subject)->state == store::SubjectState::kErased &&
        state != "absent" && state != "anonymised") {
      state = "erased";
    }
    out << state << "\n";
    return kExitOk;
  }
  return Usage(err, usage);
}

int ConsentCommand(Session& s, const std::vector<std::string>& args, std::ostream& out,
                   std::ostream& err) {
  const std::string usage =
      "consent give|withdraw SUBJECT PURPOSE [--cookie] [--channel C] [--evidence E] "
      "[--notice-version V] [--at TIME] | consent export SUBJECT";
  if (args.empty()) return Usage(err, usage);
  auto a = ParseArgs({args.begin() + 1, args.end()},
                     {"--channel", "--evidence", "--notice-version", "--at"}, {"--cookie"});
  if (!a.ok()) return Usage(err, usage, a.status());
  if (args[0] == "export") {
    if (a->positional.size() != 1) return Usage(err, usage);
    auto json = s.engine().ExportConsentRecords(a->positional[0], "cli");
    if (!json.ok()) return Fail(err, json.status());
    out << *json << "\n";
    return kExitOk;
  }
  if ((args[0] != "give" && args[0] != "withdraw") || a->positional.size() != 2) {
    return Usage(err, usage);
  }
  auto at = AtOption(*a);
  if (!at.ok()) return Fail(err, at.status());
  engine::ConsentChangeRequest request;
  request.subject_id = a->positional[0];
  request.target = a->positional[1];
  request.cookie = a->Flag("--cookie");
  request.given = args[0] == "give";
  if (const auto* channel = a->Option("--channel")) request.channel = *channel;
  if (const auto* evidence = a->Option("--evidence")) request.evidence = *evidence;
  if (const auto* version = a->Option("--notice-version")) request.notice_version = *version;
  request.at = *at;
  request.actor = "cli";
  Status status = s.engine().ChangeConsent(request);
  if (!status.ok()) return Fail(err, status);
  out << "consent " << (request.given ? "given" : "withdrawn") << ": " << request.target << "\n";
  return kExitOk;
}

int PreferenceCommand(Session& s, const std::vector<std::string>& args, std::ostream& out,
                      std::ostream& err) {
  const std::string usage = "preference set SUBJECT CHANNEL on|off [--at TIME]";
  if (args.empty() || args[0] != "set") return Usage(err, usage);
  auto a = ParseArgs({args.begin() + 1, args.end()}, {"--at"}, {});
  if (!a.ok() || a->positional.size() != 3 ||
      (a->positional[2] != "on" && a->positional[2] != "off")) {
    return Usage(err, usage);
  }
  auto at = AtOption(*a);
  if (!at.ok()) return Fail(err, at.status());
  Status status = s.engine().SetPreference(a->positional[0], a->positional[1],
                                           a->positional[2] == "on", *at, "cli");
  if (!status.ok()) return Fail(err, status);
  out << "preference " << a->positional[1] << " " << a->positional[2] << "\n";
  return kExitOk;
}

int ObjectCommand(Session& s, const std::vector<std::string>& args, std::ostream& out,
                  std::ostream& err) {
  const std::string usage = "object SUBJECT PURPOSE|direct_marketing|'*' [--lift] [--at TIME]";
  auto a = ParseArgs(args, {"--at"}, {"--lift"});
  if (!a.ok() || a->positional.size() != 2) return Usage(err, usage, a.status());
  auto at = AtOption(*a);
  if (!at.ok()) return Fail(err, at.status());
  Status status = a->Flag("--lift")
                      ? s.engine().LiftObjection(a->positional[0], a->positional[1], *at, "cli")
                      : s.engine().Object(a->positional[0], a->positional[1], *at, "cli");
  if (!status.ok()) return Fail(err, status);
  out << (a->Flag("--lift") ? "objection lifted: " : "objection recorded: ") << a->positional[1]
      << "\n";
  return kExitOk;
}

int RestrictCommand(Session& s, const std::vector<std::string>& args, std::ostream& out,
                    std::ostream& err) {
  const std::string usage =
      "restrict SUBJECT [CATEGORY...] --reason REASON [--at TIME] | restrict SUBJECT --lift ID";
  auto a = ParseArgs(args, {"--reason", "--at", "--lift"}, {});
  if (!a.ok() || a->positional.empty()) return Usage(err, usage, a.status());
  auto at = AtOption(*a);
  if (!at.ok()) return Fail(err, at.status());
  if (const auto* lift = a->Option("--lift")) {
    Status status =
        s.engine().LiftRestriction(a->positional[0], std::atoll(lift->c_str()), *at, "cli");
    if (!status.ok()) return Fail(err, status);
    out << "restriction lifted: " << *lift << "\n";
    return kExitOk;
  }
  const std::string* reason = a->Option("--reason");
  if (reason == nullptr) return Usage(err, usage);
  std::vector<std::string> categories(a->positional.begin() + 1, a->positional.end());
  auto id = s.engine().Restrict(a->positional[0], categories, *reason, *at, "cli");
  if (!id.ok()) return Fail(err, id.status());
  out << "restriction " << *id << "\n";
  return kExitOk;
}

int SuppressCommand(Session& s, const std::vector<std::string>& args, std::ostream& out,
                    std::ostream& err) {
  const std::string usage = "suppress --email E|--phone P|--external X --reason REASON";
  auto a = ParseArgs(args, {"--email", "--phone", "--external", "--reason", "--at"}, {});
  if (!a.ok()) return Usage(err, usage, a.status());
  const std::string* reason = a->Option("--reason");
  auto at = AtOption(*a);
  if (!at.ok()) return Fail(err, at.status());
  for (const auto& [name, value] : a->options) {
    if (name == "--email" || name == "--phone" || name == "--external") {
      Status status = s.engine().Suppress(name.substr(2), value,
                                          reason ? *reason : "marketing_opt_out", *at, "cli");
      if (!status.ok()) return Fail(err, status);
      out << "suppressed " << name.substr(2) << "\n";
      return kExitOk;
    }
  }
  return Usage(err, usage);
}

int DecideCommand(Session& s, const std::vector<std::string>& args, std::ostream& out,
                  std::ostream& err) {
  const std::string usage = "decide SUBJECT PURPOSE CATEGORY... [--channel C] [--at TIME]";
  auto a = ParseArgs(args, {"--channel", "--at"}, {});
  if (!a.ok() || a->positional.size() < 3) return Usage(err, usage, a.status());
  auto at = AtOption(*a);
  if (!at.ok()) return Fail(err, at.status());
  engine::DecisionRequest request;
  request.subject_id = a->positional[0];
  request.purpose = a->positional[1];
  request.categories.assign(a->positional.begin() + 2, a->positional.end());
  if (const auto* channel = a->Option("--channel")) request.channel = *channel;
  request.at = at->value_or(s.engine().Now());
  request.actor = "cli";
  auto decided = s.engine().Decide(request);
  if (!decided.ok()) return Fail(err, decided.status());  // unaudited: no decision is given
  const engine::Decision& decision = *decided;
  if (s.options().json) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("allow");
    w.Bool(decision.allow);
    w.Key("basis");
    w.String(decision.basis.c_str());
    w.Key("at");
    w.String(decision.at.ToString().c_str());
    w.Key("reasons");
    w.StartArray();
    for (const auto& reason : decision.reasons) {
      w.StartObject();
      w.Key("code");
      w.String(std::string(CodeName(reason.code)).c_str());
      w.Key("detail");
      w.String(reason.detail.c_str());
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    out << buffer.GetString() << "\n";
  } else if (decision.allow) {
    out << "allow\n";
  } else {
    out << "deny";
    for (const auto& reason : decision.reasons) out << " " << CodeName(reason.code);
    out << "\n";
  }
  return decision.allow ? kExitOk : kExitRefused;
}

int AuditCommand(Session& s, const std::vector<std::string>& args, std::ostream& out,
                 std::ostream& err) {
  if (args.size() != 1 || (args[0] != "verify" && args[0] != "checkpoint")) {
    return Usage(err, "audit verify|checkpoint");
  }
  if (args[0] == "checkpoint") {
    auto checkpoint = deployment::PublishCheckpoint(s.engine(), s.checkpoint_path());
    if (!checkpoint.ok()) return Fail(err, checkpoint.status());
    out << "audit checkpoint: seq " << checkpoint->seq << " hash "
        << crypto::ToHex(checkpoint->hash) << " at " << checkpoint->at.ToString() << " public key "
        << crypto::ToHex(checkpoint->public_key) << "\n";
    return kExitOk;
  }
  auto result = deployment::VerifyAudit(s.engine(), s.checkpoint_path());
  if (!result.ok()) return Fail(err, result.status());
  if (!result->intact()) {
    err << "custos: error AUDIT_CHAIN_BROKEN: " << result->problem << " ("
        << result->entries_checked << " entries checked)\n";
    return kExitRefused;
  }
  out << "audit log intact: " << result->entries_checked << " entries";
  if (result->unkeyed_entries > 0) {
    out << "; entries 1.." << result->unkeyed_entries
        << " were written before the log was keyed and are checked without the key";
  }
  out << "\n";
  return kExitOk;
}

// After a command that appended to the audit log: signs the new head and keeps it beside the
// master key. A refusal (the log no longer holds the last checkpoint) is reported, never
// papered over; the command's own result stands.
void PublishCheckpointAfterWrite(Session& s, int64_t head_before, std::ostream& err) {
  if (s.engine().audit().head_seq() == head_before) return;
  auto checkpoint = deployment::PublishCheckpoint(s.engine(), s.checkpoint_path());
  if (!checkpoint.ok()) {
    err << "custos: warning " << CodeName(checkpoint.status().code()) << ": "
        << checkpoint.status().message() << "\n";
  }
}

// Every verb over a data directory but `init`, with its handler.
const std::vector<std::pair<std::string, Handler>>& DataHandlers() {
  static const std::vector<std::pair<std::string, Handler>> handlers = {
      {"subject", SubjectCommand},       {"event", EventCommand},
      {"record", RecordCommand},         {"consent", ConsentCommand},
      {"preference", PreferenceCommand}, {"object", ObjectCommand},
      {"restrict", RestrictCommand},     {"suppress", SuppressCommand},
      {"decide", DecideCommand},         {"audit", AuditCommand},
      {"retention", RetentionCommand},   {"hold", HoldCommand},
      {"review", ReviewCommand},         {"aggregate", AggregateCommand},
      {"request", RequestCommand},       {"outbox", OutboxCommand},
      {"endpoint", EndpointCommand},     {"import", ImportCommand},
      {"breach", BreachCommand},         {"disclose", DiscloseCommand},
      {"systems", SystemsCommand},       {"application", ApplicationCommand},
  };
  return handlers;
}

}  // namespace

int RunDataCommand(const deployment::Options& options, const std::vector<std::string>& args,
                   std::ostream& out, std::ostream& err) {
  const std::string& verb = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (verb == "init") {
    auto a = ParseArgs(rest, {"--policy"}, {});
    if (!a.ok() || !a->Option("--policy") || !a->positional.empty()) {
      return Usage(err, "init --policy FILE [--controller KEY] [--master-key PATH]");
    }
    auto session = Session::Init(options, *a->Option("--policy"));
    if (!session.ok()) return Fail(err, session.status());
    PublishCheckpointAfterWrite(**session, -1, err);
    out << "initialised "
        << (options.database_url.empty() ? options.data_dir : "the PostgreSQL database") << " for "
        << (*session)->engine().controller() << " ("
        << (*session)->engine().policy().controller.name << ", notice "
        << (*session)->engine().policy().notice.version << ")\n";
    return kExitOk;
  }
  for (const auto& [name, handler] : DataHandlers()) {
    if (name != verb) continue;
    auto session = Session::Open(options);
    if (!session.ok()) return Fail(err, session.status());
    const int64_t head_before = (*session)->engine().audit().head_seq();
    int code = handler(**session, rest, out, err);
    Status flushed = (*session)->engine().Flush();
    if (!flushed.ok()) return Fail(err, flushed);
    if (verb != "audit") PublishCheckpointAfterWrite(**session, head_before, err);
    return code;
  }
  err << "custos: unknown command '" << verb << "' (try: custos help)\n";
  return kExitUsage;
}

bool IsDataCommand(const std::string& verb) {
  if (verb == "init") return true;
  for (const auto& entry : DataHandlers()) {
    if (verb == entry.first) return true;
  }
  return false;
}

}  // namespace custos::cli
