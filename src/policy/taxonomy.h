// The fideslang default taxonomy (keys, parents, names; CC BY 4.0, see docs/THIRD_PARTY.md)
// compiled into custos, so policies can use the field's common vocabulary offline.
// Thread-safety: immutable tables.
#ifndef CUSTOS_POLICY_TAXONOMY_H_
#define CUSTOS_POLICY_TAXONOMY_H_

#include <string_view>

namespace custos::policy {

struct TaxonomyEntry {
  std::string_view key;
  std::string_view parent;  // empty for a root
  std::string_view name;
};

// nullptr when the key is not in fideslang's default taxonomy.
const TaxonomyEntry* FindFideslangCategory(std::string_view key);
const TaxonomyEntry* FindFideslangSubject(std::string_view key);
const TaxonomyEntry* FindFideslangUse(std::string_view key);

// True for fideslang categories that are Article 9 special category data (health, biometric,
// genetic, race/ethnicity, religion, political opinion, sexual orientation) or Article 10
// criminal-offence data; such categories always need a condition.
bool IsInherentlySpecial(std::string_view category_key);

}  // namespace custos::policy

#endif  // CUSTOS_POLICY_TAXONOMY_H_
