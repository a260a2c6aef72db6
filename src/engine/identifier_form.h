// Identifier forms: whether an email address or a phone number is plausible before it is
// sealed, indexed or looked up. The one check both adapters reach through the engine (subjects,
// identifiers, look-ups, suppressions, rights requests), so the HTTP API and the CLI refuse the
// same values with the same words.
//
//   email  after trimming ASCII whitespace: one '@'; a local part of 1-64 visible characters
//          without spaces, quotes, brackets, commas, semicolons or colons, not starting or
//          ending with '.' and without ".."; a domain of at most 253 characters, two or more
//          labels of letters, digits, '-' (or UTF-8 bytes, for internationalised names), each
//          1-63 long and not starting or ending with '-', the last at least 2 long; 254 at most
//          in all.
//   phone  written with digits, spaces and "+-().", '+' only first; its canonical form
//          (crypto::NormalizeIdentifier: UK national numbers become +44...) is E.164: '+', a
//          country code not starting with 0, 8 to 15 digits in all (+447700900123).
//   external  any non-blank text (an id from another system).
//
// Errors name the kind, never the value (which is personal data).
// Thread-safety: pure functions.
#ifndef CUSTOS_ENGINE_IDENTIFIER_FORM_H_
#define CUSTOS_ENGINE_IDENTIFIER_FORM_H_

#include <string_view>

#include "common/status.h"

namespace custos::engine {

bool IsPlausibleEmail(std::string_view value);
bool IsE164Phone(std::string_view value);

// OK when `kind` is email, phone or external and `value` has that kind's form. Errors:
// INVALID_ARGUMENT, saying which kind and what form it wants.
Status CheckIdentifierForm(std::string_view kind, std::string_view value);

}  // namespace custos::engine

#endif  // CUSTOS_ENGINE_IDENTIFIER_FORM_H_
