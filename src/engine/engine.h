// Engine: custos's rules over one controller's personal data.
//
// The engine gets a Policy, a Store, a MasterKey and a Clock and does no I/O of its own. Every
// personal value is sealed with the subject's data key before it reaches the Store; every
// decision, read and write is appended to the AuditLog. Times of events are given by callers
// (history can be imported); `at` defaults to the clock's now where a method allows it.
//
// Several engines may share one store (several `custos serve` processes over one PostgreSQL
// database, or a CLI writing to a data directory a server serves). Each keeps its own decision
// cache, written through by its own writes only; CatchUpWithOtherWriters reads the audit chain
// they all append to and forgets every subject another engine changed, so that engine's
// decisions see the change from its next call on.
// Thread-safety: safe for concurrent use after Open().
#ifndef CUSTOS_ENGINE_ENGINE_H_
#define CUSTOS_ENGINE_ENGINE_H_

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "crypto/master_key.h"
#include "engine/application_grant.h"
#include "engine/audit_checkpoint.h"
#include "engine/audit_log.h"
#include "engine/breach.h"
#include "engine/decision.h"
#include "engine/import.h"
#include "engine/retention.h"
#include "engine/subject_request.h"
#include "engine/subject_state.h"
#include "engine/systems_reach.h"
#include "policy/policy.h"
#include "policy/policy_diff.h"
#include "store/store.h"

namespace custos::engine {

struct Identifier {
  std::string kind;   // email, phone, external
  std::string value;  // PII
  bool verified = false;
};

struct NewSubject {
  std::string subject_id;  // optional: generated ("s_" + 24 hex) when empty
  std::vector<std::string> types;
  std::vector<Identifier> identifiers;
  std::optional<Timestamp> at;
  std::string actor = "system";
};

// An identifier a new subject shares with others already filed under it (families share an
// email): allowed, and said, so that the operator knows a lookup finds several people.
struct SharedIdentifier {
  std::string kind;   // email, phone, external
  size_t others = 0;  // how many other subjects hold the same value
};

struct NewRecord {
  std::string subject_id, category;
  std::string value;  // PII
  std::string source, purpose;
  std::optional<Timestamp> at;
  std::string actor = "system";
};

struct ConsentChangeRequest {
  std::string subject_id;
  std::string target;  // a purpose key, or a cookie category key when `cookie` is true
  bool cookie = false;
  bool given = true;
  std::string channel = "api";
  std::string evidence;        // PII possible (IP address, form id): sealed
  std::string notice_version;  // default: the policy's notice version
  std::optional<Timestamp> at;
  std::string actor = "system";
};

// Everything custos holds about one person, unsealed. PII: for the person or an authorised
// actor only; every SubjectView produced is audited as a read.
// What "my preferences" shows one signed-in person (Engine::ReadMyPreferences). With several
// subjects under one identifier, a consent shows as given, a channel as allowed and an
// objection as made only when it holds for every one of them.
struct MyPreferences {
  std::vector<std::string> subject_ids;
  // Every purpose whose basis is consent: given now?
  std::vector<std::pair<std::string, bool>> consents;
  // Every channel (email, sms, post, phone, in_app, push): allowed now? (allowed until refused)
  std::vector<std::pair<std::string, bool>> channels;
  // "direct_marketing" (when a purpose is direct marketing) and every purpose on legitimate
  // interests or a public task: objected to now?
  std::vector<std::pair<std::string, bool>> objections;
};

// The subject type of a pseudonymous website visitor whose only data is their cookie choices,
// when the policy names no visitor type of its own (fideslang "visitor").
inline constexpr std::string_view kCookieVisitorType = "cookie_visitor";

// The cookie banner's choices (Engine::RecordCookieChoices).
struct CookieChoices {
  std::string visitor_id;  // from the visitor's first-party cookie; empty or unknown: a new one
  std::vector<std::string> people;  // a signed-in person's subjects: their records get it too
  std::vector<std::pair<std::string, bool>> choices;  // cookie category -> accepted
  bool gpc = false;                                   // the browser sent Global Privacy Control
  std::string evidence;                               // non-personal: "banner accept_all", ...
  std::optional<Timestamp> at;
};

// "May cookie category C be set for this visitor now?" with the reasons, like a Decision.
struct CookieVerdict {
  std::string category;
  bool allow = false;
  bool consent_required = true;
  bool gpc_refused = false;             // refused because the browser sent Global Privacy Control
  std::vector<DecisionReason> reasons;  // why not (empty when allowed)
};

// One change on the "my preferences" page.
struct PreferenceChange {
  enum class Kind { kConsent, kChannel, kObjection } kind = Kind::kConsent;
  std::string key;  // a purpose key, a channel, or "direct_marketing"
  bool on = false;  // consent given, channel allowed, objection made
  std::optional<Timestamp> at;
};

struct SubjectView {
  store::SubjectRow subject;
  std::vector<store::EventRow> events;
  struct IdentifierValue {
    std::string kind, value;
    bool verified = false;
    Timestamp added_at;
  };
  std::vector<IdentifierValue> identifiers;
  struct RecordValue {
    int64_t record_id = 0;
    std::string category, value, source, purpose;
    Timestamp collected_at;
    store::RecordState state = store::RecordState::kActive;
  };
  std::vector<RecordValue> records;
  // Earlier values of rectified records (history kept), oldest first per record.
  struct RecordVersionValue {
    int64_t record_id = 0, version = 0;
    std::string value, request_id;
    Timestamp replaced_at;
  };
  std::vector<RecordVersionValue> record_versions;
  std::vector<store::ConsentEventRow> consents;  // evidence left sealed
  std::vector<store::PreferenceRow> preferences;
  std::vector<store::ObjectionRow> objections;
  std::vector<store::RestrictionRow> restrictions;
  std::vector<store::DisclosureRow> disclosures;  // what went to whom (the disclosure log)
};

// Personal data of a person that went to a recipient (Engine::RecordDisclosure).
struct Disclosure {
  std::string subject_id, recipient, purpose;
  std::vector<std::string> categories;
  std::optional<Timestamp> at;
  std::string actor = "system";
};

// A message claimed from the outbox for delivery, unsealed. PII: `payload` may hold the
// requester's contact or the person's identifiers; `secret` is the endpoint's HMAC key.
struct OutboxDelivery {
  int64_t outbox_id = 0;
  std::string request_id, kind, target, url, secret, payload;
  int64_t attempts = 0;  // before this one
};

// The wait before delivery attempt `attempts` + 1 after `attempts` failures: 1 min, 5 min,
// 30 min, 2 h, 6 h, then daily. After kMaxDeliveryAttempts a message is abandoned (dead).
int64_t OutboxRetryDelayMicros(int64_t attempts);
// How a request's history names one of its outbox messages: "<target> (message <id>)".
std::string OutboxMessageLabel(const store::OutboxRow& message);
inline constexpr int64_t kMaxDeliveryAttempts = 8;

// One-time codes (request_intake.cc). A code lives 30 minutes and may be tried
// kMaxCodeAttempts times; a request may ask for kMaxCodeResends new codes and gets
// kMaxFailedCodeAttempts wrong guesses in all, whatever the code (then it is locked: only staff
// can check identity); one email or phone receives at most kMaxCodesPerAddressPerDay codes in
// any 24 hours, over every request. So a guesser gets at most
// kMaxCodesPerAddressPerDay * kMaxCodeAttempts tries at an address a day.
inline constexpr int64_t kMaxCodeAttempts = 5;
inline constexpr int64_t kMaxCodeResends = 5;
inline constexpr int64_t kMaxFailedCodeAttempts = 10;
inline constexpr int64_t kMaxCodesPerAddressPerDay = 10;

// What Engine::CatchUpWithOtherWriters found in the audit chain. Non-personal.
struct CatchUpReport {
  int64_t through_seq = 0;         // the last audit entry read so far
  int64_t entries_read = 0;        // entries read by this call (every controller, every writer)
  int64_t changes_by_others = 0;   // of those, this controller's entries that change a
                                   // subject's state, stored by another engine
  int64_t subjects_forgotten = 0;  // subjects dropped from the decision cache for them
  // The detail ("notice VERSION (was OLD); ...") of every policy_loaded entry another engine
  // stored: this engine still decides under the policy it was opened with.
  std::vector<std::string> policies_loaded_elsewhere;
};

// Totals of every CatchUpWithOtherWriters call, for /metrics.
struct CatchUpStats {
  int64_t passes = 0, entries_read = 0, changes_by_others = 0, subjects_forgotten = 0;
  int64_t through_seq = 0;
};

// Whether an audit entry of `action` can change what a decision about the subjects it names
// sees. False only for the actions known to leave subjects' state alone (decisions, reads,
// lookups, request bookkeeping, review tasks, legal holds, which decisions do not consult);
// an action not listed counts as a change, so a new write is never missed.
bool ActionChangesSubjectState(std::string_view action);

namespace internal {
struct Fulfilment;  // one fulfilment under way (request_internal.h)
struct Details;     // a request's sealed details (request_internal.h)
}  // namespace internal

class Engine {
 public:
  // REQUIRES: `policy` is valid; store, master_key and clock outlive the engine.
  // `decision_audit`: whether a decision (and an identifier lookup) is answered only once its
  // audit entry is committed (kDurable, the default) or at once, its entry written with the
  // next commit or flush (kBuffered: faster, but a crash loses the entries not yet written).
  Engine(policy::Policy policy, std::string controller, store::Store& store,
         const crypto::MasterKey& master_key, const Clock& clock,
         DecisionAudit decision_audit = DecisionAudit::kDurable);

