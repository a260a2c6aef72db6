// The data map: where personal data comes from, what it is, why it is used, who receives it and
// in which countries, as a Graphviz DOT graph generated only from a Policy.
//
// Five columns, left to right: sources -> data categories (one node per group of categories:
// the organisation's own `group`, else the taxonomy two levels down) -> purposes ->
// recipients -> countries. Each column is a cluster whose nodes share a rank. Special category
// (Article 9/10) data is highlighted with its condition; purposes show their lawful basis;
// countries outside the policy's transfer regions are highlighted and their edges carry the
// safeguard. Node ids are stable ("source:direct", "group:user.contact", "purpose:newsletter",
// "recipient:mailer", "country:US") so tools and tests can find them. When the policy declares
// its own systems (`systems:`), a further column, "Where it is kept", has a node per system
// ("system:crm", naming its tables) joined by dashed lines to the groups of data it holds.
// To draw it as SVG, see datamap_svg.h.
//
// All functions are pure (no I/O) and reentrant. Thread-safety: safe to call concurrently.
#ifndef CUSTOS_POLICY_DATAMAP_H_
#define CUSTOS_POLICY_DATAMAP_H_

#include <string>
#include <string_view>
#include <vector>

#include "policy/policy.h"

namespace custos::policy {

// A view of the map: only the purposes with this key, or only those that process data about
// this subject type (with the sources, data, recipients and countries they use). Empty: all.
struct DataMapView {
  std::string purpose, subject_type;
};

// Returns the data map of `policy` as a DOT digraph. Every policy string is escaped, so the
// output always parses. REQUIRES: `policy` is valid. PII: none.
std::string RenderDataMapDot(const Policy& policy, const DataMapView& view = {});
// The purposes a view keeps; empty when the view names a purpose or subject type the policy
// does not have (or one no purpose concerns).
std::vector<std::string> PurposesInView(const Policy& policy, const DataMapView& view);

// Escapes text for the inside of a DOT double-quoted string: backslash and double quote are
// escaped, line breaks become spaces and other control characters are dropped.
std::string EscapeDot(std::string_view text);

}  // namespace custos::policy

#endif  // CUSTOS_POLICY_DATAMAP_H_
