// libFuzzer target: query parameters. The input is a query string; it is split into name=value
// pairs as the transport hands them to a route (already percent-decoded), and every parameter a
// route reads is read by that route's rule: ids and counts with ParseId (within, threshold),
// times with Timestamp::Parse (as_of), words compared as they are (filter, format, all). Any
// query must be read or refused, never crash; what is read must be what the text says.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "api/http.h"
#include "api/query_values.h"
#include "common/time.h"

namespace {

using custos::Timestamp;
using custos::api::HttpRequest;
using custos::api::internal::ParseId;

HttpRequest FromQueryString(const std::string& text) {
  HttpRequest request;
  request.method = "GET";
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('&', start);
    if (end == std::string::npos) end = text.size();
    std::string pair = text.substr(start, end - start);
    size_t eq = pair.find('=');
    request.query.emplace_back(pair.substr(0, eq),
                               eq == std::string::npos ? "" : pair.substr(eq + 1));
    start = end + 1;
  }
  return request;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  HttpRequest request = FromQueryString(std::string(reinterpret_cast<const char*>(data), size));
  for (const char* name : {"within", "threshold", "request_id"}) {
    if (const std::string* text = request.Query(name)) {
      if (auto value = ParseId(*text)) {
        // An id is its digits: printed back, it is the same text but for leading zeros.
        if (*value < 0) std::abort();
        std::string printed = std::to_string(*value);
        size_t zeros = text->find_first_not_of('0');
        std::string digits = zeros == std::string::npos ? "0" : text->substr(zeros);
        if (printed != digits) std::abort();
      }
    }
  }
  if (const std::string* text = request.Query("as_of")) {
    if (auto at = Timestamp::Parse(*text)) {
      auto again = Timestamp::Parse(at->ToString());
      if (!again || *again != *at) std::abort();
    }
  }
  for (const char* name : {"filter", "format", "all", "purpose"}) {
    volatile bool present = request.Query(name) != nullptr;
    (void)present;
  }
  return 0;
}
