// Decisions served by two processes against one, over one PostgreSQL database.
//
// Each process opens its own PostgresStore and Engine on the same schema, loads every
// subject's state from PostgreSQL into its decision cache (timed apart, "warm-up"), then makes
// DECISIONS decisions over those subjects, flushing the audit log every FLUSH_EVERY decisions:
// every decision is audited durably in PostgreSQL, in the one hash chain both processes share
// (a process whose chain head is stale re-chains and retries, engine/audit_log.cc). The
// processes start their timed phases together: each warms up, says so on a pipe, and waits for
// the parent to close a second pipe, which it does once every process is warm. Throughput =
// all processes' decisions / the time from the first process's start to the last one's end
// (one system-wide monotonic clock); each process's own rate is printed beside it. The
// one-process run is the baseline of the two-process run, in the same program run.
// Before the ratio: every process made the same number of decisions in both runs, and the audit
// chain grew by exactly one entry per decision (warm-up included), read from its head after
// each run (bench_util.h, SameWork).
//
// Usage: CUSTOS_BENCH_DATABASE_URL=postgresql://... pg_decide_bench [SUBJECTS=5000]
//        [DECISIONS=200000] [FLUSH_EVERY=4096]
//        [--mismatch-for-testing]  (the one-process run makes one decision more: no verdict)
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "crypto/key.h"
#include "crypto/master_key.h"
#include "engine/audit_log.h"
#include "engine/engine.h"
#include "policy/loader.h"
#include "store/postgres/postgres_store.h"

