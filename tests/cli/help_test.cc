// The first hour at the command line: help for every verb without a data directory, the version,
// the nearest name for a typo, and errors with the documented exit codes (docs/CLI.md).
#include "cli/help.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "../store/temp_dir.h"
#include "cli/commands.h"

namespace custos::cli {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int code;
  std::string out, err;
};

CliRun Cli(std::vector<std::string> args) {
  std::ostringstream out, err;
  int code = RunCli(args, out, err);
  return {code, out.str(), err.str()};
}

const std::string kWig = std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml";

TEST(CliHelp, EveryVerbExplainsItselfWithoutADataDirectory) {
  std::vector<std::string> verbs = Verbs();
  ASSERT_GE(verbs.size(), 24u);
  for (const std::string& verb : verbs) {
    for (const char* flag : {"--help", "-h"}) {
      CliRun run = Cli({verb, flag});
      EXPECT_EQ(run.code, kExitOk) << verb << " " << flag << ": " << run.err;
      EXPECT_EQ(run.out.rfind("usage:\n", 0), 0u) << verb;
      bool names_itself = run.out.find("custos " + verb + " ") != std::string::npos ||
                          run.out.find("DIR " + verb + " ") != std::string::npos;
      EXPECT_TRUE(names_itself) << verb << ":\n" << run.out;
      EXPECT_TRUE(run.err.empty()) << verb << ": " << run.err;
    }
    // `custos help VERB` says the same; help after other arguments too.
    EXPECT_EQ(Cli({"help", verb}).out, Cli({verb, "--help"}).out) << verb;
    EXPECT_EQ(Cli({verb, "something", "--help"}).code, kExitOk) << verb;
  }
  // With global options before the verb and a data directory that does not exist.
  CliRun run = Cli({"--data", "/nonexistent/custos", "request", "--help"});
  EXPECT_EQ(run.code, kExitOk) << run.err;
  EXPECT_NE(run.out.find("request open TYPE"), std::string::npos);
}

TEST(CliHelp, TheUsageListsEveryVerb) {
  CliRun run = Cli({"--help"});
  EXPECT_EQ(run.code, kExitOk);
  for (const std::string& verb : Verbs()) {
    bool listed = run.out.find("custos " + verb + " ") != std::string::npos ||
                  run.out.find("DIR " + verb + " ") != std::string::npos;
    EXPECT_TRUE(listed) << verb << " is missing from the usage";
  }
  CliRun bare = Cli({});
  EXPECT_EQ(bare.code, kExitUsage);
  EXPECT_EQ(bare.err, run.out);
}

TEST(CliHelp, VersionNamesTheVersionAndBuild) {
  CliRun run = Cli({"--version"});
  EXPECT_EQ(run.code, kExitOk);
  EXPECT_EQ(run.out.rfind("custos 0.", 0), 0u) << run.out;
  EXPECT_NE(run.out.find("(build "), std::string::npos) << run.out;
}

TEST(CliHelp, ATypoNamesTheNearestVerbOrOption) {
  CliRun verb = Cli({"desice"});
  EXPECT_EQ(verb.code, kExitUsage);
  EXPECT_NE(verb.err.find("did you mean 'decide'?"), std::string::npos) << verb.err;
  CliRun far = Cli({"xyzzyplugh"});
  EXPECT_EQ(far.code, kExitUsage);
  EXPECT_EQ(far.err.find("did you mean"), std::string::npos) << far.err;

  CliRun option = Cli({"notice", kWig, "--fromat", "md"});
  EXPECT_EQ(option.code, kExitUsage);
  EXPECT_NE(option.err.find("unknown option --fromat (did you mean --format?)"), std::string::npos)
      << option.err;
  store::TempDir dir;
  ASSERT_EQ(Cli({"--data", dir.path(), "init", "--policy", kWig}).code, kExitOk);
  CliRun data_option = Cli({"--data", dir.path(), "subject", "add", "--tpye", "member"});
  EXPECT_EQ(data_option.code, kExitUsage);
  EXPECT_NE(data_option.err.find("did you mean --type?"), std::string::npos) << data_option.err;
}

TEST(CliHelp, NearestIgnoresWordsThatAreNotClose) {
  EXPECT_EQ(Nearest("--formt", {"--format", "--output"}), "--format");
  EXPECT_EQ(Nearest("--purpose", {"--purpose"}), "");  // an exact match is no typo
  EXPECT_EQ(Nearest("--zzzzzz", {"--format", "--output"}), "");
}

TEST(CliErrors, AnUnknownSubjectTypeIsADomainErrorListingTheTypes) {
  store::TempDir dir;
  ASSERT_EQ(Cli({"--data", dir.path(), "init", "--policy", kWig}).code, kExitOk);
  CliRun run = Cli({"--data", dir.path(), "subject", "add", "--type", "bogus"});
  EXPECT_EQ(run.code, kExitRefused);
  EXPECT_NE(run.err.find("error UNKNOWN_SUBJECT_TYPE:"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("member, non_member"), std::string::npos) << run.err;
}

TEST(CliErrors, AnUninitialisedDataDirectoryCannotBeUsedExitThree) {
  store::TempDir dir;
  fs::create_directories(dir.path());
  CliRun run = Cli({"--data", dir.path(), "subject", "show", "s1"});
  EXPECT_EQ(run.code, kExitIo);
  EXPECT_NE(run.err.find("error NOT_INITIALISED: cannot use the data directory"), std::string::npos)
      << run.err;
}

TEST(CliErrors, TokenCreateRefusesAnUninitialisedDirectoryAndWritesNothingThere) {
  store::TempDir dir;
  fs::create_directories(dir.path());
  CliRun run = Cli({"--data", dir.path(), "token", "create", "--role", "admin"});
  EXPECT_EQ(run.code, kExitIo);
  EXPECT_NE(run.err.find("NOT_INITIALISED"), std::string::npos) << run.err;
  EXPECT_TRUE(run.out.empty()) << "no token may be printed";
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(CliErrors, ServeRefusesAMalformedListenAddressWithAnExample) {
  for (const char* listen : {"8080", "::1:8080", "[::1]8080", "host:port", "127.0.0.1:70000"}) {
    CliRun run = Cli({"serve", "--data", "/nonexistent", "--listen", listen});
    EXPECT_EQ(run.code, kExitUsage) << listen;
    EXPECT_NE(run.err.find("[::1]:8080"), std::string::npos) << listen << ": " << run.err;
  }
}

}  // namespace
}  // namespace custos::cli
