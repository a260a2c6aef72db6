#include "deployment/session.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "connectors/system_connectors.h"
#include "policy/loader.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::deployment {

namespace {

namespace fs = std::filesystem;

std::string MasterKeyPath(const Options& options) {
  return options.master_key_path.empty() ? (fs::path(options.data_dir) / "master.key").string()
                                         : options.master_key_path;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(ErrorCode::kIo, "cannot read " + path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The one place that picks a backend: PostgreSQL with --database, else SQLite in DIR.
Result<std::unique_ptr<store::Store>> OpenStore(const Options& options) {
  if (!options.database_url.empty()) {
    store::PostgresOptions postgres;
    postgres.url = options.database_url;
    if (!options.database_schema.empty()) postgres.schema = options.database_schema;
    return store::OpenPostgresStore(postgres);
  }
  return store::OpenSqliteStore(store::SqliteOptions{options.data_dir, true});
}

// Where the database lives, for messages (never the URL: it may carry a password).
std::string Where(const Options& options) {
  if (options.database_url.empty()) return options.data_dir;
  return "the PostgreSQL database (schema " +
         (options.database_schema.empty() ? std::string("custos") : options.database_schema) + ")";
}

bool IsControllerKey(std::string_view key) {
  if (key.empty() || key.size() > 64) return false;
  for (char c : key) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

}  // namespace

Status CheckDataDirectory(const Options& options) {
  if (options.data_dir.empty()) {
    return Status(ErrorCode::kInvalidArgument, "this command needs --data DIR (or CUSTOS_DATA)");
  }
  std::error_code ec;
  if (!fs::is_regular_file(fs::path(options.data_dir) / "controller", ec)) {
    return Status(ErrorCode::kNotInitialised, "cannot use the data directory " + options.data_dir +
                                                  ": it is not initialised; run 'custos --data " +
                                                  options.data_dir + " init --policy FILE' first");
  }
  return Status::Ok();
}

Session::~Session() {
  if (engine_) (void)engine_->Flush();
}

std::string Session::checkpoint_path() const { return MasterKeyPath(options_) + ".checkpoint"; }

Result<std::unique_ptr<Session>> Session::Start(const Options& options,
                                                const std::string& controller,
                                                const std::string& policy_text, bool create_key) {
  policy::LoadOutcome loaded = policy::CheckPolicyText(policy_text, controller + " policy");
  if (!loaded.ok()) {
    return Status(ErrorCode::kPolicyInvalid, loaded.diagnostics.front().Format(loaded.policy.file));
  }
  std::unique_ptr<Session> session(new Session());
  session->options_ = options;
  if (options.test_clock) {
    auto clock = std::make_unique<FixedClock>(options.now.value_or(SystemClock().Now()));
    session->test_clock_ = clock.get();
    session->clock_ = std::move(clock);
  } else if (options.now) {
    session->clock_ = std::make_unique<FixedClock>(*options.now);
  } else {
    session->clock_ = std::make_unique<SystemClock>();
  }
  ASSIGN_OR_RETURN(session->store_, OpenStore(options));
  const std::string key_path = MasterKeyPath(options);
  ASSIGN_OR_RETURN(crypto::MasterKey key, create_key ? crypto::MasterKey::LoadOrCreate(key_path)
                                                     : crypto::MasterKey::Load(key_path));
  // The first open records the key's id (and where its keyed audit chain starts); every later
  // open must bring the same key, or it would seal and chain under the wrong one.
  const std::string key_id = key.KeyId();
  ASSIGN_OR_RETURN(store::KeyBindingRow binding, session->store_->BindKey(key_id));
  if (binding.key_id != key_id) {
    return Status(ErrorCode::kKeyMismatch,
                  "cannot use " + Where(options) + ": it belongs to another master key (id " +
                      binding.key_id + "), not the one in " + key_path + " (id " + key_id +
                      "); give --master-key the key it was initialised with");
  }
  session->master_key_.emplace(std::move(key));
  session->engine_ = std::make_unique<engine::Engine>(std::move(loaded.policy), controller,
                                                      *session->store_, *session->master_key_,
                                                      *session->clock_, options.decision_audit);
  RETURN_IF_ERROR(session->engine_->Open(policy_text));
  // The organisation's own systems: connected when first used (a relative connection file is
  // read from the data directory).
  session->systems_ = std::make_unique<connectors::PolicySystemConnectors>(options.data_dir);
  session->engine_->AttachSystems(session->systems_.get());
  return session;
}

Result<std::unique_ptr<Session>> Session::Init(const Options& options,
                                               const std::string& policy_path) {
  if (options.data_dir.empty() &&
      (options.database_url.empty() || options.master_key_path.empty())) {
    return Status(ErrorCode::kInvalidArgument,
                  "init needs --data DIR (or --database URL with --master-key PATH)");
  }
  ASSIGN_OR_RETURN(std::string text, ReadFile(policy_path));
  auto outcome = policy::CheckPolicyText(text, policy_path);
  if (!outcome.ok()) {
    return Status(ErrorCode::kPolicyInvalid, outcome.diagnostics.front().Format(policy_path));
  }
  std::string controller = options.controller;
  if (controller.empty()) controller = fs::path(policy_path).stem().string();
  if (!IsControllerKey(controller)) {
    return Status(ErrorCode::kInvalidArgument,
                  "controller key must be lower-case letters, digits, '_' or '-' (use "
                  "--controller)");
  }
  std::error_code ec;
  if (options.data_dir.empty()) return Start(options, controller, text, true);
  fs::create_directories(options.data_dir, ec);
  if (ec) return Status(ErrorCode::kIo, "cannot create " + options.data_dir + ": " + ec.message());
  fs::permissions(options.data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  ASSIGN_OR_RETURN(auto session, Start(options, controller, text, true));
  std::ofstream out(fs::path(options.data_dir) / "controller", std::ios::trunc);
  out << controller << "\n";
  if (!out) return Status(ErrorCode::kIo, "cannot write " + options.data_dir + "/controller");
  return session;
}

void SetDatabaseNoticeSink(void (*sink)(std::string_view severity, std::string_view message)) {
  store::SetPostgresNoticeSink(sink);
}

Result<std::unique_ptr<Session>> Session::Open(const Options& options) {
  if (options.data_dir.empty() && options.database_url.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "this command needs --data DIR (or CUSTOS_DATA) or --database URL");
  }
  if (options.data_dir.empty() && (options.controller.empty() || options.master_key_path.empty())) {
    return Status(ErrorCode::kInvalidArgument,
                  "--database without --data needs --controller KEY and --master-key PATH");
  }
  std::string controller = options.controller;
  if (controller.empty()) {
    RETURN_IF_ERROR(CheckDataDirectory(options));
    ASSIGN_OR_RETURN(std::string text,
                     ReadFile((fs::path(options.data_dir) / "controller").string()));
    controller = std::move(text);
    while (!controller.empty() && (controller.back() == '\n' || controller.back() == ' ')) {
      controller.pop_back();
    }
  }
  ASSIGN_OR_RETURN(auto store, OpenStore(options));
  ASSIGN_OR_RETURN(auto row, store->GetController(controller));
  if (!row.has_value()) {
    return Status(ErrorCode::kNotInitialised, "cannot use " + Where(options) + ": controller '" +
                                                  controller + "' is not initialised there");
  }
  std::string text = row->policy_text;
  store.reset();
  return Start(options, controller, text, false);
}

}  // namespace custos::deployment
