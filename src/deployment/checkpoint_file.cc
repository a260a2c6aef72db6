#include "deployment/checkpoint_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace custos::deployment {

namespace {

Status IoError(const std::string& what, const std::string& path, int err) {
  return Status(ErrorCode::kIo, what + " " + path + ": " + std::strerror(err));
}

Status WriteAndSync(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot create", path, errno);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return IoError("cannot write", path, err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return IoError("cannot sync", path, err);
  }
  if (::close(fd) != 0) return IoError("cannot close", path, errno);
  return Status::Ok();
}

Status SyncDirectoryOf(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::string dir = parent.empty() ? std::string(".") : parent.string();
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open directory", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return IoError("cannot sync directory", dir, err);
  return Status::Ok();
}

}  // namespace

Result<std::optional<engine::AuditCheckpoint>> ReadCheckpointFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<engine::AuditCheckpoint>();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(ErrorCode::kIo, "cannot read the audit checkpoint " + path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  auto checkpoint = engine::ParseCheckpoint(buffer.str());
  if (!checkpoint.ok()) {
    return Status(ErrorCode::kAuditBroken, "the audit checkpoint " + path +
                                               " is damaged: " + checkpoint.status().message());
  }
  return std::optional<engine::AuditCheckpoint>(std::move(*checkpoint));
}

Status WriteCheckpointFile(const std::string& path, const engine::AuditCheckpoint& checkpoint) {
  // Another process may have published a later head meanwhile: never step back to an earlier one.
  auto kept = ReadCheckpointFile(path);
  if (kept.ok() && kept->has_value() && (*kept)->seq > checkpoint.seq) return Status::Ok();
  // Unique per process and call: O_TRUNC on another writer's temporary file would tear it.
  static std::atomic<uint64_t> counter{0};
  const std::string tmp =
      path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  if (Status s = WriteAndSync(tmp, engine::FormatCheckpoint(checkpoint) + "\n"); !s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return IoError("cannot replace the audit checkpoint", path, err);
  }
  return SyncDirectoryOf(path);
}

Result<engine::AuditCheckpoint> PublishCheckpoint(engine::Engine& engine, const std::string& path) {
  ASSIGN_OR_RETURN(std::optional<engine::AuditCheckpoint> kept, ReadCheckpointFile(path));
  ASSIGN_OR_RETURN(engine::AuditCheckpoint checkpoint, engine.CheckpointAudit(kept));
  RETURN_IF_ERROR(WriteCheckpointFile(path, checkpoint));
  return checkpoint;
}

Result<engine::AuditVerification> VerifyAudit(engine::Engine& engine, const std::string& path) {
  ASSIGN_OR_RETURN(std::optional<engine::AuditCheckpoint> kept, ReadCheckpointFile(path));
  return engine.VerifyAudit(kept);
}

}  // namespace custos::deployment
