// ForbidCoreDumps: the `custos` process never writes its memory to a core file.
//
// The process holds keys and opened personal values in memory; a core file would put them on
// disk in plaintext, where no key protects them. Call it first thing in main(), for every verb:
// it sets the core size limit to 0 (soft and hard, so a child cannot raise it) and marks the
// process not dumpable (prctl PR_SET_DUMPABLE 0: no core even where the limit is ignored by a
// core pattern that pipes to a program, and no ptrace attach or /proc/<pid>/mem read by other
// processes of the same user).
// Returns OK, or kIo naming the call that failed.
#ifndef CUSTOS_COMMON_CORE_DUMPS_H_
#define CUSTOS_COMMON_CORE_DUMPS_H_

#include "common/status.h"

namespace custos {

Status ForbidCoreDumps();

}  // namespace custos

#endif  // CUSTOS_COMMON_CORE_DUMPS_H_