  // Registers the controller and its policy text in the store when new (or when the policy
  // version changed), and opens the audit log. A new version is kept beside the old ones; when
  // it changes something material against the version before it (policy/policy_diff.h), each
  // person such a change reaches is sent a notice through the outbox (engine_policy_change.cc),
  // before the new version is recorded as loaded: a load cut short queues the rest next time,
  // never the same notice twice. `policy_loaded` in the audit log counts them.
  Status Open(const std::string& policy_text);

  const policy::Policy& policy() const { return policy_; }
  const std::string& controller() const { return controller_; }
  Timestamp Now() const { return clock_.Now(); }

  // Errors: INVALID_ARGUMENT (unknown type/kind, bad id), ALREADY_EXISTS. PII: identifiers are
  // sealed and blind-indexed. An identifier other subjects already hold is allowed (people
  // share addresses); when `shared` is given it lists those identifiers' kinds and how many
  // others hold each (no values, no subject ids).
  Result<std::string> AddSubject(const NewSubject& request,
                                 std::vector<SharedIdentifier>* shared = nullptr);
  // Errors: UNKNOWN_SUBJECT, SUBJECT_ERASED, INVALID_ARGUMENT (event not in the policy).
  Status RecordEvent(const std::string& subject_id, const std::string& event,
                     std::optional<Timestamp> at, const std::string& actor = "system");
  Status AddIdentifier(const std::string& subject_id, const Identifier& identifier,
                       std::optional<Timestamp> at, const std::string& actor = "system");
  // Subjects holding this identifier. PII: `value` is only hashed.
  Result<std::vector<std::string>> FindSubjects(const std::string& kind, const std::string& value,
                                                const std::string& actor = "system");
  // Errors: UNKNOWN_SUBJECT, SUBJECT_ERASED, INVALID_ARGUMENT (category, source or purpose not
  // in the policy; purpose does not cover the category).
  Result<int64_t> PutRecord(const NewRecord& request);
  // Unseals everything about a subject; audited as a read by `actor` for `purpose`.
  Result<SubjectView> ReadSubject(const std::string& subject_id, const std::string& actor,
                                  const std::string& purpose);

