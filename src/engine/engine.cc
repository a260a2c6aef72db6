#include "engine/engine.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sodium.h>

#include <algorithm>

#include "crypto/blind_index.h"
#include "crypto/hash_chain.h"
#include "crypto/sealing.h"
#include "engine/decide.h"
#include "engine/identifier_form.h"
#include "policy/loader.h"
#include "policy/taxonomy.h"

namespace custos::engine {

namespace {

constexpr std::string_view kChannels[] = {"email", "sms", "post", "phone", "in_app", "push"};

bool IsSubjectId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

template <typename Container>
bool Contains(const Container& items, std::string_view value) {
  return std::find(std::begin(items), std::end(items), value) != std::end(items);
}

std::string NewSubjectId() {
  unsigned char bytes[12];
  randombytes_buf(bytes, sizeof bytes);
  return "s_" + crypto::ToHex(bytes);
}

Status Invalid(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

std::string JoinKeys(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& key : keys) {
    if (!out.empty()) out += ",";
    out += key;
  }
  return out;
}

// The audit actions that change no subject's decision state (SubjectState: types, events,
// collection times, consent, preferences, objections, restrictions, suppression, erasure).
// Decisions do not consult legal holds or review tasks, and request bookkeeping lives in the
// request's own rows, so those are here too. When SubjectState gains a field, check this list.
// "decide" first: it is most of the log.
constexpr std::string_view kActionsLeavingSubjectStateAlone[] = {
    "decide",
    "read",
    "lookup",
    "aggregate",
    "retention_plan",
    "retention_run_started",
    "retention_run_resumed",
    "retention_run_finished",
    "retention_review",
    "review_done",
    "legal_hold_placed",
    "legal_hold_released",
    "request_open",
    "request_verified",
    "request_verify_failed",
    "request_code_sent",
    "request_wait",
    "request_resume",
    "request_extend",
    "request_refuse",
    "request_withdraw",
    "request_read",
    // The organisation's own systems: custos's copy of the person is not touched.
    "systems_checked",
    "system_plan",
    "system_read",
    "system_waived",
    "system_erase",
    "system_erase_failed",
    "system_retention",
    "system_retention_preview",
    "request_document",
    "request_purge",
    "endpoint_set",
    "outbox_delivered",
    "outbox_failed",
    "outbox_read",
};

// People read per store page by ForEachPerson.
constexpr size_t kPeoplePerPage = 500;

// Audit entries read per store scan while catching up: bounds the memory one call holds.
constexpr int64_t kCatchUpChunk = 4096;

}  // namespace

bool ActionChangesSubjectState(std::string_view action) {
  return !Contains(kActionsLeavingSubjectStateAlone, action);
}

Engine::Engine(policy::Policy policy, std::string controller, store::Store& store,
               const crypto::MasterKey& master_key, const Clock& clock,
               DecisionAudit decision_audit)
    : policy_(std::move(policy)),
      controller_(std::move(controller)),
      store_(store),
      master_key_(master_key),
      clock_(clock),
      decision_audit_(decision_audit),
      audit_(store, master_key.AuditChainKey()),
      cache_([this](const std::string& id) { return LoadState(id); }) {}

Status Engine::Open(const std::string& policy_text) {
  RETURN_IF_ERROR(audit_.Open());
  {
    // The cache is empty: only what others write from now on can make it stale.
    std::lock_guard lock(catch_up_mutex_);
    catch_up_.through_seq = audit_.head_seq();
  }
  auto existing = store_.GetController(controller_);
  if (!existing.ok()) return existing.status();
  if (existing->has_value() && (*existing)->policy_version == policy_.notice.version &&
      (*existing)->policy_text == policy_text) {
    return Status::Ok();
  }
  const Timestamp at = clock_.Now();
  std::string detail = "notice " + policy_.notice.version;
  if (existing->has_value()) {
    const store::ControllerRow& previous = **existing;
    detail += " (was " + previous.policy_version + ")";
    policy::LoadOutcome before = policy::ParsePolicyText(previous.policy_text, "previous policy");
    if (before.ok()) {
      std::vector<policy::PolicyChange> changes = policy::DiffPolicies(before.policy, policy_);
      const auto material = std::count_if(changes.begin(), changes.end(),
                                          [](const policy::PolicyChange& c) { return c.material; });
      detail += "; " + std::to_string(material) + " material change(s)";
      if (material > 0) {
        ASSIGN_OR_RETURN(ChangeNotices notices,
                         QueuePolicyChangeNotices(before.policy, changes, at));
        detail += "; " + std::to_string(notices.queued + notices.queued_before) +
                  " notice(s) of the changes queued to people, " +
                  std::to_string(notices.without_address) + " without an e-mail address";
      }
    } else {
      detail += "; the previous version could not be read, so nobody was told of changes";
    }
  }
  store::WriteBatch batch;
  batch.Add(store::ControllerRow{controller_, policy_.controller.name, policy_.notice.version,
                                 policy_text, at});
  return audit_.Commit(std::move(batch), {Entry("system", "policy_loaded", "", at, detail)})
      .status();
}

Status Engine::ForEachPerson(const std::function<Status(const store::SweepSubject&)>& visit) {
  std::string after;
  while (true) {
    ASSIGN_OR_RETURN(std::vector<store::SweepSubject> page,
                     store_.ListSweepPage(controller_, after, kPeoplePerPage));
    if (page.empty()) return Status::Ok();
    for (const auto& person : page) RETURN_IF_ERROR(visit(person));
    after = page.back().subject.subject_id;
  }
}

Status Engine::CommitPart(store::WriteBatch& batch) {
  if (batch.empty()) return Status::Ok();
  Status committed = audit_.Commit(std::move(batch), {}).status();
  batch = store::WriteBatch();
  return committed;
}

AuditEntry Engine::Entry(const std::string& actor, const std::string& action,
                         const std::string& subject_id, Timestamp at, std::string detail,
                         std::string purpose) const {
  return AuditEntry{controller_,      at, actor, action, std::move(purpose), subject_id,
                    std::move(detail)};
}

std::string Engine::KeyContext(const std::string& subject_id) const {
  return controller_ + "/" + subject_id;
}

store::Bytes Engine::IdentifierHash(const std::string& kind, const std::string& value) const {
  return crypto::BlindIndex(master_key_.BlindIndexKey(), kind,
                            crypto::NormalizeIdentifier(kind, value));
}

// The suppression list holds the same keyed hash as the identifier index, so a subject's
// suppression can be checked without unsealing anything, and survives the subject's erasure.
store::Bytes Engine::SuppressionHash(const std::string& kind, const std::string& value) const {
  return IdentifierHash(kind, value);
}

std::string Engine::UnknownSubjectMarker(const std::string& subject_id) const {
  store::Bytes hash =
      crypto::BlindIndex(master_key_.BlindIndexKey(), "unknown_subject", subject_id);
  hash.resize(16);
  return "unknown:" + crypto::ToHex(hash);
}

Result<store::SubjectRow> Engine::ActiveSubject(const std::string& subject_id) {
  auto row = store_.GetSubject(controller_, subject_id);
  if (!row.ok()) return row.status();
  if (!row->has_value()) {
    return Status(ErrorCode::kUnknownSubject, "no subject " + subject_id);
  }
  if ((*row)->state == store::SubjectState::kErased) {
    return Status(ErrorCode::kSubjectErased, "subject " + subject_id + " was erased");
  }
  return std::move(**row);
}

Result<crypto::SecretKey> Engine::DataKey(const store::SubjectRow& subject) {
  return crypto::UnwrapDataKey(master_key_, subject.wrapped_key, KeyContext(subject.subject_id));
}

Result<std::optional<SubjectState>> Engine::LoadState(const std::string& subject_id) {
  // Any read that fails fails the load: a state missing its objections or withdrawals would
  // allow what the person refused.
  ASSIGN_OR_RETURN(auto row, store_.GetSubject(controller_, subject_id));
  if (!row.has_value()) return std::optional<SubjectState>();
  SubjectState state;
  state.subject_id = subject_id;
  state.types = row->types;
  state.erased = row->state == store::SubjectState::kErased;
  ASSIGN_OR_RETURN(auto events, store_.ListEvents(controller_, subject_id));
  for (const auto& event : events) state.events[event.event].push_back(event.at);
  for (auto& [key, times] : state.events) std::sort(times.begin(), times.end());
  if (state.events.count(kErasureRequestedEvent) > 0) state.suppressed = true;
  ASSIGN_OR_RETURN(auto records, store_.ListRecords(controller_, subject_id));
  for (const auto& record : records) {
    auto& latest = state.last_collected[record.category];
    latest = std::max(latest, record.collected_at);
  }
  ASSIGN_OR_RETURN(auto consents, store_.ListConsentEvents(controller_, subject_id));
  for (const auto& event : consents) {
    std::string key = event.target_kind == store::ConsentTarget::kCookieCategory
                          ? "cookie:" + event.target
                          : event.target;
    state.consent[key].push_back({event.at, event.action == store::ConsentAction::kGiven});
  }
  for (auto& [key, changes] : state.consent) {
    std::stable_sort(changes.begin(), changes.end(),
                     [](const ConsentChange& a, const ConsentChange& b) { return a.at < b.at; });
  }
  ASSIGN_OR_RETURN(auto preferences, store_.ListPreferences(controller_, subject_id));
  for (const auto& preference : preferences) {
    state.channel_allowed[preference.channel] = preference.allowed;
  }
  ASSIGN_OR_RETURN(auto objections, store_.ListObjections(controller_, subject_id));
  for (const auto& objection : objections) {
    state.objections[objection.purpose].push_back({objection.at, objection.lifted_at});
  }
  ASSIGN_OR_RETURN(auto restrictions, store_.ListRestrictions(controller_, subject_id));
  for (const auto& restriction : restrictions) {
    state.restrictions.push_back({restriction.restriction_id,
                                  restriction.categories,
                                  {restriction.at, restriction.lifted_at}});
  }
  ASSIGN_OR_RETURN(auto identifiers, store_.ListIdentifiers(controller_, subject_id));
  for (const auto& identifier : identifiers) {
    ASSIGN_OR_RETURN(bool suppressed, store_.IsSuppressed(controller_, identifier.blind_index));
    if (suppressed) state.suppressed = true;
  }
  return std::optional<SubjectState>(std::move(state));
}

Result<std::string> Engine::AddSubject(const NewSubject& request,
                                       std::vector<SharedIdentifier>* shared) {
  if (shared != nullptr) shared->clear();
  std::string id = request.subject_id.empty() ? NewSubjectId() : request.subject_id;
  if (!IsSubjectId(id)) {
    return Invalid("subject id must be 1-64 letters, digits, '_', '-' or '.'");
  }
  if (request.types.empty()) return Invalid("a subject needs at least one type");
  for (const auto& type : request.types) {
    if (!policy_.FindSubjectType(type) && type != kCookieVisitorType) {
      std::string known;
      for (const auto& t : policy_.subject_types) known += (known.empty() ? "" : ", ") + t.key;
      return Status(ErrorCode::kUnknownSubjectType,
                    "subject type '" + type + "' is not in the policy (its types: " + known + ")");
    }
  }
  for (const auto& identifier : request.identifiers) {
    RETURN_IF_ERROR(CheckIdentifierForm(identifier.kind, identifier.value));
  }
  auto existing = store_.GetSubject(controller_, id);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    return Status(ErrorCode::kAlreadyExists, "subject " + id + " already exists");
  }
  Timestamp at = At(request.at);
  crypto::SecretKey data_key = crypto::SecretKey::Random();
  store::WriteBatch batch;
  store::SubjectRow subject;
  subject.controller = controller_;
  subject.subject_id = id;
  subject.types = request.types;
  subject.created_at = at;
  subject.wrapped_key = crypto::WrapDataKey(master_key_, data_key, KeyContext(id));
  batch.Add(subject);
  batch.Add(store::EventRow{controller_, id, "subject_created", at});
  SubjectState state;
  state.subject_id = id;
  state.types = request.types;
  state.events["subject_created"].push_back(at);
  for (const auto& identifier : request.identifiers) {
    store::IdentifierRow row;
    row.controller = controller_;
    row.subject_id = id;
    row.kind = identifier.kind;
    row.blind_index = IdentifierHash(identifier.kind, identifier.value);
    row.sealed_value = crypto::Seal(data_key, identifier.value, KeyContext(id) + "/id/" + row.kind);
    row.verified = identifier.verified;
    row.added_at = at;
    auto suppressed = store_.IsSuppressed(controller_, row.blind_index);
    if (!suppressed.ok()) return suppressed.status();
    // Importing a suppressed person again never re-enables marketing.
    if (*suppressed) state.suppressed = true;
    if (shared != nullptr) {
      ASSIGN_OR_RETURN(std::vector<std::string> holders,
                       store_.FindSubjectsByIdentifier(controller_, row.kind, row.blind_index));
      if (!holders.empty()) shared->push_back({row.kind, holders.size()});
    }
    batch.Add(std::move(row));
  }
  auto committed = audit_.Commit(
      std::move(batch), {Entry(request.actor, "subject_add", id, at, JoinKeys(request.types))});
  if (!committed.ok()) return committed.status();
  cache_.Put(std::move(state));
  return id;
}

