#include "engine/import_run.h"

#include <algorithm>

#include "engine/engine.h"

namespace custos::engine {

ImportRun::ImportRun(Engine& engine, const ImportMapping& mapping, int batch_size,
                     std::string actor, OnRejected on_rejected)
    : engine_(engine),
      mapping_(mapping),
      batch_size_(static_cast<size_t>(std::max(1, batch_size))),
      actor_(std::move(actor)),
      on_rejected_(std::move(on_rejected)) {}

Status ImportRun::Add(const ImportRow& row) {
  ++totals_.rows;
  auto person = MapRow(mapping_, row);
  if (!person.ok()) {
    rejected_.push_back({row.line, person.status().message()});
  } else {
    people_.push_back(std::move(*person));
  }
  if (people_.size() + rejected_.size() >= batch_size_) return Flush();
  return Status::Ok();
}

Status ImportRun::Flush() {
  if (!people_.empty()) {
    ASSIGN_OR_RETURN(std::vector<ImportOutcome> outcomes, engine_.ImportBatch(people_, actor_));
    people_.clear();
    ++totals_.batches;
    for (const auto& outcome : outcomes) {
      switch (outcome.kind) {
        case ImportOutcome::Kind::kImported: ++totals_.imported; break;
        case ImportOutcome::Kind::kSkipped:
          ++totals_.skipped;
          ++totals_.skipped_by_reason[outcome.reason];
          break;
        case ImportOutcome::Kind::kRejected:
          rejected_.push_back({outcome.line, outcome.reason});
          break;
      }
      totals_.consents_withheld += outcome.consents_withheld;
    }
  }
  std::sort(rejected_.begin(), rejected_.end(),
            [](const ImportRejection& a, const ImportRejection& b) { return a.line < b.line; });
  std::vector<ImportRejection> rejected;
  rejected.swap(rejected_);
  for (auto& rejection : rejected) {
    ++totals_.rejected;
    if (on_rejected_) RETURN_IF_ERROR(on_rejected_(std::move(rejection)));
  }
  return Status::Ok();
}

}  // namespace custos::engine
