#include "policy/warnings.h"

#include "policy/ropa.h"

namespace custos::policy {

namespace {

bool HasAddress(const Contact& c) {
  return !c.email.empty() || !c.phone.empty() || !c.address.empty() || !c.url.empty();
}

Diagnostic Warn(ErrorCode code, Loc loc, std::string message, std::string hint) {
  Diagnostic d{code, loc, std::move(message), std::move(hint)};
  d.warning = true;
  return d;
}

}  // namespace

Diagnostics PolicyWarnings(const Policy& policy) {
  Diagnostics warnings;
  for (const Contact& contact : policy.contacts) {
    if (contact.email_not_stated) {
      warnings.push_back(Warn(
          ErrorCode::kAddressNotStated, contact.loc,
          "contact '" + contact.key + "' is reached by e-mail, but the notice gives no address",
          "ask the organisation for the address and write it as 'email:'; "
          "until then the notice cannot name this channel"));
    } else if (!HasAddress(contact)) {
      warnings.push_back(Warn(ErrorCode::kContactWithoutAddress, contact.loc,
                              "contact '" + contact.key + "' has no e-mail, phone, address or URL",
                              "add the channel the notice gives, or remove the contact when the "
                              "notice gives none"));
    }
  }
  for (const Recipient& recipient : policy.recipients) {
    bool may_transfer = recipient.kind == RecipientKind::kProcessor ||
                        recipient.kind == RecipientKind::kSubProcessor ||
                        recipient.kind == RecipientKind::kThirdParty;
    if (recipient.safeguard == "not_stated") {
      warnings.push_back(Warn(ErrorCode::kSafeguardNotStated, recipient.loc,
                              "recipient '" + recipient.key +
                                  "' receives data outside the allowed regions, but the notice "
                                  "names no transfer safeguard",
                              "find out which safeguard applies (adequacy, idta, "
                              "uk_addendum_scc, scc, bcr or derogation) and state it"));
    }
    if ((recipient.kind == RecipientKind::kProcessor ||
         recipient.kind == RecipientKind::kSubProcessor) &&
        recipient.contract.empty()) {
      warnings.push_back(Warn(ErrorCode::kProcessorWithoutContract, recipient.loc,
                              "processor '" + recipient.key +
                                  "' has no contract reference (Article 28(3) needs a written "
                                  "contract)",
                              "add 'contract:' with the contract's reference and "
                              "'contract_date:' with the date it was signed; the RoPA lists them"));
    }
    if (may_transfer && recipient.countries.empty()) {
      warnings.push_back(Warn(ErrorCode::kRecipientWithoutCountry, recipient.loc,
                              "recipient '" + recipient.key + "' has no country",
                              "add 'countries:' (and 'safeguard:' outside the allowed regions) so "
                              "the RoPA can say whether data leaves the UK"));
    }
  }
  bool withdrawal_route = !policy.controller.email.empty() || !policy.controller.phone.empty() ||
                          !policy.controller.website.empty() || !policy.controller.address.empty();
  for (const Contact& contact : policy.contacts)
    withdrawal_route = withdrawal_route || HasAddress(contact);
  if (!withdrawal_route) {
    for (const Purpose& purpose : policy.purposes) {
      if (purpose.basis != LawfulBasis::kConsent) continue;
      warnings.push_back(Warn(ErrorCode::kConsentWithoutWithdrawal, purpose.loc,
                              "purpose '" + purpose.key +
                                  "' rests on consent, but the policy gives no address to "
                                  "withdraw it",
                              "give the controller or a contact an e-mail, phone or URL"));
    }
  }
  for (const RecordGap& gap : RequiredRecordGaps(policy)) {
    std::string what = gap.column == "schedule1_condition" ? "its DPA 2018 Schedule 1 condition"
                       : gap.column == "appropriate_policy_document"
                           ? "the appropriate policy document its Schedule 1 condition needs"
                           : "its Article 10 basis for criminal offence data";
    warnings.push_back(Warn(ErrorCode::kRecordIncomplete, gap.loc,
                            "purpose '" + gap.purpose +
                                "' processes special category or criminal offence data, but the "
                                "record of processing does not state " +
                                what,
                            "state it under the purpose's 'record:' (or the policy's) as '" +
                                gap.column + ":' (docs/POLICY.md \"record\")"));
  }
  return warnings;
}

}  // namespace custos::policy