Status Engine::RecordEvent(const std::string& subject_id, const std::string& event,
                           std::optional<Timestamp> at_opt, const std::string& actor) {
  if (!policy_.FindEvent(event)) {
    return Invalid("event '" + event + "' is not declared in the policy");
  }
  ASSIGN_OR_RETURN(store::SubjectRow subject, ActiveSubject(subject_id));
  Timestamp at = At(at_opt);
  store::WriteBatch batch;
  batch.Add(store::EventRow{controller_, subject_id, event, at});
  RETURN_IF_ERROR(
      audit_.Commit(std::move(batch), {Entry(actor, "event", subject_id, at, event)}).status());
  cache_.Update(subject_id, [&](SubjectState& state) {
    auto& times = state.events[event];
    times.insert(std::upper_bound(times.begin(), times.end(), at), at);
    if (event == kErasureRequestedEvent) state.suppressed = true;
  });
  return Status::Ok();
}

Status Engine::AddIdentifier(const std::string& subject_id, const Identifier& identifier,
                             std::optional<Timestamp> at_opt, const std::string& actor) {
  RETURN_IF_ERROR(CheckIdentifierForm(identifier.kind, identifier.value));
  ASSIGN_OR_RETURN(store::SubjectRow subject, ActiveSubject(subject_id));
  ASSIGN_OR_RETURN(crypto::SecretKey data_key, DataKey(subject));
  Timestamp at = At(at_opt);
  store::IdentifierRow row;
  row.controller = controller_;
  row.subject_id = subject_id;
  row.kind = identifier.kind;
  row.blind_index = IdentifierHash(identifier.kind, identifier.value);
  row.sealed_value =
      crypto::Seal(data_key, identifier.value, KeyContext(subject_id) + "/id/" + row.kind);
  row.verified = identifier.verified;
  row.added_at = at;
  ASSIGN_OR_RETURN(bool suppressed, store_.IsSuppressed(controller_, row.blind_index));
  store::WriteBatch batch;
  batch.Add(std::move(row));
  RETURN_IF_ERROR(audit_
                      .Commit(std::move(batch),
                              {Entry(actor, "identifier_add", subject_id, at, identifier.kind)})
                      .status());
  if (suppressed) cache_.Update(subject_id, [](SubjectState& state) { state.suppressed = true; });
  return Status::Ok();
}

