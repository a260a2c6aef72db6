// Rights requests through the Engine over a real SqliteStore: the state machine, identity by
// one-time code, the month, sealing at rest, concurrency, the outbox, purging.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "crypto/key.h"
#include "crypto/master_key.h"
#include "engine/engine.h"
#include "engine/subject_request.h"
#include "policy/loader.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::engine {
namespace {

namespace fs = std::filesystem;
using store::OutboxState;
using store::RequestState;

Timestamp T(const char* text) { return *Timestamp::Parse(text); }

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class RequestsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("custos-requests-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    auto store = store::OpenSqliteStore({dir_.string(), true});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    engine_ = MakeEngine();
  }
  void TearDown() override {
    engine_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }
  std::unique_ptr<Engine> MakeEngine() {
    auto policy = policy::LoadValidPolicy(std::string(CUSTOS_SOURCE_DIR) + "/policies/wig.yaml");
    EXPECT_TRUE(policy.ok()) << policy.status().ToString();
    auto engine = std::make_unique<Engine>(std::move(*policy), "wig", *store_, master_, clock_);
    EXPECT_TRUE(engine->Open("policy text").ok());
    return engine;
  }

  void AddMember(const std::string& id, const std::string& email) {
    NewSubject subject;
    subject.subject_id = id;
    subject.types = {"member"};
    subject.identifiers = {{"email", email, true}};
    ASSERT_TRUE(engine_->AddSubject(subject).ok());
  }

  // A request staff open for m1, having checked identity on the member portal.
  static NewRequest StaffRequest(const std::string& id, const std::string& type) {
    NewRequest request;
    request.request_id = id;
    request.type = type;
    request.intake = "staff";
    request.subject_id = "m1";
    request.verification = "member_portal";
    return request;
  }

  // Opens a self-service request and returns the code sent to the requester.
  std::string OpenSelfService(const std::string& id, const std::string& type,
                              const std::string& email) {
    NewRequest request;
    request.request_id = id;
    request.type = type;
    request.contact = {"email", email};
    auto opened = engine_->OpenRequest(request);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return LastCode(id);
  }

  std::string LastPayload(const std::string& request_id) {
    auto outbox = store_->ListOutbox("wig", request_id);
    EXPECT_TRUE(outbox.ok() && !outbox->empty());
    if (!outbox.ok() || outbox->empty()) return {};
    auto payload = engine_->ReadOutboxMessage(outbox->back().outbox_id);
    EXPECT_TRUE(payload.ok()) << payload.status().ToString();
    return payload.ok() ? *payload : "";
  }

  std::string LastCode(const std::string& request_id) {
    rapidjson::Document doc;
    std::string payload = LastPayload(request_id);
    doc.Parse(payload.c_str());
    if (!doc.IsObject() || !doc.HasMember("code")) return {};
    return doc["code"].GetString();
  }

  fs::path dir_;
  crypto::MasterKey master_ = crypto::MasterKey::FromSecretForTesting(crypto::SecretKey::Random());
  FixedClock clock_{T("2026-01-05T09:00:00Z")};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Engine> engine_;
};

TEST(SubjectRequestStates, FollowTheDiagram) {
  using S = RequestState;
  EXPECT_TRUE(CanMove(S::kReceived, S::kVerifyingIdentity));
  EXPECT_TRUE(CanMove(S::kVerifyingIdentity, S::kInProgress));
  EXPECT_TRUE(CanMove(S::kInProgress, S::kExtended));
  EXPECT_TRUE(CanMove(S::kExtended, S::kCompleted));
  EXPECT_TRUE(CanMove(S::kVerifyingIdentity, S::kWithdrawn));
  EXPECT_TRUE(CanMove(S::kVerifyingIdentity, S::kForwarded));
  EXPECT_FALSE(CanMove(S::kVerifyingIdentity, S::kCompleted));  // identity first
  EXPECT_FALSE(CanMove(S::kExtended, S::kExtended));            // one extension
  EXPECT_FALSE(CanMove(S::kInProgress, S::kForwarded));
  for (S closed : {S::kCompleted, S::kRefused, S::kWithdrawn, S::kForwarded}) {
    EXPECT_FALSE(IsOpen(closed));
    for (S to : {S::kInProgress, S::kCompleted, S::kRefused, S::kWithdrawn}) {
      EXPECT_FALSE(CanMove(closed, to));
    }
  }
}

