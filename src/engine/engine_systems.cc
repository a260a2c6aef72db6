// Engine: the organisation's own systems (the policy's `systems:`). A rights request reaches
// them before custos's own copy: erasure applies each field's action in every system (children
// before parents, holds and exemptions honoured), access gathers the person's rows into the
// package; a system that cannot answer keeps the request waiting (SYSTEM_UNAVAILABLE) until it
// does or the DPO records why it cannot (WaiveSystem). Retention sweeps the systems' rows whose
// period has passed. What is decided is in systems_reach.h; here are identity, holds,
// exemptions and the audit. Audit details name systems, datasets and counts, never a value.
#include <algorithm>
#include <set>

#include "crypto/blind_index.h"
#include "crypto/hash_chain.h"
#include "crypto/sealing.h"
#include "engine/engine.h"
#include "engine/request_internal.h"

namespace custos::engine {

namespace {

using internal::Covers;
using internal::Invalid;
using internal::Join;
using internal::RefsCover;

Status NotAttached(const policy::System& system) {
  return Status(ErrorCode::kSystemUnavailable,
                "system " + system.key + ": no connectors are attached to this engine");
}

bool ReachesSystems(std::string_view type) {
  return type == "erasure" || type == "access" || type == "portability";
}

// "crm (system crm: the database is unreachable), mailing (...)".
std::string Failures(const std::vector<SystemPlan>& plans) {
  std::string out;
  for (const auto& plan : plans) {
    if (!plan.waived.empty() || plan.status.ok()) continue;
    out += (out.empty() ? "" : ", ") + plan.system + " (" + plan.status.message() + ")";
  }
  return out;
}

std::string Counts(const SystemPlan& plan) {
  int64_t deletes = 0, updates = 0, untouched = 0;
  for (const auto& step : plan.datasets) {
    deletes += step.deletes;
    updates += step.updates;
    untouched += step.untouched;
  }
  return std::to_string(deletes) + " row(s) deleted, " + std::to_string(updates) + " changed, " +
         std::to_string(untouched) + " left";
}

}  // namespace

std::string Engine::SystemHash(const std::string& system, const std::string& dataset,
                               const std::string& column, const std::string& value) const {
  return crypto::ToHex(crypto::BlindIndex(
      master_key_.BlindIndexKey(), "system:" + system + "." + dataset + "." + column, value));
}

Result<PersonIdentifiers> Engine::RequestPeople(const store::RequestRow& row) {
  PersonIdentifiers people;
  for (const auto& subject_id : row.subject_ids) {
    ASSIGN_OR_RETURN(std::optional<store::SubjectRow> subject,
                     store_.GetSubject(controller_, subject_id));
    if (!subject || subject->state == store::SubjectState::kErased) continue;
    ASSIGN_OR_RETURN(crypto::SecretKey key, DataKey(*subject));
    ASSIGN_OR_RETURN(std::vector<store::IdentifierRow> identifiers,
                     store_.ListIdentifiers(controller_, subject_id));
    for (const auto& identifier : identifiers) {
      ASSIGN_OR_RETURN(std::string value,
                       crypto::Open(key, identifier.sealed_value,
                                    KeyContext(subject_id) + "/id/" + identifier.kind));
      people.emplace_back(identifier.kind, std::move(value));
    }
  }
  return people;
}

Result<std::vector<SystemPlan>> Engine::ReachSystems(const store::RequestRow& row,
                                                     const internal::Details& details, bool apply,
                                                     Timestamp at,
                                                     std::vector<SystemRows>* gathered) {
  std::lock_guard<std::mutex> lock(systems_mutex_);
  const bool erasure = row.type == "erasure";
  ASSIGN_OR_RETURN(PersonIdentifiers people, RequestPeople(row));
  std::vector<store::LegalHoldRow> holds;
  std::vector<store::SubjectRow> subjects;
  if (erasure) {
    ASSIGN_OR_RETURN(holds, store_.ListLegalHolds(controller_));
    for (const auto& subject_id : row.subject_ids) {
      ASSIGN_OR_RETURN(std::optional<store::SubjectRow> subject,
                       store_.GetSubject(controller_, subject_id));
      if (subject && subject->state != store::SubjectState::kErased) subjects.push_back(*subject);
    }
  }
  // A category goes unless the request does not ask for it, or a hold, an exemption or a
  // retention rule keeps it for any of the request's people.
  KeepDecider keep = [&](const std::string& category) -> std::optional<KeepReason> {
    if (!Covers(details.categories, category)) {
      return KeepReason{"not_asked", "not part of the request"};
    }
    for (const auto& subject : subjects) {
      if (auto kept = ErasureKeeps(subject, category, "", false, holds, at)) {
        return KeepReason{kept->ground, kept->told};
      }
    }
    return std::nullopt;
  };
  std::vector<SystemPlan> plans;
  for (const auto& system : policy_.systems) {
    SystemPlan plan{system.key, system.name, Status::Ok(), "", {}, 0};
    if (const std::string* reason = details.WaiverFor(system.key)) {
      plan.waived = *reason;
      if (gathered) gathered->push_back({system.key, system.name, {}, false});
      plans.push_back(std::move(plan));
      continue;
    }
    Result<SystemConnector*> connector = systems_ != nullptr
                                             ? systems_->Open(system)
                                             : Result<SystemConnector*>(NotAttached(system));
    Result<std::vector<FoundDataset>> found =
        connector.ok() ? FindPersonIn(system, **connector, people)
                       : Result<std::vector<FoundDataset>>(connector.status());
    if (!found.ok()) {
      plan.status = found.status();
      plans.push_back(std::move(plan));
      continue;
    }
    if (erasure) {
      plan.datasets = PlanErasureIn(system, *found, keep);
      if (apply) {
        auto hash = [&](const std::string& dataset) {
          return [this, &system, dataset](const std::string& column, const std::string& value) {
            return SystemHash(system.key, dataset, column, value);
          };
        };
        for (const auto& step : plan.datasets) {
          const policy::Dataset* dataset = system.FindDataset(step.dataset);
          const FoundDataset* rows = nullptr;
          for (const auto& f : *found) {
            if (f.dataset == step.dataset) rows = &f;
          }
          if (dataset == nullptr || rows == nullptr) continue;
          std::vector<RowChange> changes = ChangesFor(*dataset, step, *rows, hash(step.dataset));
          if (changes.empty()) continue;
          Result<int64_t> changed =
              (*connector)->Apply(dataset->table, dataset->primary_key, changes);
          if (!changed.ok()) {
            plan.status = changed.status();
            break;
          }
          plan.rows_changed += *changed;
        }
      }
    } else {
      for (const auto& dataset : *found) {
        DatasetStep step{
            dataset.dataset, dataset.table, {}, 0, 0, static_cast<int64_t>(dataset.rows.size())};
        for (const auto& found_row : dataset.rows) step.rows.push_back({found_row.key, false, {}});
        plan.datasets.push_back(std::move(step));
      }
      if (gathered) gathered->push_back({system.key, system.name, std::move(*found), true});
    }
    plans.push_back(std::move(plan));
  }
  return plans;
}

Result<std::string> Engine::EraseInSystems(const store::RequestRow& row, Timestamp at,
                                           const std::string& actor, internal::Fulfilment& work) {
  if (policy_.systems.empty()) return std::string();
  ASSIGN_OR_RETURN(std::vector<SystemPlan> plans,
                   ReachSystems(row, work.details, true, at, nullptr));
  const std::string subjects = Join(row.subject_ids);
  std::vector<AuditEntry> entries;
  std::string summary;
  for (const auto& plan : plans) {
    if (!plan.waived.empty()) {
      work.details.items.push_back({subjects, "", "system_waived", "waived", plan.name});
      entries.push_back(Entry(actor, "system_waived", subjects, at,
                              row.request_id + " " + plan.system + ": left out by the DPO"));
      summary += "; " + plan.name + " left out";
      continue;
    }
    if (!plan.status.ok()) {
      entries.push_back(Entry(actor, "system_erase_failed", subjects, at,
                              row.request_id + " " + plan.system + ": " + plan.status.message()));
      continue;
    }
    std::set<std::string> erased, kept;
    for (const auto& step : plan.datasets) {
      for (const auto& row_step : step.rows) {
        for (const auto& field : row_step.fields) {
          if (field.kept) {
            if (field.kept->ground != "not_asked" && kept.insert(field.category).second) {
              work.details.items.push_back(
                  {subjects, field.category, "kept", field.kept->ground, field.kept->told});
            }
          } else if (row_step.delete_row || field.action != policy::EraseAction::kKeep) {
            erased.insert(field.category);
          }
        }
      }
    }
    for (const auto& category : erased) {
      work.details.items.push_back({subjects, category, "erased", "", plan.name});
      work.affected_categories.push_back(category);
    }
    entries.push_back(Entry(actor, "system_erase", subjects, at,
                            row.request_id + " " + plan.system + ": " + Counts(plan)));
    summary += "; " + plan.name + ": " + Counts(plan);
  }
  std::string failures = Failures(plans);
  if (!failures.empty()) {
    // What was done stays done (a retry finds it done); the request waits for the rest, and
    // says so in its history (RetryRequestsWaitingForSystems looks for it).
    RETURN_IF_ERROR(audit_.Commit(WaitingForSystems(row, plans, at), std::move(entries)).status());
    return Status(ErrorCode::kSystemUnavailable,
                  "request " + row.request_id + " waits for " + failures +
                      ": fulfil it again once they answer, or record why they cannot "
                      "(custos request waive-system)");
  }
  for (auto& entry : entries) work.audit.push_back(std::move(entry));
  return summary;
}

Status Engine::GatherFromSystems(const store::RequestRow& row, Timestamp at,
                                 const std::string& actor, std::vector<SystemRows>& gathered) {
  if (policy_.systems.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(crypto::SecretKey key, RequestKey(row));
  ASSIGN_OR_RETURN(internal::Details details,
                   internal::ReadDetails(key, row, RequestKeyContext(row.request_id)));
  ASSIGN_OR_RETURN(std::vector<SystemPlan> plans, ReachSystems(row, details, false, at, &gathered));
  const std::string subjects = Join(row.subject_ids);
  for (const auto& plan : plans) {
    if (plan.waived.empty() && plan.status.ok()) {
      audit_.Record(Entry(actor, "system_read", subjects, at,
                          row.request_id + " " + plan.system + ": " + Counts(plan)));
    }
  }
  std::string failures = Failures(plans);
  if (!failures.empty()) {
    RETURN_IF_ERROR(audit_.Commit(WaitingForSystems(row, plans, at), {}).status());
    return Status(ErrorCode::kSystemUnavailable,
                  "request " + row.request_id + " waits for " + failures +
                      ": fulfil it again once they answer, or record why they cannot "
                      "(custos request waive-system)");
  }
  RETURN_IF_ERROR(audit_.Flush());
  return Status::Ok();
}

store::WriteBatch Engine::WaitingForSystems(const store::RequestRow& row,
                                            const std::vector<SystemPlan>& plans, Timestamp at) {
  std::string waiting;
  for (const auto& plan : plans) {
    if (plan.waived.empty() && !plan.status.ok())
      waiting += (waiting.empty() ? "" : ",") + plan.system;
  }
  store::WriteBatch batch;
  batch.Add(store::RequestEventRow{controller_, row.request_id, 0, at, "system", "systems_waiting",
                                   row.state, waiting});
  return batch;
}

Result<int64_t> Engine::RetryRequestsWaitingForSystems(const std::string& actor) {
  if (policy_.systems.empty()) return int64_t{0};
  ASSIGN_OR_RETURN(std::vector<store::RequestRow> open, store_.ListRequests(controller_, true));
  int64_t completed = 0;
  for (const auto& row : open) {
    if (!ReachesSystems(row.type) || (row.state != store::RequestState::kInProgress &&
                                      row.state != store::RequestState::kExtended)) {
      continue;
    }
    ASSIGN_OR_RETURN(std::vector<store::RequestEventRow> history,
                     store_.ListRequestEvents(controller_, row.request_id));
    bool waiting = false;
    for (const auto& event : history) {
      if (event.event == "fulfilment_started") waiting = false;
      if (event.event == "systems_waiting") waiting = true;
    }
    if (!waiting) continue;
    Result<RequestView> done = FulfilRequest(row.request_id, "", std::nullopt, actor);
    if (done.ok()) ++completed;
  }
  return completed;
}

Result<std::vector<SystemPlan>> Engine::PlanRequestInSystems(const std::string& request_id,
                                                             const std::string& actor) {
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  if (!ReachesSystems(row.type)) {
    return Invalid("a request for " + row.type +
                   " does not reach the organisation's systems (erasure, access and portability "
                   "do)");
  }
  if (!IsOpen(row.state)) {
    return Status(ErrorCode::kRequestState, "request " + request_id + " is " +
                                                std::string(store::RequestStateName(row.state)) +
                                                ": nothing left to plan");
  }
  ASSIGN_OR_RETURN(crypto::SecretKey key, RequestKey(row));
  ASSIGN_OR_RETURN(internal::Details details,
                   internal::ReadDetails(key, row, RequestKeyContext(request_id)));
  Timestamp at = clock_.Now();
  ASSIGN_OR_RETURN(std::vector<SystemPlan> plans, ReachSystems(row, details, false, at, nullptr));
  for (const auto& plan : plans) {
    std::string what = !plan.waived.empty() ? "left out by the DPO"
                       : plan.status.ok()   ? Counts(plan)
                                            : "not reached";
    audit_.Record(Entry(actor, "system_plan", Join(row.subject_ids), at,
                        request_id + " " + plan.system + ": " + what));
  }
  RETURN_IF_ERROR(audit_.Flush());
  return plans;
}

Status Engine::WaiveSystem(const std::string& request_id, const std::string& system,
                           const std::string& reason, std::optional<Timestamp> at_opt,
                           const std::string& actor) {
  if (policy_.FindSystem(system) == nullptr) {
    return Invalid("the policy declares no system '" + system + "'");
  }
  if (reason.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Invalid("say why the system cannot answer (--reason)");
  }
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  if (!IsOpen(row.state)) {
    return Status(ErrorCode::kRequestState, "request " + request_id + " is " +
                                                std::string(store::RequestStateName(row.state)) +
                                                ", not open");
  }
  Timestamp at = At(at_opt);
  ASSIGN_OR_RETURN(crypto::SecretKey key, RequestKey(row));
  ASSIGN_OR_RETURN(internal::Details details,
                   internal::ReadDetails(key, row, RequestKeyContext(request_id)));
  bool replaced = false;
  for (auto& [key_of, why] : details.system_waivers) {
    if (key_of == system) {
      why = reason;
      replaced = true;
    }
  }
  if (!replaced) details.system_waivers.emplace_back(system, reason);
  row.sealed_details =
      crypto::Seal(key, details.ToJson(), RequestKeyContext(request_id) + "/details");
  store::WriteBatch batch;
  AddRequestStep(batch, row, row.version, "system_waived", row.state, system, actor, at);
  Status committed =
      audit_
          .Commit(std::move(batch), {Entry(actor, "system_waived", Join(row.subject_ids), at,
                                           request_id + " " + system + ": left out by the DPO")})
          .status();
  if (committed.code() == ErrorCode::kInvalidArgument) {
    return Status(ErrorCode::kConflict, "request " + request_id + " changed meanwhile; try again");
  }
  return committed;
}

Result<std::vector<SystemCheck>> Engine::CheckSystems(const std::string& actor) {
  std::vector<SystemCheck> checks;
  {
    std::lock_guard<std::mutex> lock(systems_mutex_);
    if (systems_ != nullptr) {
      checks = engine::CheckSystems(policy_, *systems_);
    } else {
      for (const auto& system : policy_.systems) {
        checks.push_back({system.key,
                          system.name,
                          std::string(policy::SystemKindKey(system.kind)),
                          NotAttached(system),
                          {}});
      }
    }
  }
  int healthy = 0;
  for (const auto& check : checks) healthy += check.status.ok() ? 1 : 0;
  audit_.Record(Entry(actor, "systems_checked", "", clock_.Now(),
                      std::to_string(healthy) + " of " + std::to_string(checks.size()) +
                          " system(s) answer as declared"));
  RETURN_IF_ERROR(audit_.Flush());
  return checks;
}

Result<std::vector<SystemRetentionLine>> Engine::SweepSystemsRetention(
    bool apply, int64_t batch, std::optional<Timestamp> at_opt, const std::string& actor) {
  if (batch <= 0) return Invalid("a sweep's batch is at least one row");
  std::lock_guard<std::mutex> lock(systems_mutex_);
  Timestamp at = At(at_opt);
  ASSIGN_OR_RETURN(std::vector<store::LegalHoldRow> holds, store_.ListLegalHolds(controller_));
  // A hold on everyone keeps every row; one on a person, the rows found to be theirs.
  const bool everyone_held = FindLegalHold(holds, "", "", at) != nullptr;
  std::vector<SystemRetentionLine> lines;
  for (const auto& system : policy_.systems) {
    Result<SystemConnector*> connector = systems_ != nullptr
                                             ? systems_->Open(system)
                                             : Result<SystemConnector*>(NotAttached(system));
    for (const auto& dataset : system.datasets) {
      if (dataset.retention_rule.empty()) continue;
      const policy::RetentionRule* rule = nullptr;
      for (const auto& r : policy_.retention) {
        if (r.id == dataset.retention_rule) rule = &r;
      }
      if (rule == nullptr || !rule->period.value) continue;  // the validator refuses both
      SystemRetentionLine line{
          system.key,  dataset.key,
          rule->id,    SubtractPeriod(at, *rule->period.value).ToString().substr(0, 10),
          0,           0,
          0,           0,
          Status::Ok()};
      if (!connector.ok()) {
        line.status = connector.status();
        lines.push_back(std::move(line));
        continue;
      }
      const bool anonymise = rule->action == policy::RetentionAction::kAnonymise;
      // Within the rule's categories, less what it keeps, a field goes.
      KeepDecider keep = [&](const std::string& category) -> std::optional<KeepReason> {
        if (!RefsCover(rule->categories, category) || RefsCover(rule->keep, category)) {
          return KeepReason{"retention_rule", "outside what rule " + rule->id + " erases"};
        }
        return std::nullopt;
      };
      const std::vector<std::string> columns = DatasetColumns(dataset);
      auto column_of = [&](const std::string& name) {
        return static_cast<size_t>(std::find(columns.begin(), columns.end(), name) -
                                   columns.begin());
      };
      std::string after;
      while (true) {
        Result<std::vector<SystemRow>> rows =
            (*connector)
                ->SelectBefore(dataset.table, columns, dataset.retention_starts, line.cutoff,
                               dataset.primary_key, after, batch);
        if (!rows.ok()) {
          line.status = rows.status();
          break;
        }
        FoundDataset found{dataset.key, dataset.table, {}};
        const std::string page_from = after;
        for (const auto& row : *rows) {
          if (row.empty() || !row[0]) continue;
          after = *row[0];
          ++line.due;
          // The person the row belongs to, where custos knows them: a hold on them (or on
          // everyone) keeps the row.
          bool held = everyone_held;
          for (const auto& by : dataset.find_by) {
            size_t c = column_of(by.column);
            if (held || c >= row.size() || !row[c]) continue;
            std::string kind(policy::IdentifierKindOf(by.kind));
            ASSIGN_OR_RETURN(
                std::vector<std::string> ids,
                store_.FindSubjectsByIdentifier(controller_, kind, IdentifierHash(kind, *row[c])));
            for (const auto& id : ids) held = held || FindLegalHold(holds, id, "", at) != nullptr;
          }
          if (held || rule->action == policy::RetentionAction::kReview) {
            if (held) ++line.held;
            continue;
          }
          FoundRow found_row{*row[0], {}};
          for (const auto& field : dataset.fields) {
            size_t c = column_of(field.name);
            found_row.fields.push_back(
                {field.name, field.category, c < row.size() ? row[c] : std::nullopt});
          }
          found.rows.push_back(std::move(found_row));
        }
        std::vector<DatasetStep> plan = PlanErasureIn(system, {found}, keep);
        for (auto& step : plan) {
          if (anonymise) {
            // Anonymising keeps the row: its delete_row fields are emptied instead.
            for (auto& row_step : step.rows) {
              if (!row_step.delete_row) continue;
              row_step.delete_row = false;
              --step.deletes;
              ++step.updates;
              for (auto& field : row_step.fields) {
                if (field.action == policy::EraseAction::kDeleteRow) {
                  field.action = policy::EraseAction::kClear;
                }
              }
            }
          }
          line.deleted += step.deletes;
          line.changed += step.updates;
          if (!apply) continue;
          std::vector<RowChange> changes = ChangesFor(
              dataset, step, found, [&](const std::string& column, const std::string& value) {
                return SystemHash(system.key, dataset.key, column, value);
              });
          if (changes.empty()) continue;
          Result<int64_t> changed =
              (*connector)->Apply(dataset.table, dataset.primary_key, changes);
          if (!changed.ok()) line.status = changed.status();
        }
        // Rows are paged by primary key, so deleted and kept rows alike are passed (a page
        // that moved no key further, all its keys NULL, ends the sweep).
        if (!line.status.ok() || static_cast<int64_t>(rows->size()) < batch || after == page_from) {
          break;
        }
      }
      audit_.Record(Entry(
          actor, apply ? "system_retention" : "system_retention_preview", "", at,
          system.key + "." + dataset.key + " rule " + rule->id + " before " + line.cutoff + ": " +
              std::to_string(line.due) + " due, " + std::to_string(line.deleted) + " deleted, " +
              std::to_string(line.changed) + " changed, " + std::to_string(line.held) + " held" +
              (line.status.ok() ? "" : " (" + line.status.message() + ")")));
      lines.push_back(std::move(line));
    }
  }
  RETURN_IF_ERROR(audit_.Flush());
  return lines;
}

}  // namespace custos::engine
