#include "policy/datamap.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "policy/taxonomy.h"

namespace custos::policy {

namespace {

// Quoted DOT string.
std::string Q(std::string_view text) { return "\"" + EscapeDot(text) + "\""; }

// A label of several lines; each line is escaped, lines are joined by DOT's "\n".
std::string Label(const std::vector<std::string>& lines) {
  std::string out = "\"";
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += "\\n";
    out += EscapeDot(lines[i]);
  }
  return out + "\"";
}

// A label whose lines are left-aligned (DOT's "\l"), for lists.
std::string LeftLabel(const std::vector<std::string>& lines) {
  std::string out = "\"";
  for (const auto& line : lines) out += EscapeDot(line) + "\\l";
  return out + "\"";
}

bool IsSpecial(const Category& category) {
  return category.special || IsInherentlySpecial(category.key);
}

void AddUnique(std::vector<std::string>& items, const std::string& item) {
  if (std::find(items.begin(), items.end(), item) == items.end()) items.push_back(item);
}

void AddEdge(std::vector<std::pair<std::string, std::string>>& edges, std::string from,
             std::string to) {
  std::pair<std::string, std::string> edge{std::move(from), std::move(to)};
  if (std::find(edges.begin(), edges.end(), edge) == edges.end()) edges.push_back(edge);
}

constexpr std::string_view kSpecialStyle =
    "style=\"rounded,filled,bold\", fillcolor=\"#fde2e1\", color=\"#b3261e\", penwidth=2";
constexpr std::string_view kOutsideStyle =
    "style=\"rounded,filled,dashed\", fillcolor=\"#fff1d6\", color=\"#b26a00\"";

class DataMapWriter {
 public:
  DataMapWriter(const Policy& policy, std::string view) : p_(policy), view_(std::move(view)) {}

  std::string Write() {
    out_ += "digraph datamap {\n";
    out_ +=
        "  graph [rankdir=LR, newrank=true, concentrate=true, nodesep=0.25, ranksep=1.2, "
        "fontname=\"Helvetica\", "
        "labelloc=t, fontsize=18, label=" +
        Label(view_.empty()
                  ? std::vector<std::string>{"Data map: " + p_.controller.name,
                                             "notice " + p_.notice.version}
                  : std::vector<std::string>{"Data map: " + p_.controller.name + ", " + view_,
                                             "notice " + p_.notice.version}) +
        "];\n";
    out_ +=
        "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", "
        "fontname=\"Helvetica\", fontsize=11];\n";
    out_ += "  edge [color=\"#6b7280\", arrowsize=0.7];\n";
    Sources();
    Categories();
    Purposes();
    Systems();
    Recipients();
    Countries();
    Edges();
    out_ += "}\n";
    return std::move(out_);
  }

 private:
  void BeginCluster(std::string_view name, std::string_view label, std::string_view colour) {
    out_ += "  subgraph " + Q(std::string("cluster_") + std::string(name)) + " {\n";
    out_ += "    graph [label=" + Q(label) +
            ", rank=same, style=\"rounded,filled\", fillcolor=" + Q(colour) +
            ", color=\"#d0d7de\", fontsize=14];\n";
  }
  void EndCluster() { out_ += "  }\n"; }
  void Node(std::string_view id, const std::string& label, std::string_view style = "") {
    out_ += "    " + Q(id) + " [label=" + label;
    if (!style.empty()) out_ += ", " + std::string(style);
    out_ += "];\n";
  }

  static std::string SourceKindWords(SourceKind kind) {
    switch (kind) {
      case SourceKind::kDirect: return "given by the person";
      case SourceKind::kThirdParty: return "from a third party";
      case SourceKind::kAutomated: return "collected automatically";
      case SourceKind::kPublic: return "publicly available";
    }
    return "";
  }

