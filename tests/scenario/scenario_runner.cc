// Runs one scenario file (tests/scenarios/**.scenario) through the CLI's command layer, with an
// explicit clock, and checks every result. The format (docs/SCENARIOS.md):
//
//   # name: area/what_it_shows          required
//   # seed: 002_...txt "quoted promise"   required: the seed sentence it keeps
//   policy policies/wig.yaml            a fresh data directory initialised with this policy
//   clock 2026-01-01                    the engine's time for the following commands
//   subject add s1 type=member email=a@example.test
//                                       any custos command (key=value means --key value);
//                                       it must succeed...
//   decide s1 newsletter user.contact.email
//   ----                                ...or, when followed by ----, print exactly the lines
//   deny CONSENT_MISSING                up to the next blank line (exit code not checked)
//   error UNKNOWN_SUBJECT: event s9 x   must fail with this error code
//   restart                             drop every in-memory state (each command reopens)
//   capture CODE: outbox read ...       run a command that must succeed and keep its output's
//                                       last word; later lines may write $CODE (one-time codes,
//                                       ids a scenario cannot know in advance)
//
// Usage: custos_scenarios FILE [--backend sqlite|postgres]. Exit 0 when every step passes.
// With postgres, the database is a fresh schema on the server in CUSTOS_TEST_DATABASE_URL
// (ctest's `postgres` fixture), dropped afterwards; the data directory keeps the master key.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "store/postgres/postgres_store.h"

namespace {

namespace fs = std::filesystem;

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> tokens;
  std::string current;
  bool quoted = false, any = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
      any = true;
    } else if (!quoted && (c == ' ' || c == '\t')) {
      if (any) tokens.push_back(current);
      current.clear();
      any = false;
    } else {
      current += c;
      any = true;
    }
  }
  if (any) tokens.push_back(current);
  return tokens;
}

// key=value -> --key value (values may contain '='; options already spelled --x stay).
std::vector<std::string> ToCliArgs(const std::vector<std::string>& tokens) {
  std::vector<std::string> args;
  for (const auto& token : tokens) {
    auto eq = token.find('=');
    if (token.rfind("--", 0) != 0 && eq != std::string::npos && eq > 0 && token.find('@') > eq) {
      args.push_back("--" + token.substr(0, eq));
      args.push_back(token.substr(eq + 1));
    } else {
      args.push_back(token);
    }
  }
  return args;
}

std::string TrimRight(std::string text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r')) {
    text.pop_back();
  }
  return text;
}

class Runner {
 public:
  Runner(fs::path file, std::string backend)
      : file_(std::move(file)), backend_(std::move(backend)) {}

