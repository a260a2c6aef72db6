// The portability export (Article 20, access_package.h): the data the person provided, processed
// under consent or contract, as JSON and as CSV, with the consents they gave.
#include <optional>
#include <string_view>

#include "engine/access_package.h"
#include "engine/access_package_internal.h"
#include "policy/text_formats.h"

namespace custos::engine {

namespace {

using internal::ConsentTargetName;
using internal::Held;
using internal::Json;
using internal::PurposeName;
using internal::RecordStateKey;
using internal::WriteController;
using internal::WriteHeader;
using policy::Policy;

// Portability covers data the person provided (a direct source) processed under consent or
// contract (Article 20(1)(a)).
bool Portable(const Policy& policy, const SubjectView::RecordValue& record) {
  if (!Held(record.state)) return false;
  const policy::Source* source = policy.FindSource(record.source);
  const policy::Purpose* purpose = policy.FindPurpose(record.purpose);
  return source != nullptr && source->kind == policy::SourceKind::kDirect && purpose != nullptr &&
         (purpose->basis == policy::LawfulBasis::kConsent ||
          purpose->basis == policy::LawfulBasis::kContract);
}

// Consent ledger events of action given, each with the first withdrawal of the same target
// after it.
struct GivenConsent {
  const store::ConsentEventRow* given = nullptr;
  const store::ConsentEventRow* withdrawn = nullptr;
};

std::vector<GivenConsent> GivenConsents(const std::vector<store::ConsentEventRow>& ledger) {
  std::vector<GivenConsent> out;
  for (const auto& event : ledger) {
    if (event.action != store::ConsentAction::kGiven) continue;
    GivenConsent consent{&event, nullptr};
    for (const auto& later : ledger) {
      if (later.action != store::ConsentAction::kWithdrawn || later.target != event.target ||
          later.target_kind != event.target_kind || later.at < event.at) {
        continue;
      }
      if (consent.withdrawn == nullptr || later.at < consent.withdrawn->at) {
        consent.withdrawn = &later;
      }
    }
    out.push_back(consent);
  }
  return out;
}

std::string PortabilityJson(const Policy& policy, const PackageMeta& meta,
                            const std::vector<SubjectView>& subjects,
                            const std::vector<SystemRows>& systems) {
  Json j;
  j.BeginObject();
  WriteHeader(j, "custos.portability_export.v1", "Article 20 UK GDPR", meta);
  WriteController(j, policy);
  j.BeginArray("subjects");
  for (const SubjectView& view : subjects) {
    j.BeginObject();
    j.Field("subject_id", view.subject.subject_id);
    j.BeginArray("records");
    for (const auto& record : view.records) {
      if (!Portable(policy, record)) continue;
      j.BeginObject();
      j.Field("record_id", record.record_id);
      j.Field("category", record.category);
      j.Field("category_name", policy.CategoryName(record.category));
      j.Field("value", record.value);
      j.Field("source", record.source);
      j.Field("purpose", record.purpose);
      j.Field("purpose_name", PurposeName(policy, record.purpose));
      j.Field("lawful_basis", policy::LawfulBasisKey(policy.FindPurpose(record.purpose)->basis));
      j.Time("collected_at", record.collected_at);
      j.Field("state", RecordStateKey(record.state));
      j.EndObject();
    }
    j.EndArray();
    j.BeginArray("consents");
    for (const GivenConsent& consent : GivenConsents(view.consents)) {
      const store::ConsentEventRow& event = *consent.given;
      j.BeginObject();
      j.Field("target_kind", event.target_kind == store::ConsentTarget::kCookieCategory
                                 ? "cookie_category"
                                 : "purpose");
      j.Field("target", event.target);
      j.Field("target_name", ConsentTargetName(policy, event));
      j.Time("given_at", event.at);
      j.Field("notice_version", event.notice_version);
      j.Field("channel", event.channel);
      j.Time("withdrawn_at", consent.withdrawn != nullptr
                                 ? std::optional<Timestamp>(consent.withdrawn->at)
                                 : std::nullopt);
      j.EndObject();
    }
    j.EndArray();
    j.EndObject();
  }
  j.EndArray();
  internal::WriteSystems(j, policy, systems);
  j.EndObject();
  return j.Take();
}

void AppendCsvRow(std::string& out, const std::vector<std::string>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    out += policy::CsvField(policy::ValidUtf8(fields[i]));
  }
  out += "\r\n";
}

std::string PortabilityCsv(const Policy& policy, const std::vector<SubjectView>& subjects) {
  std::string out;
  AppendCsvRow(out, {"subject_id", "category", "category_name", "value", "source", "purpose",
                     "collected_at"});
  for (const SubjectView& view : subjects) {
    for (const auto& record : view.records) {
      if (!Portable(policy, record)) continue;
      AppendCsvRow(out,
                   {view.subject.subject_id, record.category, policy.CategoryName(record.category),
                    record.value, record.source, record.purpose, record.collected_at.ToString()});
    }
  }
  return out;
}

}  // namespace

PortabilityExport BuildPortabilityExport(const policy::Policy& policy, const PackageMeta& meta,
                                         const std::vector<SubjectView>& subjects,
                                         const std::vector<SystemRows>& systems) {
  return PortabilityExport{PortabilityJson(policy, meta, subjects, systems),
                           PortabilityCsv(policy, subjects)};
}

}  // namespace custos::engine
