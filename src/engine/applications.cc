// Engine: third-party applications a controller authorises (application_grant.h). The grant's
// rules are pure; here they meet the audit log and the disclosure log.
#include "engine/engine.h"
#include "engine/request_internal.h"

namespace custos::engine {

namespace {

// What the audit log says of a grant: its id, the application, the recipient, the scope and
// the expiry (policy keys and the application's name: nothing personal).
std::string GrantDetail(const ApplicationGrant& grant) {
  return grant.grant_id + " " + grant.application + " as " + grant.recipient + ": purposes " +
         internal::Join(grant.purposes) + "; categories " + internal::Join(grant.categories) +
         "; until " + grant.expires_at.ToString();
}

}  // namespace

Status Engine::RecordApplicationGrant(const ApplicationGrant& grant, const std::string& actor) {
  const Timestamp now = clock_.Now();
  RETURN_IF_ERROR(CheckApplicationGrant(policy_, grant, now));
  return audit_.RecordDurably(Entry(actor, "application_authorised", "", now, GrantDetail(grant)));
}

Status Engine::RecordApplicationRevocation(const ApplicationGrant& grant,
                                           const std::string& actor) {
  return audit_.RecordDurably(
      Entry(actor, "application_revoked", "", clock_.Now(), GrantDetail(grant)));
}

Result<Decision> Engine::DecideForApplication(const ApplicationGrant& grant,
                                              const DecisionRequest& request) {
  RETURN_IF_ERROR(GrantCovers(grant, request.purpose, request.categories, request.at));
  AuditEntry entry;
  ASSIGN_OR_RETURN(Decision decision, DecideUnrecorded(request, entry));
  if (!decision.allow) {
    RETURN_IF_ERROR(RecordDecision(std::move(entry)));
    return decision;
  }
  // Allowed: the data go to the application. The grant was checked against the policy when it
  // was made; the policy may have changed since, so the disclosure is checked again.
  ASSIGN_OR_RETURN(
      const policy::Recipient* recipient,
      internal::DisclosableTo(policy_, grant.recipient, request.purpose, request.categories));
  store::WriteBatch batch;
  batch.Add(store::DisclosureRow{controller_, request.subject_id, 0, recipient->key,
                                 request.purpose, request.categories, request.at,
                                 grant.application});
  AuditEntry disclosed = Entry(request.actor, "disclosure", request.subject_id, request.at,
                               recipient->key + " (application " + grant.grant_id +
                                   "): " + internal::Join(request.categories),
                               request.purpose);
  ASSIGN_OR_RETURN(store::AppliedIds ids,
                   audit_.Commit(std::move(batch), {std::move(entry), std::move(disclosed)}));
  (void)ids;
  return decision;
}

}  // namespace custos::engine