  Status ChangeConsent(const ConsentChangeRequest& request);
  // ChangeConsent without waiting for the commit: the request is checked at once (its errors
  // returned; `stored` is then not called); `stored` is called once the commit has ended (OK:
  // stored, and the decision cache knows it), on the committing thread (AuditLog::CommitThen).
  Status ChangeConsentThen(const ConsentChangeRequest& request, std::function<void(Status)> stored);
  Status SetPreference(const std::string& subject_id, const std::string& channel, bool allowed,
                       std::optional<Timestamp> at, const std::string& actor = "system");
  // `purpose` is a purpose key, "*" (all legitimate-interest processing) or "direct_marketing".
  Status Object(const std::string& subject_id, const std::string& purpose,
                std::optional<Timestamp> at, const std::string& actor = "system");
  Status LiftObjection(const std::string& subject_id, const std::string& purpose,
                       std::optional<Timestamp> at, const std::string& actor = "system");
  // Returns the restriction id. `categories` empty: everything.
  Result<int64_t> Restrict(const std::string& subject_id, std::vector<std::string> categories,
                           const std::string& reason, std::optional<Timestamp> at,
                           const std::string& actor = "system");
  Status LiftRestriction(const std::string& subject_id, int64_t restriction_id,
                         std::optional<Timestamp> at, const std::string& actor = "system");
  // Adds an identifier's keyed hash to the suppression list. PII: `value` is only hashed.
  Status Suppress(const std::string& kind, const std::string& value, const std::string& reason,
                  std::optional<Timestamp> at, const std::string& actor = "system");
  Result<bool> IsSuppressed(const std::string& kind, const std::string& value);

  // Decides and records the decision in the audit log. With DecisionAudit::kDurable it returns
  // once the entry is committed (shared with the other decisions and writes committing at that
  // moment), and fails closed: when the entry cannot be stored the decision is not given
  // (IO_ERROR or the store's error). With kBuffered the entry is written with the next
  // commit/Flush and the call never fails. Answers from the decision cache: another engine's
  // writes are seen once CatchUpWithOtherWriters has run after them; a person not in the cache
  // is read from the store first, and when that read fails the decision is not given (the
  // store's error: STORE_UNAVAILABLE while the database is away).
  Result<Decision> Decide(const DecisionRequest& request);
  // Decide without waiting for the audit entry's commit: with kDurable, `stored` is called once
  // the commit that took the entry has ended (OK, or its error: the decision must then not be
  // given), on the committing thread (AuditLog::RecordDurablyThen; a server hands the commits
  // to its handler pool with audit().SetLeadRunner); with kBuffered, at once with OK. `stored`
  // is called only when a decision is returned. The caller gives the decision only after it.
  Result<Decision> DecideThen(const DecisionRequest& request, std::function<void(Status)> stored);
  // True when DecideThen for `subject_id` (asked about now) neither reads the store nor waits
  // for a commit: the person's state is in the decision cache, and the audit entry is buffered
  // or held (a lead runner is set). A server may then decide on the thread that polls sockets.
  bool DecidesWithoutWaiting(const std::string& subject_id) const {
    return cache_.Contains(subject_id) &&
           (decision_audit_ == DecisionAudit::kBuffered || audit_.HoldsWithoutWaiting());
  }
  DecisionAudit decision_audit() const { return decision_audit_; }
  // Reads the audit entries stored since the last call (since Open on the first), and forgets
  // from the decision cache every subject named by an entry of this controller that another
  // engine stored and that changes state (ActionChangesSubjectState; an entry may name several
  // subjects joined by ','). This engine's own entries are skipped, so its writes cost no
  // reload. Reports policies other engines loaded; it does not switch policy. Calls are
  // serialised; Decide runs alongside. Errors: IO_ERROR (the entries not yet handled are read
  // again by the next call).
  Result<CatchUpReport> CatchUpWithOtherWriters();
  CatchUpStats catch_up_stats() const;
  // Writes buffered audit entries.
  Status Flush() { return audit_.Flush(); }
  AuditLog& audit() { return audit_; }
  // Signs the audit chain's head as stored now (buffered entries are written first) with the
  // deployment's key (engine_audit.cc). With `previous`, the checkpoint kept last, it first
  // checks that the chain still holds it (signed by this deployment, its entry still there
  // with the same hash) and otherwise refuses with AUDIT_CHAIN_BROKEN, so the caller keeps the
  // older checkpoint as evidence instead of vouching for a cut or rolled-back log.
  Result<AuditCheckpoint> CheckpointAudit(const std::optional<AuditCheckpoint>& previous);
  // Verifies the whole keyed chain and, with `latest`, the chain against that checkpoint.
  Result<AuditVerification> VerifyAudit(const std::optional<AuditCheckpoint>& latest);
  // The public half of the key that signs checkpoints.
  crypto::PublicKey CheckpointPublicKey() const;

  // The subject's consent ledger as consent records shaped after ISO/IEC 27560 (JSON).
  Result<std::string> ExportConsentRecords(const std::string& subject_id,
                                           const std::string& actor = "system");

  // --- Retention, legal holds, anonymised aggregates (engine_retention.cc; see retention.h)
  // What a sweep as of `options.as_of` would do, writing nothing but one audit entry.
  Result<RetentionReport> PlanRetention(const RetentionOptions& options);
  // Sweeps every subject and applies the plans: deletes, anonymises, opens DPO review tasks,
  // erases whole people (crypto-shredding, identifiers' keyed hashes suppressed), auditing every
  // action and every item a legal hold keeps. Each page of subjects is one transaction together
  // with the run's checkpoint, so after a crash the next call resumes the unfinished run (with
  // its own as_of; report.resumed is set) and never acts twice; call again for a new run.
  // Errors: INVALID_ARGUMENT (as_of after now), IO_ERROR, CRYPTO_FAILURE (a value that does not
  // unseal: the run stops and stays resumable).
  Result<RetentionReport> RunRetention(const RetentionOptions& options);
  // Places a legal hold on a subject, a category (of everyone), or one category of a subject;
  // returns its id. Audited. Errors: INVALID_ARGUMENT (no subject and no category, unknown
  // category, empty reason, expiry not after placement), UNKNOWN_SUBJECT, SUBJECT_ERASED.
  Result<int64_t> PlaceLegalHold(const LegalHoldRequest& request);
  // Releases a hold (a released hold stays listed). Audited. Errors: NOT_FOUND.
  Status ReleaseLegalHold(int64_t hold_id, std::optional<Timestamp> at,
                          const std::string& actor = "system");
  Result<std::vector<store::LegalHoldRow>> ListLegalHolds();
  // LEGAL_HOLD_ACTIVE when a hold in force at `at` covers any of `categories` of the subject
  // (any of its data when `categories` is empty): for erasure, which must not touch held data.
  Status CheckNoLegalHold(const std::string& subject_id, const std::vector<std::string>& categories,
                          std::optional<Timestamp> at);
  Result<std::vector<store::ReviewTaskRow>> ListReviewTasks(bool open_only);
  // Marks a DPO review task done. Audited. Errors: NOT_FOUND.
  Status CompleteReviewTask(int64_t task_id, std::optional<Timestamp> at,
                            const std::string& actor = "system");
  // Counts people by value of `category` (and its descendants): anonymised facts plus the live
  // values of active, unrestricted records, with cells below the small-cell threshold
  // suppressed. The threshold is the policy's (default kDefaultSmallCellThreshold); `threshold`
  // may raise it, never lower it. Audited as one read. Errors: INVALID_ARGUMENT (unknown
  // category, threshold below the policy's), CRYPTO_FAILURE, IO_ERROR.
  // PII: unseals values to count them; returns only counts of at least the threshold.
  Result<AggregateResult> Aggregate(const std::string& category, std::optional<int> threshold,
                                    const std::string& actor = "system");