Result<std::vector<std::string>> Engine::FindSubjects(const std::string& kind,
                                                      const std::string& value,
                                                      const std::string& actor) {
  RETURN_IF_ERROR(CheckIdentifierForm(kind, value));
  auto found = store_.FindSubjectsByIdentifier(controller_, kind, IdentifierHash(kind, value));
  if (!found.ok()) return found.status();
  AuditEntry entry = Entry(actor, "lookup", "", clock_.Now(),
                           kind + " -> " + std::to_string(found->size()) + " subject(s)");
  if (decision_audit_ == DecisionAudit::kDurable) {
    RETURN_IF_ERROR(audit_.RecordDurably(std::move(entry)));
  } else {
    audit_.Record(std::move(entry));
  }
  return found;
}

Status Engine::CheckRecordFields(const std::string& category, const std::string& source,
                                 const std::string& purpose_key) const {
  const policy::Purpose* purpose = policy_.FindPurpose(purpose_key);
  if (purpose == nullptr) return Invalid("purpose '" + purpose_key + "' is not in the policy");
  if (!policy_.FindSource(source)) {
    return Invalid("source '" + source + "' is not in the policy");
  }
  bool covered = std::any_of(
      purpose->categories.begin(), purpose->categories.end(),
      [&](const policy::Ref& ref) { return policy::CategoryCovers(ref.key, category); });
  if (!covered) {
    return Invalid("purpose '" + purpose_key + "' does not collect '" + category + "'");
  }
  return Status::Ok();
}

