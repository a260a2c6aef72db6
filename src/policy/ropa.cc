#include "policy/ropa.h"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/notice.h"
#include "policy/taxonomy.h"
#include "policy/text_formats.h"

namespace custos::policy {

namespace {

// ---------------------------------------------------------------------------------------------
// What the record says about one purpose, computed once for both formats.

struct Transfer {
  const Recipient* recipient = nullptr;
  std::vector<std::string> countries;  // codes outside transfers.regions
};

struct Activity {
  const Purpose* purpose = nullptr;
  std::vector<std::string> subjects;            // subject type keys (all when unstated)
  std::vector<const Category*> special;         // declared special categories it touches
  std::vector<const Recipient*> recipients;     // named recipients, then their sub-processors
  std::vector<Transfer> transfers;              // recipients outside the allowed regions
  std::vector<const RetentionRule*> retention;  // rules covering its data
};

bool IsSpecial(const Category& category) {
  return category.special || IsInherentlySpecial(category.key);
}

bool Overlaps(std::string_view a, std::string_view b) {
  return CategoryCovers(a, b) || CategoryCovers(b, a);
}

bool OutsideRegions(const Policy& policy, std::string_view country) {
  return std::none_of(policy.transfers.regions.begin(), policy.transfers.regions.end(),
                      [country](const Ref& region) { return RegionIncludes(region.key, country); });
}

bool ContainsKey(const std::vector<Ref>& refs, std::string_view key) {
  return std::any_of(refs.begin(), refs.end(), [key](const Ref& ref) { return ref.key == key; });
}

// A rule covers a purpose's data when it may apply to data collected for the purpose, about
// one of its subject types, in one of its categories (or a category beneath or above one).
bool RuleCovers(const Policy& policy, const RetentionRule& rule, const Purpose& purpose) {
  if (!rule.purposes.empty() && !ContainsKey(rule.purposes, purpose.key)) return false;
  if (!rule.subjects.empty()) {
    auto subjects = policy.SubjectsOrAll(purpose.subjects);
    bool shared = std::any_of(subjects.begin(), subjects.end(), [&rule](const std::string& key) {
      return ContainsKey(rule.subjects, key);
    });
    if (!shared) return false;
  }
  for (const auto& rule_category : rule.categories) {
    for (const auto& category : purpose.categories) {
      if (Overlaps(rule_category.key, category.key)) return true;
    }
  }
  return false;
}

Activity BuildActivity(const Policy& policy, const Purpose& purpose) {
  Activity activity;
  activity.purpose = &purpose;
  activity.subjects = policy.SubjectsOrAll(purpose.subjects);
  for (const auto& category : policy.categories) {
    if (!IsSpecial(category)) continue;
    bool touched =
        std::any_of(purpose.categories.begin(), purpose.categories.end(),
                    [&category](const Ref& ref) { return Overlaps(ref.key, category.key); });
    if (touched) activity.special.push_back(&category);
  }
  for (const auto& ref : purpose.recipients) {
    const Recipient* recipient = policy.FindRecipient(ref.key);
    if (recipient != nullptr && std::find(activity.recipients.begin(), activity.recipients.end(),
                                          recipient) == activity.recipients.end()) {
      activity.recipients.push_back(recipient);
    }
  }
  // A sub-processor of a recipient receives the data too.
  for (size_t i = 0; i < activity.recipients.size(); ++i) {
    for (const auto& candidate : policy.recipients) {
      if (candidate.processor_of && candidate.processor_of->key == activity.recipients[i]->key &&
          std::find(activity.recipients.begin(), activity.recipients.end(), &candidate) ==
              activity.recipients.end()) {
        activity.recipients.push_back(&candidate);
      }
    }
  }
  for (const Recipient* recipient : activity.recipients) {
    Transfer transfer;
    transfer.recipient = recipient;
    for (const auto& country : recipient->countries) {
      if (OutsideRegions(policy, country.key)) transfer.countries.push_back(country.key);
    }
    if (!transfer.countries.empty()) activity.transfers.push_back(std::move(transfer));
  }
  for (const auto& rule : policy.retention) {
    if (RuleCovers(policy, rule, purpose)) activity.retention.push_back(&rule);
  }
  return activity;
}

std::vector<Activity> BuildActivities(const Policy& policy) {
  std::vector<Activity> out;
  out.reserve(policy.purposes.size());
  for (const auto& purpose : policy.purposes) out.push_back(BuildActivity(policy, purpose));
  return out;
}

std::string SubjectName(const Policy& policy, std::string_view key) {
  const SubjectType* type = policy.FindSubjectType(key);
  return type != nullptr && !type->name.empty() ? type->name : std::string(key);
}

std::string SourceName(const Policy& policy, std::string_view key) {
  const Source* source = policy.FindSource(key);
  return source != nullptr && !source->name.empty() ? source->name : std::string(key);
}

std::string SpecialWords(const Category& category) {
  std::string out = std::string(ConditionInWords(category.condition));
  if (std::string_view letter = Article9Letter(category.condition); !letter.empty()) {
    out += " (" + std::string(letter) + ")";
  }
  return out;
}

std::string RetentionIso(const RetentionRule& rule) {
  std::string period = rule.period.value ? rule.period.value->ToString() : rule.period.text;
  return rule.id + ": " + period + " after " + rule.after.key + ", " +
         std::string(RetentionActionKey(rule.action));
}

std::string RecordTitle(const Policy& policy) {
  return policy.controller.role == Role::kProcessor
             ? "Record of processing activities (processor), Article 30(2) UK GDPR"
             : "Record of processing activities, Article 30(1) UK GDPR";
}

// ---------------------------------------------------------------------------------------------
// CSV (RFC 4180).

std::string Join(const std::vector<std::string>& items, std::string_view separator = "; ") {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

void AddIfSet(std::vector<std::string>& parts, std::string_view label, std::string_view value) {
  if (!value.empty()) parts.push_back(std::string(label) + std::string(value));
}

std::string ControllerContact(const Controller& c) {
  std::vector<std::string> parts;
  AddIfSet(parts, "", c.address);
  AddIfSet(parts, "email ", c.email);
  AddIfSet(parts, "phone ", c.phone);
  AddIfSet(parts, "website ", c.website);
  return Join(parts);
}

std::string ControllerName(const Controller& c) {
  std::string out = c.name;
  if (!c.legal_name.empty() && c.legal_name != c.name) out += " (" + c.legal_name + ")";
  if (!c.company_number.empty()) out += ", company number " + c.company_number;
  return out;
}

std::string DpoText(const Person& dpo) {
  if (!dpo.present) return "";
  std::vector<std::string> parts;
  AddIfSet(parts, "", dpo.name);
  AddIfSet(parts, "email ", dpo.email);
  AddIfSet(parts, "phone ", dpo.phone);
  AddIfSet(parts, "", dpo.address);
  return Join(parts);
}

std::string SecurityText(const Policy& policy) {
  std::vector<std::string> parts;
  for (const auto& measure : policy.security) parts.push_back(measure.description);
  return Join(parts);
}

std::vector<std::string> CsvRow(const Policy& policy, const Activity& activity) {
  const Purpose& purpose = *activity.purpose;
  bool processor = policy.controller.role == Role::kProcessor;

  std::vector<std::string> subjects;
  for (const auto& key : activity.subjects) subjects.push_back(SubjectName(policy, key));
  std::vector<std::string> data;
  for (const auto& ref : purpose.categories) {
    data.push_back(policy.CategoryName(ref.key) + " (" + ref.key + ")");
  }
  std::vector<std::string> special;
  for (const Category* category : activity.special) {
    special.push_back(policy.CategoryName(category->key) + ": " + SpecialWords(*category));
  }
  std::vector<std::string> sources;
  if (purpose.sources.empty()) {
    for (const auto& source : policy.sources) sources.push_back(SourceName(policy, source.key));
  } else {
    for (const auto& ref : purpose.sources) sources.push_back(SourceName(policy, ref.key));
  }
  std::vector<std::string> recipients;
  for (const Recipient* recipient : activity.recipients) {
    std::vector<std::string> countries;
    for (const auto& country : recipient->countries) countries.push_back(country.key);
    recipients.push_back(recipient->name + " (" + std::string(RecipientKindName(recipient->kind)) +
                         "; " + Join(countries, ", ") + ")");
  }
  std::vector<std::string> transfers;
  for (const Transfer& transfer : activity.transfers) {
    std::string text = transfer.recipient->name + " to " + Join(transfer.countries, ", ") + ": " +
                       std::string(SafeguardInWords(transfer.recipient->safeguard));
    if (!transfer.recipient->safeguard_note.empty()) {
      text += " (" + transfer.recipient->safeguard_note + ")";
    }
    transfers.push_back(std::move(text));
  }
  std::vector<std::string> erasure;
  for (const RetentionRule* rule : activity.retention) {
    erasure.push_back(DescribeRetentionRule(policy, *rule) + " [" + RetentionIso(*rule) + "]");
  }
  std::string automated;
  if (purpose.automated_decision.present) {
    automated = "yes";
    if (!purpose.automated_decision.logic.empty()) {
      automated += "; logic: " + purpose.automated_decision.logic;
    }
    if (!purpose.automated_decision.significance.empty()) {
      automated += "; significance: " + purpose.automated_decision.significance;
    }
    if (purpose.automated_decision.human_review) automated += "; human review available";
  }

  return {
      RecordTitle(policy),
      ControllerName(policy.controller),
      ControllerContact(policy.controller),
      DpoText(policy.dpo),
      processor ? "processor" : "controller",
      processor ? policy.processor.controllers : "",
      purpose.key,
      purpose.name,
      purpose.activity,
      purpose.description,
      std::string(LawfulBasisName(purpose.basis)),
      std::string(LawfulBasisArticle(purpose.basis)),
      purpose.interest,
      purpose.obligation,
      Join(subjects),
      Join(data),
      Join(special),
      Join(sources),
      purpose.use,
      Join(recipients),
      Join(transfers),
      Join(erasure),
      SecurityText(policy),
      purpose.direct_marketing ? "yes" : "no",
      purpose.profiling ? "yes" : "no",
      automated.empty() ? "no" : automated,
  };
}

constexpr std::string_view kCsvHeader[] = {
    "record",
    "controller",
    "controller_contact",
    "dpo",
    "role",
    "on_behalf_of_controllers",
    "purpose_key",
    "purpose",
    "activity",
    "description",
    "lawful_basis",
    "lawful_basis_article",
    "legitimate_interest",
    "legal_obligation",
    "data_subjects",
    "personal_data",
    "special_categories",
    "sources",
    "data_use",
    "recipients",
    "third_country_transfers",
    "erasure_time_limits",
    "security_measures",
    "direct_marketing",
    "profiling",
    "automated_decision",
};

void AppendCsvLine(std::string& out, const std::vector<std::string>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    out += CsvField(fields[i]);
  }
  out += "\r\n";
}

// ---------------------------------------------------------------------------------------------
// JSON.

using JsonWriter = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

class RopaJson {
 public:
  explicit RopaJson(const Policy& policy) : p_(policy), writer_(buffer_) {
    writer_.SetIndent(' ', 2);
  }

