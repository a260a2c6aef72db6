// SystemConnector: the port through which the engine reads and changes rows in the
// organisation's own systems (a policy's `systems:`, policy/systems.h). The engine decides what
// to read and change (systems_reach.h); a connector (src/connectors/) only speaks its database's
// language. Table and column names come from a validated policy (policy::IsSqlName) and are
// quoted by the connector; values are always sent as parameters, never spliced into SQL.
// Values travel as text: a connector compares them with the column's own type.
// Errors: UNAVAILABLE when the system cannot be reached (the message names the system, never
// its connection string or a value), NOT_FOUND for a missing table or column.
// Thread-safety: a connector is used by one thread at a time.
#ifndef CUSTOS_ENGINE_SYSTEM_CONNECTOR_H_
#define CUSTOS_ENGINE_SYSTEM_CONNECTOR_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "policy/systems.h"

namespace custos::engine {

// One row as read: its columns' values in the order asked for (nullopt: NULL).
// PII: values are personal data.
using SystemRow = std::vector<std::optional<std::string>>;

// A change to one row, named by its primary key: deleted, or some columns set.
struct RowChange {
  std::string key;
  bool delete_row = false;
  std::vector<std::pair<std::string, std::optional<std::string>>> set;  // column, new value
};

class SystemConnector {
 public:
  virtual ~SystemConnector() = default;

  // The columns `table` has, in any order; NOT_FOUND when there is no such table.
  virtual Result<std::vector<std::string>> Columns(const std::string& table) = 0;
  virtual Result<int64_t> CountRows(const std::string& table) = 0;
  // Rows of `table` whose `column` equals one of `values`, with `columns` read.
  virtual Result<std::vector<SystemRow>> Select(const std::string& table,
                                                const std::vector<std::string>& columns,
                                                const std::string& column,
                                                const std::vector<std::string>& values) = 0;
  // At most `limit` rows whose `column` holds a date before `cutoff` (YYYY-MM-DD), with
  // `columns` read, in primary-key order after `after_key` (empty: from the first).
  virtual Result<std::vector<SystemRow>> SelectBefore(
      const std::string& table, const std::vector<std::string>& columns, const std::string& column,
      const std::string& cutoff, const std::string& primary_key, const std::string& after_key,
      int64_t limit) = 0;
  // Applies `changes` to `table` in one transaction; returns the rows changed. A change to a
  // row that is no longer there changes nothing (so a retry is harmless).
  virtual Result<int64_t> Apply(const std::string& table, const std::string& primary_key,
                                const std::vector<RowChange>& changes) = 0;
};

// Opens (and keeps) one connector per system. The adapters give the engine one
// (Engine::AttachSystems); src/connectors/ has the real one.
class SystemConnectors {
 public:
  virtual ~SystemConnectors() = default;
  // The connector for `system`, connecting first when needed. UNAVAILABLE when it cannot.
  virtual Result<SystemConnector*> Open(const policy::System& system) = 0;
};

}  // namespace custos::engine

#endif  // CUSTOS_ENGINE_SYSTEM_CONNECTOR_H_
