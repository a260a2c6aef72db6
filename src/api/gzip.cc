// Gzip with zlib (deflate with a gzip wrapper), and the Accept-Encoding check.
#include "api/gzip.h"

#include <zlib.h>

#include <cctype>

namespace custos::api {

std::string Gzip(std::string_view text) {
  z_stream stream{};
  // 15 window bits + 16: the gzip wrapper, not zlib's.
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return "";
  }
  std::string out(deflateBound(&stream, text.size()) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  stream.avail_in = static_cast<uInt>(text.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return result == Z_STREAM_END ? out : "";
}

bool AcceptsGzip(std::string_view header) {
  size_t start = 0;
  while (start < header.size()) {
    size_t end = header.find(',', start);
    if (end == std::string_view::npos) end = header.size();
    std::string_view item = header.substr(start, end - start);
    start = end + 1;
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    std::string_view coding = item.substr(0, item.find(';'));
    while (!coding.empty() && coding.back() == ' ') coding.remove_suffix(1);
    if (coding != "gzip" && coding != "*") continue;
    // "gzip;q=0" refuses it.
    size_t q = item.find("q=");
    if (q != std::string_view::npos) {
      std::string_view value = item.substr(q + 2);
      bool zero = !value.empty() && value.front() == '0';
      for (char c : value.substr(value.empty() ? 0 : 1)) {
        if (c == '.' || c == '0' || c == ' ') continue;
        zero = false;
        break;
      }
      if (zero) return false;
    }
    return true;
  }
  return false;
}

}  // namespace custos::api
