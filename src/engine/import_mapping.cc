// The import mapping file: YAML -> ImportMapping, checked against the policy. Built on the
// policy loader's YAML tree and field reader, so a mapping's mistakes read like a policy's:
// file, line, column, code, what is wrong and how to fix it.
#include <algorithm>

#include "engine/import.h"
#include "policy/field_reader.h"
#include "policy/yaml_tree.h"

namespace custos::engine {

namespace {

using policy::Diagnostics;
using policy::FieldReader;
using policy::Loc;
using policy::YamlNode;

constexpr int kMaxBatchSize = 100000;

class MappingReader {
 public:
  MappingReader(const policy::Policy& policy, ImportMapping& mapping, Diagnostics& diagnostics)
      : policy_(policy), mapping_(mapping), diagnostics_(diagnostics) {}

  void Read(const YamlNode& root) {
    FieldReader top(root, "the mapping", diagnostics_);
    if (!top.is_map()) return;
    int version = 0;
    if (top.Get("custos_import", true) != nullptr && top.Int("custos_import", version) &&
        version != 1) {
      Report(ErrorCode::kUnsupportedVersion, root.Find("custos_import")->loc,
             "custos_import " + std::to_string(version) + " is not a mapping version custos reads",
             "write 'custos_import: 1'");
    }
    std::string format;
    if (top.Enum("format", format, {"csv", "jsonl"})) {
      mapping_.format =
          format == "csv" ? ImportMapping::Format::kCsv : ImportMapping::Format::kJsonLines;
    }
    std::string delimiter;
    if (top.Text("delimiter", delimiter)) {
      if (delimiter == "\\t" || delimiter == "tab") delimiter = "\t";
      if (delimiter.size() != 1 || delimiter == "\"" || delimiter == "\n" || delimiter == "\r") {
        Report(ErrorCode::kInvalidValue, root.Find("delimiter")->loc,
               "the mapping's delimiter must be one character other than a quote or a line break",
               "write delimiter: \",\" (or \";\", or tab)");
      } else {
        mapping_.delimiter = delimiter[0];
      }
    }
    if (top.Int("batch", mapping_.batch_size) &&
        (mapping_.batch_size < 1 || mapping_.batch_size > kMaxBatchSize)) {
      Report(ErrorCode::kInvalidValue, root.Find("batch")->loc,
             "the mapping's batch must be between 1 and " + std::to_string(kMaxBatchSize),
             "write batch: 1000 (people per transaction)");
      mapping_.batch_size = 1000;
    }
    if (const YamlNode* person = top.Get("person", true)) ReadPerson(*person);
    ReadList(top.Get("identifiers"), "identifiers", [&](const YamlNode& n, const std::string& w) {
      ReadIdentifier(n, w);
    });
    ReadList(top.Get("records"), "records",
             [&](const YamlNode& n, const std::string& w) { ReadRecord(n, w); });
    ReadList(top.Get("events"), "events",
             [&](const YamlNode& n, const std::string& w) { ReadEvent(n, w); });
    ReadList(top.Get("consents"), "consents",
             [&](const YamlNode& n, const std::string& w) { ReadConsent(n, w); });
    top.Finish();
    if (mapping_.identifiers.empty() && mapping_.records.empty() && mapping_.events.empty() &&
        mapping_.consents.empty() && root.IsMap()) {
      Report(ErrorCode::kMissingField, root.loc,
             "the mapping imports nothing but external ids",
             "add identifiers:, records:, events: or consents: (see docs/IMPORT.md)");
    }
  }

 private:
  void Report(ErrorCode code, Loc loc, std::string message, std::string hint) {
    diagnostics_.push_back({code, loc, std::move(message), std::move(hint)});
  }