TEST_F(RequestsTest, RequesterDetailsAndAnswersAreNeverStoredInPlaintext) {
  // DESIGN: "Personal values are sealed at rest"; the requester's contact, corrected values
  // and note are sealed with the request's own key.
  AddMember("m1", "plain.requester@example.test");
  NewRequest request;
  request.request_id = "r1";
  request.type = "rectification";
  request.contact = {"email", "plain.requester@example.test"};
  request.rectifications = {{"user.name", "Corrected Plaintextname"}};
  request.note = "Please fix my XYZZYNOTE";
  ASSERT_TRUE(engine_->OpenRequest(request).ok());
  std::string code = LastCode("r1");
  ASSERT_EQ(code.size(), 8u);
  ASSERT_TRUE(engine_->Flush().ok());
  engine_.reset();
  store_.reset();
  std::string everything;
  for (const auto& entry : fs::directory_iterator(dir_)) everything += ReadAll(entry.path());
  for (const std::string& secret :
       {std::string("plain.requester@example.test"), std::string("Corrected Plaintextname"),
        std::string("XYZZYNOTE"), "code\":\"" + code}) {
    EXPECT_EQ(everything.find(secret), std::string::npos) << secret;
  }
}

TEST_F(RequestsTest, CodeIsRefusedWhenWrongExpiredOrAfterFiveAttempts) {
  AddMember("m1", "m1@example.test");
  std::string code = OpenSelfService("r1", "access", "m1@example.test");
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(engine_->VerifyRequest("r1", "00000000", std::nullopt).status().code(),
              ErrorCode::kVerificationFailed);
  }
  // Locked: even the right code no longer works; a new code must be asked for.
  EXPECT_EQ(engine_->VerifyRequest("r1", code, std::nullopt).status().code(),
            ErrorCode::kVerificationFailed);
  ASSERT_TRUE(engine_->ResendRequestCode("r1", std::nullopt).ok());
  std::string fresh = LastCode("r1");
  clock_.Set(T("2026-01-05T09:31:00Z"));  // 31 minutes later: expired
  EXPECT_EQ(engine_->VerifyRequest("r1", fresh, std::nullopt).status().code(),
            ErrorCode::kVerificationFailed);
  ASSERT_TRUE(engine_->ResendRequestCode("r1", std::nullopt).ok());
  auto secret = engine_->VerifyRequest("r1", LastCode("r1"), std::nullopt);
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  EXPECT_TRUE(engine_->CheckRequesterSecret("r1", *secret).ok());
  EXPECT_EQ(engine_->CheckRequesterSecret("r1", *secret + "x").code(),
            ErrorCode::kVerificationFailed);
}

TEST_F(RequestsTest, TheMonthRunsFromTheDayIdentityIsProven) {
  // 002 WIG: "If you make a request, we have one month to respond to you."
  AddMember("m1", "m1@example.test");
  std::string code = OpenSelfService("r1", "access", "m1@example.test");
  auto view = engine_->ViewRequest("r1");
  ASSERT_TRUE(view.ok());
  EXPECT_FALSE(view->row.due_at.has_value());
  clock_.Set(T("2026-01-05T09:10:00Z"));
  ASSERT_TRUE(engine_->VerifyRequest("r1", code, std::nullopt).ok());
  view = engine_->ViewRequest("r1");
  ASSERT_TRUE(view.ok());
  ASSERT_TRUE(view->row.due_at.has_value());
  EXPECT_EQ(view->row.due_at->Date().ToString(), "2026-02-05");
  EXPECT_EQ(view->row.subject_ids, std::vector<std::string>({"m1"}));
}

TEST_F(RequestsTest, WigPromisesNoExtensionAndNoFee) {
  // WIG's notice states no extension and "You are not required to pay any charge".
  AddMember("m1", "m1@example.test");
  NewRequest request = StaffRequest("r1", "access");
  ASSERT_TRUE(engine_->OpenRequest(request).ok());
  EXPECT_EQ(engine_->ExtendRequest("r1", "complex", std::nullopt).code(),
            ErrorCode::kExtensionNotAllowed);
  EXPECT_EQ(engine_->AwaitRequester("r1", "fee", std::nullopt).code(), ErrorCode::kFeeNotAllowed);
  EXPECT_TRUE(engine_->AwaitRequester("r1", "clarification", std::nullopt).ok());
  EXPECT_EQ(engine_->FulfilRequest("r1", "", std::nullopt).status().code(),
            ErrorCode::kRequestState);  // waits for the person
}

