// Outbox delivery over real HTTP: an engine makes Article 19 notices (a staff erasure request
// on the WIG policy), OutboxDispatcher sends them with CurlWebhookSender to a receiver on
// 127.0.0.1 (libmicrohttpd) that checks what a recipient would check: the HMAC signature over
// the body, the OpenDSR shape; and the delivery state the engine keeps: backoff, dead after
// kMaxDeliveryAttempts, payload dropped and digest kept, manual without an endpoint.
#include "delivery/outbox_dispatcher.h"

#include <gtest/gtest.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "../store/temp_dir.h"
#include "api/delivery_schedule.h"
#include "api/log.h"
#include "cli/commands.h"
#include "crypto/hash_chain.h"
#include "crypto/key.h"
#include "crypto/master_key.h"
#include "crypto/webhook_signature.h"
#include "delivery/webhook_sender.h"
#include "policy/loader.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::delivery {
namespace {

Timestamp T(const char* text) { return *Timestamp::Parse(text); }

constexpr int64_t kMinute = int64_t{60} * 1000000;
constexpr const char* kSecret = "whsec_test_0123456789abcdef";

// What a recipient's webhook received.
struct Received {
  std::string method, path, body;
  std::map<std::string, std::string> headers;  // the X-Custos-* ones and Content-Type
};

// A webhook receiver on 127.0.0.1 and a free port. Answers each POST with the next status of
// `Answer()`'s queue (200 once it is empty) and keeps what it received.
class Receiver {
 public:
  Receiver() {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = 0;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, nullptr, nullptr, &OnRequest,
                               this, MHD_OPTION_SOCK_ADDR, &address, MHD_OPTION_NOTIFY_COMPLETED,
                               &OnCompleted, nullptr, MHD_OPTION_END);
    if (daemon_ != nullptr) {
      port_ = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT)->port;
    }
  }
  ~Receiver() { Stop(); }
  void Stop() {
    if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
    daemon_ = nullptr;
  }
  bool ok() const { return daemon_ != nullptr; }
  // The endpoint URL; the query stands for a credential some receivers put there.
  std::string Url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/hooks/custos?key=query-secret";
  }
  void Answer(std::vector<int> statuses) {
    std::lock_guard lock(mutex_);
    statuses_.assign(statuses.begin(), statuses.end());
  }
  void AlwaysAnswer(int status) {
    std::lock_guard lock(mutex_);
    always_ = status;
  }
  std::vector<Received> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  static MHD_Result OnRequest(void* self, MHD_Connection* connection, const char* url,
                              const char* method, const char*, const char* upload_data,
                              size_t* upload_data_size, void** state) {
    if (*state == nullptr) {  // headers only: answer after the body
      *state = new std::string;
      return MHD_YES;
    }
    auto* body = static_cast<std::string*>(*state);
    if (*upload_data_size > 0) {
      body->append(upload_data, *upload_data_size);
      *upload_data_size = 0;
      return MHD_YES;
    }
    auto* receiver = static_cast<Receiver*>(self);
    Received got{method, url, *body, {}};
    for (const char* name : {"Content-Type", "X-Custos-Delivery", "X-Custos-Timestamp",
                             "X-Custos-Signature", "Expect"}) {
      if (const char* value = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name)) {
        got.headers[name] = value;
      }
    }
    int status = 200;
    {
      std::lock_guard lock(receiver->mutex_);
      receiver->received_.push_back(std::move(got));
      if (receiver->always_ != 0) {
        status = receiver->always_;
      } else if (!receiver->statuses_.empty()) {
        status = receiver->statuses_.front();
        receiver->statuses_.pop_front();
      }
    }
    static const char kReply[] = "{}";
    MHD_Response* response =
        MHD_create_response_from_buffer(2, const_cast<char*>(kReply), MHD_RESPMEM_PERSISTENT);
    if (status >= 300 && status < 400) {
      MHD_add_response_header(response, "Location", "http://127.0.0.1:1/elsewhere");
    }
    MHD_Result queued = MHD_queue_response(connection, static_cast<unsigned>(status), response);
    MHD_destroy_response(response);
    return queued;
  }
  static void OnCompleted(void*, MHD_Connection*, void** state, MHD_RequestTerminationCode) {
    delete static_cast<std::string*>(*state);
    *state = nullptr;
  }

  MHD_Daemon* daemon_ = nullptr;
  uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::deque<int> statuses_;
  int always_ = 0;
  std::vector<Received> received_;
};

class OutboxDispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(receiver_.ok());
    auto store = store::OpenSqliteStore({dir_.path(), true});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto policy = policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml");
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();
    engine_ = std::make_unique<engine::Engine>(std::move(*policy), "wig", *store_, master_, clock_);
    ASSERT_TRUE(engine_->Open("policy text").ok());
    engine::NewSubject subject{
        "s1", {"non_member"}, {{"email", "ada@example.test", true}}, T("2026-01-01"), "t"};
    ASSERT_TRUE(engine_->AddSubject(subject).ok());
    engine::NewRecord name{
        "s1", "user.name", "Ada Lovelace", "direct", "newsletter", T("2026-01-01"), "t"};
    ASSERT_TRUE(engine_->PutRecord(name).ok());
    // Ada joined the mentoring programme, so PushFar (its platform) received her name too.
    engine::ConsentChangeRequest mentoring;
    mentoring.subject_id = "s1";
    mentoring.target = "mentoring";
    mentoring.at = T("2026-01-01");
    ASSERT_TRUE(engine_->ChangeConsent(mentoring).ok());
    dispatcher_ = std::make_unique<OutboxDispatcher>(*engine_, sender_);
  }

  // Erases s1 through a staff request: Article 19 notices to every recipient of their data.
  std::string Erase() {
    engine::NewRequest request;
    request.type = "erasure";
    request.intake = "staff";
    request.subject_id = "s1";
    request.verification = "passport_seen";
    request.at = clock_.Now();
    auto opened = engine_->OpenRequest(request);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (!opened.ok()) return "";
    auto done = engine_->FulfilRequest(opened->request_id, "", clock_.Now());
    EXPECT_TRUE(done.ok()) << done.status().ToString();
    return opened->request_id;
  }
  void SetEndpoint(const std::string& recipient, const std::string& url) {
    Status set = engine_->SetRecipientEndpoint(recipient, url, kSecret, clock_.Now());
    ASSERT_TRUE(set.ok()) << set.ToString();
  }
  std::vector<store::OutboxRow> Outbox(const std::string& request_id) {
    auto rows = store_->ListOutbox("wig", request_id);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? *rows : std::vector<store::OutboxRow>{};
  }
  store::OutboxRow Notice(const std::string& request_id, const std::string& target) {
    for (const auto& row : Outbox(request_id)) {
      if (row.target == target) return row;
    }
    ADD_FAILURE() << "no outbox message for " << target;
    return {};
  }
  DeliveryCounts Pass() {
    auto counts = dispatcher_->RunOnce(10);
    EXPECT_TRUE(counts.ok()) << counts.status().ToString();
    return counts.ok() ? std::move(*counts) : DeliveryCounts{};
  }
  void Advance(int64_t micros) { clock_.Set(Timestamp{clock_.Now().micros + micros}); }

  store::TempDir dir_;
  crypto::MasterKey master_ = crypto::MasterKey::FromSecretForTesting(crypto::SecretKey::Random());
  FixedClock clock_{T("2026-02-01T09:00:00Z")};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::Engine> engine_;
  Receiver receiver_;
  CurlWebhookSender sender_{{std::chrono::milliseconds(2000), std::chrono::milliseconds(5000), ""}};
  std::unique_ptr<OutboxDispatcher> dispatcher_;
};

