// Decisions served by two processes against one, over one PostgreSQL database (issue 7).
//
// Each process opens its own PostgresStore and Engine on the same schema, loads every
// subject's state from PostgreSQL into its decision cache (timed apart, "warm-up"), then makes
// DECISIONS decisions over those subjects, flushing the audit log every FLUSH_EVERY decisions:
// every decision is audited durably in PostgreSQL, in the one hash chain both processes share
// (a process whose chain head is stale re-chains and retries, engine/audit_log.cc). Throughput
// = decisions / wall time of the timed phase, summed over the processes. The one-process run
// is the baseline of the two-process run, in the same program run.
//
// Usage: CUSTOS_BENCH_DATABASE_URL=postgresql://... pg_decide_bench [SUBJECTS=5000]
//        [DECISIONS=200000] [FLUSH_EVERY=4096]
#include <sys/wait.h>
#include <unistd.h>

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
  size_t decisions = 0, allowed = 0;
};

std::unique_ptr<store::PostgresStore> OpenStore(const std::string& url) {
  store::PostgresOptions options;
  options.url = url;
  options.schema = kSchema;
  return Check(store::PostgresStore::Open(options), "open store");
}

ChildResult RunChild(const std::string& url, const policy::Policy& policy,
                     const crypto::MasterKey& master, size_t subjects, size_t decisions,
                     size_t flush_every, unsigned seed) {
  auto store = OpenStore(url);
  FixedClock clock(*Timestamp::Parse("2026-01-01"));
  engine::Engine engine(policy, "wig", *store, master, clock);
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
                     .allow;
  }
  Check(engine.Flush(), "flush");
  r.warm_seconds = SecondsSince(warm);
  std::vector<engine::DecisionRequest> requests;
  for (size_t i = 0; i < 4096; ++i) {
    const auto& [purpose, categories] = asks[i % asks.size()];
    requests.push_back(
        {"s" + std::to_string(rng() % subjects), purpose, categories, "", clock.Now(), "bench"});
  }
  r.allowed = 0;
  auto start = SteadyClock::now();
  for (size_t i = 0; i < decisions; ++i) {
    r.allowed += engine.Decide(requests[i % requests.size()]).allow;
    if ((i + 1) % flush_every == 0) Check(engine.Flush(), "flush");
  }
  Check(engine.Flush(), "flush");
  r.seconds = SecondsSince(start);
  r.decisions = decisions;
  return r;
}

// Runs `processes` children at once; returns their results.
std::vector<ChildResult> RunProcesses(int processes, const std::string& url,
                                      const policy::Policy& policy, const crypto::MasterKey& master,
                                      size_t subjects, size_t decisions, size_t flush_every) {
  std::vector<int> pipes;
  std::vector<pid_t> pids;
  for (int p = 0; p < processes; ++p) {
    int fds[2];
    if (::pipe(fds) != 0) std::exit(1);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      ChildResult r =
          RunChild(url, policy, master, subjects, decisions, flush_every, 100u + unsigned(p));
      if (::write(fds[1], &r, sizeof r) != static_cast<ssize_t>(sizeof r)) ::_exit(1);
      ::_exit(0);
    }
    ::close(fds[1]);
    pipes.push_back(fds[0]);
    pids.push_back(pid);
  }
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
    engine::Engine engine(policy, "wig", *store, master, clock);
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
  for (int processes : {1, 2}) {
    auto results = RunProcesses(processes, url, policy, master, subjects, decisions, flush_every);
    double total = 0, warm = 0;
    for (const auto& r : results) {
      total += static_cast<double>(r.decisions) / r.seconds;
      warm = std::max(warm, r.warm_seconds);
    }
    rates[processes] = total;
    std::printf("  %d process(es): %9.0f decisions/s in total (cache warm-up %.2f s)\n", processes,
                total, warm);
  }
  std::printf("ratio two processes / one: %.2f\n", rates[2] / rates[1]);
  auto store = OpenStore(url);
  auto verified = Check(engine::AuditLog::Verify(*store), "audit verify");
  std::printf("audit chain after both runs: %lld entries, %s\n",
              static_cast<long long>(verified.entries_checked),
              verified.first_broken_seq ? "BROKEN" : "intact");
  store.reset();
  (void)store::DropPostgresSchemaForTesting(url, kSchema);
  return verified.first_broken_seq ? 1 : 0;
}

}  // namespace
}  // namespace custos::bench

int main(int argc, char** argv) { return custos::bench::Main(argc, argv); }
