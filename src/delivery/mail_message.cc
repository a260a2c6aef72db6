#include "delivery/mail_message.h"

#include <rapidjson/document.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "policy/notice.h"

namespace custos::delivery {

namespace {

constexpr const char* kPlaceholders[] = {"subject", "body", "request_id", "organisation",
                                         "contact", "dpo",  "regulator",  "notice_link"};

std::string Base64(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

// A body part in base64, lines of 76 characters.
std::string Base64Lines(std::string_view bytes) {
  std::string encoded = Base64(bytes), out;
  for (size_t i = 0; i < encoded.size(); i += 76) out += encoded.substr(i, 76) + "\r\n";
  return out;
}

// Text lines end in CRLF on the wire, whatever the template file used.
std::string Crlf(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') continue;
    if (text[i] == '\n') out += '\r';
    out += text[i];
  }
  return out;
}

std::string NoticeLink(const policy::Policy& p) {
  std::string link = !p.notice.url.empty() ? p.notice.url : p.controller.website;
  if (!link.empty() && link.find("://") == std::string::npos) link = "https://" + link;
  return link;
}

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (const auto& part : parts) {
    if (part.empty()) continue;
    if (!out.empty()) out += sep;
    out += part;
  }
  return out;
}

std::string Value(const std::string& name, const policy::Policy& p, const std::string& subject,
                  const std::string& body, const std::string& request_id) {
  if (name == "subject") return subject;
  if (name == "body") return body;
  if (name == "request_id") return request_id;
  if (name == "organisation") return p.controller.name;
  if (name == "contact") {
    std::string contact = Join(
        {p.controller.address, p.controller.email.empty() ? "" : "e-mail " + p.controller.email,
         p.controller.phone.empty() ? "" : "telephone " + p.controller.phone},
        "; ");
    return contact.empty() ? NoticeLink(p) : contact;  // a policy with only a website
  }
  if (name == "dpo") {
    if (!p.dpo.present && p.dpo.email.empty()) return "write to us at the contact details above";
    return Join({p.dpo.name, p.dpo.email, p.dpo.phone, p.dpo.address}, ", ");
  }
  if (name == "regulator") return Join({p.regulator.name, p.regulator.website}, ", ");
  if (name == "notice_link") return NoticeLink(p);
  return "";
}

bool KnownPlaceholder(const std::string& name) {
  for (const char* known : kPlaceholders) {
    if (name == known) return true;
  }
  return false;
}

Status CheckTemplate(const std::string& text, const std::string& file) {
  int line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') ++line;
    if (text.compare(i, 2, "{{") != 0) continue;
    size_t end = text.find("}}", i + 2);
    size_t newline = text.find('\n', i);
    if (end == std::string::npos || (newline != std::string::npos && newline < end)) {
      return Status(ErrorCode::kInvalidArgument,
                    file + ":" + std::to_string(line) + ": '{{' without its '}}' on the same line");
    }
    std::string name = text.substr(i + 2, end - i - 2);
    if (!KnownPlaceholder(name)) {
      return Status(ErrorCode::kInvalidArgument,
                    file + ":" + std::to_string(line) + ": unknown placeholder {{" + name +
                        "}}; known: subject, body, request_id, organisation, contact, dpo, "
                        "regulator, notice_link");
    }
    i = end + 1;
  }
  return Status::Ok();
}

bool IsPrintableAscii(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// An address we put in a header and in RCPT TO: one '@', no spaces, controls or brackets.
bool IsMailAddress(const std::string& s) {
  if (s.empty() || s.size() > 254) return false;
  size_t at = s.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= s.size() || s.find('@', at + 1) != s.npos) {
    return false;
  }
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '(' || c == ')' || c == ',' ||
        c == ';' || c == ':' || c == '"' || c == '\\' || c == '[' || c == ']') {
      return false;
    }
  }
  return true;
}

