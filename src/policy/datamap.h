// The data map: where personal data comes from, what it is, why it is used, who receives it and
// in which countries, as a Graphviz DOT graph generated only from a Policy.
//
// Five columns, left to right: sources -> data categories -> purposes -> recipients ->
// countries. Each column is a cluster whose nodes share a rank. Special category (Article 9/10)
// data is highlighted with its condition; purposes show their lawful basis; countries outside
// the policy's transfer regions are highlighted and their edges carry the safeguard.
// Node ids are stable ("source:direct", "category:user.contact.email", "purpose:newsletter",
// "recipient:mailer", "country:US") so tools and tests can find them.
// To draw it as SVG, see datamap_svg.h.
//
// All functions are pure (no I/O) and reentrant. Thread-safety: safe to call concurrently.
#ifndef CUSTOS_POLICY_DATAMAP_H_
#define CUSTOS_POLICY_DATAMAP_H_

#include <string>
#include <string_view>

#include "policy/policy.h"

namespace custos::policy {

// Returns the data map of `policy` as a DOT digraph. Every policy string is escaped, so the
// output always parses. REQUIRES: `policy` is valid. PII: none.
std::string RenderDataMapDot(const Policy& policy);

// Escapes text for the inside of a DOT double-quoted string: backslash and double quote are
// escaped, line breaks become spaces and other control characters are dropped.
std::string EscapeDot(std::string_view text);

}  // namespace custos::policy

#endif  // CUSTOS_POLICY_DATAMAP_H_
