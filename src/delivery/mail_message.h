// MailTemplates and ComposeMail: how an outbox message to a person becomes an e-mail (RFC 5322
// with MIME, multipart/alternative: a plain-text part and an HTML part).
//
// The templates are written from the policy: every message names the organisation, its contact
// details, the DPO's contact (when the policy has one), the regulator and a link to the privacy
// notice, around the engine's subject line and text. An organisation overrides them with a
// template directory holding `message.txt` and/or `message.html` (docs/CLI.md, "E-mail to
// requesters"); a placeholder is written {{name}}, and the names are
//   subject, body, request_id, organisation, contact, dpo, regulator, notice_link
// (in message.html every value is HTML-escaped). An unknown name, or a `{{` without its `}}`,
// is refused when the directory is loaded, with the file and line.
//
// The message carries Date, Message-ID (unique per outbox message and attempt, at the sender's
// domain), MIME-Version, Auto-Submitted, and, on marketing-related messages (the engine marks
// those about stopping direct marketing), List-Unsubscribe with List-Unsubscribe-Post
// "List-Unsubscribe=One-Click" (RFC 8058) when a one-click https URL is configured. Headers with
// anything beyond printable ASCII are RFC 2047 encoded words (UTF-8, base64); both parts are
// UTF-8 in base64.
// Thread-safety: pure functions over their arguments (LoadMailTemplates reads files).
#ifndef CUSTOS_DELIVERY_MAIL_MESSAGE_H_
#define CUSTOS_DELIVERY_MAIL_MESSAGE_H_

#include <cstdint>
#include <string>

#include "common/status.h"
#include "policy/policy.h"

namespace custos::delivery {

struct MailTemplates {
  std::string text;  // the plain-text part
  std::string html;  // the HTML part
};

// The templates custos writes when the organisation gives none.
MailTemplates DefaultMailTemplates();

// The defaults with `dir`/message.txt and `dir`/message.html in their place where present.
// Errors: NOT_FOUND (no such directory, or neither file in it), INVALID_ARGUMENT naming the
// file and line of an unknown or unterminated placeholder.
Result<MailTemplates> LoadMailTemplates(const std::string& dir);

// Fills the templates' text; exposed for tests. `html` escapes every value.
std::string FillTemplate(const std::string& text, const policy::Policy& policy,
                         const std::string& subject, const std::string& body,
                         const std::string& request_id, bool html);

struct MailSettings {
  std::string from;             // the sender's address (MAIL FROM and the From header)
  std::string unsubscribe_url;  // https one-click unsubscribe endpoint; empty: none
};

struct ComposedMail {
  std::string recipient;  // the address to send to (RCPT TO)
  std::string message;    // the whole message, CRLF line endings
};

// The e-mail for one outbox message to a person. `payload` is the outbox's JSON ({to: {kind,
// value}, subject, body, request_id, marketing?}); `outbox_id` and `nonce` (any random
// text of letters and digits) make the Message-ID and the MIME boundary unique.
// Errors: INVALID_ARGUMENT when the payload is not such a message, when it is not addressed to
// an e-mail address, or the address is not one (the message never names the address).
// PII: the result holds the person's address and the message; it goes only to the mail server.
Result<ComposedMail> ComposeMail(const policy::Policy& policy, const MailTemplates& templates,
                                 const MailSettings& settings, const std::string& payload,
                                 int64_t outbox_id, int64_t unix_seconds, const std::string& nonce);

// An RFC 2047 encoded header value (UTF-8, base64, folded) when `value` has anything but
// printable ASCII, else `value` itself. Exposed for tests.
std::string EncodeHeaderValue(const std::string& value);

// RFC 5322 date-time in UTC: "Sat, 05 Dec 2026 07:22:43 +0000".
std::string MailDate(int64_t unix_seconds);

}  // namespace custos::delivery

#endif  // CUSTOS_DELIVERY_MAIL_MESSAGE_H_
