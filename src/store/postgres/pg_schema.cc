#include "store/postgres/pg_schema.h"

#include <array>
#include <string>

namespace custos::store::pg {
namespace {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// Version 1: the whole schema as first shipped (mirrors SQLite's version 1).
//
// Every personal table leads its primary key with (controller, subject_id), so one person's rows
// are found by one index range, and a distributed PostgreSQL can place every table of one person
// on one node (docs/SCALING.md). Ids the store assigns come from sequences (column defaults), so
// concurrent writers never wait for each other to get an id. Times are microseconds since the
// Unix epoch (bigint), exactly as the engine gives them.
constexpr char kSchemaV1[] = R"sql(
CREATE FUNCTION custos_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;

CREATE SEQUENCE events_seq;
CREATE SEQUENCE identifiers_seq;
CREATE SEQUENCE records_seq;
CREATE SEQUENCE consent_events_seq;
CREATE SEQUENCE preferences_seq;
CREATE SEQUENCE objections_seq;
CREATE SEQUENCE restrictions_seq;

-- One row per policy version loaded, kept forever; the newest row is the one in force.
CREATE TABLE controllers (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  controller text NOT NULL CHECK (controller <> ''),
  name text NOT NULL,
  policy_version text NOT NULL,
  policy_text text NOT NULL,
  loaded_at bigint NOT NULL
);
CREATE INDEX controllers_by_controller ON controllers (controller, seq);

CREATE TABLE subjects (
  controller text NOT NULL CHECK (controller <> ''),
  subject_id text NOT NULL CHECK (subject_id <> ''),
  types text NOT NULL,  -- subject type keys joined with ','
  created_at bigint NOT NULL,
  wrapped_key bytea NOT NULL,  -- empty once erased
  state text NOT NULL CHECK (state IN ('active', 'erased')),
  erased_at bigint,
  PRIMARY KEY (controller, subject_id)
);

CREATE TABLE events (
  controller text NOT NULL,
  subject_id text NOT NULL,
  seq bigint NOT NULL DEFAULT nextval('events_seq'),
  event text NOT NULL,
  at bigint NOT NULL,
  PRIMARY KEY (controller, subject_id, seq),
  FOREIGN KEY (controller, subject_id) REFERENCES subjects (controller, subject_id)
);

CREATE TABLE identifiers (
  controller text NOT NULL,
  subject_id text NOT NULL,
  seq bigint NOT NULL DEFAULT nextval('identifiers_seq'),
  kind text NOT NULL,
  blind_index bytea NOT NULL,
  sealed_value bytea NOT NULL,
  verified boolean NOT NULL,
  added_at bigint NOT NULL,
  PRIMARY KEY (controller, subject_id, seq),
  FOREIGN KEY (controller, subject_id) REFERENCES subjects (controller, subject_id)
);
CREATE INDEX identifiers_by_blind_index ON identifiers (controller, kind, blind_index);

CREATE TABLE records (
  controller text NOT NULL,
  subject_id text NOT NULL,
  record_id bigint NOT NULL DEFAULT nextval('records_seq') CHECK (record_id > 0),
  category text NOT NULL,
  sealed_value bytea NOT NULL,
  source text NOT NULL,
  purpose text NOT NULL,
  collected_at bigint NOT NULL,
  state text NOT NULL CHECK (state IN ('active', 'restricted', 'anonymised', 'erased')),
  updated_at bigint NOT NULL,
  PRIMARY KEY (controller, subject_id, record_id),
  FOREIGN KEY (controller, subject_id) REFERENCES subjects (controller, subject_id)
);

-- Append-only: a consent is changed by a later event, never by editing an earlier one.
CREATE TABLE consent_events (
  controller text NOT NULL,
  subject_id text NOT NULL,
  seq bigint NOT NULL DEFAULT nextval('consent_events_seq') CHECK (seq > 0),
  target_kind text NOT NULL CHECK (target_kind IN ('purpose', 'cookie_category')),
  target text NOT NULL,
  action text NOT NULL CHECK (action IN ('given', 'withdrawn')),
  notice_version text NOT NULL,
  channel text NOT NULL,
  at bigint NOT NULL,
  sealed_evidence bytea NOT NULL,
  PRIMARY KEY (controller, subject_id, seq),
  FOREIGN KEY (controller, subject_id) REFERENCES subjects (controller, subject_id)
);
CREATE TRIGGER consent_events_append_only BEFORE UPDATE OR DELETE ON consent_events
  FOR EACH ROW EXECUTE FUNCTION custos_append_only();
CREATE TRIGGER consent_events_no_truncate BEFORE TRUNCATE ON consent_events
  FOR EACH STATEMENT EXECUTE FUNCTION custos_append_only();

CREATE TABLE preferences (
  controller text NOT NULL,
  subject_id text NOT NULL,
  seq bigint NOT NULL DEFAULT nextval('preferences_seq'),
  channel text NOT NULL,
  allowed boolean NOT NULL,
  at bigint NOT NULL,
  PRIMARY KEY (controller, subject_id, seq),
  FOREIGN KEY (controller, subject_id) REFERENCES subjects (controller, subject_id)
);

CREATE TABLE objections (
  controller text NOT NULL,
  subject_id text NOT NULL,
  seq bigint NOT NULL DEFAULT nextval('objections_seq'),
  purpose text NOT NULL,
  at bigint NOT NULL,
  lifted_at bigint,
  PRIMARY KEY (controller, subject_id, seq),
  FOREIGN KEY (controller, subject_id) REFERENCES subjects (controller, subject_id)
);

CREATE TABLE restrictions (
  controller text NOT NULL,
  subject_id text NOT NULL,
  restriction_id bigint NOT NULL DEFAULT nextval('restrictions_seq')
    CHECK (restriction_id > 0),
  categories text NOT NULL,  -- category keys joined with ','; empty: all of the subject's data
  reason text NOT NULL,
  at bigint NOT NULL,
  lifted_at bigint,
  PRIMARY KEY (controller, subject_id, restriction_id),
  FOREIGN KEY (controller, subject_id) REFERENCES subjects (controller, subject_id)
);

-- Not personal rows: keyed hashes of identifiers that must never be contacted again.
CREATE TABLE suppressions (
  controller text NOT NULL,
  hash bytea NOT NULL,
  kind text NOT NULL,
  reason text NOT NULL,
  at bigint NOT NULL,
  PRIMARY KEY (controller, hash)
);

-- The tamper-evident audit log, in append order.
CREATE TABLE audit_log (
  seq bigint PRIMARY KEY CHECK (seq > 0),
  controller text NOT NULL,
  at bigint NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  purpose text NOT NULL,
  subject_id text NOT NULL,
  detail text NOT NULL,
  prev_hash bytea NOT NULL,
  hash bytea NOT NULL
);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION custos_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION custos_append_only();
)sql";

// Version 2: retention -- legal holds, DPO review tasks, anonymised facts and the checkpoints of
// retention sweeps (mirrors SQLite's version 2).
constexpr char kSchemaV2[] = R"sql(
CREATE SEQUENCE legal_holds_seq;
CREATE SEQUENCE review_tasks_seq;
CREATE SEQUENCE retention_runs_seq;

-- Not personal rows: a hold names a subject id and/or a category; '' means every one.
CREATE TABLE legal_holds (
  controller text NOT NULL CHECK (controller <> ''),
  hold_id bigint NOT NULL DEFAULT nextval('legal_holds_seq') CHECK (hold_id > 0),
  subject_id text NOT NULL,
  category text NOT NULL,
  reason text NOT NULL,
  placed_at bigint NOT NULL,
  expires_at bigint,
  released_at bigint,
  CHECK (subject_id <> '' OR category <> ''),
  PRIMARY KEY (controller, hold_id)
);

-- One task per (subject, rule, category, due date), so a sweep that runs twice asks once.
CREATE TABLE review_tasks (
  controller text NOT NULL,
  subject_id text NOT NULL,
  task_id bigint NOT NULL DEFAULT nextval('review_tasks_seq') CHECK (task_id > 0),
  rule_id text NOT NULL,
  category text NOT NULL,
  due_at bigint NOT NULL,
  created_at bigint NOT NULL,
  done_at bigint,
  PRIMARY KEY (controller, subject_id, task_id),
  UNIQUE (controller, subject_id, rule_id, category, due_at),
  FOREIGN KEY (controller, subject_id) REFERENCES subjects (controller, subject_id)
);
CREATE INDEX review_tasks_by_id ON review_tasks (controller, task_id);

-- Unlinkable: no subject id, no time, and random ids (the writer picks them).
CREATE TABLE anonymised_facts (
  controller text NOT NULL,
  fact_id bigint NOT NULL CHECK (fact_id > 0),
  category text NOT NULL,
  value text NOT NULL,
  PRIMARY KEY (controller, fact_id)
);
CREATE INDEX anonymised_facts_by_value ON anonymised_facts (controller, category, value);

-- A sweep's checkpoint, written in the same transaction as the actions it covers.
CREATE TABLE retention_runs (
  controller text NOT NULL CHECK (controller <> ''),
  run_id bigint NOT NULL DEFAULT nextval('retention_runs_seq') CHECK (run_id > 0),
  as_of bigint NOT NULL,
  started_at bigint NOT NULL,
  last_subject_id text NOT NULL,
  subjects bigint NOT NULL,
  deleted bigint NOT NULL,
  anonymised bigint NOT NULL,
  reviews bigint NOT NULL,
  held bigint NOT NULL,
  erased bigint NOT NULL,
  finished_at bigint,
  PRIMARY KEY (controller, run_id)
);
)sql";

