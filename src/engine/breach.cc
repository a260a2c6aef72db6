// The breach register's model: its sealed details as JSON, the regulator's clock, whether the
// people must be told, and the documents made from a breach (the ICO-shaped report, the notice
// to a person, the register's JSON).
#include "engine/breach.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "engine/people_words.h"
#include "engine/request_internal.h"
#include "policy/notice.h"

namespace custos::engine {

namespace {

using internal::GetString;
using internal::Str;
using internal::Writer;

void Int(Writer& w, std::string_view key, int64_t value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.Int64(value);
}
void Bool(Writer& w, std::string_view key, bool value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.Bool(value);
}
void Time(Writer& w, std::string_view key, const std::optional<Timestamp>& at) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  if (at) {
    std::string text = at->ToString();
    w.String(text.c_str(), static_cast<rapidjson::SizeType>(text.size()));
  } else {
    w.Null();
  }
}
void List(Writer& w, std::string_view key, const std::vector<std::string>& values) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.StartArray();
  for (const auto& v : values) w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
  w.EndArray();
}

std::optional<Timestamp> GetTime(const rapidjson::Value& o, const char* key) {
  std::string text = GetString(o, key);
  if (text.empty()) return std::nullopt;
  return Timestamp::Parse(text);
}
int64_t GetInt(const rapidjson::Value& o, const char* key) {
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : 0;
}
std::vector<std::string> GetList(const rapidjson::Value& o, const char* key) {
  std::vector<std::string> out;
  auto it = o.FindMember(key);
  if (it == o.MemberEnd() || !it->value.IsArray()) return out;
  for (const auto& v : it->value.GetArray()) {
    if (v.IsString()) out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return out;
}

std::string RiskWords(std::string_view risk) {
  if (risk == "none") return "unlikely to result in a risk to people's rights and freedoms";
  if (risk == "risk") return "likely to result in a risk to people's rights and freedoms";
  if (risk == "high_risk") return "likely to result in a high risk to people's rights and freedoms";
  return "not yet assessed";
}

void ScopeJson(Writer& w, const BreachScope& s) {
  w.StartObject();
  List(w, "categories", s.categories);
  List(w, "purposes", s.purposes);
  List(w, "subject_types", s.subject_types);
  Time(w, "from", s.from);
  Time(w, "to", s.to);
  w.EndObject();
}

void ClockJson(Writer& w, const BreachClock& c) {
  w.StartObject();
  Time(w, "due_at", c.due_at);
  Bool(w, "report_needed", c.report_needed);
  Bool(w, "reported", c.reported);
  Bool(w, "overdue", c.overdue);
  Bool(w, "reported_late", c.reported_late);
  Int(w, "seconds_left", c.seconds_left);
  w.EndObject();
}

}  // namespace

bool IsBreachRisk(std::string_view risk) {
  return std::find(std::begin(kBreachRisks), std::end(kBreachRisks), risk) !=
         std::end(kBreachRisks);
}

std::string BreachDetails::ToJson() const {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Time(w, "discovered_at", discovered_at);
  Str(w, "nature", nature);
  Str(w, "how_discovered", how_discovered);
  Bool(w, "cyber_incident", cyber_incident);
  w.Key("scope");
  ScopeJson(w, scope);
  Int(w, "people", people);
  Int(w, "records", records);
  Time(w, "counted_at", counted_at);
  Str(w, "consequences", consequences);
  Str(w, "measures", measures);
  Str(w, "risk_reasoning", risk_reasoning);
  Str(w, "regulator_reference", regulator_reference);
  Str(w, "delay_reason", delay_reason);
  Time(w, "people_told_at", people_told_at);
  Int(w, "notices_queued", notices_queued);
  Str(w, "people_not_told_reason", people_not_told_reason);
  Time(w, "controller_told_at", controller_told_at);
  w.Key("messages_read_by_hand");
  w.StartArray();
  for (int64_t id : messages_read_by_hand) w.Int64(id);
  w.EndArray();
  w.EndObject();
  return buffer.GetString();
}

