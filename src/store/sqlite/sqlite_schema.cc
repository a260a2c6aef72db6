#include "store/sqlite/sqlite_schema.h"

#include <array>
#include <string>

namespace custos::store::sqlite {
namespace {

// Version 1: the whole schema as first shipped.
//
// Every personal table leads its primary key with (controller, subject_id) and is WITHOUT ROWID,
// so one person's rows sit together in one b-tree range (one seek reads them all). Ids that the
// store assigns come from `sequences`, one counter per table, read and bumped inside the write
// transaction. Tables are STRICT so a wrong type is an error, not a silent conversion.
constexpr char kSchemaV1[] = R"sql(
CREATE TABLE sequences (
  name TEXT PRIMARY KEY,
  next_id INTEGER NOT NULL
) WITHOUT ROWID, STRICT;
INSERT INTO sequences (name, next_id) VALUES
  ('events', 1), ('identifiers', 1), ('records', 1), ('consent_events', 1),
  ('preferences', 1), ('objections', 1), ('restrictions', 1);

-- One row per policy version loaded, kept forever; the newest row is the one in force.
CREATE TABLE controllers (
  seq INTEGER PRIMARY KEY,
  controller TEXT NOT NULL CHECK (controller <> ''),
  name TEXT NOT NULL,
  policy_version TEXT NOT NULL,
  policy_text TEXT NOT NULL,
  loaded_at INTEGER NOT NULL
) STRICT;
CREATE INDEX controllers_by_controller ON controllers (controller, seq);

CREATE TABLE subjects (
  controller TEXT NOT NULL CHECK (controller <> ''),
  subject_id TEXT NOT NULL CHECK (subject_id <> ''),
  types TEXT NOT NULL,  -- subject type keys joined with ','
  created_at INTEGER NOT NULL,
  wrapped_key BLOB NOT NULL,  -- empty once erased
  state TEXT NOT NULL CHECK (state IN ('active', 'erased')),
  erased_at INTEGER,
  PRIMARY KEY (controller, subject_id)
) WITHOUT ROWID, STRICT;

CREATE TABLE events (
  controller TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  event TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (controller, subject_id, seq),
  FOREIGN KEY (controller, subject_id) REFERENCES subjects (controller, subject_id)
) WITHOUT ROWID, STRICT;

CREATE TABLE identifiers (
  controller TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL,
  blind_index BLOB NOT NULL,
  sealed_value BLOB NOT NULL,
  verified INTEGER NOT NULL CHECK (verified IN (0, 1)),
  added_at INTEGER NOT NULL,
  PRIMARY KEY (controller, subject_id, seq),
  FOREIGN KEY (controller, subject_id) REFERENCES subjects (controller, subject_id)
) WITHOUT ROWID, STRICT;
CREATE INDEX identifiers_by_blind_index ON identifiers (controller, kind, blind_index);

CREATE TABLE records (
  controller TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  record_id INTEGER NOT NULL CHECK (record_id > 0),
  category TEXT NOT NULL,
  sealed_value BLOB NOT NULL,
  source TEXT NOT NULL,
  purpose TEXT NOT NULL,
  collected_at INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('active', 'restricted', 'anonymised', 'erased')),
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (controller, subject_id, record_id),
  FOREIGN KEY (controller, subject_id) REFERENCES subjects (controller, subject_id)
) WITHOUT ROWID, STRICT;

-- Append-only: a consent is changed by a later event, never by editing an earlier one.
CREATE TABLE consent_events (
  controller TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  seq INTEGER NOT NULL CHECK (seq > 0),
  target_kind TEXT NOT NULL CHECK (target_kind IN ('purpose', 'cookie_category')),
  target TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('given', 'withdrawn')),
  notice_version TEXT NOT NULL,
  channel TEXT NOT NULL,
  at INTEGER NOT NULL,
  sealed_evidence BLOB NOT NULL,
  PRIMARY KEY (controller, subject_id, seq),
  FOREIGN KEY (controller, subject_id) REFERENCES subjects (controller, subject_id)
) WITHOUT ROWID, STRICT;
CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
  BEGIN SELECT RAISE(ABORT, 'consent_events is append-only'); END;
CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
  BEGIN SELECT RAISE(ABORT, 'consent_events is append-only'); END;