TEST_F(RequestsTest, ARightThePolicyDoesNotOfferIsRefused) {
  // WIG's notice lists no right about automated decisions (it makes none).
  NewRequest request;
  request.type = "automated_decision_review";
  request.contact = {"email", "x@example.test"};
  EXPECT_EQ(engine_->OpenRequest(request).status().code(), ErrorCode::kRightNotAvailable);
  request.type = "delete_everything";
  EXPECT_EQ(engine_->OpenRequest(request).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(RequestsTest, TwoEnginesFulfillingOneRequestActOnce) {
  // "request fulfilment lose nothing and do nothing twice".
  AddMember("m1", "m1@example.test");
  NewRequest request = StaffRequest("r1", "restriction");
  ASSERT_TRUE(engine_->OpenRequest(request).ok());
  std::unique_ptr<Engine> other = MakeEngine();
  std::atomic<int> ok{0}, refused{0};
  auto fulfil = [&](Engine* engine) {
    auto result = engine->FulfilRequest("r1", "", std::nullopt);
    if (result.ok()) {
      ++ok;
    } else if (result.status().code() == ErrorCode::kConflict ||
               result.status().code() == ErrorCode::kRequestState) {
      ++refused;
    }
  };
  std::thread a(fulfil, engine_.get()), b(fulfil, other.get());
  a.join();
  b.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(refused.load(), 1);
  auto restrictions = store_->ListRestrictions("wig", "m1");
  ASSERT_TRUE(restrictions.ok());
  EXPECT_EQ(restrictions->size(), 1u);
}

TEST_F(RequestsTest, AFulfilmentClaimedElsewhereIsNotDoneAgainUntilItsLeaseEnds) {
  // a second process that reads the request after the first one claimed it (and while
  // it is still at work) must not act either.
  AddMember("m1", "m1@example.test");
  NewRequest request = StaffRequest("r1", "restriction");
  ASSERT_TRUE(engine_->OpenRequest(request).ok());
  // Another process's claim, as FulfilRequest writes it, with that process still at work.
  auto row = store_->GetRequest("wig", "r1");
  ASSERT_TRUE(row.ok() && row->has_value());
  store::RequestRow claimed = **row;
  claimed.version = (*row)->version + 1;
  store::WriteBatch claim;
  claim.Add(store::UpdateRequest{claimed, (*row)->version});
  claim.Add(store::RequestEventRow{"wig", "r1", 0, clock_.Now(), "other", "fulfilment_started",
                                   claimed.state, "restriction"});
  ASSERT_TRUE(store_->Apply(claim).ok());
  EXPECT_EQ(engine_->FulfilRequest("r1", "", std::nullopt).status().code(), ErrorCode::kConflict);
  auto restrictions = store_->ListRestrictions("wig", "m1");
  ASSERT_TRUE(restrictions.ok());
  EXPECT_TRUE(restrictions->empty());
  // That process died: after the lease (10 minutes) the request can be fulfilled.
  clock_.Set(Timestamp{clock_.Now().micros + int64_t{11} * 60 * 1000000});
  auto fulfilled = engine_->FulfilRequest("r1", "", std::nullopt);
  ASSERT_TRUE(fulfilled.ok()) << fulfilled.status().ToString();
  restrictions = store_->ListRestrictions("wig", "m1");
  ASSERT_TRUE(restrictions.ok());
  EXPECT_EQ(restrictions->size(), 1u);
}

TEST_F(RequestsTest, AFulfilmentThatFailsReleasesItsClaim) {
  AddMember("m1", "m1@example.test");
  NewRequest rectify = StaffRequest("r1", "rectification");
  rectify.rectifications = {{"user.name", "Corrected Name"}};
  ASSERT_TRUE(engine_->OpenRequest(rectify).ok());
  NewRequest erase = rectify;
  erase.request_id = "r2";
  erase.type = "erasure";
  erase.rectifications.clear();
  ASSERT_TRUE(engine_->OpenRequest(erase).ok());
  ASSERT_TRUE(engine_->FulfilRequest("r2", "", std::nullopt).ok());
  // The person is gone: rectifying fails after the claim, and says so again when retried (not
  // "being fulfilled elsewhere").
  EXPECT_EQ(engine_->FulfilRequest("r1", "", std::nullopt).status().code(),
            ErrorCode::kSubjectErased);
  auto view = engine_->ViewRequest("r1");
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->history.back().event, "fulfilment_failed");
  EXPECT_EQ(view->row.state, RequestState::kInProgress);
  EXPECT_EQ(engine_->FulfilRequest("r1", "", std::nullopt).status().code(),
            ErrorCode::kSubjectErased);
}

TEST_F(RequestsTest, RefusalTellsThePersonTheReasonAndTheirRightToComplain) {
  AddMember("m1", "m1@example.test");
  OpenSelfService("r1", "access", "m1@example.test");
  ASSERT_TRUE(engine_->RefuseRequest("r1", "manifestly_unfounded", std::nullopt).ok());
  std::string payload = LastPayload("r1");
  EXPECT_NE(payload.find("manifestly unfounded"), std::string::npos) << payload;
  EXPECT_NE(payload.find("Information Commissioner's Office"), std::string::npos) << payload;
  EXPECT_EQ(engine_->WithdrawRequest("r1", std::nullopt).code(), ErrorCode::kRequestState);
}

TEST_F(RequestsTest, ClosedRequestsKeepOnlyTheirProofAfterThirtyDays) {
  // "Requester contact details are kept only as long as the request needs them;
  // afterwards a minimal proof of what was done remains."
  AddMember("m1", "m1@example.test");
  std::string code = OpenSelfService("r1", "access", "m1@example.test");
  ASSERT_TRUE(engine_->VerifyRequest("r1", code, std::nullopt).ok());
  ASSERT_TRUE(engine_->FulfilRequest("r1", "", std::nullopt).ok());
  EXPECT_TRUE(engine_->RequestDocument("r1", "html").ok());
  auto purged = engine_->PurgeClosedRequests(T("2026-02-03"));
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 0);  // 29 days: the person may still download their copy
  purged = engine_->PurgeClosedRequests(T("2026-02-05"));
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1);
  auto view = engine_->ViewRequest("r1");
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->personal_parts_shredded);
  EXPECT_TRUE(view->contact.value.empty());
  EXPECT_EQ(view->row.state, RequestState::kCompleted);
  EXPECT_EQ(view->history.back().event, "personal_parts_shredded");
  EXPECT_GE(view->history.size(), 5u);
  EXPECT_FALSE(engine_->RequestDocument("r1", "html").ok());
}

