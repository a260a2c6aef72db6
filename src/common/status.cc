#include "common/status.h"

#include <array>

namespace custos {

namespace {
struct CodeEntry {
  ErrorCode code;
  std::string_view name;
};
constexpr std::array kCodes = {
#define CUSTOS_TABLE_ENTRY(id, name) CodeEntry{ErrorCode::id, name},
    CUSTOS_ERROR_CODES(CUSTOS_TABLE_ENTRY)
#undef CUSTOS_TABLE_ENTRY
};
}  // namespace

std::string_view CodeName(ErrorCode code) {
  for (const auto& entry : kCodes) {
    if (entry.code == code) return entry.name;
  }
  return "UNKNOWN_CODE";
}

std::optional<ErrorCode> CodeFromName(std::string_view name) {
  for (const auto& entry : kCodes) {
    if (entry.name == name) return entry.code;
  }
  return std::nullopt;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(CodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

}  // namespace custos
