// Request ids: every request gets one, echoed in the X-Request-Id response header and written on
// its log lines, so a caller's report and the server's logs can be matched. A well-formed id the
// caller sent in X-Request-Id (8 to 64 letters, digits, '-', '_', '.' or ':') is kept, so ids
// follow a request through proxies; anything else is ignored and a new id is made (32 hex
// digits, random). An id is never shaped like an e-mail address (no '@').
// Thread-safety: safe from many threads.
#ifndef CUSTOS_API_REQUEST_ID_H_
#define CUSTOS_API_REQUEST_ID_H_

#include <string>
#include <string_view>

namespace custos::api {

bool IsWellFormedRequestId(std::string_view id);
std::string NewRequestId();
// `incoming` when well-formed, else a new id.
std::string RequestIdFor(std::string_view incoming);

}  // namespace custos::api

#endif  // CUSTOS_API_REQUEST_ID_H_
