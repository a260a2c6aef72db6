// SqliteStore: the embedded Store backend, one SQLite database file (custos.db) in a data
// directory, in WAL mode. Zero set-up: the directory and the schema are created on first open,
// and later schema versions are migrated on open.
//
// Layout: every personal table is keyed (controller, subject_id, id) WITHOUT ROWID, so one
// person's rows are stored together; record ids, consent seqs and restriction ids come from
// per-table counters bumped inside the write transaction, so they are unique and increasing
// even when many threads (or processes) write at once.
//
// Thread-safety: safe to call from many threads at once. Writes go through one connection,
// one transaction at a time (BEGIN IMMEDIATE); reads use a pool of read-only connections and,
// under WAL, run concurrently with a write, each seeing the last committed state.
// Several processes may open the same directory; SQLite's locks serialise their writes.
// PII: the database holds personal values only sealed or as keyed hashes (see rows.h).
#ifndef CUSTOS_STORE_SQLITE_SQLITE_STORE_H_
#define CUSTOS_STORE_SQLITE_SQLITE_STORE_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/store.h"

namespace custos::store {

namespace sqlite {
class Connection;
}  // namespace sqlite

struct SqliteOptions {
  std::string data_dir;  // the database is data_dir/custos.db
  // synchronous=FULL: a commit survives power loss. Otherwise NORMAL: it survives a crash of
  // the process but the last commits may be lost with the machine.
  bool durable = true;
  int busy_timeout_ms = 5000;  // how long a write waits for another process's write lock
};

class SqliteStore final : public Store {
 public:
  // The database file's name inside data_dir.
  static constexpr char kFileName[] = "custos.db";

  // Opens (creating when missing) data_dir (mode 0700) and data_dir/custos.db (mode 0600),
  // switches to WAL and applies pending schema migrations.
  // Returns INVALID_ARGUMENT for an empty data_dir; IO_ERROR when the directory or database
  // cannot be created or opened, a migration fails, or the database was written by a newer
  // schema version than this build knows.
  static Result<std::unique_ptr<SqliteStore>> Open(const SqliteOptions& options);
  ~SqliteStore() override;

  // Store. Specifics of this backend:
  // - Ids: RecordRow/ConsentEventRow/RestrictionRow ids left 0 are assigned; ids given are
  //   kept (later assigned ids come after them). AppliedIds lists every such row's id in batch
  //   order, given or assigned. AuditRow seq left 0 gets the next seq.
  // - CONFLICT (nothing applied): an audit seq already taken (another process appended first).
  // - INVALID_ARGUMENT (nothing applied): a duplicate key (subject, record id), a
  //   row for a subject that does not exist, an empty controller or subject id, a subject type
  //   or restriction category that is empty or contains ',', SetRecordState /
  //   LiftRestriction / EraseSubject naming a row that does not exist.
  // - Idempotent: adding a suppression already present keeps the first one; LiftObjection
  //   with no open objection and lifting an already lifted restriction change nothing.
  //   Likewise a review task already present for (subject, rule, category, due_at), releasing
  //   a released hold, completing a completed task, and DeleteIdentifiers with nothing to delete.
  // - Retention ids: LegalHoldRow/ReviewTaskRow/RetentionRunRow ids left 0 are assigned
  //   (hold_ids and run_ids are returned); AnonymisedFactRow needs its (random) fact_id > 0.
  //   ReleaseLegalHold / CompleteReviewTask / RetentionCheckpoint naming a row that does not
  //   exist, and a legal hold with neither subject nor category, are INVALID_ARGUMENT; so is an
  //   ExpectState that does not hold (the subject erased, the record in another state).
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

  // The schema version recorded in schema_migrations. Returns IO_ERROR on a read failure.
  Result<int> SchemaVersion();
  // The newest schema version this build knows (what Open() migrates to).
  static int LatestSchemaVersion();
  // The value of `PRAGMA <name>` on a read connection (e.g. "journal_mode" gives "wal").
  // REQUIRES: `name` is a pragma name, not user input.
  Result<std::string> PragmaForTesting(const std::string& name);
  // Runs `sql` (trusted test SQL, e.g. an UPDATE the triggers must refuse) on the writer
  // connection, outside any batch. The same as PostgresStore::ExecForTesting.
  Status ExecForTesting(const std::string& sql);

 private:
  class ReaderLease;

  SqliteStore(std::string path, bool durable, int busy_timeout_ms,
              std::unique_ptr<sqlite::Connection> writer);
  Result<std::vector<AppliedIds>> ApplyBatches(const WriteBatch* const* batches, size_t count);
  Result<ReaderLease> AcquireReader();
  void ReleaseReader(std::unique_ptr<sqlite::Connection> connection);

  const std::string path_;
  const bool durable_;
  const int busy_timeout_ms_;

  std::mutex writer_mutex_;  // one write transaction at a time
  std::unique_ptr<sqlite::Connection> writer_;

  std::mutex readers_mutex_;  // guards idle_readers_, leased_readers_ and most_leased_readers_
  std::vector<std::unique_ptr<sqlite::Connection>> idle_readers_;
  size_t leased_readers_ = 0;       // read connections in use now
  size_t most_leased_readers_ = 0;  // the most ever in use at once: how many to keep idle
};

// Changes one byte of the `detail` of audit entry `seq` directly in the database file, the way
// someone with access to the file could (dropping the append-only trigger first). Only for the
// test that shows `custos audit verify` catches it. REQUIRES: no store is open on `data_dir`.
Status TamperWithAuditDetailForTesting(const std::string& data_dir, int64_t seq);

// The Store factory for SQLite: SqliteStore::Open() behind the Store interface.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options);

}  // namespace custos::store

#endif  // CUSTOS_STORE_SQLITE_SQLITE_STORE_H_
