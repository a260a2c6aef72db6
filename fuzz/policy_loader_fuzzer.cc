// libFuzzer target: any bytes given to the policy loader and validator must produce a policy or
// diagnostics, never a crash, hang or sanitizer report. Seeds: policies/ and test fixtures.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  custos::policy::LoadOutcome outcome = custos::policy::CheckPolicyText(text, "fuzz.yaml");
  // Formatting every diagnostic exercises the message paths too.
  volatile size_t length = outcome.Report().size();
  (void)length;
  return 0;
}
