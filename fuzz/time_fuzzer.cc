// libFuzzer target: ISO-8601 times, dates and periods (src/common/time.cc, period.cc), as read
// from query parameters, JSON bodies, policies and scenario clocks. Any text must parse or be
// refused, never crash (UBSan stops on an overflow); what parses prints back to text that parses
// to the same value; adding a parsed period to a time is defined for every period.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/period.h"
#include "common/time.h"

using custos::CivilDate;
using custos::IsoPeriod;
using custos::Timestamp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto at = Timestamp::Parse(text)) {
    auto again = Timestamp::Parse(at->ToString());
    if (!again || *again != *at) std::abort();
    (void)at->Date().ToHuman();
  }
  if (auto date = CivilDate::Parse(text)) {
    auto again = CivilDate::Parse(date->ToString());
    if (!again || *again != *date) std::abort();
    (void)date->ToHuman();
    if (Timestamp::FromDate(*date).Date() != *date) std::abort();
  }
  if (auto period = IsoPeriod::Parse(text)) {
    auto again = IsoPeriod::Parse(period->ToString());
    if (!again || *again != *period) std::abort();
    (void)period->ToHuman();
    for (int64_t micros : {int64_t{0}, int64_t{1767225600000000}, int64_t{-62135596800000000}}) {
      (void)custos::AddPeriod(Timestamp{micros}, *period);
    }
  }
  return 0;
}