std::string Str(const rapidjson::Value& object, const char* key) {
  auto it = object.FindMember(key);
  return it != object.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

}  // namespace

MailTemplates DefaultMailTemplates() {
  MailTemplates t;
  t.text =
      "{{body}}\n"
      "\n"
      "Our reference: {{request_id}}\n"
      "\n"
      "-- \n"
      "{{organisation}}\n"
      "Contact us: {{contact}}\n"
      "Data protection officer: {{dpo}}\n"
      "How we use your personal data: {{notice_link}}\n"
      "If you are unhappy with how we have used your data you can complain to the regulator: "
      "{{regulator}}\n";
  t.html =
      "<!DOCTYPE html>\n"
      "<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{{subject}}</title></head>\n"
      "<body>\n"
      "<p>{{body}}</p>\n"
      "<p>Our reference: {{request_id}}</p>\n"
      "<hr>\n"
      "<p>{{organisation}}<br>\n"
      "Contact us: {{contact}}<br>\n"
      "Data protection officer: {{dpo}}<br>\n"
      "How we use your personal data: <a href=\"{{notice_link}}\">{{notice_link}}</a><br>\n"
      "If you are unhappy with how we have used your data you can complain to the regulator: "
      "{{regulator}}</p>\n"
      "</body></html>\n";
  return t;
}

Result<MailTemplates> LoadMailTemplates(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status(ErrorCode::kNotFound, "mail template directory " + dir + " does not exist");
  }
  MailTemplates t = DefaultMailTemplates();
  bool any = false;
  for (auto [name, slot] : {std::pair<const char*, std::string*>{"message.txt", &t.text},
                            std::pair<const char*, std::string*>{"message.html", &t.html}}) {
    fs::path path = fs::path(dir) / name;
    if (!fs::exists(path, ec)) continue;
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status(ErrorCode::kIo, "cannot read " + path.string());
    std::stringstream text;
    text << in.rdbuf();
    RETURN_IF_ERROR(CheckTemplate(text.str(), path.string()));
    *slot = text.str();
    any = true;
  }
  if (!any) {
    return Status(ErrorCode::kNotFound,
                  "mail template directory " + dir + " has neither message.txt nor message.html");
  }
  return t;
}

std::string FillTemplate(const std::string& text, const policy::Policy& policy,
                         const std::string& subject, const std::string& body,
                         const std::string& request_id, bool html) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("{{", i);
    size_t close = open == std::string::npos ? open : text.find("}}", open + 2);
    if (close == std::string::npos) {
      out += text.substr(i);
      break;
    }
    out += text.substr(i, open - i);
    std::string value =
        Value(text.substr(open + 2, close - open - 2), policy, subject, body, request_id);
    out += html ? policy::EscapeHtml(value) : value;
    i = close + 2;
  }
  return out;
}

std::string EncodeHeaderValue(const std::string& value) {
  if (IsPrintableAscii(value)) return value;
  // Encoded words of at most 75 characters: 45 bytes of UTF-8 each, never splitting a
  // character; controls become spaces so nothing can end the header early.
  std::string clean;
  for (unsigned char c : value) clean += (c < 0x20 || c == 0x7f) ? ' ' : static_cast<char>(c);
  std::vector<std::string> words;
  size_t i = 0;
  while (i < clean.size()) {
    size_t end = std::min(clean.size(), i + 45);
    while (end < clean.size() && end > i + 1 &&
           (static_cast<unsigned char>(clean[end]) & 0xC0) == 0x80) {
      --end;
    }
    words.push_back("=?UTF-8?B?" + Base64(std::string_view(clean).substr(i, end - i)) + "?=");
    i = end;
  }
  return Join(words, "\r\n ");
}

std::string MailDate(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buffer;
}