  std::string Write() {
    bool processor = p_.controller.role == Role::kProcessor;
    writer_.StartObject();
    Field("record", RecordTitle(p_));
    Field("article", processor ? "30(2)" : "30(1)");
    Field("notice_version", p_.notice.version);
    Key("notice_date");
    if (p_.notice.date) {
      String(p_.notice.date->ToString());
    } else {
      writer_.Null();
    }

    Key("controller");
    const Controller& c = p_.controller;
    writer_.StartObject();
    Field("name", c.name);
    OptionalField("legal_name", c.legal_name);
    OptionalField("company_number", c.company_number);
    OptionalField("registration", c.registration);
    OptionalField("represents", c.represents);
    OptionalField("address", c.address);
    OptionalField("email", c.email);
    OptionalField("phone", c.phone);
    OptionalField("website", c.website);
    Field("role", processor ? "processor" : "controller");
    writer_.EndObject();

    Key("dpo");
    if (p_.dpo.present) {
      writer_.StartObject();
      OptionalField("name", p_.dpo.name);
      OptionalField("email", p_.dpo.email);
      OptionalField("phone", p_.dpo.phone);
      OptionalField("address", p_.dpo.address);
      writer_.EndObject();
    } else {
      writer_.Null();
    }

    if (processor) {
      // Article 30(2)(a)-(b): on whose behalf, and which categories of processing.
      Key("processor");
      writer_.StartObject();
      Field("controllers", p_.processor.controllers);
      OptionalField("instructions", p_.processor.instructions);
      Key("requests_forwarded_to_controller");
      writer_.Bool(p_.processor.requests == "forward_to_controller");
      Key("breach_notify_controller");
      writer_.Bool(p_.processor.breach_notify_controller);
      Key("processing_on_behalf_of_controllers");
      writer_.StartArray();
      for (const auto& purpose : p_.purposes) String(purpose.key);
      writer_.EndArray();
      writer_.EndObject();
    }

    Key("transfers");
    writer_.StartObject();
    Key("regions");
    writer_.StartArray();
    for (const auto& region : p_.transfers.regions) String(region.key);
    writer_.EndArray();
    Field("outside",
          p_.transfers.outside == TransferRule::kForbidden ? "forbidden" : "with_safeguard");
    OptionalField("note", p_.transfers.note);
    writer_.EndObject();

    Key("security_measures");
    writer_.StartArray();
    for (const auto& measure : p_.security) {
      writer_.StartObject();
      Field("key", measure.key);
      Field("description", measure.description);
      writer_.EndObject();
    }
    writer_.EndArray();

    Key("activities");
    writer_.StartArray();
    for (const Activity& activity : BuildActivities(p_)) WriteActivity(activity);
    writer_.EndArray();

    writer_.EndObject();
    return std::string(buffer_.GetString(), buffer_.GetSize()) + "\n";
  }

