#include "api/applications.h"

#include <algorithm>

#include "crypto/api_token.h"

namespace custos::api {

engine::ApplicationGrant GrantOf(const Principal& principal) {
  engine::ApplicationGrant grant;
  grant.grant_id = principal.token_id;
  grant.application = principal.application;
  grant.recipient = principal.recipient;
  grant.purposes = principal.purposes;
  grant.categories = principal.categories;
  grant.expires_at = Timestamp::Parse(principal.expires_at).value_or(Timestamp());
  return grant;
}

Result<IssuedApplication> AuthoriseApplication(engine::Engine& engine, TokenStore& tokens,
                                               engine::ApplicationGrant grant,
                                               const std::string& actor) {
  const Timestamp now = engine.Now();
  RETURN_IF_ERROR(engine::CheckApplicationGrant(engine.policy(), grant, now));
  Principal scope;
  scope.role = Role::kApplication;
  scope.application = grant.application;
  scope.recipient = grant.recipient;
  scope.purposes = grant.purposes;
  scope.categories = grant.categories;
  scope.expires_at = grant.expires_at.ToString();
  ASSIGN_OR_RETURN(std::string token, tokens.Create(scope, "application", now.ToString()));
  IssuedApplication issued;
  issued.id = std::string(crypto::ApiTokenId(token).value_or(""));
  issued.token = std::move(token);
  grant.grant_id = issued.id;
  if (Status audited = engine.RecordApplicationGrant(grant, actor); !audited.ok()) {
    // Unaudited, the grant does not stand.
    (void)tokens.Revoke(issued.id, now.ToString());
    return audited;
  }
  return issued;
}

Result<ApplicationEntry> RevokeApplication(engine::Engine& engine, TokenStore& tokens,
                                           const std::string& id, const std::string& actor) {
  RETURN_IF_ERROR(tokens.Load());  // another process (the CLI) may have authorised it
  std::vector<TokenRecord> records = tokens.List();
  auto found = std::find_if(records.begin(), records.end(), [&](const TokenRecord& r) {
    return r.principal.token_id == id && r.principal.role == Role::kApplication;
  });
  if (found == records.end()) return Status(ErrorCode::kNotFound, "no application " + id);
  // The token is refused first; the audit entry follows.
  const std::string now = engine.Now().ToString();
  RETURN_IF_ERROR(tokens.Revoke(id, now));
  RETURN_IF_ERROR(engine.RecordApplicationRevocation(GrantOf(found->principal), actor));
  ApplicationEntry revoked{std::move(*found), "revoked"};
  revoked.record.revoked_at = now;
  return revoked;
}

Result<std::vector<ApplicationEntry>> ListApplications(TokenStore& tokens, Timestamp now) {
  RETURN_IF_ERROR(tokens.Load());
  std::vector<ApplicationEntry> out;
  for (auto& record : tokens.List()) {
    if (record.principal.role != Role::kApplication) continue;
    const engine::ApplicationGrant grant = GrantOf(record.principal);
    std::string state = !record.revoked_at.empty()       ? "revoked"
                        : engine::GrantEnded(grant, now) ? "expired"
                                                         : "active";
    out.push_back({std::move(record), std::move(state)});
  }
  std::sort(out.begin(), out.end(), [](const ApplicationEntry& a, const ApplicationEntry& b) {
    return a.record.created_at < b.record.created_at;
  });
  return out;
}

}  // namespace custos::api