Result<ComposedMail> ComposeMail(const policy::Policy& policy, const MailTemplates& templates,
                                 const MailSettings& settings, const std::string& payload,
                                 int64_t outbox_id, int64_t unix_seconds,
                                 const std::string& nonce) {
  rapidjson::Document doc;
  doc.Parse(payload.c_str(), payload.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("to") || !doc["to"].IsObject()) {
    return Status(ErrorCode::kInvalidArgument, "not a message to a person");
  }
  if (Str(doc["to"], "kind") != "email") {
    return Status(ErrorCode::kInvalidArgument, "the person gave no e-mail address");
  }
  ComposedMail mail;
  mail.recipient = Str(doc["to"], "value");
  if (!IsMailAddress(mail.recipient)) {
    return Status(ErrorCode::kInvalidArgument, "the person's e-mail address is not one");
  }
  if (!IsMailAddress(settings.from)) {
    return Status(ErrorCode::kInvalidArgument, "the configured sender is not an e-mail address");
  }
  const std::string subject = Str(doc, "subject"), body = Str(doc, "body"),
                    request_id = Str(doc, "request_id"),
                    unsubscribe_token = Str(doc, "unsubscribe_token");
  const bool marketing =
      doc.HasMember("marketing") && doc["marketing"].IsBool() && doc["marketing"].GetBool();
  const std::string domain = settings.from.substr(settings.from.find('@') + 1);
  const std::string boundary = "=_custos_" + nonce;

  std::string h;
  auto header = [&h](const std::string& name, const std::string& value) {
    h += name + ": " + value + "\r\n";
  };
  std::string display = policy.controller.name;
  if (IsPrintableAscii(display)) {
    std::string quoted;
    for (char c : display) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    display = "\"" + quoted + "\"";
  } else {
    display = EncodeHeaderValue(display);
  }
  header("From", display + " <" + settings.from + ">");
  header("To", "<" + mail.recipient + ">");
  header("Subject", EncodeHeaderValue(subject));
  header("Date", MailDate(unix_seconds));
  header("Message-ID", "<custos." + std::to_string(outbox_id) + "." + nonce + "@" + domain + ">");
  header("MIME-Version", "1.0");
  header("Auto-Submitted", "auto-generated");
  if (marketing) {
    // One click (RFC 8058) needs an https URL that takes the POST; the mailto is the fallback.
    std::vector<std::string> targets;
    // The signed token (engine/my_preferences.cc) is hex, letters, digits, '_', '-' and '.'.
    const bool one_click =
        settings.unsubscribe_url.rfind("https://", 0) == 0 && !unsubscribe_token.empty() &&
        std::all_of(unsubscribe_token.begin(), unsubscribe_token.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
        });
    if (one_click) {
      std::string url = settings.unsubscribe_url;
      url += (url.find('?') == std::string::npos ? "?" : "&") + std::string("token=") +
             unsubscribe_token;
      targets.push_back("<" + url + ">");
    }
    const std::string& contact =
        !policy.dpo.email.empty() ? policy.dpo.email : policy.controller.email;
    if (IsMailAddress(contact)) targets.push_back("<mailto:" + contact + "?subject=unsubscribe>");
    if (!targets.empty()) header("List-Unsubscribe", Join(targets, ", "));
    if (one_click) {
      header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
    }
  }
  header("Content-Type", "multipart/alternative; boundary=\"" + boundary + "\"");

  std::string m = h + "\r\n";
  m += "This is a message in MIME format.\r\n\r\n";
  for (bool html : {false, true}) {
    m += "--" + boundary + "\r\n";
    m +=
        std::string("Content-Type: ") + (html ? "text/html" : "text/plain") + "; charset=UTF-8\r\n";
    m += "Content-Transfer-Encoding: base64\r\n\r\n";
    m += Base64Lines(Crlf(FillTemplate(html ? templates.html : templates.text, policy, subject,
                                       body, request_id, html)));
  }
  m += "--" + boundary + "--\r\n";
  mail.message = std::move(m);
  return mail;
}

}  // namespace custos::delivery