TEST_F(RequestsTest, TheRetentionSweepShredsClosedRequestsByItself) {
  AddMember("m1", "m1@example.test");
  OpenSelfService("r1", "access", "m1@example.test");
  ASSERT_TRUE(engine_->WithdrawRequest("r1", std::nullopt).ok());
  clock_.Set(T("2026-02-10"));
  RetentionOptions options;
  auto report = engine_->RunRetention(options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->requests_shredded, 1);
  auto view = engine_->ViewRequest("r1");
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->personal_parts_shredded);
}

TEST_F(RequestsTest, DeliveryIsRetriedWithBackoffThenAbandoned) {
  AddMember("m1", "m1@example.test");
  ASSERT_TRUE(engine_
                  ->SetRecipientEndpoint("requester", "https://mailer.example.test/hook",
                                         "0123456789abcdef0123", std::nullopt)
                  .ok());
  OpenSelfService("r1", "access", "m1@example.test");
  auto claimed = engine_->ClaimDeliveries(10, 60'000'000);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].secret, "0123456789abcdef0123");
  EXPECT_NE((*claimed)[0].payload.find("m1@example.test"), std::string::npos);
  // While its lease runs nobody else gets it.
  auto again = engine_->ClaimDeliveries(10, 60'000'000);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  OutboxDelivery delivery = (*claimed)[0];
  for (int attempt = 1; attempt <= 8; ++attempt) {
    ASSERT_TRUE(engine_->RecordDelivery(delivery, false, "http 503").ok());
    delivery.attempts = attempt;
    auto outbox = store_->ListOutbox("wig", "r1");
    ASSERT_TRUE(outbox.ok());
    const store::OutboxRow& row = outbox->back();
    if (attempt < 8) {
      EXPECT_EQ(row.state, OutboxState::kPending);
      EXPECT_EQ(row.next_attempt_at.micros - clock_.Now().micros, OutboxRetryDelayMicros(attempt));
    } else {
      EXPECT_EQ(row.state, OutboxState::kDead);
    }
  }
  EXPECT_EQ(OutboxRetryDelayMicros(1), 60'000'000);
  EXPECT_EQ(OutboxRetryDelayMicros(2), 5 * 60'000'000LL);
  EXPECT_EQ(OutboxRetryDelayMicros(20), 24 * 3600 * 1'000'000LL);
}

