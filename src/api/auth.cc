#include "api/auth.h"

#include <fcntl.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "crypto/api_token.h"

namespace custos::api {

std::string TokenPath(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "tokens.jsonl").string();
}

namespace {

bool Under(std::string_view category, std::string_view scope) {
  return category == scope ||
         (category.size() > scope.size() && category.substr(0, scope.size()) == scope &&
          category[scope.size()] == '.');
}

// Generations of loaded token sets: a thread's remembered token is valid only for the
// generation it was verified against.
std::atomic<uint64_t> next_generation{1};

struct LastVerified {
  uint64_t generation = 0;
  std::string token;
  std::shared_ptr<const Principal> principal;
};
thread_local LastVerified last_verified;

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string ToLine(const TokenRecord& record) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto strings = [&](const char* key, const std::vector<std::string>& values) {
    w.Key(key);
    w.StartArray();
    for (const auto& v : values) w.String(v.c_str());
    w.EndArray();
  };
  const Principal& p = record.principal;
  w.StartObject();
  w.Key("id");
  w.String(p.token_id.c_str());
  w.Key("hash");
  w.String(record.hash.c_str());
  w.Key("role");
  w.String(std::string(RoleName(p.role)).c_str());
  strings("purposes", p.purposes);
  w.Key("controller");
  w.String(p.controller.c_str());
  strings("categories", p.categories);
  w.Key("subject");
  w.String(p.subject_id.c_str());
  if (p.role == Role::kApplication) {
    w.Key("application");
    w.String(p.application.c_str());
    w.Key("recipient");
    w.String(p.recipient.c_str());
    w.Key("expires_at");
    w.String(p.expires_at.c_str());
  }
  w.Key("label");
  w.String(record.label.c_str());
  w.Key("created_at");
  w.String(record.created_at.c_str());
  w.EndObject();
  return buffer.GetString();
}

// A revocation: the token's id and when (no hash, no scope).
std::string RevocationLine(const std::string& id, const std::string& revoked_at) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("id");
  w.String(id.c_str());
  w.Key("revoked_at");
  w.String(revoked_at.c_str());
  w.EndObject();
  return buffer.GetString();
}

// A token record, or a revocation (empty hash, revoked_at set), or nullopt.
std::optional<TokenRecord> FromLine(const std::string& line) {
  rapidjson::Document d;
  d.Parse(line.c_str());
  if (d.HasParseError() || !d.IsObject()) return std::nullopt;
  auto str = [&](const char* key) -> std::string {
    return d.HasMember(key) && d[key].IsString() ? d[key].GetString() : "";
  };
  auto strings = [&](const char* key) {
    std::vector<std::string> out;
    if (d.HasMember(key) && d[key].IsArray()) {
      for (const auto& v : d[key].GetArray()) {
        if (v.IsString()) out.emplace_back(v.GetString());
      }
    }
    return out;
  };
  TokenRecord record;
  if (!str("revoked_at").empty() && !d.HasMember("hash")) {
    if (str("id").empty()) return std::nullopt;
    record.principal.token_id = str("id");
    record.revoked_at = str("revoked_at");
    return record;
  }
  auto role = RoleFromName(str("role"));
  if (!role || str("id").empty() || str("hash").empty()) return std::nullopt;
  record.principal.token_id = str("id");
  record.principal.role = *role;
  record.principal.purposes = strings("purposes");
  record.principal.controller = str("controller");
  record.principal.categories = strings("categories");
  record.principal.subject_id = str("subject");
  record.principal.application = str("application");
  record.principal.recipient = str("recipient");
  record.principal.expires_at = str("expires_at");
  record.hash = str("hash");
  record.label = str("label");
  record.created_at = str("created_at");
  return record;
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin: return "admin";
    case Role::kDpo: return "dpo";
    case Role::kStaff: return "staff";
    case Role::kProcessor: return "processor";
    case Role::kSubject: return "subject";
    case Role::kApplication: return "application";
  }
  return "?";
}

std::optional<Role> RoleFromName(std::string_view name) {
  for (Role role : kAllRoles) {
    if (RoleName(role) == name) return role;
  }
  return std::nullopt;
}

bool Principal::MayUsePurpose(std::string_view purpose) const {
  if (role != Role::kStaff && role != Role::kApplication) return true;
  for (const auto& p : purposes) {
    if (p == purpose) return true;
  }
  return false;
}

bool Principal::MayUseCategory(std::string_view category) const {
  if (role != Role::kProcessor && role != Role::kApplication) return true;
  for (const auto& scope : categories) {
    if (Under(category, scope)) return true;
  }
  return false;
}

bool Principal::MayActFor(std::string_view subject) const {
  return role != Role::kSubject || subject == subject_id;
}

TokenStore::FileState TokenStore::StateOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {st.st_mtim, st.st_size};
}

Status TokenStore::Load() {
  std::unique_lock lock(mutex_);
  return LoadLocked();
}

Status TokenStore::LoadLocked() {
  FileState state = StateOf(path_);
  std::ifstream in(path_);
  std::map<std::string, Known, std::less<>> tokens;
  if (in) {
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      if (line.empty()) continue;
      auto record = FromLine(line);
      if (!record) {
        return Status(ErrorCode::kInvalidArgument,
                      path_ + ":" + std::to_string(number) + " is not a token record");
      }
      std::string id = record->principal.token_id;
      if (record->hash.empty()) {  // a revocation
        auto it = tokens.find(id);
        if (it == tokens.end()) {
          return Status(ErrorCode::kInvalidArgument, path_ + ":" + std::to_string(number) +
                                                         " revokes a token the file never had");
        }
        it->second.record.revoked_at = record->revoked_at;
        continue;
      }
      tokens[id] = Remember(std::move(*record));
    }
  }
  tokens_ = std::move(tokens);
  generation_.store(next_generation.fetch_add(1));
  loaded_ = state;
  return Status::Ok();
}

