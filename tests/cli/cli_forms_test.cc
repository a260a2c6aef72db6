// Every form of the command line in docs/CLI.md, run through RunCli as a person at a terminal
// runs it: each test checks what the command prints and what it changed.
//
// kForms below names the test that runs each form. DocumentedFormsAllHaveATest reads
// docs/CLI.md and fails for a documented form with no entry; each test, when it ends, fails
// for a form of its entries that it did not run. A new verb in docs/CLI.md therefore needs a
// test here before the suite passes.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pthread.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <streambuf>
#include <string>
#include <thread>
#include <vector>

#include "../store/pg_test_database.h"
#include "../store/temp_dir.h"
#include "cli/commands.h"
#include "store/postgres/postgres_store.h"

namespace custos::cli {
namespace {

namespace fs = std::filesystem;

// Each documented form (verb, sub-verb) and the variants the tests pin (an option after the
// form), with the test that runs it.
const std::map<std::string, std::string> kForms = {
    {"policy check", "PolicyDocumentsAreRenderedWithoutADataDirectory"},
    {"policy check --quiet", "PolicyDocumentsAreRenderedWithoutADataDirectory"},
    {"notice", "PolicyDocumentsAreRenderedWithoutADataDirectory"},
    {"ropa", "PolicyDocumentsAreRenderedWithoutADataDirectory"},
    {"datamap", "PolicyDocumentsAreRenderedWithoutADataDirectory"},
    {"datamap --output", "PolicyDocumentsAreRenderedWithoutADataDirectory"},
    {"init", "SubjectsEventsAndRecords"},
    {"subject add", "SubjectsEventsAndRecords"},
    {"subject show", "SubjectsEventsAndRecords"},
    {"subject find", "SubjectsEventsAndRecords"},
    {"event", "SubjectsEventsAndRecords"},
    {"record put", "SubjectsEventsAndRecords"},
    {"record state", "SubjectsEventsAndRecords"},
    {"consent give", "ConsentIsGivenWithdrawnAndExported"},
    {"consent give --cookie", "ConsentIsGivenWithdrawnAndExported"},
    {"consent withdraw", "ConsentIsGivenWithdrawnAndExported"},
    {"consent export", "ConsentIsGivenWithdrawnAndExported"},
    {"preference set", "PreferencesSuppressionsAndDecisions"},
    {"suppress", "PreferencesSuppressionsAndDecisions"},
    {"decide", "PreferencesSuppressionsAndDecisions"},
    {"decide --channel", "PreferencesSuppressionsAndDecisions"},
    {"decide --json", "PreferencesSuppressionsAndDecisions"},
    {"object", "ObjectionsAreRecordedAndLifted"},
    {"object --lift", "ObjectionsAreRecordedAndLifted"},
    {"restrict", "RestrictionsArePlacedAndLifted"},
    {"restrict --lift", "RestrictionsArePlacedAndLifted"},
    {"audit verify", "AuditVerifyCountsTheEntries"},
    {"audit checkpoint", "AuditVerifyCountsTheEntries"},
    {"retention plan", "RetentionIsPlannedThenRun"},
    {"retention plan --json", "RetentionIsPlannedThenRun"},
    {"retention run", "RetentionIsPlannedThenRun"},
    {"hold place", "LegalHoldsArePlacedListedAndReleased"},
    {"hold list", "LegalHoldsArePlacedListedAndReleased"},
    {"hold list --json", "LegalHoldsArePlacedListedAndReleased"},
    {"hold release", "LegalHoldsArePlacedListedAndReleased"},
    {"review list", "ReviewTasksAreListedAndDone"},
    {"review list --all", "ReviewTasksAreListedAndDone"},
    {"review done", "ReviewTasksAreListedAndDone"},
    {"aggregate", "AggregatesSuppressSmallCells"},
    {"aggregate --threshold", "AggregatesSuppressSmallCells"},
    {"aggregate --json", "AggregatesSuppressSmallCells"},
    {"request open", "ARequestByThePersonIsVerifiedPausedExtendedAndFulfilled"},
    {"request verify", "ARequestByThePersonIsVerifiedPausedExtendedAndFulfilled"},
    {"request resend", "ARequestByThePersonIsVerifiedPausedExtendedAndFulfilled"},
    {"request wait", "ARequestByThePersonIsVerifiedPausedExtendedAndFulfilled"},
    {"request answered", "ARequestByThePersonIsVerifiedPausedExtendedAndFulfilled"},
    {"request extend", "ARequestByThePersonIsVerifiedPausedExtendedAndFulfilled"},
    {"request fulfil", "ARequestByThePersonIsVerifiedPausedExtendedAndFulfilled"},
    {"request show", "ARequestByThePersonIsVerifiedPausedExtendedAndFulfilled"},
    {"request show --field", "ARequestByThePersonIsVerifiedPausedExtendedAndFulfilled"},
    {"request show --json", "ARequestByThePersonIsVerifiedPausedExtendedAndFulfilled"},
    {"request list", "ARequestByThePersonIsVerifiedPausedExtendedAndFulfilled"},
    {"request list --open", "ARequestByThePersonIsVerifiedPausedExtendedAndFulfilled"},
    {"request list --due-soon", "ARequestByThePersonIsVerifiedPausedExtendedAndFulfilled"},
    {"request list --overdue", "ARequestByThePersonIsVerifiedPausedExtendedAndFulfilled"},
    {"request list --json", "ARequestByThePersonIsVerifiedPausedExtendedAndFulfilled"},
    {"request document", "ARequestByThePersonIsVerifiedPausedExtendedAndFulfilled"},
    {"outbox read", "ARequestByThePersonIsVerifiedPausedExtendedAndFulfilled"},
    {"outbox read --last", "ARequestByThePersonIsVerifiedPausedExtendedAndFulfilled"},
    {"request open --subject", "RequestsByStaffAreRectifiedWithdrawnRefusedAndPurged"},
    {"request verify --staff", "RequestsByStaffAreRectifiedWithdrawnRefusedAndPurged"},
    {"request recipients", "RequestsByStaffAreRectifiedWithdrawnRefusedAndPurged"},
    {"request withdraw", "RequestsByStaffAreRectifiedWithdrawnRefusedAndPurged"},
    {"request refuse", "RequestsByStaffAreRectifiedWithdrawnRefusedAndPurged"},
    {"request purge", "RequestsByStaffAreRectifiedWithdrawnRefusedAndPurged"},
    {"endpoint set", "EndpointsAndOutboxDelivery"},
    {"endpoint list", "EndpointsAndOutboxDelivery"},
    {"outbox list", "EndpointsAndOutboxDelivery"},
    {"outbox list --request", "EndpointsAndOutboxDelivery"},
    {"outbox deliver", "EndpointsAndOutboxDelivery"},
    {"token create", "TokensAreCreatedListedAndRevoked"},
    {"token list", "TokensAreCreatedListedAndRevoked"},
    {"token revoke", "TokensAreCreatedListedAndRevoked"},
    {"serve", "ServeAnswersOverHttpAndStopsOnSigterm"},
    {"import", "ImportIsSummarisedRejectedAndIdempotent"},
    {"import --json", "ImportIsSummarisedRejectedAndIdempotent"},
    {"import --progress", "ImportIsSummarisedRejectedAndIdempotent"},
    {"init --database", "ThePostgresDatabaseFormsKeepDataInPostgres"},
    {"decide --database", "ThePostgresDatabaseFormsKeepDataInPostgres"},
    {"policy diff", "PolicyDiffMarksMaterialChangesAndFreshConsent"},
    {"policy diff --json", "PolicyDiffMarksMaterialChangesAndFreshConsent"},
    {"disclose", "BreachRegisterAndDisclosureLog"},
    {"breach record", "BreachRegisterAndDisclosureLog"},
    {"breach list", "BreachRegisterAndDisclosureLog"},
    {"breach show", "BreachRegisterAndDisclosureLog"},
    {"breach assess", "BreachRegisterAndDisclosureLog"},
    {"breach update", "BreachRegisterAndDisclosureLog"},
    {"breach report", "BreachRegisterAndDisclosureLog"},
    {"breach tell", "BreachRegisterAndDisclosureLog"},
    {"breach close", "BreachRegisterAndDisclosureLog"},
    {"breach export", "BreachRegisterAndDisclosureLog"},
    {"systems check", "SystemsAreCheckedPlannedWaivedAndSwept"},
    {"systems check --json", "SystemsAreCheckedPlannedWaivedAndSwept"},
    {"systems sweep", "SystemsAreCheckedPlannedWaivedAndSwept"},
    {"systems sweep --apply", "SystemsAreCheckedPlannedWaivedAndSwept"},
    {"request plan", "SystemsAreCheckedPlannedWaivedAndSwept"},
    {"request plan --json", "SystemsAreCheckedPlannedWaivedAndSwept"},
    {"request waive-system", "SystemsAreCheckedPlannedWaivedAndSwept"},
    {"application authorise", "ThirdPartyApplicationsAreAuthorisedListedAndRevoked"},
    {"application list", "ThirdPartyApplicationsAreAuthorisedListedAndRevoked"},
    {"application revoke", "ThirdPartyApplicationsAreAuthorisedListedAndRevoked"},
};

// Verbs whose second word picks the operation (`consent give`, `request open`).
const std::set<std::string> kVerbsWithSubVerbs = {
    "policy", "subject", "record", "consent",  "preference", "audit",  "retention", "hold",
    "review", "request", "outbox", "endpoint", "token",      "breach", "systems",   "application",
};
// Global options before the verb that take a value.
const std::set<std::string> kGlobalOptions = {"--data",       "--database",   "--schema",
                                              "--controller", "--master-key", "--now"};

std::vector<std::string> SplitOn(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, separator)) parts.push_back(part);
  return parts;
}

// The forms of one command line: "verb" or "verb sub" (one for each of "give|withdraw").
std::vector<std::string> FormsOf(const std::vector<std::string>& args) {
  size_t i = 0;
  while (i < args.size() && (kGlobalOptions.count(args[i]) || args[i] == "--json")) {
    i += args[i] == "--json" ? 1 : 2;
  }
  if (i >= args.size()) return {};
  const std::string& verb = args[i];
  if (!kVerbsWithSubVerbs.count(verb)) return {verb};
  if (i + 1 >= args.size()) return {};
  std::vector<std::string> forms;
  for (const std::string& sub : SplitOn(args[i + 1], '|')) forms.push_back(verb + " " + sub);
  return forms;
}

// What a run stands for in kForms: each form, and each form followed by each option given.
std::set<std::string> FormsAndVariantsOf(const std::vector<std::string>& args) {
  std::set<std::string> keys;
  for (const std::string& form : FormsOf(args)) {
    keys.insert(form);
    for (const std::string& arg : args) {
      if (arg.rfind("--", 0) == 0) keys.insert(form + " " + arg.substr(0, arg.find('=')));
    }
  }
  return keys;
}

// A small club's policy that has something for every verb: consent and legitimate-interests
// purposes, a direct-marketing channel, a cookie category, a recipient told of rectifications,
// the three retention actions, an extension and a small-cell threshold of 2.
constexpr const char* kPolicy = R"yaml(custos: 1
notice:
  version: "2026-01"
  date: 2026-01-15
