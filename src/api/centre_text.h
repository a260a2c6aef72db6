// Every word the privacy centre's pages say that does not come from the policy, in one place:
// a translation is another CentreText. Words from the policy (the organisation's name, its
// purposes, categories and rights) and the generated notice come from the policy and
// policy/notice.h.
// Thread-safety: immutable values.
#ifndef CUSTOS_API_CENTRE_TEXT_H_
#define CUSTOS_API_CENTRE_TEXT_H_

#include <string_view>

namespace custos::api {

struct CentreText {
  std::string_view language = "en-GB";
  std::string_view skip_to_content = "Skip to content";
  std::string_view centre = "Privacy centre";
  std::string_view nav_label = "Privacy centre";
  std::string_view nav_notice = "Privacy notice";
  std::string_view nav_rights = "Your rights";
  std::string_view nav_preferences = "Your preferences";
  std::string_view home_preferences_link = "Change your preferences";
  std::string_view home_lead =
      "Read how we use personal data about you, and use your rights: ask for a copy, a "
      "correction, deletion and more. You prove who you are with a one-time code we send to "
      "your email address or phone.";
  std::string_view home_notice_link = "Read our privacy notice";
  std::string_view rights_heading = "Use your rights";
  std::string_view rights_lead = "Choose what you would like to ask for.";
  std::string_view notice_contents = "Contents";
  std::string_view notice_version = "Version";
  std::string_view notice_dated = "dated";
  std::string_view notice_changes = "Changes to this notice";
  // The form to open a request.
  std::string_view contact_legend = "Where should we send your one-time code?";
  std::string_view contact_hint =
      "Give the email address or the mobile number you use with us: your request reaches only "
      "what we hold under it. Give one of the two.";
  std::string_view email_label = "Email address";
  std::string_view phone_label = "Or a mobile phone number";
  std::string_view purpose_label = "Which use of your data?";
  std::string_view purpose_marketing = "Direct marketing (every channel)";
  std::string_view category_label = "Which information is wrong?";
  std::string_view value_label = "What it should say";
  std::string_view note_label = "Anything else we should know (optional)";
  std::string_view send_code = "Send me a code";
  // Verification.
  std::string_view verify_heading = "Enter your code";
  std::string_view verify_lead =
      "We have sent an 8-digit code to the email address or phone you gave. It works for 30 "
      "minutes. If nothing arrives, check the address and your spam folder.";
  std::string_view code_label = "One-time code";
  std::string_view verify_button = "Confirm";
  std::string_view resend_button = "Send a new code";
  std::string_view resent = "We have sent a new code. The earlier code no longer works.";
  // Following a request.
  std::string_view request_heading = "Your request";
  std::string_view request_kind = "What you asked for";
  std::string_view request_state = "Status";
  std::string_view request_received = "Received";
  std::string_view request_due = "We will answer by";
  std::string_view request_due_unset = "The month starts once we know it is you";
  std::string_view request_next = "What happens next";
  std::string_view request_history = "History";
  std::string_view download_heading = "Your copy";
  std::string_view download_html = "Download as a web page (HTML)";
  std::string_view download_json = "Download as data (JSON)";
  std::string_view download_csv = "Download as a spreadsheet (CSV)";
  std::string_view recipients_heading = "Organisations we told";
  std::string_view recipients_none = "We have not needed to tell any other organisation.";
  std::string_view withdraw_heading = "Change your mind";
  std::string_view withdraw_button = "Withdraw this request";
  std::string_view withdraw_confirm = "Withdraw this request? We will stop working on it.";
  std::string_view sign_out = "Sign out";
  std::string_view signed_out = "You have signed out.";
  // My preferences.
  std::string_view sign_in_heading = "Your preferences";
  std::string_view sign_in_lead =
      "See and change what you have agreed to, how we may contact you and what you object to. "
      "First we send a one-time code to your email address or phone, to check it is you.";
  std::string_view preferences_heading = "Your preferences";
  std::string_view preferences_lead =
      "Each change takes effect at once and is recorded. You can change your mind at any time.";
  std::string_view preferences_none =
      "We hold nothing about you under this email address or phone number, so there is nothing "
      "to change.";
  std::string_view preferences_saved = "Saved. Your change takes effect now.";
  std::string_view consents_heading = "What you have agreed to";
  std::string_view consents_none = "Nothing we do relies on your agreement.";
  std::string_view consent_given = "You have agreed";
  std::string_view consent_not_given = "You have not agreed";
  std::string_view consent_give = "Agree";
  std::string_view consent_withdraw = "Withdraw your agreement";
  std::string_view channels_heading = "How we may contact you";
  std::string_view channel_on = "Allowed";
  std::string_view channel_off = "Not allowed";
  std::string_view channel_allow = "Allow";
  std::string_view channel_refuse = "Stop";
  std::string_view objections_heading = "What you object to";
  std::string_view objections_lead =
      "We use your data for these on the basis of our legitimate interests or a public task. "
      "You can object; for direct marketing we always stop.";
  std::string_view objection_made = "You object";
  std::string_view objection_not_made = "You do not object";
  std::string_view objection_make = "Object";
  std::string_view objection_lift = "Withdraw your objection";
  std::string_view error_sign_in =
      "Sign in again: your session ended after 30 minutes without activity, or you signed out.";
  // The cookie banner (web/banner/banner.js gets these in its configuration).
  std::string_view banner_title = "Cookies on this website";
  std::string_view banner_text =
      "We use cookies that the site needs to work. With your agreement we also use the others "
      "described below. Choose what you allow; you can change your mind at any time.";
  std::string_view banner_accept_all = "Accept all";
  std::string_view banner_reject_all = "Reject all";
  std::string_view banner_settings = "Choose cookies";
  std::string_view banner_save = "Save my choices";
  std::string_view banner_close = "Close";
  std::string_view banner_preferences_title = "Your cookie choices";
  std::string_view banner_notice_link = "Read our privacy notice";
  std::string_view banner_always_on = "Always on: the site needs these to work.";
  std::string_view banner_gpc =
      "Your browser sends a Global Privacy Control signal, so we treat it as a refusal of "
      "cookies used for advertising, whatever is chosen here: ";
  std::string_view banner_duration = "How long they last: ";
  std::string_view banner_third_parties = "Third parties involved: ";
  std::string_view demo_heading = "An example page of our website";
  std::string_view demo_text =
      "This page shows how the cookie banner appears on the organisation's own website. It "
      "embeds the banner's script and stylesheet the way any page of the site would.";
  std::string_view demo_change = "Change your cookie choices";
  // One-click unsubscribe.
  std::string_view unsubscribe_heading = "Unsubscribe from marketing";
  std::string_view unsubscribe_lead =
      "Stop all direct marketing to you, by every channel. We keep your address on a list of "
      "people who do not want marketing, so we do not contact you again.";
  std::string_view unsubscribe_button = "Unsubscribe";
  std::string_view unsubscribed = "You are unsubscribed. We will send you no more marketing.";
  std::string_view error_unsubscribe_link =
      "This unsubscribe link is not valid. Use your preferences page, or contact us.";