 private:
  void Key(std::string_view key) { writer_.Key(key.data(), static_cast<unsigned>(key.size())); }
  void String(std::string_view value) {
    std::string valid = ValidUtf8(value);
    writer_.String(valid.data(), static_cast<unsigned>(valid.size()));
  }
  void Field(std::string_view key, std::string_view value) {
    Key(key);
    String(value);
  }
  // Empty text is written as null, so a reader can tell "not stated" from a value.
  void OptionalField(std::string_view key, std::string_view value) {
    Key(key);
    if (value.empty()) {
      writer_.Null();
    } else {
      String(value);
    }
  }
  void KeyName(std::string_view key, std::string_view name) {
    writer_.StartObject();
    Field("key", key);
    Field("name", name);
    writer_.EndObject();
  }

  void WriteActivity(const Activity& activity) {
    const Purpose& purpose = *activity.purpose;
    writer_.StartObject();
    Field("purpose_key", purpose.key);
    Field("purpose", purpose.name);
    OptionalField("activity", purpose.activity);
    OptionalField("description", purpose.description);

    Key("lawful_basis");
    writer_.StartObject();
    Field("key", LawfulBasisKey(purpose.basis));
    Field("name", LawfulBasisName(purpose.basis));
    Field("article", LawfulBasisArticle(purpose.basis));
    writer_.EndObject();
    OptionalField("legitimate_interest", purpose.interest);
    OptionalField("legal_obligation", purpose.obligation);

    Key("data_subjects");
    writer_.StartArray();
    for (const auto& key : activity.subjects) KeyName(key, SubjectName(p_, key));
    writer_.EndArray();

    Key("personal_data");
    writer_.StartArray();
    for (const auto& ref : purpose.categories) KeyName(ref.key, p_.CategoryName(ref.key));
    writer_.EndArray();

    Key("special_categories");
    writer_.StartArray();
    for (const Category* category : activity.special) {
      writer_.StartObject();
      Field("key", category->key);
      Field("name", p_.CategoryName(category->key));
      Field("condition", category->condition);
      Field("condition_words", ConditionInWords(category->condition));
      Field("article", Article9Letter(category->condition));
      Key("criminal_offence_data");
      writer_.Bool(CategoryCovers("user.criminal_history", category->key));
      writer_.EndObject();
    }
    writer_.EndArray();

    Key("sources");
    writer_.StartArray();
    std::vector<const Source*> sources;
    for (const auto& source : p_.sources) {
      if (purpose.sources.empty() || ContainsKey(purpose.sources, source.key)) {
        sources.push_back(&source);
      }
    }
    for (const Source* source : sources) {
      writer_.StartObject();
      Field("key", source->key);
      Field("name", SourceName(p_, source->key));
      Field("kind", SourceKindKey(source->kind));
      writer_.EndObject();
    }
    writer_.EndArray();

    OptionalField("data_use", purpose.use);

    Key("recipients");
    writer_.StartArray();
    for (const Recipient* recipient : activity.recipients) {
      writer_.StartObject();
      Field("key", recipient->key);
      Field("name", recipient->name);
      Field("kind", RecipientKindKey(recipient->kind));
      Field("kind_name", RecipientKindName(recipient->kind));
      if (recipient->processor_of) Field("processor_of", recipient->processor_of->key);
      Key("countries");
      writer_.StartArray();
      for (const auto& country : recipient->countries) String(country.key);
      writer_.EndArray();
      writer_.EndObject();
    }
    writer_.EndArray();

    Key("third_country_transfers");
    writer_.StartArray();
    for (const Transfer& transfer : activity.transfers) {
      writer_.StartObject();
      Field("recipient", transfer.recipient->key);
      Key("countries");
      writer_.StartArray();
      for (const auto& country : transfer.countries) String(country);
      writer_.EndArray();
      OptionalField("safeguard", transfer.recipient->safeguard);
      Field("safeguard_words", SafeguardInWords(transfer.recipient->safeguard));
      OptionalField("safeguard_note", transfer.recipient->safeguard_note);
      writer_.EndObject();
    }
    writer_.EndArray();

    Key("erasure_time_limits");
    writer_.StartArray();
    for (const RetentionRule* rule : activity.retention) {
      writer_.StartObject();
      Field("rule", rule->id);
      Field("words", DescribeRetentionRule(p_, *rule));
      OptionalField("description", rule->description);
      Field("period", rule->period.value ? rule->period.value->ToString() : rule->period.text);
      Field("after", rule->after.key);
      Field("action", RetentionActionKey(rule->action));
      Key("categories");
      writer_.StartArray();
      for (const auto& ref : rule->categories) String(ref.key);
      writer_.EndArray();
      Key("subjects");
      writer_.StartArray();
      for (const auto& key : p_.SubjectsOrAll(rule->subjects)) String(key);
      writer_.EndArray();
      writer_.EndObject();
    }
    writer_.EndArray();

    Key("direct_marketing");
    writer_.Bool(purpose.direct_marketing);
    Key("profiling");
    writer_.Bool(purpose.profiling);
    Key("automated_decision");
    if (purpose.automated_decision.present) {
      writer_.StartObject();
      OptionalField("logic", purpose.automated_decision.logic);
      OptionalField("significance", purpose.automated_decision.significance);
      Key("human_review");
      writer_.Bool(purpose.automated_decision.human_review);
      writer_.EndObject();
    } else {
      writer_.Null();
    }
    writer_.EndObject();
  }

  const Policy& p_;
  rapidjson::StringBuffer buffer_;
  JsonWriter writer_;
};

}  // namespace

std::string RenderRopaCsv(const Policy& policy) {
  std::string out;
  AppendCsvLine(out, std::vector<std::string>(std::begin(kCsvHeader), std::end(kCsvHeader)));
  for (const Activity& activity : BuildActivities(policy)) {
    AppendCsvLine(out, CsvRow(policy, activity));
  }
  return out;
}

std::string RenderRopaJson(const Policy& policy) { return RopaJson(policy).Write(); }

}  // namespace custos::policy