  // --- Rights requests (request_*.cc; subject_request.h). Every step is audited and
  // appended to the request's history in the same transaction as its effects.
  //
  // Opens a request. By the person (self_service): a one-time code goes to `contact` through
  // the outbox and the request waits in verifying_identity. By staff with `verification`: in
  // progress at once, its month running from today. A processor whose policy says
  // `requests: forward_to_controller` passes the request to its controller (forwarded).
  // Errors: INVALID_ARGUMENT (type, ids, categories, purpose, contact), RIGHT_NOT_AVAILABLE
  // (not in the policy's rights), UNKNOWN_SUBJECT, SUBJECT_ERASED, ALREADY_EXISTS,
  // TOO_MANY_CODES (the contact had kMaxCodesPerAddressPerDay codes in the last 24 hours; when
  // `retry_after_seconds` is given it is set to the wait until one more may go).
  // PII: contact, rectified values and the note are sealed with the request's own key; the
  // contact's blind index is kept a day to count the codes sent to it.
  Result<OpenedRequest> OpenRequest(const NewRequest& request,
                                    int64_t* retry_after_seconds = nullptr);
  // Checks the one-time code. On success the request reaches the subjects filed under the
  // proven identifier only, its month runs from today, and the returned secret
  // ("rq_<id>_<hex>") lets the requester follow it. Errors: UNKNOWN_REQUEST,
  // REQUEST_STATE_INVALID, VERIFICATION_FAILED (wrong, expired, or kMaxCodeAttempts failed
  // attempts on this code), TOO_MANY_ATTEMPTS (kMaxFailedCodeAttempts wrong guesses on the
  // request over all its codes: locked, the code is not even compared; staff may still verify).
  // `only_type`, when given, must be the request's type (else UNKNOWN_REQUEST): the privacy
  // centre's preferences sign-in does not verify a rights request.
  Result<std::string> VerifyRequest(const std::string& request_id, const std::string& code,
                                    std::optional<Timestamp> at, std::string_view only_type = {});
  // Sends a new code (the old one stops working; the request's failed attempts do not reset).
  // Errors: UNKNOWN_REQUEST, REQUEST_STATE_INVALID, TOO_MANY_CODES (kMaxCodeResends already
  // sent for this request: waiting does not help, `retry_after_seconds` stays 0; or the
  // address's daily cap: it is set to the wait), TOO_MANY_ATTEMPTS (the request is locked).
  Status ResendRequestCode(const std::string& request_id, std::optional<Timestamp> at,
                           const std::string& actor = "system",
                           int64_t* retry_after_seconds = nullptr);
  // Staff record how they checked identity (and for whom, when the request names nobody yet).
  Status VerifyRequestByStaff(const std::string& request_id, const std::string& method,
                              const std::string& subject_id, std::optional<Timestamp> at,
                              const std::string& actor = "system");
  // Asks the person for clarification or (when the policy allows one) a fee; the month stops
  // and runs again from the day RequesterAnswered is called. Errors: FEE_NOT_ALLOWED,
  // REQUEST_STATE_INVALID.
  Status AwaitRequester(const std::string& request_id, const std::string& what,
                        std::optional<Timestamp> at, const std::string& actor = "system");
  Status RequesterAnswered(const std::string& request_id, std::optional<Timestamp> at,
                           const std::string& actor = "system");
  // Extends by the policy's `extension.max` for a complex or numerous request, telling the
  // person why and the new date; only within the first month. Errors: EXTENSION_NOT_ALLOWED.
  Status ExtendRequest(const std::string& request_id, const std::string& reason,
                       std::optional<Timestamp> at, const std::string& actor = "system");
  // Refuses with a reason (kRefusalReasons); the person is told it and their right to complain.
  Status RefuseRequest(const std::string& request_id, const std::string& reason,
                       std::optional<Timestamp> at, const std::string& actor = "system");
  Status WithdrawRequest(const std::string& request_id, std::optional<Timestamp> at,
                         const std::string& actor = "system");
  // Carries the request out and completes it: access and portability packages (kept sealed
  // for download), rectification (earlier values kept), erasure (the policy's exemptions and
  // legal holds applied; the whole person crypto-shredded when nothing stays), restriction,
  // objection, consent withdrawal; Article 19 notices to recipients through the outbox.
  // `outcome` is required for automated_decision_review (what the human reviewer decided).
  // Errors: REQUEST_STATE_INVALID, CONFLICT (fulfilled concurrently elsewhere), and the errors
  // of the operations it performs.
  Result<RequestView> FulfilRequest(const std::string& request_id, const std::string& outcome,
                                    std::optional<Timestamp> at,
                                    const std::string& actor = "system");
  // The request with its history and outbox; audited as a read. PII: contact and details.
  Result<RequestView> ViewRequest(const std::string& request_id,
                                  const std::string& actor = "system");
  // VERIFICATION_FAILED unless `secret` is the one VerifyRequest returned for this request.
  Status CheckRequesterSecret(const std::string& request_id, const std::string& secret);

