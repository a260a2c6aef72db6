#include "policy/notice.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>
#include <vector>

#include "policy/taxonomy.h"

namespace custos::policy {

namespace {

// ---------------------------------------------------------------------------------------------
// Words shared by the sections.

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// Collapses runs of whitespace to one space. Leading and trailing spaces are kept (as one space)
// so spans can be concatenated; blocks trim their ends.
std::string CollapseSpace(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_space = false;
  for (char c : text) {
    if (IsSpace(c)) {
      if (!in_space) out += ' ';
      in_space = true;
    } else {
      out += c;
      in_space = false;
    }
  }
  return out;
}

bool Blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return IsSpace(c); });
}

// "a", "a and b", "a, b and c".
std::string JoinWords(const std::vector<std::string>& items, std::string_view last = "and") {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += (i + 1 == items.size()) ? " " + std::string(last) + " " : ", ";
    out += items[i];
  }
  return out;
}

void AddUnique(std::vector<std::string>& items, std::string item) {
  if (std::find(items.begin(), items.end(), item) == items.end()) items.push_back(std::move(item));
}

// Lower-cases the first letter of a name used mid-sentence, unless the name starts with an
// acronym or a proper noun written in capitals ("WIG events" stays as it is).
std::string LowerFirst(std::string_view name) {
  std::string out(name);
  if (out.size() >= 2 && std::isupper(static_cast<unsigned char>(out[0])) &&
      std::islower(static_cast<unsigned char>(out[1]))) {
    out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  }
  return out;
}

std::string KeyToWords(std::string_view key) {
  std::string out(key);
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

// Ends a sentence with a full stop unless it already ends with punctuation.
std::string Sentence(std::string_view text) {
  std::string out = CollapseSpace(text);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (!out.empty() && out.back() != '.' && out.back() != '!' && out.back() != '?') out += '.';
  return out;
}

bool IsSpecial(const Category& category) {
  return category.special || IsInherentlySpecial(category.key);
}

bool IsCriminalOffenceData(std::string_view key) {
  return CategoryCovers("user.criminal_history", key);
}

// A place in a sentence: "the United Kingdom", "Ireland", "the European Economic Area".
std::string PlaceName(std::string_view code) {
  std::string name = CountryName(code);
  if (name.rfind("United ", 0) == 0 || name == "Netherlands") return "the " + name;
  return name;
}

std::vector<std::string> PlaceNames(const std::vector<Ref>& codes) {
  std::vector<std::string> out;
  for (const auto& code : codes) AddUnique(out, PlaceName(code.key));
  return out;
}

std::vector<std::string> CategoryNames(const Policy& policy, const std::vector<Ref>& refs) {
  std::vector<std::string> out;
  for (const auto& ref : refs) AddUnique(out, policy.CategoryName(ref.key));
  return out;
}

std::string SubjectName(const Policy& policy, std::string_view key) {
  const SubjectType* type = policy.FindSubjectType(key);
  if (type != nullptr && !type->name.empty()) return type->name;
  return KeyToWords(key);
}

std::vector<std::string> SubjectNames(const Policy& policy, const std::vector<Ref>& refs) {
  std::vector<std::string> out;
  for (const auto& ref : refs) AddUnique(out, SubjectName(policy, ref.key));
  return out;
}

std::string SourceKindWords(SourceKind kind) {
  switch (kind) {
    case SourceKind::kDirect: return "You give it to us";
    case SourceKind::kThirdParty: return "Others give it to us";
    case SourceKind::kAutomated: return "Collected automatically";
    case SourceKind::kPublic: return "From publicly available sources";
  }
  return "";
}

std::string SourceName(const Policy& policy, std::string_view key) {
  const Source* source = policy.FindSource(key);
  if (source == nullptr) return KeyToWords(key);
  if (!source->name.empty()) return source->name;
  if (source->kind == SourceKind::kDirect) return "You";
  return KeyToWords(key);
}

std::vector<std::string> SourceNames(const Policy& policy, const std::vector<Ref>& refs) {
  std::vector<std::string> out;
  for (const auto& ref : refs) AddUnique(out, SourceName(policy, ref.key));
  return out;
}

std::string RecipientName(const Policy& policy, std::string_view key) {
  const Recipient* recipient = policy.FindRecipient(key);
  if (recipient != nullptr && !recipient->name.empty()) return recipient->name;
  return KeyToWords(key);
}

std::vector<std::string> RecipientNames(const Policy& policy, const std::vector<Ref>& refs) {
  std::vector<std::string> out;
  for (const auto& ref : refs) AddUnique(out, RecipientName(policy, ref.key));
  return out;
}

std::vector<std::string> PurposeNames(const Policy& policy, const std::vector<Ref>& refs) {
  std::vector<std::string> out;
  for (const auto& ref : refs) {
    const Purpose* purpose = policy.FindPurpose(ref.key);
    AddUnique(out,
              purpose != nullptr && !purpose->name.empty() ? purpose->name : KeyToWords(ref.key));
  }
  return out;
}

// The trigger of a retention rule as a clause after "after" ("membership ended").
std::string EventClause(const Policy& policy, std::string_view key) {
  if (key == "collected") return "we collected it";
  if (key == "subject_created") return "we first recorded you";
  if (key == "erasure_requested") return "you asked us to delete it";
  if (key == "consent_withdrawn") return "you withdrew your consent";
  if (key == "objection_made") return "you objected";
  const Event* event = policy.FindEvent(key);
  if (event != nullptr && !event->name.empty()) return LowerFirst(CollapseSpace(event->name));
  return KeyToWords(key);
}

std::string EventResetsClause(const Policy& policy, std::string_view key) {
  const Event* event = policy.FindEvent(key);
  if (event == nullptr || event->resets.empty()) return "";
  std::vector<std::string> names;
  for (const auto& reset : event->resets) AddUnique(names, EventClause(policy, reset.key));
  return "the clock restarts on each " + JoinWords(names, "or");
}

std::string ActionWords(RetentionAction action) {
  switch (action) {
    case RetentionAction::kDelete: return "deleted";
    case RetentionAction::kAnonymise: return "anonymised";
    case RetentionAction::kReview: return "reviewed (we check whether we still need it)";
  }
  return "";
}

// "5 years after membership ended", "immediately after you objected".
std::string WhenClause(const Policy& policy, const RetentionRule& rule) {
  std::string period =
      rule.period.value ? PeriodInWords(*rule.period.value) : std::string(rule.period.text);
  return period + " after " + EventClause(policy, rule.after.key);
}

// The label ("Name and Contact details (Members)") and the rest of a retention rule in words.
std::pair<std::string, std::string> RetentionRuleParts(const Policy& policy,
                                                       const RetentionRule& rule) {
  std::string label = JoinWords(CategoryNames(policy, rule.categories));
  if (!rule.subjects.empty()) label += " (" + JoinWords(SubjectNames(policy, rule.subjects)) + ")";
  std::string rest = ActionWords(rule.action) + " " + WhenClause(policy, rule);
  std::vector<std::string> notes;
  if (std::string resets = EventResetsClause(policy, rule.after.key); !resets.empty()) {
    notes.push_back(resets);
  }
  if (!rule.purposes.empty()) {
    notes.push_back("for data collected for " + JoinWords(PurposeNames(policy, rule.purposes)));
  }
  if (!notes.empty()) rest += " (" + JoinWords(notes, "; ") + ")";
  if (rule.action == RetentionAction::kAnonymise && !rule.keep.empty()) {
    rest += "; we keep " + JoinWords(CategoryNames(policy, rule.keep)) +
            " only in a form that no longer identifies you";
  }
  return {label, rest};
}

std::string RightWords(std::string_view right) {
  if (right == "informed") {
    return "You have the right to be told how we use your personal data. This notice does that.";
  }
  if (right == "access") {
    return "You can ask for a copy of the personal data we hold about you and how we use it.";
  }
  if (right == "rectification") {
    return "You can ask us to correct personal data that is wrong and to complete data that is "
           "incomplete.";
  }
  if (right == "erasure") {
    return "You can ask us to delete your personal data in certain circumstances.";
  }
  if (right == "restriction") {
    return "You can ask us to limit how we use your personal data in certain circumstances, for "
           "example while we check that it is accurate.";
  }
  if (right == "objection") {
    return "You can object to our using your personal data where we rely on legitimate interests "
           "or a public task; we then stop unless we have compelling grounds. You can object to "
           "direct marketing at any time, and we will always stop.";
  }
  if (right == "portability") {
    return "You can ask for the personal data you gave us in a structured, machine-readable "
           "format, for yourself or for another organisation, where we process it by automated "
           "means on the basis of your consent or a contract.";
  }
  if (right == "withdraw_consent") {
    return "Where we rely on your consent, you can withdraw it at any time. This does not affect "
           "what we did before you withdrew it.";
  }
  if (right == "automated_decision_review") {
    return "You can ask for a person to review a decision made about you by automated means "
           "alone, give your point of view and contest the decision.";
  }
  if (right == "marketing_opt_out") {
    return "You can tell us at any time to stop sending you marketing.";
  }
  return "";
}

std::string GroundWords(std::string_view ground) {
  if (ground == "legal_obligation") return "where we must keep or use the data by law";
  if (ground == "legal_claims") return "where we need the data for legal claims";
  if (ground == "research_article_89") {
    return "where the data is used for research, archiving or statistics under safeguards "
           "(Article 89 UK GDPR) and the right would make that impossible or seriously harm it";
  }
  if (ground == "public_task") return "where we need the data for a task in the public interest";
  if (ground == "freedom_of_expression") {
    return "where we need the data for freedom of expression and information";
  }
  if (ground == "crime_prevention") {
    return "where using the right would prejudice the prevention or detection of crime";
  }
  return KeyToWords(ground);
}

std::string ContactPurposeWords(std::string_view purpose) {
  if (purpose == "general") return "General enquiries";
  if (purpose == "rights_requests") return "Requests about your data";
  if (purpose == "complaints") return "Complaints to us";
  if (purpose == "marketing_opt_out") return "Stopping marketing";
  if (purpose == "dpo") return "Data protection officer";
  if (purpose == "security") return "Reporting a security problem";
  return KeyToWords(purpose);
}

// ---------------------------------------------------------------------------------------------
// A small document model, rendered to Markdown or HTML, so both formats say the same thing.

struct Span {
  std::string text;
  bool strong = false;
  std::string href;  // empty: plain text; set only by the Link helpers below (checked schemes)
};
using Inline = std::vector<Span>;

Span Text(std::string_view text) { return Span{std::string(text), false, ""}; }
Span Strong(std::string_view text) { return Span{std::string(text), true, ""}; }

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

std::string Trim(std::string_view text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && IsSpace(text[begin])) ++begin;
  while (end > begin && IsSpace(text[end - 1])) --end;
  return std::string(text.substr(begin, end - begin));
}

