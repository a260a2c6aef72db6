// The privacy centre's routing, forms, CSRF tokens and sessions. Each POST handler reads its form,
// checks the CSRF token, calls one Engine function (the same the JSON API's request routes call)
// and answers with a redirect (303, so a reload does not post again) or the form again with the
// problem named. The pages themselves are written in centre_pages.cc.
#include "api/centre.h"

#include <algorithm>
#include <vector>

#include "api/centre_assets.h"
#include "api/centre_internal.h"
#include "api/gzip.h"
#include "crypto/api_token.h"
#include "crypto/webhook_signature.h"
#include "engine/identifier_form.h"

namespace custos::api {

using centre_internal::FormValues;

namespace {

constexpr std::string_view kSessionCookie = "custos_session";
constexpr std::string_view kFormCookie = "custos_form";
constexpr size_t kMaxFormBytes = 16 * 1024;

// 32 random bytes in hex, from the operating system's CSPRNG (through the token generator).
std::string RandomHex() {
  std::string token = crypto::GenerateApiToken().token;
  return token.substr(token.rfind('_') + 1);
}

// A request id as the engine makes them, or something that cannot be one: ids are only ever
// put into URLs and compared, never trusted further.
bool IdShaped(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::vector<std::string_view> Segments(std::string_view rest) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= rest.size()) {
    size_t end = rest.find('/', start);
    if (end == std::string_view::npos) end = rest.size();
    out.push_back(rest.substr(start, end - start));
    start = end + 1;
  }
  if (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

}  // namespace

namespace centre_internal {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<FormValues> ParseUrlEncoded(std::string_view body) {
  FormValues out;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find('&', start);
    if (end == std::string_view::npos) end = body.size();
    std::string_view pair = body.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view parts[2] = {pair.substr(0, eq),
                                 eq == std::string_view::npos ? "" : pair.substr(eq + 1)};
    std::string decoded[2];
    for (int p = 0; p < 2; ++p) {
      for (size_t i = 0; i < parts[p].size(); ++i) {
        char c = parts[p][i];
        if (c == '+') {
          decoded[p] += ' ';
        } else if (c == '%') {
          if (i + 2 >= parts[p].size()) return std::nullopt;
          int hi = HexValue(parts[p][i + 1]), lo = HexValue(parts[p][i + 2]);
          if (hi < 0 || lo < 0) return std::nullopt;
          decoded[p] += static_cast<char>(hi * 16 + lo);
          i += 2;
        } else {
          decoded[p] += c;
        }
      }
    }
    out.emplace_back(std::move(decoded[0]), std::move(decoded[1]));
    if (out.size() > 64) return std::nullopt;
  }
  return out;
}

std::string CookieValue(std::string_view header, std::string_view name) {
  size_t start = 0;
  while (start < header.size()) {
    size_t end = header.find(';', start);
    if (end == std::string_view::npos) end = header.size();
    std::string_view pair = header.substr(start, end - start);
    start = end + 1;
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      return std::string(pair.substr(eq + 1));
    }
  }
  return "";
}

}  // namespace centre_internal

Centre::Centre(engine::Engine& engine, CentreOptions options, const CentreText& text)
    : engine_(engine), options_(std::move(options)), text_(text), csrf_key_(RandomHex()) {
  base_ = options_.base_path;
  if (base_.empty() || base_.front() != '/') base_ = "/" + base_;
  if (base_.back() != '/') base_ += '/';
  theme_css_ = centre_internal::ThemeCss(engine_.policy().controller.colour);
  css_name_ = "centre." + centre_internal::ContentTag(CentreCss()) + ".css";
  js_name_ = "centre." + centre_internal::ContentTag(CentreJs()) + ".js";
  theme_name_ = "theme." + centre_internal::ContentTag(theme_css_) + ".css";
  banner_css_ = std::string(BannerCss()) + "\n" +
                centre_internal::BannerThemeCss(engine_.policy().controller.colour);
  home_page_ = HomePage();
  rights_page_ = RightsPage();
  notice_page_ = NoticePage();
  home_gz_ = Gzip(home_page_);
  rights_gz_ = Gzip(rights_page_);
  notice_gz_ = Gzip(notice_page_);
  css_gz_ = Gzip(CentreCss());
  js_gz_ = Gzip(CentreJs());
  theme_gz_ = Gzip(theme_css_);
  banner_js_gz_ = Gzip(BannerJs());
  banner_css_gz_ = Gzip(banner_css_);
}

