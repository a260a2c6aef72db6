// The policy's `systems:` section (docs/SYSTEMS.md): WIG's CRM example loads, and each mistake
// an author can make is refused with the file's line and a fix.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <string>

#include "policy/datamap.h"
#include "policy/loader.h"
#include "policy/ropa.h"
#include "policy/systems.h"
#include "policy_text.h"

namespace custos::policy {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Wig() { return ReadFile(std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml"); }
std::string CrmSection() {
  return ReadFile(std::string(CUSTOS_SOURCE_DIR) + "/policies/systems/wig_crm.yaml");
}

// The diagnostics of WIG with `section` as its systems.
LoadOutcome WithSystems(const std::string& section) {
  return CheckPolicyText(Wig() + "\n" + section, "wig.yaml");
}

// The first error's code and line, as `policy check` reports them.
std::string FirstError(const LoadOutcome& outcome) {
  for (const auto& d : outcome.diagnostics) {
    if (!d.warning) return std::string(CodeName(d.code)) + " line " + std::to_string(d.loc.line);
  }
  return "no error";
}

int LineOf(const std::string& text, const std::string& needle) {
  size_t at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
}

const char kMinimal[] = R"(systems:
  crm:
    name: CRM
    kind: postgresql
    connection: {env: CRM_DSN}
    datasets:
      people:
        table: crm.people
        primary_key: id
        find_by: {email: email_address}
        fields:
          email_address: {category: user.contact.email, erase: hash}
)";

// "deleting your contact details from our CRM platform, and member engagement data ... will be
// anonymised": the example CRM section loads with every dataset, field and action.
TEST(SystemsPolicy, WigsCrmExampleLoadsWithItsDatasetsAndActions) {
  Policy policy = policy_text::Load(Wig() + "\n" + CrmSection());
  ASSERT_EQ(policy.systems.size(), 1u);
  const System& crm = policy.systems[0];
  EXPECT_EQ(crm.key, "crm");
  EXPECT_EQ(crm.kind, SystemKind::kSqlite);
  EXPECT_EQ(crm.connection.env, "CUSTOS_WIG_CRM");
  ASSERT_EQ(crm.datasets.size(), 3u);
  const Dataset* contacts = crm.FindDataset("contacts");
  ASSERT_NE(contacts, nullptr);
  EXPECT_TRUE(contacts->DeletesRows());
  EXPECT_EQ(contacts->retention_rule, "member_contact_after_membership");
  EXPECT_EQ(contacts->retention_starts, "membership_ended_on");
  ASSERT_EQ(contacts->find_by.size(), 3u);
  EXPECT_EQ(contacts->find_by[2].kind, "external_id");
  EXPECT_EQ(contacts->find_by[2].column, "member_no");
  const Dataset* bookings = crm.FindDataset("bookings");
  ASSERT_NE(bookings, nullptr);
  ASSERT_TRUE(bookings->join.has_value());
  EXPECT_EQ(bookings->join->dataset, "contacts");
  EXPECT_FALSE(bookings->DeletesRows());
  EXPECT_EQ(bookings->FindField("dietary")->erase, EraseAction::kClear);
  EXPECT_EQ(bookings->FindField("event")->erase, EraseAction::kKeep);
  EXPECT_EQ(bookings->FindField("booked_on")->category, "");
  EXPECT_EQ(crm.FindDataset("newsletter")->FindField("email")->erase, EraseAction::kHash);
}

TEST(SystemsPolicy, ErasureVisitsChildrenBeforeTheirParents) {
  Policy policy = policy_text::Load(Wig() + "\n" + CrmSection());
  std::vector<std::string> order;
  for (const Dataset* d : ErasureOrder(policy.systems[0])) order.push_back(d->key);
  // bookings are found through contacts: erased first, so no booking points at a deleted row.
  ASSERT_EQ(order.size(), 3u);
  EXPECT_LT(std::find(order.begin(), order.end(), "bookings") - order.begin(),
            std::find(order.begin(), order.end(), "contacts") - order.begin());
}

// The record of processing says where each activity's data is: the systems whose datasets hold
// its categories.
TEST(SystemsPolicy, TheRopaNamesTheSystemsHoldingEachActivitysData) {
  Policy policy = policy_text::Load(Wig() + "\n" + CrmSection());
  std::string json = RenderRopaJson(policy);
  // Event bookings use the dietary needs and participation the bookings table holds, and the
  // contact details of the contacts table; the newsletter the subscribers' addresses.
  EXPECT_NE(
      json.find("\"location_of_data\": \"WIG CRM platform (contacts, bookings, newsletter)\""),
      std::string::npos)
      << json;
  Policy without = policy_text::Load(Wig());
  EXPECT_EQ(RenderRopaJson(without).find("WIG CRM platform"), std::string::npos);
}

// The data map draws where the data is kept: the CRM, joined to the groups of data it holds.
TEST(SystemsPolicy, TheDataMapShowsWhereEachGroupOfDataIsKept) {
  Policy policy = policy_text::Load(Wig() + "\n" + CrmSection());
  std::string dot = RenderDataMapDot(policy);
  EXPECT_NE(dot.find("\"system:crm\" [label="), std::string::npos) << dot;
  EXPECT_NE(dot.find("contacts, bookings, newsletter_subscribers"), std::string::npos);
  EXPECT_NE(dot.find("\"group:user.contact\" -> \"system:crm\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("-> \"system:crm\" [style=dashed"), std::string::npos);
  EXPECT_EQ(RenderDataMapDot(policy_text::Load(Wig())).find("system:"), std::string::npos);
}

TEST(SystemsPolicy, AMinimalPostgresqlSystemLoads) {
  Policy policy = policy_text::Load(Wig() + "\n" + kMinimal);
  ASSERT_EQ(policy.systems.size(), 1u);
  EXPECT_EQ(policy.systems[0].kind, SystemKind::kPostgresql);
  EXPECT_EQ(policy.systems[0].datasets[0].table, "crm.people");
  // MySQL and MariaDB are one kind.
  for (const char* kind : {"mysql", "mariadb"}) {
    Policy mysql = policy_text::Load(
        Wig() + "\n" +
        policy_text::Replace(kMinimal, "kind: postgresql", std::string("kind: ") + kind));
    ASSERT_EQ(mysql.systems.size(), 1u);
    EXPECT_EQ(mysql.systems[0].kind, SystemKind::kMysql) << kind;
  }
}

struct Mistake {
  const char* what;
  const char* from;
  const char* to;
  const char* code;
  const char* line_of;  // text on the line the error must name
};

class SystemsPolicyMistake : public ::testing::TestWithParam<Mistake> {};

// `m` applied to `section`, after WIG's policy, is refused at its line, and every message comes
// with a fix.
void ExpectRefusedAtItsLine(const Mistake& m, const char* section) {
  std::string text = Wig() + "\n" + policy_text::Replace(section, m.from, m.to);
  LoadOutcome outcome = CheckPolicyText(text, "wig.yaml");
  EXPECT_FALSE(outcome.ok()) << m.what;
  EXPECT_EQ(FirstError(outcome),
            std::string(m.code) + " line " + std::to_string(LineOf(text, m.line_of)))
      << m.what << "\n"
      << outcome.Report();
  for (const auto& d : outcome.diagnostics) EXPECT_FALSE(d.hint.empty()) << d.message;
}

TEST_P(SystemsPolicyMistake, IsRefusedWithItsLine) { ExpectRefusedAtItsLine(GetParam(), kMinimal); }

INSTANTIATE_TEST_SUITE_P(
    Each, SystemsPolicyMistake,
    ::testing::Values(
        Mistake{"a kind without a connector", "kind: postgresql", "kind: oracle", "INVALID_VALUE",
                "kind: oracle"},
        Mistake{"a connection string in the policy", "connection: {env: CRM_DSN}",
                "connection: {url: 'postgresql://u:p@h/db'}", "UNKNOWN_FIELD", "connection: {url"},
        Mistake{"both env and file", "connection: {env: CRM_DSN}",
                "connection: {env: CRM_DSN, file: crm.conn}", "INVALID_VALUE", "connection: {env"},
        Mistake{"no way to find a person", "        find_by: {email: email_address}\n", "",
                "MISSING_FIELD", "      people:"},
        Mistake{"an unknown identifier kind", "find_by: {email: email_address}",
                "find_by: {postcode: pc}", "INVALID_VALUE", "find_by: {postcode"},
        Mistake{"a column name custos will not quote", "find_by: {email: email_address}",
                "find_by: {email: \"email; DROP TABLE x\"}", "INVALID_VALUE",
                "find_by: {email: \""},
        Mistake{"an unknown category", "category: user.contact.email",
                "category: user.contact.emial", "UNKNOWN_CATEGORY", "category: user.contact.emial"},
        Mistake{"an unknown erase action", "erase: hash", "erase: shred", "INVALID_VALUE",
                "erase: shred"},
        Mistake{"a bare null erase, which YAML reads as nothing", "erase: hash", "erase: null",
                "INVALID_VALUE", "erase: null"},
        Mistake{"an erased column without a category",
                "{category: user.contact.email, erase: hash}", "{erase: hash}", "MISSING_FIELD",
                "email_address: {erase"},
        Mistake{"a mask without erase: mask", "erase: hash}", "erase: hash, mask: gone}",
                "INVALID_VALUE", "email_address: {"},
        Mistake{"a join to a dataset that is not there",
                "        find_by: {email: email_address}\n",
                "        join: {dataset: members, field: member_id}\n", "INVALID_VALUE",
                "join: {dataset: members"},
        Mistake{"a retention rule that is not there", "        find_by: {email: email_address}\n",
                "        find_by: {email: email_address}\n        retention: {rule: nope, starts: "
                "left_on}\n",
                "INVALID_VALUE", "retention: {rule: nope"},
        Mistake{"a table name with a quote", "table: crm.people", "table: 'crm\"people'",
                "INVALID_VALUE", "table: 'crm"}),
    [](const ::testing::TestParamInfo<Mistake>& info) {
      std::string name;
      for (const char* c = info.param.what; *c != '\0'; ++c) {
        if (std::isalnum(static_cast<unsigned char>(*c))) name += *c;
        if (*c == ' ') name += '_';
      }
      return name;
    });

// A service reached over HTTPS (a mailing tool): its datasets say their calls, not tables.
const char kService[] = R"(systems:
  mailer:
    name: Mailer
    kind: https
    connection: {env: MAILER}
    datasets:
      subscribers:
        primary_key: id
        find_by: {email: email}
        calls:
          find: GET /subscribers?email={value}
          update: PATCH /subscribers/{key}
          rows: /data
        fields:
          email: {category: user.contact.email, erase: hash}
          joined_on:
)";

TEST(SystemsPolicy, PlugginsMailingToolLoadsWithItsCalls) {
  Policy policy = policy_text::Load(
      ReadFile(std::string(CUSTOS_SOURCE_DIR) + "/policies/pluggin.yaml") + "\n" +
      ReadFile(std::string(CUSTOS_SOURCE_DIR) + "/policies/systems/pluggin_mailer.yaml"));
  ASSERT_EQ(policy.systems.size(), 1u);
  const System& mailer = policy.systems[0];
  EXPECT_EQ(mailer.kind, SystemKind::kHttps);
  EXPECT_EQ(SystemKindKey(mailer.kind), "https");
  const Dataset* subscribers = mailer.FindDataset("subscribers");
  ASSERT_NE(subscribers, nullptr);
  EXPECT_EQ(subscribers->table, "subscribers");  // a service's dataset is named by its key
  EXPECT_EQ(subscribers->calls.find.method, "GET");
  EXPECT_EQ(subscribers->calls.find.path, "/subscribers?email={value}");
  EXPECT_EQ(subscribers->calls.remove.method, "DELETE");
  EXPECT_EQ(subscribers->calls.rows, "/data");
  EXPECT_EQ(subscribers->calls.total, "/meta/total");
  const Dataset* activity = mailer.FindDataset("activity");
  ASSERT_NE(activity, nullptr);
  EXPECT_FALSE(activity->calls.update.configured());
  // Children first: the activity goes before the subscriber it belongs to is changed.
  std::vector<const Dataset*> order = ErasureOrder(mailer);
  ASSERT_EQ(order.size(), 2u);
  EXPECT_EQ(order[0]->key, "activity");
}

class ServicePolicyMistake : public ::testing::TestWithParam<Mistake> {};

TEST_P(ServicePolicyMistake, IsRefusedWithItsLine) { ExpectRefusedAtItsLine(GetParam(), kService); }

INSTANTIATE_TEST_SUITE_P(
    Each, ServicePolicyMistake,
    ::testing::Values(
        Mistake{"a table on a service", "        primary_key: id\n",
                "        table: subscribers\n        primary_key: id\n", "INVALID_VALUE",
                "table: subscribers"},
        Mistake{"no find call", "          find: GET /subscribers?email={value}\n", "",
                "MISSING_FIELD", "        calls:"},
        Mistake{"a call without its method", "find: GET /subscribers", "find: /subscribers",
                "INVALID_VALUE", "find: /subscribers"},
        Mistake{"an unknown placeholder", "email={value}", "email={email}", "INVALID_VALUE",
                "find: GET"},
        Mistake{"a find that does not say where the value goes", "?email={value}", "",
                "INVALID_VALUE", "find: GET"},
        Mistake{"an update that names no row", "PATCH /subscribers/{key}", "PATCH /subscribers",
                "INVALID_VALUE", "update: PATCH"},
        Mistake{"a hash without an update call", "          update: PATCH /subscribers/{key}\n", "",
                "MISSING_FIELD", "        calls:"},
        Mistake{"a deleted row without a delete call", "erase: hash", "erase: delete_row",
                "MISSING_FIELD", "        calls:"},
        Mistake{"a retention period without a list call", "        calls:\n",
                "        retention: {rule: member_contact_after_membership, starts: joined_on}\n"
                "        calls:\n",
                "MISSING_FIELD", "        calls:"},
        Mistake{"rows that is not a JSON pointer", "rows: /data", "rows: data", "INVALID_VALUE",
                "rows: data"}),
    [](const ::testing::TestParamInfo<Mistake>& info) {
      std::string name;
      for (const char* c = info.param.what; *c != '\0'; ++c) {
        if (std::isalnum(static_cast<unsigned char>(*c))) name += *c;
        if (*c == ' ') name += '_';
      }
      return name;
    });

TEST(SystemsPolicy, CallsBelongToServicesOnly) {
  std::string section = policy_text::Replace(
      policy_text::Replace(kService, "kind: https", "kind: sqlite"), "        primary_key: id\n",
      "        table: subscribers\n        primary_key: id\n");
  std::string text = Wig() + "\n" + section;
  LoadOutcome outcome = CheckPolicyText(text, "wig.yaml");
  EXPECT_EQ(FirstError(outcome), "INVALID_VALUE line " + std::to_string(LineOf(text, "calls:")))
      << outcome.Report();
}

TEST(SystemsPolicy, JoinsThatLeadBackToThemselvesAreRefused) {
  const std::string section = R"(systems:
  crm:
    name: CRM
    kind: sqlite
    connection: {file: crm.conn}
    datasets:
      a:
        table: a
        primary_key: id
        join: {dataset: b, field: b_id}
        fields:
          b_id: {category: user.unique_id, erase: clear}
      b:
        table: b
        primary_key: id
        join: {dataset: a, field: a_id}
        fields:
          a_id: {category: user.unique_id, erase: clear}
)";
  LoadOutcome outcome = WithSystems(section);
  EXPECT_FALSE(outcome.ok());
  EXPECT_NE(outcome.Report().find("lead back to it"), std::string::npos) << outcome.Report();
}

}  // namespace
}  // namespace custos::policy
