// The access package as a self-contained HTML report (access_package.h): the person's data
// under each subject id and the Article 15(1) items from internal::Facts, in plain words. Inline
// CSS only, no scripts and no external resources, a Content-Security-Policy that forbids both,
// and every value HTML-escaped.
#include <algorithm>
#include <string_view>
#include <utility>

#include "engine/access_package.h"
#include "engine/access_package_internal.h"
#include "policy/notice.h"
#include "policy/taxonomy.h"
#include "policy/text_formats.h"

namespace custos::engine {

namespace {

using internal::AddUnique;
using internal::ConsentTargetName;
using internal::EventName;
using internal::Facts;
using internal::Held;
using internal::IsSpecial;
using internal::PurposeName;
using internal::PurposeUse;
using internal::RecipientUse;
using internal::RetentionUse;
using internal::RightsContact;
using internal::SourceName;
using internal::SourceUse;
using policy::Policy;
using store::RecordState;

std::string RecipientName(const Policy& policy, std::string_view key) {
  const policy::Recipient* recipient = policy.FindRecipient(key);
  return recipient != nullptr && !recipient->name.empty() ? recipient->name : std::string(key);
}

std::string Esc(std::string_view text) { return policy::EscapeHtml(policy::ValidUtf8(text)); }

constexpr std::string_view kStyle =
    "body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;line-height:1.5;"
    "max-width:60rem;margin:0 auto;padding:1.5rem;color:#1b1b1b;background:#fff}"
    "h1{font-size:1.8rem}h2{margin-top:2.2rem;border-bottom:2px solid #ddd}h3{margin-top:1.6rem}"
    "table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.95rem}"
    "th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top;"
    "overflow-wrap:anywhere}th{background:#f1f3f6}li{margin:.3rem 0}"
    ".meta{color:#555}"
    "@media (prefers-color-scheme:dark){body{color:#eee;background:#121212}"
    "th{background:#1e2530}th,td{border-color:#444}.meta{color:#aaa}}"
    "@media print{body{max-width:none}}";

class Html {
 public:
  void Heading(int level, std::string_view text) {
    std::string tag = "h" + std::to_string(level);
    out_ += "<" + tag + ">" + Esc(text) + "</" + tag + ">\n";
  }
  void Para(std::string_view text, std::string_view css_class = "") {
    if (text.empty()) return;
    out_ += css_class.empty() ? "<p>" : "<p class=\"" + Esc(css_class) + "\">";
    out_ += Esc(text) + "</p>\n";
  }
  // "<strong>label</strong>: text" items.
  void List(const std::vector<std::pair<std::string, std::string>>& items) {
    if (items.empty()) return;
    out_ += "<ul>\n";
    for (const auto& [label, text] : items) {
      out_ += "<li>";
      if (!label.empty())
        out_ += "<strong>" + Esc(label) + "</strong>" + (text.empty() ? "" : ": ");
      out_ += Esc(text) + "</li>\n";
    }
    out_ += "</ul>\n";
  }
  // A table, or `empty` as a paragraph when there are no rows.
  void Table(const std::vector<std::string>& headers,
             const std::vector<std::vector<std::string>>& rows, std::string_view empty) {
    if (rows.empty()) {
      Para(empty);
      return;
    }
    out_ += "<table>\n<thead><tr>";
    for (const auto& header : headers) out_ += "<th scope=\"col\">" + Esc(header) + "</th>";
    out_ += "</tr></thead>\n<tbody>\n";
    for (const auto& row : rows) {
      out_ += "<tr>";
      for (const auto& cell : row) out_ += "<td>" + Esc(cell) + "</td>";
      out_ += "</tr>\n";
    }
    out_ += "</tbody>\n</table>\n";
  }
  const std::string& text() const { return out_; }

