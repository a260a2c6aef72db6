#include "policy/systems.h"

#include <functional>
#include <set>

namespace custos::policy {

const SystemField* Dataset::FindField(std::string_view name) const {
  for (const auto& field : fields) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

bool Dataset::DeletesRows() const {
  for (const auto& field : fields) {
    if (field.erase == EraseAction::kDeleteRow) return true;
  }
  return false;
}

const Dataset* System::FindDataset(std::string_view key) const {
  for (const auto& dataset : datasets) {
    if (dataset.key == key) return &dataset;
  }
  return nullptr;
}

std::string_view SystemKindKey(SystemKind kind) {
  switch (kind) {
    case SystemKind::kPostgresql: return "postgresql";
    case SystemKind::kSqlite: return "sqlite";
    case SystemKind::kMysql: return "mysql";
    case SystemKind::kHttps: return "https";
  }
  return "?";
}

std::string_view EraseActionKey(EraseAction action) {
  switch (action) {
    case EraseAction::kKeep: return "keep";
    case EraseAction::kClear: return "clear";
    case EraseAction::kMask: return "mask";
    case EraseAction::kHash: return "hash";
    case EraseAction::kDeleteRow: return "delete_row";
  }
  return "?";
}

const std::vector<std::string_view>& FindByKinds() {
  static const std::vector<std::string_view> kinds = {"email", "phone", "external_id"};
  return kinds;
}

std::string_view IdentifierKindOf(std::string_view find_by_kind) {
  return find_by_kind == "external_id" ? std::string_view("external") : find_by_kind;
}

std::vector<const Dataset*> ErasureOrder(const System& system) {
  // Depth-first: a dataset is placed once every dataset joined to it is placed.
  std::vector<const Dataset*> order;
  std::set<std::string, std::less<>> placed, visiting;
  std::function<void(const Dataset&)> place = [&](const Dataset& dataset) {
    if (placed.count(dataset.key) || !visiting.insert(dataset.key).second) return;
    for (const auto& child : system.datasets) {
      if (child.join && child.join->dataset == dataset.key && &child != &dataset) place(child);
    }
    visiting.erase(dataset.key);
    if (placed.insert(dataset.key).second) order.push_back(&dataset);
  };
  for (const auto& dataset : system.datasets) place(dataset);
  return order;
}

bool IsSqlName(std::string_view name, bool allow_schema) {
  if (allow_schema) {
    size_t dot = name.find('.');
    if (dot != std::string_view::npos) {
      return IsSqlName(name.substr(0, dot), false) && IsSqlName(name.substr(dot + 1), false);
    }
  }
  if (name.empty() || name.size() > 63) return false;
  if (name[0] >= '0' && name[0] <= '9') return false;
  for (char c : name) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace custos::policy
