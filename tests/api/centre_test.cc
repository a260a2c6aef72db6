// The privacy centre through Api::Handle, as the server calls it: which pages exist, their
// headers, CSRF on every form, typed values escaped, and sessions that open one request only and
// end after 30 minutes idle. The browser journeys are in tests/web.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>

#include "api/auth.h"
#include "api/centre_internal.h"
#include "api/gzip.h"
#include "api/server.h"
#include "crypto/key.h"
#include "crypto/master_key.h"
#include "policy/loader.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::api {
namespace {

// The inverse of Gzip (api/gzip.h), for checking what was sent.
std::string Gunzip(const std::string& data) {
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 16) != Z_OK) return "";
  std::string out;
  char buffer[16384];
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  int result = Z_OK;
  while (result == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof(buffer);
    result = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer, sizeof(buffer) - stream.avail_out);
  }
  inflateEnd(&stream);
  return result == Z_STREAM_END ? out : "";
}

namespace fs = std::filesystem;

class CentreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() /
        ("custos-centre-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    log_file_ = std::tmpfile();
    log_ = std::make_unique<JsonLog>(log_file_);
    auto store = store::OpenSqliteStore({dir_.string(), true});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto policy = policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml");
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();
    engine_ = std::make_unique<engine::Engine>(std::move(*policy), "wig", *store_, master_, clock_);
    ASSERT_TRUE(engine_->Open("policy text").ok());
    tokens_ = std::make_unique<TokenStore>((dir_ / "tokens.jsonl").string());
    ASSERT_TRUE(tokens_->Load().ok());
    MakeApi("/");
  }
  void TearDown() override {
    api_.reset();
    engine_.reset();
    store_.reset();
    std::fclose(log_file_);
    fs::remove_all(dir_);
  }
  void MakeApi(const std::string& centre_path) {
    ApiOptions options;
    options.centre_path = centre_path;
    options.address_rate = 0;
    api_ = std::make_unique<Api>(*engine_, *store_, *tokens_, *log_, options, &clock_);
  }
  HttpResponse Get(const std::string& path, const std::string& cookie = "") {
    HttpRequest request;
    request.method = "GET";
    request.path = path;
    request.client_address = "127.0.0.1";
    request.cookie = cookie;
    return api_->Handle(request);
  }
  HttpResponse Post(const std::string& path, const std::string& form, const std::string& cookie) {
    HttpRequest request;
    request.method = "POST";
    request.path = path;
    request.client_address = "127.0.0.1";
    request.content_type = "application/x-www-form-urlencoded";
    request.body = form;
    request.cookie = cookie;
    return api_->Handle(request);
  }
  static std::string Header(const HttpResponse& response, const std::string& name) {
    for (const auto& [key, value] : response.headers) {
      if (key == name) return value;
    }
    return "";
  }
  // The cookie a response sets, as "name=value" for the next request's Cookie header.
  static std::string SetCookie(const HttpResponse& response, const std::string& name) {
    for (const auto& [key, value] : response.headers) {
      if (key == "Set-Cookie" && value.rfind(name + "=", 0) == 0)
        return value.substr(0, value.find(';'));
    }
    return "";
  }
  static std::string Csrf(const HttpResponse& page) {
    std::smatch m;
    static const std::regex kField("name=\"csrf\" value=\"([0-9a-f]+)\"");
    return std::regex_search(page.body, m, kField) ? m[1].str() : "";
  }
  // Opens an access request through the form; its id.
  std::string OpenAccess(const std::string& email, std::string* form_cookie) {
    HttpResponse form = Get("/rights/access");
    *form_cookie = SetCookie(form, "custos_form");
    HttpResponse sent =
        Post("/rights/access", "csrf=" + Csrf(form) + "&email=" + email, *form_cookie);
    EXPECT_EQ(sent.status, 303) << sent.body;
    std::smatch m;
    std::string location = Header(sent, "Location");
    static const std::regex kVerify("^/requests/([^/]+)/verify$");
    EXPECT_TRUE(std::regex_match(location, m, kVerify)) << location;
    return m.size() > 1 ? m[1].str() : "";
  }
  std::string CodeFor(const std::string& id) {
    auto view = engine_->ViewRequest(id);
    EXPECT_TRUE(view.ok() && !view->outbox.empty());
    auto message = engine_->ReadOutboxMessage(view->outbox.back().outbox_id);
    EXPECT_TRUE(message.ok());
    std::smatch m;
    static const std::regex kCode("\\b([0-9]{8})\\b");
    return std::regex_search(*message, m, kCode) ? m[1].str() : "";
  }
  // Verifies request `id`; the session cookie.
  std::string Verify(const std::string& id, const std::string& form_cookie) {
    HttpResponse page = Get("/requests/" + id + "/verify", form_cookie);
    HttpResponse verified = Post("/requests/" + id + "/verify",
                                 "csrf=" + Csrf(page) + "&code=" + CodeFor(id), form_cookie);
    EXPECT_EQ(verified.status, 303) << verified.body;
    std::string session = SetCookie(verified, "custos_session");
    EXPECT_FALSE(session.empty());
    return session;
  }

  fs::path dir_;
  std::FILE* log_file_ = nullptr;
  std::unique_ptr<JsonLog> log_;
  crypto::MasterKey master_ = crypto::MasterKey::FromSecretForTesting(crypto::SecretKey::Random());
  FixedClock clock_{*Timestamp::Parse("2026-02-02T09:00:00Z")};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<Api> api_;
};