  // --- Cookie consent (cookie_consent.cc): what the banner records and answers.
  //
  // Records each choice as a cookie-category consent (channel "cookie_banner", the policy's
  // notice version) for the visitor's pseudonymous subject (made on first use, type the policy's
  // visitor type or kCookieVisitorType) and for each of `people`. A category that needs no
  // consent is not recorded; with `gpc`, a targeting category is recorded as refused whatever
  // was chosen. Returns the visitor id. Errors: INVALID_ARGUMENT (a category not in the policy,
  // a visitor id of the wrong form), the store's.
  Result<std::string> RecordCookieChoices(const CookieChoices& choices);
  // Every cookie category of the policy for `subject_id` (a visitor or a person; empty or
  // unknown: nobody has chosen) at `at`: needs no consent, refused by GPC (`gpc` and a
  // targeting category), consent missing or withdrawn, or given. Audited as one decision.
  Result<std::vector<CookieVerdict>> DecideCookies(const std::string& subject_id, bool gpc,
                                                   std::optional<Timestamp> at);

  // --- A person's own preferences (my_preferences.cc): what the privacy centre's "my
  // preferences" shows and changes, through the same calls the API's subject routes make.
  //
  // Sends a one-time code to `contact` for a sign-in (kPreferencesSignIn); VerifyRequest with
  // that code returns the sign-in's secret. Errors: as OpenRequest's for a self-service request.
  Result<OpenedRequest> OpenPreferencesSignIn(const RequestIdentifier& contact,
                                              std::optional<Timestamp> at,
                                              int64_t* retry_after_seconds = nullptr);
  // The consents, channel preferences and objections of every subject filed under the
  // sign-in's proven identifier. Errors: VERIFICATION_FAILED (wrong secret, not a sign-in, or
  // signed in more than kPreferencesSignInMicros ago). PII: none beyond whose they are.
  Result<MyPreferences> ReadMyPreferences(const std::string& sign_in_id, const std::string& secret);
  // One change by the signed-in person, applied to every subject of the sign-in through
  // ChangeConsent, SetPreference, Object or LiftObjection (actor "requester:<sign-in id>").
  // Errors: VERIFICATION_FAILED as above; INVALID_ARGUMENT (a purpose without consent as its
  // basis, a channel or objection the person cannot set).
  Status ChangeMyPreference(const std::string& sign_in_id, const std::string& secret,
                            const PreferenceChange& change);
  // A token for a one-click unsubscribe link (RFC 8058) naming `subject_id`, signed with a key
  // derived from the master key: it keeps working across restarts and never expires, and it can
  // do nothing but unsubscribe that person.
  std::string UnsubscribeToken(const std::string& subject_id) const;
  // The same for a message custos sends about direct marketing (request `request_id`): the link
  // unsubscribes the people filed under the email address the message went to.
  std::string MessageUnsubscribeToken(const std::string& request_id) const;
  // Unsubscribes whom a token names from all direct marketing: an objection to direct
  // marketing (absolute, Article 21(3)) for each person, and their email addresses on the
  // suppression list, so no later import subscribes them again. Idempotent. Errors:
  // VERIFICATION_FAILED (a forged or damaged token, a shredded request), UNKNOWN_SUBJECT,
  // SUBJECT_ERASED, UNKNOWN_REQUEST.
  Status Unsubscribe(const std::string& token, std::optional<Timestamp> at);
  // Requests by filter (subject_request.h), personal parts cleared; due soon: due within
  // `within_days` of `as_of`; overdue: due before `as_of`'s date.
  Result<std::vector<store::RequestRow>> ListRequests(RequestListFilter filter,
                                                      std::optional<Timestamp> as_of,
                                                      int within_days = 7);
  // The answer prepared for the person: "json" or "html" (access), "json" or "csv"
  // (portability). Audited. Errors: NOT_FOUND, REQUEST_STATE_INVALID (shredded).
  // PII: the person's data.
  Result<std::string> RequestDocument(const std::string& request_id, const std::string& format,
                                      const std::string& actor = "system");
  // The recipients told of this request's changes (Article 19), with their delivery state.
  Result<std::vector<RecipientNotice>> RequestRecipients(const std::string& request_id);
  // Where a recipient ("requester" for the notifier of requesters, "controller" for a
  // processor's controller) takes notices: a webhook URL and its HMAC secret (sealed).
  Status SetRecipientEndpoint(const std::string& recipient, const std::string& url,
                              const std::string& secret, std::optional<Timestamp> at,
                              const std::string& actor = "system");
  // Claims due outbox messages for delivery (a lease of `lease_micros`; several processes may
  // claim at once, each message goes to one). Messages without an endpoint become manual.
  Result<std::vector<OutboxDelivery>> ClaimDeliveries(size_t max, int64_t lease_micros);
  // Records a delivery attempt: delivered (payload dropped, digest kept) or retried with
  // backoff, abandoned after kMaxDeliveryAttempts.
  Status RecordDelivery(const OutboxDelivery& delivery, bool delivered, const std::string& error);
  // The payload of an outbox message still held (the local outbox). Audited. PII.
  Result<std::string> ReadOutboxMessage(int64_t outbox_id, const std::string& actor = "system");
  // Shreds the personal parts of requests closed 30 days or more before `as_of` (their key,
  // contact, details and answer); the history stays as proof. Returns how many.
  Result<int64_t> PurgeClosedRequests(std::optional<Timestamp> as_of,
                                      const std::string& actor = "system");

  // --- The disclosure log (disclosures.cc): what of a person went to whom, recorded by the
  // application when it sends it. Access packages list these recipients (Article 15(1)(c)), and
  // Article 19 notices go to the recipients a person's data actually went to once any is
  // recorded. Errors: INVALID_ARGUMENT (a recipient, purpose or category the policy does not
  // have, a purpose that does not name the recipient (the notice would not have told the person),
  // a category the purpose does not use or the recipient does not receive), UNKNOWN_SUBJECT,
  // SUBJECT_ERASED. Returns the disclosure's id.
  Result<int64_t> RecordDisclosure(const Disclosure& disclosure);

