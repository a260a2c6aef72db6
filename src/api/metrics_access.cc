#include "api/metrics_access.h"

#include <arpa/inet.h>

#include <cstdlib>
#include <cstring>
#include <optional>

namespace custos::api {

namespace {

// An IPv4 or IPv6 address as 16 bytes (IPv4 as ::ffff:a.b.c.d); `is_v4` says which it was.
std::optional<std::array<uint8_t, 16>> ParseAddress(std::string_view text, bool* is_v4) {
  std::string address(text);
  std::array<uint8_t, 16> out{};
  in_addr v4{};
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) {
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    *is_v4 = true;
    return out;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, address.c_str(), &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    // An IPv4-mapped IPv6 address is the IPv4 address.
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    *is_v4 = std::memcmp(out.data(), kMapped, 12) == 0;
    return out;
  }
  return std::nullopt;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Compares in time that depends on the lengths only.
bool SameSecret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char differ = 0;
  for (size_t i = 0; i < a.size(); ++i) differ |= static_cast<unsigned char>(a[i] ^ b[i]);
  return differ == 0;
}

}  // namespace

Result<MetricsAccess> MetricsAccess::Make(std::string scrape_token, std::string_view allow) {
  MetricsAccess access;
  if (!scrape_token.empty()) {
    bool printable = true;
    for (char c : scrape_token) printable = printable && c > ' ' && c < 0x7f;
    if (scrape_token.size() < 16 || !printable) {
      return Status(ErrorCode::kInvalidArgument,
                    "the metrics token must be at least 16 printable characters without spaces");
    }
    access.scrape_token_ = std::move(scrape_token);
  }
  if (Trim(allow).empty()) return access;
  access.has_allow_list_ = true;
  size_t start = 0;
  while (start <= allow.size()) {
    size_t end = std::min(allow.find(',', start), allow.size());
    std::string_view entry = Trim(allow.substr(start, end - start));
    start = end + 1;
    std::string_view address = entry.substr(0, entry.find('/'));
    bool is_v4 = false;
    auto bytes = ParseAddress(address, &is_v4);
    // An entry is shown in the error only once it is known to be an address (never anything
    // else the option held).
    const std::string bad = "wants networks such as 127.0.0.1/32,::1/128";
    if (!bytes) return Status(ErrorCode::kInvalidArgument, bad);
    int bits = is_v4 ? 32 : 128;
    if (entry.size() > address.size()) {
      std::string prefix(entry.substr(address.size() + 1));
      char* stop = nullptr;
      long value = std::strtol(prefix.c_str(), &stop, 10);
      if (prefix.empty() || *stop != '\0' || value < 0 || value > bits) {
        return Status(ErrorCode::kInvalidArgument, bad + " (" + std::string(address) +
                                                       " has a prefix length out of range)");
      }
      bits = static_cast<int>(value);
    }
    access.allow_.push_back(Network{*bytes, is_v4 ? 96 + bits : bits});
  }
  return access;
}

bool MetricsAccess::AddressAllowed(std::string_view address) const {
  if (!has_allow_list_) return true;
  bool is_v4 = false;
  auto bytes = ParseAddress(address, &is_v4);
  if (!bytes) return false;
  for (const Network& network : allow_) {
    int full = network.prefix_bits / 8, rest = network.prefix_bits % 8;
    if (std::memcmp(bytes->data(), network.bytes.data(), full) != 0) continue;
    if (rest != 0) {
      auto mask = static_cast<uint8_t>(0xff << (8 - rest));
      if (((*bytes)[full] & mask) != (network.bytes[full] & mask)) continue;
    }
    return true;
  }
  return false;
}

MetricsAccess::Verdict MetricsAccess::Check(std::string_view client_address,
                                            std::string_view authorization) const {
  if (!AddressAllowed(client_address)) return Verdict::kRefused;
  if (!scrape_token_.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    if (authorization.substr(0, kBearer.size()) == kBearer &&
        SameSecret(authorization.substr(kBearer.size()), scrape_token_)) {
      return Verdict::kAllowed;
    }
    return Verdict::kNeedsAdmin;
  }
  return has_allow_list_ ? Verdict::kAllowed : Verdict::kNeedsAdmin;
}

}  // namespace custos::api