bool Centre::Owns(std::string_view path) const {
  if (path == "/.well-known/gpc.json") return true;
  if (path.size() + 1 == base_.size() && base_.starts_with(path)) return true;  // "/privacy"
  if (!path.starts_with(base_)) return false;
  auto parts = Segments(path.substr(base_.size()));
  if (parts.empty()) return true;
  const std::string_view first = parts[0];
  if (parts.size() == 1) {
    return first == "notice" || first == "rights" || first == "sign-out" ||
           first == "preferences" || first == "unsubscribe" || first == "banner.js" ||
           first == "banner.css" || (first == "demo-site" && options_.demo_site);
  }
  if (first == "cookies") {
    return parts.size() == 2 &&
           (parts[1] == "config" || parts[1] == "choices" || parts[1] == "decision");
  }
  if (first == "preferences") {
    if (parts.size() == 2) return parts[1] == "me";
    return parts.size() == 3 && (parts[2] == "verify" || parts[2] == "code");
  }
  if (first == "assets" || first == "rights") return parts.size() == 2;
  if (first == "requests") {
    if (parts.size() == 2) return true;
    if (parts.size() == 3) {
      return parts[2] == "verify" || parts[2] == "code" || parts[2] == "withdraw" ||
             parts[2] == "copy.html" || parts[2] == "copy.json" || parts[2] == "copy.csv";
    }
  }
  return false;
}

bool Centre::IsFixed(std::string_view path) const {
  if (path == "/.well-known/gpc.json") return true;
  if (!path.starts_with(base_)) return false;
  auto parts = Segments(path.substr(base_.size()));
  if (parts.empty()) return true;
  if (parts.size() == 2) return parts[0] == "assets";
  return parts.size() == 1 && (parts[0] == "notice" || parts[0] == "rights" ||
                               parts[0] == "banner.js" || parts[0] == "banner.css");
}

HttpResponse Centre::Handle(const HttpRequest& request) {
  if (request.path == "/.well-known/gpc.json") {
    return request.method == "GET" || request.method == "HEAD"
               ? GpcSupport()
               : Message(text_.not_found_heading, text_.error_not_found, 405);
  }
  if (request.path.size() + 1 == base_.size()) {  // "/privacy" -> "/privacy/"
    HttpResponse moved;
    moved.status = 308;
    moved.content_type = "text/plain; charset=utf-8";
    moved.headers.emplace_back("Location", base_);
    return moved;
  }
  auto parts = Segments(std::string_view(request.path).substr(base_.size()));
  const bool get = request.method == "GET" || request.method == "HEAD";
  const bool post = request.method == "POST";
  auto not_allowed = [&] {
    HttpResponse r = Message(text_.not_found_heading, text_.error_not_found, 405);
    r.headers.emplace_back("Allow", post ? "GET" : "POST");
    return r;
  };
  // The pages that depend only on the policy: written and gzipped once.
  auto fixed = [&](const std::string& page, const std::string& gzipped) {
    HttpResponse response = HtmlAnswer(page, 200, true);
    Compress(request, response, gzipped);
    return response;
  };
  if (parts.empty()) return get ? fixed(home_page_, home_gz_) : not_allowed();
  const std::string_view first = parts[0];
  if (first == "notice" && parts.size() == 1) {
    return get ? fixed(notice_page_, notice_gz_) : not_allowed();
  }
  if (first == "rights" && parts.size() == 1) {
    return get ? fixed(rights_page_, rights_gz_) : not_allowed();
  }
  if (first == "sign-out") return post ? SignOut(request) : not_allowed();
  if (first == "preferences" || first == "unsubscribe") return HandlePreferences(request, parts);
  if (first == "cookies" || first == "banner.js" || first == "banner.css" || first == "demo-site") {
    return HandleCookies(request, parts);
  }
  if (first == "assets") return get ? Asset(request, parts[1]) : not_allowed();
  if (first == "rights") {
    std::string right(parts[1]);
    const auto& offered = engine_.policy().rights.available;
    if (std::find(offered.begin(), offered.end(), right) == offered.end()) {
      return Message(text_.not_found_heading, text_.error_not_found, 404);
    }
    if (get) return RightForm(request, right, nullptr, "", 200);
    return post ? OpenRequest(request, right) : not_allowed();
  }
  // requests/{id}[/...]
  std::string id(parts[1]);
  if (!IdShaped(id)) return Message(text_.not_found_heading, text_.error_not_found, 404);
  if (parts.size() == 2) return get ? RequestPage(request, id) : not_allowed();
  const std::string_view action = parts[2];
  if (action == "verify") {
    if (get) return VerifyForm(request, base_ + "requests/" + id, "", false, 200);
    return post ? Verify(request, id) : not_allowed();
  }
  if (action == "code") return post ? ResendCode(request, id) : not_allowed();
  if (action == "withdraw") return post ? Withdraw(request, id) : not_allowed();
  if (!get) return not_allowed();
  return Download(request, id, std::string(action.substr(5)));  // copy.<format>
}

