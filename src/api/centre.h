// Centre: the privacy centre people use in a browser, served by `custos serve` under a base path
// (default "/"). Server-rendered HTML pages, a thin adapter over the same Engine calls as the
// JSON API's rights-request routes (api/request_routes.cc): it parses a form, calls one engine
// function and renders the answer; it decides nothing itself.
//
// Pages: the home page, the generated notice with a table of contents, one page per right the
// policy offers (a form opening a request with an email or phone), the one-time code, and the
// request followed after verification (status, due date, what happens next, history, downloads,
// recipients told, withdrawal), "my preferences" (consents, channels and objections after a
// code, centre_preferences.cc) and the one-click unsubscribe page (RFC 8058). Static assets
// (web/centre.css, web/centre.js, and a stylesheet of the organisation's colour from the policy)
// are built into the binary under names that carry their content hash, served with a year's
// immutable caching.
//
// Security: every page carries a Content-Security-Policy allowing only the centre's own script
// and styles (no inline script or style); every POST carries a CSRF token (an HMAC of a random
// form cookie under a per-process key); verifying a code opens a session (a random id in an
// HttpOnly, SameSite=Strict cookie, Secure under TLS) that opens only that request and ends after
// 30 minutes idle. Sessions live in this process's memory: a restart ends them.
// Thread-safety: Handle() is safe from many threads at once.
// PII: forms carry emails, phone numbers, codes and notes; they go to the engine only, are
// echoed (escaped) only into the page answering the same person's form, and never logged.
#ifndef CUSTOS_API_CENTRE_H_
#define CUSTOS_API_CENTRE_H_

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "api/centre_text.h"
#include "api/http.h"
#include "engine/engine.h"
#include "policy/notice.h"

namespace custos::api {

struct CentreOptions {
  std::string base_path = "/";  // where the centre lives: "/" or "/privacy" (no trailing slash)
  bool tls = false;             // session and form cookies get Secure
  std::chrono::seconds idle = std::chrono::minutes(30);  // a session ends after this long idle
  size_t max_sessions = 100000;  // the oldest idle sessions go first beyond this
  bool demo_site = false;  // serve <base>demo-site: an example page embedding the cookie banner
  policy::NoticeTemplates notice_templates;  // the notice page's block layout; empty: default
};

class Centre {
 public:
  // REQUIRES: `engine` outlives the Centre. The engine's clock measures sessions' idle time.
  Centre(engine::Engine& engine, CentreOptions options,
         const CentreText& text = EnglishCentreText());

  // True when `path` is one of the centre's pages or assets.
  bool Owns(std::string_view path) const;
  // True for the paths whose answer depends on the policy alone (home, notice, rights, assets,
  // the banner's script and stylesheet, gpc.json): no store, no session, no wait.
  bool IsFixed(std::string_view path) const;
  // The answer for one request to a path the centre owns: HTML (or an asset, or a download),
  // with its own Content-Security-Policy and Cache-Control headers.
  HttpResponse Handle(const HttpRequest& request);

  // The base path ("/" or "/privacy/"), always ending in '/'.
  const std::string& base() const { return base_; }

 private:
  struct Session {
    std::string request_id, secret;  // a rights request, or a preferences sign-in
    Timestamp last_seen;
    bool preferences = false;  // opens "my preferences", not a request's page
  };
  struct Form;  // a parsed POST body and the form cookie (centre.cc)

