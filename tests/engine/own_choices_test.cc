// A person's own choices through the Engine over a real SqliteStore: "my preferences" (the
// sign-in by code, its limits, changes that reach decisions), the signed one-click unsubscribe
// (RFC 8058), and the cookie banner's choices and decisions with Global Privacy Control.
// Seeds: wig.txt "You have the right to withdraw your consent at any time";
// 001_22b79a674f37bc10.txt "You may opt out of receiving marketing by amending your
// preferences"; 004_f81c814f3e677000.txt "fulfil your request to "unsubscribe" from further
// messages from us".
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <map>

#include "crypto/key.h"
#include "crypto/master_key.h"
#include "engine/engine.h"
#include "engine_on_sqlite.h"
#include "policy/loader.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::engine {
namespace {

namespace fs = std::filesystem;

Timestamp T(const char* text) { return *Timestamp::Parse(text); }

class OwnChoicesTest : public EngineOnSqlite {
 protected:
  void SetUp() override { OpenSeed("wig", "wig", T("2026-01-05T09:00:00Z")); }

  void AddMember(const std::string& id, const std::string& email) {
    NewSubject subject;
    subject.subject_id = id;
    subject.types = {"member"};
    subject.identifiers = {{"email", email, true}};
    ASSERT_TRUE(engine_->AddSubject(subject).ok());
  }

  std::string LastPayloadField(const std::string& request_id, const char* field) {
    auto outbox = store_->ListOutbox("wig", request_id);
    if (!outbox.ok() || outbox->empty()) return {};
    auto payload = engine_->ReadOutboxMessage(outbox->back().outbox_id);
    if (!payload.ok()) return {};
    rapidjson::Document doc;
    doc.Parse(payload->c_str());
    if (!doc.IsObject() || !doc.HasMember(field) || !doc[field].IsString()) return {};
    return doc[field].GetString();
  }

  // Signs in with the code sent to `email`; returns {sign-in id, secret}.
  std::pair<std::string, std::string> SignIn(const std::string& email) {
    auto opened = engine_->OpenPreferencesSignIn({"email", email}, std::nullopt);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (!opened.ok()) return {};
    auto secret =
        engine_->VerifyRequest(opened->request_id, LastPayloadField(opened->request_id, "code"),
                               std::nullopt, kPreferencesSignIn);
    EXPECT_TRUE(secret.ok()) << secret.status().ToString();
    return {opened->request_id, secret.ok() ? *secret : ""};
  }

  bool Allowed(const std::string& subject, const std::string& purpose) {
    DecisionRequest request;
    request.subject_id = subject;
    request.purpose = purpose;
    request.categories = {"user.contact.email"};
    request.channel = "email";
    request.at = clock_.Now();
    auto decision = engine_->Decide(request);
    EXPECT_TRUE(decision.ok()) << decision.status().ToString();
    return decision.ok() && decision->allow;
  }

  static bool On(const std::vector<std::pair<std::string, bool>>& list, const std::string& key) {
    for (const auto& [k, on] : list) {
      if (k == key) return on;
    }
    ADD_FAILURE() << key << " is not listed";
    return false;
  }
};

TEST_F(OwnChoicesTest, SignInClosesWhenProvenAndIsNoOpenWork) {
  AddMember("m1", "ada@example.test");
  auto opened = engine_->OpenPreferencesSignIn({"email", "ada@example.test"}, std::nullopt);
  ASSERT_TRUE(opened.ok());
  EXPECT_NE(LastPayloadField(opened->request_id, "body").find("privacy preferences"),
            std::string::npos);
  auto [id, secret] = SignIn("ada@example.test");
  auto view = engine_->ViewRequest(id);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->row.state, store::RequestState::kCompleted);
  EXPECT_EQ(view->row.outcome, "signed_in");
  EXPECT_FALSE(view->row.due_at.has_value()) << "a sign-in has no statutory month";
  EXPECT_EQ(view->row.subject_ids, std::vector<std::string>{"m1"});
  for (auto filter : {RequestListFilter::kOpen, RequestListFilter::kDueSoon}) {
    auto open = engine_->ListRequests(filter, std::nullopt);
    ASSERT_TRUE(open.ok());
    for (const auto& row : *open) EXPECT_NE(row.type, kPreferencesSignIn);
  }
  auto all = engine_->ListRequests(RequestListFilter::kAll, std::nullopt);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u) << "the full list keeps every sign-in as evidence";
}