  // --- Third-party applications (applications.cc; application_grant.h). A grant is checked
  // against the policy and audited when a controller makes it, and audited when it is revoked
  // (the grant itself travels on the application's token). Errors: those of
  // CheckApplicationGrant (for a new grant), IO errors of the audit log.
  Status RecordApplicationGrant(const ApplicationGrant& grant, const std::string& actor);
  Status RecordApplicationRevocation(const ApplicationGrant& grant, const std::string& actor);
  // A decision an application asks under its grant: checked against the grant first, then
  // decided as Decide does; an allowed one is written to the person's disclosure log under the
  // application's name, in the commit that stores the decision's audit entry, so every access
  // is audited and listed in the person's access package. Errors: APPLICATION_GRANT_EXPIRED,
  // OUTSIDE_APPLICATION_GRANT, those of Decide.
  Result<Decision> DecideForApplication(const ApplicationGrant& grant,
                                        const DecisionRequest& request);

  // --- The breach register (engine_breach.cc; breach.h). Every change is audited; the free
  // text is sealed with the breach's own key.
  //
  // Records a breach: checks the scope against the policy, counts the people and records it
  // touched from the store, and, where the policy makes this organisation a processor that must
  // tell its controller (processor.breach_notify_controller or breach.notify_controller), queues
  // that notice to the "controller" endpoint. Errors: INVALID_ARGUMENT (no nature, no category,
  // a key not in the policy, awareness before discovery, a time in the future, an assessed risk
  // without its reasoning), ALREADY_EXISTS.
  Result<Breach> RecordBreach(const NewBreach& breach, std::optional<Timestamp> at,
                              const std::string& actor = "system");
  // A later step: a new assessment, measures, the report to the regulator (a report after the
  // deadline needs the reasons for the delay, Article 33(1)), closing (only once assessed,
  // reported where a report is needed, and the people told where they must be or the reason
  // they were not recorded). Errors: UNKNOWN_BREACH, BREACH_STATE_INVALID (closed, or not ready
  // to close), INVALID_ARGUMENT, CONFLICT (changed concurrently).
  Result<Breach> ChangeBreach(const std::string& breach_id, const BreachChange& change,
                              std::optional<Timestamp> at, const std::string& actor = "system");
  // Queues the clear-language notice (BreachNoticeFor) to every person the breach touched who
  // can still be reached (an e-mail address, else a phone number; verified ones first), through
  // the outbox ("requester" endpoint). Only when the people must be told (PeopleMustBeTold) and
  // not told before. Errors: UNKNOWN_BREACH, BREACH_STATE_INVALID.
  Result<Breach> TellPeopleOfBreach(const std::string& breach_id, std::optional<Timestamp> at,
                                    const std::string& actor = "system");
  // One breach, audited as a read. Errors: UNKNOWN_BREACH. PII: the details.
  Result<Breach> ViewBreach(const std::string& breach_id, const std::string& actor = "system");
  // The register, in order of awareness, audited as a read. PII: the details.
  Result<std::vector<Breach>> ListBreaches(const std::string& actor = "system");
  // The people (subject ids, in order) and the number of records `scope` covers in the store.
  struct BreachReach {
    std::vector<std::string> subject_ids;
    int64_t records = 0;
  };
  Result<BreachReach> PeopleInBreachScope(const BreachScope& scope);

  // --- Import (engine_import.cc; import.h)
  // Stores people read from an export: each new external id becomes a subject (id
  // ImportedSubjectId) with its identifiers, records, historic events and consents, and one
  // `import` audit entry. The whole batch is ONE transaction: all of its people or none, so an
  // import killed mid-way leaves whole batches only, and running it again skips what is there.
  // Per person (outcomes in input order): kImported; kSkipped when the external id was imported
  // before (its subject is left as it is, erased ones too: an erased person is not brought
  // back) or appears earlier in the batch; kRejected with the reason when a value breaks the
  // rules PutRecord, RecordEvent, ChangeConsent and AddSubject apply. A person whose identifier
  // is on the suppression list is imported, but consents given to direct-marketing purposes
  // are withheld (counted in consents_withheld): a suppressed person is not re-subscribed.
  // Errors: the store's (nothing of the batch is stored). PII: every value is sealed with the
  // person's new data key; identifiers and the external id are blind-indexed.
  Result<std::vector<ImportOutcome>> ImportBatch(const std::vector<ImportPerson>& people,
                                                 const std::string& actor = "system");
  // The subject id an external id gets on import: "x_" and 24 hex digits of a keyed hash, so
  // the same person gets the same id on every run, and the id does not reveal the external id.
  // The external id itself is not stored.
  std::string ImportedSubjectId(const std::string& external_id) const;

  // --- The organisation's own systems (engine_systems.cc; the policy's `systems:`) ---
  // `systems` must outlive the engine. Until systems are attached, a policy's systems count as
  // unreachable: erasure and access requests wait for them (SYSTEM_UNAVAILABLE) or for the
  // DPO to waive them.
  void AttachSystems(SystemConnectors* systems) { systems_ = systems; }
  // Connection, tables, columns and rows per dataset of every system; audited.
  Result<std::vector<SystemCheck>> CheckSystems(const std::string& actor);
  // What fulfilling request R will do in each system (erasure: each row's and field's action,
  // what is kept and why; access and portability: the rows gathered), changing nothing. A
  // system that cannot be reached has its error in its plan. Audited (a read of the people).
  Result<std::vector<SystemPlan>> PlanRequestInSystems(const std::string& request_id,
                                                       const std::string& actor);
  // Records the DPO's reason why `system` cannot answer request R (a request may then complete
  // without it; the reason stays sealed with the request and is in its result). Errors:
  // UNKNOWN_REQUEST, INVALID_ARGUMENT (no such system, no reason), REQUEST_STATE_INVALID.
  Status WaiveSystem(const std::string& request_id, const std::string& system,
                     const std::string& reason, std::optional<Timestamp> at,
                     const std::string& actor);
  // Retention in the systems: for each dataset with a `retention` rule, the rows whose date
  // column is older than the rule's period (counted to the day) are erased as the rule says
  // (delete: the dataset's erasure actions; anonymise: its field actions, rows never deleted,
  // the rule's `keep` categories kept), `batch` rows at a time, unless a legal hold covers the
  // person the row belongs to (found by its find_by identifiers). `apply` false: counts only.
  // A system that cannot be reached has its error in its lines; the others are swept.
  Result<std::vector<SystemRetentionLine>> SweepSystemsRetention(bool apply, int64_t batch,
                                                                 std::optional<Timestamp> at,
                                                                 const std::string& actor);
  // Fulfils again each open request whose last fulfilment stopped because a system could not
  // answer (its history's last `systems_waiting` follows its last `fulfilment_started`): what
  // `custos serve` does on its retention schedule, so a request finishes once its systems are
  // back. Returns how many completed; one that still waits stays as it is.
  Result<int64_t> RetryRequestsWaitingForSystems(const std::string& actor);

