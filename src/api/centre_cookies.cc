// The cookie banner's server side: its script and stylesheet (vanilla-cookieconsent with ours,
// web/banner), its configuration written from the policy's `cookies:` categories, the visitor's
// choices recorded through Engine::RecordCookieChoices, "may category C be set for this visitor
// now" through Engine::DecideCookies, /.well-known/gpc.json, and a demo page that embeds the
// banner as an organisation's own page would.
//
// A visitor is known by a pseudonymous id in a first-party cookie (custos_visitor: HttpOnly,
// SameSite=Lax, six months); a person signed in to "my preferences" has the same choice joined
// to their own record. The choices call takes only application/json, which a cross-site form
// cannot send (and a cross-site script cannot without a CORS preflight custos never grants):
// that is its CSRF protection.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "api/centre.h"
#include "api/centre_assets.h"
#include "api/centre_internal.h"
#include "api/problem.h"
#include "policy/notice.h"

namespace custos::api {

using policy::EscapeHtml;

namespace {

constexpr std::string_view kVisitorCookie = "custos_visitor";
constexpr int kVisitorCookieSeconds = 182 * 24 * 3600;  // about six months, then ask again
constexpr size_t kMaxChoicesBytes = 8 * 1024;

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, const char* key, std::string_view value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

HttpResponse Json(std::string body, const char* cache) {
  HttpResponse response;
  response.content_type = "application/json";
  response.body = std::move(body);
  response.headers.emplace_back("Cache-Control", cache);
  response.headers.emplace_back("Content-Security-Policy", "default-src 'none'");
  return response;
}

HttpResponse Problem(int status, std::string_view title, std::string_view detail) {
  HttpResponse response;
  response.status = status;
  response.content_type = "application/problem+json";
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Str(w, "title", title);
  w.Key("status");
  w.Int(status);
  Str(w, "detail", detail);
  w.EndObject();
  response.body = buffer.GetString();
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

// {"gpc": ..., "categories": [{category, allow, consent_required, reasons}]}: every category,
// or only `only`.
std::string VerdictsJson(const std::vector<engine::CookieVerdict>& verdicts, bool gpc,
                         const std::string* only) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("gpc");
  w.Bool(gpc);
  w.Key("categories");
  w.StartArray();
  for (const auto& verdict : verdicts) {
    if (only != nullptr && verdict.category != *only) continue;
    w.StartObject();
    Str(w, "category", verdict.category);
    w.Key("allow");
    w.Bool(verdict.allow);
    w.Key("consent_required");
    w.Bool(verdict.consent_required);
    w.Key("reasons");
    w.StartArray();
    for (const auto& reason : verdict.reasons) {
      w.StartObject();
      Str(w, "code", CodeName(reason.code));
      Str(w, "detail", reason.detail);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buffer.GetString();
}

}  // namespace

HttpResponse Centre::HandleCookies(const HttpRequest& request,
                                   const std::vector<std::string_view>& parts) {
  const bool get = request.method == "GET" || request.method == "HEAD";
  const bool post = request.method == "POST";
  const std::string_view first = parts[0];
  auto not_allowed = [&] {
    HttpResponse r = Problem(405, "Method not allowed", "see the Allow header");
    r.headers.emplace_back("Allow", post ? "GET" : "POST");
    return r;
  };
  if (first == "banner.js" || first == "banner.css") {
    if (!get) return not_allowed();
    HttpResponse response;
    const bool js = first == "banner.js";
    response.content_type = js ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
    response.body = js ? std::string(BannerJs()) : banner_css_;
    Compress(request, response, js ? banner_js_gz_ : banner_css_gz_);
    // A stable name the organisation's pages embed: cached for an hour, not forever.
    response.headers.emplace_back("Cache-Control", "public, max-age=3600");
    response.headers.emplace_back("Content-Security-Policy", "default-src 'none'");
    return response;
  }
  if (first == "demo-site") return get ? DemoSite() : not_allowed();
  if (parts[1] == "config") return get ? BannerConfig(request) : not_allowed();
  if (parts[1] == "choices") return post ? CookieChoices(request) : not_allowed();
  return get ? CookieDecision(request) : not_allowed();
}

HttpResponse Centre::BannerConfig(const HttpRequest& request) const {
  const auto& policy = engine_.policy();
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Str(w, "notice_version", policy.notice.version);
  // vanilla-cookieconsent asks again when the revision changes: a new notice version.
  w.Key("revision");
  w.Uint(static_cast<unsigned>(std::hash<std::string>{}(policy.notice.version) % 1000000));
  Str(w, "notice_url", base_ + "notice");
  w.Key("gpc_header");
  w.Bool(request.gpc);
  w.Key("categories");
  w.StartArray();
  for (const auto& category : policy.cookies) {
    w.StartObject();
    Str(w, "key", category.key);
    Str(w, "name", category.name);
    Str(w, "description", category.description);
    Str(w, "duration", category.duration);
    w.Key("consent_required");
    w.Bool(category.consent_required);
    w.Key("targeting");
    w.Bool(category.targeting);
    w.Key("third_parties");
    w.StartArray();
    for (const auto& party : category.third_parties) w.String(party.c_str());
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("text");
  w.StartObject();
  Str(w, "title", text_.banner_title);
  Str(w, "text", text_.banner_text);
  Str(w, "accept_all", text_.banner_accept_all);
  Str(w, "reject_all", text_.banner_reject_all);
  Str(w, "settings", text_.banner_settings);
  Str(w, "save", text_.banner_save);
  Str(w, "close", text_.banner_close);
  Str(w, "preferences_title", text_.banner_preferences_title);
  Str(w, "notice_link", text_.banner_notice_link);
  Str(w, "always_on", text_.banner_always_on);
  Str(w, "gpc", text_.banner_gpc);
  Str(w, "duration", text_.banner_duration);
  Str(w, "third_parties", text_.banner_third_parties);
  w.EndObject();
  w.EndObject();
  // The answer depends on the Sec-GPC header: never shared between visitors.
  HttpResponse response = Json(buffer.GetString(), "private, max-age=300");
  response.headers.emplace_back("Vary", "Sec-GPC");
  return response;
}

std::vector<std::string> Centre::SignedInPeople(const HttpRequest& request) {
  Session session;
  if (!PreferencesSession(request, &session)) return {};
  auto mine = engine_.ReadMyPreferences(session.request_id, session.secret);
  return mine.ok() ? mine->subject_ids : std::vector<std::string>{};
}

HttpResponse Centre::CookieChoices(const HttpRequest& request) {
  if (request.content_type.rfind("application/json", 0) != 0) {
    return Problem(415, "Unsupported media type", "the choices are sent as application/json");
  }
  if (request.body.size() > kMaxChoicesBytes) {
    return Problem(413, "Too large", "the choices are at most 8 KiB");
  }
  rapidjson::Document doc;
  doc.Parse(request.body.c_str(), request.body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Problem(400, "Malformed choices", "send {\"accepted\": [...], \"rejected\": [...]}");
  }
  engine::CookieChoices choices;
  for (const char* field : {"accepted", "rejected"}) {
    if (!doc.HasMember(field)) continue;
    const auto& list = doc[field];
    if (!list.IsArray() || list.Size() > 64) {
      return Problem(400, "Malformed choices", std::string(field) + " is a list of category keys");
    }
    for (const auto& key : list.GetArray()) {
      if (!key.IsString()) {
        return Problem(400, "Malformed choices",
                       std::string(field) + " is a list of category keys");
      }
      choices.choices.emplace_back(key.GetString(), std::string_view(field) == "accepted");
    }
  }
  std::string how = doc.HasMember("how") && doc["how"].IsString() ? doc["how"].GetString() : "";
  choices.evidence = "banner " + std::string(how == "first" || how == "change" ? how : "choice") +
                     " notice " + engine_.policy().notice.version;
  choices.gpc = request.gpc;
  choices.visitor_id = centre_internal::CookieValue(request.cookie, kVisitorCookie);
  choices.people = SignedInPeople(request);
  auto visitor = engine_.RecordCookieChoices(choices);
  if (!visitor.ok() && visitor.status().code() == ErrorCode::kInvalidArgument &&
      !choices.visitor_id.empty()) {
    choices.visitor_id.clear();  // a damaged cookie: a new visitor
    visitor = engine_.RecordCookieChoices(choices);
  }
  if (!visitor.ok()) {
    if (visitor.status().code() == ErrorCode::kInvalidArgument) {
      return Problem(422, "Unknown cookie category", "every key must be one of the policy's");
    }
    return Problem(503, "Not recorded", "the choices could not be recorded; try again");
  }
  auto verdicts = engine_.DecideCookies(*visitor, request.gpc, std::nullopt);
  if (!verdicts.ok()) return Problem(503, "Not answered", "try again");
  HttpResponse response = Json(VerdictsJson(*verdicts, request.gpc, nullptr), "no-store");
  response.status = 201;
  std::string cookie = std::string(kVisitorCookie) + "=" + *visitor + "; Path=" + base_ +
                       "; Max-Age=" + std::to_string(kVisitorCookieSeconds) +
                       "; HttpOnly; SameSite=Lax";
  if (options_.tls) cookie += "; Secure";
  response.headers.emplace_back("Set-Cookie", cookie);
  return response;
}

HttpResponse Centre::CookieDecision(const HttpRequest& request) {
  const std::string* only = request.Query("category");
  if (only != nullptr) {
    const auto& cookies = engine_.policy().cookies;
    if (std::none_of(cookies.begin(), cookies.end(),
                     [&](const policy::CookieCategory& c) { return c.key == *only; })) {
      return Problem(404, "Unknown cookie category", "the policy has no such cookie category");
    }
  }
  std::string visitor = centre_internal::CookieValue(request.cookie, kVisitorCookie);
  auto verdicts = engine_.DecideCookies(visitor, request.gpc, std::nullopt);
  if (!verdicts.ok()) return Problem(503, "Not answered", "try again");
  return Json(VerdictsJson(*verdicts, request.gpc, only), "no-store");
}

HttpResponse Centre::GpcSupport() const {
  // https://privacycg.github.io/gpc-spec/: the site honours the signal.
  const auto& notice = engine_.policy().notice;
  std::string body = "{\"gpc\": true";
  if (notice.date) body += ", \"lastUpdate\": \"" + notice.date->ToString() + "\"";
  body += "}\n";
  HttpResponse response = Json(std::move(body), "public, max-age=86400");
  return response;
}

HttpResponse Centre::DemoSite() const {
  const auto& org = engine_.policy().controller.name;
  std::string page = "<!DOCTYPE html>\n<html lang=\"" + EscapeHtml(text_.language) +
                     "\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
                     "content=\"width=device-width, initial-scale=1\">\n<title>" +
                     EscapeHtml(text_.demo_heading) + " - " + EscapeHtml(org) + "</title>\n";
  page += "<link rel=\"stylesheet\" href=\"" + base_ + "assets/" + css_name_ + "\">\n";
  page += "<link rel=\"stylesheet\" href=\"" + base_ + "assets/" + theme_name_ + "\">\n";
  // The two lines an organisation adds to its own pages:
  page += "<link rel=\"stylesheet\" href=\"" + base_ + "banner.css\">\n";
  page += "<script src=\"" + base_ + "banner.js\" defer></script>\n</head>\n<body>\n";
  page += "<header class=\"brand\"><div class=\"wrap\"><span class=\"org\">" + EscapeHtml(org) +
          "</span></div></header>\n<main id=\"main\" class=\"wrap\">\n<h1>" +
          EscapeHtml(text_.demo_heading) + "</h1>\n<p class=\"lead\">" +
          EscapeHtml(text_.demo_text) + "</p>\n";
  // vanilla-cookieconsent opens its preferences from any element with this attribute.
  page += "<p><button type=\"button\" data-cc=\"show-preferencesModal\">" +
          EscapeHtml(text_.demo_change) + "</button></p>\n<p><a href=\"" + base_ + "\">" +
          EscapeHtml(text_.centre) + "</a></p>\n</main>\n</body>\n</html>\n";
  HttpResponse response = HtmlAnswer(std::move(page), 200, false);
  // As the centre's pages, and the banner may call custos (connect-src).
  for (auto& [name, value] : response.headers) {
    if (name == "Content-Security-Policy") value += "; connect-src 'self'";
  }
  return response;
}

}  // namespace custos::api
