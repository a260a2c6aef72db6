// Runs one scenario file (tests/scenarios/**.scenario) through the CLI's command layer, with an
// explicit clock, and checks every result strictly. The format (docs/SCENARIOS.md):
//
//   # name: area/what_it_shows          required
//   # seed: 002_...txt "quoted promise"   required: the seed sentence it keeps
//   policy policies/wig.yaml            a fresh data directory initialised with this policy
//   clock 2026-01-01                    the engine's time for the following commands
//   subject add s1 type=member email=a@example.test
//                                       any custos command (key=value means --key value): a
//                                       step. It must exit 0 and print nothing on stderr...
//   record state s1 user.name
//   ----                                ...and, when followed by ----, print exactly the lines
//   active                              up to the next blank line (none: it prints nothing)
//
//   decide s1 newsletter user.contact.email
//   ----                                a decide whose block is a deny must exit 1 (its exit
//   deny CONSENT_MISSING                status is its verdict, docs/CLI.md)
//
//   error UNKNOWN_SUBJECT: event s9 x   must fail with this code: the exit code the CLI gives
//                                       it and one stderr line "custos: error CODE: ..."; stdout
//                                       empty unless a ---- block says what it prints
//   restart                             drop every in-memory state (each command reopens)
//   capture CODE: outbox read ...       a step whose output's last word is kept; later lines
//                                       write $CODE (one-time codes, secrets, ids a scenario
//                                       cannot know in advance)
//   capture SECRET: request verify r1 $CODE
//   ----                                in a capture's block, $NAME stands for the one word
//   r1 in_progress, due 2026-02-05      kept; a block line "stderr: TEXT" expects TEXT as a
//   stderr: requester secret: $SECRET   line on stderr (stderr lines are otherwise an error)
//
// Mistakes in the file itself fail with FILE:LINE before any step runs: a step before the
// first policy line, an unknown directive (`expect: ...`, `eror X: ...`), `----` with no
// command above it, a capture with no name, an error code not in src/common/error_code.h, a
// clock that is not a time, an open quote, a $NAME that no earlier capture defines, a file
// with no steps. tests/scenario/bad/ holds one file per mistake, each of which must be
// rejected at the line it names; tests/scenario/good/ must pass.
//
// Usage: custos_scenarios FILE [--backend sqlite|postgres]. Exit 0 when every step passes.
// With postgres, the database is a fresh schema on the server in CUSTOS_TEST_DATABASE_URL
// (ctest's `postgres` fixture), dropped afterwards; the data directory keeps the master key.
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/error_code.h"
#include "common/status.h"
#include "common/time.h"
#include "scenario_parser.h"
#include "store/postgres/postgres_store.h"

namespace {

namespace fs = std::filesystem;
// The file format (scenario_parser.h).
using custos::scenario::Indented;
using custos::scenario::IsNameChar;
using custos::scenario::IsNameStart;
using custos::scenario::kStderrPrefix;
using custos::scenario::NamesIn;
using custos::scenario::OutputLines;
using custos::scenario::ParsedScenario;
using custos::scenario::ParseScenario;
using custos::scenario::Split;
using custos::scenario::Step;
using custos::scenario::ToCliArgs;

class Runner {
 public:
  Runner(fs::path file, std::string backend)
      : file_(std::move(file)), backend_(std::move(backend)) {}

  int Run() {
    std::vector<Step> steps;
    if (!Parse(steps)) return 1;
    int commands = 0;
    for (const Step& step : steps) {
      switch (step.kind) {
        case Step::Kind::kPolicy:
          if (!StartDataDir(step.line, step.tokens[0])) return 1;
          break;
        case Step::Kind::kClock: clock_ = step.tokens[0]; break;
        case Step::Kind::kRestart: break;
        case Step::Kind::kCommand:
          if (!RunCommand(step)) return 1;
          ++commands;
          break;
      }
    }
    std::cout << file_.string() << " [" << backend_ << "]: " << commands << " steps passed\n";
    return 0;
  }

  ~Runner() {
    std::error_code ec;
    if (!data_dir_.empty()) fs::remove_all(data_dir_, ec);
    DropSchema();
  }

