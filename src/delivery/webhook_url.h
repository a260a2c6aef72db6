// CheckWebhookUrl: whether a URL may be a recipient's webhook endpoint, decided by libcurl's URL
// parser (curl_url), the same parser that later sends to it, never by comparing prefixes.
//
// An endpoint URL is accepted when it parses as an absolute URL with a host and
//   - its scheme is https, or
//   - its scheme is http and its host is this machine: localhost, 127.0.0.1 or [::1]
//     (plain http never leaves the machine), and
//   - it carries no user name or password at all ("http://127.0.0.1@evil.example/" names the
//     host evil.example; credentials in a URL end up in logs and listings).
// A mail server URL (smtp://, smtps://) is judged by the same parser: see CheckMailServerUrl.
// Thread-safety: pure functions; safe from any thread.
#ifndef CUSTOS_DELIVERY_WEBHOOK_URL_H_
#define CUSTOS_DELIVERY_WEBHOOK_URL_H_

#include <string>

#include "common/status.h"

namespace custos::delivery {

// Ok when `url` may be a webhook endpoint; INVALID_ARGUMENT saying which rule it breaks
// otherwise. The message never repeats the URL (its path or query may hold a token).
Status CheckWebhookUrl(const std::string& url);

// Ok when `url` may be a mail server for the requester's messages: smtp://HOST[:PORT] (STARTTLS)
// or smtps://HOST[:PORT] (implicit TLS), with a host, no user name or password (credentials
// come from the mail notifier's configuration) and no path. INVALID_ARGUMENT otherwise, never
// repeating the URL.
Status CheckMailServerUrl(const std::string& url);

// CheckMailServerUrl for smtp:// and smtps:// URLs, CheckWebhookUrl for every other.
Status CheckEndpointUrl(const std::string& url);

}  // namespace custos::delivery

#endif  // CUSTOS_DELIVERY_WEBHOOK_URL_H_
