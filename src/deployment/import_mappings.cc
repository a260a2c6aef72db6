#include "deployment/import_mappings.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace custos::deployment {

Result<engine::ImportMapping> ReadImportMapping(const std::string& path,
                                                const policy::Policy& policy) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Status(ErrorCode::kIo, "cannot read the mapping file " + path);
  std::stringstream text;
  text << file.rdbuf();
  engine::ImportMapping mapping;
  policy::Diagnostics diagnostics;
  if (engine::ParseImportMapping(text.str(), policy, mapping, diagnostics)) return mapping;
  // One line: the first problem, where it is and its fix (custos policy check style).
  const policy::Diagnostic& d = diagnostics.front();
  std::string first = path + ":" + std::to_string(d.loc.line) + ":" + std::to_string(d.loc.column) +
                      ": error " + std::string(CodeName(d.code)) + ": " + d.message +
                      "; fix: " + d.hint;
  if (diagnostics.size() > 1) {
    first += " (and " + std::to_string(diagnostics.size() - 1) + " more problem" +
             (diagnostics.size() > 2 ? "s" : "") + ")";
  }
  return Status(ErrorCode::kMappingInvalid, first);
}

Result<ImportMappings> ReadImportMappings(const std::string& dir, const policy::Policy& policy) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status(ErrorCode::kIo, "cannot read the import mappings directory " + dir);
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto ext = entry.path().extension();
    if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(entry.path());
  }
  if (ec) return Status(ErrorCode::kIo, "cannot read the import mappings directory " + dir);
  std::sort(files.begin(), files.end());
  ImportMappings mappings;
  for (const auto& file : files) {
    std::string name = file.stem().string();
    bool usable =
        !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_';
        });
    if (!usable) {
      return Status(ErrorCode::kInvalidArgument,
                    file.string() +
                        ": a mapping's file name is its name in "
                        "POST /v1/imports?mapping=NAME; rename it to letters, digits, "
                        "'-' and '_' (at most 64)");
    }
    ASSIGN_OR_RETURN(engine::ImportMapping mapping, ReadImportMapping(file.string(), policy));
    mappings[name] = std::make_shared<const engine::ImportMapping>(std::move(mapping));
  }
  return mappings;
}

}  // namespace custos::deployment
