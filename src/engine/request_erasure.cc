// Engine: the right to erasure (Article 17) in a request. What the request covers is erased
// unless a legal hold or one of the policy's erasure exemptions keeps it (ErasureExemption);
// when nothing of the person stays, their data key is destroyed (crypto-shredding); their
// identifiers always go on the suppression list. What was kept, and why, is recorded for the
// person.
#include <algorithm>
#include <set>
#include <string>

#include "engine/engine.h"
#include "engine/policy_change_notice.h"
#include "engine/request_internal.h"

namespace custos::engine {

namespace {

using internal::Covers;
using internal::RefsCover;

}  // namespace

namespace {

// What a ground means, said to the person whose data is kept ("... because ...").
std::string KeptBecause(std::string_view ground) {
  if (ground == "legal_obligation") return "the law requires us to keep it";
  if (ground == "legal_claims") {
    return "we need it to establish, exercise or defend legal claims";
  }
  if (ground == "research_article_89") {
    return "it is used for research, archiving or statistics under safeguards (Article 89 UK "
           "GDPR), and erasing it would make that impossible or seriously harm it";
  }
  if (ground == "public_task") return "we need it for a task carried out in the public interest";
  if (ground == "freedom_of_expression") {
    return "we need it for freedom of expression and information";
  }
  if (ground == "crime_prevention") {
    return "erasing it would prejudice the prevention or detection of crime";
  }
  return "we are entitled to keep it";
}

}  // namespace

// Why an item must be kept despite an erasure request, or nullopt when it may go: a legal
// hold, one of the policy's erasure exemptions, or a retention rule that keeps it for a while
// after the request. Identifiers have no purpose (`purpose` empty). ProtectUK: "we may not
// always be able to comply with your request of erasure for specific legal reasons which will
// be notified to you": `told` names the specific reason for this item, not a generic sentence.
std::optional<Engine::KeptReason> Engine::ErasureKeeps(
    const store::SubjectRow& subject, std::string_view category, std::string_view purpose_key,
    bool is_identifier, const std::vector<store::LegalHoldRow>& holds, Timestamp at) const {
  if (const store::LegalHoldRow* hold = FindLegalHold(holds, subject.subject_id, category, at)) {
    // The hold's reason is staff's free text: it stays in the history, not in the message.
    return KeptReason{"legal_claims", KeptBecause("legal_claims") + " (a legal hold since " +
                                          hold->placed_at.ToString().substr(0, 10) + ")"};
  }
  const policy::Purpose* purpose = is_identifier ? nullptr : policy_.FindPurpose(purpose_key);
  for (const auto& exemption : policy_.rights.exemptions) {
    if (exemption.right != "erasure") continue;
    bool by_category =
        !exemption.categories.empty() && RefsCover(exemption.categories, std::string(category));
    bool by_purpose = std::any_of(exemption.purposes.begin(), exemption.purposes.end(),
                                  [&](const policy::Ref& r) { return r.key == purpose_key; });
    bool scoped = !exemption.categories.empty() || !exemption.purposes.empty();
    bool applies = false;
    if (exemption.ground == "legal_obligation") {
      // Unscoped: what the law makes us keep is what we collect under a legal obligation.
      applies = scoped
                    ? (by_category || by_purpose)
                    : purpose != nullptr && purpose->basis == policy::LawfulBasis::kLegalObligation;
    } else {
      // legal_claims unscoped applies through legal holds (above); research_article_89 and
      // the rest name what they cover.
      applies = scoped && (by_category || by_purpose);
    }
    if (!applies) continue;
    std::string told = KeptBecause(exemption.ground);
    if (purpose != nullptr) {
      told += ": we hold it for " + purpose->name;
      if (exemption.ground == "legal_obligation" && !purpose->obligation.empty()) {
        told += " (" + purpose->obligation + ")";
      }
    }
    // A scoped exemption's own words are about this data; an unscoped one's are the policy's
    // general sentence, which the notice already gives.
    if (scoped && !exemption.description.empty()) told += ". " + exemption.description;
    return KeptReason{exemption.ground, told};
  }
  if (const policy::RetentionRule* rule =
          RuleKeepingAfterErasure(policy_, subject, category, purpose_key, is_identifier)) {
    std::string told = "we keep it for a while after a request to erase";
    if (purpose != nullptr && !purpose->description.empty()) told = purpose->description;
    if (!told.empty() && told.back() == '.') told.pop_back();
    std::string then = rule->action == policy::RetentionAction::kDelete      ? "delete it"
                       : rule->action == policy::RetentionAction::kAnonymise ? "anonymise it"
                                                                             : "review it";
    told += "; we " + then + " " + rule->period.value->ToHuman() + " after your request";
    return KeptReason{"retention_rule", told};
  }
  return std::nullopt;
}

// Erasure: per subject, what may go goes and what must stay is kept with its reason.
Status Engine::FulfilErasure(const store::RequestRow& row, Timestamp at, const std::string& actor,
                             internal::Fulfilment& work) {
  const std::string& request_id = row.request_id;
  const internal::Details& details = work.details;
  std::vector<FulfilmentItem>& items = work.details.items;
  store::WriteBatch& batch = work.batch;
  std::vector<AuditEntry>& audit = work.audit;
  std::vector<std::string>& touched = work.touched;
  std::vector<std::string>& affected_categories = work.affected_categories;
  std::string& summary = work.summary;

  // The organisation's systems first: finding the person there needs the identifiers that
  // erasing custos's own copy destroys.
  ASSIGN_OR_RETURN(std::string systems_summary, EraseInSystems(row, at, actor, work));
  ASSIGN_OR_RETURN(std::vector<store::LegalHoldRow> holds, store_.ListLegalHolds(controller_));
  int64_t erased = 0, kept = 0;
  for (const auto& subject_id : row.subject_ids) {
    ASSIGN_OR_RETURN(std::optional<store::SubjectRow> subject,
                     store_.GetSubject(controller_, subject_id));
    if (!subject.has_value() || subject->state == store::SubjectState::kErased) continue;
    ASSIGN_OR_RETURN(std::vector<store::RecordRow> records,
                     store_.ListRecords(controller_, subject_id));
    ASSIGN_OR_RETURN(std::vector<store::IdentifierRow> identifiers,
                     store_.ListIdentifiers(controller_, subject_id));
    batch.Add(store::ExpectState{controller_, subject_id, 0, {}});
    bool keeps_anything = false;
    std::vector<int64_t> to_erase;
    std::set<std::string> erased_categories;
    for (const auto& record : records) {
      if (record.state == store::RecordState::kErased ||
          record.state == store::RecordState::kAnonymised) {
        continue;
      }
      if (!Covers(details.categories, record.category)) {
        keeps_anything = true;  // not asked
        continue;
      }
      if (std::optional<KeptReason> keep =
              ErasureKeeps(*subject, record.category, record.purpose, false, holds, at)) {
        keeps_anything = true;
        ++kept;
        items.push_back({subject_id, record.category, "kept", keep->ground, keep->told});
        continue;
      }
      to_erase.push_back(record.record_id);
      erased_categories.insert(record.category);
      batch.Add(store::ExpectState{controller_, subject_id, record.record_id, record.state});
    }
    // Identifiers count as the category of their kind; when something of the person stays,
    // each identifier the request covers goes unless a hold or an exemption keeps it (a held
    // phone number keeps nothing else). The person stays suppressed without them: their
    // blind indexes are on the suppression list, and the erasure_requested event recorded
    // below marks the person suppressed whatever identifiers are left (SubjectState). An
    // identifier the request does not cover, or that a hold or an exemption keeps, keeps the
    // person like a record does: their data key must outlive the erasure.
    std::vector<std::optional<KeptReason>> identifier_kept;
    for (const auto& identifier : identifiers) {
      std::string category = IdentifierCategory(identifier.kind);
      if (!Covers(details.categories, category)) {
        keeps_anything = true;
        identifier_kept.push_back(std::nullopt);
        continue;
      }
      identifier_kept.push_back(ErasureKeeps(*subject, category, "", true, holds, at));
      if (identifier_kept.back().has_value()) keeps_anything = true;
    }
    bool identifiers_go = !keeps_anything;
    for (size_t i = 0; i < identifiers.size(); ++i) {
      const store::IdentifierRow& identifier = identifiers[i];
      // Whatever stays, this person is never contacted for marketing again.
      batch.Add(store::SuppressionRow{controller_, identifier.blind_index, identifier.kind,
                                      "erasure_request", at});
      if (!identifiers_go) {
        std::string category = IdentifierCategory(identifier.kind);
        if (!Covers(details.categories, category)) continue;  // not asked
        if (const std::optional<KeptReason>& keep = identifier_kept[i]) {
          ++kept;
          items.push_back({subject_id, category, "kept", keep->ground, keep->told});
          continue;
        }
        batch.Add(store::DeleteIdentifiers{controller_, subject_id, identifier.kind,
                                           identifier.blind_index});
        erased_categories.insert(category);
      }
    }
    if (identifiers_go) {
      // Nothing of the person stays: destroy their data key (crypto-shredding) so every
      // value goes at once, old backups included.
      batch.Add(store::DeleteIdentifiers{controller_, subject_id, "", {}});
      batch.Add(store::EraseSubject{controller_, subject_id, at});
      // The person's own notices not yet sent (a changed policy) are sealed with the key just
      // destroyed: given up, never sent.
      ASSIGN_OR_RETURN(
          std::vector<store::OutboxRow> own,
          store_.ListOutbox(controller_, std::string(kPersonReferencePrefix) + subject_id));
      for (const auto& message : own) {
        if (message.state != store::OutboxState::kPending &&
            message.state != store::OutboxState::kManual) {
          continue;
        }
        batch.Add(store::UpdateOutbox{controller_, message.outbox_id, store::OutboxState::kDead,
                                      message.attempts, at, std::nullopt,
                                      std::string(CodeName(ErrorCode::kSubjectErased)), true});
      }
      for (const auto& identifier : identifiers) {
        erased_categories.insert(IdentifierCategory(identifier.kind));
      }
      audit.push_back(Entry(actor, "request_erase", subject_id, at,
                            request_id + ": data key destroyed; " +
                                std::to_string(identifiers.size()) +
                                " identifier hash(es) suppressed"));
    } else {
      // The request starts the periods of rules triggered by it (a list of opt-out requests
      // kept for a year after the request, then reviewed).
      batch.Add(store::EventRow{controller_, subject_id, std::string(kErasureRequestedEvent),
                                row.received_at});
      for (int64_t record_id : to_erase) {
        batch.Add(store::SetRecordState{controller_, subject_id, record_id,
                                        store::RecordState::kErased, store::Bytes{}, at});
      }
      audit.push_back(Entry(actor, "request_erase", subject_id, at,
                            request_id + ": " + std::to_string(to_erase.size()) +
                                " record(s) erased, some data kept"));
    }
    erased += static_cast<int64_t>(to_erase.size());
    for (const auto& category : erased_categories) {
      items.push_back({subject_id, category, "erased", "", ""});
      affected_categories.push_back(category);
    }
    touched.push_back(subject_id);
  }
  summary = std::to_string(erased) + " record(s) erased, " + std::to_string(kept) + " kept" +
            systems_summary;
  return Status::Ok();
}

}  // namespace custos::engine