// Version 3: rights requests -- requests with their history, the outbox of notices to
// recipients and messages to requesters, recipients' webhook endpoints, and earlier values of
// rectified records (mirrors SQLite's version 3). Text that a list is ordered by sorts with
// COLLATE "C", byte by byte like SQLite, whatever the database's collation.
constexpr char kSchemaV3[] = R"sql(
CREATE SEQUENCE request_events_seq;
CREATE SEQUENCE outbox_seq;

-- Keyed by request: at intake the person may not be known yet. Personal parts are sealed with
-- the request's own key (wrapped_key), which is dropped when the request no longer needs them.
CREATE TABLE requests (
  controller text NOT NULL CHECK (controller <> ''),
  request_id text NOT NULL CHECK (request_id <> ''),
  version bigint NOT NULL CHECK (version > 0),
  type text NOT NULL,
  state text NOT NULL CHECK (state IN ('received', 'verifying_identity', 'in_progress',
    'extended', 'completed', 'refused', 'withdrawn', 'forwarded')),
  intake text NOT NULL,
  verification text NOT NULL,
  waiting_for text NOT NULL,
  subject_ids text NOT NULL,  -- subject ids joined with ','
  received_at bigint NOT NULL,
  clock_started_at bigint,
  due_at bigint,
  extended_at bigint,
  closed_at bigint,
  outcome text NOT NULL,
  wrapped_key bytea NOT NULL,
  sealed_details bytea NOT NULL,
  sealed_result bytea NOT NULL,
  code_hash bytea NOT NULL,
  code_expires_at bigint,
  code_attempts bigint NOT NULL,
  access_hash bytea NOT NULL,
  PRIMARY KEY (controller, request_id)
);
CREATE INDEX requests_by_received ON requests (controller, received_at, request_id COLLATE "C");

