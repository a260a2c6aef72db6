// RateLimiter (src/api/rate_limit.h) on a clock the test moves: bursts, refills, separate keys.
#include "api/rate_limit.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace custos::api {
namespace {

using std::chrono::milliseconds;

// A steady clock that moves only when the test says so.
class ManualSteadyClock {
 public:
  RateLimiter::SteadyNow Now() {
    return [this] { return now_; };
  }
  void Advance(milliseconds by) { now_ += by; }

 private:
  std::chrono::steady_clock::time_point now_{std::chrono::hours(1)};
};

TEST(RateLimiter, AllowsABurstThenRefusesUntilTheBucketRefills) {
  ManualSteadyClock clock;
  RateLimiter limiter(/*rate=*/2, /*burst=*/3, clock.Now());
  EXPECT_TRUE(limiter.enabled());
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Allow("token-a")) << i;
  EXPECT_FALSE(limiter.Allow("token-a"));
  // Two a second: one more after half a second, not before.
  clock.Advance(milliseconds(499));
  EXPECT_FALSE(limiter.Allow("token-a"));
  clock.Advance(milliseconds(1));
  EXPECT_TRUE(limiter.Allow("token-a"));
  EXPECT_FALSE(limiter.Allow("token-a"));
  clock.Advance(milliseconds(1000));
  EXPECT_TRUE(limiter.Allow("token-a"));
  EXPECT_TRUE(limiter.Allow("token-a"));
  EXPECT_FALSE(limiter.Allow("token-a"));
}

TEST(RateLimiter, RefillsNoFurtherThanTheBurst) {
  ManualSteadyClock clock;
  RateLimiter limiter(/*rate=*/10, /*burst=*/2, clock.Now());
  EXPECT_TRUE(limiter.Allow("a"));
  clock.Advance(milliseconds(3'600'000));  // an hour idle is worth two requests, not 36 000
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_FALSE(limiter.Allow("a"));
}

TEST(RateLimiter, EachKeyHasItsOwnBucket) {
  ManualSteadyClock clock;
  RateLimiter limiter(/*rate=*/1, /*burst=*/1, clock.Now());
  EXPECT_TRUE(limiter.Allow("token-a"));
  EXPECT_FALSE(limiter.Allow("token-a"));
  EXPECT_TRUE(limiter.Allow("token-b"));
  EXPECT_TRUE(limiter.Allow("203.0.113.7"));
  EXPECT_FALSE(limiter.Allow("token-b"));
}

TEST(RateLimiter, ABurstBelowOneStillLetsOneRequestThrough) {
  ManualSteadyClock clock;
  RateLimiter limiter(/*rate=*/0.5, /*burst=*/0, clock.Now());
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_FALSE(limiter.Allow("a"));
  clock.Advance(milliseconds(1999));
  EXPECT_FALSE(limiter.Allow("a"));
  clock.Advance(milliseconds(1));
  EXPECT_TRUE(limiter.Allow("a"));
}

TEST(RateLimiter, ARateOfZeroLimitsNothing) {
  ManualSteadyClock clock;
  RateLimiter limiter(/*rate=*/0, /*burst=*/1, clock.Now());
  EXPECT_FALSE(limiter.enabled());
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.Allow("a")) << i;
}

TEST(RateLimiter, WithoutAClockGivenItRunsOnTheSteadyClock) {
  // One request a million seconds: the second is refused however slowly this test runs.
  RateLimiter limiter(/*rate=*/1e-6, /*burst=*/1);
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_FALSE(limiter.Allow("a"));
}

}  // namespace
}  // namespace custos::api
