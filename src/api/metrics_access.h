// MetricsAccess: who may read GET /metrics.
//
// By default (nothing configured) /metrics is an admin route like any other: an admin API token
// reads it, nothing else does. An operator may open it to a scraper in two ways, alone or
// together:
//  - a scrape token (`custos serve --metrics-token-file PATH`): `Authorization: Bearer <token>`
//    with the file's token reads the metrics (an admin token still does too);
//  - an address allow-list (`--metrics-allow 127.0.0.1/32,::1/128`): a client outside every
//    listed network is refused with 403 whatever it sends. Without a scrape token, a client
//    inside the list reads the metrics without any token; with one, it must still send it.
// Thread-safety: const after construction; safe from many threads.
#ifndef CUSTOS_API_METRICS_ACCESS_H_
#define CUSTOS_API_METRICS_ACCESS_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace custos::api {

class MetricsAccess {
 public:
  // What a request to /metrics may do before the usual token check.
  enum class Verdict {
    kRefused,      // its address is outside the allow-list: 403
    kAllowed,      // a scrape token, or an allowed address where no scrape token is set
    kNeedsAdmin,   // the usual route check: an admin API token
  };

  MetricsAccess() = default;  // today's default: admin tokens only
  // `scrape_token`: empty for none, else at least 16 printable characters without spaces.
  // `allow`: comma-separated networks in CIDR form (an address alone means the one address);
  // empty for no list. Errors: INVALID_ARGUMENT naming the entry that is not a network, or a
  // token too short.
  static Result<MetricsAccess> Make(std::string scrape_token, std::string_view allow);

  Verdict Check(std::string_view client_address, std::string_view authorization) const;
  // Whether `address` (IPv4 or IPv6 text) is inside the allow-list; true with no list.
  bool AddressAllowed(std::string_view address) const;

 private:
  struct Network {
    std::array<uint8_t, 16> bytes{};  // IPv4 as IPv4-mapped IPv6
    int prefix_bits = 0;              // over the 128 bits
  };
  std::string scrape_token_;
  std::vector<Network> allow_;
  bool has_allow_list_ = false;
};

}  // namespace custos::api

#endif  // CUSTOS_API_METRICS_ACCESS_H_
