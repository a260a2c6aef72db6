// API tokens and roles.
//
// Roles (DESIGN.md, "Security model"): admin and dpo see everything; staff act only for the
// purposes named on their token; a processor acts only for one controller and only on the
// categories named on its token; a subject token reaches only its own subject's data. Which
// role may call which route is the route table's business (server.cc); the scope checks for
// staff, processors and subjects are here. An application token belongs to a third-party
// application a controller authorised (api/applications.h): it carries the grant (the policy
// recipient the application is, its purposes and categories, its expiry) and may only ask
// decisions within it.
//
// TokenStore keeps tokens in DIR/tokens.jsonl (mode 0600), one JSON object per line with the
// token's id, role, scope and BLAKE2b hash: never the token itself (crypto/api_token.h).
// Revoking a token appends a revocation line; the token is refused from then on, and its
// record stays (listed as revoked) so the file keeps the history of who could call the API.
// A running server sees tokens created or revoked by another process (the CLI): an unknown id
// makes it re-read the file when the file has changed, and it looks at the file at least once
// a second (`recheck_every`) so a revocation takes effect without a restart.
// Each thread remembers the last token it verified (most connections send one token over and
// over): the same token against the same loaded file is answered without hashing it again.
// The token is held only in memory, as the request that carried it already is.
// Thread-safety: TokenStore is safe for concurrent use.
#ifndef CUSTOS_API_AUTH_H_
#define CUSTOS_API_AUTH_H_

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace custos::api {

enum class Role { kAdmin, kDpo, kStaff, kProcessor, kSubject, kApplication };
inline constexpr Role kAllRoles[] = {Role::kAdmin,     Role::kDpo,     Role::kStaff,
                                     Role::kProcessor, Role::kSubject, Role::kApplication};

// "admin", "dpo", "staff", "processor", "subject", "application"
std::string_view RoleName(Role role);
std::optional<Role> RoleFromName(std::string_view name);

// Who is calling, as established from a token.
struct Principal {
  std::string token_id;
  Role role = Role::kAdmin;
  std::vector<std::string> purposes;    // staff, application
  std::string controller;               // processor
  std::vector<std::string> categories;  // processor, application: these keys and beneath
  std::string subject_id;               // subject
  // application: its name, the policy recipient it is, and when its grant ends (ISO 8601)
  std::string application, recipient, expires_at;

  bool Is(Role r) const { return role == r; }
  // Staff and applications: the purpose is on the token. Other roles: true (their limits are
  // elsewhere).
  bool MayUsePurpose(std::string_view purpose) const;
  // Processors and applications: every category lies under one of the token's. Other roles:
  // true.
  bool MayUseCategory(std::string_view category) const;
  // Subject: it is their own id. Other roles: true.
  bool MayActFor(std::string_view subject_id) const;
};

struct TokenRecord {
  Principal principal;  // scope and role
  std::string hash;     // HashApiToken(token)
  std::string label;    // a note for people (not a personal value)
  std::string created_at;
  std::string revoked_at;  // empty while the token is valid
};

// Where a data directory keeps its tokens: DIR/tokens.jsonl.
std::string TokenPath(const std::string& data_dir);

class TokenStore {
 public:
  explicit TokenStore(std::string path,
                      std::chrono::milliseconds recheck_every = std::chrono::seconds(1))
      : path_(std::move(path)), recheck_every_(recheck_every) {}

  // Reads the file (a missing file means no tokens). Errors: IO_ERROR, INVALID_ARGUMENT (a
  // line that is not a token record).
  Status Load();
  // Creates a token, appends its record to the file and returns the token (shown once).
  // Errors: INVALID_ARGUMENT (scope missing for the role), IO_ERROR.
  Result<std::string> Create(const Principal& scope, const std::string& label,
                             const std::string& created_at);
  // Revokes token `id` (appends a revocation line). Errors: NOT_FOUND (no such token),
  // ALREADY_EXISTS (already revoked), IO_ERROR.
  Status Revoke(const std::string& id, const std::string& revoked_at);
  // The principal for an "Authorization: Bearer ..." header value, or null (also for a revoked
  // token). It is shared, not copied per request, and stays valid when the file is re-read.
  std::shared_ptr<const Principal> Authenticate(std::string_view authorization);
  std::vector<TokenRecord> List() const;

 private:
  Status LoadLocked();
  Status AppendLocked(const std::string& line);
  // Re-reads the file if it changed since it was read; at most once per recheck_every_.
  void RecheckIfDue();

  const std::string path_;
  mutable std::shared_mutex mutex_;
  struct Known {
    TokenRecord record;
    std::shared_ptr<const Principal> principal;  // record.principal, handed to callers
  };
  static Known Remember(TokenRecord record);

  std::map<std::string, Known, std::less<>> tokens_;  // by id
  // Changes whenever tokens_ does; unique across all TokenStores of the process.
  std::atomic<uint64_t> generation_{0};
  // What tells the file changed: appends always change the size, rewrites the time.
  struct FileState {
    std::timespec mtime{};
    off_t size = -1;  // -1: no file
    bool operator==(const FileState& o) const {
      return size == o.size && mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec;
    }
  };
  static FileState StateOf(const std::string& path);

  FileState loaded_;  // the file as last read
  const std::chrono::milliseconds recheck_every_;
  std::atomic<int64_t> next_recheck_ns_{0};  // steady clock
};

}  // namespace custos::api

#endif  // CUSTOS_API_AUTH_H_
