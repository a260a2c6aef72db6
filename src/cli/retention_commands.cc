// `custos retention plan|run`, `custos hold place|release|list`, `custos review list|done`,
// `custos aggregate`. Each parses its arguments, calls one Engine function and prints lines a
// person can read (or JSON with --json). No personal value is printed: people appear by subject
// id, and aggregates only as counts at or above the small-cell threshold.
#include "cli/retention_commands.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <ostream>

#include "cli/command_helpers.h"
#include "cli/commands.h"

namespace custos::cli {

namespace {

// --- retention plan | run ------------------------------------------------------------------

void PrintReport(const engine::RetentionReport& report, bool plan, bool json, std::ostream& out) {
  const store::RetentionCounts& t = report.totals;
  if (json) {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    Str(w, "kind", plan ? "plan" : "run");
    if (!plan) {
      Int(w, "run", report.run_id);
      Key(w, "resumed");
      w.Bool(report.resumed);
    }
    Str(w, "as_of", report.as_of.ToString());
    Int(w, "subjects", t.subjects);
    Int(w, "deleted", t.deleted);
    Int(w, "anonymised", t.anonymised);
    Int(w, "reviews", t.reviews);
    Int(w, "held", t.held);
    Int(w, "erased", t.erased);
    Int(w, "not_due", report.not_due);
    if (!plan) Int(w, "requests_shredded", report.requests_shredded);
    Key(w, "rules");
    w.StartObject();
    for (const auto& [rule, c] : report.by_rule) {
      Key(w, rule);
      w.StartObject();
      Int(w, "deleted", c.deleted);
      Int(w, "anonymised", c.anonymised);
      Int(w, "reviews", c.reviews);
      Int(w, "held", c.held);
      w.EndObject();
    }
    w.EndObject();
    Key(w, "not_covered");
    w.StartObject();
    for (const auto& [category, count] : report.not_covered) Int(w, category, count);
    w.EndObject();
    w.EndObject();
    out << buffer.GetString() << "\n";
    return;
  }
  if (plan) {
    out << "plan as of ";
  } else {
    out << "run " << report.run_id << (report.resumed ? " (resumed)" : "") << " as of ";
  }
  out << report.as_of.ToString() << ": " << t.subjects << " subject(s); delete " << t.deleted
      << ", anonymise " << t.anonymised << ", review " << t.reviews << ", held " << t.held
      << ", erase " << t.erased;
  if (report.requests_shredded > 0) {
    out << "; closed requests shredded " << report.requests_shredded;
  }
  out << "\n";
  for (const auto& [rule, c] : report.by_rule) {
    out << "  rule " << rule << ":";
    const char* sep = " ";
    auto part = [&](const char* name, int64_t n) {
      if (n == 0) return;
      out << sep << name << " " << n;
      sep = ", ";
    };
    part("delete", c.deleted);
    part("anonymise", c.anonymised);
    part("review", c.reviews);
    part("held", c.held);
    out << "\n";
  }
  for (const auto& [category, count] : report.not_covered) {
    out << "  not covered by any rule: " << category << " " << count << "\n";
  }
}

}  // namespace

int RetentionCommand(Session& s, const std::vector<std::string>& args, std::ostream& out,
                     std::ostream& err) {
  const std::string usage = "retention plan [--as-of TIME] [--json] | retention run [--as-of TIME]";
  if (args.empty() || (args[0] != "plan" && args[0] != "run")) return Usage(err, usage);
  auto a = ParseArgs({args.begin() + 1, args.end()}, {"--as-of"}, {});
  if (!a.ok() || !a->positional.empty()) return Usage(err, usage, a.status());
  auto as_of = TimeOption(*a, "--as-of");
  if (!as_of.ok()) return Fail(err, as_of.status());
  engine::RetentionOptions options;
  options.as_of = *as_of;
  options.actor = "cli:retention";
  // Long runs show progress on a terminal, about every 10 000 subjects.
  if (&err == &std::cerr && ::isatty(STDERR_FILENO)) {
    auto next = std::make_shared<int64_t>(10000);
    options.progress = [&err, next](int64_t done, int64_t total) {
      if (done < *next && done < total) return;
      *next = done + 10000;
      err << "\rretention: " << done << " of " << total << " subjects" << std::flush;
      if (done >= total) err << "\n";
    };
  }
  if (args[0] == "plan") {
    auto report = s.engine().PlanRetention(options);
    if (!report.ok()) return Fail(err, report.status());
    PrintReport(*report, /*plan=*/true, s.options().json, out);
    return kExitOk;
  }
  auto report = s.engine().RunRetention(options);
  if (!report.ok()) return Fail(err, report.status());
  PrintReport(*report, /*plan=*/false, s.options().json, out);
  // A resumed run finished what a crash interrupted, as of its own time; now the run asked for.
  Timestamp wanted = as_of->value_or(s.engine().Now());
  if (report->resumed && report->as_of != wanted) {
    auto fresh = s.engine().RunRetention(options);
    if (!fresh.ok()) return Fail(err, fresh.status());
    PrintReport(*fresh, /*plan=*/false, s.options().json, out);
  }
  return kExitOk;
}

// --- hold place | release | list -----------------------------------------------------------

namespace {

std::string HoldState(const store::LegalHoldRow& hold, Timestamp now) {
  if (hold.released_at && *hold.released_at <= now) {
    return "released " + hold.released_at->ToString();
  }
  if (hold.expires_at && *hold.expires_at <= now) return "expired " + hold.expires_at->ToString();
  if (hold.placed_at > now) return "not yet in force";
  return "in force";
}

}  // namespace

int HoldCommand(Session& s, const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err) {
  const std::string usage =
      "hold place (--subject S | --category C | both) --reason R [--expires TIME] [--at TIME] | "
      "hold release ID [--at TIME] | hold list";
  if (args.empty()) return Usage(err, usage);
  auto a = ParseArgs({args.begin() + 1, args.end()},
                     {"--subject", "--category", "--reason", "--expires", "--at"}, {});
  if (!a.ok()) return Usage(err, usage, a.status());
  auto at = TimeOption(*a, "--at");
  if (!at.ok()) return Fail(err, at.status());
  if (args[0] == "place") {
    const std::string* reason = a->Option("--reason");
    const std::string* subject = a->Option("--subject");
    const std::string* category = a->Option("--category");
    if (!a->positional.empty() || reason == nullptr ||
        (subject == nullptr && category == nullptr)) {
      return Usage(err, usage);
    }
    auto expires = TimeOption(*a, "--expires");
    if (!expires.ok()) return Fail(err, expires.status());
    engine::LegalHoldRequest request;
    if (subject) request.subject_id = *subject;
    if (category) request.category = *category;
    request.reason = *reason;
    request.expires_at = *expires;
    request.at = *at;
    request.actor = "cli";
    auto id = s.engine().PlaceLegalHold(request);
    if (!id.ok()) return Fail(err, id.status());
    out << "hold " << *id << "\n";
    return kExitOk;
  }
  if (args[0] == "release") {
    if (a->positional.size() != 1) return Usage(err, usage);
    auto id = IdArgument(a->positional[0], "hold id");
    if (!id.ok()) return Fail(err, id.status());
    Status released = s.engine().ReleaseLegalHold(*id, *at, "cli");
    if (!released.ok()) return Fail(err, released);
    out << "hold " << *id << " released\n";
    return kExitOk;
  }
  if (args[0] == "list") {
    if (!a->positional.empty()) return Usage(err, usage);
    auto holds = s.engine().ListLegalHolds();
    if (!holds.ok()) return Fail(err, holds.status());
    Timestamp now = s.engine().Now();
    if (s.options().json) {
      rapidjson::StringBuffer buffer;
      JsonWriter w(buffer);
      w.StartArray();
      for (const auto& hold : *holds) {
        w.StartObject();
        Int(w, "id", hold.hold_id);
        Str(w, "subject", hold.subject_id);
        Str(w, "category", hold.category);
        Str(w, "reason", hold.reason);
        Str(w, "placed_at", hold.placed_at.ToString());
        Str(w, "expires_at", hold.expires_at ? hold.expires_at->ToString() : "");
        Str(w, "released_at", hold.released_at ? hold.released_at->ToString() : "");
        Key(w, "in_force");
        w.Bool(hold.ActiveAt(now));
        w.EndObject();
      }
      w.EndArray();
      out << buffer.GetString() << "\n";
      return kExitOk;
    }
    for (const auto& hold : *holds) {
      out << "hold " << hold.hold_id << ": "
          << (hold.subject_id.empty() ? "every subject" : "subject " + hold.subject_id) << ", "
          << (hold.category.empty() ? "all data" : hold.category) << ", " << HoldState(hold, now)
          << ", placed " << hold.placed_at.ToString() << ", "
          << (hold.expires_at ? "expires " + hold.expires_at->ToString() : "no expiry")
          << ", reason: " << hold.reason << "\n";
    }
    return kExitOk;
  }
  return Usage(err, usage);
}

// --- review list | done --------------------------------------------------------------------

int ReviewCommand(Session& s, const std::vector<std::string>& args, std::ostream& out,
                  std::ostream& err) {
  const std::string usage = "review list [--all] | review done ID [--at TIME]";
  if (args.empty()) return Usage(err, usage);
  auto a = ParseArgs({args.begin() + 1, args.end()}, {"--at"}, {"--all"});
  if (!a.ok()) return Usage(err, usage, a.status());
  if (args[0] == "list") {
    if (!a->positional.empty()) return Usage(err, usage);
    auto tasks = s.engine().ListReviewTasks(!a->Flag("--all"));
    if (!tasks.ok()) return Fail(err, tasks.status());
    for (const auto& task : *tasks) {
      out << "task " << task.task_id << ": subject " << task.subject_id << ", rule " << task.rule_id
          << ", " << task.category << ", due " << task.due_at.ToString()
          << (task.done_at ? ", done " + task.done_at->ToString() : "") << "\n";
    }
    return kExitOk;
  }
  if (args[0] == "done") {
    if (a->positional.size() != 1) return Usage(err, usage);
    auto id = IdArgument(a->positional[0], "task id");
    if (!id.ok()) return Fail(err, id.status());
    auto at = TimeOption(*a, "--at");
    if (!at.ok()) return Fail(err, at.status());
    Status done = s.engine().CompleteReviewTask(*id, *at, "cli");
    if (!done.ok()) return Fail(err, done);
    out << "task " << *id << " done\n";
    return kExitOk;
  }
  return Usage(err, usage);
}

// --- aggregate -----------------------------------------------------------------------------

namespace {

// Values are printed on one line each: control characters become spaces.
std::string OneLine(std::string text) {
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return text;
}

}  // namespace

int AggregateCommand(Session& s, const std::vector<std::string>& args, std::ostream& out,
                     std::ostream& err) {
  const std::string usage = "aggregate CATEGORY [--threshold N] [--json]";
  auto a = ParseArgs(args, {"--threshold"}, {});
  if (!a.ok() || a->positional.size() != 1) return Usage(err, usage, a.status());
  std::optional<int> threshold;
  if (const std::string* text = a->Option("--threshold")) {
    auto n = IdArgument(*text, "--threshold");
    if (!n.ok() || *n > 1000000) return Usage(err, usage);
    threshold = static_cast<int>(*n);
  }
  auto result = s.engine().Aggregate(a->positional[0], threshold, "cli");
  if (!result.ok()) return Fail(err, result.status());
  if (s.options().json) {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    Str(w, "category", result->category);
    Int(w, "threshold", result->threshold);
    Key(w, "cells");
    w.StartArray();
    for (const auto& cell : result->cells) {
      w.StartObject();
      Str(w, "category", cell.category);
      Str(w, "value", cell.value);
      Int(w, "count", cell.count);
      w.EndObject();
    }
    w.EndArray();
    Int(w, "suppressed_cells", result->suppressed_cells);
    w.EndObject();
    out << buffer.GetString() << "\n";
    return kExitOk;
  }
  for (const auto& cell : result->cells) {
    out << cell.category << " = " << OneLine(cell.value) << ": " << cell.count << "\n";
  }
  out << "suppressed: " << result->suppressed_cells << " cell(s) under " << result->threshold
      << "\n";
  return kExitOk;
}

}  // namespace custos::cli
