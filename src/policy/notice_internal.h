// Private to the notice renderer (src/policy/notice*.cc): not part of the API. Public callers
// use notice.h.
//
// The notice is made in two steps, kept apart so that what it says and how it is written can
// change independently:
// - what it says: NoticeComposer builds a Document from the Policy, section by section
//   (notice_composer.cc: the frame and the shared queries; notice_summary.cc: "In short";
//   notice_data_sections.cc, notice_sharing_sections.cc, notice_rights_sections.cc: the full
//   notice), in the words of notice_wording.cc;
// - how it is written: InlineToMarkdown (notice_markdown.cc) and InlineToHtml (notice_html.cc)
//   write its lines, and WriteNotice (notice_templates.cc) lays the blocks out through Mustache
//   templates (templates/notice/, or the policy's own); none of them knows what the policy says.
//
// All functions are pure (no I/O) and reentrant. Thread-safety: safe to call concurrently; a
// Document or a NoticeComposer is not shared between threads.
#ifndef CUSTOS_POLICY_NOTICE_INTERNAL_H_
#define CUSTOS_POLICY_NOTICE_INTERNAL_H_

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/notice.h"
#include "policy/policy.h"

namespace custos::policy::notice_internal {

// ---------------------------------------------------------------------------------------------
// Text (notice_wording.cc).

bool IsSpace(char c);

// Collapses runs of whitespace to one space. Leading and trailing spaces are kept (as one space)
// so spans can be concatenated; blocks trim their ends.
std::string CollapseSpace(std::string_view text);

// True when `text` is empty or only whitespace.
bool Blank(std::string_view text);

// `text` without leading and trailing whitespace.
std::string Trim(std::string_view text);

// ---------------------------------------------------------------------------------------------
// Translation (notice_templates.cc): every English phrase the notice composes goes through Tr.

// The organisation's translation of `english` (its words file: docs/NOTICE-TEMPLATES.md), or
// `english` itself when it has none or no words are in force on this thread.
std::string Tr(std::string_view english);

// Puts `words` (English phrase -> translation) in force on this thread for its lifetime.
class WordsInForce {
 public:
  explicit WordsInForce(const std::map<std::string, std::string>* words);
  ~WordsInForce();
  WordsInForce(const WordsInForce&) = delete;
  WordsInForce& operator=(const WordsInForce&) = delete;

 private:
  const std::map<std::string, std::string>* previous_;
};

// ---------------------------------------------------------------------------------------------
// Words shared by the sections (notice_wording.cc).

// "a", "a and b", "a, b and c".
std::string JoinWords(const std::vector<std::string>& items, std::string_view last = "and");

// Appends `item` unless `items` already holds it.
void AddUnique(std::vector<std::string>& items, std::string item);

// Lower-cases the first letter of a name used mid-sentence, unless the name starts with an
// acronym or a proper noun written in capitals ("WIG events" stays as it is).
std::string LowerFirst(std::string_view name);

// A policy key in words: "rights_requests" -> "rights requests".
std::string KeyToWords(std::string_view key);

// Ends a sentence with a full stop unless it already ends with punctuation.
std::string Sentence(std::string_view text);

// Special category data: declared so, or special by its fideslang key.
bool IsSpecial(const Category& category);

bool IsCriminalOffenceData(std::string_view key);

// A place in a sentence: "the United Kingdom", "Ireland", "the European Economic Area".
std::string PlaceName(std::string_view code);
std::vector<std::string> PlaceNames(const std::vector<Ref>& codes);

// The names the policy gives to what `refs` point at, each once, in order; a key the policy
// does not name is written in words.
std::vector<std::string> CategoryNames(const Policy& policy, const std::vector<Ref>& refs);
std::vector<std::string> SubjectNames(const Policy& policy, const std::vector<Ref>& refs);
std::string SourceName(const Policy& policy, std::string_view key);
std::vector<std::string> SourceNames(const Policy& policy, const std::vector<Ref>& refs);
std::string RecipientName(const Policy& policy, std::string_view key);
std::vector<std::string> RecipientNames(const Policy& policy, const std::vector<Ref>& refs);
std::vector<std::string> PurposeNames(const Policy& policy, const std::vector<Ref>& refs);

// A heading over the sources of one kind: "You give it to us".
std::string SourceKindWords(SourceKind kind);

// "5 years after membership ended", "immediately after you objected".
std::string WhenClause(const Policy& policy, const RetentionRule& rule);

// The label ("Name and Contact details (Members)") and the rest of a retention rule in words.
std::pair<std::string, std::string> RetentionRuleParts(const Policy& policy,
                                                       const RetentionRule& rule);

// Where an exemption from a right applies: "where we must keep or use the data by law".
std::string GroundWords(std::string_view ground);

// A heading over the contacts for one purpose: "Requests about your data".
std::string ContactPurposeWords(std::string_view purpose);

// A marketing channel: "SMS text message".
std::string ChannelWords(std::string_view channel);

// ---------------------------------------------------------------------------------------------
// The document model (notice_document.cc): what the notice says, with no format of its own.

struct Span {
  std::string text;
  bool strong = false;
  std::string href;  // empty: plain text; set only by the Link helpers below (checked schemes)
};
using Inline = std::vector<Span>;

Span Text(std::string_view text);
Span Strong(std::string_view text);

// A web address as a link. Only http(s) addresses (or "www." ones, taken as https) become
// links; anything else (javascript:, data:, ...) stays plain text.
Span UrlLink(std::string_view url);

// An email address as a mailto: link, or plain text when it does not look like one.
Span EmailLink(std::string_view email);

// A telephone number as a tel: link, or plain text when it is not just a number.
Span PhoneLink(std::string_view phone);

// "**Label**: value" as a list item.
Inline Labelled(std::string_view label, std::string_view value);

enum class BlockKind { kHeading, kParagraph, kList, kSectionBegin, kSectionEnd };

struct Block {
  BlockKind kind = BlockKind::kParagraph;
  int level = 0;
  std::string id;
  Inline text;                // heading, paragraph
  std::vector<Inline> items;  // list
};

// The notice as a list of blocks. Every line is tidied when added (ends trimmed, inner
// whitespace collapsed); empty paragraphs, list items and lists are left out.
class Document {
 public:
  // A section: its heading (with `id` as anchor) now, its end at EndSection.
  void BeginSection(int level, std::string id, std::string_view title);
  void EndSection();
  void Heading(int level, std::string id, std::string_view title);
  void Para(Inline text);
  void Para(std::string_view text);
  void List(std::vector<Inline> items);
  // Inserts a whole section (heading and one list) before the block at `index`.
  void InsertBefore(size_t index, int level, std::string id, std::string_view title,
                    std::vector<Inline> items);
  const std::vector<Block>& blocks() const { return blocks_; }

