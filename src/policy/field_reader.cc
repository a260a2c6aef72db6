#include "policy/field_reader.h"

#include <charconv>
#include <utility>

namespace custos::policy {

namespace {

std::string KindName(const YamlNode& node) {
  switch (node.kind) {
    case YamlNode::Kind::kNull: return "nothing";
    case YamlNode::Kind::kScalar: return "a single value";
    case YamlNode::Kind::kSequence: return "a list";
    case YamlNode::Kind::kMapping: return "a map";
  }
  return "?";
}

std::string JoinAllowed(std::initializer_list<std::string_view> allowed) {
  std::string out;
  for (auto item : allowed) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

}  // namespace

bool IsIdentifier(std::string_view text) {
  if (text.empty() || text.size() > 64 || text[0] < 'a' || text[0] > 'z') return false;
  for (char c : text) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

bool ScalarText(const YamlNode& node, std::string what, std::string& out,
                Diagnostics& diagnostics) {
  if (!node.IsScalar()) {
    diagnostics.push_back({ErrorCode::kWrongType, node.loc,
                           what + " must be text, found " + KindName(node),
                           "write a single value (quote it if it contains ': ' or '#')"});
    return false;
  }
  out = node.scalar;
  return true;
}

Period ParsePeriodNode(const YamlNode& node, std::string what, Diagnostics& diagnostics) {
  Period period;
  period.loc = node.loc;
  if (!ScalarText(node, what, period.text, diagnostics)) return period;
  period.value = IsoPeriod::Parse(period.text);
  if (!period.value) {
    diagnostics.push_back({ErrorCode::kMalformedPeriod, node.loc,
                           what + " '" + period.text + "' is not an ISO-8601 period",
                           "write a period like P5Y (5 years), P6M (6 months), P30D, PT72H or "
                           "P0D (at once)"});
  }
  return period;
}

FieldReader::FieldReader(const YamlNode& node, std::string what, Diagnostics& diagnostics)
    : node_(node), what_(std::move(what)), diagnostics_(diagnostics) {
  if (!node_.IsMap()) {
    Report(ErrorCode::kWrongType, node_.loc, what_ + " must be a map, found " + KindName(node_),
           "write 'field: value' lines indented under it");
  }
}

void FieldReader::Report(ErrorCode code, Loc loc, std::string message, std::string hint) {
  diagnostics_.push_back({code, loc, std::move(message), std::move(hint)});
}

const YamlNode* FieldReader::Get(std::string_view key, bool required) {
  read_.insert(std::string(key));
  const YamlNode* value = node_.IsMap() ? node_.Find(key) : nullptr;
  if (value != nullptr && value->kind == YamlNode::Kind::kNull) value = nullptr;
  if (value == nullptr && required && node_.IsMap()) {
    Report(ErrorCode::kMissingField, node_.loc, what_ + " has no '" + std::string(key) + "'",
           "add '" + std::string(key) + ":' (see docs/POLICY.md)");
  }
  return value;
}

bool FieldReader::Text(std::string_view key, std::string& out, bool required) {
  const YamlNode* value = Get(key, required);
  if (value == nullptr) return false;
  return ScalarText(*value, what_ + "." + std::string(key), out, diagnostics_);
}

bool FieldReader::Bool(std::string_view key, bool& out) {
  const YamlNode* value = Get(key);
  if (value == nullptr) return false;
  if (value->IsScalar() && !value->quoted) {
    if (value->scalar == "true" || value->scalar == "yes") {
      out = true;
      return true;
    }
    if (value->scalar == "false" || value->scalar == "no") {
      out = false;
      return true;
    }
  }
  Report(ErrorCode::kWrongType, value->loc,
         what_ + "." + std::string(key) + " must be true or false",
         "write true or false without quotes");
  return false;
}

bool FieldReader::Int(std::string_view key, int& out) {
  const YamlNode* value = Get(key);
  if (value == nullptr) return false;
  if (value->IsScalar()) {
    const std::string& text = value->scalar;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec == std::errc() && ptr == text.data() + text.size() && out >= 0) return true;
  }
  Report(ErrorCode::kWrongType, value->loc,
         what_ + "." + std::string(key) + " must be a whole number", "write a number such as 10");
  return false;
}

bool FieldReader::Enum(std::string_view key, std::string& out,
                       std::initializer_list<std::string_view> allowed, bool required) {
  std::string text;
  if (!Text(key, text, required)) return false;
  for (auto item : allowed) {
    if (item == text) {
      out = text;
      return true;
    }
  }
  Report(ErrorCode::kInvalidValue, node_.Find(key)->loc,
         what_ + "." + std::string(key) + " '" + text + "' is not allowed",
         "use one of: " + JoinAllowed(allowed));
  return false;
}

bool FieldReader::TextList(std::string_view key, std::vector<std::string>& out, bool required) {
  const YamlNode* value = Get(key, required);
  if (value == nullptr) return false;
  std::string what = what_ + "." + std::string(key);
  if (value->IsScalar()) {
    out.push_back(value->scalar);
    return true;
  }
  if (!value->IsSeq()) {
    Report(ErrorCode::kWrongType, value->loc, what + " must be a list, found " + KindName(*value),
           "write a list: [a, b] or '- a' lines");
    return false;
  }
  for (const auto& item : value->items) {
    std::string text;
    if (ScalarText(item, what + " item", text, diagnostics_)) out.push_back(std::move(text));
  }
  return true;
}

bool FieldReader::RefList(std::string_view key, std::vector<Ref>& out, bool required) {
  const YamlNode* value = Get(key, required);
  if (value == nullptr) return false;
  std::string what = what_ + "." + std::string(key);
  if (value->IsScalar()) {
    out.push_back({value->scalar, value->loc});
    return true;
  }
  if (!value->IsSeq()) {
    Report(ErrorCode::kWrongType, value->loc, what + " must be a list, found " + KindName(*value),
           "write a list: [a, b] or '- a' lines");
    return false;
  }
  for (const auto& item : value->items) {
    std::string text;
    if (ScalarText(item, what + " item", text, diagnostics_)) out.push_back({text, item.loc});
  }
  return true;
}

bool FieldReader::OneRef(std::string_view key, Ref& out, bool required) {
  const YamlNode* value = Get(key, required);
  if (value == nullptr) return false;
  out.loc = value->loc;
  return ScalarText(*value, what_ + "." + std::string(key), out.key, diagnostics_);
}

bool FieldReader::PeriodField(std::string_view key, Period& out, bool required) {
  const YamlNode* value = Get(key, required);
  if (value == nullptr) return false;
  out = ParsePeriodNode(*value, what_ + "." + std::string(key), diagnostics_);
  return out.value.has_value();
}

void FieldReader::Finish() {
  if (!node_.IsMap()) return;
  for (const auto& [key, value] : node_.entries) {
    if (read_.count(key.scalar) == 0) {
      Report(ErrorCode::kUnknownField, key.loc, what_ + " has no field '" + key.scalar + "'",
             "check the spelling against docs/POLICY.md, or remove it");
    }
  }
}

}  // namespace custos::policy