  // The group a category is drawn in: the organisation's own (`group:` in the policy), else
  // its place in the taxonomy two levels down ("user.contact.email" -> "user.contact"), a
  // custom category by its parent's. Returns {node id, the group's name}.
  std::pair<std::string, std::string> GroupOf(const std::string& key) const {
    const Category* declared = p_.FindCategory(key);
    if (declared != nullptr && !declared->group.empty()) {
      return {"group:" + declared->group, declared->group};
    }
    std::string taxonomy = key;
    if (declared != nullptr && !declared->fideslang && declared->parent) {
      taxonomy = declared->parent->key;
    }
    size_t first = taxonomy.find('.');
    size_t second = first == std::string::npos ? first : taxonomy.find('.', first + 1);
    std::string group = second == std::string::npos ? taxonomy : taxonomy.substr(0, second);
    return {"group:" + group, p_.CategoryName(group)};
  }

  // Categories in the order purposes use them.
  std::vector<std::string> CategoryKeys() const {
    std::vector<std::string> keys;
    for (const auto& purpose : p_.purposes) {
      for (const auto& ref : purpose.categories) AddUnique(keys, ref.key);
    }
    return keys;
  }

  bool OutsideRegions(std::string_view country) const {
    return std::none_of(
        p_.transfers.regions.begin(), p_.transfers.regions.end(),
        [country](const Ref& region) { return RegionIncludes(region.key, country); });
  }

  void Sources() {
    BeginCluster("sources", "Sources", "#f3f6fa");
    for (const auto& source : p_.sources) {
      std::string name = source.name.empty() ? source.key : source.name;
      Node("source:" + source.key, Label({name, "(" + SourceKindWords(source.kind) + ")"}));
    }
    EndCluster();
  }

  // One node per group of categories, listing its categories: the map shows what kind of data
  // goes where without an edge per category.
  void Categories() {
    BeginCluster("categories", "Data categories", "#f3f6fa");
    std::vector<std::string> order;
    std::vector<std::vector<std::string>> lines;
    std::vector<bool> special;
    for (const auto& key : CategoryKeys()) {
      auto [id, name] = GroupOf(key);
      auto at = std::find(order.begin(), order.end(), id);
      size_t index = static_cast<size_t>(at - order.begin());
      if (at == order.end()) {
        order.push_back(id);
        lines.push_back({name});
        special.push_back(false);
      }
      std::string line = p_.CategoryName(key);
      const Category* declared = p_.FindCategory(key);
      if (declared != nullptr && IsSpecial(*declared)) {
        std::string_view letter = Article9Letter(declared->condition);
        bool criminal = CategoryCovers("user.criminal_history", key);
        line += std::string(criminal ? " (criminal offence data" : " (special category") +
                (letter.empty() ? "" : ": " + std::string(letter)) + ")";
        special[index] = true;
      } else if (std::any_of(p_.categories.begin(), p_.categories.end(),
                             [&key](const Category& category) {
                               return IsSpecial(category) && CategoryCovers(key, category.key);
                             })) {
        // A broad key ("user") may cover declared special categories beneath it.
        line += " (includes special category data)";
        special[index] = true;
      }
      if (line != lines[index].front()) lines[index].push_back("- " + line);
    }
    for (size_t i = 0; i < order.size(); ++i) {
      Node(order[i], LeftLabel(lines[i]), special[i] ? kSpecialStyle : "");
    }
    EndCluster();
  }

  void Purposes() {
    BeginCluster("purposes", "Purposes (lawful basis)", "#f3f6fa");
    for (const auto& purpose : p_.purposes) {
      std::string basis = std::string(LawfulBasisName(purpose.basis));
      if (!LawfulBasisArticle(purpose.basis).empty()) {
        basis += " (" + std::string(LawfulBasisArticle(purpose.basis)) + ")";
      }
      std::vector<std::string> lines{purpose.name.empty() ? purpose.key : purpose.name, basis};
      if (purpose.direct_marketing) lines.push_back("direct marketing");
      if (purpose.automated_decision.present) lines.push_back("automated decision");
      Node("purpose:" + purpose.key, Label(lines));
    }
    EndCluster();
  }