-- A request's history: append-only.
CREATE TABLE request_events (
  controller text NOT NULL,
  request_id text NOT NULL,
  seq bigint NOT NULL DEFAULT nextval('request_events_seq') CHECK (seq > 0),
  at bigint NOT NULL,
  actor text NOT NULL,
  event text NOT NULL,
  state text NOT NULL,
  detail text NOT NULL,
  PRIMARY KEY (controller, request_id, seq),
  FOREIGN KEY (controller, request_id) REFERENCES requests (controller, request_id)
);
CREATE TRIGGER request_events_append_only BEFORE UPDATE OR DELETE ON request_events
  FOR EACH ROW EXECUTE FUNCTION custos_append_only();
CREATE TRIGGER request_events_no_truncate BEFORE TRUNCATE ON request_events
  FOR EACH STATEMENT EXECUTE FUNCTION custos_append_only();

CREATE TABLE outbox (
  controller text NOT NULL,
  outbox_id bigint NOT NULL DEFAULT nextval('outbox_seq') CHECK (outbox_id > 0),
  request_id text NOT NULL,
  kind text NOT NULL,
  target text NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'delivered', 'manual', 'dead')),
  attempts bigint NOT NULL,
  created_at bigint NOT NULL,
  next_attempt_at bigint NOT NULL,
  delivered_at bigint,
  claimed_until bigint,
  last_error text NOT NULL,
  sealed_payload bytea NOT NULL,
  payload_digest bytea NOT NULL,
  PRIMARY KEY (controller, outbox_id),
  FOREIGN KEY (controller, request_id) REFERENCES requests (controller, request_id)
);
CREATE INDEX outbox_by_request ON outbox (controller, request_id, outbox_id);
CREATE INDEX outbox_due ON outbox (controller, state, next_attempt_at);

-- Not personal: where a recipient takes Article 19 notices; the secret is sealed.
CREATE TABLE recipient_endpoints (
  controller text NOT NULL,
  recipient text NOT NULL,
  url text NOT NULL,
  sealed_secret bytea NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (controller, recipient)
);