TEST_F(RequestsTest, DeliveredMessagesKeepOnlyTheirDigest) {
  AddMember("m1", "m1@example.test");
  ASSERT_TRUE(engine_
                  ->SetRecipientEndpoint("requester", "https://mailer.example.test/hook",
                                         "0123456789abcdef0123", std::nullopt)
                  .ok());
  OpenSelfService("r1", "access", "m1@example.test");
  auto claimed = engine_->ClaimDeliveries(10, 60'000'000);
  ASSERT_TRUE(claimed.ok() && claimed->size() == 1);
  ASSERT_TRUE(engine_->RecordDelivery((*claimed)[0], true, "").ok());
  auto outbox = store_->ListOutbox("wig", "r1");
  ASSERT_TRUE(outbox.ok());
  EXPECT_EQ(outbox->back().state, OutboxState::kDelivered);
  EXPECT_TRUE(outbox->back().sealed_payload.empty());
  EXPECT_EQ(outbox->back().payload_digest.size(), 32u);
  EXPECT_EQ(engine_->ReadOutboxMessage(outbox->back().outbox_id).status().code(),
            ErrorCode::kNotFound);
}

TEST_F(RequestsTest, MessagesWaitingByHandGoByWebhookOnceAnEndpointIsSet) {
  AddMember("m1", "m1@example.test");
  NewRequest request;  // opened, and its code not read out by anyone
  request.request_id = "r1";
  request.type = "access";
  request.contact = {"email", "m1@example.test"};
  ASSERT_TRUE(engine_->OpenRequest(request).ok());
  auto outbox = store_->ListOutbox("wig", "r1");
  ASSERT_TRUE(outbox.ok() && outbox->size() == 1);
  EXPECT_EQ(outbox->back().state, OutboxState::kManual);
  ASSERT_TRUE(engine_
                  ->SetRecipientEndpoint("requester", "https://mailer.example.test/hook",
                                         "0123456789abcdef0123", std::nullopt)
                  .ok());
  outbox = store_->ListOutbox("wig", "r1");
  ASSERT_TRUE(outbox.ok());
  EXPECT_EQ(outbox->back().state, OutboxState::kPending);
  auto claimed = engine_->ClaimDeliveries(10, 60'000'000);
  ASSERT_TRUE(claimed.ok());
  EXPECT_EQ(claimed->size(), 1u);
}

