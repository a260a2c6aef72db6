// ForbidCoreDumps, run in a child process (it changes the process for good): afterwards the
// process is not dumpable and its core limit is 0, soft and hard.
#include "common/core_dumps.h"

#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace custos {
namespace {

// What the child found, as its exit code: 0 all as it should be, else the first thing wrong.
int CheckInChild() {
  if (::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 1) return 10;  // dumpable before: a real change
  if (!ForbidCoreDumps().ok()) return 11;
  if (::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) return 12;
  rlimit limit{};
  if (::getrlimit(RLIMIT_CORE, &limit) != 0) return 13;
  if (limit.rlim_cur != 0) return 14;
  if (limit.rlim_max != 0) return 15;
  rlimit raise{1 << 20, 1 << 20};  // the hard limit cannot be raised again
  if (::setrlimit(RLIMIT_CORE, &raise) == 0 && ::geteuid() != 0) return 16;
  return 0;
}

TEST(CoreDumpsTest, TheProcessIsNotDumpableAndItsCoreLimitIsZero) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(CheckInChild());
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see CheckInChild for what the code means";
}

}  // namespace
}  // namespace custos
