#include "engine/systems_reach.h"

#include <algorithm>
#include <map>
#include <set>

#include "crypto/blind_index.h"

namespace custos::engine {

namespace {

void AddUnique(std::vector<std::string>& out, const std::string& value) {
  if (std::find(out.begin(), out.end(), value) == out.end()) out.push_back(value);
}

// Parents before children: the reverse of the erasure order.
std::vector<const policy::Dataset*> FindOrder(const policy::System& system) {
  std::vector<const policy::Dataset*> order = policy::ErasureOrder(system);
  std::reverse(order.begin(), order.end());
  return order;
}

const FoundDataset* FoundFor(const std::vector<FoundDataset>& found, const std::string& key) {
  for (const auto& dataset : found) {
    if (dataset.dataset == key) return &dataset;
  }
  return nullptr;
}

// What a ValueHasher writes: 64 lower-case hex digits (no e-mail, phone or name looks so).
bool LooksHashed(const std::string& value) {
  return value.size() == 64 && value.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

std::vector<std::string> DatasetColumns(const policy::Dataset& dataset) {
  std::vector<std::string> columns{dataset.primary_key};
  for (const auto& by : dataset.find_by) AddUnique(columns, by.column);
  if (dataset.join) AddUnique(columns, dataset.join->field);
  if (!dataset.retention_starts.empty()) AddUnique(columns, dataset.retention_starts);
  for (const auto& field : dataset.fields) AddUnique(columns, field.name);
  return columns;
}

Result<std::vector<FoundDataset>> FindPersonIn(const policy::System& system,
                                               SystemConnector& connector,
                                               const PersonIdentifiers& person) {
  std::map<std::string, FoundDataset> found;
  for (const policy::Dataset* dataset : FindOrder(system)) {
    std::vector<std::string> columns = DatasetColumns(*dataset);
    FoundDataset& out = found[dataset->key];
    out.dataset = dataset->key;
    out.table = dataset->table;
    std::set<std::string> seen;
    auto take = [&](const std::vector<SystemRow>& rows) {
      for (const auto& row : rows) {
        if (row.empty() || !row[0].has_value() || !seen.insert(*row[0]).second) continue;
        FoundRow found_row{*row[0], {}};
        for (const auto& field : dataset->fields) {
          auto at = std::find(columns.begin(), columns.end(), field.name) - columns.begin();
          found_row.fields.push_back(
              {field.name, field.category,
               static_cast<size_t>(at) < row.size() ? row[at] : std::nullopt});
        }
        out.rows.push_back(std::move(found_row));
      }
    };
    for (const auto& by : dataset->find_by) {
      std::vector<std::string> values;
      std::string kind(policy::IdentifierKindOf(by.kind));
      for (const auto& [k, value] : person) {
        if (k != kind) continue;
        AddUnique(values, value);
        AddUnique(values, crypto::NormalizeIdentifier(kind, value));
      }
      if (values.empty()) continue;
      ASSIGN_OR_RETURN(std::vector<SystemRow> rows,
                       connector.Select(dataset->table, columns, by.column, values));
      take(rows);
    }
    if (dataset->join) {
      const FoundDataset& parent = found[dataset->join->dataset];
      std::vector<std::string> keys;
      for (const auto& row : parent.rows) keys.push_back(row.key);
      if (!keys.empty()) {
        ASSIGN_OR_RETURN(std::vector<SystemRow> rows,
                         connector.Select(dataset->table, columns, dataset->join->field, keys));
        take(rows);
      }
    }
  }
  std::vector<FoundDataset> result;
  for (const auto& dataset : system.datasets) result.push_back(std::move(found[dataset.key]));
  return result;
}

std::vector<DatasetStep> PlanErasureIn(const policy::System& system,
                                       const std::vector<FoundDataset>& found,
                                       const KeepDecider& keep) {
  std::vector<DatasetStep> plan;
  for (const policy::Dataset* dataset : policy::ErasureOrder(system)) {
    const FoundDataset* rows = FoundFor(found, dataset->key);
    if (rows == nullptr) continue;
    DatasetStep step{dataset->key, dataset->table, {}, 0, 0, 0};
    for (const auto& row : rows->rows) {
      RowStep row_step{row.key, false, {}};
      bool all_go = true, any_change = false;
      for (const auto& field : dataset->fields) {
        if (field.category.empty()) continue;
        FieldStep field_step{field.name, field.category, field.erase, std::nullopt};
        if (field.erase != policy::EraseAction::kKeep) {
          field_step.kept = keep(field.category);
          if (field_step.kept) field_step.action = policy::EraseAction::kKeep;
        }
        if (field_step.kept) all_go = false;
        row_step.fields.push_back(std::move(field_step));
      }
      row_step.delete_row = dataset->DeletesRows() && all_go;
      for (auto& field_step : row_step.fields) {
        if (row_step.delete_row) break;
        // A row that stays: its delete_row fields are emptied instead.
        if (field_step.action == policy::EraseAction::kDeleteRow) {
          field_step.action = policy::EraseAction::kClear;
        }
        if (field_step.action != policy::EraseAction::kKeep) any_change = true;
      }
      if (row_step.delete_row) {
        ++step.deletes;
      } else if (any_change) {
        ++step.updates;
      } else {
        ++step.untouched;
      }
      step.rows.push_back(std::move(row_step));
    }
    plan.push_back(std::move(step));
  }
  return plan;
}

std::vector<RowChange> ChangesFor(const policy::Dataset& dataset, const DatasetStep& step,
                                  const FoundDataset& found, const ValueHasher& hash) {
  std::vector<RowChange> changes;
  for (const auto& row : step.rows) {
    RowChange change{row.key, row.delete_row, {}};
    if (!row.delete_row) {
      const FoundRow* found_row = nullptr;
      for (const auto& candidate : found.rows) {
        if (candidate.key == row.key) found_row = &candidate;
      }
      for (const auto& field : row.fields) {
        const policy::SystemField* declared = dataset.FindField(field.field);
        std::optional<std::string> value;
        if (found_row != nullptr) {
          for (const auto& f : found_row->fields) {
            if (f.name == field.field) value = f.value;
          }
        }
        switch (field.action) {
          case policy::EraseAction::kKeep:
          case policy::EraseAction::kDeleteRow: break;
          case policy::EraseAction::kClear:
            if (value) change.set.emplace_back(field.field, std::nullopt);
            break;
          case policy::EraseAction::kMask:
            if (value && declared && *value != declared->mask) {
              change.set.emplace_back(field.field, declared->mask);
            }
            break;
          case policy::EraseAction::kHash:
            // A value already hashed (a retry) is left as it is.
            if (value && !LooksHashed(*value)) {
              change.set.emplace_back(field.field, hash(field.field, *value));
            }
            break;
        }
      }
      if (change.set.empty()) continue;
    }
    changes.push_back(std::move(change));
  }
  return changes;
}

Result<int64_t> ApplyErasureIn(const policy::System& system, SystemConnector& connector,
                               const std::vector<DatasetStep>& plan,
                               const std::vector<FoundDataset>& found, const ValueHasher& hash) {
  int64_t changed = 0;
  for (const auto& step : plan) {
    const policy::Dataset* dataset = system.FindDataset(step.dataset);
    const FoundDataset* rows = FoundFor(found, step.dataset);
    if (dataset == nullptr || rows == nullptr) continue;
    std::vector<RowChange> changes = ChangesFor(*dataset, step, *rows, hash);
    if (changes.empty()) continue;
    ASSIGN_OR_RETURN(int64_t n, connector.Apply(dataset->table, dataset->primary_key, changes));
    changed += n;
  }
  return changed;
}

std::vector<SystemCheck> CheckSystems(const policy::Policy& policy, SystemConnectors& connectors) {
  std::vector<SystemCheck> checks;
  for (const auto& system : policy.systems) {
    SystemCheck check{
        system.key, system.name, std::string(policy::SystemKindKey(system.kind)), Status::Ok(), {}};
    Result<SystemConnector*> connector = connectors.Open(system);
    if (!connector.ok()) {
      check.status = connector.status();
      checks.push_back(std::move(check));
      continue;
    }
    int missing = 0;
    for (const auto& dataset : system.datasets) {
      DatasetCheck d{dataset.key, dataset.table, false, {}, -1};
      Result<std::vector<std::string>> columns = (*connector)->Columns(dataset.table);
      if (!columns.ok()) {
        if (columns.status().code() != ErrorCode::kNotFound) {
          check.status = columns.status();
          break;
        }
        ++missing;
        check.datasets.push_back(std::move(d));
        continue;
      }
      d.table_found = true;
      for (const auto& column : DatasetColumns(dataset)) {
        if (std::find(columns->begin(), columns->end(), column) == columns->end()) {
          d.missing_columns.push_back(column);
        }
      }
      missing += static_cast<int>(d.missing_columns.size());
      if (Result<int64_t> rows = (*connector)->CountRows(dataset.table); rows.ok()) {
        d.rows = *rows;
      }
      check.datasets.push_back(std::move(d));
    }
    if (check.status.ok() && missing > 0) {
      check.status =
          Status(ErrorCode::kNotFound, "system " + system.key + ": " + std::to_string(missing) +
                                           " declared table(s) or column(s) missing");
    }
    checks.push_back(std::move(check));
  }
  return checks;
}

}  // namespace custos::engine
