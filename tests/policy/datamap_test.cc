// The data map (src/policy/datamap.h) and its SVG drawing with Graphviz
// (src/policy/datamap_svg.h), the `custos datamap` verb and every seed policy.
#include "policy/datamap.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "policy/datamap_svg.h"
#include "policy/loader.h"
#include "policy_text.h"

namespace custos::policy {
namespace {

constexpr const char* kPolicy = R"yaml(
custos: 1
notice: {version: "3", date: 2025-06-01}
controller: {name: Example Club}
regulator: {name: Information Commissioner's Office}
subject_types:
  member: {name: Members}
events:
  membership_ended: {name: Membership ended}
sources:
  direct: {kind: direct, name: You}
  cookies: {kind: automated, name: Cookies}
categories:
  user.name: {}
  user.contact.email: {name: Email address}
  user.health_and_medical.dietary:
    parent: user.health_and_medical
    name: Dietary needs
    special: true
    condition: explicit_consent
purposes:
  events:
    name: Booking events
    basis: consent
    categories: [user.name, user.health_and_medical.dietary]
    sources: [direct]
    recipients: [venue]
  news:
    name: Newsletter
    basis: legitimate_interests
    interest: keeping members informed
    categories: [user.contact.email]
    recipients: [mailer]
recipients:
  venue: {name: Event venues, kind: third_party, countries: [GB]}
  mailer: {name: Mailer Inc, kind: processor, countries: [US], safeguard: idta}
  host: {name: Mailer's host, kind: sub_processor, processor_of: mailer, countries: [IE]}
transfers:
  regions: [UK, EEA]
retention:
  - id: all
    categories: [user]
    after: membership_ended
    period: P1Y
    action: delete
rights:
  available: [access]
  response_period: P1M
)yaml";

using policy_text::Load;
using policy_text::Replace;

// Number of lines in `text`.
long Lines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE((haystack).find(needle), std::string::npos) << "missing: " << (needle)

// The attribute list of node `id` ("[label=...]"), or "" when the node is absent.
std::string NodeLine(const std::string& dot, const std::string& id) {
  std::string start = "    \"" + id + "\" [";
  size_t at = dot.find(start);
  if (at == std::string::npos) return "";
  return dot.substr(at, dot.find('\n', at) - at);
}

TEST(DataMapDot, IsALeftToRightGraphWithOneClusterPerColumn) {
  std::string dot = RenderDataMapDot(Load(kPolicy));
  EXPECT_EQ(dot.rfind("digraph datamap {\n", 0), 0u);
  EXPECT_CONTAINS(dot, "rankdir=LR");
  size_t previous = 0;
  for (const char* cluster : {"cluster_sources", "cluster_categories", "cluster_purposes",
                              "cluster_recipients", "cluster_countries"}) {
    size_t at = dot.find(std::string("subgraph \"") + cluster + "\"");
    ASSERT_NE(at, std::string::npos) << cluster;
    EXPECT_GT(at, previous) << cluster << " is out of column order";
    previous = at;
  }
  EXPECT_CONTAINS(dot, "rank=same");
}

TEST(DataMapDot, HasEveryNode) {
  std::string dot = RenderDataMapDot(Load(kPolicy));
  // Categories are drawn by group: the taxonomy two levels down, a custom one by its parent's.
  for (const char* id :
       {"source:direct", "source:cookies", "group:user.name", "group:user.contact",
        "group:user.health_and_medical", "purpose:events", "purpose:news", "recipient:venue",
        "recipient:mailer", "recipient:host", "country:GB", "country:US", "country:IE"}) {
    EXPECT_NE(NodeLine(dot, id), "") << id;
  }
  EXPECT_CONTAINS(NodeLine(dot, "source:direct"), "label=\"You\\n(given by the person)\"");
  EXPECT_CONTAINS(NodeLine(dot, "country:US"), "United States\\noutside the transfer regions");
}

TEST(DataMapDot, HasEveryEdgeFromSourceToCountry) {
  std::string dot = RenderDataMapDot(Load(kPolicy));
  for (const char* edge : {
           "\"source:direct\" -> \"group:user.name\";",
           "\"source:direct\" -> \"group:user.health_and_medical\";",
           // A purpose without `sources` takes data from every source.
           "\"source:cookies\" -> \"group:user.contact\";",
           "\"group:user.name\" -> \"purpose:events\";",
           "\"group:user.contact\" -> \"purpose:news\";",
           "\"purpose:events\" -> \"recipient:venue\";",
           "\"purpose:news\" -> \"recipient:mailer\";",
           "\"recipient:venue\" -> \"country:GB\";",
           "\"recipient:host\" -> \"country:IE\";",
       }) {
    EXPECT_CONTAINS(dot, edge);
  }
  // Data only `direct` gives does not come from cookies.
  EXPECT_EQ(dot.find("\"source:cookies\" -> \"group:user.name\""), std::string::npos);
  EXPECT_CONTAINS(dot, "\"recipient:mailer\" -> \"country:US\" [label=\"idta\"");
  EXPECT_CONTAINS(dot, "\"recipient:mailer\" -> \"recipient:host\" [style=dashed");
}

TEST(DataMapDot, HighlightsSpecialCategoriesAndShowsLawfulBases) {
  std::string dot = RenderDataMapDot(Load(kPolicy));
  std::string special = NodeLine(dot, "group:user.health_and_medical");
  EXPECT_CONTAINS(special, "- Dietary needs (special category: Article 9(2)(a))\\l");
  EXPECT_CONTAINS(special, "fillcolor=\"#fde2e1\"");
  EXPECT_EQ(NodeLine(dot, "group:user.name").find("fde2e1"), std::string::npos);
  EXPECT_CONTAINS(NodeLine(dot, "group:user.contact"), "- Email address\\l");
  EXPECT_CONTAINS(NodeLine(dot, "purpose:events"), "Booking events\\nConsent (Article 6(1)(a))");
  EXPECT_CONTAINS(NodeLine(dot, "purpose:news"),
                  "Newsletter\\nLegitimate interests (Article 6(1)(f))");
}

// A view per purpose and per subject type: only what that purpose (or those purposes) use.
TEST(DataMapDot, ViewsShowOnePurposeOrOneKindOfPerson) {
  Policy policy = Load(kPolicy);
  std::string news = RenderDataMapDot(policy, {"news", ""});
  EXPECT_CONTAINS(news, "Data map: Example Club, purpose: news");
  EXPECT_NE(NodeLine(news, "purpose:news"), "");
  EXPECT_EQ(NodeLine(news, "purpose:events"), "");
  EXPECT_EQ(NodeLine(news, "recipient:venue"), "");
  EXPECT_NE(NodeLine(news, "recipient:host"), "") << "the mailer's sub-processor comes with it";
  EXPECT_NE(NodeLine(news, "country:IE"), "");
  EXPECT_EQ(NodeLine(news, "country:GB"), "");
  EXPECT_EQ(NodeLine(news, "group:user.health_and_medical"), "");
  std::string events = RenderDataMapDot(policy, {"events", ""});
  EXPECT_EQ(NodeLine(events, "source:cookies"), "") << "events take data from `direct` only";
  // Every purpose concerns members here (no `subjects`: all types).
  EXPECT_EQ(PurposesInView(policy, {"", "member"}).size(), 2u);
  EXPECT_TRUE(PurposesInView(policy, {"", "visitor"}).empty());
  EXPECT_TRUE(PurposesInView(policy, {"nope", ""}).empty());
}

TEST(DataMapSvg, ScalesToItsContainer) {
  auto svg = RenderDotToSvg(RenderDataMapDot(Load(kPolicy)));
  ASSERT_TRUE(svg.ok()) << svg.status().ToString();
  size_t root = svg->find("<svg ");
  ASSERT_NE(root, std::string::npos);
  std::string head = svg->substr(root, svg->find('>', root) - root);
  EXPECT_CONTAINS(head, "width=\"100%\"");
  EXPECT_CONTAINS(head, "viewBox=");
  EXPECT_EQ(head.find("height="), std::string::npos) << head;
  EXPECT_EQ(head.find("pt\""), std::string::npos) << head;
}

TEST(DataMapDot, EscapesPolicyStrings) {
  EXPECT_EQ(EscapeDot("a \"quoted\" \\N name\nnext"), "a \\\"quoted\\\" \\\\N name next");
  std::string text = Replace(kPolicy, "controller: {name: Example Club}",
                             "controller: {name: \"Evil\\\" ]; x -> y; \\\\\"}");
  std::string dot = RenderDataMapDot(Load(text));
  EXPECT_CONTAINS(dot, "Data map: Evil\\\" ]; x -> y; \\\\");
  // It still parses as exactly the graph we meant.
  auto svg = RenderDotToSvg(dot);
  ASSERT_TRUE(svg.ok()) << svg.status().ToString();
  EXPECT_EQ(svg->find("<title>x</title>"), std::string::npos);
}

TEST(DataMapSvg, RendersTheDataMap) {
  auto svg = RenderDotToSvg(RenderDataMapDot(Load(kPolicy)));
  ASSERT_TRUE(svg.ok()) << svg.status().ToString();
  EXPECT_TRUE(svg->rfind("<?xml", 0) == 0 || svg->find("<svg") != std::string::npos);
  EXPECT_CONTAINS(*svg, "<svg");
  EXPECT_CONTAINS(*svg, "Booking events");
  EXPECT_CONTAINS(*svg, "Mailer&#39;s host");
}

TEST(DataMapSvg, ReportsInvalidDotAndKeepsWorkingAfterwards) {
  auto bad = RenderDotToSvg("digraph { a -> ; }");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  auto empty = RenderDotToSvg("");
  EXPECT_FALSE(empty.ok());
  auto good = RenderDotToSvg("digraph { a -> b; }");
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_CONTAINS(*good, "<svg");
}

// ---------------------------------------------------------------------------------------------

class DataMapCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("custos_datamap_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "policy.yaml").string();
    std::ofstream(path_) << kPolicy;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  int Run(const std::vector<std::string>& args) {
    out_.str("");
    err_.str("");
    return cli::RunCli(args, out_, err_);
  }

  std::filesystem::path dir_;
  std::string path_;
  std::ostringstream out_, err_;
};

TEST_F(DataMapCommand, WritesDotByDefaultAndSvgOnRequest) {
  EXPECT_EQ(Run({"datamap", path_}), cli::kExitOk) << err_.str();
  EXPECT_EQ(out_.str().rfind("digraph datamap {", 0), 0u);
  EXPECT_EQ(Run({"datamap", path_, "--format", "svg"}), cli::kExitOk) << err_.str();
  EXPECT_CONTAINS(out_.str(), "<svg");
}

TEST_F(DataMapCommand, RejectsBadUsage) {
  EXPECT_EQ(Run({"datamap", path_, "--format", "png"}), cli::kExitUsage);
  EXPECT_EQ(Lines(err_.str()), 1);
  EXPECT_EQ(Run({"datamap", path_, path_}), cli::kExitUsage);
  EXPECT_EQ(Run({"datamap", path_, "--purpose", "nope"}), cli::kExitUsage);
  EXPECT_EQ(Lines(err_.str()), 1);
  EXPECT_CONTAINS(err_.str(), "no purpose of the policy is named 'nope'");
  EXPECT_EQ(Run({"datamap", path_, "--purpose", "news", "--subject-type", "member"}),
            cli::kExitUsage);
  EXPECT_EQ(Run({"datamap", path_, "--subject-type", "member"}), cli::kExitOk) << err_.str();
  EXPECT_CONTAINS(out_.str(), "subject type: member");
}

TEST(DataMapSeeds, EverySeedPolicyDrawsAsSvg) {
  std::filesystem::path dir = std::filesystem::path(CUSTOS_SOURCE_DIR) / "policies";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no seed policies yet";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().filename().string());
    auto policy = LoadValidPolicy(entry.path().string());
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();
    std::string dot = RenderDataMapDot(*policy);
    for (const auto& purpose : policy->purposes) {
      EXPECT_NE(NodeLine(dot, "purpose:" + purpose.key), "") << purpose.key;
    }
    for (const auto& recipient : policy->recipients) {
      EXPECT_NE(NodeLine(dot, "recipient:" + recipient.key), "") << recipient.key;
    }
    auto svg = RenderDotToSvg(dot);
    ASSERT_TRUE(svg.ok()) << svg.status().ToString();
    EXPECT_NE(svg->find("<svg"), std::string::npos);
  }
}

}  // namespace
}  // namespace custos::policy
