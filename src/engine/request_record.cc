// Engine: a rights request as it is kept. Loading it by id; its own data key, which seals its
// personal parts (the details, internal::Details in request_internal.h, the answer and the
// outbox payloads); the steps of its history, each a versioned update of the row with an event;
// reading it back whole (ViewRequest); and, once it has been closed 30 days, shredding its
// personal parts so that only the history remains as proof (PurgeClosedRequests).
#include <algorithm>

#include "crypto/sealing.h"
#include "engine/engine.h"
#include "engine/request_internal.h"

namespace custos::engine {

namespace {

using internal::Details;
using internal::Join;
using internal::ReadDetails;
using store::OutboxState;
using store::RequestState;

// The answer prepared for the person (an access package, an export) stays downloadable this
// long after the request closes; then the request's personal parts are shredded.
constexpr int64_t kResultKeptMicros = int64_t{30} * 24 * 3600 * 1000000;

}  // namespace

std::string Engine::RequestKeyContext(const std::string& request_id) const {
  return controller_ + "/request/" + request_id;
}

Result<store::RequestRow> Engine::LoadRequest(const std::string& request_id) {
  ASSIGN_OR_RETURN(std::optional<store::RequestRow> row,
                   store_.GetRequest(controller_, request_id));
  if (!row.has_value()) return Status(ErrorCode::kUnknownRequest, "no request " + request_id);
  return std::move(*row);
}

Result<crypto::SecretKey> Engine::RequestKey(const store::RequestRow& row) {
  if (row.wrapped_key.empty()) {
    return Status(ErrorCode::kRequestState,
                  "request " + row.request_id + ": its personal parts were shredded");
  }
  return crypto::UnwrapDataKey(master_key_, row.wrapped_key, RequestKeyContext(row.request_id));
}

// Adds the history step and the row update to `batch`; the row's version moves on.
void Engine::AddRequestStep(store::WriteBatch& batch, store::RequestRow& row, int64_t old_version,
                            const std::string& event, RequestState state, const std::string& detail,
                            const std::string& actor, Timestamp at) {
  row.state = state;
  row.version = old_version + 1;
  batch.Add(store::UpdateRequest{row, old_version});
  batch.Add(
      store::RequestEventRow{controller_, row.request_id, 0, at, actor, event, state, detail});
}

Result<RequestView> Engine::ViewRequest(const std::string& request_id, const std::string& actor) {
  ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(request_id));
  RequestView view;
  ASSIGN_OR_RETURN(view.history, store_.ListRequestEvents(controller_, request_id));
  ASSIGN_OR_RETURN(view.outbox, store_.ListOutbox(controller_, request_id));
  for (auto& message : view.outbox) message.sealed_payload.clear();
  view.personal_parts_shredded = row.wrapped_key.empty();
  if (!view.personal_parts_shredded) {
    ASSIGN_OR_RETURN(crypto::SecretKey key, RequestKey(row));
    ASSIGN_OR_RETURN(Details details, ReadDetails(key, row, RequestKeyContext(row.request_id)));
    view.contact = std::move(details.contact);
    view.categories = std::move(details.categories);
    view.purpose = std::move(details.purpose);
    view.note = std::move(details.note);
    view.rectifications = std::move(details.rectifications);
    view.items = std::move(details.items);
  }
  row.wrapped_key.clear();
  row.sealed_details.clear();
  row.sealed_result.clear();
  row.code_hash.clear();
  row.access_hash.clear();
  view.row = std::move(row);
  audit_.Record(Entry(actor, "request_read", Join(view.row.subject_ids), clock_.Now(), request_id));
  return view;
}

Result<int64_t> Engine::PurgeClosedRequests(std::optional<Timestamp> as_of_opt,
                                            const std::string& actor) {
  Timestamp as_of = At(as_of_opt);
  ASSIGN_OR_RETURN(std::vector<store::RequestRow> rows, store_.ListRequests(controller_, false));
  int64_t purged = 0;
  for (auto& row : rows) {
    if (!row.closed_at || row.wrapped_key.empty()) continue;
    if (as_of.micros < row.closed_at->micros + kResultKeptMicros) continue;
    ASSIGN_OR_RETURN(std::vector<store::OutboxRow> outbox,
                     store_.ListOutbox(controller_, row.request_id));
    bool waiting = std::any_of(outbox.begin(), outbox.end(), [](const store::OutboxRow& m) {
      return m.state == OutboxState::kPending;
    });
    if (waiting) continue;  // a notice still to deliver needs the request's key
    const int64_t version = row.version;
    row.wrapped_key.clear();
    row.sealed_details.clear();
    row.sealed_result.clear();
    row.code_hash.clear();
    row.access_hash.clear();
    row.code_expires_at.reset();
    store::WriteBatch batch;
    AddRequestStep(batch, row, version, "personal_parts_shredded", row.state,
                   "requester's details and the answer destroyed; this history is the proof", actor,
                   as_of);
    Status committed =
        audit_.Commit(std::move(batch), {Entry(actor, "request_purge", "", as_of, row.request_id)})
            .status();
    if (committed.code() == ErrorCode::kInvalidArgument) continue;  // changed meanwhile
    RETURN_IF_ERROR(committed);
    ++purged;
  }
  return purged;
}

}  // namespace custos::engine
