// Gzip: the privacy centre's pages and assets that depend only on the policy are compressed
// once, when the server starts, and sent compressed to browsers that accept gzip (all do).
// Thread-safety: pure functions.
#ifndef CUSTOS_API_GZIP_H_
#define CUSTOS_API_GZIP_H_

#include <string>
#include <string_view>

namespace custos::api {

// `text` in the gzip format (RFC 1952) at the best compression; "" if zlib fails.
std::string Gzip(std::string_view text);
// True when an Accept-Encoding header value admits gzip (and does not refuse it with q=0).
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace custos::api

#endif  // CUSTOS_API_GZIP_H_