TEST_F(CentreTest, ServesAPagePerRightThePolicyOffersAndNoOther) {
  EXPECT_EQ(Get("/").status, 200);
  EXPECT_EQ(Get("/notice").status, 200);
  EXPECT_EQ(Get("/rights/access").status, 200);
  EXPECT_EQ(Get("/rights/erasure").status, 200);
  // WIG's policy does not offer a review of automated decisions.
  EXPECT_EQ(Get("/rights/automated_decision_review").status, 404);
  EXPECT_EQ(Get("/").body.find("rights/automated_decision_review"), std::string::npos);
  // The API is where it was.
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(Get("/v1/nothing").content_type, "application/problem+json");
}

TEST_F(CentreTest, TheBasePathMovesEveryPage) {
  MakeApi("/privacy");
  EXPECT_EQ(Get("/privacy/notice").status, 200);
  EXPECT_EQ(Get("/privacy").status, 308);
  EXPECT_EQ(Get("/notice").status, 404);
  HttpResponse home = Get("/privacy/");
  EXPECT_NE(home.body.find("href=\"/privacy/rights/access\""), std::string::npos);
  MakeApi("");
  EXPECT_EQ(Get("/").status, 404);
}

TEST_F(CentreTest, PagesAllowOnlyTheirOwnScriptAndStylesAndAssetsAreCachedForAYear) {
  HttpResponse notice = Get("/notice");
  std::string csp = Header(notice, "Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(notice.body.find("<script>"), std::string::npos);
  EXPECT_EQ(notice.body.find("style="), std::string::npos);
  EXPECT_EQ(notice.body.find("<style"), std::string::npos);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(notice.body, m,
                                std::regex("src=\"(/assets/centre\\.[0-9a-f]{12}\\.js)\"")));
  HttpResponse script = Get(m[1].str());
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(Header(script, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(Get("/assets/centre.000000000000.js").status, 404);
  // The organisation's colour, from the policy, in a stylesheet of its own.
  ASSERT_TRUE(std::regex_search(notice.body, m,
                                std::regex("href=\"(/assets/theme\\.[0-9a-f]{12}\\.css)\"")));
  EXPECT_NE(Get(m[1].str()).body.find("--brand:#6b1d5c"), std::string::npos);
}

// A browser that accepts gzip gets the fixed pages and assets gzipped (compressed once at
// start); one that does not, or refuses it with q=0, gets them plain. Either way the same page.
TEST_F(CentreTest, FixedPagesGoGzippedToBrowsersThatAcceptIt) {
  HttpResponse plain = Get("/notice");
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(Header(plain, "Content-Encoding"), "");
  EXPECT_EQ(Header(plain, "Vary"), "Accept-Encoding");
  for (const char* path : {"/notice", "/", "/rights", "/banner.js", "/banner.css"}) {
    HttpRequest request;
    request.method = "GET";
    request.path = path;
    request.client_address = "127.0.0.1";
    request.accept_encoding = "gzip, deflate, br";
    HttpResponse zipped = api_->Handle(request);
    ASSERT_EQ(zipped.status, 200) << path;
    EXPECT_EQ(Header(zipped, "Content-Encoding"), "gzip") << path;
    EXPECT_EQ(Gunzip(zipped.body), Get(path).body) << path;
    EXPECT_LT(zipped.body.size(), Get(path).body.size()) << path;
    request.accept_encoding = "gzip;q=0, br";
    EXPECT_EQ(Header(api_->Handle(request), "Content-Encoding"), "") << path;
  }
  EXPECT_TRUE(AcceptsGzip("br, gzip;q=0.5"));
  EXPECT_TRUE(AcceptsGzip("*"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0.000"));
  EXPECT_FALSE(AcceptsGzip("deflate, br"));
  EXPECT_FALSE(AcceptsGzip("xgzip"));
}

// The notice's version history: earlier versions the policy records (notice.history) are listed
// in the notice's "Changes to this notice", as text; a bad date is refused at its line.
TEST_F(CentreTest, TheNoticeListsItsEarlierVersions) {
  std::ifstream in(std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string entry =
      "  history:\n    - {version: \"2021-06-01\", date: 2021-06-01, summary: \"<b>Member</b> "
      "portal added\"}\n";
  std::string with = text;
  with.insert(with.find("notice:\n") + 8, entry);
  policy::LoadOutcome loaded = policy::CheckPolicyText(with, "wig.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.Report();
  ASSERT_EQ(loaded.policy.notice.history.size(), 1u);
  engine::Engine engine(std::move(loaded.policy), "wig", *store_, master_, clock_);
  ASSERT_TRUE(engine.Open("policy text").ok());
  Centre centre(engine, CentreOptions{});
  HttpRequest request;
  request.method = "GET";
  request.path = "/notice";
  std::string page = centre.Handle(request).body;
  EXPECT_NE(page.find("Earlier versions of this notice"), std::string::npos);
  EXPECT_NE(page.find("Version 2021-06-01, 1 June 2021: &lt;b&gt;Member&lt;/b&gt; portal added"),
            std::string::npos)
      << page;
  EXPECT_EQ(Get("/notice").body.find("Earlier versions"), std::string::npos)
      << "WIG's own policy records no earlier version: none is shown";

  std::string bad = text;
  bad.insert(bad.find("notice:\n") + 8, "  history:\n    - {version: old, date: June 2021}\n");
  policy::LoadOutcome refused = policy::CheckPolicyText(bad, "wig.yaml");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.Report().find("wig.yaml:12:"), std::string::npos) << refused.Report();
  EXPECT_NE(refused.Report().find("YYYY-MM-DD"), std::string::npos);
}

TEST_F(CentreTest, AFormWithoutItsCsrfTokenIsRefusedAndOpensNothing) {
  HttpResponse form = Get("/rights/access");
  std::string cookie = SetCookie(form, "custos_form");
  ASSERT_FALSE(cookie.empty());
  EXPECT_EQ(Post("/rights/access", "email=a%40example.test", cookie).status, 403);
  EXPECT_EQ(
      Post("/rights/access", "csrf=" + std::string(64, 'a') + "&email=a%40example.test", cookie)
          .status,
      403);
  // The right token without its cookie (another browser's token).
  EXPECT_EQ(Post("/rights/access", "csrf=" + Csrf(form) + "&email=a%40example.test", "").status,
            403);
  auto open = engine_->ListRequests(engine::RequestListFilter::kAll, clock_.Now(), 0);
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE(open->empty());
}

TEST_F(CentreTest, TypedTextComesBackAsTextNeverAsMarkup) {
  HttpResponse form = Get("/rights/rectification");
  std::string cookie = SetCookie(form, "custos_form");
  // %3Cscript%3E... in every field; the email is not an email, so the form comes back.
  const std::string attack = "%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E";
  HttpResponse back = Post("/rights/rectification",
                           "csrf=" + Csrf(form) + "&email=" + attack + "&note=" + attack +
                               "&category=user.name&value=" + attack,
                           cookie);
  EXPECT_EQ(back.status, 422);
  EXPECT_EQ(back.body.find("<script>alert"), std::string::npos);
  EXPECT_NE(back.body.find("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
}

TEST_F(CentreTest, ASessionOpensItsOwnRequestOnlyAndEndsAfterThirtyIdleMinutes) {
  std::string form_cookie;
  std::string mine = OpenAccess("ada%40example.test", &form_cookie);
  std::string theirs = OpenAccess("bob%40example.test", &form_cookie);
  // Before verification: nothing.
  EXPECT_EQ(Get("/requests/" + mine, form_cookie).status, 403);
  std::string session = Verify(mine, form_cookie);
  HttpResponse page = Get("/requests/" + mine, session + "; " + form_cookie);
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(Header(page, "Cache-Control"), "no-store");
  EXPECT_NE(page.body.find("We are working on it"), std::string::npos);
  EXPECT_NE(page.body.find("2026-03-02"), std::string::npos);  // due a month from verification
  // Another request, a forged session: nothing.
  EXPECT_EQ(Get("/requests/" + theirs, session).status, 403);
  EXPECT_EQ(Get("/requests/" + theirs + "/copy.json", session).status, 403);
  EXPECT_EQ(Get("/requests/" + mine, "custos_session=" + std::string(64, 'b')).status, 403);
  // Use keeps it alive; 30 minutes idle ends it.
  clock_.Set(*Timestamp::Parse("2026-02-02T09:25:00Z"));
  EXPECT_EQ(Get("/requests/" + mine, session).status, 200);
  clock_.Set(*Timestamp::Parse("2026-02-02T09:50:00Z"));
  EXPECT_EQ(Get("/requests/" + mine, session).status, 200);
  clock_.Set(*Timestamp::Parse("2026-02-02T10:21:00Z"));
  EXPECT_EQ(Get("/requests/" + mine, session).status, 403);
}

TEST_F(CentreTest, TheSessionCookieIsHttpOnlyStrictAndSecureUnderTls) {
  std::string form_cookie;
  std::string id = OpenAccess("ada%40example.test", &form_cookie);
  HttpResponse page = Get("/requests/" + id + "/verify", form_cookie);
  HttpResponse verified = Post("/requests/" + id + "/verify",
                               "csrf=" + Csrf(page) + "&code=" + CodeFor(id), form_cookie);
  std::string set;
  for (const auto& [key, value] : verified.headers) {
    if (key == "Set-Cookie" && value.rfind("custos_session=", 0) == 0) set = value;
  }
  EXPECT_NE(set.find("HttpOnly"), std::string::npos) << set;
  EXPECT_NE(set.find("SameSite=Strict"), std::string::npos) << set;
  EXPECT_EQ(set.find("Secure"), std::string::npos) << set;  // plain HTTP here
}

TEST(CentreTheme, TextOnTheColourIsWhicheverReadsBetter) {
  using centre_internal::ContrastRatio;
  using centre_internal::ThemeCss;
  EXPECT_NEAR(ContrastRatio("#000000", "#ffffff"), 21.0, 0.01);
  EXPECT_NE(ThemeCss("#ffd700").find("--on-brand:#111111"), std::string::npos);
  EXPECT_NE(ThemeCss("#ffd700").find("--link:#0b57d0"), std::string::npos);  // too light for links
  EXPECT_NE(ThemeCss("#6b1d5c").find("--on-brand:#ffffff"), std::string::npos);
  EXPECT_NE(ThemeCss("#6b1d5c").find("--link:#6b1d5c"), std::string::npos);
}

TEST(CentreForms, UrlEncodedBodiesDecodeAndMalformedOnesAreRefused) {
  auto form = centre_internal::ParseUrlEncoded("a=1+2&b=%3C%2F%3E&c=");
  ASSERT_TRUE(form.has_value());
  ASSERT_EQ(form->size(), 3u);
  EXPECT_EQ((*form)[0].second, "1 2");
  EXPECT_EQ((*form)[1].second, "</>");
  EXPECT_FALSE(centre_internal::ParseUrlEncoded("a=%3").has_value());
  EXPECT_FALSE(centre_internal::ParseUrlEncoded("a=%zz").has_value());
  EXPECT_EQ(centre_internal::CookieValue("x=1; custos_form=abc; y=2", "custos_form"), "abc");
  EXPECT_EQ(centre_internal::CookieValue("x=1", "custos_form"), "");
}

}  // namespace
}  // namespace custos::api
