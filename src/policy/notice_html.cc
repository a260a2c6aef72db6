// How the notice is written in HTML: a standalone page with no external resources.
#include <string>

#include "policy/notice.h"
#include "policy/notice_internal.h"

namespace custos::policy::notice_internal {

namespace {

std::string InlineToHtml(const Inline& line) {
  std::string out;
  for (const Span& span : line) {
    std::string text = EscapeHtml(span.text);
    if (!span.href.empty()) {
      out += "<a href=\"" + EscapeHtml(span.href) + "\">" + text + "</a>";
    } else if (span.strong) {
      out += "<strong>" + text + "</strong>";
    } else {
      out += text;
    }
  }
  return out;
}

constexpr std::string_view kStyle =
    "body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;line-height:1.55;"
    "max-width:46rem;margin:0 auto;padding:1.5rem;color:#1b1b1b;background:#fff}"
    "h1{font-size:1.9rem}h2{margin-top:2.5rem;border-bottom:2px solid #ddd}"
    "h3{margin-top:1.8rem}h4{margin-bottom:.3rem}li{margin:.3rem 0}"
    "a{color:#0b57d0}a:focus{outline:3px solid #f9a825}"
    "#summary{background:#f4f7fb;padding:.5rem 1.2rem 1rem;border-radius:.5rem}"
    "@media (prefers-color-scheme:dark){body{color:#eee;background:#121212}"
    "#summary{background:#1e2530}a{color:#8ab4f8}}";

// The blocks of `doc` as HTML elements, headings with their ids.
std::string BlocksToHtml(const Document& doc) {
  std::string out;
  for (const Block& block : doc.blocks()) {
    switch (block.kind) {
      case BlockKind::kHeading: {
        std::string tag = "h" + std::to_string(block.level);
        out += "<" + tag;
        if (!block.id.empty()) out += " id=\"" + EscapeHtml(block.id) + "\"";
        out += ">" + InlineToHtml(block.text) + "</" + tag + ">\n";
        break;
      }
      case BlockKind::kParagraph: out += "<p>" + InlineToHtml(block.text) + "</p>\n"; break;
      case BlockKind::kList:
        out += "<ul>\n";
        for (const Inline& item : block.items) out += "<li>" + InlineToHtml(item) + "</li>\n";
        out += "</ul>\n";
        break;
      case BlockKind::kSectionBegin:
        out += "<section aria-labelledby=\"" + EscapeHtml(block.id) + "\">\n";
        break;
      case BlockKind::kSectionEnd: out += "</section>\n"; break;
    }
  }
  return out;
}

}  // namespace

std::string ToHtml(const Document& doc, std::string_view title) {
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  // Nothing is loaded from elsewhere; the policy cannot add scripts even if escaping failed.
  out +=
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'\">\n";
  out += "<title>" + EscapeHtml(CollapseSpace(title)) + "</title>\n";
  out += "<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n<main>\n";
  out += BlocksToHtml(doc);
  out += "</main>\n</body>\n</html>\n";
  return out;
}

}  // namespace custos::policy::notice_internal

namespace custos::policy {

std::string EscapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace custos::policy

namespace custos::policy {

NoticeFragment RenderNoticeFragment(const Policy& policy) {
  notice_internal::NoticeComposer composer(policy);
  notice_internal::Document doc = composer.Write();
  NoticeFragment fragment;
  fragment.title = notice_internal::CollapseSpace(composer.Title());
  fragment.html = notice_internal::BlocksToHtml(doc);
  for (const notice_internal::Block& block : doc.blocks()) {
    if (block.kind != notice_internal::BlockKind::kHeading || block.level < 2 || block.level > 3 ||
        block.id.empty()) {
      continue;
    }
    std::string title;
    for (const notice_internal::Span& span : block.text) title += span.text;
    fragment.contents.push_back({block.level, block.id, notice_internal::CollapseSpace(title)});
  }
  return fragment;
}

}  // namespace custos::policy
