// Reading an export one row at a time (CSV, JSON Lines) and turning a row into a person.
// Nothing here keeps more than one row; reasons for rejecting a row name columns, never values.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <unordered_map>

#include "engine/import.h"

namespace custos::engine {

namespace {

// A physical line with its line break dropped (and a CR before it).
bool ReadLine(std::istream& in, std::string& line, int64_t& bytes) {
  if (!std::getline(in, line)) return false;
  bytes += static_cast<int64_t>(line.size()) + (in.eof() ? 0 : 1);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

class CsvReader final : public RowReader {
 public:
  CsvReader(std::istream& in, char delimiter, size_t slots)
      : in_(in), delimiter_(delimiter), slots_(slots) {}

  // Reads the header; returns the column names.
  bool ReadHeader(std::vector<std::string>& names, std::string& error) {
    int64_t line = 0;
    if (!ReadRecord(names, line, error)) {
      if (error.empty()) error = "the file is empty: a CSV export starts with its header line";
      return false;
    }
    for (auto& name : names) {
      // A UTF-8 byte order mark before the first name is not part of it.
      if (&name == &names.front() && name.rfind("\xEF\xBB\xBF", 0) == 0) name.erase(0, 3);
      while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
      while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.erase(0, 1);
    }
    return true;
  }

  void Bind(std::vector<int> slot_of_field, size_t header_width) {
    slot_of_field_ = std::move(slot_of_field);
    header_width_ = header_width;
  }

  bool Next(ImportRow& row) override {
    std::vector<std::string>& fields = fields_;
    std::string error;
    for (;;) {
      if (!ReadRecord(fields, row.line, error)) {
        if (error.empty()) return false;
        row.values.assign(slots_, std::nullopt);
        row.error = error;
        return true;
      }
      // A blank line between rows is no row.
      if (fields.size() == 1 && fields[0].empty() && error.empty()) continue;
      break;
    }
    row.values.assign(slots_, std::nullopt);
    row.error = error;
    if (row.error.empty() && fields.size() != header_width_) {
      row.error = "the row has " + std::to_string(fields.size()) + " fields, the header " +
                  std::to_string(header_width_);
      return true;
    }
    for (size_t i = 0; i < fields.size() && i < slot_of_field_.size(); ++i) {
      if (slot_of_field_[i] >= 0) row.values[slot_of_field_[i]] = std::move(fields[i]);
    }
    return true;
  }

 private:
  // One CSV record (which may span lines inside quotes). False at the end of the stream; a
  // quote left open sets `error` and returns true with what was read.
  bool ReadRecord(std::vector<std::string>& fields, int64_t& first_line, std::string& error) {
    fields.clear();
    error.clear();
    if (!ReadLine(in_, line_, bytes_read_)) return false;
    first_line = ++line_number_;
    fields.emplace_back();
    bool quoted = false, was_quoted = false;
    for (;;) {
      for (size_t i = 0; i < line_.size(); ++i) {
        char c = line_[i];
        if (quoted) {
          if (c == '"') {
            if (i + 1 < line_.size() && line_[i + 1] == '"') {
              fields.back() += '"';
              ++i;
            } else {
              quoted = false;
            }
          } else {
            fields.back() += c;
          }
        } else if (c == '"' && !was_quoted && fields.back().empty()) {
          quoted = was_quoted = true;
        } else if (c == delimiter_) {
          fields.emplace_back();
          was_quoted = false;
        } else {
          fields.back() += c;
        }
      }
      if (!quoted) return true;
      // A line break inside quotes belongs to the field.
      if (fields.back().size() > kMaxFieldBytes || !ReadLine(in_, line_, bytes_read_)) {
        error = "a quote opened on this line is never closed";
        return true;
      }
      ++line_number_;
      fields.back() += '\n';
    }
  }

  static constexpr size_t kMaxFieldBytes = 1 << 20;

  std::istream& in_;
  char delimiter_;
  size_t slots_;
  std::vector<int> slot_of_field_;
  size_t header_width_ = 0;
  std::string line_;
  std::vector<std::string> fields_;
  int64_t line_number_ = 0;
};

class JsonLinesReader final : public RowReader {
 public:
  JsonLinesReader(std::istream& in, const ImportMapping& mapping) : in_(in), parser_(mapping) {}

  bool Next(ImportRow& row) override {
    for (;;) {
      if (!ReadLine(in_, line_, bytes_read_)) return false;
      ++line_number_;
      if (line_.find_first_not_of(" \t") != std::string::npos) break;
    }
    parser_.Parse(line_, line_number_, row);
    return true;
  }

 private:
  std::istream& in_;
  JsonLineParser parser_;
  std::string line_;
  int64_t line_number_ = 0;
};

std::string Trimmed(const std::optional<std::string>& value) {
  if (!value) return {};
  size_t begin = value->find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return {};
  size_t end = value->find_last_not_of(" \t\r\n");
  return value->substr(begin, end - begin + 1);
}

Status Rejected(std::string reason) {
  return Status(ErrorCode::kInvalidArgument, std::move(reason));
}

// A time from column `column` of `row`; nullopt when empty.
Result<std::optional<Timestamp>> TimeOf(const ImportRow& row, const MappedColumn& column) {
  std::string text = Trimmed(row.values[column.slot]);
  if (text.empty()) return std::optional<Timestamp>{};
  auto at = Timestamp::Parse(text);
  if (!at) {
    return Rejected("column '" + column.name +
                    "' is not an ISO-8601 date or time (2019-06-30 or 2019-06-30T12:00:00Z)");
  }
  return std::optional<Timestamp>{*at};
}

std::optional<bool> ConsentAnswer(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* yes : {"yes", "y", "true", "1", "given", "opt_in", "opted_in"}) {
    if (text == yes) return true;
  }
  for (const char* no : {"no", "n", "false", "0", "withdrawn", "opt_out", "opted_out"}) {
    if (text == no) return false;
  }
  return std::nullopt;
}

}  // namespace

Result<std::unique_ptr<RowReader>> OpenCsvReader(std::istream& in, const ImportMapping& mapping,
                                                 const std::string& mapping_file) {
  auto reader = std::make_unique<CsvReader>(in, mapping.delimiter, mapping.columns.size());
  std::vector<std::string> names;
  std::string error;
  if (!reader->ReadHeader(names, error)) return Rejected("header: " + error);
  if (!error.empty()) return Rejected("header: " + error);
  std::vector<int> slot_of_field(names.size(), -1);
  for (size_t slot = 0; slot < mapping.columns.size(); ++slot) {
    auto found = std::find(names.begin(), names.end(), mapping.columns[slot]);
    if (found == names.end()) {
      // Find where the mapping names the column, for the message.
      policy::Loc loc;
      auto note = [&](const MappedColumn& c) {
        if (loc.line == 0 && c.slot == static_cast<int>(slot)) loc = c.loc;
      };
      note(mapping.external_id);
      note(mapping.subject_type_column);
      if (mapping.since) note(*mapping.since);
      for (const auto& c : mapping.identifiers) note(c.column);
      for (const auto& c : mapping.records) {
        note(c.column);
        if (c.collected) note(*c.collected);
      }
      for (const auto& c : mapping.events) note(c.column);
      for (const auto& c : mapping.consents) {
        note(c.column);
        note(c.date);
        if (c.evidence) note(*c.evidence);
      }
      return Status(ErrorCode::kMappingInvalid,
                    mapping_file + ":" + std::to_string(loc.line) + ":" +
                        std::to_string(loc.column) + ": column '" + mapping.columns[slot] +
                        "' is not in the data's header line (" + std::to_string(names.size()) +
                        " columns); fix the name in the mapping or the export");
    }
    slot_of_field[found - names.begin()] = static_cast<int>(slot);
  }
  reader->Bind(std::move(slot_of_field), names.size());
  return std::unique_ptr<RowReader>(std::move(reader));
}

JsonLineParser::JsonLineParser(const ImportMapping& mapping) {
  for (size_t i = 0; i < mapping.columns.size(); ++i) slots_[mapping.columns[i]] = i;
}

void JsonLineParser::Parse(std::string_view line, int64_t number, ImportRow& row) const {
  row.line = number;
  row.error.clear();
  row.values.assign(slots_.size(), std::nullopt);
  rapidjson::Document doc;
  doc.Parse(line.data(), line.size());
  if (doc.HasParseError()) {
    row.error = std::string("not JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) +
                " at byte " + std::to_string(doc.GetErrorOffset() + 1);
    return;
  }
  if (!doc.IsObject()) {
    row.error = "a JSON Lines row must be an object";
    return;
  }
  for (auto member = doc.MemberBegin(); member != doc.MemberEnd(); ++member) {
    auto slot = slots_.find(std::string(member->name.GetString(), member->name.GetStringLength()));
    if (slot == slots_.end()) continue;
    const auto& value = member->value;
    auto& out = row.values[slot->second];
    if (value.IsString()) {
      out = std::string(value.GetString(), value.GetStringLength());
    } else if (value.IsBool()) {
      out = value.GetBool() ? "true" : "false";
    } else if (value.IsInt64()) {
      out = std::to_string(value.GetInt64());
    } else if (value.IsNumber()) {
      out = std::to_string(value.GetDouble());
    } else if (!value.IsNull()) {
      row.error = "field '" + slot->first + "' is a list or an object, not a value";
      return;
    }
  }
}

Status JsonLinesSplitter::Feed(std::string_view piece, const RowSink& sink) {
  while (!piece.empty()) {
    size_t end = piece.find('\n');
    if (end == std::string_view::npos) {
      if (partial_.size() + piece.size() > kMaxLineBytes) return LineTooLong();
      partial_.append(piece);
      return Status::Ok();
    }
    if (partial_.size() + end > kMaxLineBytes) return LineTooLong();
    Status done;
    if (partial_.empty()) {
      done = Line(piece.substr(0, end), sink);
    } else {
      partial_.append(piece.substr(0, end));
      done = Line(partial_, sink);
      partial_.clear();
    }
    RETURN_IF_ERROR(done);
    piece.remove_prefix(end + 1);
  }
  return Status::Ok();
}

Status JsonLinesSplitter::Finish(const RowSink& sink) {
  std::string last;
  last.swap(partial_);
  return last.empty() ? Status::Ok() : Line(last, sink);
}

Status JsonLinesSplitter::Line(std::string_view line, const RowSink& sink) {
  ++line_number_;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(" \t") == std::string_view::npos) return Status::Ok();
  parser_.Parse(line, line_number_, row_);
  return sink(row_);
}

Status JsonLinesSplitter::LineTooLong() const {
  return Status(ErrorCode::kInvalidArgument,
                "line " + std::to_string(line_number_ + 1) + " is longer than " +
                    std::to_string(kMaxLineBytes / 1024) +
                    " KiB; a JSON Lines row is one object on one line, each line ending in \\n");
}

std::unique_ptr<RowReader> OpenJsonLinesReader(std::istream& in, const ImportMapping& mapping) {
  return std::make_unique<JsonLinesReader>(in, mapping);
}

Result<ImportPerson> MapRow(const ImportMapping& mapping, const ImportRow& row) {
  if (!row.error.empty()) return Rejected(row.error);
  ImportPerson person;
  person.line = row.line;
  person.external_id = Trimmed(row.values[mapping.external_id.slot]);
  if (person.external_id.empty()) {
    return Rejected("column '" + mapping.external_id.name + "' (the external id) is empty");
  }
  if (!mapping.subject_type.empty()) {
    person.types.push_back(mapping.subject_type);
  } else {
    std::string text = Trimmed(row.values[mapping.subject_type_column.slot]);
    size_t start = 0;
    while (start <= text.size()) {
      size_t end = text.find_first_of("|,", start);
      if (end == std::string::npos) end = text.size();
      std::string type = Trimmed(text.substr(start, end - start));
      if (!type.empty()) person.types.push_back(std::move(type));
      start = end + 1;
    }
    if (person.types.empty()) {
      return Rejected("column '" + mapping.subject_type_column.name + "' (the type) is empty");
    }
  }
  if (mapping.since) {
    ASSIGN_OR_RETURN(person.since, TimeOf(row, *mapping.since));
  }
  for (const auto& column : mapping.identifiers) {
    std::string value = Trimmed(row.values[column.column.slot]);
    if (value.empty()) continue;
    person.identifiers.push_back({column.kind, std::move(value), column.verified});
  }
  for (const auto& column : mapping.records) {
    const auto& value = row.values[column.column.slot];
    if (Trimmed(value).empty()) continue;
    ImportPerson::RecordValue record{column.category, *value, column.source, column.purpose, {}};
    if (column.collected) {
      ASSIGN_OR_RETURN(record.collected, TimeOf(row, *column.collected));
    }
    if (!record.collected) record.collected = person.since;
    person.records.push_back(std::move(record));
  }
  for (const auto& column : mapping.events) {
    ASSIGN_OR_RETURN(std::optional<Timestamp> at, TimeOf(row, column.column));
    if (at) person.events.push_back({column.event, *at});
  }
  for (const auto& column : mapping.consents) {
    std::string answer = Trimmed(row.values[column.column.slot]);
    if (answer.empty()) continue;
    std::optional<bool> given = ConsentAnswer(answer);
    if (!given) {
      return Rejected("column '" + column.column.name +
                      "' is not a consent answer (yes/no, true/false, 1/0, given/withdrawn)");
    }
    ASSIGN_OR_RETURN(std::optional<Timestamp> at, TimeOf(row, column.date));
    if (!at) {
      return Rejected("column '" + column.date.name + "' (when consent to '" + column.purpose +
                      "' was " + (*given ? "given" : "withdrawn") + ") is empty");
    }
    ImportPerson::ConsentValue consent;
    consent.purpose = column.purpose;
    consent.channel = column.channel;
    consent.notice_version = column.notice_version;
    consent.given = *given;
    consent.at = *at;
    if (column.evidence) consent.evidence = Trimmed(row.values[column.evidence->slot]);
    person.consents.push_back(std::move(consent));
  }
  return person;
}

}  // namespace custos::engine
