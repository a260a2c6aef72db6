// Each validator rule has a fixture that fails (tests/fixtures/policy/invalid/, one change from
// the valid fixture, with "# expect: CODE at line N" in its header) and the valid fixture
// (tests/fixtures/policy/valid/minimal.yaml) that exercises the passing side of every rule.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>

#include "policy/loader.h"

namespace custos::policy {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = fs::path(CUSTOS_SOURCE_DIR) / "tests" / "fixtures" / "policy";

struct Expectation {
  std::string code;
  int line = 0;  // 0: any line
};

Expectation ReadExpectation(const fs::path& file) {
  std::ifstream in(file);
  std::string text;
  std::regex pattern(R"(# expect: ([A-Z_]+)(?: at line (\d+))?)");
  while (std::getline(in, text)) {
    std::smatch match;
    if (std::regex_search(text, match, pattern)) {
      return {match[1].str(), match[2].matched ? std::stoi(match[2].str()) : 0};
    }
  }
  return {};
}

TEST(PolicyValidator, ValidFixturePassesEveryRule) {
  auto outcome = LoadPolicy((kFixtures / "valid" / "minimal.yaml").string());
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_TRUE(outcome->ok()) << outcome->Report();
}

class InvalidFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(InvalidFixture, IsRejectedWithItsCodeAndLine) {
  fs::path file = kFixtures / "invalid" / (GetParam() + ".yaml");
  Expectation expect = ReadExpectation(file);
  ASSERT_FALSE(expect.code.empty()) << file << " has no '# expect:' line";
  auto outcome = LoadPolicy(file.string());
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  ASSERT_FALSE(outcome->ok()) << file << " was accepted";
  const Diagnostic& first = outcome->diagnostics.front();
  EXPECT_EQ(CodeName(first.code), expect.code) << outcome->Report();
  if (expect.line != 0) {
    EXPECT_EQ(first.loc.line, expect.line) << outcome->Report();
  }
  EXPECT_GT(first.loc.column, 0);
  EXPECT_FALSE(first.hint.empty()) << "every diagnostic tells how to fix it";
  // The formatted line names file, line and column.
  EXPECT_NE(
      first.Format(file.string()).find(file.string() + ":" + std::to_string(first.loc.line) + ":"),
      std::string::npos);
}

std::vector<std::string> InvalidFixtureNames() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(kFixtures / "invalid")) {
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, InvalidFixture, ::testing::ValuesIn(InvalidFixtureNames()),
                         [](const auto& info) { return info.param; });

TEST(PolicyValidator, EveryValidatorCodeHasAFailingFixture) {
  std::set<std::string> covered;
  for (const auto& name : InvalidFixtureNames()) {
    covered.insert(ReadExpectation(kFixtures / "invalid" / (name + ".yaml")).code);
  }
  for (const char* code : {"UNKNOWN_CATEGORY",
                           "UNKNOWN_PURPOSE",
                           "UNKNOWN_SUBJECT_TYPE",
                           "UNKNOWN_RECIPIENT",
                           "UNKNOWN_EVENT",
                           "DUPLICATE_KEY",
                           "MISSING_LAWFUL_BASIS",
                           "INTEREST_NOT_STATED",
                           "SPECIAL_CATEGORY_WITHOUT_CONDITION",
                           "CATEGORY_WITHOUT_RETENTION",
                           "TRANSFER_WITHOUT_SAFEGUARD",
                           "TRANSFER_FORBIDDEN",
                           "MALFORMED_PERIOD",
                           "UNKNOWN_FIELD",
                           "MISSING_FIELD",
                           "WRONG_TYPE",
                           "INVALID_VALUE",
                           "UNSUPPORTED_VERSION",
                           "YAML_SYNTAX",
                           "INVALID_PARENT"}) {
    EXPECT_TRUE(covered.count(code)) << code << " has no failing fixture";
  }
}