  int Run() {
    std::ifstream in(file_);
    if (!in) return Fail(0, "cannot read the scenario file");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(TrimRight(line));
    bool has_name = false, has_seed = false;
    for (const auto& line : lines) {
      has_name = has_name || line.rfind("# name:", 0) == 0;
      has_seed = has_seed || line.rfind("# seed:", 0) == 0;
    }
    if (!has_name || !has_seed) return Fail(1, "a scenario needs '# name:' and '# seed:' lines");
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string& line = lines[i];
      size_t number = i + 1;
      if (line.empty() || line[0] == '#') continue;
      std::vector<std::string> tokens = Split(line);
      if (tokens[0] == "policy") {
        if (tokens.size() != 2) return Fail(number, "policy needs one file");
        if (!StartDataDir(number, tokens[1])) return 1;
        continue;
      }
      if (tokens[0] == "clock") {
        if (tokens.size() != 2) return Fail(number, "clock needs one time");
        clock_ = tokens[1];
        continue;
      }
      if (tokens[0] == "restart") continue;
      for (auto& token : tokens) token = Substitute(token);
      std::string capture;
      if (tokens[0] == "capture") {
        if (tokens.size() < 3 || tokens[1].back() != ':') {
          return Fail(number, "write: capture NAME: command ...");
        }
        capture = tokens[1].substr(0, tokens[1].size() - 1);
        tokens.erase(tokens.begin(), tokens.begin() + 2);
      }
      std::string expected_error;
      if (tokens[0] == "error") {
        if (tokens.size() < 3 || tokens[1].back() != ':') {
          return Fail(number, "write: error CODE: command ...");
        }
        expected_error = tokens[1].substr(0, tokens[1].size() - 1);
        tokens.erase(tokens.begin(), tokens.begin() + 2);
      }
      bool has_block = i + 1 < lines.size() && lines[i + 1] == "----";
      std::vector<std::string> expected;
      if (has_block) {
        i += 2;
        while (i < lines.size() && !lines[i].empty()) expected.push_back(lines[i++]);
      }
      if (data_dir_.empty()) return Fail(number, "start with a 'policy FILE' line");
      std::vector<std::string> args = BackendArgs();
      if (!clock_.empty()) {
        args.push_back("--now");
        args.push_back(clock_);
      }
      for (auto& arg : ToCliArgs(tokens)) args.push_back(arg);
      std::ostringstream out, err;
      int code = custos::cli::RunCli(args, out, err);
      if (!expected_error.empty()) {
        if (code == 0)
          return Fail(number, line + "\n  expected error " + expected_error + ", it succeeded");
        if (err.str().find("error " + expected_error + ":") == std::string::npos) {
          return Fail(number,
                      line + "\n  expected error " + expected_error + ", got: " + err.str());
        }
      } else if (has_block) {
        std::string actual = out.str();
        // Documents with CRLF line ends (CSV, RFC 4180) compare line by line like the rest.
        for (size_t at = actual.find("\r\n"); at != std::string::npos;
             at = actual.find("\r\n", at)) {
          actual.erase(at, 1);
        }
        actual = TrimRight(actual);
        std::string want;
        for (const auto& e : expected) want += (want.empty() ? "" : "\n") + e;
        if (actual != want) {
          return Fail(number, line + "\n  expected:\n" + want + "\n  got:\n" + actual +
                                  (err.str().empty() ? "" : "\n  stderr: " + err.str()));
        }
      } else if (code != 0) {
        return Fail(number, line + "\n  failed (exit " + std::to_string(code) + "): " + err.str());
      }
      if (!capture.empty()) {
        std::vector<std::string> words = Split(TrimRight(out.str()));
        if (words.empty()) return Fail(number, line + "\n  printed nothing to capture");
        captured_["$" + capture] = words.back();
      }
      ++steps_;
    }
    std::cout << file_.string() << " [" << backend_ << "]: " << steps_ << " steps passed\n";
    return 0;
  }

  ~Runner() {
    std::error_code ec;
    if (!data_dir_.empty()) fs::remove_all(data_dir_, ec);
    DropSchema();
  }

 private:
  // A token naming a captured value ($CODE), or containing one (key=$CODE), with it replaced.
  std::string Substitute(const std::string& token) const {
    std::string result = token;
    // Longest names first, so $CODE does not eat the start of $CODE2.
    std::vector<std::pair<std::string, std::string>> names(captured_.begin(), captured_.end());
    std::sort(names.begin(), names.end(),
              [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
    for (const auto& [name, value] : names) {
      for (size_t at = result.find(name); at != std::string::npos; at = result.find(name, at)) {
        result.replace(at, name.size(), value);
        at += value.size();
      }
    }
    return result;
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
    if (backend_ == "postgres") {
      const char* url = std::getenv("CUSTOS_TEST_DATABASE_URL");
      if (url == nullptr || *url == '\0') {
        Fail(number,
             "CUSTOS_TEST_DATABASE_URL is not set (run under ctest: its postgres "
             "fixture starts a throwaway cluster)");
        return false;
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
    if (custos::cli::RunCli(args, out, err) != 0) {
      Fail(number, "init with " + policy + " failed: " + err.str());
      return false;
    }
    return true;
  }

  int Fail(size_t line, const std::string& message) {
    std::cerr << file_.string() << ":" << line << ": [" << backend_ << "] " << message << "\n";
    return 1;
  }

  fs::path file_;
  std::string backend_;
  fs::path data_dir_;
  std::string url_, schema_;  // postgres only
  std::string clock_;
  int steps_ = 0;
  std::map<std::string, std::string> captured_;  // "$NAME" -> value
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
