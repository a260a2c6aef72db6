// The rows custos stores, shared by every Store backend. Every row that holds personal data is
// keyed by (controller, subject_id) so one server can hold many controllers and a distributed
// database can shard on that key. Personal values only ever appear here sealed (Bytes produced
// by crypto/sealing.h) or as keyed hashes (crypto/blind_index.h); the store never sees plaintext.
// Thread-safety: plain value types.
#ifndef CUSTOS_STORE_ROWS_H_
#define CUSTOS_STORE_ROWS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/time.h"

namespace custos::store {

using Bytes = std::vector<uint8_t>;

enum class SubjectState { kActive, kErased };
enum class RecordState { kActive, kRestricted, kAnonymised, kErased };
enum class ConsentAction { kGiven, kWithdrawn };
enum class ConsentTarget { kPurpose, kCookieCategory };

struct ControllerRow {
  std::string controller;   // short key, e.g. "wig"
  std::string name;         // organisation name from the policy
  std::string policy_version;
  std::string policy_text;  // the policy file as loaded; versions are kept forever
  Timestamp loaded_at;
};

struct SubjectRow {
  std::string controller, subject_id;
  std::vector<std::string> types;  // subject types from the policy (member, non_member, ...)
  Timestamp created_at;
  Bytes wrapped_key;  // the subject's data key, wrapped by the master key; empty once erased
  SubjectState state = SubjectState::kActive;
  std::optional<Timestamp> erased_at;
};

// A lifecycle event (membership_ended, last_activity, ...). Time given by the caller.
struct EventRow {
  std::string controller, subject_id, event;
  Timestamp at;
};

struct IdentifierRow {
  std::string controller, subject_id;
  std::string kind;    // email, phone, external
  Bytes blind_index;   // keyed BLAKE2b of the normalised value
  Bytes sealed_value;  // the value, sealed with the subject's data key
  bool verified = false;
  Timestamp added_at;
};

struct RecordRow {
  std::string controller, subject_id;
  int64_t record_id = 0;  // assigned by the store on insert when 0
  std::string category;   // data category key from the policy
  Bytes sealed_value;
  std::string source;       // a source key from the policy
  std::string purpose;      // the purpose it was collected for
  Timestamp collected_at;
  RecordState state = RecordState::kActive;
  Timestamp updated_at;
};

struct ConsentEventRow {
  std::string controller, subject_id;
  int64_t seq = 0;  // assigned by the store
  ConsentTarget target_kind = ConsentTarget::kPurpose;
  std::string target;  // purpose key or cookie category key
  ConsentAction action = ConsentAction::kGiven;
  std::string notice_version, channel;
  Timestamp at;
  Bytes sealed_evidence;  // e.g. form id, IP address: may identify, so sealed
};

struct PreferenceRow {
  std::string controller, subject_id;
  std::string channel;  // email, sms, post, phone
  bool allowed = false;
  Timestamp at;
};

struct ObjectionRow {
  std::string controller, subject_id;
  std::string purpose;  // a purpose key, or "*" for all processing on legitimate interests
  Timestamp at;
  std::optional<Timestamp> lifted_at;
};

struct RestrictionRow {
  std::string controller, subject_id;
  int64_t restriction_id = 0;  // assigned by the store
  std::vector<std::string> categories;  // empty: all of the subject's data
  std::string reason;  // accuracy_contested, unlawful_processing, legal_claims, objection_pending
  Timestamp at;
  std::optional<Timestamp> lifted_at;
};

// A keyed hash of an identifier that must never be contacted (or re-enabled) again.
struct SuppressionRow {
  std::string controller;
  Bytes hash;
  std::string kind;    // email, phone, ...
  std::string reason;  // erased, marketing_opt_out
  Timestamp at;
};

// One entry of the tamper-evident audit log; hash = H(prev_hash || canonical entry).
struct AuditRow {
  int64_t seq = 0;  // 1, 2, 3, ... in append order, across controllers
  std::string controller;
  Timestamp at;
  std::string actor;       // who: "cli", "token:abc", "system:retention"
  std::string action;      // decide, read, write, consent, ...
  std::string purpose;     // why, when there is one
  std::string subject_id;  // never a personal value
  std::string detail;      // non-personal detail, e.g. "allow" or category keys
  Bytes prev_hash, hash;
};

// --- Writes --------------------------------------------------------------------------------
// A WriteBatch is applied atomically: all of its operations or none.

struct SetRecordState {
  std::string controller, subject_id;
  int64_t record_id = 0;
  RecordState state = RecordState::kActive;
  std::optional<Bytes> sealed_value;  // replaced when set (anonymise, rectify)
  Timestamp at;
};

struct LiftRestriction {
  std::string controller, subject_id;
  int64_t restriction_id = 0;
  Timestamp at;
};

struct LiftObjection {
  std::string controller, subject_id, purpose;
  Timestamp at;
};

// Crypto-shredding: drops the wrapped key and marks the subject erased.
struct EraseSubject {
  std::string controller, subject_id;
  Timestamp at;
};

using WriteOp = std::variant<ControllerRow, SubjectRow, EventRow, IdentifierRow, RecordRow,
                             ConsentEventRow, PreferenceRow, ObjectionRow, RestrictionRow,
                             SuppressionRow, AuditRow, SetRecordState, LiftRestriction,
                             LiftObjection, EraseSubject>;

struct WriteBatch {
  std::vector<WriteOp> ops;
  template <typename Row>
  void Add(Row row) {
    ops.emplace_back(std::move(row));
  }
  bool empty() const { return ops.empty(); }
};

}  // namespace custos::store

#endif  // CUSTOS_STORE_ROWS_H_