CREATE TABLE preferences (
  controller TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  channel TEXT NOT NULL,
  allowed INTEGER NOT NULL CHECK (allowed IN (0, 1)),
  at INTEGER NOT NULL,
  PRIMARY KEY (controller, subject_id, seq),
  FOREIGN KEY (controller, subject_id) REFERENCES subjects (controller, subject_id)
) WITHOUT ROWID, STRICT;

CREATE TABLE objections (
  controller TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  purpose TEXT NOT NULL,
  at INTEGER NOT NULL,
  lifted_at INTEGER,
  PRIMARY KEY (controller, subject_id, seq),
  FOREIGN KEY (controller, subject_id) REFERENCES subjects (controller, subject_id)
) WITHOUT ROWID, STRICT;

CREATE TABLE restrictions (
  controller TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  restriction_id INTEGER NOT NULL CHECK (restriction_id > 0),
  categories TEXT NOT NULL,  -- category keys joined with ','; empty: all of the subject's data
  reason TEXT NOT NULL,
  at INTEGER NOT NULL,
  lifted_at INTEGER,
  PRIMARY KEY (controller, subject_id, restriction_id),
  FOREIGN KEY (controller, subject_id) REFERENCES subjects (controller, subject_id)
) WITHOUT ROWID, STRICT;

-- Not personal rows: keyed hashes of identifiers that must never be contacted again.
CREATE TABLE suppressions (
  controller TEXT NOT NULL,
  hash BLOB NOT NULL,
  kind TEXT NOT NULL,
  reason TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (controller, hash)
) WITHOUT ROWID, STRICT;

-- The tamper-evident audit log: seq is the rowid, so entries are stored in append order.
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY CHECK (seq > 0),
  controller TEXT NOT NULL,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  purpose TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL
) STRICT;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
)sql";

// Version 2: retention -- legal holds, DPO review tasks, anonymised facts and the
// checkpoints of retention sweeps.
constexpr char kSchemaV2[] = R"sql(
INSERT INTO sequences (name, next_id) VALUES
  ('legal_holds', 1), ('review_tasks', 1), ('retention_runs', 1);

-- Not personal rows: a hold names a subject id and/or a category; '' means every one.
CREATE TABLE legal_holds (
  controller TEXT NOT NULL CHECK (controller <> ''),
  hold_id INTEGER NOT NULL CHECK (hold_id > 0),
  subject_id TEXT NOT NULL,
  category TEXT NOT NULL,
  reason TEXT NOT NULL,
  placed_at INTEGER NOT NULL,
  expires_at INTEGER,
  released_at INTEGER,
  CHECK (subject_id <> '' OR category <> ''),
  PRIMARY KEY (controller, hold_id)
) WITHOUT ROWID, STRICT;

-- One task per (subject, rule, category, due date), so a sweep that runs twice asks once.
CREATE TABLE review_tasks (
  controller TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  task_id INTEGER NOT NULL CHECK (task_id > 0),
  rule_id TEXT NOT NULL,
  category TEXT NOT NULL,
  due_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  done_at INTEGER,
  PRIMARY KEY (controller, subject_id, task_id),
  UNIQUE (controller, subject_id, rule_id, category, due_at),
  FOREIGN KEY (controller, subject_id) REFERENCES subjects (controller, subject_id)
) WITHOUT ROWID, STRICT;
CREATE INDEX review_tasks_by_id ON review_tasks (controller, task_id);

-- Unlinkable: no subject id, no time, and random ids (the writer picks them), so neither the
-- key nor the b-tree order says which person or which write a fact came from.
CREATE TABLE anonymised_facts (
  controller TEXT NOT NULL,
  fact_id INTEGER NOT NULL CHECK (fact_id > 0),
  category TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (controller, fact_id)
) WITHOUT ROWID, STRICT;
CREATE INDEX anonymised_facts_by_value ON anonymised_facts (controller, category, value);

-- A sweep's checkpoint, written in the same transaction as the actions it covers.
CREATE TABLE retention_runs (
  controller TEXT NOT NULL CHECK (controller <> ''),
  run_id INTEGER NOT NULL CHECK (run_id > 0),
  as_of INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  last_subject_id TEXT NOT NULL,
  subjects INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  anonymised INTEGER NOT NULL,
  reviews INTEGER NOT NULL,
  held INTEGER NOT NULL,
  erased INTEGER NOT NULL,
  finished_at INTEGER,
  PRIMARY KEY (controller, run_id)
) WITHOUT ROWID, STRICT;
)sql";

