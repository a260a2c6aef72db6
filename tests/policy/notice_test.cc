// The privacy notice generated from a policy (src/policy/notice.h): content, escaping, formats,
// the `custos notice` verb, and every seed policy in policies/.
#include "policy/notice.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "policy/loader.h"
#include "policy_text.h"

namespace custos::policy {
namespace {

constexpr const char* kPolicy = R"yaml(
custos: 1
notice:
  version: "2026-01"
  date: 2026-01-15
  changes: We email members when this notice changes.
controller:
  name: Example Club
  email: privacy@example.test
  phone: 020 7946 0000
  address: 1 High Street, London
dpo:
  name: Dana Officer
  email: dpo@example.test
contacts:
  requests:
    purpose: rights_requests
    name: Privacy team
    email: requests@example.test
regulator:
  name: Information Commissioner's Office
  address: Wycliffe House, Water Lane, Wilmslow, Cheshire, SK9 5AF
  phone: 0303 123 1113
  website: https://ico.org.uk
  first_contact_us: true
  other_regulators: the regulator in the country where you live or work
subject_types:
  member: {name: Members}
  visitor: {name: Website visitors}
events:
  membership_ended: {name: Membership ended}
  last_activity:
    name: Last activity
    resets: [website_login, event_booking]
  website_login: {name: Website login}
  event_booking: {name: Event booking}
sources:
  direct: {kind: direct}
  employer: {kind: third_party, name: Your employer}
categories:
  user.name: {}
  user.contact.email:
    name: Email address
    examples: [work email, "personal email, if you give it"]
  user.health_and_medical.dietary:
    parent: user.health_and_medical
    name: Dietary and access needs
    special: true
    condition: explicit_consent
  user.engagement:
    parent: user
    name: Engagement history
  user.engagement.events:
    parent: user.engagement
    name: Events attended
    identifying: false
purposes:
  events:
    name: Booking events
    basis: consent
    categories: [user.name, user.contact.email, user.health_and_medical.dietary]
    subjects: [member]
    sources: [direct]
    recipients: [venue]
  opportunities:
    name: Telling you about opportunities, "fit" for you
    basis: legitimate_interests
    interest: contacting members about opportunities that fit their role
    categories: [user.contact.email, user.engagement.events]
    subjects: [member, visitor]
    direct_marketing: true
    channels: [email]
    recipients: [mailer]
recipients:
  venue: {name: Event venues, kind: third_party, countries: [GB]}
  mailer: {name: Mailing service, kind: processor, countries: [US], safeguard: idta}
transfers:
  regions: [UK, EEA]
retention:
  - id: member_data
    subjects: [member]
    categories: [user.name, user.contact, user.health_and_medical]
    after: membership_ended
    period: P5Y
    action: delete
  - id: visitor_contact
    subjects: [visitor]
    categories: [user.contact]
    after: last_activity
    period: P2Y
    action: delete
  - id: engagement
    categories: [user.engagement]
    after: membership_ended
    period: P6M
    action: anonymise
    keep: [user.engagement.events]
rights:
  available: [access, rectification, erasure, restriction, objection, portability,
              withdraw_consent]
  response_period: P1M
  extension: {max: P2M, when: for complex or numerous requests}
  fee: none
  contact: requests
cookies:
  essential: {name: Essential cookies, consent_required: false}
  analytics: {name: Analytics cookies, consent_required: true}
security:
  encryption: Personal data is encrypted at rest.
breach:
  notify_regulator_within: PT72H
  notify_subjects: when_high_risk
)yaml";

using policy_text::Load;
using policy_text::Replace;

// The Markdown notice as a person reads it: backslash escapes and bold markers removed,
// whitespace collapsed.
std::string PlainText(const std::string& markdown) {
  std::string out;
  for (size_t i = 0; i < markdown.size(); ++i) {
    char c = markdown[i];
    if (c == '\\' && i + 1 < markdown.size() &&
        std::ispunct(static_cast<unsigned char>(markdown[i + 1]))) {
      out += markdown[++i];
    } else if (c == '*' && i + 1 < markdown.size() && markdown[i + 1] == '*') {
      ++i;
    } else {
      out += c;
    }
  }
  return out;
}

std::string Collapse(const std::string& text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string Notice(const Policy& policy) {
  return PlainText(RenderNotice(policy, NoticeFormat::kMarkdown));
}

// Number of lines in `text`.
long Lines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE((haystack).find(needle), std::string::npos) << "missing: " << (needle)

// The words a person reads for each right, lawful basis and Article 9 condition (those the
// seeds use), written out here rather than taken from the notice's own wording functions.
const std::map<std::string, std::string> kRightWords = {
    {"informed", "Right to be informed"},
    {"access", "Right of access"},
    {"rectification", "Right to rectification"},
    {"erasure", "Right to erasure"},
    {"restriction", "Right to restrict processing"},
    {"objection", "Right to object"},
    {"portability", "Right to data portability"},
    {"withdraw_consent", "Right to withdraw consent"},
    {"automated_decision_review", "Rights about automated decision-making"},
    {"marketing_opt_out", "Right to opt out of marketing"},
};
const std::map<LawfulBasis, std::string> kBasisWords = {
    {LawfulBasis::kConsent, "Consent (Article 6(1)(a) UK GDPR)"},
    {LawfulBasis::kContract, "Contract (Article 6(1)(b) UK GDPR)"},
    {LawfulBasis::kLegalObligation, "Legal obligation (Article 6(1)(c) UK GDPR)"},
    {LawfulBasis::kVitalInterests, "Vital interests (Article 6(1)(d) UK GDPR)"},
    {LawfulBasis::kPublicTask, "Public task (Article 6(1)(e) UK GDPR)"},
    {LawfulBasis::kLegitimateInterests, "Legitimate interests (Article 6(1)(f) UK GDPR)"},
};
const std::map<std::string, std::string> kConditionWords = {
    {"explicit_consent", "your explicit consent"},
    {"archiving_research_statistics",
     "archiving, scientific or historical research, or statistics, in the public interest"},
};

TEST(Notice, StartsWithTheSummaryLayerThenTheFullNotice) {
  std::string md = Notice(Load(kPolicy));
  size_t summary = md.find("## In short");
  size_t full = md.find("## The full notice");
  ASSERT_NE(summary, std::string::npos);
  ASSERT_NE(full, std::string::npos);
  EXPECT_LT(summary, full);
  for (const char* heading :
       {"### Who we are", "### What we collect", "### Why we use it", "### Who we share it with",
        "### How long we keep it", "### Your rights", "### How to complain"}) {
    size_t at = md.find(heading);
    ASSERT_NE(at, std::string::npos) << heading;
    EXPECT_LT(at, full) << heading << " belongs to the summary";
  }
}

TEST(Notice, StatesRetentionPeriodsInWords) {
  std::string md = Notice(Load(kPolicy));
  // A fideslang parent the rule names (user.contact, user.health_and_medical) is called by the
  // organisation's names for what it declares beneath it, never by the taxonomy's label.
  EXPECT_CONTAINS(md,
                  "Name, Email address and Dietary and access needs (Members): deleted 5 years "
                  "after membership ended.");
  EXPECT_CONTAINS(md,
                  "Email address (Website visitors): deleted 2 years after last activity (the "
                  "clock restarts on each website login or event booking).");
  EXPECT_EQ(md.find("Contact Data"), std::string::npos);
  EXPECT_EQ(md.find("Health and Medical Data"), std::string::npos);
  EXPECT_CONTAINS(md,
                  "Engagement history: anonymised 6 months after membership ended; we keep "
                  "Events attended only in a form that no longer identifies you");
  EXPECT_EQ(md.find("P5Y"), std::string::npos) << "ISO periods are for the RoPA, not people";
}

TEST(Notice, ListsEveryAvailableRightInPlainWords) {
  Policy policy = Load(kPolicy);
  std::string md = Notice(policy);
  for (const auto& right : policy.rights.available) EXPECT_CONTAINS(md, kRightWords.at(right));
  EXPECT_CONTAINS(md, "You can ask for a copy of the personal data we hold about you");
  EXPECT_CONTAINS(md, "We respond within one month of receiving your request.");
  EXPECT_CONTAINS(md, "we may take up to 2 months more (for complex or numerous requests)");
  EXPECT_CONTAINS(md, "You do not have to pay a fee.");
  EXPECT_CONTAINS(md, "To make a request, contact: Privacy team: email [requests@example.test]");
  // Rights the policy does not offer are not promised.
  EXPECT_EQ(md.find("Rights about automated decision-making"), std::string::npos);
}

TEST(Notice, NamesRecipientsByKindWithCountriesAndSafeguards) {
  std::string md = Notice(Load(kPolicy));
  EXPECT_CONTAINS(md, "Processor (acts on our instructions)\n\n- Mailing service:");
  EXPECT_CONTAINS(md, "Third party\n\n- Event venues:");
  EXPECT_CONTAINS(md,
                  "Where: the United States. Protected by the International Data Transfer "
                  "Agreement (IDTA).");
  EXPECT_CONTAINS(md, "We share it with: Event venues and Mailing service.");
  EXPECT_CONTAINS(md,
                  "These organisations process some of your data outside the United "
                  "Kingdom and the European Economic Area");
  EXPECT_CONTAINS(md,
                  "- Mailing service: in the United States, protected by the International "
                  "Data Transfer Agreement (IDTA).");
}

TEST(Notice, StatesEachLawfulBasisWithTheLegitimateInterest) {
  std::string md = Notice(Load(kPolicy));
  EXPECT_CONTAINS(md, "#### Booking events\n\n- Lawful basis: Consent (Article 6(1)(a) UK GDPR)");
  EXPECT_CONTAINS(md,
                  "Lawful basis: Legitimate interests (Article 6(1)(f) UK GDPR)\n- Our "
                  "legitimate interest: contacting members about opportunities that fit "
                  "their role");
  EXPECT_CONTAINS(md, "You can withdraw your consent at any time.");
  EXPECT_CONTAINS(md, "- Telling you about opportunities, \"fit\" for you: by email.");
}

TEST(Notice, StatesTheSpecialCategoryCondition) {
  std::string md = Notice(Load(kPolicy));
  EXPECT_CONTAINS(md,
                  "Dietary and access needs: your explicit consent (Article 9(2)(a) UK "
                  "GDPR). Used for: Booking events.");
}

TEST(Notice, GivesTheComplaintRoute) {
  std::string md = Notice(Load(kPolicy));
  // No complaints contact: the controller's own details.
  EXPECT_CONTAINS(md,
                  "please contact us before you go to the regulator: email "
                  "[privacy@example.test](<mailto:privacy@example.test>), phone");
  EXPECT_CONTAINS(md,
                  "complain to a data protection regulator: Information Commissioner's "
                  "Office.");
  EXPECT_CONTAINS(md, "Address: Wycliffe House, Water Lane, Wilmslow, Cheshire, SK9 5AF");
  EXPECT_CONTAINS(md, "Phone: [0303 123 1113](<tel:03031231113>)");
  EXPECT_CONTAINS(md, "Website: [https://ico.org.uk](<https://ico.org.uk>)");
  EXPECT_CONTAINS(md,
                  "You can also complain to the regulator in the country where you live or "
                  "work.");
}

TEST(Notice, CoversCookiesSecurityBreachAndChanges) {
  std::string md = Notice(Load(kPolicy));
  EXPECT_CONTAINS(md,
                  "Essential cookies: These are strictly necessary, so they do not need your "
                  "consent.");
  EXPECT_CONTAINS(md, "Analytics cookies: We set these only if you consent");
  EXPECT_CONTAINS(md, "- Personal data is encrypted at rest.");
  EXPECT_CONTAINS(md,
                  "we report a personal data breach to Information Commissioner's Office "
                  "within 72 hours of becoming aware of it");
  EXPECT_CONTAINS(md, "This is version 2026-01 of this notice, last updated 15 January 2026.");
  EXPECT_CONTAINS(md, "We email members when this notice changes.");
  EXPECT_CONTAINS(md, "Data protection officer: Dana Officer, email [dpo@example.test]");
}

TEST(Notice, PromisesDataNeverLeavesWhenTransfersAreForbidden) {
  std::string text = Replace(kPolicy, "countries: [US], safeguard: idta", "countries: [IE]");
  text = Replace(text, "regions: [UK, EEA]", "regions: [UK, EEA]\n  outside: forbidden");
  std::string md = Notice(Load(text));
  EXPECT_CONTAINS(md,
                  "Your personal data never leaves the United Kingdom and the European "
                  "Economic Area: none of the organisations we share it with processes it "
                  "anywhere else.");
  EXPECT_CONTAINS(md,
                  "Your personal data never leaves the United Kingdom and the European "
                  "Economic Area.");  // the summary
}

TEST(Notice, ExplainsTheProcessorRole) {
  std::string text = Replace(kPolicy, "  address: 1 High Street, London\n",
                             "  address: 1 High Street, London\n  role: processor\n"
                             "processor:\n  controllers: Schools that subscribe to us\n"
                             "  requests: forward_to_controller\n"
                             "  breach_notify_controller: true\n");
  std::string md = Notice(Load(text));
  EXPECT_CONTAINS(md, "we are a processor, not the controller");
  EXPECT_CONTAINS(md, "Whose data it is: Schools that subscribe to us");
  EXPECT_CONTAINS(md, "requests about a school's data go to the school");
  EXPECT_CONTAINS(md,
                  "If a personal data breach affects a controller's data, we tell that "
                  "controller.");
  EXPECT_EQ(md.find("We are the controller"), std::string::npos);
}

// No seed promises that it makes no automated decisions, so the notice says nothing about
// automated decisions that no purpose declares (it states what the policy states, no more).
TEST(Notice, SaysSoWhenNoMarketingOrProfilingAndClaimsNothingAboutAutomatedDecisions) {
  std::string text = Replace(kPolicy, "    direct_marketing: true\n    channels: [email]\n", "");
  std::string md = Notice(Load(text));
  EXPECT_CONTAINS(md, "We do not use your personal data for direct marketing or profiling.");
  EXPECT_EQ(md.find("by automated means alone"), std::string::npos) << md;
}

TEST(Notice, DescribesAutomatedDecisionsWithLogicAndHumanReview) {
  std::string text = Replace(kPolicy, "    channels: [email]\n",
                             "    channels: [email]\n    profiling: true\n"
                             "    automated_decision:\n"
                             "      logic: we score your engagement over the last year\n"
                             "      significance: low scores get fewer emails\n"
                             "      human_review: true\n");
  text = Replace(text, "              withdraw_consent]",
                 "              withdraw_consent, automated_decision_review]");
  std::string md = Notice(Load(text));
  EXPECT_CONTAINS(md, "How it works: we score your engagement over the last year.");
  EXPECT_CONTAINS(md, "What it means for you: low scores get fewer emails.");
  EXPECT_CONTAINS(md, "You can ask for a person to review the decision");
  EXPECT_CONTAINS(md, "Profiling means using your data");
}

TEST(NoticeHtml, IsAStandalonePageWithEveryPolicyStringEscaped) {
  std::string text = Replace(kPolicy, "  name: Example Club\n",
                             "  name: Example <script>alert('x')</script> & Co\n");
  text = Replace(text, "website: https://ico.org.uk", "website: \"javascript:alert(1)\"");
  std::string html = RenderNotice(Load(text), NoticeFormat::kHtml);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_CONTAINS(html, "<html lang=\"en-GB\">");
  EXPECT_CONTAINS(html, "</html>\n");
  EXPECT_CONTAINS(html, "Example &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co");
  EXPECT_EQ(html.find("<script"), std::string::npos);
  // An address that is not http(s) is shown, never linked.
  EXPECT_EQ(html.find("href=\"javascript:"), std::string::npos);
  EXPECT_CONTAINS(html, "javascript:alert(1)");
  // No external resources.
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  // Accessible structure: one h1, labelled sections.
  EXPECT_CONTAINS(html, "<h1 id=\"top\">");
  EXPECT_EQ(html.find("<h1", html.find("<h1") + 1), std::string::npos);
  EXPECT_CONTAINS(html, "<section aria-labelledby=\"summary\">\n<h2 id=\"summary\">In short</h2>");
  EXPECT_CONTAINS(html, "<a href=\"#retention\">More about this.</a>");
  EXPECT_CONTAINS(html, "<a href=\"mailto:requests@example.test\">requests@example.test</a>");
}

TEST(NoticeHtml, SaysTheSameAsTheMarkdown) {
  Policy policy = Load(kPolicy);
  std::string html = RenderNotice(policy, NoticeFormat::kHtml);
  for (const char* phrase : {"deleted 5 years after membership ended", "Right to data portability",
                             "Legitimate interests (Article 6(1)(f) UK GDPR)",
                             "your explicit consent", "Information Commissioner&#39;s Office"}) {
    EXPECT_CONTAINS(html, phrase);
  }
}

TEST(NoticeMarkdown, EscapesTextThatWouldChangeTheStructure) {
  EXPECT_EQ(EscapeMarkdown("a *b* _c_ [d](e) <f> `g` |h| #i"),
            "a \\*b\\* \\_c\\_ \\[d\\](e) \\<f\\> \\`g\\` \\|h\\| \\#i");
  EXPECT_EQ(EscapeMarkdown("Tom & Jerry &amp;"), "Tom & Jerry \\&amp;");
  EXPECT_EQ(EscapeMarkdown("two\nlines   here"), "two lines here");

  std::string text = Replace(kPolicy, "  name: Example Club\n", "  name: \"# Not a heading\"\n");
  text = Replace(text, "name: Event venues", "name: \"- not a list\"");
  text = Replace(text, "name: Dana Officer", "name: \"Dana\\n\\n## Injected\"");
  std::string md = RenderNotice(Load(text), NoticeFormat::kMarkdown);
  EXPECT_CONTAINS(md, "\n\\# Not a heading. Version");
  EXPECT_CONTAINS(md, "- **\\- not a list**:");
  EXPECT_EQ(md.find("\n## Injected"), std::string::npos);
  EXPECT_CONTAINS(md, "Dana \\#\\# Injected");
}

TEST(NoticeWords, PeriodsReadAsPlainEnglish) {
  EXPECT_EQ(PeriodInWords(*IsoPeriod::Parse("P1M")), "one month");
  EXPECT_EQ(PeriodInWords(*IsoPeriod::Parse("P5Y")), "5 years");
  EXPECT_EQ(PeriodInWords(*IsoPeriod::Parse("PT72H")), "72 hours");
  EXPECT_EQ(PeriodInWords(*IsoPeriod::Parse("P0D")), "immediately");
  EXPECT_EQ(EscapeHtml("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

// ---------------------------------------------------------------------------------------------
// The `custos notice` verb.

class NoticeCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("custos_notice_test_" + std::to_string(::getpid()) + "_" +
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

TEST_F(NoticeCommand, WritesMarkdownByDefaultAndHtmlOnRequest) {
  EXPECT_EQ(Run({"notice", path_}), cli::kExitOk) << err_.str();
  EXPECT_EQ(out_.str().rfind("# Privacy notice of Example Club", 0), 0u);
  EXPECT_EQ(Run({"notice", path_, "--format", "html"}), cli::kExitOk) << err_.str();
  EXPECT_EQ(out_.str().rfind("<!DOCTYPE html>", 0), 0u);
}

TEST_F(NoticeCommand, WritesToTheOutputFile) {
  std::string output = (dir_ / "notice.html").string();
  EXPECT_EQ(Run({"notice", path_, "--format=html", "--output", output}), cli::kExitOk);
  EXPECT_TRUE(out_.str().empty());
  std::ifstream file(output);
  std::stringstream content;
  content << file.rdbuf();
  EXPECT_EQ(content.str().rfind("<!DOCTYPE html>", 0), 0u);
}

TEST_F(NoticeCommand, RejectsBadUsageWithOneLine) {
  EXPECT_EQ(Run({"notice", path_, "--format", "pdf"}), cli::kExitUsage);
  EXPECT_CONTAINS(err_.str(), "unknown format 'pdf'");
  EXPECT_EQ(Lines(err_.str()), 1);
  EXPECT_EQ(Run({"notice"}), cli::kExitUsage);
  EXPECT_EQ(Run({"notice", path_, "--colour", "red"}), cli::kExitUsage);
  EXPECT_EQ(Lines(err_.str()), 1);
}

TEST_F(NoticeCommand, RefusesAnInvalidPolicyWithItsDiagnostics) {
  std::ofstream(path_) << Replace(kPolicy, "    basis: consent\n", "");
  EXPECT_EQ(Run({"notice", path_}), cli::kExitRefused);
  EXPECT_CONTAINS(err_.str(), "MISSING_LAWFUL_BASIS");
  EXPECT_TRUE(out_.str().empty());
  EXPECT_EQ(Run({"notice", (dir_ / "missing.yaml").string()}), cli::kExitIo);
}

// ---------------------------------------------------------------------------------------------
// Every seed policy: the notice states each promise a person relies on.

std::vector<std::filesystem::path> SeedPolicies() {
  std::vector<std::filesystem::path> paths;
  std::filesystem::path dir = std::filesystem::path(CUSTOS_SOURCE_DIR) / "policies";
  if (!std::filesystem::is_directory(dir)) return paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".yaml") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

// What each seed's notice says about each of its retention rules, in the order of the policy,
// as a person reads it. A rule whose period the notice does not give (`period_stated: false`)
// is stated by its description alone; data is named by the organisation's own groups and names.
const std::map<std::string, std::vector<std::string>> kSeedRetention = {
    {"pluggin.yaml",
     {
         "Name, Contact Data, User Contact Email, User Contact Phone Number, Organization, "
         "Job Title, Workplace, Password, Account Information, Your digital profile, Posts, "
         "comments and likes, Messages, Your enquiries, comments and opinions, Browsing "
         "History, Search History, Usage and engagement data, IP Address, Device ID, Cookie "
         "ID, Device and connection information, Precise Subject Location, Imprecise Subject "
         "Location, Privacy Preferences, Participation records, Job application information, "
         "Equality and diversity monitoring information, Employment records, Family "
         "information, Thoughts, feelings, views and opinions, Race, Political Opinion, "
         "Religion, Health and Medical Data and User's Genetic Data (Staff): deleted 6 years "
         "after left Pluggin's employment.",
         "Messages: deleted 3 years after we collected it.",
         "Name, Contact Data, User Contact Email, User Contact Phone Number, Organization, "
         "Job Title, Workplace, Password, Account Information, Your digital profile, Posts, "
         "comments and likes, Messages, Your enquiries, comments and opinions, Browsing "
         "History, Search History, Usage and engagement data, IP Address, Device ID, Cookie "
         "ID, Device and connection information, Precise Subject Location, Imprecise Subject "
         "Location, Privacy Preferences, Participation records, Job application information, "
         "Equality and diversity monitoring information, Employment records, Family "
         "information, Thoughts, feelings, views and opinions, Race, Political Opinion, "
         "Religion, Health and Medical Data and User's Genetic Data (People at organisations "
         "we work with, Members, enablers, beneficiaries and other registered users, "
         "Supporters, Event and project participants, Research participants, Website visitors "
         "and Job applicants): deleted 3 years after we collected it (for data collected for "
         "Undertaking sponsorship, Promoting charities, social enterprises, public bodies and "
         "businesses, Running the Pluggin ecosystem, Contracts with organisations, and steps "
         "before a contract, Your Social Impact Register® account and our community platform, "
         "Marketing about our projects and sponsorship activities, Shortlisting and "
         "interviewing job applicants, Equality and diversity monitoring, Recording our "
         "campaigning actions, Inviting you to become involved in our work and projects, "
         "Research, Logging how you use our website and content, Advertising, marketing, "
         "public relations and general advice services, Sending and receiving messages, "
         "Looking at messages when we receive a complaint, Aggregated analysis of message "
         "usage, Profiling to make our communications relevant, Dealing with enquiries and "
         "complaints about the community platform and Personalising the community platform "
         "and analysing its use).",
         "We only keep research information in a way that enables you to be identified for as long "
         "as is necessary.",
         "We keep data even after you or your organisation stop using our services, to comply with "
         "legal obligations (including law enforcement requests), meet our regulatory and "
         "financial requirements, resolve disputes, maintain security, prevent fraud and abuse, or "
         "fulfil your request to unsubscribe from further messages from us.",
     }},
    {"progress_together.yaml",
     {
         "Name, Email address, Phone numbers, Job title, Company name, Unique device "
         "identifier, Device, browser and network details, IP address, Your visits to this "
         "website, Feedback from social media tracking pixels and What you tell us: deleted "
         "immediately after unsubscribed (for data collected for Responding to your queries "
         "and requests, Sending you administrative communications and helpful information, "
         "Marketing communications about our events and our organisation (our legitimate "
         "interests), Our newsletter and marketing communications, with your consent and "
         "Interacting with you through this website and social media).",
         "Name, Email address, Phone numbers, Job title, Company name, Unique device "
         "identifier, Device, browser and network details, IP address, Your visits to this "
         "website, Feedback from social media tracking pixels and What you tell us: deleted "
         "immediately after you asked us to delete it (for data collected for Responding to "
         "your queries and requests, Sending you administrative communications and helpful "
         "information, Marketing communications about our events and our organisation (our "
         "legitimate interests), Our newsletter and marketing communications, with your "
         "consent and Interacting with you through this website and social media).",
         "Where you have contacted us with a question or request, we keep your personal "
         "information for as long as necessary to allow us to respond to it.",
         "Otherwise we keep your personal information for as long as it is necessary and relevant "
         "for our business.",
         "We always keep your personal information for the period required by law, and where we "
         "need to do so in connection with legal action or an investigation involving Progress "
         "Together.",
         "When your account is closed we may retain information from it to comply with the law, "
         "prevent fraud, resolve disputes, troubleshoot problems, assist with investigations, "
         "enforce our terms and conditions and take other actions permitted by law.",
     }},
    {"progressteaching.yaml",
     {
         "Name, Job title, Email address, Postal address and Telephone or mobile number "
         "(Enquirers, subscribers and other contacts and Customers): deleted 7 years after "
         "end of our relationship with you.",
         "We keep the rest of the information we hold about our customers and contacts in line "
         "with our data retention policy.",
         "We keep information about your website visits in line with our data retention policy.",
         "We keep the Parent App's technical data only as long as we need it, in line with our "
         "data retention policy, which we will give you on request.",
         "After deleting your data at your request we may keep a list of opt-out requests so that "
         "we can carry out your request.",
         "Information about the device you use the Parent App on, IP address, Parent App "
         "installation details, Analytics about your use of the Parent App, Parent App login "
         "activity and patterns of usage, Your correspondence, comments and complaints, Content "
         "you post or send to our website, social media or the Parent App, Email address, Postal "
         "address, Telephone or mobile number and Name (Parent App users): deleted immediately "
         "after you asked us to delete it.",
     }},
    {"progressteaching_schools.yaml",
     {
         "Name, Contact details held in the school's records, Your Parent App registration, "
         "Parent App login credentials, Information about pupils, School records about "
         "pupils, Attendance record, School reports, Achievements, Messages between you and "
         "the school, Feedback and survey answers, Content you upload in the App, Your "
         "day-to-day use of the App, Monitoring information and recorded communications and "
         "Medical information: reviewed (we check whether we still need it) 12 months after "
         "we collected it.",
         "Name, Contact details held in the school's records, Your Parent App registration, "
         "Parent App login credentials, Information about pupils, School records about "
         "pupils, Attendance record, School reports, Achievements, Messages between you and "
         "the school, Feedback and survey answers, Content you upload in the App, Your "
         "day-to-day use of the App, Monitoring information and recorded communications and "
         "Medical information: deleted 12 months after your school's contract with "
         "ProgressTeaching ends.",
     }},
    {"protectuk.yaml",
     {
         "Identity Data, Technical Data, Marketing and Communications Data, Profile Data, "
         "Contact Data and Usage Data (Registered users): deleted 6 months after account "
         "deleted.",
         "We will only retain your personal data for as long as reasonably necessary to "
         "fulfil the purposes we collected it for, including for the purposes of satisfying "
         "any legal, accounting or reporting requirements.",
     }},
    {"wig.yaml",
     {
         "Personal identifiers and contact data (People at member organisations): deleted 5 "
         "years after organisation's membership ended.",
         "WIG engagement data (transactional data) and Communication history data "
         "(transactional data) (People at member organisations): anonymised 5 years after "
         "organisation's membership ended; we keep WIG engagement data (transactional data) "
         "only in a form that no longer identifies you.",
         "Areas of interest and skill set (People at member organisations): deleted 5 years "
         "after organisation's membership ended.",
         "Personal identifiers and contact data (People at member organisations): deleted "
         "immediately after left a member organisation.",
         "Special category data (People at member organisations): deleted immediately after "
         "organisation's membership ended.",
         "Special category data (People at member organisations): deleted immediately after "
         "left a member organisation.",
         "Personal identifiers and contact data (People not at a member organisation): "
         "deleted immediately after told us not to keep your data.",
         "Personal identifiers and contact data (People not at a member organisation): "
         "deleted 5 years after last account activity (the clock restarts on each website "
         "login or product booking).",
         "WIG engagement data (transactional data) and Communication history data "
         "(transactional data) (People not at a member organisation): anonymised immediately "
         "after told us not to keep your data; we keep WIG engagement data (transactional "
         "data) only in a form that no longer identifies you.",
         "WIG engagement data (transactional data) and Communication history data "
         "(transactional data) (People not at a member organisation): anonymised 5 years "
         "after last account activity (the clock restarts on each website login or product "
         "booking); we keep WIG engagement data (transactional data) only in a form that no "
         "longer identifies you.",
         "Areas of interest and skill set (People not at a member organisation): deleted "
         "immediately after told us not to keep your data.",
         "Areas of interest and skill set (People not at a member organisation): deleted 5 "
         "years after last account activity (the clock restarts on each website login or "
         "product booking).",
         "Special category data (People not at a member organisation): deleted immediately "
         "after service completed.",
     }},
};

TEST(NoticeSeeds, StatesEveryRetentionPeriodRightRecipientBasisAndTheRegulator) {
  auto seeds = SeedPolicies();
  if (seeds.empty()) GTEST_SKIP() << "no seed policies yet";
  for (const auto& path : seeds) {
    SCOPED_TRACE(path.filename().string());
    auto loaded = LoadValidPolicy(path.string());
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    const Policy& policy = *loaded;
    std::string md = Collapse(Notice(policy));
    std::string html = RenderNotice(policy, NoticeFormat::kHtml);
    EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);

    auto retention = kSeedRetention.find(path.filename().string());
    ASSERT_NE(retention, kSeedRetention.end()) << "write this seed's retention sentences above";
    EXPECT_EQ(retention->second.size(), policy.retention.size());
    for (const std::string& sentence : retention->second) EXPECT_CONTAINS(md, sentence);
    for (const auto& right : policy.rights.available) {
      ASSERT_TRUE(kRightWords.count(right)) << right;
      EXPECT_CONTAINS(md, kRightWords.at(right) + ": ");
    }
    // A seed that states the month (rights.response_period P1M) has it printed; one that
    // states none has none printed (the engine still keeps the law's month).
    if (policy.rights.response_period_stated) {
      EXPECT_CONTAINS(md, "We respond within one month");
    } else {
      EXPECT_EQ(md.find("We respond within"), std::string::npos) << path;
      EXPECT_EQ(md.find("We answer within"), std::string::npos) << path;
    }
    for (const auto& recipient : policy.recipients) EXPECT_CONTAINS(md, Collapse(recipient.name));
    // Purposes appear in policy order, one "####" section each.
    size_t at = md.find("### Why we use your data and our lawful basis");
    ASSERT_NE(at, std::string::npos);
    for (const auto& purpose : policy.purposes) {
      std::string heading = "#### " + Collapse(purpose.name);
      at = md.find("#### ", at + 1);
      ASSERT_NE(at, std::string::npos) << purpose.key;
      ASSERT_EQ(md.compare(at, heading.size(), heading), 0) << purpose.key;
      std::string section = md.substr(at, md.find("#### ", at + 1) - at);
      ASSERT_TRUE(kBasisWords.count(purpose.basis)) << purpose.key;
      EXPECT_CONTAINS(section, "Lawful basis: " + kBasisWords.at(purpose.basis)) << purpose.key;
      if (!purpose.interest.empty()) {
        EXPECT_CONTAINS(section, "Our legitimate interest: " + Collapse(purpose.interest))
            << purpose.key;
      }
    }
    EXPECT_CONTAINS(md,
                    "complain to a data protection regulator: " + Collapse(policy.regulator.name));
    if (!policy.regulator.phone.empty()) {
      EXPECT_CONTAINS(md, policy.regulator.phone);
    }
    if (!policy.regulator.website.empty()) {
      EXPECT_CONTAINS(md, policy.regulator.website);
    }
    for (const auto& category : policy.categories) {
      if (category.special && !category.condition.empty()) {
        ASSERT_TRUE(kConditionWords.count(category.condition)) << category.condition;
        EXPECT_CONTAINS(md, kConditionWords.at(category.condition)) << category.key;
      }
    }
    if (policy.transfers.outside == TransferRule::kForbidden && policy.transfers.stated) {
      EXPECT_CONTAINS(md, "Your personal data never leaves");
    }
    if (!policy.transfers.stated) {
      // A notice silent on where data goes says nothing more than its own note.
      EXPECT_EQ(md.find("Where: "), std::string::npos);
      EXPECT_EQ(md.find("never leaves"), std::string::npos);
      if (!policy.transfers.note.empty()) {
        EXPECT_CONTAINS(md, Collapse(policy.transfers.note));
      }
    }
  }
}

}  // namespace
}  // namespace custos::policy