Result<int64_t> Engine::PutRecord(const NewRecord& request) {
  RETURN_IF_ERROR(CheckRecordFields(request.category, request.source, request.purpose));
  ASSIGN_OR_RETURN(store::SubjectRow subject, ActiveSubject(request.subject_id));
  ASSIGN_OR_RETURN(crypto::SecretKey data_key, DataKey(subject));
  Timestamp at = At(request.at);
  store::RecordRow row;
  row.controller = controller_;
  row.subject_id = request.subject_id;
  row.category = request.category;
  row.sealed_value = crypto::Seal(data_key, request.value,
                                  KeyContext(request.subject_id) + "/record/" + request.category);
  row.source = request.source;
  row.purpose = request.purpose;
  row.collected_at = at;
  row.updated_at = at;
  store::WriteBatch batch;
  batch.Add(std::move(row));
  ASSIGN_OR_RETURN(
      store::AppliedIds ids,
      audit_.Commit(std::move(batch), {Entry(request.actor, "record_put", request.subject_id, at,
                                             request.category, request.purpose)}));
  cache_.Update(request.subject_id, [&](SubjectState& state) {
    auto& latest = state.last_collected[request.category];
    latest = std::max(latest, at);
  });
  return ids.record_ids.empty() ? int64_t{0} : ids.record_ids.front();
}

