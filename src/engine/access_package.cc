// The model every access-package format is rendered from (access_package.h): what the person
// holds and what the policy says about it (internal::Facts: categories held, the purposes that
// use them, recipients, retention, sources, automated decisions), computed once per package; the
// names every format gives policy keys; and BuildAccessPackage, which renders the facts as JSON
// (access_package_json.cc) and HTML (access_package_html.cc).
#include "engine/access_package.h"

#include <algorithm>
#include <string_view>

#include "engine/access_package_internal.h"
#include "engine/retention.h"
#include "policy/taxonomy.h"

namespace custos::engine {

namespace internal {

using policy::Policy;
using store::RecordState;

bool Held(RecordState state) {
  return state == RecordState::kActive || state == RecordState::kRestricted;
}

std::string_view RecordStateKey(RecordState state) {
  switch (state) {
    case RecordState::kActive: return "active";
    case RecordState::kRestricted: return "restricted";
    case RecordState::kAnonymised: return "anonymised";
    case RecordState::kErased: return "erased";
  }
  return "";
}

void AddUnique(std::vector<std::string>& items, std::string_view item) {
  if (std::find(items.begin(), items.end(), item) == items.end()) items.emplace_back(item);
}

bool IsSpecial(const Policy& policy, std::string_view key) {
  const policy::Category* category = policy.FindCategory(key);
  return (category != nullptr && category->special) || policy::IsInherentlySpecial(key);
}

std::string PurposeName(const Policy& policy, std::string_view key) {
  if (key == "*") return "All processing based on legitimate interests";
  if (key == "direct_marketing") return "Direct marketing";
  const policy::Purpose* purpose = policy.FindPurpose(key);
  return purpose != nullptr && !purpose->name.empty() ? purpose->name : std::string(key);
}

std::string SourceName(const Policy& policy, std::string_view key) {
  const policy::Source* source = policy.FindSource(key);
  return source != nullptr && !source->name.empty() ? source->name : std::string(key);
}

std::string EventName(const Policy& policy, std::string_view key) {
  const policy::Event* event = policy.FindEvent(key);
  return event != nullptr && !event->name.empty() ? event->name : std::string(key);
}

std::string ConsentTargetName(const Policy& policy, const store::ConsentEventRow& event) {
  if (event.target_kind == store::ConsentTarget::kPurpose) return PurposeName(policy, event.target);
  for (const auto& cookie : policy.cookies) {
    if (cookie.key == event.target && !cookie.name.empty()) return cookie.name;
  }
  return event.target;
}

const policy::Contact* RightsContact(const Policy& policy) {
  if (policy.rights.contact) {
    if (const policy::Contact* contact = policy.FindContact(policy.rights.contact->key)) {
      return contact;
    }
  }
  if (const policy::Contact* contact = policy.FindContactFor("rights_requests")) return contact;
  return policy.FindContactFor("general");
}

}  // namespace internal

namespace {

using internal::AddUnique;
using internal::Facts;
using internal::Held;
using internal::PurposeUse;
using internal::RecipientUse;
using internal::RetentionUse;
using internal::SourceUse;
using policy::CategoryCovers;
using policy::Policy;
using policy::Ref;

bool Overlaps(std::string_view a, std::string_view b) {
  return CategoryCovers(a, b) || CategoryCovers(b, a);
}

bool Contains(const std::vector<std::string>& items, std::string_view item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

bool ContainsKey(const std::vector<Ref>& refs, std::string_view key) {
  return std::any_of(refs.begin(), refs.end(), [key](const Ref& ref) { return ref.key == key; });
}

// An empty list of subject types means every type.
bool AnyTypeIn(const std::vector<std::string>& types, const std::vector<Ref>& subjects) {
  if (subjects.empty()) return true;
  return std::any_of(types.begin(), types.end(),
                     [&subjects](const std::string& type) { return ContainsKey(subjects, type); });
}

// True when the latest ledger event for purpose `key` gives consent.
bool ConsentInForce(const std::vector<store::ConsentEventRow>& ledger, std::string_view key) {
  const store::ConsentEventRow* latest = nullptr;
  for (const auto& event : ledger) {
    if (event.target_kind != store::ConsentTarget::kPurpose || event.target != key) continue;
    if (latest == nullptr || event.at > latest->at ||
        (event.at == latest->at && event.seq > latest->seq)) {
      latest = &event;
    }
  }
  return latest != nullptr && latest->action == store::ConsentAction::kGiven;
}

void AddRule(Facts& facts, std::string_view category, const policy::RetentionRule& rule) {
  for (auto& use : facts.retention) {
    if (use.category != category) continue;
    if (std::find(use.rules.begin(), use.rules.end(), &rule) == use.rules.end()) {
      use.rules.push_back(&rule);
    }
    return;
  }
}

bool OutsideRegions(const Policy& policy, std::string_view country) {
  return std::none_of(
      policy.transfers.regions.begin(), policy.transfers.regions.end(),
      [country](const Ref& region) { return policy::RegionIncludes(region.key, country); });
}

Facts DeriveFacts(const Policy& policy, const std::vector<SubjectView>& subjects,
                  const std::vector<SystemRows>& systems) {
  Facts facts;
  facts.systems = &systems;
  // What the organisation's systems hold of the person counts as held under every view.
  std::vector<std::string> in_systems;
  for (const auto& system : systems) {
    for (const auto& dataset : system.datasets) {
      for (const auto& row : dataset.rows) {
        for (const auto& field : row.fields) {
          if (!field.category.empty() && field.value) AddUnique(in_systems, field.category);
        }
      }
    }
  }
  std::vector<std::vector<std::string>> purpose_categories(policy.purposes.size());
  std::vector<bool> purpose_used(policy.purposes.size(), false);

  for (const SubjectView& view : subjects) {
    const std::vector<std::string>& types = view.subject.types;
    std::vector<std::string> held;
    std::vector<std::string> collected_for;
    for (const auto& identifier : view.identifiers) {
      std::string category = IdentifierCategory(identifier.kind);
      AddUnique(held, category);
      AddUnique(facts.categories, category);
    }
    for (const auto& record : view.records) {
      if (!Held(record.state)) continue;
      AddUnique(held, record.category);
      AddUnique(facts.categories, record.category);
      AddUnique(collected_for, record.purpose);
    }
    for (const auto& category : in_systems) {
      AddUnique(held, category);
      AddUnique(facts.categories, category);
    }
    for (const auto& category : held) {
      if (std::none_of(facts.retention.begin(), facts.retention.end(),
                       [&](const RetentionUse& use) { return use.category == category; })) {
        facts.retention.push_back({category, {}});
      }
    }

    for (size_t i = 0; i < policy.purposes.size(); ++i) {
      const policy::Purpose& purpose = policy.purposes[i];
      bool collected =
          std::find(collected_for.begin(), collected_for.end(), purpose.key) != collected_for.end();
      // Processing on consent happens only with it: such a purpose uses this person's data
      // when their records were collected for it or their consent to it is in force.
      if (!collected && purpose.basis == policy::LawfulBasis::kConsent &&
          !ConsentInForce(view.consents, purpose.key)) {
        continue;
      }
      if (!collected && !AnyTypeIn(types, purpose.subjects)) continue;
      for (const auto& category : held) {
        bool uses = std::any_of(purpose.categories.begin(), purpose.categories.end(),
                                [&](const Ref& ref) { return Overlaps(ref.key, category); });
        if (uses) {
          purpose_used[i] = true;
          AddUnique(purpose_categories[i], category);
        }
      }
      if (collected) purpose_used[i] = true;
    }

    // The rules that apply to each item, as the retention planner (retention.h) applies them:
    // identifiers are tied to no purpose.
    for (const auto& rule : policy.retention) {
      if (!AnyTypeIn(types, rule.subjects)) continue;
      auto covers = [&rule](std::string_view category) {
        return std::any_of(
            rule.categories.begin(), rule.categories.end(),
            [category](const Ref& ref) { return CategoryCovers(ref.key, category); });
      };
      for (const auto& identifier : view.identifiers) {
        std::string category = IdentifierCategory(identifier.kind);
        if (covers(category)) AddRule(facts, category, rule);
      }
      for (const auto& record : view.records) {
        if (!Held(record.state) || !covers(record.category)) continue;
        if (!rule.purposes.empty() && !ContainsKey(rule.purposes, record.purpose)) continue;
        AddRule(facts, record.category, rule);
      }
    }

    for (const auto& record : view.records) {
      if (!Held(record.state)) continue;
      const policy::Source* source = policy.FindSource(record.source);
      if (source != nullptr && source->kind == policy::SourceKind::kDirect) continue;
      auto it = std::find_if(facts.sources.begin(), facts.sources.end(),
                             [&](const SourceUse& use) { return use.key == record.source; });
      if (it == facts.sources.end()) {
        facts.sources.push_back({record.source, source, {}});
        it = facts.sources.end() - 1;
      }
      AddUnique(it->categories, record.category);
    }
  }

  for (size_t i = 0; i < policy.purposes.size(); ++i) {
    if (!purpose_used[i]) continue;
    const policy::Purpose& purpose = policy.purposes[i];
    facts.purposes.push_back({&purpose, purpose_categories[i]});
    if (purpose.profiling || purpose.automated_decision.present) {
      facts.automated.push_back(&purpose);
    }
  }

  // Recipients of those purposes, then (transitively) their sub-processors, who receive the
  // data too; each with the purposes it receives data for.
  std::vector<std::vector<std::string>> recipient_purposes(policy.recipients.size());
  std::vector<bool> receives(policy.recipients.size(), false);
  for (const PurposeUse& use : facts.purposes) {
    for (size_t r = 0; r < policy.recipients.size(); ++r) {
      if (ContainsKey(use.purpose->recipients, policy.recipients[r].key)) {
        receives[r] = true;
        AddUnique(recipient_purposes[r], use.purpose->key);
      }
    }
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < policy.recipients.size(); ++r) {
      const auto& of = policy.recipients[r].processor_of;
      if (!of) continue;
      for (size_t parent = 0; parent < policy.recipients.size(); ++parent) {
        if (!receives[parent] || policy.recipients[parent].key != of->key) continue;
        for (const auto& key : recipient_purposes[parent]) {
          if (std::find(recipient_purposes[r].begin(), recipient_purposes[r].end(), key) ==
              recipient_purposes[r].end()) {
            recipient_purposes[r].push_back(key);
            changed = true;
          }
        }
        if (!receives[r]) changed = true;
        receives[r] = true;
      }
    }
  }
  for (size_t r = 0; r < policy.recipients.size(); ++r) {
    if (!receives[r]) continue;
    const policy::Recipient& recipient = policy.recipients[r];
    // A recipient that sees only some categories receives nothing of this person unless the
    // purposes it serves use one of them.
    if (!recipient.categories.empty()) {
      bool sees = false;
      for (const PurposeUse& use : facts.purposes) {
        if (!Contains(recipient_purposes[r], use.purpose->key)) continue;
        for (const auto& held : use.categories) {
          sees = sees || std::any_of(recipient.categories.begin(), recipient.categories.end(),
                                     [&held](const Ref& ref) { return Overlaps(ref.key, held); });
        }
      }
      if (!sees) continue;
    }
    RecipientUse use;
    use.recipient = &recipient;
    use.purposes = recipient_purposes[r];
    for (const auto& country : recipient.countries) {
      if (OutsideRegions(policy, country.key)) AddUnique(use.outside, country.key);
    }
    facts.recipients.push_back(std::move(use));
  }
  return facts;
}

}  // namespace

AccessPackage BuildAccessPackage(const policy::Policy& policy, const PackageMeta& meta,
                                 const std::vector<SubjectView>& subjects,
                                 const std::vector<SystemRows>& systems) {
  Facts facts = DeriveFacts(policy, subjects, systems);
  return AccessPackage{internal::AccessJson(policy, meta, subjects, facts),
                       internal::AccessHtml(policy, meta, subjects, facts)};
}

}  // namespace custos::engine
