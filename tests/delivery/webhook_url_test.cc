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

// The requester's mail server: a host and port only; its credentials live in the mail
// configuration, never in a URL that is stored and listed.
TEST(MailServerUrl, AcceptsSmtpAndSmtpsToAHost) {
  EXPECT_TRUE(CheckMailServerUrl("smtp://mail.example.org:587").ok());
  EXPECT_TRUE(CheckMailServerUrl("smtps://mail.example.org:465").ok());
  EXPECT_TRUE(CheckMailServerUrl("smtp://127.0.0.1:2525/").ok());
  EXPECT_TRUE(CheckEndpointUrl("SMTP://mail.example.org").ok());
  EXPECT_TRUE(CheckEndpointUrl("https://hooks.example.com/x").ok());
}

TEST(MailServerUrl, RefusesCredentialsPathsAndOtherSchemes) {
  for (const char* url : {"smtp://user:pw@mail.example.org", "smtp://user@mail.example.org",
                          "smtp://mail.example.org/x", "smtp://mail.example.org?a=b", "smtp://",
                          "http://mail.example.org", "smtp://a b"}) {
    Status refused = CheckMailServerUrl(url);
    EXPECT_EQ(refused.code(), ErrorCode::kInvalidArgument) << url;
    EXPECT_EQ(refused.message().find("pw"), std::string::npos) << url;
  }
  EXPECT_EQ(CheckEndpointUrl("smtp://user:pw@mail.example.org").code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace custos::delivery