Result<SubjectView> Engine::ReadSubject(const std::string& subject_id, const std::string& actor,
                                        const std::string& purpose) {
  ASSIGN_OR_RETURN(store::SubjectRow subject, ActiveSubject(subject_id));
  ASSIGN_OR_RETURN(crypto::SecretKey data_key, DataKey(subject));
  SubjectView view;
  ASSIGN_OR_RETURN(view.events, store_.ListEvents(controller_, subject_id));
  ASSIGN_OR_RETURN(std::vector<store::IdentifierRow> identifiers,
                   store_.ListIdentifiers(controller_, subject_id));
  for (const auto& identifier : identifiers) {
    ASSIGN_OR_RETURN(std::string value,
                     crypto::Open(data_key, identifier.sealed_value,
                                  KeyContext(subject_id) + "/id/" + identifier.kind));
    view.identifiers.push_back(
        {identifier.kind, std::move(value), identifier.verified, identifier.added_at});
  }
  ASSIGN_OR_RETURN(std::vector<store::RecordRow> records,
                   store_.ListRecords(controller_, subject_id));
  for (const auto& record : records) {
    SubjectView::RecordValue value;
    value.record_id = record.record_id;
    value.category = record.category;
    value.source = record.source;
    value.purpose = record.purpose;
    value.collected_at = record.collected_at;
    value.state = record.state;
    if (record.state != store::RecordState::kErased && !record.sealed_value.empty()) {
      ASSIGN_OR_RETURN(value.value,
                       crypto::Open(data_key, record.sealed_value,
                                    KeyContext(subject_id) + "/record/" + record.category));
    }
    view.records.push_back(std::move(value));
  }
  ASSIGN_OR_RETURN(std::vector<store::RecordVersionRow> versions,
                   store_.ListRecordVersions(controller_, subject_id));
  for (const auto& version : versions) {
    auto record = std::find_if(records.begin(), records.end(), [&](const store::RecordRow& r) {
      return r.record_id == version.record_id;
    });
    if (record == records.end()) continue;
    ASSIGN_OR_RETURN(std::string value,
                     crypto::Open(data_key, version.sealed_value,
                                  KeyContext(subject_id) + "/record/" + record->category));
    view.record_versions.push_back({version.record_id, version.version, std::move(value),
                                    version.request_id, version.replaced_at});
  }
  ASSIGN_OR_RETURN(view.consents, store_.ListConsentEvents(controller_, subject_id));
  ASSIGN_OR_RETURN(view.preferences, store_.ListPreferences(controller_, subject_id));
  ASSIGN_OR_RETURN(view.objections, store_.ListObjections(controller_, subject_id));
  ASSIGN_OR_RETURN(view.restrictions, store_.ListRestrictions(controller_, subject_id));
  ASSIGN_OR_RETURN(view.disclosures, store_.ListDisclosures(controller_, subject_id));
  for (auto& restriction : view.restrictions) {
    ASSIGN_OR_RETURN(restriction.reason, OpenNote(data_key, restriction.reason,
                                                  KeyContext(subject_id) + "/restriction"));
  }
  subject.wrapped_key.clear();
  view.subject = std::move(subject);
  audit_.Record(Entry(actor, "read", subject_id, clock_.Now(),
                      std::to_string(view.records.size()) + " records", purpose));
  RETURN_IF_ERROR(audit_.Flush());
  return view;
}

Status Engine::ChangeConsent(const ConsentChangeRequest& request) {
  Timestamp at = At(request.at);
  std::string key;
  ASSIGN_OR_RETURN(store::WriteBatch batch, ConsentBatch(request, at, key));
  RETURN_IF_ERROR(audit_.Commit(std::move(batch), {ConsentEntry(request, at, key)}).status());
  NoteConsentInCache(request.subject_id, key, at, request.given);
  return Status::Ok();
}

Status Engine::ChangeConsentThen(const ConsentChangeRequest& request,
                                 std::function<void(Status)> stored) {
  Timestamp at = At(request.at);
  std::string key;
  ASSIGN_OR_RETURN(store::WriteBatch batch, ConsentBatch(request, at, key));
  audit_.CommitThen(std::move(batch), {ConsentEntry(request, at, key)},
                    [this, subject_id = request.subject_id, key, at, given = request.given,
                     stored = std::move(stored)](Result<store::AppliedIds> committed) {
                      // The cache learns the change before its answer leaves.
                      if (committed.ok()) NoteConsentInCache(subject_id, key, at, given);
                      stored(committed.status());
                    });
  return Status::Ok();
}

AuditEntry Engine::ConsentEntry(const ConsentChangeRequest& request, Timestamp at,
                                const std::string& key) const {
  return Entry(request.actor, request.given ? "consent_given" : "consent_withdrawn",
               request.subject_id, at, key);
}

Result<store::WriteBatch> Engine::ConsentBatch(const ConsentChangeRequest& request, Timestamp at,
                                               std::string& key) {
  if (request.cookie) {
    bool known = std::any_of(policy_.cookies.begin(), policy_.cookies.end(),
                             [&](const auto& c) { return c.key == request.target; });
    if (!known) return Invalid("cookie category '" + request.target + "' is not in the policy");
  } else if (!policy_.FindPurpose(request.target)) {
    return Invalid("purpose '" + request.target + "' is not in the policy");
  }
  ASSIGN_OR_RETURN(store::SubjectRow subject, ActiveSubject(request.subject_id));
  store::ConsentEventRow row;
  row.controller = controller_;
  row.subject_id = request.subject_id;
  row.target_kind =
      request.cookie ? store::ConsentTarget::kCookieCategory : store::ConsentTarget::kPurpose;
  row.target = request.target;
  row.action = request.given ? store::ConsentAction::kGiven : store::ConsentAction::kWithdrawn;
  row.notice_version =
      request.notice_version.empty() ? policy_.notice.version : request.notice_version;
  row.channel = request.channel;
  row.at = at;
  if (!request.evidence.empty()) {
    ASSIGN_OR_RETURN(crypto::SecretKey data_key, DataKey(subject));
    row.sealed_evidence =
        crypto::Seal(data_key, request.evidence, KeyContext(request.subject_id) + "/consent");
  }
  store::WriteBatch batch;
  batch.Add(std::move(row));
  key = request.cookie ? "cookie:" + request.target : request.target;
  return batch;
}

