// What was built: the version from the project, and the commit and build type it was configured
// from (the commit is read when CMake configures; "unknown" outside a git checkout).
// Thread-safety: constants.
#ifndef CUSTOS_COMMON_BUILD_INFO_H_
#define CUSTOS_COMMON_BUILD_INFO_H_

#include <string_view>

namespace custos {

std::string_view BuildVersion();  // "0.1.0"
std::string_view BuildCommit();   // "a11d0be" or "unknown"
std::string_view BuildType();     // "RelWithDebInfo", "Release", "Debug", ...

}  // namespace custos

#endif  // CUSTOS_COMMON_BUILD_INFO_H_
