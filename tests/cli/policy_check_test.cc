// `custos policy check`: the documented exit codes (docs/POLICY.md "Validation").
#include <gtest/gtest.h>

#include <sstream>

#include "cli/commands.h"

namespace custos::cli {
namespace {

const std::string kFixtures = std::string(CUSTOS_SOURCE_DIR) + "/tests/fixtures/policy/";

struct CliRun {
  int code;
  std::string out, err;
};

CliRun Cli(std::vector<std::string> args) {
  std::ostringstream out, err;
  int code = RunCli(args, out, err);
  return {code, out.str(), err.str()};
}

TEST(PolicyCheckCommand, ValidPolicyExitsZero) {
  CliRun run = Cli({"policy", "check", kFixtures + "valid/minimal.yaml"});
  EXPECT_EQ(run.code, kExitOk) << run.err;
  EXPECT_NE(run.out.find("valid"), std::string::npos);
}

TEST(PolicyCheckCommand, InvalidPolicyExitsOneNamingFileLineAndHint) {
  std::string file = kFixtures + "invalid/interest_not_stated.yaml";
  CliRun run = Cli({"policy", "check", file});
  EXPECT_EQ(run.code, kExitRefused);
  EXPECT_NE(run.err.find(file + ":48:3: error INTEREST_NOT_STATED"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("hint:"), std::string::npos);
}

TEST(PolicyCheckCommand, UnreadableFileExitsThree) {
  CliRun run = Cli({"policy", "check", "/nonexistent.yaml"});
  EXPECT_EQ(run.code, kExitIo);
  EXPECT_NE(run.err.find("cannot read"), std::string::npos);
}

TEST(PolicyCheckCommand, WrongCommandLineExitsTwo) {
  EXPECT_EQ(Cli({"policy", "check"}).code, kExitUsage);
  EXPECT_EQ(Cli({"policy", "check", "a.yaml", "--bogus"}).code, kExitUsage);
  EXPECT_EQ(Cli({"frobnicate"}).code, kExitUsage);
  EXPECT_EQ(Cli({}).code, kExitUsage);
}

}  // namespace
}  // namespace custos::cli