namespace custos::bench {
namespace {

constexpr char kSchema[] = "bench_decide";

struct ChildResult {
  double warm_seconds = 0, seconds = 0;
  int64_t start_ns = 0, end_ns = 0;  // steady clock (CLOCK_MONOTONIC: the same in every process)
  size_t warm_decisions = 0, decisions = 0, allowed = 0;
};

int64_t MonotonicNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
      .count();
}

std::unique_ptr<store::PostgresStore> OpenStore(const std::string& url) {
  store::PostgresOptions options;
  options.url = url;
  options.schema = kSchema;
  return Check(store::PostgresStore::Open(options), "open store");
}

// The head of the audit chain in the database: seqs are consecutive, so its growth is the
// number of entries written. (A connection of its own, closed before any fork.)
int64_t AuditHead(const std::string& url) {
  auto head = Check(OpenStore(url)->LastAudit(), "audit head");
  return head.has_value() ? head->seq : 0;
}

// One process's work. After the warm-up it writes a byte to `ready_fd` and closes it, then
// waits until `go_fd` reaches end of file (the parent closes its end once all are ready).
ChildResult RunChild(const std::string& url, const policy::Policy& policy,
                     const crypto::MasterKey& master, size_t subjects, size_t decisions,
                     size_t flush_every, unsigned seed, int ready_fd, int go_fd) {
  auto store = OpenStore(url);
  FixedClock clock(*Timestamp::Parse("2026-01-01"));
  // The decision path itself: entries buffered and flushed in runs (the durable path is
  // measured over HTTP by bench/server_load.sh).
  engine::Engine engine(policy, "wig", *store, master, clock, engine::DecisionAudit::kBuffered);
  Check(engine.Open("bench"), "engine open");
  std::mt19937_64 rng(seed);
  const std::vector<std::pair<std::string, std::vector<std::string>>> asks = {
      {"event_bookings", {"user.name", "user.contact.email"}},
      {"membership_records", {"user.name", "user.job_title"}},
      {"opportunities", {"user.contact.email"}},
  };
  ChildResult r;
  auto warm = SteadyClock::now();
  for (size_t i = 0; i < subjects; ++i) {
    r.allowed += engine
                     .Decide({"s" + std::to_string(i), asks[0].first, asks[0].second, "",
                              clock.Now(), "bench"})
                     ->allow;
  }
  Check(engine.Flush(), "flush");
  r.warm_seconds = SecondsSince(warm);
  r.warm_decisions = subjects;
  std::vector<engine::DecisionRequest> requests;
  for (size_t i = 0; i < 4096; ++i) {
    const auto& [purpose, categories] = asks[i % asks.size()];
    requests.push_back(
        {"s" + std::to_string(rng() % subjects), purpose, categories, "", clock.Now(), "bench"});
  }
  r.allowed = 0;
  char ready = 1;
  if (::write(ready_fd, &ready, 1) != 1) ::_exit(1);
  ::close(ready_fd);
  char go;
  while (::read(go_fd, &go, 1) > 0) {
  }
  ::close(go_fd);
  auto start = SteadyClock::now();
  r.start_ns = MonotonicNanos();
  for (size_t i = 0; i < decisions; ++i) {
    r.allowed += engine.Decide(requests[i % requests.size()])->allow;
    ++r.decisions;
    if ((i + 1) % flush_every == 0) Check(engine.Flush(), "flush");
  }
  Check(engine.Flush(), "flush");
  r.seconds = SecondsSince(start);
  r.end_ns = MonotonicNanos();
  return r;
}

// Runs `processes` children, their timed phases started together; returns their results.
std::vector<ChildResult> RunProcesses(int processes, const std::string& url,
                                      const policy::Policy& policy, const crypto::MasterKey& master,
                                      size_t subjects, size_t decisions, size_t flush_every) {
  std::vector<int> pipes;
  std::vector<pid_t> pids;
  int ready[2], go[2];
  if (::pipe(ready) != 0 || ::pipe(go) != 0) std::exit(1);
  for (int p = 0; p < processes; ++p) {
    int fds[2];
    if (::pipe(fds) != 0) std::exit(1);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      ::close(ready[0]);
      ::close(go[1]);  // else this child would keep `go` open for itself
      ChildResult r = RunChild(url, policy, master, subjects, decisions, flush_every,
                               100u + unsigned(p), ready[1], go[0]);
      if (::write(fds[1], &r, sizeof r) != static_cast<ssize_t>(sizeof r)) ::_exit(1);
      ::_exit(0);
    }
    ::close(fds[1]);
    pipes.push_back(fds[0]);
    pids.push_back(pid);
  }
  ::close(ready[1]);
  ::close(go[0]);
  // The barrier: one byte from every child once warm. End of file first means one died.
  int warm = 0;
  char byte;
  while (warm < processes && ::read(ready[0], &byte, 1) == 1) ++warm;
  ::close(ready[0]);
  if (warm < processes) {
    std::fprintf(stderr, "a benchmark process failed before its timed phase\n");
    for (pid_t pid : pids) ::kill(pid, SIGTERM);
    std::exit(1);
  }
  ::close(go[1]);  // every child's read of `go` returns now: the timed phases start together
  std::vector<ChildResult> results;
  for (int p = 0; p < processes; ++p) {
    ChildResult r;
    if (::read(pipes[p], &r, sizeof r) != static_cast<ssize_t>(sizeof r)) {
      std::fprintf(stderr, "a benchmark process failed\n");
      std::exit(1);
    }
    ::close(pipes[p]);
    int status = 0;
    ::waitpid(pids[p], &status, 0);
    results.push_back(r);
  }
  return results;
}

