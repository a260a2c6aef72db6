// Import: bringing an organisation's existing people in from a CRM export (CSV or JSON Lines).
//
// Three parts, each usable alone:
// - ImportMapping (ParseImportMapping): a YAML file saying which column holds the stable
//   external id of a person, which columns are identifiers, records (with category, source and
//   purpose), lifecycle events with their historic times, and consents with their date and
//   evidence. Checked against the policy; every problem is a Diagnostic with its line and a fix.
// - RowReader (csv or jsonl): reads one data row at a time from a stream (never the whole
//   file), giving the mapped columns' values and the row's line.
// - MapRow: one row -> one ImportPerson, or the reason it is rejected (no personal value in it).
// Engine::ImportBatch (engine.h) then stores a batch of people atomically.
// Thread-safety: mappings are values; a RowReader is used by one thread.
#ifndef CUSTOS_ENGINE_IMPORT_H_
#define CUSTOS_ENGINE_IMPORT_H_

#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "policy/diagnostic.h"
#include "policy/policy.h"

namespace custos::engine {

// A column named by the mapping, with where the mapping names it (for errors about the data).
struct MappedColumn {
  std::string name;
  policy::Loc loc;
  int slot = -1;  // index into ImportRow::values
};

struct ImportMapping {
  enum class Format { kByExtension, kCsv, kJsonLines };
  Format format = Format::kByExtension;
  char delimiter = ',';
  int batch_size = 1000;  // people per transaction

  MappedColumn external_id;           // required: the stable id of a person in the CRM
  std::string subject_type;           // a fixed subject type, or
  MappedColumn subject_type_column;   // a column holding it (several joined by '|' or ',')
  std::optional<MappedColumn> since;  // when the person became known (default: now)

  struct IdentifierColumn {
    MappedColumn column;
    std::string kind;  // email, phone, external
    bool verified = false;
  };
  struct RecordColumn {
    MappedColumn column;
    std::string category, source, purpose;
    std::optional<MappedColumn> collected;  // its time (default: `since`, else now)
  };
  struct EventColumn {
    MappedColumn column;  // the time the event happened; empty: it did not happen
    std::string event;
  };
  struct ConsentColumn {
    MappedColumn column;  // yes/true/1/given -> given; no/false/0/withdrawn -> withdrawn
    std::string purpose;
    MappedColumn date;                     // required: when it was given or withdrawn
    std::optional<MappedColumn> evidence;  // sealed (form id, IP address, ...)
    std::string channel = "import";
    std::string notice_version;  // default: the policy's notice version
  };
  std::vector<IdentifierColumn> identifiers;
  std::vector<RecordColumn> records;
  std::vector<EventColumn> events;
  std::vector<ConsentColumn> consents;

  // Distinct column names in slot order (MappedColumn::slot indexes this).
  std::vector<std::string> columns;
};

// Parses and checks a mapping against `policy`: structure (closed maps, required fields,
// types), then references (subject type, identifier kinds, categories, sources, purposes that
// collect the category, declared events, purposes on consent). Returns false with every
// problem in `diagnostics` (codes: YAML_SYNTAX, UNSUPPORTED_VERSION, UNKNOWN_FIELD,
// MISSING_FIELD, WRONG_TYPE, INVALID_VALUE, UNKNOWN_CATEGORY, UNKNOWN_SOURCE, UNKNOWN_PURPOSE,
// UNKNOWN_EVENT, UNKNOWN_SUBJECT_TYPE, CATEGORY_NOT_IN_PURPOSE).
bool ParseImportMapping(std::string_view text, const policy::Policy& policy, ImportMapping& mapping,
                        policy::Diagnostics& diagnostics);

// One data row: the values of the mapping's columns (nullopt: absent), and where it started.
struct ImportRow {
  int64_t line = 0;
  std::vector<std::optional<std::string>> values;  // PII
  std::string error;  // set when the row itself is malformed (it is then rejected)
};

// Reads rows from a stream, one at a time; memory is one row.
class RowReader {
 public:
  virtual ~RowReader() = default;
  // False at the end of the stream. A malformed row is returned with `error` set.
  virtual bool Next(ImportRow& row) = 0;
  // Bytes of the stream consumed so far (for progress).
  int64_t bytes_read() const { return bytes_read_; }

