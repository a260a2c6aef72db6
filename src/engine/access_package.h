// What a person receives when they exercise the right of access (Article 15 UK GDPR) or the
// right to data portability (Article 20): pure renderers the rights-request workflow calls once
// a request is fulfilled.
//
// Inputs are the Policy and everything held about the person (SubjectView, engine.h). A request
// may match several subject records (the same person known twice), so every renderer takes
// them all: the person's data is reported under each subject id, and the Article 15(1) items
// are derived from the policy for what those subjects hold together. Nothing is said that the
// policy does not say: purposes, recipients, retention, sources and automated decisions come
// only from the policy, restricted to the categories this person actually has.
//
// "Held" means: records in state active or restricted (restricted ones are reported with their
// state) and identifiers, which count as the category of their kind (IdentifierCategory,
// retention.h). Erased and anonymised records are never included in any output: their values
// are gone, and anonymised data is no longer personal data. Consent evidence is not included
// (SubjectView leaves it sealed; Engine::ExportConsentRecords gives the ISO 27560 records).
//
// Times are RFC 3339 UTC as Timestamp::ToString writes them. Text that is not well-formed UTF-8
// has each bad byte replaced by U+FFFD (ValidUtf8, policy/text_formats.h), so the JSON always
// parses. Every renderer is pure (no I/O, no clock: the times come in PackageMeta) and never
// fails. Thread-safety: reentrant; safe to call concurrently.
#ifndef CUSTOS_ENGINE_ACCESS_PACKAGE_H_
#define CUSTOS_ENGINE_ACCESS_PACKAGE_H_

#include <string>
#include <vector>

#include "common/time.h"
#include "engine/engine.h"
#include "policy/policy.h"

