// The privacy centre's stylesheet and script (web/centre.css, web/centre.js), built into the
// binary by src/CMakeLists.txt so nothing is fetched at run time, and the cookie banner's.
// Thread-safety: immutable.
#ifndef CUSTOS_API_CENTRE_ASSETS_H_
#define CUSTOS_API_CENTRE_ASSETS_H_

#include <string_view>

namespace custos::api {

std::string_view CentreCss();
std::string_view CentreJs();
// The cookie banner: vanilla-cookieconsent's script and stylesheet with ours after them
// (web/banner), from the pinned npm package.
std::string_view BannerJs();
std::string_view BannerCss();

}  // namespace custos::api

#endif  // CUSTOS_API_CENTRE_ASSETS_H_