// --- Forms and CSRF ------------------------------------------------------------------------

std::string Centre::Cookie(std::string_view name, std::string_view value, bool expire) const {
  std::string cookie = std::string(name) + "=" + std::string(value) + "; Path=" + base_ +
                       "; HttpOnly; SameSite=Strict";
  if (options_.tls) cookie += "; Secure";
  if (expire) cookie += "; Max-Age=0";
  return cookie;
}

std::string Centre::FormCookie(const HttpRequest& request, HttpResponse* response) const {
  std::string value = centre_internal::CookieValue(request.cookie, kFormCookie);
  if (value.size() == 64) return value;
  value = RandomHex();
  response->headers.emplace_back("Set-Cookie", Cookie(kFormCookie, value, false));
  return value;
}

std::string Centre::CsrfToken(const std::string& form_cookie) const {
  return crypto::HmacSha256Hex(csrf_key_, "custos-centre-form:" + form_cookie);
}

std::string Centre::CsrfField(const std::string& form_cookie) const {
  return "<input type=\"hidden\" name=\"csrf\" value=\"" + CsrfToken(form_cookie) + "\">";
}

bool Centre::ReadForm(const HttpRequest& request, Form& form) const {
  if (request.body.size() > kMaxFormBytes) return false;
  if (request.content_type.rfind("application/x-www-form-urlencoded", 0) != 0) return false;
  auto values = centre_internal::ParseUrlEncoded(request.body);
  if (!values) return false;
  form.values = std::move(*values);
  form.cookie = centre_internal::CookieValue(request.cookie, kFormCookie);
  if (form.cookie.size() != 64) return false;
  const std::string& token = form.Get("csrf");
  std::string expected = CsrfToken(form.cookie);
  return token.size() == expected.size() && crypto::ApiTokenHashesEqual(token, expected);
}

// --- Sessions ------------------------------------------------------------------------------

std::string Centre::NewSession(const std::string& request_id, const std::string& secret,
                               bool preferences) {
  std::string value = RandomHex();
  std::lock_guard<std::mutex> lock(sessions_mu_);
  Timestamp now = engine_.Now();
  const int64_t idle_micros = options_.idle.count() * 1000000;
  std::erase_if(sessions_, [&](const auto& entry) {
    return now.micros - entry.second.last_seen.micros > idle_micros;
  });
  if (sessions_.size() >= options_.max_sessions) {
    auto oldest = std::min_element(
        sessions_.begin(), sessions_.end(),
        [](const auto& a, const auto& b) { return a.second.last_seen < b.second.last_seen; });
    sessions_.erase(oldest);
  }
  sessions_[crypto::HashApiToken(value)] = Session{request_id, secret, now, preferences};
  return value;
}

bool Centre::LiveSession(const HttpRequest& request, Session* out) {
  std::string value = centre_internal::CookieValue(request.cookie, kSessionCookie);
  if (value.size() != 64) return false;
  std::lock_guard<std::mutex> lock(sessions_mu_);
  auto it = sessions_.find(crypto::HashApiToken(value));
  if (it == sessions_.end()) return false;
  Timestamp now = engine_.Now();
  if (now.micros - it->second.last_seen.micros > options_.idle.count() * 1000000) {
    sessions_.erase(it);
    return false;
  }
  it->second.last_seen = now;
  *out = it->second;
  return true;
}

