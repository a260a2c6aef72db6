// PostgresStore: the people and what is held about them. Subjects (their types, wrapped data
// key and erasure), lifecycle events, identifiers (blind index and sealed value), records
// (sealed values and their states), and the suppression list of keyed hashes that outlives an
// erased person; ExpectState checks a subject's and a record's state under their row locks.
#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include "store/column_text.h"
#include "store/postgres/pg_internal.h"

namespace custos::store {

using pg::First;
using pg::kScanPage;
using pg::kSubjectsAfter;
using pg::Params;
using pg::ReadAll;
using pg::Rows;

namespace {

constexpr char kInsertSubject[] =
    "INSERT INTO subjects (controller, subject_id, types, created_at, wrapped_key, state,"
    " erased_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
constexpr char kInsertEvent[] =
    "INSERT INTO events (controller, subject_id, event, at) VALUES ($1, $2, $3, $4)";
constexpr char kInsertIdentifier[] =
    "INSERT INTO identifiers (controller, subject_id, kind, blind_index, sealed_value,"
    " verified, added_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
constexpr char kInsertRecord[] =
    "INSERT INTO records (controller, subject_id, record_id, category, sealed_value, source,"
    " purpose, collected_at, state, updated_at)"
    " VALUES ($1, $2, COALESCE($3, nextval('records_seq')), $4, $5, $6, $7, $8, $9, $10)"
    " RETURNING record_id";
constexpr char kInsertSuppression[] =
    "INSERT INTO suppressions (controller, hash, kind, reason, at) VALUES ($1, $2, $3, $4, $5)"
    " ON CONFLICT (controller, hash) DO NOTHING";
constexpr char kSetRecordState[] =
    "UPDATE records SET state = $1, sealed_value = COALESCE($2, sealed_value), updated_at = $3"
    " WHERE controller = $4 AND subject_id = $5 AND record_id = $6";
constexpr char kDeleteRecordVersions[] =
    "DELETE FROM record_versions WHERE controller = $1 AND subject_id = $2 AND record_id = $3";
constexpr char kEraseSubject[] =
    "UPDATE subjects SET wrapped_key = ''::bytea, state = 'erased',"
    " erased_at = COALESCE(erased_at, $1) WHERE controller = $2 AND subject_id = $3";
constexpr char kDeleteIdentifiers[] =
    "DELETE FROM identifiers WHERE controller = $1 AND subject_id = $2 AND ($3 = '' OR kind = $3)"
    " AND (length($4) = 0 OR blind_index = $4)";
// Row locks: the precondition holds until this transaction ends (see the header).
constexpr char kExpectSubject[] =
    "SELECT state FROM subjects WHERE controller = $1 AND subject_id = $2 FOR UPDATE";
constexpr char kExpectRecord[] =
    "SELECT state FROM records WHERE controller = $1 AND subject_id = $2 AND record_id = $3"
    " FOR UPDATE";

#define CUSTOS_SUBJECT_COLUMNS \
  "SELECT controller, subject_id, types, created_at, wrapped_key, state, erased_at FROM subjects"
constexpr char kSelectSubject[] =
    CUSTOS_SUBJECT_COLUMNS " WHERE controller = $1 AND subject_id = $2";
#undef CUSTOS_SUBJECT_COLUMNS
constexpr char kCountSubjects[] = "SELECT COUNT(*) FROM subjects WHERE controller = $1";
constexpr char kSelectEvents[] =
    "SELECT controller, subject_id, event, at FROM events"
    " WHERE controller = $1 AND subject_id = $2 ORDER BY seq";
constexpr char kSelectIdentifiers[] =
    "SELECT controller, subject_id, kind, blind_index, sealed_value, verified, added_at"
    " FROM identifiers WHERE controller = $1 AND subject_id = $2 ORDER BY seq";
constexpr char kSelectRecords[] =
    "SELECT controller, subject_id, record_id, category, sealed_value, source, purpose,"
    " collected_at, state, updated_at FROM records"
    " WHERE controller = $1 AND subject_id = $2 ORDER BY record_id";
constexpr char kFindSubjects[] =
    "SELECT subject_id FROM identifiers WHERE controller = $1 AND kind = $2 AND blind_index = $3"
    " GROUP BY subject_id ORDER BY MIN(seq)";
constexpr char kIsSuppressed[] =
    "SELECT true FROM suppressions WHERE controller = $1 AND hash = $2";
// One primary-key probe per id, whatever the table's statistics say: during a bulk import the
// table grows faster than ANALYZE runs, and `subject_id = ANY($2)` was then planned as a
// sequential scan (a second a batch at 5,000 people).
constexpr char kSubjectStates[] =
    "SELECT u.id, s.state FROM unnest($2::text[]) AS u(id) CROSS JOIN LATERAL"
    " (SELECT state FROM subjects WHERE controller = $1 AND subject_id = u.id) s";
constexpr char kSuppressedAmong[] =
    "SELECT u.hash FROM unnest($2::bytea[]) AS u(hash) WHERE EXISTS"
    " (SELECT 1 FROM suppressions s WHERE s.controller = $1 AND s.hash = u.hash)";

// A PostgreSQL array literal of `values`, each quoted ('"' and '\\' escaped).
std::string ArrayLiteral(const std::vector<std::string>& values) {
  std::string out = "{";
  for (const auto& value : values) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : value) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace

namespace pg {

// --- Row readers ----------------------------------------------------------------------------

Status ReadRow(const Rows& s, int i, SubjectRow* row) {
  row->controller = s.Text(i, 0);
  row->subject_id = s.Text(i, 1);
  row->types = SplitKeys(s.Text(i, 2));
  row->created_at = s.Time(i, 3);
  row->wrapped_key = s.Blob(i, 4);
  row->erased_at = s.OptionalTime(i, 6);
  std::optional<SubjectState> state = SubjectStateFromName(s.Text(i, 5));
  if (!state) return Corrupt("subjects.state");
  row->state = *state;
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, EventRow* row) {
  row->controller = s.Text(i, 0);
  row->subject_id = s.Text(i, 1);
  row->event = s.Text(i, 2);
  row->at = s.Time(i, 3);
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, IdentifierRow* row) {
  row->controller = s.Text(i, 0);
  row->subject_id = s.Text(i, 1);
  row->kind = s.Text(i, 2);
  row->blind_index = s.Blob(i, 3);
  row->sealed_value = s.Blob(i, 4);
  row->verified = s.Bool(i, 5);
  row->added_at = s.Time(i, 6);
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, RecordRow* row) {
  row->controller = s.Text(i, 0);
  row->subject_id = s.Text(i, 1);
  row->record_id = s.Int(i, 2);
  row->category = s.Text(i, 3);
  row->sealed_value = s.Blob(i, 4);
  row->source = s.Text(i, 5);
  row->purpose = s.Text(i, 6);
  row->collected_at = s.Time(i, 7);
  row->updated_at = s.Time(i, 9);
  std::optional<RecordState> state = RecordStateFromName(s.Text(i, 8));
  if (!state) return Corrupt("records.state");
  row->state = *state;
  return Status::Ok();
}

// --- Writing --------------------------------------------------------------------------------

Status BatchWriter::operator()(const SubjectRow& row) {
  std::string types;
  RETURN_IF_ERROR(JoinKeys(row.types, "subjects.types", &types));
  return Run(kInsertSubject, row.controller, row.subject_id, types, row.created_at, row.wrapped_key,
             std::string(SubjectStateName(row.state)), row.erased_at);
}

Status BatchWriter::operator()(const EventRow& row) {
  return Run(kInsertEvent, row.controller, row.subject_id, row.event, row.at);
}

Status BatchWriter::operator()(const IdentifierRow& row) {
  return Run(kInsertIdentifier, row.controller, row.subject_id, row.kind, row.blind_index,
             row.sealed_value, row.verified, row.added_at);
}

Status BatchWriter::operator()(const RecordRow& row) {
  ASSIGN_OR_RETURN(std::optional<int64_t> id, GivenId(db_, "records_seq", row.record_id));
  ASSIGN_OR_RETURN(int64_t assigned,
                   Returning(kInsertRecord, row.controller, row.subject_id, id, row.category,
                             row.sealed_value, row.source, row.purpose, row.collected_at,
                             std::string(RecordStateName(row.state)), row.updated_at));
  applied_->record_ids.push_back(assigned);
  return Status::Ok();
}

Status BatchWriter::operator()(const SuppressionRow& row) {
  return Run(kInsertSuppression, row.controller, row.hash, row.kind, row.reason, row.at);
}

Status BatchWriter::operator()(const SetRecordState& op) {
  ASSIGN_OR_RETURN(int64_t changed,
                   Changed(kSetRecordState, std::string(RecordStateName(op.state)), op.sealed_value,
                           op.at, op.controller, op.subject_id, op.record_id));
  if (changed == 0) {
    return Invalid("records: no record " + std::to_string(op.record_id) + " of subject " +
                   op.subject_id);
  }
  // An erased or anonymised record keeps no earlier values either.
  if (op.state == RecordState::kErased || op.state == RecordState::kAnonymised) {
    RETURN_IF_ERROR(Run(kDeleteRecordVersions, op.controller, op.subject_id, op.record_id));
  }
  return Status::Ok();
}

Status BatchWriter::operator()(const EraseSubject& op) {
  ASSIGN_OR_RETURN(int64_t changed, Changed(kEraseSubject, op.at, op.controller, op.subject_id));
  if (changed == 0) return Invalid("subjects: no subject " + op.subject_id);
  return Status::Ok();
}

Status BatchWriter::operator()(const DeleteIdentifiers& op) {
  return Run(kDeleteIdentifiers, op.controller, op.subject_id, op.kind, op.blind_index);
}

Status BatchWriter::operator()(const ExpectState& op) {
  {
    ASSIGN_OR_RETURN(Rows rows,
                     db_.Query(kExpectSubject, Params().AddAll(op.controller, op.subject_id)));
    if (rows.size() == 0 || rows.Text(0, 0) != SubjectStateName(SubjectState::kActive)) {
      return Invalid("subjects: subject " + op.subject_id + " is absent or erased");
    }
  }
  if (op.record_id == 0) return Status::Ok();
  ASSIGN_OR_RETURN(Rows rows, db_.Query(kExpectRecord, Params().AddAll(op.controller, op.subject_id,
                                                                       op.record_id)));
  if (rows.size() == 0 || rows.Text(0, 0) != RecordStateName(op.record_state)) {
    return Invalid("records: record " + std::to_string(op.record_id) + " of subject " +
                   op.subject_id + " is not " + std::string(RecordStateName(op.record_state)) +
                   " any more");
  }
  return Status::Ok();
}

}  // namespace pg

// --- Reads ----------------------------------------------------------------------------------

Result<std::optional<SubjectRow>> PostgresStore::GetSubject(const std::string& controller,
                                                            const std::string& subject_id) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return First(ReadAll<SubjectRow>(*db, kSelectSubject, controller, subject_id));
}

Status PostgresStore::ScanSubjects(const std::string& controller,
                                   const std::function<bool(const SubjectRow&)>& visit) {
  std::string after;
  while (true) {
    std::vector<SubjectRow> page;
    {
      ASSIGN_OR_RETURN(Lease db, Acquire());
      ASSIGN_OR_RETURN(page,
                       ReadAll<SubjectRow>(*db, kSubjectsAfter, controller, after, kScanPage));
    }
    for (const SubjectRow& row : page) {
      if (!visit(row)) return Status::Ok();
    }
    if (static_cast<int64_t>(page.size()) < kScanPage) return Status::Ok();
    after = page.back().subject_id;
  }
}

Result<int64_t> PostgresStore::CountSubjects(const std::string& controller) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  ASSIGN_OR_RETURN(Rows rows, db->Query(kCountSubjects, Params().Add(controller)));
  return rows.size() > 0 ? rows.Int(0, 0) : 0;
}