Status TokenStore::AppendLocked(const std::string& text) {
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Status(ErrorCode::kIo, "cannot write " + path_);
  std::string line = text + "\n";
  bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                 ::fsync(fd) == 0;
  ::close(fd);
  if (!written) return Status(ErrorCode::kIo, "cannot write " + path_);
  // The file state noted at the last read stays: the next recheck reads this line back along
  // with anything another process appended meanwhile.
  return Status::Ok();
}

Result<std::string> TokenStore::Create(const Principal& scope, const std::string& label,
                                       const std::string& created_at) {
  if (scope.role == Role::kStaff && scope.purposes.empty()) {
    return Status(ErrorCode::kInvalidArgument, "a staff token needs at least one --purpose");
  }
  if (scope.role == Role::kProcessor && (scope.controller.empty() || scope.categories.empty())) {
    return Status(ErrorCode::kInvalidArgument,
                  "a processor token needs --controller and at least one --category");
  }
  if (scope.role == Role::kSubject && scope.subject_id.empty()) {
    return Status(ErrorCode::kInvalidArgument, "a subject token needs --subject");
  }
  if (scope.role == Role::kApplication &&
      (scope.application.empty() || scope.recipient.empty() || scope.purposes.empty() ||
       scope.categories.empty() || scope.expires_at.empty())) {
    return Status(ErrorCode::kInvalidArgument,
                  "an application token is made by `custos application authorise` (a grant "
                  "checked against the policy), not by `token create`");
  }
  crypto::NewToken token = crypto::GenerateApiToken();
  TokenRecord record;
  record.principal = scope;
  record.principal.token_id = token.id;
  record.hash = crypto::HashApiToken(token.token);
  record.label = label;
  record.created_at = created_at;
  std::unique_lock lock(mutex_);
  // Another process may have written since: its lines count (a revocation among them).
  if (Status loaded = LoadLocked(); !loaded.ok()) return loaded;
  if (Status appended = AppendLocked(ToLine(record)); !appended.ok()) return appended;
  tokens_[token.id] = Remember(std::move(record));
  generation_.store(next_generation.fetch_add(1));
  return token.token;
}

Status TokenStore::Revoke(const std::string& id, const std::string& revoked_at) {
  std::unique_lock lock(mutex_);
  if (Status loaded = LoadLocked(); !loaded.ok()) return loaded;
  auto it = tokens_.find(id);
  if (it == tokens_.end()) return Status(ErrorCode::kNotFound, "no token " + id);
  if (!it->second.record.revoked_at.empty()) {
    return Status(ErrorCode::kAlreadyExists,
                  "token " + id + " was revoked at " + it->second.record.revoked_at);
  }
  if (Status appended = AppendLocked(RevocationLine(id, revoked_at)); !appended.ok()) {
    return appended;
  }
  it->second.record.revoked_at = revoked_at;
  generation_.store(next_generation.fetch_add(1));
  return Status::Ok();
}

void TokenStore::RecheckIfDue() {
  const int64_t now = SteadyNanos();
  int64_t due = next_recheck_ns_.load(std::memory_order_relaxed);
  if (now < due) return;
  const int64_t next =
      now + std::chrono::duration_cast<std::chrono::nanoseconds>(recheck_every_).count();
  // One thread looks; the others go on with what is loaded.
  if (!next_recheck_ns_.compare_exchange_strong(due, next)) return;
  FileState state = StateOf(path_);
  {
    std::shared_lock lock(mutex_);
    if (state == loaded_) return;
  }
  std::unique_lock lock(mutex_);
  // A file that cannot be read keeps what was loaded: a bad edit locks nobody out.
  (void)LoadLocked();
}

TokenStore::Known TokenStore::Remember(TokenRecord record) {
  auto principal = std::make_shared<const Principal>(record.principal);
  return Known{std::move(record), std::move(principal)};
}

std::shared_ptr<const Principal> TokenStore::Authenticate(std::string_view authorization) {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      authorization.substr(0, kBearer.size()) != kBearer) {
    return nullptr;
  }
  std::string_view token = authorization.substr(kBearer.size());
  RecheckIfDue();
  LastVerified& last = last_verified;
  const uint64_t generation = generation_.load();
  if (last.generation == generation && generation != 0 &&
      crypto::ApiTokenHashesEqual(last.token, token)) {
    return last.principal;
  }
  auto id = crypto::ApiTokenId(token);
  if (!id) return nullptr;
  std::string hash = crypto::HashApiToken(token);
  for (int attempt = 0; attempt < 2; ++attempt) {
    {
      std::shared_lock lock(mutex_);
      auto it = tokens_.find(*id);
      if (it != tokens_.end()) {
        if (!crypto::ApiTokenHashesEqual(it->second.record.hash, hash)) return nullptr;
        if (!it->second.record.revoked_at.empty()) return nullptr;
        // Remembered against the generation read before the lookup: if the tokens changed
        // since, the next call verifies again.
        last = {generation, std::string(token), it->second.principal};
        return it->second.principal;
      }
    }
    if (attempt == 1) break;
    std::unique_lock lock(mutex_);
    if (StateOf(path_) == loaded_) break;
    if (!LoadLocked().ok()) break;
  }
  return nullptr;
}

std::vector<TokenRecord> TokenStore::List() const {
  std::shared_lock lock(mutex_);
  std::vector<TokenRecord> out;
  for (const auto& [id, known] : tokens_) out.push_back(known.record);
  return out;
}

}  // namespace custos::api
