#include "policy/loader.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <functional>
#include <sstream>
#include <utility>

#include "policy/field_reader.h"
#include "policy/taxonomy.h"
#include "policy/validator.h"
#include "policy/yaml_tree.h"

namespace custos::policy {

namespace {

bool IsHexColour(std::string_view text) {
  if (text.size() != 7 || text[0] != '#') return false;
  for (char c : text.substr(1)) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

constexpr std::size_t kMaxPolicyBytes = 4 * 1024 * 1024;

// Events every policy may use without declaring them (docs/POLICY.md "events").
constexpr std::string_view kBuiltinEvents[] = {"collected", "subject_created", "erasure_requested",
                                               "consent_withdrawn", "objection_made"};

class PolicyParser {
 public:
  PolicyParser(Policy& policy, Diagnostics& diagnostics)
      : policy_(policy), diagnostics_(diagnostics) {}

  void Parse(const YamlNode& root) {
    if (root.kind == YamlNode::Kind::kNull) {
      diagnostics_.push_back({ErrorCode::kUnsupportedVersion, Loc{1, 1}, "the policy file is empty",
                              "start the file with 'custos: 1' (see docs/POLICY.md)"});
      return;
    }
    FieldReader top(root, "the policy", diagnostics_);
    if (!top.is_map()) return;
    ReadVersion(top);
    if (const YamlNode* node = top.Get("notice", true)) ReadNotice(*node);
    if (const YamlNode* node = top.Get("controller", true)) ReadController(*node);
    if (const YamlNode* node = top.Get("dpo")) ReadDpo(*node);
    if (const YamlNode* node = top.Get("contacts")) ReadContacts(*node);
    if (const YamlNode* node = top.Get("regulator", true)) ReadRegulator(*node);
    if (const YamlNode* node = top.Get("processor")) ReadProcessor(*node);
    if (const YamlNode* node = top.Get("subject_types", true)) ReadSubjectTypes(*node);
    if (const YamlNode* node = top.Get("events")) ReadEvents(*node);
    AddBuiltinEvents();
    if (const YamlNode* node = top.Get("sources", true)) ReadSources(*node);
    if (const YamlNode* node = top.Get("categories", true)) ReadCategories(*node);
    if (const YamlNode* node = top.Get("purposes", true)) ReadPurposes(*node);
    if (const YamlNode* node = top.Get("recipients")) ReadRecipients(*node);
    if (const YamlNode* node = top.Get("transfers", true)) ReadTransfers(*node);
    if (const YamlNode* node = top.Get("retention", true)) ReadRetention(*node);
    if (const YamlNode* node = top.Get("rights", true)) ReadRights(*node);
    if (const YamlNode* node = top.Get("cookies")) ReadCookies(*node);
    if (const YamlNode* node = top.Get("security")) ReadSecurity(*node);
    if (const YamlNode* node = top.Get("breach")) ReadBreach(*node);
    if (const YamlNode* node = top.Get("anonymisation")) ReadAnonymisation(*node);
    if (const YamlNode* node = top.Get("third_party_apps")) ReadThirdPartyApps(*node);
    if (const YamlNode* node = top.Get("record")) ReadRecord(*node, "record", policy_.record);
    if (const YamlNode* node = top.Get("systems"))
      ReadSystems(*node, policy_.systems, diagnostics_);
    top.Finish();
  }

 private:
  void Report(ErrorCode code, Loc loc, std::string message, std::string hint) {
    diagnostics_.push_back({code, loc, std::move(message), std::move(hint)});
  }

  // Calls `read(key, key_loc, value)` for each entry of a keyed map whose keys are identifiers
  // (or, with dotted=true, dotted category keys).
  void ForEachKeyed(const YamlNode& node, const std::string& section, bool dotted,
                    const std::function<void(const std::string&, Loc, const YamlNode&)>& read) {
    if (!node.IsMap()) {
      Report(ErrorCode::kWrongType, node.loc, "'" + section + "' must be a map of keys",
             "write one 'key: {...}' entry per line under '" + section + "'");
      return;
    }
    for (const auto& [key, value] : node.entries) {
      bool valid = dotted ? IsCategoryKey(key.scalar) : IsIdentifier(key.scalar);
      if (!valid) {
        Report(ErrorCode::kInvalidValue, key.loc,
               "'" + key.scalar + "' is not a valid key in '" + section + "'",
               dotted ? "category keys are dotted lower-case words, e.g. user.contact.email"
                      : "keys are lower-case words joined by '_', e.g. event_booking");
        continue;
      }
      read(key.scalar, key.loc, value);
    }
  }

  static bool IsCategoryKey(std::string_view key) {
    size_t start = 0;
    while (true) {
      size_t dot = key.find('.', start);
      std::string_view part = key.substr(start, dot == std::string_view::npos ? dot : dot - start);
      if (!IsIdentifier(part)) return false;
      if (dot == std::string_view::npos) return true;
      start = dot + 1;
    }
  }

  void ReadVersion(FieldReader& top) {
    const YamlNode* version = top.Get("custos");
    if (version == nullptr || !version->IsScalar() || version->scalar != "1") {
      Report(ErrorCode::kUnsupportedVersion, version ? version->loc : Loc{1, 1},
             version ? "policy format version '" + version->scalar + "' is not supported"
                     : "the policy does not say its format version",
             "start the file with 'custos: 1'");
      return;
    }
    policy_.format_version = 1;
  }

  void ReadNotice(const YamlNode& node) {
    FieldReader r(node, "notice", diagnostics_);
    r.Text("version", policy_.notice.version, true);
    std::string date;
    if (r.Text("date", date)) {
      policy_.notice.date = CivilDate::Parse(date);
      if (!policy_.notice.date) {
        Report(ErrorCode::kInvalidValue, node.Find("date")->loc,
               "notice.date '" + date + "' is not a calendar date",
               "write the date as YYYY-MM-DD, e.g. 2022-11-23");
      }
    }
    r.Text("date_text", policy_.notice.date_text);
    r.Text("title", policy_.notice.title);
    r.Text("url", policy_.notice.url);
    r.Text("changes", policy_.notice.changes);
    r.TextList("scope", policy_.notice.scope);
    r.Bool("not_for_children", policy_.notice.not_for_children);
    if (const YamlNode* list = r.Get("statements")) ReadStatements(*list);
    if (const YamlNode* list = r.Get("glossary")) ReadGlossary(*list);
    if (const YamlNode* list = r.Get("history")) ReadHistory(*list);
    r.Finish();
  }

  void ReadHistory(const YamlNode& node) {
    if (!node.IsSeq()) {
      Report(ErrorCode::kWrongType, node.loc, "'notice.history' must be a list",
             "write each earlier version as a '- {version: ..., date: ..., summary: ...}' item");
      return;
    }
    for (const auto& item : node.items) {
      FieldReader r(item, "notice history entry", diagnostics_);
      NoticeVersion entry;
      r.Text("version", entry.version, true);
      std::string date;
      if (r.Text("date", date)) {
        entry.date = CivilDate::Parse(date);
        if (!entry.date) {
          Report(ErrorCode::kInvalidValue, item.Find("date")->loc,
                 "notice.history date '" + date + "' is not a calendar date",
                 "write the date as YYYY-MM-DD, e.g. 2021-06-01");
        }
      }
      r.Text("summary", entry.summary);
      r.Finish();
      policy_.notice.history.push_back(std::move(entry));
    }
  }

  void ReadStatements(const YamlNode& node) {
    if (!node.IsSeq()) {
      Report(ErrorCode::kWrongType, node.loc, "'notice.statements' must be a list",
             "write each statement as a '- {section: ..., text: ...}' item");
      return;
    }
    for (const auto& item : node.items) {
      FieldReader r(item, "notice statement", diagnostics_);
      Statement statement;
      statement.loc = item.loc;
      std::string section;
      if (r.Text("section", section, true)) {
        const auto& known = StatementSections();
        if (std::find(known.begin(), known.end(), section) == known.end()) {
          std::string names;
          for (auto name : known) names += (names.empty() ? "" : ", ") + std::string(name);
          Report(ErrorCode::kInvalidValue, item.Find("section")->loc,
                 "statement section '" + section + "' is not a section of the notice",
                 "use one of: " + names);
        }
        statement.section = section;
      }
      r.Text("text", statement.text, true);
      r.Finish();
      policy_.notice.statements.push_back(std::move(statement));
    }
  }

  void ReadGlossary(const YamlNode& node) {
    if (!node.IsSeq()) {
      Report(ErrorCode::kWrongType, node.loc, "'notice.glossary' must be a list",
             "write each term as a '- {term: ..., meaning: ...}' item");
      return;
    }
    for (const auto& item : node.items) {
      FieldReader r(item, "glossary entry", diagnostics_);
      GlossaryEntry entry;
      entry.loc = item.loc;
      r.Text("term", entry.term, true);
      r.Text("meaning", entry.meaning, true);
      r.Finish();
      policy_.notice.glossary.push_back(std::move(entry));
    }
  }

  void ReadController(const YamlNode& node) {
    FieldReader r(node, "controller", diagnostics_);
    Controller& c = policy_.controller;
    r.Text("name", c.name, true);
    r.Text("legal_name", c.legal_name);
    r.Text("company_number", c.company_number);
    r.Text("registration", c.registration);
    r.Text("address", c.address);
    r.Text("email", c.email);
    r.Text("phone", c.phone);
    r.Text("website", c.website);
    r.Text("represents", c.represents);
    if (r.Text("colour", c.colour) && !IsHexColour(c.colour)) {
      Report(ErrorCode::kInvalidValue, r.Get("colour")->loc,
             "controller 'colour' must be a colour written #rrggbb",
             "write six hexadecimal digits after '#', e.g. colour: \"#1d4f91\"");
    }
    std::string role;
    if (r.Enum("role", role, {"controller", "processor"})) {
      c.role = role == "processor" ? Role::kProcessor : Role::kController;
    }
    r.Finish();
  }

  void ReadDpo(const YamlNode& node) {
    FieldReader r(node, "dpo", diagnostics_);
    policy_.dpo.present = true;
    r.Text("name", policy_.dpo.name);
    r.Text("email", policy_.dpo.email);
    r.Text("phone", policy_.dpo.phone);
    r.Text("address", policy_.dpo.address);
    r.Finish();
  }

  void ReadContacts(const YamlNode& node) {
    ForEachKeyed(node, "contacts", false,
                 [this](const std::string& key, Loc loc, const YamlNode& v) {
                   FieldReader r(v, "contact '" + key + "'", diagnostics_);
                   Contact c;
                   c.key = key;
                   c.loc = loc;
                   r.Enum("purpose", c.purpose,
                          {"general", "rights_requests", "withdraw_consent", "complaints",
                           "marketing_opt_out", "dpo", "security"},
                          true);
                   r.Text("name", c.name);
                   r.Text("email", c.email);
                   if (c.email == "not_stated") {
                     c.email.clear();
                     c.email_not_stated = true;
                   }
                   r.Text("phone", c.phone);
                   r.Text("address", c.address);
                   r.Text("url", c.url);
                   r.Finish();
                   policy_.contacts.push_back(std::move(c));
                 });
  }

  void ReadRegulator(const YamlNode& node) {
    FieldReader r(node, "regulator", diagnostics_);
    Regulator& g = policy_.regulator;
    r.Text("name", g.name, true);
    r.Text("address", g.address);
    r.Text("phone", g.phone);
    r.Text("website", g.website);
    r.Text("country", g.country);
    r.Bool("first_contact_us", g.first_contact_us);
    r.Text("other_regulators", g.other_regulators);
    r.Finish();
  }

  void ReadProcessor(const YamlNode& node) {
    FieldReader r(node, "processor", diagnostics_);
    ProcessorRole& p = policy_.processor;
    p.present = true;
    r.Text("controllers", p.controllers, true);
    r.Text("instructions", p.instructions);
    r.Enum("requests", p.requests, {"forward_to_controller", "answer"});
    r.Bool("breach_notify_controller", p.breach_notify_controller);
    r.Finish();
  }

  void ReadSubjectTypes(const YamlNode& node) {
    ForEachKeyed(node, "subject_types", false,
                 [this](const std::string& key, Loc loc, const YamlNode& v) {
                   SubjectType t;
                   t.key = key;
                   t.loc = loc;
                   if (v.kind != YamlNode::Kind::kNull) {
                     FieldReader r(v, "subject type '" + key + "'", diagnostics_);
                     r.Text("name", t.name);
                     r.Text("description", t.description);
                     if (r.Text("fideslang", t.fideslang) && !FindFideslangSubject(t.fideslang)) {
                       Report(ErrorCode::kInvalidValue, v.Find("fideslang")->loc,
                              "'" + t.fideslang + "' is not a fideslang data subject",
                              "use one of fideslang's subjects (customer, employee, "
                              "job_applicant, prospect, ...) or remove the field");
                     }
                     r.Finish();
                   }
                   policy_.subject_types.push_back(std::move(t));
                 });
  }

  void ReadEvents(const YamlNode& node) {
    ForEachKeyed(node, "events", false, [this](const std::string& key, Loc loc, const YamlNode& v) {
      Event e;
      e.key = key;
      e.loc = loc;
      if (v.kind != YamlNode::Kind::kNull) {
        FieldReader r(v, "event '" + key + "'", diagnostics_);
        r.Text("name", e.name);
        r.Text("description", e.description);
        r.RefList("resets", e.resets);
        r.Finish();
      }
      policy_.events.push_back(std::move(e));
    });
  }

  void AddBuiltinEvents() {
    for (auto key : kBuiltinEvents) {
      if (policy_.FindEvent(key)) continue;
      Event e;
      e.key = std::string(key);
      e.builtin = true;
      policy_.events.push_back(std::move(e));
    }
  }

  void ReadSources(const YamlNode& node) {
    ForEachKeyed(
        node, "sources", false, [this](const std::string& key, Loc loc, const YamlNode& v) {
          FieldReader r(v, "source '" + key + "'", diagnostics_);
          Source s;
          s.key = key;
          s.loc = loc;
          std::string kind;
          if (r.Enum("kind", kind, {"direct", "third_party", "automated", "public"}, true)) {
            if (kind == "third_party") s.kind = SourceKind::kThirdParty;
            if (kind == "automated") s.kind = SourceKind::kAutomated;
            if (kind == "public") s.kind = SourceKind::kPublic;
          }
          r.Text("name", s.name);
          r.Text("description", s.description);
          r.Finish();
          policy_.sources.push_back(std::move(s));
        });
  }

  void ReadCategories(const YamlNode& node) {
    ForEachKeyed(node, "categories", true,
                 [this](const std::string& key, Loc loc, const YamlNode& v) {
                   Category c;
                   c.key = key;
                   c.loc = loc;
                   c.fideslang = FindFideslangCategory(key) != nullptr;
                   if (v.kind != YamlNode::Kind::kNull) {
                     FieldReader r(v, "category '" + key + "'", diagnostics_);
                     r.Text("name", c.name);
                     r.Text("description", c.description);
                     Ref parent;
                     if (r.OneRef("parent", parent)) c.parent = parent;
                     r.Bool("special", c.special);
                     r.Text("condition", c.condition);
                     r.Bool("identifying", c.identifying);
                     r.TextList("examples", c.examples);
                     r.Text("group", c.group);
                     r.Finish();
                     if (!c.condition.empty() && Article9Letter(c.condition).empty()) {
                       Report(ErrorCode::kInvalidValue, v.Find("condition")->loc,
                              "'" + c.condition + "' is not an Article 9(2) condition",
                              "use one of: explicit_consent, employment_social_security, "
                              "vital_interests, not_for_profit_body, made_public, legal_claims, "
                              "substantial_public_interest, health_social_care, public_health, "
                              "archiving_research_statistics");
                     }
                   }
                   policy_.categories.push_back(std::move(c));
                 });
  }

  static LawfulBasis BasisFromKey(std::string_view key) {
    if (key == "consent") return LawfulBasis::kConsent;
    if (key == "contract") return LawfulBasis::kContract;
    if (key == "legal_obligation") return LawfulBasis::kLegalObligation;
    if (key == "vital_interests") return LawfulBasis::kVitalInterests;
    if (key == "public_task") return LawfulBasis::kPublicTask;
    if (key == "legitimate_interests") return LawfulBasis::kLegitimateInterests;
    return LawfulBasis::kNone;
  }

  // The RoPA's details (policy.h RecordDetails), at the top of the policy or on a purpose.
  void ReadRecord(const YamlNode& node, const std::string& where, RecordDetails& out) {
    FieldReader r(node, where, diagnostics_);
    r.Text("business_function", out.business_function);
    r.Text("owner", out.owner);
    r.TextList("systems", out.systems);
    r.Text("dpia", out.dpia);
    r.Text("lia", out.lia);
    r.Text("joint_controller", out.joint_controller);
    r.Text("schedule1_condition", out.schedule1_condition);
    r.Text("appropriate_policy_document", out.appropriate_policy_document);
    r.Text("article10_basis", out.article10_basis);
    r.Text("retention_schedule", out.retention_schedule);
    std::string review;
    if (r.Text("review_date", review)) {
      out.review_date = CivilDate::Parse(review);
      if (!out.review_date) {
        Report(ErrorCode::kInvalidValue, node.Find("review_date")->loc,
               where + ".review_date '" + review + "' is not a calendar date",
               "write the date as YYYY-MM-DD, e.g. 2027-06-30");
      }
    }
    r.Finish();
  }

  void ReadPurposes(const YamlNode& node) {
    ForEachKeyed(
        node, "purposes", false, [this](const std::string& key, Loc loc, const YamlNode& v) {
          FieldReader r(v, "purpose '" + key + "'", diagnostics_);
          Purpose p;
          p.key = key;
          p.loc = loc;
          r.Text("name", p.name, true);
          r.Text("description", p.description);
          r.Text("activity", p.activity);
          std::string basis;
          // A missing basis is a semantic error (MISSING_LAWFUL_BASIS), reported by the validator.
          if (r.Enum("basis", basis,
                     {"consent", "contract", "legal_obligation", "vital_interests", "public_task",
                      "legitimate_interests"})) {
            p.basis = BasisFromKey(basis);
          }
          r.Text("interest", p.interest);
          r.Text("obligation", p.obligation);
          r.Text("task", p.task);
          if (const YamlNode* record = r.Get("record")) {
            ReadRecord(*record, "purpose '" + key + "'.record", p.record);
          }
          r.RefList("categories", p.categories, true);
          r.RefList("subjects", p.subjects);
          r.RefList("sources", p.sources);
          r.RefList("recipients", p.recipients);
          if (r.Text("use", p.use) && !FindFideslangUse(p.use)) {
            Report(ErrorCode::kInvalidValue, v.Find("use")->loc,
                   "'" + p.use + "' is not a fideslang data use",
                   "use a fideslang data use such as marketing.communications.email, or remove it");
          }
          r.Bool("direct_marketing", p.direct_marketing);
          r.Bool("soft_opt_in", p.soft_opt_in);
          r.Bool("profiling", p.profiling);
          r.TextList("channels", p.channels);
          for (const auto& channel : p.channels) {
            if (channel != "email" && channel != "sms" && channel != "post" && channel != "phone" &&
                channel != "in_app" && channel != "push") {
              Report(ErrorCode::kInvalidValue, v.Find("channels")->loc,
                     "channel '" + channel + "' is not known",
                     "use email, sms, post, phone, in_app or push");
            }
          }
          if (const YamlNode* ad = r.Get("automated_decision")) {
            FieldReader a(*ad, "purpose '" + key + "'.automated_decision", diagnostics_);
            p.automated_decision.present = true;
            a.Text("logic", p.automated_decision.logic, true);
            a.Text("significance", p.automated_decision.significance, true);
            a.Bool("human_review", p.automated_decision.human_review);
            a.Bool("solely", p.automated_decision.solely);
            a.Finish();
          }
          r.Enum("on_withdrawal", p.on_withdrawal, {"stop", "keep_obtained"});
          std::string since;
          if (r.Text("consent_since", since)) {
            p.consent_since = CivilDate::Parse(since);
            if (!p.consent_since) {
              Report(ErrorCode::kInvalidValue, v.Find("consent_since")->loc,
                     "purpose '" + key + "'.consent_since '" + since + "' is not a calendar date",
                     "write the date from which consent must have been given, e.g. 2026-02-01");
            } else if (p.basis != LawfulBasis::kConsent) {
              Report(ErrorCode::kInvalidValue, v.Find("consent_since")->loc,
                     "purpose '" + key + "' has consent_since but does not rest on consent",
                     "remove consent_since, or make the purpose's basis consent");
            }
          }
          r.Text("necessary_for_service", p.necessary_for_service);
          r.Finish();
          policy_.purposes.push_back(std::move(p));
        });
  }

  static std::optional<RecipientKind> RecipientKindFromKey(std::string_view key) {
    for (auto kind :
         {RecipientKind::kProcessor, RecipientKind::kSubProcessor, RecipientKind::kThirdParty,
          RecipientKind::kJointController, RecipientKind::kRegulator, RecipientKind::kAuthority,
          RecipientKind::kProfessionalAdviser, RecipientKind::kInternal, RecipientKind::kOtherUsers,
          RecipientKind::kPublic}) {
      if (RecipientKindKey(kind) == key) return kind;
    }
    return std::nullopt;
  }

  void ReadRecipients(const YamlNode& node) {
    ForEachKeyed(
        node, "recipients", false, [this](const std::string& key, Loc loc, const YamlNode& v) {
          FieldReader r(v, "recipient '" + key + "'", diagnostics_);
          Recipient c;
          c.key = key;
          c.loc = loc;
          r.Text("name", c.name, true);
          std::string kind;
          if (r.Enum("kind", kind,
                     {"processor", "sub_processor", "third_party", "joint_controller", "regulator",
                      "authority", "professional_adviser", "internal", "other_users", "public"},
                     true)) {
            c.kind = *RecipientKindFromKey(kind);
          }
          r.Text("description", c.description);
          Ref processor_of;
          if (r.OneRef("processor_of", processor_of)) c.processor_of = processor_of;
          r.RefList("countries", c.countries);
          r.Enum("safeguard", c.safeguard,
                 {"adequacy", "idta", "uk_addendum_scc", "scc", "bcr", "derogation", "not_stated"});
          r.Text("safeguard_note", c.safeguard_note);
          r.RefList("categories", c.categories);
          r.Enum("visibility", c.visibility, {"always", "user_settings", "on_request"});
          r.Text("when", c.when);
          r.Text("contract", c.contract);
          std::string signed_on;
          if (r.Text("contract_date", signed_on)) {
            c.contract_date = CivilDate::Parse(signed_on);
            if (!c.contract_date) {
              Report(
                  ErrorCode::kInvalidValue, v.Find("contract_date")->loc,
                  "recipients." + key + ".contract_date '" + signed_on + "' is not a calendar date",
                  "write the date the contract was signed as YYYY-MM-DD, e.g. 2025-04-01");
            }
          }
          r.Text("transfer_assessment", c.transfer_assessment);
          r.Finish();
          policy_.recipients.push_back(std::move(c));
        });
  }

  void ReadTransfers(const YamlNode& node) {
    FieldReader r(node, "transfers", diagnostics_);
    r.RefList("regions", policy_.transfers.regions, true);
    std::string outside;
    if (r.Enum("outside", outside, {"forbidden", "with_safeguard"})) {
      policy_.transfers.outside =
          outside == "forbidden" ? TransferRule::kForbidden : TransferRule::kWithSafeguard;
    }
    r.Text("note", policy_.transfers.note);
    r.Bool("stated", policy_.transfers.stated);
    r.Finish();
  }

  void ReadRetention(const YamlNode& node) {
    if (!node.IsSeq()) {
      Report(ErrorCode::kWrongType, node.loc, "'retention' must be a list of rules",
             "write each rule as a '- id: ...' item");
      return;
    }
    for (const auto& item : node.items) {
      FieldReader r(item, "retention rule", diagnostics_);
      RetentionRule rule;
      rule.loc = item.loc;
      if (r.Text("id", rule.id, true) && !IsIdentifier(rule.id)) {
        Report(ErrorCode::kInvalidValue, item.Find("id")->loc,
               "retention rule id '" + rule.id + "' is not a valid key",
               "ids are lower-case words joined by '_'");
      }
      r.RefList("categories", rule.categories, true);
      r.RefList("subjects", rule.subjects);
      r.RefList("purposes", rule.purposes);
      r.OneRef("after", rule.after, true);
      r.PeriodField("period", rule.period, true);
      std::string action;
      if (r.Enum("action", action, {"delete", "anonymise", "review"}, true)) {
        if (action == "anonymise") rule.action = RetentionAction::kAnonymise;
        if (action == "review") rule.action = RetentionAction::kReview;
      }
      r.RefList("keep", rule.keep);
      r.Text("description", rule.description);
      r.Bool("period_stated", rule.period_stated);
      r.Text("note", rule.note);
      r.Finish();
      policy_.retention.push_back(std::move(rule));
    }
  }

  void ReadRights(const YamlNode& node) {
    FieldReader r(node, "rights", diagnostics_);
    Rights& g = policy_.rights;
    r.TextList("available", g.available, true);
    for (const auto& right : g.available) {
      if (RightName(right) == right) {
        Report(ErrorCode::kInvalidValue, node.Find("available")->loc,
               "right '" + right + "' is not known",
               "use informed, access, rectification, erasure, restriction, objection, "
               "portability, withdraw_consent, automated_decision_review, marketing_opt_out");
      }
    }
    r.PeriodField("response_period", g.response_period, true);
    r.Bool("response_period_stated", g.response_period_stated);
    if (const YamlNode* ext = r.Get("extension")) {
      FieldReader e(*ext, "rights.extension", diagnostics_);
      Period max;
      if (e.PeriodField("max", max)) g.extension_max = max;
      e.Text("when", g.extension_when);
      Period notify;
      if (e.PeriodField("notify_within", notify)) g.extension_notify_within = notify;
      e.Finish();
    }
    r.Enum("bank_holidays", g.bank_holidays, {"england_and_wales", "scotland", "northern_ireland"});
    r.Enum("fee", g.fee, {"none", "reasonable_if_unfounded_or_excessive"});
    r.Bool("refuse_if_unfounded_or_excessive", g.refuse_if_unfounded_or_excessive);
    if (const YamlNode* id = r.Get("identity_verification")) {
      FieldReader e(*id, "rights.identity_verification", diagnostics_);
      e.Bool("required", g.identity_verification_required);
      e.TextList("methods", g.identity_methods);
      e.Text("note", g.identity_note);
      e.Finish();
    }
    Ref contact;
    if (r.OneRef("contact", contact)) g.contact = contact;
    if (const YamlNode* list = r.Get("exemptions")) {
      if (!list->IsSeq()) {
        Report(ErrorCode::kWrongType, list->loc, "rights.exemptions must be a list",
               "write each exemption as a '- right: ...' item");
      } else {
        for (const auto& item : list->items) {
          FieldReader e(item, "rights exemption", diagnostics_);
          Exemption x;
          x.loc = item.loc;
          e.Enum("right", x.right,
                 {"access", "rectification", "erasure", "restriction", "objection", "portability",
                  "withdraw_consent", "automated_decision_review"},
                 true);
          e.Enum("ground", x.ground,
                 {"legal_obligation", "legal_claims", "research_article_89", "public_task",
                  "freedom_of_expression", "crime_prevention"},
                 true);
          e.RefList("categories", x.categories);
          e.RefList("purposes", x.purposes);
          e.Text("description", x.description);
          e.Finish();
          g.exemptions.push_back(std::move(x));
        }
      }
    }
    r.Finish();
  }

  void ReadCookies(const YamlNode& node) {
    ForEachKeyed(node, "cookies", false,
                 [this](const std::string& key, Loc loc, const YamlNode& v) {
                   FieldReader r(v, "cookie category '" + key + "'", diagnostics_);
                   CookieCategory c;
                   c.key = key;
                   c.loc = loc;
                   r.Text("name", c.name, true);
                   r.Text("description", c.description);
                   r.Bool("consent_required", c.consent_required);
                   r.Bool("consent_stated", c.consent_stated);
                   r.Bool("targeting", c.targeting);
                   r.Text("duration", c.duration);
                   r.TextList("examples", c.examples);
                   r.TextList("third_parties", c.third_parties);
                   r.Finish();
                   policy_.cookies.push_back(std::move(c));
                 });
  }

  void ReadSecurity(const YamlNode& node) {
    ForEachKeyed(node, "security", false, [this](const std::string& key, Loc, const YamlNode& v) {
      SecurityMeasure m;
      m.key = key;
      ScalarText(v, "security." + key, m.description, diagnostics_);
      policy_.security.push_back(std::move(m));
    });
  }

  void ReadBreach(const YamlNode& node) {
    FieldReader r(node, "breach", diagnostics_);
    BreachProcess& b = policy_.breach;
    b.present = true;
    Period within;
    if (r.PeriodField("notify_regulator_within", within)) b.notify_regulator_within = within;
    r.Bool("notify_controller", b.notify_controller);
    r.Enum("notify_subjects", b.notify_subjects, {"when_high_risk", "never", "always"});
    r.Text("description", b.description);
    r.Finish();
  }

  void ReadAnonymisation(const YamlNode& node) {
    FieldReader r(node, "anonymisation", diagnostics_);
    Anonymisation& a = policy_.anonymisation;
    a.present = true;
    r.Int("small_cell_threshold", a.small_cell_threshold);
    r.TextList("shared_with", a.shared_with);
    r.Text("description", a.description);
    r.Finish();
  }

  void ReadThirdPartyApps(const YamlNode& node) {
    FieldReader r(node, "third_party_apps", diagnostics_);
    ThirdPartyApps& t = policy_.third_party_apps;
    t.present = true;
    r.Text("authorised_by", t.authorised_by, true);
    r.Bool("revocable", t.revocable);
    r.Text("description", t.description);
    r.Finish();
  }

  Policy& policy_;
  Diagnostics& diagnostics_;
};

}  // namespace

std::string Diagnostic::Format(const std::string& file) const {
  std::string out = file + ":" + std::to_string(loc.line) + ":" + std::to_string(loc.column) +
                    (warning ? ": warning " : ": error ") + std::string(CodeName(code)) + ": " +
                    message;
  if (!hint.empty()) out += "\n  hint: " + hint;
  return out;
}

std::string LoadOutcome::Report() const {
  std::string out;
  for (const auto& diagnostic : diagnostics) {
    out += diagnostic.Format(policy.file);
    out += '\n';
  }
  return out;
}

LoadOutcome ParsePolicyText(std::string_view text, std::string file) {
  LoadOutcome outcome;
  outcome.policy.file = std::move(file);
  YamlNode root;
  if (!ParseYaml(text, root, outcome.diagnostics)) return outcome;
  PolicyParser(outcome.policy, outcome.diagnostics).Parse(root);
  return outcome;
}

LoadOutcome CheckPolicyText(std::string_view text, std::string file) {
  LoadOutcome outcome = ParsePolicyText(text, std::move(file));
  // Semantic checks need a structurally sound policy, else one typo cascades into many alarms.
  if (outcome.ok()) ValidatePolicy(outcome.policy, outcome.diagnostics);
  return outcome;
}

Result<LoadOutcome> LoadPolicy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(ErrorCode::kIo, "cannot read policy file " + path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  if (text.size() > kMaxPolicyBytes) {
    return Status(ErrorCode::kIo, "policy file " + path + " is larger than 4 MiB");
  }
  return CheckPolicyText(text, path);
}

Result<Policy> LoadValidPolicy(const std::string& path) {
  ASSIGN_OR_RETURN(LoadOutcome outcome, LoadPolicy(path));
  if (!outcome.ok()) {
    return Status(ErrorCode::kPolicyInvalid, outcome.diagnostics.front().Format(path));
  }
  return std::move(outcome.policy);
}

}  // namespace custos::policy
