// Bulk loads through COPY (pg::CopyRows): subjects, events, identifiers, records, consent
// events, preferences and audit entries, one buffer per table in COPY's text format, parents
// first; the database assigns the ids. PostgresStore::Import runs it in a transaction of its
// own; a batch of new rows (WriteBatch::only_new_rows, an import's people) runs it inside the
// transaction of Apply or ApplyGroup, so it commits with the batches beside it.
#include <string>
#include <string_view>
#include <utility>

#include "store/column_text.h"
#include "store/postgres/pg_internal.h"

namespace custos::store {

using pg::Invalid;

namespace pg {

Result<int64_t> CopyRows(Connection& db, const std::vector<WriteOp>& ops, size_t begin,
                         size_t end_at) {
  // COPY's text format, one buffer per table, loaded parents first (subjects).
  std::string subjects, events, identifiers, records, consents, preferences, audit;
  int64_t rows = 0;
  auto tab = [](std::string& out) { out.push_back('\t'); };
  auto text = [&](std::string& out, std::string_view value) {
    pg::AppendCopyText(out, value);
    tab(out);
  };
  auto bytes = [&](std::string& out, const Bytes& value) {
    pg::AppendCopyBytea(out, value);
    tab(out);
  };
  auto number = [&](std::string& out, int64_t value) {
    out += std::to_string(value);
    tab(out);
  };
  auto end = [&](std::string& out) {
    out.back() = '\n';
    ++rows;
  };
  for (size_t i = begin; i < end_at; ++i) {
    const WriteOp& op = ops[i];
    if (const auto* s = std::get_if<SubjectRow>(&op)) {
      std::string types;
      RETURN_IF_ERROR(JoinKeys(s->types, "subjects.types", &types));
      text(subjects, s->controller);
      text(subjects, s->subject_id);
      text(subjects, types);
      number(subjects, s->created_at.micros);
      bytes(subjects, s->wrapped_key);
      text(subjects, SubjectStateName(s->state));
      if (s->erased_at) {
        number(subjects, s->erased_at->micros);
      } else {
        subjects += "\\N\t";
      }
      end(subjects);
    } else if (const auto* e = std::get_if<EventRow>(&op)) {
      text(events, e->controller);
      text(events, e->subject_id);
      text(events, e->event);
      number(events, e->at.micros);
      end(events);
    } else if (const auto* d = std::get_if<IdentifierRow>(&op)) {
      text(identifiers, d->controller);
      text(identifiers, d->subject_id);
      text(identifiers, d->kind);
      bytes(identifiers, d->blind_index);
      bytes(identifiers, d->sealed_value);
      text(identifiers, d->verified ? "t" : "f");
      number(identifiers, d->added_at.micros);
      end(identifiers);
    } else if (const auto* r = std::get_if<RecordRow>(&op)) {
      text(records, r->controller);
      text(records, r->subject_id);
      text(records, r->category);
      bytes(records, r->sealed_value);
      text(records, r->source);
      text(records, r->purpose);
      number(records, r->collected_at.micros);
      text(records, RecordStateName(r->state));
      number(records, r->updated_at.micros);
      end(records);
    } else if (const auto* c = std::get_if<ConsentEventRow>(&op)) {
      text(consents, c->controller);
      text(consents, c->subject_id);
      text(consents, ConsentTargetName(c->target_kind));
      text(consents, c->target);
      text(consents, ConsentActionName(c->action));
      text(consents, c->notice_version);
      text(consents, c->channel);
      number(consents, c->at.micros);
      bytes(consents, c->sealed_evidence);
      end(consents);
    } else if (const auto* p = std::get_if<PreferenceRow>(&op)) {
      text(preferences, p->controller);
      text(preferences, p->subject_id);
      text(preferences, p->channel);
      text(preferences, p->allowed ? "t" : "f");
      number(preferences, p->at.micros);
      end(preferences);
    } else if (const auto* a = std::get_if<AuditRow>(&op); a != nullptr && a->seq > 0) {
      number(audit, a->seq);
      text(audit, a->controller);
      number(audit, a->at.micros);
      text(audit, a->actor);
      text(audit, a->action);
      text(audit, a->purpose);
      text(audit, a->subject_id);
      text(audit, a->detail);
      bytes(audit, a->prev_hash);
      bytes(audit, a->hash);
      end(audit);
    } else {
      return Invalid(
          "bulk load: only new subjects, events, identifiers, records, consent events,"
          " preferences and audit entries (with their seq) are loaded by COPY");
    }
  }
  if (rows == 0) return int64_t{0};
  const std::pair<const std::string*, const char*> copies[] = {
      {&subjects,
       "COPY subjects (controller, subject_id, types, created_at, wrapped_key, state, erased_at)"
       " FROM STDIN"},
      {&events, "COPY events (controller, subject_id, event, at) FROM STDIN"},
      {&identifiers,
       "COPY identifiers (controller, subject_id, kind, blind_index, sealed_value, verified,"
       " added_at) FROM STDIN"},
      {&records,
       "COPY records (controller, subject_id, category, sealed_value, source, purpose,"
       " collected_at, state, updated_at) FROM STDIN"},
      {&consents,
       "COPY consent_events (controller, subject_id, target_kind, target, action,"
       " notice_version, channel, at, sealed_evidence) FROM STDIN"},
      {&preferences, "COPY preferences (controller, subject_id, channel, allowed, at) FROM STDIN"},
      {&audit,
       "COPY audit_log (seq, controller, at, actor, action, purpose, subject_id, detail,"
       " prev_hash, hash) FROM STDIN"},
  };
  for (const auto& [data, sql] : copies) {
    if (data->empty()) continue;
    RETURN_IF_ERROR(db.Copy(sql, *data).status());
  }
  return rows;
}

}  // namespace pg

Result<int64_t> PostgresStore::Import(const WriteBatch& batch) {
  ASSIGN_OR_RETURN(Lease db, Acquire());
  int64_t rows = 0;
  Status status = [&]() -> Status {
    RETURN_IF_ERROR(db->Exec("BEGIN"));
    ASSIGN_OR_RETURN(rows, pg::CopyRows(*db, batch.ops, 0, batch.ops.size()));
    return db->Exec("COMMIT");
  }();
  if (!status.ok()) {
    if (!db->broken()) (void)db->Exec("ROLLBACK");
    return status;
  }
  return rows;
}

}  // namespace custos::store
