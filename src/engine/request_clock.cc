// Engine: a rights request's month (engine/response_deadline.h). The due date from the day
// the clock starts, with the policy's extension; the pauses while the request waits for the
// person (clarification or a fee) and the restart when they answer; the extension itself, told
// to the person within the first month; and the lists of open, soon-due and overdue requests.
#include <string>

#include "engine/engine.h"
#include "engine/request_internal.h"
#include "engine/response_deadline.h"

namespace custos::engine {

namespace {

using internal::Details;
using internal::Invalid;
using internal::Join;
using internal::ReadDetails;
using store::RequestState;

}  // namespace

Result<Timestamp> Engine::ResponseDue(Timestamp clock_start, bool extended) const {
  std::optional<UkNation> nation = UkNationFromKey(policy_.rights.bank_holidays);
  if (!nation.has_value()) nation = UkNation::kEnglandAndWales;
  if (!policy_.rights.response_period.value.has_value()) {
    return Status(ErrorCode::kPolicyInvalid, "the policy's response period is malformed");
  }
  IsoPeriod period = *policy_.rights.response_period.value;
  if (extended) {
    if (!policy_.rights.extension_max || !policy_.rights.extension_max->value) {
      return Status(ErrorCode::kExtensionNotAllowed, "the policy states no extension");
    }
    const IsoPeriod& more = *policy_.rights.extension_max->value;
    period.years += more.years;
    period.months += more.months;
    period.days += more.days;
  }
  return Timestamp::FromDate(ResponseDueDate(clock_start.Date(), period, *nation));
}

Status Engine::AwaitRequester(const std::string& request_id, const std::string& what,
                              std::optional<Timestamp> at_opt, const std::string& actor) {
  if (what != "clarification" && what != "fee") return Invalid("wait for clarification or fee");
  if (what == "fee" && policy_.rights.fee != "reasonable_if_unfounded_or_excessive") {
    return Status(
        ErrorCode::kFeeNotAllowed,
        "the policy promises no fee for requests (rights.fee is '" +
            (policy_.rights.fee.empty() ? std::string("not stated") : policy_.rights.fee) + "')");
  }
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  Timestamp at = At(at_opt);
  if (row.state != RequestState::kInProgress && row.state != RequestState::kExtended) {
    return Status(ErrorCode::kRequestState, "request " + request_id + " is not in progress");
  }
  if (!row.waiting_for.empty()) {
    return Status(ErrorCode::kRequestState,
                  "request " + request_id + " already waits for " + row.waiting_for);
  }
  ASSIGN_OR_RETURN(crypto::SecretKey key, RequestKey(row));
  ASSIGN_OR_RETURN(Details details, ReadDetails(key, row, RequestKeyContext(row.request_id)));
  const int64_t version = row.version;
  row.waiting_for = what;
  row.due_at.reset();
  store::WriteBatch batch;
  AddRequestStep(batch, row, version, what + "_requested", row.state,
                 "the month stops until the " + what + " arrives", actor, at);
  RETURN_IF_ERROR(AddRequesterMessage(
      batch, row, key, details.contact,
      what == "fee" ? "A fee for your request" : "We need more information about your request",
      what == "fee"
          ? "Your request is manifestly unfounded or excessive, so " + policy_.controller.name +
                " asks a reasonable fee before dealing with it. The one-month time limit starts "
                "when we receive it. " +
                ComplaintRoute()
          : "To answer your request for " + std::string(RequestTypeInWords(row.type)) + ", " +
                policy_.controller.name +
                " needs you to tell us more about what you are asking for. The one-month time "
                "limit starts again when we receive your answer.",
      "", at));
  return audit_
      .Commit(std::move(batch), {Entry(actor, "request_wait", "", at, request_id + " " + what)})
      .status();
}

Status Engine::RequesterAnswered(const std::string& request_id, std::optional<Timestamp> at_opt,
                                 const std::string& actor) {
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  Timestamp at = At(at_opt);
  if (!IsOpen(row.state) || (row.waiting_for != "clarification" && row.waiting_for != "fee")) {
    return Status(ErrorCode::kRequestState,
                  "request " + request_id + " is not waiting for clarification or a fee");
  }
  const int64_t version = row.version;
  std::string what = row.waiting_for;
  row.waiting_for.clear();
  row.clock_started_at = at;
  ASSIGN_OR_RETURN(row.due_at, ResponseDue(at, row.state == RequestState::kExtended));
  store::WriteBatch batch;
  AddRequestStep(batch, row, version, what + "_received", row.state,
                 "the month runs again from today; due " + row.due_at->Date().ToString(), actor,
                 at);
  return audit_.Commit(std::move(batch), {Entry(actor, "request_resume", "", at, request_id)})
      .status();
}

Status Engine::ExtendRequest(const std::string& request_id, const std::string& reason,
                             std::optional<Timestamp> at_opt, const std::string& actor) {
  if (reason != "complex" && reason != "numerous") {
    return Invalid("an extension's reason is complex or numerous (Article 12(3))");
  }
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  Timestamp at = At(at_opt);
  if (row.state != RequestState::kInProgress || !row.due_at || !row.clock_started_at) {
    return Status(ErrorCode::kRequestState,
                  "request " + request_id + " is not in progress with its month running");
  }
  // The person must be told within the first month.
  if (at.Date() > row.due_at->Date()) {
    return Status(ErrorCode::kExtensionNotAllowed,
                  "request " + request_id +
                      ": an extension must be decided and told to the "
                      "person within the first month (due " +
                      row.due_at->Date().ToString() + ")");
  }
  ASSIGN_OR_RETURN(Timestamp extended_due, ResponseDue(*row.clock_started_at, true));
  ASSIGN_OR_RETURN(crypto::SecretKey key, RequestKey(row));
  ASSIGN_OR_RETURN(Details details, ReadDetails(key, row, RequestKeyContext(row.request_id)));
  const int64_t version = row.version;
  row.due_at = extended_due;
  row.extended_at = at;
  store::WriteBatch batch;
  AddRequestStep(batch, row, version, "extended", RequestState::kExtended,
                 reason + "; due " + extended_due.Date().ToString(), actor, at);
  std::string why =
      reason == "complex" ? "your request is complex" : "you have made a number of requests";
  if (!policy_.rights.extension_when.empty()) why += " (" + policy_.rights.extension_when + ")";
  RETURN_IF_ERROR(AddRequesterMessage(
      batch, row, key, details.contact, "We need more time to answer your request",
      policy_.controller.name + " needs more time to answer your request for " +
          std::string(RequestTypeInWords(row.type)) + " because " + why + ". We will answer by " +
          extended_due.Date().ToHuman() + ". " + ComplaintRoute(),
      "", at));
  return audit_
      .Commit(std::move(batch), {Entry(actor, "request_extend", Join(row.subject_ids), at,
                                       request_id + " " + reason)})
      .status();
}

Result<std::vector<store::RequestRow>> Engine::ListRequests(RequestListFilter filter,
                                                            std::optional<Timestamp> as_of_opt,
                                                            int within_days) {
  Timestamp as_of = At(as_of_opt);
  ASSIGN_OR_RETURN(std::vector<store::RequestRow> rows,
                   store_.ListRequests(controller_, filter != RequestListFilter::kAll));
  std::vector<store::RequestRow> out;
  // Due dates are days: a request due today is not overdue until tomorrow.
  const int64_t today = DaysFromCivil(as_of.Date());
  for (auto& row : rows) {
    // Sign-ins to "my preferences" are no work for anyone: only the full list shows them.
    if (filter != RequestListFilter::kAll && row.type == kPreferencesSignIn) continue;
    if (filter == RequestListFilter::kDueSoon &&
        (!row.due_at || DaysFromCivil(row.due_at->Date()) < today ||
         DaysFromCivil(row.due_at->Date()) > today + within_days)) {
      continue;
    }
    if (filter == RequestListFilter::kOverdue &&
        (!row.due_at || DaysFromCivil(row.due_at->Date()) >= today)) {
      continue;
    }
    row.wrapped_key.clear();
    row.sealed_details.clear();
    row.sealed_result.clear();
    row.code_hash.clear();
    row.access_hash.clear();
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace custos::engine
