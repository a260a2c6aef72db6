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

// Warnings: a valid policy that leaves a person without something (docs/POLICY.md "Warnings").
TEST(PolicyCheckCommand, WarningsNameFileLineAndStillExitZero) {
  std::string file = kFixtures + "warnings/each_warning.yaml";
  CliRun run = Cli({"policy", "check", file});
  EXPECT_EQ(run.code, kExitOk) << run.err;
  EXPECT_NE(run.out.find("valid"), std::string::npos);
  EXPECT_NE(run.out.find("5 warning(s)"), std::string::npos) << run.out;
  for (const char* want : {":9:3: warning CONTACT_WITHOUT_ADDRESS: contact 'office'",
                           ":72:3: warning RECIPIENT_WITHOUT_COUNTRY: recipient 'pollster'",
                           ":72:3: warning PROCESSOR_WITHOUT_CONTRACT: processor 'pollster'",
                           ":46:3: warning CONSENT_WITHOUT_WITHDRAWAL: purpose 'events'",
                           ":53:3: warning CONSENT_WITHOUT_WITHDRAWAL: purpose 'surveys'"}) {
    EXPECT_NE(run.err.find(file + want), std::string::npos) << want << "\n" << run.err;
  }
  EXPECT_EQ(run.err.find(" error "), std::string::npos) << run.err;
}

TEST(PolicyCheckCommand, StrictMakesWarningsErrors) {
  CliRun strict = Cli({"policy", "check", kFixtures + "warnings/each_warning.yaml", "--strict"});
  EXPECT_EQ(strict.code, kExitRefused);
  EXPECT_NE(strict.err.find("5 warning(s)"), std::string::npos) << strict.err;
  // A policy with nothing unsaid passes --strict.
  CliRun clean = Cli({"policy", "check", kFixtures + "valid/minimal.yaml", "--strict"});
  EXPECT_EQ(clean.code, kExitOk) << clean.err;
  EXPECT_TRUE(clean.err.empty()) << clean.err;
}

}  // namespace
}  // namespace custos::cli
