// Import mappings read from files (engine/import.h says what a mapping is): one file for
// `custos import --mapping FILE`, or a directory of them for the server's bulk import
// (`custos serve --import-mappings DIR`, POST /v1/imports?mapping=NAME), each named by its file
// name without .yaml.
// Thread-safety: pure functions over files.
#ifndef CUSTOS_DEPLOYMENT_IMPORT_MAPPINGS_H_
#define CUSTOS_DEPLOYMENT_IMPORT_MAPPINGS_H_

#include <map>
#include <memory>
#include <string>

#include "common/status.h"
#include "engine/import.h"
#include "policy/policy.h"

namespace custos::deployment {

using ImportMappings = std::map<std::string, std::shared_ptr<const engine::ImportMapping>>;

// Reads and checks one mapping against `policy`. Errors: IO_ERROR (unreadable), MAPPING_INVALID
// with one line: the first problem as FILE:LINE:COLUMN, its code, message and fix, and how many
// more there are.
Result<engine::ImportMapping> ReadImportMapping(const std::string& path,
                                                const policy::Policy& policy);

// Every DIR/NAME.yaml (and .yml), by NAME: letters, digits, '-' and '_'. Errors: IO_ERROR (no
// such directory), INVALID_ARGUMENT (a file's name is not usable as a NAME), and the first
// mapping's that fails ReadImportMapping.
Result<ImportMappings> ReadImportMappings(const std::string& dir, const policy::Policy& policy);

}  // namespace custos::deployment

#endif  // CUSTOS_DEPLOYMENT_IMPORT_MAPPINGS_H_
