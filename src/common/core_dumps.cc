#include "common/core_dumps.h"

#include <sys/prctl.h>
#include <sys/resource.h>

namespace custos {

Status ForbidCoreDumps() {
  rlimit none{0, 0};
  if (::setrlimit(RLIMIT_CORE, &none) != 0) {
    return Status(ErrorCode::kIo, "cannot set the core file size limit to 0");
  }
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return Status(ErrorCode::kIo, "cannot mark the process not dumpable");
  }
  return Status::Ok();
}

}  // namespace custos
