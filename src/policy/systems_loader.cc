// Reads a policy's `systems:` section (docs/SYSTEMS.md) into policy::System values. Shapes and
// names are checked here; references (categories, retention rules, joins) by the validator.
#include <algorithm>
#include <initializer_list>
#include <set>
#include <string>

#include "policy/field_reader.h"
#include "policy/systems.h"

namespace custos::policy {

namespace {

void Report(Diagnostics& diagnostics, ErrorCode code, Loc loc, std::string message,
            std::string hint) {
  diagnostics.push_back({code, loc, std::move(message), std::move(hint)});
}

// Calls `read` for each entry of a map whose keys are names custos may send to a database.
template <typename Read>
void ForEachNamed(const YamlNode& node, const std::string& what, bool sql_names,
                  Diagnostics& diagnostics, Read read) {
  if (!node.IsMap()) {
    Report(diagnostics, ErrorCode::kWrongType, node.loc, what + " must be a map",
           "write one 'name: {...}' entry per line under it");
    return;
  }
  for (const auto& [key, value] : node.entries) {
    bool valid = sql_names ? IsSqlName(key.scalar) : IsIdentifier(key.scalar);
    if (!valid) {
      Report(diagnostics, ErrorCode::kInvalidValue, key.loc,
             "'" + key.scalar + "' is not a valid name in " + what,
             sql_names ? "column names are letters, digits and '_', not starting with a digit"
                       : "keys are lower-case words joined by '_', e.g. crm");
      continue;
    }
    read(key.scalar, key.loc, value);
  }
}

void ReadField(const std::string& name, Loc loc, const YamlNode& node, const std::string& where,
               Dataset& dataset, Diagnostics& diagnostics) {
  SystemField field;
  field.name = name;
  field.loc = loc;
  if (node.kind != YamlNode::Kind::kNull) {
    FieldReader r(node, where + " field '" + name + "'", diagnostics);
    if (const YamlNode* category = r.Get("category")) {
      field.category_loc = category->loc;
      ScalarText(*category, where + " field '" + name + "'.category", field.category, diagnostics);
    }
    std::string erase;
    if (const YamlNode* written = node.Find("erase");
        written != nullptr && written->kind == YamlNode::Kind::kNull) {
      // YAML reads a bare `null` (or nothing) as no value at all, which would keep the column.
      Report(diagnostics, ErrorCode::kInvalidValue, written->loc,
             where + " field '" + name + "' has an empty 'erase'",
             "write one of keep, clear (set to NULL), mask, hash, delete_row");
    }
    if (r.Enum("erase", erase, {"keep", "clear", "mask", "hash", "delete_row"})) {
      field.erase = erase == "clear"        ? EraseAction::kClear
                    : erase == "mask"       ? EraseAction::kMask
                    : erase == "hash"       ? EraseAction::kHash
                    : erase == "delete_row" ? EraseAction::kDeleteRow
                                            : EraseAction::kKeep;
    }
    if (r.Text("mask", field.mask) && field.erase != EraseAction::kMask) {
      Report(diagnostics, ErrorCode::kInvalidValue, loc,
             where + " field '" + name + "' has a mask but does not erase with one",
             "write 'erase: mask' with it, or remove 'mask'");
    }
    r.Finish();
  }
  if (field.erase == EraseAction::kMask && field.mask.empty()) field.mask = "[erased]";
  if (field.erase != EraseAction::kKeep && field.erase != EraseAction::kDeleteRow &&
      field.category.empty()) {
    Report(diagnostics, ErrorCode::kMissingField, loc,
           where + " field '" + name + "' is erased but names no data category",
           "add 'category:' with the policy's key for what the column holds");
  }
  dataset.fields.push_back(std::move(field));
}

// Reads one call, "METHOD /path?query", whose placeholders must be among `allowed` and
// include every one of `needed`.
void ReadCall(FieldReader& r, const char* name, std::initializer_list<std::string_view> needed,
              const std::string& where, ServiceCall& call, Diagnostics& diagnostics) {
  const YamlNode* node = r.Get(name);
  if (node == nullptr) return;
  std::string text;
  if (!ScalarText(*node, where + "." + name, text, diagnostics)) return;
  call.loc = node->loc;
  size_t space = text.find(' ');
  std::string method = text.substr(0, space);
  std::string path = space == std::string::npos ? "" : text.substr(space + 1);
  while (!path.empty() && path.front() == ' ') path.erase(0, 1);
  const bool method_ok = method == "GET" || method == "POST" || method == "PUT" ||
                         method == "PATCH" || method == "DELETE";
  if (!method_ok || path.empty() || path.front() != '/' ||
      path.find_first_of(" \t#") != std::string::npos) {
    Report(diagnostics, ErrorCode::kInvalidValue, node->loc,
           where + "." + name + " '" + text + "' is not a call",
           "write the method and the path under the service's URL, e.g. 'GET "
           "/contacts?email={value}'");
    return;
  }
  static constexpr std::string_view kKnown[] = {"column", "value", "key",
                                                "cutoff", "after", "limit"};
  std::set<std::string, std::less<>> used;
  for (size_t open = path.find('{'); open != std::string::npos; open = path.find('{', open + 1)) {
    size_t close = path.find('}', open);
    std::string placeholder =
        path.substr(open + 1, close == std::string::npos ? 0 : close - open - 1);
    if (close == std::string::npos ||
        std::find(std::begin(kKnown), std::end(kKnown), placeholder) == std::end(kKnown)) {
      Report(diagnostics, ErrorCode::kInvalidValue, node->loc,
             where + "." + name + " has an unknown placeholder in '" + path + "'",
             "use {column}, {value}, {key}, {cutoff}, {after} or {limit}");
      return;
    }
    used.insert(placeholder);
  }
  for (auto placeholder : needed) {
    if (!used.count(placeholder)) {
      Report(diagnostics, ErrorCode::kInvalidValue, node->loc,
             where + "." + name + " '" + path + "' has no {" + std::string(placeholder) + "}",
             "put {" + std::string(placeholder) + "} where the service expects it");
      return;
    }
  }
  call.method = std::move(method);
  call.path = std::move(path);
}

void ReadCalls(const YamlNode& node, const std::string& where, ServiceCalls& calls,
               Diagnostics& diagnostics) {
  FieldReader r(node, where + ".calls", diagnostics);
  const std::string at = where + ".calls";
  ReadCall(r, "find", {"value"}, at, calls.find, diagnostics);
  ReadCall(r, "fetch", {"key"}, at, calls.fetch, diagnostics);
  ReadCall(r, "update", {"key"}, at, calls.update, diagnostics);
  ReadCall(r, "delete", {"key"}, at, calls.remove, diagnostics);
  ReadCall(r, "list", {"cutoff", "after", "limit"}, at, calls.list, diagnostics);
  for (auto [name, pointer] : {std::pair{"rows", &calls.rows}, std::pair{"total", &calls.total}}) {
    if (r.Text(name, *pointer) && pointer->front() != '/') {
      Report(diagnostics, ErrorCode::kInvalidValue, r.Get(name)->loc,
             at + "." + name + " '" + *pointer + "' is not a JSON pointer",
             "write where the answer holds it, e.g. /data (or leave 'rows' out when the answer "
             "is the rows themselves)");
    }
  }
  r.Finish();
  if (r.is_map() && !calls.find.configured() && r.Get("find") == nullptr) {
    Report(diagnostics, ErrorCode::kMissingField, calls.loc, at + " has no 'find' call",
           "add 'find: GET /PATH?{column}={value}', the call that finds a person's rows");
  }
}

// The line of `key:` itself in mapping `node`, where errors about the value as a whole point
// (a block value's own line is the one after).
Loc KeyLoc(const YamlNode& node, std::string_view key) {
  for (const auto& [name, value] : node.entries) {
    if (name.scalar == key) return name.loc;
  }
  return node.loc;
}

void ReadDataset(const std::string& key, Loc loc, const YamlNode& node, const std::string& system,
                 System& out, Diagnostics& diagnostics) {
  std::string where = "system '" + system + "' dataset '" + key + "'";
  FieldReader r(node, where, diagnostics);
  Dataset dataset;
  dataset.key = key;
  dataset.loc = loc;
  const bool https = out.kind == SystemKind::kHttps;
  if (https) {
    // A service's dataset is named by its key; its calls say where its rows are.
    dataset.table = key;
    if (const YamlNode* table = r.Get("table")) {
      Report(diagnostics, ErrorCode::kInvalidValue, table->loc,
             where + " is a service's dataset and has no table",
             "remove 'table'; the dataset's 'calls' say where its rows are");
    }
    if (const YamlNode* calls = r.Get("calls", true)) {
      dataset.calls.loc = KeyLoc(node, "calls");
      ReadCalls(*calls, where, dataset.calls, diagnostics);
    }
  } else if (r.Get("calls") != nullptr) {
    Report(diagnostics, ErrorCode::kInvalidValue, KeyLoc(node, "calls"),
           where + " has 'calls', which only an https system's datasets have",
           "remove 'calls', or make the system 'kind: https'");
  }
  if (!https && r.Text("table", dataset.table, true) && !IsSqlName(dataset.table, true)) {
    Report(diagnostics, ErrorCode::kInvalidValue, r.Get("table")->loc,
           where + " table '" + dataset.table + "' is not a table name custos accepts",
           "write the table's name (letters, digits, '_'), or schema.table");
  }
  if (r.Text("primary_key", dataset.primary_key, true) && !IsSqlName(dataset.primary_key)) {
    Report(diagnostics, ErrorCode::kInvalidValue, r.Get("primary_key")->loc,
           where + " primary_key '" + dataset.primary_key + "' is not a column name",
           "write the column that names one row (letters, digits, '_')");
  }
  if (const YamlNode* find = r.Get("find_by")) {
    ForEachNamed(*find, where + ".find_by", false, diagnostics,
                 [&](const std::string& kind, Loc kind_loc, const YamlNode& column) {
                   bool known = false;
                   for (auto k : FindByKinds()) known = known || k == kind;
                   if (!known) {
                     Report(diagnostics, ErrorCode::kInvalidValue, kind_loc,
                            where + " cannot find people by '" + kind + "'",
                            "find people by email, phone or external_id");
                     return;
                   }
                   FindBy by{kind, "", kind_loc};
                   if (!ScalarText(column, where + ".find_by." + kind, by.column, diagnostics)) {
                     return;
                   }
                   if (!IsSqlName(by.column)) {
                     Report(
                         diagnostics, ErrorCode::kInvalidValue, column.loc,
                         where + ".find_by." + kind + " '" + by.column + "' is not a column name",
                         "write the column holding the person's " + kind);
                     return;
                   }
                   dataset.find_by.push_back(std::move(by));
                 });
  }
  if (const YamlNode* join = r.Get("join")) {
    FieldReader j(*join, where + ".join", diagnostics);
    DatasetJoin parent;
    parent.loc = join->loc;
    bool ok = j.Text("dataset", parent.dataset, true);
    ok = j.Text("field", parent.field, true) && ok;
    j.Finish();
    if (ok && !IsSqlName(parent.field)) {
      Report(diagnostics, ErrorCode::kInvalidValue, join->loc,
             where + ".join.field '" + parent.field + "' is not a column name",
             "write the column holding the parent row's primary key");
    } else if (ok) {
      dataset.join = std::move(parent);
    }
  }
  if (const YamlNode* retention = r.Get("retention")) {
    FieldReader t(*retention, where + ".retention", diagnostics);
    dataset.retention_loc = retention->loc;
    t.Text("rule", dataset.retention_rule, true);
    if (t.Text("starts", dataset.retention_starts, true) && !IsSqlName(dataset.retention_starts)) {
      Report(diagnostics, ErrorCode::kInvalidValue, retention->loc,
             where + ".retention.starts '" + dataset.retention_starts + "' is not a column name",
             "write the column holding the date the period runs from");
    }
    t.Finish();
  }
  if (const YamlNode* fields = r.Get("fields", true)) {
    ForEachNamed(*fields, where + ".fields", true, diagnostics,
                 [&](const std::string& name, Loc field_loc, const YamlNode& value) {
                   ReadField(name, field_loc, value, where, dataset, diagnostics);
                 });
  }
  r.Finish();
  if (dataset.find_by.empty() && !dataset.join && r.is_map()) {
    Report(diagnostics, ErrorCode::kMissingField, loc, where + " says neither how to find a person",
           "add 'find_by: {email: COLUMN}' (or phone, external_id), or 'join: {dataset: D, "
           "field: COLUMN}' to find the rows through another dataset");
  }
  out.datasets.push_back(std::move(dataset));
}

}  // namespace

void ReadSystems(const YamlNode& node, std::vector<System>& out, Diagnostics& diagnostics) {
  ForEachNamed(
      node, "'systems'", false, diagnostics,
      [&](const std::string& key, Loc loc, const YamlNode& value) {
        FieldReader r(value, "system '" + key + "'", diagnostics);
        System system;
        system.key = key;
        system.loc = loc;
        r.Text("name", system.name, true);
        r.Text("description", system.description);
        std::string kind;
        if (const YamlNode* k = r.Get("kind", true)) {
          if (ScalarText(*k, "system '" + key + "'.kind", kind, diagnostics)) {
            if (kind == "postgresql") {
              system.kind = SystemKind::kPostgresql;
            } else if (kind == "sqlite") {
              system.kind = SystemKind::kSqlite;
            } else if (kind == "mysql" || kind == "mariadb") {
              system.kind = SystemKind::kMysql;
            } else if (kind == "https") {
              system.kind = SystemKind::kHttps;
            } else {
              Report(diagnostics, ErrorCode::kInvalidValue, k->loc,
                     "system '" + key + "' is of kind '" + kind +
                         "', which custos has no connector for",
                     "write postgresql, mysql (MySQL or MariaDB), sqlite or https (a service "
                     "with a REST API; docs/SYSTEMS.md)");
            }
          }
        }
        if (const YamlNode* c = r.Get("connection", true)) {
          FieldReader cr(*c, "system '" + key + "'.connection", diagnostics);
          system.connection.loc = c->loc;
          cr.Text("env", system.connection.env);
          cr.Text("file", system.connection.file);
          cr.Finish();
          if (cr.is_map() && system.connection.env.empty() == system.connection.file.empty()) {
            Report(diagnostics, ErrorCode::kInvalidValue, c->loc,
                   "system '" + key + "'.connection must name exactly one of env, file",
                   "write 'connection: {env: VARIABLE}' or 'connection: {file: PATH}'; "
                   "the connection string itself never goes in the policy");
          }
        }
        if (const YamlNode* datasets = r.Get("datasets", true)) {
          ForEachNamed(*datasets, "system '" + key + "'.datasets", false, diagnostics,
                       [&](const std::string& name, Loc dloc, const YamlNode& d) {
                         ReadDataset(name, dloc, d, key, system, diagnostics);
                       });
        }
        r.Finish();
        out.push_back(std::move(system));
      });
}

}  // namespace custos::policy
