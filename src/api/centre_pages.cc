// The privacy centre's pages, written as HTML: every value from the policy, the person or the
// engine goes through EscapeHtml; words of our own come from CentreText. No inline script or
// style: the only script and stylesheets are the centre's assets.
#include <cmath>
#include <cstdio>

#include "api/centre.h"
#include "api/centre_assets.h"
#include "api/centre_internal.h"
#include "crypto/api_token.h"
#include "engine/subject_request.h"
#include "policy/notice.h"

namespace custos::api {

using policy::EscapeHtml;

namespace {

std::string ErrorSummary(const CentreText& text, std::string_view error) {
  if (error.empty()) return "";
  return "<div class=\"problem\" role=\"alert\" tabindex=\"-1\" id=\"problem\"><h2>" +
         EscapeHtml(text.error_heading) + "</h2><p>" + EscapeHtml(error) + "</p></div>\n";
}

struct StateWords {
  std::string_view name, next;
};

StateWords WordsFor(const CentreText& text, const store::RequestRow& row) {
  using store::RequestState;
  if (!row.waiting_for.empty() && row.waiting_for != "identity") {
    return {text.state_waiting, text.next_waiting};
  }
  switch (row.state) {
    case RequestState::kReceived: return {text.state_received, text.next_in_progress};
    case RequestState::kVerifyingIdentity: return {text.state_verifying, text.next_verifying};
    case RequestState::kInProgress: return {text.state_in_progress, text.next_in_progress};
    case RequestState::kExtended: return {text.state_extended, text.next_extended};
    case RequestState::kCompleted: return {text.state_completed, text.next_completed};
    case RequestState::kRefused: return {text.state_refused, text.next_refused};
    case RequestState::kWithdrawn: return {text.state_withdrawn, text.next_withdrawn};
    case RequestState::kForwarded: return {text.state_forwarded, text.next_forwarded};
  }
  return {text.state_received, text.next_in_progress};
}

int Channel(std::string_view colour, size_t at) {
  int hi = 0, lo = 0;
  auto hex = [](char c) { return c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0'; };
  hi = hex(colour[at]);
  lo = hex(colour[at + 1]);
  return hi * 16 + lo;
}

double Luminance(std::string_view colour) {
  double rgb[3];
  for (int i = 0; i < 3; ++i) {
    double c = Channel(colour, 1 + 2 * i) / 255.0;
    rgb[i] = c <= 0.03928 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
  }
  return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
}

constexpr std::string_view kDefaultColour = "#1d4f91";
constexpr std::string_view kDefaultLink = "#0b57d0";
constexpr std::string_view kDark = "#111111";

}  // namespace

namespace centre_internal {

double ContrastRatio(std::string_view a, std::string_view b) {
  double la = Luminance(a), lb = Luminance(b);
  if (la < lb) std::swap(la, lb);
  return (la + 0.05) / (lb + 0.05);
}

std::string ThemeCss(std::string_view colour) {
  if (colour.size() != 7) colour = kDefaultColour;
  std::string_view on = ContrastRatio(colour, "#ffffff") >= ContrastRatio(colour, kDark)
                            ? std::string_view("#ffffff")
                            : kDark;
  std::string_view link = ContrastRatio(colour, "#ffffff") >= 4.5 ? colour : kDefaultLink;
  return ":root{--brand:" + std::string(colour) + ";--on-brand:" + std::string(on) +
         ";--link:" + std::string(link) + "}\n";
}

std::string BannerThemeCss(std::string_view colour) {
  if (colour.size() != 7) colour = kDefaultColour;
  const std::string c(colour);
  const std::string on(ContrastRatio(colour, "#ffffff") >= ContrastRatio(colour, kDark)
                           ? std::string_view("#ffffff")
                           : kDark);
  const std::string link(ContrastRatio(colour, "#ffffff") >= 4.5 ? colour : kDefaultLink);
  return "#cc-main{--cc-btn-primary-bg:" + c + ";--cc-btn-primary-border-color:" + c +
         ";--cc-btn-primary-color:" + on + ";--cc-btn-primary-hover-bg:" + c +
         ";--cc-btn-primary-hover-border-color:" + c + ";--cc-btn-primary-hover-color:" + on +
         ";--cc-btn-secondary-bg:" + c + ";--cc-btn-secondary-border-color:" + c +
         ";--cc-btn-secondary-color:" + on + ";--cc-btn-secondary-hover-bg:" + c +
         ";--cc-btn-secondary-hover-border-color:" + c + ";--cc-btn-secondary-hover-color:" + on +
         ";--cc-toggle-on-bg:" + c + ";--cc-link-color:" + link + "}\n";
}

std::string ContentTag(std::string_view content) {
  return crypto::HashApiToken(content).substr(0, 12);
}

HttpResponse SeeOther(const std::string& location) {
  HttpResponse response;
  response.status = 303;
  response.content_type = "text/plain; charset=utf-8";
  response.headers.emplace_back("Location", location);
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

}  // namespace centre_internal

const CentreText& EnglishCentreText() {
  static const CentreText kText;
  return kText;
}

std::string Centre::Page(std::string_view title, const std::string& main) const {
  const auto& org = engine_.policy().controller.name;
  std::string out;
  out.reserve(main.size() + 2048);
  out += "<!DOCTYPE html>\n<html lang=\"" + EscapeHtml(text_.language) + "\">\n<head>\n";
  out += "<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + EscapeHtml(title) + " - " + EscapeHtml(org) + "</title>\n";
  out += "<link rel=\"stylesheet\" href=\"" + base_ + "assets/" + css_name_ + "\">\n";
  out += "<link rel=\"stylesheet\" href=\"" + base_ + "assets/" + theme_name_ + "\">\n";
  out += "<script src=\"" + base_ + "assets/" + js_name_ + "\" defer></script>\n";
  out += "</head>\n<body>\n";
  out += "<a class=\"skip\" href=\"#main\">" + EscapeHtml(text_.skip_to_content) + "</a>\n";
  out += "<header class=\"brand\"><div class=\"wrap\">";
  out += "<a class=\"org\" href=\"" + base_ + "\">" + EscapeHtml(org) + "<span>" +
         EscapeHtml(text_.centre) + "</span></a>";
  out += "<nav aria-label=\"" + EscapeHtml(text_.nav_label) + "\"><ul>";
  out += "<li><a href=\"" + base_ + "notice\">" + EscapeHtml(text_.nav_notice) + "</a></li>";
  out += "<li><a href=\"" + base_ + "rights\">" + EscapeHtml(text_.nav_rights) + "</a></li>";
  out +=
      "<li><a href=\"" + base_ + "preferences\">" + EscapeHtml(text_.nav_preferences) + "</a></li>";
  out += "</ul></nav></div></header>\n";
  out += "<main id=\"main\" class=\"wrap\">\n" + main + "</main>\n";
  out += "<footer class=\"wrap\"><p>" + EscapeHtml(org);
  const auto& notice = engine_.policy().notice;
  if (!notice.version.empty()) {
    out += " &middot; " + EscapeHtml(text_.nav_notice) + " " + EscapeHtml(notice.version);
  }
  out += "</p></footer>\n</body>\n</html>\n";
  return out;
}

HttpResponse Centre::HtmlAnswer(std::string body, int status, bool cacheable) const {
  HttpResponse response;
  response.status = status;
  response.content_type = "text/html; charset=utf-8";
  response.body = std::move(body);
  response.headers.emplace_back(
      "Content-Security-Policy",
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
      "form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
  response.headers.emplace_back("Cache-Control", cacheable ? "public, max-age=300" : "no-store");
  return response;
}

HttpResponse Centre::Message(std::string_view heading, std::string_view message, int status) const {
  std::string main = "<h1>" + EscapeHtml(heading) + "</h1>\n<p>" + EscapeHtml(message) +
                     "</p>\n<p><a href=\"" + base_ + "\">" + EscapeHtml(text_.back_home) +
                     "</a></p>\n";
  return HtmlAnswer(Page(heading, main), status, false);
}

std::string Centre::HomePage() const {
  const auto& policy = engine_.policy();
  std::string main = "<h1>" + EscapeHtml(text_.centre) + "</h1>\n<p class=\"lead\">" +
                     EscapeHtml(text_.home_lead) + "</p>\n";
  main += "<p class=\"actions\"><a class=\"button\" href=\"" + base_ + "notice\">" +
          EscapeHtml(text_.home_notice_link) + "</a> <a class=\"button secondary\" href=\"" +
          base_ + "preferences\">" + EscapeHtml(text_.home_preferences_link) + "</a></p>\n";
  main += "<h2>" + EscapeHtml(text_.rights_heading) + "</h2>\n<ul class=\"cards\">\n";
  for (const auto& right : policy.rights.available) {
    main += "<li><a href=\"" + base_ + "rights/" + EscapeHtml(right) + "\">" +
            EscapeHtml(text_.RightTitle(right)) + "</a><p>" +
            EscapeHtml(policy::RightInWords(right)) + "</p></li>\n";
  }
  main += "</ul>\n";
  return Page(text_.centre, main);
}

std::string Centre::RightsPage() const {
  const auto& policy = engine_.policy();
  std::string main = "<h1>" + EscapeHtml(text_.rights_heading) + "</h1>\n<p>" +
                     EscapeHtml(text_.rights_lead) + "</p>\n<ul class=\"cards\">\n";
  for (const auto& right : policy.rights.available) {
    main += "<li><a href=\"" + base_ + "rights/" + EscapeHtml(right) + "\">" +
            EscapeHtml(text_.RightTitle(right)) + "</a><p>" +
            EscapeHtml(policy::RightInWords(right)) + "</p></li>\n";
  }
  main += "</ul>\n";
  return Page(text_.rights_heading, main);
}

std::string Centre::NoticePage() const {
  const auto& policy = engine_.policy();
  policy::NoticeFragment notice = policy::RenderNoticeFragment(policy, options_.notice_templates);
  std::string main = "<div class=\"notice-layout\">\n";
  // A disclosure, so a narrow screen can fold the contents away (open without JavaScript).
  main += "<nav class=\"toc\" aria-label=\"" + EscapeHtml(text_.notice_contents) +
          "\"><details open><summary>" + EscapeHtml(text_.notice_contents) + "</summary><ol>\n";
  // Sections (h2) with their parts (h3) nested.
  bool nested = false;
  for (size_t i = 0; i < notice.contents.size(); ++i) {
    const auto& entry = notice.contents[i];
    if (entry.level == 3 && !nested && i > 0) {
      main += "<ol>\n";
      nested = true;
    } else if (entry.level == 2 && nested) {
      main += "</li>\n</ol></li>\n";
      nested = false;
    } else if (i > 0) {
      main += "</li>\n";
    }
    main += "<li><a href=\"#" + EscapeHtml(entry.id) + "\">" + EscapeHtml(entry.text) + "</a>";
  }
  if (nested) main += "</li>\n</ol>";
  if (!notice.contents.empty()) main += "</li>\n";
  main += "</ol>\n";
  if (!policy.notice.version.empty()) {
    main += "<p class=\"version\">" + EscapeHtml(text_.notice_version) + " " +
            EscapeHtml(policy.notice.version);
    if (policy.notice.date) {
      main += ", " + EscapeHtml(text_.notice_dated) + " " + policy.notice.date->ToString();
    }
    main += "</p>\n";
  }
  if (!policy.notice.changes.empty()) {
    main += "<p class=\"version\">" + EscapeHtml(text_.notice_changes) + ": " +
            EscapeHtml(policy.notice.changes) + "</p>\n";
  }
  // Earlier versions (notice.history) are in the notice itself, in its "Changes" section.
  main += "</details></nav>\n<article class=\"notice\">\n" + notice.html + "</article>\n</div>\n";
  return Page(notice.title, main);
}

std::string Centre::ContactFields(const Form* form) const {
  auto typed = [&](std::string_view name) -> std::string {
    return form != nullptr ? EscapeHtml(form->Get(name)) : std::string();
  };
  std::string out = "<fieldset><legend>" + EscapeHtml(text_.contact_legend) +
                    "</legend>\n<p class=\"hint\" id=\"contact-hint\">" +
                    EscapeHtml(text_.contact_hint) + "</p>\n";
  out += "<label for=\"email\">" + EscapeHtml(text_.email_label) +
         "</label>\n<input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\" "
         "aria-describedby=\"contact-hint\" value=\"" +
         typed("email") + "\">\n";
  out += "<label for=\"phone\">" + EscapeHtml(text_.phone_label) +
         "</label>\n<input id=\"phone\" name=\"phone\" type=\"tel\" autocomplete=\"tel\" "
         "inputmode=\"tel\" placeholder=\"+44 7700 900123\" aria-describedby=\"contact-hint\" "
         "value=\"" +
         typed("phone") + "\">\n</fieldset>\n";
  return out;
}

HttpResponse Centre::RightForm(const HttpRequest& request, const std::string& right,
                               const Form* form, std::string_view error, int status) {
  const auto& policy = engine_.policy();
  HttpResponse response;
  std::string cookie = FormCookie(request, &response);
  auto typed = [&](std::string_view name) -> std::string {
    return form != nullptr ? EscapeHtml(form->Get(name)) : std::string();
  };
  std::string title(text_.RightTitle(right));
  std::string main = "<h1>" + EscapeHtml(title) + "</h1>\n<p class=\"lead\">" +
                     EscapeHtml(policy::RightInWords(right)) + "</p>\n";
  main += ErrorSummary(text_, error);
  main += "<form method=\"post\" action=\"" + base_ + "rights/" + EscapeHtml(right) +
          "\" class=\"stack\" novalidate>\n" + CsrfField(cookie) + "\n";
  main += ContactFields(form);
  if (right == "objection" || right == "withdraw_consent") {
    std::string chosen = form != nullptr ? form->Get("purpose") : "";
    main += "<label for=\"purpose\">" + EscapeHtml(text_.purpose_label) +
            "</label>\n<select id=\"purpose\" name=\"purpose\">\n<option value=\"\"></option>\n";
    auto option = [&](const std::string& key, std::string_view words) {
      main += "<option value=\"" + EscapeHtml(key) + "\"" + (chosen == key ? " selected" : "") +
              ">" + EscapeHtml(words) + "</option>\n";
    };
    if (right == "objection") option("direct_marketing", text_.purpose_marketing);
    for (const auto& purpose : policy.purposes) {
      bool fits = right == "withdraw_consent"
                      ? purpose.basis == policy::LawfulBasis::kConsent
                      : purpose.basis == policy::LawfulBasis::kLegitimateInterests ||
                            purpose.basis == policy::LawfulBasis::kPublicTask;
      if (fits) option(purpose.key, purpose.name.empty() ? purpose.key : purpose.name);
    }
    main += "</select>\n";
  }
  if (right == "rectification") {
    std::string chosen = form != nullptr ? form->Get("category") : "";
    main += "<label for=\"category\">" + EscapeHtml(text_.category_label) +
            "</label>\n<select id=\"category\" name=\"category\">\n<option value=\"\"></option>\n";
    for (const auto& category : policy.categories) {
      main += "<option value=\"" + EscapeHtml(category.key) + "\"" +
              (chosen == category.key ? " selected" : "") + ">" +
              EscapeHtml(category.name.empty() ? category.key : category.name) + "</option>\n";
    }
    main += "</select>\n<label for=\"value\">" + EscapeHtml(text_.value_label) +
            "</label>\n<input id=\"value\" name=\"value\" type=\"text\" value=\"" + typed("value") +
            "\">\n";
  }
  main += "<label for=\"note\">" + EscapeHtml(text_.note_label) +
          "</label>\n<textarea id=\"note\" name=\"note\" rows=\"4\">" + typed("note") +
          "</textarea>\n";
  main += "<button type=\"submit\">" + EscapeHtml(text_.send_code) + "</button>\n</form>\n";
  HttpResponse page = HtmlAnswer(Page(title, main), status, false);
  page.headers.insert(page.headers.end(), response.headers.begin(), response.headers.end());
  return page;
}

HttpResponse Centre::VerifyForm(const HttpRequest& request, const std::string& action,
                                std::string_view message, bool is_error, int status) {
  HttpResponse cookies;
  std::string cookie = FormCookie(request, &cookies);
  std::string main = "<h1>" + EscapeHtml(text_.verify_heading) + "</h1>\n<p class=\"lead\">" +
                     EscapeHtml(text_.verify_lead) + "</p>\n";
  if (is_error) {
    main += ErrorSummary(text_, message);
  } else if (!message.empty()) {
    main += "<p class=\"notice-ok\" role=\"status\">" + EscapeHtml(message) + "</p>\n";
  }
  main += "<form method=\"post\" action=\"" + action + "/verify\" class=\"stack\" novalidate>\n" +
          CsrfField(cookie) + "\n<label for=\"code\">" + EscapeHtml(text_.code_label) +
          "</label>\n<input id=\"code\" name=\"code\" type=\"text\" inputmode=\"numeric\" "
          "autocomplete=\"one-time-code\" class=\"code\">\n<button type=\"submit\">" +
          EscapeHtml(text_.verify_button) + "</button>\n</form>\n";
  main += "<form method=\"post\" action=\"" + action + "/code\" class=\"inline\">\n" +
          CsrfField(cookie) + "\n<button type=\"submit\" class=\"secondary\">" +
          EscapeHtml(text_.resend_button) + "</button>\n</form>\n";
  HttpResponse page = HtmlAnswer(Page(text_.verify_heading, main), status, false);
  page.headers.insert(page.headers.end(), cookies.headers.begin(), cookies.headers.end());
  return page;
}

HttpResponse Centre::RequestPage(const HttpRequest& request, const std::string& id) {
  Session session;
  if (!SessionOpens(request, id, &session)) {
    return Message(text_.forbidden_heading, text_.error_session, 403);
  }
  auto view = engine_.ViewRequest(id, "requester");
  if (!view.ok()) return Message(text_.forbidden_heading, text_.error_session, 403);
  const store::RequestRow& row = view->row;
  HttpResponse cookies;
  std::string cookie = FormCookie(request, &cookies);
  StateWords words = WordsFor(text_, row);
  std::string main = "<h1>" + EscapeHtml(text_.request_heading) + "</h1>\n<dl class=\"facts\">\n";
  auto fact = [&](std::string_view term, const std::string& value_html) {
    main += "<div><dt>" + EscapeHtml(term) + "</dt><dd>" + value_html + "</dd></div>\n";
  };
  fact(text_.request_kind, EscapeHtml(text_.RightTitle(row.type)));
  fact(text_.request_state, "<strong class=\"state\">" + EscapeHtml(words.name) + "</strong>");
  fact(text_.request_received, row.received_at.Date().ToString());
  fact(text_.request_due, row.due_at ? "<strong>" + row.due_at->Date().ToString() + "</strong>"
                                     : EscapeHtml(text_.request_due_unset));
  main += "</dl>\n<h2>" + EscapeHtml(text_.request_next) + "</h2>\n<p>" + EscapeHtml(words.next) +
          "</p>\n";
  const bool copy = row.type == "access" || row.type == "portability";
  if (row.state == store::RequestState::kCompleted && copy && !view->personal_parts_shredded) {
    main += "<h2>" + EscapeHtml(text_.download_heading) + "</h2>\n<p>" +
            EscapeHtml(text_.next_completed_copy) + "</p>\n<ul class=\"downloads\">\n";
    const std::string at = base_ + "requests/" + id + "/copy.";
    if (row.type == "access") {
      main += "<li><a href=\"" + at + "html\" download>" + EscapeHtml(text_.download_html) +
              "</a></li>\n";
    }
    main += "<li><a href=\"" + at + "json\" download>" + EscapeHtml(text_.download_json) +
            "</a></li>\n";
    if (row.type == "portability") {
      main += "<li><a href=\"" + at + "csv\" download>" + EscapeHtml(text_.download_csv) +
              "</a></li>\n";
    }
    main += "</ul>\n";
  }
  if (row.type == "rectification" || row.type == "erasure" || row.type == "restriction") {
    main += "<h2>" + EscapeHtml(text_.recipients_heading) + "</h2>\n";
    auto told = engine_.RequestRecipients(id);
    if (!told.ok() || told->empty()) {
      main += "<p>" + EscapeHtml(text_.recipients_none) + "</p>\n";
    } else {
      main += "<ul>\n";
      for (const auto& notice : *told) {
        main +=
            "<li>" + EscapeHtml(notice.name.empty() ? notice.recipient : notice.name) + "</li>\n";
      }
      main += "</ul>\n";
    }
  }
  main += "<h2>" + EscapeHtml(text_.request_history) + "</h2>\n<ol class=\"history\">\n";
  auto StateNameOf = [&](store::RequestState state) {
    store::RequestRow at_step;
    at_step.state = state;
    return WordsFor(text_, at_step).name;
  };
  for (size_t i = 0; i < view->history.size(); ++i) {
    const auto& event = view->history[i];
    // One line per change of state (codes sent, read or retried do not change it).
    if (i > 0 && view->history[i - 1].state == event.state) continue;
    main += "<li><time datetime=\"" + event.at.ToString() + "\">" + event.at.Date().ToString() +
            "</time> " + EscapeHtml(StateNameOf(event.state)) + "</li>\n";
  }
  main += "</ol>\n";
  const std::string action = base_ + "requests/" + id;
  if (engine::IsOpen(row.state)) {
    main += "<h2>" + EscapeHtml(text_.withdraw_heading) + "</h2>\n<form method=\"post\" action=\"" +
            action + "/withdraw\" class=\"inline\" data-confirm=\"" +
            EscapeHtml(text_.withdraw_confirm) + "\">\n" + CsrfField(cookie) +
            "\n<button type=\"submit\" class=\"secondary\">" + EscapeHtml(text_.withdraw_button) +
            "</button>\n</form>\n";
  }
  main += "<form method=\"post\" action=\"" + base_ + "sign-out\" class=\"inline\">\n" +
          CsrfField(cookie) + "\n<button type=\"submit\" class=\"secondary\">" +
          EscapeHtml(text_.sign_out) + "</button>\n</form>\n";
  HttpResponse page = HtmlAnswer(Page(text_.request_heading, main), 200, false);
  page.headers.insert(page.headers.end(), cookies.headers.begin(), cookies.headers.end());
  return page;
}

}  // namespace custos::api
