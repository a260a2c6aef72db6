// `custos breach record|list|show|assess|update|report|tell|close|export`: the breach register
// over a data directory, through the engine's calls (engine_breach.cc), as the API's routes do.
#include "cli/breach_commands.h"

#include <fstream>
#include <ostream>

#include "cli/command_helpers.h"
#include "engine/breach.h"

namespace custos::cli {

using deployment::Session;

namespace {

constexpr char kUsage[] =
    "breach record --nature TEXT --discovered TIME [--aware TIME] --category C [--category C...]\n"
    "      [--purpose P...] [--subject-type T...] [--from TIME] [--to TIME] [--how TEXT]\n"
    "      [--cyber] [--consequences TEXT] [--measures TEXT] [--risk R --reasoning TEXT] [--id "
    "ID]\n"
    "  | breach list | breach show ID | breach tell ID | breach close ID\n"
    "  | breach assess ID --risk unassessed|none|risk|high_risk --reasoning TEXT\n"
    "  | breach update ID [--nature T] [--how T] [--consequences T] [--measures T]\n"
    "      [--not-told-reason T] [--category C... --from TIME --to TIME ...]\n"
    "  | breach report ID --reported TIME [--reference REF] [--delay-reason TEXT]\n"
    "  | breach export ID [--format json|html] [--output FILE]";

const std::vector<std::string> kValued = {"--nature",       "--discovered",   "--aware",
                                          "--category",     "--purpose",      "--subject-type",
                                          "--from",         "--to",           "--how",
                                          "--consequences", "--measures",     "--risk",
                                          "--reasoning",    "--id",           "--reported",
                                          "--reference",    "--delay-reason", "--not-told-reason",
                                          "--format",       "--output",       "--at"};

std::optional<std::string> Text(const Args& a, const std::string& name) {
  const std::string* value = a.Option(name);
  return value ? std::optional<std::string>(*value) : std::nullopt;
}

// The scope given by --category, --purpose, --subject-type, --from and --to; nullopt when none
// of them is given (an update that leaves the scope as it is).
Result<std::optional<engine::BreachScope>> ScopeOptions(const Args& a) {
  engine::BreachScope scope;
  scope.categories = a.All("--category");
  scope.purposes = a.All("--purpose");
  scope.subject_types = a.All("--subject-type");
  ASSIGN_OR_RETURN(scope.from, TimeOption(a, "--from"));
  ASSIGN_OR_RETURN(scope.to, TimeOption(a, "--to"));
  if (scope.categories.empty() && scope.purposes.empty() && scope.subject_types.empty() &&
      !scope.from && !scope.to) {
    return std::optional<engine::BreachScope>();
  }
  return std::optional<engine::BreachScope>(std::move(scope));
}

void PrintBreach(const engine::Breach& b, const policy::Policy& policy, Timestamp now,
                 std::ostream& out) {
  const engine::BreachClock clock = engine::RegulatorClock(policy, b, now);
  out << "breach " << b.id << ": risk " << b.risk << ", " << b.details.people << " people, "
      << b.details.records << " records; aware " << b.aware_at.ToString() << "; ";
  if (b.closed_at) {
    out << "closed " << b.closed_at->ToString();
  } else if (clock.reported) {
    out << "reported " << b.reported_at->ToString() << (clock.reported_late ? " (late)" : "");
  } else if (!clock.report_needed) {
    out << "no report needed";
  } else {
    out << (clock.overdue ? "OVERDUE: report was due " : "report due ") << clock.due_at.ToString();
  }
  if (engine::PeopleMustBeTold(policy, b)) {
    out << "; people "
        << (b.details.people_told_at ? "told " + b.details.people_told_at->ToString()
                                     : std::string("must be told"));
  }
  out << "\n";
}

int Show(Session& s, const Result<engine::Breach>& breach, std::ostream& out, std::ostream& err) {
  if (!breach.ok()) return Fail(err, breach.status());
  if (s.options().json) {
    out << engine::BreachJson(s.engine().policy(), *breach, s.engine().Now()) << "\n";
  } else {
    PrintBreach(*breach, s.engine().policy(), s.engine().Now(), out);
  }
  return kExitOk;
}

}  // namespace

int BreachCommand(Session& s, const std::vector<std::string>& args, std::ostream& out,
                  std::ostream& err) {
  if (args.empty()) return Usage(err, kUsage);
  auto a = ParseArgs({args.begin() + 1, args.end()}, kValued, {"--cyber"});
  if (!a.ok()) return Usage(err, kUsage, a.status());
  auto at = TimeOption(*a, "--at");
  if (!at.ok()) return Fail(err, at.status());
  const std::string& verb = args[0];
  engine::Engine& engine = s.engine();

  if (verb == "record") {
    if (!a->positional.empty()) return Usage(err, kUsage);
    engine::NewBreach breach;
    auto discovered = TimeOption(*a, "--discovered");
    if (!discovered.ok()) return Fail(err, discovered.status());
    if (!*discovered || !a->Option("--nature")) return Usage(err, kUsage);
    breach.discovered_at = **discovered;
    auto aware = TimeOption(*a, "--aware");
    if (!aware.ok()) return Fail(err, aware.status());
    breach.aware_at = *aware;
    auto scope = ScopeOptions(*a);
    if (!scope.ok()) return Fail(err, scope.status());
    if (scope->has_value()) breach.scope = **scope;
    breach.nature = *a->Option("--nature");
    breach.how_discovered = Text(*a, "--how").value_or("");
    breach.cyber_incident = a->Flag("--cyber");
    breach.consequences = Text(*a, "--consequences").value_or("");
    breach.measures = Text(*a, "--measures").value_or("");
    breach.risk = Text(*a, "--risk").value_or("unassessed");
    breach.risk_reasoning = Text(*a, "--reasoning").value_or("");
    breach.id = Text(*a, "--id").value_or("");
    return Show(s, engine.RecordBreach(breach, *at, "cli"), out, err);
  }
  if (verb == "list") {
    if (!a->positional.empty()) return Usage(err, kUsage);
    auto breaches = engine.ListBreaches("cli");
    if (!breaches.ok()) return Fail(err, breaches.status());
    if (s.options().json) {
      out << "[";
      for (size_t i = 0; i < breaches->size(); ++i) {
        out << (i ? "," : "")
            << engine::BreachJson(s.engine().policy(), (*breaches)[i], engine.Now());
      }
      out << "]\n";
    } else {
      for (const auto& b : *breaches) PrintBreach(b, s.engine().policy(), engine.Now(), out);
    }
    return kExitOk;
  }
  if (a->positional.size() != 1) return Usage(err, kUsage);
  const std::string& id = a->positional[0];
  if (verb == "show") return Show(s, engine.ViewBreach(id, "cli"), out, err);
  if (verb == "tell") return Show(s, engine.TellPeopleOfBreach(id, *at, "cli"), out, err);
  if (verb == "assess" || verb == "update" || verb == "report" || verb == "close") {
    engine::BreachChange change;
    if (verb == "assess") {
      if (!a->Option("--risk")) return Usage(err, kUsage);
      change.risk = Text(*a, "--risk");
      change.risk_reasoning = Text(*a, "--reasoning");
    } else if (verb == "update") {
      change.nature = Text(*a, "--nature");
      change.how_discovered = Text(*a, "--how");
      change.consequences = Text(*a, "--consequences");
      change.measures = Text(*a, "--measures");
      change.people_not_told_reason = Text(*a, "--not-told-reason");
      if (a->Flag("--cyber")) change.cyber_incident = true;
      auto scope = ScopeOptions(*a);
      if (!scope.ok()) return Fail(err, scope.status());
      change.scope = *scope;
    } else if (verb == "report") {
      auto reported = TimeOption(*a, "--reported");
      if (!reported.ok()) return Fail(err, reported.status());
      if (!*reported) return Usage(err, kUsage);
      change.reported_at = *reported;
      change.regulator_reference = Text(*a, "--reference");
      change.delay_reason = Text(*a, "--delay-reason");
    } else {
      change.close = true;
    }
    return Show(s, engine.ChangeBreach(id, change, *at, "cli"), out, err);
  }
  if (verb == "export") {
    const std::string format = Text(*a, "--format").value_or("json");
    if (format != "json" && format != "html") {
      return Fail(err, Status(ErrorCode::kInvalidArgument, "--format is json or html"));
    }
    auto breach = engine.ViewBreach(id, "cli");
    if (!breach.ok()) return Fail(err, breach.status());
    const std::string report =
        format == "html"
            ? engine::BreachReportHtml(s.engine().policy(), *breach, engine.Now())
            : engine::BreachReportJson(s.engine().policy(), *breach, engine.Now()) + "\n";
    if (const std::string* path = a->Option("--output")) {
      std::ofstream file(*path, std::ios::binary | std::ios::trunc);
      file << report;
      if (!file.good()) {
        return Fail(err, Status(ErrorCode::kIo, "cannot write " + *path));
      }
      return kExitOk;
    }
    out << report;
    return kExitOk;
  }
  return Usage(err, kUsage);
}

}  // namespace custos::cli