void Engine::NoteConsentInCache(const std::string& subject_id, const std::string& key, Timestamp at,
                                bool given) {
  cache_.Update(subject_id, [&](SubjectState& state) {
    auto& changes = state.consent[key];
    ConsentChange change{at, given};
    changes.insert(std::upper_bound(
                       changes.begin(), changes.end(), change,
                       [](const ConsentChange& a, const ConsentChange& b) { return a.at < b.at; }),
                   change);
    if (changes.size() > kConsentChangesKept) {
      changes.erase(changes.begin(), changes.begin() + static_cast<std::ptrdiff_t>(
                                                           changes.size() - kConsentChangesKept));
      state.consent_kept_from[key] = changes.front().at;
    }
  });
}

Status Engine::SetPreference(const std::string& subject_id, const std::string& channel,
                             bool allowed, std::optional<Timestamp> at_opt,
                             const std::string& actor) {
  if (!Contains(kChannels, channel)) {
    return Invalid("channel '" + channel + "' is not email, sms, post, phone, in_app or push");
  }
  ASSIGN_OR_RETURN(store::SubjectRow subject, ActiveSubject(subject_id));
  Timestamp at = At(at_opt);
  store::WriteBatch batch;
  batch.Add(store::PreferenceRow{controller_, subject_id, channel, allowed, at});
  RETURN_IF_ERROR(audit_
                      .Commit(std::move(batch), {Entry(actor, "preference", subject_id, at,
                                                       channel + (allowed ? "=on" : "=off"))})
                      .status());
  cache_.Update(subject_id, [&](SubjectState& state) { state.channel_allowed[channel] = allowed; });
  return Status::Ok();
}

Status Engine::Object(const std::string& subject_id, const std::string& purpose,
                      std::optional<Timestamp> at_opt, const std::string& actor) {
  if (purpose != "*" && purpose != "direct_marketing" && !policy_.FindPurpose(purpose)) {
    return Invalid("purpose '" + purpose + "' is not in the policy");
  }
  ASSIGN_OR_RETURN(store::SubjectRow subject, ActiveSubject(subject_id));
  Timestamp at = At(at_opt);
  store::WriteBatch batch;
  batch.Add(store::ObjectionRow{controller_, subject_id, purpose, at, std::nullopt});
  RETURN_IF_ERROR(
      audit_.Commit(std::move(batch), {Entry(actor, "objection", subject_id, at, purpose)})
          .status());
  cache_.Update(subject_id, [&](SubjectState& state) {
    state.objections[purpose].push_back({at, std::nullopt});
  });
  return Status::Ok();
}

Status Engine::LiftObjection(const std::string& subject_id, const std::string& purpose,
                             std::optional<Timestamp> at_opt, const std::string& actor) {
  // As Object: only a purpose of the policy is written (to the store and the audit entry).
  if (purpose != "*" && purpose != "direct_marketing" && !policy_.FindPurpose(purpose)) {
    return Invalid("purpose '" + purpose + "' is not in the policy");
  }
  ASSIGN_OR_RETURN(store::SubjectRow subject, ActiveSubject(subject_id));
  Timestamp at = At(at_opt);
  store::WriteBatch batch;
  batch.Add(store::LiftObjection{controller_, subject_id, purpose, at});
  RETURN_IF_ERROR(
      audit_.Commit(std::move(batch), {Entry(actor, "objection_lifted", subject_id, at, purpose)})
          .status());
  cache_.Update(subject_id, [&](SubjectState& state) {
    for (auto& interval : state.objections[purpose]) {
      if (!interval.to) interval.to = at;
    }
  });
  return Status::Ok();
}

Result<int64_t> Engine::Restrict(const std::string& subject_id, std::vector<std::string> categories,
                                 const std::string& reason, std::optional<Timestamp> at_opt,
                                 const std::string& actor) {
  for (const auto& category : categories) {
    if (!policy_.FindCategory(category) && !policy::FindFideslangCategory(category)) {
      return Invalid("category '" + category + "' is not in the policy");
    }
  }
  ASSIGN_OR_RETURN(store::SubjectRow subject, ActiveSubject(subject_id));
  ASSIGN_OR_RETURN(crypto::SecretKey data_key, DataKey(subject));
  Timestamp at = At(at_opt);
  store::RestrictionRow row;
  row.controller = controller_;
  row.subject_id = subject_id;
  row.categories = categories;
  row.reason = SealNote(data_key, reason, KeyContext(subject_id) + "/restriction");
  row.at = at;
  store::WriteBatch batch;
  batch.Add(std::move(row));
  ASSIGN_OR_RETURN(
      store::AppliedIds ids,
      audit_.Commit(std::move(batch), {Entry(actor, "restriction", subject_id, at,
                                             categories.empty() ? "all" : JoinKeys(categories))}));
  int64_t id = ids.restriction_ids.empty() ? 0 : ids.restriction_ids.front();
  cache_.Update(subject_id, [&](SubjectState& state) {
    state.restrictions.push_back({id, categories, {at, std::nullopt}});
  });
  return id;
}

