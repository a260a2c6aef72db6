// A test fixture: an Engine for one seed policy over a real SqliteStore in a directory of its
// own (removed after the test), with a test master key and a clock the test sets.
#ifndef CUSTOS_TESTS_ENGINE_ENGINE_ON_SQLITE_H_
#define CUSTOS_TESTS_ENGINE_ENGINE_ON_SQLITE_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "crypto/key.h"
#include "crypto/master_key.h"
#include "engine/engine.h"
#include "policy/loader.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::engine {

class EngineOnSqlite : public ::testing::Test {
 protected:
  // Opens policies/`file`.yaml (with `appended` added at its end: another section, such as an
  // example `systems:`) as `controller` in a fresh directory, the clock at `now`.
  void OpenSeed(const std::string& file, const std::string& controller, Timestamp now,
                const std::string& appended = "") {
    engine_.reset();
    store_.reset();
    clock_.Set(now);
    dir_ = std::filesystem::temp_directory_path() /
           ("custos-engine-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->test_suite_name() + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto store = store::OpenSqliteStore({dir_.string(), true});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    const std::string path = std::string(CUSTOS_SOURCE_DIR) + "/policies/" + file + ".yaml";
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf() << "\n" << appended;
    policy::LoadOutcome loaded = policy::CheckPolicyText(text.str(), path);
    ASSERT_TRUE(loaded.ok()) << loaded.Report();
    engine_ =
        std::make_unique<Engine>(std::move(loaded.policy), controller, *store_, master_, clock_);
    ASSERT_TRUE(engine_->Open("policy text").ok());
  }
  void TearDown() override {
    engine_.reset();
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  crypto::MasterKey master_ = crypto::MasterKey::FromSecretForTesting(crypto::SecretKey::Random());
  FixedClock clock_{Timestamp{0}};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace custos::engine

#endif  // CUSTOS_TESTS_ENGINE_ENGINE_ON_SQLITE_H_