TEST(PolicyValidator, FideslangSpecialCategoryUsedUndeclaredNeedsACondition) {
  // Using user.health_and_medical straight from fideslang, without declaring a condition.
  std::string text;
  std::ifstream in(kFixtures / "valid" / "minimal.yaml");
  text.assign(std::istreambuf_iterator<char>(in), {});
  std::string from = "categories: [user.name, user.contact.email, user.health_and_medical.dietary]";
  text.replace(text.find(from), from.size(),
               "categories: [user.name, user.contact.email, user.health_and_medical.genetic]");
  LoadOutcome outcome = CheckPolicyText(text, "inline.yaml");
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.diagnostics.front().code, ErrorCode::kSpecialCategoryWithoutCondition)
      << outcome.Report();
}

std::string MinimalText() {
  std::ifstream in(kFixtures / "valid" / "minimal.yaml");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// minimal.yaml with its `rights.bank_holidays` line replaced by `line` ("" drops it).
std::string MinimalWithBankHolidays(const std::string& line) {
  std::string text = MinimalText();
  const std::string from = "  bank_holidays: england_and_wales\n";
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos);
  if (at != std::string::npos) text.replace(at, from.size(), line);
  return text;
}

TEST(PolicyValidator, UnknownBankHolidaysNationNamesFileLineColumnAndTheNations) {
  std::string text = MinimalWithBankHolidays("  bank_holidays: wales\n");
  LoadOutcome outcome = CheckPolicyText(text, "inline.yaml");
  ASSERT_FALSE(outcome.ok());
  const Diagnostic& first = outcome.diagnostics.front();
  EXPECT_EQ(first.code, ErrorCode::kInvalidValue) << outcome.Report();
  int line =
      1 + static_cast<int>(std::count(text.begin(), text.begin() + text.find("wales"), '\n'));
  EXPECT_EQ(first.loc.line, line) << outcome.Report();
  EXPECT_EQ(first.loc.column, 18) << "the value, after '  bank_holidays: '";
  for (const char* nation : {"england_and_wales", "scotland", "northern_ireland"}) {
    EXPECT_NE(first.hint.find(nation), std::string::npos) << first.hint;
  }
  EXPECT_NE(first.Format("inline.yaml").find("inline.yaml:" + std::to_string(line) + ":18:"),
            std::string::npos)
      << first.Format("inline.yaml");
}

TEST(PolicyLoader, BankHolidaysDefaultsToEnglandAndWales) {
  LoadOutcome outcome = CheckPolicyText(MinimalWithBankHolidays(""), "inline.yaml");
  ASSERT_TRUE(outcome.ok()) << outcome.Report();
  EXPECT_EQ(outcome.policy.rights.bank_holidays, "england_and_wales");
}

TEST(PolicyLoader, BankHolidaysAcceptsEachUkNation) {
  for (std::string nation : {"england_and_wales", "scotland", "northern_ireland"}) {
    LoadOutcome outcome =
        CheckPolicyText(MinimalWithBankHolidays("  bank_holidays: " + nation + "\n"), "i.yaml");
    ASSERT_TRUE(outcome.ok()) << outcome.Report();
    EXPECT_EQ(outcome.policy.rights.bank_holidays, nation);
  }
}

TEST(PolicyValidator, ReportsEveryDuplicateAndKeepsGoing) {
  LoadOutcome outcome = CheckPolicyText("custos: 1\ncustos: 1\nnotice: {}\nnotice: {}\n", "d.yaml");
  int duplicates = 0;
  for (const auto& d : outcome.diagnostics) duplicates += d.code == ErrorCode::kDuplicateKey;
  EXPECT_EQ(duplicates, 2) << outcome.Report();
}

TEST(PolicyLoader, RejectsDeepNestingWithoutCrashing) {
  std::string deep(10000, '[');
  LoadOutcome outcome = CheckPolicyText(deep, "deep.yaml");
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.diagnostics.front().code, ErrorCode::kYamlSyntax);
}

TEST(PolicyLoader, EmptyFileAsksForTheVersion) {
  LoadOutcome outcome = CheckPolicyText("", "empty.yaml");
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.diagnostics.front().code, ErrorCode::kUnsupportedVersion);
}

TEST(PolicyLoader, MissingFileIsAnIoError) {
  auto outcome = LoadPolicy("/nonexistent/policy.yaml");
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), ErrorCode::kIo);
}

}  // namespace
}  // namespace custos::policy
