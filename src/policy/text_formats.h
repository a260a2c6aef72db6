// Text helpers shared by the renderers that write machine-readable formats (the RoPA in
// policy/ropa.cc, the access package and portability export in engine/access_package_json.cc and
// engine/portability_export.cc), so every CSV is quoted and every JSON document is made valid the
// same way. HTML escaping is EscapeHtml in policy/notice.h.
//
// All functions are pure and reentrant. Thread-safety: safe to call concurrently.
#ifndef CUSTOS_POLICY_TEXT_FORMATS_H_
#define CUSTOS_POLICY_TEXT_FORMATS_H_

#include <string>
#include <string_view>

namespace custos::policy {

// Returns `value` as one CSV field (RFC 4180): unchanged unless it holds a comma, a double
// quote, a carriage return or a line feed; then quoted, with each double quote doubled.
// PII: returns what it is given (callers may pass personal values).
std::string CsvField(std::string_view value);

// Returns `text` with every byte that is not part of well-formed UTF-8 (overlong forms,
// surrogates and code points above U+10FFFF included) replaced by U+FFFD, so a JSON document
// or an HTML page built from it is always valid UTF-8.
// PII: returns what it is given.
std::string ValidUtf8(std::string_view text);

}  // namespace custos::policy

#endif  // CUSTOS_POLICY_TEXT_FORMATS_H_
