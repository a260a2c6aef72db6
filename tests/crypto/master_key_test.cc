#include "crypto/master_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "crypto/hash_chain.h"

namespace custos::crypto {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class MasterKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("custos_master_key_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "master.key").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<uint8_t> ReadFile() const {
    std::ifstream in(path_, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  mode_t Mode() const {
    struct stat st;
    EXPECT_EQ(::stat(path_.c_str(), &st), 0);
    return st.st_mode & 07777;
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(MasterKeyTest, CreatesA0600KeyFileOnFirstUse) {
  mode_t old_umask = ::umask(0);  // a permissive umask must not leak into the file mode
  Result<MasterKey> key = MasterKey::LoadOrCreate(path_);
  ::umask(old_umask);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(Mode(), 0600u);
  EXPECT_EQ(ReadFile().size(), MasterKey::kFileSize);
  // No temporary files are left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(MasterKeyTest, ReloadsTheSameKey) {
  Result<MasterKey> first = MasterKey::LoadOrCreate(path_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  std::vector<uint8_t> file = ReadFile();
  Result<MasterKey> second = MasterKey::LoadOrCreate(path_);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(ReadFile(), file);  // loading does not rewrite it
  EXPECT_TRUE(first->WrapKey().Equals(second->WrapKey()));
  EXPECT_TRUE(first->BlindIndexKey().Equals(second->BlindIndexKey()));
  EXPECT_TRUE(first->SuppressionKey().Equals(second->SuppressionKey()));
}

TEST_F(MasterKeyTest, LoadsTheBytesInTheFile) {
  std::vector<uint8_t> raw(32, 0x42);
  {
    std::ofstream out(path_, std::ios::binary);
    out.write(reinterpret_cast<const char*>(raw.data()), static_cast<std::streamsize>(raw.size()));
  }
  fs::permissions(path_, fs::perms::owner_read | fs::perms::owner_write);
  Result<MasterKey> loaded = MasterKey::LoadOrCreate(path_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  MasterKey expected = MasterKey::FromSecretForTesting(SecretKey::FromBytes(raw).value());
  EXPECT_TRUE(loaded->WrapKey().Equals(expected.WrapKey()));
}

TEST_F(MasterKeyTest, RejectsAFileReadableByGroupOrOthers) {
  ASSERT_TRUE(MasterKey::LoadOrCreate(path_).ok());
  std::string key_hex = ToHex(ReadFile());
  for (mode_t mode : {0644, 0640, 0604, 0660, 0601}) {
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
    Result<MasterKey> key = MasterKey::LoadOrCreate(path_);
    ASSERT_FALSE(key.ok()) << std::oct << mode;
    EXPECT_EQ(key.status().code(), ErrorCode::kKeyFile);
    EXPECT_NE(key.status().message().find(path_), std::string::npos);
    EXPECT_NE(key.status().message().find("chmod 600"), std::string::npos);
    EXPECT_EQ(key.status().message().find(key_hex), std::string::npos);
  }
  ASSERT_EQ(::chmod(path_.c_str(), 0400), 0);  // owner-only read is fine
  EXPECT_TRUE(MasterKey::LoadOrCreate(path_).ok());
}

TEST_F(MasterKeyTest, RejectsATruncatedOrOverlongFileAndLeavesItAlone) {
  ASSERT_TRUE(MasterKey::LoadOrCreate(path_).ok());
  for (size_t size : {size_t{0}, size_t{31}, size_t{33}, size_t{64}}) {
    fs::resize_file(path_, size);
    Result<MasterKey> key = MasterKey::LoadOrCreate(path_);
    ASSERT_FALSE(key.ok()) << size;
    EXPECT_EQ(key.status().code(), ErrorCode::kKeyFile);
    EXPECT_NE(key.status().message().find(path_), std::string::npos);
    // It must never be replaced by a fresh key: that would orphan every sealed value.
    EXPECT_EQ(ReadFile().size(), size);
  }
}

TEST_F(MasterKeyTest, RejectsADirectory) {
  fs::create_directory(path_);
  ::chmod(path_.c_str(), 0700);
  EXPECT_EQ(MasterKey::LoadOrCreate(path_).status().code(), ErrorCode::kKeyFile);
}

TEST_F(MasterKeyTest, MissingDirectoryIsAnIoError) {
  Result<MasterKey> key = MasterKey::LoadOrCreate((dir_ / "absent" / "master.key").string());
  EXPECT_EQ(key.status().code(), ErrorCode::kIo);
}

TEST_F(MasterKeyTest, ConcurrentCreatorsAllGetTheWinnersKey) {
  constexpr int kThreads = 16;
  std::vector<std::optional<Result<MasterKey>>> results(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { results[i].emplace(MasterKey::LoadOrCreate(path_)); });
  }
  for (auto& t : threads) t.join();
  MasterKey on_disk = MasterKey::FromSecretForTesting(SecretKey::FromBytes(ReadFile()).value());
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_TRUE((*results[i]).ok()) << (*results[i]).status().ToString();
    EXPECT_TRUE((*results[i])->WrapKey().Equals(on_disk.WrapKey())) << i;
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST(MasterKeyDerivation, SubkeysAreDistinctAndDeterministic) {
  MasterKey a = MasterKey::FromSecretForTesting(SecretKey::Random());
  EXPECT_FALSE(a.WrapKey().Equals(a.BlindIndexKey()));
  EXPECT_FALSE(a.WrapKey().Equals(a.SuppressionKey()));
  EXPECT_FALSE(a.BlindIndexKey().Equals(a.SuppressionKey()));
  EXPECT_TRUE(a.WrapKey().Equals(a.WrapKey()));
  MasterKey b = MasterKey::FromSecretForTesting(SecretKey::Random());
  EXPECT_FALSE(a.WrapKey().Equals(b.WrapKey()));
}

TEST(MasterKeyDerivation, MatchesAKnownAnswer) {
  // Pins the KDF context and subkey ids: a change here makes existing databases unreadable.
  std::vector<uint8_t> raw(32);
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<uint8_t>(i);
  MasterKey master = MasterKey::FromSecretForTesting(SecretKey::FromBytes(raw).value());
  EXPECT_EQ(ToHex(master.WrapKey().bytes()),
            "393362e342f7cde495c6473baa32936f028be8c19088369defeaa2817cb045a5");
  EXPECT_EQ(ToHex(master.BlindIndexKey().bytes()),
            "e83774a5e7192636d94904b1e46a950dca50f0133c7390ec031870c4354fa521");
  EXPECT_EQ(ToHex(master.SuppressionKey().bytes()),
            "1f426196485f09f70e6136827a284e65fbf4cae8a96e2a8b7c7783c35d3901c7");
}

// Only init creates a key: Load never does, so a mistyped path is an error, not a new key.
TEST_F(MasterKeyTest, LoadRefusesAMissingFileAndCreatesNothing) {
  Result<MasterKey> key = MasterKey::Load(path_);
  EXPECT_EQ(key.status().code(), ErrorCode::kNotInitialised);
  EXPECT_FALSE(std::filesystem::exists(path_));
  Result<MasterKey> created = MasterKey::LoadOrCreate(path_);
  ASSERT_TRUE(created.ok());
  Result<MasterKey> loaded = MasterKey::Load(path_);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->KeyId(), created->KeyId());
}

// The key id names a key without revealing it; the checkpoint key signs what it is given only.
TEST_F(MasterKeyTest, KeyIdsDifferPerKeyAndTheCheckpointKeySigns) {
  MasterKey a = MasterKey::FromSecretForTesting(SecretKey::Random());
  MasterKey b = MasterKey::FromSecretForTesting(SecretKey::Random());
  EXPECT_EQ(a.KeyId().size(), 32u);
  EXPECT_EQ(a.KeyId(), a.KeyId());
  EXPECT_NE(a.KeyId(), b.KeyId());
  SigningKey signer = a.CheckpointSigningKey();
  EXPECT_EQ(signer.public_key(), a.CheckpointSigningKey().public_key());
  Signature signature = signer.Sign("seq 7");
  EXPECT_TRUE(VerifySignature(signer.public_key(), "seq 7", signature));
  EXPECT_FALSE(VerifySignature(signer.public_key(), "seq 8", signature));
  EXPECT_FALSE(VerifySignature(b.CheckpointSigningKey().public_key(), "seq 7", signature));
}

}  // namespace
}  // namespace custos::crypto
