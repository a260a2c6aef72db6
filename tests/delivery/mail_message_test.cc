// The e-mail a person receives: MIME structure, encoded headers, templates written from the
// policy and the organisation's overrides, one-click unsubscribe on marketing-related messages.
#include "delivery/mail_message.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "policy/loader.h"

namespace custos::delivery {
namespace {

policy::Policy ProtectUk() {
  auto policy =
      policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) + "/policies/protectuk.yaml");
  EXPECT_TRUE(policy.ok()) << policy.status().message();
  return *policy;
}

const char* kCodeMessage =
    R"({"request_id":"rq_7","controller":"ProtectUK","to":{"kind":"email","value":"a@example.org"},)"
    R"("subject":"Your code to confirm your request","body":"Enter this code: 123456.","code":"123456"})";

TEST(MailHeaders, NonAsciiIsEncodedInWordsOfAtMost75Characters) {
  std::string value = "Ihre Anfrage – Bestätigung für Grüße und ein sehr langer Betreff, ja";
  std::string encoded = EncodeHeaderValue(value);
  EXPECT_EQ(encoded.rfind("=?UTF-8?B?", 0), 0u);
  std::string decoded;
  size_t start = 0;
  while (start < encoded.size()) {
    size_t end = encoded.find("\r\n ", start);
    std::string word = encoded.substr(start, end == std::string::npos ? end : end - start);
    EXPECT_LE(word.size(), 75u) << word;
    EXPECT_EQ(word.substr(word.size() - 2), "?=");
    start = end == std::string::npos ? encoded.size() : end + 3;
  }
  EXPECT_NE(encoded.find("\r\n "), std::string::npos) << "a long value is folded";
  EXPECT_EQ(EncodeHeaderValue("Plain ASCII subject"), "Plain ASCII subject");
  // A line break can never end the header early.
  EXPECT_EQ(EncodeHeaderValue("a\r\nBcc: x@example.org").find("\r\nBcc"), std::string::npos);
}

TEST(MailHeaders, DateIsRfc5322InUtc) {
  EXPECT_EQ(MailDate(1796455363), "Sat, 05 Dec 2026 07:22:43 +0000");
}

TEST(ComposeMail, MultipartAlternativeWithTheOrganisationsDetails) {
  policy::Policy policy = ProtectUk();
  auto mail = ComposeMail(policy, DefaultMailTemplates(), {"privacy@protectuk.example", ""},
                          kCodeMessage, 42, 1796455363, "abc123");
  ASSERT_TRUE(mail.ok()) << mail.status().message();
  EXPECT_EQ(mail->recipient, "a@example.org");
  const std::string& m = mail->message;
  EXPECT_NE(m.find("Message-ID: <custos.42.abc123@protectuk.example>\r\n"), std::string::npos);
  EXPECT_NE(m.find("Date: Sat, 05 Dec 2026 07:22:43 +0000\r\n"), std::string::npos);
  EXPECT_NE(m.find("Content-Type: multipart/alternative; boundary=\"=_custos_abc123\"\r\n"),
            std::string::npos);
  EXPECT_NE(m.find("--=_custos_abc123\r\nContent-Type: text/plain; charset=UTF-8\r\n"),
            std::string::npos);
  EXPECT_NE(m.find("--=_custos_abc123\r\nContent-Type: text/html; charset=UTF-8\r\n"),
            std::string::npos);
  EXPECT_NE(m.find("--=_custos_abc123--\r\n"), std::string::npos);
  EXPECT_EQ(m.find("List-Unsubscribe"), std::string::npos) << "not a marketing message";
  EXPECT_EQ(m.find("\n"), m.find("\r\n") + 1) << "CRLF line endings";

  std::string text = FillTemplate(DefaultMailTemplates().text, policy, "S", "Body.", "rq_7", false);
  EXPECT_NE(text.find("ProtectUK"), std::string::npos);
  EXPECT_NE(text.find(policy.dpo.email), std::string::npos);
  EXPECT_NE(text.find(policy.regulator.name), std::string::npos);
  EXPECT_NE(text.find("rq_7"), std::string::npos);
}

