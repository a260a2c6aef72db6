// Engine: retention sweeps, legal holds, DPO review tasks and anonymised aggregates.
// The rules are in retention.cc (PlanSubjectRetention); this file reads subjects page by page,
// applies the plans through the Store and audits every action.
#include <sodium.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>

#include "crypto/sealing.h"
#include "engine/engine.h"
#include "policy/taxonomy.h"

namespace custos::engine {

namespace {

Status Invalid(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

bool KnownCategory(const policy::Policy& policy, const std::string& key) {
  return policy.FindCategory(key) != nullptr || policy::FindFideslangCategory(key) != nullptr;
}

std::string Join(const std::set<std::string>& keys) {
  std::string out;
  for (const auto& key : keys) {
    if (!out.empty()) out += ",";
    out += key;
  }
  return out;
}

// A random positive 63-bit id: anonymised facts carry no order that could tie them to the
// write (and so the person) they came from.
int64_t RandomFactId() {
  uint64_t bits = 0;
  while (bits == 0) {
    randombytes_buf(&bits, sizeof bits);
    bits >>= 1;
  }
  return static_cast<int64_t>(bits);
}

std::string Counts(const store::RetentionCounts& c) {
  return std::to_string(c.subjects) + " subjects, " + std::to_string(c.deleted) + " deleted, " +
         std::to_string(c.anonymised) + " anonymised, " + std::to_string(c.reviews) + " reviews, " +
         std::to_string(c.held) + " held, " + std::to_string(c.erased) + " erased";
}

// Pages of a run with nothing to write still move the checkpoint now and then, so a resumed
// run does not rescan everything (rescanning is harmless: plans of done subjects are empty).
constexpr int kPagesBetweenIdleCheckpoints = 64;
// A page whose commit is refused because another sweep acted first is read again up to this
// many times in a row before the run gives up with the error.
constexpr int kMaxPageConflicts = 16;

}  // namespace

Result<RetentionReport> Engine::PlanRetention(const RetentionOptions& options) {
  return SweepRetention(options, /*apply=*/false);
}

Result<RetentionReport> Engine::RunRetention(const RetentionOptions& options) {
  ASSIGN_OR_RETURN(RetentionReport report, SweepRetention(options, /*apply=*/true));
  // Closed rights requests keep the requester's details only as long as the request needs
  // them: the sweep that keeps retention promises keeps this one too.
  ASSIGN_OR_RETURN(report.requests_shredded, PurgeClosedRequests(report.as_of, options.actor));
  return report;
}

Result<RetentionReport> Engine::SweepRetention(const RetentionOptions& options, bool apply) {
  const Timestamp now = clock_.Now();
  RetentionReport report;
  report.as_of = options.as_of.value_or(now);
  const std::string& actor = options.actor;
  const size_t page_size = std::max<size_t>(options.page_size, 1);
  std::string cursor;

  if (apply) {
    if (report.as_of > now) {
      return Invalid("retention run cannot act as of " + report.as_of.ToString() +
                     ", which is after now (" + now.ToString() +
                     "): use 'retention plan' to see the future");
    }
    ASSIGN_OR_RETURN(std::optional<store::RetentionRunRow> last,
                     store_.LastRetentionRun(controller_));
    if (last.has_value() && !last->finished_at.has_value()) {
      report.resumed = true;
      report.run_id = last->run_id;
      report.as_of = last->as_of;
      report.totals = last->counts;
      cursor = last->last_subject_id;
      audit_.Record(
          Entry(actor, "retention_run_resumed", "", now,
                "run " + std::to_string(report.run_id) + " after subject '" + cursor + "'"));
    } else {
      store::RetentionRunRow run;
      run.controller = controller_;
      run.as_of = report.as_of;
      run.started_at = now;
      store::WriteBatch batch;
      batch.Add(std::move(run));
      ASSIGN_OR_RETURN(
          store::AppliedIds ids,
          audit_.Commit(std::move(batch), {Entry(actor, "retention_run_started", "", now,
                                                 "as of " + report.as_of.ToString())}));
      if (ids.run_ids.empty()) return Status(ErrorCode::kInternal, "no retention run id");
      report.run_id = ids.run_ids.front();
    }
  }

  ASSIGN_OR_RETURN(int64_t total, store_.CountSubjects(controller_));
  int idle_pages = 0;
  int conflicts = 0;  // consecutive pages refused because another sweep acted first
  while (true) {
    // Kept to read this page again when its commit is refused (see below).
    const std::string page_cursor = cursor;
    const RetentionReport page_start = apply ? report : RetentionReport{};
    // Holds are read again for every page so one placed during a long sweep takes effect.
    ASSIGN_OR_RETURN(std::vector<store::LegalHoldRow> holds, store_.ListLegalHolds(controller_));
    ASSIGN_OR_RETURN(std::vector<store::SweepSubject> page,
                     store_.ListSweepPage(controller_, cursor, page_size));
    if (page.empty()) break;
    store::WriteBatch batch;
    std::vector<AuditEntry> entries;
    std::vector<std::string> touched;
    for (const store::SweepSubject& sweep : page) {
      cursor = sweep.subject.subject_id;
      ++report.totals.subjects;
      SubjectRetentionPlan plan = PlanSubjectRetention(policy_, sweep, holds, report.as_of);
      CountPlan(plan, &report);
      if (!apply) continue;
      const std::string& id = sweep.subject.subject_id;

      // Audit groups: one entry per (verdict, rule) naming the categories and item count.
      struct Group {
        std::set<std::string> categories;
        int64_t items = 0;
        std::set<int64_t> holds;
      };
      std::map<std::pair<RetentionVerdict, std::string>, Group> groups;
      std::optional<crypto::SecretKey> data_key;
      std::unordered_map<int64_t, const store::RecordRow*> records;
      std::set<std::pair<std::string, std::string>> facts;  // one per (category, value)
      auto record_of = [&](int64_t record_id) -> const store::RecordRow* {
        if (records.empty()) {
          for (const auto& record : sweep.records) records[record.record_id] = &record;
        }
        auto it = records.find(record_id);
        return it == records.end() ? nullptr : it->second;
      };
      // Every change is guarded by the state it was planned from: if another sweep (or an
      // erasure) changed it since this page was read, the page fails and nothing is done twice.
      if (plan.HasActions()) batch.Add(store::ExpectState{controller_, id, 0, {}});
      for (const RetentionItem& item : plan.items) {
        if (item.verdict == RetentionVerdict::kNotDue ||
            item.verdict == RetentionVerdict::kNotCovered ||
            item.verdict == RetentionVerdict::kReview) {
          continue;
        }
        Group& group = groups[{item.verdict, item.rule_id}];
        group.categories.insert(item.category);
        ++group.items;
        if (item.verdict == RetentionVerdict::kHeld) {
          group.holds.insert(item.hold_id);
          continue;
        }
        if (item.is_identifier) {
          if (!plan.erase_subject) {
            batch.Add(store::DeleteIdentifiers{controller_, id, item.identifier_kind,
                                               item.identifier_hash});
            batch.Add(store::SuppressionRow{controller_, item.identifier_hash, item.identifier_kind,
                                            "retention", now});
          }
          continue;
        }
        if (item.verdict == RetentionVerdict::kDelete) {
          // When the whole person goes, destroying the data key deletes every value at once
          // (and in old backups); erasing record by record would cost as much as the person
          // has records.
          if (!plan.erase_subject) {
            const store::RecordRow* record = record_of(item.record_id);
            if (record == nullptr) return Status(ErrorCode::kInternal, "planned record not read");
            batch.Add(store::ExpectState{controller_, id, item.record_id, record->state});
            batch.Add(store::SetRecordState{controller_, id, item.record_id,
                                            store::RecordState::kErased, store::Bytes{}, now});
          }
          continue;
        }
        // Anonymise: the value (non-identifying by the policy) becomes an unlinkable fact;
        // the record keeps its category and state but no value.
        if (!data_key.has_value()) {
          ASSIGN_OR_RETURN(crypto::SecretKey key, DataKey(sweep.subject));
          data_key.emplace(std::move(key));
        }
        const store::RecordRow* record = record_of(item.record_id);
        if (record == nullptr) return Status(ErrorCode::kInternal, "planned record not read");
        batch.Add(store::ExpectState{controller_, id, item.record_id, record->state});
        ASSIGN_OR_RETURN(std::string value,
                         crypto::Open(*data_key, record->sealed_value,
                                      KeyContext(id) + "/record/" + record->category));
        // Facts count people: the same value twice from one person is one fact.
        if (facts.emplace(record->category, value).second) {
          batch.Add(store::AnonymisedFactRow{controller_, RandomFactId(), record->category,
                                             std::move(value)});
        }
        batch.Add(store::SetRecordState{controller_, id, item.record_id,
                                        store::RecordState::kAnonymised, store::Bytes{}, now});
      }
      for (const PlannedReview& review : plan.reviews) {
        store::ReviewTaskRow task;
        task.controller = controller_;
        task.subject_id = id;
        task.rule_id = review.rule_id;
        task.category = review.category;
        task.due_at = review.due;
        task.created_at = now;
        batch.Add(std::move(task));
        entries.push_back(Entry(
            actor, "retention_review", id, now,
            "rule " + review.rule_id + ": " + review.category + " due " + review.due.ToString()));
      }
      for (const auto& [key, group] : groups) {
        std::string detail = "rule " + key.second + ": " + Join(group.categories) + " (" +
                             std::to_string(group.items) + ")";
        if (!group.holds.empty()) {
          detail += " under legal hold";
          for (int64_t hold : group.holds) detail += " " + std::to_string(hold);
        }
        entries.push_back(Entry(actor, "retention_" + std::string(RetentionVerdictKey(key.first)),
                                id, now, std::move(detail)));
      }
      if (plan.erase_subject) {
        // The person is gone: their identifiers leave too, but their keyed hashes stay on the
        // suppression list so they are never contacted (or re-enabled for marketing) again.
        for (const auto& identifier : sweep.identifiers) {
          batch.Add(store::SuppressionRow{controller_, identifier.blind_index, identifier.kind,
                                          "erased", now});
        }
        batch.Add(store::DeleteIdentifiers{controller_, id, "", {}});
        batch.Add(store::EraseSubject{controller_, id, now});
        entries.push_back(Entry(actor, "retention_erase", id, now,
                                "data key destroyed; " + std::to_string(sweep.identifiers.size()) +
                                    " identifier hash(es) suppressed"));
      }
      if (plan.HasActions()) touched.push_back(id);
    }
    if (apply) {
      bool idle = batch.empty() && entries.empty();
      if (!idle || ++idle_pages >= kPagesBetweenIdleCheckpoints) {
        idle_pages = 0;
        batch.Add(store::RetentionCheckpoint{controller_, report.run_id, cursor, report.totals,
                                             std::nullopt});
        Status committed = audit_.Commit(std::move(batch), std::move(entries)).status();
        if (committed.code() == ErrorCode::kInvalidArgument && ++conflicts < kMaxPageConflicts) {
          // Another process's sweep (or a write) changed someone in this page since it was read:
          // a precondition failed and nothing of the page was applied. Read it again and plan
          // anew, so what the other sweep did is not done twice and what it left is done once.
          cursor = page_cursor;
          report = page_start;
          continue;
        }
        RETURN_IF_ERROR(committed);
        conflicts = 0;
        // The decision cache reloads these people from the store on their next decision.
        for (const auto& id : touched) cache_.Forget(id);
      }
    }
    if (options.progress) options.progress(report.totals.subjects, total);
    if (page.size() < page_size) break;
  }

  if (apply) {
    store::WriteBatch batch;
    batch.Add(store::RetentionCheckpoint{controller_, report.run_id, cursor, report.totals, now});
    RETURN_IF_ERROR(audit_
                        .Commit(std::move(batch), {Entry(actor, "retention_run_finished", "", now,
                                                         "run " + std::to_string(report.run_id) +
                                                             ": " + Counts(report.totals))})
                        .status());
  } else {
    audit_.Record(Entry(actor, "retention_plan", "", now,
                        "as of " + report.as_of.ToString() + ": " + Counts(report.totals)));
    RETURN_IF_ERROR(audit_.Flush());
  }
  return report;
}

// --- Legal holds ---------------------------------------------------------------------------

Result<int64_t> Engine::PlaceLegalHold(const LegalHoldRequest& request) {
  if (request.subject_id.empty() && request.category.empty()) {
    return Invalid("a legal hold needs a subject, a category, or both");
  }
  if (request.reason.empty()) return Invalid("a legal hold needs a reason");
  if (!request.category.empty() && !KnownCategory(policy_, request.category)) {
    return Invalid("category '" + request.category + "' is not in the policy");
  }
  // The reason is sealed: under the person's data key for a hold on a person, else under the
  // note key (sealed_notes.cc).
  std::string sealed_reason;
  if (!request.subject_id.empty()) {
    ASSIGN_OR_RETURN(store::SubjectRow subject, ActiveSubject(request.subject_id));
    ASSIGN_OR_RETURN(crypto::SecretKey data_key, DataKey(subject));
    sealed_reason =
        SealNote(data_key, request.reason, KeyContext(request.subject_id) + "/legal_hold");
  } else {
    sealed_reason = SealNote(NoteKey(), request.reason, controller_ + "/legal_hold");
  }
  Timestamp at = At(request.at);
  if (request.expires_at.has_value() && *request.expires_at <= at) {
    return Invalid("a legal hold must expire after it is placed (" + at.ToString() + ")");
  }
  // The id is chosen before the commit so the audit entry can name it; if another writer takes
  // the same id first, the insert fails and the next id is tried.
  Status last_error;
  for (int attempt = 0; attempt < 3; ++attempt) {
    ASSIGN_OR_RETURN(std::vector<store::LegalHoldRow> holds, store_.ListLegalHolds(controller_));
    int64_t hold_id = 1;
    for (const auto& hold : holds) hold_id = std::max(hold_id, hold.hold_id + 1);
    store::LegalHoldRow row;
    row.controller = controller_;
    row.hold_id = hold_id;
    row.subject_id = request.subject_id;
    row.category = request.category;
    row.reason = sealed_reason;
    row.placed_at = at;
    row.expires_at = request.expires_at;
    std::string detail =
        "hold " + std::to_string(hold_id) + " on " +
        (request.category.empty() ? "all data" : request.category) +
        (request.subject_id.empty() ? " of every subject" : "") +
        (request.expires_at ? ", expires " + request.expires_at->ToString() : ", no expiry");
    store::WriteBatch batch;
    batch.Add(std::move(row));
    auto committed = audit_.Commit(
        std::move(batch),
        {Entry(request.actor, "legal_hold_placed", request.subject_id, at, std::move(detail))});
    if (committed.ok()) return hold_id;
    last_error = committed.status();
    if (last_error.code() != ErrorCode::kInvalidArgument) break;
  }
  return last_error;
}

Status Engine::ReleaseLegalHold(int64_t hold_id, std::optional<Timestamp> at_opt,
                                const std::string& actor) {
  ASSIGN_OR_RETURN(std::vector<store::LegalHoldRow> holds, store_.ListLegalHolds(controller_));
  auto it = std::find_if(holds.begin(), holds.end(),
                         [&](const store::LegalHoldRow& hold) { return hold.hold_id == hold_id; });
  if (it == holds.end()) {
    return Status(ErrorCode::kNotFound, "no legal hold " + std::to_string(hold_id));
  }
  if (it->released_at.has_value()) return Status::Ok();  // released already: nothing changes
  Timestamp at = At(at_opt);
  store::WriteBatch batch;
  batch.Add(store::ReleaseLegalHold{controller_, hold_id, at});
  return audit_
      .Commit(std::move(batch), {Entry(actor, "legal_hold_released", it->subject_id, at,
                                       "hold " + std::to_string(hold_id) + " on " +
                                           (it->category.empty() ? "all data" : it->category))})
      .status();
}

Result<std::vector<store::LegalHoldRow>> Engine::ListLegalHolds() {
  ASSIGN_OR_RETURN(std::vector<store::LegalHoldRow> holds, store_.ListLegalHolds(controller_));
  for (auto& hold : holds) {
    if (hold.subject_id.empty()) {
      ASSIGN_OR_RETURN(hold.reason,
                       OpenNote(NoteKey(), hold.reason, controller_ + "/legal_hold"));
      continue;
    }
    // A person's hold is sealed under their data key; once they are erased it is shredded
    // with the rest of their data and lists as "(erased with the person)".
    ASSIGN_OR_RETURN(std::optional<store::SubjectRow> subject,
                     store_.GetSubject(controller_, hold.subject_id));
    auto key = subject.has_value() && subject->state != store::SubjectState::kErased
                   ? DataKey(*subject)
                   : Result<crypto::SecretKey>(Status(ErrorCode::kSubjectErased, "erased"));
    if (!key.ok()) {
      if (hold.reason.rfind("sealed:", 0) == 0) hold.reason = "(erased with the person)";
      continue;
    }
    ASSIGN_OR_RETURN(hold.reason, OpenNote(*key, hold.reason,
                                           KeyContext(hold.subject_id) + "/legal_hold"));
  }
  return holds;
}

Status Engine::CheckNoLegalHold(const std::string& subject_id,
                                const std::vector<std::string>& categories,
                                std::optional<Timestamp> at_opt) {
  ASSIGN_OR_RETURN(std::vector<store::LegalHoldRow> holds, store_.ListLegalHolds(controller_));
  Timestamp at = At(at_opt);
  std::vector<std::string> asked = categories;
  if (asked.empty()) asked.emplace_back();
  for (const auto& category : asked) {
    if (const store::LegalHoldRow* hold = FindLegalHold(holds, subject_id, category, at)) {
      return Status(ErrorCode::kLegalHoldActive,
                    "subject " + subject_id + ": legal hold " + std::to_string(hold->hold_id) +
                        " on " + (hold->category.empty() ? "all data" : hold->category) +
                        " is in force");
    }
  }
  return Status::Ok();
}

// --- DPO review tasks ----------------------------------------------------------------------

Result<std::vector<store::ReviewTaskRow>> Engine::ListReviewTasks(bool open_only) {
  return store_.ListReviewTasks(controller_, open_only);
}

Status Engine::CompleteReviewTask(int64_t task_id, std::optional<Timestamp> at_opt,
                                  const std::string& actor) {
  ASSIGN_OR_RETURN(std::vector<store::ReviewTaskRow> tasks,
                   store_.ListReviewTasks(controller_, /*open_only=*/false));
  auto it = std::find_if(tasks.begin(), tasks.end(),
                         [&](const store::ReviewTaskRow& task) { return task.task_id == task_id; });
  if (it == tasks.end()) {
    return Status(ErrorCode::kNotFound, "no review task " + std::to_string(task_id));
  }
  if (it->done_at.has_value()) return Status::Ok();
  Timestamp at = At(at_opt);
  store::WriteBatch batch;
  batch.Add(store::CompleteReviewTask{controller_, task_id, at});
  return audit_
      .Commit(std::move(batch), {Entry(actor, "review_done", it->subject_id, at,
                                       "task " + std::to_string(task_id) + " rule " + it->rule_id +
                                           ": " + it->category)})
      .status();
}

// --- Anonymised aggregates -----------------------------------------------------------------

Result<AggregateResult> Engine::Aggregate(const std::string& category, std::optional<int> threshold,
                                          const std::string& actor) {
  if (!KnownCategory(policy_, category)) {
    return Invalid("category '" + category + "' is not in the policy");
  }
  int floor = policy_.anonymisation.small_cell_threshold > 0
                  ? policy_.anonymisation.small_cell_threshold
                  : kDefaultSmallCellThreshold;
  if (threshold.has_value() && *threshold < floor) {
    return Invalid("the small-cell threshold is " + std::to_string(floor) +
                   "; --threshold may raise it, not lower it");
  }
  AggregateResult result;
  result.category = category;
  result.threshold = threshold.value_or(floor);

  std::map<std::pair<std::string, std::string>, int64_t> cells;
  ASSIGN_OR_RETURN(std::vector<store::FactCount> facts,
                   store_.CountAnonymisedFacts(controller_, category));
  for (auto& fact : facts) cells[{fact.category, fact.value}] += fact.count;

  // Live values: each person counts once per value. Restricted data (Article 18) and data of
  // erased people are left out.
  const Timestamp now = clock_.Now();
  std::string cursor;
  while (true) {
    ASSIGN_OR_RETURN(std::vector<store::SweepSubject> page,
                     store_.ListSweepPage(controller_, cursor, 512));
    if (page.empty()) break;
    for (const store::SweepSubject& sweep : page) {
      cursor = sweep.subject.subject_id;
      if (sweep.subject.state == store::SubjectState::kErased) continue;
      std::vector<const store::RecordRow*> matching;
      for (const auto& record : sweep.records) {
        if (record.state == store::RecordState::kActive &&
            policy::CategoryCovers(category, record.category)) {
          matching.push_back(&record);
        }
      }
      if (matching.empty()) continue;
      ASSIGN_OR_RETURN(std::vector<store::RestrictionRow> restrictions,
                       store_.ListRestrictions(controller_, sweep.subject.subject_id));
      ASSIGN_OR_RETURN(crypto::SecretKey key, DataKey(sweep.subject));
      std::set<std::pair<std::string, std::string>> seen;
      for (const store::RecordRow* record : matching) {
        bool restricted = std::any_of(
            restrictions.begin(), restrictions.end(), [&](const store::RestrictionRow& r) {
              if (r.at > now || (r.lifted_at && *r.lifted_at <= now)) return false;
              if (r.categories.empty()) return true;
              return std::any_of(r.categories.begin(), r.categories.end(),
                                 [&](const std::string& c) {
                                   return policy::CategoryCovers(c, record->category) ||
                                          policy::CategoryCovers(record->category, c);
                                 });
            });
        if (restricted) continue;
        ASSIGN_OR_RETURN(std::string value, crypto::Open(key, record->sealed_value,
                                                         KeyContext(sweep.subject.subject_id) +
                                                             "/record/" + record->category));
        if (seen.emplace(record->category, value).second) ++cells[{record->category, value}];
      }
    }
    if (page.size() < 512) break;
  }
  for (auto& [key, count] : cells) {
    if (count < result.threshold) {
      ++result.suppressed_cells;
      continue;
    }
    result.cells.push_back({key.first, key.second, count});
  }
  audit_.Record(Entry(actor, "aggregate", "", now,
                      category + " threshold " + std::to_string(result.threshold) + ": " +
                          std::to_string(result.cells.size()) + " cells, " +
                          std::to_string(result.suppressed_cells) + " suppressed"));
  RETURN_IF_ERROR(audit_.Flush());
  return result;
}

}  // namespace custos::engine
