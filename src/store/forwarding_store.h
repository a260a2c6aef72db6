// ForwardingStore: a Store that passes every call to another Store. Decorators (GroupCommitter,
// test stores that inject faults or pause writes) derive from it and override only what they
// change.
// Thread-safety: as the wrapped store's.
// PII: passes rows through unchanged (see rows.h); keeps nothing.
#ifndef CUSTOS_STORE_FORWARDING_STORE_H_
#define CUSTOS_STORE_FORWARDING_STORE_H_

#include "store/store.h"

namespace custos::store {

class ForwardingStore : public Store {
 public:
  // REQUIRES: `base` outlives this object.
  explicit ForwardingStore(Store& base) : base_(base) {}

  Result<AppliedIds> Apply(const WriteBatch& batch) override { return base_.Apply(batch); }
  Result<std::vector<AppliedIds>> ApplyGroup(
      const std::vector<const WriteBatch*>& batches) override {
    return base_.ApplyGroup(batches);
  }
  Result<std::optional<ControllerRow>> GetController(const std::string& controller) override {
    return base_.GetController(controller);
  }
  Result<std::optional<SubjectRow>> GetSubject(const std::string& controller,
                                               const std::string& subject_id) override {
    return base_.GetSubject(controller, subject_id);
  }
  Status ScanSubjects(const std::string& controller,
                      const std::function<bool(const SubjectRow&)>& visit) override {
    return base_.ScanSubjects(controller, visit);
  }
  Result<int64_t> CountSubjects(const std::string& controller) override {
    return base_.CountSubjects(controller);
  }
  Result<std::vector<EventRow>> ListEvents(const std::string& controller,
                                           const std::string& subject_id) override {
    return base_.ListEvents(controller, subject_id);
  }
  Result<std::vector<IdentifierRow>> ListIdentifiers(const std::string& controller,
                                                     const std::string& subject_id) override {
    return base_.ListIdentifiers(controller, subject_id);
  }
  Result<std::vector<RecordRow>> ListRecords(const std::string& controller,
                                             const std::string& subject_id) override {
    return base_.ListRecords(controller, subject_id);
  }
  Result<std::vector<ConsentEventRow>> ListConsentEvents(const std::string& controller,
                                                         const std::string& subject_id) override {
    return base_.ListConsentEvents(controller, subject_id);
  }
  Result<std::vector<PreferenceRow>> ListPreferences(const std::string& controller,
                                                     const std::string& subject_id) override {
    return base_.ListPreferences(controller, subject_id);
  }
  Result<std::vector<ObjectionRow>> ListObjections(const std::string& controller,
                                                   const std::string& subject_id) override {
    return base_.ListObjections(controller, subject_id);
  }
  Result<std::vector<RestrictionRow>> ListRestrictions(const std::string& controller,
                                                       const std::string& subject_id) override {
    return base_.ListRestrictions(controller, subject_id);
  }
  Result<std::vector<std::string>> FindSubjectsByIdentifier(const std::string& controller,
                                                            const std::string& kind,
                                                            const Bytes& blind_index) override {
    return base_.FindSubjectsByIdentifier(controller, kind, blind_index);
  }
  Result<bool> IsSuppressed(const std::string& controller, const Bytes& hash) override {
    return base_.IsSuppressed(controller, hash);
  }
  Result<std::vector<LegalHoldRow>> ListLegalHolds(const std::string& controller) override {
    return base_.ListLegalHolds(controller);
  }
  Result<std::vector<ReviewTaskRow>> ListReviewTasks(const std::string& controller,
                                                     bool open_only) override {
    return base_.ListReviewTasks(controller, open_only);
  }
  Result<std::vector<SweepSubject>> ListSweepPage(const std::string& controller,
                                                  const std::string& after_subject_id,
                                                  size_t max_subjects) override {
    return base_.ListSweepPage(controller, after_subject_id, max_subjects);
  }
  Result<std::vector<FactCount>> CountAnonymisedFacts(const std::string& controller,
                                                      const std::string& category) override {
    return base_.CountAnonymisedFacts(controller, category);
  }
  Result<std::optional<RetentionRunRow>> LastRetentionRun(const std::string& controller) override {
    return base_.LastRetentionRun(controller);
  }
  Result<std::optional<RequestRow>> GetRequest(const std::string& controller,
                                               const std::string& request_id) override {
    return base_.GetRequest(controller, request_id);
  }
  Result<std::vector<RequestRow>> ListRequests(const std::string& controller,
                                               bool open_only) override {
    return base_.ListRequests(controller, open_only);
  }
  Result<std::vector<DisclosureRow>> ListDisclosures(const std::string& controller,
                                                     const std::string& subject_id) override {
    return base_.ListDisclosures(controller, subject_id);
  }
  Result<std::optional<BreachRow>> GetBreach(const std::string& controller,
                                             const std::string& breach_id) override {
    return base_.GetBreach(controller, breach_id);
  }
  Result<std::vector<BreachRow>> ListBreaches(const std::string& controller) override {
    return base_.ListBreaches(controller);
  }
  Result<std::vector<RequestEventRow>> ListRequestEvents(const std::string& controller,
                                                         const std::string& request_id) override {
    return base_.ListRequestEvents(controller, request_id);
  }
  Result<std::vector<OutboxRow>> ListOutbox(const std::string& controller,
                                            const std::string& request_id) override {
    return base_.ListOutbox(controller, request_id);
  }
  Result<std::vector<OutboxRow>> ClaimOutbox(const std::string& controller, Timestamp now,
                                             Timestamp lease_until, size_t max) override {
    return base_.ClaimOutbox(controller, now, lease_until, max);
  }
  Result<std::optional<RecipientEndpointRow>> GetRecipientEndpoint(
      const std::string& controller, const std::string& recipient) override {
    return base_.GetRecipientEndpoint(controller, recipient);
  }
  Result<std::vector<Timestamp>> ListCodeSends(const std::string& controller,
                                               const Bytes& contact_hash,
                                               Timestamp since) override {
    return base_.ListCodeSends(controller, contact_hash, since);
  }
  Result<std::vector<RecipientEndpointRow>> ListRecipientEndpoints(
      const std::string& controller) override {
    return base_.ListRecipientEndpoints(controller);
  }
  Result<std::vector<RecordVersionRow>> ListRecordVersions(const std::string& controller,
                                                           const std::string& subject_id) override {
    return base_.ListRecordVersions(controller, subject_id);
  }
  Result<std::optional<AuditRow>> LastAudit() override { return base_.LastAudit(); }
  Status ScanAudit(int64_t from_seq, const std::function<bool(const AuditRow&)>& visit) override {
    return base_.ScanAudit(from_seq, visit);
  }
  Result<KeyBindingRow> BindKey(const std::string& key_id) override {
    return base_.BindKey(key_id);
  }
  Result<std::optional<KeyBindingRow>> GetKeyBinding() override { return base_.GetKeyBinding(); }

 protected:
  Store& base() { return base_; }

 private:
  Store& base_;
};

}  // namespace custos::store

#endif  // CUSTOS_STORE_FORWARDING_STORE_H_
