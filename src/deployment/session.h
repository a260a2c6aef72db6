// Session: what one process over a deployment needs — the store, the master key, the
// controller's policy and an Engine — opened the same way by every adapter (a CLI invocation,
// `custos serve`).
//
// A data directory holds custos.db (SQLite), master.key (unless --master-key points elsewhere)
// with the latest signed audit checkpoint beside it (master.key.checkpoint, checkpoint_file.h)
// and `controller`, the default controller's key written by `init`. Only `init` creates a master
// key; the database records the id of its key (store::KeyBindingRow) and refuses any other. With
// --database URL the database is PostgreSQL instead (several processes may share it); the
// directory, when given, still holds master.key and `controller`. Thread-safety: one session per
// process or invocation; its Engine is thread-safe, the Session itself is not shared.
#ifndef CUSTOS_DEPLOYMENT_SESSION_H_
#define CUSTOS_DEPLOYMENT_SESSION_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/time.h"
#include "crypto/master_key.h"
#include "engine/engine.h"
#include "store/store.h"

namespace custos::deployment {

struct Options {
  std::string data_dir;          // --data DIR (or $CUSTOS_DATA)
  std::string database_url;      // --database postgresql://... (or $CUSTOS_DATABASE)
  std::string database_schema;   // --schema NAME: the PostgreSQL schema, default "custos"
  std::string master_key_path;   // --master-key PATH, default DIR/master.key
  std::string controller;        // --controller KEY, default the one `init` wrote
  std::optional<Timestamp> now;  // --now TIME: the engine's clock (tests, scenarios, imports)
  bool json = false;             // --json
  // For the server (custos serve): the engine's clock can be set while running (--test-clock:
  // a FixedClock starting at --now or the real time).
  bool test_clock = false;
  // How decisions' audit entries are written (custos serve --audit-decisions): durable unless
  // the server is told otherwise.
  engine::DecisionAudit decision_audit = engine::DecisionAudit::kDurable;
};

// Where the database server's notices go (PostgreSQL's; SQLite has none): by default dropped.
// Gets the severity and the primary message only. REQUIRES: called before a Session is opened.
void SetDatabaseNoticeSink(void (*sink)(std::string_view severity, std::string_view message));

// OK when `options.data_dir` is a data directory that `init` prepared (it names its controller).
// Errors: INVALID_ARGUMENT (no --data), NOT_INITIALISED. Opens nothing.
Status CheckDataDirectory(const Options& options);

class Session {
 public:
  // Creates the data directory, master key (or uses the one at --master-key) and database, and
  // registers `policy_path` as the controller's policy. Errors: IO_ERROR, POLICY_INVALID (first
  // diagnostic), KEY_MISMATCH (the database belongs to another master key).
  static Result<std::unique_ptr<Session>> Init(const Options& options,
                                               const std::string& policy_path);
  // Opens an initialised data directory (or database) with its existing master key. Errors:
  // NOT_INITIALISED (also: no master key file at the path), KEY_MISMATCH (the database belongs
  // to another master key), IO_ERROR, POLICY_INVALID, INVALID_ARGUMENT (neither --data nor
  // --database).
  static Result<std::unique_ptr<Session>> Open(const Options& options);

  engine::Engine& engine() { return *engine_; }
  store::Store& store() { return *store_; }
  // The engine's clock when test_clock is set, else null.
  FixedClock* test_clock() { return test_clock_; }
  const Options& options() const { return options_; }
  // Where the latest signed audit checkpoint is kept: beside the master key.
  std::string checkpoint_path() const;
  ~Session();

 private:
  Session() = default;
  static Result<std::unique_ptr<Session>> Start(const Options& options,
                                                const std::string& controller,
                                                const std::string& policy_text, bool create_key);

  Options options_;
  std::unique_ptr<Clock> clock_;
  FixedClock* test_clock_ = nullptr;
  std::unique_ptr<store::Store> store_;
  std::optional<crypto::MasterKey> master_key_;
  std::unique_ptr<engine::SystemConnectors> systems_;  // outlives the engine
  std::unique_ptr<engine::Engine> engine_;
};

}  // namespace custos::deployment

#endif  // CUSTOS_DEPLOYMENT_SESSION_H_
