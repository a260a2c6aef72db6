// ImportRun: one import, row by row, whatever reads the rows (the CLI from files, the API from
// a request's body). Maps each row (MapRow), gathers a batch of people, stores it with
// Engine::ImportBatch (one transaction per batch: a failed import leaves whole batches, and the
// same rows sent again are skipped), and counts what happened. Rejected rows (a malformed row,
// or one the engine refuses) are handed to `on_rejected` in line order, a batch at a time.
// Thread-safety: one thread at a time.
#ifndef CUSTOS_ENGINE_IMPORT_RUN_H_
#define CUSTOS_ENGINE_IMPORT_RUN_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/import.h"

namespace custos::engine {

class Engine;

struct ImportTotals {
  int64_t rows = 0, imported = 0, skipped = 0, rejected = 0, consents_withheld = 0, batches = 0;
  std::map<std::string, int64_t> skipped_by_reason;
};

// A rejected row: its line and why (never its values).
struct ImportRejection {
  int64_t line = 0;
  std::string reason;
};

class ImportRun {
 public:
  using OnRejected = std::function<Status(ImportRejection)>;

  // REQUIRES: `engine` and `mapping` outlive the run; batch_size > 0.
  ImportRun(Engine& engine, const ImportMapping& mapping, int batch_size, std::string actor,
            OnRejected on_rejected);

  // Takes one row; stores a batch once batch_size rows have gathered. Errors: the store's (the
  // batches before stay imported) and on_rejected's.
  Status Add(const ImportRow& row);
  // Stores what has gathered (at the end of a file or of a body).
  Status Flush();

  const ImportTotals& totals() const { return totals_; }

 private:
  Engine& engine_;
  const ImportMapping& mapping_;
  size_t batch_size_;
  std::string actor_;
  OnRejected on_rejected_;
  std::vector<ImportPerson> people_;  // PII
  std::vector<ImportRejection> rejected_;
  ImportTotals totals_;
};

}  // namespace custos::engine

#endif  // CUSTOS_ENGINE_IMPORT_RUN_H_