TEST_F(OutboxDispatcherTest, DeliversSignedOpenDsrNoticeToTheRecipientsEndpoint) {
  SetEndpoint("third_party_platforms", receiver_.Url());
  std::string request_id = Erase();
  store::OutboxRow before = Notice(request_id, "third_party_platforms");
  EXPECT_EQ(before.state, store::OutboxState::kPending);

  DeliveryCounts counts = Pass();
  EXPECT_EQ(counts.claimed, 1);
  EXPECT_EQ(counts.delivered, 1);
  EXPECT_EQ(counts.failed, 0);
  std::vector<Received> got = receiver_.received();
  ASSERT_EQ(got.size(), 1u);
  Received& r = got[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/hooks/custos");
  EXPECT_EQ(r.headers["Content-Type"], "application/json");
  EXPECT_EQ(r.headers.count("Expect"), 0u);
  EXPECT_EQ(r.headers["X-Custos-Delivery"], std::to_string(before.outbox_id));
  const int64_t now_seconds = clock_.Now().micros / 1000000;
  EXPECT_EQ(r.headers["X-Custos-Timestamp"], std::to_string(now_seconds));
  // What a receiver does: HMAC-SHA256 over "<timestamp>.<raw body>" with the shared secret.
  EXPECT_EQ(
      r.headers["X-Custos-Signature"],
      "sha256=" + crypto::HmacSha256Hex(kSecret, r.headers["X-Custos-Timestamp"] + "." + r.body));
  EXPECT_TRUE(crypto::VerifyWebhookSignature(kSecret, now_seconds, r.body,
                                             r.headers["X-Custos-Signature"]));
  EXPECT_FALSE(crypto::VerifyWebhookSignature("another-secret-0123", now_seconds, r.body,
                                              r.headers["X-Custos-Signature"]));

  // OpenDSR-shaped.
  rapidjson::Document doc;
  doc.Parse(r.body.c_str(), r.body.size());
  ASSERT_TRUE(doc.IsObject()) << r.body;
  EXPECT_STREQ(doc["subject_request_id"].GetString(), request_id.c_str());
  EXPECT_STREQ(doc["subject_request_type"].GetString(), "erasure");
  ASSERT_TRUE(doc["submitted_time"].IsString());
  EXPECT_TRUE(Timestamp::Parse(doc["submitted_time"].GetString()).has_value());
  ASSERT_TRUE(doc["subject_identities"].IsArray());
  bool has_email = false;
  for (const auto& identity : doc["subject_identities"].GetArray()) {
    EXPECT_TRUE(identity["identity_type"].IsString());
    EXPECT_TRUE(identity["identity_format"].IsString());
    if (std::string(identity["identity_type"].GetString()) == "email" &&
        std::string(identity["identity_value"].GetString()) == "ada@example.test") {
      has_email = true;
    }
  }
  EXPECT_TRUE(has_email) << r.body;
  EXPECT_STREQ(doc["extensions"]["custos"]["recipient"].GetString(), "third_party_platforms");
  EXPECT_STREQ(doc["extensions"]["custos"]["action"].GetString(), "erase");

  // Delivered: the payload is gone, its digest proves what was sent.
  store::OutboxRow after = Notice(request_id, "third_party_platforms");
  EXPECT_EQ(after.state, store::OutboxState::kDelivered);
  EXPECT_EQ(after.attempts, 1);
  ASSERT_TRUE(after.delivered_at.has_value());
  EXPECT_EQ(*after.delivered_at, clock_.Now());
  EXPECT_TRUE(after.sealed_payload.empty());
  std::vector<uint8_t> digest(crypto_generichash_BYTES);
  crypto_generichash(digest.data(), digest.size(),
                     reinterpret_cast<const unsigned char*>(r.body.data()), r.body.size(), nullptr,
                     0);
  EXPECT_EQ(crypto::ToHex(after.payload_digest), crypto::ToHex(digest));
  EXPECT_EQ(engine_->ReadOutboxMessage(after.outbox_id).status().code(), ErrorCode::kNotFound);

  // Nothing left to send: the other recipients have no endpoint and stay manual.
  EXPECT_EQ(Pass().claimed, 0);
  EXPECT_EQ(receiver_.received().size(), 1u);
  int manual = 0;
  for (const auto& row : Outbox(request_id)) {
    if (row.target == "third_party_platforms") continue;
    EXPECT_EQ(row.state, store::OutboxState::kManual) << row.target;
    EXPECT_FALSE(row.sealed_payload.empty()) << row.target;  // readable with `outbox read`
    ++manual;
  }
  EXPECT_GT(manual, 0);
}

TEST_F(OutboxDispatcherTest, RetriesAFailedDeliveryAfterTheBackoff) {
  SetEndpoint("third_party_platforms", receiver_.Url());
  receiver_.Answer({503, 200});
  std::string request_id = Erase();
  const Timestamp first = clock_.Now();

  DeliveryCounts counts = Pass();
  EXPECT_EQ(counts.claimed, 1);
  EXPECT_EQ(counts.delivered, 0);
  EXPECT_EQ(counts.failed, 1);
  ASSERT_EQ(counts.outcomes.size(), 1u);
  EXPECT_EQ(counts.outcomes[0].error, "http 503");
  EXPECT_EQ(counts.outcomes[0].target, "third_party_platforms");
  store::OutboxRow failed = Notice(request_id, "third_party_platforms");
  EXPECT_EQ(failed.state, store::OutboxState::kPending);
  EXPECT_EQ(failed.attempts, 1);
  EXPECT_EQ(failed.last_error, "http 503");
  EXPECT_EQ(failed.next_attempt_at.micros, first.micros + kMinute);
  EXPECT_FALSE(failed.sealed_payload.empty());

  Advance(kMinute - 1000000);  // not yet due
  EXPECT_EQ(Pass().claimed, 0);
  EXPECT_EQ(receiver_.received().size(), 1u);

  Advance(1000000);
  counts = Pass();
  EXPECT_EQ(counts.delivered, 1);
  std::vector<Received> got = receiver_.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].body, got[1].body);  // the same message, the same delivery id
  EXPECT_EQ(got[0].headers["X-Custos-Delivery"], got[1].headers["X-Custos-Delivery"]);
  EXPECT_NE(got[0].headers["X-Custos-Timestamp"], got[1].headers["X-Custos-Timestamp"]);
  store::OutboxRow delivered = Notice(request_id, "third_party_platforms");
  EXPECT_EQ(delivered.state, store::OutboxState::kDelivered);
  EXPECT_EQ(delivered.attempts, 2);
  EXPECT_TRUE(delivered.last_error.empty());
  EXPECT_TRUE(delivered.sealed_payload.empty());
  EXPECT_FALSE(delivered.payload_digest.empty());

  // The request's history shows both attempts.
  auto view = engine_->ViewRequest(request_id);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  std::vector<std::string> events;
  for (const auto& e : view->history) events.push_back(e.event);
  EXPECT_NE(std::find(events.begin(), events.end(), "delivery_failed"), events.end());
  EXPECT_NE(std::find(events.begin(), events.end(), "delivered"), events.end());
}

