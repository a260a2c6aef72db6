// A third-party application a controller has authorised to reach its people's data: the
// policy's `third_party_apps` promise ("schools must authorise the requests to connect to their
// data and review the type of data that an application is requesting. These permissions can be
// revoked at any time by the school."). The application is one of the policy's third-party
// recipients; the grant names the purposes and categories it may use, until an expiry.
//
// The grant travels on the application's API token (api/auth.h, role "application"); these
// rules are the engine's, shared by the CLI and the API: a grant is checked against the policy
// when it is made (CheckApplicationGrant), each decision the application asks is checked
// against the grant (GrantCovers, Engine::DecideForApplication), and each allowed one is written
// to the person's disclosure log under the application's name.
// Thread-safety: value type and pure functions.
#ifndef CUSTOS_ENGINE_APPLICATION_GRANT_H_
#define CUSTOS_ENGINE_APPLICATION_GRANT_H_

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "policy/policy.h"

namespace custos::engine {

struct ApplicationGrant {
  std::string grant_id;     // the id of the application's token
  std::string application;  // its name, as people read it in their access package
  std::string recipient;    // the policy recipient it is (kind third_party)
  std::vector<std::string> purposes;
  std::vector<std::string> categories;  // these keys and the keys beneath them
  Timestamp expires_at;
};

// Longest application name, in bytes.
inline constexpr size_t kMaxApplicationName = 100;

// Whether `grant` may be made under `policy` at `now`. Errors: INVALID_ARGUMENT naming the fix
// (the policy does not let applications be authorised, no name or a name with control
// characters, a recipient that is not a third party of the policy, a purpose that does not name
// it, a category it does not receive or no granted purpose uses, an expiry not after `now`).
Status CheckApplicationGrant(const policy::Policy& policy, const ApplicationGrant& grant,
                             Timestamp now);

// Whether the grant has ended at `at` (its expiry is not after `at`).
inline bool GrantEnded(const ApplicationGrant& grant, Timestamp at) {
  return !(at < grant.expires_at);
}

// Whether the grant covers purpose `purpose` on `categories` at `at`. Errors:
// APPLICATION_GRANT_EXPIRED (at or after its expiry), OUTSIDE_APPLICATION_GRANT (a purpose or a
// category the grant does not name).
Status GrantCovers(const ApplicationGrant& grant, std::string_view purpose,
                   const std::vector<std::string>& categories, Timestamp at);

}  // namespace custos::engine

#endif  // CUSTOS_ENGINE_APPLICATION_GRANT_H_
