// The `custos` executable: one binary, many subcommands, all in cli/commands.h.
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/allocator.h"
#include "common/core_dumps.h"

int main(int argc, char** argv) {
  // Keys and opened personal values never reach a core file (common/core_dumps.h).
  if (custos::Status hardened = custos::ForbidCoreDumps(); !hardened.ok()) {
    std::cerr << "custos: " << hardened.message() << "\n";
    return 1;
  }
  custos::TuneAllocator();
  std::vector<std::string> args(argv + 1, argv + argc);
  return custos::cli::RunCli(args, std::cout, std::cerr);
}