// A web address as a link. Only http(s) addresses (or "www." ones, taken as https) become
// links; anything else (javascript:, data:, ...) stays plain text.
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

enum class BlockKind { kHeading, kParagraph, kList, kSectionBegin, kSectionEnd };

struct Block {
  BlockKind kind = BlockKind::kParagraph;
  int level = 0;
  std::string id;
  Inline text;                // heading, paragraph
  std::vector<Inline> items;  // list
};

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

class Document {
 public:
  void BeginSection(int level, std::string id, std::string_view title) {
    Block begin;
    begin.kind = BlockKind::kSectionBegin;
    begin.id = id;
    blocks_.push_back(std::move(begin));
    Heading(level, std::move(id), title);
  }
  void EndSection() {
    Block end;
    end.kind = BlockKind::kSectionEnd;
    blocks_.push_back(std::move(end));
  }
  void Heading(int level, std::string id, std::string_view title) {
    Block block;
    block.kind = BlockKind::kHeading;
    block.level = level;
    block.id = std::move(id);
    block.text = Tidy({Text(title)});
    blocks_.push_back(std::move(block));
  }
  void Para(Inline text) {
    text = Tidy(std::move(text));
    if (text.empty()) return;
    Block block;
    block.kind = BlockKind::kParagraph;
    block.text = std::move(text);
    blocks_.push_back(std::move(block));
  }
  void Para(std::string_view text) { Para(Inline{Text(text)}); }
  void List(std::vector<Inline> items) {
    Block block;
    block.kind = BlockKind::kList;
    for (auto& item : items) {
      Inline tidy = Tidy(std::move(item));
      if (!tidy.empty()) block.items.push_back(std::move(tidy));
    }
    if (!block.items.empty()) blocks_.push_back(std::move(block));
  }
  const std::vector<Block>& blocks() const { return blocks_; }

 private:
  std::vector<Block> blocks_;
};

// "**Label**: value" as a list item.
Inline Labelled(std::string_view label, std::string_view value) {
  return Inline{Strong(label), Text(": " + std::string(value))};
}

// ---------------------------------------------------------------------------------------------
// Markdown.

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

