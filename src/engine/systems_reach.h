// Systems reach: what custos reads and changes in the organisation's own systems for one
// person (access, erasure) or for rows whose retention period has passed, decided from the
// policy's `systems:` (policy/systems.h) and carried out through a SystemConnector. Pure
// decisions plus calls on the connector; the Engine (engine_systems.cc) adds identity, holds,
// exemptions and audit.
//
//   Finding a person: each dataset's rows whose find_by column holds one of the person's
//   identifiers (email, phone, external id, in custos's canonical form), plus the rows that
//   join a found row of their parent dataset, parents first.
//   Erasing: children before parents (policy::ErasureOrder), each row by its primary key. A
//   row is deleted when a field says delete_row and every categorised field of the row may go;
//   otherwise each field that may go gets its action (a delete_row field is set to NULL) and a
//   kept field stays with its reason. Applying the same plan twice changes nothing more.
//
// PII: found rows hold personal data; plans hold categories, actions and row keys only.
// Thread-safety: functions are reentrant; a connector is not (one caller at a time).
#ifndef CUSTOS_ENGINE_SYSTEMS_REACH_H_
#define CUSTOS_ENGINE_SYSTEMS_REACH_H_

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "engine/system_connector.h"
#include "policy/policy.h"

namespace custos::engine {

// A person as the systems may know them: custos identifier kind (email, phone, external) and
// value. PII.
using PersonIdentifiers = std::vector<std::pair<std::string, std::string>>;

struct FoundField {
  std::string name, category;
  std::optional<std::string> value;  // PII
};
struct FoundRow {
  std::string key;  // the primary key's value
  std::vector<FoundField> fields;
};
struct FoundDataset {
  std::string dataset, table;
  std::vector<FoundRow> rows;
};

// The person's rows in `system`, one entry per dataset in the policy's order (rows may be
// empty). Errors: the connector's (UNAVAILABLE, NOT_FOUND).
Result<std::vector<FoundDataset>> FindPersonIn(const policy::System& system,
                                               SystemConnector& connector,
                                               const PersonIdentifiers& person);

// Why a category must stay: the ground and what the person is told; nullopt: it may go.
struct KeepReason {
  std::string ground, told;
};
using KeepDecider = std::function<std::optional<KeepReason>(const std::string& category)>;

struct FieldStep {
  std::string field, category;
  policy::EraseAction action = policy::EraseAction::kKeep;  // what will be done
  std::optional<KeepReason> kept;  // set when a hold, an exemption or the request's scope keeps it
};
struct RowStep {
  std::string key;
  bool delete_row = false;
  std::vector<FieldStep> fields;  // categorised fields only
};
struct DatasetStep {
  std::string dataset, table;
  std::vector<RowStep> rows;
  int64_t deletes = 0, updates = 0, untouched = 0;
};

// The erasure of the `found` rows of `system`, in erasure order. `keep` says what stays.
std::vector<DatasetStep> PlanErasureIn(const policy::System& system,
                                       const std::vector<FoundDataset>& found,
                                       const KeepDecider& keep);

// A keyed hash of a value for an erase: hash column (hex, never the value).
using ValueHasher = std::function<std::string(const std::string& column, const std::string& value)>;

// The connector changes for one dataset step (rows left alone give none).
std::vector<RowChange> ChangesFor(const policy::Dataset& dataset, const DatasetStep& step,
                                  const FoundDataset& found, const ValueHasher& hash);

// Carries out `plan` (from PlanErasureIn over `found`): one Apply per dataset, children first.
// Returns the rows changed. Errors: the connector's; datasets applied before the failure stay
// applied (a retry finds their rows gone or already erased).
Result<int64_t> ApplyErasureIn(const policy::System& system, SystemConnector& connector,
                               const std::vector<DatasetStep>& plan,
                               const std::vector<FoundDataset>& found, const ValueHasher& hash);

// What a rights request does (or did) in one system: reached (status OK) with its steps, not
// reached (the connector's error), or left out by the DPO (`waived`, their reason).
struct SystemPlan {
  std::string system, name;
  Status status;
  std::string waived;
  std::vector<DatasetStep> datasets;
  int64_t rows_changed = 0;  // once applied
};

// A person's rows gathered from one system for an access package.
struct SystemRows {
  std::string system, name;
  std::vector<FoundDataset> datasets;
  bool searched = true;  // false: the DPO left the system out of the request
};

// What a retention sweep found (and did) in one dataset of a system.
struct SystemRetentionLine {
  std::string system, dataset, rule;
  std::string cutoff;  // rows dated before this day are due
  int64_t due = 0, deleted = 0, changed = 0, held = 0;
  Status status;  // the connector's error, when the system could not be swept
};

// What `systems check` reports of one dataset.
struct DatasetCheck {
  std::string dataset, table;
  bool table_found = false;
  std::vector<std::string> missing_columns;  // declared but not in the table
  int64_t rows = -1;                         // -1 when not counted
};
struct SystemCheck {
  std::string system, name, kind;
  Status status;  // OK when connected and every table and column exists
  std::vector<DatasetCheck> datasets;
};

// Checks each system of `policy`: connection, tables, columns, rows per dataset.
std::vector<SystemCheck> CheckSystems(const policy::Policy& policy, SystemConnectors& connectors);

// The columns of `dataset` custos reads: primary key, find_by and join columns, fields.
std::vector<std::string> DatasetColumns(const policy::Dataset& dataset);

}  // namespace custos::engine

#endif  // CUSTOS_ENGINE_SYSTEMS_REACH_H_