 protected:
  int64_t bytes_read_ = 0;
};

// A CSV reader (RFC 4180: quoted fields, doubled quotes, line breaks inside quotes, CRLF). Reads
// the header first. Errors: MAPPING_INVALID when a mapped column is not in the header (the
// message names the mapping's line), INVALID_ARGUMENT for an empty stream or a broken header.
Result<std::unique_ptr<RowReader>> OpenCsvReader(std::istream& in, const ImportMapping& mapping,
                                                 const std::string& mapping_file);
// A JSON Lines reader: one object per line; strings, numbers and booleans are values, null
// is absent; blank lines are skipped.
std::unique_ptr<RowReader> OpenJsonLinesReader(std::istream& in, const ImportMapping& mapping);

// One JSON Lines row: an object whose members named by the mapping are its values.
class JsonLineParser {
 public:
  explicit JsonLineParser(const ImportMapping& mapping);
  // Fills `row` from `line` (without its line break); a malformed line sets row.error.
  void Parse(std::string_view line, int64_t number, ImportRow& row) const;

 private:
  std::unordered_map<std::string, size_t> slots_;
};

// JSON Lines arriving in pieces of any size (an HTTP body): Feed hands every complete row to
// `sink` as soon as its line ends, Finish the last line if it had no line break. Keeps at most
// one partial line (kMaxLineBytes). Blank lines are skipped but counted, as in a file.
class JsonLinesSplitter {
 public:
  using RowSink = std::function<Status(ImportRow&)>;
  static constexpr size_t kMaxLineBytes = 1 << 20;

  explicit JsonLinesSplitter(const ImportMapping& mapping) : parser_(mapping) {}
  // Errors: `sink`'s; INVALID_ARGUMENT when a line grows past kMaxLineBytes.
  Status Feed(std::string_view piece, const RowSink& sink);
  Status Finish(const RowSink& sink);

 private:
  Status Line(std::string_view line, const RowSink& sink);
  Status LineTooLong() const;

  JsonLineParser parser_;
  std::string partial_;  // PII
  int64_t line_number_ = 0;
  ImportRow row_;
};

// A person as read from one row, ready for Engine::ImportBatch. PII: values and identifiers.
struct ImportPerson {
  int64_t line = 0;
  std::string external_id;
  std::vector<std::string> types;
  std::optional<Timestamp> since;
  struct IdentifierValue {
    std::string kind, value;
    bool verified = false;
  };
  std::vector<IdentifierValue> identifiers;
  struct RecordValue {
    std::string category, value, source, purpose;
    std::optional<Timestamp> collected;
  };
  std::vector<RecordValue> records;
  struct EventValue {
    std::string event;
    Timestamp at;
  };
  std::vector<EventValue> events;
  struct ConsentValue {
    std::string purpose, channel, evidence, notice_version;
    bool given = true;
    Timestamp at;
  };
  std::vector<ConsentValue> consents;
};

// Turns a row into a person. Errors (the row is rejected): INVALID_ARGUMENT with a reason that
// names the column, never its value (no external id, an unreadable time or consent answer, a
// malformed row).
Result<ImportPerson> MapRow(const ImportMapping& mapping, const ImportRow& row);

// What happened to one person of a batch.
struct ImportOutcome {
  enum class Kind { kImported, kSkipped, kRejected };
  Kind kind = Kind::kImported;
  int64_t line = 0;
  std::string subject_id;
  std::string reason;         // skipped or rejected: why (no personal value)
  int consents_withheld = 0;  // marketing consents not given again: the person is suppressed
};

}  // namespace custos::engine

#endif  // CUSTOS_ENGINE_IMPORT_H_