 private:
  std::string out_;
};

std::string Join(const std::vector<std::string>& items, std::string_view separator = ", ") {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

std::string CategoryNames(const Policy& policy, const std::vector<std::string>& keys) {
  std::vector<std::string> names;
  for (const auto& key : keys) AddUnique(names, policy.CategoryName(key));
  return Join(names);
}

// "email x, phone y, post: z, website w"; "" when the contact gives no detail.
std::string ContactDetails(std::string_view email, std::string_view phone, std::string_view address,
                           std::string_view url) {
  std::vector<std::string> parts;
  if (!email.empty()) parts.push_back("email " + std::string(email));
  if (!phone.empty()) parts.push_back("phone " + std::string(phone));
  if (!address.empty()) parts.push_back("post: " + std::string(address));
  if (!url.empty()) parts.push_back("website " + std::string(url));
  return Join(parts);
}

std::pair<std::string, std::string> ContactItem(const policy::Contact& contact) {
  return {contact.name.empty() ? contact.key : contact.name,
          ContactDetails(contact.email, contact.phone, contact.address, contact.url)};
}

std::string RecordStateWords(RecordState state) {
  return state == RecordState::kRestricted ? "Restricted: we keep it but do not otherwise use it"
                                           : "In use";
}

std::string LawfulBasisWords(policy::LawfulBasis basis) {
  std::string out(policy::LawfulBasisName(basis));
  if (!policy::LawfulBasisArticle(basis).empty()) {
    out += " (" + std::string(policy::LawfulBasisArticle(basis)) + " UK GDPR)";
  }
  return out;
}

void SubjectHtml(Html& h, const Policy& policy, const SubjectView& view, bool several) {
  if (several) h.Heading(3, "Held under reference " + view.subject.subject_id);
  std::vector<std::string> types;
  for (const auto& key : view.subject.types) {
    const policy::SubjectType* type = policy.FindSubjectType(key);
    types.push_back(type != nullptr && !type->name.empty() ? type->name : key);
  }
  std::string about = "Reference " + view.subject.subject_id + ", first recorded " +
                      view.subject.created_at.ToString() + ".";
  if (!types.empty()) about += " You are known to us as: " + Join(types) + ".";
  if (view.subject.state == store::SubjectState::kErased) {
    about += " Your data under this reference has been erased.";
  }
  h.Para(about);

  h.Heading(4, "Identifiers");
  std::vector<std::vector<std::string>> rows;
  for (const auto& identifier : view.identifiers) {
    rows.push_back({identifier.kind, identifier.value, identifier.verified ? "Yes" : "No",
                    identifier.added_at.ToString()});
  }
  h.Table({"Kind", "Value", "Verified", "Added"}, rows, "None.");

  h.Heading(4, "Personal data");
  rows.clear();
  for (const auto& record : view.records) {
    if (!Held(record.state)) continue;
    rows.push_back({policy.CategoryName(record.category), record.value,
                    SourceName(policy, record.source), PurposeName(policy, record.purpose),
                    record.collected_at.ToString(), RecordStateWords(record.state)});
  }
  h.Table({"Category", "Value", "Source", "Collected for", "Collected", "State"}, rows, "None.");

  if (!view.record_versions.empty()) {
    h.Heading(4, "Earlier values you or we corrected");
    rows.clear();
    for (const auto& earlier : view.record_versions) {
      std::string category;
      for (const auto& record : view.records) {
        if (record.record_id == earlier.record_id) category = policy.CategoryName(record.category);
      }
      rows.push_back({category, earlier.value, earlier.replaced_at.ToString()});
    }
    h.Table({"Category", "Earlier value", "Replaced"}, rows, "None.");
  }

  h.Heading(4, "Your consents");
  rows.clear();
  for (const auto& event : view.consents) {
    rows.push_back({ConsentTargetName(policy, event),
                    event.action == store::ConsentAction::kGiven ? "Given" : "Withdrawn",
                    event.at.ToString(), event.channel, event.notice_version});
  }
  h.Table({"For", "Action", "When", "How", "Notice version"}, rows, "None.");

  h.Heading(4, "Your contact preferences");
  rows.clear();
  for (const auto& preference : view.preferences) {
    rows.push_back({preference.channel, preference.allowed ? "Allowed" : "Not allowed",
                    preference.at.ToString()});
  }
  h.Table({"Channel", "Choice", "Since"}, rows, "None.");

  h.Heading(4, "Your objections");
  rows.clear();
  for (const auto& objection : view.objections) {
    rows.push_back({PurposeName(policy, objection.purpose), objection.at.ToString(),
                    objection.lifted_at ? objection.lifted_at->ToString() : "In force"});
  }
  h.Table({"To", "Made", "Lifted"}, rows, "None.");

  h.Heading(4, "Restrictions of processing");
  rows.clear();
  for (const auto& restriction : view.restrictions) {
    std::string categories = restriction.categories.empty()
                                 ? std::string("All your data")
                                 : CategoryNames(policy, restriction.categories);
    rows.push_back({categories, restriction.reason, restriction.at.ToString(),
                    restriction.lifted_at ? restriction.lifted_at->ToString() : "In force"});
  }
  h.Table({"Data", "Reason", "Since", "Lifted"}, rows, "None.");

  h.Heading(4, "Who received your data");
  rows.clear();
  for (const auto& d : view.disclosures) {
    const policy::Recipient* recipient = policy.FindRecipient(d.recipient);
    std::string name = recipient != nullptr ? recipient->name : d.recipient;
    // An application is named first, then what kind of recipient it is.
    if (!d.application.empty()) name = d.application + " (" + name + ")";
    rows.push_back({name, CategoryNames(policy, d.categories), PurposeName(policy, d.purpose),
                    d.at.ToString()});
  }
  h.Table({"Recipient", "Data", "Why", "When"}, rows, "None recorded.");

  h.Heading(4, "Events in your relationship with us");
  rows.clear();
  for (const auto& event : view.events) {
    rows.push_back({EventName(policy, event.event), event.at.ToString()});
  }
  h.Table({"Event", "When"}, rows, "None.");
}

}  // namespace

namespace internal {

std::string AccessHtml(const Policy& policy, const PackageMeta& meta,
                       const std::vector<SubjectView>& subjects, const Facts& facts) {
  const std::string title = "Your personal data held by " + policy.controller.name;
  Html h;
  h.Heading(1, title);
  h.Para("This is a copy of the personal data " + policy.controller.name +
         " holds about you, with the information about how we use it that Article 15 UK GDPR "
         "entitles you to.");
  h.Para("Request " + meta.request_id + ", received " + meta.received_at.ToString() +
             ", prepared " + meta.generated_at.ToString() + ".",
         "meta");

  h.Heading(2, "Who we are");
  const policy::Controller& c = policy.controller;
  std::vector<std::pair<std::string, std::string>> who;
  std::string name = c.name;
  if (!c.legal_name.empty() && c.legal_name != c.name) name += " (" + c.legal_name + ")";
  if (!c.company_number.empty()) name += ", company number " + c.company_number;
  who.push_back({c.role == policy::Role::kProcessor ? "Processor" : "Controller", name});
  if (std::string details = ContactDetails(c.email, c.phone, c.address, c.website);
      !details.empty()) {
    who.push_back({"Contact", details});
  }
  if (policy.dpo.present) {
    std::string dpo = policy.dpo.name;
    std::string details =
        ContactDetails(policy.dpo.email, policy.dpo.phone, policy.dpo.address, "");
    if (!details.empty()) dpo += (dpo.empty() ? "" : ", ") + details;
    who.push_back({"Data protection officer", dpo});
  }
  if (const policy::Contact* contact = RightsContact(policy)) {
    auto [label, details] = ContactItem(*contact);
    who.push_back({"Requests about your data", details.empty() ? label : label + ": " + details});
  }
  h.List(who);

  h.Heading(2, "The personal data we hold about you");
  for (const SubjectView& view : subjects) SubjectHtml(h, policy, view, subjects.size() > 1);
  if (subjects.empty()) h.Para("We hold no personal data about you.");
  if (!facts.systems->empty()) {
    h.Heading(3, "In our other systems");
    for (const auto& system : *facts.systems) {
      h.Heading(4, system.name);
      if (!system.searched) {
        h.Para("This system was not searched for this request.");
        continue;
      }
      // One line per value held, under the record it belongs to ("contacts 1"); empty
      // columns are left out (the JSON shows them as null).
      std::vector<std::vector<std::string>> rows;
      for (const auto& dataset : system.datasets) {
        for (size_t i = 0; i < dataset.rows.size(); ++i) {
          for (const auto& field : dataset.rows[i].fields) {
            if (field.category.empty() || !field.value) continue;
            rows.push_back({dataset.dataset + " " + std::to_string(i + 1),
                            policy.CategoryName(field.category), *field.value});
          }
        }
      }
      h.Table({"Record", "Data", "Value"}, rows, "Nothing about you.");
    }
  }

  h.Heading(2, "The kinds of personal data we hold about you");
  std::vector<std::vector<std::string>> rows;
  for (const auto& key : facts.categories) {
    const policy::Category* category = policy.FindCategory(key);
    std::string special;
    if (IsSpecial(policy, key)) {
      special = "Yes";
      if (category != nullptr && !category->condition.empty()) {
        special += ": we process it on the condition of " +
                   std::string(policy::ConditionInWords(category->condition));
        if (std::string_view letter = policy::Article9Letter(category->condition);
            !letter.empty()) {
          special += " (" + std::string(letter) + " UK GDPR)";
        }
      }
    }
    rows.push_back({policy.CategoryName(key), category != nullptr ? category->description : "",
                    special.empty() ? "No" : special});
  }
  h.Table({"Kind of data", "What it is", "Special category data"}, rows, "None.");

  h.Heading(2, "Why we use it and our lawful basis");
  rows.clear();
  for (const PurposeUse& use : facts.purposes) {
    const policy::Purpose& p = *use.purpose;
    std::string basis = LawfulBasisWords(p.basis);
    if (p.basis == policy::LawfulBasis::kLegitimateInterests && !p.interest.empty()) {
      basis += ". Our legitimate interest: " + p.interest;
    } else if (!p.obligation.empty()) {
      basis += ". " + p.obligation;
    }
    rows.push_back({p.name, p.description, basis, CategoryNames(policy, use.categories)});
  }
  h.Table({"Purpose", "What we do", "Lawful basis", "Your data it uses"}, rows,
          "We do not use your data for any purpose.");

  h.Heading(2, "Who receives it");
  rows.clear();
  for (const RecipientUse& use : facts.recipients) {
    const policy::Recipient& r = *use.recipient;
    std::vector<std::string> countries;
    for (const auto& country : r.countries) AddUnique(countries, policy::CountryName(country.key));
    std::string transfer = "No";
    if (!use.outside.empty()) {
      std::vector<std::string> outside;
      for (const auto& code : use.outside) AddUnique(outside, policy::CountryName(code));
      transfer = "To " + Join(outside) + ", protected by " +
                 std::string(policy::SafeguardInWords(r.safeguard));
      if (!r.safeguard_note.empty()) transfer += ". " + r.safeguard_note;
    }
    std::string what = r.description;
    if (!r.when.empty()) what += (what.empty() ? "When: " : " When: ") + r.when;
    if (r.processor_of) {
      what += (what.empty() ? "Works for " : " Works for ") +
              RecipientName(policy, r.processor_of->key) + ".";
    }
    std::vector<std::string> purposes;
    for (const auto& key : use.purposes) AddUnique(purposes, PurposeName(policy, key));
    rows.push_back({r.name, std::string(policy::RecipientKindName(r.kind)), what, Join(purposes),
                    countries.empty() ? std::string("Not stated") : Join(countries), transfer});
  }
  std::vector<std::string> regions;
  for (const auto& region : policy.transfers.regions) {
    AddUnique(regions, policy::CountryName(region.key));
  }
  std::string outside_header = regions.empty() ? std::string("International transfer")
                                               : "Transfer outside " + Join(regions, " and ");
  h.Table({"Recipient", "Kind", "What they do", "For", "Where", outside_header}, rows,
          "We do not share your personal data with anyone outside our organisation.");
  if (policy.transfers.outside == policy::TransferRule::kForbidden) {
    h.Para("Your personal data never leaves " + Join(regions, " and ") + ".");
  }
  h.Para(policy.transfers.note);

  h.Heading(2, "How long we keep it");
  // Each rule once, in policy order: its words already name the kinds of data it covers.
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& rule : policy.retention) {
    bool applies = std::any_of(
        facts.retention.begin(), facts.retention.end(), [&rule](const RetentionUse& use) {
          return std::find(use.rules.begin(), use.rules.end(), &rule) != use.rules.end();
        });
    if (!applies) continue;
    auto text = policy::DescribeRetentionRule(policy, rule) + ".";
    if (!rule.description.empty()) text += " " + rule.description;
    items.push_back({"", text});
  }
  std::vector<std::string> uncovered;
  for (const RetentionUse& use : facts.retention) {
    if (use.rules.empty()) uncovered.push_back(use.category);
  }
  if (!uncovered.empty()) {
    items.push_back(
        {CategoryNames(policy, uncovered), "no retention rule of ours covers this data."});
  }
  h.List(items);
  if (items.empty()) h.Para("We hold no personal data about you.");