Status Engine::LiftRestriction(const std::string& subject_id, int64_t restriction_id,
                               std::optional<Timestamp> at_opt, const std::string& actor) {
  ASSIGN_OR_RETURN(store::SubjectRow subject, ActiveSubject(subject_id));
  Timestamp at = At(at_opt);
  store::WriteBatch batch;
  batch.Add(store::LiftRestriction{controller_, subject_id, restriction_id, at});
  RETURN_IF_ERROR(audit_
                      .Commit(std::move(batch), {Entry(actor, "restriction_lifted", subject_id, at,
                                                       std::to_string(restriction_id))})
                      .status());
  cache_.Update(subject_id, [&](SubjectState& state) {
    for (auto& restriction : state.restrictions) {
      if (restriction.id == restriction_id && !restriction.when.to) restriction.when.to = at;
    }
  });
  return Status::Ok();
}

Status Engine::Suppress(const std::string& kind, const std::string& value,
                        const std::string& reason, std::optional<Timestamp> at_opt,
                        const std::string& actor) {
  RETURN_IF_ERROR(CheckIdentifierForm(kind, value));
  Timestamp at = At(at_opt);
  store::Bytes hash = SuppressionHash(kind, value);
  ASSIGN_OR_RETURN(bool already, store_.IsSuppressed(controller_, hash));
  ASSIGN_OR_RETURN(std::vector<std::string> holders,
                   store_.FindSubjectsByIdentifier(controller_, kind, hash));
  if (!already) {
    store::WriteBatch batch;
    // The reason is whatever was typed: sealed under the note key (a suppression outlives
    // the person it was for), and kept out of the audit entry.
    batch.Add(store::SuppressionRow{controller_, hash, kind,
                                    SealNote(NoteKey(), reason, controller_ + "/suppression"), at});
    // The entry names the people now suppressed, so other processes' decision caches forget
    // them (CatchUpWithOtherWriters).
    RETURN_IF_ERROR(
        audit_.Commit(std::move(batch), {Entry(actor, "suppress", JoinKeys(holders), at, kind)})
            .status());
  }
  for (const auto& id : holders) {
    cache_.Update(id, [](SubjectState& state) { state.suppressed = true; });
  }
  return Status::Ok();
}

Result<bool> Engine::IsSuppressed(const std::string& kind, const std::string& value) {
  return store_.IsSuppressed(controller_, SuppressionHash(kind, value));
}

Result<Decision> Engine::Decide(const DecisionRequest& request) {
  AuditEntry entry;
  ASSIGN_OR_RETURN(Decision decision, DecideUnrecorded(request, entry));
  RETURN_IF_ERROR(RecordDecision(std::move(entry)));
  return decision;
}

Status Engine::RecordDecision(AuditEntry&& entry) {
  if (decision_audit_ == DecisionAudit::kDurable) return audit_.RecordDurably(std::move(entry));
  audit_.Record(std::move(entry));
  return Status::Ok();
}

Result<Decision> Engine::DecideThen(const DecisionRequest& request,
                                    std::function<void(Status)> stored) {
  AuditEntry entry;
  ASSIGN_OR_RETURN(Decision decision, DecideUnrecorded(request, entry));
  if (decision_audit_ == DecisionAudit::kDurable) {
    audit_.RecordDurablyThen(std::move(entry), std::move(stored));
  } else {
    audit_.Record(std::move(entry));
    stored(Status::Ok());
  }
  return decision;
}

Result<Decision> Engine::DecideUnrecorded(const DecisionRequest& request, AuditEntry& entry) {
  ASSIGN_OR_RETURN(SubjectStatePtr state, cache_.Get(request.subject_id));
  if (state && !state->ConsentCompleteAt(request.at)) {
    // A question about a time before the consent changes the cache keeps: the whole ledger,
    // read from the store for this decision alone.
    ASSIGN_OR_RETURN(std::optional<SubjectState> whole, LoadState(request.subject_id));
    state = whole ? std::make_shared<const SubjectState>(std::move(*whole)) : nullptr;
  }
  Decision decision = engine::Decide(policy_, state.get(), request);
  // Filled in place: a decision's entry is the hot path's one allocation-heavy object.
  entry.controller = controller_;
  entry.at = request.at;
  entry.actor = request.actor;
  entry.action = "decide";
  entry.purpose = request.purpose;
  entry.subject_id = state ? request.subject_id : UnknownSubjectMarker(request.subject_id);
  std::string& detail = entry.detail;
  detail = decision.allow ? "allow" : "deny";
  for (const auto& reason : decision.reasons) {
    detail += ' ';
    detail += CodeName(reason.code);
  }
  return decision;
}

