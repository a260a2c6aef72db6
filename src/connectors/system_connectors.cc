#include "connectors/system_connectors.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "connectors/https_system.h"
#include "connectors/mysql_system.h"
#include "connectors/postgres_system.h"
#include "connectors/sqlite_system.h"

namespace custos::connectors {

Result<std::string> PolicySystemConnectors::ConnectionString(const policy::System& system) const {
  const policy::SystemConnection& connection = system.connection;
  if (!connection.env.empty()) {
    const char* value = std::getenv(connection.env.c_str());
    if (value == nullptr || *value == '\0') {
      return Status(ErrorCode::kUnavailable, "system " + system.key + ": environment variable " +
                                                 connection.env + " (its connection) is not set");
    }
    return std::string(value);
  }
  std::filesystem::path path(connection.file);
  if (path.is_relative() && !base_dir_.empty()) path = std::filesystem::path(base_dir_) / path;
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line) || line.empty()) {
    return Status(ErrorCode::kUnavailable,
                  "system " + system.key + ": cannot read its connection file " + path.string());
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

Result<engine::SystemConnector*> PolicySystemConnectors::Open(const policy::System& system) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = open_.find(system.key); it != open_.end()) {
    // A service's calls come from the policy, which may have been reloaded since.
    if (system.kind == policy::SystemKind::kHttps) ReconfigureHttpsSystem(*it->second, system);
    return it->second.get();
  }
  ASSIGN_OR_RETURN(std::string connection, ConnectionString(system));
  std::unique_ptr<engine::SystemConnector> connector;
  switch (system.kind) {
    case policy::SystemKind::kSqlite: {
      ASSIGN_OR_RETURN(connector, OpenSqliteSystem(system.key, connection));
      break;
    }
    case policy::SystemKind::kPostgresql: {
      ASSIGN_OR_RETURN(connector, OpenPostgresSystem(system.key, connection));
      break;
    }
    case policy::SystemKind::kMysql: {
      ASSIGN_OR_RETURN(connector, OpenMysqlSystem(system.key, connection));
      break;
    }
    case policy::SystemKind::kHttps: {
      ASSIGN_OR_RETURN(connector, OpenHttpsSystem(system, connection));
      break;
    }
  }
  engine::SystemConnector* raw = connector.get();
  open_[system.key] = std::move(connector);
  return raw;
}

}  // namespace custos::connectors
