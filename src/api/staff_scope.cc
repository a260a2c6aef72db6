#include "api/staff_scope.h"

#include <algorithm>

namespace custos::api {

namespace {

bool Under(std::string_view category, std::string_view scope) {
  return category == scope ||
         (category.size() > scope.size() && category.substr(0, scope.size()) == scope &&
          category[scope.size()] == '.');
}

template <typename List>
bool Has(const List& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

StaffScope::StaffScope(const Principal* who, const policy::Policy& policy) {
  if (who == nullptr || !who->Is(Role::kStaff)) return;
  narrowed_ = true;
  purposes_ = who->purposes;
  for (const auto& key : purposes_) {
    const policy::Purpose* purpose = policy.FindPurpose(key);
    if (purpose == nullptr) continue;
    for (const auto& category : purpose->categories) categories_.push_back(category.key);
    for (const auto& channel : purpose->channels) channels_.push_back(channel);
    direct_marketing_ = direct_marketing_ || purpose->direct_marketing;
  }
  for (const auto& rule : policy.retention) {
    bool ours = false;
    for (const auto& purpose : rule.purposes) ours = ours || Has(purposes_, purpose.key);
    if (rule.purposes.empty()) {
      for (const auto& category : rule.categories) {
        for (const auto& used : categories_) {
          ours = ours || Under(category.key, used) || Under(used, category.key);
        }
      }
    }
    if (ours && !rule.after.key.empty()) events_.push_back(rule.after.key);
  }
}

bool StaffScope::Category(std::string_view category) const {
  if (!narrowed_) return true;
  for (const auto& used : categories_) {
    if (Under(category, used)) return true;
  }
  return false;
}

bool StaffScope::Record(std::string_view purpose, std::string_view category) const {
  return !narrowed_ || (Purpose(purpose) && Category(category));
}

bool StaffScope::Identifier(std::string_view kind) const {
  if (!narrowed_) return true;
  if (kind == "email") return Category("user.contact.email");
  if (kind == "phone") return Category("user.contact.phone_number");
  if (kind == "external") return Category("user.unique_id");
  return false;
}

bool StaffScope::Purpose(std::string_view purpose) const {
  return !narrowed_ || Has(purposes_, purpose);
}

bool StaffScope::Channel(std::string_view channel) const {
  return !narrowed_ || Has(channels_, channel);
}

bool StaffScope::Objection(std::string_view purpose) const {
  return !narrowed_ || purpose == "*" || Has(purposes_, purpose) ||
         (purpose == "direct_marketing" && direct_marketing_);
}

bool StaffScope::Restriction(const std::vector<std::string>& categories) const {
  if (!narrowed_ || categories.empty()) return true;
  for (const auto& category : categories) {
    if (Category(category)) return true;
  }
  return false;
}

bool StaffScope::Event(std::string_view event) const {
  return !narrowed_ || Has(events_, event);
}

bool IsCopyOfEverything(std::string_view request_type) {
  return request_type == "access" || request_type == "portability";
}

}  // namespace custos::api