controller:
  name: Example Club
  email: privacy@example.test
regulator:
  name: Information Commissioner's Office
  website: https://ico.org.uk
subject_types:
  member: {name: Members}
events:
  membership_ended: {name: Membership ended}
sources:
  direct: {kind: direct}
categories:
  user.name: {}
  user.contact.email: {}
  user.job_title: {}
  user.engagement:
    parent: user
    name: Engagement history
  user.engagement.events:
    parent: user.engagement
    name: Events attended
    identifying: false
purposes:
  newsletter:
    name: Newsletter
    basis: consent
    categories: [user.name, user.contact.email]
    subjects: [member]
    sources: [direct]
    recipients: [mailer]
    direct_marketing: true
    channels: [email]
  records:
    name: Membership records
    basis: legitimate_interests
    interest: keeping our membership records
    categories: [user.name, user.contact, user.job_title, user.engagement]
    subjects: [member]
    sources: [direct]
    recipients: [mailer]
recipients:
  mailer: {name: Mailing service, kind: processor, countries: [GB], contract: DPA-1}
transfers:
  regions: [UK]
retention:
  - id: contact
    subjects: [member]
    categories: [user.name, user.contact]
    after: membership_ended
    period: P1Y
    action: delete
  - id: job_title_review
    subjects: [member]
    categories: [user.job_title]
    after: membership_ended
    period: P1Y
    action: review
  - id: engagement
    subjects: [member]
    categories: [user.engagement]
    after: membership_ended
    period: P1Y
    action: anonymise
    keep: [user.engagement.events]
rights:
  available: [access, rectification, erasure, restriction, objection, portability,
              withdraw_consent]
  response_period: P1M
  extension: {max: P2M, when: for complex or numerous requests}
  fee: none
  bank_holidays: england_and_wales
cookies:
  analytics: {name: Analytics cookies, consent_required: true}
anonymisation:
  small_cell_threshold: 2
)yaml";

struct CliRun {
  int code = -1;
  std::string out, err;
};

rapidjson::Document Json(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  EXPECT_FALSE(doc.HasParseError()) << text;
  return doc;
}

std::string Str(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject() || !object.HasMember(name) || !object[name].IsString()) {
    ADD_FAILURE() << "no string field " << name;
    return "";
  }
  return object[name].GetString();
}

int64_t Int(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject() || !object.HasMember(name) || !object[name].IsInt64()) {
    ADD_FAILURE() << "no integer field " << name;
    return -1;
  }
  return object[name].GetInt64();
}

class CliForms : public testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.path());
    policy_ = dir_.Sub("club.yaml");
    std::ofstream(policy_) << kPolicy;
    data_ = dir_.Sub("data");
  }

  // Fails for each form kForms gives this test that the test did not run.
  void TearDown() override {
    std::string test = testing::UnitTest::GetInstance()->current_test_info()->name();
    for (const auto& [form, owner] : kForms) {
      if (owner == test) {
        EXPECT_TRUE(ran_.count(form)) << "kForms says " << test << " runs '" << form << "'";
      }
    }
  }

  // The command line as given (no data directory added).
  CliRun Raw(const std::vector<std::string>& args) {
    for (const std::string& key : FormsAndVariantsOf(args)) ran_.insert(key);
    std::ostringstream out, err;
    CliRun run;
    run.code = RunCli(args, out, err);
    run.out = out.str();
    run.err = err.str();
    return run;
  }

  // `custos --data DIR --now NOW ARGS...`.
  CliRun Run(const std::vector<std::string>& args) {
    std::vector<std::string> full = {"--data", data_, "--now", now_};
    full.insert(full.end(), args.begin(), args.end());
    return Raw(full);
  }

  // Runs a command that must succeed and returns what it printed.
  std::string Ok(const std::vector<std::string>& args) {
    CliRun run = Run(args);
    EXPECT_EQ(run.code, kExitOk) << args[0] << ": " << run.err;
    return run.out;
  }

  void Init() {
    CliRun run = Run({"init", "--policy", policy_});
    ASSERT_EQ(run.code, kExitOk) << run.err;
    ASSERT_EQ(run.out, "initialised " + data_ + " for club (Example Club, notice 2026-01)\n");
  }

  // A member with an email address.
  void Member(const std::string& id) {
    ASSERT_EQ(Ok({"subject", "add", id, "--type", "member", "--email", id + "@example.test"}),
              id + "\n");
  }

  store::TempDir dir_;
  std::string policy_, data_;
  std::string now_ = "2026-01-05";
  std::set<std::string> ran_;
};

TEST_F(CliForms, ImportIsSummarisedRejectedAndIdempotent) {
  Init();
  const std::string mapping = dir_.Sub("crm.yaml");
  std::ofstream(mapping)
      << "custos_import: 1\n"
         "person: {external_id: id, type: member, since: joined}\n"
         "identifiers: [{column: email, kind: email}]\n"
         "records:\n"
         "  - {column: name, category: user.name, source: direct, purpose: records}\n"
         "events: [{column: left, event: membership_ended}]\n"
         "consents: [{column: news, purpose: newsletter, date: joined}]\n";
  const std::string csv = dir_.Sub("crm.csv");
  std::ofstream(csv) << "id,joined,email,name,left,news\n"
                        "c1,2020-01-01,a@example.test,Ada,2025-12-01,yes\n"
                        "c2,2020-01-01,b@example.test,Bo,,maybe\n"
                        "c3,2020-01-01,c@example.test,Cy,,no\n";
  const std::string rejects = dir_.Sub("rejects.csv");
  CliRun first =
      Run({"import", "--mapping", mapping, "--rejects", rejects, "--progress", "lines", csv});
  EXPECT_EQ(first.code, kExitOk) << first.err;
  EXPECT_EQ(first.out,
            "imported 2, skipped 0, rejected 1 of 3 rows\n"
            "  rejected " +
                csv +
                ":3: column 'news' is not a consent answer (yes/no, true/false, "
                "1/0, given/withdrawn)\n"
                "  rejected rows listed in " +
                rejects + "\n");
  // Progress as plain lines (stderr is no terminal): percent, rows, rate, time left.
  EXPECT_NE(first.err.find("import: 100%, 3 rows, "), std::string::npos) << first.err;
  EXPECT_NE(first.err.find(" rows/s, ETA 00:00\n"), std::string::npos) << first.err;
  std::ifstream reject_file(rejects);
  std::stringstream reject_text;
  reject_text << reject_file.rdbuf();
  EXPECT_EQ(reject_text.str(),
            "file,line,reason\n" + csv +
                ",3,\"column 'news' is not a consent answer (yes/no, true/false, 1/0, "
                "given/withdrawn)\"\n");
  std::string c1 = Ok({"subject", "find", "--email", "a@example.test"});
  ASSERT_EQ(c1.rfind("x_", 0), 0u) << c1;
  c1.pop_back();
  EXPECT_EQ(Ok({"record", "state", c1, "user.name"}), "active\n");
  CliRun allowed = Run({"decide", c1, "newsletter", "user.contact.email"});
  EXPECT_EQ(allowed.out, "allow\n");

  // The same export again: nothing imported, the reject file says the same, the log unchanged.
  std::string before = Ok({"audit", "verify"});
  CliRun second = Run({"--json", "import", "--mapping", mapping, "--rejects", rejects, csv});
  EXPECT_EQ(second.code, kExitOk) << second.err;
  EXPECT_EQ(second.err, "");
  rapidjson::Document summary = Json(second.out);
  EXPECT_EQ(summary["imported"].GetInt64(), 0);
  EXPECT_EQ(summary["skipped"].GetInt64(), 2);
  EXPECT_EQ(summary["rejected"].GetInt64(), 1);
  EXPECT_EQ(summary["skipped_by_reason"]["already imported (same external id)"].GetInt64(), 2);
  EXPECT_EQ(summary["rejections"][0]["line"].GetInt64(), 3);
  EXPECT_EQ(Ok({"audit", "verify"}), before);

  // A mistake in the mapping: one line with the file, line, code and fix; nothing imported.
  std::ofstream(mapping)
      << "custos_import: 1\n"
         "person: {external_id: id, type: member}\n"
         "records:\n"
         "  - {column: name, category: user.name, source: direct, purpose: nope}\n";
  CliRun bad = Run({"import", "--mapping", mapping, csv});
  EXPECT_EQ(bad.code, kExitRefused);
  EXPECT_EQ(bad.out, "");
  EXPECT_EQ(bad.err, "custos: error MAPPING_INVALID: " + mapping +
                         ":4:66: error UNKNOWN_PURPOSE: purpose 'nope' is not in the policy; fix: "
                         "use one of: newsletter, records\n");
  // A column the export lacks: named with the mapping's line, before any row.
  std::ofstream(mapping) << "custos_import: 1\n"
                            "person: {external_id: id, type: member}\n"
                            "identifiers: [{column: mobile, kind: phone}]\n";
  CliRun missing = Run({"import", "--mapping", mapping, csv});
  EXPECT_EQ(missing.code, kExitRefused);
  EXPECT_EQ(missing.err.rfind("custos: error MAPPING_INVALID: " + mapping +
                                  ":3:24: column "
                                  "'mobile' is not in the data's header line",
                              0),
            0u)
      << missing.err;
  CliRun usage = Run({"import", csv});
  EXPECT_EQ(usage.code, kExitUsage);
}

TEST_F(CliForms, DocumentedFormsAllHaveATest) {
  std::ifstream in(std::string(CUSTOS_SOURCE_DIR) + "/docs/CLI.md");
  ASSERT_TRUE(in) << "docs/CLI.md";
  std::set<std::string> documented;
  bool in_block = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("```", 0) == 0) {
      in_block = !in_block;
      continue;
    }
    if (!in_block || line.rfind("custos ", 0) != 0) continue;
    std::vector<std::string> words;
    std::istringstream split(line.substr(7));
    for (std::string word; split >> word;) words.push_back(word);
    for (const std::string& form : FormsOf(words)) documented.insert(form);
  }
  // The verbs the usage text and the command layer know, so a form the parse misses shows up.
  for (const char* form : {"policy check",
                           "notice",
                           "ropa",
                           "datamap",
                           "init",
                           "subject add",
                           "subject show",
                           "subject find",
                           "event",
                           "record put",
                           "record state",
                           "consent give",
                           "consent withdraw",
                           "consent export",
                           "preference set",
                           "object",
                           "restrict",
                           "suppress",
                           "decide",
                           "audit verify",
                           "audit checkpoint",
                           "retention plan",
                           "retention run",
                           "hold place",
                           "hold release",
                           "hold list",
                           "review list",
                           "review done",
                           "aggregate",
                           "request open",
                           "request verify",
                           "request resend",
                           "request wait",
                           "request answered",
                           "request extend",
                           "request refuse",
                           "request withdraw",
                           "request fulfil",
                           "request show",
                           "request list",
                           "request document",
                           "request recipients",
                           "request purge",
                           "outbox list",
                           "outbox read",
                           "outbox deliver",
                           "endpoint set",
                           "endpoint list",
                           "serve",
                           "token create",
                           "token list",
                           "token revoke",
                           "import",
                           "policy diff",
                           "disclose",
                           "breach record",
                           "breach list",
                           "breach export",
                           "request plan",
                           "request waive-system",
                           "systems check",
                           "systems sweep",
                           "application authorise",
                           "application list",
                           "application revoke"}) {
    EXPECT_TRUE(documented.count(form)) << "docs/CLI.md does not show '" << form << "'";
  }
  for (const std::string& form : documented) {
    EXPECT_TRUE(kForms.count(form)) << "no test runs the documented form '" << form << "'";
  }
  // Every test kForms names exists (in this file's suites, CliForms and CliRetentionForms).
  std::set<std::string> tests;
  const testing::UnitTest& unit = *testing::UnitTest::GetInstance();
  for (int s = 0; s < unit.total_test_suite_count(); ++s) {
    const testing::TestSuite& suite = *unit.GetTestSuite(s);
    if (std::string(suite.name()).rfind("Cli", 0) != 0) continue;
    for (int i = 0; i < suite.total_test_count(); ++i) tests.insert(suite.GetTestInfo(i)->name());
  }
  for (const auto& [form, test] : kForms) {
    EXPECT_TRUE(tests.count(test)) << form << ": no test " << test;
  }
}