int Main(int argc, char** argv) {
  const bool mismatch = TakeFlag(argc, argv, kMismatchFlag);
  const char* url_env = std::getenv("CUSTOS_BENCH_DATABASE_URL");
  if (url_env == nullptr || *url_env == '\0') {
    std::fprintf(stderr, "set CUSTOS_BENCH_DATABASE_URL\n");
    return 2;
  }
  const std::string url = url_env;
  const size_t subjects = SizeArg(argc, argv, 1, "PG_DECIDE_SUBJECTS", 5000);
  const size_t decisions = SizeArg(argc, argv, 2, "PG_DECIDE_DECISIONS", 200000);
  const size_t flush_every = SizeArg(argc, argv, 3, "PG_DECIDE_FLUSH_EVERY", 4096);
  Check(crypto::InitSodium(), "sodium");
  auto policy = Check(
      policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml"), "policy");
  auto master = crypto::MasterKey::FromSecretForTesting(crypto::SecretKey::Random());

  // The people: half members, half non-members, a third with consent to event bookings.
  Check(store::DropPostgresSchemaForTesting(url, kSchema), "drop schema");
  {
    auto store = OpenStore(url);
    FixedClock clock(*Timestamp::Parse("2026-01-01"));
    // The decision path itself: entries buffered and flushed in runs (the durable path is
    // measured over HTTP by bench/server_load.sh).
    engine::Engine engine(policy, "wig", *store, master, clock, engine::DecisionAudit::kBuffered);
    Check(engine.Open("bench"), "engine open");
    Check(engine.Flush(), "flush");
    store::WriteBatch rows;
    const Timestamp base = *Timestamp::Parse("2020-01-01");
    std::mt19937_64 rng(42);
    for (size_t i = 0; i < subjects; ++i) {
      std::string id = "s" + std::to_string(i);
      store::SubjectRow subject;
      subject.controller = "wig";
      subject.subject_id = id;
      subject.types = {i % 2 ? "member" : "non_member"};
      subject.created_at = base;
      subject.wrapped_key = store::Bytes(72, 1);
      rows.Add(subject);
      rows.Add(store::EventRow{"wig", id, "subject_created", base});
      rows.Add(store::EventRow{
          "wig", id, "last_activity",
          Timestamp{base.micros + static_cast<int64_t>(rng() % (6ull * 365 * 86400 * 1000000))}});
      if (i % 3 == 0) {
        store::ConsentEventRow consent;
        consent.controller = "wig";
        consent.subject_id = id;
        consent.target = "event_bookings";
        consent.notice_version = "2022-02-10";
        consent.channel = "web";
        consent.at = base;
        rows.Add(consent);
      }
    }
    Check(store->Import(rows).status(), "import");
  }

  std::printf(
      "decisions over PostgreSQL: %zu subjects, %zu decisions a process, audit flushed"
      " every %zu decisions\n",
      subjects, decisions, flush_every);
  double rates[3] = {0, 0, 0};
  SameWork work;
  std::vector<size_t> per_process[3];
  for (int processes : {1, 2}) {
    const int64_t head_before = AuditHead(url);
    auto results =
        RunProcesses(processes, url, policy, master, subjects,
                     mismatch && processes == 1 ? decisions + 1 : decisions, flush_every);
    const int64_t audited = AuditHead(url) - head_before;
    double warm = 0, sum_of_rates = 0;
    int64_t first_start = results[0].start_ns, last_start = results[0].start_ns;
    int64_t last_end = results[0].end_ns;
    size_t made = 0;
    for (const auto& r : results) {
      sum_of_rates += static_cast<double>(r.decisions) / r.seconds;
      warm = std::max(warm, r.warm_seconds);
      first_start = std::min(first_start, r.start_ns);
      last_start = std::max(last_start, r.start_ns);
      last_end = std::max(last_end, r.end_ns);
      made += r.warm_decisions + r.decisions;
      per_process[processes].push_back(r.decisions);
    }
    double span = static_cast<double>(last_end - first_start) / 1e9;
    double decided = 0;
    for (const auto& r : results) decided += static_cast<double>(r.decisions);
    rates[processes] = decided / span;
    std::printf(
        "  %d process(es): %9.0f decisions/s in total (their decisions over %.2f s from the "
        "first start to the last end; starts %.1f ms apart; the processes' own rates sum to "
        "%.0f/s; cache warm-up %.2f s)\n",
        processes, rates[processes], span, static_cast<double>(last_start - first_start) / 1e6,
        sum_of_rates, warm);
    work.Holds(std::to_string(processes) + " process(es): one audit entry stored per decision (" +
                   std::to_string(audited) + " for " + std::to_string(made) + ")",
               audited == static_cast<int64_t>(made));
  }
  for (size_t d : per_process[2]) {
    work.Equal("decisions a process made (2 processes; 1)", static_cast<long long>(d),
               static_cast<long long>(per_process[1].front()));
  }
  auto store = OpenStore(url);
  auto verified = Check(engine::AuditLog::Verify(*store, master.AuditChainKey()), "audit verify");
  std::printf("audit chain after both runs: %lld entries, %s\n",
              static_cast<long long>(verified.entries_checked),
              verified.first_broken_seq ? "BROKEN" : "intact");
  work.Holds("the audit chain is intact", !verified.first_broken_seq);
  store.reset();
  (void)store::DropPostgresSchemaForTesting(url, kSchema);
  work.Require();
  std::printf("ratio two processes / one: %.2f\n", rates[2] / rates[1]);
  return 0;
}

}  // namespace
}  // namespace custos::bench

int main(int argc, char** argv) { return custos::bench::Main(argc, argv); }
