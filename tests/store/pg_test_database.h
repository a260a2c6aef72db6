// Where the PostgreSQL tests find their server: the throwaway cluster that ctest starts
// (scripts/pg-test-cluster.sh, the `postgres` fixture in tests/CMakeLists.txt) passes its URL
// in CUSTOS_TEST_DATABASE_URL. Without it a PostgreSQL test fails (never skips): run the tests
// through ctest, which installs nothing but starts and stops the cluster.
// Thread-safety: functions only.
#ifndef CUSTOS_TESTS_STORE_PG_TEST_DATABASE_H_
#define CUSTOS_TESTS_STORE_PG_TEST_DATABASE_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>

namespace custos::store::pgtest {

// The URL of the test cluster; adds a test failure and returns "" when it is not set.
inline std::string PostgresTestUrl() {
  const char* url = std::getenv("CUSTOS_TEST_DATABASE_URL");
  if (url == nullptr || *url == '\0') {
    ADD_FAILURE() << "CUSTOS_TEST_DATABASE_URL is not set: the PostgreSQL tests run under ctest, "
                     "whose `postgres` fixture starts a throwaway cluster "
                     "(scripts/pg-test-cluster.sh; PostgreSQL 15 from scripts/setup-deps.sh)";
    return "";
  }
  return url;
}

// A schema name of its own for each test directory (the same directory, the same schema).
inline std::string SchemaFor(const std::string& dir) {
  uint64_t hash = 1469598103934665603ull;  // FNV-1a
  for (char c : dir) hash = (hash ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name = "t_";
  for (int i = 0; i < 16; ++i) name.push_back(kHex[(hash >> (4 * i)) & 15]);
  return name;
}

}  // namespace custos::store::pgtest

#endif  // CUSTOS_TESTS_STORE_PG_TEST_DATABASE_H_
