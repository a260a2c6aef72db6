#include "scenario_parser.h"

#include <cctype>
#include <set>
#include <sstream>

#include "common/error_code.h"
#include "common/time.h"

namespace custos::scenario {

// Words of a line; "..." keeps spaces inside one word. nullopt when a quote is left open.
std::optional<std::vector<std::string>> Split(const std::string& line) {
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
  if (quoted) return std::nullopt;
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
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' ||
                           text.back() == '\r')) {
    text.pop_back();
  }
  return text;
}

// The lines a command printed, without trailing blank lines. Documents with CRLF line ends
// (CSV, RFC 4180) compare line by line like the rest.
std::vector<std::string> OutputLines(std::string text) {
  for (size_t at = text.find("\r\n"); at != std::string::npos; at = text.find("\r\n", at)) {
    text.erase(at, 1);
  }
  text = TrimRight(std::move(text));
  std::vector<std::string> lines;
  if (text.empty()) return lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string Indented(const std::vector<std::string>& lines) {
  if (lines.empty()) return "    (nothing)\n";
  std::string text;
  for (const auto& line : lines) text += "    " + line + "\n";
  return text;
}

bool IsNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool IsName(const std::string& text) {
  if (text.empty() || !IsNameStart(text[0])) return false;
  for (char c : text) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

// Every $NAME in `text`, in order (a '$' not followed by a letter or '_' is plain text).
std::vector<std::string> NamesIn(const std::string& text) {
  std::vector<std::string> names;
  for (size_t at = text.find('$'); at != std::string::npos; at = text.find('$', at + 1)) {
    size_t end = at + 1;
    if (end >= text.size() || !IsNameStart(text[end])) continue;
    while (end < text.size() && IsNameChar(text[end])) ++end;
    names.push_back(text.substr(at + 1, end - at - 1));
  }
  return names;
}

namespace {

// Reads a file's lines into steps; remembers the first mistake (its line and what is wrong).
class Parser {
 public:
  bool Parse(std::string_view text, std::vector<Step>& steps) {
    std::vector<std::string> lines;
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) lines.push_back(TrimRight(line));
    bool has_name = false, has_seed = false;
    for (const auto& line : lines) {
      has_name = has_name || line.rfind("# name:", 0) == 0;
      has_seed = has_seed || line.rfind("# seed:", 0) == 0;
    }
    if (!has_name || !has_seed) return Fail(1, "a scenario needs '# name:' and '# seed:' lines");
    // Names captured by the lines read so far, and the two the runner always defines: $SOURCE
    // (the repository, for fixture files) and $DATA (the scenario's data directory).
    std::set<std::string> defined = {"SOURCE", "DATA"};
    bool has_policy = false;
    int commands = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string& line = lines[i];
      const size_t number = i + 1;
      if (line.empty() || line[0] == '#') continue;
      if (line == "----") {
        return Fail(number, "'----' with no command above it (a block follows a command line)");
      }
      auto split = Split(line);
      if (!split) return Fail(number, "a quote is not closed");
      std::vector<std::string> tokens = std::move(*split);
      if (tokens.empty() || tokens[0].empty()) return Fail(number, "a line starts with a word");
      Step step;
      step.line = number;
      step.text = line;
      const std::string& word = tokens[0];
      if (word == "policy" || word == "clock" || word == "restart") {
        if (word == "restart" && tokens.size() != 1) return Fail(number, "restart takes nothing");
        if (word == "policy" && tokens.size() != 2) return Fail(number, "policy needs one file");
        if (word == "clock" && (tokens.size() != 2 || !custos::Timestamp::Parse(tokens[1]))) {
          return Fail(number, "clock needs one ISO-8601 time (2026-01-31 or 2026-01-31T10:00:00Z)");
        }
        step.kind = word == "policy"  ? Step::Kind::kPolicy
                    : word == "clock" ? Step::Kind::kClock
                                      : Step::Kind::kRestart;
        step.tokens.assign(tokens.begin() + 1, tokens.end());
        has_policy = has_policy || step.kind == Step::Kind::kPolicy;
        steps.push_back(std::move(step));
        continue;  // a ---- after it is then a block with no command above it
      }
      if (!ParseDirectives(number, tokens, step)) return false;
      if (!has_policy) return Fail(number, "start with a 'policy FILE' line");
      for (const auto& token : step.tokens) {
        if (!CheckNames(number, token, defined, "")) return false;
      }
      if (i + 1 < lines.size() && lines[i + 1] == "----") {
        step.has_block = true;
        bool binds = false;
        for (i += 2; i < lines.size() && !lines[i].empty(); ++i) {
          const std::string& want = lines[i];
          if (!CheckNames(i + 1, want, defined, step.capture)) return false;
          for (const auto& name : NamesIn(want)) {
            if (name != step.capture) continue;
            if (binds) return Fail(i + 1, "$" + name + " may stand for one word only once");
            binds = true;
          }
          if (want.rfind(kStderrPrefix, 0) == 0) {
            if (!step.error.empty()) {
              return Fail(i + 1, "an error step's stderr is its error line; write no 'stderr:'");
            }
            step.want_err.push_back(want.substr(kStderrPrefix.size()));
          } else {
            step.want_out.push_back(want);
          }
        }
      }
      if (!step.capture.empty()) defined.insert(step.capture);
      ++commands;
      steps.push_back(std::move(step));
    }
    if (commands == 0) return Fail(1, "no steps: a scenario runs at least one command");
    return true;
  }

  // Strips `capture NAME:` and `error CODE:` from `tokens` into `step`; the rest is the command.
  bool ParseDirectives(size_t number, std::vector<std::string>& tokens, Step& step) {
    auto label = [](const std::string& token) {
      return token.size() > 1 && token.back() == ':' ? token.substr(0, token.size() - 1) : "";
    };
    if (tokens[0].back() == ':') {
      if (tokens[0] == "capture:" || tokens[0] == "error:") {
        return Fail(number, "write: " + tokens[0].substr(0, tokens[0].size() - 1) +
                                (tokens[0] == "capture:" ? " NAME" : " CODE") + ": command ...");
      }
      return Fail(number, "unknown directive '" + tokens[0] + "'");
    }
    if (tokens[0] == "capture") {
      std::string name = tokens.size() > 1 ? label(tokens[1]) : "";
      if (name.empty()) return Fail(number, "a capture needs a name: capture NAME: command ...");
      if (!IsName(name)) return Fail(number, "'" + name + "' is not a NAME (letters, digits, _)");
      if (tokens.size() < 3) return Fail(number, "capture " + name + ": needs a command");
      if (tokens[2] == "error") return Fail(number, "a capture's command must succeed");
      step.capture = name;
      tokens.erase(tokens.begin(), tokens.begin() + 2);
    } else if (tokens[0] == "error") {
      std::string code = tokens.size() > 1 ? label(tokens[1]) : "";
      if (code.empty()) return Fail(number, "write: error CODE: command ...");
      auto known = custos::CodeFromName(code);
      if (!known || *known == custos::ErrorCode::kOk) {
        return Fail(number, "unknown error code " + code + " (src/common/error_code.h)");
      }
      if (tokens.size() < 3) return Fail(number, "error " + code + ": needs a command");
      step.error = code;
      tokens.erase(tokens.begin(), tokens.begin() + 2);
    } else if (tokens.size() > 1 && !label(tokens[1]).empty()) {
      return Fail(number, "unknown directive '" + tokens[0] + " " + tokens[1] + "'");
    }
    step.tokens = std::move(tokens);
    return true;
  }

  // Every $NAME in `text` is one an earlier line captured (or `binding`, in a capture's block).
  bool CheckNames(size_t number, const std::string& text, const std::set<std::string>& defined,
                  const std::string& binding) {
    for (const auto& name : NamesIn(text)) {
      if (defined.count(name) == 0 && name != binding) {
        return Fail(number, "$" + name + " is never captured above this line");
      }
    }
    return true;
  }

  size_t error_line() const { return error_line_; }
  const std::string& error() const { return error_; }

 private:
  bool Fail(size_t line, const std::string& message) {
    error_line_ = line;
    error_ = message;
    return false;
  }

  size_t error_line_ = 0;
  std::string error_;
};

}  // namespace

ParsedScenario ParseScenario(std::string_view text) {
  ParsedScenario parsed;
  Parser parser;
  if (!parser.Parse(text, parsed.steps)) {
    parsed.steps.clear();
    parsed.error_line = parser.error_line();
    parsed.error = parser.error();
  }
  return parsed;
}

}  // namespace custos::scenario
