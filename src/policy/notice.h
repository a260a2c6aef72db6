// The privacy notice a person reads, generated only from a Policy.
//
// RenderNotice produces a layered notice: a short summary first (who we are, what we collect,
// why, who gets it, how long, your rights, how to complain), then the full notice with every
// promise of the policy in plain words. Markdown and a standalone HTML5 page (no external
// resources, every policy string escaped) are rendered from one document model, so the two
// formats always say the same thing; Mustache templates lay the model out, and a policy may bring
// its own to brand or translate the page.
//
// The helpers below are the words the notice uses; the RoPA (ropa.h) and the tests reuse them so
// every document states a retention period or a right the same way.
//
// All functions but LoadNoticeTemplates are pure (no I/O) and reentrant. Thread-safety: safe to
// call concurrently.
#ifndef CUSTOS_POLICY_NOTICE_H_
#define CUSTOS_POLICY_NOTICE_H_

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/period.h"
#include "common/status.h"
#include "policy/policy.h"

namespace custos::policy {

enum class NoticeFormat { kMarkdown, kHtml };

// The organisation's own templates a notice is laid out with, and its words (see
// LoadNoticeTemplates); empty: the defaults (templates/notice/) in English.
struct NoticeTemplates {
  std::map<std::string, std::string> layouts;  // "page.html" -> its Mustache source
  std::map<std::string, std::string> words;    // an English phrase of the notice -> translation
  bool empty() const { return layouts.empty() && words.empty(); }
};

// Returns the notice for `policy` in `format`. Never fails: fields the policy leaves out are
// left out of the notice (it never states a promise the policy does not make).
// REQUIRES: `policy` is valid (ValidatePolicy reported nothing); an invalid policy still renders
// but may mention unresolved keys.
// PII: none (a policy holds no personal data).
std::string RenderNotice(const Policy& policy, NoticeFormat format,
                         const NoticeTemplates& templates = {});

// The HTML notice as a fragment for a page that brings its own head and styles (the privacy
// centre): its blocks as elements (headings keep their ids, every policy string escaped), and
// the table of contents: the level (2 or 3), id and words of each heading below the title, in
// order.
struct NoticeFragment {
  struct Entry {
    int level = 2;
    std::string id, text;
  };
  std::string title;
  std::string html;
  std::vector<Entry> contents;
};
NoticeFragment RenderNoticeFragment(const Policy& policy, const NoticeTemplates& templates = {});

// A period in plain English: "5 years", "one month", "72 hours", "immediately".
std::string PeriodInWords(const IsoPeriod& period);

// One retention rule in plain words, e.g. "Contact details (Members): deleted 5 years after
// membership ended (the clock restarts on each website login or product booking)". Does not
// include the rule's own `description`.
std::string DescribeRetentionRule(const Policy& policy, const RetentionRule& rule);

// The Article 9(2) condition in words ("your explicit consent"); the key itself if unknown.
std::string_view ConditionInWords(std::string_view condition);

// A transfer safeguard in words ("the International Data Transfer Agreement (IDTA)").
std::string_view SafeguardInWords(std::string_view safeguard);

// What a right lets the person do, in one or two plain sentences ("You can ask for a copy of
// the personal data we hold about you and how we use it."); "" for a right custos does not know.
std::string RightInWords(std::string_view right);

// The templates a notice is laid out with (docs/NOTICE-TEMPLATES.md): Mustache sources named
// "page.html", "block.html", "page.md" and "block.md", built in from templates/notice/. An
// organisation's own (a folder given to `custos notice --templates` or `serve
// --notice-templates`) replace them by name and add partials of their own ("header.html" is
// {{>header}} in the HTML templates).
//
// The default template `name`; "" for a name that has none.
std::string_view DefaultNoticeTemplate(std::string_view name);

// Why `source` is not a Mustache template, e.g. "Unclosed section \"list\" at 12"; "" when it
// is one.
std::string NoticeTemplateError(std::string_view source);

// True when `name` (without its format, e.g. "header") may name a template: letters, digits,
// '-' and '_', and not a field of the template data ("title", "content", "text", ...).
bool IsNoticeTemplateName(std::string_view name);

// Reads every NAME.html.mustache and NAME.md.mustache file of `dir`, and its words.yaml (a map
// from the notice's English phrases, templates/notice/phrases.txt, to the organisation's).
// Fails (INVALID_ARGUMENT, naming the file, the line where there is one, and the fix) for a
// template that does not parse, a name that is not allowed, another file in the folder, or a
// words file that is not a map of text to text; IO_ERROR when the folder or a file cannot be
// read.
// I/O: reads files (the only function of the notice that does).
Result<NoticeTemplates> LoadNoticeTemplates(const std::string& dir);

// Escapes text for HTML element content and double- or single-quoted attribute values:
// & < > " ' become character references.
std::string EscapeHtml(std::string_view text);

// Escapes text for inline Markdown: characters that start emphasis, code, links, HTML, tables
// or headings are backslash-escaped, and runs of whitespace (including newlines) become one
// space, so policy text cannot change the notice's structure.
std::string EscapeMarkdown(std::string_view text);

}  // namespace custos::policy

#endif  // CUSTOS_POLICY_NOTICE_H_