TEST(ComposeMail, HtmlPartEscapesEveryValue) {
  policy::Policy policy = ProtectUk();
  std::string html =
      FillTemplate("<p>{{body}}</p>", policy, "S", "<script>alert(1)</script> & co", "", true);
  EXPECT_EQ(html, "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; co</p>");
}

TEST(ComposeMail, MarketingRelatedMessageHasOneClickUnsubscribe) {
  policy::Policy policy = ProtectUk();
  std::string payload = kCodeMessage;
  payload.insert(payload.size() - 1, R"(,"marketing":true,"unsubscribe_token":"m.rq_7.0a1b")");
  auto mail = ComposeMail(policy, DefaultMailTemplates(),
                          {"privacy@protectuk.example", "https://protectuk.example/unsub"}, payload,
                          1, 0, "n");
  ASSERT_TRUE(mail.ok());
  EXPECT_NE(
      mail->message.find("List-Unsubscribe: <https://protectuk.example/unsub?token=m.rq_7.0a1b>"),
      std::string::npos);
  EXPECT_NE(mail->message.find("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"),
            std::string::npos);
}

// A token that could break out of the header's angle brackets is not put in a URL: without a
// one-click https target there is no List-Unsubscribe-Post either (RFC 8058), only the mailto.
TEST(ComposeMail, UnsubscribeTokenThatIsNotPlainGivesNoOneClickLink) {
  policy::Policy policy = ProtectUk();
  std::string payload = kCodeMessage;
  payload.insert(payload.size() - 1,
                 R"(,"marketing":true,"unsubscribe_token":"m.x>, <https://evil")");
  auto mail = ComposeMail(policy, DefaultMailTemplates(),
                          {"privacy@protectuk.example", "https://protectuk.example/unsub"}, payload,
                          1, 0, "n");
  ASSERT_TRUE(mail.ok());
  EXPECT_EQ(mail->message.find("evil"), std::string::npos);
  EXPECT_EQ(mail->message.find("List-Unsubscribe-Post"), std::string::npos);
  EXPECT_NE(mail->message.find("List-Unsubscribe: <mailto:"), std::string::npos);
}

TEST(ComposeMail, RefusesWhatCannotBeAnEmailWithoutNamingTheAddress) {
  policy::Policy policy = ProtectUk();
  for (const char* to : {R"({"kind":"phone","value":"+447700900000"})",
                         R"({"kind":"email","value":"a@example.org>\r\nBcc: b@example.org"})",
                         R"({"kind":"email","value":"no-at-sign"})"}) {
    std::string payload = std::string(R"({"request_id":"r","to":)") + to + R"(,"subject":"s"})";
    auto mail = ComposeMail(policy, DefaultMailTemplates(), {"privacy@protectuk.example", ""},
                            payload, 1, 0, "n");
    ASSERT_FALSE(mail.ok()) << to;
    EXPECT_EQ(mail.status().message().find("example.org"), std::string::npos);
    EXPECT_EQ(mail.status().message().find("+44"), std::string::npos);
  }
}

TEST(MailTemplates, OverridesAreCheckedAtTheirLine) {
  auto dir = std::filesystem::temp_directory_path() / "custos-mail-templates-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "message.html") << "<p>{{body}}</p>\n<p>{{organisation}</p>\n";
  auto bad = LoadMailTemplates(dir.string());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("message.html:2:"), std::string::npos)
      << bad.status().message();
  std::ofstream(dir / "message.html") << "<p>{{body}} from {{organisation}}</p>\n";
  auto good = LoadMailTemplates(dir.string());
  ASSERT_TRUE(good.ok()) << good.status().message();
  EXPECT_EQ(good->html, "<p>{{body}} from {{organisation}}</p>\n");
  EXPECT_EQ(good->text, DefaultMailTemplates().text);
  std::filesystem::remove_all(dir);
  EXPECT_FALSE(LoadMailTemplates(dir.string()).ok());
}

}  // namespace
}  // namespace custos::delivery
