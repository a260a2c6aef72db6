// The references of a policy's `systems:` section (docs/SYSTEMS.md): categories, retention
// rules and joins resolve, joins form no cycle, every dataset is reachable from a person.
#include <set>
#include <string>

#include "policy/validator.h"

namespace custos::policy {

namespace {

void Report(Diagnostics& diagnostics, ErrorCode code, Loc loc, std::string message,
            std::string hint) {
  diagnostics.push_back({code, loc, std::move(message), std::move(hint)});
}

const RetentionRule* FindRule(const Policy& policy, std::string_view id) {
  for (const auto& rule : policy.retention) {
    if (rule.id == id) return &rule;
  }
  return nullptr;
}

// A service's dataset has a call for every change its fields' erase actions make, and a list
// call when a retention period applies to it.
void CheckCalls(const Dataset& dataset, const std::string& where, Diagnostics& diagnostics) {
  if (!dataset.calls.find.configured()) return;  // the loader reported it
  bool updates = false;
  for (const auto& field : dataset.fields) {
    updates = updates || field.erase == EraseAction::kClear || field.erase == EraseAction::kMask ||
              field.erase == EraseAction::kHash;
  }
  if (updates && !dataset.calls.update.configured()) {
    Report(diagnostics, ErrorCode::kMissingField, dataset.calls.loc,
           where + " clears, masks or hashes fields but has no 'update' call",
           "add 'update: PATCH /PATH/{key}' (custos sends the new values as a JSON object)");
  }
  if (dataset.DeletesRows() && !dataset.calls.remove.configured()) {
    Report(diagnostics, ErrorCode::kMissingField, dataset.calls.loc,
           where + " deletes rows but has no 'delete' call", "add 'delete: DELETE /PATH/{key}'");
  }
  if (!dataset.retention_rule.empty() && !dataset.calls.list.configured()) {
    Report(diagnostics, ErrorCode::kMissingField, dataset.calls.loc,
           where + " has a retention period but no 'list' call to find the rows it ends",
           "add 'list: GET /PATH?{column}_before={cutoff}&after={after}&limit={limit}'");
  }
}

void CheckDataset(const Policy& policy, const System& system, const Dataset& dataset,
                  const std::function<bool(std::string_view)>& known_category,
                  Diagnostics& diagnostics) {
  std::string where = "system '" + system.key + "' dataset '" + dataset.key + "'";
  for (const auto& field : dataset.fields) {
    if (!field.category.empty() && !known_category(field.category)) {
      Report(diagnostics, ErrorCode::kUnknownCategory, field.category_loc,
             where + " field '" + field.name + "' names category '" + field.category +
                 "', which is neither a fideslang key nor declared under 'categories'",
             "use the policy's key for what the column holds, or fix the spelling");
    }
  }
  if (dataset.join) {
    const Dataset* parent = system.FindDataset(dataset.join->dataset);
    if (parent == nullptr || parent == &dataset) {
      Report(diagnostics, ErrorCode::kInvalidValue, dataset.join->loc,
             where + " joins dataset '" + dataset.join->dataset +
                 "', which is not another dataset of system '" + system.key + "'",
             "name a dataset declared under the same system's 'datasets'");
    } else {
      // Follow the joins upwards: a cycle never reaches a dataset that finds people itself.
      std::set<std::string, std::less<>> seen{dataset.key};
      const Dataset* at = parent;
      while (at != nullptr && at->join && seen.insert(at->key).second) {
        at = system.FindDataset(at->join->dataset);
      }
      if (at != nullptr && at->join && seen.count(at->key)) {
        Report(diagnostics, ErrorCode::kInvalidValue, dataset.join->loc,
               where + "'s joins lead back to it, so no person can be found through them",
               "let the first dataset of the chain find people by 'find_by'");
      }
    }
  }
  if (system.kind == SystemKind::kHttps) CheckCalls(dataset, where, diagnostics);
  if (!dataset.retention_rule.empty()) {
    const RetentionRule* rule = FindRule(policy, dataset.retention_rule);
    if (rule == nullptr) {
      Report(diagnostics, ErrorCode::kInvalidValue, dataset.retention_loc,
             where + " follows retention rule '" + dataset.retention_rule +
                 "', which is not under 'retention'",
             "name the id of a rule under 'retention'");
    } else if (!rule->period.value) {
      Report(diagnostics, ErrorCode::kInvalidValue, dataset.retention_loc,
             where + " follows retention rule '" + rule->id + "', which has no period",
             "give the rule a 'period', or follow another rule");
    }
  }
}

}  // namespace

void ValidateSystems(const Policy& policy,
                     const std::function<bool(std::string_view)>& known_category,
                     Diagnostics& diagnostics) {
  for (const auto& system : policy.systems) {
    if (system.datasets.empty()) {
      Report(diagnostics, ErrorCode::kMissingField, system.loc,
             "system '" + system.key + "' declares no datasets",
             "list its tables under 'datasets', each with 'table', 'primary_key' and 'fields'");
    }
    for (const auto& dataset : system.datasets) {
      CheckDataset(policy, system, dataset, known_category, diagnostics);
    }
  }
}

}  // namespace custos::policy