namespace custos::engine {

// About the request being answered; written into every output.
struct PackageMeta {
  std::string request_id;
  Timestamp received_at, generated_at;
};

struct AccessPackage {
  std::string json, html;
};

// Returns the access package (Article 15 UK GDPR): the person's data and every item they are
// entitled to, as JSON and as a self-contained HTML report (inline CSS only, no scripts, no
// external resources, a Content-Security-Policy that forbids both, every value HTML-escaped).
//
// JSON (UTF-8, pretty-printed). Every key below is always present; text the policy leaves out
// is "", an absent object is null, and arrays may be empty. Keys are stable and snake_case.
//   format            "custos.access_package.v1"
//   article           "Article 15 UK GDPR"
//   request_id, received_at, generated_at
//   controller        {name, legal_name, company_number, registration, address, email, phone,
//                      website, role ("controller"|"processor")}
//   dpo               {name, email, phone, address} or null
//   rights_contact    contact or null: the policy's rights.contact, else its rights_requests
//                     contact, else its general one. A contact is
//                     {key, purpose, name, email, phone, address, url}.
//   subjects          one per SubjectView, in the order given:
//     {subject_id, state ("active"|"erased"), types: [key], created_at,
//      identifiers:  [{kind, category, value, verified, added_at}],
//      records:      [{record_id, category, category_name, value, source, source_name,
//                      source_kind, purpose, purpose_name, collected_at,
//                      state ("active"|"restricted")}],
//      consents:     [{seq, target_kind ("purpose"|"cookie_category"), target, target_name,
//                      action ("given"|"withdrawn"), at, notice_version, channel}],
//      preferences:  [{channel, allowed, at}],
//      objections:   [{purpose (a key, "*" or "direct_marketing"), purpose_name, at,
//                      lifted_at (null while in force)}],
//      restrictions: [{restriction_id, categories ([] = all data), reason, at, lifted_at}],
//      disclosures:  [{recipient, recipient_name, purpose, purpose_name, categories, at}]
//                    (who actually received the data: the disclosure log, Art. 15(1)(c)),
//      events:       [{event, name, at}]}
//   systems           the person's rows in the organisation's own systems (the policy's
//                     `systems:`), found by their identifiers: [{system, name, searched (false:
//                     the DPO left it out of this request), datasets: [{dataset, table,
//                     rows: [{fields: [{field, category, category_name, value (null:
//                     empty)}]}]}]}]; their categories count as held for the items below
//   categories        the categories held (Art. 15(1)(b)):
//                     [{key, name, description, special, condition: {key, article, words} or
//                     null}]
//   purposes          the purposes that use them (Art. 15(1)(a)), in policy order: those the
//                     person's records were collected for; those on consent that the person
//                     consents to (latest ledger event given); and those on any other basis
//                     covering a held category and one of the subject's types:
//                     [{key, name, description, lawful_basis: {key, name, article},
//                     legitimate_interest (when that is the basis), obligation,
//                     categories (held keys it uses), direct_marketing, profiling}]
//   recipients        recipients of those purposes and their sub-processors (Art. 15(1)(c)),
//                     leaving out any that sees only categories those purposes do not use of
//                     this person's:
//                     [{key, name, kind, kind_name, description, when, processor_of,
//                     countries: [{code, name}], purposes: [key], transfer: {countries
//                     (codes outside transfers.regions), safeguard, safeguard_words, note} or
//                     null (Art. 15(2))}]
//   transfers         {regions: [code], outside ("with_safeguard"|"forbidden"), note}
//   retention         per held category, the rules that apply to this person's items of it
//                     (subject type, category, collecting purpose), in words
//                     (policy::DescribeRetentionRule) (Art. 15(1)(d)):
//                     [{category, category_name, rules: [{id, text, description}]}]
//                     (rules [] means no rule covers it)
//   sources           where records were not collected from the person (Art. 15(1)(g)):
//                     [{key, name, kind, description, categories: [key]}]
//   automated_decision_making
//                     purposes above with profiling or automated_decision.present
//                     (Art. 15(1)(h)): [{purpose, purpose_name, profiling,
//                     automated_decision, description, logic, significance, human_review}]
//   rights            policy.rights.available: [{key, name, description}]
//   complaints        {contact (the complaints contact, or null), first_contact_us,
//                      regulator: {name, address, phone, website, country},
//                      other_regulators} (Art. 15(1)(f))
//
// REQUIRES: `policy` is valid (ValidatePolicy reported nothing); `subjects` are the views of
// one person. Keys a view holds that the policy does not know are reported as they are.
// PII: returns the person's personal data unsealed: for the person (or whom they authorise)
// only; never log it or put it in an error.
AccessPackage BuildAccessPackage(const policy::Policy& policy, const PackageMeta& meta,
                                 const std::vector<SubjectView>& subjects,
                                 const std::vector<SystemRows>& systems = {});

struct PortabilityExport {
  std::string json, csv;
};

// Returns the portability export (Article 20 UK GDPR): only the data the person provided,
// processed under consent or contract. A record is included when its source is a policy source
// of kind `direct`, the purpose it was collected for has the lawful basis consent or contract,
// and it is active or restricted; identifiers are not included (they carry no source or
// purpose). The consents the person gave (ledger events of action given) are included with the
// time of any later withdrawal.
//
// JSON (UTF-8, pretty-printed; every key always present):
//   format "custos.portability_export.v1", article "Article 20 UK GDPR", request_id,
//   received_at, generated_at, controller (as in the access package),
//   subjects: [{subject_id,
//     records:  [{record_id, category, category_name, value, source, purpose, purpose_name,
//                 lawful_basis, collected_at, state}],
//     consents: [{target_kind, target, target_name, given_at, notice_version, channel,
//                 withdrawn_at (null when not withdrawn since)}]}],
//   systems: the person's rows in the organisation's systems, as in the access package
// CSV (RFC 4180, lines end in CRLF): the header row
//   subject_id,category,category_name,value,source,purpose,collected_at
// then one row per included record; fields holding a comma, a double quote or a line break
// are quoted and their quotes doubled.
//
// REQUIRES: as BuildAccessPackage. PII: as BuildAccessPackage.
PortabilityExport BuildPortabilityExport(const policy::Policy& policy, const PackageMeta& meta,
                                         const std::vector<SubjectView>& subjects,
                                         const std::vector<SystemRows>& systems = {});

}  // namespace custos::engine

#endif  // CUSTOS_ENGINE_ACCESS_PACKAGE_H_
