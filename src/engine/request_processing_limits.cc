// Engine: the rights that limit processing without removing data, in a request: restriction
// (Article 18), objection (Article 21) and consent withdrawal (Article 7(3)). Each goes through
// the engine call the CLI and the API use for the same change (Restrict, Object, ChangeConsent),
// which commits it at once.
#include <map>
#include <string>

#include "engine/engine.h"
#include "engine/request_internal.h"

namespace custos::engine {

namespace {

using internal::Join;

}  // namespace

// Restriction: what the request names (everything when it names nothing) is restricted.
Status Engine::FulfilRestriction(const store::RequestRow& row, Timestamp at,
                                 const std::string& actor, internal::Fulfilment& work) {
  const internal::Details& details = work.details;
  std::vector<FulfilmentItem>& items = work.details.items;
  std::vector<std::string>& affected_categories = work.affected_categories;
  std::string& summary = work.summary;

  for (const auto& subject_id : row.subject_ids) {
    ASSIGN_OR_RETURN(int64_t restriction,
                     Restrict(subject_id, details.categories, "data_subject_request", at, actor));
    items.push_back({subject_id, Join(details.categories), "restricted", "",
                     "restriction " + std::to_string(restriction)});
  }
  if (details.categories.empty()) {
    for (const auto& category : policy_.categories) affected_categories.push_back(category.key);
  } else {
    affected_categories = details.categories;
  }
  summary = "processing restricted";
  return Status::Ok();
}

// Objection: to the purpose the request names, or to all legitimate-interest processing.
Status Engine::FulfilObjection(const store::RequestRow& row, Timestamp at, const std::string& actor,
                               internal::Fulfilment& work) {
  const internal::Details& details = work.details;
  std::vector<FulfilmentItem>& items = work.details.items;
  std::string& summary = work.summary;

  std::string target = details.purpose.empty() ? "*" : details.purpose;
  for (const auto& subject_id : row.subject_ids) {
    RETURN_IF_ERROR(Object(subject_id, target, at, actor));
    items.push_back({subject_id, "", "objected", "", target});
  }
  summary = "objection to " + target + " recorded";
  return Status::Ok();
}

// Consent withdrawal: every consent in force, or only the one for the purpose named.
Status Engine::FulfilConsentWithdrawal(const store::RequestRow& row, Timestamp at,
                                       const std::string& actor, internal::Fulfilment& work) {
  const internal::Details& details = work.details;
  std::vector<FulfilmentItem>& items = work.details.items;
  std::string& summary = work.summary;

  for (const auto& subject_id : row.subject_ids) {
    ASSIGN_OR_RETURN(std::vector<store::ConsentEventRow> ledger,
                     store_.ListConsentEvents(controller_, subject_id));
    std::map<std::string, bool> given;  // the latest action per purpose
    for (const auto& event : ledger) {
      if (event.target_kind != store::ConsentTarget::kPurpose) continue;
      given[event.target] = event.action == store::ConsentAction::kGiven;
    }
    for (const auto& [purpose, is_given] : given) {
      if (!is_given || (!details.purpose.empty() && details.purpose != purpose)) continue;
      ConsentChangeRequest change;
      change.subject_id = subject_id;
      change.target = purpose;
      change.given = false;
      change.channel = "rights_request";
      change.at = at;
      change.actor = actor;
      RETURN_IF_ERROR(ChangeConsent(change));
      items.push_back({subject_id, "", "consent_withdrawn", "", purpose});
    }
  }
  summary = "consent withdrawn";
  return Status::Ok();
}

}  // namespace custos::engine
