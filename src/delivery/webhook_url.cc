#include "delivery/webhook_url.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace custos::delivery {

namespace {

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
struct PartDeleter {
  void operator()(char* part) const { curl_free(part); }
};

Status Refused(const std::string& why) {
  return Status(ErrorCode::kInvalidArgument, "a webhook URL " + why);
}

// One part of a parsed URL: nullopt-like empty when the URL has none.
bool Part(CURLU* url, CURLUPart which, std::string* out) {
  char* raw = nullptr;
  if (curl_url_get(url, which, &raw, 0) != CURLUE_OK || raw == nullptr) return false;
  std::unique_ptr<char, PartDeleter> owned(raw);
  *out = raw;
  return true;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool IsThisMachine(const std::string& host) {
  std::string h = Lower(host);
  return h == "localhost" || h == "127.0.0.1" || h == "[::1]";
}

}  // namespace

Status CheckWebhookUrl(const std::string& url) {
  // Control characters and spaces are never part of an endpoint; curl would refuse most of
  // them anyway, this keeps the rule independent of its version.
  for (unsigned char c : url) {
    if (c <= 0x20 || c == 0x7f) return Refused("has a space or a control character");
  }
  std::unique_ptr<CURLU, UrlDeleter> parsed(curl_url());
  if (!parsed) return Status(ErrorCode::kInternal, "curl: out of memory");
  // No default scheme and no guessing: only an absolute URL is accepted.
  if (curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return Refused("must be an absolute https:// URL (plain http only to this machine)");
  }
  std::string scheme, host, ignored;
  if (!Part(parsed.get(), CURLUPART_SCHEME, &scheme)) return Refused("has no scheme");
  if (!Part(parsed.get(), CURLUPART_HOST, &host) || host.empty()) return Refused("has no host");
  if (Part(parsed.get(), CURLUPART_USER, &ignored) ||
      Part(parsed.get(), CURLUPART_PASSWORD, &ignored) ||
      Part(parsed.get(), CURLUPART_OPTIONS, &ignored)) {
    return Refused("may not carry a user name or password");
  }
  scheme = Lower(scheme);
  if (scheme == "https") return Status::Ok();
  if (scheme == "http") {
    if (IsThisMachine(host)) return Status::Ok();
    return Refused("is https:// (plain http only to localhost, 127.0.0.1 or [::1])");
  }
  return Refused("is https:// (plain http only to this machine)");
}

Status CheckMailServerUrl(const std::string& url) {
  for (unsigned char c : url) {
    if (c <= 0x20 || c == 0x7f) {
      return Status(ErrorCode::kInvalidArgument,
                    "a mail server URL has a space or a control "
                    "character");
    }
  }
  auto refused = [](const std::string& why) {
    return Status(ErrorCode::kInvalidArgument, "a mail server URL " + why);
  };
  std::unique_ptr<CURLU, UrlDeleter> parsed(curl_url());
  if (!parsed) return Status(ErrorCode::kInternal, "curl: out of memory");
  if (curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return refused("must be smtp://HOST[:PORT] or smtps://HOST[:PORT]");
  }
  std::string scheme, host, path, ignored;
  if (!Part(parsed.get(), CURLUPART_SCHEME, &scheme)) return refused("has no scheme");
  scheme = Lower(scheme);
  if (scheme != "smtp" && scheme != "smtps") return refused("is smtp:// or smtps://");
  if (!Part(parsed.get(), CURLUPART_HOST, &host) || host.empty()) return refused("has no host");
  if (Part(parsed.get(), CURLUPART_USER, &ignored) ||
      Part(parsed.get(), CURLUPART_PASSWORD, &ignored) ||
      Part(parsed.get(), CURLUPART_OPTIONS, &ignored)) {
    return refused("may not carry a user name or password (they go in the mail configuration)");
  }
  if (Part(parsed.get(), CURLUPART_PATH, &path) && !path.empty() && path != "/") {
    return refused("has no path");
  }
  if (Part(parsed.get(), CURLUPART_QUERY, &ignored) ||
      Part(parsed.get(), CURLUPART_FRAGMENT, &ignored)) {
    return refused("has no query or fragment");
  }
  return Status::Ok();
}

Status CheckEndpointUrl(const std::string& url) {
  std::string head = Lower(url.substr(0, 8));
  if (head.rfind("smtp://", 0) == 0 || head.rfind("smtps://", 0) == 0) {
    return CheckMailServerUrl(url);
  }
  return CheckWebhookUrl(url);
}

}  // namespace custos::delivery