Result<BreachDetails> BreachDetails::FromJson(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Status(ErrorCode::kInternal, "a breach's details do not parse");
  }
  BreachDetails d;
  d.discovered_at = GetTime(doc, "discovered_at").value_or(Timestamp{});
  d.nature = GetString(doc, "nature");
  d.how_discovered = GetString(doc, "how_discovered");
  d.cyber_incident = doc.HasMember("cyber_incident") && doc["cyber_incident"].IsBool() &&
                     doc["cyber_incident"].GetBool();
  if (doc.HasMember("scope") && doc["scope"].IsObject()) {
    const rapidjson::Value& s = doc["scope"];
    d.scope.categories = GetList(s, "categories");
    d.scope.purposes = GetList(s, "purposes");
    d.scope.subject_types = GetList(s, "subject_types");
    d.scope.from = GetTime(s, "from");
    d.scope.to = GetTime(s, "to");
  }
  d.people = GetInt(doc, "people");
  d.records = GetInt(doc, "records");
  d.counted_at = GetTime(doc, "counted_at").value_or(Timestamp{});
  d.consequences = GetString(doc, "consequences");
  d.measures = GetString(doc, "measures");
  d.risk_reasoning = GetString(doc, "risk_reasoning");
  d.regulator_reference = GetString(doc, "regulator_reference");
  d.delay_reason = GetString(doc, "delay_reason");
  d.people_told_at = GetTime(doc, "people_told_at");
  d.notices_queued = GetInt(doc, "notices_queued");
  d.people_not_told_reason = GetString(doc, "people_not_told_reason");
  d.controller_told_at = GetTime(doc, "controller_told_at");
  if (doc.HasMember("messages_read_by_hand") && doc["messages_read_by_hand"].IsArray()) {
    for (const auto& v : doc["messages_read_by_hand"].GetArray()) {
      if (v.IsInt64()) d.messages_read_by_hand.push_back(v.GetInt64());
    }
  }
  return d;
}

BreachClock RegulatorClock(const policy::Policy& policy, const Breach& breach, Timestamp now) {
  BreachClock clock;
  const std::optional<policy::Period>& within = policy.breach.notify_regulator_within;
  clock.due_at = within && within->value
                     ? AddPeriod(breach.aware_at, *within->value)
                     : Timestamp{breach.aware_at.micros + kStatutoryReportMicros};
  clock.report_needed = breach.risk != "none";
  clock.reported = breach.reported_at.has_value();
  clock.reported_late = clock.reported && *breach.reported_at > clock.due_at;
  clock.overdue = clock.report_needed && !clock.reported && now > clock.due_at;
  clock.seconds_left = (clock.due_at.micros - now.micros) / 1000000;
  return clock;
}

bool PeopleMustBeTold(const policy::Policy& policy, const Breach& breach) {
  const std::string& rule = policy.breach.notify_subjects;
  if (rule == "never") return false;
  if (rule == "always") return breach.risk != "none";
  return breach.risk == "high_risk";
}

BreachNotice BreachNoticeFor(const policy::Policy& policy, const Breach& breach) {
  const BreachDetails& d = breach.details;
  BreachNotice notice;
  notice.subject = "A personal data breach at " + policy.controller.name + " affects your data";
  std::string& b = notice.body;
  b = "We are writing to tell you about a personal data breach at " + policy.controller.name +
      " that involves information about you.\n\n";
  b += "What happened: " + d.nature + "\n\n";
  b += "Which of your information was involved: " +
       Names(policy, d.scope.categories, CategoryName, "the information we hold about you") +
       ".\n\n";
  if (!d.consequences.empty()) b += "What this may mean for you: " + d.consequences + "\n\n";
  if (!d.measures.empty()) b += "What we have done and are doing about it: " + d.measures + "\n\n";
  b += "If you have questions, or want to know more, contact " + ContactPoint(policy) + ".\n";
  if (!policy.regulator.name.empty()) {
    b += "\nYou also have the right to complain to " + policy.regulator.name +
         (policy.regulator.website.empty() ? "" : " (" + policy.regulator.website + ")") + ".\n";
  }
  return notice;
}