-- Earlier values of rectified records, sealed with the subject's key like the records. The
-- version is max + 1 per record, computed by the writer under the record's row lock.
CREATE TABLE record_versions (
  controller text NOT NULL,
  subject_id text NOT NULL,
  record_id bigint NOT NULL,
  version bigint NOT NULL CHECK (version > 0),
  sealed_value bytea NOT NULL,
  replaced_at bigint NOT NULL,
  request_id text NOT NULL,
  PRIMARY KEY (controller, subject_id, record_id, version),
  FOREIGN KEY (controller, subject_id, record_id)
    REFERENCES records (controller, subject_id, record_id)
);
)sql";

// Version 4: the master key the database belongs to (its one-way id, never the key), and the
// first audit seq chained with that key (mirrors SQLite's version 4).
constexpr char kSchemaV4[] = R"sql(
CREATE TABLE key_binding (
  id integer PRIMARY KEY CHECK (id = 1),
  key_id text NOT NULL,
  chain_keyed_from bigint NOT NULL CHECK (chain_keyed_from > 0)
);
CREATE TRIGGER key_binding_append_only BEFORE UPDATE OR DELETE ON key_binding
  FOR EACH ROW EXECUTE FUNCTION custos_append_only();
CREATE TRIGGER key_binding_no_truncate BEFORE TRUNCATE ON key_binding
  FOR EACH STATEMENT EXECUTE FUNCTION custos_append_only();
)sql";

// Version 5: codes sent to requesters' addresses, by blind index, so one address receives only
// so many one-time codes a day. Rows live a day (a keyed hash and a time; nothing plaintext).
constexpr char kSchemaV5[] = R"sql(
CREATE TABLE code_sends (
  controller text NOT NULL,
  contact_hash bytea NOT NULL,
  sent_at bigint NOT NULL
);
CREATE INDEX code_sends_by_address ON code_sends (controller, contact_hash, sent_at);
CREATE INDEX code_sends_by_time ON code_sends (controller, sent_at);
)sql";

// Version 6: the breach register; and the outbox carries a breach's messages as well as a
// request's (its reference is a request id or "breach:<id>"), so its reference to the requests
// table is dropped.
constexpr char kSchemaV6[] = R"sql(
CREATE TABLE breaches (
  controller text NOT NULL CHECK (controller <> ''),
  breach_id text NOT NULL CHECK (breach_id <> ''),
  version bigint NOT NULL CHECK (version > 0),
  aware_at bigint NOT NULL,
  risk text NOT NULL CHECK (risk IN ('unassessed', 'none', 'risk', 'high_risk')),
  reported_at bigint,
  closed_at bigint,
  updated_at bigint NOT NULL,
  wrapped_key bytea NOT NULL,
  sealed_details bytea NOT NULL,
  PRIMARY KEY (controller, breach_id)
);
CREATE INDEX breaches_by_awareness ON breaches (controller, aware_at, breach_id COLLATE "C");

-- The disclosure log: what of a person went to which recipient, for which purpose, when.
CREATE SEQUENCE disclosures_seq;
CREATE TABLE disclosures (
  controller text NOT NULL,
  subject_id text NOT NULL,
  disclosure_id bigint NOT NULL DEFAULT nextval('disclosures_seq') CHECK (disclosure_id > 0),
  recipient text NOT NULL,
  purpose text NOT NULL,
  categories text NOT NULL,
  at bigint NOT NULL,
  PRIMARY KEY (controller, subject_id, disclosure_id),
  FOREIGN KEY (controller, subject_id) REFERENCES subjects (controller, subject_id)
);
DO $$
DECLARE c text;
BEGIN
  FOR c IN SELECT conname FROM pg_constraint
           WHERE conrelid = 'outbox'::regclass AND contype = 'f' LOOP
    EXECUTE 'ALTER TABLE outbox DROP CONSTRAINT ' || quote_ident(c);
  END LOOP;
END $$;
-- A message still needs what it belongs to: its request, or its breach.
CREATE FUNCTION custos_outbox_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.request_id LIKE 'breach:%' THEN
    IF NOT EXISTS (SELECT 1 FROM breaches WHERE controller = NEW.controller
                   AND breach_id = substr(NEW.request_id, 8)) THEN
      RAISE EXCEPTION 'outbox: no breach of that id';
    END IF;
  ELSIF NOT EXISTS (SELECT 1 FROM requests WHERE controller = NEW.controller
                    AND request_id = NEW.request_id) THEN
    RAISE EXCEPTION 'outbox: no request of that id';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER outbox_needs_its_owner BEFORE INSERT ON outbox
  FOR EACH ROW EXECUTE FUNCTION custos_outbox_owner();
)sql";