  template <typename Fn>
  void ReadList(const YamlNode* node, const std::string& what, Fn read_item) {
    if (node == nullptr) return;
    if (!node->IsSeq()) {
      Report(ErrorCode::kWrongType, node->loc, "the mapping's " + what + " must be a list",
             "write one '- column: ...' item per column");
      return;
    }
    for (size_t i = 0; i < node->items.size(); ++i) {
      read_item(node->items[i], what + "[" + std::to_string(i + 1) + "]");
    }
  }

  // Reads a column name field; registers it in the mapping's slots.
  bool Column(FieldReader& reader, const YamlNode& node, std::string_view key, MappedColumn& out,
              bool required) {
    std::string name;
    if (!reader.Text(key, name, required)) return false;
    const YamlNode* value = node.Find(key);
    out.loc = value->loc;
    if (name.empty()) {
      Report(ErrorCode::kInvalidValue, out.loc, "a column name is empty",
             "write the column's name as the export's header (or JSON key) spells it");
      return false;
    }
    out.name = name;
    auto found = std::find(mapping_.columns.begin(), mapping_.columns.end(), name);
    out.slot = static_cast<int>(found - mapping_.columns.begin());
    if (found == mapping_.columns.end()) mapping_.columns.push_back(name);
    return true;
  }

  std::string KnownList(const std::vector<std::string>& keys) const {
    std::string out;
    for (const auto& key : keys) out += (out.empty() ? "" : ", ") + key;
    return out;
  }

  void ReadPerson(const YamlNode& node) {
    FieldReader reader(node, "person", diagnostics_);
    Column(reader, node, "external_id", mapping_.external_id, true);
    bool fixed = reader.Text("type", mapping_.subject_type);
    bool column = Column(reader, node, "type_column", mapping_.subject_type_column, false);
    if (fixed && column) {
      Report(ErrorCode::kInvalidValue, node.Find("type_column")->loc,
             "person has both 'type' and 'type_column'",
             "keep 'type' for one type for everyone, or 'type_column' for a column holding it");
    } else if (!fixed && !column && reader.is_map()) {
      Report(ErrorCode::kMissingField, node.loc, "person has no 'type' nor 'type_column'",
             "add 'type: member' (a subject type of the policy) or 'type_column: COLUMN'");
    }
    if (fixed && !policy_.FindSubjectType(mapping_.subject_type)) {
      std::vector<std::string> known;
      for (const auto& t : policy_.subject_types) known.push_back(t.key);
      Report(ErrorCode::kUnknownSubjectType, node.Find("type")->loc,
             "subject type '" + mapping_.subject_type + "' is not in the policy",
             "use one of: " + KnownList(known));
    }
    MappedColumn since;
    if (Column(reader, node, "since", since, false)) mapping_.since = since;
    reader.Finish();
  }

  void ReadIdentifier(const YamlNode& node, const std::string& what) {
    FieldReader reader(node, what, diagnostics_);
    ImportMapping::IdentifierColumn item;
    Column(reader, node, "column", item.column, true);
    reader.Enum("kind", item.kind, {"email", "phone", "external"}, true);
    reader.Bool("verified", item.verified);
    reader.Finish();
    mapping_.identifiers.push_back(std::move(item));
  }

  const policy::Purpose* Purpose(FieldReader& reader, const YamlNode& node, std::string& out) {
    if (!reader.Text("purpose", out, true)) return nullptr;
    const policy::Purpose* purpose = policy_.FindPurpose(out);
    if (purpose == nullptr) {
      std::vector<std::string> known;
      for (const auto& p : policy_.purposes) known.push_back(p.key);
      Report(ErrorCode::kUnknownPurpose, node.Find("purpose")->loc,
             "purpose '" + out + "' is not in the policy", "use one of: " + KnownList(known));
    }
    return purpose;
  }

