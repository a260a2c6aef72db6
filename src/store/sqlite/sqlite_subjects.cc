// SqliteStore: the people and what is held about them. Subjects (their types, wrapped data key
// and erasure), lifecycle events, identifiers (blind index and sealed value), records (sealed
// values and their states), and the suppression list of keyed hashes that outlives an erased
// person; ExpectState checks a subject's and a record's state inside the write transaction.
#include <string>
#include <vector>

#include "store/column_text.h"
#include "store/sqlite/sqlite_internal.h"

namespace custos::store {

using sqlite::ReadAll;
using sqlite::Statement;

namespace {

constexpr char kInsertSubject[] =
    "INSERT INTO subjects (controller, subject_id, types, created_at, wrapped_key, state,"
    " erased_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
constexpr char kInsertEvent[] =
    "INSERT INTO events (controller, subject_id, seq, event, at) VALUES (?, ?, ?, ?, ?)";
constexpr char kInsertIdentifier[] =
    "INSERT INTO identifiers (controller, subject_id, seq, kind, blind_index, sealed_value,"
    " verified, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
constexpr char kInsertRecord[] =
    "INSERT INTO records (controller, subject_id, record_id, category, sealed_value, source,"
    " purpose, collected_at, state, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr char kInsertSuppression[] =
    "INSERT INTO suppressions (controller, hash, kind, reason, at) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (controller, hash) DO NOTHING";
constexpr char kSetRecordState[] =
    "UPDATE records SET state = ?, sealed_value = COALESCE(?, sealed_value), updated_at = ?"
    " WHERE controller = ? AND subject_id = ? AND record_id = ?";
constexpr char kDeleteRecordVersions[] =
    "DELETE FROM record_versions WHERE controller = ? AND subject_id = ? AND record_id = ?";
constexpr char kEraseSubject[] =
    "UPDATE subjects SET wrapped_key = x'', state = 'erased', erased_at = COALESCE(erased_at, ?)"
    " WHERE controller = ? AND subject_id = ?";
constexpr char kDeleteIdentifiers[] =
    "DELETE FROM identifiers WHERE controller = ?1 AND subject_id = ?2 AND (?3 = '' OR kind = ?3)"
    " AND (length(?4) = 0 OR blind_index = ?4)";
constexpr char kExpectSubject[] =
    "SELECT state FROM subjects WHERE controller = ? AND subject_id = ?";
constexpr char kExpectRecord[] =
    "SELECT state FROM records WHERE controller = ? AND subject_id = ? AND record_id = ?";

#define CUSTOS_SUBJECT_COLUMNS \
  "SELECT controller, subject_id, types, created_at, wrapped_key, state, erased_at FROM subjects"
constexpr char kSelectSubject[] = CUSTOS_SUBJECT_COLUMNS " WHERE controller = ? AND subject_id = ?";
constexpr char kScanSubjects[] = CUSTOS_SUBJECT_COLUMNS " WHERE controller = ? ORDER BY subject_id";
#undef CUSTOS_SUBJECT_COLUMNS
constexpr char kCountSubjects[] = "SELECT COUNT(*) FROM subjects WHERE controller = ?";
constexpr char kSelectEvents[] =
    "SELECT controller, subject_id, event, at FROM events"
    " WHERE controller = ? AND subject_id = ? ORDER BY seq";
constexpr char kSelectIdentifiers[] =
    "SELECT controller, subject_id, kind, blind_index, sealed_value, verified, added_at"
    " FROM identifiers WHERE controller = ? AND subject_id = ? ORDER BY seq";
constexpr char kSelectRecords[] =
    "SELECT controller, subject_id, record_id, category, sealed_value, source, purpose,"
    " collected_at, state, updated_at FROM records"
    " WHERE controller = ? AND subject_id = ? ORDER BY record_id";
constexpr char kFindSubjects[] =
    "SELECT subject_id FROM identifiers WHERE controller = ? AND kind = ? AND blind_index = ?"
    " GROUP BY subject_id ORDER BY MIN(seq)";
constexpr char kIsSuppressed[] = "SELECT 1 FROM suppressions WHERE controller = ? AND hash = ?";

}  // namespace

namespace sqlite {

// --- Row readers ----------------------------------------------------------------------------

Status ReadRow(const Statement& s, SubjectRow* row) {
  row->controller = s.Text(0);
  row->subject_id = s.Text(1);
  row->types = SplitKeys(s.Text(2));
  row->created_at = s.Time(3);
  row->wrapped_key = s.Blob(4);
  row->erased_at = s.OptionalTime(6);
  std::optional<SubjectState> state = SubjectStateFromName(s.Text(5));
  if (!state) return Corrupt("subjects.state");
  row->state = *state;
  return Status::Ok();
}

Status ReadRow(const Statement& s, EventRow* row) {
  row->controller = s.Text(0);
  row->subject_id = s.Text(1);
  row->event = s.Text(2);
  row->at = s.Time(3);
  return Status::Ok();
}

Status ReadRow(const Statement& s, IdentifierRow* row) {
  row->controller = s.Text(0);
  row->subject_id = s.Text(1);
  row->kind = s.Text(2);
  row->blind_index = s.Blob(3);
  row->sealed_value = s.Blob(4);
  row->verified = s.Int(5) != 0;
  row->added_at = s.Time(6);
  return Status::Ok();
}

Status ReadRow(const Statement& s, RecordRow* row) {
  row->controller = s.Text(0);
  row->subject_id = s.Text(1);
  row->record_id = s.Int(2);
  row->category = s.Text(3);
  row->sealed_value = s.Blob(4);
  row->source = s.Text(5);
  row->purpose = s.Text(6);
  row->collected_at = s.Time(7);
  row->updated_at = s.Time(9);
  std::optional<RecordState> state = RecordStateFromName(s.Text(8));
  if (!state) return Corrupt("records.state");
  row->state = *state;
  return Status::Ok();
}

// --- Writing --------------------------------------------------------------------------------

Status BatchWriter::operator()(const SubjectRow& row) {
  std::string types;
  RETURN_IF_ERROR(JoinKeys(row.types, "subjects.types", &types));
  return Insert(kInsertSubject, row.controller, row.subject_id, types, row.created_at,
                row.wrapped_key, SubjectStateName(row.state), row.erased_at);
}

Status BatchWriter::operator()(const EventRow& row) {
  ASSIGN_OR_RETURN(int64_t seq, ids_.Next(Sequence::kEvents));
  return Insert(kInsertEvent, row.controller, row.subject_id, seq, row.event, row.at);
}

Status BatchWriter::operator()(const IdentifierRow& row) {
  ASSIGN_OR_RETURN(int64_t seq, ids_.Next(Sequence::kIdentifiers));
  return Insert(kInsertIdentifier, row.controller, row.subject_id, seq, row.kind, row.blind_index,
                row.sealed_value, row.verified, row.added_at);
}

Status BatchWriter::operator()(const RecordRow& row) {
  ASSIGN_OR_RETURN(int64_t id, ids_.Take(Sequence::kRecords, row.record_id));
  RETURN_IF_ERROR(Insert(kInsertRecord, row.controller, row.subject_id, id, row.category,
                         row.sealed_value, row.source, row.purpose, row.collected_at,
                         RecordStateName(row.state), row.updated_at));
  applied_->record_ids.push_back(id);
  return Status::Ok();
}

Status BatchWriter::operator()(const SuppressionRow& row) {
  return Insert(kInsertSuppression, row.controller, row.hash, row.kind, row.reason, row.at);
}

Status BatchWriter::operator()(const SetRecordState& op) {
  ASSIGN_OR_RETURN(int64_t changed,
                   Update(kSetRecordState, RecordStateName(op.state), op.sealed_value, op.at,
                          op.controller, op.subject_id, op.record_id));
  if (changed == 0) {
    return Invalid("records: no record " + std::to_string(op.record_id) + " of subject " +
                   op.subject_id);
  }
  if (op.state == RecordState::kErased || op.state == RecordState::kAnonymised) {
    RETURN_IF_ERROR(
        Update(kDeleteRecordVersions, op.controller, op.subject_id, op.record_id).status());
  }
  return Status::Ok();
}

Status BatchWriter::operator()(const EraseSubject& op) {
  ASSIGN_OR_RETURN(int64_t changed, Update(kEraseSubject, op.at, op.controller, op.subject_id));
  if (changed == 0) return Invalid("subjects: no subject " + op.subject_id);
  return Status::Ok();
}

Status BatchWriter::operator()(const DeleteIdentifiers& op) {
  return Update(kDeleteIdentifiers, op.controller, op.subject_id, op.kind, op.blind_index).status();
}

Status BatchWriter::operator()(const ExpectState& op) {
  {
    ASSIGN_OR_RETURN(Statement select, db_.Prepare(kExpectSubject));
    select.BindAll(op.controller, op.subject_id);
    ASSIGN_OR_RETURN(bool found, select.Step());
    if (!found || select.Text(0) != SubjectStateName(SubjectState::kActive)) {
      return Invalid("subjects: subject " + op.subject_id + " is absent or erased");
    }
  }
  if (op.record_id == 0) return Status::Ok();
  ASSIGN_OR_RETURN(Statement select, db_.Prepare(kExpectRecord));
  select.BindAll(op.controller, op.subject_id, op.record_id);
  ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found || select.Text(0) != RecordStateName(op.record_state)) {
    return Invalid("records: record " + std::to_string(op.record_id) + " of subject " +
                   op.subject_id + " is not " + std::string(RecordStateName(op.record_state)) +
                   " any more");
  }
  return Status::Ok();
}

}  // namespace sqlite

