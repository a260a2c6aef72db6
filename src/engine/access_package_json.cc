// The access package as JSON (access_package.h documents every key): the person's data under
// each subject id and the Article 15(1) items from internal::Facts. Also the JSON writer's header
// and controller blocks, which the portability export (portability_export.cc) writes the same.
#include <optional>
#include <string_view>

#include "engine/access_package.h"
#include "engine/access_package_internal.h"
#include "engine/retention.h"
#include "policy/notice.h"
#include "policy/taxonomy.h"

namespace custos::engine {

namespace internal {

using policy::Policy;

void WriteHeader(Json& j, std::string_view format, std::string_view article,
                 const PackageMeta& meta) {
  j.Field("format", format);
  j.Field("article", article);
  j.Field("request_id", meta.request_id);
  j.Time("received_at", meta.received_at);
  j.Time("generated_at", meta.generated_at);
}

void WriteController(Json& j, const Policy& policy) {
  const policy::Controller& c = policy.controller;
  j.BeginObject("controller");
  j.Field("name", c.name);
  j.Field("legal_name", c.legal_name);
  j.Field("company_number", c.company_number);
  j.Field("registration", c.registration);
  j.Field("address", c.address);
  j.Field("email", c.email);
  j.Field("phone", c.phone);
  j.Field("website", c.website);
  j.Field("role", c.role == policy::Role::kProcessor ? "processor" : "controller");
  j.EndObject();
}

}  // namespace internal

namespace {

using internal::ConsentTargetName;
using internal::EventName;
using internal::Facts;
using internal::Held;
using internal::IsSpecial;
using internal::Json;
using internal::PurposeName;
using internal::PurposeUse;
using internal::RecipientUse;
using internal::RecordStateKey;
using internal::RetentionUse;
using internal::RightsContact;
using internal::SourceName;
using internal::SourceUse;
using internal::WriteController;
using internal::WriteHeader;
using policy::Policy;

void WriteContact(Json& j, std::string_view key, const policy::Contact* contact) {
  if (contact == nullptr) {
    j.Null(key);
    return;
  }
  j.BeginObject(key);
  j.Field("key", contact->key);
  j.Field("purpose", contact->purpose);
  j.Field("name", contact->name);
  j.Field("email", contact->email);
  j.Field("phone", contact->phone);
  j.Field("address", contact->address);
  j.Field("url", contact->url);
  j.EndObject();
}

void WriteSubject(Json& j, const Policy& policy, const SubjectView& view) {
  j.BeginObject();
  j.Field("subject_id", view.subject.subject_id);
  j.Field("state", view.subject.state == store::SubjectState::kErased ? "erased" : "active");
  j.Strings("types", view.subject.types);
  j.Time("created_at", view.subject.created_at);

  j.BeginArray("identifiers");
  for (const auto& identifier : view.identifiers) {
    j.BeginObject();
    j.Field("kind", identifier.kind);
    j.Field("category", IdentifierCategory(identifier.kind));
    j.Field("value", identifier.value);
    j.Field("verified", identifier.verified);
    j.Time("added_at", identifier.added_at);
    j.EndObject();
  }
  j.EndArray();

  j.BeginArray("records");
  for (const auto& record : view.records) {
    if (!Held(record.state)) continue;
    const policy::Source* source = policy.FindSource(record.source);
    j.BeginObject();
    j.Field("record_id", record.record_id);
    j.Field("category", record.category);
    j.Field("category_name", policy.CategoryName(record.category));
    j.Field("value", record.value);
    j.Field("source", record.source);
    j.Field("source_name", SourceName(policy, record.source));
    j.Field("source_kind", source != nullptr ? policy::SourceKindKey(source->kind) : "");
    j.Field("purpose", record.purpose);
    j.Field("purpose_name", PurposeName(policy, record.purpose));
    j.Time("collected_at", record.collected_at);
    j.Field("state", RecordStateKey(record.state));
    j.EndObject();
  }
  j.EndArray();

  // Earlier values of corrected records are personal data held too (history kept).
  j.BeginArray("earlier_values");
  for (const auto& earlier : view.record_versions) {
    j.BeginObject();
    j.Field("record_id", earlier.record_id);
    j.Field("version", earlier.version);
    j.Field("value", earlier.value);
    j.Time("replaced_at", earlier.replaced_at);
    j.Field("request_id", earlier.request_id);
    j.EndObject();
  }
  j.EndArray();

  j.BeginArray("consents");
  for (const auto& event : view.consents) {
    j.BeginObject();
    j.Field("seq", event.seq);
    j.Field("target_kind", event.target_kind == store::ConsentTarget::kCookieCategory
                               ? "cookie_category"
                               : "purpose");
    j.Field("target", event.target);
    j.Field("target_name", ConsentTargetName(policy, event));
    j.Field("action", event.action == store::ConsentAction::kGiven ? "given" : "withdrawn");
    j.Time("at", event.at);
    j.Field("notice_version", event.notice_version);
    j.Field("channel", event.channel);
    j.EndObject();
  }
  j.EndArray();

  j.BeginArray("preferences");
  for (const auto& preference : view.preferences) {
    j.BeginObject();
    j.Field("channel", preference.channel);
    j.Field("allowed", preference.allowed);
    j.Time("at", preference.at);
    j.EndObject();
  }
  j.EndArray();

  j.BeginArray("objections");
  for (const auto& objection : view.objections) {
    j.BeginObject();
    j.Field("purpose", objection.purpose);
    j.Field("purpose_name", PurposeName(policy, objection.purpose));
    j.Time("at", objection.at);
    j.Time("lifted_at", objection.lifted_at);
    j.EndObject();
  }
  j.EndArray();

  j.BeginArray("restrictions");
  for (const auto& restriction : view.restrictions) {
    j.BeginObject();
    j.Field("restriction_id", restriction.restriction_id);
    j.Strings("categories", restriction.categories);
    j.Field("reason", restriction.reason);
    j.Time("at", restriction.at);
    j.Time("lifted_at", restriction.lifted_at);
    j.EndObject();
  }
  j.EndArray();

  // Who actually received this person's data (the disclosure log; Article 15(1)(c)).
  j.BeginArray("disclosures");
  for (const auto& d : view.disclosures) {
    j.BeginObject();
    j.Field("recipient", d.recipient);
    const policy::Recipient* recipient = policy.FindRecipient(d.recipient);
    j.Field("recipient_name", recipient != nullptr ? recipient->name : d.recipient);
    // A third-party application the controller authorised, by its name (empty otherwise).
    j.Field("application", d.application);
    j.Field("purpose", d.purpose);
    j.Field("purpose_name", PurposeName(policy, d.purpose));
    j.Strings("categories", d.categories);
    j.Time("at", d.at);
    j.EndObject();
  }
  j.EndArray();

  j.BeginArray("events");
  for (const auto& event : view.events) {
    j.BeginObject();
    j.Field("event", event.event);
    j.Field("name", EventName(policy, event.event));
    j.Time("at", event.at);
    j.EndObject();
  }
  j.EndArray();
  j.EndObject();
}

}  // namespace

namespace internal {

void WriteSystems(Json& j, const Policy& policy, const std::vector<SystemRows>& systems) {
  j.BeginArray("systems");
  for (const auto& system : systems) {
    j.BeginObject();
    j.Field("system", system.system);
    j.Field("name", system.name);
    j.Field("searched", system.searched);
    j.BeginArray("datasets");
    for (const auto& dataset : system.datasets) {
      j.BeginObject();
      j.Field("dataset", dataset.dataset);
      j.Field("table", dataset.table);
      j.BeginArray("rows");
      for (const auto& row : dataset.rows) {
        j.BeginObject();
        j.BeginArray("fields");
        for (const auto& field : row.fields) {
          if (field.category.empty()) continue;  // links and dates say nothing of the person
          j.BeginObject();
          j.Field("field", field.name);
          j.Field("category", field.category);
          j.Field("category_name", policy.CategoryName(field.category));
          if (field.value) {
            j.Field("value", *field.value);
          } else {
            j.Null("value");
          }
          j.EndObject();
        }
        j.EndArray();
        j.EndObject();
      }
      j.EndArray();
      j.EndObject();
    }
    j.EndArray();
    j.EndObject();
  }
  j.EndArray();
}

std::string AccessJson(const Policy& policy, const PackageMeta& meta,
                       const std::vector<SubjectView>& subjects, const Facts& facts) {
  Json j;
  j.BeginObject();
  WriteHeader(j, "custos.access_package.v1", "Article 15 UK GDPR", meta);
  WriteController(j, policy);
  if (policy.dpo.present) {
    j.BeginObject("dpo");
    j.Field("name", policy.dpo.name);
    j.Field("email", policy.dpo.email);
    j.Field("phone", policy.dpo.phone);
    j.Field("address", policy.dpo.address);
    j.EndObject();
  } else {
    j.Null("dpo");
  }
  WriteContact(j, "rights_contact", RightsContact(policy));

  j.BeginArray("subjects");
  for (const SubjectView& view : subjects) WriteSubject(j, policy, view);
  j.EndArray();
  WriteSystems(j, policy, *facts.systems);

  j.BeginArray("categories");
  for (const auto& key : facts.categories) {
    const policy::Category* category = policy.FindCategory(key);
    j.BeginObject();
    j.Field("key", key);
    j.Field("name", policy.CategoryName(key));
    j.Field("description", category != nullptr ? category->description : "");
    j.Field("special", IsSpecial(policy, key));
    if (category != nullptr && !category->condition.empty()) {
      j.BeginObject("condition");
      j.Field("key", category->condition);
      std::string_view letter = policy::Article9Letter(category->condition);
      j.Field("article", letter.empty() ? std::string() : std::string(letter) + " UK GDPR");
      j.Field("words", policy::ConditionInWords(category->condition));
      j.EndObject();
    } else {
      j.Null("condition");
    }
    j.EndObject();
  }
  j.EndArray();

  j.BeginArray("purposes");
  for (const PurposeUse& use : facts.purposes) {
    const policy::Purpose& p = *use.purpose;
    j.BeginObject();
    j.Field("key", p.key);
    j.Field("name", p.name);
    j.Field("description", p.description);
    j.BeginObject("lawful_basis");
    j.Field("key", policy::LawfulBasisKey(p.basis));
    j.Field("name", policy::LawfulBasisName(p.basis));
    j.Field("article", policy::LawfulBasisArticle(p.basis));
    j.EndObject();
    j.Field("legitimate_interest",
            p.basis == policy::LawfulBasis::kLegitimateInterests ? p.interest : "");
    j.Field("obligation", p.obligation);
    j.Strings("categories", use.categories);
    j.Field("direct_marketing", p.direct_marketing);
    j.Field("profiling", p.profiling);
    j.EndObject();
  }
  j.EndArray();

  j.BeginArray("recipients");
  for (const RecipientUse& use : facts.recipients) {
    const policy::Recipient& r = *use.recipient;
    j.BeginObject();
    j.Field("key", r.key);
    j.Field("name", r.name);
    j.Field("kind", policy::RecipientKindKey(r.kind));
    j.Field("kind_name", policy::RecipientKindName(r.kind));
    j.Field("description", r.description);
    j.Field("when", r.when);
    j.Field("processor_of", r.processor_of ? r.processor_of->key : "");
    j.BeginArray("countries");
    for (const auto& country : r.countries) {
      j.BeginObject();
      j.Field("code", country.key);
      j.Field("name", policy::CountryName(country.key));
      j.EndObject();
    }
    j.EndArray();
    j.Strings("purposes", use.purposes);
    if (use.outside.empty()) {
      j.Null("transfer");
    } else {
      j.BeginObject("transfer");
      j.Strings("countries", use.outside);
      j.Field("safeguard", r.safeguard);
      j.Field("safeguard_words", policy::SafeguardInWords(r.safeguard));
      j.Field("note", r.safeguard_note);
      j.EndObject();
    }
    j.EndObject();
  }
  j.EndArray();

  j.BeginObject("transfers");
  j.BeginArray("regions");
  for (const auto& region : policy.transfers.regions) j.String(region.key);
  j.EndArray();
  j.Field("outside", policy.transfers.outside == policy::TransferRule::kForbidden
                         ? "forbidden"
                         : "with_safeguard");
  j.Field("note", policy.transfers.note);
  j.EndObject();

  j.BeginArray("retention");
  for (const RetentionUse& use : facts.retention) {
    j.BeginObject();
    j.Field("category", use.category);
    j.Field("category_name", policy.CategoryName(use.category));
    j.BeginArray("rules");
    for (const policy::RetentionRule* rule : use.rules) {
      j.BeginObject();
      j.Field("id", rule->id);
      j.Field("text", policy::DescribeRetentionRule(policy, *rule));
      j.Field("description", rule->description);
      j.EndObject();
    }
    j.EndArray();
    j.EndObject();
  }
  j.EndArray();

  j.BeginArray("sources");
  for (const SourceUse& use : facts.sources) {
    j.BeginObject();
    j.Field("key", use.key);
    j.Field("name", SourceName(policy, use.key));
    j.Field("kind", use.source != nullptr ? policy::SourceKindKey(use.source->kind) : "");
    j.Field("description", use.source != nullptr ? use.source->description : "");
    j.Strings("categories", use.categories);
    j.EndObject();
  }
  j.EndArray();

  j.BeginArray("automated_decision_making");
  for (const policy::Purpose* p : facts.automated) {
    j.BeginObject();
    j.Field("purpose", p->key);
    j.Field("purpose_name", p->name);
    j.Field("profiling", p->profiling);
    j.Field("automated_decision", p->automated_decision.present);
    j.Field("description", p->description);
    j.Field("logic", p->automated_decision.logic);
    j.Field("significance", p->automated_decision.significance);
    j.Field("human_review", p->automated_decision.human_review);
    j.EndObject();
  }
  j.EndArray();

  j.BeginArray("rights");
  for (const auto& right : policy.rights.available) {
    j.BeginObject();
    j.Field("key", right);
    j.Field("name", policy::RightName(right));
    j.Field("description", policy::RightInWords(right));
    j.EndObject();
  }
  j.EndArray();

  j.BeginObject("complaints");
  WriteContact(j, "contact", policy.FindContactFor("complaints"));
  j.Field("first_contact_us", policy.regulator.first_contact_us);
  j.BeginObject("regulator");
  j.Field("name", policy.regulator.name);
  j.Field("address", policy.regulator.address);
  j.Field("phone", policy.regulator.phone);
  j.Field("website", policy.regulator.website);
  j.Field("country", policy.regulator.country);
  j.EndObject();
  j.Field("other_regulators", policy.regulator.other_regulators);
  j.EndObject();

  j.EndObject();
  return j.Take();
}

}  // namespace internal

}  // namespace custos::engine
