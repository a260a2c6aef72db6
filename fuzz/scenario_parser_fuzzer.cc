// libFuzzer target: the scenario file parser (tests/scenario/scenario_parser.h), the same code
// the scenario runner reads files with. Any text must give steps or one mistake with its line,
// never crash or hang; a mistake's line is one of the file's lines.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "scenario/scenario_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  custos::scenario::ParsedScenario parsed = custos::scenario::ParseScenario(text);
  if (parsed.ok()) {
    if (parsed.steps.empty()) std::abort();  // a file with no steps is a mistake
    for (const auto& step : parsed.steps) {
      (void)custos::scenario::ToCliArgs(step.tokens);
    }
  } else {
    size_t lines = 1;
    for (char c : text) lines += c == '\n';
    if (parsed.error_line > lines) std::abort();
  }
  return 0;
}
