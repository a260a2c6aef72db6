// SubjectRequest: the pure parts of a data subject's rights request — the request types, the
// state machine, and the structs the Engine's request methods take and return (engine.h; the
// request_*.cc files do the work). No I/O here.
//
// The state machine (history kept as RequestEventRow, one per step):
//
//   received -> verifying_identity -> in_progress -> (extended) -> completed | refused
//        \______________/______________/_______________/---------> withdrawn | refused
//   received | verifying_identity -> forwarded   (a processor passes it to the controller)
//
// While the request waits for the person (identity proof, clarification or a fee), its month
// does not run: the due date is unset and is computed again from the day the answer arrives.
// Thread-safety: value types and pure functions.
#ifndef CUSTOS_ENGINE_SUBJECT_REQUEST_H_
#define CUSTOS_ENGINE_SUBJECT_REQUEST_H_

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "store/rows.h"

namespace custos::engine {

// The request types, named as the policy's rights (`rights.available`).
inline constexpr std::array<std::string_view, 8> kRequestTypes = {
    "access",      "portability", "rectification",    "erasure",
    "restriction", "objection",   "withdraw_consent", "automated_decision_review"};
bool IsRequestType(std::string_view type);
// Not a right: a person proving an email or phone with a one-time code to see and change their
// own consents, channel preferences and objections (the privacy centre's "my preferences"). It
// runs through the request machinery (code, attempt limits, per-address caps, history, audit)
// and closes as soon as the code is proven; it has no due date and stays out of the lists of
// open work.
inline constexpr std::string_view kPreferencesSignIn = "preferences";
// The type in words for messages to people ("your request for ..."): "access to your data".
std::string_view RequestTypeInWords(std::string_view type);

// True for states a request can still move from.
bool IsOpen(store::RequestState state);
// True when a request may move from `from` to `to` (see the diagram above).
bool CanMove(store::RequestState from, store::RequestState to);

// Why a request is refused (Article 12(5) and the exemptions); a refusal always tells the person
// the reason and their right to complain to the regulator.
inline constexpr std::array<std::string_view, 5> kRefusalReasons = {
    "manifestly_unfounded", "manifestly_excessive", "identity_not_verified", "exemption",
    "not_a_valid_request"};
bool IsRefusalReason(std::string_view reason);

struct RequestIdentifier {
  std::string kind;   // email, phone, external
  std::string value;  // PII
};

struct Rectification {
  std::string category;
  std::string value;  // PII: the corrected value
};

struct NewRequest {
  std::string request_id;  // optional: generated ("r_" + 24 hex) when empty
  std::string type;        // one of kRequestTypes
  // self_service: the person asks (unauthenticated); custos sends a one-time code to `contact`.
  // staff: staff ask on the person's behalf for `subject_id`, saying how they checked identity
  // in `verification` (e.g. "passport_seen"); without it the request waits for identity.
  std::string intake = "self_service";
  RequestIdentifier contact;            // self_service: where the code and answers go. PII
  std::string subject_id;               // staff intake
  std::string verification;             // staff intake: how identity was checked
  std::vector<std::string> categories;  // restriction / erasure scope; empty: everything
  std::string purpose;  // objection / withdraw_consent: a purpose key, "direct_marketing" or ""
  std::vector<Rectification> rectifications;  // rectification: the corrected values. PII
  std::string note;                           // free text from the person. PII: sealed
  std::optional<Timestamp> at;
  std::string actor = "system";
};

struct OpenedRequest {
  std::string request_id;
  store::RequestState state = store::RequestState::kReceived;
  std::optional<Timestamp> due_at;
};

// What the engine did (or kept) for one item of a fulfilled request: non-personal.
struct FulfilmentItem {
  std::string subject_id, category;
  std::string action;  // erased, kept, rectified, restricted, objected, consent_withdrawn, ...
  std::string reason;  // why kept: legal_obligation, legal_claims, research_article_89, ...
  std::string detail;  // the policy's words for an exemption, a purpose key, ...
};

// A recipient told of a rectification, erasure or restriction (Article 19), and how.
struct RecipientNotice {
  std::string recipient, name;
  int64_t outbox_id = 0;
  store::OutboxState state = store::OutboxState::kPending;
  std::vector<std::string> categories;
};

// Everything about one request for staff, the DPO or the requester. PII: `contact` and the
// details are personal; `result` may hold the person's data (access package).
struct RequestView {
  store::RequestRow row;  // sealed fields cleared
  std::vector<store::RequestEventRow> history;
  std::vector<store::OutboxRow> outbox;  // payloads cleared
  bool personal_parts_shredded = false;  // the request key is gone: only the proof remains
  RequestIdentifier contact;
  std::vector<std::string> categories;
  std::string purpose, note;
  std::vector<Rectification> rectifications;
  std::vector<FulfilmentItem> items;  // what was done, after fulfilment
};

// Filters for lists of requests: every open request, those due within `within_days` of
// `as_of` (due soon), or those whose due date has passed (overdue).
enum class RequestListFilter { kAll, kOpen, kDueSoon, kOverdue };

}  // namespace custos::engine

#endif  // CUSTOS_ENGINE_SUBJECT_REQUEST_H_
