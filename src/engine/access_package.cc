#include "engine/access_package.h"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "engine/retention.h"
#include "policy/notice.h"
#include "policy/taxonomy.h"
#include "policy/text_formats.h"

namespace custos::engine {

namespace {

using policy::CategoryCovers;
using policy::Policy;
using policy::Ref;
using store::RecordState;

// ---------------------------------------------------------------------------------------------
// What the person holds and what the policy says about it, computed once for every format.

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

bool Overlaps(std::string_view a, std::string_view b) {
  return CategoryCovers(a, b) || CategoryCovers(b, a);
}

void AddUnique(std::vector<std::string>& items, std::string_view item) {
  if (std::find(items.begin(), items.end(), item) == items.end()) items.emplace_back(item);
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

std::string RecipientName(const Policy& policy, std::string_view key) {
  const policy::Recipient* recipient = policy.FindRecipient(key);
  return recipient != nullptr && !recipient->name.empty() ? recipient->name : std::string(key);
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

// Portability covers data the person provided (a direct source) processed under consent or
// contract (Article 20(1)(a)).
bool Portable(const Policy& policy, const SubjectView::RecordValue& record) {
  if (!Held(record.state)) return false;
  const policy::Source* source = policy.FindSource(record.source);
  const policy::Purpose* purpose = policy.FindPurpose(record.purpose);
  return source != nullptr && source->kind == policy::SourceKind::kDirect && purpose != nullptr &&
         (purpose->basis == policy::LawfulBasis::kConsent ||
          purpose->basis == policy::LawfulBasis::kContract);
}

struct PurposeUse {
  const policy::Purpose* purpose = nullptr;
  std::vector<std::string> categories;  // held keys it uses
};

struct RecipientUse {
  const policy::Recipient* recipient = nullptr;
  std::vector<std::string> purposes;
  std::vector<std::string> outside;  // country codes outside transfers.regions
};

struct RetentionUse {
  std::string category;
  std::vector<const policy::RetentionRule*> rules;
};

struct SourceUse {
  std::string key;
  const policy::Source* source = nullptr;  // nullptr: a key the policy does not declare
  std::vector<std::string> categories;
};

struct Facts {
  std::vector<std::string> categories;  // held, in the order first met
  std::vector<PurposeUse> purposes;     // policy order
  std::vector<RecipientUse> recipients;
  std::vector<RetentionUse> retention;  // one per held category
  std::vector<SourceUse> sources;
  std::vector<const policy::Purpose*> automated;
};

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

Facts DeriveFacts(const Policy& policy, const std::vector<SubjectView>& subjects) {
  Facts facts;
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

// The contact for a person's requests: the one the rights section names, else the first for
// rights requests, else the general one.
const policy::Contact* RightsContact(const Policy& policy) {
  if (policy.rights.contact) {
    if (const policy::Contact* contact = policy.FindContact(policy.rights.contact->key)) {
      return contact;
    }
  }
  if (const policy::Contact* contact = policy.FindContactFor("rights_requests")) return contact;
  return policy.FindContactFor("general");
}

// Consent ledger events of action given, each with the first withdrawal of the same target
// after it.
struct GivenConsent {
  const store::ConsentEventRow* given = nullptr;
  const store::ConsentEventRow* withdrawn = nullptr;
};

std::vector<GivenConsent> GivenConsents(const std::vector<store::ConsentEventRow>& ledger) {
  std::vector<GivenConsent> out;
  for (const auto& event : ledger) {
    if (event.action != store::ConsentAction::kGiven) continue;
    GivenConsent consent{&event, nullptr};
    for (const auto& later : ledger) {
      if (later.action != store::ConsentAction::kWithdrawn || later.target != event.target ||
          later.target_kind != event.target_kind || later.at < event.at) {
        continue;
      }
      if (consent.withdrawn == nullptr || later.at < consent.withdrawn->at) {
        consent.withdrawn = &later;
      }
    }
    out.push_back(consent);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// JSON.

using JsonWriter = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

class Json {
 public:
  Json() : writer_(buffer_) {}

  void Key(std::string_view key) { writer_.Key(key.data(), static_cast<unsigned>(key.size())); }
  void String(std::string_view value) {
    std::string valid = policy::ValidUtf8(value);
    writer_.String(valid.data(), static_cast<unsigned>(valid.size()));
  }
  void Field(std::string_view key, std::string_view value) {
    Key(key);
    String(value);
  }
  // Without it a string literal would pick the bool overload (a standard conversion).
  void Field(std::string_view key, const char* value) { Field(key, std::string_view(value)); }
  void Field(std::string_view key, bool value) {
    Key(key);
    writer_.Bool(value);
  }
  void Field(std::string_view key, int64_t value) {
    Key(key);
    writer_.Int64(value);
  }
  void Time(std::string_view key, Timestamp at) { Field(key, at.ToString()); }
  void Time(std::string_view key, const std::optional<Timestamp>& at) {
    Key(key);
    if (at) {
      String(at->ToString());
    } else {
      writer_.Null();
    }
  }
  void Strings(std::string_view key, const std::vector<std::string>& values) {
    Key(key);
    writer_.StartArray();
    for (const auto& value : values) String(value);
    writer_.EndArray();
  }
  void Null(std::string_view key) {
    Key(key);
    writer_.Null();
  }
  void BeginObject(std::string_view key) {
    Key(key);
    writer_.StartObject();
  }
  void BeginObject() { writer_.StartObject(); }
  void EndObject() { writer_.EndObject(); }
  void BeginArray(std::string_view key) {
    Key(key);
    writer_.StartArray();
  }
  void EndArray() { writer_.EndArray(); }

  std::string Take() { return std::string(buffer_.GetString(), buffer_.GetSize()) + "\n"; }

 private:
  rapidjson::StringBuffer buffer_;
  JsonWriter writer_;
};

void WriteHeader(Json& j, std::string_view format, std::string_view article,
                 const PackageMeta& meta) {
  j.Field("format", format);
  j.Field("article", article);
  j.Field("request_id", meta.request_id);
  j.Time("received_at", meta.received_at);
  j.Time("generated_at", meta.generated_at);
}

void WriteController(Json& j, const Policy& policy) {
  const policy::Controller& c = policy.controller;
  j.BeginObject("controller");
  j.Field("name", c.name);
  j.Field("legal_name", c.legal_name);
  j.Field("company_number", c.company_number);
  j.Field("registration", c.registration);
  j.Field("address", c.address);
  j.Field("email", c.email);
  j.Field("phone", c.phone);
  j.Field("website", c.website);
  j.Field("role", c.role == policy::Role::kProcessor ? "processor" : "controller");
  j.EndObject();
}

void WriteContact(Json& j, std::string_view key, const policy::Contact* contact) {
  if (contact == nullptr) {
    j.Null(key);
    return;
  }
  j.BeginObject(key);
  j.Field("key", contact->key);
  j.Field("purpose", contact->purpose);
  j.Field("name", contact->name);
  j.Field("email", contact->email);
  j.Field("phone", contact->phone);
  j.Field("address", contact->address);
  j.Field("url", contact->url);
  j.EndObject();
}

void WriteSubject(Json& j, const Policy& policy, const SubjectView& view) {
  j.BeginObject();
  j.Field("subject_id", view.subject.subject_id);
  j.Field("state", view.subject.state == store::SubjectState::kErased ? "erased" : "active");
  j.Strings("types", view.subject.types);
  j.Time("created_at", view.subject.created_at);

  j.BeginArray("identifiers");
  for (const auto& identifier : view.identifiers) {
    j.BeginObject();
    j.Field("kind", identifier.kind);
    j.Field("category", IdentifierCategory(identifier.kind));
    j.Field("value", identifier.value);
    j.Field("verified", identifier.verified);
    j.Time("added_at", identifier.added_at);
    j.EndObject();
  }
  j.EndArray();

  j.BeginArray("records");
  for (const auto& record : view.records) {
    if (!Held(record.state)) continue;
    const policy::Source* source = policy.FindSource(record.source);
    j.BeginObject();
    j.Field("record_id", record.record_id);
    j.Field("category", record.category);
    j.Field("category_name", policy.CategoryName(record.category));
    j.Field("value", record.value);
    j.Field("source", record.source);
    j.Field("source_name", SourceName(policy, record.source));
    j.Field("source_kind", source != nullptr ? policy::SourceKindKey(source->kind) : "");
    j.Field("purpose", record.purpose);
    j.Field("purpose_name", PurposeName(policy, record.purpose));
    j.Time("collected_at", record.collected_at);
    j.Field("state", RecordStateKey(record.state));
    j.EndObject();
  }
  j.EndArray();

  // Earlier values of corrected records are personal data held too (history kept).
  j.BeginArray("earlier_values");
  for (const auto& earlier : view.record_versions) {
    j.BeginObject();
    j.Field("record_id", earlier.record_id);
    j.Field("version", earlier.version);
    j.Field("value", earlier.value);
    j.Time("replaced_at", earlier.replaced_at);
    j.Field("request_id", earlier.request_id);
    j.EndObject();
  }
  j.EndArray();

  j.BeginArray("consents");
  for (const auto& event : view.consents) {
    j.BeginObject();
    j.Field("seq", event.seq);
    j.Field("target_kind", event.target_kind == store::ConsentTarget::kCookieCategory
                               ? "cookie_category"
                               : "purpose");
    j.Field("target", event.target);
    j.Field("target_name", ConsentTargetName(policy, event));
    j.Field("action", event.action == store::ConsentAction::kGiven ? "given" : "withdrawn");
    j.Time("at", event.at);
    j.Field("notice_version", event.notice_version);
    j.Field("channel", event.channel);
    j.EndObject();
  }
  j.EndArray();

  j.BeginArray("preferences");
  for (const auto& preference : view.preferences) {
    j.BeginObject();
    j.Field("channel", preference.channel);
    j.Field("allowed", preference.allowed);
    j.Time("at", preference.at);
    j.EndObject();
  }
  j.EndArray();

  j.BeginArray("objections");
  for (const auto& objection : view.objections) {
    j.BeginObject();
    j.Field("purpose", objection.purpose);
    j.Field("purpose_name", PurposeName(policy, objection.purpose));
    j.Time("at", objection.at);
    j.Time("lifted_at", objection.lifted_at);
    j.EndObject();
  }
  j.EndArray();

  j.BeginArray("restrictions");
  for (const auto& restriction : view.restrictions) {
    j.BeginObject();
    j.Field("restriction_id", restriction.restriction_id);
    j.Strings("categories", restriction.categories);
    j.Field("reason", restriction.reason);
    j.Time("at", restriction.at);
    j.Time("lifted_at", restriction.lifted_at);
    j.EndObject();
  }
  j.EndArray();

  j.BeginArray("events");
  for (const auto& event : view.events) {
    j.BeginObject();
    j.Field("event", event.event);
    j.Field("name", EventName(policy, event.event));
    j.Time("at", event.at);
    j.EndObject();
  }
  j.EndArray();
  j.EndObject();
}

std::string AccessJson(const Policy& policy, const PackageMeta& meta,
                       const std::vector<SubjectView>& subjects, const Facts& facts) {
  Json j;
  j.BeginObject();
  WriteHeader(j, "custos.access_package.v1", "Article 15 UK GDPR", meta);
  WriteController(j, policy);
  if (policy.dpo.present) {
    j.BeginObject("dpo");
    j.Field("name", policy.dpo.name);
    j.Field("email", policy.dpo.email);
    j.Field("phone", policy.dpo.phone);
    j.Field("address", policy.dpo.address);
    j.EndObject();
  } else {
    j.Null("dpo");
  }
  WriteContact(j, "rights_contact", RightsContact(policy));

  j.BeginArray("subjects");
  for (const SubjectView& view : subjects) WriteSubject(j, policy, view);
  j.EndArray();

  j.BeginArray("categories");
  for (const auto& key : facts.categories) {
    const policy::Category* category = policy.FindCategory(key);
    j.BeginObject();
    j.Field("key", key);
    j.Field("name", policy.CategoryName(key));
    j.Field("description", category != nullptr ? category->description : "");
    j.Field("special", IsSpecial(policy, key));
    if (category != nullptr && !category->condition.empty()) {
      j.BeginObject("condition");
      j.Field("key", category->condition);
      std::string_view letter = policy::Article9Letter(category->condition);
      j.Field("article", letter.empty() ? std::string() : std::string(letter) + " UK GDPR");
      j.Field("words", policy::ConditionInWords(category->condition));
      j.EndObject();
    } else {
      j.Null("condition");
    }
    j.EndObject();
  }
  j.EndArray();

  j.BeginArray("purposes");
  for (const PurposeUse& use : facts.purposes) {
    const policy::Purpose& p = *use.purpose;
    j.BeginObject();
    j.Field("key", p.key);
    j.Field("name", p.name);
    j.Field("description", p.description);
    j.BeginObject("lawful_basis");
    j.Field("key", policy::LawfulBasisKey(p.basis));
    j.Field("name", policy::LawfulBasisName(p.basis));
    j.Field("article", policy::LawfulBasisArticle(p.basis));
    j.EndObject();
    j.Field("legitimate_interest",
            p.basis == policy::LawfulBasis::kLegitimateInterests ? p.interest : "");
    j.Field("obligation", p.obligation);
    j.Strings("categories", use.categories);
    j.Field("direct_marketing", p.direct_marketing);
    j.Field("profiling", p.profiling);
    j.EndObject();
  }
  j.EndArray();

  j.BeginArray("recipients");
  for (const RecipientUse& use : facts.recipients) {
    const policy::Recipient& r = *use.recipient;
    j.BeginObject();
    j.Field("key", r.key);
    j.Field("name", r.name);
    j.Field("kind", policy::RecipientKindKey(r.kind));
    j.Field("kind_name", policy::RecipientKindName(r.kind));
    j.Field("description", r.description);
    j.Field("when", r.when);
    j.Field("processor_of", r.processor_of ? r.processor_of->key : "");
    j.BeginArray("countries");
    for (const auto& country : r.countries) {
      j.BeginObject();
      j.Field("code", country.key);
      j.Field("name", policy::CountryName(country.key));
      j.EndObject();
    }
    j.EndArray();
    j.Strings("purposes", use.purposes);
    if (use.outside.empty()) {
      j.Null("transfer");
    } else {
      j.BeginObject("transfer");
      j.Strings("countries", use.outside);
      j.Field("safeguard", r.safeguard);
      j.Field("safeguard_words", policy::SafeguardInWords(r.safeguard));
      j.Field("note", r.safeguard_note);
      j.EndObject();
    }
    j.EndObject();
  }
  j.EndArray();

  j.BeginObject("transfers");
  j.BeginArray("regions");
  for (const auto& region : policy.transfers.regions) j.String(region.key);
  j.EndArray();
  j.Field("outside", policy.transfers.outside == policy::TransferRule::kForbidden
                         ? "forbidden"
                         : "with_safeguard");
  j.Field("note", policy.transfers.note);
  j.EndObject();

  j.BeginArray("retention");
  for (const RetentionUse& use : facts.retention) {
    j.BeginObject();
    j.Field("category", use.category);
    j.Field("category_name", policy.CategoryName(use.category));
    j.BeginArray("rules");
    for (const policy::RetentionRule* rule : use.rules) {
      j.BeginObject();
      j.Field("id", rule->id);
      j.Field("text", policy::DescribeRetentionRule(policy, *rule));
      j.Field("description", rule->description);
      j.EndObject();
    }
    j.EndArray();
    j.EndObject();
  }
  j.EndArray();

  j.BeginArray("sources");
  for (const SourceUse& use : facts.sources) {
    j.BeginObject();
    j.Field("key", use.key);
    j.Field("name", SourceName(policy, use.key));
    j.Field("kind", use.source != nullptr ? policy::SourceKindKey(use.source->kind) : "");
    j.Field("description", use.source != nullptr ? use.source->description : "");
    j.Strings("categories", use.categories);
    j.EndObject();
  }
  j.EndArray();

  j.BeginArray("automated_decision_making");
  for (const policy::Purpose* p : facts.automated) {
    j.BeginObject();
    j.Field("purpose", p->key);
    j.Field("purpose_name", p->name);
    j.Field("profiling", p->profiling);
    j.Field("automated_decision", p->automated_decision.present);
    j.Field("description", p->description);
    j.Field("logic", p->automated_decision.logic);
    j.Field("significance", p->automated_decision.significance);
    j.Field("human_review", p->automated_decision.human_review);
    j.EndObject();
  }
  j.EndArray();

  j.BeginArray("rights");
  for (const auto& right : policy.rights.available) {
    j.BeginObject();
    j.Field("key", right);
    j.Field("name", policy::RightName(right));
    j.Field("description", policy::RightInWords(right));
    j.EndObject();
  }
  j.EndArray();

  j.BeginObject("complaints");
  WriteContact(j, "contact", policy.FindContactFor("complaints"));
  j.Field("first_contact_us", policy.regulator.first_contact_us);
  j.BeginObject("regulator");
  j.Field("name", policy.regulator.name);
  j.Field("address", policy.regulator.address);
  j.Field("phone", policy.regulator.phone);
  j.Field("website", policy.regulator.website);
  j.Field("country", policy.regulator.country);
  j.EndObject();
  j.Field("other_regulators", policy.regulator.other_regulators);
  j.EndObject();

  j.EndObject();
  return j.Take();
}

// ---------------------------------------------------------------------------------------------
// HTML.

std::string Esc(std::string_view text) { return policy::EscapeHtml(policy::ValidUtf8(text)); }

constexpr std::string_view kStyle =
    "body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;line-height:1.5;"
    "max-width:60rem;margin:0 auto;padding:1.5rem;color:#1b1b1b;background:#fff}"
    "h1{font-size:1.8rem}h2{margin-top:2.2rem;border-bottom:2px solid #ddd}h3{margin-top:1.6rem}"
    "table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.95rem}"
    "th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top;"
    "overflow-wrap:anywhere}th{background:#f1f3f6}li{margin:.3rem 0}"
    ".meta{color:#555}"
    "@media (prefers-color-scheme:dark){body{color:#eee;background:#121212}"
    "th{background:#1e2530}th,td{border-color:#444}.meta{color:#aaa}}"
    "@media print{body{max-width:none}}";

class Html {
 public:
  void Heading(int level, std::string_view text) {
    std::string tag = "h" + std::to_string(level);
    out_ += "<" + tag + ">" + Esc(text) + "</" + tag + ">\n";
  }
  void Para(std::string_view text, std::string_view css_class = "") {
    if (text.empty()) return;
    out_ += css_class.empty() ? "<p>" : "<p class=\"" + Esc(css_class) + "\">";
    out_ += Esc(text) + "</p>\n";
  }
  // "<strong>label</strong>: text" items.
  void List(const std::vector<std::pair<std::string, std::string>>& items) {
    if (items.empty()) return;
    out_ += "<ul>\n";
    for (const auto& [label, text] : items) {
      out_ += "<li>";
      if (!label.empty())
        out_ += "<strong>" + Esc(label) + "</strong>" + (text.empty() ? "" : ": ");
      out_ += Esc(text) + "</li>\n";
    }
    out_ += "</ul>\n";
  }
  // A table, or `empty` as a paragraph when there are no rows.
  void Table(const std::vector<std::string>& headers,
             const std::vector<std::vector<std::string>>& rows, std::string_view empty) {
    if (rows.empty()) {
      Para(empty);
      return;
    }
    out_ += "<table>\n<thead><tr>";
    for (const auto& header : headers) out_ += "<th scope=\"col\">" + Esc(header) + "</th>";
    out_ += "</tr></thead>\n<tbody>\n";
    for (const auto& row : rows) {
      out_ += "<tr>";
      for (const auto& cell : row) out_ += "<td>" + Esc(cell) + "</td>";
      out_ += "</tr>\n";
    }
    out_ += "</tbody>\n</table>\n";
  }
  const std::string& text() const { return out_; }

 private:
  std::string out_;
};

std::string Join(const std::vector<std::string>& items, std::string_view separator = ", ") {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

std::string CategoryNames(const Policy& policy, const std::vector<std::string>& keys) {
  std::vector<std::string> names;
  for (const auto& key : keys) AddUnique(names, policy.CategoryName(key));
  return Join(names);
}

// "email x, phone y, post: z, website w"; "" when the contact gives no detail.
std::string ContactDetails(std::string_view email, std::string_view phone, std::string_view address,
                           std::string_view url) {
  std::vector<std::string> parts;
  if (!email.empty()) parts.push_back("email " + std::string(email));
  if (!phone.empty()) parts.push_back("phone " + std::string(phone));
  if (!address.empty()) parts.push_back("post: " + std::string(address));
  if (!url.empty()) parts.push_back("website " + std::string(url));
  return Join(parts);
}

std::pair<std::string, std::string> ContactItem(const policy::Contact& contact) {
  return {contact.name.empty() ? contact.key : contact.name,
          ContactDetails(contact.email, contact.phone, contact.address, contact.url)};
}

std::string RecordStateWords(RecordState state) {
  return state == RecordState::kRestricted ? "Restricted: we keep it but do not otherwise use it"
                                           : "In use";
}

std::string LawfulBasisWords(policy::LawfulBasis basis) {
  std::string out(policy::LawfulBasisName(basis));
  if (!policy::LawfulBasisArticle(basis).empty()) {
    out += " (" + std::string(policy::LawfulBasisArticle(basis)) + " UK GDPR)";
  }
  return out;
}

void SubjectHtml(Html& h, const Policy& policy, const SubjectView& view, bool several) {
  if (several) h.Heading(3, "Held under reference " + view.subject.subject_id);
  std::vector<std::string> types;
  for (const auto& key : view.subject.types) {
    const policy::SubjectType* type = policy.FindSubjectType(key);
    types.push_back(type != nullptr && !type->name.empty() ? type->name : key);
  }
  std::string about = "Reference " + view.subject.subject_id + ", first recorded " +
                      view.subject.created_at.ToString() + ".";
  if (!types.empty()) about += " You are known to us as: " + Join(types) + ".";
  if (view.subject.state == store::SubjectState::kErased) {
    about += " Your data under this reference has been erased.";
  }
  h.Para(about);

  h.Heading(4, "Identifiers");
  std::vector<std::vector<std::string>> rows;
  for (const auto& identifier : view.identifiers) {
    rows.push_back({identifier.kind, identifier.value, identifier.verified ? "Yes" : "No",
                    identifier.added_at.ToString()});
  }
  h.Table({"Kind", "Value", "Verified", "Added"}, rows, "None.");

  h.Heading(4, "Personal data");
  rows.clear();
  for (const auto& record : view.records) {
    if (!Held(record.state)) continue;
    rows.push_back({policy.CategoryName(record.category), record.value,
                    SourceName(policy, record.source), PurposeName(policy, record.purpose),
                    record.collected_at.ToString(), RecordStateWords(record.state)});
  }
  h.Table({"Category", "Value", "Source", "Collected for", "Collected", "State"}, rows, "None.");

  if (!view.record_versions.empty()) {
    h.Heading(4, "Earlier values you or we corrected");
    rows.clear();
    for (const auto& earlier : view.record_versions) {
      std::string category;
      for (const auto& record : view.records) {
        if (record.record_id == earlier.record_id) category = policy.CategoryName(record.category);
      }
      rows.push_back({category, earlier.value, earlier.replaced_at.ToString()});
    }
    h.Table({"Category", "Earlier value", "Replaced"}, rows, "None.");
  }

  h.Heading(4, "Your consents");
  rows.clear();
  for (const auto& event : view.consents) {
    rows.push_back({ConsentTargetName(policy, event),
                    event.action == store::ConsentAction::kGiven ? "Given" : "Withdrawn",
                    event.at.ToString(), event.channel, event.notice_version});
  }
  h.Table({"For", "Action", "When", "How", "Notice version"}, rows, "None.");

  h.Heading(4, "Your contact preferences");
  rows.clear();
  for (const auto& preference : view.preferences) {
    rows.push_back({preference.channel, preference.allowed ? "Allowed" : "Not allowed",
                    preference.at.ToString()});
  }
  h.Table({"Channel", "Choice", "Since"}, rows, "None.");

  h.Heading(4, "Your objections");
  rows.clear();
  for (const auto& objection : view.objections) {
    rows.push_back({PurposeName(policy, objection.purpose), objection.at.ToString(),
                    objection.lifted_at ? objection.lifted_at->ToString() : "In force"});
  }
  h.Table({"To", "Made", "Lifted"}, rows, "None.");

  h.Heading(4, "Restrictions of processing");
  rows.clear();
  for (const auto& restriction : view.restrictions) {
    std::string categories = restriction.categories.empty()
                                 ? std::string("All your data")
                                 : CategoryNames(policy, restriction.categories);
    rows.push_back({categories, restriction.reason, restriction.at.ToString(),
                    restriction.lifted_at ? restriction.lifted_at->ToString() : "In force"});
  }
  h.Table({"Data", "Reason", "Since", "Lifted"}, rows, "None.");

  h.Heading(4, "Events in your relationship with us");
  rows.clear();
  for (const auto& event : view.events) {
    rows.push_back({EventName(policy, event.event), event.at.ToString()});
  }
  h.Table({"Event", "When"}, rows, "None.");
}

std::string AccessHtml(const Policy& policy, const PackageMeta& meta,
                       const std::vector<SubjectView>& subjects, const Facts& facts) {
  const std::string title = "Your personal data held by " + policy.controller.name;
  Html h;
  h.Heading(1, title);
  h.Para("This is a copy of the personal data " + policy.controller.name +
         " holds about you, with the information about how we use it that Article 15 UK GDPR "
         "entitles you to.");
  h.Para("Request " + meta.request_id + ", received " + meta.received_at.ToString() +
             ", prepared " + meta.generated_at.ToString() + ".",
         "meta");

  h.Heading(2, "Who we are");
  const policy::Controller& c = policy.controller;
  std::vector<std::pair<std::string, std::string>> who;
  std::string name = c.name;
  if (!c.legal_name.empty() && c.legal_name != c.name) name += " (" + c.legal_name + ")";
  if (!c.company_number.empty()) name += ", company number " + c.company_number;
  who.push_back({c.role == policy::Role::kProcessor ? "Processor" : "Controller", name});
  if (std::string details = ContactDetails(c.email, c.phone, c.address, c.website);
      !details.empty()) {
    who.push_back({"Contact", details});
  }
  if (policy.dpo.present) {
    std::string dpo = policy.dpo.name;
    std::string details =
        ContactDetails(policy.dpo.email, policy.dpo.phone, policy.dpo.address, "");
    if (!details.empty()) dpo += (dpo.empty() ? "" : ", ") + details;
    who.push_back({"Data protection officer", dpo});
  }
  if (const policy::Contact* contact = RightsContact(policy)) {
    auto [label, details] = ContactItem(*contact);
    who.push_back({"Requests about your data", details.empty() ? label : label + ": " + details});
  }
  h.List(who);

  h.Heading(2, "The personal data we hold about you");
  for (const SubjectView& view : subjects) SubjectHtml(h, policy, view, subjects.size() > 1);
  if (subjects.empty()) h.Para("We hold no personal data about you.");

  h.Heading(2, "The kinds of personal data we hold about you");
  std::vector<std::vector<std::string>> rows;
  for (const auto& key : facts.categories) {
    const policy::Category* category = policy.FindCategory(key);
    std::string special;
    if (IsSpecial(policy, key)) {
      special = "Yes";
      if (category != nullptr && !category->condition.empty()) {
        special += ": we process it on the condition of " +
                   std::string(policy::ConditionInWords(category->condition));
        if (std::string_view letter = policy::Article9Letter(category->condition);
            !letter.empty()) {
          special += " (" + std::string(letter) + " UK GDPR)";
        }
      }
    }
    rows.push_back({policy.CategoryName(key), category != nullptr ? category->description : "",
                    special.empty() ? "No" : special});
  }
  h.Table({"Kind of data", "What it is", "Special category data"}, rows, "None.");

  h.Heading(2, "Why we use it and our lawful basis");
  rows.clear();
  for (const PurposeUse& use : facts.purposes) {
    const policy::Purpose& p = *use.purpose;
    std::string basis = LawfulBasisWords(p.basis);
    if (p.basis == policy::LawfulBasis::kLegitimateInterests && !p.interest.empty()) {
      basis += ". Our legitimate interest: " + p.interest;
    } else if (!p.obligation.empty()) {
      basis += ". " + p.obligation;
    }
    rows.push_back({p.name, p.description, basis, CategoryNames(policy, use.categories)});
  }
  h.Table({"Purpose", "What we do", "Lawful basis", "Your data it uses"}, rows,
          "We do not use your data for any purpose.");

  h.Heading(2, "Who receives it");
  rows.clear();
  for (const RecipientUse& use : facts.recipients) {
    const policy::Recipient& r = *use.recipient;
    std::vector<std::string> countries;
    for (const auto& country : r.countries) AddUnique(countries, policy::CountryName(country.key));
    std::string transfer = "No";
    if (!use.outside.empty()) {
      std::vector<std::string> outside;
      for (const auto& code : use.outside) AddUnique(outside, policy::CountryName(code));
      transfer = "To " + Join(outside) + ", protected by " +
                 std::string(policy::SafeguardInWords(r.safeguard));
      if (!r.safeguard_note.empty()) transfer += ". " + r.safeguard_note;
    }
    std::string what = r.description;
    if (!r.when.empty()) what += (what.empty() ? "When: " : " When: ") + r.when;
    if (r.processor_of) {
      what += (what.empty() ? "Works for " : " Works for ") +
              RecipientName(policy, r.processor_of->key) + ".";
    }
    std::vector<std::string> purposes;
    for (const auto& key : use.purposes) AddUnique(purposes, PurposeName(policy, key));
    rows.push_back({r.name, std::string(policy::RecipientKindName(r.kind)), what, Join(purposes),
                    countries.empty() ? std::string("Not stated") : Join(countries), transfer});
  }
  std::vector<std::string> regions;
  for (const auto& region : policy.transfers.regions) {
    AddUnique(regions, policy::CountryName(region.key));
  }
  std::string outside_header = regions.empty() ? std::string("International transfer")
                                               : "Transfer outside " + Join(regions, " and ");
  h.Table({"Recipient", "Kind", "What they do", "For", "Where", outside_header}, rows,
          "We do not share your personal data with anyone outside our organisation.");
  if (policy.transfers.outside == policy::TransferRule::kForbidden) {
    h.Para("Your personal data never leaves " + Join(regions, " and ") + ".");
  }
  h.Para(policy.transfers.note);

  h.Heading(2, "How long we keep it");
  // Each rule once, in policy order: its words already name the kinds of data it covers.
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& rule : policy.retention) {
    bool applies = std::any_of(
        facts.retention.begin(), facts.retention.end(), [&rule](const RetentionUse& use) {
          return std::find(use.rules.begin(), use.rules.end(), &rule) != use.rules.end();
        });
    if (!applies) continue;
    auto text = policy::DescribeRetentionRule(policy, rule) + ".";
    if (!rule.description.empty()) text += " " + rule.description;
    items.push_back({"", text});
  }
  std::vector<std::string> uncovered;
  for (const RetentionUse& use : facts.retention) {
    if (use.rules.empty()) uncovered.push_back(use.category);
  }
  if (!uncovered.empty()) {
    items.push_back(
        {CategoryNames(policy, uncovered), "no retention rule of ours covers this data."});
  }
  h.List(items);
  if (items.empty()) h.Para("We hold no personal data about you.");

  h.Heading(2, "Where your data came from");
  items.clear();
  for (const SourceUse& use : facts.sources) {
    std::string text = use.source != nullptr ? use.source->description : "";
    text += (text.empty() ? "" : " ") + std::string("Data from this source: ") +
            CategoryNames(policy, use.categories) + ".";
    items.push_back({SourceName(policy, use.key), text});
  }
  if (items.empty()) {
    h.Para("All the personal data we hold about you was collected from you.");
  } else {
    h.Para("Some of the personal data we hold about you was not collected from you:");
    h.List(items);
  }

  h.Heading(2, "Automated decisions and profiling");
  items.clear();
  for (const policy::Purpose* p : facts.automated) {
    std::string text;
    if (p->profiling) text = "Profiling: we use your data to analyse or predict things about you.";
    if (!p->description.empty()) text += " " + p->description;
    const policy::AutomatedDecision& decision = p->automated_decision;
    if (decision.present) {
      text += " Decisions are made by automated means alone, without a person involved.";
      if (!decision.logic.empty()) text += " How it works: " + decision.logic;
      if (!decision.significance.empty())
        text += " What it means for you: " + decision.significance;
      if (decision.human_review) {
        text +=
            " You can ask for a person to review the decision, give your point of view and "
            "contest it.";
      }
    }
    items.push_back({p->name, text});
  }
  if (items.empty()) {
    h.Para(
        "None of the ways we use your data involves profiling or decisions made by automated "
        "means alone.");
  } else {
    h.List(items);
  }

  h.Heading(2, "Your rights");
  items.clear();
  for (const auto& right : policy.rights.available) {
    items.push_back({std::string(policy::RightName(right)), policy::RightInWords(right)});
  }
  h.List(items);

  h.Heading(2, "How to complain");
  items.clear();
  if (const policy::Contact* complaints = policy.FindContactFor("complaints")) {
    auto [label, details] = ContactItem(*complaints);
    h.Para(policy.regulator.first_contact_us
               ? "Please contact us first, so that we can try to put things right:"
               : "You can complain to us:");
    h.List({{label, details}});
  }
  h.Para("You have the right to complain to a data protection regulator: " + policy.regulator.name +
         ".");
  const policy::Regulator& reg = policy.regulator;
  if (!reg.address.empty()) items.push_back({"Address", reg.address});
  if (!reg.phone.empty()) items.push_back({"Phone", reg.phone});
  if (!reg.website.empty()) items.push_back({"Website", reg.website});
  h.List(items);
  if (!reg.other_regulators.empty())
    h.Para("You can also complain to " + reg.other_regulators + ".");

  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  // Nothing is loaded from elsewhere and no script runs, even if escaping ever failed.
  out +=
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'\">\n";
  out += "<meta name=\"robots\" content=\"noindex\">\n";
  out += "<title>" + Esc(title) + "</title>\n";
  out += "<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n<main>\n";
  out += h.text();
  out += "</main>\n</body>\n</html>\n";
  return out;
}

// ---------------------------------------------------------------------------------------------
// Portability.

std::string PortabilityJson(const Policy& policy, const PackageMeta& meta,
                            const std::vector<SubjectView>& subjects) {
  Json j;
  j.BeginObject();
  WriteHeader(j, "custos.portability_export.v1", "Article 20 UK GDPR", meta);
  WriteController(j, policy);
  j.BeginArray("subjects");
  for (const SubjectView& view : subjects) {
    j.BeginObject();
    j.Field("subject_id", view.subject.subject_id);
    j.BeginArray("records");
    for (const auto& record : view.records) {
      if (!Portable(policy, record)) continue;
      j.BeginObject();
      j.Field("record_id", record.record_id);
      j.Field("category", record.category);
      j.Field("category_name", policy.CategoryName(record.category));
      j.Field("value", record.value);
      j.Field("source", record.source);
      j.Field("purpose", record.purpose);
      j.Field("purpose_name", PurposeName(policy, record.purpose));
      j.Field("lawful_basis", policy::LawfulBasisKey(policy.FindPurpose(record.purpose)->basis));
      j.Time("collected_at", record.collected_at);
      j.Field("state", RecordStateKey(record.state));
      j.EndObject();
    }
    j.EndArray();
    j.BeginArray("consents");
    for (const GivenConsent& consent : GivenConsents(view.consents)) {
      const store::ConsentEventRow& event = *consent.given;
      j.BeginObject();
      j.Field("target_kind", event.target_kind == store::ConsentTarget::kCookieCategory
                                 ? "cookie_category"
                                 : "purpose");
      j.Field("target", event.target);
      j.Field("target_name", ConsentTargetName(policy, event));
      j.Time("given_at", event.at);
      j.Field("notice_version", event.notice_version);
      j.Field("channel", event.channel);
      j.Time("withdrawn_at", consent.withdrawn != nullptr
                                 ? std::optional<Timestamp>(consent.withdrawn->at)
                                 : std::nullopt);
      j.EndObject();
    }
    j.EndArray();
    j.EndObject();
  }
  j.EndArray();
  j.EndObject();
  return j.Take();
}

void AppendCsvRow(std::string& out, const std::vector<std::string>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    out += policy::CsvField(policy::ValidUtf8(fields[i]));
  }
  out += "\r\n";
}

std::string PortabilityCsv(const Policy& policy, const std::vector<SubjectView>& subjects) {
  std::string out;
  AppendCsvRow(out, {"subject_id", "category", "category_name", "value", "source", "purpose",
                     "collected_at"});
  for (const SubjectView& view : subjects) {
    for (const auto& record : view.records) {
      if (!Portable(policy, record)) continue;
      AppendCsvRow(out,
                   {view.subject.subject_id, record.category, policy.CategoryName(record.category),
                    record.value, record.source, record.purpose, record.collected_at.ToString()});
    }
  }
  return out;
}

}  // namespace

AccessPackage BuildAccessPackage(const policy::Policy& policy, const PackageMeta& meta,
                                 const std::vector<SubjectView>& subjects) {
  Facts facts = DeriveFacts(policy, subjects);
  return AccessPackage{AccessJson(policy, meta, subjects, facts),
                       AccessHtml(policy, meta, subjects, facts)};
}

PortabilityExport BuildPortabilityExport(const policy::Policy& policy, const PackageMeta& meta,
                                         const std::vector<SubjectView>& subjects) {
  return PortabilityExport{PortabilityJson(policy, meta, subjects),
                           PortabilityCsv(policy, subjects)};
}

}  // namespace custos::engine
