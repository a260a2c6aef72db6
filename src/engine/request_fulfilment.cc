// Engine: how a rights request ends. FulfilRequest claims the request (so that of two
// fulfilling it at once only one acts), has the part for its type do the work (request_access.cc,
// request_rectification.cc, request_erasure.cc, request_processing_limits.cc; an automated-
// decision review only records the reviewer's outcome), tells the recipients of changed data
// (Article 19, request_notices.cc) and the person, and completes it in one transaction.
// RefuseRequest and WithdrawRequest end it otherwise. Every answer to the person ends with the
// route to the regulator (ComplaintRoute).
#include <algorithm>
#include <functional>

#include "crypto/sealing.h"
#include "engine/engine.h"
#include "engine/request_internal.h"

namespace custos::engine {

namespace {

using internal::Details;
using internal::Invalid;
using internal::Join;
using internal::ReadDetails;
using store::RequestState;

// A fulfilment claimed this long ago and neither completed nor released was abandoned (its
// process died): another may claim the request again. Far longer than any fulfilment takes.
constexpr int64_t kFulfilmentClaimLeaseMicros = int64_t{10} * 60 * 1000000;

}  // namespace

// The sentence every refusal and every answer ends with: the right to complain (Article 77).
std::string Engine::ComplaintRoute() const {
  const policy::Regulator& r = policy_.regulator;
  std::string name = r.name.empty() ? std::string("Information Commissioner's Office") : r.name;
  if (name.rfind("the ", 0) != 0 && name.rfind("The ", 0) != 0) name = "the " + name;
  std::string text = "You have the right to complain to " + name;
  if (!r.website.empty()) text += " (" + r.website + ")";
  if (!r.phone.empty()) text += ", telephone " + r.phone;
  return text + ".";
}

Result<RequestView> Engine::FulfilRequest(const std::string& request_id, const std::string& outcome,
                                          std::optional<Timestamp> at_opt,
                                          const std::string& actor) {
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  Timestamp at = At(at_opt);
  if (row.state != RequestState::kInProgress && row.state != RequestState::kExtended) {
    return Status(ErrorCode::kRequestState, "request " + request_id + " is " +
                                                std::string(store::RequestStateName(row.state)) +
                                                ", not in progress");
  }
  if (!row.waiting_for.empty()) {
    return Status(ErrorCode::kRequestState,
                  "request " + request_id + " waits for " + row.waiting_for);
  }
  if (row.type == "automated_decision_review" && outcome.empty()) {
    return Invalid("a human review of an automated decision ends with its outcome (--outcome)");
  }
  ASSIGN_OR_RETURN(crypto::SecretKey key, RequestKey(row));
  internal::Fulfilment work;
  ASSIGN_OR_RETURN(work.details, ReadDetails(key, row, RequestKeyContext(row.request_id)));

  // Claim the fulfilment first: of two processes (or two staff) fulfilling one request, only the
  // one whose claim commits goes on, so nothing is done twice. The claim is a versioned update,
  // which stops a second claimant that read the request before it; one that reads the request
  // after it (while the first is still at work) finds the claim, not yet followed by its
  // completion or release, in the history: read after the row, so a claim the row shows is in
  // it. A claim older than kFulfilmentClaimLeaseMicros is taken for abandoned.
  {
    ASSIGN_OR_RETURN(std::vector<store::RequestEventRow> history,
                     store_.ListRequestEvents(controller_, request_id));
    for (auto it = history.rbegin(); it != history.rend(); ++it) {
      if (it->event == "fulfilment_failed") break;
      if (it->event != "fulfilment_started") continue;
      if (at.micros < it->at.micros + kFulfilmentClaimLeaseMicros) {
        return Status(ErrorCode::kConflict,
                      "request " + request_id + " is being fulfilled elsewhere");
      }
      break;
    }
    int64_t version = row.version;
    store::WriteBatch claim;
    AddRequestStep(claim, row, version, "fulfilment_started", row.state, row.type, actor, at);
    Status claimed = audit_.Commit(std::move(claim), {}).status();
    if (claimed.code() == ErrorCode::kInvalidArgument) {
      return Status(ErrorCode::kConflict,
                    "request " + request_id + " is being fulfilled elsewhere");
    }
    RETURN_IF_ERROR(claimed);
  }
  // Whatever stops the fulfilment from here on releases the claim (best effort: a release that
  // fails leaves the claim to its lease), so the request can be fulfilled again at once.
  bool completed = false;
  struct ReleaseUnlessCompleted {
    std::function<void()> release;
    ~ReleaseUnlessCompleted() { release(); }
  } release_claim{[&] {
    if (completed) return;
    auto current = LoadRequest(request_id);
    if (!current.ok() || !IsOpen(current->state)) return;
    store::WriteBatch release;
    AddRequestStep(release, *current, current->version, "fulfilment_failed", current->state,
                   row.type, actor, at);
    (void)audit_.Commit(std::move(release), {});
  }};

  // What the part for the request's type did, under the names the steps below use.
  Details& details = work.details;
  std::vector<FulfilmentItem>& items = details.items;
  store::WriteBatch& batch = work.batch;
  std::vector<AuditEntry>& audit = work.audit;
  std::vector<std::string>& touched = work.touched;
  std::vector<std::string>& affected_categories = work.affected_categories;
  std::string& result_json = work.result_json;
  std::string& summary = work.summary;
  const std::string subjects = Join(row.subject_ids);

  if (row.type == "access" || row.type == "portability") {
    RETURN_IF_ERROR(FulfilAccess(row, at, actor, work));
  } else if (row.type == "rectification") {
    RETURN_IF_ERROR(FulfilRectification(row, at, actor, work));
  } else if (row.type == "erasure") {
    RETURN_IF_ERROR(FulfilErasure(row, at, actor, work));
  } else if (row.type == "restriction") {
    RETURN_IF_ERROR(FulfilRestriction(row, at, actor, work));
  } else if (row.type == "objection") {
    RETURN_IF_ERROR(FulfilObjection(row, at, actor, work));
  } else if (row.type == "withdraw_consent") {
    RETURN_IF_ERROR(FulfilConsentWithdrawal(row, at, actor, work));
  } else {  // automated_decision_review: a person has reviewed it; record what they decided
    // The reviewer's words may be about the person: they stay sealed with the request.
    items.push_back({subjects, "", "human_review", "", outcome});
    summary = "human review done by " + actor;
  }

  // Article 19: tell each recipient of the changed data, through the durable outbox.
  if (row.type == "rectification" || row.type == "erasure" || row.type == "restriction") {
    std::sort(affected_categories.begin(), affected_categories.end());
    affected_categories.erase(std::unique(affected_categories.begin(), affected_categories.end()),
                              affected_categories.end());
    std::string action = row.type == "rectification" ? "rectify"
                         : row.type == "erasure"     ? "erase"
                                                     : "restrict";
    ASSIGN_OR_RETURN(auto recipients, RecipientsOf(affected_categories, row.subject_ids));
    for (const auto& [recipient, categories] : recipients) {
      RETURN_IF_ERROR(AddRecipientNotice(batch, row, key, recipient, action, categories, at));
    }
  }

  const int64_t version = row.version;
  row.closed_at = at;
  row.outcome = summary;
  row.sealed_details =
      crypto::Seal(key, details.ToJson(), RequestKeyContext(request_id) + "/details");
  if (!result_json.empty()) {
    row.sealed_result = crypto::Seal(key, result_json, RequestKeyContext(request_id) + "/result");
  }
  AddRequestStep(batch, row, version, "completed", RequestState::kCompleted, summary, actor, at);
  // What was kept and why is told to the person (and stays, non-personal, in the history).
  std::string kept_text;
  for (const auto& item : items) {
    if (item.action != "kept") continue;
    batch.Add(store::RequestEventRow{controller_, request_id, 0, at, actor, "kept", row.state,
                                     item.subject_id + " " + item.category + ": " + item.reason});
    kept_text += "\n- " + policy_.CategoryName(item.category) + ": " + item.detail;
    if (!item.detail.empty() && item.detail.back() != '.') kept_text += '.';
  }
  std::string body = policy_.controller.name + " has dealt with your request for " +
                     std::string(RequestTypeInWords(row.type)) + ": " + summary + ".";
  // Sentences follow one another on a line; the list of kept items ends its own line.
  auto add = [&body](const std::string& sentence) {
    if (!body.empty() && body.back() != '\n') body += ' ';
    body += sentence;
  };
  if (!kept_text.empty()) add("We have kept some information, and why:" + kept_text + "\n");
  if (row.type == "access" || row.type == "portability") {
    add("Your copy is ready to download for 30 days.");
  }
  if (row.type == "automated_decision_review") add("The outcome of the review: " + outcome + ".");
  add(ComplaintRoute());
  RETURN_IF_ERROR(AddRequesterMessage(batch, row, key, details.contact,
                                      "Your request has been completed", body, "", at));
  audit.push_back(Entry(actor, "request_complete", subjects, at, request_id + " " + summary));
  Status committed = audit_.Commit(std::move(batch), std::move(audit)).status();
  if (committed.code() == ErrorCode::kInvalidArgument) {
    return Status(ErrorCode::kConflict,
                  "request " + request_id + ": the data changed while it was fulfilled; try again");
  }
  RETURN_IF_ERROR(committed);
  completed = true;
  for (const auto& id : touched) cache_.Forget(id);
  return ViewRequest(request_id, actor);
}

Status Engine::RefuseRequest(const std::string& request_id, const std::string& reason,
                             std::optional<Timestamp> at_opt, const std::string& actor) {
  if (!IsRefusalReason(reason)) {
    return Invalid(
        "a refusal's reason is manifestly_unfounded, manifestly_excessive, "
        "identity_not_verified, exemption or not_a_valid_request");
  }
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  Timestamp at = At(at_opt);
  if (!CanMove(row.state, RequestState::kRefused)) {
    return Status(ErrorCode::kRequestState, "request " + request_id + " is closed");
  }
  ASSIGN_OR_RETURN(crypto::SecretKey key, RequestKey(row));
  ASSIGN_OR_RETURN(Details details, ReadDetails(key, row, RequestKeyContext(row.request_id)));
  const int64_t version = row.version;
  row.closed_at = at;
  row.outcome = "refused:" + reason;
  row.waiting_for.clear();
  store::WriteBatch batch;
  AddRequestStep(batch, row, version, "refused", RequestState::kRefused, reason, actor, at);
  std::string why = reason;
  std::replace(why.begin(), why.end(), '_', ' ');
  RETURN_IF_ERROR(
      AddRequesterMessage(batch, row, key, details.contact, "Your request has been refused",
                          policy_.controller.name + " will not act on your request for " +
                              std::string(RequestTypeInWords(row.type)) + ". The reason: " + why +
                              ". " + ComplaintRoute() +
                              " You may also seek to enforce your rights through the "
                              "courts.",
                          "", at));
  return audit_
      .Commit(std::move(batch), {Entry(actor, "request_refuse", Join(row.subject_ids), at,
                                       request_id + " " + reason)})
      .status();
}

Status Engine::WithdrawRequest(const std::string& request_id, std::optional<Timestamp> at_opt,
                               const std::string& actor) {
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  Timestamp at = At(at_opt);
  if (!CanMove(row.state, RequestState::kWithdrawn)) {
    return Status(ErrorCode::kRequestState, "request " + request_id + " is closed");
  }
  const int64_t version = row.version;
  row.closed_at = at;
  row.outcome = "withdrawn";
  row.waiting_for.clear();
  store::WriteBatch batch;
  AddRequestStep(batch, row, version, "withdrawn", RequestState::kWithdrawn,
                 "withdrawn by the person", actor, at);
  return audit_.Commit(std::move(batch), {Entry(actor, "request_withdraw", "", at, request_id)})
      .status();
}

}  // namespace custos::engine