// `policy diff`: a new consent purpose is material and needs consent; the same file twice has
// no change; an invalid file is refused in one line.
TEST_F(CliForms, PolicyDiffMarksMaterialChangesAndFreshConsent) {
  const std::string next = dir_.Sub("club-next.yaml");
  std::string text = kPolicy;
  text.replace(text.find("  records:\n"), 0,
               "  podcast:\n    name: Podcast list\n    basis: consent\n"
               "    categories: [user.contact.email]\n    subjects: [member]\n");
  std::ofstream(next) << text;
  CliRun diff = Raw({"policy", "diff", policy_, next});
  EXPECT_EQ(diff.code, kExitOk) << diff.err;
  EXPECT_EQ(diff.out, "purpose_added podcast: Podcast list (consent) [material] [needs consent]\n");
  CliRun json = Raw({"policy", "diff", policy_, next, "--json"});
  EXPECT_EQ(json.code, kExitOk);
  EXPECT_NE(json.out.find("\"needs_consent\":[\"podcast\"]"), std::string::npos) << json.out;
  EXPECT_EQ(Raw({"policy", "diff", policy_, policy_}).out, "no change\n");
  std::ofstream(next) << "custos: 1\nnonsense: [\n";
  CliRun bad = Raw({"policy", "diff", policy_, next});
  EXPECT_NE(bad.code, kExitOk);
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
  EXPECT_NE(bad.err.find("club-next.yaml:3:1: error YAML_SYNTAX"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("; fix: "), std::string::npos) << bad.err;
}

// The organisation's own systems (docs/SYSTEMS.md) through the CLI: the club's members table in
// an SQLite file whose path is in a connection file in the data directory.
TEST_F(CliForms, SystemsAreCheckedPlannedWaivedAndSwept) {
  const std::string crm = dir_.Sub("crm.sqlite");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(crm.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TABLE members (id INTEGER PRIMARY KEY, email TEXT, name TEXT, "
                           "left_on TEXT);"
                           "INSERT INTO members VALUES (1, 'm1@example.test', 'Em One', NULL),"
                           " (2, 'old@example.test', 'Old Member', '2020-01-01');",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  std::ofstream(policy_) << kPolicy << R"yaml(systems:
  crm:
    name: Club CRM
    kind: sqlite
    connection: {file: crm.conn}
    datasets:
      members:
        table: members
        primary_key: id
        find_by: {email: email}
        retention: {rule: contact, starts: left_on}
        fields:
          email: {category: user.contact.email, erase: delete_row}
          name: {category: user.name, erase: delete_row}
          left_on:
)yaml";
  Init();
  std::ofstream(data_ + "/crm.conn") << crm << "\n";
  Member("m1");
  EXPECT_EQ(Ok({"systems", "check"}),
            "crm (Club CRM, sqlite): ok\n  members (members): 2 row(s)\n");
  EXPECT_NE(Ok({"--json", "systems", "check"}).find("\"ok\":true"), std::string::npos);
  Ok({"request", "open", "erasure", "--subject", "m1", "--verified-by", "passport_seen", "--id",
      "r1"});
  EXPECT_EQ(Ok({"request", "plan", "r1"}),
            "crm (Club CRM): reached\n  members (members): 1 row(s): 1 to delete, 0 to change, 0 "
            "left\n    row 1: delete\n");
  EXPECT_NE(Ok({"--json", "request", "plan", "r1"}).find("\"delete\":true"), std::string::npos);
  // The CRM goes away: fulfilment waits for it, naming it, until the DPO says why it cannot.
  std::filesystem::rename(crm, crm + ".away");
  CliRun waiting = Run({"request", "fulfil", "r1"});
  EXPECT_EQ(waiting.code, kExitIo);
  EXPECT_NE(waiting.err.find("error SYSTEM_UNAVAILABLE: request r1 waits for crm"),
            std::string::npos)
      << waiting.err;
  std::filesystem::rename(crm + ".away", crm);
  EXPECT_EQ(Ok({"request", "waive-system", "r1", "crm", "--reason", "migrating"}),
            "r1: crm left out (the reason is kept with the request)\n");
  EXPECT_EQ(Run({"request", "waive-system", "r1", "crm"}).code, kExitUsage);
  EXPECT_NE(Ok({"request", "fulfil", "r1"}).find("Club CRM left out"), std::string::npos);
  // Retention: the member who left in 2020 is a year past the rule's period.
  EXPECT_EQ(Ok({"systems", "sweep"}),
            "crm.members rule contact (dated before 2025-01-05): 1 due, 1 to delete, 0 to change, "
            "0 held\nnothing changed (dry run: add --apply)\n");
  EXPECT_EQ(Ok({"systems", "sweep", "--apply"}),
            "crm.members rule contact (dated before 2025-01-05): 1 due, 1 deleted, 0 changed, 0 "
            "held\n");
  EXPECT_EQ(Ok({"systems", "check"}),
            "crm (Club CRM, sqlite): ok\n  members (members): 1 row(s)\n");
}

// The breach register through the CLI, and the disclosure log a breach's people come from.
TEST_F(CliForms, BreachRegisterAndDisclosureLog) {
  Init();
  Member("m1");
  Ok({"record", "put", "m1", "user.contact.email", "m1@example.test", "--source", "direct",
      "--purpose", "records"});
  EXPECT_EQ(Ok({"disclose", "m1", "mailer", "records", "user.contact.email"}),
            "disclosure 1: m1 to mailer\n");
  EXPECT_EQ(Run({"disclose", "m1", "nobody", "records", "user.name"}).code, kExitUsage);
  EXPECT_EQ(Ok({"breach", "record", "--id", "B1", "--nature", "The mailer's list leaked.",
                "--discovered", "2026-01-04T10:00:00Z", "--category", "user.contact"}),
            "breach B1: risk unassessed, 1 people, 1 records; aware 2026-01-04T10:00:00Z; report "
            "due 2026-01-07T10:00:00Z\n");
  EXPECT_EQ(Ok({"breach", "list"}).rfind("breach B1: ", 0), 0u);
  EXPECT_EQ(Ok({"breach", "show", "B1"}).rfind("breach B1: ", 0), 0u);
  EXPECT_NE(Ok({"breach", "update", "B1", "--measures", "The list was withdrawn."}).find("B1"),
            std::string::npos);
  EXPECT_NE(Ok({"breach", "assess", "B1", "--risk", "high_risk", "--reasoning", "Addresses."})
                .find("people must be told"),
            std::string::npos);
  EXPECT_NE(Ok({"breach", "report", "B1", "--reported", "2026-01-05", "--reference", "ICO-1"})
                .find("reported 2026-01-05T00:00:00Z"),
            std::string::npos);
  EXPECT_NE(Ok({"breach", "tell", "B1"}).find("people told"), std::string::npos);
  EXPECT_NE(Ok({"breach", "close", "B1"}).find("closed"), std::string::npos);
  std::string html = Ok({"breach", "export", "B1", "--format", "html"});
  EXPECT_NE(html.find("Personal data breach report B1"), std::string::npos);
  EXPECT_NE(Ok({"breach", "export", "B1"}).find("\"regulator_reference\":\"ICO-1\""),
            std::string::npos);
  CliRun unknown = Run({"breach", "show", "B2"});
  EXPECT_EQ(unknown.err, "custos: error UNKNOWN_BREACH: no breach B2\n");
}

// ProgressTeaching (001): "Before we allow Third Party Applications to access school data,
// schools must authorise the requests to connect to their data and review the type of data that
// an application is requesting. These permissions can be revoked at any time by the school."
TEST_F(CliForms, ThirdPartyApplicationsAreAuthorisedListedAndRevoked) {
  policy_ = std::string(CUSTOS_SOURCE_DIR) + "/policies/progressteaching_schools.yaml";
  CliRun init = Run({"init", "--policy", policy_});
  ASSERT_EQ(init.code, kExitOk) << init.err;
  std::string out = Ok({"application", "authorise", "Homework Planner", "--recipient",
                        "third_party_applications", "--purpose", "school_legal_obligation",
                        "--category", "user.childrens.school_records", "--expires", "2026-07-31"});
  ASSERT_EQ(out.rfind("application ", 0), 0u) << out;
  const std::string id = out.substr(12, 16);
  EXPECT_EQ(out.substr(28, out.find('\n') + 1 - 28),
            " authorised until 2026-07-31T00:00:00Z; its token, shown once:\n")
      << out;
  EXPECT_EQ(Ok({"application", "list"}),
            id + " active \"Homework Planner\" recipient=third_party_applications "
                 "purpose=school_legal_obligation category=user.childrens.school_records "
                 "expires=2026-07-31T00:00:00Z created=2026-01-05T00:00:00Z\n");
  EXPECT_EQ(
      Ok({"application", "revoke", id}),
      "revoked application " + id + " (a running server refuses its token within a second)\n");
  EXPECT_NE(Ok({"application", "list"}).find(id + " revoked "), std::string::npos);
  // Revoked a second time, by the whole token this time.
  const std::string token = out.substr(out.find('\n') + 1, out.size() - out.find('\n') - 2);
  CliRun again = Run({"application", "revoke", token});
  EXPECT_NE(again.code, kExitOk);
  EXPECT_EQ(again.err.rfind("custos: error ALREADY_EXISTS", 0), 0u) << again.err;
  EXPECT_EQ(again.err.find(token), std::string::npos) << "the token is never echoed";
  // What the policy does not allow is refused with the reason, and nothing is issued.
  CliRun processor =
      Run({"application", "authorise", "X", "--recipient", "sub_processors", "--purpose",
           "school_legal_obligation", "--category", "user.name", "--expires", "2026-07-31"});
  EXPECT_EQ(processor.code, kExitUsage);
  EXPECT_NE(processor.err.find("is not a third party"), std::string::npos) << processor.err;
  EXPECT_EQ(Run({"application", "authorise", "X", "--recipient", "third_party_applications"}).code,
            kExitUsage);
  // An application's token comes only from a grant.
  CliRun created = Run({"token", "create", "--role", "application"});
  EXPECT_EQ(created.code, kExitUsage);
  EXPECT_NE(created.err.find("application authorise"), std::string::npos) << created.err;
  const std::string listed = Ok({"application", "list"});
  EXPECT_EQ(std::count(listed.begin(), listed.end(), '\n'), 1);
}

TEST_F(CliForms, PolicyDocumentsAreRenderedWithoutADataDirectory) {
  CliRun check = Raw({"policy", "check", policy_});
  EXPECT_EQ(check.code, kExitOk) << check.err;
  EXPECT_EQ(check.out, policy_ +
                           ": valid (Example Club, notice 2026-01: 2 purposes, 5 categories, 1 "
                           "recipients, 3 retention rules)\n");
  CliRun quiet = Raw({"policy", "check", policy_, "--quiet"});
  EXPECT_EQ(quiet.code, kExitOk);
  EXPECT_EQ(quiet.out, "");

  CliRun md = Raw({"notice", policy_, "--format", "md"});
  EXPECT_EQ(md.code, kExitOk) << md.err;
  EXPECT_NE(md.out.find("Example Club"), std::string::npos);
  EXPECT_NE(md.out.find("deleted one year after membership ended"), std::string::npos) << md.out;
  CliRun html = Raw({"notice", policy_, "--format", "html"});
  EXPECT_EQ(html.code, kExitOk) << html.err;
  EXPECT_EQ(html.out.rfind("<!DOCTYPE html>", 0), 0u);

  CliRun csv = Raw({"ropa", policy_, "--format", "csv"});
  EXPECT_EQ(csv.code, kExitOk) << csv.err;
  EXPECT_NE(csv.out.find("Newsletter"), std::string::npos);
  EXPECT_NE(csv.out.find("Membership records"), std::string::npos);
  CliRun ropa_json = Raw({"ropa", policy_, "--format", "json"});
  EXPECT_EQ(ropa_json.code, kExitOk) << ropa_json.err;
  rapidjson::Document ropa = Json(ropa_json.out);
  ASSERT_TRUE(ropa.IsObject());
  EXPECT_NE(ropa_json.out.find("\"Mailing service\""), std::string::npos);

  CliRun dot = Raw({"datamap", policy_, "--format", "dot"});
  EXPECT_EQ(dot.code, kExitOk) << dot.err;
  EXPECT_EQ(dot.out.rfind("digraph", 0), 0u) << dot.out.substr(0, 40);
  EXPECT_NE(dot.out.find("Mailing service"), std::string::npos);
  std::string svg_file = dir_.Sub("map.svg");
  CliRun svg = Raw({"datamap", policy_, "--format", "svg", "--output", svg_file});
  EXPECT_EQ(svg.code, kExitOk) << svg.err;
  EXPECT_EQ(svg.out, "");
  std::ifstream written(svg_file);
  std::string text((std::istreambuf_iterator<char>(written)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("<svg"), std::string::npos);

  EXPECT_EQ(Raw({"notice", policy_, "--format", "pdf"}).code, kExitUsage);
  EXPECT_EQ(Raw({"ropa", dir_.Sub("missing.yaml")}).code, kExitIo);
}

TEST_F(CliForms, SubjectsEventsAndRecords) {
  Init();
  EXPECT_EQ(Ok({"subject", "add", "s1", "--type", "member", "--email", "a@example.test", "--phone",
                "+44 20 7946 0000", "--external", "crm-1", "--verified", "--at", "2026-01-02"}),
            "s1\n");
  std::string generated = Ok({"subject", "add", "--type", "member"});
  EXPECT_EQ(generated.rfind("s_", 0), 0u) << generated;
  EXPECT_EQ(Ok({"subject", "find", "--email", "a@example.test"}), "s1\n");
  EXPECT_EQ(Ok({"subject", "find", "--phone", "+44 20 7946 0000"}), "s1\n");
  EXPECT_EQ(Ok({"subject", "find", "--external", "crm-1"}), "s1\n");
  CliRun nobody = Run({"subject", "find", "--email", "b@example.test"});
  EXPECT_EQ(nobody.code, kExitRefused);
  EXPECT_EQ(nobody.err, "custos: error NOT_FOUND: no subject holds that email\n");
  // A family shares an address: allowed, said on stderr (without the address), both found.
  CliRun same = Run({"subject", "add", "s2", "--type", "member", "--email", "A@example.test"});
  EXPECT_EQ(same.code, kExitOk) << same.err;
  EXPECT_EQ(same.out, "s2\n");
  EXPECT_EQ(same.err,
            "custos: warning: 1 other subject(s) already have this email; subject find --email "
            "lists them all\n");
  EXPECT_EQ(Ok({"subject", "find", "--email", "a@example.test"}), "s1\ns2\n");
  CliRun other = Run({"subject", "add", "s3", "--type", "member", "--email", "c@example.test"});
  EXPECT_EQ(other.err, "") << "no warning for an address nobody else has";

  EXPECT_EQ(Ok({"event", "s1", "membership_ended", "--at", "2026-03-01"}),
            "recorded membership_ended for s1\n");
  EXPECT_EQ(Run({"event", "s9", "membership_ended"}).code, kExitRefused);
  EXPECT_EQ(Ok({"record", "put", "s1", "user.name", "Ada Lovelace", "--source", "direct",
                "--purpose", "records"}),
            "record 1\n");
  EXPECT_EQ(Ok({"record", "state", "s1", "user.name"}), "active\n");
  EXPECT_EQ(Ok({"record", "state", "s1", "user.job_title"}), "absent\n");
  EXPECT_EQ(Ok({"subject", "show", "s1"}),
            "subject s1 (member) created 2026-01-02T00:00:00Z\n"
            "  identifier email a@example.test (verified)\n"
            "  identifier phone +44 20 7946 0000 (verified)\n"
            "  identifier external crm-1 (verified)\n"
            "  event subject_created 2026-01-02T00:00:00Z\n"
            "  event membership_ended 2026-03-01T00:00:00Z\n"
            "  record 1 user.name = Ada Lovelace [active, direct, for records, "
            "2026-01-05T00:00:00Z]\n");
  EXPECT_EQ(Run({"subject", "add", "s1", "--type", "member"}).code, kExitRefused);
  // The engine's identifier forms, the same the HTTP API applies: one line, no value echoed.
  CliRun email = Run({"subject", "add", "s2", "--type", "member", "--email", "s2-nowhere"});
  EXPECT_NE(email.code, 0);
  EXPECT_EQ(email.err,
            "custos: error INVALID_ARGUMENT: the email is not a plausible email address "
            "(name@example.org)\n");
  CliRun phone = Run({"subject", "add", "s2", "--type", "member", "--phone", "31 4159"});
  EXPECT_NE(phone.code, 0);
  EXPECT_EQ(phone.err.find("4159"), std::string::npos) << phone.err;
  EXPECT_NE(phone.err.find("E.164"), std::string::npos) << phone.err;
}

TEST_F(CliForms, ConsentIsGivenWithdrawnAndExported) {
  Init();
  Member("s1");
  EXPECT_EQ(Ok({"consent", "give", "s1", "newsletter", "--channel", "web_form", "--evidence",
                "signup form 12", "--notice-version", "2026-01", "--at", "2026-01-03"}),
            "consent given: newsletter\n");
  EXPECT_EQ(Ok({"consent", "give", "s1", "analytics", "--cookie"}), "consent given: analytics\n");
  EXPECT_EQ(Ok({"decide", "s1", "newsletter", "user.contact.email"}), "allow\n");
  EXPECT_EQ(Ok({"consent", "withdraw", "s1", "newsletter", "--at", "2026-01-04"}),
            "consent withdrawn: newsletter\n");
  CliRun denied = Run({"decide", "s1", "newsletter", "user.contact.email"});
  EXPECT_EQ(denied.code, kExitRefused);
  EXPECT_EQ(denied.out, "deny CONSENT_WITHDRAWN\n");
  CliRun unknown_purpose = Run({"consent", "give", "s1", "no_such_purpose"});
  EXPECT_NE(unknown_purpose.code, kExitOk);
  EXPECT_EQ(unknown_purpose.err,
            "custos: error INVALID_ARGUMENT: purpose 'no_such_purpose' is not in the policy\n");

  rapidjson::Document doc = Json(Ok({"consent", "export", "s1"}));
  ASSERT_TRUE(doc.IsObject());
  EXPECT_EQ(Str(doc, "schema"), "ISO/IEC 27560 consent record (custos profile 1)");
  EXPECT_EQ(Str(doc, "controller_key"), "club");
  EXPECT_EQ(Str(doc["pii_controller"], "name"), "Example Club");
  EXPECT_EQ(Str(doc["pii_controller"], "contact"), "privacy@example.test");
  EXPECT_EQ(Str(doc, "pii_principal_id"), "s1");
  ASSERT_TRUE(doc["records"].IsArray());
  ASSERT_EQ(doc["records"].Size(), 3u);
  const rapidjson::Value& given = doc["records"][0];
  EXPECT_EQ(Str(given, "record_id"), "club/s1/consent/1");
  EXPECT_EQ(Str(given["purpose"], "id"), "newsletter");
  EXPECT_EQ(Str(given["purpose"], "kind"), "purpose");
  EXPECT_EQ(Str(given["purpose"], "description"), "Newsletter");
  EXPECT_EQ(Str(given["purpose"], "lawful_basis"), "consent");
  ASSERT_TRUE(given["purpose"]["pii_categories"].IsArray());
  ASSERT_EQ(given["purpose"]["pii_categories"].Size(), 2u);
  EXPECT_STREQ(given["purpose"]["pii_categories"][0].GetString(), "user.name");
  EXPECT_STREQ(given["purpose"]["pii_categories"][1].GetString(), "user.contact.email");
  EXPECT_EQ(Str(given, "event_type"), "given");
  EXPECT_EQ(Str(given, "state"), "active");
  EXPECT_EQ(Str(given, "event_time"), "2026-01-03T00:00:00Z");
  EXPECT_EQ(Str(given, "notice_version"), "2026-01");
  EXPECT_EQ(Str(given, "collection_method"), "web_form");
  EXPECT_EQ(Str(given, "evidence"), "signup form 12");
  const rapidjson::Value& cookie = doc["records"][1];
  EXPECT_EQ(Str(cookie["purpose"], "id"), "analytics");
  EXPECT_EQ(Str(cookie["purpose"], "kind"), "cookie_category");
  EXPECT_FALSE(cookie["purpose"].HasMember("lawful_basis"));
  EXPECT_EQ(Str(cookie, "event_time"), "2026-01-05T00:00:00Z");
  EXPECT_FALSE(cookie.HasMember("evidence"));
  const rapidjson::Value& withdrawn = doc["records"][2];
  EXPECT_EQ(Str(withdrawn["purpose"], "id"), "newsletter");
  EXPECT_EQ(Str(withdrawn, "event_type"), "withdrawn");
  EXPECT_EQ(Str(withdrawn, "state"), "withdrawn");
  EXPECT_EQ(Str(withdrawn, "event_time"), "2026-01-04T00:00:00Z");

  CliRun unknown = Run({"consent", "export", "s9"});
  EXPECT_EQ(unknown.code, kExitRefused);
  EXPECT_EQ(unknown.err.rfind("custos: error UNKNOWN_SUBJECT: ", 0), 0u) << unknown.err;
}

TEST_F(CliForms, PreferencesSuppressionsAndDecisions) {
  Init();
  Member("s1");
  Ok({"consent", "give", "s1", "newsletter"});
  EXPECT_EQ(Ok({"decide", "s1", "newsletter", "user.contact.email", "--channel", "email"}),
            "allow\n");
  EXPECT_EQ(Ok({"preference", "set", "s1", "email", "off"}), "preference email off\n");
  CliRun opted_out =
      Run({"decide", "s1", "newsletter", "user.contact.email", "--channel", "email", "--json"});
  EXPECT_EQ(opted_out.code, kExitRefused);
  rapidjson::Document deny = Json(opted_out.out);
  ASSERT_TRUE(deny.IsObject());
  ASSERT_TRUE(deny["allow"].IsBool());
  EXPECT_FALSE(deny["allow"].GetBool());
  EXPECT_EQ(Str(deny, "basis"), "consent");
  EXPECT_EQ(Str(deny, "at"), "2026-01-05T00:00:00Z");
  ASSERT_TRUE(deny["reasons"].IsArray());
  ASSERT_EQ(deny["reasons"].Size(), 1u);
  EXPECT_EQ(Str(deny["reasons"][0], "code"), "CHANNEL_OPTED_OUT");
  EXPECT_EQ(Str(deny["reasons"][0], "detail"), "email");
  // Another channel is not affected.
  EXPECT_EQ(Ok({"decide", "s1", "newsletter", "user.contact.email"}), "allow\n");

  EXPECT_EQ(Ok({"preference", "set", "s1", "email", "on", "--at", "2026-01-06"}),
            "preference email on\n");
  rapidjson::Document allow = Json(Ok({"decide", "s1", "newsletter", "user.contact.email",
                                       "--channel", "email", "--at", "2026-01-07", "--json"}));
  ASSERT_TRUE(allow.IsObject());
  EXPECT_TRUE(allow["allow"].GetBool());
  EXPECT_EQ(Str(allow, "at"), "2026-01-07T00:00:00Z");
  ASSERT_TRUE(allow["reasons"].IsArray());
  EXPECT_EQ(allow["reasons"].Size(), 0u);

  EXPECT_EQ(Ok({"suppress", "--email", "s1@example.test", "--reason", "complaint"}),
            "suppressed email\n");
  CliRun suppressed = Run({"decide", "s1", "newsletter", "user.contact.email"});
  EXPECT_EQ(suppressed.code, kExitRefused);
  EXPECT_EQ(suppressed.out, "deny SUPPRESSED\n");
  // Every reason is given, not just the first.
  CliRun both = Run({"decide", "s1", "newsletter", "user.job_title", "--json"});
  rapidjson::Document reasons = Json(both.out);
  ASSERT_TRUE(reasons.IsObject());
  ASSERT_EQ(reasons["reasons"].Size(), 2u) << both.out;
  EXPECT_EQ(Str(reasons["reasons"][0], "code"), "CATEGORY_NOT_IN_PURPOSE");
  EXPECT_EQ(Str(reasons["reasons"][1], "code"), "SUPPRESSED");
  EXPECT_EQ(Run({"decide", "s1", "newsletter"}).code, kExitUsage);
  EXPECT_EQ(Run({"preference", "set", "s1", "email", "maybe"}).code, kExitUsage);
}

TEST_F(CliForms, ObjectionsAreRecordedAndLifted) {
  Init();
  Member("s1");
  Ok({"consent", "give", "s1", "newsletter"});
  EXPECT_EQ(Ok({"decide", "s1", "records", "user.name"}), "allow\n");
  EXPECT_EQ(Ok({"object", "s1", "records"}), "objection recorded: records\n");
  EXPECT_EQ(Run({"decide", "s1", "records", "user.name"}).out, "deny OBJECTED\n");
  EXPECT_EQ(Ok({"object", "s1", "records", "--lift"}), "objection lifted: records\n");
  EXPECT_EQ(Ok({"decide", "s1", "records", "user.name"}), "allow\n");

  EXPECT_EQ(Ok({"object", "s1", "direct_marketing"}), "objection recorded: direct_marketing\n");
  EXPECT_EQ(Run({"decide", "s1", "newsletter", "user.name"}).out, "deny MARKETING_OBJECTED\n");
  EXPECT_EQ(Ok({"decide", "s1", "records", "user.name"}), "allow\n");
  EXPECT_EQ(Ok({"object", "s1", "direct_marketing", "--lift"}),
            "objection lifted: direct_marketing\n");
  EXPECT_EQ(Ok({"decide", "s1", "newsletter", "user.name"}), "allow\n");

  EXPECT_EQ(Ok({"object", "s1", "*"}), "objection recorded: *\n");
  EXPECT_EQ(Run({"decide", "s1", "records", "user.name"}).out, "deny OBJECTED\n");
  EXPECT_EQ(Run({"decide", "s1", "newsletter", "user.name"}).out, "deny MARKETING_OBJECTED\n");
  EXPECT_EQ(Ok({"object", "s1", "*", "--lift", "--at", "2026-01-06"}), "objection lifted: *\n");
  EXPECT_EQ(Ok({"decide", "s1", "records", "user.name", "--at", "2026-01-06"}), "allow\n");
  EXPECT_NE(Ok({"subject", "show", "s1"})
                .find("  objection * 2026-01-05T00:00:00Z lifted 2026-01-06T00:00:00Z\n"),
            std::string::npos);
}

TEST_F(CliForms, RestrictionsArePlacedAndLifted) {
  Init();
  Member("s1");
  EXPECT_EQ(Ok({"restrict", "s1", "user.name", "--reason", "accuracy_contested"}),
            "restriction 1\n");
  EXPECT_EQ(Run({"decide", "s1", "records", "user.name"}).out, "deny RESTRICTED\n");
  EXPECT_EQ(Ok({"decide", "s1", "records", "user.job_title"}), "allow\n");
  EXPECT_EQ(Ok({"restrict", "s1", "--lift", "1", "--at", "2026-01-06"}), "restriction lifted: 1\n");
  EXPECT_EQ(Ok({"decide", "s1", "records", "user.name", "--at", "2026-01-06"}), "allow\n");
  // Without categories, everything held about the person is restricted.
  EXPECT_EQ(Ok({"restrict", "s1", "--reason", "objection_pending", "--at", "2026-01-06"}),
            "restriction 2\n");
  EXPECT_EQ(Run({"decide", "s1", "records", "user.job_title", "--at", "2026-01-06"}).out,
            "deny RESTRICTED\n");
  std::string shown = Ok({"subject", "show", "s1"});
  EXPECT_NE(shown.find("  restriction 1 accuracy_contested 2026-01-05T00:00:00Z lifted "
                       "2026-01-06T00:00:00Z\n"),
            std::string::npos)
      << shown;
  EXPECT_NE(shown.find("  restriction 2 objection_pending 2026-01-06T00:00:00Z\n"),
            std::string::npos);
  EXPECT_EQ(Run({"restrict", "s1", "user.name"}).code, kExitUsage);  // no --reason
}

TEST_F(CliForms, AuditVerifyCountsTheEntries) {
  Init();
  Member("s1");
  Ok({"consent", "give", "s1", "newsletter"});
  Run({"decide", "s1", "newsletter", "user.name"});
  // init, subject_add, consent, decision: each one entry.
  EXPECT_EQ(Ok({"audit", "verify"}), "audit log intact: 4 entries\n");
  Run({"decide", "s1", "newsletter", "user.name"});
  EXPECT_EQ(Ok({"audit", "verify"}), "audit log intact: 5 entries\n");
  EXPECT_EQ(Run({"audit", "check"}).code, kExitUsage);
  // A checkpoint of the head, signed with the deployment's key (64 hex characters).
  std::string checkpoint = Ok({"audit", "checkpoint"});
  EXPECT_EQ(checkpoint.rfind("audit checkpoint: seq 5 hash ", 0), 0u) << checkpoint;
  EXPECT_NE(checkpoint.find(" public key "), std::string::npos) << checkpoint;
  EXPECT_EQ(checkpoint.size(), std::string("audit checkpoint: seq 5 hash  at 2026-01-05T00:00:00Z "
                                           "public key \n")
                                       .size() +
                                   128)
      << checkpoint;
}

// Three members whose membership ended on 10 January 2026: a year later their contact details
// are deleted, their engagement anonymised and s1's job title is up for review.
class CliRetentionForms : public CliForms {
 protected:
  void SetUp() override {
    CliForms::SetUp();
    Init();
    for (const char* id : {"s1", "s2", "s3"}) {
      Member(id);
      Ok({"event", id, "membership_ended", "--at", "2026-01-10"});
    }
    Ok({"record", "put", "s1", "user.name", "Ada", "--source", "direct", "--purpose", "records"});
    Ok({"record", "put", "s1", "user.job_title", "Treasurer", "--source", "direct", "--purpose",
        "records"});
    for (const char* id : {"s1", "s2"}) {
      Ok({"record", "put", id, "user.engagement.events", "Gala", "--source", "direct", "--purpose",
          "records"});
    }
    Ok({"record", "put", "s3", "user.engagement.events", "Talk", "--source", "direct", "--purpose",
        "records"});
  }
};

TEST_F(CliRetentionForms, RetentionIsPlannedThenRun) {
  const std::string plan =
      "plan as of 2027-02-01T00:00:00Z: 3 subject(s); delete 4, anonymise 3, review 1, held 0, "
      "erase 2\n"
      "  rule contact: delete 4\n"
      "  rule engagement: anonymise 3\n"
      "  rule job_title_review: review 1\n";
  EXPECT_EQ(Ok({"retention", "plan", "--as-of", "2027-02-01"}), plan);
  rapidjson::Document json = Json(Ok({"retention", "plan", "--as-of", "2027-02-01", "--json"}));
  ASSERT_TRUE(json.IsObject());
  EXPECT_EQ(Str(json, "kind"), "plan");
  EXPECT_FALSE(json.HasMember("run"));
  EXPECT_EQ(Str(json, "as_of"), "2027-02-01T00:00:00Z");
  EXPECT_EQ(Int(json, "subjects"), 3);
  EXPECT_EQ(Int(json, "deleted"), 4);  // s1's name and the three email addresses
  EXPECT_EQ(Int(json, "anonymised"), 3);
  EXPECT_EQ(Int(json, "reviews"), 1);
  EXPECT_EQ(Int(json, "held"), 0);
  EXPECT_EQ(Int(json, "erased"), 2);  // s2 and s3; s1's job title waits for its review
  EXPECT_EQ(Int(json, "not_due"), 0);
  ASSERT_TRUE(json["rules"].IsObject());
  EXPECT_EQ(Int(json["rules"]["contact"], "deleted"), 4);
  EXPECT_EQ(Int(json["rules"]["engagement"], "anonymised"), 3);
  EXPECT_EQ(Int(json["rules"]["job_title_review"], "reviews"), 1);
  ASSERT_TRUE(json["not_covered"].IsObject());
  EXPECT_EQ(json["not_covered"].MemberCount(), 0u);
  // A plan writes nothing; before the deadline nothing is due.
  EXPECT_EQ(Ok({"record", "state", "s1", "user.name"}), "active\n");
  EXPECT_NE(Ok({"retention", "plan"}).find("delete 0, anonymise 0, review 0"), std::string::npos);

  now_ = "2027-02-01";
  EXPECT_EQ(Ok({"retention", "run"}),
            "run 1 as of 2027-02-01T00:00:00Z: 3 subject(s); delete 4, anonymise 3, review 1, "
            "held 0, erase 2\n"
            "  rule contact: delete 4\n"
            "  rule engagement: anonymise 3\n"
            "  rule job_title_review: review 1\n");
  EXPECT_EQ(Ok({"record", "state", "s1", "user.name"}), "erased\n");
  EXPECT_EQ(Ok({"record", "state", "s1", "user.job_title"}), "active\n");
  EXPECT_EQ(Ok({"record", "state", "s1", "user.engagement.events"}), "anonymised\n");
  EXPECT_EQ(Ok({"record", "state", "s2", "user.engagement.events"}), "anonymised\n");
  EXPECT_EQ(Run({"decide", "s2", "records", "user.name"}).out, "deny SUBJECT_ERASED\n");
  // Run again: nothing is left to do.
  EXPECT_EQ(Ok({"retention", "run"}),
            "run 2 as of 2027-02-01T00:00:00Z: 3 subject(s); delete 0, anonymise 0, review 0, "
            "held 0, erase 0\n");
  EXPECT_EQ(Run({"retention", "sweep"}).code, kExitUsage);
}

TEST_F(CliRetentionForms, LegalHoldsArePlacedListedAndReleased) {
  EXPECT_EQ(Ok({"hold", "place", "--subject", "s2", "--reason", "tribunal claim"}), "hold 1\n");
  EXPECT_EQ(Ok({"hold", "place", "--category", "user.job_title", "--reason", "audit", "--expires",
                "2030-01-01"}),
            "hold 2\n");
  EXPECT_EQ(Run({"hold", "place", "--subject", "s9", "--reason", "x"}).code, kExitRefused);
  EXPECT_EQ(Run({"hold", "place", "--reason", "x"}).code, kExitUsage);
  EXPECT_EQ(Ok({"hold", "list"}),
            "hold 1: subject s2, all data, in force, placed 2026-01-05T00:00:00Z, no expiry, "
            "reason: tribunal claim\n"
            "hold 2: every subject, user.job_title, in force, placed 2026-01-05T00:00:00Z, "
            "expires 2030-01-01T00:00:00Z, reason: audit\n");
  rapidjson::Document holds = Json(Ok({"--json", "hold", "list"}));
  ASSERT_TRUE(holds.IsArray());
  ASSERT_EQ(holds.Size(), 2u);
  EXPECT_EQ(Int(holds[0], "id"), 1);
  EXPECT_EQ(Str(holds[0], "subject"), "s2");
  EXPECT_EQ(Str(holds[0], "category"), "");
  EXPECT_EQ(Str(holds[0], "reason"), "tribunal claim");
  EXPECT_EQ(Str(holds[0], "expires_at"), "");
  EXPECT_TRUE(holds[0]["in_force"].GetBool());
  EXPECT_EQ(Str(holds[1], "category"), "user.job_title");
  EXPECT_EQ(Str(holds[1], "expires_at"), "2030-01-01T00:00:00Z");
  // Held data is not swept: s2 keeps everything, s1 its job title.
  EXPECT_EQ(Ok({"retention", "plan", "--as-of", "2027-02-01"}),
            "plan as of 2027-02-01T00:00:00Z: 3 subject(s); delete 3, anonymise 2, review 1, "
            "held 2, erase 1\n"
            "  rule contact: delete 3, held 1\n"
            "  rule engagement: anonymise 2, held 1\n"
            "  rule job_title_review: review 1\n");

  EXPECT_EQ(Ok({"hold", "release", "1", "--at", "2026-01-06"}), "hold 1 released\n");
  EXPECT_EQ(Run({"hold", "release", "9"}).code, kExitRefused);
  now_ = "2026-01-07";
  EXPECT_EQ(Ok({"hold", "list"})
                .rfind("hold 1: subject s2, all data, released "
                       "2026-01-06T00:00:00Z, placed 2026-01-05T00:00:00Z, ",
                       0),
            0u);
  EXPECT_NE(Ok({"retention", "plan", "--as-of", "2027-02-01"}).find("held 0, erase 2"),
            std::string::npos);
}

TEST_F(CliRetentionForms, ReviewTasksAreListedAndDone) {
  EXPECT_EQ(Ok({"review", "list"}), "");
  now_ = "2027-02-01";
  Ok({"retention", "run"});
  const std::string task =
      "task 1: subject s1, rule job_title_review, user.job_title, due 2027-01-10T00:00:00Z";
  EXPECT_EQ(Ok({"review", "list"}), task + "\n");
  EXPECT_EQ(Ok({"review", "done", "1", "--at", "2027-02-02"}), "task 1 done\n");
  EXPECT_EQ(Ok({"review", "list"}), "");
  EXPECT_EQ(Ok({"review", "list", "--all"}), task + ", done 2027-02-02T00:00:00Z\n");
  EXPECT_EQ(Run({"review", "done", "7"}).code, kExitRefused);
  EXPECT_EQ(Run({"review", "done", "x"}).code, kExitUsage);
  // The job title stays until someone decides; a review never deletes.
  EXPECT_EQ(Ok({"record", "state", "s1", "user.job_title"}), "active\n");
}

TEST_F(CliRetentionForms, AggregatesSuppressSmallCells) {
  EXPECT_EQ(Ok({"aggregate", "user.engagement.events"}),
            "user.engagement.events = Gala: 2\n"
            "suppressed: 1 cell(s) under 2\n");
  EXPECT_EQ(Ok({"aggregate", "user.engagement.events", "--threshold", "3"}),
            "suppressed: 2 cell(s) under 3\n");
  CliRun lower = Run({"aggregate", "user.engagement.events", "--threshold", "1"});
  EXPECT_EQ(lower.code, kExitUsage);
  EXPECT_EQ(lower.err,
            "custos: error INVALID_ARGUMENT: the small-cell threshold is 2; --threshold may raise "
            "it, not lower it\n");
  rapidjson::Document json = Json(Ok({"aggregate", "user.engagement.events", "--json"}));
  ASSERT_TRUE(json.IsObject());
  EXPECT_EQ(Str(json, "category"), "user.engagement.events");
  EXPECT_EQ(Int(json, "threshold"), 2);
  ASSERT_TRUE(json["cells"].IsArray());
  ASSERT_EQ(json["cells"].Size(), 1u);
  EXPECT_EQ(Str(json["cells"][0], "value"), "Gala");
  EXPECT_EQ(Int(json["cells"][0], "count"), 2);
  EXPECT_EQ(Int(json, "suppressed_cells"), 1);
  // A restricted record is not counted.
  Ok({"restrict", "s2", "user.engagement.events", "--reason", "accuracy_contested"});
  EXPECT_EQ(Ok({"aggregate", "user.engagement.events"}), "suppressed: 2 cell(s) under 2\n");
}

TEST_F(CliForms, ARequestByThePersonIsVerifiedPausedExtendedAndFulfilled) {
  Init();
  Member("s1");
  now_ = "2026-02-02T09:00:00Z";
  Ok({"record", "put", "s1", "user.name", "Ada Lovelace", "--source", "direct", "--purpose",
      "records"});
  EXPECT_EQ(Ok({"request", "open", "access", "--email", "s1@example.test", "--id", "r1"}),
            "r1 verifying_identity\n");
  // The code went to the local outbox (no requester endpoint): an operator reads it there.
  EXPECT_EQ(Ok({"outbox", "read", "1", "--field", "to"}), "s1@example.test\n");
  EXPECT_EQ(Ok({"outbox", "read", "1", "--field", "subject"}),
            "Your code to confirm your request\n");
  rapidjson::Document message = Json(Ok({"outbox", "read", "1"}));
  ASSERT_TRUE(message.IsObject());
  EXPECT_EQ(Str(message, "request_id"), "r1");
  std::string first = Ok({"outbox", "read", "--request", "r1", "--last", "--field", "code"});
  EXPECT_EQ(first, Str(message, "code") + "\n");
  EXPECT_NE(Ok({"outbox", "read", "1", "--field", "body"}).find(Str(message, "code")),
            std::string::npos);

  EXPECT_EQ(Ok({"request", "resend", "r1"}), "r1 verifying_identity, waiting for identity\n");
  std::string code = Ok({"outbox", "read", "--request", "r1", "--last", "--field", "code"});
  ASSERT_FALSE(code.empty());
  code.pop_back();
  first.pop_back();
  ASSERT_NE(code, first);
  CliRun stale = Run({"request", "verify", "r1", first});
  EXPECT_EQ(stale.code, kExitRefused);
  EXPECT_EQ(stale.err.rfind("custos: error VERIFICATION_FAILED: ", 0), 0u) << stale.err;
  CliRun verified = Run({"request", "verify", "r1", code});
  EXPECT_EQ(verified.code, kExitOk) << verified.err;
  EXPECT_EQ(verified.out, "r1 in_progress, due 2026-03-02\n");
  EXPECT_EQ(verified.err.rfind("requester secret: rq_r1_", 0), 0u) << verified.err;

  EXPECT_EQ(Ok({"request", "wait", "r1", "clarification", "--at", "2026-02-03"}),
            "r1 in_progress, waiting for clarification\n");
  EXPECT_EQ(Ok({"request", "show", "r1", "--field", "waiting"}), "clarification\n");
  CliRun fee = Run({"request", "wait", "r1", "fee"});
  EXPECT_EQ(fee.code, kExitRefused);
  EXPECT_EQ(fee.err.rfind("custos: error FEE_NOT_ALLOWED: ", 0), 0u) << fee.err;
  EXPECT_EQ(Ok({"request", "answered", "r1", "--at", "2026-02-05"}),
            "r1 in_progress, due 2026-03-05\n");
  EXPECT_EQ(Ok({"request", "extend", "r1", "complex", "--at", "2026-02-06"}),
            "r1 extended, due 2026-05-05\n");

  const std::map<std::string, std::string> fields = {
      {"state", "extended"},      {"due", "2026-05-05"},
      {"clock", "2026-02-05"},    {"subjects", "s1"},
      {"waiting", "nothing"},     {"outcome", "none"},
      {"intake", "self_service"}, {"verification", "code_to_email"},
      {"type", "access"}};
  for (const auto& [field, value] : fields) {
    EXPECT_EQ(Ok({"request", "show", "r1", "--field", field}), value + "\n") << field;
  }
  EXPECT_EQ(Run({"request", "show", "r1", "--field", "colour"}).code, kExitUsage);
  std::string shown = Ok({"request", "show", "r1"});
  EXPECT_EQ(shown.rfind("request r1: access, extended\n"
                        "  intake self_service, identity code_to_email\n"
                        "  received 2026-02-02T09:00:00Z; month from 2026-02-05; due 2026-05-05\n"
                        "  subjects s1\n"
                        "  contact email s1@example.test\n"
                        "  history:\n",
                        0),
            0u)
      << shown;
  EXPECT_NE(shown.find("    2026-02-06T00:00:00Z extended (extended): complex; due 2026-05-05\n"),
            std::string::npos);

  rapidjson::Document show = Json(Ok({"request", "show", "r1", "--json"}));
  ASSERT_TRUE(show.IsObject());
  EXPECT_EQ(Str(show, "request_id"), "r1");
  EXPECT_EQ(Str(show, "type"), "access");
  EXPECT_EQ(Str(show, "state"), "extended");
  EXPECT_EQ(Str(show, "intake"), "self_service");
  EXPECT_EQ(Str(show, "verification"), "code_to_email");
  EXPECT_EQ(Str(show, "waiting_for"), "");
  ASSERT_TRUE(show["subject_ids"].IsArray());
  ASSERT_EQ(show["subject_ids"].Size(), 1u);
  EXPECT_STREQ(show["subject_ids"][0].GetString(), "s1");
  EXPECT_EQ(Str(show, "received_at"), "2026-02-02T09:00:00Z");
  EXPECT_EQ(Str(show, "clock_started_on"), "2026-02-05");
  EXPECT_EQ(Str(show, "due_on"), "2026-05-05");
  EXPECT_FALSE(show.HasMember("contact")) << "the JSON form carries no personal value";
  ASSERT_TRUE(show["history"].IsArray());
  std::vector<std::string> events;
  size_t read_by_hand = 0;  // each `outbox read` of a code is a step of its own
  for (const auto& event : show["history"].GetArray()) {
    if (Str(event, "event") == "outbox_read") {
      ++read_by_hand;
    } else {
      events.push_back(Str(event, "event"));
    }
  }
  EXPECT_GT(read_by_hand, 0u);
  EXPECT_EQ(events, (std::vector<std::string>{"received", "code_sent", "code_sent", "code_rejected",
                                              "identity_verified", "clarification_requested",
                                              "clarification_received", "extended"}));
  const rapidjson::Value& last = show["history"][show["history"].Size() - 1];
  EXPECT_EQ(Str(last, "at"), "2026-02-06T00:00:00Z");
  EXPECT_EQ(Str(last, "state"), "extended");
  EXPECT_EQ(Str(last, "detail"), "complex; due 2026-05-05");

  const std::string line = "r1 access extended due 2026-05-05\n";
  EXPECT_EQ(Ok({"request", "list"}), line);
  EXPECT_EQ(Ok({"request", "list", "--open"}), line);
  EXPECT_EQ(Ok({"request", "list", "--due-soon", "--as-of", "2026-04-27"}), "no requests\n");
  EXPECT_EQ(Ok({"request", "list", "--due-soon", "--within", "8", "--as-of", "2026-04-27"}), line);
  EXPECT_EQ(Ok({"request", "list", "--due-soon", "--as-of", "2026-04-30"}), line);
  EXPECT_EQ(Ok({"request", "list", "--overdue", "--as-of", "2026-05-05"}), "no requests\n");
  EXPECT_EQ(Ok({"request", "list", "--overdue", "--as-of", "2026-05-06"}), line);
  rapidjson::Document list = Json(Ok({"request", "list", "--json"}));
  ASSERT_TRUE(list.IsArray());
  ASSERT_EQ(list.Size(), 1u);
  EXPECT_EQ(Str(list[0], "request_id"), "r1");
  EXPECT_EQ(Str(list[0], "state"), "extended");
  EXPECT_EQ(Str(list[0], "due_on"), "2026-05-05");
  EXPECT_FALSE(list[0].HasMember("history"));
  rapidjson::Document none = Json(Ok({"request", "list", "--overdue", "--json"}));
  ASSERT_TRUE(none.IsArray());
  EXPECT_EQ(none.Size(), 0u);

  EXPECT_EQ(Ok({"request", "fulfil", "r1", "--at", "2026-02-10"}),
            "r1 completed: 1 subject(s) packaged\n");
  EXPECT_EQ(Ok({"request", "list", "--open"}), "no requests\n");
  rapidjson::Document package = Json(Ok({"request", "document", "r1", "json"}));
  ASSERT_TRUE(package.IsObject());
  EXPECT_EQ(Str(package, "format"), "custos.access_package.v1");
  EXPECT_EQ(Str(package, "request_id"), "r1");
  EXPECT_EQ(Str(package, "generated_at"), "2026-02-10T00:00:00Z");
  EXPECT_NE(Ok({"request", "document", "r1", "json"}).find("Ada Lovelace"), std::string::npos);
  std::string html = Ok({"request", "document", "r1", "html"});
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("Ada Lovelace"), std::string::npos);
  EXPECT_EQ(Run({"request", "fulfil", "r1"}).code, kExitRefused);
}

TEST_F(CliForms, RequestsByStaffAreRectifiedWithdrawnRefusedAndPurged) {
  Init();
  Member("s1");
  now_ = "2026-02-11";
  Ok({"record", "put", "s1", "user.name", "Ada Lovelace", "--source", "direct", "--purpose",
      "records"});
  EXPECT_EQ(
      Ok({"request", "open", "rectification", "--subject", "s1", "--verified-by", "membership_card",
          "--rectify", "user.name=Ada King", "--note", "married", "--id", "r2"}),
      "r2 in_progress, due 2026-03-11\n");
  EXPECT_EQ(Ok({"request", "fulfil", "r2"}), "r2 completed: 1 value(s) rectified\n");
  EXPECT_NE(Ok({"subject", "show", "s1"}).find("user.name = Ada King [active"), std::string::npos);
  // The recipient of the purpose that used the name is told (Article 19); no endpoint: manual.
  EXPECT_EQ(Ok({"request", "recipients", "r2"}), "mailer (Mailing service): user.name manual\n");

  // A request by telephone: staff confirm who it is and for whom.
  EXPECT_EQ(Ok({"request", "open", "access", "--phone", "+44 20 7946 0001", "--id", "r3"}),
            "r3 verifying_identity\n");
  EXPECT_EQ(Ok({"request", "verify", "r3", "--staff", "passport", "--subject", "s1"}),
            "r3 in_progress, due 2026-03-11\n");
  EXPECT_EQ(Ok({"request", "show", "r3", "--field", "verification"}), "staff:passport\n");
  EXPECT_EQ(Ok({"request", "recipients", "r3"}), "no recipients notified\n");

  EXPECT_EQ(Ok({"request", "open", "erasure", "--subject", "s1", "--verified-by", "passport",
                "--id", "r4"}),
            "r4 in_progress, due 2026-03-11\n");
  EXPECT_EQ(Ok({"request", "withdraw", "r4"}), "r4 withdrawn\n");
  EXPECT_EQ(Ok({"record", "state", "s1", "user.name"}), "active\n");  // nothing erased
  EXPECT_EQ(Ok({"request", "open", "objection", "--subject", "s1", "--verified-by", "passport",
                "--purpose", "records", "--id", "r5"}),
            "r5 in_progress, due 2026-03-11\n");
  EXPECT_EQ(Ok({"request", "refuse", "r5", "manifestly_unfounded"}), "r5 refused\n");
  EXPECT_EQ(Ok({"decide", "s1", "records", "user.name"}), "allow\n");  // no objection recorded
  EXPECT_EQ(Run({"request", "refuse", "r3", "because"}).code, kExitUsage);
  EXPECT_EQ(Ok({"request", "fulfil", "r3"}), "r3 completed: 1 subject(s) packaged\n");

  // Thirty days after closing, a request's personal parts are shredded; its history stays.
  EXPECT_EQ(Ok({"request", "purge", "--as-of", "2026-03-12"}), "0 request(s) shredded\n");
  EXPECT_EQ(Ok({"request", "purge", "--as-of", "2026-03-13"}), "4 request(s) shredded\n");
  EXPECT_NE(Ok({"request", "show", "r3"})
                .find("  personal parts shredded: only this history "
                      "remains\n"),
            std::string::npos);
  CliRun gone = Run({"request", "document", "r3", "json"});
  EXPECT_EQ(gone.code, kExitRefused);
  EXPECT_EQ(gone.err, "custos: error NOT_FOUND: request r3 has no document to download\n");
  EXPECT_EQ(Ok({"request", "purge", "--as-of", "2026-03-13"}), "0 request(s) shredded\n");
}

TEST_F(CliForms, EndpointsAndOutboxDelivery) {
  Init();
  Member("s1");
  EXPECT_EQ(Ok({"endpoint", "list"}), "no endpoints\n");
  EXPECT_EQ(Ok({"outbox", "list"}), "outbox empty\n");
  CliRun plain = Run(
      {"endpoint", "set", "requester", "http://example.test/hook", "--secret", "0123456789abcdef"});
  EXPECT_EQ(plain.code, kExitUsage);
  EXPECT_EQ(plain.err,
            "custos: error INVALID_ARGUMENT: a webhook URL is https:// (plain http only to "
            "localhost, 127.0.0.1 or [::1])\n");
  // The parser finds the host: 127.0.0.2 here, with 127.0.0.1 as a user name.
  CliRun hidden = Run({"endpoint", "set", "requester", "http://127.0.0.1@127.0.0.2/hook",
                       "--secret", "0123456789abcdef"});
  EXPECT_EQ(hidden.code, kExitUsage);
  EXPECT_EQ(hidden.err,
            "custos: error INVALID_ARGUMENT: a webhook URL may not carry a user name or "
            "password\n");
  EXPECT_EQ(Run({"endpoint", "set", "requester", "http://localhost.example.com/hook", "--secret",
                 "0123456789abcdef"})
                .code,
            kExitUsage);
  // Port 1 on this machine: nothing listens, so the send fails at once.
  EXPECT_EQ(Ok({"endpoint", "set", "requester", "http://127.0.0.1:1/hook", "--secret",
                "0123456789abcdef"}),
            "endpoint for requester set\n");
  EXPECT_EQ(Ok({"endpoint", "list"}),
            "requester http://127.0.0.1:1/hook (set 2026-01-05T00:00:00Z)\n");

  Ok({"request", "open", "access", "--email", "s1@example.test", "--id", "r1"});
  EXPECT_EQ(Ok({"outbox", "list", "--request", "r1"}),
            "1 r1 requester_message requester pending attempts 0\n");
  CliRun pass = Run({"outbox", "deliver", "--max", "10"});
  EXPECT_EQ(pass.code, kExitOk) << pass.err;
  EXPECT_EQ(pass.out.rfind("1 requester pending (", 0), 0u) << pass.out;
  EXPECT_NE(pass.out.find("\nclaimed 1, delivered 0, failed 1, dead 0, deferred 0\n"),
            std::string::npos)
      << pass.out;
  EXPECT_EQ(
      Ok({"outbox", "list"}).rfind("1 r1 requester_message requester pending attempts 1 (", 0), 0u);
  // Retried with backoff: not due again at the same time.
  EXPECT_EQ(Ok({"outbox", "deliver"}), "claimed 0, delivered 0, failed 0, dead 0, deferred 0\n");
  EXPECT_EQ(Run({"outbox", "deliver", "--max", "1001"}).code, kExitUsage);
  EXPECT_EQ(Ok({"outbox", "list", "--request", "r9"}), "outbox empty\n");
}

TEST_F(CliForms, TokensAreCreatedListedAndRevoked) {
  Init();
  EXPECT_EQ(Run({"token", "create", "--role", "admin"}).code, kExitOk);
  std::string admin = Ok({"token", "create", "--role", "admin", "--label", "ops"});
  ASSERT_EQ(admin.size(), std::string("cst_").size() + 16 + 1 + 64 + 1) << admin;
  EXPECT_EQ(admin.rfind("cst_", 0), 0u);
  std::string id = admin.substr(4, 16);
  Ok({"token", "create", "--role", "staff", "--purpose", "records", "--purpose", "newsletter"});
  Ok({"token", "create", "--role", "processor", "--controller", "club", "--category", "user.name"});
  Ok({"token", "create", "--role", "subject", "--subject", "s1"});
  EXPECT_EQ(Run({"token", "create", "--role", "nobody"}).code, kExitUsage);
  std::string list = Ok({"token", "list"});
  EXPECT_EQ(std::count(list.begin(), list.end(), '\n'), 5) << list;
  EXPECT_NE(list.find(id + " admin label=ops created="), std::string::npos) << list;
  EXPECT_NE(list.find(" staff purpose=records purpose=newsletter created="), std::string::npos);
  EXPECT_NE(list.find(" processor controller=club category=user.name created="), std::string::npos);
  EXPECT_NE(list.find(" subject subject=s1 created="), std::string::npos);
  EXPECT_EQ(list.find(admin.substr(21, 64)), std::string::npos) << "a secret is never listed";
  EXPECT_EQ(Ok({"token", "revoke", id}),
            "revoked " + id + " (a running server refuses it within a second)\n");
  list = Ok({"token", "list"});
  size_t at = list.find(id + " admin");
  ASSERT_NE(at, std::string::npos);
  EXPECT_NE(list.substr(at, list.find('\n', at) - at).find(" revoked="), std::string::npos);
  EXPECT_EQ(Run({"token", "revoke", id}).code, kExitRefused);
  CliRun no_data = Raw({"token", "list"});
  EXPECT_EQ(no_data.code, kExitUsage);
}

// What `custos serve` prints, readable while the server runs in another thread.
class SharedText : public std::streambuf {
 public:
  // Waits until `needle` was printed; false after `limit`.
  bool WaitFor(const std::string& needle, std::chrono::seconds limit) {
    std::unique_lock lock(mutex_);
    return printed_.wait_for(lock, limit, [&] { return text_.find(needle) != std::string::npos; });
  }
  std::string Text() {
    std::lock_guard lock(mutex_);
    return text_;
  }

 protected:
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) {
      char ch = static_cast<char>(c);
      xsputn(&ch, 1);
    }
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    std::lock_guard lock(mutex_);
    text_.append(s, static_cast<size_t>(n));
    printed_.notify_all();
    return n;
  }

 private:
  std::mutex mutex_;
  std::condition_variable printed_;
  std::string text_;
};