Result<std::vector<EventRow>> PostgresStore::ListEvents(const std::string& controller,
                                                        const std::string& subject_id) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<EventRow>(*db, kSelectEvents, controller, subject_id);
}

Result<std::vector<IdentifierRow>> PostgresStore::ListIdentifiers(const std::string& controller,
                                                                  const std::string& subject_id) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<IdentifierRow>(*db, kSelectIdentifiers, controller, subject_id);
}

Result<std::vector<RecordRow>> PostgresStore::ListRecords(const std::string& controller,
                                                          const std::string& subject_id) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<RecordRow>(*db, kSelectRecords, controller, subject_id);
}

Result<std::vector<std::string>> PostgresStore::FindSubjectsByIdentifier(
    const std::string& controller, const std::string& kind, const Bytes& blind_index) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  ASSIGN_OR_RETURN(Rows rows,
                   db->Query(kFindSubjects, Params().AddAll(controller, kind, blind_index)));
  std::vector<std::string> ids;
  for (int i = 0; i < rows.size(); ++i) ids.push_back(rows.Text(i, 0));
  return ids;
}

Result<bool> PostgresStore::IsSuppressed(const std::string& controller, const Bytes& hash) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  ASSIGN_OR_RETURN(Rows rows, db->Query(kIsSuppressed, Params().AddAll(controller, hash)));
  return rows.size() > 0;
}