// Version 3: rights requests -- requests with their history, the outbox of notices to
// recipients and messages to requesters, recipients' webhook endpoints, and earlier values of
// rectified records.
constexpr char kSchemaV3[] = R"sql(
INSERT INTO sequences (name, next_id) VALUES ('request_events', 1), ('outbox', 1),
  ('record_versions', 1);

-- Keyed by request: at intake the person may not be known yet. Personal parts are sealed with
-- the request's own key (wrapped_key), which is dropped when the request no longer needs them.
CREATE TABLE requests (
  controller TEXT NOT NULL CHECK (controller <> ''),
  request_id TEXT NOT NULL CHECK (request_id <> ''),
  version INTEGER NOT NULL CHECK (version > 0),
  type TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('received', 'verifying_identity', 'in_progress',
    'extended', 'completed', 'refused', 'withdrawn', 'forwarded')),
  intake TEXT NOT NULL,
  verification TEXT NOT NULL,
  waiting_for TEXT NOT NULL,
  subject_ids TEXT NOT NULL,  -- subject ids joined with ','
  received_at INTEGER NOT NULL,
  clock_started_at INTEGER,
  due_at INTEGER,
  extended_at INTEGER,
  closed_at INTEGER,
  outcome TEXT NOT NULL,
  wrapped_key BLOB NOT NULL,
  sealed_details BLOB NOT NULL,
  sealed_result BLOB NOT NULL,
  code_hash BLOB NOT NULL,
  code_expires_at INTEGER,
  code_attempts INTEGER NOT NULL,
  access_hash BLOB NOT NULL,
  PRIMARY KEY (controller, request_id)
) WITHOUT ROWID, STRICT;
CREATE INDEX requests_by_received ON requests (controller, received_at, request_id);

-- A request's history: append-only.
CREATE TABLE request_events (
  controller TEXT NOT NULL,
  request_id TEXT NOT NULL,
  seq INTEGER NOT NULL CHECK (seq > 0),
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  event TEXT NOT NULL,
  state TEXT NOT NULL,
  detail TEXT NOT NULL,
  PRIMARY KEY (controller, request_id, seq),
  FOREIGN KEY (controller, request_id) REFERENCES requests (controller, request_id)
) WITHOUT ROWID, STRICT;
CREATE TRIGGER request_events_no_update BEFORE UPDATE ON request_events
  BEGIN SELECT RAISE(ABORT, 'request_events is append-only'); END;
CREATE TRIGGER request_events_no_delete BEFORE DELETE ON request_events
  BEGIN SELECT RAISE(ABORT, 'request_events is append-only'); END;

CREATE TABLE outbox (
  controller TEXT NOT NULL,
  outbox_id INTEGER NOT NULL CHECK (outbox_id > 0),
  request_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  target TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'manual', 'dead')),
  attempts INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  delivered_at INTEGER,
  claimed_until INTEGER,
  last_error TEXT NOT NULL,
  sealed_payload BLOB NOT NULL,
  payload_digest BLOB NOT NULL,
  PRIMARY KEY (controller, outbox_id),
  FOREIGN KEY (controller, request_id) REFERENCES requests (controller, request_id)
) WITHOUT ROWID, STRICT;
CREATE INDEX outbox_by_request ON outbox (controller, request_id, outbox_id);
CREATE INDEX outbox_due ON outbox (controller, state, next_attempt_at);

-- Not personal: where a recipient takes Article 19 notices; the secret is sealed.
CREATE TABLE recipient_endpoints (
  controller TEXT NOT NULL,
  recipient TEXT NOT NULL,
  url TEXT NOT NULL,
  sealed_secret BLOB NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (controller, recipient)
) WITHOUT ROWID, STRICT;

-- Earlier values of rectified records, sealed with the subject's key like the records.
CREATE TABLE record_versions (
  controller TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  record_id INTEGER NOT NULL,
  version INTEGER NOT NULL CHECK (version > 0),
  sealed_value BLOB NOT NULL,
  replaced_at INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  PRIMARY KEY (controller, subject_id, record_id, version),
  FOREIGN KEY (controller, subject_id, record_id)
    REFERENCES records (controller, subject_id, record_id)
) WITHOUT ROWID, STRICT;
)sql";

// Version 4: the master key the database belongs to (its one-way id, never the key), and the
// first audit seq chained with that key. One row; kept forever.
constexpr char kSchemaV4[] = R"sql(
CREATE TABLE key_binding (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  key_id TEXT NOT NULL,
  chain_keyed_from INTEGER NOT NULL CHECK (chain_keyed_from > 0)
) STRICT;
CREATE TRIGGER key_binding_no_update BEFORE UPDATE ON key_binding
  BEGIN SELECT RAISE(ABORT, 'key_binding is append-only'); END;