  // The words for channel `key` (email, sms, post, phone, in_app, push).
  std::string_view ChannelName(std::string_view key) const {
    if (key == "email") return "Email";
    if (key == "sms") return "Text messages (SMS)";
    if (key == "post") return "Post";
    if (key == "phone") return "Phone calls";
    if (key == "in_app") return "Messages in our app";
    if (key == "push") return "Push notifications";
    return key;
  }

  // States and what follows each.
  std::string_view state_verifying = "Waiting for your code";
  std::string_view next_verifying = "Enter the code we sent you to confirm it is you.";
  std::string_view state_in_progress = "We are working on it";
  std::string_view next_in_progress =
      "We are preparing our answer. We will tell you when it is ready, by the date above.";
  std::string_view state_extended = "Extended";
  std::string_view next_extended =
      "Your request needs more time; we have told you why. We will answer by the date above.";
  std::string_view state_waiting = "Waiting for you";
  std::string_view next_waiting = "We have asked you for something; the month pauses until then.";
  std::string_view state_completed = "Completed";
  std::string_view next_completed = "We have answered your request.";
  std::string_view next_completed_copy =
      "Your copy is ready below. It stays available for 30 days.";
  std::string_view state_refused = "Refused";
  std::string_view next_refused =
      "We have told you why. You can complain to the regulator named in our privacy notice.";
  std::string_view state_withdrawn = "Withdrawn";
  std::string_view next_withdrawn = "You withdrew this request; we will do nothing more with it.";
  std::string_view state_forwarded = "Passed to the organisation responsible";
  std::string_view next_forwarded = "The organisation that decides about your data will answer.";
  std::string_view state_received = "Received";
  // Problems.
  std::string_view error_heading = "There is a problem";
  std::string_view error_contact_missing = "Give an email address or a mobile phone number.";
  std::string_view error_contact_both = "Give an email address or a phone number, not both.";
  std::string_view error_contact_form = "That email address or phone number does not look right.";
  std::string_view error_choice = "Choose one of the options.";
  std::string_view error_value = "Say what it should say.";
  std::string_view error_code = "That code is not right, or it has expired.";
  std::string_view error_code_locked =
      "Too many wrong codes. Contact us to prove who you are another way.";
  std::string_view error_too_many_codes =
      "We have sent too many codes to this address today. Try again tomorrow.";
  std::string_view error_general = "We could not do that. Try again, or contact us.";
  std::string_view error_form_expired =
      "This form has expired or did not come from our pages. Go back, reload the page and try "
      "again.";
  std::string_view error_session =
      "You need to confirm who you are to see this request. Your session may have ended after "
      "30 minutes without activity.";
  std::string_view error_not_found = "There is no such page.";
  std::string_view error_slow_down = "Too many attempts. Wait a moment and try again.";
  std::string_view forbidden_heading = "Not available";
  std::string_view not_found_heading = "Page not found";
  std::string_view back_home = "Back to the privacy centre";
  // A short title for each right (the policy's `rights.available` keys).
  std::string_view right_access = "Get a copy of your data";
  std::string_view right_portability = "Take your data elsewhere";
  std::string_view right_rectification = "Correct your data";
  std::string_view right_erasure = "Delete your data";
  std::string_view right_restriction = "Limit how we use your data";
  std::string_view right_objection = "Object to a use of your data";
  std::string_view right_withdraw_consent = "Withdraw your consent";
  std::string_view right_automated_decision_review = "Ask a person to review an automated decision";

  // The title of right `key`; the key itself for a right without one.
  std::string_view RightTitle(std::string_view key) const {
    if (key == "access") return right_access;
    if (key == "portability") return right_portability;
    if (key == "rectification") return right_rectification;
    if (key == "erasure") return right_erasure;
    if (key == "restriction") return right_restriction;
    if (key == "objection") return right_objection;
    if (key == "withdraw_consent") return right_withdraw_consent;
    if (key == "automated_decision_review") return right_automated_decision_review;
    return key;
  }
};

// The English words (the default).
const CentreText& EnglishCentreText();

}  // namespace custos::api

#endif  // CUSTOS_API_CENTRE_TEXT_H_