  // The groups of data each of the organisation's own systems holds (policy `systems:`), among
  // the groups the map draws: {system key, group ids}.
  std::vector<std::pair<std::string, std::vector<std::string>>> SystemGroups() const {
    std::vector<std::string> drawn;
    for (const auto& key : CategoryKeys()) AddUnique(drawn, GroupOf(key).first);
    std::vector<std::pair<std::string, std::vector<std::string>>> out;
    for (const auto& system : p_.systems) {
      std::vector<std::string> groups;
      for (const auto& dataset : system.datasets) {
        for (const auto& field : dataset.fields) {
          if (field.category.empty()) continue;
          // A column's category, or the drawn categories beneath it.
          for (const auto& key : CategoryKeys()) {
            if (CategoryCovers(field.category, key) || CategoryCovers(key, field.category)) {
              AddUnique(groups, GroupOf(key).first);
            }
          }
        }
      }
      if (!groups.empty()) out.emplace_back(system.key, std::move(groups));
    }
    return out;
  }

  // Where the data is kept: the organisation's own systems, with their tables.
  void Systems() {
    auto holding = SystemGroups();
    if (holding.empty()) return;
    BeginCluster("systems", "Where it is kept", "#f3f6fa");
    for (const auto& [key, groups] : holding) {
      const System& system = *p_.FindSystem(key);
      std::string tables;
      for (const auto& dataset : system.datasets) {
        tables += (tables.empty() ? "" : ", ") + dataset.table;
      }
      Node("system:" + key, Label({system.name.empty() ? key : system.name,
                                   std::string(SystemKindKey(system.kind)) + ": " + tables}));
    }
    EndCluster();
  }

  void Recipients() {
    BeginCluster("recipients", "Recipients", "#f3f6fa");
    for (const auto& recipient : p_.recipients) {
      Node("recipient:" + recipient.key,
           Label({recipient.name.empty() ? recipient.key : recipient.name,
                  std::string(RecipientKindName(recipient.kind))}));
    }
    EndCluster();
  }

  void Countries() {
    std::vector<std::string> codes;
    for (const auto& recipient : p_.recipients) {
      for (const auto& country : recipient.countries) AddUnique(codes, country.key);
    }
    if (codes.empty()) return;
    BeginCluster("countries", "Countries", "#f3f6fa");
    for (const auto& code : codes) {
      if (OutsideRegions(code)) {
        Node("country:" + code, Label({CountryName(code), "outside the transfer regions"}),
             kOutsideStyle);
      } else {
        Node("country:" + code, Label({CountryName(code)}));
      }
    }
    EndCluster();
  }

