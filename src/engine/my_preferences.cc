// Engine: a person's own preferences. A sign-in (kPreferencesSignIn, opened and proven through
// the request machinery in request_intake.cc) opens the subjects filed under the proven email
// or phone; ReadMyPreferences shows their consents, channels and objections, and
// ChangeMyPreference changes one of them through ChangeConsent, SetPreference, Object or
// LiftObjection, the calls the API's subject routes make. The one-click unsubscribe link
// (RFC 8058) carries a token signed with a key derived from the master key.
#include <sodium.h>

#include <algorithm>

#include "crypto/hash_chain.h"
#include "crypto/sealing.h"
#include "engine/engine.h"
#include "engine/request_internal.h"

namespace custos::engine {

namespace {

using internal::Invalid;
using internal::Join;

constexpr std::string_view kChannelKeys[] = {"email", "sms", "post", "phone", "in_app", "push"};
// A sign-in opens the person's preferences for this long after the code was proven; the
// privacy centre's session ends sooner (30 minutes idle).
constexpr int64_t kPreferencesSignInMicros = int64_t{12} * 3600 * 1000000;
constexpr size_t kUnsubscribeTagBytes = 16;

Status NotSignedIn(const std::string& sign_in_id) {
  return Status(ErrorCode::kVerificationFailed,
                "sign-in " + sign_in_id + " does not open preferences; sign in again");
}

// Purposes the person can object to: those on legitimate interests or a public task
// (Article 21(1)), and direct marketing as a whole when a purpose is direct marketing.
std::vector<std::string> ObjectionKeys(const policy::Policy& policy) {
  std::vector<std::string> keys;
  bool marketing = std::any_of(policy.purposes.begin(), policy.purposes.end(),
                               [](const policy::Purpose& p) { return p.direct_marketing; });
  if (marketing) keys.emplace_back("direct_marketing");
  for (const auto& purpose : policy.purposes) {
    if (purpose.basis == policy::LawfulBasis::kLegitimateInterests ||
        purpose.basis == policy::LawfulBasis::kPublicTask) {
      keys.push_back(purpose.key);
    }
  }
  return keys;
}

}  // namespace

Result<std::vector<std::string>> Engine::SignedInSubjects(const std::string& sign_in_id,
                                                          const std::string& secret) {
  auto row = LoadRequest(sign_in_id);
  if (!row.ok()) {
    if (row.status().code() == ErrorCode::kUnknownRequest) return NotSignedIn(sign_in_id);
    return row.status();
  }
  if (row->type != kPreferencesSignIn || row->state != store::RequestState::kCompleted ||
      !row->closed_at || Now().micros - row->closed_at->micros > kPreferencesSignInMicros) {
    return NotSignedIn(sign_in_id);
  }
  RETURN_IF_ERROR(CheckRequesterSecret(sign_in_id, secret));
  // Erased people stay out: their preferences are gone with them.
  std::vector<std::string> live;
  for (const auto& id : row->subject_ids) {
    auto subject = ActiveSubject(id);
    if (subject.ok()) {
      live.push_back(id);
    } else if (subject.status().code() != ErrorCode::kSubjectErased &&
               subject.status().code() != ErrorCode::kUnknownSubject) {
      return subject.status();
    }
  }
  return live;
}

Result<MyPreferences> Engine::ReadMyPreferences(const std::string& sign_in_id,
                                                const std::string& secret) {
  MyPreferences out;
  ASSIGN_OR_RETURN(out.subject_ids, SignedInSubjects(sign_in_id, secret));
  std::vector<SubjectState> states;
  for (const auto& id : out.subject_ids) {
    ASSIGN_OR_RETURN(std::optional<SubjectState> state, LoadState(id));
    if (state) states.push_back(std::move(*state));
  }
  const Timestamp now = Now();
  auto all = [&](auto holds) {
    return !states.empty() && std::all_of(states.begin(), states.end(), holds);
  };
  for (const auto& purpose : policy_.purposes) {
    if (purpose.basis != policy::LawfulBasis::kConsent) continue;
    out.consents.emplace_back(purpose.key, all([&](const SubjectState& s) {
                                const ConsentChange* c = s.ConsentAt(purpose.key, now);
                                return c != nullptr && c->given;
                              }));
  }
  for (std::string_view channel : kChannelKeys) {
    out.channels.emplace_back(std::string(channel), all([&](const SubjectState& s) {
                                auto it = s.channel_allowed.find(channel);
                                return it == s.channel_allowed.end() || it->second;
                              }));
  }
  for (const auto& key : ObjectionKeys(policy_)) {
    out.objections.emplace_back(key,
                                all([&](const SubjectState& s) { return s.ObjectedAt(key, now); }));
  }
  RETURN_IF_ERROR(
      audit_
          .Commit(store::WriteBatch{}, {Entry("requester:" + sign_in_id, "preferences_read",
                                              Join(out.subject_ids), now, "")})
          .status());
  return out;
}

Status Engine::ChangeMyPreference(const std::string& sign_in_id, const std::string& secret,
                                  const PreferenceChange& change) {
  using Kind = PreferenceChange::Kind;
  if (change.kind == Kind::kConsent) {
    const policy::Purpose* purpose = policy_.FindPurpose(change.key);
    if (purpose == nullptr || purpose->basis != policy::LawfulBasis::kConsent) {
      return Invalid("'" + change.key + "' is not a purpose that relies on consent");
    }
  } else if (change.kind == Kind::kChannel) {
    if (std::find(std::begin(kChannelKeys), std::end(kChannelKeys), change.key) ==
        std::end(kChannelKeys)) {
      return Invalid("channel '" + change.key + "' is not email, sms, post, phone, in_app or push");
    }
  } else {
    auto keys = ObjectionKeys(policy_);
    if (std::find(keys.begin(), keys.end(), change.key) == keys.end()) {
      return Invalid("'" + change.key + "' is not a use the person can object to");
    }
  }
  ASSIGN_OR_RETURN(std::vector<std::string> subjects, SignedInSubjects(sign_in_id, secret));
  const std::string actor = "requester:" + sign_in_id;
  const Timestamp at = At(change.at);
  for (const auto& id : subjects) {
    ASSIGN_OR_RETURN(std::optional<SubjectState> state, LoadState(id));
    if (!state) continue;
    switch (change.kind) {
      case Kind::kConsent: {
        const ConsentChange* now = state->ConsentAt(change.key, at);
        if (now != nullptr && now->given == change.on) break;
        if (now == nullptr && !change.on) break;  // never given: nothing to withdraw
        ConsentChangeRequest request;
        request.subject_id = id;
        request.target = change.key;
        request.given = change.on;
        request.channel = "privacy_centre";
        request.at = at;
        request.actor = actor;
        RETURN_IF_ERROR(ChangeConsent(request));
        break;
      }
      case Kind::kChannel: {
        auto it = state->channel_allowed.find(change.key);
        const bool allowed = it == state->channel_allowed.end() || it->second;
        if (allowed == change.on) break;
        RETURN_IF_ERROR(SetPreference(id, change.key, change.on, at, actor));
        break;
      }
      case Kind::kObjection: {
        const bool objected = state->ObjectedAt(change.key, at);
        if (objected == change.on) break;
        if (change.on) {
          RETURN_IF_ERROR(Object(id, change.key, at, actor));
        } else {
          RETURN_IF_ERROR(LiftObjection(id, change.key, at, actor));
        }
        break;
      }
    }
  }
  return Status::Ok();
}

// --- One-click unsubscribe ------------------------------------------------------------------
//
// A token is "<kind>.<id>.<tag>": kind "p" names a person (a subject id, for the organisation's
// own marketing mail), kind "m" names a message custos sent (a request id: the link in that
// message proves control of the address it went to, as a code would); the tag is a keyed
// BLAKE2b of kind and id under a key derived from the master key.

namespace {

std::string UnsubscribeTag(const crypto::SecretKey& wrap, const std::string& controller,
                           std::string_view kind_and_id) {
  std::vector<uint8_t> key(crypto_generichash_KEYBYTES);
  const std::string context = "custos-unsubscribe:" + controller;
  crypto_generichash(key.data(), key.size(), reinterpret_cast<const unsigned char*>(context.data()),
                     context.size(), wrap.bytes().data(), wrap.bytes().size());
  std::vector<uint8_t> tag(kUnsubscribeTagBytes);
  crypto_generichash(tag.data(), tag.size(),
                     reinterpret_cast<const unsigned char*>(kind_and_id.data()), kind_and_id.size(),
                     key.data(), key.size());
  sodium_memzero(key.data(), key.size());
  return crypto::ToHex(tag);
}

}  // namespace

std::string Engine::UnsubscribeToken(const std::string& subject_id) const {
  const std::string body = "p." + subject_id;
  return body + "." + UnsubscribeTag(master_key_.WrapKey(), controller_, body);
}

std::string Engine::MessageUnsubscribeToken(const std::string& request_id) const {
  const std::string body = "m." + request_id;
  return body + "." + UnsubscribeTag(master_key_.WrapKey(), controller_, body);
}

Status Engine::Unsubscribe(const std::string& token, std::optional<Timestamp> at_opt) {
  const Status forged(ErrorCode::kVerificationFailed, "this unsubscribe link is not valid");
  const size_t dot = token.rfind('.');
  if (token.size() < 4 || token[1] != '.' || (token[0] != 'p' && token[0] != 'm') ||
      dot == std::string::npos || dot <= 2 || token.size() - dot - 1 != 2 * kUnsubscribeTagBytes) {
    return forged;
  }
  const std::string body = token.substr(0, dot);
  const std::string expected = UnsubscribeTag(master_key_.WrapKey(), controller_, body);
  if (sodium_memcmp(expected.data(), token.data() + dot + 1, expected.size()) != 0) return forged;
  const std::string id = body.substr(2);
  const Timestamp at = At(at_opt);
  std::vector<std::string> subjects;
  std::vector<std::string> addresses;
  if (token[0] == 'p') {
    ASSIGN_OR_RETURN(store::SubjectRow subject, ActiveSubject(id));
    ASSIGN_OR_RETURN(crypto::SecretKey data_key, DataKey(subject));
    ASSIGN_OR_RETURN(std::vector<store::IdentifierRow> identifiers,
                     store_.ListIdentifiers(controller_, id));
    for (const auto& identifier : identifiers) {
      if (identifier.kind != "email") continue;
      ASSIGN_OR_RETURN(std::string address,
                       crypto::Open(data_key, identifier.sealed_value,
                                    KeyContext(id) + "/id/" + identifier.kind));
      addresses.push_back(std::move(address));
    }
    subjects.push_back(id);
  } else {
    // The people filed under the address the message went to.
    ASSIGN_OR_RETURN(store::RequestRow row, LoadRequest(id));
    if (row.wrapped_key.empty()) return forged;  // shredded: the address is gone
    ASSIGN_OR_RETURN(crypto::SecretKey key, RequestKey(row));
    ASSIGN_OR_RETURN(internal::Details details,
                     internal::ReadDetails(key, row, RequestKeyContext(id)));
    if (details.contact.kind != "email") return forged;
    ASSIGN_OR_RETURN(
        subjects, store_.FindSubjectsByIdentifier(controller_, "email",
                                                  IdentifierHash("email", details.contact.value)));
    addresses.push_back(details.contact.value);
  }
  for (const auto& subject_id : subjects) {
    ASSIGN_OR_RETURN(std::optional<SubjectState> state, LoadState(subject_id));
    if (!state || state->erased || state->ObjectedAt("direct_marketing", at)) continue;
    RETURN_IF_ERROR(Object(subject_id, "direct_marketing", at, "unsubscribe_link"));
  }
  // Every address on the suppression list: no later import subscribes them again.
  for (const auto& address : addresses) {
    RETURN_IF_ERROR(Suppress("email", address, "one-click unsubscribe", at, "unsubscribe_link"));
  }
  return Status::Ok();
}

}  // namespace custos::engine