 private:
  // Reads the whole file into steps, failing with FILE:LINE on the first mistake in it.
  bool Parse(std::vector<Step>& steps) {
    std::ifstream in(file_, std::ios::binary);
    if (!in) return Fail(0, "cannot read the scenario file");
    std::ostringstream text;
    text << in.rdbuf();
    ParsedScenario parsed = ParseScenario(text.str());
    if (!parsed.ok()) return Fail(parsed.error_line, parsed.error);
    steps = std::move(parsed.steps);
    return true;
  }

  // `text` with every $NAME replaced by its captured value, except `keep`.
  std::string Substitute(const std::string& text, const std::string& keep = "") const {
    std::string result;
    for (size_t at = 0; at < text.size();) {
      size_t end = at + 1;
      if (text[at] != '$' || end >= text.size() || !IsNameStart(text[end])) {
        result += text[at++];
        continue;
      }
      while (end < text.size() && IsNameChar(text[end])) ++end;
      std::string name = text.substr(at + 1, end - at - 1);
      result += name == keep ? "$" + name : captured_.at(name);
      at = end;
    }
    return result;
  }

  // Whether `actual` matches the expected lines; where one holds $`bind`, that spot must be one
  // word, which goes to `bound`.
  static bool Matches(const std::vector<std::string>& want, const std::vector<std::string>& actual,
                      const std::string& bind, std::string& bound) {
    if (want.size() != actual.size()) return false;
    const std::string placeholder = "$" + bind;
    for (size_t i = 0; i < want.size(); ++i) {
      size_t at = bind.empty() ? std::string::npos : want[i].find(placeholder);
      if (at == std::string::npos) {
        if (want[i] != actual[i]) return false;
        continue;
      }
      std::string prefix = want[i].substr(0, at), suffix = want[i].substr(at + placeholder.size());
      const std::string& got = actual[i];
      if (got.size() <= prefix.size() + suffix.size() || got.rfind(prefix, 0) != 0 ||
          got.compare(got.size() - suffix.size(), suffix.size(), suffix) != 0) {
        return false;
      }
      std::string word = got.substr(prefix.size(), got.size() - prefix.size() - suffix.size());
      if (word.find_first_of(" \t") != std::string::npos) return false;
      bound = word;
    }
    return true;
  }

  bool RunCommand(const Step& step) {
    std::vector<std::string> tokens;
    for (const auto& token : step.tokens) tokens.push_back(Substitute(token));
    std::vector<std::string> want_out, want_err;
    for (const auto& line : step.want_out) want_out.push_back(Substitute(line, step.capture));
    for (const auto& line : step.want_err) want_err.push_back(Substitute(line, step.capture));
    std::vector<std::string> args = BackendArgs();
    if (!clock_.empty()) args.insert(args.end(), {"--now", clock_});
    for (auto& arg : ToCliArgs(tokens)) args.push_back(arg);
    std::ostringstream out, err;
    const int code = custos::cli::RunCli(args, out, err);
    std::vector<std::string> got_out = OutputLines(out.str()), got_err = OutputLines(err.str());
    // The reason first (one line), then the step, what it should print, and what it did.
    auto report = [&](const std::string& reason, const std::string& detail = "") {
      return Fail(step.line, reason + "\n  step: " + step.text + "\n" + detail + "  got exit " +
                                 std::to_string(code) + ", stdout:\n" + Indented(got_out) +
                                 "  stderr:\n" + Indented(got_err));
    };

    if (!step.error.empty()) {
      const int want_code =
          custos::cli::ExitCodeFor(custos::Status(*custos::CodeFromName(step.error), ""));
      const std::string line_start = "custos: error " + step.error + ": ";
      if (code != want_code || got_err.size() != 1 || got_err[0].rfind(line_start, 0) != 0) {
        return report("expected error " + step.error + " (exit " + std::to_string(want_code) +
                      ", one stderr line '" + line_start + "...')");
      }
      std::string unused;
      if (!Matches(want_out, got_out, "", unused)) {
        return report("expected stdout", "  expected stdout:\n" + Indented(want_out));
      }
      return true;
    }

    // A decision's exit status is its verdict (docs/CLI.md): 1 when it denies. A capture keeps
    // what a command that succeeded printed, so it always expects 0.
    bool denies = step.capture.empty() && tokens[0] == "decide" && !want_out.empty() &&
                  (want_out[0].rfind("deny", 0) == 0 ||
                   want_out[0].find("\"allow\":false") != std::string::npos);
    const int want_code = denies ? custos::cli::kExitRefused : custos::cli::kExitOk;
    if (code != want_code) {
      return report("expected exit " + std::to_string(want_code) +
                    (denies ? " (a decide that denies)" : ""));
    }
    std::string bound;
    const std::string bind = step.has_block ? step.capture : "";
    if (step.has_block && !Matches(want_out, got_out, bind, bound)) {
      return report("expected stdout", "  expected stdout:\n" + Indented(want_out));
    }
    if (!Matches(want_err, got_err, bind, bound)) {
      return want_err.empty()
                 ? report("expected nothing on stderr")
                 : report("expected stderr", "  expected stderr:\n" + Indented(want_err));
    }
    if (!step.capture.empty()) {
      if (bound.empty()) {
        std::vector<std::string> words;
        if (!got_out.empty()) words = Split(got_out.back()).value_or(words);
        if (words.empty()) return report("printed nothing to capture");
        bound = words.back();
      }
      captured_[step.capture] = bound;
    }
    return true;
  }