 private:
  std::vector<Block> blocks_;
};

// ---------------------------------------------------------------------------------------------
// How it is written.

// One line of the document in Markdown (notice_markdown.cc) or HTML (notice_html.cc), every
// policy string escaped.
std::string InlineToMarkdown(const Inline& line);
std::string InlineToHtml(const Inline& line);

// The document laid out by `templates`, else the default ones (templates/notice/), ending with
// one newline (notice_templates.cc). The page's fields: `title`, `organisation`, `date` as the
// notice gives them.
std::string WriteNotice(const Document& doc, const Policy& policy, const NoticeTemplates& templates,
                        NoticeFormat format, std::string_view title, std::string_view organisation,
                        std::string_view date);

// The blocks of the document as HTML elements, laid out by the block template.
std::string WriteBlocksHtml(const Document& doc, const NoticeTemplates& templates);

// ---------------------------------------------------------------------------------------------
// What it says: the notice of one policy, section by section.

class NoticeComposer {
 public:
  explicit NoticeComposer(const Policy& policy) : p_(policy) {}

  // The whole notice: the title, the summary, then the full notice. Call once.
  Document Write();

  std::string Title() const;

  // The controller as the notice names it in a sentence: its legal name when it has one (the
  // body that is responsible), else its name.
  std::string ControllerName() const;

  // The notice's date as the policy gives it ("May 2020"), else its date in words.
  std::string NoticeDate() const;

 private:
  // Queries over the policy that several sections share (notice_composer.cc).
  bool IsProcessor() const;

  // Every category the policy names: declared ones in file order, then keys purposes use
  // without declaring them (fideslang keys need no declaration).
  std::vector<std::string> CollectedCategoryKeys() const;

  std::vector<const Category*> SpecialCategoryList() const;

  // A contact point as an inline: "Name: email x, phone y, post: z, website w".
  static void AppendContactDetails(Inline& line, std::string_view email, std::string_view phone,
                                   std::string_view address, std::string_view url);

  Inline ContactInline(const Contact& contact) const;

  // How to reach us: the general contact, else the controller's own details.
  Inline UsInline() const;

  // The contact for `purpose` (rights_requests, complaints), else the general one.
  Inline ContactFor(std::string_view purpose, const Contact* preferred) const;

  std::string RegionWords() const;

  // The organisation's own statements for `section` (notice.statements), each a paragraph.
  void Statements(std::string_view section);
  bool HasStatements(std::string_view section) const;

  // False for a recipient whose notice names no transfer safeguard.
  static bool SafeguardStated(const Recipient& recipient);

  // A table of contents: a link to each section of the full notice (inserted after "In short").
  void TableOfContents();
  bool OutsideRegions(std::string_view country) const;

  // The frame and who we are (notice_composer.cc).
  void IntroductionSection();
  void WhoWeAreSection();
  void ContactsSection();
  void ChangesSection();

  // "In short" (notice_summary.cc).
  void SummaryItem(std::string id, std::string_view title, std::string_view more_id,
                   std::vector<Inline> paragraphs);
  void SummarySection();
  bool AnyRecipientOutside() const;
  // True when the policy says where every recipient processes the data (each has a country).
  bool AllRecipientsPlaced() const;

  // The data and its uses (notice_data_sections.cc).
  void WhatWeCollectSection();
  std::vector<std::string> PurposesUsing(std::string_view category_key) const;
  void SpecialCategoriesSection();
  void PurposesSection();
  void MarketingProfilingAutomatedSection();
  void CookiesSection();
  void RetentionSection();

  // Who else gets it (notice_sharing_sections.cc).
  void RecipientsSection();
  std::string RecipientText(const Recipient& recipient) const;
  void TransfersSection();
  void AnonymisationSection();
  void ThirdPartyAppsSection();

  // Your rights and how your data is protected (notice_rights_sections.cc).
  void RightsSection();
  void SecuritySection();
  void BreachSection();
  void ComplaintsSection();
  void ChildrenSection();
  void LinksSection();
  void GlossarySection();

  const Policy& p_;
  Document doc_;
};

}  // namespace custos::policy::notice_internal

#endif  // CUSTOS_POLICY_NOTICE_INTERNAL_H_
