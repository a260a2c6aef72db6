// PostgresStore: the shared Store backend, for organisations that outgrow one machine: several
// custos processes (CLI invocations today, `custos serve` later) over one PostgreSQL 15
// database. The schema is created and migrated on open (store/postgres/pg_schema.cc); it
// mirrors SQLite's tables, keys and append-only rules.
//
// Layout: every personal table's primary key leads with (controller, subject_id), so one
// person's rows are one index range and a distributed PostgreSQL can shard on that key
// (docs/SCALING.md). Ids come from sequences, so concurrent writers never queue for an id.
// Rows are written with prepared statements, one round trip each, except runs of 16 or more
// audit entries in a batch (a flush of buffered decisions), which go in one COPY.
//
// Concurrency between processes:
// - Every Apply/ApplyGroup is one transaction (READ COMMITTED); a deadlock or serialization
//   failure runs it again, a few times, before IO_ERROR.
// - ExpectState takes the subject's (and the record's) row lock (SELECT ... FOR UPDATE), so a
//   precondition is checked against the newest committed state and stays true until commit:
//   two retention sweeps racing over one person cannot both act.
// - The audit chain is linear because audit seqs are a primary key: a writer whose head is
//   stale fails with CONFLICT and nothing of its batch is applied (the engine re-reads the head
//   and retries, engine/audit_log.cc).
// - When the server cannot be reached (down, restarting, the connection cut) an operation fails
//   with STORE_UNAVAILABLE; idle pooled connections the server closed are dropped when next
//   taken, so the store reconnects by itself once the server is back. A refusal never carries
//   the database's own words (they name constraints), only its SQLSTATE.
// - UpdateRequest changes the row only WHERE version = expected_version: a concurrent writer
//   waits for the row and re-checks the version, so of two processes acting on one request
//   only the first succeeds; the other's batch fails with INVALID_ARGUMENT.
// - ClaimOutbox is one UPDATE over a SELECT ... FOR UPDATE SKIP LOCKED: concurrent claims never
//   return the same message while its lease runs, and a claim may return fewer than `max`
//   while due messages are locked by another claim in flight.
//
// Thread-safety: safe to call from many threads at once; each call leases a connection from a
// pool (opened on demand, up to `max_idle_connections` kept open between uses).
// PII: the database holds personal values only sealed or as keyed hashes (see rows.h); values
// are sent as bound binary parameters or COPY data, never in SQL text, and error messages never
// quote a row.
#ifndef CUSTOS_STORE_POSTGRES_POSTGRES_STORE_H_
#define CUSTOS_STORE_POSTGRES_POSTGRES_STORE_H_

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/store.h"

namespace custos::store {

namespace pg {
class Connection;
}  // namespace pg

struct PostgresOptions {
  // A libpq connection string or URL, e.g. "postgresql://custos@127.0.0.1:5432/custos".
  std::string url;
  // The PostgreSQL schema that holds custos's tables (created when missing):
  // [a-z_][a-z0-9_]*, at most 63 characters. One database may hold several custos schemas.
  std::string schema = "custos";
  // Connections kept open between uses. Never more are kept than were in use at once, so this
  // bounds only a busy server: one with 64 handler threads may lease 64 at once, and each
  // connection closed after use and opened again costs a new server process (with 8 kept,
  // durable consent writes at 64 connections spent most of their time opening connections).
  size_t max_idle_connections = 64;
};

class PostgresStore final : public Store {
 public:
  // Connects, creates the schema when missing and applies pending migrations.
  // Returns INVALID_ARGUMENT for an empty URL or a bad schema name; IO_ERROR when the server
  // cannot be reached, a migration fails, or the schema is newer than this build.
  static Result<std::unique_ptr<PostgresStore>> Open(const PostgresOptions& options);
  ~PostgresStore() override;

  // Store. The same specifics as SqliteStore (sqlite_store.h): ids left 0 are assigned and
  // given ids are kept (later ones come after them); constraint breaks, rows of unknown
  // subjects and failed preconditions are INVALID_ARGUMENT with nothing applied; the same
  // operations are idempotent.
  Result<AppliedIds> Apply(const WriteBatch& batch) override;
  Result<std::vector<AppliedIds>> ApplyGroup(
      const std::vector<const WriteBatch*>& batches) override;