bool Centre::SessionOpens(const HttpRequest& request, const std::string& id, Session* out) {
  Session session;
  if (!LiveSession(request, &session) || session.preferences || session.request_id != id) {
    return false;
  }
  // The engine still has the last word: the secret must still open the request.
  if (!engine_.CheckRequesterSecret(id, session.secret).ok()) return false;
  *out = std::move(session);
  return true;
}

bool Centre::PreferencesSession(const HttpRequest& request, Session* out) {
  Session session;
  if (!LiveSession(request, &session) || !session.preferences) return false;
  *out = std::move(session);
  return true;
}

// --- Handlers ------------------------------------------------------------------------------

std::string_view Centre::ReadContact(const Form& form, engine::RequestIdentifier* contact) const {
  std::string email = form.Get("email");
  std::string phone = form.Get("phone");
  phone.erase(std::remove(phone.begin(), phone.end(), ' '), phone.end());
  if (email.empty() == phone.empty()) {
    return email.empty() ? text_.error_contact_missing : text_.error_contact_both;
  }
  *contact = email.empty() ? engine::RequestIdentifier{"phone", phone}
                           : engine::RequestIdentifier{"email", email};
  if (!engine::CheckIdentifierForm(contact->kind, contact->value).ok()) {
    return text_.error_contact_form;
  }
  return "";
}

HttpResponse Centre::OpenRequest(const HttpRequest& request, const std::string& right) {
  Form form;
  if (!ReadForm(request, form))
    return Message(text_.forbidden_heading, text_.error_form_expired, 403);
  engine::NewRequest asked;
  asked.type = right;
  asked.intake = "self_service";
  asked.actor = "requester";
  asked.note = form.Get("note");
  std::string_view contact_problem = ReadContact(form, &asked.contact);
  if (!contact_problem.empty()) return RightForm(request, right, &form, contact_problem, 422);
  if (right == "objection" || right == "withdraw_consent") {
    asked.purpose = form.Get("purpose");
    if (asked.purpose.empty()) return RightForm(request, right, &form, text_.error_choice, 422);
  }
  if (right == "rectification") {
    const std::string& category = form.Get("category");
    const std::string& value = form.Get("value");
    if (category.empty()) return RightForm(request, right, &form, text_.error_choice, 422);
    if (value.empty()) return RightForm(request, right, &form, text_.error_value, 422);
    asked.rectifications.push_back({category, value});
  }
  int64_t retry_after = 0;
  auto opened = engine_.OpenRequest(asked, &retry_after);
  if (!opened.ok()) {
    ErrorCode code = opened.status().code();
    std::string_view why = code == ErrorCode::kTooManyCodes      ? text_.error_too_many_codes
                           : code == ErrorCode::kInvalidArgument ? text_.error_choice
                                                                 : text_.error_general;
    HttpResponse page =
        RightForm(request, right, &form, why, code == ErrorCode::kTooManyCodes ? 429 : 422);
    if (code == ErrorCode::kTooManyCodes && retry_after > 0) {
      page.headers.emplace_back("Retry-After", std::to_string(retry_after));
    }
    return page;
  }
  return centre_internal::SeeOther(base_ + "requests/" + opened->request_id + "/verify");
}

HttpResponse Centre::Verify(const HttpRequest& request, const std::string& id) {
  Form form;
  if (!ReadForm(request, form))
    return Message(text_.forbidden_heading, text_.error_form_expired, 403);
  std::string code = form.Get("code");
  code.erase(std::remove(code.begin(), code.end(), ' '), code.end());
  auto secret = engine_.VerifyRequest(id, code, std::nullopt);
  if (!secret.ok()) {
    ErrorCode error = secret.status().code();
    return VerifyForm(
        request, base_ + "requests/" + id,
        error == ErrorCode::kTooManyAttempts ? text_.error_code_locked : text_.error_code, true,
        error == ErrorCode::kTooManyAttempts ? 429 : 422);
  }
  HttpResponse response = centre_internal::SeeOther(base_ + "requests/" + id);
  response.headers.emplace_back("Set-Cookie",
                                Cookie(kSessionCookie, NewSession(id, *secret), false));
  return response;
}

