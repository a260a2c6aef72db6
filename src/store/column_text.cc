#include "store/column_text.h"

namespace custos::store {

Status JoinKeys(const std::vector<std::string>& keys, std::string_view where, std::string* out) {
  out->clear();
  for (const std::string& key : keys) {
    if (key.empty() || key.find(',') != std::string::npos) {
      return Status(ErrorCode::kInvalidArgument,
                    std::string(where) + ": a key is empty or contains ','");
    }
    if (!out->empty()) out->push_back(',');
    out->append(key);
  }
  return Status::Ok();
}

std::vector<std::string> SplitKeys(const std::string& text) {
  std::vector<std::string> keys;
  if (text.empty()) return keys;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    keys.push_back(text.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return keys;
}

}  // namespace custos::store
