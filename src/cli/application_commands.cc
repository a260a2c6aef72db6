#include "cli/application_commands.h"

#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "api/applications.h"
#include "cli/command_helpers.h"
#include "crypto/api_token.h"

namespace custos::cli {

namespace {

constexpr char kUsage[] =
    "application authorise NAME --recipient R --purpose P [--purpose P...] --category C\n"
    "      [--category C...] --expires TIME\n"
    "  | application list | application revoke ID|TOKEN";

}  // namespace

int ApplicationCommand(deployment::Session& s, const std::vector<std::string>& args,
                       std::ostream& out, std::ostream& err) {
  if (args.empty()) return Usage(err, kUsage);
  auto a = ParseArgs({args.begin() + 1, args.end()},
                     {"--recipient", "--purpose", "--category", "--expires"}, {});
  if (!a.ok()) return Usage(err, kUsage, a.status());
  api::TokenStore tokens(api::TokenPath(s.options().data_dir));
  if (Status loaded = tokens.Load(); !loaded.ok()) return Fail(err, loaded);
  const std::string& verb = args[0];
  if (verb == "authorise" || verb == "authorize") {
    const std::string* recipient = a->Option("--recipient");
    auto expires = TimeOption(*a, "--expires");
    if (!expires.ok()) return Fail(err, expires.status());
    if (a->positional.size() != 1 || recipient == nullptr || !*expires) {
      return Usage(err, kUsage);
    }
    engine::ApplicationGrant grant;
    grant.application = a->positional[0];
    grant.recipient = *recipient;
    grant.purposes = a->All("--purpose");
    grant.categories = a->All("--category");
    grant.expires_at = **expires;
    auto issued = api::AuthoriseApplication(s.engine(), tokens, grant, "cli");
    if (!issued.ok()) return Fail(err, issued.status());
    out << "application " << issued->id << " authorised until " << grant.expires_at.ToString()
        << "; its token, shown once:\n"
        << issued->token << "\n";
    return kExitOk;
  }
  if (verb == "list") {
    if (!a->positional.empty() || !a->options.empty()) return Usage(err, kUsage);
    auto applications = api::ListApplications(tokens, s.engine().Now());
    if (!applications.ok()) return Fail(err, applications.status());
    for (const auto& [record, state] : *applications) {
      const api::Principal& p = record.principal;
      out << p.token_id << " " << state << " \"" << p.application << "\" recipient=" << p.recipient;
      for (const auto& purpose : p.purposes) out << " purpose=" << purpose;
      for (const auto& category : p.categories) out << " category=" << category;
      out << " expires=" << p.expires_at << " created=" << record.created_at;
      if (!record.revoked_at.empty()) out << " revoked=" << record.revoked_at;
      out << "\n";
    }
    return kExitOk;
  }
  if (verb == "revoke") {
    if (a->positional.size() != 1 || !a->options.empty()) return Usage(err, kUsage);
    // The id, or the whole token (whoever holds it may revoke it): never echoed back.
    std::optional<std::string_view> in_token = crypto::ApiTokenId(a->positional[0]);
    const std::string id = in_token ? std::string(*in_token) : a->positional[0];
    auto revoked = api::RevokeApplication(s.engine(), tokens, id, "cli");
    if (!revoked.ok()) return Fail(err, revoked.status());
    out << "revoked application " << id
        << " (a running server refuses its token within a second)\n";
    return kExitOk;
  }
  return Usage(err, kUsage);
}

}  // namespace custos::cli