TEST_F(OutboxDispatcherTest, AbandonsAMessageAfterEightFailures) {
  SetEndpoint("third_party_platforms", receiver_.Url());
  receiver_.AlwaysAnswer(500);
  std::string request_id = Erase();
  for (int64_t attempt = 1; attempt <= engine::kMaxDeliveryAttempts; ++attempt) {
    DeliveryCounts counts = Pass();
    ASSERT_EQ(counts.claimed, 1) << "attempt " << attempt;
    store::OutboxRow row = Notice(request_id, "third_party_platforms");
    EXPECT_EQ(row.attempts, attempt);
    if (attempt < engine::kMaxDeliveryAttempts) {
      EXPECT_EQ(counts.failed, 1);
      EXPECT_EQ(row.state, store::OutboxState::kPending);
      EXPECT_EQ(row.next_attempt_at.micros,
                clock_.Now().micros + engine::OutboxRetryDelayMicros(attempt));
      clock_.Set(row.next_attempt_at);
    } else {
      EXPECT_EQ(counts.dead, 1);
      EXPECT_EQ(counts.outcomes[0].state, store::OutboxState::kDead);
      EXPECT_EQ(row.state, store::OutboxState::kDead);
      EXPECT_EQ(row.last_error, "http 500");
    }
  }
  EXPECT_EQ(receiver_.received().size(), static_cast<size_t>(engine::kMaxDeliveryAttempts));
  Advance(int64_t{7} * 24 * 60 * kMinute);
  EXPECT_EQ(Pass().claimed, 0);
  EXPECT_EQ(receiver_.received().size(), static_cast<size_t>(engine::kMaxDeliveryAttempts));
}

TEST_F(OutboxDispatcherTest, BackoffIsOneMinuteFiveThirtyTwoHoursSixHoursThenDaily) {
  const int64_t expected_minutes[] = {1, 5, 30, 120, 360, 1440, 1440};
  for (int64_t attempts = 1; attempts <= 7; ++attempts) {
    EXPECT_EQ(engine::OutboxRetryDelayMicros(attempts), expected_minutes[attempts - 1] * kMinute);
  }
}

TEST_F(OutboxDispatcherTest, MessageWithoutAnEndpointStaysManual) {
  std::string request_id = Erase();
  std::vector<store::OutboxRow> rows = Outbox(request_id);
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(Pass().claimed, 0);
  for (const auto& row : Outbox(request_id)) {
    EXPECT_EQ(row.state, store::OutboxState::kManual) << row.target;
    EXPECT_EQ(row.attempts, 0);
  }
  EXPECT_TRUE(receiver_.received().empty());
}

TEST_F(OutboxDispatcherTest, DoesNotFollowRedirects) {
  SetEndpoint("third_party_platforms", receiver_.Url());
  receiver_.Answer({302});
  std::string request_id = Erase();
  DeliveryCounts counts = Pass();
  EXPECT_EQ(counts.failed, 1);
  EXPECT_EQ(Notice(request_id, "third_party_platforms").last_error, "http 302");
  EXPECT_EQ(receiver_.received().size(), 1u);
}