  // The decision cache holds at most `people` people (default 1M); the least used go first.
  void LimitCachedSubjects(size_t people) { cache_.SetCapacity(people); }
  size_t cached_subjects() const { return cache_.size(); }
  SubjectCacheStats subject_cache_stats() const { return cache_.Stats(); }
  bool IsCachedForTesting(const std::string& subject_id) const {
    return cache_.Contains(subject_id);
  }
  // Installs a subject's decision state directly (benchmarks build 1M subjects this way).
  void PutStateForTesting(SubjectState state) { cache_.Put(std::move(state)); }

 private:
  // Rights requests (request_*.cc; what those files share is in request_internal.h).
  // The request as kept (request_record.cc).
  std::string RequestKeyContext(const std::string& request_id) const;
  Result<OpenedRequest> OpenRequestOfType(const NewRequest& request, int64_t* retry_after_seconds,
                                          bool sign_in);
  // The subjects a live preferences sign-in opens (my_preferences.cc).
  Result<std::vector<std::string>> SignedInSubjects(const std::string& sign_in_id,
                                                    const std::string& secret);
  Result<store::RequestRow> LoadRequest(const std::string& request_id);
  Result<crypto::SecretKey> RequestKey(const store::RequestRow& row);
  void AddRequestStep(store::WriteBatch& batch, store::RequestRow& row, int64_t old_version,
                      const std::string& event, store::RequestState state,
                      const std::string& detail, const std::string& actor, Timestamp at);
  // Intake (request_intake.cc) and the month (request_clock.cc).
  store::Bytes RequestSecretHash(const std::string& request_id, const std::string& kind,
                                 const std::string& secret) const;
  Result<Timestamp> ResponseDue(Timestamp clock_start, bool extended) const;
  // TOO_MANY_CODES when `contact` had kMaxCodesPerAddressPerDay codes in the 24 hours before
  // `at` (then *retry_after_seconds, when given, is the wait); else adds this send to `batch`
  // and forgets sends older than a day.
  Status CountCodeSend(store::WriteBatch& batch, const RequestIdentifier& contact, Timestamp at,
                       int64_t* retry_after_seconds);
  // The outbox (request_outbox.cc) and Article 19 notices (request_notices.cc).
  Status AddRequesterMessage(store::WriteBatch& batch, const store::RequestRow& row,
                             const crypto::SecretKey& key, const RequestIdentifier& contact,
                             const std::string& subject_line, const std::string& body,
                             const std::string& code, Timestamp at);
  Status AddOutboxMessage(store::WriteBatch& batch, const store::RequestRow& row,
                          const crypto::SecretKey& key, const std::string& kind,
                          const std::string& target, const std::string& payload, Timestamp at);
  Status AddOutboxMessage(store::WriteBatch& batch, const std::string& reference,
                          const crypto::SecretKey& key, const std::string& key_context,
                          const std::string& kind, const std::string& target,
                          const std::string& payload, Timestamp at);
  // The breach an outbox message belongs to, or nullopt for a request's or a person's message.
  static std::optional<std::string> BreachOfMessage(const store::OutboxRow& message);
  // The person an outbox message is addressed to on its own (a notice of a changed policy:
  // reference "person:" and a subject id), or nullopt for a request's or breach's message.
  static std::optional<std::string> PersonOfMessage(const store::OutboxRow& message);
  // Calls `visit` for every person of the controller, page by page in subject_id order (each
  // page one consistent snapshot), stopping at its first error.
  Status ForEachPerson(const std::function<Status(const store::SweepSubject&)>& visit);
  // Commits `batch` (no audit entry of its own) when it holds anything, and empties it: a part
  // of a long run of writes whose last commit carries the run's entry.
  Status CommitPart(store::WriteBatch& batch);
  // Queues a notice of the material `changes` (the policy before them: `before`) to every
  // active person one reaches who has an e-mail address (engine_policy_change.cc).
  struct ChangeNotices {
    int64_t queued = 0, without_address = 0, queued_before = 0;
  };
  Result<ChangeNotices> QueuePolicyChangeNotices(const policy::Policy& before,
                                                 const std::vector<policy::PolicyChange>& changes,
                                                 Timestamp at);
  // An outbox message's payload, opened with its request's, breach's or person's key.
  Result<std::string> OpenOutboxPayload(const store::OutboxRow& message);
  // The breach register (engine_breach.cc).
  std::string BreachKeyContext(const std::string& breach_id) const;
  Result<store::BreachRow> LoadBreachRow(const std::string& breach_id);
  Result<crypto::SecretKey> BreachKey(const store::BreachRow& row);
  Result<Breach> LoadBreach(const std::string& breach_id);
  Result<Breach> OpenBreach(const store::BreachRow& row);  // its details unsealed
  // Adds `breach` (its details sealed again) as the next version of its row to `batch`.
  Status AddBreachUpdate(store::WriteBatch& batch, Breach& breach, Timestamp at);
  Status CheckBreachScope(const BreachScope& scope) const;
  crypto::SecretKey EndpointKey() const;
  // Free text staff type, sealed in its text column (sealed_notes.cc): under `key` (a
  // person's data key, or NoteKey() where there is no person) with `context` as associated
  // data. OpenNote reads a row written before notes were sealed as it is.
  std::string SealNote(const crypto::SecretKey& key, std::string_view text,
                       const std::string& context) const;
  Result<std::string> OpenNote(const crypto::SecretKey& key, const std::string& stored,
                               const std::string& context) const;
  crypto::SecretKey NoteKey() const;
  Result<bool> StaysManual(const store::OutboxRow& message,
                           const std::vector<store::OutboxRow>& outbox, Timestamp at);
  Status AddRecipientNotice(store::WriteBatch& batch, const store::RequestRow& row,
                            const crypto::SecretKey& key, const std::string& target,
                            const std::string& action, const std::vector<std::string>& categories,
                            Timestamp at);
  Result<std::vector<std::pair<std::string, std::vector<std::string>>>> RecipientsOf(
      const std::vector<std::string>& categories, const std::vector<std::string>& subject_ids);
  // Fulfilment (request_fulfilment.cc), and the part for each type of request, which adds what
  // it does to `work` for FulfilRequest to commit: access and portability (request_access.cc),
  // rectification (request_rectification.cc), erasure (request_erasure.cc), restriction,
  // objection and consent withdrawal (request_processing_limits.cc).
  std::string ComplaintRoute() const;
  Status FulfilAccess(const store::RequestRow& row, Timestamp at, const std::string& actor,
                      internal::Fulfilment& work);
  Status FulfilRectification(const store::RequestRow& row, Timestamp at, const std::string& actor,
                             internal::Fulfilment& work);
  Status FulfilErasure(const store::RequestRow& row, Timestamp at, const std::string& actor,
                       internal::Fulfilment& work);
  // Why erasure keeps an item: the ground (legal_obligation, legal_claims, research_article_89,
  // ..., retention_rule) and what the person is told.
  struct KeptReason {
    std::string ground, told;
  };
  std::optional<KeptReason> ErasureKeeps(const store::SubjectRow& subject,
                                         std::string_view category, std::string_view purpose,
                                         bool is_identifier,
                                         const std::vector<store::LegalHoldRow>& holds,
                                         Timestamp at) const;
  Status FulfilRestriction(const store::RequestRow& row, Timestamp at, const std::string& actor,
                           internal::Fulfilment& work);
  Status FulfilObjection(const store::RequestRow& row, Timestamp at, const std::string& actor,
                         internal::Fulfilment& work);
  Status FulfilConsentWithdrawal(const store::RequestRow& row, Timestamp at,
                                 const std::string& actor, internal::Fulfilment& work);

