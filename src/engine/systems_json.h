// The JSON both adapters give for the systems reach (systems_reach.h): a request's plan in the
// systems, `systems check`, a retention sweep in the systems. Non-personal: categories,
// actions, counts and row keys (the systems' own ids), never a value.
// Thread-safety: pure functions.
#ifndef CUSTOS_ENGINE_SYSTEMS_JSON_H_
#define CUSTOS_ENGINE_SYSTEMS_JSON_H_

#include <string>
#include <vector>

#include "engine/systems_reach.h"

namespace custos::engine {

// [{system, name, reached, error (when not reached), waived (the DPO's reason, or null),
//   datasets: [{dataset, table, deletes, updates, untouched,
//               rows: [{key, delete, fields: [{field, category, action, kept: {ground, told}
//                                               or null}]}]}]}]
std::string SystemPlansJson(const std::vector<SystemPlan>& plans);
// [{system, name, kind, ok, error (when not ok), datasets: [{dataset, table, table_found,
//   missing_columns: [..], rows (null when not counted)}]}]
std::string SystemChecksJson(const std::vector<SystemCheck>& checks);
// [{system, dataset, rule, cutoff, due, deleted, changed, held, error (or null)}]
std::string SystemRetentionJson(const std::vector<SystemRetentionLine>& lines);

}  // namespace custos::engine

#endif  // CUSTOS_ENGINE_SYSTEMS_JSON_H_
