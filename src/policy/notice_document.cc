// The notice's document model: spans, links with checked schemes, and blocks, with no format
// of its own, so Markdown and HTML say the same thing.
#include <algorithm>
#include <cctype>
#include <utility>

#include "policy/notice_internal.h"

namespace custos::policy::notice_internal {

namespace {

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

// Trims the outer ends of a line and collapses inner whitespace of every span.
Inline Tidy(Inline line) {
  for (auto& span : line) span.text = CollapseSpace(span.text);
  while (!line.empty() && Blank(line.front().text)) line.erase(line.begin());
  while (!line.empty() && Blank(line.back().text)) line.pop_back();
  if (!line.empty()) {
    auto& first = line.front().text;
    first.erase(0, first.find_first_not_of(' '));
    auto& last = line.back().text;
    last.erase(last.find_last_not_of(' ') + 1);
  }
  return line;
}

}  // namespace

Span Text(std::string_view text) { return Span{std::string(text), false, ""}; }
Span Strong(std::string_view text) { return Span{std::string(text), true, ""}; }

Span UrlLink(std::string_view url) {
  std::string trimmed = Trim(url);
  bool has_space = std::any_of(trimmed.begin(), trimmed.end(), [](char c) { return IsSpace(c); });
  if (!has_space) {
    if (StartsWithNoCase(trimmed, "https://") || StartsWithNoCase(trimmed, "http://")) {
      return Span{trimmed, false, trimmed};
    }
    if (StartsWithNoCase(trimmed, "www.")) return Span{trimmed, false, "https://" + trimmed};
  }
  return Text(url);
}

Span EmailLink(std::string_view email) {
  std::string trimmed = Trim(email);
  bool plain = trimmed.find('@') != std::string::npos &&
               std::none_of(trimmed.begin(), trimmed.end(), [](char c) {
                 return IsSpace(c) || c == ':' || c == '/' || c == '?' || c == '#';
               });
  if (plain) return Span{trimmed, false, "mailto:" + trimmed};
  return Text(email);
}

Span PhoneLink(std::string_view phone) {
  std::string digits;
  for (char c : phone) {
    if ((c >= '0' && c <= '9') || (c == '+' && digits.empty())) {
      digits += c;
    } else if (!(c == ' ' || c == '-' || c == '(' || c == ')')) {
      return Text(phone);  // not just a number: no link
    }
  }
  if (digits.size() < 3) return Text(phone);
  return Span{Trim(phone), false, "tel:" + digits};
}

void Document::BeginSection(int level, std::string id, std::string_view title) {
  Block begin;
  begin.kind = BlockKind::kSectionBegin;
  begin.id = id;
  blocks_.push_back(std::move(begin));
  Heading(level, std::move(id), title);
}

void Document::EndSection() {
  Block end;
  end.kind = BlockKind::kSectionEnd;
  blocks_.push_back(std::move(end));
}

void Document::Heading(int level, std::string id, std::string_view title) {
  Block block;
  block.kind = BlockKind::kHeading;
  block.level = level;
  block.id = std::move(id);
  block.text = Tidy({Text(title)});
  blocks_.push_back(std::move(block));
}

void Document::Para(Inline text) {
  text = Tidy(std::move(text));
  if (text.empty()) return;
  Block block;
  block.kind = BlockKind::kParagraph;
  block.text = std::move(text);
  blocks_.push_back(std::move(block));
}

void Document::Para(std::string_view text) { Para(Inline{Text(text)}); }

void Document::List(std::vector<Inline> items) {
  Block block;
  block.kind = BlockKind::kList;
  for (auto& item : items) {
    Inline tidy = Tidy(std::move(item));
    if (!tidy.empty()) block.items.push_back(std::move(tidy));
  }
  if (!block.items.empty()) blocks_.push_back(std::move(block));
}

void Document::InsertBefore(size_t index, int level, std::string id, std::string_view title,
                            std::vector<Inline> items) {
  Document section;
  section.BeginSection(level, std::move(id), title);
  section.List(std::move(items));
  section.EndSection();
  if (index > blocks_.size()) index = blocks_.size();
  blocks_.insert(blocks_.begin() + static_cast<std::ptrdiff_t>(index),
                 std::make_move_iterator(section.blocks_.begin()),
                 std::make_move_iterator(section.blocks_.end()));
}

Inline Labelled(std::string_view label, std::string_view value) {
  return Inline{Strong(label), Text(": " + std::string(value))};
}

}  // namespace custos::policy::notice_internal
