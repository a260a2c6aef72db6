// What the notice says about the person's rights and the protection of their data: the
// rights and how to use them, security, breaches, and how to complain.
#include <algorithm>

#include "policy/notice.h"
#include "policy/notice_internal.h"

namespace custos::policy::notice_internal {

void NoticeComposer::RightsSection() {
  doc_.BeginSection(3, "rights", Tr("Your rights"));
  const Rights& r = p_.rights;
  std::vector<Inline> items;
  // Where automated systems only help a person decide, the right is not the Article 22 right
  // about decisions by automated means alone (ProgressTeaching, seed 001: "may have a right to
  // certain information about automated decisions we make about them and may also have a right
  // to request human intervention and to challenge the decision").
  bool any_solely = std::any_of(p_.purposes.begin(), p_.purposes.end(), [](const Purpose& p) {
    return p.automated_decision.present && p.automated_decision.solely;
  });
  bool any_helped = std::any_of(p_.purposes.begin(), p_.purposes.end(), [](const Purpose& p) {
    return p.automated_decision.present && !p.automated_decision.solely;
  });
  for (const auto& right : r.available) {
    std::string words = RightInWords(right);
    if (right == "automated_decision_review" && any_helped && !any_solely) {
      words =
          Tr("You may have a right to information about the decisions automated systems help us "
             "make about you, to ask for a person to step in and to challenge the decision.");
    }
    items.push_back(Labelled(Tr(RightName(right)), words));
  }
  doc_.List(std::move(items));

  const Contact* contact = r.contact ? p_.FindContact(r.contact->key) : nullptr;
  Inline how{Text(Tr("To make a request, contact: "))};
  Inline details = ContactFor("rights_requests", contact);
  if (!details.empty()) {
    how.insert(how.end(), details.begin(), details.end());
    how.push_back(Text("."));
    doc_.Para(std::move(how));
  }
  if (IsProcessor() && p_.processor.requests == "forward_to_controller") {
    doc_.Para(
        Tr("Where we process your data for a controller, your request goes to that "
           "controller; if you send it to us, we pass it on to them."));
  }
  std::string timing;
  if (r.response_period.value && r.response_period_stated) {
    timing = Tr("We respond within ") + PeriodInWords(*r.response_period.value) +
             Tr(" of receiving your request.");
  }
  if (r.extension_max && r.extension_max->value) {
    timing += Tr(" If your request is complex or you make several, we may take up to ") +
              PeriodInWords(*r.extension_max->value) + Tr(" more");
    if (!Blank(r.extension_when)) timing += " (" + Trim(CollapseSpace(r.extension_when)) + ")";
    timing += Tr("; if so, we tell you");
    if (r.extension_notify_within && r.extension_notify_within->value) {
      timing += Tr(" within ") + PeriodInWords(*r.extension_notify_within->value);
    }
    timing += Tr(" and explain why.");
  }
  doc_.Para(timing);
  if (r.fee == "none") {
    doc_.Para(Tr("You do not have to pay a fee."));
  } else if (r.fee == "reasonable_if_unfounded_or_excessive") {
    doc_.Para(
        Tr("You do not normally have to pay a fee, but we may charge a reasonable fee if a "
           "request is clearly unfounded or excessive."));
  }
  if (r.refuse_if_unfounded_or_excessive) {
    doc_.Para(
        Tr("We may refuse a request that is clearly unfounded or excessive; if we do, we "
           "tell you why."));
  }
  if (r.identity_verification_required) {
    std::string text = Tr("We may need to confirm your identity before we act on a request");
    if (!r.identity_methods.empty()) {
      std::vector<std::string> methods;
      for (const auto& method : r.identity_methods) AddUnique(methods, KeyToWords(method));
      text += Tr(", for example by ") + JoinWords(methods, "or");
    }
    text += ".";
    if (!Blank(r.identity_note)) text += " " + Sentence(r.identity_note);
    doc_.Para(text);
  }
  if (!r.exemptions.empty()) {
    doc_.Para(Tr("Some rights do not apply in every case:"));
    std::vector<Inline> exemptions;
    for (const auto& exemption : r.exemptions) {
      std::string text = Tr("may not apply ") + GroundWords(exemption.ground);
      if (!exemption.purposes.empty()) {
        text += Tr(", for ") + JoinWords(PurposeNames(p_, exemption.purposes));
      }
      if (!exemption.categories.empty()) {
        text += Tr(", to ") + JoinWords(CategoryNames(p_, exemption.categories));
      }
      text += ".";
      if (!Blank(exemption.description)) text += " " + Sentence(exemption.description);
      exemptions.push_back(Labelled(Tr(RightName(exemption.right)), text));
    }
    doc_.List(std::move(exemptions));
  }
  Statements("rights");
  doc_.EndSection();
}

void NoticeComposer::SecuritySection() {
  if (p_.security.empty() && !HasStatements("security")) return;
  doc_.BeginSection(3, "security", Tr("How we protect your data"));
  std::vector<Inline> items;
  for (const auto& measure : p_.security) items.push_back({Text(Sentence(measure.description))});
  doc_.List(std::move(items));
  Statements("security");
  doc_.EndSection();
}

void NoticeComposer::BreachSection() {
  const BreachProcess& b = p_.breach;
  if (!b.present) return;
  doc_.BeginSection(3, "breach", Tr("If there is a data breach"));
  if (!Blank(b.description)) doc_.Para(b.description);
  std::vector<Inline> items;
  if (b.notify_regulator_within && b.notify_regulator_within->value) {
    items.push_back(
        {Text(Tr("Where the law requires it, we report a personal data breach to ") +
              p_.regulator.name + Tr(" within ") +
              PeriodInWords(*b.notify_regulator_within->value) + Tr(" of becoming aware of it."))});
  }
  if (b.notify_controller) {
    items.push_back(
        {Text(Tr("If the breach affects data we process for a controller, we tell "
                 "that controller without undue delay."))});
  }
  if (b.notify_subjects == "when_high_risk") {
    items.push_back(
        {Text(Tr("If the breach is likely to put your rights and freedoms at high "
                 "risk, we tell you without undue delay."))});
  } else if (b.notify_subjects == "always") {
    items.push_back({Text(Tr("We tell you about any breach that affects your personal data."))});
  } else if (b.notify_subjects == "never") {
    items.push_back({Text(Tr("We do not tell people individually about a breach."))});
  }
  doc_.List(std::move(items));
  doc_.EndSection();
}

void NoticeComposer::ComplaintsSection() {
  doc_.BeginSection(3, "complain", Tr("How to complain"));
  const Contact* complaints = p_.FindContactFor("complaints");
  if (p_.regulator.first_contact_us) {
    Inline line{
        Text(Tr("We would like the chance to put things right first, so please contact "
                "us before you go to the regulator: "))};
    Inline details = ContactFor("complaints", complaints);
    line.insert(line.end(), details.begin(), details.end());
    line.push_back(Text("."));
    doc_.Para(std::move(line));
  } else if (complaints != nullptr) {
    Inline line{Text(Tr("You can complain to us: "))};
    Inline details = ContactInline(*complaints);
    line.insert(line.end(), details.begin(), details.end());
    line.push_back(Text("."));
    doc_.Para(std::move(line));
  }
  doc_.Para(Tr("You have the right to complain to a data protection regulator: ") +
            p_.regulator.name + ".");
  const Regulator& reg = p_.regulator;
  std::vector<Inline> items;
  if (!Blank(reg.address)) items.push_back(Labelled(Tr("Address"), reg.address));
  if (!Blank(reg.phone)) items.push_back({Strong(Tr("Phone")), Text(": "), PhoneLink(reg.phone)});
  if (!Blank(reg.website)) {
    items.push_back({Strong(Tr("Website")), Text(": "), UrlLink(reg.website)});
  }
  doc_.List(std::move(items));
  if (!Blank(reg.other_regulators)) {
    doc_.Para(Tr("You can also complain to ") + Trim(CollapseSpace(reg.other_regulators)) + ".");
  }
  Statements("complaints");
  doc_.EndSection();
}

}  // namespace custos::policy::notice_internal