TEST_F(RequestsTest, EndpointsMustBeHttpsExceptOnThisMachine) {
  EXPECT_EQ(engine_
                ->SetRecipientEndpoint("pushfar", "http://pushfar.example/hook",
                                       "0123456789abcdef0123", std::nullopt)
                .code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(engine_
                ->SetRecipientEndpoint("nobody", "https://x.example/hook", "0123456789abcdef0123",
                                       std::nullopt)
                .code(),
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(engine_
                  ->SetRecipientEndpoint("pushfar", "http://127.0.0.1:8081/hook",
                                         "0123456789abcdef0123", std::nullopt)
                  .ok());
}

// A code an operator read out by hand, and which the person then used, is not sent again when
// the requester endpoint appears; nor is a code that a newer one replaced, nor any message an
// operator already read. A message nobody read is sent.
TEST_F(RequestsTest, SettingAnEndpointDoesNotResendWhatWasHandledByHand) {
  AddMember("m1", "m1@example.test");
  AddMember("m2", "m2@example.test");
  std::string code = OpenSelfService("r1", "access", "m1@example.test");  // read by hand
  ASSERT_TRUE(engine_->VerifyRequest("r1", code, std::nullopt).ok());
  OpenSelfService("r2", "access", "m2@example.test");                // read by hand, not yet used
  ASSERT_TRUE(engine_->ResendRequestCode("r2", std::nullopt).ok());  // unread, replaces it
  NewRequest unread;
  unread.request_id = "r3";
  unread.type = "access";
  unread.contact = {"email", "m1@example.test"};
  ASSERT_TRUE(engine_->OpenRequest(unread).ok());
  ASSERT_TRUE(engine_
                  ->SetRecipientEndpoint("requester", "https://mailer.example.test/hook",
                                         "0123456789abcdef0123", std::nullopt)
                  .ok());
  auto outbox = store_->ListOutbox("wig", "");
  ASSERT_TRUE(outbox.ok());
  std::map<std::string, std::vector<OutboxState>> states;
  for (const auto& m : *outbox) states[m.request_id].push_back(m.state);
  EXPECT_EQ(states["r1"], std::vector<OutboxState>{OutboxState::kManual});
  EXPECT_EQ(states["r2"], (std::vector<OutboxState>{OutboxState::kManual, OutboxState::kPending}));
  EXPECT_EQ(states["r3"], std::vector<OutboxState>{OutboxState::kPending});
  auto claimed = engine_->ClaimDeliveries(10, 60'000'000);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 2u);
  EXPECT_EQ((*claimed)[0].request_id, "r2");
  EXPECT_EQ((*claimed)[1].request_id, "r3");
  // Reading by hand is in the request's history.
  auto history = store_->ListRequestEvents("wig", "r1");
  ASSERT_TRUE(history.ok());
  EXPECT_TRUE(std::any_of(history->begin(), history->end(), [](const store::RequestEventRow& e) {
    return e.event == "outbox_read" && e.actor == "system";
  }));
}

TEST_F(RequestsTest, AnExpiredCodeIsNotSentWhenAnEndpointAppearsLater) {
  AddMember("m1", "m1@example.test");
  NewRequest request;
  request.request_id = "r1";
  request.type = "access";
  request.contact = {"email", "m1@example.test"};
  ASSERT_TRUE(engine_->OpenRequest(request).ok());
  clock_.Set(T("2026-01-05T10:00:00Z"));  // the code lived 30 minutes
  ASSERT_TRUE(engine_
                  ->SetRecipientEndpoint("requester", "https://mailer.example.test/hook",
                                         "0123456789abcdef0123", std::nullopt)
                  .ok());
  auto outbox = store_->ListOutbox("wig", "r1");
  ASSERT_TRUE(outbox.ok() && outbox->size() == 1);
  EXPECT_EQ(outbox->back().state, OutboxState::kManual);
}

// A new code does not reset the guesses: resends are capped per request, wrong guesses are
// counted over all of a request's codes, and the request locks after kMaxFailedCodeAttempts.
TEST_F(RequestsTest, ResendingCodesDoesNotResetTheGuessesWithoutLimit) {
  AddMember("m1", "m1@example.test");
  OpenSelfService("r1", "access", "m1@example.test");
  int64_t wrong = 0, resends = 0;
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < static_cast<int>(kMaxCodeAttempts); ++i) {
      auto verified = engine_->VerifyRequest("r1", "00000000", std::nullopt);
      ASSERT_FALSE(verified.ok());
      if (verified.status().code() == ErrorCode::kVerificationFailed) ++wrong;
      if (verified.status().code() == ErrorCode::kTooManyAttempts) break;
    }
    int64_t retry = -1;
    Status resent = engine_->ResendRequestCode("r1", std::nullopt, "requester", &retry);
    if (!resent.ok()) {
      EXPECT_EQ(resent.code(), ErrorCode::kTooManyAttempts) << resent.ToString();
      EXPECT_EQ(retry, 0) << "waiting does not unlock a request";
      break;
    }
    ++resends;
  }
  EXPECT_EQ(wrong, kMaxFailedCodeAttempts - 1);  // the last wrong guess answers locked
  EXPECT_LE(resends, kMaxCodeResends);
  // Locked: even the right code of a fresh resend is never compared.
  EXPECT_EQ(engine_->VerifyRequest("r1", LastCode("r1"), std::nullopt).status().code(),
            ErrorCode::kTooManyAttempts);
  // Staff can still check identity.
  EXPECT_TRUE(engine_->VerifyRequestByStaff("r1", "passport_seen", "m1", std::nullopt).ok());
}