  h.Heading(2, "Where your data came from");
  items.clear();
  for (const SourceUse& use : facts.sources) {
    std::string text = use.source != nullptr ? use.source->description : "";
    text += (text.empty() ? "" : " ") + std::string("Data from this source: ") +
            CategoryNames(policy, use.categories) + ".";
    items.push_back({SourceName(policy, use.key), text});
  }
  if (items.empty()) {
    h.Para("All the personal data we hold about you was collected from you.");
  } else {
    h.Para("Some of the personal data we hold about you was not collected from you:");
    h.List(items);
  }

  h.Heading(2, "Automated decisions and profiling");
  items.clear();
  for (const policy::Purpose* p : facts.automated) {
    std::string text;
    if (p->profiling) text = "Profiling: we use your data to analyse or predict things about you.";
    if (!p->description.empty()) text += " " + p->description;
    const policy::AutomatedDecision& decision = p->automated_decision;
    if (decision.present) {
      text += " Decisions are made by automated means alone, without a person involved.";
      if (!decision.logic.empty()) text += " How it works: " + decision.logic;
      if (!decision.significance.empty())
        text += " What it means for you: " + decision.significance;
      if (decision.human_review) {
        text +=
            " You can ask for a person to review the decision, give your point of view and "
            "contest it.";
      }
    }
    items.push_back({p->name, text});
  }
  if (items.empty()) {
    h.Para(
        "None of the ways we use your data involves profiling or decisions made by automated "
        "means alone.");
  } else {
    h.List(items);
  }

