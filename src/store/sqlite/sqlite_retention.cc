// SqliteStore: what retention needs. Sweep pages (subjects after a cursor with their events,
// identifiers, records and review tasks, read in one transaction), retention runs and their
// checkpoints, legal holds, DPO review tasks, and anonymised facts with their counts.
#include <string>
#include <utility>
#include <vector>

#include "store/sqlite/sqlite_internal.h"

namespace custos::store {

using sqlite::Connection;
using sqlite::ReadAll;

namespace {

constexpr char kInsertLegalHold[] =
    "INSERT INTO legal_holds (controller, hold_id, subject_id, category, reason, placed_at,"
    " expires_at, released_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
constexpr char kReleaseLegalHold[] =
    "UPDATE legal_holds SET released_at = COALESCE(released_at, ?)"
    " WHERE controller = ? AND hold_id = ?";
constexpr char kInsertReviewTask[] =
    "INSERT INTO review_tasks (controller, subject_id, task_id, rule_id, category, due_at,"
    " created_at, done_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (controller, subject_id, rule_id, category, due_at) DO NOTHING";
constexpr char kCompleteReviewTask[] =
    "UPDATE review_tasks SET done_at = COALESCE(done_at, ?) WHERE controller = ? AND task_id = ?";
constexpr char kInsertAnonymisedFact[] =
    "INSERT INTO anonymised_facts (controller, fact_id, category, value) VALUES (?, ?, ?, ?)";
constexpr char kInsertRetentionRun[] =
    "INSERT INTO retention_runs (controller, run_id, as_of, started_at, last_subject_id, subjects,"
    " deleted, anonymised, reviews, held, erased, finished_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr char kRetentionCheckpoint[] =
    "UPDATE retention_runs SET last_subject_id = ?, subjects = ?, deleted = ?, anonymised = ?,"
    " reviews = ?, held = ?, erased = ?, finished_at = COALESCE(finished_at, ?)"
    " WHERE controller = ? AND run_id = ?";

// A sweep page: the rows of every subject in (after, last], in subject order.
constexpr char kSweepSubjects[] =
    "SELECT controller, subject_id, types, created_at, wrapped_key, state, erased_at FROM subjects"
    " WHERE controller = ? AND subject_id > ? ORDER BY subject_id LIMIT ?";
constexpr char kSweepEvents[] =
    "SELECT controller, subject_id, event, at FROM events"
    " WHERE controller = ? AND subject_id > ? AND subject_id <= ? ORDER BY subject_id, seq";
constexpr char kSweepIdentifiers[] =
    "SELECT controller, subject_id, kind, blind_index, sealed_value, verified, added_at"
    " FROM identifiers WHERE controller = ? AND subject_id > ? AND subject_id <= ?"
    " ORDER BY subject_id, seq";
constexpr char kSweepRecords[] =
    "SELECT controller, subject_id, record_id, category, sealed_value, source, purpose,"
    " collected_at, state, updated_at FROM records"
    " WHERE controller = ? AND subject_id > ? AND subject_id <= ? ORDER BY subject_id, record_id";
#define CUSTOS_REVIEW_TASK_COLUMNS                                                         \
  "SELECT controller, subject_id, task_id, rule_id, category, due_at, created_at, done_at" \
  " FROM review_tasks"
constexpr char kSweepReviewTasks[] = CUSTOS_REVIEW_TASK_COLUMNS
    " WHERE controller = ? AND subject_id > ? AND subject_id <= ? ORDER BY subject_id, task_id";
constexpr char kSelectReviewTasks[] = CUSTOS_REVIEW_TASK_COLUMNS
    " WHERE controller = ?1 AND (?2 = 0 OR done_at IS NULL) ORDER BY task_id";
#undef CUSTOS_REVIEW_TASK_COLUMNS
constexpr char kSelectLegalHolds[] =
    "SELECT controller, hold_id, subject_id, category, reason, placed_at, expires_at, released_at"
    " FROM legal_holds WHERE controller = ? ORDER BY hold_id";
// `category` and its descendants: the key itself, or keys between "key." and "key/" ('/' follows
// '.' in ASCII), which an index range scan finds.
constexpr char kCountFacts[] =
    "SELECT category, value, COUNT(*) FROM anonymised_facts WHERE controller = ?1"
    " AND (category = ?2 OR (category >= ?2 || '.' AND category < ?2 || '/'))"
    " GROUP BY category, value ORDER BY category, value";
constexpr char kLastRetentionRun[] =
    "SELECT controller, run_id, as_of, started_at, last_subject_id, subjects, deleted, anonymised,"
    " reviews, held, erased, finished_at FROM retention_runs"
    " WHERE controller = ? ORDER BY run_id DESC LIMIT 1";

// Hands each row of `rows` (sorted by subject_id, as `page` is) to the page entry of its subject.
template <typename Row>
void Distribute(std::vector<Row>&& rows, std::vector<SweepSubject>& page,
                std::vector<Row> SweepSubject::*field) {
  size_t at = 0;
  for (Row& row : rows) {
    while (at < page.size() && page[at].subject.subject_id < row.subject_id) ++at;
    if (at == page.size()) break;
    if (page[at].subject.subject_id == row.subject_id) (page[at].*field).push_back(std::move(row));
  }
}

Result<std::vector<SweepSubject>> ReadSweepPage(Connection& db, const std::string& controller,
                                                const std::string& after, size_t max_subjects) {
  std::vector<SweepSubject> page;
  ASSIGN_OR_RETURN(std::vector<SubjectRow> subjects,
                   ReadAll<SubjectRow>(db, kSweepSubjects, controller, after,
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

namespace sqlite {

// --- Row readers ----------------------------------------------------------------------------

Status ReadRow(const Statement& s, LegalHoldRow* row) {
  row->controller = s.Text(0);
  row->hold_id = s.Int(1);
  row->subject_id = s.Text(2);
  row->category = s.Text(3);
  row->reason = s.Text(4);
  row->placed_at = s.Time(5);
  row->expires_at = s.OptionalTime(6);
  row->released_at = s.OptionalTime(7);
  return Status::Ok();
}

Status ReadRow(const Statement& s, ReviewTaskRow* row) {
  row->controller = s.Text(0);
  row->subject_id = s.Text(1);
  row->task_id = s.Int(2);
  row->rule_id = s.Text(3);
  row->category = s.Text(4);
  row->due_at = s.Time(5);
  row->created_at = s.Time(6);
  row->done_at = s.OptionalTime(7);
  return Status::Ok();
}

Status ReadRow(const Statement& s, FactCount* row) {
  row->category = s.Text(0);
  row->value = s.Text(1);
  row->count = s.Int(2);
  return Status::Ok();
}

Status ReadRow(const Statement& s, RetentionRunRow* row) {
  row->controller = s.Text(0);
  row->run_id = s.Int(1);
  row->as_of = s.Time(2);
  row->started_at = s.Time(3);
  row->last_subject_id = s.Text(4);
  row->counts.subjects = s.Int(5);
  row->counts.deleted = s.Int(6);
  row->counts.anonymised = s.Int(7);
  row->counts.reviews = s.Int(8);
  row->counts.held = s.Int(9);
  row->counts.erased = s.Int(10);
  row->finished_at = s.OptionalTime(11);
  return Status::Ok();
}

// --- Writing --------------------------------------------------------------------------------

Status BatchWriter::operator()(const LegalHoldRow& row) {
  ASSIGN_OR_RETURN(int64_t id, ids_.Take(Sequence::kLegalHolds, row.hold_id));
  RETURN_IF_ERROR(Insert(kInsertLegalHold, row.controller, id, row.subject_id, row.category,
                         row.reason, row.placed_at, row.expires_at, row.released_at));
  applied_->hold_ids.push_back(id);
  return Status::Ok();
}

Status BatchWriter::operator()(const ReleaseLegalHold& op) {
  ASSIGN_OR_RETURN(int64_t changed, Update(kReleaseLegalHold, op.at, op.controller, op.hold_id));
  if (changed == 0) return Invalid("legal_holds: no hold " + std::to_string(op.hold_id));
  return Status::Ok();
}

Status BatchWriter::operator()(const ReviewTaskRow& row) {
  ASSIGN_OR_RETURN(int64_t id, ids_.Take(Sequence::kReviewTasks, row.task_id));
  return Insert(kInsertReviewTask, row.controller, row.subject_id, id, row.rule_id, row.category,
                row.due_at, row.created_at, row.done_at);
}

Status BatchWriter::operator()(const CompleteReviewTask& op) {
  ASSIGN_OR_RETURN(int64_t changed, Update(kCompleteReviewTask, op.at, op.controller, op.task_id));
  if (changed == 0) return Invalid("review_tasks: no task " + std::to_string(op.task_id));
  return Status::Ok();
}

Status BatchWriter::operator()(const AnonymisedFactRow& row) {
  if (row.fact_id <= 0) return Invalid("anonymised_facts: the fact id must be set (> 0)");
  return Insert(kInsertAnonymisedFact, row.controller, row.fact_id, row.category, row.value);
}

Status BatchWriter::operator()(const RetentionRunRow& row) {
  ASSIGN_OR_RETURN(int64_t id, ids_.Take(Sequence::kRetentionRuns, row.run_id));
  const RetentionCounts& c = row.counts;
  RETURN_IF_ERROR(Insert(kInsertRetentionRun, row.controller, id, row.as_of, row.started_at,
                         row.last_subject_id, c.subjects, c.deleted, c.anonymised, c.reviews,
                         c.held, c.erased, row.finished_at));
  applied_->run_ids.push_back(id);
  return Status::Ok();
}

Status BatchWriter::operator()(const RetentionCheckpoint& op) {
  const RetentionCounts& c = op.counts;
  ASSIGN_OR_RETURN(int64_t changed, Update(kRetentionCheckpoint, op.last_subject_id, c.subjects,
                                           c.deleted, c.anonymised, c.reviews, c.held, c.erased,
                                           op.finished_at, op.controller, op.run_id));
  if (changed == 0) return Invalid("retention_runs: no run " + std::to_string(op.run_id));
  return Status::Ok();
}

}  // namespace sqlite

// --- Reads ----------------------------------------------------------------------------------

Result<std::vector<LegalHoldRow>> SqliteStore::ListLegalHolds(const std::string& controller) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<LegalHoldRow>(*reader, kSelectLegalHolds, controller);
}

Result<std::vector<ReviewTaskRow>> SqliteStore::ListReviewTasks(const std::string& controller,
                                                                bool open_only) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<ReviewTaskRow>(*reader, kSelectReviewTasks, controller, open_only);
}

Result<std::vector<SweepSubject>> SqliteStore::ListSweepPage(const std::string& controller,
                                                             const std::string& after_subject_id,
                                                             size_t max_subjects) {
  if (max_subjects == 0) return std::vector<SweepSubject>();
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  // One read transaction, so the five queries see the same committed state.
  RETURN_IF_ERROR(reader->Exec("BEGIN"));
  Result<std::vector<SweepSubject>> page =
      ReadSweepPage(*reader, controller, after_subject_id, max_subjects);
  if (reader->InTransaction()) (void)reader->Exec("COMMIT");
  return page;
}

Result<std::vector<FactCount>> SqliteStore::CountAnonymisedFacts(const std::string& controller,
                                                                 const std::string& category) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<FactCount>(*reader, kCountFacts, controller, category);
}

Result<std::optional<RetentionRunRow>> SqliteStore::LastRetentionRun(
    const std::string& controller) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  ASSIGN_OR_RETURN(std::vector<RetentionRunRow> rows,
                   ReadAll<RetentionRunRow>(*reader, kLastRetentionRun, controller));
  if (rows.empty()) return std::optional<RetentionRunRow>();
  return std::optional<RetentionRunRow>(std::move(rows.front()));
}

}  // namespace custos::store
