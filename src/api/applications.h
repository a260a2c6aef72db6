// Third-party applications a controller authorises (the policy's `third_party_apps`): a grant
// made, listed and revoked, for the CLI (`custos application ...`) and the API
// (/v1/applications) alike. The grant's rules and its audit are the engine's
// (engine/application_grant.h, Engine::RecordApplicationGrant); the token that carries it is
// the TokenStore's (role "application"), so a revocation takes effect as any token's does: at
// once in the process that revokes it, within a second in a running server when the CLI does.
// Thread-safety: reentrant; the engine and the TokenStore are safe for concurrent use.
#ifndef CUSTOS_API_APPLICATIONS_H_
#define CUSTOS_API_APPLICATIONS_H_

#include <string>
#include <vector>

#include "api/auth.h"
#include "common/status.h"
#include "common/time.h"
#include "engine/application_grant.h"
#include "engine/engine.h"

namespace custos::api {

// The grant an application token carries (an unreadable expiry reads as already past).
engine::ApplicationGrant GrantOf(const Principal& principal);

struct IssuedApplication {
  std::string id;     // the token's id: the grant's id
  std::string token;  // shown once
};

// Checks `grant` against the policy, makes its token and audits the grant (`grant_id` is set
// from the token). Errors: those of CheckApplicationGrant, IO_ERROR.
Result<IssuedApplication> AuthoriseApplication(engine::Engine& engine, TokenStore& tokens,
                                               engine::ApplicationGrant grant,
                                               const std::string& actor);

struct ApplicationEntry {
  TokenRecord record;  // role application
  std::string state;   // active, expired, revoked
};

// Revokes application `id`, audits it and returns it as revoked. Errors: NOT_FOUND (no
// application of that id), ALREADY_EXISTS (already revoked), IO_ERROR.
Result<ApplicationEntry> RevokeApplication(engine::Engine& engine, TokenStore& tokens,
                                           const std::string& id, const std::string& actor);

// Every application ever authorised, oldest first, with its state at `now` (the token file is
// read again first: the CLI may have written to it). Errors: those of TokenStore::Load.
Result<std::vector<ApplicationEntry>> ListApplications(TokenStore& tokens, Timestamp now);

}  // namespace custos::api

#endif  // CUSTOS_API_APPLICATIONS_H_
