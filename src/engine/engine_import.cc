// Engine::ImportBatch: people from an export, a batch per transaction (see engine.h).
#include <algorithm>
#include <unordered_set>

#include "crypto/blind_index.h"
#include "crypto/hash_chain.h"
#include "crypto/sealing.h"
#include "engine/engine.h"
#include "engine/identifier_form.h"

namespace custos::engine {

namespace {

Status Invalid(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

}  // namespace

std::string Engine::ImportedSubjectId(const std::string& external_id) const {
  store::Bytes hash =
      crypto::BlindIndex(master_key_.BlindIndexKey(), "import_subject", external_id);
  hash.resize(12);
  return "x_" + crypto::ToHex(hash);
}

Result<std::vector<ImportOutcome>> Engine::ImportBatch(const std::vector<ImportPerson>& people,
                                                       const std::string& actor) {
  Timestamp now = clock_.Now();
  std::vector<ImportOutcome> outcomes;
  outcomes.reserve(people.size());
  std::unordered_set<std::string> in_batch;
  std::vector<std::string> imported;
  store::WriteBatch batch;
  batch.only_new_rows = true;  // people never stored before: the store may bulk-load them
  std::vector<AuditEntry> entries;

  // The rules each part meets; the same words as the single-value calls.
  auto check = [&](const ImportPerson& person) -> Status {
    if (person.types.empty()) return Invalid("a person needs at least one subject type");
    for (const auto& type : person.types) {
      if (!policy_.FindSubjectType(type)) {
        return Status(ErrorCode::kUnknownSubjectType,
                      "subject type '" + type + "' is not in the policy");
      }
    }
    for (const auto& identifier : person.identifiers) {
      RETURN_IF_ERROR(CheckIdentifierForm(identifier.kind, identifier.value));
    }
    for (const auto& record : person.records) {
      RETURN_IF_ERROR(CheckRecordFields(record.category, record.source, record.purpose));
    }
    for (const auto& event : person.events) {
      if (!policy_.FindEvent(event.event)) {
        return Invalid("event '" + event.event + "' is not declared in the policy");
      }
    }
    for (const auto& consent : person.consents) {
      if (!policy_.FindPurpose(consent.purpose)) {
        return Invalid("purpose '" + consent.purpose + "' is not in the policy");
      }
    }
    return Status::Ok();
  };

  // First what can be known without the store: each row's checks, its subject id, repeats
  // within the batch. Then what the store knows, asked once for the whole batch: who was
  // imported before, and which identifiers are on the suppression list.
  std::vector<ImportOutcome> checked(people.size());
  std::vector<size_t> candidates;  // people to look up: valid, first of their id in the batch
  std::vector<std::string> candidate_ids;
  for (size_t p = 0; p < people.size(); ++p) {
    const ImportPerson& person = people[p];
    ImportOutcome& outcome = checked[p];
    outcome.line = person.line;
    if (Status valid = check(person); !valid.ok()) {
      outcome.kind = ImportOutcome::Kind::kRejected;
      outcome.reason = std::string(CodeName(valid.code())) + ": " + valid.message();
      continue;
    }
    outcome.subject_id = ImportedSubjectId(person.external_id);
    if (!in_batch.insert(outcome.subject_id).second) {
      outcome.kind = ImportOutcome::Kind::kSkipped;
      outcome.reason = "the same external id is on an earlier row";
      continue;
    }
    candidates.push_back(p);
    candidate_ids.push_back(outcome.subject_id);
  }
  ASSIGN_OR_RETURN(auto existing, store_.SubjectStates(controller_, candidate_ids));
  std::vector<size_t> newcomers;
  std::vector<store::Bytes> hashes;  // every newcomer's identifiers, in order
  for (size_t p : candidates) {
    ImportOutcome& outcome = checked[p];
    auto found = existing.find(outcome.subject_id);
    if (found != existing.end()) {
      outcome.kind = ImportOutcome::Kind::kSkipped;
      outcome.reason = found->second == store::SubjectState::kErased
                           ? "this person was erased; not imported again"
                           : "already imported (same external id)";
      continue;
    }
    newcomers.push_back(p);
    for (const auto& identifier : people[p].identifiers) {
      hashes.push_back(IdentifierHash(identifier.kind, identifier.value));
    }
  }
  ASSIGN_OR_RETURN(std::vector<bool> listed, store_.AreSuppressed(controller_, hashes));
  std::vector<bool> importing(people.size(), false);
  for (size_t p : newcomers) importing[p] = true;

  size_t hash_at = 0;  // the next newcomer's first identifier in `hashes`
  for (size_t p = 0; p < people.size(); ++p) {
    const ImportPerson& person = people[p];
    ImportOutcome outcome = std::move(checked[p]);
    if (!importing[p]) {
      outcomes.push_back(std::move(outcome));
      continue;
    }
    const std::string id = outcome.subject_id;
    Timestamp since = person.since.value_or(now);
    crypto::SecretKey data_key = crypto::SecretKey::Random();
    const std::string context = KeyContext(id);
    store::SubjectRow subject;
    subject.controller = controller_;
    subject.subject_id = id;
    subject.types = person.types;
    subject.created_at = since;
    subject.wrapped_key = crypto::WrapDataKey(master_key_, data_key, context);
    batch.Add(std::move(subject));
    batch.Add(store::EventRow{controller_, id, "subject_created", since});

    // The external id itself is not kept (the subject id stands for it); a mapping that wants
    // people found by it maps its column as an `external` identifier, which the policy's
    // retention rules must then cover (user.unique_id) like any other identifier.
    const std::vector<ImportPerson::IdentifierValue>& identifiers = person.identifiers;
    bool suppressed = false;
    for (const auto& identifier : identifiers) {
      store::IdentifierRow row;
      row.controller = controller_;
      row.subject_id = id;
      row.kind = identifier.kind;
      row.blind_index = std::move(hashes[hash_at]);
      row.sealed_value = crypto::Seal(data_key, identifier.value, context + "/id/" + row.kind);
      row.verified = identifier.verified;
      row.added_at = since;
      suppressed = suppressed || listed[hash_at];
      ++hash_at;
      batch.Add(std::move(row));
    }
    for (const auto& record : person.records) {
      store::RecordRow row;
      row.controller = controller_;
      row.subject_id = id;
      row.category = record.category;
      row.sealed_value =
          crypto::Seal(data_key, record.value, context + "/record/" + record.category);
      row.source = record.source;
      row.purpose = record.purpose;
      row.collected_at = record.collected.value_or(since);
      row.updated_at = row.collected_at;
      batch.Add(std::move(row));
    }
    for (const auto& event : person.events) {
      batch.Add(store::EventRow{controller_, id, event.event, event.at});
    }
    for (const auto& consent : person.consents) {
      const policy::Purpose* purpose = policy_.FindPurpose(consent.purpose);
      // Suppression outlives everything: a suppressed person's old opt-in does not come back.
      if (suppressed && consent.given && purpose->direct_marketing) {
        ++outcome.consents_withheld;
        continue;
      }
      store::ConsentEventRow row;
      row.controller = controller_;
      row.subject_id = id;
      row.target_kind = store::ConsentTarget::kPurpose;
      row.target = consent.purpose;
      row.action = consent.given ? store::ConsentAction::kGiven : store::ConsentAction::kWithdrawn;
      row.notice_version =
          consent.notice_version.empty() ? policy_.notice.version : consent.notice_version;
      row.channel = consent.channel;
      row.at = consent.at;
      if (!consent.evidence.empty()) {
        row.sealed_evidence = crypto::Seal(data_key, consent.evidence, context + "/consent");
      }
      batch.Add(std::move(row));
    }
    std::string detail = std::to_string(identifiers.size()) + " identifiers, " +
                         std::to_string(person.records.size()) + " records, " +
                         std::to_string(person.events.size()) + " events, " +
                         std::to_string(person.consents.size() - outcome.consents_withheld) +
                         " consents";
    if (outcome.consents_withheld > 0) {
      detail += ", " + std::to_string(outcome.consents_withheld) + " withheld (suppressed)";
    }
    entries.push_back(Entry(actor, "import", id, now, std::move(detail)));
    imported.push_back(id);
    outcomes.push_back(std::move(outcome));
  }
  if (!entries.empty()) {
    RETURN_IF_ERROR(audit_.Commit(std::move(batch), std::move(entries)).status());
  }
  // New people load into the decision cache on first use; nothing of the batch is kept here,
  // so an import of millions keeps the memory it started with.
  for (const auto& id : imported) cache_.Forget(id);
  return outcomes;
}

}  // namespace custos::engine
