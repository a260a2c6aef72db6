// YamlNode: a YAML document as a small tree that remembers where each node came from.
//
// Built from libyaml's event stream (not its recursive loader) so that depth is bounded and
// every scalar, sequence and mapping keeps its line and column for diagnostics. Anchors,
// aliases and explicit tags are rejected; duplicate mapping keys are reported. Only the
// first document of a stream is read; a second one is an error.
// Thread-safety: ParseYaml is reentrant; trees are plain values.
#ifndef CUSTOS_POLICY_YAML_TREE_H_
#define CUSTOS_POLICY_YAML_TREE_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/diagnostic.h"

namespace custos::policy {

struct YamlEntry;

struct YamlNode {
  enum class Kind { kNull, kScalar, kSequence, kMapping };
  Kind kind = Kind::kNull;
  Loc loc;
  std::string scalar;              // kScalar: the text; plain scalars keep their YAML spelling
  bool quoted = false;             // kScalar: written in quotes (so "1" is text, not a number)
  std::vector<YamlNode> items;     // kSequence
  std::vector<YamlEntry> entries;  // kMapping, in file order

  bool IsScalar() const { return kind == Kind::kScalar; }
  bool IsMap() const { return kind == Kind::kMapping; }
  bool IsSeq() const { return kind == Kind::kSequence; }
  // The value for `key` in a mapping, or nullptr.
  const YamlNode* Find(std::string_view key) const;
};

struct YamlEntry {
  YamlNode key;  // always a scalar
  YamlNode value;
};

// Maximum nesting of collections accepted; deeper documents are a YAML_SYNTAX error.
inline constexpr int kMaxYamlDepth = 64;

// Parses `text`. On success returns true and fills `root` (kNull for an empty document).
// Every problem is appended to `diagnostics` (YAML_SYNTAX, DUPLICATE_KEY); returns false if
// the tree could not be built.
bool ParseYaml(std::string_view text, YamlNode& root, Diagnostics& diagnostics);

}  // namespace custos::policy

#endif  // CUSTOS_POLICY_YAML_TREE_H_
