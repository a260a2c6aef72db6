#include "engine/identifier_form.h"

#include <string>

#include "crypto/blind_index.h"

namespace custos::engine {

namespace {

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsLocalPartChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x80) return true;  // UTF-8 (RFC 6531)
  if (u <= 0x20 || u == 0x7f) return false;
  for (char bad : std::string_view("\"(),:;<>@[\\]")) {
    if (c == bad) return false;
  }
  return true;
}

bool IsDomainLabel(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    const auto u = static_cast<unsigned char>(c);
    if (!(u >= 0x80 || IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          c == '-')) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool IsPlausibleEmail(std::string_view value) {
  value = Trim(value);
  if (value.size() > 254) return false;
  const size_t at = value.find('@');
  if (at == std::string_view::npos || value.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  std::string_view local = value.substr(0, at), domain = value.substr(at + 1);
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.' ||
      local.find("..") != std::string_view::npos) {
    return false;
  }
  for (char c : local) {
    if (!IsLocalPartChar(c)) return false;
  }
  if (domain.size() > 253) return false;
  size_t labels = 0;
  std::string_view last;
  while (true) {
    const size_t dot = domain.find('.');
    last = domain.substr(0, dot);
    if (!IsDomainLabel(last)) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    domain.remove_prefix(dot + 1);
  }
  return labels >= 2 && last.size() >= 2;
}

bool IsE164Phone(std::string_view value) {
  value = Trim(value);
  bool digit_seen = false;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (IsDigit(c)) {
      digit_seen = true;
    } else if (c == '+') {
      if (i != 0) return false;
    } else if (c != ' ' && c != '-' && c != '(' && c != ')' && c != '.') {
      return false;
    }
  }
  if (!digit_seen) return false;
  const std::string canonical = crypto::NormalizeIdentifier("phone", value);
  if (canonical.size() < 9 || canonical.size() > 16 || canonical[0] != '+' ||
      canonical[1] == '0') {
    return false;
  }
  for (size_t i = 1; i < canonical.size(); ++i) {
    if (!IsDigit(canonical[i])) return false;
  }
  return true;
}

Status CheckIdentifierForm(std::string_view kind, std::string_view value) {
  auto invalid = [](std::string message) {
    return Status(ErrorCode::kInvalidArgument, std::move(message));
  };
  if (kind == "email") {
    if (Trim(value).empty()) return invalid("the email is empty");
    if (!IsPlausibleEmail(value)) {
      return invalid("the email is not a plausible email address (name@example.org)");
    }
  } else if (kind == "phone") {
    if (Trim(value).empty()) return invalid("the phone is empty");
    if (!IsE164Phone(value)) {
      return invalid(
          "the phone is not a phone number in international (E.164) form, e.g. +447700900123");
    }
  } else if (kind == "external") {
    if (Trim(value).empty()) return invalid("the external identifier is empty");
  } else {
    return invalid("identifier kind '" + std::string(kind) + "' is not email, phone or external");
  }
  return Status::Ok();
}

}  // namespace custos::engine