  // The systems' part of a request (engine_systems.cc): the identifiers of its people, and
  // the plan for each system (applied when `apply`); gathered rows go to `gathered`.
  Result<PersonIdentifiers> RequestPeople(const store::RequestRow& row);
  Result<std::vector<SystemPlan>> ReachSystems(const store::RequestRow& row,
                                               const internal::Details& details, bool apply,
                                               Timestamp at, std::vector<SystemRows>* gathered);
  // Erasure and access in the systems, for FulfilErasure and FulfilAccess: every system
  // answers or is waived, else SYSTEM_UNAVAILABLE (what was done stays done and is audited).
  // EraseInSystems returns its part of the request's summary ("; crm: 2 row(s) deleted, ...").
  Result<std::string> EraseInSystems(const store::RequestRow& row, Timestamp at,
                                     const std::string& actor, internal::Fulfilment& work);
  Status GatherFromSystems(const store::RequestRow& row, Timestamp at, const std::string& actor,
                           std::vector<SystemRows>& gathered);
  // The request event that says which systems a request waits for.
  store::WriteBatch WaitingForSystems(const store::RequestRow& row,
                                      const std::vector<SystemPlan>& plans, Timestamp at);
  std::string SystemHash(const std::string& system, const std::string& dataset,
                         const std::string& column, const std::string& value) const;

  // The checks PutRecord makes of a record's purpose, source and category. INVALID_ARGUMENT.
  Status CheckRecordFields(const std::string& category, const std::string& source,
                           const std::string& purpose) const;
  Result<std::optional<SubjectState>> LoadState(const std::string& subject_id);
  // A consent change's row (checked against the policy; evidence sealed) and its key in
  // SubjectState::consent; its audit entry; and the change noted in the decision cache.
  Result<store::WriteBatch> ConsentBatch(const ConsentChangeRequest& request, Timestamp at,
                                         std::string& key);
  AuditEntry ConsentEntry(const ConsentChangeRequest& request, Timestamp at,
                          const std::string& key) const;
  void NoteConsentInCache(const std::string& subject_id, const std::string& key, Timestamp at,
                          bool given);
  // Records a decision's audit entry as decision_audit_ says (durably, or buffered).
  Status RecordDecision(AuditEntry&& entry);
  // Decides and fills `entry` with the decision's audit entry, recording nothing.
  Result<Decision> DecideUnrecorded(const DecisionRequest& request, AuditEntry& entry);
  Result<RetentionReport> SweepRetention(const RetentionOptions& options, bool apply);
  Result<store::SubjectRow> ActiveSubject(const std::string& subject_id);
  Result<crypto::SecretKey> DataKey(const store::SubjectRow& subject);
  std::string KeyContext(const std::string& subject_id) const;
  AuditEntry Entry(const std::string& actor, const std::string& action,
                   const std::string& subject_id, Timestamp at, std::string detail = {},
                   std::string purpose = {}) const;
  Timestamp At(std::optional<Timestamp> at) const { return at ? *at : clock_.Now(); }
  store::Bytes IdentifierHash(const std::string& kind, const std::string& value) const;
  store::Bytes SuppressionHash(const std::string& kind, const std::string& value) const;
  // What the audit log keeps for a subject id no subject has: "unknown:" and a keyed hash of
  // the id (the same id gives the same marker), never the id, which may be an email or a phone
  // number a caller sent by mistake.
  std::string UnknownSubjectMarker(const std::string& subject_id) const;

  policy::Policy policy_;
  std::string controller_;
  store::Store& store_;
  const crypto::MasterKey& master_key_;
  const Clock& clock_;
  const DecisionAudit decision_audit_;
  AuditLog audit_;
  SubjectStateCache cache_;
  SystemConnectors* systems_ = nullptr;
  std::mutex systems_mutex_;           // one caller at a time on the connectors
  mutable std::mutex catch_up_mutex_;  // serialises CatchUpWithOtherWriters; guards below
  CatchUpStats catch_up_;              // through_seq: the last audit entry read
};

}  // namespace custos::engine

#endif  // CUSTOS_ENGINE_ENGINE_H_
