// TempDir: a fresh directory for one test, removed with everything in it when destroyed.
// Thread-safety: not shared between tests.
#ifndef CUSTOS_TESTS_STORE_TEMP_DIR_H_
#define CUSTOS_TESTS_STORE_TEMP_DIR_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>

namespace custos::store {

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const testing::TestInfo* test = testing::UnitTest::GetInstance()->current_test_info();
    std::string name =
        "custos_store_" + std::to_string(::getpid()) + "_" + std::to_string(counter.fetch_add(1));
    if (test != nullptr) name += std::string("_") + test->name();
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    path_ = std::filesystem::path(testing::TempDir()) / name;
    std::error_code error;
    std::filesystem::remove_all(path_, error);
  }
  ~TempDir() {
    std::error_code error;
    std::filesystem::remove_all(path_, error);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // The directory itself is not created: stores create their data directory.
  std::string path() const { return path_.string(); }
  std::string Sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace custos::store

#endif  // CUSTOS_TESTS_STORE_TEMP_DIR_H_
