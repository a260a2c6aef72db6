#include "policy/yaml_tree.h"

#include <yaml.h>

#include <set>

namespace custos::policy {

namespace {

Loc LocOf(const yaml_mark_t& mark) {
  return Loc{static_cast<int>(mark.line) + 1, static_cast<int>(mark.column) + 1};
}

// Owns a libyaml parser for the lifetime of one parse.
class EventReader {
 public:
  explicit EventReader(std::string_view text) {
    yaml_parser_initialize(&parser_);
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size());
  }
  ~EventReader() {
    if (has_event_) yaml_event_delete(&event_);
    yaml_parser_delete(&parser_);
  }
  EventReader(const EventReader&) = delete;
  EventReader& operator=(const EventReader&) = delete;

  // Advances to the next event; false on a syntax error (diagnostic appended).
  bool Next(Diagnostics& diagnostics) {
    if (has_event_) yaml_event_delete(&event_);
    has_event_ = false;
    if (!yaml_parser_parse(&parser_, &event_)) {
      const yaml_mark_t& mark = parser_.problem ? parser_.problem_mark : parser_.context_mark;
      std::string message = parser_.problem ? parser_.problem : "malformed YAML";
      if (parser_.context) message = std::string(parser_.context) + ": " + message;
      diagnostics.push_back({ErrorCode::kYamlSyntax, LocOf(mark), message,
                             "check indentation, colons after keys and matching quotes/brackets"});
      return false;
    }
    has_event_ = true;
    return true;
  }
  const yaml_event_t& event() const { return event_; }

 private:
  yaml_parser_t parser_{};
  yaml_event_t event_{};
  bool has_event_ = false;
};

class TreeBuilder {
 public:
  TreeBuilder(EventReader& reader, Diagnostics& diagnostics)
      : reader_(reader), diagnostics_(diagnostics) {}

  // Builds the node whose first event is the current one. Iterative over depth via recursion
  // bounded by kMaxYamlDepth.
  bool Build(YamlNode& node, int depth) {
    const yaml_event_t& event = reader_.event();
    node.loc = LocOf(event.start_mark);
    if (event.type == YAML_ALIAS_EVENT) {
      return Fail(node.loc, "aliases (*name) are not allowed in a policy",
                  "write the value out in full where it is used");
    }
    const yaml_char_t* anchor = nullptr;
    const yaml_char_t* tag = nullptr;
    bool implicit_tag = true;
    if (event.type == YAML_SCALAR_EVENT) {
      anchor = event.data.scalar.anchor;
      tag = event.data.scalar.tag;
      implicit_tag = event.data.scalar.plain_implicit || event.data.scalar.quoted_implicit;
    } else if (event.type == YAML_SEQUENCE_START_EVENT) {
      anchor = event.data.sequence_start.anchor;
      tag = event.data.sequence_start.tag;
      implicit_tag = event.data.sequence_start.implicit;
    } else if (event.type == YAML_MAPPING_START_EVENT) {
      anchor = event.data.mapping_start.anchor;
      tag = event.data.mapping_start.tag;
      implicit_tag = event.data.mapping_start.implicit;
    }
    if (anchor != nullptr) {
      return Fail(node.loc, "anchors (&name) are not allowed in a policy",
                  "remove the anchor and write each value out in full");
    }
    if (tag != nullptr && !implicit_tag) {
      return Fail(node.loc, "explicit tags (!tag) are not allowed in a policy", "remove the tag");
    }
    if (depth > kMaxYamlDepth) {
      return Fail(node.loc, "nesting deeper than " + std::to_string(kMaxYamlDepth) + " levels",
                  "a policy never needs this much nesting; flatten the structure");
    }
    switch (event.type) {
      case YAML_SCALAR_EVENT: {
        node.kind = YamlNode::Kind::kScalar;
        node.scalar.assign(reinterpret_cast<const char*>(event.data.scalar.value),
                           event.data.scalar.length);
        node.quoted = event.data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        if (!node.quoted && (node.scalar == "~" || node.scalar == "null" || node.scalar.empty())) {
          node.kind = YamlNode::Kind::kNull;
          node.scalar.clear();
        }
        return true;
      }
      case YAML_SEQUENCE_START_EVENT: {
        node.kind = YamlNode::Kind::kSequence;
        while (true) {
          if (!reader_.Next(diagnostics_)) return false;
          if (reader_.event().type == YAML_SEQUENCE_END_EVENT) return true;
          node.items.emplace_back();
          if (!Build(node.items.back(), depth + 1)) return false;
        }
      }
      case YAML_MAPPING_START_EVENT: {
        node.kind = YamlNode::Kind::kMapping;
        std::set<std::string, std::less<>> seen;
        while (true) {
          if (!reader_.Next(diagnostics_)) return false;
          if (reader_.event().type == YAML_MAPPING_END_EVENT) return true;
          YamlNode key;
          if (!Build(key, depth + 1)) return false;
          if (!key.IsScalar()) {
            return Fail(key.loc, "a mapping key must be plain text",
                        "use a simple word as the key");
          }
          if (!reader_.Next(diagnostics_)) return false;
          YamlNode value;
          if (!Build(value, depth + 1)) return false;
          if (!seen.insert(key.scalar).second) {
            const YamlNode* first = node.Find(key.scalar);
            diagnostics_.push_back({ErrorCode::kDuplicateKey, key.loc,
                                    "key '" + key.scalar +
                                        "' appears twice in the same map (first at line " +
                                        std::to_string(first ? first->loc.line : 0) + ")",
                                    "merge the two entries into one, or rename one of them"});
            continue;  // keep the first; report all duplicates
          }
          node.entries.push_back(YamlEntry{std::move(key), std::move(value)});
        }
      }
      default: return Fail(node.loc, "unexpected YAML structure", "check the document's structure");
    }
  }

 private:
  bool Fail(Loc loc, std::string message, std::string hint) {
    diagnostics_.push_back({ErrorCode::kYamlSyntax, loc, std::move(message), std::move(hint)});
    return false;
  }

  EventReader& reader_;
  Diagnostics& diagnostics_;
};

}  // namespace

const YamlNode* YamlNode::Find(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k.scalar == key) return &v;
  }
  return nullptr;
}

bool ParseYaml(std::string_view text, YamlNode& root, Diagnostics& diagnostics) {
  EventReader reader(text);
  root = YamlNode{};
  // STREAM-START
  if (!reader.Next(diagnostics)) return false;
  if (!reader.Next(diagnostics)) return false;
  if (reader.event().type == YAML_STREAM_END_EVENT) return true;  // empty file
  // DOCUMENT-START, then the root node
  if (!reader.Next(diagnostics)) return false;
  TreeBuilder builder(reader, diagnostics);
  if (!builder.Build(root, 0)) return false;
  if (!reader.Next(diagnostics)) return false;  // DOCUMENT-END
  if (!reader.Next(diagnostics)) return false;
  if (reader.event().type != YAML_STREAM_END_EVENT) {
    diagnostics.push_back({ErrorCode::kYamlSyntax, LocOf(reader.event().start_mark),
                           "more than one YAML document in the file",
                           "remove the '---' separator; a policy is one document"});
    return false;
  }
  return true;
}

}  // namespace custos::policy
