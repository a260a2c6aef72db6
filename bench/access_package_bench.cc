// The time from a person's verified access request to a downloadable package, for a person
// with many records (the privacy centre's "download your copy"), against the baseline of
// reading the same person once (Engine::ReadSubject: every record unsealed, one audited read),
// in the same run, on the same store.
//
// Measured side: FulfilRequest (the package built from the person's data, sealed with the
// request's key, stored in one transaction with its history) and then RequestDocument("html")
// and RequestDocument("json"), as the centre's download links ask. Baseline: ReadSubject.
// Same work: the read returned every record, and the JSON package holds every record's value.
// Usage: access_package_bench [RECORDS=10000] [ROUNDS=3] [--mismatch-for-testing]
//        (the baseline then reads a person with one record fewer: no verdict)
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "common/time.h"
#include "crypto/key.h"
#include "crypto/master_key.h"
#include "engine/engine.h"
#include "policy/loader.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::bench {
namespace {

const char* const kCategories[] = {"user.name", "user.job_title", "user.contact.email",
                                   "user.interests", "user.communication_history"};

void AddPerson(engine::Engine& engine, const std::string& id, size_t records) {
  engine::NewSubject subject;
  subject.subject_id = id;
  subject.types = {"member"};
  Check(engine.AddSubject(subject), "add subject");
  for (size_t i = 0; i < records; ++i) {
    engine::NewRecord record;
    record.subject_id = id;
    record.category = kCategories[i % 5];
    record.value = "value-" + id + "-" + std::to_string(i);
    record.source = "direct";
    record.purpose = "membership_records";
    Check(engine.PutRecord(record), "put record");
  }
  Check(engine.Flush(), "flush");
}

int Main(int argc, char** argv) {
  const bool mismatch = TakeFlag(argc, argv, kMismatchFlag);
  const size_t records = SizeArg(argc, argv, 1, "PACKAGE_RECORDS", 10000);
  const size_t rounds = SizeArg(argc, argv, 2, "PACKAGE_ROUNDS", 3);
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("custos-package-bench-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto store = Check(store::OpenSqliteStore({dir.string(), true}), "open store");
  auto policy =
      Check(policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml"),
            "load policy");
  crypto::MasterKey master = crypto::MasterKey::FromSecretForTesting(crypto::SecretKey::Random());
  FixedClock clock{*Timestamp::Parse("2026-02-02T09:00:00Z")};
  engine::Engine engine(std::move(policy), "wig", *store, master, clock);
  Check(engine.Open("policy"), "open engine");
  std::printf("== access package for a person with %zu records, %zu rounds\n", records, rounds);
  AddPerson(engine, "p", records);
  if (mismatch) AddPerson(engine, "q", records - 1);

  std::vector<double> package_ms, read_ms;
  size_t read_records = 0, packaged_values = 0;
  for (size_t round = 0; round < rounds; ++round) {
    auto start = SteadyClock::now();
    auto view = Check(engine.ReadSubject(mismatch ? "q" : "p", "bench", "membership_records"),
                      "read subject");
    read_ms.push_back(SecondsSince(start) * 1e3);
    read_records = view.records.size();

    engine::NewRequest request;
    request.request_id = "r" + std::to_string(round);
    request.type = "access";
    request.intake = "staff";
    request.subject_id = "p";
    request.verification = "bench";
    Check(engine.OpenRequest(request), "open request");
    start = SteadyClock::now();
    Check(engine.FulfilRequest(request.request_id, "", std::nullopt), "fulfil");
    std::string html = Check(engine.RequestDocument(request.request_id, "html"), "html");
    std::string json = Check(engine.RequestDocument(request.request_id, "json"), "json");
    package_ms.push_back(SecondsSince(start) * 1e3);
    packaged_values = 0;
    for (size_t i = 0; i < records; ++i) {
      if (json.find("\"value-p-" + std::to_string(i) + "\"") != std::string::npos) {
        ++packaged_values;
      }
    }
    std::printf("  round %zu: read %.1f ms, package (fulfil + HTML %zu kB + JSON %zu kB) %.1f ms\n",
                round + 1, read_ms.back(), html.size() / 1024, json.size() / 1024,
                package_ms.back());
  }
  SameWork same;
  same.Equal("records read (baseline) and packaged (measured)",
             static_cast<long long>(packaged_values), static_cast<long long>(read_records));
  same.Holds("the package holds every record", packaged_values == records);
  same.Require();
  std::sort(package_ms.begin(), package_ms.end());
  std::sort(read_ms.begin(), read_ms.end());
  const double package = package_ms[package_ms.size() / 2], read = read_ms[read_ms.size() / 2];
  std::printf(
      "  verified request to downloadable package: %.1f ms (median), %.2f x one read of "
      "the same person (%.1f ms); reported, no goal\n",
      package, package / read, read);
  fs::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace custos::bench

int main(int argc, char** argv) { return custos::bench::Main(argc, argv); }
