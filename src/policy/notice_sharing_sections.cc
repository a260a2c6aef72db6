// What the notice says about who else gets the data: recipients, international transfers,
// anonymised information we share and third-party apps.
#include <algorithm>

#include "policy/notice.h"
#include "policy/notice_internal.h"

namespace custos::policy::notice_internal {

void NoticeComposer::RecipientsSection() {
  doc_.BeginSection(3, "recipients", Tr("Who we share it with"));
  if (p_.recipients.empty()) {
    doc_.Para(Tr("We do not share your personal data with anyone outside our organisation."));
    Statements("recipients");
    doc_.EndSection();
    return;
  }
  for (RecipientKind kind :
       {RecipientKind::kProcessor, RecipientKind::kSubProcessor, RecipientKind::kJointController,
        RecipientKind::kThirdParty, RecipientKind::kProfessionalAdviser, RecipientKind::kRegulator,
        RecipientKind::kAuthority, RecipientKind::kInternal, RecipientKind::kOtherUsers,
        RecipientKind::kPublic}) {
    std::vector<Inline> items;
    for (const auto& recipient : p_.recipients) {
      if (recipient.kind != kind) continue;
      items.push_back(Labelled(recipient.name, RecipientText(recipient)));
    }
    if (items.empty()) continue;
    doc_.Para({Strong(RecipientKindName(kind))});
    doc_.List(std::move(items));
  }
  Statements("recipients");
  doc_.EndSection();
}

std::string NoticeComposer::RecipientText(const Recipient& recipient) const {
  std::string text;
  if (!Blank(recipient.description)) text += Sentence(recipient.description) + " ";
  if (!Blank(recipient.when)) text += Tr("When: ") + Sentence(recipient.when) + " ";
  if (recipient.processor_of) {
    text += Tr("Works for ") + RecipientName(p_, recipient.processor_of->key) + ". ";
  }
  if (!recipient.countries.empty() && p_.transfers.stated) {
    text += Tr("Where: ") + JoinWords(PlaceNames(recipient.countries)) + ". ";
  }
  bool outside = std::any_of(recipient.countries.begin(), recipient.countries.end(),
                             [this](const Ref& country) { return OutsideRegions(country.key); });
  if (outside && p_.transfers.stated && SafeguardStated(recipient)) {
    text += Tr("Protected by ") + Tr(SafeguardInWords(recipient.safeguard)) + ". ";
  }
  if (!recipient.categories.empty()) {
    text += Tr("Sees only: ") + JoinWords(CategoryNames(p_, recipient.categories)) + ". ";
  }
  if (recipient.visibility == "user_settings") {
    text += Tr("You control what they see in your settings. ");
  } else if (recipient.visibility == "on_request") {
    text += Tr("Only when you ask us to. ");
  }
  return text;
}

bool NoticeComposer::SafeguardStated(const Recipient& recipient) {
  return !Blank(recipient.safeguard) && recipient.safeguard != "not_stated";
}

void NoticeComposer::TransfersSection() {
  if (!p_.transfers.stated) {
    // The notice says nothing about where data is processed: nor do we, beyond its own words.
    if (Blank(p_.transfers.note) && !HasStatements("transfers")) return;
    doc_.BeginSection(3, "transfers", Tr("International transfers"));
    if (!Blank(p_.transfers.note)) doc_.Para(p_.transfers.note);
    Statements("transfers");
    doc_.EndSection();
    return;
  }
  doc_.BeginSection(3, "transfers", Tr("International transfers"));
  if (!p_.transfers.regions.empty()) {
    doc_.Para(Tr("We keep and process your personal data in ") + RegionWords() + ".");
  }
  if (p_.transfers.outside == TransferRule::kForbidden) {
    doc_.Para(Tr("Your personal data never leaves ") + RegionWords() +
              Tr(": none of the organisations we share it with processes it anywhere else."));
  } else {
    std::vector<Inline> items;
    for (const auto& recipient : p_.recipients) {
      std::vector<std::string> outside;
      for (const auto& country : recipient.countries) {
        if (OutsideRegions(country.key)) AddUnique(outside, PlaceName(country.key));
      }
      if (outside.empty()) continue;
      std::string text = Tr("in ") + JoinWords(outside);
      if (SafeguardStated(recipient)) {
        text += Tr(", protected by ") + Tr(SafeguardInWords(recipient.safeguard));
      }
      text += ".";
      if (!Blank(recipient.safeguard_note)) text += " " + Sentence(recipient.safeguard_note);
      items.push_back(Labelled(recipient.name, text));
    }
    if (items.empty()) {
      if (AllRecipientsPlaced()) {
        doc_.Para(Tr("None of the organisations we share it with processes it outside ") +
                  RegionWords() + ".");
      }
    } else {
      bool all_stated =
          std::all_of(p_.recipients.begin(), p_.recipients.end(), [this](const Recipient& r) {
            return SafeguardStated(r) ||
                   std::none_of(r.countries.begin(), r.countries.end(),
                                [this](const Ref& country) { return OutsideRegions(country.key); });
          });
      doc_.Para(Tr("These organisations process some of your data outside ") + RegionWords() +
                (all_stated ? Tr(", protected by a safeguard the law recognises:") : ":"));
      doc_.List(std::move(items));
    }
  }
  if (!Blank(p_.transfers.note)) doc_.Para(p_.transfers.note);
  Statements("transfers");
  doc_.EndSection();
}

void NoticeComposer::AnonymisationSection() {
  const Anonymisation& a = p_.anonymisation;
  if (!a.present) return;
  doc_.BeginSection(3, "anonymisation", Tr("Anonymised information"));
  if (!Blank(a.description)) doc_.Para(a.description);
  if (a.small_cell_threshold > 0) {
    doc_.Para(Tr("In figures we share, we leave out any group of fewer than ") +
              std::to_string(a.small_cell_threshold) +
              Tr(" people, so that no one can be picked out."));
  }
  if (!a.shared_with.empty()) {
    std::vector<std::string> names;
    for (const auto& with : a.shared_with) {
      const Recipient* recipient = p_.FindRecipient(with);
      AddUnique(names, recipient != nullptr ? recipient->name : with);
    }
    doc_.Para(Tr("We may share anonymised information with: ") + JoinWords(names) + ".");
  }
  doc_.EndSection();
}

void NoticeComposer::ThirdPartyAppsSection() {
  const ThirdPartyApps& t = p_.third_party_apps;
  if (!t.present) return;
  doc_.BeginSection(3, "apps", Tr("Third-party apps"));
  if (!Blank(t.description)) doc_.Para(t.description);
  if (!Blank(t.authorised_by)) {
    std::string text = Tr("A third-party app gets access to data only when ") +
                       Trim(CollapseSpace(t.authorised_by)) + Tr(" authorises it");
    text += t.revocable ? Tr(", and that permission can be revoked at any time.") : ".";
    doc_.Para(text);
  } else if (t.revocable) {
    doc_.Para(Tr("Permission for a third-party app can be revoked at any time."));
  }
  doc_.EndSection();
}

}  // namespace custos::policy::notice_internal
