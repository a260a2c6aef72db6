// Policy: an organisation's privacy notice as data (the model behind docs/POLICY.md).
//
// A Policy is produced by LoadPolicy (loader.h) and checked by ValidatePolicy (validator.h);
// the engine, the notice/RoPA/data-map renderers and the adapters read it and never change it.
// Maps keep the file's order (the notice prints things in the order the author wrote them).
// Every declared thing and every reference keeps its Loc so diagnostics can point at it.
// Thread-safety: immutable after loading; safe to share between threads for reading.
#ifndef CUSTOS_POLICY_POLICY_H_
#define CUSTOS_POLICY_POLICY_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/period.h"
#include "policy/diagnostic.h"
#include "policy/systems.h"

namespace custos::policy {

// A reference to a declared key (category, purpose, ...) with where it was written.
struct Ref {
  std::string key;
  Loc loc;
};

// A period as written, with its parsed value (nullopt when malformed: the loader reports it).
struct Period {
  std::string text;
  std::optional<IsoPeriod> value;
  Loc loc;
};

enum class Role { kController, kProcessor };
enum class LawfulBasis {
  kNone,  // not stated: the validator reports MISSING_LAWFUL_BASIS
  kConsent,
  kContract,
  kLegalObligation,
  kVitalInterests,
  kPublicTask,
  kLegitimateInterests,
};
enum class SourceKind { kDirect, kThirdParty, kAutomated, kPublic };
enum class RecipientKind {
  kProcessor,
  kSubProcessor,
  kThirdParty,
  kJointController,
  kRegulator,
  kAuthority,
  kProfessionalAdviser,
  kInternal,
  kOtherUsers,
  kPublic,
};
enum class RetentionAction { kDelete, kAnonymise, kReview };
enum class TransferRule { kWithSafeguard, kForbidden };

struct Contact {
  std::string key;
  Loc loc;
  std::string purpose;  // general, rights_requests, complaints, marketing_opt_out, dpo, security
  std::string name, email, phone, address, url;
  // `email: not_stated`: the notice names an e-mail channel but gives no address (left out of
  // the published copy). `policy check` warns; the notice never prints the empty channel.
  bool email_not_stated = false;
};

struct Controller {
  std::string name, legal_name, company_number, registration, address, email, phone, website;
  std::string represents;
  // The organisation's colour on its privacy centre pages: "#rrggbb", or "" (a neutral blue).
  std::string colour;
  Role role = Role::kController;
};

struct Person {  // DPO
  std::string name, email, phone, address;
  bool present = false;
};

struct Regulator {
  std::string name, address, phone, website, country;
  bool first_contact_us = false;
  std::string other_regulators;
};

struct ProcessorRole {
  bool present = false;
  std::string controllers, instructions;
  std::string requests;  // "forward_to_controller" or empty
  bool breach_notify_controller = false;
};

// A statement the notice makes in the organisation's own words and that no structured field
// carries: a negative promise ("We do not sell, trade or rent your information"), what it says
// about children or links to other websites. `section` is where the notice prints it.
struct Statement {
  std::string section;
  std::string text;
  Loc loc;
};

// A term the notice explains in its glossary.
struct GlossaryEntry {
  std::string term, meaning;
  Loc loc;
};

// An earlier version of the notice, as the organisation records it (shown in the privacy
// centre's version history; the notice itself does not print it).
struct NoticeVersion {
  std::string version;
  std::optional<CivilDate> date;
  std::string summary;  // what changed in the version after it, in the organisation's words
};

struct NoticeInfo {
  std::string version;
  std::optional<CivilDate> date;
  std::string date_text;  // the date as the notice itself gives it ("May 2020"); wins over date
  std::string title, url, changes;
  std::vector<std::string> scope;
  bool not_for_children = false;
  std::vector<Statement> statements;
  std::vector<GlossaryEntry> glossary;
  std::vector<NoticeVersion> history;  // earlier versions, newest first; empty: none recorded
};

// The sections a statement may name (docs/POLICY.md "notice.statements").
const std::vector<std::string_view>& StatementSections();

struct SubjectType {
  std::string key;
  Loc loc;
  std::string name, description, fideslang;
};

struct Event {
  std::string key;
  Loc loc;
  std::string name, description;
  std::vector<Ref> resets;
  bool builtin = false;
};

struct Source {
  std::string key;
  Loc loc;
  SourceKind kind = SourceKind::kDirect;
  std::string name, description;
};

struct Category {
  std::string key;
  Loc loc;
  std::string name, description;
  std::optional<Ref> parent;  // required for custom keys
  bool special = false;       // Article 9 (or 10) data
  std::string condition;      // Article 9(2) condition key
  bool identifying = true;
  std::vector<std::string> examples;
  bool fideslang = false;  // the key is in the fideslang default taxonomy
  std::string group;       // the organisation's own name for the group it belongs to
};

struct AutomatedDecision {
  bool present = false;
  std::string logic, significance;
  bool human_review = false;
  // false: automated systems help a person decide (the notice does not say "by automated
  // means alone"); true (the default): an Article 22 decision based solely on automated means.
  bool solely = true;
};

// What the record of processing activities needs beyond the notice (the columns of the ICO's
// Article 30 template): never published. Each field is empty when the policy does not state
// it, and the RoPA then says "not stated". On a purpose it overrides the policy's own `record`.
struct RecordDetails {
  std::string business_function;     // the part of the organisation, e.g. "Membership"
  std::string owner;                 // the business owner of the activity
  std::vector<std::string> systems;  // where the data is: systems, places
  std::string dpia;                  // a reference to the DPIA, or "not_required"
  std::string lia;                   // a reference to the legitimate interests assessment
  std::string joint_controller;      // name and contact of a joint controller
  std::string schedule1_condition;   // DPA 2018 Schedule 1 condition (special or criminal data)
  std::string appropriate_policy_document;  // its reference (DPA 2018 Sch. 1 Part 4)
  std::string article10_basis;     // the basis for criminal offence data (Article 10, DPA s.10(5))
  std::string retention_schedule;  // a reference to the organisation's retention schedule
  std::optional<CivilDate> review_date;
};

struct Purpose {
  std::string key;
  Loc loc;
  std::string name, description, activity, use;
  LawfulBasis basis = LawfulBasis::kNone;
  // interest: the legitimate interest (basis legitimate_interests); obligation: the legal
  // obligation (legal_obligation); task: the task in the public interest or official authority
  // and its basis in law (public_task).
  std::string interest, obligation, task;
  RecordDetails record;
  std::vector<Ref> categories, subjects, sources, recipients;
  bool direct_marketing = false, soft_opt_in = false, profiling = false;
  std::vector<std::string> channels;
  AutomatedDecision automated_decision;
  std::string on_withdrawal = "stop";  // or keep_obtained
  // Consent given before this date does not count: the purpose changed (more data, another
  // recipient, a basis that became consent) and needs fresh consent (decisions CONSENT_STALE).
  std::optional<CivilDate> consent_since;
  std::string necessary_for_service;
};

struct Recipient {
  std::string key;
  Loc loc;
  std::string name, description, when, visibility;
  RecipientKind kind = RecipientKind::kThirdParty;
  std::optional<Ref> processor_of;
  std::vector<Ref> countries;             // empty: the notice does not say where
  std::string safeguard, safeguard_note;  // safeguard "not_stated": the notice names none
  std::vector<Ref> categories;
  std::string contract;  // the reference of the contract with a processor (Article 28); RoPA only
  std::optional<CivilDate> contract_date;  // when that contract was signed
  // The reference of the transfer risk assessment behind a restricted transfer (the ICO's
  // TRA for an IDTA or the Addendum); RoPA only.
  std::string transfer_assessment;
};

struct Transfers {
  std::vector<Ref> regions;
  TransferRule outside = TransferRule::kWithSafeguard;
  std::string note;
  // false: the notice says nothing about where data is processed; `regions` is then only the
  // organisation's own rule for the checks, and the notice prints `note` alone.
  bool stated = true;
};

struct RetentionRule {
  std::string id;
  Loc loc;
  std::vector<Ref> categories, subjects, purposes, keep;
  Ref after;
  Period period;
  RetentionAction action = RetentionAction::kDelete;
  std::string description;
  // false: the notice gives no period for this rule (the period is the organisation's own
  // working rule); the notice prints `description` alone.
  bool period_stated = true;
  std::string note;  // a drafting note for the policy's readers; never published
};

struct Exemption {
  std::string right, ground, description;
  std::vector<Ref> categories, purposes;
  Loc loc;
};

struct Rights {
  std::vector<std::string> available;
  Period response_period;
  // false when the notice states no response period (the engine still answers within
  // response_period, the law's month): the notice then names no period.
  bool response_period_stated = true;
  std::optional<Period> extension_max;
  std::string extension_when;
  std::optional<Period> extension_notify_within;
  // Whose bank holidays move a response deadline that falls on one: "england_and_wales"
  // (the default; Wales shares England's), "scotland" or "northern_ireland". A key of
  // engine::UkNation (engine/response_deadline.h), kept as text because policy/ may not use
  // engine/; the loader admits only those three.
  std::string bank_holidays = "england_and_wales";
  std::string fee;  // "none", "reasonable_if_unfounded_or_excessive", or "" (not stated)
  bool refuse_if_unfounded_or_excessive = false;
  bool identity_verification_required = false;
  std::vector<std::string> identity_methods;
  std::string identity_note;
  std::optional<Ref> contact;
  std::vector<Exemption> exemptions;
};

struct CookieCategory {
  std::string key;
  Loc loc;
  std::string name, description, duration;
  bool consent_required = true;
  // false when the notice does not say whether these need consent (the banner still follows
  // consent_required): the notice then says nothing about it.
  bool consent_stated = true;
  // Used for targeted advertising, or to sell or share data with others for it: a browser's
  // Global Privacy Control signal refuses it (the banner and Engine::DecideCookies).
  bool targeting = false;
  std::vector<std::string> examples, third_parties;
};

struct SecurityMeasure {
  std::string key, description;
};

struct BreachProcess {
  bool present = false;
  std::optional<Period> notify_regulator_within;
  bool notify_controller = false;
  std::string notify_subjects;  // when_high_risk, never, always
  std::string description;
};

struct Anonymisation {
  bool present = false;
  int small_cell_threshold = 0;
  std::vector<std::string> shared_with;
  std::string description;
};

struct ThirdPartyApps {
  bool present = false;
  std::string authorised_by, description;
  bool revocable = false;
};

struct Policy {
  std::string file;  // path it was loaded from, for diagnostics
  int format_version = 0;
  NoticeInfo notice;
  Controller controller;
  Person dpo;
  std::vector<Contact> contacts;
  Regulator regulator;
  ProcessorRole processor;
  std::vector<SubjectType> subject_types;
  std::vector<Event> events;  // declared, then built-ins
  std::vector<Source> sources;
  std::vector<Category> categories;  // declared only
  std::vector<Purpose> purposes;
  std::vector<Recipient> recipients;
  Transfers transfers;
  std::vector<RetentionRule> retention;
  Rights rights;
  std::vector<CookieCategory> cookies;
  std::vector<SecurityMeasure> security;
  BreachProcess breach;
  Anonymisation anonymisation;
  ThirdPartyApps third_party_apps;
  RecordDetails record;  // the RoPA's details shared by every activity (a purpose may override)
  std::vector<System> systems;  // the organisation's own databases (systems.h); may be empty