// --- Reads ----------------------------------------------------------------------------------

Result<std::optional<SubjectRow>> SqliteStore::GetSubject(const std::string& controller,
                                                          const std::string& subject_id) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  ASSIGN_OR_RETURN(std::vector<SubjectRow> rows,
                   ReadAll<SubjectRow>(*reader, kSelectSubject, controller, subject_id));
  if (rows.empty()) return std::optional<SubjectRow>();
  return std::optional<SubjectRow>(std::move(rows.front()));
}

Status SqliteStore::ScanSubjects(const std::string& controller,
                                 const std::function<bool(const SubjectRow&)>& visit) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  ASSIGN_OR_RETURN(Statement select, reader->Prepare(kScanSubjects));
  select.Bind(controller);
  while (true) {
    ASSIGN_OR_RETURN(bool more, select.Step());
    if (!more) return Status::Ok();
    SubjectRow row;
    RETURN_IF_ERROR(ReadRow(select, &row));
    if (!visit(row)) return Status::Ok();
  }
}

Result<int64_t> SqliteStore::CountSubjects(const std::string& controller) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  ASSIGN_OR_RETURN(Statement count, reader->Prepare(kCountSubjects));
  count.Bind(controller);
  ASSIGN_OR_RETURN(bool row, count.Step());
  return row ? count.Int(0) : 0;
}