TEST_F(RequestsTest, ARequestGetsAtMostFiveNewCodes) {
  AddMember("m1", "m1@example.test");
  OpenSelfService("r1", "access", "m1@example.test");
  for (int i = 0; i < kMaxCodeResends; ++i) {
    ASSERT_TRUE(engine_->ResendRequestCode("r1", std::nullopt).ok()) << i;
  }
  int64_t retry = -1;
  EXPECT_EQ(engine_->ResendRequestCode("r1", std::nullopt, "requester", &retry).code(),
            ErrorCode::kTooManyCodes);
  EXPECT_EQ(retry, 0);
  // The last code sent still works.
  EXPECT_TRUE(engine_->VerifyRequest("r1", LastCode("r1"), std::nullopt).ok());
}

// One address receives at most kMaxCodesPerAddressPerDay codes in 24 hours, over every
// request, counted by the address's blind index (never the address itself).
TEST_F(RequestsTest, OneAddressReceivesOnlySoManyCodesADay) {
  AddMember("m1", "m1@example.test");
  int opened = 0;
  for (int i = 0; i < 3; ++i) {
    OpenSelfService("r" + std::to_string(i), "access", "M1@example.test");
    ++opened;
  }
  int sent = opened;
  while (sent < kMaxCodesPerAddressPerDay) {
    ASSERT_TRUE(engine_->ResendRequestCode("r" + std::to_string(sent % 3), std::nullopt).ok());
    ++sent;
  }
  clock_.Set(T("2026-01-05T10:00:00Z"));
  NewRequest another;
  another.request_id = "r9";
  another.type = "access";
  another.contact = {"email", "m1@example.test"};
  int64_t retry = 0;
  auto refused = engine_->OpenRequest(another, &retry);
  EXPECT_EQ(refused.status().code(), ErrorCode::kTooManyCodes);
  // The first code went at 09:00: one more may go at 09:00 the next day, 23 hours on.
  EXPECT_EQ(retry, 23 * 3600);
  EXPECT_FALSE(store_->GetRequest("wig", "r9")->has_value()) << "nothing opened";
  EXPECT_EQ(engine_->ResendRequestCode("r0", std::nullopt, "requester", &retry).code(),
            ErrorCode::kTooManyCodes);
  // Another address is not affected.
  another.contact = {"email", "m2@example.test"};
  EXPECT_TRUE(engine_->OpenRequest(another).ok());
  // A day after the first code, one more may go.
  clock_.Set(T("2026-01-06T09:00:00Z"));
  another.request_id = "r10";
  another.contact = {"email", "m1@example.test"};
  EXPECT_TRUE(engine_->OpenRequest(another).ok());
  // Only keyed hashes are counted: the address is not in the database file.
  engine_.reset();
  store_.reset();
  std::string db = ReadAll(dir_ / "custos.db") + ReadAll(dir_ / "custos.db-wal");
  EXPECT_EQ(db.find("m1@example.test"), std::string::npos);
  EXPECT_EQ(db.find("M1@example.test"), std::string::npos);
}

}  // namespace
}  // namespace custos::engine

namespace custos::engine {
namespace {

TEST_F(RequestsTest, ACorrectedEmailOrPhoneMustHaveTheFormOfOne) {
  // UK GDPR Art. 16 (rectification): a corrected email or phone replaces the identifier the
  // person is found and told by, so it is held to the form a new one must have.
  AddMember("m1", "m1@example.test");
  NewRequest email = StaffRequest("r1", "rectification");
  email.rectifications = {{"user.contact.email", "m1-at-example.test"}};
  Status refused = engine_->OpenRequest(email).status();
  EXPECT_EQ(refused.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("the email is not"), std::string::npos) << refused.message();
  NewRequest phone = StaffRequest("r2", "rectification");
  phone.rectifications = {{"user.contact.phone", "12"}};
  EXPECT_EQ(engine_->OpenRequest(phone).status().code(), ErrorCode::kInvalidArgument);
  email.rectifications = {{"user.contact.email", "m1.new@example.test"}};
  EXPECT_TRUE(engine_->OpenRequest(email).ok());
}

}  // namespace
}  // namespace custos::engine
