// What the privacy centre's files share (centre.cc, centre_pages.cc): form and cookie parsing,
// the organisation's colours as a stylesheet, asset names and redirects.
// Thread-safety: pure functions.
#ifndef CUSTOS_API_CENTRE_INTERNAL_H_
#define CUSTOS_API_CENTRE_INTERNAL_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/centre.h"
#include "api/http.h"

namespace custos::api::centre_internal {

using FormValues = std::vector<std::pair<std::string, std::string>>;

// An application/x-www-form-urlencoded body, decoded; nullopt when malformed (a bad escape) or
// holding more than 64 fields.
std::optional<FormValues> ParseUrlEncoded(std::string_view body);
// The value of cookie `name` in a Cookie header, or "".
std::string CookieValue(std::string_view header, std::string_view name);
// The stylesheet of the organisation's colour ("#rrggbb", or "" for the default): the colour,
// the text colour readable on it (white or near-black, whichever contrasts more), and a link
// colour readable on white (the colour itself when it contrasts 4.5:1 or more, else the
// default blue).
std::string ThemeCss(std::string_view colour);
// The banner's colours (vanilla-cookieconsent's custom properties) from the same colour.
std::string BannerThemeCss(std::string_view colour);
// The WCAG contrast ratio between two "#rrggbb" colours.
double ContrastRatio(std::string_view a, std::string_view b);
// 12 hex digits naming `content` (a BLAKE2b prefix), for cache-busting asset names.
std::string ContentTag(std::string_view content);
// 303 See Other to `location`.
HttpResponse SeeOther(const std::string& location);

}  // namespace custos::api::centre_internal

namespace custos::api {

// A POST's fields, read once its CSRF token matched its form cookie.
struct Centre::Form {
  centre_internal::FormValues values;
  std::string cookie;  // the form cookie the token was checked against

  const std::string& Get(std::string_view name) const {
    static const std::string kEmpty;
    for (const auto& [key, value] : values) {
      if (key == name) return value;
    }
    return kEmpty;
  }
};

}  // namespace custos::api

#endif  // CUSTOS_API_CENTRE_INTERNAL_H_