  // --data DIR, and for PostgreSQL --database URL --schema NAME.
  std::vector<std::string> BackendArgs() const {
    std::vector<std::string> args = {"--data", data_dir_.string()};
    if (backend_ == "postgres") {
      args.insert(args.end(), {"--database", url_, "--schema", schema_});
    }
    return args;
  }

  void DropSchema() {
    if (!schema_.empty()) (void)custos::store::DropPostgresSchemaForTesting(url_, schema_);
    schema_.clear();
  }

  bool StartDataDir(size_t number, const std::string& policy) {
    std::error_code ec;
    if (!data_dir_.empty()) fs::remove_all(data_dir_, ec);
    data_dir_ = fs::temp_directory_path() /
                ("custos-scenario-" + std::to_string(::getpid()) + "-" + std::to_string(number));
    fs::remove_all(data_dir_, ec);
    captured_["SOURCE"] = CUSTOS_SOURCE_DIR;
    captured_["DATA"] = data_dir_.string();
    if (backend_ == "postgres") {
      const char* url = std::getenv("CUSTOS_TEST_DATABASE_URL");
      if (url == nullptr || *url == '\0') {
        return Fail(number,
                    "CUSTOS_TEST_DATABASE_URL is not set (run under ctest: its postgres "
                    "fixture starts a throwaway cluster)");
      }
      url_ = url;
      DropSchema();
      schema_ = "sc_" + std::to_string(::getpid()) + "_" + std::to_string(number);
      (void)custos::store::DropPostgresSchemaForTesting(url_, schema_);
    }
    fs::path policy_path = fs::path(CUSTOS_SOURCE_DIR) / policy;
    std::vector<std::string> args = BackendArgs();
    args.insert(args.end(), {"init", "--policy", policy_path.string()});
    if (!clock_.empty()) args.insert(args.begin(), {"--now", clock_});
    std::ostringstream out, err;
    if (custos::cli::RunCli(args, out, err) != 0 || !err.str().empty()) {
      return Fail(number, "init with " + policy + " failed: " + err.str());
    }
    return true;
  }

  bool Fail(size_t line, const std::string& message) {
    std::cerr << file_.string() << ":" << line << ": [" << backend_ << "] " << message << "\n";
    return false;
  }

  fs::path file_;
  std::string backend_;
  fs::path data_dir_;
  std::string url_, schema_;  // postgres only
  std::string clock_;
  std::map<std::string, std::string> captured_;  // NAME -> value
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: custos_scenarios FILE [--backend sqlite|postgres]\n";
    return 2;
  }
  std::string backend = "sqlite";
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--backend") backend = argv[i + 1];
  }
  if (backend != "sqlite" && backend != "postgres") {
    std::cerr << "unknown backend " << backend << " (sqlite or postgres)\n";
    return 2;
  }
  return Runner(argv[1], backend).Run();
}