CREATE TRIGGER key_binding_no_delete BEFORE DELETE ON key_binding
  BEGIN SELECT RAISE(ABORT, 'key_binding is append-only'); END;
)sql";

// Version 5: codes sent to requesters' addresses, by blind index, so one address receives only
// so many one-time codes a day. Rows live a day; nothing here is sealed because nothing is
// plaintext (a keyed hash and a time).
constexpr char kSchemaV5[] = R"sql(
CREATE TABLE code_sends (
  controller TEXT NOT NULL,
  contact_hash BLOB NOT NULL,
  sent_at INTEGER NOT NULL
) STRICT;
CREATE INDEX code_sends_by_address ON code_sends (controller, contact_hash, sent_at);
CREATE INDEX code_sends_by_time ON code_sends (controller, sent_at);
)sql";

// Version 6: the breach register; and the outbox carries a breach's messages as well as a
// request's (its reference is a request id or "breach:<id>"), so it no longer references the
// requests table (SQLite cannot drop a constraint: the table is rebuilt, rows and ids kept).
constexpr char kSchemaV6[] = R"sql(
CREATE TABLE breaches (
  controller TEXT NOT NULL,
  breach_id TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version > 0),
  aware_at INTEGER NOT NULL,
  risk TEXT NOT NULL CHECK (risk IN ('unassessed', 'none', 'risk', 'high_risk')),
  reported_at INTEGER,
  closed_at INTEGER,
  updated_at INTEGER NOT NULL,
  wrapped_key BLOB NOT NULL,
  sealed_details BLOB NOT NULL,
  PRIMARY KEY (controller, breach_id)
) WITHOUT ROWID, STRICT;
CREATE INDEX breaches_by_awareness ON breaches (controller, aware_at, breach_id);

-- The disclosure log: what of a person went to which recipient, for which purpose, when.
CREATE TABLE disclosures (
  controller TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  disclosure_id INTEGER NOT NULL CHECK (disclosure_id > 0),
  recipient TEXT NOT NULL,
  purpose TEXT NOT NULL,
  categories TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (controller, subject_id, disclosure_id),
  FOREIGN KEY (controller, subject_id) REFERENCES subjects (controller, subject_id)
) WITHOUT ROWID, STRICT;
INSERT INTO sequences (name, next_id) VALUES ('disclosures', 1);

CREATE TABLE outbox_v6 (
  controller TEXT NOT NULL,
  outbox_id INTEGER NOT NULL CHECK (outbox_id > 0),
  request_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  target TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'manual', 'dead')),
  attempts INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  delivered_at INTEGER,
  claimed_until INTEGER,
  last_error TEXT NOT NULL,
  sealed_payload BLOB NOT NULL,
  payload_digest BLOB NOT NULL,
  PRIMARY KEY (controller, outbox_id)
) WITHOUT ROWID, STRICT;
INSERT INTO outbox_v6 SELECT controller, outbox_id, request_id, kind, target, state, attempts,
  created_at, next_attempt_at, delivered_at, claimed_until, last_error, sealed_payload,
  payload_digest FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v6 RENAME TO outbox;
CREATE INDEX outbox_by_request ON outbox (controller, request_id, outbox_id);
CREATE INDEX outbox_due ON outbox (controller, state, next_attempt_at);
-- A message still needs what it belongs to: its request, or its breach.
CREATE TRIGGER outbox_needs_its_owner BEFORE INSERT ON outbox
  WHEN CASE WHEN NEW.request_id LIKE 'breach:%'
    THEN NOT EXISTS (SELECT 1 FROM breaches WHERE controller = NEW.controller
                     AND breach_id = substr(NEW.request_id, 8))
    ELSE NOT EXISTS (SELECT 1 FROM requests WHERE controller = NEW.controller
                     AND request_id = NEW.request_id) END
  BEGIN SELECT RAISE(ABORT, 'outbox: no request or breach of that id'); END;
)sql";

constexpr char kSchemaV7[] = R"sql(
-- A disclosure to a third-party application a controller authorised names the application.
ALTER TABLE disclosures ADD COLUMN application TEXT NOT NULL DEFAULT '';
)sql";

