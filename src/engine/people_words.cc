#include "engine/people_words.h"

namespace custos::engine {

std::string CategoryName(const policy::Policy& policy, const std::string& key) {
  const policy::Category* c = policy.FindCategory(key);
  return c != nullptr && !c->name.empty() ? c->name : key;
}

std::string SubjectTypeName(const policy::Policy& policy, const std::string& key) {
  const policy::SubjectType* t = policy.FindSubjectType(key);
  return t != nullptr && !t->name.empty() ? t->name : key;
}

std::string PurposeName(const policy::Policy& policy, const std::string& key) {
  const policy::Purpose* p = policy.FindPurpose(key);
  return p != nullptr && !p->name.empty() ? p->name : key;
}

std::string RecipientName(const policy::Policy& policy, const std::string& key) {
  const policy::Recipient* r = policy.FindRecipient(key);
  return r != nullptr && !r->name.empty() ? r->name : key;
}

std::string Names(const policy::Policy& policy, const std::vector<std::string>& keys,
                  std::string (*name)(const policy::Policy&, const std::string&),
                  std::string_view none) {
  if (keys.empty()) return std::string(none);
  std::string out;
  for (const auto& k : keys) {
    if (!out.empty()) out += ", ";
    out += name(policy, k);
  }
  return out;
}

std::string ContactPoint(const policy::Policy& policy) {
  auto line = [](const std::string& who, const std::string& email, const std::string& phone) {
    std::string out = who;
    if (!email.empty()) out += (out.empty() ? "" : ", ") + email;
    if (!phone.empty()) out += (out.empty() ? "" : ", ") + phone;
    return out;
  };
  if (policy.dpo.present && (!policy.dpo.email.empty() || !policy.dpo.phone.empty())) {
    return line(policy.dpo.name.empty() ? "Our Data Protection Officer" : policy.dpo.name,
                policy.dpo.email, policy.dpo.phone);
  }
  for (std::string_view wanted : {"security", "dpo", "general"}) {
    for (const auto& c : policy.contacts) {
      if (c.purpose == wanted && (!c.email.empty() || !c.phone.empty())) {
        return line(c.name, c.email, c.phone);
      }
    }
  }
  return line(policy.controller.name, policy.controller.email, policy.controller.phone);
}

}  // namespace custos::engine
