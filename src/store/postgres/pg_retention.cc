// PostgresStore: what retention needs. Sweep pages (subjects after a cursor with their events,
// identifiers, records and review tasks, read in one REPEATABLE READ snapshot), retention runs
// and their checkpoints, legal holds, DPO review tasks, and anonymised facts with their counts.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/postgres/pg_internal.h"

namespace custos::store {

using pg::Connection;
using pg::First;
using pg::kSubjectsAfter;
using pg::ReadAll;

namespace {

constexpr char kInsertLegalHold[] =
    "INSERT INTO legal_holds (controller, hold_id, subject_id, category, reason, placed_at,"
    " expires_at, released_at)"
    " VALUES ($1, COALESCE($2, nextval('legal_holds_seq')), $3, $4, $5, $6, $7, $8)"
    " RETURNING hold_id";
constexpr char kReleaseLegalHold[] =
    "UPDATE legal_holds SET released_at = COALESCE(released_at, $1)"
    " WHERE controller = $2 AND hold_id = $3";
constexpr char kInsertReviewTask[] =
    "INSERT INTO review_tasks (controller, subject_id, task_id, rule_id, category, due_at,"
    " created_at, done_at)"
    " VALUES ($1, $2, COALESCE($3, nextval('review_tasks_seq')), $4, $5, $6, $7, $8)"
    " ON CONFLICT (controller, subject_id, rule_id, category, due_at) DO NOTHING";
constexpr char kCompleteReviewTask[] =
    "UPDATE review_tasks SET done_at = COALESCE(done_at, $1) WHERE controller = $2"
    " AND task_id = $3";
constexpr char kInsertAnonymisedFact[] =
    "INSERT INTO anonymised_facts (controller, fact_id, category, value) VALUES ($1, $2, $3, $4)";
constexpr char kInsertRetentionRun[] =
    "INSERT INTO retention_runs (controller, run_id, as_of, started_at, last_subject_id,"
    " subjects, deleted, anonymised, reviews, held, erased, finished_at)"
    " VALUES ($1, COALESCE($2, nextval('retention_runs_seq')), $3, $4, $5, $6, $7, $8, $9, $10,"
    " $11, $12) RETURNING run_id";
constexpr char kRetentionCheckpoint[] =
    "UPDATE retention_runs SET last_subject_id = $1, subjects = $2, deleted = $3,"
    " anonymised = $4, reviews = $5, held = $6, erased = $7,"
    " finished_at = COALESCE(finished_at, $8) WHERE controller = $9 AND run_id = $10";

constexpr char kSweepEvents[] =
    "SELECT controller, subject_id, event, at FROM events"
    " WHERE controller = $1 AND subject_id > $2 AND subject_id <= $3 ORDER BY subject_id, seq";
constexpr char kSweepIdentifiers[] =
    "SELECT controller, subject_id, kind, blind_index, sealed_value, verified, added_at"
    " FROM identifiers WHERE controller = $1 AND subject_id > $2 AND subject_id <= $3"
    " ORDER BY subject_id, seq";
constexpr char kSweepRecords[] =
    "SELECT controller, subject_id, record_id, category, sealed_value, source, purpose,"
    " collected_at, state, updated_at FROM records"
    " WHERE controller = $1 AND subject_id > $2 AND subject_id <= $3"
    " ORDER BY subject_id, record_id";
#define CUSTOS_REVIEW_TASK_COLUMNS                                                         \
  "SELECT controller, subject_id, task_id, rule_id, category, due_at, created_at, done_at" \
  " FROM review_tasks"
constexpr char kSweepReviewTasks[] = CUSTOS_REVIEW_TASK_COLUMNS
    " WHERE controller = $1 AND subject_id > $2 AND subject_id <= $3"
    " ORDER BY subject_id, task_id";
constexpr char kSelectReviewTasks[] = CUSTOS_REVIEW_TASK_COLUMNS
    " WHERE controller = $1 AND (NOT $2 OR done_at IS NULL) ORDER BY task_id";
#undef CUSTOS_REVIEW_TASK_COLUMNS
constexpr char kSelectLegalHolds[] =
    "SELECT controller, hold_id, subject_id, category, reason, placed_at, expires_at,"
    " released_at FROM legal_holds WHERE controller = $1 ORDER BY hold_id";
// `category` and its descendants, whatever the database's collation.
constexpr char kCountFacts[] =
    "SELECT category, value, COUNT(*) FROM anonymised_facts WHERE controller = $1"
    " AND (category = $2 OR starts_with(category, $2 || '.'))"
    " GROUP BY category, value ORDER BY category COLLATE \"C\", value COLLATE \"C\"";
constexpr char kLastRetentionRun[] =
    "SELECT controller, run_id, as_of, started_at, last_subject_id, subjects, deleted,"
    " anonymised, reviews, held, erased, finished_at FROM retention_runs"
    " WHERE controller = $1 ORDER BY run_id DESC LIMIT 1";

// Hands each row of `rows` (sorted by subject_id, as `page` is) to the page entry of its subject.
template <typename Row>
void Distribute(std::vector<Row>&& rows, std::vector<SweepSubject>& page,
                std::vector<Row> SweepSubject::*field) {
  size_t at = 0;
  for (Row& row : rows) {
    while (at < page.size() && page[at].subject.subject_id != row.subject_id) ++at;
    if (at == page.size()) break;
    (page[at].*field).push_back(std::move(row));
  }
}

Result<std::vector<SweepSubject>> ReadSweepPage(Connection& db, const std::string& controller,
                                                const std::string& after, size_t max_subjects) {
  std::vector<SweepSubject> page;
  ASSIGN_OR_RETURN(std::vector<SubjectRow> subjects,
                   ReadAll<SubjectRow>(db, kSubjectsAfter, controller, after,
                                       static_cast<int64_t>(max_subjects)));
  if (subjects.empty()) return page;
  const std::string last = subjects.back().subject_id;
  page.reserve(subjects.size());
  for (SubjectRow& subject : subjects) {
    page.push_back(SweepSubject{std::move(subject), {}, {}, {}, {}});
  }
  ASSIGN_OR_RETURN(std::vector<EventRow> events,
                   ReadAll<EventRow>(db, kSweepEvents, controller, after, last));
  Distribute(std::move(events), page, &SweepSubject::events);
  ASSIGN_OR_RETURN(std::vector<IdentifierRow> identifiers,
                   ReadAll<IdentifierRow>(db, kSweepIdentifiers, controller, after, last));
  Distribute(std::move(identifiers), page, &SweepSubject::identifiers);
  ASSIGN_OR_RETURN(std::vector<RecordRow> records,
                   ReadAll<RecordRow>(db, kSweepRecords, controller, after, last));
  Distribute(std::move(records), page, &SweepSubject::records);
  ASSIGN_OR_RETURN(std::vector<ReviewTaskRow> tasks,
                   ReadAll<ReviewTaskRow>(db, kSweepReviewTasks, controller, after, last));
  Distribute(std::move(tasks), page, &SweepSubject::review_tasks);
  return page;
}

}  // namespace

namespace pg {

// --- Row readers ----------------------------------------------------------------------------

Status ReadRow(const Rows& s, int i, LegalHoldRow* row) {
  row->controller = s.Text(i, 0);
  row->hold_id = s.Int(i, 1);
  row->subject_id = s.Text(i, 2);
  row->category = s.Text(i, 3);
  row->reason = s.Text(i, 4);
  row->placed_at = s.Time(i, 5);
  row->expires_at = s.OptionalTime(i, 6);
  row->released_at = s.OptionalTime(i, 7);
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, ReviewTaskRow* row) {
  row->controller = s.Text(i, 0);
  row->subject_id = s.Text(i, 1);
  row->task_id = s.Int(i, 2);
  row->rule_id = s.Text(i, 3);
  row->category = s.Text(i, 4);
  row->due_at = s.Time(i, 5);
  row->created_at = s.Time(i, 6);
  row->done_at = s.OptionalTime(i, 7);
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, FactCount* row) {
  row->category = s.Text(i, 0);
  row->value = s.Text(i, 1);
  row->count = s.Int(i, 2);
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, RetentionRunRow* row) {
  row->controller = s.Text(i, 0);
  row->run_id = s.Int(i, 1);
  row->as_of = s.Time(i, 2);
  row->started_at = s.Time(i, 3);
  row->last_subject_id = s.Text(i, 4);
  row->counts.subjects = s.Int(i, 5);
  row->counts.deleted = s.Int(i, 6);
  row->counts.anonymised = s.Int(i, 7);
  row->counts.reviews = s.Int(i, 8);
  row->counts.held = s.Int(i, 9);
  row->counts.erased = s.Int(i, 10);
  row->finished_at = s.OptionalTime(i, 11);
  return Status::Ok();
}

// --- Writing --------------------------------------------------------------------------------

Status BatchWriter::operator()(const LegalHoldRow& row) {
  ASSIGN_OR_RETURN(std::optional<int64_t> id, GivenId(db_, "legal_holds_seq", row.hold_id));
  ASSIGN_OR_RETURN(int64_t assigned,
                   Returning(kInsertLegalHold, row.controller, id, row.subject_id, row.category,
                             row.reason, row.placed_at, row.expires_at, row.released_at));
  applied_->hold_ids.push_back(assigned);
  return Status::Ok();
}

Status BatchWriter::operator()(const ReleaseLegalHold& op) {
  ASSIGN_OR_RETURN(int64_t changed, Changed(kReleaseLegalHold, op.at, op.controller, op.hold_id));
  if (changed == 0) return Invalid("legal_holds: no hold " + std::to_string(op.hold_id));
  return Status::Ok();
}

Status BatchWriter::operator()(const ReviewTaskRow& row) {
  ASSIGN_OR_RETURN(std::optional<int64_t> id, GivenId(db_, "review_tasks_seq", row.task_id));
  return Run(kInsertReviewTask, row.controller, row.subject_id, id, row.rule_id, row.category,
             row.due_at, row.created_at, row.done_at);
}

Status BatchWriter::operator()(const CompleteReviewTask& op) {
  ASSIGN_OR_RETURN(int64_t changed, Changed(kCompleteReviewTask, op.at, op.controller, op.task_id));
  if (changed == 0) return Invalid("review_tasks: no task " + std::to_string(op.task_id));
  return Status::Ok();
}

Status BatchWriter::operator()(const AnonymisedFactRow& row) {
  if (row.fact_id <= 0) return Invalid("anonymised_facts: the fact id must be set (> 0)");
  return Run(kInsertAnonymisedFact, row.controller, row.fact_id, row.category, row.value);
}

Status BatchWriter::operator()(const RetentionRunRow& row) {
  ASSIGN_OR_RETURN(std::optional<int64_t> id, GivenId(db_, "retention_runs_seq", row.run_id));
  const RetentionCounts& c = row.counts;
  ASSIGN_OR_RETURN(int64_t assigned,
                   Returning(kInsertRetentionRun, row.controller, id, row.as_of, row.started_at,
                             row.last_subject_id, c.subjects, c.deleted, c.anonymised, c.reviews,
                             c.held, c.erased, row.finished_at));
  applied_->run_ids.push_back(assigned);
  return Status::Ok();
}

Status BatchWriter::operator()(const RetentionCheckpoint& op) {
  const RetentionCounts& c = op.counts;
  ASSIGN_OR_RETURN(int64_t changed, Changed(kRetentionCheckpoint, op.last_subject_id, c.subjects,
                                            c.deleted, c.anonymised, c.reviews, c.held, c.erased,
                                            op.finished_at, op.controller, op.run_id));
  if (changed == 0) return Invalid("retention_runs: no run " + std::to_string(op.run_id));
  return Status::Ok();
}

}  // namespace pg

// --- Reads ----------------------------------------------------------------------------------

Result<std::vector<LegalHoldRow>> PostgresStore::ListLegalHolds(const std::string& controller) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<LegalHoldRow>(*db, kSelectLegalHolds, controller);
}

