#include "engine/audit_checkpoint.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <optional>

#include "crypto/hash_chain.h"

namespace custos::engine {

namespace {

constexpr char kMessageTag[] = "custos audit checkpoint v1";

void AppendField(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
  out += ';';
}

template <size_t N>
bool FromHexInto(std::string_view hex, std::array<uint8_t, N>& out) {
  auto bytes = crypto::FromHex(hex);
  if (!bytes || bytes->size() != N) return false;
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return true;
}

std::string Vouches(const AuditCheckpoint& checkpoint) {
  return "the checkpoint of " + checkpoint.at.ToString() + " vouches for seq " +
         std::to_string(checkpoint.seq);
}

}  // namespace

std::string CheckpointMessage(const AuditCheckpoint& checkpoint) {
  std::string out;
  AppendField(out, kMessageTag);
  AppendField(out, checkpoint.controller);
  AppendField(out, std::to_string(checkpoint.seq));
  AppendField(out, crypto::ToHex(checkpoint.hash));
  AppendField(out, std::to_string(checkpoint.at.micros));
  return out;
}

void SignCheckpoint(const crypto::SigningKey& key, AuditCheckpoint& checkpoint) {
  checkpoint.public_key = key.public_key();
  checkpoint.signature = key.Sign(CheckpointMessage(checkpoint));
}

bool CheckpointSignedBy(const AuditCheckpoint& checkpoint, const crypto::PublicKey& expected) {
  return checkpoint.public_key == expected &&
         crypto::VerifySignature(expected, CheckpointMessage(checkpoint), checkpoint.signature);
}

std::string FormatCheckpoint(const AuditCheckpoint& checkpoint) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto field = [&w](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  };
  w.StartObject();
  field("controller", checkpoint.controller);
  w.Key("seq");
  w.Int64(checkpoint.seq);
  field("hash", crypto::ToHex(checkpoint.hash));
  field("at", checkpoint.at.ToString());
  field("public_key", crypto::ToHex(checkpoint.public_key));
  field("signature", crypto::ToHex(checkpoint.signature));
  w.EndObject();
  return buffer.GetString();
}

Result<AuditCheckpoint> ParseCheckpoint(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Status(ErrorCode::kInvalidArgument, "the checkpoint is not a JSON object");
  }
  auto bad = [](const char* field) {
    return Status(ErrorCode::kInvalidArgument,
                  std::string("the checkpoint's ") + field + " is missing or malformed");
  };
  auto text_of = [&doc](const char* field) -> std::optional<std::string_view> {
    auto it = doc.FindMember(field);
    if (it == doc.MemberEnd() || !it->value.IsString()) return std::nullopt;
    return std::string_view(it->value.GetString(), it->value.GetStringLength());
  };
  AuditCheckpoint checkpoint;
  auto controller = text_of("controller");
  if (!controller) return bad("controller");
  checkpoint.controller = std::string(*controller);
  auto seq = doc.FindMember("seq");
  if (seq == doc.MemberEnd() || !seq->value.IsInt64() || seq->value.GetInt64() < 0) {
    return bad("seq");
  }
  checkpoint.seq = seq->value.GetInt64();
  auto hash = text_of("hash");
  auto hash_bytes = hash ? crypto::FromHex(*hash) : std::nullopt;
  if (!hash_bytes) return bad("hash");
  checkpoint.hash = std::move(*hash_bytes);
  auto at = text_of("at");
  auto parsed_at = at ? Timestamp::Parse(*at) : std::nullopt;
  if (!parsed_at) return bad("at");
  checkpoint.at = *parsed_at;
  auto public_key = text_of("public_key");
  if (!public_key || !FromHexInto(*public_key, checkpoint.public_key)) return bad("public_key");
  auto signature = text_of("signature");
  if (!signature || !FromHexInto(*signature, checkpoint.signature)) return bad("signature");
  return checkpoint;
}

void CheckAgainstCheckpoint(store::Store& store, const AuditCheckpoint& checkpoint,
                            const crypto::PublicKey& expected, AuditVerification& verification) {
  if (!verification.intact()) return;  // the chain's own break is the first thing to fix
  if (!CheckpointSignedBy(checkpoint, expected)) {
    verification.problem =
        "the checkpoint is not signed by this deployment's key: it was altered or belongs to "
        "another deployment";
    return;
  }
  if (verification.head_seq < checkpoint.seq) {
    verification.first_broken_seq = verification.head_seq + 1;
    verification.problem = "the log ends at seq " + std::to_string(verification.head_seq) +
                           " but " + Vouches(checkpoint) +
                           ": entries were cut from its end, or the database was replaced by an "
                           "older copy";
    return;
  }
  if (checkpoint.seq == 0) return;
  std::optional<store::Bytes> stored;
  Status scan = store.ScanAudit(checkpoint.seq, [&](const store::AuditRow& row) {
    if (row.seq == checkpoint.seq) stored = row.hash;
    return false;
  });
  if (!scan.ok()) {
    verification.problem = "cannot read entry " + std::to_string(checkpoint.seq) + ": " +
                           scan.message();
    return;
  }
  if (!stored.has_value() || *stored != checkpoint.hash) {
    verification.first_broken_seq = checkpoint.seq;
    verification.problem = "entry " + std::to_string(checkpoint.seq) + " is not the one " +
                           Vouches(checkpoint) +
                           ": the log was rolled back (an older copy, written on since) or "
                           "rewritten";
  }
}

}  // namespace custos::engine