  // Pages (centre_pages.cc render them; centre.cc routes).
  std::string HomePage() const;
  std::string NoticePage() const;
  std::string RightsPage() const;
  HttpResponse RightForm(const HttpRequest& request, const std::string& right, const Form* form,
                         std::string_view error, int status);
  HttpResponse OpenRequest(const HttpRequest& request, const std::string& right);
  // The code form; `action` is the path its forms post to ("<base>requests/<id>" or
  // "<base>preferences/<id>"), with "/verify" and "/code" added.
  HttpResponse VerifyForm(const HttpRequest& request, const std::string& action,
                          std::string_view message, bool is_error, int status);
  // The email-or-phone fieldset of a form that sends a code, with what was typed.
  std::string ContactFields(const Form* form) const;
  // The contact a form gives, or the problem with it (words of text_).
  std::string_view ReadContact(const Form& form, engine::RequestIdentifier* contact) const;
  HttpResponse Verify(const HttpRequest& request, const std::string& id);
  HttpResponse ResendCode(const HttpRequest& request, const std::string& id);
  HttpResponse RequestPage(const HttpRequest& request, const std::string& id);
  HttpResponse Download(const HttpRequest& request, const std::string& id,
                        const std::string& format);
  HttpResponse Withdraw(const HttpRequest& request, const std::string& id);
  HttpResponse SignOut(const HttpRequest& request);
  // "My preferences" and the one-click unsubscribe (centre_preferences.cc).
  HttpResponse HandlePreferences(const HttpRequest& request,
                                 const std::vector<std::string_view>& parts);
  HttpResponse SignInForm(const HttpRequest& request, const Form* form, std::string_view error,
                          int status);
  HttpResponse SignIn(const HttpRequest& request);
  HttpResponse VerifySignIn(const HttpRequest& request, const std::string& id);
  HttpResponse ResendSignInCode(const HttpRequest& request, const std::string& id);
  HttpResponse PreferencesPage(const HttpRequest& request, bool saved);
  HttpResponse ChangePreference(const HttpRequest& request);
  HttpResponse UnsubscribePage(const HttpRequest& request);
  HttpResponse Unsubscribe(const HttpRequest& request);
  // The cookie banner (centre_cookies.cc): its script and stylesheet, its configuration from
  // the policy, the visitor's choices, "may category C be set now", /.well-known/gpc.json and
  // the demo page.
  HttpResponse HandleCookies(const HttpRequest& request,
                             const std::vector<std::string_view>& parts);
  HttpResponse BannerConfig(const HttpRequest& request) const;
  HttpResponse CookieChoices(const HttpRequest& request);
  HttpResponse CookieDecision(const HttpRequest& request);
  HttpResponse GpcSupport() const;
  HttpResponse DemoSite() const;
  // The subjects of this browser's live preferences session (a known person), or none.
  std::vector<std::string> SignedInPeople(const HttpRequest& request);
  HttpResponse Asset(const HttpRequest& request, std::string_view name) const;
  // Sends `gzipped` instead of the body when the browser accepts gzip (and says it varies).
  void Compress(const HttpRequest& request, HttpResponse& response,
                const std::string& gzipped) const;
  HttpResponse Message(std::string_view heading, std::string_view message, int status) const;

  // The page around `main` (already HTML), with the header, navigation and assets.
  std::string Page(std::string_view title, const std::string& main) const;
  HttpResponse HtmlAnswer(std::string body, int status, bool cacheable) const;

  // CSRF: the form cookie's value (a new one when the request has none, set on `response`) and
  // the token forms carry; a POST is accepted only when its token matches its cookie.
  std::string FormCookie(const HttpRequest& request, HttpResponse* response) const;
  std::string CsrfToken(const std::string& form_cookie) const;
  bool ReadForm(const HttpRequest& request, Form& form) const;
  std::string CsrfField(const std::string& form_cookie) const;

  // Sessions: the request a session cookie opens, or nullptr (unknown, expired, another request).
  bool SessionOpens(const HttpRequest& request, const std::string& id, Session* out);
  // The live preferences session of this browser, or false.
  bool PreferencesSession(const HttpRequest& request, Session* out);
  std::string NewSession(const std::string& request_id, const std::string& secret,
                         bool preferences = false);
  // The session of this browser (any kind) still idle-fresh, touched; false when none.
  bool LiveSession(const HttpRequest& request, Session* out);
  std::string Cookie(std::string_view name, std::string_view value, bool expire) const;

  engine::Engine& engine_;
  const CentreOptions options_;
  const CentreText& text_;
  std::string base_;                             // ends with '/'
  std::string csrf_key_;                         // per process
  std::string theme_css_;                        // the organisation's colour
  std::string css_name_, js_name_, theme_name_;  // assets' names, with their content hashes
  // The pages that depend only on the policy, written once (the policy does not change while
  // the server runs).
  std::string home_page_, rights_page_, notice_page_;
  std::string banner_css_;  // vanilla-cookieconsent's, ours and the organisation's colours
  // The same, gzipped once at start (api/gzip.h).
  std::string home_gz_, rights_gz_, notice_gz_, css_gz_, js_gz_, theme_gz_, banner_js_gz_,
      banner_css_gz_;
  std::mutex sessions_mu_;
  std::map<std::string, Session> sessions_;  // by BLAKE2b of the cookie's value
};

}  // namespace custos::api

#endif  // CUSTOS_API_CENTRE_H_
