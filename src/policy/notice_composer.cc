// What the notice says: the frame (section order, title, introduction), the queries over the
// policy that several sections share, and the sections about who we are and how the notice
// changes.
#include <algorithm>

#include "policy/notice_internal.h"

namespace custos::policy::notice_internal {

Document NoticeComposer::Write() {
  doc_.Heading(1, "top", Title());
  IntroductionSection();
  SummarySection();
  doc_.BeginSection(2, "full", Tr("The full notice"));
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
  ChildrenSection();
  LinksSection();
  ComplaintsSection();
  ChangesSection();
  GlossarySection();
  doc_.EndSection();
  TableOfContents();
  return std::move(doc_);
}

void NoticeComposer::TableOfContents() {
  // Every section of the full notice (level 3), in order, as a list of links placed after
  // "In short", so a reader can go straight to the part they need.
  std::vector<Inline> items;
  size_t full = 0;
  const auto& blocks = doc_.blocks();
  for (size_t i = 0; i < blocks.size(); ++i) {
    const Block& block = blocks[i];
    if (block.kind == BlockKind::kSectionBegin && block.id == "full") full = i;
    if (block.kind != BlockKind::kHeading || block.level != 3 || full == 0) continue;
    std::string title;
    for (const auto& span : block.text) title += span.text;
    items.push_back({Span{title, false, "#" + block.id}});
  }
  if (items.empty()) return;
  doc_.InsertBefore(full, 2, "contents", Tr("Contents"), std::move(items));
}

std::string NoticeComposer::Title() const {
  if (!Blank(p_.notice.title)) return p_.notice.title;
  return Tr("Privacy notice of ") + p_.controller.name;
}

bool NoticeComposer::IsProcessor() const { return p_.controller.role == Role::kProcessor; }

std::string NoticeComposer::NoticeDate() const {
  if (!Blank(p_.notice.date_text)) return Trim(p_.notice.date_text);
  return p_.notice.date ? p_.notice.date->ToHuman() : std::string();
}

std::string NoticeComposer::ControllerName() const {
  return Blank(p_.controller.legal_name) ? p_.controller.name : Trim(p_.controller.legal_name);
}

bool NoticeComposer::HasStatements(std::string_view section) const {
  return std::any_of(p_.notice.statements.begin(), p_.notice.statements.end(),
                     [section](const Statement& s) { return s.section == section; });
}

void NoticeComposer::Statements(std::string_view section) {
  for (const auto& statement : p_.notice.statements) {
    if (statement.section == section) doc_.Para(statement.text);
  }
}

void NoticeComposer::ChildrenSection() {
  if (!HasStatements("children")) return;
  doc_.BeginSection(3, "children", Tr("Children"));
  Statements("children");
  doc_.EndSection();
}

void NoticeComposer::LinksSection() {
  if (!HasStatements("links")) return;
  doc_.BeginSection(3, "links", Tr("Links to other websites"));
  Statements("links");
  doc_.EndSection();
}

void NoticeComposer::GlossarySection() {
  if (p_.notice.glossary.empty()) return;
  doc_.BeginSection(3, "glossary", Tr("Glossary"));
  std::vector<Inline> items;
  for (const auto& entry : p_.notice.glossary) items.push_back(Labelled(entry.term, entry.meaning));
  doc_.List(std::move(items));
  doc_.EndSection();
}

std::vector<std::string> NoticeComposer::CollectedCategoryKeys() const {
  std::vector<std::string> keys;
  for (const auto& category : p_.categories) AddUnique(keys, category.key);
  for (const auto& purpose : p_.purposes) {
    for (const auto& ref : purpose.categories) {
      // An undeclared fideslang parent (user.contact) stands for what the policy declares
      // beneath it, which is listed already: never a kind of data of its own under the
      // taxonomy's label.
      bool declared_beneath =
          p_.FindCategory(ref.key) == nullptr &&
          std::any_of(p_.categories.begin(), p_.categories.end(),
                      [&ref](const Category& c) { return CategoryCovers(ref.key, c.key); });
      if (!declared_beneath) AddUnique(keys, ref.key);
    }
  }
  return keys;
}

std::vector<const Category*> NoticeComposer::SpecialCategoryList() const {
  std::vector<const Category*> out;
  for (const auto& category : p_.categories) {
    if (IsSpecial(category)) out.push_back(&category);
  }
  return out;
}

void NoticeComposer::AppendContactDetails(Inline& line, std::string_view email,
                                          std::string_view phone, std::string_view address,
                                          std::string_view url) {
  bool first = true;
  auto separator = [&line, &first](std::string_view words) {
    line.push_back(Text(first ? words : ", " + std::string(words)));
    first = false;
  };
  if (!Blank(email)) {
    separator(Tr("email "));
    line.push_back(EmailLink(email));
  }
  if (!Blank(phone)) {
    separator(Tr("phone "));
    line.push_back(PhoneLink(phone));
  }
  if (!Blank(address)) {
    separator(Tr("post: "));
    line.push_back(Text(address));
  }
  if (!Blank(url)) {
    separator(Tr("website "));
    line.push_back(UrlLink(url));
  }
}

Inline NoticeComposer::ContactInline(const Contact& contact) const {
  Inline line;
  std::string name = Blank(contact.name) ? ContactPurposeWords(contact.purpose) : contact.name;
  line.push_back(Strong(name));
  Inline details;
  AppendContactDetails(details, contact.email, contact.phone, contact.address, contact.url);
  if (details.empty() && contact.purpose != "general") {
    // No channel of its own (the notice left the address out): the general contact point,
    // never an empty "by e-mail".
    details = UsInline();
  }
  if (!details.empty()) {
    line.push_back(Text(": "));
    line.insert(line.end(), details.begin(), details.end());
  }
  return line;
}

Inline NoticeComposer::UsInline() const {
  Inline line;
  const Contact* general = p_.FindContactFor("general");
  if (general != nullptr) {
    AppendContactDetails(line, general->email, general->phone, general->address, general->url);
  }
  if (line.empty()) {
    AppendContactDetails(line, p_.controller.email, p_.controller.phone, "", p_.controller.website);
  }
  return line;
}

Inline NoticeComposer::ContactFor(std::string_view purpose, const Contact* preferred) const {
  const Contact* contact = preferred != nullptr ? preferred : p_.FindContactFor(purpose);
  if (contact != nullptr) return ContactInline(*contact);
  return UsInline();
}

std::string NoticeComposer::RegionWords() const {
  return JoinWords(PlaceNames(p_.transfers.regions));
}

bool NoticeComposer::OutsideRegions(std::string_view country) const {
  return std::none_of(p_.transfers.regions.begin(), p_.transfers.regions.end(),
                      [country](const Ref& region) { return RegionIncludes(region.key, country); });
}

void NoticeComposer::IntroductionSection() {
  std::string line = p_.controller.name + Tr(". Version ") + p_.notice.version;
  if (!NoticeDate().empty()) line += Tr(", last updated ") + NoticeDate();
  doc_.Para(line + ".");
  if (!p_.notice.scope.empty()) {
    doc_.Para(Tr("This notice covers:"));
    std::vector<Inline> items;
    for (const auto& scope : p_.notice.scope) items.push_back({Text(scope)});
    doc_.List(std::move(items));
  }
  // What the notice says about children is said in its own words (statements of the
  // "children" section) when it has any; the plain flag otherwise.
  if (p_.notice.not_for_children && !HasStatements("children")) {
    doc_.Para(Tr("Our services are not meant for children."));
  }
}

void NoticeComposer::WhoWeAreSection() {
  doc_.BeginSection(3, "who", Tr("Who we are"));
  const Controller& c = p_.controller;
  std::vector<Inline> items;
  items.push_back(Labelled(Tr("Name"), c.name));
  if (!Blank(c.legal_name)) items.push_back(Labelled(Tr("Legal name"), c.legal_name));
  if (!Blank(c.represents)) items.push_back(Labelled(Tr("Who is behind this name"), c.represents));
  if (!Blank(c.company_number)) items.push_back(Labelled(Tr("Company number"), c.company_number));
  if (!Blank(c.registration)) items.push_back(Labelled(Tr("Registration"), c.registration));
  if (!Blank(c.address)) items.push_back(Labelled(Tr("Address"), c.address));
  if (!Blank(c.email)) items.push_back({Strong(Tr("Email")), Text(": "), EmailLink(c.email)});
  if (!Blank(c.phone)) items.push_back({Strong(Tr("Phone")), Text(": "), PhoneLink(c.phone)});
  if (!Blank(c.website)) items.push_back({Strong(Tr("Website")), Text(": "), UrlLink(c.website)});
  doc_.List(std::move(items));

  if (!IsProcessor()) {
    doc_.Para(ControllerName() +
              Tr(" is the controller of the personal data this notice describes and is "
                 "responsible for it: it decides why and how it is processed."));
  } else {
    doc_.Para(
        Tr("For the personal data this notice covers we are a processor, not the "
           "controller: we process it on behalf of other organisations (the controllers) "
           "and only on their instructions. The controllers decide why and how it is used "
           "and are responsible for it."));
    if (!Blank(p_.processor.controllers)) {
      doc_.Para({Strong(Tr("Whose data it is")), Text(": " + p_.processor.controllers)});
    }
    if (!Blank(p_.processor.instructions)) {
      doc_.Para(
          {Strong(Tr("How we act on their instructions")), Text(": " + p_.processor.instructions)});
    }
    if (p_.processor.requests == "forward_to_controller") {
      doc_.Para(
          Tr("Requests about a controller's data go to that controller: for example, "
             "requests about a school's data go to the school. If you send such a request "
             "to us, we pass it on to the controller, who answers it."));
    }
    if (p_.processor.breach_notify_controller) {
      doc_.Para(
          Tr("If a personal data breach affects a controller's data, we tell that "
             "controller."));
    }
  }
  Statements("who");
  doc_.EndSection();
}

void NoticeComposer::ContactsSection() {
  if (!p_.dpo.present && p_.contacts.empty()) return;
  doc_.BeginSection(3, "contacts", Tr("Data protection officer and contacts"));
  // The DPO once: as a contact when the policy lists one for the DPO, else from `dpo`.
  bool dpo_contact = p_.FindContactFor("dpo") != nullptr;
  if (p_.dpo.present && !dpo_contact) {
    Inline line{Strong(Tr("Data protection officer")), Text(": ")};
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

void NoticeComposer::ChangesSection() {
  doc_.BeginSection(3, "changes", Tr("Changes to this notice"));
  std::string version = Tr("This is version ") + p_.notice.version + Tr(" of this notice");
  if (!NoticeDate().empty()) version += Tr(", last updated ") + NoticeDate();
  doc_.Para(version + ".");
  if (!Blank(p_.notice.changes)) {
    doc_.Para(p_.notice.changes);
  } else {
    doc_.Para(Tr("If we change this notice, we publish the new version here."));
  }
  if (!Blank(p_.notice.url)) {
    doc_.Para({Text(Tr("The current version is at ")), UrlLink(p_.notice.url), Text(".")});
  }
  // The organisation's own record of earlier versions, newest first (notice.history).
  if (!p_.notice.history.empty()) {
    doc_.Para(Tr("Earlier versions of this notice:"));
    std::vector<Inline> items;
    for (const auto& earlier : p_.notice.history) {
      std::string line = Tr("Version ") + earlier.version;
      if (earlier.date) line += ", " + earlier.date->ToHuman();
      if (!Blank(earlier.summary)) line += ": " + earlier.summary;
      items.push_back(Inline{Text(line)});
    }
    doc_.List(std::move(items));
  }
  Statements("changes");
  doc_.EndSection();
}

}  // namespace custos::policy::notice_internal