constexpr char kSchemaV7[] = R"sql(
-- A disclosure to a third-party application a controller authorised names the application.
ALTER TABLE disclosures ADD COLUMN application text NOT NULL DEFAULT '';
)sql";

// Version 8: the outbox also carries a message to one person on their own (a notice of a changed
// policy), whose reference is "person:<subject id>".
constexpr char kSchemaV8[] = R"sql(
CREATE OR REPLACE FUNCTION custos_outbox_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.request_id LIKE 'breach:%' THEN
    IF NOT EXISTS (SELECT 1 FROM breaches WHERE controller = NEW.controller
                   AND breach_id = substr(NEW.request_id, 8)) THEN
      RAISE EXCEPTION 'outbox: no breach of that id';
    END IF;
  ELSIF NEW.request_id LIKE 'person:%' THEN
    IF NOT EXISTS (SELECT 1 FROM subjects WHERE controller = NEW.controller
                   AND subject_id = substr(NEW.request_id, 8)) THEN
      RAISE EXCEPTION 'outbox: no person of that id';
    END IF;
  ELSIF NOT EXISTS (SELECT 1 FROM requests WHERE controller = NEW.controller
                    AND request_id = NEW.request_id) THEN
    RAISE EXCEPTION 'outbox: no request of that id';
  END IF;
  RETURN NEW;
END $$;
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

// Any fixed number: migrations of every schema in the database take turns on it.
constexpr char kLock[] = "SELECT pg_advisory_xact_lock(7233516047)";
constexpr char kCreateMigrationsTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version bigint PRIMARY KEY, name text NOT NULL)";
constexpr char kSelectVersion[] = "SELECT COALESCE(MAX(version), 0)::bigint FROM schema_migrations";
constexpr char kInsertVersion[] = "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)";
constexpr char kTableExists[] = "SELECT (to_regclass('schema_migrations') IS NOT NULL)";

Result<int> ReadVersion(Connection& connection) {
  ASSIGN_OR_RETURN(Rows rows, connection.Query(kSelectVersion, Params()));
  return rows.size() > 0 ? static_cast<int>(rows.Int(0, 0)) : 0;
}

Result<int> MigrateInTransaction(Connection& connection, const std::string& schema) {
  RETURN_IF_ERROR(connection.Exec(kLock));
  std::string create = "CREATE SCHEMA IF NOT EXISTS " + schema;
  RETURN_IF_ERROR(connection.Exec(create.c_str()));
  std::string path = "SET LOCAL search_path TO " + schema;
  RETURN_IF_ERROR(connection.Exec(path.c_str()));
  RETURN_IF_ERROR(connection.Exec(kCreateMigrationsTable));
  ASSIGN_OR_RETURN(int version, ReadVersion(connection));
  if (version > LatestSchemaVersion()) {
    return Status(ErrorCode::kIo, "postgresql: the schema has version " + std::to_string(version) +
                                      ", newer than this build's " +
                                      std::to_string(LatestSchemaVersion()));
  }
  for (const Migration& migration : kMigrations) {
    if (migration.version <= version) continue;
    Status applied = connection.Exec(migration.sql);
    if (!applied.ok()) {
      return Status(ErrorCode::kIo, "schema migration " + std::to_string(migration.version) +
                                        " failed: " + applied.message());
    }
    RETURN_IF_ERROR(connection
                        .Query(kInsertVersion, Params().AddAll(int64_t{migration.version},
                                                               std::string(migration.name)))
                        .status());
    version = migration.version;
  }
  return version;
}

}  // namespace

int LatestSchemaVersion() { return kMigrations.back().version; }

Result<int> Migrate(Connection& connection, const std::string& schema) {
  if (!IsValidSchemaName(schema)) {
    return Status(ErrorCode::kInvalidArgument, "postgresql: invalid schema name");
  }
  RETURN_IF_ERROR(connection.Exec("BEGIN"));
  Result<int> version = MigrateInTransaction(connection, schema);
  if (!version.ok()) {
    (void)connection.Exec("ROLLBACK");
    return Status(ErrorCode::kIo, version.status().message());
  }
  Status committed = connection.Exec("COMMIT");
  if (!committed.ok()) {
    (void)connection.Exec("ROLLBACK");
    return Status(ErrorCode::kIo, committed.message());
  }
  return version;
}

Result<int> SchemaVersion(Connection& connection) {
  ASSIGN_OR_RETURN(Rows exists, connection.Query(kTableExists, Params()));
  if (exists.size() == 0 || !exists.Bool(0, 0)) return 0;
  return ReadVersion(connection);
}

}  // namespace custos::store::pg
