// PostgresStore: rights requests, their history, the outbox, recipients' endpoints and record
// versions (schema version 3). NOT BUILT YET: every method answers INTERNAL until the
// PostgreSQL side of issue 5 lands; the SQLite backend has them.
#include "store/postgres/postgres_store.h"

namespace custos::store {
namespace {
Status NotYet() { return Status(ErrorCode::kInternal, "postgres: rights requests not built yet"); }
}  // namespace

Result<std::optional<RequestRow>> PostgresStore::GetRequest(const std::string&,
                                                            const std::string&) {
  return NotYet();
}
Result<std::vector<RequestRow>> PostgresStore::ListRequests(const std::string&, bool) {
  return NotYet();
}
Result<std::vector<RequestEventRow>> PostgresStore::ListRequestEvents(const std::string&,
                                                                      const std::string&) {
  return NotYet();
}
Result<std::vector<OutboxRow>> PostgresStore::ListOutbox(const std::string&, const std::string&) {
  return NotYet();
}
Result<std::vector<OutboxRow>> PostgresStore::ClaimOutbox(const std::string&, Timestamp, Timestamp,
                                                          size_t) {
  return NotYet();
}
Result<std::optional<RecipientEndpointRow>> PostgresStore::GetRecipientEndpoint(
    const std::string&, const std::string&) {
  return NotYet();
}
Result<std::vector<RecipientEndpointRow>> PostgresStore::ListRecipientEndpoints(
    const std::string&) {
  return NotYet();
}
Result<std::vector<RecordVersionRow>> PostgresStore::ListRecordVersions(const std::string&,
                                                                        const std::string&) {
  return NotYet();
}

}  // namespace custos::store
