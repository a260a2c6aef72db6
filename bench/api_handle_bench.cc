// The HTTP handler without the network: Api::Handle() for POST /v1/decisions against
// GET /ping on the same Api, in the same run, on one thread. The load benchmark
// (bench/server_load.sh) measures the same pair through libmicrohttpd and the kernel, where
// the machine's drift is as large as the differences worth finding; this one shows what the
// handler itself costs a decision: token check, strict body parse, the engine's rules, the
// audit entry, the JSON answer, and the audit flush (Engine::Flush every kFlushEvery
// decisions, timed in, as the server's flusher thread does it every 100 ms).
//
// Method: rounds alternate a ping pass and a decision pass of the same length; each prints
// ns per call; the result is the median of the rounds' extra cost of a decision over a ping,
// with the audit flush timed in and, beside it, without (the flush timed apart).
// Before the result: both passes answered the same number of calls (all 200), the decision
// passes stored one audit entry per decision and the ping passes none, and as many decisions
// allowed as the subjects' consents say (bench_util.h, SameWork).
// Usage: api_handle_bench [SUBJECTS=1000] [CALLS_PER_PASS=200000] [ROUNDS=5]
//        [--mismatch-for-testing]  (each ping pass makes one call more: no result)
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "api/auth.h"
#include "api/log.h"
#include "api/server.h"
#include "bench/bench_util.h"
#include "common/time.h"
#include "crypto/key.h"
#include "crypto/master_key.h"
#include "engine/engine.h"
#include "policy/loader.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::bench {
namespace {

constexpr size_t kFlushEvery = 4096;

double NanosPerCall(size_t calls, SteadyClock::time_point start) {
  return SecondsSince(start) * 1e9 / static_cast<double>(calls);
}

int Main(int argc, char** argv) {
  const bool mismatch = TakeFlag(argc, argv, kMismatchFlag);
  const size_t subjects = SizeArg(argc, argv, 1, "API_SUBJECTS", 1000);
  const size_t calls = SizeArg(argc, argv, 2, "API_CALLS", 200000);
  const size_t rounds = SizeArg(argc, argv, 3, "API_ROUNDS", 5);
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("custos-api-bench-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);

  auto store = Check(store::OpenSqliteStore({dir.string(), true}), "open store");
  auto policy =
      Check(policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml"),
            "load policy");
  crypto::MasterKey master = crypto::MasterKey::FromSecretForTesting(crypto::SecretKey::Random());
  FixedClock clock{*Timestamp::Parse("2026-02-01")};
  // The decision path itself: entries buffered and flushed in runs (the durable path is
  // measured over HTTP by bench/server_load.sh).
  engine::Engine engine(std::move(policy), "wig", *store, master, clock,
                        engine::DecisionAudit::kBuffered);
  Check(engine.Open("bench policy"), "open engine");
  for (size_t i = 1; i <= subjects; ++i) {
    std::string id = "b" + std::to_string(i);
    Check(engine.AddSubject({id, {"non_member"}, {}, clock.Now(), "bench"}), "add subject");
    if (i % 2 == 0) {  // half allowed, half denied (CONSENT_MISSING)
      engine::ConsentChangeRequest consent;
      consent.subject_id = id;
      consent.target = "newsletter";
      Check(engine.ChangeConsent(consent), "consent");
    }
  }
  Check(engine.Flush(), "flush");
  api::TokenStore tokens((dir / "tokens.jsonl").string());
  Check(tokens.Load(), "load tokens");
  api::Principal admin;
  admin.role = api::Role::kAdmin;
  std::string token = Check(tokens.Create(admin, "bench", "2026-02-01"), "create token");
  std::FILE* log_file = std::tmpfile();
  api::JsonLog log(log_file);
  api::ApiOptions options;
  options.token_rate = 0;
  options.address_rate = 0;
  options.request_log = api::ApiOptions::RequestLog::kNone;
  api::Api handler(engine, *store, tokens, log, options, &clock);

  api::HttpRequest ping;
  ping.method = "GET";
  ping.path = "/ping";
  ping.client_address = "127.0.0.1";
  std::vector<api::HttpRequest> decisions;
  for (size_t i = 1; i <= subjects; ++i) {
    api::HttpRequest r;
    r.method = "POST";
    r.path = "/v1/decisions";
    r.content_type = "application/json";
    r.authorization = "Bearer " + token;
    r.client_address = "127.0.0.1";
    r.body = "{\"subject_id\":\"b" + std::to_string(i) +
             "\",\"purpose\":\"newsletter\",\"categories\":[\"user.contact.email\"]}";
    decisions.push_back(std::move(r));
  }

  std::printf("Api::Handle, one thread, %zu subjects, %zu calls a pass, %zu rounds\n", subjects,
              calls, rounds);
  std::vector<double> extra, extra_without_audit;
  size_t allowed = 0, expected_allowed = 0, pings_answered = 0, decisions_answered = 0;
  int64_t ping_audit = 0, decision_audit = 0;
  const size_t ping_calls = mismatch ? calls + 1 : calls;
  for (size_t round = 1; round <= rounds; ++round) {
    int64_t head = engine.audit().head_seq();
    auto start = SteadyClock::now();
    for (size_t i = 0; i < ping_calls; ++i) {
      api::HttpRequest request = ping;  // the transport hands over a fresh request each time
      if (handler.Handle(request).status != 200) Check(Status(ErrorCode::kInternal, "ping"), "");
      ++pings_answered;
    }
    double ping_ns = NanosPerCall(ping_calls, start);
    Check(engine.Flush(), "flush");  // nothing to write, unless a ping audited something
    ping_audit += engine.audit().head_seq() - head;
    head = engine.audit().head_seq();
    double flush_seconds = 0;
    start = SteadyClock::now();
    for (size_t i = 0; i < calls; ++i) {
      size_t subject = (i * 7919) % decisions.size();  // decisions[k] is subject b(k+1)
      api::HttpRequest request = decisions[subject];
      api::HttpResponse response = handler.Handle(request);
      if (response.status != 200) Check(Status(ErrorCode::kInternal, response.body), "decide");
      ++decisions_answered;
      allowed += response.body.find("\"allow\":true") != std::string::npos;
      expected_allowed += (subject + 1) % 2 == 0;  // the even subjects consented
      if ((i + 1) % kFlushEvery == 0) {
        auto flush = SteadyClock::now();
        Check(engine.Flush(), "flush");
        flush_seconds += SecondsSince(flush);
      }
    }
    auto flush = SteadyClock::now();
    Check(engine.Flush(), "flush");
    flush_seconds += SecondsSince(flush);
    double decide_ns = NanosPerCall(calls, start);
    double without_ns = decide_ns - flush_seconds * 1e9 / static_cast<double>(calls);
    decision_audit += engine.audit().head_seq() - head;
    extra.push_back(decide_ns - ping_ns);
    extra_without_audit.push_back(without_ns - ping_ns);
    std::printf(
        "round %zu: ping %.0f ns, decision %.0f ns with its audit write: +%.0f ns "
        "(%.0f ns without it: +%.0f ns)\n",
        round, ping_ns, decide_ns, decide_ns - ping_ns, without_ns, without_ns - ping_ns);
  }
  std::fclose(log_file);
  fs::remove_all(dir);

  SameWork work;
  work.Equal("calls answered 200 (decision passes; ping passes)",
             static_cast<long long>(decisions_answered), static_cast<long long>(pings_answered));
  work.Holds("one audit entry stored per decision (" + std::to_string(decision_audit) + ")",
             decision_audit == static_cast<int64_t>(decisions_answered));
  work.Holds("no audit entry stored by the pings (" + std::to_string(ping_audit) + ")",
             ping_audit == 0);
  work.Holds("decisions allowed as the subjects' consents say (" + std::to_string(allowed) +
                 " of " + std::to_string(expected_allowed) + " expected)",
             allowed == expected_allowed);
  work.Require();
  std::printf(
      "a decision costs the handler %.2f us more than a ping with its audit write, %.2f us "
      "without it (medians of %zu rounds); %zu allowed\n",
      Percentile(extra, 0.5) / 1000, Percentile(extra_without_audit, 0.5) / 1000, rounds, allowed);
  return 0;
}

}  // namespace
}  // namespace custos::bench

int main(int argc, char** argv) { return custos::bench::Main(argc, argv); }
