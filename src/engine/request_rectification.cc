// Engine: the right to rectification (Article 16) in a request. The newest live record of each
// corrected category gets the new value, its earlier value kept in the record's history
// (record_versions, sealed with the subject's key); a wrong email or phone the person is known
// by is replaced, its blind index with it.
#include <string>

#include "crypto/blind_index.h"
#include "crypto/sealing.h"
#include "engine/engine.h"
#include "engine/request_internal.h"

namespace custos::engine {

// Rectification: each corrected value replaces the one held, which is kept as history.
Status Engine::FulfilRectification(const store::RequestRow& row, Timestamp at,
                                   const std::string& actor, internal::Fulfilment& work) {
  const std::string& request_id = row.request_id;
  const internal::Details& details = work.details;
  std::vector<FulfilmentItem>& items = work.details.items;
  store::WriteBatch& batch = work.batch;
  std::vector<AuditEntry>& audit = work.audit;
  std::vector<std::string>& affected_categories = work.affected_categories;
  std::string& summary = work.summary;

  for (const auto& subject_id : row.subject_ids) {
    ASSIGN_OR_RETURN(store::SubjectRow subject, ActiveSubject(subject_id));
    ASSIGN_OR_RETURN(crypto::SecretKey data_key, DataKey(subject));
    ASSIGN_OR_RETURN(std::vector<store::RecordRow> records,
                     store_.ListRecords(controller_, subject_id));
    for (const auto& fix : details.rectifications) {
      // The newest live record of that category is the one the person corrects.
      const store::RecordRow* target = nullptr;
      for (const auto& record : records) {
        if (record.category == fix.category && (record.state == store::RecordState::kActive ||
                                                record.state == store::RecordState::kRestricted)) {
          target = &record;
        }
      }
      if (target == nullptr) {
        // A wrong email or phone the person is known by: the identifier is replaced (its
        // blind index with it), so the person is found by the corrected one from now on.
        std::string kind = fix.category == IdentifierCategory("email")   ? "email"
                           : fix.category == IdentifierCategory("phone") ? "phone"
                                                                         : "";
        bool replaced = false;
        if (!kind.empty() && !crypto::NormalizeIdentifier(kind, fix.value).empty()) {
          ASSIGN_OR_RETURN(std::vector<store::IdentifierRow> identifiers,
                           store_.ListIdentifiers(controller_, subject_id));
          for (const auto& identifier : identifiers) {
            if (identifier.kind != kind) continue;
            batch.Add(
                store::DeleteIdentifiers{controller_, subject_id, kind, identifier.blind_index});
            replaced = true;
          }
          if (replaced) {
            store::IdentifierRow corrected;
            corrected.controller = controller_;
            corrected.subject_id = subject_id;
            corrected.kind = kind;
            corrected.blind_index = IdentifierHash(kind, fix.value);
            corrected.sealed_value =
                crypto::Seal(data_key, fix.value, KeyContext(subject_id) + "/id/" + kind);
            corrected.verified = false;  // proven again the next time it is used
            corrected.added_at = at;
            batch.Add(std::move(corrected));
            items.push_back({subject_id, fix.category, "rectified", "", "identifier replaced"});
            affected_categories.push_back(fix.category);
            audit.push_back(Entry(actor, "request_rectify", subject_id, at,
                                  request_id + " " + kind + " identifier"));
          }
        }
        if (!replaced) {
          items.push_back({subject_id, fix.category, "not_held", "", "no record of this category"});
        }
        continue;
      }
      batch.Add(store::ExpectState{controller_, subject_id, target->record_id, target->state});
      batch.Add(store::RecordVersionRow{controller_, subject_id, target->record_id, 0,
                                        target->sealed_value, at, request_id});
      batch.Add(store::SetRecordState{
          controller_, subject_id, target->record_id, target->state,
          crypto::Seal(data_key, fix.value, KeyContext(subject_id) + "/record/" + fix.category),
          at});
      items.push_back({subject_id, fix.category, "rectified", "", "earlier value kept in history"});
      affected_categories.push_back(fix.category);
      audit.push_back(
          Entry(actor, "request_rectify", subject_id, at,
                request_id + " " + fix.category + " record " + std::to_string(target->record_id)));
    }
  }
  summary = std::to_string(affected_categories.size()) + " value(s) rectified";
  return Status::Ok();
}

}  // namespace custos::engine