// One HTTP/1.1 request to 127.0.0.1:port; returns the whole response ("" when it fails).
std::string HttpGet(int port, const std::string& path, const std::string& token) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
    request += "\r\n";
    if (::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) response.append(buffer, n);
    }
  }
  ::close(fd);
  return response;
}

TEST_F(CliForms, ServeAnswersOverHttpAndStopsOnSigterm) {
  CliRun missing = Run({"serve", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(missing.code, kExitIo);  // NOT_INITIALISED: the data directory cannot be used
  EXPECT_EQ(missing.err.rfind("custos: error NOT_INITIALISED: ", 0), 0u) << missing.err;
  EXPECT_EQ(Raw({"serve", "--data", data_, "--tls-cert", "cert.pem"}).code, kExitUsage);
  EXPECT_EQ(Raw({"serve", "--data", data_, "--listen", "localhost"}).code, kExitUsage);
  EXPECT_EQ(Raw({"serve", "--data", data_, "--threads", "0"}).code, kExitUsage);
  CliRun per_address = Raw({"serve", "--data", data_, "--connections-per-address", "-1"});
  EXPECT_EQ(per_address.code, kExitUsage);
  EXPECT_EQ(per_address.err, "custos: --connections-per-address is out of range\n");
  EXPECT_EQ(Raw({"serve", "--data", data_, "--request-deadline", "soon"}).code, kExitUsage);
  // The privacy centre's pages may not hide the API's paths.
  CliRun centre = Raw({"serve", "--data", data_, "--centre-path", "/v1/privacy"});
  EXPECT_EQ(centre.code, kExitUsage);
  EXPECT_NE(centre.err.find("--centre-path"), std::string::npos) << centre.err;
  EXPECT_EQ(Raw({"serve", "--data", data_, "--centre-path", "privacy"}).code, kExitUsage);
  // One clear line for an unknown log level, a list that is not networks, a weak scrape token.
  CliRun loud = Raw({"serve", "--data", data_, "--log-level", "loud"});
  EXPECT_EQ(loud.code, kExitUsage);
  EXPECT_EQ(loud.err, "custos: --log-level is one of debug, info, warn, error\n");
  CliRun network = Raw({"serve", "--data", data_, "--metrics-allow", "10.0.0.0/33"});
  EXPECT_EQ(network.code, kExitUsage);
  EXPECT_EQ(network.err.rfind("custos: --metrics-allow ", 0), 0u) << network.err;
  const std::string weak = dir_.Sub("weak.token");
  { std::ofstream(weak) << "short\n"; }
  CliRun token = Raw({"serve", "--data", data_, "--metrics-token-file", weak});
  EXPECT_EQ(token.code, kExitUsage);
  EXPECT_EQ(token.err.rfind("custos: --metrics-token-file: ", 0), 0u) << token.err;
  EXPECT_EQ(token.err.find("short"), std::string::npos) << "never the token itself";
  const std::string scrape = dir_.Sub("scrape.token");
  { std::ofstream(scrape) << "scrape-token-0123456789abcdef\n"; }
  EXPECT_EQ(Raw({"serve", "--data", data_, "--audit-decisions", "sometimes"}).code, kExitUsage);

  // `serve --policy` initialises the data directory first, as `init` does.
  SharedText printed;
  std::ostream out(&printed);
  std::ostringstream err;
  int code = -1;
  std::vector<std::string> args = {"serve",
                                   "--data",
                                   data_,
                                   "--policy",
                                   policy_,
                                   "--listen",
                                   "127.0.0.1:0",
                                   "--threads",
                                   "2",
                                   "--max-body",
                                   "65536",
                                   "--rate-limit",
                                   "1000",
                                   "--address-rate-limit",
                                   "50",
                                   "--connections-per-address",
                                   "64",
                                   "--request-deadline",
                                   "30",
                                   "--log-requests",
                                   "none",
                                   "--test-clock",
                                   "--now",
                                   "2026-01-05",
                                   "--drain-seconds",
                                   "5",
                                   "--sweep-every",
                                   "0",
                                   "--deliver-every",
                                   "0",
                                   "--refresh-every",
                                   "0",
                                   "--log-level",
                                   "warn",
                                   "--metrics-allow",
                                   "127.0.0.1/32,::1/128",
                                   "--metrics-token-file",
                                   scrape,

                                   "--audit-decisions",
                                   "buffered"};
  for (const std::string& key : FormsAndVariantsOf(args)) ran_.insert(key);
  std::thread server([&] { code = RunCli(args, out, err); });
  // The server blocks SIGTERM in its own thread before it prints that it listens. The bound
  // only ends a test whose server never starts; starting takes well under a second.
  bool listening = printed.WaitFor("\n", std::chrono::seconds(60));
  std::string text = printed.Text();
  const std::string prefix = "custos serve: listening on http://127.0.0.1:";
  int port = 0;
  if (listening && text.rfind(prefix, 0) == 0) port = std::stoi(text.substr(prefix.size()));
  std::string health = port > 0 ? HttpGet(port, "/healthz", "") : "";
  if (listening) pthread_kill(server.native_handle(), SIGTERM);
  server.join();
  ASSERT_TRUE(listening) << err.str();
  EXPECT_GT(port, 0) << text;
  EXPECT_EQ(health.rfind("HTTP/1.1 200", 0), 0u) << health;
  EXPECT_EQ(code, kExitOk) << err.str();
  // The data directory is initialised and usable by the CLI.
  EXPECT_EQ(Ok({"audit", "verify"}).rfind("audit log intact: ", 0), 0u);
}

// With --database the personal data lives in PostgreSQL; DIR keeps the master key and the
// controller key, and without DIR both are given on the command line.
TEST_F(CliForms, ThePostgresDatabaseFormsKeepDataInPostgres) {
  std::string url = store::pgtest::PostgresTestUrl();
  ASSERT_FALSE(url.empty());
  std::string schema = store::pgtest::SchemaFor(dir_.path());
  (void)store::DropPostgresSchemaForTesting(url, schema);
  CliRun init = Raw({"--data", data_, "--database", url, "--schema", schema, "--now", now_, "init",
                     "--policy", policy_});
  EXPECT_EQ(init.code, kExitOk) << init.err;
  EXPECT_EQ(init.out,
            "initialised the PostgreSQL database for club (Example Club, notice 2026-01)\n");
  EXPECT_EQ(init.out.find(url), std::string::npos) << "the URL may hold a password";
  EXPECT_FALSE(fs::exists(dir_.Sub("data/custos.db")));
  CliRun added = Raw({"--data", data_, "--database", url, "--schema", schema, "--now", now_,
                      "subject", "add", "s1", "--type", "member"});
  EXPECT_EQ(added.out, "s1\n") << added.err;
  Raw({"--data", data_, "--database", url, "--schema", schema, "--now", now_, "consent", "give",
       "s1", "newsletter"});
  CliRun decided =
      Raw({"--database", url, "--schema", schema, "--controller", "club", "--master-key",
           dir_.Sub("data/master.key"), "--now", now_, "decide", "s1", "newsletter", "user.name"});
  EXPECT_EQ(decided.code, kExitOk) << decided.err;
  EXPECT_EQ(decided.out, "allow\n");
  // Without --data, the controller and the master key must be named.
  CliRun bare =
      Raw({"--database", url, "--schema", schema, "decide", "s1", "newsletter", "user.name"});
  EXPECT_NE(bare.code, kExitOk);
  EXPECT_EQ(bare.err.find(url), std::string::npos);
  (void)store::DropPostgresSchemaForTesting(url, schema);
}

TEST_F(CliForms, HelpNamesEveryVerb) {
  CliRun help = Raw({"help"});
  EXPECT_EQ(help.code, kExitOk);
  for (const char* verb :
       {"policy check",  "notice",       "ropa",           "datamap",        "init",
        "subject add",   "subject show", "subject find",   "event",          "record put",
        "record state",  "consent give", "consent export", "preference set", "object",
        "restrict",      "suppress",     "decide",         "audit verify",   "retention plan",
        "retention run", "hold place",   "hold release",   "hold list",      "review list",
        "review done",   "aggregate",    "request open",   "request verify", "request recipients",
        "request purge", "outbox list",  "outbox read",    "outbox deliver", "endpoint set",
        "endpoint list", "serve",        "token create",   "token list",     "token revoke"}) {
    EXPECT_NE(help.out.find(verb), std::string::npos) << verb;
  }
  CliRun none = Raw({});
  EXPECT_EQ(none.code, kExitUsage);
  EXPECT_EQ(none.err, help.out);
}

}  // namespace
}  // namespace custos::cli
