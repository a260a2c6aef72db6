// The command line's help, in one table: `custos help`, `custos --help`, `custos VERB --help`
// (which needs no data directory) and the nearest known name for a mistyped verb or option.
// Thread-safety: constants and pure functions.
#ifndef CUSTOS_CLI_HELP_H_
#define CUSTOS_CLI_HELP_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace custos::cli {

// The whole usage text: every verb's forms, grouped, with the exit codes.
std::string UsageText();
// One verb's forms and what it does, or nullopt for a verb the CLI does not have.
std::optional<std::string> VerbHelp(std::string_view verb);
// Every verb the CLI has.
std::vector<std::string> Verbs();
// "custos 0.1.0 (build <commit>, <build type>)".
std::string VersionText();
// The candidate closest to `word` by edit distance, when it is close enough to be a likely typo
// (at most a third of the word's length, at least 1; 2 for short words), else empty.
std::string Nearest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace custos::cli

#endif  // CUSTOS_CLI_HELP_H_
