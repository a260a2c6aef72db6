// The organisation's own systems (a policy's `systems:` section, docs/SYSTEMS.md): the databases
// that hold the people the policy speaks of, outside custos. Each dataset (a table) says how a
// person is found in it, which column holds which data category, what erasure does to each
// column and which column starts its retention period. The connectors (src/connectors/) reach
// them; the engine's systems reach (engine/systems_reach.h) decides what to read and change.
// Credentials never appear here: `connection` names an environment variable or a file.
// Thread-safety: plain values, immutable once loaded.
#ifndef CUSTOS_POLICY_SYSTEMS_H_
#define CUSTOS_POLICY_SYSTEMS_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/diagnostic.h"

namespace custos::policy {

struct Ref;

// kMysql: MySQL or MariaDB. kHttps: a service with a REST API (a mailing tool, a hosted CRM),
// whose calls each dataset configures (ServiceCalls).
enum class SystemKind { kPostgresql, kSqlite, kMysql, kHttps };

// What erasure does to one column of a person's row.
enum class EraseAction {
  kKeep,       // left as it is (not personal, or kept on purpose)
  kClear,      // set to NULL (emptied)
  kMask,       // overwritten with the field's mask text
  kHash,       // overwritten with a keyed hash of its value (rows stay countable, not readable)
  kDeleteRow,  // the whole row is deleted
};

struct SystemField {
  std::string name;  // the column
  Loc loc;
  std::string category;  // the policy's data category it holds; "" when none (a link, a date)
  Loc category_loc;
  EraseAction erase = EraseAction::kKeep;
  std::string mask;  // kMask: the text written over the value
};

// A dataset whose rows are found through another dataset of the same system (an order found
// through its member): `field` holds the parent's primary key.
struct DatasetJoin {
  std::string dataset, field;
  Loc loc;
};

// How a person is found in a dataset: the column holding one of their identifiers.
struct FindBy {
  std::string kind;  // email, phone, external_id
  std::string column;
  Loc loc;
};

// One call of an HTTPS service: a method and a path (with its query) relative to the service's
// base URL, in which {column}, {value}, {key}, {cutoff}, {after} and {limit} stand for what the
// call is about; each is URL-encoded when filled in. Empty `method`: not configured.
struct ServiceCall {
  std::string method, path;
  Loc loc;
  bool configured() const { return !method.empty(); }
};

// How custos reads and changes one dataset of an HTTPS service. Rows are JSON objects whose
// members are the dataset's columns.
struct ServiceCalls {
  ServiceCall find;    // the rows whose {column} equals {value} (an array, or one object)
  ServiceCall fetch;   // optional: the whole row {key} (when `find` answers only part of it)
  ServiceCall update;  // sets members of row {key} from a JSON object body (clear, mask, hash)
  ServiceCall remove;  // deletes row {key} (delete_row)
  // Rows whose {column} holds a date before {cutoff}, at most {limit} of them, after row {after}
  // (empty: from the first), in the service's key order: retention sweeps and `systems check`.
  ServiceCall list;
  std::string rows;   // a JSON pointer to the rows in an answer of find or list ("": the answer)
  std::string total;  // optional: a JSON pointer to the number of rows in an answer of list
  Loc loc;
};

struct Dataset {
  std::string key;
  Loc loc;
  std::string table;        // the table's name, optionally schema-qualified
  std::string primary_key;  // the column that names one row
  std::vector<FindBy> find_by;
  std::optional<DatasetJoin> join;
  std::vector<SystemField> fields;
  // Retention: the policy's rule whose period applies to these rows, counted from the date in
  // column `retention_starts`. Empty: the rows follow no period of their own.
  std::string retention_rule, retention_starts;
  Loc retention_loc;
  ServiceCalls calls;  // kHttps systems only

  const SystemField* FindField(std::string_view name) const;
  // Whether erasing a row deletes it (some erased field says delete_row).
  bool DeletesRows() const;
};

// The connection string: libpq's for PostgreSQL, a file path for SQLite, key=value pairs for
// MySQL and for HTTPS services (url=https://... token=... [ca=FILE] [token_header=NAME]).
struct SystemConnection {
  std::string env;   // an environment variable holding the connection string
  std::string file;  // or a file whose first line is (relative to the policy file)
  Loc loc;
};

struct System {
  std::string key;
  Loc loc;
  std::string name, description;
  SystemKind kind = SystemKind::kSqlite;
  SystemConnection connection;
  std::vector<Dataset> datasets;

  const Dataset* FindDataset(std::string_view key) const;
};

std::string_view SystemKindKey(SystemKind kind);      // "postgresql"
std::string_view EraseActionKey(EraseAction action);  // "delete_row"
// The identifier kinds a dataset may be found by, and the kind of a custos identifier each
// matches (email -> email, phone -> phone, external_id -> external).
const std::vector<std::string_view>& FindByKinds();
std::string_view IdentifierKindOf(std::string_view find_by_kind);

// Datasets of `system` in the order erasure must visit them: every dataset after the datasets
// found through it (children before parents). A join cycle is broken where it closes (the
// validator refuses cycles).
std::vector<const Dataset*> ErasureOrder(const System& system);

// True for a table or column name custos will quote and send to a database: letters, digits
// and '_' (not starting with a digit), at most 63 bytes; a table may be "schema.table".
bool IsSqlName(std::string_view name, bool allow_schema = false);

}  // namespace custos::policy

#endif  // CUSTOS_POLICY_SYSTEMS_H_
