// What the notice says about the data itself: what we collect and from where, special
// categories, why we use it and on which lawful basis, direct marketing, profiling and
// automated decisions, cookies, and how long we keep it.
#include <algorithm>

#include "policy/notice.h"
#include "policy/notice_internal.h"

namespace custos::policy::notice_internal {

void NoticeComposer::WhatWeCollectSection() {
  doc_.BeginSection(3, "collect", Tr("What we collect and where it comes from"));
  doc_.Para(Tr("These are the kinds of personal data we collect:"));
  std::vector<Inline> items;
  // Categories the organisation groups under its own names are listed by group, as its notice
  // does ("Identity Data includes first name, last name, ..."); the others one by one.
  std::vector<std::string> groups;
  for (const auto& category : p_.categories) {
    if (!Blank(category.group)) AddUnique(groups, category.group);
  }
  std::vector<std::string> listed_groups;
  for (const auto& key : CollectedCategoryKeys()) {
    const Category* grouped = p_.FindCategory(key);
    if (grouped != nullptr && !Blank(grouped->group)) {
      if (std::find(listed_groups.begin(), listed_groups.end(), grouped->group) !=
          listed_groups.end()) {
        continue;
      }
      listed_groups.push_back(grouped->group);
      std::vector<std::string> members;
      for (const auto& category : p_.categories) {
        if (category.group != grouped->group) continue;
        if (!category.examples.empty()) {
          for (const auto& example : category.examples) AddUnique(members, example);
        } else {
          AddUnique(members, LowerFirst(p_.CategoryName(category.key)));
        }
      }
      items.push_back(Labelled(grouped->group, Tr("includes ") + JoinWords(members) + "."));
      continue;
    }
    const Category* category = p_.FindCategory(key);
    std::string text;
    if (category != nullptr) {
      if (!Blank(category->description)) text += Sentence(category->description);
      if (!category->examples.empty()) {
        text += Tr(" For example: ") + JoinWords(category->examples) + ".";
      }
      if (IsSpecial(*category)) {
        text += IsCriminalOffenceData(key) ? Tr(" This is criminal offence data.")
                                           : Tr(" This is special category data.");
      }
    }
    if (Blank(text)) {
      items.push_back({Strong(p_.CategoryName(key))});
    } else {
      items.push_back(Labelled(p_.CategoryName(key), text));
    }
  }
  doc_.List(std::move(items));
  Statements("collect");

  if (!p_.subject_types.empty()) {
    doc_.Heading(4, "subjects", Tr("Whom this notice is about"));
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
    doc_.Heading(4, "sources", Tr("Where it comes from"));
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

std::vector<std::string> NoticeComposer::PurposesUsing(std::string_view category_key) const {
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

void NoticeComposer::SpecialCategoriesSection() {
  auto special = SpecialCategoryList();
  if (special.empty()) return;
  doc_.BeginSection(3, "special", Tr("Special category data"));
  // Criminal offence data is named only where the policy collects some.
  bool criminal = std::any_of(special.begin(), special.end(), [](const Category* category) {
    return IsCriminalOffenceData(category->key);
  });
  doc_.Para(std::string(Tr("Some of the data we collect is special category data")) +
            (criminal ? Tr(" (or criminal offence data)") : "") +
            Tr(", which the law protects more strongly. We process it only under these "
               "conditions:"));
  std::vector<Inline> items;
  for (const Category* category : special) {
    std::string text;
    std::string_view letter = Article9Letter(category->condition);
    text = Tr(ConditionInWords(category->condition));
    if (IsCriminalOffenceData(category->key)) {
      text += Tr(" (criminal offence data: Article 10 UK GDPR");
      if (!letter.empty()) text += Tr(", with the condition of ") + std::string(letter);
      text += ")";
    } else if (!letter.empty()) {
      text += " (" + std::string(letter) + Tr(" UK GDPR)");
    }
    text += ".";
    if (auto uses = PurposesUsing(category->key); !uses.empty()) {
      text += Tr(" Used for: ") + JoinWords(uses) + ".";
    }
    items.push_back(Labelled(p_.CategoryName(category->key), text));
  }
  doc_.List(std::move(items));
  doc_.EndSection();
}

void NoticeComposer::PurposesSection() {
  doc_.BeginSection(3, "purposes", Tr("Why we use your data and our lawful basis"));
  doc_.Para(
      Tr("For each use of your data the law requires a lawful basis (Article 6 UK GDPR). "
         "These are our uses and the basis for each."));
  for (const auto& purpose : p_.purposes) {
    // Several purposes may share a name (one notice row, several bases): the basis tells
    // them apart.
    size_t same_name =
        std::count_if(p_.purposes.begin(), p_.purposes.end(),
                      [&purpose](const Purpose& other) { return other.name == purpose.name; });
    std::string heading = purpose.name;
    if (same_name > 1) heading += " (" + LowerFirst(Tr(LawfulBasisName(purpose.basis))) + ")";
    doc_.Heading(4, "purpose-" + purpose.key, heading);
    if (!Blank(purpose.description)) doc_.Para(purpose.description);
    std::vector<Inline> items;
    std::string basis = Tr(LawfulBasisName(purpose.basis));
    if (!LawfulBasisArticle(purpose.basis).empty()) {
      basis += " (" + std::string(LawfulBasisArticle(purpose.basis)) + Tr(" UK GDPR)");
    }
    items.push_back(Labelled(Tr("Lawful basis"), basis));
    if (!Blank(purpose.interest)) {
      items.push_back(Labelled(Tr("Our legitimate interest"), purpose.interest));
    }
    if (!Blank(purpose.obligation)) {
      items.push_back(Labelled(Tr("The legal obligation we rely on"), purpose.obligation));
    }
    if (!Blank(purpose.task)) {
      items.push_back(Labelled(Tr("The public task we rely on"), purpose.task));
    }
    if (!Blank(purpose.activity)) items.push_back(Labelled(Tr("Part of"), purpose.activity));
    items.push_back(Labelled(Tr("Data used"), JoinWords(CategoryNames(p_, purpose.categories))));
    if (!purpose.subjects.empty()) {
      items.push_back(Labelled(Tr("About"), JoinWords(SubjectNames(p_, purpose.subjects))));
    }
    if (!purpose.sources.empty()) {
      items.push_back(Labelled(Tr("Comes from"), JoinWords(SourceNames(p_, purpose.sources))));
    }
    if (!purpose.recipients.empty()) {
      items.push_back(
          Labelled(Tr("Shared with"), JoinWords(RecipientNames(p_, purpose.recipients))));
    }
    if (!purpose.channels.empty()) {
      std::vector<std::string> channels;
      for (const auto& channel : purpose.channels) AddUnique(channels, ChannelWords(channel));
      items.push_back(Labelled(Tr("How we contact you"), JoinWords(channels)));
    }
    if (!Blank(purpose.necessary_for_service)) {
      items.push_back(
          Labelled(Tr("If you do not give us this data"), purpose.necessary_for_service));
    }
    if (purpose.basis == LawfulBasis::kConsent) {
      std::string text = Tr("You can withdraw your consent at any time. ");
      text += purpose.on_withdrawal == "keep_obtained"
                  ? Tr("We then stop collecting data for this purpose, but may continue to use "
                       "the data we already obtained.")
                  : Tr("We then stop using your data for this purpose.");
      items.push_back(Labelled(Tr("Your consent"), text));
    }
    if (purpose.direct_marketing) {
      items.push_back(Labelled(Tr("Direct marketing"),
                               Tr("You can object at any time, and we will then stop.")));
    }
    doc_.List(std::move(items));
  }
  Statements("purposes");
  doc_.EndSection();
}

void NoticeComposer::MarketingProfilingAutomatedSection() {
  // The heading names what the policy declares (a notice with no automated decisions does not
  // announce a section about them).
  bool has_profiling = std::any_of(p_.purposes.begin(), p_.purposes.end(),
                                   [](const Purpose& purpose) { return purpose.profiling; });
  bool has_automated = std::any_of(p_.purposes.begin(), p_.purposes.end(),
                                   [](const Purpose& p) { return p.automated_decision.present; });
  std::vector<std::string> topics{Tr("direct marketing")};
  if (has_profiling) topics.push_back("profiling");
  if (has_automated) topics.push_back(Tr("automated decisions"));
  std::string title = JoinWords(topics);
  title[0] = 'D';
  doc_.BeginSection(3, "marketing", title);
  std::vector<Inline> marketing;
  std::vector<Inline> profiling;
  bool soft_opt_in = false;
  for (const auto& purpose : p_.purposes) {
    if (purpose.direct_marketing) {
      std::string text;
      if (!purpose.channels.empty()) {
        std::vector<std::string> channels;
        for (const auto& channel : purpose.channels) AddUnique(channels, ChannelWords(channel));
        text = Tr("by ") + JoinWords(channels, "or") + ". ";
      }
      text += Tr("Lawful basis: ") + Tr(LawfulBasisName(purpose.basis)) + ".";
      if (purpose.soft_opt_in) {  // only where the notice itself claims it
        soft_opt_in = true;
        text +=
            Tr(" As an existing customer, you may receive it without having asked for it, "
               "about our similar products and services, unless you opt out (PECR regulation "
               "22(3)).");
      }
      marketing.push_back(Labelled(purpose.name, text));
    }
    if (purpose.profiling) {
      profiling.push_back(Labelled(purpose.name, Blank(purpose.description)
                                                     ? Tr("we analyse your data to make "
                                                          "predictions about you.")
                                                     : purpose.description));
    }
  }
  bool any_automated =
      std::any_of(p_.purposes.begin(), p_.purposes.end(),
                  [](const Purpose& purpose) { return purpose.automated_decision.present; });
  if (marketing.empty() && profiling.empty() && !any_automated) {
    // Nothing is said about automated decisions that no purpose declares: no seed promises
    // their absence, and a notice must not promise more than the policy states.
    doc_.Para(Tr("We do not use your personal data for direct marketing or profiling."));
    Statements("marketing");
    doc_.EndSection();
    return;
  }
  if (!marketing.empty()) {
    doc_.Para({Strong(Tr("Direct marketing"))});
    doc_.List(std::move(marketing));
    std::string text =
        Tr("You can object to direct marketing at any time, and we will then stop using your data "
           "for it (Article 21(3) UK GDPR).");
    if (soft_opt_in) text += Tr(" Every marketing message tells you how to opt out.");
    doc_.Para(text);
  } else {
    doc_.Para(Tr("We do not use your personal data for direct marketing."));
  }
  if (!profiling.empty()) {
    doc_.Para({Strong(Tr("Profiling"))});
    doc_.Para(
        Tr("Profiling means using your data to analyse or predict things about you, such as "
           "your interests. We do this for:"));
    doc_.List(std::move(profiling));
  }
  if (any_automated) {
    bool any_solely = std::any_of(p_.purposes.begin(), p_.purposes.end(), [](const Purpose& p) {
      return p.automated_decision.present && p.automated_decision.solely;
    });
    doc_.Para({Strong(any_solely ? Tr("Decisions made by automated means alone")
                                 : Tr("Automated systems that help us make decisions"))});
    std::vector<Inline> items;
    for (const auto& purpose : p_.purposes) {
      const AutomatedDecision& decision = purpose.automated_decision;
      if (!decision.present) continue;
      std::string text = decision.solely
                             ? Tr("made by automated means alone, without a person involved.")
                             : Tr("automated systems help us make these decisions.");
      if (!Blank(decision.logic)) text += Tr(" How it works: ") + Sentence(decision.logic);
      if (!Blank(decision.significance)) {
        text += Tr(" What it means for you: ") + Sentence(decision.significance);
      }
      if (decision.human_review) {
        text +=
            Tr(" You can ask for a person to review the decision, give your point of view and "
               "contest it.");
      }
      items.push_back(Labelled(purpose.name, text));
    }
    doc_.List(std::move(items));
  }
  Statements("marketing");
  doc_.EndSection();
}

void NoticeComposer::CookiesSection() {
  if (p_.cookies.empty() && !HasStatements("cookies")) return;
  doc_.BeginSection(3, "cookies", Tr("Cookies"));
  std::vector<Inline> items;
  for (const auto& cookie : p_.cookies) {
    std::string text;
    if (!Blank(cookie.description)) text += Sentence(cookie.description) + " ";
    // The consent rule in our words, unless the organisation's description already says it
    // (one sentence, never two saying the same) or the notice does not say it at all.
    bool said = cookie.description.find("consent") != std::string::npos || !cookie.consent_stated;
    if (!said) {
      text += cookie.consent_required
                  ? Tr("We set these only if you consent, and you can change your choice at any "
                       "time.")
                  : Tr("These are strictly necessary, so they do not need your consent.");
    }
    if (!Blank(cookie.duration)) text += Tr(" How long they last: ") + Sentence(cookie.duration);
    if (!cookie.examples.empty()) text += Tr(" For example: ") + JoinWords(cookie.examples) + ".";
    if (!cookie.third_parties.empty()) {
      // Who sets them, or receives what they collect: the policy's list does not say which.
      text += Tr(" Third parties involved: ") + JoinWords(cookie.third_parties) + ".";
    }
    items.push_back(Labelled(Blank(cookie.name) ? KeyToWords(cookie.key) : cookie.name, text));
  }
  doc_.List(std::move(items));
  Statements("cookies");
  doc_.EndSection();
}

void NoticeComposer::RetentionSection() {
  doc_.BeginSection(3, "retention", Tr("How long we keep it"));
  bool any_stated = std::any_of(p_.retention.begin(), p_.retention.end(),
                                [](const RetentionRule& rule) { return rule.period_stated; });
  if (any_stated) {
    doc_.Para(
        Tr("We keep each kind of personal data only for the time below, then act on it as "
           "stated."));
  }
  std::vector<Inline> items;
  bool anonymise = false;
  std::vector<Inline> unstated;
  for (const auto& rule : p_.retention) {
    auto [label, rest] = RetentionRuleParts(p_, rule);
    if (!rule.period_stated) {
      // The notice gives no period: only what it says, in its words.
      if (!Blank(rule.description)) unstated.push_back({Text(Sentence(rule.description))});
      continue;
    }
    std::string text = rest + ".";
    if (!Blank(rule.description)) text += " " + Sentence(rule.description);
    items.push_back(Labelled(label, text));
    anonymise = anonymise || rule.action == RetentionAction::kAnonymise;
  }
  doc_.List(std::move(items));
  for (auto& line : unstated) doc_.Para(std::move(line));
  if (anonymise) {
    doc_.Para(Tr("Anonymised data can no longer identify you; it is no longer personal data."));
  }
  Statements("retention");
  doc_.EndSection();
}

}  // namespace custos::policy::notice_internal
