// PostgresStore: the lawful-basis ledger of each person. Consent events (append-only: the
// schema's triggers refuse UPDATE and DELETE), channel preferences, objections and
// restrictions with their lifting.
#include <optional>
#include <string>
#include <vector>

#include "store/column_text.h"
#include "store/postgres/pg_internal.h"

namespace custos::store {

using pg::ReadAll;

namespace {

constexpr char kInsertConsentEvent[] =
    "INSERT INTO consent_events (controller, subject_id, seq, target_kind, target, action,"
    " notice_version, channel, at, sealed_evidence)"
    " VALUES ($1, $2, COALESCE($3, nextval('consent_events_seq')), $4, $5, $6, $7, $8, $9, $10)"
    " RETURNING seq";
constexpr char kInsertPreference[] =
    "INSERT INTO preferences (controller, subject_id, channel, allowed, at)"
    " VALUES ($1, $2, $3, $4, $5)";
constexpr char kInsertObjection[] =
    "INSERT INTO objections (controller, subject_id, purpose, at, lifted_at)"
    " VALUES ($1, $2, $3, $4, $5)";
constexpr char kInsertRestriction[] =
    "INSERT INTO restrictions (controller, subject_id, restriction_id, categories, reason, at,"
    " lifted_at) VALUES ($1, $2, COALESCE($3, nextval('restrictions_seq')), $4, $5, $6, $7)"
    " RETURNING restriction_id";
constexpr char kLiftRestriction[] =
    "UPDATE restrictions SET lifted_at = COALESCE(lifted_at, $1)"
    " WHERE controller = $2 AND subject_id = $3 AND restriction_id = $4";
constexpr char kLiftObjection[] =
    "UPDATE objections SET lifted_at = $1"
    " WHERE controller = $2 AND subject_id = $3 AND purpose = $4 AND lifted_at IS NULL";
constexpr char kSelectConsentEvents[] =
    "SELECT controller, subject_id, seq, target_kind, target, action, notice_version, channel,"
    " at, sealed_evidence FROM consent_events WHERE controller = $1 AND subject_id = $2"
    " ORDER BY seq";
constexpr char kSelectPreferences[] =
    "SELECT controller, subject_id, channel, allowed, at FROM preferences"
    " WHERE controller = $1 AND subject_id = $2 ORDER BY seq";
constexpr char kSelectObjections[] =
    "SELECT controller, subject_id, purpose, at, lifted_at FROM objections"
    " WHERE controller = $1 AND subject_id = $2 ORDER BY seq";
constexpr char kSelectRestrictions[] =
    "SELECT controller, subject_id, restriction_id, categories, reason, at, lifted_at"
    " FROM restrictions WHERE controller = $1 AND subject_id = $2 ORDER BY restriction_id";

}  // namespace

namespace pg {

// --- Row readers ----------------------------------------------------------------------------

Status ReadRow(const Rows& s, int i, ConsentEventRow* row) {
  row->controller = s.Text(i, 0);
  row->subject_id = s.Text(i, 1);
  row->seq = s.Int(i, 2);
  row->target = s.Text(i, 4);
  row->notice_version = s.Text(i, 6);
  row->channel = s.Text(i, 7);
  row->at = s.Time(i, 8);
  row->sealed_evidence = s.Blob(i, 9);
  std::optional<ConsentTarget> target_kind = ConsentTargetFromName(s.Text(i, 3));
  if (!target_kind) return Corrupt("consent_events.target_kind");
  row->target_kind = *target_kind;
  std::optional<ConsentAction> action = ConsentActionFromName(s.Text(i, 5));
  if (!action) return Corrupt("consent_events.action");
  row->action = *action;
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, PreferenceRow* row) {
  row->controller = s.Text(i, 0);
  row->subject_id = s.Text(i, 1);
  row->channel = s.Text(i, 2);
  row->allowed = s.Bool(i, 3);
  row->at = s.Time(i, 4);
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, ObjectionRow* row) {
  row->controller = s.Text(i, 0);
  row->subject_id = s.Text(i, 1);
  row->purpose = s.Text(i, 2);
  row->at = s.Time(i, 3);
  row->lifted_at = s.OptionalTime(i, 4);
  return Status::Ok();
}

Status ReadRow(const Rows& s, int i, RestrictionRow* row) {
  row->controller = s.Text(i, 0);
  row->subject_id = s.Text(i, 1);
  row->restriction_id = s.Int(i, 2);
  row->categories = SplitKeys(s.Text(i, 3));
  row->reason = s.Text(i, 4);
  row->at = s.Time(i, 5);
  row->lifted_at = s.OptionalTime(i, 6);
  return Status::Ok();
}

// --- Writing --------------------------------------------------------------------------------

Status BatchWriter::operator()(const ConsentEventRow& row) {
  ASSIGN_OR_RETURN(std::optional<int64_t> id, GivenId(db_, "consent_events_seq", row.seq));
  ASSIGN_OR_RETURN(int64_t assigned,
                   Returning(kInsertConsentEvent, row.controller, row.subject_id, id,
                             std::string(ConsentTargetName(row.target_kind)), row.target,
                             std::string(ConsentActionName(row.action)), row.notice_version,
                             row.channel, row.at, row.sealed_evidence));
  applied_->consent_seqs.push_back(assigned);
  return Status::Ok();
}

Status BatchWriter::operator()(const PreferenceRow& row) {
  return Run(kInsertPreference, row.controller, row.subject_id, row.channel, row.allowed, row.at);
}

Status BatchWriter::operator()(const ObjectionRow& row) {
  return Run(kInsertObjection, row.controller, row.subject_id, row.purpose, row.at, row.lifted_at);
}

Status BatchWriter::operator()(const RestrictionRow& row) {
  std::string categories;
  RETURN_IF_ERROR(JoinKeys(row.categories, "restrictions.categories", &categories));
  ASSIGN_OR_RETURN(std::optional<int64_t> id, GivenId(db_, "restrictions_seq", row.restriction_id));
  ASSIGN_OR_RETURN(int64_t assigned, Returning(kInsertRestriction, row.controller, row.subject_id,
                                               id, categories, row.reason, row.at, row.lifted_at));
  applied_->restriction_ids.push_back(assigned);
  return Status::Ok();
}

Status BatchWriter::operator()(const LiftRestriction& op) {
  ASSIGN_OR_RETURN(int64_t changed, Changed(kLiftRestriction, op.at, op.controller, op.subject_id,
                                            op.restriction_id));
  if (changed == 0) {
    return Invalid("restrictions: no restriction " + std::to_string(op.restriction_id) +
                   " of subject " + op.subject_id);
  }
  return Status::Ok();
}

Status BatchWriter::operator()(const LiftObjection& op) {
  return Run(kLiftObjection, op.at, op.controller, op.subject_id, op.purpose);
}

}  // namespace pg

// --- Reads ----------------------------------------------------------------------------------

Result<std::vector<ConsentEventRow>> PostgresStore::ListConsentEvents(
    const std::string& controller, const std::string& subject_id) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<ConsentEventRow>(*db, kSelectConsentEvents, controller, subject_id);
}

Result<std::vector<PreferenceRow>> PostgresStore::ListPreferences(const std::string& controller,
                                                                  const std::string& subject_id) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<PreferenceRow>(*db, kSelectPreferences, controller, subject_id);
}

Result<std::vector<ObjectionRow>> PostgresStore::ListObjections(const std::string& controller,
                                                                const std::string& subject_id) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<ObjectionRow>(*db, kSelectObjections, controller, subject_id);
}

Result<std::vector<RestrictionRow>> PostgresStore::ListRestrictions(const std::string& controller,
                                                                    const std::string& subject_id) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  return ReadAll<RestrictionRow>(*db, kSelectRestrictions, controller, subject_id);
}

}  // namespace custos::store
