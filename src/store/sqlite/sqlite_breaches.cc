// SqliteStore: the breach register and the disclosure log (schema version 6). A breach is
// inserted at version 1 and replaced only at the version its writer read, as requests are; a
// disclosure is appended with an id from the `disclosures` counter.
#include <string>
#include <utility>
#include <vector>

#include "store/column_text.h"
#include "store/sqlite/sqlite_internal.h"

namespace custos::store {

using sqlite::ReadAll;

namespace {

#define CUSTOS_BREACH_COLUMNS                                                           \
  "controller, breach_id, version, aware_at, risk, reported_at, closed_at, updated_at," \
  " wrapped_key, sealed_details"
constexpr char kInsertBreach[] =
    "INSERT INTO breaches (" CUSTOS_BREACH_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr char kUpdateBreach[] =
    "UPDATE breaches SET version = ?, aware_at = ?, risk = ?, reported_at = ?, closed_at = ?,"
    " updated_at = ?, wrapped_key = ?, sealed_details = ?"
    " WHERE controller = ? AND breach_id = ? AND version = ?";
constexpr char kSelectBreach[] =
    "SELECT " CUSTOS_BREACH_COLUMNS " FROM breaches WHERE controller = ? AND breach_id = ?";
constexpr char kListBreaches[] = "SELECT " CUSTOS_BREACH_COLUMNS
                                 " FROM breaches WHERE controller = ? ORDER BY aware_at, breach_id";
#undef CUSTOS_BREACH_COLUMNS
constexpr char kInsertDisclosure[] =
    "INSERT INTO disclosures (controller, subject_id, disclosure_id, recipient, purpose,"
    " categories, at, application) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
constexpr char kListDisclosures[] =
    "SELECT controller, subject_id, disclosure_id, recipient, purpose, categories, at,"
    " application FROM disclosures WHERE controller = ? AND subject_id = ?"
    " ORDER BY disclosure_id";

}  // namespace

namespace sqlite {

Status ReadRow(const Statement& s, BreachRow* row) {
  row->controller = s.Text(0);
  row->breach_id = s.Text(1);
  row->version = s.Int(2);
  row->aware_at = s.Time(3);
  row->risk = s.Text(4);
  row->reported_at = s.OptionalTime(5);
  row->closed_at = s.OptionalTime(6);
  row->updated_at = s.Time(7);
  row->wrapped_key = s.Blob(8);
  row->sealed_details = s.Blob(9);
  return Status::Ok();
}

Status ReadRow(const Statement& s, DisclosureRow* row) {
  row->controller = s.Text(0);
  row->subject_id = s.Text(1);
  row->disclosure_id = s.Int(2);
  row->recipient = s.Text(3);
  row->purpose = s.Text(4);
  row->categories = SplitKeys(s.Text(5));
  row->at = s.Time(6);
  row->application = s.Text(7);
  return Status::Ok();
}

Status BatchWriter::operator()(const DisclosureRow& row) {
  if (row.recipient.empty() || row.purpose.empty()) {
    return Invalid("disclosures: recipient and purpose are required");
  }
  std::string categories;
  RETURN_IF_ERROR(JoinKeys(row.categories, "disclosures.categories", &categories));
  ASSIGN_OR_RETURN(int64_t id, ids_.Take(Sequence::kDisclosures, row.disclosure_id));
  RETURN_IF_ERROR(Insert(kInsertDisclosure, row.controller, row.subject_id, id, row.recipient,
                         row.purpose, categories, row.at, row.application));
  applied_->disclosure_ids.push_back(id);
  return Status::Ok();
}

Status BatchWriter::operator()(const BreachRow& r) {
  if (r.version != 1) return Invalid("breaches: a new breach has version 1");
  if (r.breach_id.empty()) return Invalid("breaches: breach_id is required");
  return Insert(kInsertBreach, r.controller, r.breach_id, r.version, r.aware_at, r.risk,
                r.reported_at, r.closed_at, r.updated_at, r.wrapped_key, r.sealed_details);
}

Status BatchWriter::operator()(const UpdateBreach& op) {
  const BreachRow& r = op.row;
  if (r.version != op.expected_version + 1) {
    return Invalid("breaches: an update sets version expected_version + 1");
  }
  ASSIGN_OR_RETURN(
      int64_t changed,
      Update(kUpdateBreach, r.version, r.aware_at, r.risk, r.reported_at, r.closed_at, r.updated_at,
             r.wrapped_key, r.sealed_details, r.controller, r.breach_id, op.expected_version));
  if (changed == 0) {
    return Invalid("breaches: breach " + r.breach_id + " is absent or changed concurrently");
  }
  return Status::Ok();
}

}  // namespace sqlite

Result<std::optional<BreachRow>> SqliteStore::GetBreach(const std::string& controller,
                                                        const std::string& breach_id) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  ASSIGN_OR_RETURN(std::vector<BreachRow> rows,
                   ReadAll<BreachRow>(*reader, kSelectBreach, controller, breach_id));
  if (rows.empty()) return std::optional<BreachRow>();
  return std::optional<BreachRow>(std::move(rows.front()));
}

Result<std::vector<BreachRow>> SqliteStore::ListBreaches(const std::string& controller) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<BreachRow>(*reader, kListBreaches, controller);
}

Result<std::vector<DisclosureRow>> SqliteStore::ListDisclosures(const std::string& controller,
                                                                const std::string& subject_id) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<DisclosureRow>(*reader, kListDisclosures, controller, subject_id);
}

}  // namespace custos::store
