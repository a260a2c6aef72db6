// `custos systems check|sweep`, `custos request plan R`, `custos request waive-system R SYSTEM`.
#include "cli/systems_commands.h"

#include <ostream>

#include "cli/command_helpers.h"
#include "engine/systems_json.h"

namespace custos::cli {

using deployment::Session;

namespace {

constexpr char kSystemsUsage[] =
    "systems check [--json] | systems sweep [--apply] [--batch N] [--at TIME] [--json]";

std::string FieldWords(const engine::FieldStep& field) {
  if (field.kept) return field.field + " kept (" + field.kept->ground + ")";
  return field.field + " " + std::string(policy::EraseActionKey(field.action));
}

}  // namespace

int SystemsCommand(Session& s, const std::vector<std::string>& args, std::ostream& out,
                   std::ostream& err) {
  if (args.empty()) return Usage(err, kSystemsUsage);
  std::vector<std::string> rest(args.begin() + 1, args.end());
  auto parsed = ParseArgs(rest, {"--batch", "--at"}, {"--apply"});
  if (!parsed.ok()) return Fail(err, parsed.status());
  const Args& a = *parsed;
  if (!a.positional.empty()) return Usage(err, kSystemsUsage);
  engine::Engine& engine = s.engine();
  if (engine.policy().systems.empty()) {
    return Fail(err, Status(ErrorCode::kInvalidArgument,
                            "the policy declares no systems (docs/SYSTEMS.md)"));
  }
  if (args[0] == "check") {
    auto checks = engine.CheckSystems("cli");
    if (!checks.ok()) return Fail(err, checks.status());
    int failing = 0;
    for (const auto& check : *checks) failing += check.status.ok() ? 0 : 1;
    if (s.options().json) {
      out << engine::SystemChecksJson(*checks) << "\n";
    } else {
      for (const auto& check : *checks) {
        out << check.system << " (" << check.name << ", " << check.kind
            << "): " << (check.status.ok() ? std::string("ok") : check.status.message()) << "\n";
        for (const auto& d : check.datasets) {
          out << "  " << d.dataset << " (" << d.table << "): ";
          if (!d.table_found) {
            out << "no such table\n";
            continue;
          }
          out << (d.rows >= 0 ? std::to_string(d.rows) + " row(s)" : std::string("not counted"));
          if (!d.missing_columns.empty()) {
            out << "; missing column(s):";
            for (const auto& column : d.missing_columns) out << " " << column;
          }
          out << "\n";
        }
      }
    }
    if (failing > 0) {
      err << "custos: " << failing << " of " << checks->size()
          << " system(s) do not answer as the policy declares\n";
      return kExitRefused;
    }
    return kExitOk;
  }
  if (args[0] == "sweep") {
    int64_t batch = 500;
    if (const auto* text = a.Option("--batch")) {
      auto n = IdArgument(*text, "--batch");
      if (!n.ok()) return Fail(err, n.status());
      batch = *n;
    }
    auto at = TimeOption(a, "--at");
    if (!at.ok()) return Fail(err, at.status());
    auto lines = engine.SweepSystemsRetention(a.Flag("--apply"), batch, *at, "cli");
    if (!lines.ok()) return Fail(err, lines.status());
    int failing = 0;
    for (const auto& line : *lines) failing += line.status.ok() ? 0 : 1;
    if (s.options().json) {
      out << engine::SystemRetentionJson(*lines) << "\n";
    } else {
      if (lines->empty()) out << "no dataset of the systems follows a retention rule\n";
      for (const auto& line : *lines) {
        out << line.system << "." << line.dataset << " rule " << line.rule << " (dated before "
            << line.cutoff << "): " << line.due << " due, " << line.deleted
            << (a.Flag("--apply") ? " deleted, " : " to delete, ") << line.changed
            << (a.Flag("--apply") ? " changed, " : " to change, ") << line.held << " held"
            << (line.status.ok() ? "" : "; " + line.status.message()) << "\n";
      }
      if (!a.Flag("--apply")) out << "nothing changed (dry run: add --apply)\n";
    }
    if (failing > 0) {
      err << "custos: " << failing << " dataset(s) could not be swept\n";
      return kExitIo;
    }
    return kExitOk;
  }
  return Usage(err, kSystemsUsage);
}

int RequestPlanCommand(Session& s, const std::vector<std::string>& args, std::ostream& out,
                       std::ostream& err) {
  if (args.size() != 2) return Usage(err, "request plan R [--json]");
  auto plans = s.engine().PlanRequestInSystems(args[1], "cli");
  if (!plans.ok()) return Fail(err, plans.status());
  if (s.options().json) {
    out << engine::SystemPlansJson(*plans) << "\n";
    return kExitOk;
  }
  if (plans->empty()) out << "the policy declares no systems: only custos's own copy is reached\n";
  for (const auto& plan : *plans) {
    out << plan.system << " (" << plan.name << "): ";
    if (!plan.waived.empty()) {
      out << "left out by the DPO\n";
      continue;
    }
    if (!plan.status.ok()) {
      out << "not reached: " << plan.status.message() << "\n";
      continue;
    }
    out << "reached\n";
    for (const auto& step : plan.datasets) {
      out << "  " << step.dataset << " (" << step.table << "): " << step.rows.size()
          << " row(s): " << step.deletes << " to delete, " << step.updates << " to change, "
          << step.untouched << " left\n";
      for (const auto& row : step.rows) {
        out << "    row " << row.key << ": ";
        if (row.delete_row) {
          out << "delete\n";
          continue;
        }
        std::string fields;
        for (const auto& field : row.fields) {
          fields += (fields.empty() ? "" : ", ") + FieldWords(field);
        }
        out << (fields.empty() ? std::string("read") : fields) << "\n";
      }
    }
  }
  return kExitOk;
}

int RequestWaiveSystemCommand(Session& s, const std::vector<std::string>& args, std::ostream& out,
                              std::ostream& err) {
  const std::string usage = "request waive-system R SYSTEM --reason TEXT";
  std::vector<std::string> rest(args.begin() + 1, args.end());
  auto parsed = ParseArgs(rest, {"--reason", "--at"}, {});
  if (!parsed.ok()) return Fail(err, parsed.status());
  const Args& a = *parsed;
  if (a.positional.size() != 2 || a.Option("--reason") == nullptr) return Usage(err, usage);
  auto at = TimeOption(a, "--at");
  if (!at.ok()) return Fail(err, at.status());
  const std::string& id = a.positional[0];
  const std::string& system = a.positional[1];
  Status waived = s.engine().WaiveSystem(id, system, *a.Option("--reason"), *at, "cli");
  if (!waived.ok()) return Fail(err, waived);
  out << id << ": " << system << " left out (the reason is kept with the request)\n";
  return kExitOk;
}

}  // namespace custos::cli
