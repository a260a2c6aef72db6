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
  RecordDetails record;                         // the purpose's own details over the policy's
  bool criminal = false;                        // touches criminal offence data (Article 10)
  bool needs_schedule1 = false;                 // a DPA 2018 Schedule 1 condition is needed
  bool needs_apd = false;                       // ...with an appropriate policy document
  std::vector<std::string> rights;              // right keys available under its basis
};

// One of the ICO template's columns for an activity: `applies` false when the column does not
// concern it (a legitimate interests assessment for a consent purpose); an empty value where it
// applies is what the policy does not state, and the record says so.
struct Column {
  std::string key, value;
  bool applies = true;
};

constexpr std::string_view kNotStated = "not stated";

// Article 9(2) conditions that need a Schedule 1 condition of the DPA 2018 (s.10(2)-(3)), and
// those whose Schedule 1 condition also needs an appropriate policy document (Sch. 1 paras 1, 5
// and Part 2): employment and social security, and substantial public interest.
bool NeedsSchedule1(std::string_view condition) {
  return condition == "employment_social_security" || condition == "substantial_public_interest" ||
         condition == "health_social_care" || condition == "public_health" ||
         condition == "archiving_research_statistics";
}
bool NeedsPolicyDocument(std::string_view condition) {
  return condition == "employment_social_security" || condition == "substantial_public_interest";
}

// The rights a person has over data processed on `purpose`'s basis (the ICO's table of rights
// by lawful basis), among those the policy grants: no erasure or portability under a legal
// obligation or a public task (Article 17(3)(b), 20(1)); objection only under legitimate
// interests or a public task (21(1)), or against direct marketing (21(2)); portability under
// consent or contract; consent withdrawn only where it is the basis; a review of a decision
// only where one is automated.
std::vector<std::string> RightsUnderBasis(const Policy& policy, const Purpose& purpose) {
  LawfulBasis basis = purpose.basis;
  std::vector<std::string> out;
  for (const auto& right : policy.rights.available) {
    bool applies = true;
    if (right == "erasure") {
      applies = basis != LawfulBasis::kLegalObligation && basis != LawfulBasis::kPublicTask;
    } else if (right == "portability") {
      applies = basis == LawfulBasis::kConsent || basis == LawfulBasis::kContract;
    } else if (right == "objection") {
      applies = basis == LawfulBasis::kLegitimateInterests || basis == LawfulBasis::kPublicTask ||
                purpose.direct_marketing;
    } else if (right == "withdraw_consent") {
      applies = basis == LawfulBasis::kConsent;
    } else if (right == "automated_decision_review") {
      applies = purpose.automated_decision.present;
    } else if (right == "marketing_opt_out") {
      applies = purpose.direct_marketing;
    }
    if (applies) out.push_back(right);
  }
  return out;
}

// The purpose's own record details, each field falling back to the policy's.
RecordDetails MergeRecord(const RecordDetails& own, const RecordDetails& shared) {
  RecordDetails out = own;
  auto fill = [](std::string& field, const std::string& fallback) {
    if (field.empty()) field = fallback;
  };
  fill(out.business_function, shared.business_function);
  fill(out.owner, shared.owner);
  if (out.systems.empty()) out.systems = shared.systems;
  fill(out.dpia, shared.dpia);
  fill(out.lia, shared.lia);
  fill(out.joint_controller, shared.joint_controller);
  fill(out.schedule1_condition, shared.schedule1_condition);
  fill(out.appropriate_policy_document, shared.appropriate_policy_document);
  fill(out.article10_basis, shared.article10_basis);
  fill(out.retention_schedule, shared.retention_schedule);
  if (!out.review_date) out.review_date = shared.review_date;
  return out;
}

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
  auto add = [&activity](const Recipient* recipient) {
    if (recipient != nullptr && std::find(activity.recipients.begin(), activity.recipients.end(),
                                          recipient) == activity.recipients.end()) {
      activity.recipients.push_back(recipient);
    }
  };
  for (const auto& ref : purpose.recipients) add(policy.FindRecipient(ref.key));
  // A recipient no purpose names receives data by what it is given: it belongs to every
  // activity whose data it receives (all of them when it names no categories), so no
  // recipient the notice declares is missing from the record.
  for (const auto& recipient : policy.recipients) {
    if (recipient.processor_of) continue;  // reached through its processor below
    bool named = std::any_of(
        policy.purposes.begin(), policy.purposes.end(),
        [&recipient](const Purpose& p) { return ContainsKey(p.recipients, recipient.key); });
    if (named) continue;
    bool receives =
        recipient.categories.empty() ||
        std::any_of(recipient.categories.begin(), recipient.categories.end(),
                    [&purpose](const Ref& given) {
                      return std::any_of(
                          purpose.categories.begin(), purpose.categories.end(),
                          [&given](const Ref& used) { return Overlaps(given.key, used.key); });
                    });
    if (receives) add(&recipient);
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
  activity.record = MergeRecord(purpose.record, policy.record);
  for (const Category* category : activity.special) {
    bool criminal = CategoryCovers("user.criminal_history", category->key);
    activity.criminal = activity.criminal || criminal;
    activity.needs_schedule1 =
        activity.needs_schedule1 || criminal || NeedsSchedule1(category->condition);
    activity.needs_apd = activity.needs_apd || criminal || NeedsPolicyDocument(category->condition);
  }
  activity.rights = RightsUnderBasis(policy, purpose);
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
// The ICO template's columns beyond Article 30(1)'s own, in the order both formats write them.

std::string JoinTexts(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i > 0 ? "; " : "") + items[i];
  return out;
}