  void ReadRecord(const YamlNode& node, const std::string& what) {
    FieldReader reader(node, what, diagnostics_);
    ImportMapping::RecordColumn item;
    Column(reader, node, "column", item.column, true);
    bool has_category = reader.Text("category", item.category, true);
    if (reader.Text("source", item.source, true) && !policy_.FindSource(item.source)) {
      std::vector<std::string> known;
      for (const auto& s : policy_.sources) known.push_back(s.key);
      Report(ErrorCode::kUnknownSource, node.Find("source")->loc,
             "source '" + item.source + "' is not in the policy", "use one of: " + KnownList(known));
    }
    const policy::Purpose* purpose = Purpose(reader, node, item.purpose);
    if (has_category && purpose != nullptr) {
      bool covered = std::any_of(purpose->categories.begin(), purpose->categories.end(),
                                 [&](const policy::Ref& ref) {
                                   return policy::CategoryCovers(ref.key, item.category);
                                 });
      if (!covered) {
        std::vector<std::string> known;
        for (const auto& ref : purpose->categories) known.push_back(ref.key);
        Report(ErrorCode::kCategoryNotInPurpose, node.Find("category")->loc,
               "purpose '" + item.purpose + "' does not collect '" + item.category + "'",
               "use a category it collects (" + KnownList(known) +
                   ") or a purpose that collects this one");
      }
    }
    MappedColumn collected;
    if (Column(reader, node, "collected", collected, false)) item.collected = collected;
    reader.Finish();
    mapping_.records.push_back(std::move(item));
  }

  void ReadEvent(const YamlNode& node, const std::string& what) {
    FieldReader reader(node, what, diagnostics_);
    ImportMapping::EventColumn item;
    Column(reader, node, "column", item.column, true);
    if (reader.Text("event", item.event, true) && !policy_.FindEvent(item.event)) {
      std::vector<std::string> known;
      for (const auto& e : policy_.events) known.push_back(e.key);
      Report(ErrorCode::kUnknownEvent, node.Find("event")->loc,
             "event '" + item.event + "' is not declared in the policy",
             "use one of: " + KnownList(known));
    }
    reader.Finish();
    mapping_.events.push_back(std::move(item));
  }

  void ReadConsent(const YamlNode& node, const std::string& what) {
    FieldReader reader(node, what, diagnostics_);
    ImportMapping::ConsentColumn item;
    Column(reader, node, "column", item.column, true);
    const policy::Purpose* purpose = Purpose(reader, node, item.purpose);
    if (purpose != nullptr && purpose->basis != policy::LawfulBasis::kConsent) {
      Report(ErrorCode::kInvalidValue, node.Find("purpose")->loc,
             "purpose '" + item.purpose + "' is not on consent (its basis is " +
                 std::string(policy::LawfulBasisKey(purpose->basis)) + ")",
             "map consents only to purposes whose basis is consent");
    }
    Column(reader, node, "date", item.date, true);
    MappedColumn evidence;
    if (Column(reader, node, "evidence", evidence, false)) item.evidence = evidence;
    reader.Text("channel", item.channel);
    reader.Text("notice_version", item.notice_version);
    reader.Finish();
    mapping_.consents.push_back(std::move(item));
  }

  const policy::Policy& policy_;
  ImportMapping& mapping_;
  Diagnostics& diagnostics_;
};

}  // namespace

bool ParseImportMapping(std::string_view text, const policy::Policy& policy,
                        ImportMapping& mapping, policy::Diagnostics& diagnostics) {
  mapping = ImportMapping{};
  size_t before = diagnostics.size();
  YamlNode root;
  if (!policy::ParseYaml(text, root, diagnostics)) return false;
  if (root.kind == YamlNode::Kind::kNull) {
    diagnostics.push_back({ErrorCode::kMissingField, {1, 1}, "the mapping is empty",
                           "start with 'custos_import: 1' and a 'person:' map (docs/IMPORT.md)"});
    return false;
  }
  MappingReader(policy, mapping, diagnostics).Read(root);
  return diagnostics.size() == before;
}

}  // namespace custos::engine