Result<std::vector<ReviewTaskRow>> PostgresStore::ListReviewTasks(const std::string& controller,
                                                                  bool open_only) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<ReviewTaskRow>(*db, kSelectReviewTasks, controller, open_only);
}

Result<std::vector<SweepSubject>> PostgresStore::ListSweepPage(const std::string& controller,
                                                               const std::string& after_subject_id,
                                                               size_t max_subjects) {
  if (max_subjects == 0) return std::vector<SweepSubject>();
  ASSIGN_OR_RETURN(Lease db, Acquire());
  // One snapshot for the five queries.
  RETURN_IF_ERROR(db->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  Result<std::vector<SweepSubject>> page =
      ReadSweepPage(*db, controller, after_subject_id, max_subjects);
  if (!db->broken()) (void)db->Exec(page.ok() ? "COMMIT" : "ROLLBACK");
  return page;
}

Result<std::vector<FactCount>> PostgresStore::CountAnonymisedFacts(const std::string& controller,
                                                                   const std::string& category) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<FactCount>(*db, kCountFacts, controller, category);
}

Result<std::optional<RetentionRunRow>> PostgresStore::LastRetentionRun(
    const std::string& controller) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return First(ReadAll<RetentionRunRow>(*db, kLastRetentionRun, controller));
}

}  // namespace custos::store