  Result<std::optional<ControllerRow>> GetController(const std::string& controller) override;
  Result<std::optional<SubjectRow>> GetSubject(const std::string& controller,
                                               const std::string& subject_id) override;
  Status ScanSubjects(const std::string& controller,
                      const std::function<bool(const SubjectRow&)>& visit) override;
  Result<int64_t> CountSubjects(const std::string& controller) override;
  Result<std::vector<EventRow>> ListEvents(const std::string& controller,
                                           const std::string& subject_id) override;
  Result<std::vector<IdentifierRow>> ListIdentifiers(const std::string& controller,
                                                     const std::string& subject_id) override;
  Result<std::vector<RecordRow>> ListRecords(const std::string& controller,
                                             const std::string& subject_id) override;
  Result<std::vector<ConsentEventRow>> ListConsentEvents(const std::string& controller,
                                                         const std::string& subject_id) override;
  Result<std::vector<PreferenceRow>> ListPreferences(const std::string& controller,
                                                     const std::string& subject_id) override;
  Result<std::vector<ObjectionRow>> ListObjections(const std::string& controller,
                                                   const std::string& subject_id) override;
  Result<std::vector<RestrictionRow>> ListRestrictions(const std::string& controller,
                                                       const std::string& subject_id) override;
  Result<std::vector<std::string>> FindSubjectsByIdentifier(const std::string& controller,
                                                            const std::string& kind,
                                                            const Bytes& blind_index) override;
  Result<bool> IsSuppressed(const std::string& controller, const Bytes& hash) override;
  Result<std::unordered_map<std::string, SubjectState>> SubjectStates(
      const std::string& controller, const std::vector<std::string>& subject_ids) override;
  Result<std::vector<bool>> AreSuppressed(const std::string& controller,
                                          const std::vector<Bytes>& hashes) override;
  Result<std::vector<LegalHoldRow>> ListLegalHolds(const std::string& controller) override;
  Result<std::vector<ReviewTaskRow>> ListReviewTasks(const std::string& controller,
                                                     bool open_only) override;
  Result<std::vector<SweepSubject>> ListSweepPage(const std::string& controller,
                                                  const std::string& after_subject_id,
                                                  size_t max_subjects) override;
  Result<std::vector<FactCount>> CountAnonymisedFacts(const std::string& controller,
                                                      const std::string& category) override;
  Result<std::optional<RetentionRunRow>> LastRetentionRun(const std::string& controller) override;
  Result<std::optional<RequestRow>> GetRequest(const std::string& controller,
                                               const std::string& request_id) override;
  Result<std::vector<RequestRow>> ListRequests(const std::string& controller,
                                               bool open_only) override;
  Result<std::vector<RequestEventRow>> ListRequestEvents(const std::string& controller,
                                                         const std::string& request_id) override;
  Result<std::optional<BreachRow>> GetBreach(const std::string& controller,
                                             const std::string& breach_id) override;
  Result<std::vector<BreachRow>> ListBreaches(const std::string& controller) override;
  Result<std::vector<DisclosureRow>> ListDisclosures(const std::string& controller,
                                                     const std::string& subject_id) override;
  Result<std::vector<OutboxRow>> ListOutbox(const std::string& controller,
                                            const std::string& request_id) override;
  Result<std::vector<OutboxRow>> ClaimOutbox(const std::string& controller, Timestamp now,
                                             Timestamp lease_until, size_t max) override;
  Result<std::optional<RecipientEndpointRow>> GetRecipientEndpoint(
      const std::string& controller, const std::string& recipient) override;
  Result<std::vector<Timestamp>> ListCodeSends(const std::string& controller,
                                               const Bytes& contact_hash, Timestamp since) override;
  Result<std::vector<RecipientEndpointRow>> ListRecipientEndpoints(
      const std::string& controller) override;
  Result<std::vector<RecordVersionRow>> ListRecordVersions(const std::string& controller,
                                                           const std::string& subject_id) override;
  Result<std::optional<AuditRow>> LastAudit() override;
  Status ScanAudit(int64_t from_seq, const std::function<bool(const AuditRow&)>& visit) override;
  Result<KeyBindingRow> BindKey(const std::string& key_id) override;
  Result<std::optional<KeyBindingRow>> GetKeyBinding() override;

  // Bulk load through COPY, in one transaction: the SubjectRow, EventRow, IdentifierRow,
  // RecordRow, ConsentEventRow and PreferenceRow ops of `batch` (any other op is
  // INVALID_ARGUMENT). Ids are assigned by the database (ids given in the rows are ignored and
  // not returned). Much faster than Apply for large loads; all or nothing like Apply.
  // Returns the number of rows loaded.
  Result<int64_t> Import(const WriteBatch& batch);

  // The schema version recorded in schema_migrations.
  Result<int> SchemaVersion();
  static int LatestSchemaVersion();
  // Runs `sql` (trusted test SQL, e.g. an UPDATE the triggers must refuse) on a connection.
  Status ExecForTesting(const std::string& sql);
  const std::string& schema() const { return schema_; }

 private:
  class Lease;

  PostgresStore(PostgresOptions options, std::unique_ptr<pg::Connection> first);
  Result<Lease> Acquire();
  void Release(std::unique_ptr<pg::Connection> connection);
  Result<std::vector<AppliedIds>> ApplyBatches(const WriteBatch* const* batches, size_t count);

  const PostgresOptions options_;
  const std::string schema_;
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<pg::Connection>> idle_;
};

// The Store factory for PostgreSQL: PostgresStore::Open() behind the Store interface.
Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options);

// Where PostgreSQL's notices and warnings go (by default: dropped; libpq would print them raw).
// Gets the severity and the primary message only. REQUIRES: called before any store is opened.
void SetPostgresNoticeSink(void (*sink)(std::string_view severity, std::string_view message));

// Drops `schema` and everything in it (tests and benchmarks clean up with it).
Status DropPostgresSchemaForTesting(const std::string& url, const std::string& schema);

}  // namespace custos::store

#endif  // CUSTOS_STORE_POSTGRES_POSTGRES_STORE_H_
