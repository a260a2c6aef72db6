// The privacy centre's "my preferences" and one-click unsubscribe. A person proves an email or
// phone with a one-time code (Engine::OpenPreferencesSignIn, Engine::VerifyRequest), then sees
// and changes each consent, channel and objection; every change is one call to
// Engine::ChangeMyPreference, which applies it through the same engine calls as the API. The
// unsubscribe link from a marketing email shows one button; the mail client's own one-click
// POST (RFC 8058: "List-Unsubscribe=One-Click") needs no cookie, as the signed token in the link
// is all the authority it carries.
#include <algorithm>

#include "api/centre.h"
#include "api/centre_internal.h"
#include "policy/notice.h"

namespace custos::api {

using policy::EscapeHtml;

namespace {

std::string_view OneClickMarker() { return "List-Unsubscribe=One-Click"; }

}  // namespace

HttpResponse Centre::HandlePreferences(const HttpRequest& request,
                                       const std::vector<std::string_view>& parts) {
  const bool get = request.method == "GET" || request.method == "HEAD";
  const bool post = request.method == "POST";
  auto not_allowed = [&] {
    HttpResponse r = Message(text_.not_found_heading, text_.error_not_found, 405);
    r.headers.emplace_back("Allow", post ? "GET" : "POST");
    return r;
  };
  if (parts[0] == "unsubscribe") {
    if (get) return UnsubscribePage(request);
    return post ? Unsubscribe(request) : not_allowed();
  }
  if (parts.size() == 1) {
    if (get) return SignInForm(request, nullptr, "", 200);
    return post ? SignIn(request) : not_allowed();
  }
  if (parts.size() == 2) {  // preferences/me
    if (get) return PreferencesPage(request, request.Query("saved") != nullptr);
    return post ? ChangePreference(request) : not_allowed();
  }
  const std::string id(parts[1]);
  if (parts[2] == "verify") {
    if (get) return VerifyForm(request, base_ + "preferences/" + id, "", false, 200);
    return post ? VerifySignIn(request, id) : not_allowed();
  }
  return post ? ResendSignInCode(request, id) : not_allowed();
}

HttpResponse Centre::SignInForm(const HttpRequest& request, const Form* form,
                                std::string_view error, int status) {
  HttpResponse cookies;
  std::string cookie = FormCookie(request, &cookies);
  std::string main = "<h1>" + EscapeHtml(text_.sign_in_heading) + "</h1>\n<p class=\"lead\">" +
                     EscapeHtml(text_.sign_in_lead) + "</p>\n";
  if (!error.empty()) {
    main += "<div class=\"problem\" role=\"alert\" tabindex=\"-1\" id=\"problem\"><h2>" +
            EscapeHtml(text_.error_heading) + "</h2><p>" + EscapeHtml(error) + "</p></div>\n";
  }
  main += "<form method=\"post\" action=\"" + base_ +
          "preferences\" class=\"stack\" novalidate>\n" + CsrfField(cookie) + "\n" +
          ContactFields(form) + "<button type=\"submit\">" + EscapeHtml(text_.send_code) +
          "</button>\n</form>\n";
  HttpResponse page = HtmlAnswer(Page(text_.sign_in_heading, main), status, false);
  page.headers.insert(page.headers.end(), cookies.headers.begin(), cookies.headers.end());
  return page;
}

HttpResponse Centre::SignIn(const HttpRequest& request) {
  Form form;
  if (!ReadForm(request, form)) {
    return Message(text_.forbidden_heading, text_.error_form_expired, 403);
  }
  engine::RequestIdentifier contact;
  std::string_view problem = ReadContact(form, &contact);
  if (!problem.empty()) return SignInForm(request, &form, problem, 422);
  int64_t retry_after = 0;
  auto opened = engine_.OpenPreferencesSignIn(contact, std::nullopt, &retry_after);
  if (!opened.ok()) {
    const bool too_many = opened.status().code() == ErrorCode::kTooManyCodes;
    HttpResponse page =
        SignInForm(request, &form, too_many ? text_.error_too_many_codes : text_.error_general,
                   too_many ? 429 : 422);
    if (too_many && retry_after > 0) {
      page.headers.emplace_back("Retry-After", std::to_string(retry_after));
    }
    return page;
  }
  return centre_internal::SeeOther(base_ + "preferences/" + opened->request_id + "/verify");
}

HttpResponse Centre::VerifySignIn(const HttpRequest& request, const std::string& id) {
  Form form;
  if (!ReadForm(request, form)) {
    return Message(text_.forbidden_heading, text_.error_form_expired, 403);
  }
  std::string code = form.Get("code");
  code.erase(std::remove(code.begin(), code.end(), ' '), code.end());
  // Only a sign-in's code opens preferences: a rights request's code is refused here.
  auto secret = engine_.VerifyRequest(id, code, std::nullopt, engine::kPreferencesSignIn);
  const std::string action = base_ + "preferences/" + id;
  if (!secret.ok()) {
    const bool locked = secret.status().code() == ErrorCode::kTooManyAttempts;
    return VerifyForm(request, action, locked ? text_.error_code_locked : text_.error_code, true,
                      locked ? 429 : 422);
  }
  HttpResponse response = centre_internal::SeeOther(base_ + "preferences/me");
  response.headers.emplace_back("Set-Cookie",
                                Cookie("custos_session", NewSession(id, *secret, true), false));
  return response;
}

HttpResponse Centre::ResendSignInCode(const HttpRequest& request, const std::string& id) {
  Form form;
  if (!ReadForm(request, form)) {
    return Message(text_.forbidden_heading, text_.error_form_expired, 403);
  }
  int64_t retry_after = 0;
  Status sent = engine_.ResendRequestCode(id, std::nullopt, "requester", &retry_after);
  const std::string action = base_ + "preferences/" + id;
  if (!sent.ok()) {
    const bool too_many = sent.code() == ErrorCode::kTooManyCodes;
    return VerifyForm(request, action, too_many ? text_.error_too_many_codes : text_.error_general,
                      true, too_many ? 429 : 422);
  }
  return VerifyForm(request, action, text_.resent, false, 200);
}

HttpResponse Centre::PreferencesPage(const HttpRequest& request, bool saved) {
  Session session;
  if (!PreferencesSession(request, &session)) {
    return Message(text_.forbidden_heading, text_.error_sign_in, 403);
  }
  auto mine = engine_.ReadMyPreferences(session.request_id, session.secret);
  if (!mine.ok()) return Message(text_.forbidden_heading, text_.error_sign_in, 403);
  const auto& policy = engine_.policy();
  HttpResponse cookies;
  std::string cookie = FormCookie(request, &cookies);
  std::string main = "<h1>" + EscapeHtml(text_.preferences_heading) + "</h1>\n";
  if (saved) {
    main +=
        "<p class=\"notice-ok\" role=\"status\">" + EscapeHtml(text_.preferences_saved) + "</p>\n";
  }
  // One small form per switch: each works without JavaScript and says what it will do.
  auto toggle = [&](std::string_view kind, const std::string& key, bool on,
                    std::string_view action_words, const std::string& label_id) {
    return "<form method=\"post\" action=\"" + base_ + "preferences/me\" class=\"toggle\">\n" +
           CsrfField(cookie) + "\n<input type=\"hidden\" name=\"kind\" value=\"" +
           std::string(kind) + "\">\n<input type=\"hidden\" name=\"key\" value=\"" +
           EscapeHtml(key) + "\">\n<input type=\"hidden\" name=\"on\" value=\"" + (on ? "1" : "0") +
           "\">\n<button type=\"submit\" class=\"secondary\" " + "aria-describedby=\"" + label_id +
           "\">" + EscapeHtml(action_words) + "</button>\n</form>\n";
  };
  auto row = [&](const std::string& id, const std::string& name, const std::string& about, bool on,
                 std::string_view on_words, std::string_view off_words,
                 const std::string& form_html) {
    std::string out =
        "<li class=\"setting\"><div><h3 id=\"" + id + "\">" + EscapeHtml(name) + "</h3>";
    if (!about.empty()) out += "<p>" + EscapeHtml(about) + "</p>";
    out += "<p class=\"now " + std::string(on ? "on" : "off") + "\">" +
           EscapeHtml(on ? on_words : off_words) + "</p></div>\n" + form_html + "</li>\n";
    return out;
  };
  if (mine->subject_ids.empty()) {
    main += "<p class=\"lead\">" + EscapeHtml(text_.preferences_none) + "</p>\n";
  } else {
    main += "<p class=\"lead\">" + EscapeHtml(text_.preferences_lead) + "</p>\n";
    main += "<h2>" + EscapeHtml(text_.consents_heading) + "</h2>\n";
    if (mine->consents.empty()) {
      main += "<p>" + EscapeHtml(text_.consents_none) + "</p>\n";
    } else {
      main += "<ul class=\"settings\">\n";
      for (const auto& [key, given] : mine->consents) {
        const policy::Purpose* purpose = policy.FindPurpose(key);
        const std::string name = purpose && !purpose->name.empty() ? purpose->name : key;
        const std::string id = "consent-" + EscapeHtml(key);
        main += row(id, name, purpose ? purpose->description : "", given, text_.consent_given,
                    text_.consent_not_given,
                    toggle("consent", key, !given,
                           given ? text_.consent_withdraw : text_.consent_give, id));
      }
      main += "</ul>\n";
    }
    main += "<h2>" + EscapeHtml(text_.channels_heading) + "</h2>\n<ul class=\"settings\">\n";
    for (const auto& [key, allowed] : mine->channels) {
      const std::string id = "channel-" + EscapeHtml(key);
      main += row(id, std::string(text_.ChannelName(key)), "", allowed, text_.channel_on,
                  text_.channel_off,
                  toggle("channel", key, !allowed,
                         allowed ? text_.channel_refuse : text_.channel_allow, id));
    }
    main += "</ul>\n";
    if (!mine->objections.empty()) {
      main += "<h2>" + EscapeHtml(text_.objections_heading) + "</h2>\n<p>" +
              EscapeHtml(text_.objections_lead) + "</p>\n<ul class=\"settings\">\n";
      for (const auto& [key, objected] : mine->objections) {
        const policy::Purpose* purpose = policy.FindPurpose(key);
        const std::string name = key == "direct_marketing" ? std::string(text_.purpose_marketing)
                                 : purpose && !purpose->name.empty() ? purpose->name
                                                                     : key;
        const std::string id = "objection-" + EscapeHtml(key);
        main += row(id, name, purpose ? purpose->description : "", objected, text_.objection_made,
                    text_.objection_not_made,
                    toggle("objection", key, !objected,
                           objected ? text_.objection_lift : text_.objection_make, id));
      }
      main += "</ul>\n";
    }
  }
  main += "<form method=\"post\" action=\"" + base_ + "sign-out\" class=\"inline\">\n" +
          CsrfField(cookie) + "\n<button type=\"submit\" class=\"secondary\">" +
          EscapeHtml(text_.sign_out) + "</button>\n</form>\n";
  HttpResponse page = HtmlAnswer(Page(text_.preferences_heading, main), 200, false);
  page.headers.insert(page.headers.end(), cookies.headers.begin(), cookies.headers.end());
  return page;
}

HttpResponse Centre::ChangePreference(const HttpRequest& request) {
  Form form;
  if (!ReadForm(request, form)) {
    return Message(text_.forbidden_heading, text_.error_form_expired, 403);
  }
  Session session;
  if (!PreferencesSession(request, &session)) {
    return Message(text_.forbidden_heading, text_.error_sign_in, 403);
  }
  engine::PreferenceChange change;
  const std::string& kind = form.Get("kind");
  using Kind = engine::PreferenceChange::Kind;
  if (kind == "consent") {
    change.kind = Kind::kConsent;
  } else if (kind == "channel") {
    change.kind = Kind::kChannel;
  } else if (kind == "objection") {
    change.kind = Kind::kObjection;
  } else {
    return Message(text_.error_heading, text_.error_choice, 422);
  }
  change.key = form.Get("key");
  change.on = form.Get("on") == "1";
  Status changed = engine_.ChangeMyPreference(session.request_id, session.secret, change);
  if (changed.code() == ErrorCode::kVerificationFailed) {
    return Message(text_.forbidden_heading, text_.error_sign_in, 403);
  }
  if (changed.code() == ErrorCode::kInvalidArgument) {
    return Message(text_.error_heading, text_.error_choice, 422);
  }
  if (!changed.ok()) return Message(text_.error_heading, text_.error_general, 503);
  return centre_internal::SeeOther(base_ + "preferences/me?saved=1");
}

HttpResponse Centre::UnsubscribePage(const HttpRequest& request) {
  const std::string* token = request.Query("token");
  if (token == nullptr || token->empty()) {
    return Message(text_.unsubscribe_heading, text_.error_unsubscribe_link, 400);
  }
  // The token goes back only into this form's URL, escaped; it is checked when posted.
  std::string main = "<h1>" + EscapeHtml(text_.unsubscribe_heading) + "</h1>\n<p class=\"lead\">" +
                     EscapeHtml(text_.unsubscribe_lead) + "</p>\n";
  main += "<form method=\"post\" action=\"" + base_ + "unsubscribe?token=" + EscapeHtml(*token) +
          "\" class=\"stack\">\n<input type=\"hidden\" name=\"List-Unsubscribe\" "
          "value=\"One-Click\">\n<button type=\"submit\">" +
          EscapeHtml(text_.unsubscribe_button) + "</button>\n</form>\n";
  HttpResponse page = HtmlAnswer(Page(text_.unsubscribe_heading, main), 200, false);
  // The link's token must not leak to another site through the Referer header.
  page.headers.emplace_back("Referrer-Policy", "no-referrer");
  return page;
}

HttpResponse Centre::Unsubscribe(const HttpRequest& request) {
  const std::string* token = request.Query("token");
  if (token == nullptr || request.body.find(OneClickMarker()) == std::string::npos) {
    return Message(text_.unsubscribe_heading, text_.error_unsubscribe_link, 400);
  }
  Status done = engine_.Unsubscribe(*token, std::nullopt);
  if (!done.ok()) {
    const ErrorCode code = done.code();
    const bool theirs = code == ErrorCode::kVerificationFailed ||
                        code == ErrorCode::kUnknownSubject || code == ErrorCode::kSubjectErased ||
                        code == ErrorCode::kUnknownRequest;
    return Message(text_.unsubscribe_heading,
                   theirs ? text_.error_unsubscribe_link : text_.error_general, theirs ? 400 : 503);
  }
  HttpResponse page = Message(text_.unsubscribe_heading, text_.unsubscribed, 200);
  page.headers.emplace_back("Referrer-Policy", "no-referrer");
  return page;
}

}  // namespace custos::api