HttpResponse Centre::ResendCode(const HttpRequest& request, const std::string& id) {
  Form form;
  if (!ReadForm(request, form))
    return Message(text_.forbidden_heading, text_.error_form_expired, 403);
  int64_t retry_after = 0;
  Status sent = engine_.ResendRequestCode(id, std::nullopt, "requester", &retry_after);
  if (!sent.ok()) {
    return VerifyForm(
        request, base_ + "requests/" + id,
        sent.code() == ErrorCode::kTooManyCodes ? text_.error_too_many_codes : text_.error_general,
        true, sent.code() == ErrorCode::kTooManyCodes ? 429 : 422);
  }
  return VerifyForm(request, base_ + "requests/" + id, text_.resent, false, 200);
}

HttpResponse Centre::Withdraw(const HttpRequest& request, const std::string& id) {
  Form form;
  if (!ReadForm(request, form))
    return Message(text_.forbidden_heading, text_.error_form_expired, 403);
  Session session;
  if (!SessionOpens(request, id, &session)) {
    return Message(text_.forbidden_heading, text_.error_session, 403);
  }
  Status withdrawn = engine_.WithdrawRequest(id, std::nullopt, "requester");
  if (!withdrawn.ok()) return Message(text_.error_heading, text_.error_general, 409);
  return centre_internal::SeeOther(base_ + "requests/" + id);
}

HttpResponse Centre::SignOut(const HttpRequest& request) {
  Form form;
  if (!ReadForm(request, form))
    return Message(text_.forbidden_heading, text_.error_form_expired, 403);
  std::string value = centre_internal::CookieValue(request.cookie, kSessionCookie);
  if (!value.empty()) {
    std::lock_guard<std::mutex> lock(sessions_mu_);
    sessions_.erase(crypto::HashApiToken(value));
  }
  HttpResponse response = Message(text_.centre, text_.signed_out, 200);
  response.headers.emplace_back("Set-Cookie", Cookie(kSessionCookie, "", true));
  return response;
}

HttpResponse Centre::Download(const HttpRequest& request, const std::string& id,
                              const std::string& format) {
  Session session;
  if (!SessionOpens(request, id, &session)) {
    return Message(text_.forbidden_heading, text_.error_session, 403);
  }
  auto document = engine_.RequestDocument(id, format, "requester");
  if (!document.ok()) return Message(text_.not_found_heading, text_.error_general, 404);
  HttpResponse response;
  response.content_type = format == "html"  ? "text/html; charset=utf-8"
                          : format == "csv" ? "text/csv; charset=utf-8"
                                            : "application/json";
  response.body = std::move(*document);
  // A download, never rendered in the centre's origin: the package's own styles only.
  response.headers.emplace_back("Content-Disposition",
                                "attachment; filename=\"" + id + "." + format + "\"");
  response.headers.emplace_back("Content-Security-Policy",
                                "default-src 'none'; style-src 'unsafe-inline'; sandbox");
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

void Centre::Compress(const HttpRequest& request, HttpResponse& response,
                      const std::string& gzipped) const {
  response.headers.emplace_back("Vary", "Accept-Encoding");
  if (gzipped.empty() || !AcceptsGzip(request.accept_encoding)) return;
  response.body = gzipped;
  response.headers.emplace_back("Content-Encoding", "gzip");
}

HttpResponse Centre::Asset(const HttpRequest& request, std::string_view name) const {
  HttpResponse response;
  if (name == css_name_) {
    response.content_type = "text/css; charset=utf-8";
    response.body = std::string(CentreCss());
    Compress(request, response, css_gz_);
  } else if (name == js_name_) {
    response.content_type = "text/javascript; charset=utf-8";
    response.body = std::string(CentreJs());
    Compress(request, response, js_gz_);
  } else if (name == theme_name_) {
    response.content_type = "text/css; charset=utf-8";
    response.body = theme_css_;
    Compress(request, response, theme_gz_);
  } else {
    return Message(text_.not_found_heading, text_.error_not_found, 404);
  }
  // The name carries the content's hash: a new build is a new name.
  response.headers.emplace_back("Cache-Control", "public, max-age=31536000, immutable");
  response.headers.emplace_back("Content-Security-Policy", "default-src 'none'");
  return response;
}

}  // namespace custos::api
