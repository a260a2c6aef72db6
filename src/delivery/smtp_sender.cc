#include "delivery/smtp_sender.h"

#include <curl/curl.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>

#include "delivery/webhook_url.h"
#include "engine/mail_endpoint.h"

namespace custos::delivery {

namespace {

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) std::abort();
  });
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// The message, handed to curl as the upload.
struct Upload {
  const std::string* data;
  size_t offset = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  size_t n = std::min(size * count, upload->data->size() - upload->offset);
  std::memcpy(buffer, upload->data->data() + upload->offset, n);
  upload->offset += n;
  return n;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::string Nonce() {
  unsigned char bytes[12];
  randombytes_buf(bytes, sizeof bytes);
  char hex[sizeof bytes * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return hex;
}

bool ToThisMachine(const std::string& url) {
  for (const char* host : {"localhost", "127.0.0.1", "[::1]"}) {
    std::string prefix = std::string("smtp://") + host;
    if (url.rfind(prefix, 0) == 0 &&
        (url.size() == prefix.size() || url[prefix.size()] == ':' || url[prefix.size()] == '/')) {
      return true;
    }
  }
  return false;
}

}  // namespace

Result<MailConfig> LoadMailConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status(ErrorCode::kNotFound, "cannot read the mail configuration " + path);
  MailConfig config;
  std::string line, password_file;
  int number = 0;
  auto bad = [&](const std::string& why) {
    return Status(ErrorCode::kInvalidArgument, path + ":" + std::to_string(number) + ": " + why);
  };
  while (std::getline(in, line)) {
    ++number;
    std::string text = Trim(line);
    if (text.empty() || text[0] == '#') continue;
    size_t eq = text.find('=');
    if (eq == std::string::npos) return bad("expected `key = value`");
    std::string key = Trim(text.substr(0, eq)), value = Trim(text.substr(eq + 1));
    if (key == "from") {
      config.settings.from = value;
    } else if (key == "user") {
      config.user = value;
    } else if (key == "password_file") {
      password_file = value;
    } else if (key == "templates") {
      ASSIGN_OR_RETURN(config.templates, LoadMailTemplates(value));
    } else if (key == "unsubscribe_url") {
      if (value.rfind("https://", 0) != 0) return bad("unsubscribe_url is an https:// URL");
      config.settings.unsubscribe_url = value;
    } else if (key == "ca_file") {
      config.ca_file = value;
    } else if (key == "timeout_seconds") {
      char* end = nullptr;
      long seconds = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || seconds < 1 || seconds > 600) {
        return bad("timeout_seconds is a whole number from 1 to 600");
      }
      config.total_timeout = std::chrono::milliseconds(seconds * 1000);
      config.connect_timeout = std::min(config.connect_timeout, config.total_timeout);
    } else if (key == "password") {
      return bad("the password is never written here: use password_file or CUSTOS_SMTP_PASSWORD");
    } else {
      return bad("unknown key '" + key +
                 "' (from, user, password_file, templates, unsubscribe_url, ca_file, "
                 "timeout_seconds)");
    }
  }
  number = 0;
  if (config.settings.from.empty() || config.settings.from.find('@') == std::string::npos) {
    return Status(ErrorCode::kInvalidArgument, path + ": `from` (the sender's address) is missing");
  }
  if (!password_file.empty()) {
    std::ifstream secret(password_file);
    if (!secret) {
      return Status(ErrorCode::kNotFound, path + ": cannot read its password_file");
    }
    std::getline(secret, config.password);
    if (!config.password.empty() && config.password.back() == '\r') config.password.pop_back();
  } else if (const char* env = std::getenv("CUSTOS_SMTP_PASSWORD")) {
    config.password = env;
  }
  if (!config.user.empty() && config.password.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  path + ": `user` is set but no password (password_file or CUSTOS_SMTP_PASSWORD)");
  }
  return config;
}

SmtpSender::SmtpSender(const policy::Policy& policy, MailConfig config)
    : policy_(policy), config_(std::move(config)) {
  InitCurlOnce();
}

WebhookResult SmtpSender::Send(const engine::OutboxDelivery& delivery, int64_t unix_seconds) {
  WebhookResult result;
  if (!CheckMailServerUrl(delivery.url).ok()) {
    result.error = "mail server URL refused";
    return result;
  }
  const std::string nonce = Nonce();
  auto mail = ComposeMail(policy_, config_.templates, config_.settings, delivery.payload,
                          delivery.outbox_id, unix_seconds, nonce);
  if (!mail.ok()) {
    // The message can never be an e-mail: retrying would not change that.
    result.error = std::string(engine::kPermanentFailure) + "mail: " + mail.status().message();
    return result;
  }
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) {
    result.error = "curl: cannot create a handle";
    return result;
  }
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + mail->recipient + ">").c_str());
  if (rcpt == nullptr) {
    result.error = "curl: out of memory";
    return result;
  }
  std::unique_ptr<curl_slist, SlistDeleter> recipients(rcpt);
  Upload upload{&mail->message};

  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, delivery.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_USE_SSL,
                   ToThisMachine(delivery.url) ? static_cast<long>(CURLUSESSL_TRY)
                                               : static_cast<long>(CURLUSESSL_ALL));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!config_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, config_.ca_file.c_str());
  if (!config_.user.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, config_.user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, config_.password.c_str());
  }
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, ("<" + config_.settings.from + ">").c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, recipients.get());
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, &ReadUpload);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(mail->message.size()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(config_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.total_timeout.count()));

  CURLcode code = curl_easy_perform(c);
  sodium_memzero(mail->message.data(), mail->message.size());
  long reply = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
  result.http_status = static_cast<int>(reply);
  if (code == CURLE_OK) {
    result.delivered = true;
    return result;
  }
  if (code == CURLE_LOGIN_DENIED) {
    // The credentials are the operator's to fix; the message itself is fine.
    result.error = "smtp " + std::to_string(reply) + " (login refused)";
  } else if (code == CURLE_USE_SSL_FAILED) {
    result.error = "smtp: the server offers no STARTTLS";
  } else if (reply >= 500 && reply <= 599) {
    result.error = std::string(engine::kPermanentFailure) + "smtp " + std::to_string(reply);
  } else if (reply >= 400 && reply <= 499) {
    result.error = "smtp " + std::to_string(reply);
  } else {
    // curl_easy_strerror names the failure only; the error buffer could name the host.
    result.error = std::string("curl: ") + curl_easy_strerror(code);
  }
  return result;
}

}  // namespace custos::delivery