  // Lookups by key; nullptr when absent.
  const Purpose* FindPurpose(std::string_view key) const;
  const Recipient* FindRecipient(std::string_view key) const;
  const SubjectType* FindSubjectType(std::string_view key) const;
  const Category* FindCategory(std::string_view key) const;  // declared categories only
  const Event* FindEvent(std::string_view key) const;
  const Source* FindSource(std::string_view key) const;
  const Contact* FindContact(std::string_view key) const;
  const Contact* FindContactFor(std::string_view purpose) const;
  const System* FindSystem(std::string_view key) const;

  // Human name of a category: declared name, else fideslang name, else the key.
  std::string CategoryName(std::string_view key) const;
  // Keys of all subject types when `subjects` is empty, else those keys.
  std::vector<std::string> SubjectsOrAll(const std::vector<Ref>& subjects) const;
};

// True when `key` equals `ancestor` or lies beneath it (`user.contact.email` under `user.contact`).
bool CategoryCovers(std::string_view ancestor, std::string_view key);

// Article 9(2) condition keys in order (a)..(j), and the letter for one key ("" if unknown).
const std::vector<std::string_view>& Article9Conditions();
std::string_view Article9Letter(std::string_view condition);

std::string_view LawfulBasisKey(LawfulBasis basis);      // "legitimate_interests"
std::string_view LawfulBasisName(LawfulBasis basis);     // "Legitimate interests"
std::string_view LawfulBasisArticle(LawfulBasis basis);  // "Article 6(1)(f)"
std::string_view RecipientKindKey(RecipientKind kind);
std::string_view RecipientKindName(RecipientKind kind);
std::string_view SourceKindKey(SourceKind kind);
std::string_view RetentionActionKey(RetentionAction action);
std::string_view RightName(std::string_view right);  // "access" -> "Right of access"
std::string CountryName(std::string_view code);      // "GB" -> "United Kingdom"
// True for an ISO 3166-1 alpha-2 code custos knows, or a region name (UK, EU, EEA).
bool IsKnownRegionOrCountry(std::string_view code);
// True when `country` lies in `region` (a region name or a country code).
bool RegionIncludes(std::string_view region, std::string_view country);

}  // namespace custos::policy

#endif  // CUSTOS_POLICY_POLICY_H_
