// What an administrator sees and does with sessions (SessionStore::ListAll and RemoveAny):
// every owner's sessions of a tenant or of all tenants, and ending one whoever owns it. Run
// against both stores (MemorySessionStore on a FakeClock, RedisSessionStore on a private
// redis-server), then through the failover store while Redis is down.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "conversation/redis_session_store.h"
#include "conversation/session_store.h"
#include "redis/redis_client.h"
#include "support/store_backend.h"
#include "support/test_databases.h"

namespace helios::conversation {
namespace {

using namespace std::chrono_literals;

Turn Asked(const std::string& question) {
  Turn t;
  t.question = question;
  t.sql = "SELECT 1";
  t.has_query = false;
  t.database = "default";
  return t;
}

int64_t UnixMs(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.Now().time_since_epoch())
      .count();
}

using Backend = testing::StoreBackend;

class AdminSessionsTest : public testing::StoreBackendTest {
 protected:
  // Redis expires keys on its own clock, so its store runs on real time.
  const Clock& clock() const {
    if (GetParam() == Backend::kMemory) return clock_;
    return real_;
  }

  SessionStore& Open(std::chrono::milliseconds timeout = 30min) {
    MemoryStoreOptions options;
    options.timeout = timeout;
    if (GetParam() == Backend::kMemory) {
      store_ = std::make_unique<MemorySessionStore>(clock_, options);
    } else {
      store_ = std::make_unique<RedisSessionStore>(*client_, real_, options, "admin:");
    }
    return *store_;
  }

  void Append(SessionStore& store, const Owner& owner, const std::string& id) {
    auto appended = store.Append(owner, id, Asked("question in " + id));
    ASSERT_TRUE(appended) << appended.error().message;
  }

  static std::vector<SessionInfo> ListAll(SessionStore& store, const std::string& tenant,
                                          size_t limit = 100) {
    auto listed = store.ListAll(tenant, limit);
    EXPECT_TRUE(listed) << listed.error().message;
    return listed.value_or(std::vector<SessionInfo>{});
  }

  static std::vector<std::string> Ids(const std::vector<SessionInfo>& sessions) {
    std::vector<std::string> ids;
    for (const SessionInfo& s : sessions) ids.push_back(s.tenant_id + "/" + s.id);
    return ids;
  }

  SystemClock real_;
  std::unique_ptr<SessionStore> store_;
};

TEST_P(AdminSessionsTest, ListsEveryOwnersSessionsOfATenantOrOfAll) {
  SessionStore& store = Open();
  const int64_t start = UnixMs(clock());
  Append(store, {"acme", "alice"}, "a1");
  Wait(20ms);
  Append(store, {"globex", "bob"}, "g1");
  Wait(20ms);
  Append(store, {"acme", "carol"}, "a2");
  Wait(20ms);
  Append(store, {"acme", "alice"}, "a1");  // used again: the most recent now

  std::vector<SessionInfo> acme = ListAll(store, "acme");
  EXPECT_EQ(Ids(acme), (std::vector<std::string>{"acme/a1", "acme/a2"}));
  ASSERT_EQ(acme.size(), 2u);
  EXPECT_EQ(acme[0].owner, "alice");
  EXPECT_EQ(acme[0].turn_count, 2);
  EXPECT_EQ(acme[1].owner, "carol");
  EXPECT_EQ(acme[1].turn_count, 1);
  // Created at its first turn, used at its last, expiring a timeout after that.
  EXPECT_GE(acme[0].created_at_ms, start);
  EXPECT_GT(acme[0].updated_at_ms, acme[0].created_at_ms);
  EXPECT_NEAR(static_cast<double>(acme[0].expires_at_ms),
              static_cast<double>(acme[0].updated_at_ms + 30 * 60 * 1000), 2000.0);

  EXPECT_EQ(Ids(ListAll(store, "")), (std::vector<std::string>{"acme/a1", "acme/a2", "globex/g1"}));
  EXPECT_EQ(Ids(ListAll(store, "", 2)), (std::vector<std::string>{"acme/a1", "acme/a2"}));
  EXPECT_TRUE(ListAll(store, "initech").empty());
}

TEST_P(AdminSessionsTest, ExpiredSessionsAreNotListed) {
  SessionStore& store = Open(1s);
  Append(store, {"acme", "alice"}, "old");
  Wait(1500ms);
  Append(store, {"acme", "alice"}, "new");
  EXPECT_EQ(Ids(ListAll(store, "acme")), (std::vector<std::string>{"acme/new"}));
  EXPECT_EQ(Ids(ListAll(store, "")), (std::vector<std::string>{"acme/new"}));
}

TEST_P(AdminSessionsTest, EndsAnotherUsersSession) {
  SessionStore& store = Open();
  Append(store, {"acme", "alice"}, "s1");
  Append(store, {"acme", "carol"}, "s2");
  auto removed = store.RemoveAny("acme", "s1");
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(*removed, 1u);
  auto gone = store.Load({"acme", "alice"}, "s1");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value()) << "its owner still finds it";
  EXPECT_EQ(*store.RemoveAny("acme", "s1"), 0u);
  EXPECT_EQ(*store.RemoveAny("globex", "s2"), 0u) << "another tenant's session was ended";
  EXPECT_EQ(Ids(ListAll(store, "")), (std::vector<std::string>{"acme/s2"}));
}

TEST_P(AdminSessionsTest, WithoutATenantEndsTheIdInEveryTenantAndOnlyThatId) {
  SessionStore& store = Open();
  Append(store, {"acme", "alice"}, "same");
  Append(store, {"globex", "bob"}, "same");
  Append(store, {"acme", "alice"}, "same-not");
  // Ids and tenants with the characters a pattern or the key layout could trip over.
  Append(store, {"acme", "alice"}, "x*");
  Append(store, {"acme", "alice"}, "xy");
  Append(store, {"t:1", "dora"}, "s");
  Append(store, {"t", "dora"}, "1:s");

  EXPECT_EQ(*store.RemoveAny("", "same"), 2u);
  EXPECT_EQ(*store.RemoveAny("", "x*"), 1u);
  EXPECT_EQ(*store.RemoveAny("", "s"), 1u);
  EXPECT_EQ(Ids(ListAll(store, "")).size(), 3u);
  for (const char* id : {"acme/same-not", "acme/xy", "t/1:s"}) {
    const std::vector<std::string> ids = Ids(ListAll(store, ""));
    EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end()) << id << " was removed";
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, AdminSessionsTest,
                         ::testing::Values(Backend::kMemory, Backend::kRedis),
                         testing::StoreBackendName);

TEST(FailoverAdminSessions, ListsThisInstancesOwnWhileRedisIsDown) {
  testing::ScopedRedis redis;
  auto client = testing::ConnectWithoutRetryDelay(redis);
  ASSERT_TRUE(client) << client.error().message;
  SystemClock clock;
  RedisSessionStore shared(**client, clock, {}, "fo:");
  MemorySessionStore local(clock, {});
  FailoverSessionStore store(shared, local, nullptr);
  ASSERT_TRUE(store.Append({"acme", "alice"}, "both", Asked("q")));
  ASSERT_TRUE(shared.Append({"acme", "bob"}, "shared-only", Asked("q")));

  auto listed = store.ListAll("acme", 10);
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(listed->size(), 2u) << "the shared store's list";

  ASSERT_TRUE(redis.Stop());
  listed = store.ListAll("acme", 10);
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, "both");
  auto removed = store.RemoveAny("acme", "both");
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(*removed, 1u);
  EXPECT_TRUE(local.ListAll("", 10)->empty());
}

}  // namespace
}  // namespace helios::conversation
