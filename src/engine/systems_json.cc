#include "engine/systems_json.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace custos::engine {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

void Int(Writer& w, const char* key, int64_t value) {
  w.Key(key);
  w.Int64(value);
}

void Error(Writer& w, const Status& status) {
  w.Key("error");
  if (status.ok()) {
    w.Null();
  } else {
    w.String(status.message().c_str());
  }
}

}  // namespace

std::string SystemPlansJson(const std::vector<SystemPlan>& plans) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartArray();
  for (const auto& plan : plans) {
    w.StartObject();
    Str(w, "system", plan.system);
    Str(w, "name", plan.name);
    w.Key("reached");
    w.Bool(plan.waived.empty() && plan.status.ok());
    Error(w, plan.status);
    w.Key("waived");
    if (plan.waived.empty()) {
      w.Null();
    } else {
      w.String(plan.waived.c_str());
    }
    w.Key("datasets");
    w.StartArray();
    for (const auto& step : plan.datasets) {
      w.StartObject();
      Str(w, "dataset", step.dataset);
      Str(w, "table", step.table);
      Int(w, "deletes", step.deletes);
      Int(w, "updates", step.updates);
      Int(w, "untouched", step.untouched);
      w.Key("rows");
      w.StartArray();
      for (const auto& row : step.rows) {
        w.StartObject();
        Str(w, "key", row.key);
        w.Key("delete");
        w.Bool(row.delete_row);
        w.Key("fields");
        w.StartArray();
        for (const auto& field : row.fields) {
          w.StartObject();
          Str(w, "field", field.field);
          Str(w, "category", field.category);
          Str(w, "action",
              std::string(row.delete_row ? "delete_row" : policy::EraseActionKey(field.action)));
          w.Key("kept");
          if (field.kept) {
            w.StartObject();
            Str(w, "ground", field.kept->ground);
            Str(w, "told", field.kept->told);
            w.EndObject();
          } else {
            w.Null();
          }
          w.EndObject();
        }
        w.EndArray();
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  return buffer.GetString();
}

std::string SystemChecksJson(const std::vector<SystemCheck>& checks) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartArray();
  for (const auto& check : checks) {
    w.StartObject();
    Str(w, "system", check.system);
    Str(w, "name", check.name);
    Str(w, "kind", check.kind);
    w.Key("ok");
    w.Bool(check.status.ok());
    Error(w, check.status);
    w.Key("datasets");
    w.StartArray();
    for (const auto& d : check.datasets) {
      w.StartObject();
      Str(w, "dataset", d.dataset);
      Str(w, "table", d.table);
      w.Key("table_found");
      w.Bool(d.table_found);
      w.Key("missing_columns");
      w.StartArray();
      for (const auto& column : d.missing_columns) w.String(column.c_str());
      w.EndArray();
      w.Key("rows");
      if (d.rows < 0) {
        w.Null();
      } else {
        w.Int64(d.rows);
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  return buffer.GetString();
}

std::string SystemRetentionJson(const std::vector<SystemRetentionLine>& lines) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartArray();
  for (const auto& line : lines) {
    w.StartObject();
    Str(w, "system", line.system);
    Str(w, "dataset", line.dataset);
    Str(w, "rule", line.rule);
    Str(w, "cutoff", line.cutoff);
    Int(w, "due", line.due);
    Int(w, "deleted", line.deleted);
    Int(w, "changed", line.changed);
    Int(w, "held", line.held);
    Error(w, line.status);
    w.EndObject();
  }
  w.EndArray();
  return buffer.GetString();
}

}  // namespace custos::engine