TEST_F(OutboxDispatcherTest, ConnectionFailureIsRecordedWithoutTheUrl) {
  Receiver closed;
  ASSERT_TRUE(closed.ok());
  std::string url = closed.Url();
  closed.Stop();  // nothing listens on its port any more
  SetEndpoint("third_party_platforms", url);
  std::string request_id = Erase();
  DeliveryCounts counts = Pass();
  EXPECT_EQ(counts.failed, 1);
  std::string error = Notice(request_id, "third_party_platforms").last_error;
  EXPECT_EQ(error.rfind("curl: ", 0), 0u) << error;
  EXPECT_EQ(error.find("127.0.0.1"), std::string::npos) << error;
  EXPECT_EQ(error.find("query-secret"), std::string::npos) << error;
}

TEST_F(OutboxDispatcherTest, AClaimedMessageGoesToOneDispatcher) {
  SetEndpoint("third_party_platforms", receiver_.Url());
  Erase();
  // Another process claimed it first; its lease holds the message away from this one.
  auto other = engine_->ClaimDeliveries(10, dispatcher_->LeaseFor(10).count() * 1000);
  ASSERT_TRUE(other.ok());
  ASSERT_EQ(other->size(), 1u);
  EXPECT_EQ(Pass().claimed, 0);
  EXPECT_TRUE(receiver_.received().empty());
  // If that process dies, the message is claimed again once the lease is over.
  Advance(dispatcher_->LeaseFor(10).count() * 1000 + 1);
  EXPECT_EQ(Pass().delivered, 1);
  EXPECT_EQ(receiver_.received().size(), 1u);
}

TEST_F(OutboxDispatcherTest, ScheduleDeliversAtStartAndLogsNoPersonalData) {
  SetEndpoint("third_party_platforms", receiver_.Url());
  receiver_.Answer({503});
  Erase();
  std::FILE* log_file = std::tmpfile();
  ASSERT_NE(log_file, nullptr);
  {
    api::JsonLog log(log_file);
    api::DeliverySchedule schedule(*dispatcher_, log, std::chrono::hours(1));
    // The first pass runs at once; 60 s of polling only ends a test whose schedule never ran.
    for (int i = 0; i < 6000 && schedule.runs() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_GE(schedule.runs(), 1);
    schedule.Stop();
  }
  std::fflush(log_file);
  std::rewind(log_file);
  std::string logs;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, log_file)) > 0) logs.append(buffer, n);
  std::fclose(log_file);
  EXPECT_NE(logs.find("\"outbox_send_failed\""), std::string::npos) << logs;
  EXPECT_NE(logs.find("\"http 503\""), std::string::npos) << logs;
  EXPECT_NE(logs.find("\"outbox_pass\""), std::string::npos) << logs;
  EXPECT_EQ(logs.find("ada@example.test"), std::string::npos) << logs;
  EXPECT_EQ(logs.find("query-secret"), std::string::npos) << logs;
  EXPECT_EQ(logs.find("127.0.0.1"), std::string::npos) << logs;
  EXPECT_EQ(receiver_.received().size(), 1u);
}

TEST(OutboxDeliverCommand, DeliversOnePassAndPrintsTheCounts) {
  Receiver receiver;
  ASSERT_TRUE(receiver.ok());
  store::TempDir dir;
  const std::string policy = std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml";
  auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> all = {"--data", dir.path(), "--now", "2026-02-01T09:00:00Z"};
    all.insert(all.end(), args.begin(), args.end());
    std::ostringstream out, err;
    int code = cli::RunCli(all, out, err);
    EXPECT_EQ(code, 0) << err.str();
    return out.str();
  };
  run({"init", "--policy", policy});
  run({"subject", "add", "s1", "--type", "non_member", "--email", "ada@example.test"});
  run({"endpoint", "set", "third_party_platforms", receiver.Url(), "--secret", kSecret});
  std::string opened =
      run({"request", "open", "erasure", "--subject", "s1", "--verified-by", "passport_seen"});
  std::string request_id = opened.substr(0, opened.find(' '));
  run({"request", "fulfil", request_id});
  std::string delivered = run({"outbox", "deliver"});
  EXPECT_NE(delivered.find("third_party_platforms delivered"), std::string::npos) << delivered;
  EXPECT_NE(delivered.find("claimed 1, delivered 1, failed 0, dead 0, deferred 0"),
            std::string::npos)
      << delivered;
  EXPECT_EQ(receiver.received().size(), 1u);
  EXPECT_NE(run({"outbox", "deliver"}).find("claimed 0"), std::string::npos);
}

}  // namespace
}  // namespace custos::delivery
