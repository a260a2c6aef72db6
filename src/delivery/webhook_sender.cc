#include "delivery/webhook_sender.h"

#include <curl/curl.h>

#include <cstdlib>
#include <memory>
#include <mutex>

#include "crypto/webhook_signature.h"
#include "delivery/webhook_url.h"

namespace custos::delivery {

namespace {

// curl_global_init once per process, before the first handle (not safe to race on older
// libcurls); never cleaned up, as other threads may still send at exit.
void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) std::abort();
  });
}

// The answer's body is not needed (a 2xx is the acknowledgement): read and drop it.
size_t DiscardBody(char*, size_t size, size_t count, void*) { return size * count; }

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

CurlWebhookSender::CurlWebhookSender(CurlWebhookOptions options) : options_(std::move(options)) {
  InitCurlOnce();
}

WebhookResult CurlWebhookSender::Send(const engine::OutboxDelivery& delivery,
                                      int64_t unix_seconds) {
  WebhookResult result;
  // An endpoint stored before the URL rules it now breaks is never sent to.
  if (!CheckWebhookUrl(delivery.url).ok()) {
    result.error = "endpoint URL refused";
    return result;
  }
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) {
    result.error = "curl: cannot create a handle";
    return result;
  }
  std::string signature = crypto::WebhookSignature(delivery.secret, unix_seconds, delivery.payload);
  curl_slist* raw = nullptr;
  for (const std::string& header :
       {std::string("Content-Type: application/json"),
        "X-Custos-Delivery: " + std::to_string(delivery.outbox_id),
        "X-Custos-Timestamp: " + std::to_string(unix_seconds), "X-Custos-Signature: " + signature,
        // No "Expect: 100-continue" round trip for larger bodies.
        std::string("Expect:")}) {
    curl_slist* next = curl_slist_append(raw, header.c_str());
    if (next == nullptr) {
      curl_slist_free_all(raw);
      result.error = "curl: out of memory";
      return result;
    }
    raw = next;
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers(raw);

  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, delivery.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: safe in threads
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout.count()));
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, delivery.payload.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(delivery.payload.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_USERAGENT, "custos-outbox/1");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &DiscardBody);

  CURLcode code = curl_easy_perform(c);
  if (code != CURLE_OK) {
    // curl_easy_strerror names the failure only; the error buffer could name the host.
    result.error = std::string("curl: ") + curl_easy_strerror(code);
    return result;
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  result.http_status = static_cast<int>(status);
  result.delivered = status >= 200 && status < 300;
  if (!result.delivered) result.error = "http " + std::to_string(status);
  return result;
}

}  // namespace custos::delivery
