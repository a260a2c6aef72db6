// The HTTP handler without the network (issue 4): Api::Handle() for POST /v1/decisions against
// GET /ping on the same Api, in the same run, on one thread. The load benchmark
// (bench/server_load.sh) measures the same pair through libmicrohttpd and the kernel, where
// the machine's drift is as large as the differences worth finding; this one shows what the
// handler itself costs a decision: token check, strict body parse, the engine's rules, the
// audit entry, the JSON answer, and the audit flush (Engine::Flush every kFlushEvery
// decisions, timed in, as the server's flusher thread does it every 100 ms).
//
// Method: rounds alternate a ping pass and a decision pass of the same length; each prints
// ns per call; the result is the median of the rounds' extra cost of a decision over a ping.
// Usage: api_handle_bench [SUBJECTS=1000] [CALLS_PER_PASS=200000] [ROUNDS=5]
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
  engine::Engine engine(std::move(policy), "wig", *store, master, clock);
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
  std::vector<double> extra;
  size_t allowed = 0;
  for (size_t round = 1; round <= rounds; ++round) {
    auto start = SteadyClock::now();
    for (size_t i = 0; i < calls; ++i) {
      api::HttpRequest request = ping;  // the transport hands over a fresh request each time
      if (handler.Handle(request).status != 200) Check(Status(ErrorCode::kInternal, "ping"), "");
    }
    double ping_ns = NanosPerCall(calls, start);
    start = SteadyClock::now();
    for (size_t i = 0; i < calls; ++i) {
      api::HttpRequest request = decisions[(i * 7919) % decisions.size()];
      api::HttpResponse response = handler.Handle(request);
      if (response.status != 200) Check(Status(ErrorCode::kInternal, response.body), "decide");
      allowed += response.body.find("\"allow\":true") != std::string::npos;
      if ((i + 1) % kFlushEvery == 0) Check(engine.Flush(), "flush");
    }
    Check(engine.Flush(), "flush");
    double decide_ns = NanosPerCall(calls, start);
    extra.push_back(decide_ns - ping_ns);
    std::printf("round %zu: ping %.0f ns, decision %.0f ns (with its audit flush): +%.0f ns\n",
                round, ping_ns, decide_ns, decide_ns - ping_ns);
  }
  double median = Percentile(extra, 0.5);
  std::printf(
      "a decision costs the handler %.2f us more than a ping (median of %zu rounds); "
      "%zu allowed\n",
      median / 1000, rounds, allowed);
  std::fclose(log_file);
  fs::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace custos::bench

int main(int argc, char** argv) { return custos::bench::Main(argc, argv); }
