// The connectors of a policy's systems, opened when first needed and kept: what the adapters
// (CLI, server) attach to the engine (Engine::AttachSystems). A system's connection string is
// read from the environment variable or the file its policy entry names (a relative file is
// found in `base_dir`, the deployment's data directory); it is never logged or put in an error.
// Thread-safety: Open is serialised; each connector it returns is used by one thread at a time
// (the engine serialises its systems work).
#ifndef CUSTOS_CONNECTORS_SYSTEM_CONNECTORS_H_
#define CUSTOS_CONNECTORS_SYSTEM_CONNECTORS_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "engine/system_connector.h"

namespace custos::connectors {

class PolicySystemConnectors : public engine::SystemConnectors {
 public:
  // `base_dir`: where relative connection files are (empty: the working directory).
  explicit PolicySystemConnectors(std::string base_dir) : base_dir_(std::move(base_dir)) {}

  Result<engine::SystemConnector*> Open(const policy::System& system) override;

 private:
  Result<std::string> ConnectionString(const policy::System& system) const;

  std::string base_dir_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<engine::SystemConnector>> open_;
};

}  // namespace custos::connectors

#endif  // CUSTOS_CONNECTORS_SYSTEM_CONNECTORS_H_