Result<std::vector<EventRow>> SqliteStore::ListEvents(const std::string& controller,
                                                      const std::string& subject_id) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<EventRow>(*reader, kSelectEvents, controller, subject_id);
}

Result<std::vector<IdentifierRow>> SqliteStore::ListIdentifiers(const std::string& controller,
                                                                const std::string& subject_id) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<IdentifierRow>(*reader, kSelectIdentifiers, controller, subject_id);
}

Result<std::vector<RecordRow>> SqliteStore::ListRecords(const std::string& controller,
                                                        const std::string& subject_id) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<RecordRow>(*reader, kSelectRecords, controller, subject_id);
}

Result<std::vector<std::string>> SqliteStore::FindSubjectsByIdentifier(
    const std::string& controller, const std::string& kind, const Bytes& blind_index) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  ASSIGN_OR_RETURN(Statement select, reader->Prepare(kFindSubjects));
  select.BindAll(controller, kind, blind_index);
  std::vector<std::string> subject_ids;
  while (true) {
    ASSIGN_OR_RETURN(bool more, select.Step());
    if (!more) return subject_ids;
    subject_ids.push_back(select.Text(0));
  }
}

Result<bool> SqliteStore::IsSuppressed(const std::string& controller, const Bytes& hash) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  ASSIGN_OR_RETURN(Statement select, reader->Prepare(kIsSuppressed));
  select.BindAll(controller, hash);
  return select.Step();
}

}  // namespace custos::store
