// How a line of the notice is written in HTML, and the notice as a fragment for a page that
// brings its own head (the privacy centre). The page itself is a template (notice_templates.cc).
#include <string>

#include "policy/notice.h"
#include "policy/notice_internal.h"

namespace custos::policy::notice_internal {

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

NoticeFragment RenderNoticeFragment(const Policy& policy, const NoticeTemplates& templates) {
  notice_internal::WordsInForce words(&templates.words);
  notice_internal::NoticeComposer composer(policy);
  notice_internal::Document doc = composer.Write();
  NoticeFragment fragment;
  fragment.title = notice_internal::CollapseSpace(composer.Title());
  fragment.html = notice_internal::WriteBlocksHtml(doc, templates);
  for (const notice_internal::Block& block : doc.blocks()) {
    // The page's own contents list leaves out the notice's ("Contents" is not a place to go).
    if (block.kind != notice_internal::BlockKind::kHeading || block.level < 2 || block.level > 3 ||
        block.id.empty() || block.id == "contents") {
      continue;
    }
    std::string title;
    for (const notice_internal::Span& span : block.text) title += span.text;
    fragment.contents.push_back({block.level, block.id, notice_internal::CollapseSpace(title)});
  }
  return fragment;
}

}  // namespace custos::policy