  h.Heading(2, "Your rights");
  items.clear();
  for (const auto& right : policy.rights.available) {
    items.push_back({std::string(policy::RightName(right)), policy::RightInWords(right)});
  }
  h.List(items);

  h.Heading(2, "How to complain");
  items.clear();
  if (const policy::Contact* complaints = policy.FindContactFor("complaints")) {
    auto [label, details] = ContactItem(*complaints);
    h.Para(policy.regulator.first_contact_us
               ? "Please contact us first, so that we can try to put things right:"
               : "You can complain to us:");
    h.List({{label, details}});
  }
  h.Para("You have the right to complain to a data protection regulator: " + policy.regulator.name +
         ".");
  const policy::Regulator& reg = policy.regulator;
  if (!reg.address.empty()) items.push_back({"Address", reg.address});
  if (!reg.phone.empty()) items.push_back({"Phone", reg.phone});
  if (!reg.website.empty()) items.push_back({"Website", reg.website});
  h.List(items);
  if (!reg.other_regulators.empty())
    h.Para("You can also complain to " + reg.other_regulators + ".");

  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  // Nothing is loaded from elsewhere and no script runs, even if escaping ever failed.
  out +=
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'\">\n";
  out += "<meta name=\"robots\" content=\"noindex\">\n";
  out += "<title>" + Esc(title) + "</title>\n";
  out += "<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n<main>\n";
  out += h.text();
  out += "</main>\n</body>\n</html>\n";
  return out;
}

}  // namespace internal

}  // namespace custos::engine