TEST_F(OwnChoicesTest, SignInIsNotARightTheApiOpens) {
  NewRequest request;
  request.type = std::string(kPreferencesSignIn);
  request.contact = {"email", "ada@example.test"};
  EXPECT_EQ(engine_->OpenRequest(request).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(OwnChoicesTest, ARightsRequestNeitherVerifiesHereNorOpensPreferences) {
  AddMember("m1", "ada@example.test");
  NewRequest request;
  request.request_id = "r_access";
  request.type = "access";
  request.contact = {"email", "ada@example.test"};
  ASSERT_TRUE(engine_->OpenRequest(request).ok());
  const std::string code = LastPayloadField("r_access", "code");
  EXPECT_EQ(
      engine_->VerifyRequest("r_access", code, std::nullopt, kPreferencesSignIn).status().code(),
      ErrorCode::kUnknownRequest);
  // The code was not spent: the request still verifies where it belongs.
  auto secret = engine_->VerifyRequest("r_access", code, std::nullopt);
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  EXPECT_EQ(engine_->ReadMyPreferences("r_access", *secret).status().code(),
            ErrorCode::kVerificationFailed);
}

TEST_F(OwnChoicesTest, WrongSecretAndAgedSignInOpenNothing) {
  AddMember("m1", "ada@example.test");
  auto [id, secret] = SignIn("ada@example.test");
  ASSERT_TRUE(engine_->ReadMyPreferences(id, secret).ok());
  EXPECT_EQ(engine_->ReadMyPreferences(id, secret + "0").status().code(),
            ErrorCode::kVerificationFailed);
  EXPECT_EQ(engine_->ReadMyPreferences("r_nothing", secret).status().code(),
            ErrorCode::kVerificationFailed);
  clock_.Set(T("2026-01-05T21:00:01Z"));  // 12 hours and a second later
  EXPECT_EQ(engine_->ReadMyPreferences(id, secret).status().code(), ErrorCode::kVerificationFailed);
  PreferenceChange change{PreferenceChange::Kind::kChannel, "email", false, std::nullopt};
  EXPECT_EQ(engine_->ChangeMyPreference(id, secret, change).code(), ErrorCode::kVerificationFailed);
}

TEST_F(OwnChoicesTest, ChangesReachDecisionsForEveryoneUnderTheAddress) {
  AddMember("m1", "ada@example.test");
  AddMember("m2", "ada@example.test");  // one address, two records (a duplicate)
  AddMember("m3", "bob@example.test");
  for (const char* id : {"m1", "m2", "m3"}) {
    ConsentChangeRequest consent;
    consent.subject_id = id;
    consent.target = "newsletter";
    ASSERT_TRUE(engine_->ChangeConsent(consent).ok());
  }
  auto [id, secret] = SignIn("ada@example.test");
  auto mine = engine_->ReadMyPreferences(id, secret);
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(mine->subject_ids, (std::vector<std::string>{"m1", "m2"}));
  EXPECT_TRUE(On(mine->consents, "newsletter"));
  EXPECT_FALSE(On(mine->consents, "mentoring"));
  EXPECT_TRUE(On(mine->channels, "email"));
  EXPECT_FALSE(On(mine->objections, "direct_marketing"));
  EXPECT_FALSE(On(mine->objections, "opportunities"));

  using Kind = PreferenceChange::Kind;
  ASSERT_TRUE(
      engine_->ChangeMyPreference(id, secret, {Kind::kConsent, "newsletter", false, {}}).ok());
  EXPECT_FALSE(Allowed("m1", "newsletter"));
  EXPECT_FALSE(Allowed("m2", "newsletter"));
  EXPECT_TRUE(Allowed("m3", "newsletter")) << "another person's consent is untouched";

  ASSERT_TRUE(
      engine_->ChangeMyPreference(id, secret, {Kind::kObjection, "opportunities", true, {}}).ok());
  EXPECT_FALSE(Allowed("m1", "opportunities"));
  ASSERT_TRUE(
      engine_->ChangeMyPreference(id, secret, {Kind::kObjection, "opportunities", false, {}}).ok());
  EXPECT_TRUE(Allowed("m1", "opportunities"));

  ASSERT_TRUE(engine_->ChangeMyPreference(id, secret, {Kind::kChannel, "email", false, {}}).ok());
  EXPECT_FALSE(Allowed("m2", "opportunities"));
  mine = engine_->ReadMyPreferences(id, secret);
  ASSERT_TRUE(mine.ok());
  EXPECT_FALSE(On(mine->consents, "newsletter"));
  EXPECT_FALSE(On(mine->channels, "email"));
  EXPECT_TRUE(On(mine->channels, "post"));

  // The audit names the sign-in as the actor of each change.
  ASSERT_TRUE(engine_->Flush().ok());
  int by_person = 0;
  ASSERT_TRUE(store_
                  ->ScanAudit(1,
                              [&](const store::AuditRow& entry) {
                                if (entry.actor == "requester:" + id) ++by_person;
                                return true;
                              })
                  .ok());
  EXPECT_GE(by_person, 6) << "two people, three changes each, and the reads";
}

TEST_F(OwnChoicesTest, OnlyWhatThePersonMaySetCanBeChanged) {
  AddMember("m1", "ada@example.test");
  auto [id, secret] = SignIn("ada@example.test");
  using Kind = PreferenceChange::Kind;
  // Membership records rely on legitimate interests, not consent: no consent switch.
  EXPECT_EQ(
      engine_->ChangeMyPreference(id, secret, {Kind::kConsent, "membership_records", true, {}})
          .code(),
      ErrorCode::kInvalidArgument);
  EXPECT_EQ(engine_->ChangeMyPreference(id, secret, {Kind::kChannel, "pigeon", false, {}}).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(
      engine_->ChangeMyPreference(id, secret, {Kind::kObjection, "newsletter", true, {}}).code(),
      ErrorCode::kInvalidArgument);
}

TEST_F(OwnChoicesTest, UnsubscribeTokenObjectsAndSuppressesOnceAndRefusesForgeries) {
  AddMember("m1", "ada@example.test");
  AddMember("m2", "bob@example.test");
  const std::string token = engine_->UnsubscribeToken("m1");
  ASSERT_TRUE(Allowed("m1", "opportunities"));
  std::string forged = token;
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_EQ(engine_->Unsubscribe(forged, std::nullopt).code(), ErrorCode::kVerificationFailed);
  // Another person's id under this token's tag is a forgery too.
  std::string swapped = "p.m2" + token.substr(token.rfind('.'));
  EXPECT_EQ(engine_->Unsubscribe(swapped, std::nullopt).code(), ErrorCode::kVerificationFailed);
  for (const char* junk : {"", "p.", "x.m1.00", "p.m1"}) {
    EXPECT_EQ(engine_->Unsubscribe(junk, std::nullopt).code(), ErrorCode::kVerificationFailed)
        << junk;
  }
  EXPECT_TRUE(Allowed("m1", "opportunities"));

  ASSERT_TRUE(engine_->Unsubscribe(token, std::nullopt).ok());
  ASSERT_TRUE(engine_->Unsubscribe(token, std::nullopt).ok()) << "a second click is harmless";
  EXPECT_FALSE(Allowed("m1", "opportunities"));
  EXPECT_TRUE(Allowed("m2", "opportunities"));
  auto suppressed = engine_->IsSuppressed("email", "ada@example.test");
  ASSERT_TRUE(suppressed.ok());
  EXPECT_TRUE(*suppressed);
  // Lifting the objection does not re-subscribe a suppressed address.
  ASSERT_TRUE(engine_->LiftObjection("m1", "direct_marketing", std::nullopt).ok());
  EXPECT_FALSE(Allowed("m1", "opportunities"));
  // A new engine (a restart) still honours the same link: the key comes from the master key.
  auto policy = policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml");
  ASSERT_TRUE(policy.ok());
  Engine restarted(std::move(*policy), "wig", *store_, master_, clock_);
  ASSERT_TRUE(restarted.Open("policy text").ok());
  EXPECT_EQ(restarted.UnsubscribeToken("m1"), token);
}

TEST_F(OwnChoicesTest, MessageLinkUnsubscribesThePeopleAtTheAddressItWentTo) {
  AddMember("m1", "ada@example.test");
  AddMember("m2", "bob@example.test");
  NewRequest request;
  request.request_id = "r_obj";
  request.type = "objection";
  request.purpose = "direct_marketing";
  request.contact = {"email", "ada@example.test"};
  ASSERT_TRUE(engine_->OpenRequest(request).ok());
  const std::string token = LastPayloadField("r_obj", "unsubscribe_token");
  ASSERT_EQ(token, engine_->MessageUnsubscribeToken("r_obj"));
  ASSERT_TRUE(engine_->Unsubscribe(token, std::nullopt).ok());
  EXPECT_FALSE(Allowed("m1", "opportunities"));
  EXPECT_TRUE(Allowed("m2", "opportunities"));
  // An access request's messages carry no link.
  NewRequest access;
  access.request_id = "r_acc";
  access.type = "access";
  access.contact = {"email", "bob@example.test"};
  ASSERT_TRUE(engine_->OpenRequest(access).ok());
  EXPECT_EQ(LastPayloadField("r_acc", "unsubscribe_token"), "");
}

// --- The cookie banner ------------------------------------------------------------------------
// WIG's one category: "If you give consent, website cookies on wig.co.uk allow us to identify
// logged-in users and track their engagement" (wig.txt).

std::map<std::string, CookieVerdict> ByCategory(const std::vector<CookieVerdict>& verdicts) {
  std::map<std::string, CookieVerdict> out;
  for (const auto& v : verdicts) out[v.category] = v;
  return out;
}

TEST_F(OwnChoicesTest, CookieChoicesMakeAVisitorAndReachTheDecision) {
  auto before = engine_->DecideCookies("", false, std::nullopt);
  ASSERT_TRUE(before.ok());
  auto v = ByCategory(*before);
  ASSERT_EQ(v.count("engagement_tracking"), 1u);
  EXPECT_FALSE(v["engagement_tracking"].allow);
  ASSERT_EQ(v["engagement_tracking"].reasons.size(), 1u);
  EXPECT_EQ(v["engagement_tracking"].reasons[0].code, ErrorCode::kConsentMissing);

  CookieChoices choices;
  choices.choices = {{"engagement_tracking", true}};
  auto visitor = engine_->RecordCookieChoices(choices);
  ASSERT_TRUE(visitor.ok()) << visitor.status().ToString();
  EXPECT_EQ(visitor->rfind("v_", 0), 0u);
  auto subject = store_->GetSubject("wig", *visitor);
  ASSERT_TRUE(subject.ok() && subject->has_value());
  EXPECT_EQ((*subject)->types, std::vector<std::string>{std::string(kCookieVisitorType)})
      << "WIG names no visitor type: the built-in one";
  v = ByCategory(*engine_->DecideCookies(*visitor, false, std::nullopt));
  EXPECT_TRUE(v["engagement_tracking"].allow);

  // The same visitor changes their mind: the same id, the refusal recorded.
  choices.visitor_id = *visitor;
  choices.choices = {{"engagement_tracking", false}};
  auto again = engine_->RecordCookieChoices(choices);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *visitor);
  v = ByCategory(*engine_->DecideCookies(*visitor, false, std::nullopt));
  EXPECT_FALSE(v["engagement_tracking"].allow);
  EXPECT_EQ(v["engagement_tracking"].reasons[0].code, ErrorCode::kConsentWithdrawn);
}

TEST_F(OwnChoicesTest, CookieChoicesRefuseUnknownCategoriesAndMalformedVisitors) {
  CookieChoices choices;
  choices.choices = {{"advertising", true}};
  EXPECT_EQ(engine_->RecordCookieChoices(choices).status().code(), ErrorCode::kInvalidArgument);
  choices.choices = {{"engagement_tracking", true}};
  choices.visitor_id = "m1";  // a person's id is not a visitor's
  EXPECT_EQ(engine_->RecordCookieChoices(choices).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(OwnChoicesTest, AKnownPersonsCookieChoiceJoinsTheirRecord) {
  AddMember("m1", "ada@example.test");
  CookieChoices choices;
  choices.choices = {{"engagement_tracking", true}};
  choices.people = {"m1"};
  auto visitor = engine_->RecordCookieChoices(choices);
  ASSERT_TRUE(visitor.ok());
  auto v = ByCategory(*engine_->DecideCookies("m1", false, std::nullopt));
  EXPECT_TRUE(v["engagement_tracking"].allow);
  auto ledger = engine_->ExportConsentRecords("m1");
  ASSERT_TRUE(ledger.ok());
  EXPECT_NE(ledger->find("engagement_tracking"), std::string::npos);
  EXPECT_NE(ledger->find("cookie_banner"), std::string::npos);
}

// ProgressTeaching's targeting cookies ("to target and personalise our advertising") are refused
// under Global Privacy Control whatever was chosen; the others stay the visitor's choice.
TEST_F(OwnChoicesTest, GlobalPrivacyControlRefusesTargetingCategoriesOnly) {
  auto policy =
      policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) + "/policies/progressteaching.yaml");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  Engine engine(std::move(*policy), "pt", *store_, master_, clock_);
  ASSERT_TRUE(engine.Open("policy text").ok());
  CookieChoices choices;
  choices.choices = {{"performance", true}, {"targeting", true}, {"strictly_necessary", true}};
  choices.gpc = true;
  auto visitor = engine.RecordCookieChoices(choices);
  ASSERT_TRUE(visitor.ok()) << visitor.status().ToString();
  // Even asked without the signal, the ledger holds a refusal: GPC was applied when recording.
  auto v = ByCategory(*engine.DecideCookies(*visitor, false, std::nullopt));
  EXPECT_TRUE(v["performance"].allow);
  EXPECT_FALSE(v["targeting"].allow);
  EXPECT_EQ(v["targeting"].reasons[0].code, ErrorCode::kConsentWithdrawn);
  EXPECT_TRUE(v["strictly_necessary"].allow);
  EXPECT_FALSE(v["strictly_necessary"].consent_required);
  // A consent given before the signal is overridden while it is sent.
  CookieChoices earlier;
  earlier.choices = {{"targeting", true}};
  auto other = engine.RecordCookieChoices(earlier);
  ASSERT_TRUE(other.ok());
  v = ByCategory(*engine.DecideCookies(*other, false, std::nullopt));
  EXPECT_TRUE(v["targeting"].allow);
  v = ByCategory(*engine.DecideCookies(*other, true, std::nullopt));
  EXPECT_FALSE(v["targeting"].allow);
  EXPECT_TRUE(v["targeting"].gpc_refused);
  EXPECT_EQ(v["targeting"].reasons[0].code, ErrorCode::kGpcRefused);
  EXPECT_FALSE(v["functionality"].gpc_refused);
}

}  // namespace
}  // namespace custos::engine
