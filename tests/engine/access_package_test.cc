// What a person receives for a right of access or portability request
// (src/engine/access_package.h), over the seed policies in policies/ and hand-built SubjectViews.
#include "engine/access_package.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "policy/loader.h"

namespace custos::engine {
namespace {

const policy::Policy& Load(const std::string& name) {
  auto outcome = policy::LoadPolicy(CUSTOS_SOURCE_DIR "/policies/" + name);
  EXPECT_TRUE(outcome.ok()) << outcome.status().ToString();
  if (!outcome.ok()) return *new policy::Policy();
  EXPECT_TRUE(outcome->ok()) << outcome->Report();
  return *new policy::Policy(std::move(outcome->policy));  // kept for the whole test run
}

const policy::Policy& Wig() {
  static const policy::Policy& policy = Load("wig.yaml");
  return policy;
}
const policy::Policy& Pluggin() {
  static const policy::Policy& policy = Load("pluggin.yaml");
  return policy;
}
const policy::Policy& ProgressTeaching() {
  static const policy::Policy& policy = Load("progressteaching.yaml");
  return policy;
}
const policy::Policy& ProgressTogether() {
  static const policy::Policy& policy = Load("progress_together.yaml");
  return policy;
}

Timestamp At(std::string_view text) { return *Timestamp::Parse(text); }

PackageMeta Meta() { return PackageMeta{"req_0001", At("2026-03-01"), At("2026-03-20T10:00:00Z")}; }

SubjectView Subject(std::string id, std::vector<std::string> types) {
  SubjectView view;
  view.subject.controller = "test";
  view.subject.subject_id = std::move(id);
  view.subject.types = std::move(types);
  view.subject.created_at = At("2024-01-10");
  return view;
}

void AddRecord(SubjectView& view, std::string category, std::string value, std::string source,
               std::string purpose, store::RecordState state = store::RecordState::kActive) {
  SubjectView::RecordValue record;
  record.record_id = static_cast<int64_t>(view.records.size()) + 1;
  record.category = std::move(category);
  record.value = std::move(value);
  record.source = std::move(source);
  record.purpose = std::move(purpose);
  record.collected_at = At("2024-02-01");
  record.state = state;
  view.records.push_back(std::move(record));
}

store::ConsentEventRow Consent(std::string purpose, store::ConsentAction action,
                               std::string_view at) {
  store::ConsentEventRow event;
  event.target = std::move(purpose);
  event.action = action;
  event.at = At(at);
  event.channel = "web";
  event.notice_version = "2022-02-10";
  return event;
}

rapidjson::Document Parse(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  EXPECT_FALSE(doc.HasParseError()) << "offset " << doc.GetErrorOffset();
  EXPECT_TRUE(doc.IsObject());
  return doc;
}

// The element of `array` whose `field` is `value`, or nullptr.
const rapidjson::Value* Find(const rapidjson::Value& array, const char* field,
                             std::string_view value) {
  if (!array.IsArray()) return nullptr;
  for (const auto& item : array.GetArray()) {
    if (item.HasMember(field) && item[field].IsString() && value == item[field].GetString()) {
      return &item;
    }
  }
  return nullptr;
}

bool HasString(const rapidjson::Value& array, std::string_view value) {
  if (!array.IsArray()) return false;
  for (const auto& item : array.GetArray()) {
    if (item.IsString() && value == item.GetString()) return true;
  }
  return false;
}

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// A person at a WIG member organisation who booked an event and gave dietary needs.
SubjectView WigMember() {
  SubjectView view = Subject("s_member", {"member"});
  view.identifiers.push_back({"email", "jo@example.test", true, At("2024-01-10")});
  AddRecord(view, "user.name", "Jo Bloggs", "direct", "event_bookings");
  AddRecord(view, "user.contact.email", "jo@example.test", "direct", "event_bookings");
  AddRecord(view, "user.health_and_medical.access_dietary", "vegetarian", "direct",
            "event_bookings");
  AddRecord(view, "user.interests", "digital policy", "direct", "opportunities");
  return view;
}

// --- The Article 15 items, from the WIG policy ------------------------------------------------

// Seed 002_4d78ac5d7017d3c4.txt: "If you are part of a member organisation, we keep personal
// contact data, interest preferences and transactional data for the duration of time that your
// organisation is a member of WIG, and for the following five years if your organisation does
// not renew membership."
TEST(AccessPackage, WigStatesTheRetentionRulesForTheCategoriesAndSubjectTypeThePersonHas) {
  AccessPackage package = BuildAccessPackage(Wig(), Meta(), {WigMember()});
  rapidjson::Document doc = Parse(package.json);
  const rapidjson::Value* email = Find(doc["retention"], "category", "user.contact.email");
  ASSERT_NE(email, nullptr);
  EXPECT_STREQ((*email)["category_name"].GetString(),
               Wig().CategoryName("user.contact.email").c_str());
  const auto& rules = (*email)["rules"];
  const rapidjson::Value* five_years = Find(rules, "id", "member_contact_after_membership");
  ASSERT_NE(five_years, nullptr);
  EXPECT_TRUE(Contains((*five_years)["text"].GetString(), "deleted 5 years after"));
  EXPECT_NE(Find(rules, "id", "member_contact_on_leaving"), nullptr);
  // Rules for people not at a member organisation do not apply to a member.
  EXPECT_EQ(Find(rules, "id", "non_member_contact_after_inactivity"), nullptr);
  const rapidjson::Value* interests = Find(doc["retention"], "category", "user.interests");
  ASSERT_NE(interests, nullptr);
  EXPECT_NE(Find((*interests)["rules"], "id", "member_interests_after_membership"), nullptr);
  // Nothing is said about categories the person does not have.
  EXPECT_EQ(Find(doc["retention"], "category", "user.engagement"), nullptr);

  EXPECT_TRUE(Contains(package.html, "How long we keep it"));
  EXPECT_TRUE(Contains(package.html, "deleted 5 years after organisation&#39;s membership ended"));
}

// Seed 002_4d78ac5d7017d3c4.txt: "We rely on consent to process information given to us for
// specific purposes including event bookings, ..." and "We rely on legitimate interest for
// processing personal data to contact you about relevant opportunities based on your role,
// interests and past engagement with WIG."
TEST(AccessPackage, WigStatesEachPurposeWithItsLawfulBasisArticleAndLegitimateInterest) {
  AccessPackage package = BuildAccessPackage(Wig(), Meta(), {WigMember()});
  rapidjson::Document doc = Parse(package.json);
  const rapidjson::Value* bookings = Find(doc["purposes"], "key", "event_bookings");
  ASSERT_NE(bookings, nullptr);
  EXPECT_STREQ((*bookings)["lawful_basis"]["key"].GetString(), "consent");
  EXPECT_STREQ((*bookings)["lawful_basis"]["article"].GetString(), "Article 6(1)(a)");
  EXPECT_STREQ((*bookings)["legitimate_interest"].GetString(), "");
  const rapidjson::Value* opportunities = Find(doc["purposes"], "key", "opportunities");
  ASSERT_NE(opportunities, nullptr);
  EXPECT_STREQ((*opportunities)["lawful_basis"]["key"].GetString(), "legitimate_interests");
  EXPECT_STREQ((*opportunities)["lawful_basis"]["article"].GetString(), "Article 6(1)(f)");
  EXPECT_TRUE(Contains((*opportunities)["legitimate_interest"].GetString(),
                       "relevant opportunities based on your role"));
  // Key membership information is sent to members only.
  EXPECT_NE(Find(doc["purposes"], "key", "membership_communications"), nullptr);
  SubjectView visitor = Subject("s_visitor", {"non_member"});
  AddRecord(visitor, "user.contact.email", "v@example.test", "direct", "event_bookings");
  rapidjson::Document other = Parse(BuildAccessPackage(Wig(), Meta(), {visitor}).json);
  EXPECT_EQ(Find(other["purposes"], "key", "membership_communications"), nullptr);
  EXPECT_NE(Find(other["purposes"], "key", "event_bookings"), nullptr);
  // Processing on consent needs it: a consent purpose the person neither consented to nor gave
  // data for is not listed, and neither are its recipients.
  EXPECT_EQ(Find(other["purposes"], "key", "vacancy_applications"), nullptr);
  visitor.consents.push_back(
      Consent("vacancy_applications", store::ConsentAction::kGiven, "2024-02-01T09:00:00Z"));
  rapidjson::Document consented = Parse(BuildAccessPackage(Wig(), Meta(), {visitor}).json);
  EXPECT_NE(Find(consented["purposes"], "key", "vacancy_applications"), nullptr);
  EXPECT_NE(Find(consented["recipients"], "key", "prospective_employers"), nullptr);

  EXPECT_TRUE(Contains(package.html, "Consent (Article 6(1)(a) UK GDPR)"));
  EXPECT_TRUE(Contains(package.html, "Our legitimate interest: Contacting you about relevant"));
}

// Seed 002_4d78ac5d7017d3c4.txt: "We may share this information with third parties where the
// information is necessary to deliver the service as required e.g. event venues, programme
// facilitators, prospective employers and mentoring partners."
TEST(AccessPackage, WigNamesTheRecipientsOfThePersonsPurposesWithTheirCountries) {
  AccessPackage package = BuildAccessPackage(Wig(), Meta(), {WigMember()});
  rapidjson::Document doc = Parse(package.json);
  const rapidjson::Value* venues = Find(doc["recipients"], "key", "event_venues");
  ASSERT_NE(venues, nullptr);
  EXPECT_STREQ((*venues)["kind"].GetString(), "third_party");
  EXPECT_STREQ((*venues)["countries"][0]["code"].GetString(), "GB");
  EXPECT_STREQ((*venues)["countries"][0]["name"].GetString(), "United Kingdom");
  EXPECT_TRUE((*venues)["transfer"].IsNull());  // GB lies in the policy's UK region
  EXPECT_TRUE(HasString((*venues)["purposes"], "event_bookings"));
  EXPECT_NE(Find(doc["recipients"], "key", "third_party_platforms"), nullptr);
  // Prospective employers receive vacancy applications, which this person has not made.
  EXPECT_EQ(Find(doc["recipients"], "key", "prospective_employers"), nullptr);
  EXPECT_TRUE(Contains(package.html, "Event venues"));
}

// Seed 004_f81c814f3e677000.txt: "The above information is shared with Fuse's sub-processors
// (AWS, Baremetrics, ...)" and "We process data both inside and outside of the United Kingdom.
// Where we transfer data, we do so either within the EEA, under the 'Adequacy Regulations', ..."
TEST(AccessPackage, NamesSubProcessorsAndTheSafeguardOfTransfersOutsideTheRegions) {
  SubjectView view = Subject("s_user", {"registered_user"});
  AddRecord(view, "user.device.ip_address", "192.0.2.7", "automated", "fraud_monitoring");
  AccessPackage package = BuildAccessPackage(Pluggin(), Meta(), {view});
  rapidjson::Document doc = Parse(package.json);
  const rapidjson::Value* fuse = Find(doc["recipients"], "key", "fuse_universal");
  ASSERT_NE(fuse, nullptr);
  EXPECT_TRUE((*fuse)["transfer"].IsNull());  // GB lies in the policy's regions
  const rapidjson::Value* aws = Find(doc["recipients"], "key", "aws");
  ASSERT_NE(aws, nullptr);
  EXPECT_STREQ((*aws)["processor_of"].GetString(), "fuse_universal");
  EXPECT_TRUE(HasString((*aws)["purposes"], "fraud_monitoring"));
  ASSERT_TRUE((*aws)["transfer"].IsObject());
  EXPECT_TRUE(HasString((*aws)["transfer"]["countries"], "US"));
  EXPECT_STREQ((*aws)["transfer"]["safeguard"].GetString(), "adequacy");
  EXPECT_TRUE(Contains((*aws)["transfer"]["safeguard_words"].GetString(), "adequacy"));
  EXPECT_TRUE(Contains(package.html, "To United States, protected by UK adequacy regulations"));

  // A sub-processor that sees only device, location and engagement data receives nothing of a
  // person whose data its purposes use holds none of those.
  SubjectView named = Subject("s_named", {"registered_user"});
  AddRecord(named, "user.name", "Ada", "direct", "platform_enquiries");
  rapidjson::Document other = Parse(BuildAccessPackage(Pluggin(), Meta(), {named}).json);
  EXPECT_NE(Find(other["recipients"], "key", "fuse_universal"), nullptr);
  EXPECT_EQ(Find(other["recipients"], "key", "aws"), nullptr);
}

// Seed 002_4d78ac5d7017d3c4.txt: "You can also complain to the ICO if you are unhappy with how
// we have used your data." and "Your right of access - You have the right to ask us for copies
// of your personal information." (the rights the notice lists, and the one month to respond).
TEST(AccessPackage, WigGivesTheIcoComplaintRouteAndEveryAvailableRight) {
  AccessPackage package = BuildAccessPackage(Wig(), Meta(), {WigMember()});
  rapidjson::Document doc = Parse(package.json);
  const auto& complaints = doc["complaints"];
  EXPECT_STREQ(complaints["regulator"]["name"].GetString(), "Information Commissioner's Office");
  EXPECT_STREQ(complaints["regulator"]["phone"].GetString(), "0303 123 1113");
  EXPECT_STREQ(complaints["regulator"]["website"].GetString(), "https://www.ico.org.uk");
  ASSERT_TRUE(complaints["contact"].IsObject());
  EXPECT_STREQ(complaints["contact"]["purpose"].GetString(), "complaints");
  EXPECT_FALSE(complaints["first_contact_us"].GetBool());
  for (const char* right : {"access", "rectification", "erasure", "restriction", "objection",
                            "portability", "withdraw_consent"}) {
    const rapidjson::Value* found = Find(doc["rights"], "key", right);
    ASSERT_NE(found, nullptr) << right;
    EXPECT_STRNE((*found)["description"].GetString(), "") << right;
  }
  EXPECT_STREQ((*Find(doc["rights"], "key", "access"))["name"].GetString(), "Right of access");
  ASSERT_TRUE(doc["rights_contact"].IsObject());
  EXPECT_STREQ(doc["rights_contact"]["key"].GetString(), "rights_requests");
  EXPECT_STREQ(doc["controller"]["name"].GetString(), "The Whitehall & Industry Group (WIG)");

  EXPECT_TRUE(Contains(package.html, "How to complain"));
  EXPECT_TRUE(Contains(package.html, "Information Commissioner&#39;s Office"));
  EXPECT_TRUE(Contains(package.html, "Right to data portability"));
}

// Seed 002_4d78ac5d7017d3c4.txt: "If you are part of a member organisation, your employer or
// colleague may give us your work contact details as the recommended best contact for a
// particular WIG offer or opportunity."
TEST(AccessPackage, NamesTheSourceOfDataNotCollectedFromThePerson) {
  SubjectView view = WigMember();
  AddRecord(view, "user.job_title", "Head of Policy", "employer_or_colleague", "opportunities");
  rapidjson::Document doc = Parse(BuildAccessPackage(Wig(), Meta(), {view}).json);
  ASSERT_EQ(doc["sources"].Size(), 1u);
  const auto& source = doc["sources"][0];
  EXPECT_STREQ(source["key"].GetString(), "employer_or_colleague");
  EXPECT_STREQ(source["kind"].GetString(), "third_party");
  EXPECT_STREQ(source["name"].GetString(), "Your employer or a colleague");
  EXPECT_STREQ(source["categories"][0].GetString(), "user.job_title");
  const rapidjson::Value* job = Find(doc["subjects"][0]["records"], "category", "user.job_title");
  ASSERT_NE(job, nullptr);
  EXPECT_STREQ((*job)["source_kind"].GetString(), "third_party");
}

// Seed 001_22b79a674f37bc10.txt: "The right to access information we hold about you and to
// obtain information about how we process it". The same person may be known twice; erased and
// anonymised values are gone and never reported; a restricted record is still held.
TEST(AccessPackage, ReportsEverythingHeldUnderEverySubjectRecordOfThePerson) {
  SubjectView first = WigMember();
  AddRecord(first, "user.job_title", "old title", "direct", "event_bookings",
            store::RecordState::kErased);
  AddRecord(first, "user.engagement.participation", "", "direct", "event_bookings",
            store::RecordState::kAnonymised);
  AddRecord(first, "user.job_title", "Director", "direct", "event_bookings",
            store::RecordState::kRestricted);
  first.consents.push_back(
      Consent("event_bookings", store::ConsentAction::kGiven, "2024-02-01T09:00:00Z"));
  first.preferences.push_back({"test", "s_member", "email", false, At("2024-03-01")});
  first.objections.push_back({"test", "s_member", "opportunities", At("2024-04-01"), {}});
  store::RestrictionRow restriction;
  restriction.restriction_id = 7;
  restriction.categories = {"user.job_title"};
  restriction.reason = "accuracy_contested";
  restriction.at = At("2024-05-01");
  first.restrictions.push_back(restriction);
  first.events.push_back({"test", "s_member", "website_login", At("2025-01-02")});
  SubjectView second = Subject("s_again", {"non_member"});
  second.identifiers.push_back({"phone", "07700 900123", false, At("2025-06-01")});

  AccessPackage package = BuildAccessPackage(Wig(), Meta(), {first, second});
  rapidjson::Document doc = Parse(package.json);
  EXPECT_STREQ(doc["format"].GetString(), "custos.access_package.v1");
  EXPECT_STREQ(doc["request_id"].GetString(), "req_0001");
  EXPECT_STREQ(doc["received_at"].GetString(), "2026-03-01T00:00:00Z");
  EXPECT_STREQ(doc["generated_at"].GetString(), "2026-03-20T10:00:00Z");
  ASSERT_EQ(doc["subjects"].Size(), 2u);
  const auto& one = doc["subjects"][0];
  EXPECT_STREQ(one["subject_id"].GetString(), "s_member");
  EXPECT_STREQ(one["identifiers"][0]["value"].GetString(), "jo@example.test");
  EXPECT_STREQ(one["identifiers"][0]["category"].GetString(), "user.contact.email");
  ASSERT_EQ(one["records"].Size(), 5u);  // four active, one restricted; erased/anonymised left out
  const rapidjson::Value* job = Find(one["records"], "category", "user.job_title");
  ASSERT_NE(job, nullptr);
  EXPECT_STREQ((*job)["value"].GetString(), "Director");
  EXPECT_STREQ((*job)["state"].GetString(), "restricted");
  EXPECT_EQ(Find(one["records"], "value", "old title"), nullptr);
  EXPECT_EQ(Find(one["records"], "category", "user.engagement.participation"), nullptr);
  const auto& record = one["records"][0];
  EXPECT_STREQ(record["category_name"].GetString(), Wig().CategoryName("user.name").c_str());
  EXPECT_STREQ(record["source"].GetString(), "direct");
  EXPECT_STREQ(record["source_kind"].GetString(), "direct");
  EXPECT_STREQ(record["purpose"].GetString(), "event_bookings");
  EXPECT_STREQ(record["purpose_name"].GetString(), "Event bookings");
  EXPECT_STREQ(record["collected_at"].GetString(), "2024-02-01T00:00:00Z");
  EXPECT_STREQ(one["consents"][0]["action"].GetString(), "given");
  EXPECT_STREQ(one["consents"][0]["target_name"].GetString(), "Event bookings");
  EXPECT_FALSE(one["preferences"][0]["allowed"].GetBool());
  EXPECT_STREQ(one["objections"][0]["purpose"].GetString(), "opportunities");
  EXPECT_TRUE(one["objections"][0]["lifted_at"].IsNull());
  EXPECT_EQ(one["restrictions"][0]["restriction_id"].GetInt64(), 7);
  EXPECT_STREQ(one["restrictions"][0]["categories"][0].GetString(), "user.job_title");
  EXPECT_STREQ(one["events"][0]["name"].GetString(), "Website login");
  const auto& two = doc["subjects"][1];
  EXPECT_STREQ(two["subject_id"].GetString(), "s_again");
  EXPECT_STREQ(two["identifiers"][0]["value"].GetString(), "07700 900123");
  // The second record's type and phone number count too: non-member rules cover the phone.
  const rapidjson::Value* phone = Find(doc["retention"], "category", "user.contact.phone_number");
  ASSERT_NE(phone, nullptr);
  EXPECT_NE(Find((*phone)["rules"], "id", "non_member_contact_after_inactivity"), nullptr);
  // Special category data is named as such, with its condition.
  const rapidjson::Value* dietary =
      Find(doc["categories"], "key", "user.health_and_medical.access_dietary");
  ASSERT_NE(dietary, nullptr);
  EXPECT_TRUE((*dietary)["special"].GetBool());
  EXPECT_STREQ((*dietary)["condition"]["key"].GetString(), "explicit_consent");

  EXPECT_TRUE(Contains(package.html, "Held under reference s_member"));
  EXPECT_TRUE(Contains(package.html, "Held under reference s_again"));
  EXPECT_TRUE(Contains(package.html, "Director"));
  EXPECT_FALSE(Contains(package.html, "old title"));
}

// --- Automated decisions and profiling --------------------------------------------------------

// Seed 004_f81c814f3e677000.txt: "Pluggin uses profiling techniques to help ensure our
// communications are relevant." ... "When building a profile, we may analyse geographic and
// other information relating to you, as well as your previous responses to our content."
TEST(AccessPackage, PlugginStatesItsProfilingAndHowItWorks) {
  SubjectView view = Subject("s_supporter", {"supporter"});
  AddRecord(view, "user.location.imprecise", "Leeds", "direct", "profiling");
  AccessPackage package = BuildAccessPackage(Pluggin(), Meta(), {view});
  rapidjson::Document doc = Parse(package.json);
  const rapidjson::Value* profiling =
      Find(doc["automated_decision_making"], "purpose", "profiling");
  ASSERT_NE(profiling, nullptr);
  EXPECT_TRUE((*profiling)["profiling"].GetBool());
  EXPECT_FALSE((*profiling)["automated_decision"].GetBool());
  EXPECT_TRUE(Contains((*profiling)["description"].GetString(), "analyse geographic"));
  // Only purposes that use the person's data are listed.
  for (const auto& purpose : doc["purposes"].GetArray()) {
    EXPECT_GT(purpose["categories"].Size(), 0u) << purpose["key"].GetString();
  }
  EXPECT_TRUE(Contains(package.html, "Automated decisions and profiling"));
  EXPECT_TRUE(Contains(package.html, "Profiling: we use your data to analyse or predict"));
  EXPECT_TRUE(Contains(package.html, "analyse geographic and other information about you"));
}

// Seed 001_22b79a674f37bc10.txt: "We may use automated systems to help us make decisions, ..."
// and "Individuals may have a right to certain information about automated decisions we make
// about them and may also have a right to request human intervention and to challenge the
// decision."
TEST(AccessPackage, ProgressTeachingStatesTheLogicAndSignificanceOfAutomatedDecisions) {
  SubjectView view = Subject("s_customer", {"customer"});
  AddRecord(view, "user.behavior.purchase_history", "Pro plan, renewed 2025", "website_use",
            "automated_decisions");
  AccessPackage package = BuildAccessPackage(ProgressTeaching(), Meta(), {view});
  rapidjson::Document doc = Parse(package.json);
  const rapidjson::Value* decision =
      Find(doc["automated_decision_making"], "purpose", "automated_decisions");
  ASSERT_NE(decision, nullptr);
  EXPECT_TRUE((*decision)["automated_decision"].GetBool());
  EXPECT_TRUE((*decision)["human_review"].GetBool());
  EXPECT_TRUE(Contains((*decision)["logic"].GetString(), "renewal risk profile"));
  EXPECT_TRUE(Contains((*decision)["significance"].GetString(), "how we manage your renewal"));
  EXPECT_TRUE(Contains(package.html, "How it works: Our automated systems"));
  EXPECT_TRUE(Contains(package.html, "You can ask for a person to review the decision"));
}

// --- HTML and JSON safety ---------------------------------------------------------------------

TEST(AccessPackageHtml, IsASelfContainedPageWithEveryValueEscaped) {
  SubjectView view = WigMember();
  AddRecord(view, "user.job_title", "<script>alert('x')</script> & Co", "direct", "event_bookings");
  view.identifiers.push_back({"external", "<img src=x onerror=alert(1)>", false, At("2024-01-10")});
  PackageMeta meta = Meta();
  meta.request_id = "req<b>";
  std::string html = BuildAccessPackage(Wig(), meta, {view}).html;
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_FALSE(Contains(html, "<script"));
  EXPECT_FALSE(Contains(html, "<img"));
  EXPECT_FALSE(Contains(html, "req<b>"));
  EXPECT_TRUE(Contains(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co"));
  EXPECT_TRUE(Contains(html, "&lt;img src=x onerror=alert(1)&gt;"));
  EXPECT_TRUE(Contains(html, "The Whitehall &amp; Industry Group (WIG)"));
  // Inline CSS only; nothing is fetched and no script may run.
  EXPECT_TRUE(Contains(html, "<style>"));
  EXPECT_TRUE(Contains(html, "default-src 'none'; style-src 'unsafe-inline'"));
  EXPECT_FALSE(Contains(html, "url("));
  // Every tag in the page is one the renderer writes, with only its own attributes: no value
  // became markup, and nothing can load or run.
  const std::vector<std::string_view> kTags = {
      "!DOCTYPE", "html", "head", "meta", "title",  "style", "body",  "main",  "h1", "h2", "h3",
      "h4",       "p",    "ul",   "li",   "strong", "table", "thead", "tbody", "tr", "th", "td"};
  const std::regex kLoadsOrRuns(R"(\s(src|href|on[a-z]+)\s*=)", std::regex::icase);
  for (size_t at = html.find('<'); at != std::string::npos; at = html.find('<', at + 1)) {
    size_t end = html.find('>', at);
    ASSERT_NE(end, std::string::npos);
    std::string_view tag(html.data() + at + 1, end - at - 1);
    if (!tag.empty() && tag[0] == '/') tag.remove_prefix(1);
    std::string_view name = tag.substr(0, tag.find(' '));
    EXPECT_NE(std::find(kTags.begin(), kTags.end(), name), kTags.end()) << tag;
    EXPECT_FALSE(std::regex_search(tag.begin(), tag.end(), kLoadsOrRuns)) << tag;
  }
  for (const char* heading :
       {"Who we are", "The personal data we hold about you", "The kinds of personal data",
        "Why we use it and our lawful basis", "Who receives it", "How long we keep it",
        "Where your data came from", "Automated decisions and profiling", "Your rights",
        "How to complain"}) {
    EXPECT_TRUE(Contains(html, std::string("<h2>") + heading)) << heading;
  }
  EXPECT_TRUE(Contains(html, "<table>"));
}

TEST(AccessPackageJson, AlwaysParsesWithQuotesControlCharactersAndInvalidUtf8InValues) {
  SubjectView view = WigMember();
  AddRecord(view, "user.job_title", "say \"hi\"\n\t\x01 \xff\xfe end", "direct", "event_bookings");
  rapidjson::Document doc = Parse(BuildAccessPackage(Wig(), Meta(), {view}).json);
  const rapidjson::Value* job = Find(doc["subjects"][0]["records"], "category", "user.job_title");
  ASSERT_NE(job, nullptr);
  EXPECT_EQ(std::string((*job)["value"].GetString()),
            "say \"hi\"\n\t\x01 \xEF\xBF\xBD\xEF\xBF\xBD end");
}

// --- Portability ------------------------------------------------------------------------------

// Seed 000_70fcab05c54e0f24.txt: "request receipt or transmission to another organisation, in a
// machine-readable form, of the personal information that you have provided to us" -- and
// "Sometimes, we may receive information about you from other sources, such as from your
// employer, if they are one of our members": what the employer gave is not the person's to port.
TEST(Portability, IncludesOnlyDataThePersonProvidedUnderConsentOrContract) {
  SubjectView view = Subject("s_pt", {"newsletter_subscriber", "member_contact"});
  AddRecord(view, "user.contact.email", "me@example.test", "you", "marketing_consent");
  // The same consent purpose, but the employer added it on the member portal: excluded by the
  // source alone (the engine accepts any declared source for a purpose).
  AddRecord(view, "user.job_title", "Analyst (from employer)", "employer", "marketing_consent");
  // Given by the person, but processed on legitimate interests: excluded by the basis alone.
  AddRecord(view, "user.name", "Sam Query", "you", "responding_to_queries");
  PortabilityExport out = BuildPortabilityExport(ProgressTogether(), Meta(), {view});

  rapidjson::Document doc = Parse(out.json);
  EXPECT_STREQ(doc["format"].GetString(), "custos.portability_export.v1");
  EXPECT_STREQ(doc["article"].GetString(), "Article 20 UK GDPR");
  EXPECT_STREQ(doc["request_id"].GetString(), "req_0001");
  const auto& records = doc["subjects"][0]["records"];
  ASSERT_EQ(records.Size(), 1u);
  EXPECT_STREQ(records[0]["category"].GetString(), "user.contact.email");
  EXPECT_STREQ(records[0]["value"].GetString(), "me@example.test");
  EXPECT_STREQ(records[0]["lawful_basis"].GetString(), "consent");
  EXPECT_STREQ(records[0]["source"].GetString(), "you");

  EXPECT_TRUE(Contains(out.csv, "me@example.test"));
  EXPECT_FALSE(Contains(out.csv, "from employer"));
  EXPECT_FALSE(Contains(out.csv, "Sam Query"));
  EXPECT_FALSE(Contains(out.json, "from employer"));
  EXPECT_FALSE(Contains(out.json, "Sam Query"));
}

// Seed 002_4d78ac5d7017d3c4.txt: "You have the right to ask that we transfer the personal
// information you gave us to another organisation, or to you, in certain circumstances."
TEST(Portability, KeepsRestrictedRecordsAndNeverErasedOrAnonymisedOnes) {
  SubjectView view = Subject("s_wig", {"non_member"});
  AddRecord(view, "user.name", "Restricted Name", "direct", "event_bookings",
            store::RecordState::kRestricted);
  AddRecord(view, "user.job_title", "Erased Title", "direct", "event_bookings",
            store::RecordState::kErased);
  AddRecord(view, "user.engagement.participation", "Anonymised", "direct", "event_bookings",
            store::RecordState::kAnonymised);
  PortabilityExport out = BuildPortabilityExport(Wig(), Meta(), {view});
  rapidjson::Document doc = Parse(out.json);
  const auto& records = doc["subjects"][0]["records"];
  ASSERT_EQ(records.Size(), 1u);
  EXPECT_STREQ(records[0]["state"].GetString(), "restricted");
  EXPECT_TRUE(Contains(out.csv, "Restricted Name"));
  EXPECT_FALSE(Contains(out.csv, "Erased Title"));
  EXPECT_FALSE(Contains(out.csv, "Anonymised"));
}

// Seed 000_70fcab05c54e0f24.txt: "withdraw your consent to the processing of your personal
// information (where we are processing your personal information based on your consent)".
TEST(Portability, IncludesTheConsentsThePersonGaveWithAnyLaterWithdrawal) {
  SubjectView view = Subject("s_pt", {"newsletter_subscriber"});
  view.consents.push_back(
      Consent("marketing_consent", store::ConsentAction::kGiven, "2024-01-01T08:00:00Z"));
  view.consents.push_back(
      Consent("marketing_consent", store::ConsentAction::kWithdrawn, "2024-06-01T08:00:00Z"));
  view.consents.push_back(
      Consent("marketing_consent", store::ConsentAction::kGiven, "2025-01-01T08:00:00Z"));
  rapidjson::Document doc = Parse(BuildPortabilityExport(ProgressTogether(), Meta(), {view}).json);
  const auto& consents = doc["subjects"][0]["consents"];
  ASSERT_EQ(consents.Size(), 2u);  // the withdrawal itself is not a consent given
  EXPECT_STREQ(consents[0]["target"].GetString(), "marketing_consent");
  EXPECT_STREQ(consents[0]["given_at"].GetString(), "2024-01-01T08:00:00Z");
  EXPECT_STREQ(consents[0]["withdrawn_at"].GetString(), "2024-06-01T08:00:00Z");
  EXPECT_STREQ(consents[1]["given_at"].GetString(), "2025-01-01T08:00:00Z");
  EXPECT_TRUE(consents[1]["withdrawn_at"].IsNull());
}

// RFC 4180: fields with a comma, a quote or a line break are quoted and quotes doubled.
TEST(PortabilityCsv, HasTheHeaderRowAndQuotesCommasQuotesAndLineBreaks) {
  SubjectView view = Subject("s_pt", {"newsletter_subscriber"});
  AddRecord(view, "user.name", "Smith, \"Jo\"\nSecond line", "you", "marketing_consent");
  AddRecord(view, "user.contact.email", "plain@example.test", "you", "marketing_consent");
  std::string csv = BuildPortabilityExport(ProgressTogether(), Meta(), {view}).csv;
  const std::string header = "subject_id,category,category_name,value,source,purpose,collected_at";
  ASSERT_EQ(csv.rfind(header + "\r\n", 0), 0u) << csv;
  EXPECT_TRUE(Contains(csv, "s_pt,user.name,"));
  EXPECT_TRUE(Contains(csv,
                       ",\"Smith, \"\"Jo\"\"\nSecond line\",you,marketing_consent,"
                       "2024-02-01T00:00:00Z\r\n"));
  EXPECT_TRUE(Contains(csv, ",plain@example.test,you,marketing_consent,2024-02-01T00:00:00Z\r\n"));
  // Header, two records: three CRLF-terminated lines.
  size_t lines = 0;
  for (size_t at = csv.find("\r\n"); at != std::string::npos; at = csv.find("\r\n", at + 2)) {
    ++lines;
  }
  EXPECT_EQ(lines, 3u);
}

}  // namespace
}  // namespace custos::engine

namespace custos::engine {
namespace {

// 002 WIG: "You also have the right to ask us to complete information you think is
// incomplete" — a corrected value's earlier version is still held, so the person sees it.
TEST(AccessPackage, ShowsEarlierValuesOfCorrectedRecords) {
  SubjectView view = WigMember();
  view.record_versions.push_back({1, 1, "Jo <Blogs>", "r_fix", At("2026-02-01")});
  AccessPackage package = BuildAccessPackage(Wig(), Meta(), {view});
  rapidjson::Document doc = Parse(package.json);
  const rapidjson::Value& earlier = doc["subjects"][0]["earlier_values"];
  ASSERT_TRUE(earlier.IsArray());
  ASSERT_EQ(earlier.Size(), 1u);
  EXPECT_STREQ(earlier[0]["value"].GetString(), "Jo <Blogs>");
  EXPECT_STREQ(earlier[0]["request_id"].GetString(), "r_fix");
  EXPECT_TRUE(Contains(package.html, "Jo &lt;Blogs&gt;")) << package.html;
  EXPECT_FALSE(Contains(package.html, "Jo <Blogs>"));
}

}  // namespace
}  // namespace custos::engine