  void Edges() {
    std::vector<std::pair<std::string, std::string>> edges;
    for (const auto& purpose : p_.purposes) {
      std::vector<std::string> sources;
      if (purpose.sources.empty()) {
        for (const auto& source : p_.sources) sources.push_back(source.key);
      } else {
        for (const auto& ref : purpose.sources) sources.push_back(ref.key);
      }
      for (const auto& source : sources) {
        for (const auto& category : purpose.categories) {
          AddEdge(edges, "source:" + source, GroupOf(category.key).first);
        }
      }
    }
    for (const auto& purpose : p_.purposes) {
      for (const auto& category : purpose.categories) {
        AddEdge(edges, GroupOf(category.key).first, "purpose:" + purpose.key);
      }
    }
    for (const auto& purpose : p_.purposes) {
      for (const auto& recipient : purpose.recipients) {
        AddEdge(edges, "purpose:" + purpose.key, "recipient:" + recipient.key);
      }
    }
    for (const auto& [from, to] : edges) out_ += "  " + Q(from) + " -> " + Q(to) + ";\n";
    for (const auto& [key, groups] : SystemGroups()) {
      for (const auto& group : groups) {
        out_ += "  " + Q(group) + " -> " + Q("system:" + key) +
                " [style=dashed, color=\"#2563eb\", arrowhead=none];\n";
      }
    }

    for (const auto& recipient : p_.recipients) {
      if (recipient.processor_of) {
        // Both ends share a rank; Graphviz 2.42 corrupts memory freeing a labelled flat edge,
        // so this edge has no label (the node itself says "Sub-processor").
        out_ += "  " + Q("recipient:" + recipient.processor_of->key) + " -> " +
                Q("recipient:" + recipient.key) + " [style=dashed, constraint=false];\n";
      }
      std::vector<std::string> seen;
      for (const auto& country : recipient.countries) {
        if (std::find(seen.begin(), seen.end(), country.key) != seen.end()) continue;
        seen.push_back(country.key);
        out_ += "  " + Q("recipient:" + recipient.key) + " -> " + Q("country:" + country.key);
        if (OutsideRegions(country.key)) {
          std::string safeguard =
              recipient.safeguard.empty() ? "no safeguard" : recipient.safeguard;
          out_ += " [label=" + Q(safeguard) + ", color=\"#b26a00\", fontsize=9, style=dashed]";
        }
        out_ += ";\n";
      }
    }
  }

  const Policy& p_;
  std::string view_;
  std::string out_;
};

}  // namespace

std::string EscapeDot(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n' || c == '\r' || c == '\t') {
      out += ' ';
    } else if (u < 0x20 || u == 0x7F) {
      continue;  // control characters have no place in a label
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::string> PurposesInView(const Policy& policy, const DataMapView& view) {
  std::vector<std::string> kept;
  for (const auto& purpose : policy.purposes) {
    if (!view.purpose.empty() && purpose.key != view.purpose) continue;
    if (!view.subject_type.empty()) {
      auto subjects = policy.SubjectsOrAll(purpose.subjects);
      if (std::find(subjects.begin(), subjects.end(), view.subject_type) == subjects.end()) {
        continue;
      }
    }
    kept.push_back(purpose.key);
  }
  return kept;
}

std::string RenderDataMapDot(const Policy& policy, const DataMapView& view) {
  if (view.purpose.empty() && view.subject_type.empty()) return DataMapWriter(policy, "").Write();
  // The view is the map of a smaller policy: the kept purposes, and only the sources and
  // recipients they name (with the processors those recipients use).
  Policy narrowed = policy;
  std::vector<std::string> kept = PurposesInView(policy, view);
  std::erase_if(narrowed.purposes, [&](const Purpose& purpose) {
    return std::find(kept.begin(), kept.end(), purpose.key) == kept.end();
  });
  std::vector<std::string> sources, recipients;
  bool every_source = false;
  for (const auto& purpose : narrowed.purposes) {
    if (purpose.sources.empty()) every_source = true;
    for (const auto& ref : purpose.sources) AddUnique(sources, ref.key);
    for (const auto& ref : purpose.recipients) AddUnique(recipients, ref.key);
  }
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& recipient : policy.recipients) {
      if (recipient.processor_of &&
          std::find(recipients.begin(), recipients.end(), recipient.processor_of->key) !=
              recipients.end() &&
          std::find(recipients.begin(), recipients.end(), recipient.key) == recipients.end()) {
        recipients.push_back(recipient.key);
        grew = true;
      }
    }
  }
  if (!every_source) {
    std::erase_if(narrowed.sources, [&](const Source& source) {
      return std::find(sources.begin(), sources.end(), source.key) == sources.end();
    });
  }
  std::erase_if(narrowed.recipients, [&](const Recipient& recipient) {
    return std::find(recipients.begin(), recipients.end(), recipient.key) == recipients.end();
  });
  const std::string title =
      !view.purpose.empty() ? "purpose: " + view.purpose : "subject type: " + view.subject_type;
  return DataMapWriter(narrowed, title).Write();
}

}  // namespace custos::policy
