#include "policy/policy_diff.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <set>

namespace custos::policy {

namespace {

std::set<std::string> Keys(const std::vector<Ref>& refs) {
  std::set<std::string> out;
  for (const auto& r : refs) out.insert(r.key);
  return out;
}

std::string Join(const std::set<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

std::set<std::string> Minus(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::set<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
  return out;
}

// An approximate length in days, to tell a longer period from a shorter one.
double Days(const Period& period) {
  if (!period.value) return 0;
  const IsoPeriod& p = *period.value;
  return p.years * 365.25 + p.months * 30.44 + p.days + p.hours / 24.0 + p.minutes / 1440.0 +
         p.seconds / 86400.0;
}

void Sets(std::vector<PolicyChange>& out, const std::string& key,
          const std::set<std::string>& before, const std::set<std::string>& after,
          const char* added, const char* removed, bool added_is_material) {
  std::set<std::string> more = Minus(after, before), less = Minus(before, after);
  if (!more.empty()) out.push_back({added, key, "", Join(more), added_is_material, false});
  if (!less.empty()) out.push_back({removed, key, Join(less), "", false, false});
}

}  // namespace

std::vector<PolicyChange> DiffPolicies(const Policy& before, const Policy& after) {
  std::vector<PolicyChange> out;
  if (before.notice.version != after.notice.version) {
    out.push_back(
        {"notice_version", "notice", before.notice.version, after.notice.version, false, false});
  }
  for (const Purpose& now : after.purposes) {
    const Purpose* was = before.FindPurpose(now.key);
    const bool consent = now.basis == LawfulBasis::kConsent;
    if (was == nullptr) {
      out.push_back({"purpose_added", now.key, "",
                     now.name + " (" + std::string(LawfulBasisKey(now.basis)) + ")", true,
                     consent});
      continue;
    }
    if (now.consent_since && now.consent_since != was->consent_since) {
      out.push_back({"consent_renewed", now.key,
                     was->consent_since ? was->consent_since->ToString() : "",
                     "consent given from " + now.consent_since->ToString(), true, true});
    }
    if (was->basis != now.basis) {
      out.push_back({"basis_changed", now.key, std::string(LawfulBasisKey(was->basis)),
                     std::string(LawfulBasisKey(now.basis)), true, consent});
    }
    Sets(out, now.key, Keys(was->categories), Keys(now.categories), "categories_added",
         "categories_removed", true);
    Sets(out, now.key, Keys(was->recipients), Keys(now.recipients), "recipient_added",
         "recipient_removed", true);
  }
  for (const Purpose& was : before.purposes) {
    if (after.FindPurpose(was.key) == nullptr) {
      out.push_back({"purpose_removed", was.key, was.name, "", false, false});
    }
  }
  for (const Recipient& now : after.recipients) {
    const Recipient* was = before.FindRecipient(now.key);
    if (was == nullptr) continue;  // a new recipient matters through the purposes that use it
    Sets(out, now.key, Keys(was->countries), Keys(now.countries), "countries_added",
         "countries_removed", true);
  }
  for (const RetentionRule& now : after.retention) {
    auto was = std::find_if(before.retention.begin(), before.retention.end(),
                            [&](const RetentionRule& r) { return r.id == now.id; });
    if (was == before.retention.end()) {
      out.push_back({"retention_added", now.id, "", now.period.text, true, false});
    } else if (was->period.text != now.period.text || was->action != now.action) {
      out.push_back({"retention_changed", now.id, was->period.text, now.period.text,
                     Days(now.period) > Days(was->period) ||
                         (was->action != now.action && now.action == RetentionAction::kReview),
                     false});
    }
  }
  for (const RetentionRule& was : before.retention) {
    auto now = std::find_if(after.retention.begin(), after.retention.end(),
                            [&](const RetentionRule& r) { return r.id == was.id; });
    if (now == after.retention.end()) {
      out.push_back({"retention_removed", was.id, was.period.text, "", false, false});
    }
  }
  std::set<std::string> rights_before(before.rights.available.begin(),
                                      before.rights.available.end());
  std::set<std::string> rights_after(after.rights.available.begin(), after.rights.available.end());
  for (const auto& right : Minus(rights_after, rights_before)) {
    out.push_back({"right_added", right, "", right, false, false});
  }
  for (const auto& right : Minus(rights_before, rights_after)) {
    out.push_back({"right_removed", right, right, "", true, false});
  }
  return out;
}

std::string PolicyDiffText(const std::vector<PolicyChange>& changes) {
  if (changes.empty()) return "no change\n";
  std::string out;
  for (const auto& c : changes) {
    out += c.kind + " " + c.key + ": ";
    if (!c.before.empty() && !c.after.empty()) {
      out += c.before + " -> " + c.after;
    } else {
      out += c.after.empty() ? "was " + c.before : c.after;
    }
    if (c.material) out += " [material]";
    if (c.needs_consent) out += " [needs consent]";
    out += "\n";
  }
  return out;
}

std::string PolicyDiffJson(const std::vector<PolicyChange>& changes) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto str = [&](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  };
  w.StartObject();
  w.Key("changes");
  w.StartArray();
  bool material = false;
  std::vector<std::string> consent;
  for (const auto& c : changes) {
    w.StartObject();
    str("kind", c.kind);
    str("key", c.key);
    str("before", c.before);
    str("after", c.after);
    w.Key("material");
    w.Bool(c.material);
    w.Key("needs_consent");
    w.Bool(c.needs_consent);
    w.EndObject();
    material = material || c.material;
    if (c.needs_consent) consent.push_back(c.key);
  }
  w.EndArray();
  w.Key("material");
  w.Bool(material);
  w.Key("needs_consent");
  w.StartArray();
  for (const auto& key : consent)
    w.String(key.c_str(), static_cast<rapidjson::SizeType>(key.size()));
  w.EndArray();
  w.EndObject();
  return buffer.GetString();
}

}  // namespace custos::policy
