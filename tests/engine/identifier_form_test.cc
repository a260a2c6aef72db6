// Identifier forms: what the engine accepts as an email address or a phone number, before it is
// sealed, indexed or looked up (engine/identifier_form.h).
#include "engine/identifier_form.h"

#include <gtest/gtest.h>

namespace custos::engine {
namespace {

TEST(IdentifierForm, PlausibleEmailsAreAccepted) {
  for (const char* email :
       {"someone@example.org", "  Someone.Else+tag@Mail.Example.CO.UK ", "a_b-c@x-y.example",
        "o'brien@example.ie", "dpo@xn--bcher-kva.example", "名前@例え.jp"}) {
    EXPECT_TRUE(IsPlausibleEmail(email)) << email;
  }
}

TEST(IdentifierForm, ImplausibleEmailsAreRefused) {
  for (const char* email :
       {"", "someone", "someone@", "@example.org", "some one@example.org", "a@@example.org",
        "a@b@example.org", "someone@localhost", "someone@example.c", "someone@example..org",
        "someone@-example.org", "someone@example-.org", ".someone@example.org",
        "some..one@example.org", "someone.@example.org", "<someone@example.org>",
        "someone@example.org, other@example.org", "someone@exa mple.org", "some\"one@x.org"}) {
    EXPECT_FALSE(IsPlausibleEmail(email)) << email;
  }
  EXPECT_FALSE(IsPlausibleEmail(std::string(65, 'a') + "@example.org"));  // local part > 64
  EXPECT_FALSE(IsPlausibleEmail("a@" + std::string(64, 'b') + ".org"));   // label > 63
}

TEST(IdentifierForm, PhonesInE164OrUkNationalFormAreAccepted) {
  // E.164 (ITU-T): '+', country code, at most 15 digits. UK national numbers are written with a
  // leading 0 and become +44 (crypto::NormalizeIdentifier).
  for (const char* phone : {"+447700900123", "+44 7700 900123", "+44 (0)7700-900123",
                            "07700 900123", "0044 7700 900123", "+1 (202) 555-0143",
                            "+353 1 234 5678", "0303 123 1113"}) {
    EXPECT_TRUE(IsE164Phone(phone)) << phone;
  }
}

TEST(IdentifierForm, PhonesNotInE164FormAreRefused) {
  for (const char* phone :
       {"", "+", "12", "555-0143", "+44 77", "+0447700900123", "+4477009001234567",
        "call 07700 900123", "07700 900123 ext 5", "+44 7700+900123", "07700/900123",
        "someone@example.org"}) {
    EXPECT_FALSE(IsE164Phone(phone)) << phone;
  }
}

TEST(IdentifierForm, ProblemsNameTheKindNeverTheValue) {
  EXPECT_TRUE(CheckIdentifierForm("email", "someone@example.org").ok());
  EXPECT_TRUE(CheckIdentifierForm("phone", "+447700900123").ok());
  EXPECT_TRUE(CheckIdentifierForm("external", "crm-42").ok());
  Status email = CheckIdentifierForm("email", "secret-person.example.org");
  EXPECT_EQ(email.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(email.message().find("the email is not a plausible email address"),
            std::string::npos);
  EXPECT_EQ(email.message().find("secret-person"), std::string::npos);
  Status phone = CheckIdentifierForm("phone", "07700 9");
  EXPECT_EQ(phone.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(phone.message().find("the phone is not a phone number in international (E.164) form"),
            std::string::npos);
  EXPECT_EQ(phone.message().find("07700"), std::string::npos);
  EXPECT_EQ(CheckIdentifierForm("external", "  ").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CheckIdentifierForm("fax", "+447700900123").code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace custos::engine
