// How the notice is written in Markdown.
#include <cctype>
#include <string>

#include "policy/notice.h"
#include "policy/notice_internal.h"

namespace custos::policy::notice_internal {

namespace {

// Escapes a block's first characters so policy text cannot start a heading, list or quote.
std::string EscapeMarkdownLineStart(std::string_view text) {
  std::string out = EscapeMarkdown(text);
  if (out.empty()) return out;
  if (out[0] == '-' || out[0] == '+' || out[0] == '=' || out[0] == '>') return "\\" + out;
  size_t digits = 0;
  while (digits < out.size() && out[digits] >= '0' && out[digits] <= '9') ++digits;
  if (digits > 0 && digits < out.size() && (out[digits] == '.' || out[digits] == ')')) {
    out.insert(digits, "\\");
  }
  return out;
}

// Link destinations in <...> form: no spaces, angle brackets or newlines can end them early.
std::string EscapeMarkdownUrl(std::string_view url) {
  std::string out;
  for (char c : url) {
    switch (c) {
      case '<': out += "%3C"; break;
      case '>': out += "%3E"; break;
      case ' ': out += "%20"; break;
      case '\n': out += "%0A"; break;
      case '\r': out += "%0D"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

std::string InlineToMarkdown(const Inline& line) {
  std::string out;
  for (size_t i = 0; i < line.size(); ++i) {
    const Span& span = line[i];
    // Heading anchors differ between Markdown renderers, so links within the page are HTML-only:
    // a link that is the whole line (a table of contents entry) stays as plain text, one that
    // adds to a line ("More about this.") is left out.
    if (span.href.rfind('#', 0) == 0 && line.size() > 1) continue;
    if (span.href.rfind('#', 0) == 0) {
      out += EscapeMarkdownLineStart(span.text);
      continue;
    }
    std::string text = i == 0 ? EscapeMarkdownLineStart(span.text) : EscapeMarkdown(span.text);
    if (!span.href.empty()) {
      out += "[" + text + "](<" + EscapeMarkdownUrl(span.href) + ">)";
    } else if (span.strong) {
      out += "**" + text + "**";
    } else {
      out += text;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace custos::policy::notice_internal

namespace custos::policy {

std::string EscapeMarkdown(std::string_view text) {
  std::string collapsed = notice_internal::CollapseSpace(text);
  std::string out;
  out.reserve(collapsed.size());
  for (size_t i = 0; i < collapsed.size(); ++i) {
    char c = collapsed[i];
    switch (c) {
      case '\\':
      case '`':
      case '*':
      case '_':
      case '[':
      case ']':
      case '<':
      case '>':
      case '|':
      case '~':
      case '#':
        out += '\\';
        out += c;
        break;
      case '&': {
        // Only an entity-like "&name;" or "&#..." would be decoded by a Markdown renderer.
        char next = i + 1 < collapsed.size() ? collapsed[i + 1] : ' ';
        if (std::isalnum(static_cast<unsigned char>(next)) || next == '#') out += '\\';
        out += c;
        break;
      }
      default: out += c;
    }
  }
  return out;
}

}  // namespace custos::policy
