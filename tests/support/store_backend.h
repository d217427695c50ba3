// Contract tests of the stores that have a memory and a Redis backend (answer cache, sessions):
// the backend parameter, and a fixture that, on Redis, starts a private redis-server for the
// test and connects a client to it. Header-only because it needs redis/redis_client.h
// (helios_redis), which helios_test_support does not link: include it only from test binaries
// that link it (tests/cache, tests/conversation). Not thread-safe; one per test.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <expected>
#include <memory>
#include <ostream>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/error.h"
#include "redis/redis_client.h"
#include "support/test_databases.h"

namespace helios::testing {

enum class StoreBackend { kMemory, kRedis };

// Names the parameterised runs ".../Memory" and ".../Redis".
inline std::string StoreBackendName(const ::testing::TestParamInfo<StoreBackend>& info) {
  return info.param == StoreBackend::kMemory ? "Memory" : "Redis";
}

inline void PrintTo(StoreBackend backend, std::ostream* os) {
  *os << (backend == StoreBackend::kMemory ? "Memory" : "Redis");
}

class StoreBackendTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    if (OnRedis()) {
      redis_ = std::make_unique<ScopedRedis>();
      ASSERT_TRUE(redis_->url()) << redis_->url().error().message;
      auto client = redis::Client::Create(*redis_->url());
      ASSERT_TRUE(client) << client.error().message;
      client_ = std::move(*client);
    }
  }

  bool OnRedis() const { return GetParam() == StoreBackend::kRedis; }

  // Lets `d` pass for the store: the fake clock on memory, real time on Redis, whose TTLs run
  // on the server's own clock.
  void Wait(std::chrono::milliseconds d) {
    if (OnRedis()) {
      std::this_thread::sleep_for(d);
    } else {
      clock_.Advance(d);
    }
  }

  FakeClock clock_;
  std::unique_ptr<ScopedRedis> redis_;     // on Redis only
  std::unique_ptr<redis::Client> client_;  // on Redis only: connected to redis_
};

// A client of `redis` that retries at once after the server went away, for tests that stop
// the server and go on without it; the reason when the server did not start or the client
// cannot connect.
inline Result<std::unique_ptr<redis::Client>> ConnectWithoutRetryDelay(const ScopedRedis& redis) {
  if (!redis.url()) return std::unexpected(redis.url().error());
  redis::ClientOptions options;
  options.retry_after = std::chrono::milliseconds(0);
  return redis::Client::Create(*redis.url(), options);
}

}  // namespace helios::testing