// Where the activity's data is: the places the record names, then each system of the policy's
// `systems:` whose datasets hold one of its categories ("WIG CRM platform (contacts, bookings)").
std::vector<std::string> DataLocations(const Policy& policy, const Activity& activity) {
  std::vector<std::string> out = activity.record.systems;
  for (const auto& system : policy.systems) {
    std::vector<std::string> datasets;
    for (const auto& dataset : system.datasets) {
      bool holds = false;
      for (const auto& field : dataset.fields) {
        for (const auto& ref : activity.purpose->categories) {
          holds = holds || (!field.category.empty() && (CategoryCovers(ref.key, field.category) ||
                                                        CategoryCovers(field.category, ref.key)));
        }
      }
      if (holds) datasets.push_back(dataset.key);
    }
    if (datasets.empty()) continue;
    std::string place = system.name + " (";
    for (size_t i = 0; i < datasets.size(); ++i) place += (i ? ", " : "") + datasets[i];
    out.push_back(place + ")");
  }
  return out;
}

std::vector<Column> RecordColumns(const Policy& policy, const Activity& activity) {
  const Purpose& purpose = *activity.purpose;
  const RecordDetails& record = activity.record;
  std::vector<Column> out;
  out.push_back({"business_function", record.business_function});
  out.push_back({"business_owner", record.owner});
  std::string joint = record.joint_controller;
  if (joint.empty()) {
    std::vector<std::string> names;
    for (const Recipient* recipient : activity.recipients) {
      if (recipient->kind == RecipientKind::kJointController) names.push_back(recipient->name);
    }
    joint = JoinTexts(names);
  }
  out.push_back({"joint_controller", joint});
  out.push_back({"lia_reference", record.lia, purpose.basis == LawfulBasis::kLegitimateInterests});
  out.push_back({"dpia", record.dpia == "not_required" ? "not required" : record.dpia});
  out.push_back({"schedule1_condition", record.schedule1_condition, activity.needs_schedule1});
  out.push_back(
      {"appropriate_policy_document", record.appropriate_policy_document, activity.needs_apd});
  out.push_back({"article10_basis", record.article10_basis, activity.criminal});
  std::vector<std::string> contracts;
  for (const Recipient* recipient : activity.recipients) {
    if (recipient->kind != RecipientKind::kProcessor &&
        recipient->kind != RecipientKind::kSubProcessor) {
      continue;
    }
    contracts.push_back(
        recipient->name + ": " +
        (recipient->contract.empty() ? std::string(kNotStated) : recipient->contract) +
        (recipient->contract_date ? " (signed " + recipient->contract_date->ToString() + ")" : ""));
  }
  out.push_back({"processor_contracts", JoinTexts(contracts), !contracts.empty()});
  out.push_back({"location_of_data", JoinTexts(DataLocations(policy, activity))});
  std::vector<std::string> rights;
  for (const auto& right : activity.rights) rights.emplace_back(RightName(right));
  out.push_back({"rights_available", JoinTexts(rights)});
  out.push_back({"retention_schedule", record.retention_schedule});
  out.push_back({"review_date", record.review_date ? record.review_date->ToString() : ""});
  std::string version = policy.notice.version;
  if (!version.empty() && policy.notice.date) {
    version += " (" + policy.notice.date->ToString() + ")";
  }
  out.push_back({"policy_version", version});
  return out;
}

// A column as the CSV writes it: its value, "not stated", or empty where it does not apply.
std::string CsvCell(const Column& column) {
  if (!column.applies) return "";
  return column.value.empty() ? std::string(kNotStated) : column.value;
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
    if (!transfer.recipient->transfer_assessment.empty()) {
      text += "; transfer risk assessment " + transfer.recipient->transfer_assessment;
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

  std::vector<std::string> row = {
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
      purpose.task,
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
  for (const Column& column : RecordColumns(policy, activity)) row.push_back(CsvCell(column));
  return row;
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
    "public_task",
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
    OptionalField("public_task", purpose.task);

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
      OptionalField("transfer_assessment", transfer.recipient->transfer_assessment);
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

    // The ICO template's further columns: null where the policy does not state what applies;
    // a column that does not concern the activity is left out.
    Key("record");
    writer_.StartObject();
    for (const Column& column : RecordColumns(p_, activity)) {
      if (column.applies) OptionalField(column.key, column.value);
    }
    Key("rights_available_keys");
    writer_.StartArray();
    for (const auto& right : activity.rights) String(right);
    writer_.EndArray();
    writer_.EndObject();
    writer_.EndObject();
  }

  const Policy& p_;
  rapidjson::StringBuffer buffer_;
  JsonWriter writer_;
};

}  // namespace

std::string RenderRopaCsv(const Policy& policy) {
  std::string out;
  std::vector<std::string> header(std::begin(kCsvHeader), std::end(kCsvHeader));
  // The ICO columns' names come from the one list that makes them.
  Activity sample;
  Purpose none;
  sample.purpose = &none;
  for (const Column& column : RecordColumns(policy, sample)) header.push_back(column.key);
  AppendCsvLine(out, header);
  for (const Activity& activity : BuildActivities(policy)) {
    AppendCsvLine(out, CsvRow(policy, activity));
  }
  return out;
}

std::string RenderRopaJson(const Policy& policy) { return RopaJson(policy).Write(); }

std::vector<RecordGap> RequiredRecordGaps(const Policy& policy) {
  std::vector<RecordGap> gaps;
  for (const Activity& activity : BuildActivities(policy)) {
    for (const Column& column : RecordColumns(policy, activity)) {
      bool required = column.key == "schedule1_condition" ||
                      column.key == "appropriate_policy_document" ||
                      column.key == "article10_basis";
      if (required && column.applies && column.value.empty()) {
        gaps.push_back({activity.purpose->key, column.key, activity.purpose->loc});
      }
    }
  }
  return gaps;
}

}  // namespace custos::policy
