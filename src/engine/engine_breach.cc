// Engine: the breach register. Recording a breach and counting whom it touched from the store,
// each later step (assessment, measures, the report to the regulator, closing), telling the
// people affected and a processor's controller through the outbox, and reading the register
// back. Every step is a versioned update of the breach's row with an audit entry; the free text
// is sealed with the breach's own key.
#include <sodium.h>

#include <algorithm>
#include <cstdio>

#include "crypto/sealing.h"
#include "engine/engine.h"
#include "engine/request_internal.h"

namespace custos::engine {

namespace {

using internal::Invalid;

constexpr size_t kNoticesPerBatch = 500;

bool IsBreachId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

std::string NewBreachId(Timestamp at) {
  const CivilDate date = at.Date();
  unsigned char random[3];
  randombytes_buf(random, sizeof random);
  char id[32];
  std::snprintf(id, sizeof id, "BR-%04d%02d%02d-%02x%02x%02x", date.year, date.month, date.day,
                random[0], random[1], random[2]);
  return id;
}

Status BreachStateError(std::string message) {
  return Status(ErrorCode::kBreachState, std::move(message));
}

// An assessed risk states why: the register is the controller's evidence (Article 33(5)).
Status CheckAssessment(const std::string& risk, const std::string& reasoning) {
  if (!IsBreachRisk(risk)) {
    return Invalid("risk must be unassessed, none, risk or high_risk, not '" + risk + "'");
  }
  if (risk != "unassessed" && reasoning.empty()) {
    return Invalid("an assessed risk needs its reasoning (risk_reasoning)");
  }
  return Status::Ok();
}

// What the breach's scope touched in one person's rows.
int64_t RecordsInScope(const BreachScope& scope, const store::SweepSubject& person) {
  if (!scope.subject_types.empty()) {
    const auto& types = person.subject.types;
    bool typed = std::any_of(scope.subject_types.begin(), scope.subject_types.end(),
                             [&](const std::string& t) {
                               return std::find(types.begin(), types.end(), t) != types.end();
                             });
    if (!typed) return 0;
  }
  int64_t records = 0;
  for (const auto& record : person.records) {
    if (!internal::Covers(scope.categories, record.category)) continue;
    if (!scope.purposes.empty() && std::find(scope.purposes.begin(), scope.purposes.end(),
                                             record.purpose) == scope.purposes.end()) {
      continue;
    }
    // Held at some moment of the window: collected by its end, not gone before its start.
    if (scope.to && record.collected_at > *scope.to) continue;
    if (scope.from && record.state != store::RecordState::kActive &&
        record.updated_at < *scope.from) {
      continue;
    }
    ++records;
  }
  return records;
}

}  // namespace

std::string Engine::BreachKeyContext(const std::string& breach_id) const {
  return controller_ + "/breach/" + breach_id;
}

Result<store::BreachRow> Engine::LoadBreachRow(const std::string& breach_id) {
  ASSIGN_OR_RETURN(std::optional<store::BreachRow> row, store_.GetBreach(controller_, breach_id));
  if (!row.has_value()) return Status(ErrorCode::kUnknownBreach, "no breach " + breach_id);
  return std::move(*row);
}

Result<crypto::SecretKey> Engine::BreachKey(const store::BreachRow& row) {
  return crypto::UnwrapDataKey(master_key_, row.wrapped_key, BreachKeyContext(row.breach_id));
}

Result<Breach> Engine::LoadBreach(const std::string& breach_id) {
  ASSIGN_OR_RETURN(store::BreachRow row, LoadBreachRow(breach_id));
  return OpenBreach(row);
}

Result<Breach> Engine::OpenBreach(const store::BreachRow& row) {
  ASSIGN_OR_RETURN(crypto::SecretKey key, BreachKey(row));
  ASSIGN_OR_RETURN(std::string json,
                   crypto::Open(key, row.sealed_details, BreachKeyContext(row.breach_id)));
  Breach breach;
  breach.id = row.breach_id;
  breach.version = row.version;
  breach.aware_at = row.aware_at;
  breach.updated_at = row.updated_at;
  breach.risk = row.risk;
  breach.reported_at = row.reported_at;
  breach.closed_at = row.closed_at;
  ASSIGN_OR_RETURN(breach.details, BreachDetails::FromJson(json));
  sodium_memzero(json.data(), json.size());
  return breach;
}

Status Engine::AddBreachUpdate(store::WriteBatch& batch, Breach& breach, Timestamp at) {
  ASSIGN_OR_RETURN(store::BreachRow row, LoadBreachRow(breach.id));
  if (row.version != breach.version) {
    return Status(ErrorCode::kConflict, "breach " + breach.id + " changed concurrently");
  }
  ASSIGN_OR_RETURN(crypto::SecretKey key, BreachKey(row));
  row.version = breach.version + 1;
  row.aware_at = breach.aware_at;
  row.risk = breach.risk;
  row.reported_at = breach.reported_at;
  row.closed_at = breach.closed_at;
  row.updated_at = at;
  row.sealed_details = crypto::Seal(key, breach.details.ToJson(), BreachKeyContext(breach.id));
  batch.Add(store::UpdateBreach{std::move(row), breach.version});
  breach.version += 1;
  breach.updated_at = at;
  return Status::Ok();
}

Status Engine::CheckBreachScope(const BreachScope& scope) const {
  if (scope.categories.empty()) {
    return Invalid("a breach names the categories of data it touched (scope.categories)");
  }
  for (const auto& c : scope.categories) {
    bool known =
        policy_.FindCategory(c) != nullptr ||
        std::any_of(policy_.purposes.begin(), policy_.purposes.end(),
                    [&](const policy::Purpose& p) { return internal::RefsCover(p.categories, c); });
    if (!known) return Invalid("category '" + c + "' is not in the policy");
  }
  for (const auto& p : scope.purposes) {
    if (policy_.FindPurpose(p) == nullptr)
      return Invalid("purpose '" + p + "' is not in the policy");
  }
  for (const auto& t : scope.subject_types) {
    if (policy_.FindSubjectType(t) == nullptr) {
      return Invalid("subject type '" + t + "' is not in the policy");
    }
  }
  if (scope.from && scope.to && *scope.to < *scope.from) {
    return Invalid("the scope's window ends before it starts");
  }
  return Status::Ok();
}

Result<Engine::BreachReach> Engine::PeopleInBreachScope(const BreachScope& scope) {
  BreachReach reach;
  RETURN_IF_ERROR(ForEachPerson([&](const store::SweepSubject& person) {
    const int64_t records = RecordsInScope(scope, person);
    if (records > 0) {
      reach.subject_ids.push_back(person.subject.subject_id);
      reach.records += records;
    }
    return Status::Ok();
  }));
  return reach;
}

Result<Breach> Engine::RecordBreach(const NewBreach& input, std::optional<Timestamp> at_opt,
                                    const std::string& actor) {
  const Timestamp at = At(at_opt);
  if (input.nature.empty()) return Invalid("a breach says what happened (nature)");
  if (!input.id.empty() && !IsBreachId(input.id)) {
    return Invalid("a breach id is 1-64 letters, digits, '_', '-' or '.'");
  }
  RETURN_IF_ERROR(CheckBreachScope(input.scope));
  RETURN_IF_ERROR(CheckAssessment(input.risk, input.risk_reasoning));
  const Timestamp aware_at = input.aware_at.value_or(input.discovered_at);
  if (input.discovered_at > at || aware_at > at) {
    return Invalid("a breach is recorded after it was discovered and became known");
  }
  if (aware_at < input.discovered_at) {
    return Invalid("aware_at is before discovered_at: awareness follows discovery");
  }
  const std::string id = input.id.empty() ? NewBreachId(at) : input.id;
  ASSIGN_OR_RETURN(std::optional<store::BreachRow> existing, store_.GetBreach(controller_, id));
  if (existing.has_value()) return Status(ErrorCode::kAlreadyExists, "breach " + id + " exists");

  ASSIGN_OR_RETURN(BreachReach reach, PeopleInBreachScope(input.scope));
  Breach breach;
  breach.id = id;
  breach.version = 1;
  breach.aware_at = aware_at;
  breach.updated_at = at;
  breach.risk = input.risk;
  BreachDetails& d = breach.details;
  d.discovered_at = input.discovered_at;
  d.nature = input.nature;
  d.how_discovered = input.how_discovered;
  d.cyber_incident = input.cyber_incident;
  d.scope = input.scope;
  d.people = static_cast<int64_t>(reach.subject_ids.size());
  d.records = reach.records;
  d.counted_at = at;
  d.consequences = input.consequences;
  d.measures = input.measures;
  d.risk_reasoning = input.risk_reasoning;

  crypto::SecretKey key = crypto::SecretKey::Random();
  const bool tell_controller =
      policy_.processor.breach_notify_controller || policy_.breach.notify_controller;
  if (tell_controller) d.controller_told_at = at;
  store::BreachRow row;
  row.controller = controller_;
  row.breach_id = id;
  row.aware_at = aware_at;
  row.risk = breach.risk;
  row.updated_at = at;
  row.wrapped_key = crypto::WrapDataKey(master_key_, key, BreachKeyContext(id));
  row.sealed_details = crypto::Seal(key, d.ToJson(), BreachKeyContext(id));
  store::WriteBatch batch;
  batch.Add(std::move(row));
  // A processor tells its controller without undue delay (Article 33(2)): the report as it
  // stands goes to the "controller" endpoint, or waits in the outbox for a person.
  if (tell_controller) {
    rapidjson::StringBuffer buffer;
    internal::Writer w(buffer);
    w.StartObject();
    internal::Str(w, "request_id", std::string(kBreachReferencePrefix) + id);
    internal::Str(w, "processor", policy_.controller.name);
    internal::Str(w, "subject", "Personal data breach " + id + " at " + policy_.controller.name);
    w.Key("report");
    const std::string report = BreachReportJson(policy_, breach, at);
    w.RawValue(report.c_str(), report.size(), rapidjson::kObjectType);
    w.EndObject();
    RETURN_IF_ERROR(AddOutboxMessage(batch, std::string(kBreachReferencePrefix) + id, key,
                                     BreachKeyContext(id), "breach_controller_notice", "controller",
                                     buffer.GetString(), at));
  }
  RETURN_IF_ERROR(
      audit_
          .Commit(std::move(batch),
                  {Entry(actor, "breach_recorded", "", at,
                         id + "; risk " + breach.risk + "; " + std::to_string(d.people) +
                             " people, " + std::to_string(d.records) + " records" +
                             (tell_controller ? "; controller notice queued" : ""))})
          .status());
  return breach;
}

Result<Breach> Engine::ChangeBreach(const std::string& breach_id, const BreachChange& change,
                                    std::optional<Timestamp> at_opt, const std::string& actor) {
  const Timestamp at = At(at_opt);
  ASSIGN_OR_RETURN(Breach breach, LoadBreach(breach_id));
  if (breach.closed_at) return BreachStateError("breach " + breach_id + " is closed");
  BreachDetails& d = breach.details;
  std::vector<std::string> changed;
  auto set = [&changed](std::string& field, const std::optional<std::string>& value,
                        const char* name) {
    if (value && *value != field) {
      field = *value;
      changed.push_back(name);
    }
  };
  if (change.nature && change.nature->empty()) return Invalid("nature cannot be emptied");
  set(d.nature, change.nature, "nature");
  set(d.how_discovered, change.how_discovered, "how_discovered");
  set(d.consequences, change.consequences, "consequences");
  set(d.measures, change.measures, "measures");
  set(d.risk_reasoning, change.risk_reasoning, "risk_reasoning");
  set(d.delay_reason, change.delay_reason, "delay_reason");
  set(d.regulator_reference, change.regulator_reference, "regulator_reference");
  set(d.people_not_told_reason, change.people_not_told_reason, "people_not_told_reason");
  set(breach.risk, change.risk, "risk");
  if (change.cyber_incident && *change.cyber_incident != d.cyber_incident) {
    d.cyber_incident = *change.cyber_incident;
    changed.push_back("cyber_incident");
  }
  RETURN_IF_ERROR(CheckAssessment(breach.risk, d.risk_reasoning));
  if (change.scope) {
    RETURN_IF_ERROR(CheckBreachScope(*change.scope));
    ASSIGN_OR_RETURN(BreachReach reach, PeopleInBreachScope(*change.scope));
    d.scope = *change.scope;
    d.people = static_cast<int64_t>(reach.subject_ids.size());
    d.records = reach.records;
    d.counted_at = at;
    changed.push_back("scope");
  }
  if (change.reported_at) {
    if (breach.reported_at) return BreachStateError("breach " + breach_id + " was reported");
    if (*change.reported_at > at || *change.reported_at < breach.aware_at) {
      return Invalid("reported_at lies between awareness and now");
    }
    breach.reported_at = *change.reported_at;
    if (RegulatorClock(policy_, breach, at).reported_late && d.delay_reason.empty()) {
      return Invalid(
          "the report came after the deadline: give the reasons for the delay "
          "(delay_reason; Article 33(1))");
    }
    changed.push_back("reported");
  }
  if (change.close) {
    const BreachClock clock = RegulatorClock(policy_, breach, at);
    if (breach.risk == "unassessed") {
      return BreachStateError("assess the risk before closing breach " + breach_id);
    }
    if (clock.report_needed && !clock.reported) {
      return BreachStateError("breach " + breach_id +
                              " needs its report to the regulator before it closes");
    }
    if (PeopleMustBeTold(policy_, breach) && !d.people_told_at &&
        d.people_not_told_reason.empty()) {
      return BreachStateError(
          "tell the people affected, or record why not "
          "(people_not_told_reason), before closing breach " +
          breach_id);
    }
    breach.closed_at = at;
    changed.push_back("closed");
  }
  if (changed.empty()) return breach;
  store::WriteBatch batch;
  RETURN_IF_ERROR(AddBreachUpdate(batch, breach, at));
  std::string what;
  for (const auto& c : changed) what += (what.empty() ? "" : ",") + c;
  Status committed =
      audit_
          .Commit(std::move(batch), {Entry(actor, "breach_changed", "", at,
                                           breach_id + "; " + what + "; risk " + breach.risk)})
          .status();
  if (committed.code() == ErrorCode::kInvalidArgument) {
    return Status(ErrorCode::kConflict, "breach " + breach_id + " changed concurrently");
  }
  RETURN_IF_ERROR(committed);
  return breach;
}

Result<Breach> Engine::TellPeopleOfBreach(const std::string& breach_id,
                                          std::optional<Timestamp> at_opt,
                                          const std::string& actor) {
  const Timestamp at = At(at_opt);
  ASSIGN_OR_RETURN(store::BreachRow row, LoadBreachRow(breach_id));
  ASSIGN_OR_RETURN(Breach breach, OpenBreach(row));
  if (breach.closed_at) return BreachStateError("breach " + breach_id + " is closed");
  if (breach.details.people_told_at) {
    return BreachStateError("the people affected by breach " + breach_id + " were told on " +
                            breach.details.people_told_at->ToString());
  }
  if (!PeopleMustBeTold(policy_, breach)) {
    return BreachStateError("breach " + breach_id + " is assessed '" + breach.risk +
                            "': the policy tells people only of a high risk (Article 34(1))");
  }
  ASSIGN_OR_RETURN(crypto::SecretKey key, BreachKey(row));
  ASSIGN_OR_RETURN(BreachReach reach, PeopleInBreachScope(breach.details.scope));
  const BreachNotice notice = BreachNoticeFor(policy_, breach);
  const std::string reference = std::string(kBreachReferencePrefix) + breach_id;
  int64_t queued = 0, unreachable = 0;
  store::WriteBatch batch;
  for (const auto& subject_id : reach.subject_ids) {
    ASSIGN_OR_RETURN(std::optional<store::SubjectRow> subject,
                     store_.GetSubject(controller_, subject_id));
    if (!subject || subject->state == store::SubjectState::kErased) {
      ++unreachable;
      continue;
    }
    ASSIGN_OR_RETURN(std::vector<store::IdentifierRow> identifiers,
                     store_.ListIdentifiers(controller_, subject_id));
    // An e-mail address before a phone number, a verified one before one that is not.
    const store::IdentifierRow* best = nullptr;
    auto rank = [](const store::IdentifierRow& i) {
      return (i.kind == "email" ? 2 : i.kind == "phone" ? 0 : -10) + (i.verified ? 1 : 0);
    };
    for (const auto& identifier : identifiers) {
      if (rank(identifier) < 0) continue;
      if (best == nullptr || rank(identifier) > rank(*best)) best = &identifier;
    }
    if (best == nullptr) {
      ++unreachable;
      continue;
    }
    ASSIGN_OR_RETURN(crypto::SecretKey data_key, DataKey(*subject));
    ASSIGN_OR_RETURN(std::string value, crypto::Open(data_key, best->sealed_value,
                                                     KeyContext(subject_id) + "/id/" + best->kind));
    std::string payload = internal::PersonMessagePayload(
        reference, policy_.controller.name, best->kind, value, notice.subject, notice.body);
    sodium_memzero(value.data(), value.size());
    RETURN_IF_ERROR(AddOutboxMessage(batch, reference, key, BreachKeyContext(breach_id),
                                     "breach_notice", "requester", payload, at));
    sodium_memzero(payload.data(), payload.size());
    ++queued;
    if (batch.ops.size() >= kNoticesPerBatch) RETURN_IF_ERROR(CommitPart(batch));
  }
  breach.details.people_told_at = at;
  breach.details.notices_queued = queued;
  RETURN_IF_ERROR(AddBreachUpdate(batch, breach, at));
  RETURN_IF_ERROR(
      audit_
          .Commit(std::move(batch),
                  {Entry(actor, "breach_people_told", "", at,
                         breach_id + "; " + std::to_string(queued) + " notices queued, " +
                             std::to_string(unreachable) + " people without an address or erased")})
          .status());
  return breach;
}

Result<Breach> Engine::ViewBreach(const std::string& breach_id, const std::string& actor) {
  ASSIGN_OR_RETURN(Breach breach, LoadBreach(breach_id));
  audit_.Record(Entry(actor, "breach_read", "", clock_.Now(), breach_id));
  return breach;
}

Result<std::vector<Breach>> Engine::ListBreaches(const std::string& actor) {
  ASSIGN_OR_RETURN(std::vector<store::BreachRow> rows, store_.ListBreaches(controller_));
  std::vector<Breach> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    ASSIGN_OR_RETURN(Breach breach, OpenBreach(row));
    out.push_back(std::move(breach));
  }
  audit_.Record(Entry(actor, "breach_register_read", "", clock_.Now(),
                      std::to_string(out.size()) + " breaches"));
  return out;
}

}  // namespace custos::engine