Result<std::unordered_map<std::string, SubjectState>> PostgresStore::SubjectStates(
    const std::string& controller, const std::vector<std::string>& subject_ids) {
  std::unordered_map<std::string, SubjectState> states;
  if (subject_ids.empty()) return states;
  ASSIGN_OR_RETURN(Lease db, Acquire());
  ASSIGN_OR_RETURN(
      Rows rows, db->Query(kSubjectStates, Params().AddAll(controller, ArrayLiteral(subject_ids))));
  for (int i = 0; i < rows.size(); ++i) {
    auto state = SubjectStateFromName(rows.Text(i, 1));
    if (!state) return pg::Invalid("subjects.state: an unknown state");
    states.emplace(rows.Text(i, 0), *state);
  }
  return states;
}

Result<std::vector<bool>> PostgresStore::AreSuppressed(const std::string& controller,
                                                       const std::vector<Bytes>& hashes) {
  std::vector<bool> listed(hashes.size(), false);
  if (hashes.empty()) return listed;
  // Each hash as bytea's hex input (\\x...), inside the array literal.
  static constexpr char kHex[] = "0123456789abcdef";
  std::vector<std::string> texts;
  texts.reserve(hashes.size());
  for (const auto& hash : hashes) {
    std::string text = "\\x";
    for (uint8_t byte : hash) {
      text += kHex[byte >> 4];
      text += kHex[byte & 0xf];
    }
    texts.push_back(std::move(text));
  }
  ASSIGN_OR_RETURN(Lease db, Acquire());
  ASSIGN_OR_RETURN(Rows rows,
                   db->Query(kSuppressedAmong, Params().AddAll(controller, ArrayLiteral(texts))));
  std::unordered_set<std::string> found;  // the hashes' bytes
  for (int i = 0; i < rows.size(); ++i) {
    Bytes hash = rows.Blob(i, 0);
    found.emplace(hash.begin(), hash.end());
  }
  for (size_t i = 0; i < hashes.size(); ++i) {
    listed[i] = found.count(std::string(hashes[i].begin(), hashes[i].end())) > 0;
  }
  return listed;
}

}  // namespace custos::store