std::string BreachJson(const policy::Policy& policy, const Breach& breach, Timestamp now) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Str(w, "breach_id", breach.id);
  Int(w, "version", breach.version);
  Time(w, "aware_at", breach.aware_at);
  Time(w, "discovered_at", breach.details.discovered_at);
  Str(w, "risk", breach.risk);
  Time(w, "reported_at", breach.reported_at);
  Time(w, "closed_at", breach.closed_at);
  Time(w, "updated_at", breach.updated_at);
  w.Key("regulator_clock");
  ClockJson(w, RegulatorClock(policy, breach, now));
  Bool(w, "people_must_be_told", PeopleMustBeTold(policy, breach));
  w.Key("details");
  const std::string details = breach.details.ToJson();
  w.RawValue(details.c_str(), details.size(), rapidjson::kObjectType);
  w.EndObject();
  return buffer.GetString();
}

std::string BreachReportJson(const policy::Policy& policy, const Breach& breach, Timestamp now) {
  const BreachDetails& d = breach.details;
  const BreachClock clock = RegulatorClock(policy, breach, now);
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Str(w, "form", "ICO personal data breach report");
  Str(w, "report_type", breach.reported_at ? "follow_up" : "initial");
  Str(w, "breach_id", breach.id);
  Time(w, "prepared_at", now);

  w.Key("organisation");
  w.StartObject();
  Str(w, "name",
      policy.controller.legal_name.empty() ? policy.controller.name : policy.controller.legal_name);
  Str(w, "registration_number", policy.controller.registration);
  Str(w, "address", policy.controller.address);
  Str(w, "role", policy.controller.role == policy::Role::kProcessor ? "processor" : "controller");
  Str(w, "contact", ContactPoint(policy));
  w.EndObject();

  w.Key("about_the_breach");
  w.StartObject();
  Str(w, "what_happened", d.nature);
  Str(w, "how_discovered", d.how_discovered);
  Time(w, "happened_from", d.scope.from);
  Time(w, "happened_to", d.scope.to);
  Time(w, "discovered_at", d.discovered_at);
  Time(w, "aware_at", breach.aware_at);
  Time(w, "report_due_at", clock.due_at);
  Bool(w, "overdue", clock.overdue);
  Bool(w, "reported_late", clock.reported_late);
  Str(w, "reasons_for_delay", d.delay_reason);
  Bool(w, "cyber_incident", d.cyber_incident);
  w.EndObject();

  w.Key("personal_data_placed_at_risk");
  w.StartObject();
  w.Key("categories_of_data");
  w.StartArray();
  for (const auto& c : d.scope.categories) {
    const policy::Category* category = policy.FindCategory(c);
    w.StartObject();
    Str(w, "key", c);
    Str(w, "name", CategoryName(policy, c));
    Bool(w, "special_category", category != nullptr && category->special);
    w.EndObject();
  }
  w.EndArray();
  w.Key("categories_of_people");
  w.StartArray();
  for (const auto& t : d.scope.subject_types) {
    std::string name = SubjectTypeName(policy, t);
    w.String(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
  }
  w.EndArray();
  Int(w, "number_of_people", d.people);
  Int(w, "number_of_records", d.records);
  Time(w, "counted_at", d.counted_at);
  Str(w, "likely_consequences", d.consequences);
  Str(w, "risk", breach.risk);
  Str(w, "risk_reasoning", d.risk_reasoning);
  w.EndObject();

  w.Key("containment_and_recovery");
  w.StartObject();
  Str(w, "measures", d.measures);
  w.EndObject();

  w.Key("notifying_people");
  w.StartObject();
  Bool(w, "must_be_told", PeopleMustBeTold(policy, breach));
  Time(w, "told_at", d.people_told_at);
  Int(w, "notices_queued", d.notices_queued);
  Str(w, "why_not_told", d.people_not_told_reason);
  w.EndObject();

  w.Key("other_organisations");
  w.StartObject();
  Time(w, "controller_told_at", d.controller_told_at);
  Str(w, "regulator_reference", d.regulator_reference);
  Time(w, "reported_to_regulator_at", breach.reported_at);
  w.EndObject();
  w.EndObject();
  return buffer.GetString();
}

std::string BreachReportHtml(const policy::Policy& policy, const Breach& breach, Timestamp now) {
  using policy::EscapeHtml;
  const BreachDetails& d = breach.details;
  const BreachClock clock = RegulatorClock(policy, breach, now);
  auto when = [](const std::optional<Timestamp>& at) {
    return at ? at->ToString() : std::string("not known");
  };
  auto text = [](const std::string& s) { return s.empty() ? std::string("not recorded") : s; };
  std::string h;
  auto row = [&](std::string_view label, const std::string& value) {
    h += "<tr><th scope=\"row\">" + EscapeHtml(label) + "</th><td>" + EscapeHtml(value) +
         "</td></tr>\n";
  };
  auto section = [&](std::string_view title) {
    h += "</table>\n<h2>" + EscapeHtml(title) + "</h2>\n<table>\n";
  };
  h += "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<title>Personal data breach report " +
       EscapeHtml(breach.id) +
       "</title>"
       "<style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;"
       "padding:0 1rem;line-height:1.5}table{border-collapse:collapse;width:100%}"
       "th,td{text-align:left;vertical-align:top;border-bottom:1px solid #ccc;padding:.4rem}"
       "th{width:35%}.overdue{color:#a00;font-weight:bold}</style></head><body>\n";
  h += "<main><h1>Personal data breach report " + EscapeHtml(breach.id) + "</h1>\n";
  h += "<p>" + std::string(breach.reported_at ? "Follow-up report" : "Initial report") +
       ", prepared " + EscapeHtml(now.ToString()) +
       ", in the sections of the ICO's breach "
       "report form.</p>\n";
  if (clock.overdue) {
    h += "<p class=\"overdue\">Overdue: the report was due " + EscapeHtml(clock.due_at.ToString()) +
         ".</p>\n";
  }
  h += "<h2>About your organisation</h2>\n<table>\n";
  row("Organisation",
      policy.controller.legal_name.empty() ? policy.controller.name : policy.controller.legal_name);
  row("Registration number", text(policy.controller.registration));
  row("Role", policy.controller.role == policy::Role::kProcessor ? "Processor" : "Controller");
  row("Contact", ContactPoint(policy));
  section("About the breach");
  row("What happened", text(d.nature));
  row("How you found out", text(d.how_discovered));
  row("When it happened", when(d.scope.from) + " to " + when(d.scope.to));
  row("When you discovered it", d.discovered_at.ToString());
  row("When you became aware", breach.aware_at.ToString());
  row("Report due", clock.due_at.ToString());
  row("Reasons for any delay", text(d.delay_reason));
  row("Caused by a cyber incident", d.cyber_incident ? "Yes" : "No");
  section("Personal data placed at risk");
  row("Categories of data", Names(policy, d.scope.categories, CategoryName, "not recorded"));
  row("Categories of people",
      Names(policy, d.scope.subject_types, SubjectTypeName, "all kinds of people we hold"));
  row("Purposes the data was held for",
      Names(policy, d.scope.purposes, PurposeName, "all purposes"));
  row("Number of people", std::to_string(d.people));
  row("Number of records", std::to_string(d.records));
  row("Likely consequences", text(d.consequences));
  row("Risk", RiskWords(breach.risk));
  row("Why", text(d.risk_reasoning));
  section("Containment and recovery");
  row("Actions taken or proposed", text(d.measures));
  section("Telling the people affected");
  row("Must they be told", PeopleMustBeTold(policy, breach) ? "Yes" : "No");
  row("Told", d.people_told_at ? d.people_told_at->ToString() + " (" +
                                     std::to_string(d.notices_queued) + " notices)"
                               : "Not yet");
  if (!d.people_not_told_reason.empty()) row("Why not told", d.people_not_told_reason);
  section("Other organisations");
  row("Controller told (as processor)", when(d.controller_told_at));
  row("Reported to the regulator", when(breach.reported_at));
  row("Regulator's reference", text(d.regulator_reference));
  h += "</table>\n</main></body></html>\n";
  return h;
}

}  // namespace custos::engine
