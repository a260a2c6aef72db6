// FieldReader: reads one YAML mapping into model fields, reporting wrong types, missing and
// unknown fields. Internal to the loader.
// Thread-safety: not thread-safe; one reader per mapping being read.
#ifndef CUSTOS_POLICY_FIELD_READER_H_
#define CUSTOS_POLICY_FIELD_READER_H_

#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "policy/policy.h"
#include "policy/yaml_tree.h"

namespace custos::policy {

class FieldReader {
 public:
  // `what` names the mapping in messages ("purpose 'newsletter'"). `node` may be non-mapping:
  // then WRONG_TYPE is reported once and every read finds nothing.
  FieldReader(const YamlNode& node, std::string what, Diagnostics& diagnostics);

  const YamlNode* Get(std::string_view key, bool required = false);
  bool Text(std::string_view key, std::string& out, bool required = false);
  bool Bool(std::string_view key, bool& out);
  bool Int(std::string_view key, int& out);
  // A text value that must be one of `allowed`.
  bool Enum(std::string_view key, std::string& out, std::initializer_list<std::string_view> allowed,
            bool required = false);
  bool TextList(std::string_view key, std::vector<std::string>& out, bool required = false);
  // A list of references; accepts a single scalar as a one-item list.
  bool RefList(std::string_view key, std::vector<Ref>& out, bool required = false);
  bool OneRef(std::string_view key, Ref& out, bool required = false);
  bool PeriodField(std::string_view key, Period& out, bool required = false);
  // Reports UNKNOWN_FIELD for every key not read so far. Call once, last.
  void Finish();

  Loc loc() const { return node_.loc; }
  bool is_map() const { return node_.IsMap(); }

 private:
  void Report(ErrorCode code, Loc loc, std::string message, std::string hint);

  const YamlNode& node_;
  std::string what_;
  Diagnostics& diagnostics_;
  std::set<std::string, std::less<>> read_;
};

// Helpers shared by the loader.
bool IsIdentifier(std::string_view text);
// Reports WRONG_TYPE unless `node` is a scalar; fills `out`.
bool ScalarText(const YamlNode& node, std::string what, std::string& out, Diagnostics& diagnostics);
Period ParsePeriodNode(const YamlNode& node, std::string what, Diagnostics& diagnostics);
// Reads the `systems:` section (systems_loader.cc).
void ReadSystems(const YamlNode& node, std::vector<System>& out, Diagnostics& diagnostics);

}  // namespace custos::policy

#endif  // CUSTOS_POLICY_FIELD_READER_H_
