#include "policy/taxonomy.h"

#include <array>

#include "policy/policy.h"

namespace custos::policy {

namespace {

enum class Kind { kCategory, kSubject, kUse };

struct Row {
  Kind kind;
  TaxonomyEntry entry;
};

constexpr std::array kRows = {
#define FIDESLANG(kind, key, parent, name) Row{Kind::kind, TaxonomyEntry{key, parent, name}},
#include "policy/fideslang_taxonomy.inc"
#undef FIDESLANG
};

const TaxonomyEntry* Find(Kind kind, std::string_view key) {
  for (const auto& row : kRows) {
    if (row.kind == kind && row.entry.key == key) return &row.entry;
  }
  return nullptr;
}

}  // namespace

const TaxonomyEntry* FindFideslangCategory(std::string_view key) {
  return Find(Kind::kCategory, key);
}
const TaxonomyEntry* FindFideslangSubject(std::string_view key) {
  return Find(Kind::kSubject, key);
}
const TaxonomyEntry* FindFideslangUse(std::string_view key) { return Find(Kind::kUse, key); }

bool IsInherentlySpecial(std::string_view key) {
  static constexpr std::array<std::string_view, 9> kSpecialRoots = {
      "user.health_and_medical",
      "user.biometric",
      "user.authorization.biometric",
      "user.demographic.race_ethnicity",
      "user.demographic.religious_belief",
      "user.demographic.political_opinion",
      "user.demographic.sexual_orientation",
      "user.criminal_history",
      "user.biometric.health"};
  for (auto root : kSpecialRoots) {
    if (CategoryCovers(root, key)) return true;
  }
  return false;
}

}  // namespace custos::policy