Result<CatchUpReport> Engine::CatchUpWithOtherWriters() {
  std::lock_guard lock(catch_up_mutex_);
  CatchUpReport report;
  report.through_seq = catch_up_.through_seq;
  struct Change {
    int64_t seq;
    std::string subject_ids;  // one id, or several joined by ','
  };
  std::vector<Change> changes;
  std::vector<std::pair<int64_t, std::string>> policies;
  // A process writing alone finds only its own entries after the last seq it handled: one read
  // of the head then stands for the whole scan.
  ASSIGN_OR_RETURN(std::optional<store::AuditRow> head, store_.LastAudit());
  const int64_t head_seq = head.has_value() ? head->seq : 0;
  if (audit_.StoredAll(report.through_seq + 1, head_seq)) {
    (void)audit_.TakeOwnSeqsThrough(head_seq);
    report.through_seq = std::max(report.through_seq, head_seq);
    catch_up_.through_seq = report.through_seq;
    ++catch_up_.passes;
    return report;
  }
  while (true) {
    changes.clear();
    policies.clear();
    int64_t read = 0, last_seq = report.through_seq;
    RETURN_IF_ERROR(store_.ScanAudit(report.through_seq + 1, [&](const store::AuditRow& row) {
      last_seq = row.seq;
      if (row.controller == controller_) {
        if (row.action == "policy_loaded") {
          policies.emplace_back(row.seq, row.detail);
        } else if (!row.subject_id.empty() && ActionChangesSubjectState(row.action)) {
          changes.push_back({row.seq, row.subject_id});
        }
      }
      return ++read < kCatchUpChunk;
    }));
    // Asked only now: a range this engine stores while the scan runs is past `last_seq`.
    std::vector<AuditLog::SeqRange> own = audit_.TakeOwnSeqsThrough(last_seq);
    auto is_own = [&own](int64_t seq) {
      auto range =
          std::lower_bound(own.begin(), own.end(), seq,
                           [](const AuditLog::SeqRange& r, int64_t s) { return r.last < s; });
      return range != own.end() && range->first <= seq;
    };
    for (const Change& change : changes) {
      if (is_own(change.seq)) continue;
      ++report.changes_by_others;
      std::string_view ids = change.subject_ids;
      while (!ids.empty()) {
        size_t comma = ids.find(',');
        std::string id(ids.substr(0, comma));
        if (!id.empty() && cache_.Forget(id)) ++report.subjects_forgotten;
        ids = comma == std::string_view::npos ? std::string_view{} : ids.substr(comma + 1);
      }
    }
    for (auto& [seq, detail] : policies) {
      if (!is_own(seq)) report.policies_loaded_elsewhere.push_back(std::move(detail));
    }
    report.entries_read += read;
    report.through_seq = last_seq;
    catch_up_.through_seq = last_seq;  // handled: an error in the next chunk keeps this one
    if (read < kCatchUpChunk) break;
  }
  ++catch_up_.passes;
  catch_up_.entries_read += report.entries_read;
  catch_up_.changes_by_others += report.changes_by_others;
  catch_up_.subjects_forgotten += report.subjects_forgotten;
  return report;
}

CatchUpStats Engine::catch_up_stats() const {
  std::lock_guard lock(catch_up_mutex_);
  return catch_up_;
}

Result<std::string> Engine::ExportConsentRecords(const std::string& subject_id,
                                                 const std::string& actor) {
  ASSIGN_OR_RETURN(store::SubjectRow subject, ActiveSubject(subject_id));
  ASSIGN_OR_RETURN(crypto::SecretKey data_key, DataKey(subject));
  ASSIGN_OR_RETURN(std::vector<store::ConsentEventRow> events,
                   store_.ListConsentEvents(controller_, subject_id));
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto str = [&w](std::string_view key, std::string_view value) {
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  };
  w.StartObject();
  str("schema", "ISO/IEC 27560 consent record (custos profile 1)");
  str("controller_key", controller_);
  w.Key("pii_controller");
  w.StartObject();
  str("name", policy_.controller.name);
  str("contact", policy_.controller.email);
  w.EndObject();
  str("pii_principal_id", subject_id);
  w.Key("records");
  w.StartArray();
  for (const auto& event : events) {
    w.StartObject();
    str("record_id", controller_ + "/" + subject_id + "/consent/" + std::to_string(event.seq));
    bool cookie = event.target_kind == store::ConsentTarget::kCookieCategory;
    w.Key("purpose");
    w.StartObject();
    str("id", event.target);
    str("kind", cookie ? "cookie_category" : "purpose");
    if (!cookie) {
      if (const policy::Purpose* purpose = policy_.FindPurpose(event.target)) {
        str("description", purpose->name);
        str("lawful_basis", policy::LawfulBasisKey(purpose->basis));
        w.Key("pii_categories");
        w.StartArray();
        for (const auto& category : purpose->categories) w.String(category.key.c_str());
        w.EndArray();
      }
    }
    w.EndObject();
    str("event_type", event.action == store::ConsentAction::kGiven ? "given" : "withdrawn");
    str("state", event.action == store::ConsentAction::kGiven ? "active" : "withdrawn");
    str("event_time", event.at.ToString());
    str("notice_version", event.notice_version);
    str("collection_method", event.channel);
    if (!event.sealed_evidence.empty()) {
      ASSIGN_OR_RETURN(std::string evidence, crypto::Open(data_key, event.sealed_evidence,
                                                          KeyContext(subject_id) + "/consent"));
      str("evidence", evidence);
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  audit_.Record(Entry(actor, "read", subject_id, clock_.Now(), "consent records export"));
  RETURN_IF_ERROR(audit_.Flush());
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace custos::engine
