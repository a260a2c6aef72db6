// The `custos` executable: one binary, many subcommands, all in cli/commands.h.
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/allocator.h"

int main(int argc, char** argv) {
  custos::TuneAllocator();
  std::vector<std::string> args(argv + 1, argv + argc);
  return custos::cli::RunCli(args, std::cout, std::cerr);
}
