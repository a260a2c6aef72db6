// The one list of error codes in custos. Tests check codes, never message text.
// CodeName() gives the stable upper-case name; adapters map codes to HTTP statuses
// (api/) and CLI exit codes (cli/).
// Thread-safety: constants only.
#ifndef CUSTOS_COMMON_ERROR_CODE_H_
#define CUSTOS_COMMON_ERROR_CODE_H_

#include <optional>
#include <string_view>

namespace custos {

#define CUSTOS_ERROR_CODES(X)                                               \
  X(kOk, "OK")                                                              \
  X(kInvalidArgument, "INVALID_ARGUMENT")                                   \
  X(kNotFound, "NOT_FOUND")                                                 \
  X(kIo, "IO_ERROR")                                                        \
  /* the database cannot be reached now: the request may be sent again */   \
  X(kUnavailable, "STORE_UNAVAILABLE")                                      \
  X(kInternal, "INTERNAL")                                                  \
  /* policy loading and validation */                                       \
  X(kYamlSyntax, "YAML_SYNTAX")                                             \
  X(kDuplicateKey, "DUPLICATE_KEY")                                         \
  X(kUnsupportedVersion, "UNSUPPORTED_VERSION")                             \
  X(kUnknownField, "UNKNOWN_FIELD")                                         \
  X(kMissingField, "MISSING_FIELD")                                         \
  X(kWrongType, "WRONG_TYPE")                                               \
  X(kInvalidValue, "INVALID_VALUE")                                         \
  X(kMalformedPeriod, "MALFORMED_PERIOD")                                   \
  X(kUnknownCategory, "UNKNOWN_CATEGORY")                                   \
  X(kUnknownSubjectType, "UNKNOWN_SUBJECT_TYPE")                            \
  X(kUnknownPurpose, "UNKNOWN_PURPOSE")                                     \
  X(kUnknownRecipient, "UNKNOWN_RECIPIENT")                                 \
  X(kUnknownSource, "UNKNOWN_SOURCE")                                       \
  X(kUnknownEvent, "UNKNOWN_EVENT")                                         \
  X(kUnknownContact, "UNKNOWN_CONTACT")                                     \
  X(kMissingLawfulBasis, "MISSING_LAWFUL_BASIS")                            \
  X(kInterestNotStated, "INTEREST_NOT_STATED")                              \
  X(kSpecialCategoryWithoutCondition, "SPECIAL_CATEGORY_WITHOUT_CONDITION") \
  X(kCategoryWithoutRetention, "CATEGORY_WITHOUT_RETENTION")                \
  X(kTransferWithoutSafeguard, "TRANSFER_WITHOUT_SAFEGUARD")                \
  X(kTransferForbidden, "TRANSFER_FORBIDDEN")                               \
  X(kInvalidParent, "INVALID_PARENT")                                       \
  X(kPolicyInvalid, "POLICY_INVALID")                                       \
  X(kMappingInvalid, "MAPPING_INVALID")                                     \
  /* policy warnings (a valid policy that leaves something unsaid) */       \
  X(kContactWithoutAddress, "CONTACT_WITHOUT_ADDRESS")                      \
  X(kRecipientWithoutCountry, "RECIPIENT_WITHOUT_COUNTRY")                  \
  X(kConsentWithoutWithdrawal, "CONSENT_WITHOUT_WITHDRAWAL")                \
  X(kAddressNotStated, "ADDRESS_NOT_STATED")                                \
  X(kSafeguardNotStated, "SAFEGUARD_NOT_STATED")                            \
  X(kRecordIncomplete, "RECORD_INCOMPLETE")                                 \
  X(kProcessorWithoutContract, "PROCESSOR_WITHOUT_CONTRACT")                \
  /* engine: requests that cannot be carried out */                         \
  X(kUnknownSubject, "UNKNOWN_SUBJECT")                                     \
  X(kSubjectErased, "SUBJECT_ERASED")                                       \
  X(kAlreadyExists, "ALREADY_EXISTS")                                       \
  X(kNotInitialised, "NOT_INITIALISED")                                     \
  X(kAuditBroken, "AUDIT_CHAIN_BROKEN")                                     \
  X(kKeyMismatch, "KEY_MISMATCH")                                           \
  /* decision reasons (a deny carries one or more) */                       \
  X(kPurposeUnknown, "PURPOSE_UNKNOWN")                                     \
  X(kCategoryNotInPurpose, "CATEGORY_NOT_IN_PURPOSE")                       \
  X(kSubjectTypeNotInPurpose, "SUBJECT_TYPE_NOT_IN_PURPOSE")                \
  X(kConsentMissing, "CONSENT_MISSING")                                     \
  X(kConsentWithdrawn, "CONSENT_WITHDRAWN")                                 \
  X(kConsentStale, "CONSENT_STALE")                                         \
  X(kObjected, "OBJECTED")                                                  \
  X(kMarketingObjected, "MARKETING_OBJECTED")                               \
  X(kSuppressed, "SUPPRESSED")                                              \
  X(kChannelOptedOut, "CHANNEL_OPTED_OUT")                                  \
  X(kRestricted, "RESTRICTED")                                              \
  X(kRetentionExpired, "RETENTION_EXPIRED")                                 \
  X(kSpecialConditionNotMet, "SPECIAL_CONDITION_NOT_MET")                   \
  X(kGpcRefused, "GPC_REFUSED")                                             \
  /* crypto: sealing, key wrapping, the master key file */                  \
  X(kCryptoFailure, "CRYPTO_FAILURE")                                       \
  X(kKeyFile, "KEY_FILE_INVALID")                                           \
  /* retention: legal holds */                                              \
  X(kLegalHoldActive, "LEGAL_HOLD_ACTIVE")                                  \
  /* rights requests */                                                     \
  X(kUnknownRequest, "UNKNOWN_REQUEST")                                     \
  X(kRequestState, "REQUEST_STATE_INVALID")                                 \
  X(kRightNotAvailable, "RIGHT_NOT_AVAILABLE")                              \
  X(kVerificationFailed, "VERIFICATION_FAILED")                             \
  X(kExtensionNotAllowed, "EXTENSION_NOT_ALLOWED")                          \
  X(kFeeNotAllowed, "FEE_NOT_ALLOWED")                                      \
  X(kTooManyCodes, "TOO_MANY_CODES")                                        \
  X(kTooManyAttempts, "TOO_MANY_ATTEMPTS")                                  \
  /* the breach register */                                                 \
  X(kUnknownBreach, "UNKNOWN_BREACH")                                       \
  X(kBreachState, "BREACH_STATE_INVALID")                                   \
  /* the organisation's own systems */                                      \
  X(kSystemUnavailable, "SYSTEM_UNAVAILABLE")                               \
  /* third-party applications (an application's token and its grant) */     \
  X(kGrantExpired, "APPLICATION_GRANT_EXPIRED")                             \
  X(kOutsideGrant, "OUTSIDE_APPLICATION_GRANT")                             \
  X(kConflict, "CONFLICT")

enum class ErrorCode {
#define CUSTOS_ENUM_ENTRY(id, name) id,
  CUSTOS_ERROR_CODES(CUSTOS_ENUM_ENTRY)
#undef CUSTOS_ENUM_ENTRY
};

// Stable upper-case name of a code, e.g. "UNKNOWN_CATEGORY".
std::string_view CodeName(ErrorCode code);
// Inverse of CodeName; nullopt for an unknown name.
std::optional<ErrorCode> CodeFromName(std::string_view name);

}  // namespace custos

#endif  // CUSTOS_COMMON_ERROR_CODE_H_
