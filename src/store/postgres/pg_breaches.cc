// PostgresStore: the breach register and the disclosure log (schema version 6). A breach is
// inserted at version 1 and replaced only at the version its writer read, as requests are; a
// disclosure is appended with an id from disclosures_seq.
#include <string>
#include <utility>
#include <vector>

#include "store/column_text.h"
#include "store/postgres/pg_internal.h"

namespace custos::store {

using pg::First;
using pg::ReadAll;

namespace {

#define CUSTOS_BREACH_COLUMNS                                                           \
  "controller, breach_id, version, aware_at, risk, reported_at, closed_at, updated_at," \
  " wrapped_key, sealed_details"
constexpr char kInsertBreach[] = "INSERT INTO breaches (" CUSTOS_BREACH_COLUMNS
                                 ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
// Under READ COMMITTED a concurrent update makes this one wait and re-check `version`.
constexpr char kUpdateBreach[] =
    "UPDATE breaches SET version = $1, aware_at = $2, risk = $3, reported_at = $4,"
    " closed_at = $5, updated_at = $6, wrapped_key = $7, sealed_details = $8"
    " WHERE controller = $9 AND breach_id = $10 AND version = $11";
constexpr char kSelectBreach[] =
    "SELECT " CUSTOS_BREACH_COLUMNS " FROM breaches WHERE controller = $1 AND breach_id = $2";
constexpr char kListBreaches[] = "SELECT " CUSTOS_BREACH_COLUMNS
                                 " FROM breaches WHERE controller = $1"
                                 " ORDER BY aware_at, breach_id COLLATE \"C\"";
#undef CUSTOS_BREACH_COLUMNS
constexpr char kInsertDisclosure[] =
    "INSERT INTO disclosures (controller, subject_id, disclosure_id, recipient, purpose,"
    " categories, at, application)"
    " VALUES ($1, $2, COALESCE($3, nextval('disclosures_seq')), $4, $5, $6, $7, $8)"
    " RETURNING disclosure_id";
constexpr char kListDisclosures[] =
    "SELECT controller, subject_id, disclosure_id, recipient, purpose, categories, at,"
    " application FROM disclosures WHERE controller = $1 AND subject_id = $2"
    " ORDER BY disclosure_id";

}  // namespace

namespace pg {

Status ReadRow(const Rows& s, int i, BreachRow* row) {
  row->controller = s.Text(i, 0);
  row->breach_id = s.Text(i, 1);
  row->version = s.Int(i, 2);
  row->aware_at = s.Time(i, 3);
  row->risk = s.Text(i, 4);
  row->reported_at = s.OptionalTime(i, 5);
  row->closed_at = s.OptionalTime(i, 6);
  row->updated_at = s.Time(i, 7);
  row->wrapped_key = s.Blob(i, 8);
  row->sealed_details = s.Blob(i, 9);
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, DisclosureRow* row) {
  row->controller = s.Text(i, 0);
  row->subject_id = s.Text(i, 1);
  row->disclosure_id = s.Int(i, 2);
  row->recipient = s.Text(i, 3);
  row->purpose = s.Text(i, 4);
  row->categories = SplitKeys(s.Text(i, 5));
  row->at = s.Time(i, 6);
  row->application = s.Text(i, 7);
  return Status::Ok();
}

Status BatchWriter::operator()(const DisclosureRow& row) {
  if (row.recipient.empty() || row.purpose.empty()) {
    return Invalid("disclosures: recipient and purpose are required");
  }
  std::string categories;
  RETURN_IF_ERROR(JoinKeys(row.categories, "disclosures.categories", &categories));
  ASSIGN_OR_RETURN(std::optional<int64_t> id,
                   pg::GivenId(db_, "disclosures_seq", row.disclosure_id));
  ASSIGN_OR_RETURN(int64_t assigned,
                   Returning(kInsertDisclosure, row.controller, row.subject_id, id, row.recipient,
                             row.purpose, categories, row.at, row.application));
  applied_->disclosure_ids.push_back(assigned);
  return Status::Ok();
}

Status BatchWriter::operator()(const BreachRow& r) {
  if (r.version != 1) return Invalid("breaches: a new breach has version 1");
  if (r.breach_id.empty()) return Invalid("breaches: breach_id is required");
  return Run(kInsertBreach, r.controller, r.breach_id, r.version, r.aware_at, r.risk, r.reported_at,
             r.closed_at, r.updated_at, r.wrapped_key, r.sealed_details);
}

Status BatchWriter::operator()(const UpdateBreach& op) {
  const BreachRow& r = op.row;
  if (r.version != op.expected_version + 1) {
    return Invalid("breaches: an update sets version expected_version + 1");
  }
  ASSIGN_OR_RETURN(int64_t changed,
                   Changed(kUpdateBreach, r.version, r.aware_at, r.risk, r.reported_at, r.closed_at,
                           r.updated_at, r.wrapped_key, r.sealed_details, r.controller, r.breach_id,
                           op.expected_version));
  if (changed == 0) {
    return Invalid("breaches: breach " + r.breach_id + " is absent or changed concurrently");
  }
  return Status::Ok();
}

}  // namespace pg

Result<std::optional<BreachRow>> PostgresStore::GetBreach(const std::string& controller,
                                                          const std::string& breach_id) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return First(ReadAll<BreachRow>(*db, kSelectBreach, controller, breach_id));
}

Result<std::vector<BreachRow>> PostgresStore::ListBreaches(const std::string& controller) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<BreachRow>(*db, kListBreaches, controller);
}

Result<std::vector<DisclosureRow>> PostgresStore::ListDisclosures(const std::string& controller,
                                                                  const std::string& subject_id) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<DisclosureRow>(*db, kListDisclosures, controller, subject_id);
}

}  // namespace custos::store
