// CheckWebhookUrl: endpoint URLs judged by libcurl's URL parser. Plain http is allowed only to
// this machine, so what counts is the host the parser finds, not how the text begins; no
// endpoint URL carries a user name or password.
#include "delivery/webhook_url.h"

#include <gtest/gtest.h>

namespace custos::delivery {
namespace {

TEST(WebhookUrl, AcceptsHttpsAnywhere) {
  EXPECT_TRUE(CheckWebhookUrl("https://hooks.example.com/custos").ok());
  EXPECT_TRUE(CheckWebhookUrl("https://hooks.example.com:8443/a?b=c").ok());
  EXPECT_TRUE(CheckWebhookUrl("HTTPS://Hooks.Example.com/x").ok());
}

TEST(WebhookUrl, AcceptsPlainHttpToThisMachine) {
  EXPECT_TRUE(CheckWebhookUrl("http://127.0.0.1:8080/hook").ok());
  EXPECT_TRUE(CheckWebhookUrl("http://[::1]:8080/hook").ok());
  EXPECT_TRUE(CheckWebhookUrl("http://localhost:8080/hook").ok());
  EXPECT_TRUE(CheckWebhookUrl("http://LOCALHOST/hook").ok());
}

TEST(WebhookUrl, RefusesUserinfoThatHidesTheRealHost) {
  // The host here is 127.0.0.2's neighbour named after the '@', not 127.0.0.1.
  EXPECT_EQ(CheckWebhookUrl("http://127.0.0.1@127.0.0.2/hook").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckWebhookUrl("http://localhost@evil.example/hook").code(),
            ErrorCode::kInvalidArgument);
}

TEST(WebhookUrl, RefusesAnyUserinfoEvenOverHttps) {
  EXPECT_EQ(CheckWebhookUrl("https://user@hooks.example.com/").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckWebhookUrl("https://user:pass@hooks.example.com/").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckWebhookUrl("https://:pass@hooks.example.com/").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckWebhookUrl("http://user@localhost:8080/").code(), ErrorCode::kInvalidArgument);
}

TEST(WebhookUrl, RefusesPlainHttpToHostsThatOnlyStartLikeThisMachine) {
  EXPECT_EQ(CheckWebhookUrl("http://localhost.example.com/hook").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckWebhookUrl("http://127.0.0.1.example.com/hook").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckWebhookUrl("http://localhostevil/hook").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckWebhookUrl("http://127.0.0.2/hook").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckWebhookUrl("http://hooks.example.com/").code(), ErrorCode::kInvalidArgument);
}

TEST(WebhookUrl, RefusesOtherSchemesAndNonUrls) {
  EXPECT_EQ(CheckWebhookUrl("ftp://hooks.example.com/").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckWebhookUrl("file:///etc/passwd").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckWebhookUrl("hooks.example.com/x").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckWebhookUrl("").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckWebhookUrl("https://").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckWebhookUrl("https://a.example/ b").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckWebhookUrl("https://a.example/\nb").code(), ErrorCode::kInvalidArgument);
}

TEST(WebhookUrl, MessageNeverRepeatsTheUrl) {
  Status refused = CheckWebhookUrl("http://tok3nvalue@hooks.example.com/secretpath");
  EXPECT_EQ(refused.message().find("tok3nvalue"), std::string::npos);
  EXPECT_EQ(refused.message().find("secretpath"), std::string::npos);
}

}  // namespace
}  // namespace custos::delivery
