// SqliteStore: the lawful-basis ledger of each person. Consent events (append-only: the schema's
// triggers refuse UPDATE and DELETE), channel preferences, objections and restrictions with
// their lifting.
#include <string>
#include <vector>

#include "store/column_text.h"
#include "store/sqlite/sqlite_internal.h"

namespace custos::store {

using sqlite::ReadAll;

namespace {

constexpr char kInsertConsentEvent[] =
    "INSERT INTO consent_events (controller, subject_id, seq, target_kind, target, action,"
    " notice_version, channel, at, sealed_evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr char kInsertPreference[] =
    "INSERT INTO preferences (controller, subject_id, seq, channel, allowed, at)"
    " VALUES (?, ?, ?, ?, ?, ?)";
constexpr char kInsertObjection[] =
    "INSERT INTO objections (controller, subject_id, seq, purpose, at, lifted_at)"
    " VALUES (?, ?, ?, ?, ?, ?)";
constexpr char kInsertRestriction[] =
    "INSERT INTO restrictions (controller, subject_id, restriction_id, categories, reason, at,"
    " lifted_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
constexpr char kLiftRestriction[] =
    "UPDATE restrictions SET lifted_at = COALESCE(lifted_at, ?)"
    " WHERE controller = ? AND subject_id = ? AND restriction_id = ?";
constexpr char kLiftObjection[] =
    "UPDATE objections SET lifted_at = ?"
    " WHERE controller = ? AND subject_id = ? AND purpose = ? AND lifted_at IS NULL";
constexpr char kSelectConsentEvents[] =
    "SELECT controller, subject_id, seq, target_kind, target, action, notice_version, channel,"
    " at, sealed_evidence FROM consent_events WHERE controller = ? AND subject_id = ? ORDER BY seq";
constexpr char kSelectPreferences[] =
    "SELECT controller, subject_id, channel, allowed, at FROM preferences"
    " WHERE controller = ? AND subject_id = ? ORDER BY seq";
constexpr char kSelectObjections[] =
    "SELECT controller, subject_id, purpose, at, lifted_at FROM objections"
    " WHERE controller = ? AND subject_id = ? ORDER BY seq";
constexpr char kSelectRestrictions[] =
    "SELECT controller, subject_id, restriction_id, categories, reason, at, lifted_at"
    " FROM restrictions WHERE controller = ? AND subject_id = ? ORDER BY restriction_id";

}  // namespace

namespace sqlite {

// --- Row readers ----------------------------------------------------------------------------

Status ReadRow(const Statement& s, ConsentEventRow* row) {
  row->controller = s.Text(0);
  row->subject_id = s.Text(1);
  row->seq = s.Int(2);
  row->target = s.Text(4);
  row->notice_version = s.Text(6);
  row->channel = s.Text(7);
  row->at = s.Time(8);
  row->sealed_evidence = s.Blob(9);
  std::optional<ConsentTarget> target_kind = ConsentTargetFromName(s.Text(3));
  if (!target_kind) return Corrupt("consent_events.target_kind");
  row->target_kind = *target_kind;
  std::optional<ConsentAction> action = ConsentActionFromName(s.Text(5));
  if (!action) return Corrupt("consent_events.action");
  row->action = *action;
  return Status::Ok();
}

Status ReadRow(const Statement& s, PreferenceRow* row) {
  row->controller = s.Text(0);
  row->subject_id = s.Text(1);
  row->channel = s.Text(2);
  row->allowed = s.Int(3) != 0;
  row->at = s.Time(4);
  return Status::Ok();
}

Status ReadRow(const Statement& s, ObjectionRow* row) {
  row->controller = s.Text(0);
  row->subject_id = s.Text(1);
  row->purpose = s.Text(2);
  row->at = s.Time(3);
  row->lifted_at = s.OptionalTime(4);
  return Status::Ok();
}

Status ReadRow(const Statement& s, RestrictionRow* row) {
  row->controller = s.Text(0);
  row->subject_id = s.Text(1);
  row->restriction_id = s.Int(2);
  row->categories = SplitKeys(s.Text(3));
  row->reason = s.Text(4);
  row->at = s.Time(5);
  row->lifted_at = s.OptionalTime(6);
  return Status::Ok();
}

// --- Writing --------------------------------------------------------------------------------

Status BatchWriter::operator()(const ConsentEventRow& row) {
  ASSIGN_OR_RETURN(int64_t seq, ids_.Take(Sequence::kConsentEvents, row.seq));
  RETURN_IF_ERROR(Insert(kInsertConsentEvent, row.controller, row.subject_id, seq,
                         ConsentTargetName(row.target_kind), row.target,
                         ConsentActionName(row.action), row.notice_version, row.channel, row.at,
                         row.sealed_evidence));
  applied_->consent_seqs.push_back(seq);
  return Status::Ok();
}

Status BatchWriter::operator()(const PreferenceRow& row) {
  ASSIGN_OR_RETURN(int64_t seq, ids_.Next(Sequence::kPreferences));
  return Insert(kInsertPreference, row.controller, row.subject_id, seq, row.channel, row.allowed,
                row.at);
}

Status BatchWriter::operator()(const ObjectionRow& row) {
  ASSIGN_OR_RETURN(int64_t seq, ids_.Next(Sequence::kObjections));
  return Insert(kInsertObjection, row.controller, row.subject_id, seq, row.purpose, row.at,
                row.lifted_at);
}

Status BatchWriter::operator()(const RestrictionRow& row) {
  std::string categories;
  RETURN_IF_ERROR(JoinKeys(row.categories, "restrictions.categories", &categories));
  ASSIGN_OR_RETURN(int64_t id, ids_.Take(Sequence::kRestrictions, row.restriction_id));
  RETURN_IF_ERROR(Insert(kInsertRestriction, row.controller, row.subject_id, id, categories,
                         row.reason, row.at, row.lifted_at));
  applied_->restriction_ids.push_back(id);
  return Status::Ok();
}

Status BatchWriter::operator()(const LiftRestriction& op) {
  ASSIGN_OR_RETURN(int64_t changed, Update(kLiftRestriction, op.at, op.controller, op.subject_id,
                                           op.restriction_id));
  if (changed == 0) {
    return Invalid("restrictions: no restriction " + std::to_string(op.restriction_id) +
                   " of subject " + op.subject_id);
  }
  return Status::Ok();
}

Status BatchWriter::operator()(const LiftObjection& op) {
  return Update(kLiftObjection, op.at, op.controller, op.subject_id, op.purpose).status();
}

}  // namespace sqlite

// --- Reads ----------------------------------------------------------------------------------

Result<std::vector<ConsentEventRow>> SqliteStore::ListConsentEvents(const std::string& controller,
                                                                    const std::string& subject_id) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<ConsentEventRow>(*reader, kSelectConsentEvents, controller, subject_id);
}

Result<std::vector<PreferenceRow>> SqliteStore::ListPreferences(const std::string& controller,
                                                                const std::string& subject_id) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<PreferenceRow>(*reader, kSelectPreferences, controller, subject_id);
}

Result<std::vector<ObjectionRow>> SqliteStore::ListObjections(const std::string& controller,
                                                              const std::string& subject_id) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<ObjectionRow>(*reader, kSelectObjections, controller, subject_id);
}

Result<std::vector<RestrictionRow>> SqliteStore::ListRestrictions(const std::string& controller,
                                                                  const std::string& subject_id) {
  ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return ReadAll<RestrictionRow>(*reader, kSelectRestrictions, controller, subject_id);
}

}  // namespace custos::store