// Version 8: the outbox also carries a message to one person on their own (a notice of a changed
// policy), whose reference is "person:<subject id>".
constexpr char kSchemaV8[] = R"sql(
DROP TRIGGER outbox_needs_its_owner;
-- A message still needs what it belongs to: its request, its breach or its person.
CREATE TRIGGER outbox_needs_its_owner BEFORE INSERT ON outbox
  WHEN CASE
    WHEN NEW.request_id LIKE 'breach:%'
      THEN NOT EXISTS (SELECT 1 FROM breaches WHERE controller = NEW.controller
                       AND breach_id = substr(NEW.request_id, 8))
    WHEN NEW.request_id LIKE 'person:%'
      THEN NOT EXISTS (SELECT 1 FROM subjects WHERE controller = NEW.controller
                       AND subject_id = substr(NEW.request_id, 8))
    ELSE NOT EXISTS (SELECT 1 FROM requests WHERE controller = NEW.controller
                     AND request_id = NEW.request_id) END
  BEGIN SELECT RAISE(ABORT, 'outbox: no request, breach or person of that id'); END;
)sql";

// Append new versions at the end; never edit one that has shipped.
constexpr std::array kMigrations = {
    Migration{1, "initial schema", kSchemaV1},
    Migration{2, "retention: legal holds, review tasks, anonymised facts, sweep runs", kSchemaV2},
    Migration{3, "rights requests: requests, history, outbox, endpoints, record versions",
              kSchemaV3},
    Migration{4, "the master key the database belongs to", kSchemaV4},
    Migration{5, "codes sent per address (blind index), for the daily cap", kSchemaV5},
    Migration{6,
              "the breach register and the disclosure log; the outbox carries breaches' messages",
              kSchemaV6},
    Migration{7, "disclosures to third-party applications name the application", kSchemaV7},
    Migration{8, "the outbox carries notices to one person (a changed policy)", kSchemaV8},
};

constexpr char kCreateMigrationsTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL) STRICT";
constexpr char kSelectVersion[] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
constexpr char kInsertVersion[] = "INSERT INTO schema_migrations (version, name) VALUES (?, ?)";
constexpr char kTableExists[] =
    "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'";

Result<int> ReadVersion(Connection& connection) {
  ASSIGN_OR_RETURN(Statement select, connection.Prepare(kSelectVersion));
  ASSIGN_OR_RETURN(bool row, select.Step());
  return row ? static_cast<int>(select.Int(0)) : 0;
}

Result<int> MigrateInTransaction(Connection& connection) {
  RETURN_IF_ERROR(connection.Exec(kCreateMigrationsTable));
  ASSIGN_OR_RETURN(int version, ReadVersion(connection));
  if (version > LatestSchemaVersion()) {
    return Status(ErrorCode::kIo, "sqlite: the database has schema version " +
                                      std::to_string(version) + ", newer than this build's " +
                                      std::to_string(LatestSchemaVersion()));
  }
  for (const Migration& migration : kMigrations) {
    if (migration.version <= version) continue;
    Status applied = connection.Exec(migration.sql);
    if (!applied.ok()) {
      return Status(ErrorCode::kIo, "schema migration " + std::to_string(migration.version) +
                                        " failed: " + applied.message());
    }
    ASSIGN_OR_RETURN(Statement insert, connection.Prepare(kInsertVersion));
    RETURN_IF_ERROR(insert.BindAll(migration.version, migration.name).Run());
    version = migration.version;
  }
  return version;
}

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

int LatestSchemaVersion() { return kMigrations.back().version; }

Result<int> Migrate(Connection& connection) {
  RETURN_IF_ERROR(connection.Exec("BEGIN IMMEDIATE"));
  Result<int> version = MigrateInTransaction(connection);
  if (!version.ok()) {
    if (connection.InTransaction()) (void)connection.Exec("ROLLBACK");
    return version.status();
  }
  Status committed = connection.Exec("COMMIT");
  if (!committed.ok()) {
    if (connection.InTransaction()) (void)connection.Exec("ROLLBACK");
    return Status(ErrorCode::kIo, committed.message());
  }
  return version;
}

Result<int> SchemaVersion(Connection& connection) {
  ASSIGN_OR_RETURN(Statement exists, connection.Prepare(kTableExists));
  ASSIGN_OR_RETURN(bool row, exists.Step());
  if (!row || exists.Int(0) == 0) return 0;
  return ReadVersion(connection);
}

}  // namespace custos::store::sqlite
