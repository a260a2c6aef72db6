// SmtpSender: delivers an outbox message to a person by e-mail, through the mail server
// registered as the requester's endpoint (smtp://HOST[:PORT] or smtps://HOST[:PORT]), on
// libcurl. MailConfig: its configuration file.
//
// TLS: smtps:// is implicit TLS; smtp:// upgrades with STARTTLS, which is required, except to
// this machine (localhost, 127.0.0.1, [::1]) where it is used when the server offers it.
// Certificates and host names are verified (a CA file may be configured). AUTH (with the
// server's strongest offered mechanism) when a user is configured.
// Outcome: a 2xx to the whole exchange is a delivery. A 5xx answer (to MAIL FROM, RCPT TO or
// the message) is permanent: the message is dead at once and never retried. A 4xx answer, no
// answer (connection, TLS, timeout), a refused login or a server without the STARTTLS it must
// offer (the operator's configuration, not the message) are retried with the outbox's backoff.
// A message that cannot be an e-mail (no address, a malformed one) is permanent too. Errors
// name the SMTP code or curl's error only ("permanent: smtp 550", "smtp 451", "curl: Couldn't
// connect to server"): never the address, the server's reply text (it often repeats the
// address) or the message.
// Thread-safety: Send() may be called from several threads at once (one curl handle per call).
// PII: the message and the address go only to the mail server.
#ifndef CUSTOS_DELIVERY_SMTP_SENDER_H_
#define CUSTOS_DELIVERY_SMTP_SENDER_H_

#include <chrono>
#include <string>

#include "common/status.h"
#include "delivery/mail_message.h"
#include "delivery/webhook_sender.h"
#include "policy/policy.h"

namespace custos::delivery {

// The mail notifier's configuration (docs/CLI.md, "E-mail to requesters"), read from a file of
// `key = value` lines (# comments):
//   from             the sender's address (required)
//   user             the SMTP user name (optional: no AUTH without it)
//   password_file    a file whose first line is the password; else the environment variable
//                    CUSTOS_SMTP_PASSWORD. Never a command-line argument.
//   templates        a template directory (mail_message.h); default: written from the policy
//   unsubscribe_url  the organisation's https one-click unsubscribe endpoint (RFC 8058)
//   ca_file          a CA bundle to trust instead of the system's
//   timeout_seconds  the whole exchange's bound (default 30)
struct MailConfig {
  MailSettings settings;
  std::string user, password;  // password: secret, never logged or printed
  MailTemplates templates = DefaultMailTemplates();
  std::string ca_file;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds total_timeout{30000};
};

// Reads a configuration file. Errors: NOT_FOUND (no file), INVALID_ARGUMENT naming the file and
// line of a bad line, an unknown key or a missing `from`, or a user without a password; those
// of LoadMailTemplates. Messages never contain the password.
Result<MailConfig> LoadMailConfig(const std::string& path);

class SmtpSender final : public WebhookSender {
 public:
  // REQUIRES: `policy` outlives the sender.
  SmtpSender(const policy::Policy& policy, MailConfig config);
  // Sends `delivery.payload` (an outbox message to a person) to the mail server `delivery.url`.
  WebhookResult Send(const engine::OutboxDelivery& delivery, int64_t unix_seconds) override;
  std::chrono::milliseconds max_send_duration() const override { return config_.total_timeout; }

 private:
  const policy::Policy& policy_;
  MailConfig config_;
};

}  // namespace custos::delivery

#endif  // CUSTOS_DELIVERY_SMTP_SENDER_H_
