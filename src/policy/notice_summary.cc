// What the notice says first: "In short", one short item per topic, each linking to its
// section of the full notice.
#include <algorithm>

#include "policy/notice.h"
#include "policy/notice_internal.h"

namespace custos::policy::notice_internal {

void NoticeComposer::SummaryItem(std::string id, std::string_view title, std::string_view more_id,
                                 std::vector<Inline> paragraphs) {
  doc_.Heading(3, std::move(id), title);
  for (size_t i = 0; i < paragraphs.size(); ++i) {
    Inline paragraph = std::move(paragraphs[i]);
    if (i + 1 == paragraphs.size()) {
      paragraph.push_back(Text(" "));
      paragraph.push_back(Span{Tr("More about this."), false, "#" + std::string(more_id)});
    }
    doc_.Para(std::move(paragraph));
  }
}

void NoticeComposer::SummarySection() {
  doc_.BeginSection(2, "summary", Tr("In short"));

  // Who we are.
  std::vector<Inline> who;
  if (IsProcessor()) {
    who.push_back({Text(p_.controller.name +
                        Tr(" is a processor for the personal data this notice covers: we process "
                           "it only on the instructions of the organisations whose data it is "
                           "(the controllers)."))});
    if (p_.processor.requests == "forward_to_controller") {
      who.push_back(
          {Text(Tr("Requests about a controller's data go to that controller; if you "
                   "send one to us, we pass it on to them."))});
    }
  } else {
    who.push_back({Text(ControllerName() +
                        Tr(" is the controller of your personal data and decides why and how it "
                           "is used."))});
  }
  if (Inline us = UsInline(); !us.empty()) {
    Inline line{Text(Tr("Contact us: "))};
    line.insert(line.end(), us.begin(), us.end());
    line.push_back(Text("."));
    who.push_back(std::move(line));
  }
  SummaryItem("summary-who", Tr("Who we are"), "who", std::move(who));

  // What we collect.
  std::vector<std::string> keys = CollectedCategoryKeys();
  // The broadest categories only, each where its first member appears in the policy.
  std::vector<std::string> roots;
  for (const auto& key : keys) {
    std::string root = key;
    for (const auto& other : keys) {
      if (other.size() < root.size() && CategoryCovers(other, root)) root = other;
    }
    const Category* declared = p_.FindCategory(key);
    if (declared != nullptr && !Blank(declared->group)) {
      AddUnique(roots, declared->group);  // the organisation's own grouping
    } else {
      AddUnique(roots, p_.CategoryName(root));
    }
  }
  std::vector<Inline> collect;
  collect.push_back({Text(Tr("We collect: ") + JoinWords(roots) + ".")});
  if (auto special = SpecialCategoryList(); !special.empty()) {
    std::vector<std::string> names;
    for (const Category* category : special) AddUnique(names, p_.CategoryName(category->key));
    collect.push_back({Text(Tr("This includes special category data, which the law protects "
                               "more strongly: ") +
                            JoinWords(names) + ".")});
  }
  if (!p_.sources.empty()) {
    std::vector<std::string> names;
    for (const auto& source : p_.sources) AddUnique(names, SourceName(p_, source.key));
    collect.push_back({Text(Tr("It comes from: ") + JoinWords(names) + ".")});
  }
  SummaryItem("summary-collect", Tr("What we collect"), "collect", std::move(collect));

  // Why.
  std::vector<std::string> uses;
  std::vector<std::string> bases;
  bool marketing = false;
  bool automated = false;
  for (const auto& purpose : p_.purposes) {
    AddUnique(uses, Blank(purpose.activity) ? purpose.name : purpose.activity);
    AddUnique(bases, LowerFirst(Tr(LawfulBasisName(purpose.basis))));
    marketing = marketing || purpose.direct_marketing;
    automated =
        automated || (purpose.automated_decision.present && purpose.automated_decision.solely);
  }
  std::vector<Inline> why;
  why.push_back({Text(Tr("We use it for: ") + JoinWords(uses) + ".")});
  why.push_back({Text(Tr("The law lets us do this on these bases: ") + JoinWords(bases) + ".")});
  if (marketing) {
    why.push_back(
        {Text(Tr("We use some of it for direct marketing; you can say no at any time."))});
  }
  if (automated) {
    why.push_back(
        {Text(Tr("Some decisions are made by automated means alone; you can ask for a "
                 "person to review them."))});
  }
  SummaryItem("summary-why", Tr("Why we use it"), "purposes", std::move(why));

  // Who gets it.
  std::vector<Inline> share;
  if (p_.recipients.empty()) {
    share.push_back(
        {Text(Tr("We do not share your personal data with anyone outside our "
                 "organisation."))});
  } else {
    std::vector<std::string> names;
    for (const auto& recipient : p_.recipients) AddUnique(names, recipient.name);
    share.push_back({Text(Tr("We share it with: ") + JoinWords(names) + ".")});
  }
  if (!p_.transfers.regions.empty() && p_.transfers.stated) {
    if (p_.transfers.outside == TransferRule::kForbidden) {
      share.push_back({Text(Tr("Your personal data never leaves ") + RegionWords() + ".")});
    } else if (AnyRecipientOutside()) {
      bool all_stated = true;
      for (const auto& recipient : p_.recipients) {
        for (const auto& country : recipient.countries) {
          if (OutsideRegions(country.key) && !SafeguardStated(recipient)) all_stated = false;
        }
      }
      share.push_back(
          {Text(Tr("Some of it goes outside ") + RegionWords() +
                (all_stated ? Tr(", protected by the safeguards the law requires.") : "."))});
    } else if (AllRecipientsPlaced()) {
      share.push_back({Text(Tr("We and the organisations we share it with process it in ") +
                            RegionWords() + ".")});
    } else {
      // Where some recipients process it, the policy does not say: nor does the notice.
      share.push_back(
          {Text(Tr("We keep and process your personal data in ") + RegionWords() + ".")});
    }
  }
  if (!p_.transfers.stated && !Blank(p_.transfers.note)) share.push_back({Text(p_.transfers.note)});
  SummaryItem("summary-share", Tr("Who we share it with"), "recipients", std::move(share));

  // How long.
  std::vector<std::string> whens;
  std::vector<std::string> actions;
  for (const auto& rule : p_.retention) {
    if (!rule.period_stated) continue;  // a period the notice does not give is not published
    AddUnique(whens, WhenClause(p_, rule));
    std::string action = rule.action == RetentionAction::kDelete      ? Tr("delete")
                         : rule.action == RetentionAction::kAnonymise ? Tr("anonymise")
                                                                      : Tr("review");
    AddUnique(actions, action);
  }
  std::vector<Inline> retention;
  bool all_stated = std::all_of(p_.retention.begin(), p_.retention.end(),
                                [](const RetentionRule& rule) { return rule.period_stated; });
  if (!whens.empty()) {
    retention.push_back(
        {Text(std::string(all_stated ? Tr("We keep each kind of data")
                                     : Tr("We keep some kinds of data")) +
              Tr(" for a set time, then ") + JoinWords(actions, "or") + Tr(" it: ") +
              JoinWords(whens, "or") + Tr(", depending on the data."))});
    if (!all_stated) {
      retention.push_back({Text(Tr("How long we keep the rest is set out in the full notice."))});
    }
  }
  if (retention.empty() && !p_.retention.empty()) {
    retention.push_back({Text(Tr("How long we keep your data is set out in the full notice."))});
  }
  SummaryItem("summary-retention", Tr("How long we keep it"), "retention", std::move(retention));

  // Rights.
  std::vector<std::string> rights;
  for (const auto& right : p_.rights.available) AddUnique(rights, Tr(RightName(right)));
  std::vector<Inline> your_rights;
  your_rights.push_back({Text(Tr("Your rights: ") + JoinWords(rights) + ".")});
  std::string answer;
  if (p_.rights.response_period.value && p_.rights.response_period_stated) {
    answer = Tr("We answer within ") + PeriodInWords(*p_.rights.response_period.value) + ".";
  }
  if (p_.rights.fee == "none") answer += Tr(" There is no fee.");
  if (!Blank(answer)) your_rights.push_back({Text(answer)});
  if (IsProcessor() && p_.processor.requests == "forward_to_controller") {
    your_rights.push_back({Text(Tr("Requests about a controller's data go to that controller."))});
  }
  SummaryItem("summary-rights", Tr("Your rights"), "rights", std::move(your_rights));

  // Complaints.
  std::vector<Inline> complain;
  Inline line;
  if (p_.regulator.first_contact_us) {
    line.push_back(Text(Tr("Please tell us first, so we can try to put things right. ")));
  }
  line.push_back(Text(Tr("You can complain to a regulator: ") + p_.regulator.name));
  Inline details;
  AppendContactDetails(details, "", p_.regulator.phone, "", p_.regulator.website);
  if (!details.empty()) {
    line.push_back(Text(" ("));
    line.insert(line.end(), details.begin(), details.end());
    line.push_back(Text(")"));
  }
  line.push_back(Text("."));
  complain.push_back(std::move(line));
  SummaryItem("summary-complain", Tr("How to complain"), "complain", std::move(complain));

  doc_.EndSection();
}

bool NoticeComposer::AllRecipientsPlaced() const {
  return std::all_of(p_.recipients.begin(), p_.recipients.end(),
                     [](const Recipient& r) { return !r.countries.empty(); });
}

bool NoticeComposer::AnyRecipientOutside() const {
  for (const auto& recipient : p_.recipients) {
    for (const auto& country : recipient.countries) {
      if (OutsideRegions(country.key)) return true;
    }
  }
  return false;
}

}  // namespace custos::policy::notice_internal
