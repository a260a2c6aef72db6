// The scenario file format's parser (docs/SCENARIOS.md), shared by the runner
// (scenario_runner.cc) and its fuzzer (fuzz/scenario_parser_fuzzer.cc): a file's text becomes
// steps, or the first mistake in it with its line. Also the small text helpers the runner uses
// to compare what a command printed. Pure functions; no I/O.
// Thread-safety: none needed (no shared state).
#ifndef CUSTOS_TESTS_SCENARIO_SCENARIO_PARSER_H_
#define CUSTOS_TESTS_SCENARIO_SCENARIO_PARSER_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace custos::scenario {

inline constexpr std::string_view kStderrPrefix = "stderr: ";

// Words of a line; "..." keeps spaces inside one word. nullopt when a quote is left open.
std::optional<std::vector<std::string>> Split(const std::string& line);
// key=value -> --key value (values may contain '='; options already spelled --x stay).
std::vector<std::string> ToCliArgs(const std::vector<std::string>& tokens);
std::string TrimRight(std::string text);
// The lines a command printed, without trailing blank lines; CRLF compares as LF.
std::vector<std::string> OutputLines(std::string text);
std::string Indented(const std::vector<std::string>& lines);
bool IsNameStart(char c);
bool IsNameChar(char c);
bool IsName(const std::string& text);
// Every $NAME in `text`, in order (a '$' not followed by a letter or '_' is plain text).
std::vector<std::string> NamesIn(const std::string& text);

// One step of a scenario: a custos command and what it must do.
struct Step {
  enum class Kind { kPolicy, kClock, kRestart, kCommand };
  Kind kind = Kind::kCommand;
  size_t line = 0;
  std::string text;                 // the line as written, for messages
  std::vector<std::string> tokens;  // the command (or the directive's argument), $NAMEs unresolved
  std::string capture;              // NAME of `capture NAME:`
  std::string error;                // CODE of `error CODE:`
  bool has_block = false;
  std::vector<std::string> want_out, want_err;  // the ---- block, split by stream
};

struct ParsedScenario {
  std::vector<Step> steps;
  size_t error_line = 0;  // 1-based; 0 with an error means the file as a whole
  std::string error;      // empty when the file parsed
  bool ok() const { return error.empty(); }
};

// Reads a whole scenario file's text into steps, stopping at the first mistake in it (a step
// before the first policy line, an unknown directive, a ---- with no command above it, an
// unknown error code, a clock that is not a time, an open quote, an uncaptured $NAME, no steps).
ParsedScenario ParseScenario(std::string_view text);

}  // namespace custos::scenario

#endif  // CUSTOS_TESTS_SCENARIO_SCENARIO_PARSER_H_
