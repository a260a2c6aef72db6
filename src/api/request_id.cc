#include "api/request_id.h"

#include <cstdint>
#include <random>

namespace custos::api {

bool IsWellFormedRequestId(std::string_view id) {
  if (id.size() < 8 || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

std::string NewRequestId() {
  // Each thread draws from its own generator, seeded once from the system's random device.
  thread_local std::mt19937_64 generator([] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (size_t half = 0; half < 2; ++half) {
    uint64_t bits = generator();
    for (size_t i = 0; i < 16; ++i) id[half * 16 + i] = kHex[(bits >> (4 * i)) & 0xf];
  }
  return id;
}

std::string RequestIdFor(std::string_view incoming) {
  return IsWellFormedRequestId(incoming) ? std::string(incoming) : NewRequestId();
}

}  // namespace custos::api
