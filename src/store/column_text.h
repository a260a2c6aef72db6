// How every Store backend writes the enums and key lists of rows.h as column text, so SQLite and
// PostgreSQL store the same words: enums as stable names ("active", "cookie_category") that read
// plainly in a database shell and that the schemas' CHECK constraints list; subject types,
// restriction categories and a request's subject ids as one comma-separated column.
// The names of request and outbox states are beside their enums in rows.h.
// Thread-safety: stateless functions.
#ifndef CUSTOS_STORE_COLUMN_TEXT_H_
#define CUSTOS_STORE_COLUMN_TEXT_H_

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/rows.h"

namespace custos::store {

// --- Enums as text --------------------------------------------------------------------------
// Each XName() gives the stored name; XFromName() gives the value back, or nullopt for a name
// that is not one of them (a backend reports that as a corrupt column).

// The value whose name is `name` in `names` (indexed by the enum's values), or nullopt.
template <typename Enum, size_t N>
std::optional<Enum> EnumFromName(const std::array<std::string_view, N>& names,
                                 std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

inline constexpr std::array<std::string_view, 2> kSubjectStateNames = {"active", "erased"};
inline std::string_view SubjectStateName(SubjectState state) {
  return kSubjectStateNames[static_cast<size_t>(state)];
}
inline std::optional<SubjectState> SubjectStateFromName(std::string_view name) {
  return EnumFromName<SubjectState>(kSubjectStateNames, name);
}

inline constexpr std::array<std::string_view, 4> kRecordStateNames = {"active", "restricted",
                                                                      "anonymised", "erased"};
inline std::string_view RecordStateName(RecordState state) {
  return kRecordStateNames[static_cast<size_t>(state)];
}
inline std::optional<RecordState> RecordStateFromName(std::string_view name) {
  return EnumFromName<RecordState>(kRecordStateNames, name);
}

inline constexpr std::array<std::string_view, 2> kConsentActionNames = {"given", "withdrawn"};
inline std::string_view ConsentActionName(ConsentAction action) {
  return kConsentActionNames[static_cast<size_t>(action)];
}
inline std::optional<ConsentAction> ConsentActionFromName(std::string_view name) {
  return EnumFromName<ConsentAction>(kConsentActionNames, name);
}

inline constexpr std::array<std::string_view, 2> kConsentTargetNames = {"purpose",
                                                                        "cookie_category"};
inline std::string_view ConsentTargetName(ConsentTarget target) {
  return kConsentTargetNames[static_cast<size_t>(target)];
}
inline std::optional<ConsentTarget> ConsentTargetFromName(std::string_view name) {
  return EnumFromName<ConsentTarget>(kConsentTargetNames, name);
}

// --- Key lists as text ----------------------------------------------------------------------
// Subject types and restriction categories are policy keys, which never contain ','.

// Writes `keys` joined by ',' to `out` (cleared first; no keys give "").
// Returns INVALID_ARGUMENT, naming `where` (the column, e.g. "subjects.types"), when a key is
// empty or contains ','.
Status JoinKeys(const std::vector<std::string>& keys, std::string_view where, std::string* out);

// The keys of a JoinKeys() text; "" gives none.
std::vector<std::string> SplitKeys(const std::string& text);

}  // namespace custos::store

#endif  // CUSTOS_STORE_COLUMN_TEXT_H_
