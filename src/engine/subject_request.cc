#include "engine/subject_request.h"

#include <algorithm>

namespace custos::engine {

using store::RequestState;

bool IsRequestType(std::string_view type) {
  return std::find(kRequestTypes.begin(), kRequestTypes.end(), type) != kRequestTypes.end();
}

std::string_view RequestTypeInWords(std::string_view type) {
  if (type == "access") return "access to your data";
  if (type == "portability") return "your data in a portable form";
  if (type == "rectification") return "correction of your data";
  if (type == "erasure") return "erasure of your data";
  if (type == "restriction") return "restriction of processing";
  if (type == "objection") return "an end to processing you object to";
  if (type == "withdraw_consent") return "withdrawal of your consent";
  if (type == "automated_decision_review") return "a human review of an automated decision";
  if (type == kPreferencesSignIn) return "a sign-in to your privacy preferences";
  return type;
}

bool IsRefusalReason(std::string_view reason) {
  return std::find(kRefusalReasons.begin(), kRefusalReasons.end(), reason) != kRefusalReasons.end();
}

bool IsOpen(RequestState state) {
  switch (state) {
    case RequestState::kReceived:
    case RequestState::kVerifyingIdentity:
    case RequestState::kInProgress:
    case RequestState::kExtended: return true;
    case RequestState::kCompleted:
    case RequestState::kRefused:
    case RequestState::kWithdrawn:
    case RequestState::kForwarded: return false;
  }
  return false;
}

bool CanMove(RequestState from, RequestState to) {
  if (!IsOpen(from)) return false;
  switch (to) {
    case RequestState::kReceived: return false;
    case RequestState::kVerifyingIdentity: return from == RequestState::kReceived;
    case RequestState::kInProgress:
      return from == RequestState::kReceived || from == RequestState::kVerifyingIdentity;
    case RequestState::kExtended: return from == RequestState::kInProgress;
    case RequestState::kCompleted:
      return from == RequestState::kInProgress || from == RequestState::kExtended;
    case RequestState::kRefused:
    case RequestState::kWithdrawn: return true;
    case RequestState::kForwarded:
      return from == RequestState::kReceived || from == RequestState::kVerifyingIdentity;
  }
  return false;
}

}  // namespace custos::engine