std::string InlineToMarkdown(const Inline& line) {
  std::string out;
  for (size_t i = 0; i < line.size(); ++i) {
    const Span& span = line[i];
    // Heading anchors differ between Markdown renderers, so links within the page are HTML-only.
    if (span.href.rfind('#', 0) == 0) continue;
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

std::string ToMarkdown(const Document& doc) {
  std::string out;
  for (const Block& block : doc.blocks()) {
    switch (block.kind) {
      case BlockKind::kHeading:
        out += std::string(static_cast<size_t>(block.level), '#') + " " +
               InlineToMarkdown(block.text) + "\n\n";
        break;
      case BlockKind::kParagraph: out += InlineToMarkdown(block.text) + "\n\n"; break;
      case BlockKind::kList:
        for (const Inline& item : block.items) out += "- " + InlineToMarkdown(item) + "\n";
        out += "\n";
        break;
      case BlockKind::kSectionBegin:
      case BlockKind::kSectionEnd: break;
    }
  }
  while (out.size() >= 2 && out[out.size() - 1] == '\n' && out[out.size() - 2] == '\n') {
    out.pop_back();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// HTML.

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
  out += "</main>\n</body>\n</html>\n";
  return out;
}

// ---------------------------------------------------------------------------------------------
// The notice itself.

class NoticeWriter {
 public:
  explicit NoticeWriter(const Policy& policy) : p_(policy) {}

  Document Write() {
    doc_.Heading(1, "top", Title());
    IntroductionSection();
    SummarySection();
    doc_.BeginSection(2, "full", "The full notice");
    WhoWeAreSection();
    ContactsSection();
    WhatWeCollectSection();
    SpecialCategoriesSection();
    PurposesSection();
    MarketingProfilingAutomatedSection();
    RecipientsSection();
    TransfersSection();
    RetentionSection();
    RightsSection();
    CookiesSection();
    SecuritySection();
    BreachSection();
    AnonymisationSection();
    ThirdPartyAppsSection();
    ComplaintsSection();
    ChangesSection();
    doc_.EndSection();
    return std::move(doc_);
  }

  std::string Title() const {
    if (!Blank(p_.notice.title)) return p_.notice.title;
    return "Privacy notice of " + p_.controller.name;
  }

 private:
  bool IsProcessor() const { return p_.controller.role == Role::kProcessor; }

  std::string NoticeDate() const {
    return p_.notice.date ? p_.notice.date->ToHuman() : std::string("(undated)");
  }

  // Every category the policy names: declared ones in file order, then keys purposes use
  // without declaring them (fideslang keys need no declaration).
  std::vector<std::string> CollectedCategoryKeys() const {
    std::vector<std::string> keys;
    for (const auto& category : p_.categories) AddUnique(keys, category.key);
    for (const auto& purpose : p_.purposes) {
      for (const auto& ref : purpose.categories) AddUnique(keys, ref.key);
    }
    return keys;
  }

  std::vector<const Category*> SpecialCategoryList() const {
    std::vector<const Category*> out;
    for (const auto& category : p_.categories) {
      if (IsSpecial(category)) out.push_back(&category);
    }
    return out;
  }

  std::vector<std::string> PurposesUsing(std::string_view category_key) const {
    std::vector<std::string> names;
    for (const auto& purpose : p_.purposes) {
      for (const auto& ref : purpose.categories) {
        if (CategoryCovers(ref.key, category_key) || CategoryCovers(category_key, ref.key)) {
          AddUnique(names, purpose.name);
          break;
        }
      }
    }
    return names;
  }

  // A contact point as an inline: "Name: email x, phone y, post: z, website w".
  static void AppendContactDetails(Inline& line, std::string_view email, std::string_view phone,
                                   std::string_view address, std::string_view url) {
    bool first = true;
    auto separator = [&line, &first](std::string_view words) {
      line.push_back(Text(first ? words : ", " + std::string(words)));
      first = false;
    };
    if (!Blank(email)) {
      separator("email ");
      line.push_back(EmailLink(email));
    }
    if (!Blank(phone)) {
      separator("phone ");
      line.push_back(PhoneLink(phone));
    }
    if (!Blank(address)) {
      separator("post: ");
      line.push_back(Text(address));
    }
    if (!Blank(url)) {
      separator("website ");
      line.push_back(UrlLink(url));
    }
  }

  Inline ContactInline(const Contact& contact) const {
    Inline line;
    std::string name = Blank(contact.name) ? ContactPurposeWords(contact.purpose) : contact.name;
    line.push_back(Strong(name));
    Inline details;
    AppendContactDetails(details, contact.email, contact.phone, contact.address, contact.url);
    if (!details.empty()) {
      line.push_back(Text(": "));
      line.insert(line.end(), details.begin(), details.end());
    }
    return line;
  }

  // How to reach us: the general contact, else the controller's own details.
  Inline UsInline() const {
    Inline line;
    const Contact* general = p_.FindContactFor("general");
    if (general != nullptr) {
      AppendContactDetails(line, general->email, general->phone, general->address, general->url);
    }
    if (line.empty()) {
      AppendContactDetails(line, p_.controller.email, p_.controller.phone, "",
                           p_.controller.website);
    }
    return line;
  }

  // The contact for `purpose` (rights_requests, complaints), else the general one.
  Inline ContactFor(std::string_view purpose, const Contact* preferred) const {
    const Contact* contact = preferred != nullptr ? preferred : p_.FindContactFor(purpose);
    if (contact != nullptr) return ContactInline(*contact);
    return UsInline();
  }

  std::string RegionWords() const { return JoinWords(PlaceNames(p_.transfers.regions)); }

  bool OutsideRegions(std::string_view country) const {
    return std::none_of(
        p_.transfers.regions.begin(), p_.transfers.regions.end(),
        [country](const Ref& region) { return RegionIncludes(region.key, country); });
  }

  // ------------------------------------------------------------------------------------------
  void IntroductionSection() {
    std::string line = p_.controller.name + ". Version " + p_.notice.version + ", last updated " +
                       NoticeDate() + ".";
    doc_.Para(line);
    if (!p_.notice.scope.empty()) {
      doc_.Para("This notice covers:");
      std::vector<Inline> items;
      for (const auto& scope : p_.notice.scope) items.push_back({Text(scope)});
      doc_.List(std::move(items));
    }
    if (p_.notice.not_for_children) doc_.Para("Our services are not meant for children.");
  }

  void SummaryItem(std::string id, std::string_view title, std::string_view more_id,
                   std::vector<Inline> paragraphs) {
    doc_.Heading(3, std::move(id), title);
    for (size_t i = 0; i < paragraphs.size(); ++i) {
      Inline paragraph = std::move(paragraphs[i]);
      if (i + 1 == paragraphs.size()) {
        paragraph.push_back(Text(" "));
        paragraph.push_back(Span{"More about this.", false, "#" + std::string(more_id)});
      }
      doc_.Para(std::move(paragraph));
    }
  }

  void SummarySection() {
    doc_.BeginSection(2, "summary", "In short");

    // Who we are.
    std::vector<Inline> who;
    if (IsProcessor()) {
      who.push_back({Text(p_.controller.name +
                          " is a processor for the personal data this notice covers: we process "
                          "it only on the instructions of the organisations whose data it is "
                          "(the controllers).")});
      if (p_.processor.requests == "forward_to_controller") {
        who.push_back(
            {Text("Requests about a controller's data go to that controller; if you "
                  "send one to us, we pass it on to them.")});
      }
    } else {
      who.push_back({Text(p_.controller.name +
                          " is the controller of your personal data: we decide why and how it "
                          "is used.")});
    }
    if (Inline us = UsInline(); !us.empty()) {
      Inline line{Text("Contact us: ")};
      line.insert(line.end(), us.begin(), us.end());
      line.push_back(Text("."));
      who.push_back(std::move(line));
    }
    SummaryItem("summary-who", "Who we are", "who", std::move(who));

    // What we collect.
    std::vector<std::string> keys = CollectedCategoryKeys();
    // The broadest categories only, each where its first member appears in the policy.
    std::vector<std::string> roots;
    for (const auto& key : keys) {
      std::string root = key;
      for (const auto& other : keys) {
        if (other.size() < root.size() && CategoryCovers(other, root)) root = other;
      }
      AddUnique(roots, p_.CategoryName(root));
    }
    std::vector<Inline> collect;
    collect.push_back({Text("We collect: " + JoinWords(roots) + ".")});
    if (auto special = SpecialCategoryList(); !special.empty()) {
      std::vector<std::string> names;
      for (const Category* category : special) AddUnique(names, p_.CategoryName(category->key));
      collect.push_back(
          {Text("This includes special category data, which the law protects "
                "more strongly: " +
                JoinWords(names) + ".")});
    }
    if (!p_.sources.empty()) {
      std::vector<std::string> names;
      for (const auto& source : p_.sources) AddUnique(names, SourceName(p_, source.key));
      collect.push_back({Text("It comes from: " + JoinWords(names) + ".")});
    }
    SummaryItem("summary-collect", "What we collect", "collect", std::move(collect));

    // Why.
    std::vector<std::string> uses;
    std::vector<std::string> bases;
    bool marketing = false;
    bool automated = false;
    for (const auto& purpose : p_.purposes) {
      AddUnique(uses, Blank(purpose.activity) ? purpose.name : purpose.activity);
      AddUnique(bases, LowerFirst(LawfulBasisName(purpose.basis)));
      marketing = marketing || purpose.direct_marketing;
      automated = automated || purpose.automated_decision.present;
    }
    std::vector<Inline> why;
    why.push_back({Text("We use it for: " + JoinWords(uses) + ".")});
    why.push_back({Text("The law lets us do this on these bases: " + JoinWords(bases) + ".")});
    if (marketing) {
      why.push_back({Text("We use some of it for direct marketing; you can say no at any time.")});
    }
    if (automated) {
      why.push_back(
          {Text("Some decisions are made by automated means alone; you can ask for a "
                "person to review them.")});
    }
    SummaryItem("summary-why", "Why we use it", "purposes", std::move(why));

    // Who gets it.
    std::vector<Inline> share;
    if (p_.recipients.empty()) {
      share.push_back(
          {Text("We do not share your personal data with anyone outside our "
                "organisation.")});
    } else {
      std::vector<std::string> names;
      for (const auto& recipient : p_.recipients) AddUnique(names, recipient.name);
      share.push_back({Text("We share it with: " + JoinWords(names) + ".")});
    }
    if (!p_.transfers.regions.empty()) {
      if (p_.transfers.outside == TransferRule::kForbidden) {
        share.push_back({Text("Your personal data never leaves " + RegionWords() + ".")});
      } else if (AnyRecipientOutside()) {
        share.push_back({Text("Some of it goes outside " + RegionWords() +
                              ", protected by the safeguards the law requires.")});
      } else {
        share.push_back({Text("We and the organisations we share it with process it in " +
                              RegionWords() + ".")});
      }
    }
    SummaryItem("summary-share", "Who we share it with", "recipients", std::move(share));

    // How long.
    std::vector<std::string> whens;
    std::vector<std::string> actions;
    for (const auto& rule : p_.retention) {
      AddUnique(whens, WhenClause(p_, rule));
      std::string action = rule.action == RetentionAction::kDelete      ? "delete"
                           : rule.action == RetentionAction::kAnonymise ? "anonymise"
                                                                        : "review";
      AddUnique(actions, action);
    }
    std::vector<Inline> retention;
    if (!whens.empty()) {
      retention.push_back(
          {Text("We keep each kind of data for a set time, then " + JoinWords(actions, "or") +
                " it: " + JoinWords(whens, "or") + ", depending on the data.")});
    }
    SummaryItem("summary-retention", "How long we keep it", "retention", std::move(retention));

    // Rights.
    std::vector<std::string> rights;
    for (const auto& right : p_.rights.available) AddUnique(rights, std::string(RightName(right)));
    std::vector<Inline> your_rights;
    your_rights.push_back({Text("Your rights: " + JoinWords(rights) + ".")});
    std::string answer;
    if (p_.rights.response_period.value) {
      answer = "We answer within " + PeriodInWords(*p_.rights.response_period.value) + ".";
    }
    if (p_.rights.fee == "none") answer += " There is no fee.";
    if (!Blank(answer)) your_rights.push_back({Text(answer)});
    if (IsProcessor() && p_.processor.requests == "forward_to_controller") {
      your_rights.push_back({Text("Requests about a controller's data go to that controller.")});
    }
    SummaryItem("summary-rights", "Your rights", "rights", std::move(your_rights));

    // Complaints.
    std::vector<Inline> complain;
    Inline line;
    if (p_.regulator.first_contact_us) {
      line.push_back(Text("Please tell us first, so we can try to put things right. "));
    }
    line.push_back(Text("You can complain to a regulator: " + p_.regulator.name));
    Inline details;
    AppendContactDetails(details, "", p_.regulator.phone, "", p_.regulator.website);
    if (!details.empty()) {
      line.push_back(Text(" ("));
      line.insert(line.end(), details.begin(), details.end());
      line.push_back(Text(")"));
    }
    line.push_back(Text("."));
    complain.push_back(std::move(line));
    SummaryItem("summary-complain", "How to complain", "complain", std::move(complain));

    doc_.EndSection();
  }

  bool AnyRecipientOutside() const {
    for (const auto& recipient : p_.recipients) {
      for (const auto& country : recipient.countries) {
        if (OutsideRegions(country.key)) return true;
      }
    }
    return false;
  }

  // ------------------------------------------------------------------------------------------
  void WhoWeAreSection() {
    doc_.BeginSection(3, "who", "Who we are");
    const Controller& c = p_.controller;
    std::vector<Inline> items;
    items.push_back(Labelled("Name", c.name));
    if (!Blank(c.legal_name)) items.push_back(Labelled("Legal name", c.legal_name));
    if (!Blank(c.represents)) items.push_back(Labelled("Who is behind this name", c.represents));
    if (!Blank(c.company_number)) items.push_back(Labelled("Company number", c.company_number));
    if (!Blank(c.registration)) items.push_back(Labelled("Registration", c.registration));
    if (!Blank(c.address)) items.push_back(Labelled("Address", c.address));
    if (!Blank(c.email)) items.push_back({Strong("Email"), Text(": "), EmailLink(c.email)});
    if (!Blank(c.phone)) items.push_back({Strong("Phone"), Text(": "), PhoneLink(c.phone)});
    if (!Blank(c.website)) items.push_back({Strong("Website"), Text(": "), UrlLink(c.website)});
    doc_.List(std::move(items));

    if (!IsProcessor()) {
      doc_.Para(
          "We are the controller of the personal data this notice describes: we decide why "
          "and how it is processed, and we are responsible for it under UK data "
          "protection law.");
    } else {
      doc_.Para(
          "For the personal data this notice covers we are a processor, not the "
          "controller: we process it on behalf of other organisations (the controllers) "
          "and only on their instructions. The controllers decide why and how it is used "
          "and are responsible for it.");
      if (!Blank(p_.processor.controllers)) {
        doc_.Para({Strong("Whose data it is"), Text(": " + p_.processor.controllers)});
      }
      if (!Blank(p_.processor.instructions)) {
        doc_.Para(
            {Strong("How we act on their instructions"), Text(": " + p_.processor.instructions)});
      }
      if (p_.processor.requests == "forward_to_controller") {
        doc_.Para(
            "Requests about a controller's data go to that controller: for example, "
            "requests about a school's data go to the school. If you send such a request "
            "to us, we pass it on to the controller, who answers it.");
      }
      if (p_.processor.breach_notify_controller) {
        doc_.Para(
            "If a personal data breach affects a controller's data, we tell that "
            "controller.");
      }
    }
    doc_.EndSection();
  }

  void ContactsSection() {
    if (!p_.dpo.present && p_.contacts.empty()) return;
    doc_.BeginSection(3, "contacts", "Data protection officer and contacts");
    if (p_.dpo.present) {
      Inline line{Strong("Data protection officer"), Text(": ")};
      Inline details;
      AppendContactDetails(details, p_.dpo.email, p_.dpo.phone, p_.dpo.address, "");
      if (!Blank(p_.dpo.name)) line.push_back(Text(p_.dpo.name + (details.empty() ? "" : ", ")));
      line.insert(line.end(), details.begin(), details.end());
      doc_.Para(std::move(line));
    }
    // Contacts grouped under their purpose, purposes in the order first used.
    std::vector<std::string> purposes;
    for (const auto& contact : p_.contacts) AddUnique(purposes, contact.purpose);
    for (const auto& purpose : purposes) {
      doc_.Para({Strong(ContactPurposeWords(purpose))});
      std::vector<Inline> items;
      for (const auto& contact : p_.contacts) {
        if (contact.purpose == purpose) items.push_back(ContactInline(contact));
      }
      doc_.List(std::move(items));
    }
    doc_.EndSection();
  }

  void WhatWeCollectSection() {
    doc_.BeginSection(3, "collect", "What we collect and where it comes from");
    doc_.Para("These are the kinds of personal data we collect:");
    std::vector<Inline> items;
    for (const auto& key : CollectedCategoryKeys()) {
      const Category* category = p_.FindCategory(key);
      std::string text;
      if (category != nullptr) {
        if (!Blank(category->description)) text += Sentence(category->description);
        if (!category->examples.empty()) {
          text += " For example: " + JoinWords(category->examples) + ".";
        }
        if (IsSpecial(*category)) {
          text += IsCriminalOffenceData(key) ? " This is criminal offence data."
                                             : " This is special category data.";
        }
      }
      if (Blank(text)) {
        items.push_back({Strong(p_.CategoryName(key))});
      } else {
        items.push_back(Labelled(p_.CategoryName(key), text));
      }
    }
    doc_.List(std::move(items));

    if (!p_.subject_types.empty()) {
      doc_.Heading(4, "subjects", "Whom this notice is about");
      std::vector<Inline> people;
      for (const auto& type : p_.subject_types) {
        std::string name = Blank(type.name) ? KeyToWords(type.key) : type.name;
        if (Blank(type.description)) {
          people.push_back({Strong(name)});
        } else {
          people.push_back(Labelled(name, type.description));
        }
      }
      doc_.List(std::move(people));
    }

    if (!p_.sources.empty()) {
      doc_.Heading(4, "sources", "Where it comes from");
      for (SourceKind kind : {SourceKind::kDirect, SourceKind::kThirdParty, SourceKind::kAutomated,
                              SourceKind::kPublic}) {
        std::vector<Inline> sources;
        for (const auto& source : p_.sources) {
          if (source.kind != kind) continue;
          std::string name = SourceName(p_, source.key);
          if (Blank(source.description)) {
            sources.push_back({Strong(name)});
          } else {
            sources.push_back(Labelled(name, source.description));
          }
        }
        if (sources.empty()) continue;
        doc_.Para({Strong(SourceKindWords(kind))});
        doc_.List(std::move(sources));
      }
    }
    doc_.EndSection();
  }

  void SpecialCategoriesSection() {
    auto special = SpecialCategoryList();
    if (special.empty()) return;
    doc_.BeginSection(3, "special", "Special category data");
    doc_.Para(
        "Some of the data we collect is special category data (or criminal offence "
        "data), which the law protects more strongly. We process it only under these "
        "conditions:");
    std::vector<Inline> items;
    for (const Category* category : special) {
      std::string text;
      std::string_view letter = Article9Letter(category->condition);
      text = std::string(ConditionInWords(category->condition));
      if (IsCriminalOffenceData(category->key)) {
        text += " (criminal offence data: Article 10 UK GDPR";
        if (!letter.empty()) text += ", with the condition of " + std::string(letter);
        text += ")";
      } else if (!letter.empty()) {
        text += " (" + std::string(letter) + " UK GDPR)";
      }
      text += ".";
      if (auto uses = PurposesUsing(category->key); !uses.empty()) {
        text += " Used for: " + JoinWords(uses) + ".";
      }
      items.push_back(Labelled(p_.CategoryName(category->key), text));
    }
    doc_.List(std::move(items));
    doc_.EndSection();
  }

  void PurposesSection() {
    doc_.BeginSection(3, "purposes", "Why we use your data and our lawful basis");
    doc_.Para(
        "For each use of your data the law requires a lawful basis (Article 6 UK GDPR). "
        "These are our uses and the basis for each.");
    for (const auto& purpose : p_.purposes) {
      // Several purposes may share a name (one notice row, several bases): the basis tells
      // them apart.
      size_t same_name =
          std::count_if(p_.purposes.begin(), p_.purposes.end(),
                        [&purpose](const Purpose& other) { return other.name == purpose.name; });
      std::string heading = purpose.name;
      if (same_name > 1) heading += " (" + LowerFirst(LawfulBasisName(purpose.basis)) + ")";
      doc_.Heading(4, "purpose-" + purpose.key, heading);
      if (!Blank(purpose.description)) doc_.Para(purpose.description);
      std::vector<Inline> items;
      std::string basis = std::string(LawfulBasisName(purpose.basis));
      if (!LawfulBasisArticle(purpose.basis).empty()) {
        basis += " (" + std::string(LawfulBasisArticle(purpose.basis)) + " UK GDPR)";
      }
      items.push_back(Labelled("Lawful basis", basis));
      if (!Blank(purpose.interest)) {
        items.push_back(Labelled("Our legitimate interest", purpose.interest));
      }
      if (!Blank(purpose.obligation)) {
        items.push_back(Labelled(purpose.basis == LawfulBasis::kPublicTask
                                     ? "The official authority we rely on"
                                     : "The legal obligation we rely on",
                                 purpose.obligation));
      }
      if (!Blank(purpose.activity)) items.push_back(Labelled("Part of", purpose.activity));
      items.push_back(Labelled("Data used", JoinWords(CategoryNames(p_, purpose.categories))));
      if (!purpose.subjects.empty()) {
        items.push_back(Labelled("About", JoinWords(SubjectNames(p_, purpose.subjects))));
      }
      if (!purpose.sources.empty()) {
        items.push_back(Labelled("Comes from", JoinWords(SourceNames(p_, purpose.sources))));
      }
      if (!purpose.recipients.empty()) {
        items.push_back(Labelled("Shared with", JoinWords(RecipientNames(p_, purpose.recipients))));
      }
      if (!purpose.channels.empty()) {
        std::vector<std::string> channels;
        for (const auto& channel : purpose.channels) AddUnique(channels, ChannelWords(channel));
        items.push_back(Labelled("How we contact you", JoinWords(channels)));
      }
      if (!Blank(purpose.necessary_for_service)) {
        items.push_back(Labelled("If you do not give us this data", purpose.necessary_for_service));
      }
      if (purpose.basis == LawfulBasis::kConsent) {
        std::string text = "You can withdraw your consent at any time. ";
        text += purpose.on_withdrawal == "keep_obtained"
                    ? "We then stop collecting data for this purpose, but may continue to use "
                      "the data we already obtained."
                    : "We then stop using your data for this purpose.";
        items.push_back(Labelled("Your consent", text));
      }
      if (purpose.direct_marketing) {
        items.push_back(
            Labelled("Direct marketing", "You can object at any time, and we will then stop."));
      }
      doc_.List(std::move(items));
    }
    doc_.EndSection();
  }

  static std::string ChannelWords(std::string_view channel) {
    if (channel == "email") return "email";
    if (channel == "sms") return "SMS text message";
    if (channel == "post") return "post";
    if (channel == "phone") return "phone";
    if (channel == "in_app") return "messages in the app";
    if (channel == "push") return "push notifications";
    return KeyToWords(channel);
  }

  void MarketingProfilingAutomatedSection() {
    doc_.BeginSection(3, "marketing", "Direct marketing, profiling and automated decisions");
    std::vector<Inline> marketing;
    std::vector<Inline> profiling;
    bool soft_opt_in = false;
    for (const auto& purpose : p_.purposes) {
      if (purpose.direct_marketing) {
        std::string text;
        if (!purpose.channels.empty()) {
          std::vector<std::string> channels;
          for (const auto& channel : purpose.channels) AddUnique(channels, ChannelWords(channel));
          text = "by " + JoinWords(channels, "or") + ". ";
        }
        text += std::string("Lawful basis: ") + std::string(LawfulBasisName(purpose.basis)) + ".";
        if (purpose.soft_opt_in) {
          soft_opt_in = true;
          text +=
              " As an existing customer, you may receive it without having asked for it, "
              "about our similar products and services, unless you opt out (PECR regulation "
              "22(3)).";
        }
        marketing.push_back(Labelled(purpose.name, text));
      }
      if (purpose.profiling) {
        profiling.push_back(Labelled(purpose.name, Blank(purpose.description)
                                                       ? "we analyse your data to make "
                                                         "predictions about you."
                                                       : purpose.description));
      }
    }
    bool any_automated =
        std::any_of(p_.purposes.begin(), p_.purposes.end(),
                    [](const Purpose& purpose) { return purpose.automated_decision.present; });
    if (marketing.empty() && profiling.empty() && !any_automated) {
      // Nothing is said about automated decisions that no purpose declares: no seed promises
      // their absence, and a notice must not promise more than the policy states.
      doc_.Para("We do not use your personal data for direct marketing or profiling.");
      doc_.EndSection();
      return;
    }
    if (!marketing.empty()) {
      doc_.Para({Strong("Direct marketing")});
      doc_.List(std::move(marketing));
      std::string text =
          "You can object to direct marketing at any time, and we will then stop using your data "
          "for it (Article 21(3) UK GDPR).";
      if (soft_opt_in) text += " Every marketing message tells you how to opt out.";
      doc_.Para(text);
    } else {
      doc_.Para("We do not use your personal data for direct marketing.");
    }
    if (!profiling.empty()) {
      doc_.Para({Strong("Profiling")});
      doc_.Para(
          "Profiling means using your data to analyse or predict things about you, such as "
          "your interests. We do this for:");
      doc_.List(std::move(profiling));
    }
    if (any_automated) {
      doc_.Para({Strong("Decisions made by automated means alone")});
      std::vector<Inline> items;
      for (const auto& purpose : p_.purposes) {
        const AutomatedDecision& decision = purpose.automated_decision;
        if (!decision.present) continue;
        std::string text = "made by automated means alone, without a person involved.";
        if (!Blank(decision.logic)) text += " How it works: " + Sentence(decision.logic);
        if (!Blank(decision.significance)) {
          text += " What it means for you: " + Sentence(decision.significance);
        }
        if (decision.human_review) {
          text +=
              " You can ask for a person to review the decision, give your point of view and "
              "contest it.";
        }
        items.push_back(Labelled(purpose.name, text));
      }
      doc_.List(std::move(items));
    }
    doc_.EndSection();
  }

  void RecipientsSection() {
    doc_.BeginSection(3, "recipients", "Who we share it with");
    if (p_.recipients.empty()) {
      doc_.Para("We do not share your personal data with anyone outside our organisation.");
      doc_.EndSection();
      return;
    }
    for (RecipientKind kind :
         {RecipientKind::kProcessor, RecipientKind::kSubProcessor, RecipientKind::kJointController,
          RecipientKind::kThirdParty, RecipientKind::kProfessionalAdviser,
          RecipientKind::kRegulator, RecipientKind::kAuthority, RecipientKind::kInternal,
          RecipientKind::kOtherUsers, RecipientKind::kPublic}) {
      std::vector<Inline> items;
      for (const auto& recipient : p_.recipients) {
        if (recipient.kind != kind) continue;
        items.push_back(Labelled(recipient.name, RecipientText(recipient)));
      }
      if (items.empty()) continue;
      doc_.Para({Strong(RecipientKindName(kind))});
      doc_.List(std::move(items));
    }
    doc_.EndSection();
  }

  std::string RecipientText(const Recipient& recipient) const {
    std::string text;
    if (!Blank(recipient.description)) text += Sentence(recipient.description) + " ";
    if (!Blank(recipient.when)) text += "When: " + Sentence(recipient.when) + " ";
    if (recipient.processor_of) {
      text += "Works for " + RecipientName(p_, recipient.processor_of->key) + ". ";
    }
    if (!recipient.countries.empty()) {
      text += "Where: " + JoinWords(PlaceNames(recipient.countries)) + ". ";
    }
    bool outside = std::any_of(recipient.countries.begin(), recipient.countries.end(),
                               [this](const Ref& country) { return OutsideRegions(country.key); });
    if (outside && !Blank(recipient.safeguard)) {
      text += "Protected by " + std::string(SafeguardInWords(recipient.safeguard)) + ". ";
    }
    if (!recipient.categories.empty()) {
      text += "Sees only: " + JoinWords(CategoryNames(p_, recipient.categories)) + ". ";
    }
    if (recipient.visibility == "user_settings") {
      text += "You control what they see in your settings. ";
    } else if (recipient.visibility == "on_request") {
      text += "Only when you ask us to. ";
    }
    return text;
  }

  void TransfersSection() {
    doc_.BeginSection(3, "transfers", "International transfers");
    if (!p_.transfers.regions.empty()) {
      doc_.Para("We keep and process your personal data in " + RegionWords() + ".");
    }
    if (p_.transfers.outside == TransferRule::kForbidden) {
      doc_.Para("Your personal data never leaves " + RegionWords() +
                ": none of the organisations we share it with processes it anywhere else.");
    } else {
      std::vector<Inline> items;
      for (const auto& recipient : p_.recipients) {
        std::vector<std::string> outside;
        for (const auto& country : recipient.countries) {
          if (OutsideRegions(country.key)) AddUnique(outside, PlaceName(country.key));
        }
        if (outside.empty()) continue;
        std::string text = "in " + JoinWords(outside) + ", protected by " +
                           std::string(SafeguardInWords(recipient.safeguard)) + ".";
        if (!Blank(recipient.safeguard_note)) text += " " + Sentence(recipient.safeguard_note);
        items.push_back(Labelled(recipient.name, text));
      }
      if (items.empty()) {
        doc_.Para("None of the organisations we share it with processes it outside " +
                  RegionWords() + ".");
      } else {
        doc_.Para("These organisations process some of your data outside " + RegionWords() +
                  ", protected by a safeguard the law recognises:");
        doc_.List(std::move(items));
      }
    }
    if (!Blank(p_.transfers.note)) doc_.Para(p_.transfers.note);
    doc_.EndSection();
  }

  void RetentionSection() {
    doc_.BeginSection(3, "retention", "How long we keep it");
    doc_.Para(
        "We keep each kind of personal data only for the time below, then act on it as "
        "stated.");
    std::vector<Inline> items;
    bool anonymise = false;
    for (const auto& rule : p_.retention) {
      auto [label, rest] = RetentionRuleParts(p_, rule);
      std::string text = rest + ".";
      if (!Blank(rule.description)) text += " " + Sentence(rule.description);
      items.push_back(Labelled(label, text));
      anonymise = anonymise || rule.action == RetentionAction::kAnonymise;
    }
    doc_.List(std::move(items));
    if (anonymise) {
      doc_.Para("Anonymised data can no longer identify you; it is no longer personal data.");
    }
    doc_.EndSection();
  }

  void RightsSection() {
    doc_.BeginSection(3, "rights", "Your rights");
    const Rights& r = p_.rights;
    std::vector<Inline> items;
    for (const auto& right : r.available) {
      items.push_back(Labelled(RightName(right), RightWords(right)));
    }
    doc_.List(std::move(items));

    const Contact* contact = r.contact ? p_.FindContact(r.contact->key) : nullptr;
    Inline how{Text("To make a request, contact: ")};
    Inline details = ContactFor("rights_requests", contact);
    if (!details.empty()) {
      how.insert(how.end(), details.begin(), details.end());
      how.push_back(Text("."));
      doc_.Para(std::move(how));
    }
    if (IsProcessor() && p_.processor.requests == "forward_to_controller") {
      doc_.Para(
          "Where we process your data for a controller, your request goes to that "
          "controller; if you send it to us, we pass it on to them.");
    }
    std::string timing;
    if (r.response_period.value) {
      timing = "We respond within " + PeriodInWords(*r.response_period.value) +
               " of receiving your request.";
    }
    if (r.extension_max && r.extension_max->value) {
      timing += " If your request is complex or you make several, we may take up to " +
                PeriodInWords(*r.extension_max->value) + " more";
      if (!Blank(r.extension_when)) timing += " (" + Trim(CollapseSpace(r.extension_when)) + ")";
      timing += "; if so, we tell you";
      if (r.extension_notify_within && r.extension_notify_within->value) {
        timing += " within " + PeriodInWords(*r.extension_notify_within->value);
      }
      timing += " and explain why.";
    }
    doc_.Para(timing);
    if (r.fee == "none") {
      doc_.Para("You do not have to pay a fee.");
    } else if (r.fee == "reasonable_if_unfounded_or_excessive") {
      doc_.Para(
          "You do not normally have to pay a fee, but we may charge a reasonable fee if a "
          "request is clearly unfounded or excessive.");
    }
    if (r.refuse_if_unfounded_or_excessive) {
      doc_.Para(
          "We may refuse a request that is clearly unfounded or excessive; if we do, we "
          "tell you why.");
    }
    if (r.identity_verification_required) {
      std::string text = "We may need to confirm your identity before we act on a request";
      if (!r.identity_methods.empty()) {
        std::vector<std::string> methods;
        for (const auto& method : r.identity_methods) AddUnique(methods, KeyToWords(method));
        text += ", for example by " + JoinWords(methods, "or");
      }
      text += ".";
      if (!Blank(r.identity_note)) text += " " + Sentence(r.identity_note);
      doc_.Para(text);
    }
    if (!r.exemptions.empty()) {
      doc_.Para("Some rights do not apply in every case:");
      std::vector<Inline> exemptions;
      for (const auto& exemption : r.exemptions) {
        std::string text = "may not apply " + GroundWords(exemption.ground);
        if (!exemption.purposes.empty()) {
          text += ", for " + JoinWords(PurposeNames(p_, exemption.purposes));
        }
        if (!exemption.categories.empty()) {
          text += ", to " + JoinWords(CategoryNames(p_, exemption.categories));
        }
        text += ".";
        if (!Blank(exemption.description)) text += " " + Sentence(exemption.description);
        exemptions.push_back(Labelled(RightName(exemption.right), text));
      }
      doc_.List(std::move(exemptions));
    }
    doc_.EndSection();
  }

  void CookiesSection() {
    if (p_.cookies.empty()) return;
    doc_.BeginSection(3, "cookies", "Cookies");
    std::vector<Inline> items;
    for (const auto& cookie : p_.cookies) {
      std::string text;
      if (!Blank(cookie.description)) text += Sentence(cookie.description) + " ";
      text += cookie.consent_required
                  ? "We set these only if you consent, and you can change your choice at any "
                    "time."
                  : "These are strictly necessary, so they do not need your consent.";
      if (!Blank(cookie.duration)) text += " How long they last: " + Sentence(cookie.duration);
      if (!cookie.examples.empty()) text += " For example: " + JoinWords(cookie.examples) + ".";
      if (!cookie.third_parties.empty()) {
        text += " Set by: " + JoinWords(cookie.third_parties) + ".";
      }
      items.push_back(Labelled(Blank(cookie.name) ? KeyToWords(cookie.key) : cookie.name, text));
    }
    doc_.List(std::move(items));
    doc_.EndSection();
  }

  void SecuritySection() {
    if (p_.security.empty()) return;
    doc_.BeginSection(3, "security", "How we protect your data");
    std::vector<Inline> items;
    for (const auto& measure : p_.security) items.push_back({Text(Sentence(measure.description))});
    doc_.List(std::move(items));
    doc_.EndSection();
  }

  void BreachSection() {
    const BreachProcess& b = p_.breach;
    if (!b.present) return;
    doc_.BeginSection(3, "breach", "If there is a data breach");
    if (!Blank(b.description)) doc_.Para(b.description);
    std::vector<Inline> items;
    if (b.notify_regulator_within && b.notify_regulator_within->value) {
      items.push_back(
          {Text("Where the law requires it, we report a personal data breach to " +
                p_.regulator.name + " within " + PeriodInWords(*b.notify_regulator_within->value) +
                " of becoming aware of it.")});
    }
    if (b.notify_controller) {
      items.push_back(
          {Text("If the breach affects data we process for a controller, we tell "
                "that controller without undue delay.")});
    }
    if (b.notify_subjects == "when_high_risk") {
      items.push_back(
          {Text("If the breach is likely to put your rights and freedoms at high "
                "risk, we tell you without undue delay.")});
    } else if (b.notify_subjects == "always") {
      items.push_back({Text("We tell you about any breach that affects your personal data.")});
    } else if (b.notify_subjects == "never") {
      items.push_back({Text("We do not tell people individually about a breach.")});
    }
    doc_.List(std::move(items));
    doc_.EndSection();
  }

  void AnonymisationSection() {
    const Anonymisation& a = p_.anonymisation;
    if (!a.present) return;
    doc_.BeginSection(3, "anonymisation", "Anonymised information we share");
    if (!Blank(a.description)) doc_.Para(a.description);
    if (a.small_cell_threshold > 0) {
      doc_.Para("In figures we share, we leave out any group of fewer than " +
                std::to_string(a.small_cell_threshold) +
                " people, so that no one can be picked out.");
    }
    if (!a.shared_with.empty()) {
      std::vector<std::string> names;
      for (const auto& with : a.shared_with) {
        const Recipient* recipient = p_.FindRecipient(with);
        AddUnique(names, recipient != nullptr ? recipient->name : with);
      }
      doc_.Para("We may share anonymised information with: " + JoinWords(names) + ".");
    }
    doc_.EndSection();
  }

  void ThirdPartyAppsSection() {
    const ThirdPartyApps& t = p_.third_party_apps;
    if (!t.present) return;
    doc_.BeginSection(3, "apps", "Third-party apps");
    if (!Blank(t.description)) doc_.Para(t.description);
    if (!Blank(t.authorised_by)) {
      std::string text = "A third-party app gets access to data only when " +
                         Trim(CollapseSpace(t.authorised_by)) + " authorises it";
      text += t.revocable ? ", and that permission can be revoked at any time." : ".";
      doc_.Para(text);
    } else if (t.revocable) {
      doc_.Para("Permission for a third-party app can be revoked at any time.");
    }
    doc_.EndSection();
  }

  void ComplaintsSection() {
    doc_.BeginSection(3, "complain", "How to complain");
    const Contact* complaints = p_.FindContactFor("complaints");
    if (p_.regulator.first_contact_us) {
      Inline line{
          Text("We would like the chance to put things right first, so please contact "
               "us before you go to the regulator: ")};
      Inline details = ContactFor("complaints", complaints);
      line.insert(line.end(), details.begin(), details.end());
      line.push_back(Text("."));
      doc_.Para(std::move(line));
    } else if (complaints != nullptr) {
      Inline line{Text("You can complain to us: ")};
      Inline details = ContactInline(*complaints);
      line.insert(line.end(), details.begin(), details.end());
      line.push_back(Text("."));
      doc_.Para(std::move(line));
    }
    doc_.Para("You have the right to complain to a data protection regulator: " +
              p_.regulator.name + ".");
    const Regulator& reg = p_.regulator;
    std::vector<Inline> items;
    if (!Blank(reg.address)) items.push_back(Labelled("Address", reg.address));
    if (!Blank(reg.phone)) items.push_back({Strong("Phone"), Text(": "), PhoneLink(reg.phone)});
    if (!Blank(reg.website)) {
      items.push_back({Strong("Website"), Text(": "), UrlLink(reg.website)});
    }
    doc_.List(std::move(items));
    if (!Blank(reg.other_regulators)) {
      doc_.Para("You can also complain to " + Trim(CollapseSpace(reg.other_regulators)) + ".");
    }
    doc_.EndSection();
  }

  void ChangesSection() {
    doc_.BeginSection(3, "changes", "Changes to this notice");
    doc_.Para("This is version " + p_.notice.version + " of this notice, last updated " +
              NoticeDate() + ".");
    if (!Blank(p_.notice.changes)) {
      doc_.Para(p_.notice.changes);
    } else {
      doc_.Para("If we change this notice, we publish the new version here.");
    }
    if (!Blank(p_.notice.url)) {
      doc_.Para({Text("The current version is at "), UrlLink(p_.notice.url), Text(".")});
    }
    doc_.EndSection();
  }

  const Policy& p_;
  Document doc_;
};

}  // namespace

std::string PeriodInWords(const IsoPeriod& period) {
  std::string words = period.ToHuman();
  // "1 month" reads as a number in a table; a notice says "one month".
  if (words.rfind("1 ", 0) == 0) words.replace(0, 1, "one");
  return words;
}

std::string DescribeRetentionRule(const Policy& policy, const RetentionRule& rule) {
  auto [label, rest] = RetentionRuleParts(policy, rule);
  return label + ": " + rest;
}

std::string_view ConditionInWords(std::string_view condition) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kWords = {{
      {"explicit_consent", "your explicit consent"},
      {"employment_social_security",
       "our obligations and rights in employment, social security and social protection law"},
      {"vital_interests",
       "protecting your vital interests, or someone else's, when consent cannot be given"},
      {"not_for_profit_body",
       "the legitimate activities of a not-for-profit body, about its members or regular "
       "contacts"},
      {"made_public", "data you have manifestly made public yourself"},
      {"legal_claims", "establishing, exercising or defending legal claims"},
      {"substantial_public_interest", "reasons of substantial public interest"},
      {"health_social_care", "the provision of health or social care"},
      {"public_health", "reasons of public interest in public health"},
      {"archiving_research_statistics",
       "archiving, scientific or historical research, or statistics, in the public interest"},
  }};
  for (const auto& [key, words] : kWords) {
    if (key == condition) return words;
  }
  return condition;
}

std::string_view SafeguardInWords(std::string_view safeguard) {
  if (safeguard == "adequacy") {
    return "UK adequacy regulations (the country is recognised as protecting personal data "
           "adequately)";
  }
  if (safeguard == "idta") return "the International Data Transfer Agreement (IDTA)";
  if (safeguard == "uk_addendum_scc") {
    return "the EU standard contractual clauses with the UK Addendum";
  }
  if (safeguard == "scc") return "standard contractual clauses";
  if (safeguard == "bcr") return "binding corporate rules";
  if (safeguard == "derogation") {
    return "a derogation for a specific situation (Article 49 UK GDPR)";
  }
  if (safeguard.empty()) return "no stated safeguard";
  return safeguard;
}

std::string RightInWords(std::string_view right) { return RightWords(right); }

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

std::string EscapeMarkdown(std::string_view text) {
  std::string collapsed = CollapseSpace(text);
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

std::string RenderNotice(const Policy& policy, NoticeFormat format) {
  NoticeWriter writer(policy);
  Document doc = writer.Write();
  if (format == NoticeFormat::kHtml) return ToHtml(doc, writer.Title());
  return ToMarkdown(doc) + "\n";
}

}  // namespace custos::policy
