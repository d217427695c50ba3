#include "conversation/session_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "conversation/redis_session_store.h"
#include "redis/redis_client.h"
#include "support/store_backend.h"
#include "support/test_databases.h"

namespace helios::conversation {
namespace {

using namespace std::chrono_literals;

Turn MakeTurn(std::string question, size_t rows = 1) {
  Turn t;
  t.question = std::move(question);
  t.query.from = "customers";
  t.query.select = {{sql::Expr::CountStar(), ""}};
  t.sql = "SELECT COUNT(*) AS count FROM customers";
  t.row_count = rows;
  return t;
}

// The anonymous user of a tenant (as when authentication is off).
Owner Anon(std::string tenant) { return Owner{std::move(tenant), ""}; }

// The session, failing the test when Load errs.
std::optional<Session> LoadOk(SessionStore& store, const Owner& owner, const std::string& id) {
  auto loaded = store.Load(owner, id);
  EXPECT_TRUE(loaded.has_value()) << loaded.error().message;
  return loaded ? *loaded : std::nullopt;
}
std::optional<Session> LoadOk(SessionStore& store, const std::string& tenant,
                              const std::string& id) {
  return LoadOk(store, Anon(tenant), id);
}

// The new turn's number, failing the test when Append errs.
int AppendOk(SessionStore& store, const Owner& owner, const std::string& id,
             const std::string& question) {
  auto n = store.Append(owner, id, MakeTurn(question));
  EXPECT_TRUE(n.has_value()) << n.error().message;
  return n ? *n : -1;
}
int AppendOk(SessionStore& store, const std::string& tenant, const std::string& id,
             const std::string& question) {
  return AppendOk(store, Anon(tenant), id, question);
}

// The ids store.List(owner) shows, failing the test when it errs.
std::vector<std::string> ListedIds(SessionStore& store, const Owner& owner) {
  auto list = store.List(owner);
  EXPECT_TRUE(list.has_value()) << list.error().message;
  std::vector<std::string> ids;
  if (list) {
    for (const SessionSummary& s : *list) ids.push_back(s.id);
  }
  return ids;
}

class SessionStoreTest : public ::testing::Test {
 protected:
  MemorySessionStore MakeStore(MemoryStoreOptions options = {}) {
    return MemorySessionStore(clock_, options);
  }

  FakeClock clock_;
};

// The behaviour every SessionStore shares, run on the memory store and on Redis (a private
// server per test). Expiry is tested per store below: the memory store's on the fake clock,
// Redis's through its own TTLs (redis_session_store_test.cc).
using Backend = testing::StoreBackend;

class SessionStoreContractTest : public testing::StoreBackendTest {
 protected:
  // A new store on the test's backend (for Redis: the same server, a fresh key prefix).
  SessionStore& Open(MemoryStoreOptions options = {}) {
    if (GetParam() == Backend::kMemory) {
      store_ = std::make_unique<MemorySessionStore>(clock_, options);
    } else {
      store_ = std::make_unique<RedisSessionStore>(*client_, clock_, options,
                                                   "test:" + std::to_string(++opened_) + ":");
    }
    return *store_;
  }

  std::unique_ptr<SessionStore> store_;
  int opened_ = 0;
};

INSTANTIATE_TEST_SUITE_P(Stores, SessionStoreContractTest,
                         ::testing::Values(Backend::kMemory, Backend::kRedis),
                         testing::StoreBackendName);

TEST_P(SessionStoreContractTest, UnknownSessionLoadsAsNullopt) {
  SessionStore& store = Open();
  auto loaded = store.Load(Anon("acme"), "nope");
  ASSERT_TRUE(loaded.has_value());
  EXPECT_FALSE(loaded->has_value());
  EXPECT_EQ(store.ActiveSessions(), 0u);
}

TEST_F(SessionStoreTest, AppendCreatesTheSessionWithItsFirstTurn) {
  auto store = MakeStore();
  EXPECT_EQ(AppendOk(store, "acme", "s1", "How many customers are there?"), 1);
  auto s = LoadOk(store, "acme", "s1");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->tenant_id, "acme");
  EXPECT_EQ(s->id, "s1");
  EXPECT_EQ(s->turn_count, 1);
  ASSERT_EQ(s->turns.size(), 1u);
  EXPECT_EQ(s->turns[0].question, "How many customers are there?");
  EXPECT_EQ(s->turns[0].sql, "SELECT COUNT(*) AS count FROM customers");
  EXPECT_EQ(s->turns[0].query.from, "customers");
  EXPECT_EQ(s->turns[0].row_count, 1u);
  EXPECT_EQ(store.ActiveSessions(), 1u);
}

TEST_P(SessionStoreContractTest, TurnsAreNumberedFromOnePerSession) {
  SessionStore& store = Open();
  EXPECT_EQ(AppendOk(store, "acme", "a", "q1"), 1);
  EXPECT_EQ(AppendOk(store, "acme", "a", "q2"), 2);
  EXPECT_EQ(AppendOk(store, "acme", "b", "q1"), 1);
  EXPECT_EQ(AppendOk(store, "acme", "a", "q3"), 3);
  auto a = LoadOk(store, "acme", "a");
  ASSERT_TRUE(a.has_value());
  ASSERT_EQ(a->turns.size(), 3u);
  EXPECT_EQ(a->turns.front().question, "q1");
  EXPECT_EQ(a->turns.back().question, "q3");
}

TEST_P(SessionStoreContractTest, KeepsOnlyTheLastTenTurnsButKeepsCounting) {
  SessionStore& store = Open();
  for (int i = 1; i <= 13; ++i) EXPECT_EQ(AppendOk(store, "acme", "s", "q" + std::to_string(i)), i);
  auto s = LoadOk(store, "acme", "s");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->turn_count, 13);
  ASSERT_EQ(s->turns.size(), 10u);
  EXPECT_EQ(s->turns.front().question, "q4");
  EXPECT_EQ(s->turns.back().question, "q13");
}

TEST_P(SessionStoreContractTest, MaxTurnsIsConfigurable) {
  SessionStore& store = Open({.timeout = 30min, .max_sessions = 10, .max_turns = 2});
  for (int i = 1; i <= 5; ++i) AppendOk(store, "acme", "s", "q" + std::to_string(i));
  auto s = LoadOk(store, "acme", "s");
  ASSERT_TRUE(s.has_value());
  ASSERT_EQ(s->turns.size(), 2u);
  EXPECT_EQ(s->turns[0].question, "q4");
  EXPECT_EQ(s->turns[1].question, "q5");
}

TEST_F(SessionStoreTest, SessionExpiresAfterTheIdleTimeout) {
  auto store = MakeStore({.timeout = 30min});
  AppendOk(store, "acme", "s", "q1");
  clock_.Advance(30min - 1s);
  EXPECT_EQ(store.ActiveSessions(), 1u);
  clock_.Advance(1s);
  EXPECT_EQ(store.ActiveSessions(), 0u);
  auto s = LoadOk(store, "acme", "s");
  EXPECT_FALSE(s.has_value());
}

TEST_F(SessionStoreTest, AppendAfterExpiryStartsAgainAtTurnOne) {
  auto store = MakeStore({.timeout = 30min});
  AppendOk(store, "acme", "s", "q1");
  AppendOk(store, "acme", "s", "q2");
  clock_.Advance(31min);
  EXPECT_EQ(AppendOk(store, "acme", "s", "fresh"), 1);
  auto s = LoadOk(store, "acme", "s");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->turn_count, 1);
  ASSERT_EQ(s->turns.size(), 1u);
  EXPECT_EQ(s->turns[0].question, "fresh");
}

TEST_F(SessionStoreTest, LoadRefreshesExpiry) {
  auto store = MakeStore({.timeout = 30min});
  AppendOk(store, "acme", "s", "q1");
  clock_.Advance(20min);
  ASSERT_TRUE(LoadOk(store, "acme", "s").has_value());
  clock_.Advance(20min);  // 40 minutes after the append, 20 after the load
  ASSERT_TRUE(LoadOk(store, "acme", "s").has_value());
  clock_.Advance(29min);
  ASSERT_TRUE(LoadOk(store, "acme", "s").has_value());
  clock_.Advance(30min);
  EXPECT_FALSE(LoadOk(store, "acme", "s").has_value());
}

TEST_F(SessionStoreTest, AppendRefreshesExpiry) {
  auto store = MakeStore({.timeout = 30min});
  AppendOk(store, "acme", "s", "q1");
  clock_.Advance(25min);
  EXPECT_EQ(AppendOk(store, "acme", "s", "q2"), 2);
  clock_.Advance(25min);
  EXPECT_EQ(AppendOk(store, "acme", "s", "q3"), 3);
}

TEST_P(SessionStoreContractTest, TenantsCannotSeeOrRemoveEachOthersSessions) {
  SessionStore& store = Open();
  AppendOk(store, "tenant-a", "shared-id", "a1");
  AppendOk(store, "tenant-a", "shared-id", "a2");

  EXPECT_FALSE(LoadOk(store, "tenant-b", "shared-id").has_value());
  auto removed = store.Remove(Anon("tenant-b"), "shared-id");
  ASSERT_TRUE(removed.has_value());
  EXPECT_FALSE(*removed);
  ASSERT_TRUE(LoadOk(store, "tenant-a", "shared-id").has_value());

  // Tenant B using the same id gets a session of its own.
  EXPECT_EQ(AppendOk(store, "tenant-b", "shared-id", "b1"), 1);
  EXPECT_EQ(AppendOk(store, "tenant-a", "shared-id", "a3"), 3);
  auto b = LoadOk(store, "tenant-b", "shared-id");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->tenant_id, "tenant-b");
  ASSERT_EQ(b->turns.size(), 1u);
  EXPECT_EQ(b->turns[0].question, "b1");
  EXPECT_EQ(store.ActiveSessions(), 2u);
}

TEST_P(SessionStoreContractTest, TheSessionRecordsTheUserWhoStartedIt) {
  SessionStore& store = Open();
  const Owner alice{"acme", "alice"};
  EXPECT_EQ(AppendOk(store, alice, "s", "q1"), 1);
  EXPECT_EQ(AppendOk(store, alice, "s", "q2"), 2);
  AppendOk(store, "acme", "anonymous", "q");
  auto s = LoadOk(store, alice, "s");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->tenant_id, "acme");
  EXPECT_EQ(s->owner, "alice");
  EXPECT_EQ(s->turn_count, 2);
  auto anonymous = LoadOk(store, "acme", "anonymous");
  ASSERT_TRUE(anonymous.has_value());
  EXPECT_EQ(anonymous->owner, "");
}

// A colleague of the same tenant can neither load, continue nor remove alice's session; each
// refusal reads as for an unknown session and leaves the session as it was.
TEST_P(SessionStoreContractTest, AnotherUsersSessionIsNotFoundAndStaysUnchanged) {
  SessionStore& store = Open();
  const Owner alice{"acme", "alice"};
  const Owner carol{"acme", "carol"};
  AppendOk(store, alice, "s", "How many customers?");
  AppendOk(store, alice, "s", "only in Germany");

  for (const Owner& other : {carol, Anon("acme")}) {
    auto loaded = store.Load(other, "s");
    ASSERT_FALSE(loaded.has_value()) << other.user;
    EXPECT_EQ(loaded.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(loaded.error().message, NoSuchSession("s").message);
    EXPECT_EQ(loaded.error().message.find("alice"), std::string::npos);

    auto appended = store.Append(other, "s", MakeTurn("only in France"));
    ASSERT_FALSE(appended.has_value()) << other.user;
    EXPECT_EQ(appended.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(appended.error().message, NoSuchSession("s").message);

    auto removed = store.Remove(other, "s");
    ASSERT_TRUE(removed.has_value()) << removed.error().message;
    EXPECT_FALSE(*removed);
  }

  auto s = LoadOk(store, alice, "s");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->owner, "alice");
  EXPECT_EQ(s->turn_count, 2);
  ASSERT_EQ(s->turns.size(), 2u);
  EXPECT_EQ(s->turns.back().question, "only in Germany");
  EXPECT_EQ(store.ActiveSessions(), 1u);
  EXPECT_EQ(AppendOk(store, alice, "s", "only in France"), 3);
  // The same user name in another tenant is another owner: that tenant has no such session.
  EXPECT_FALSE(LoadOk(store, Owner{"globex", "alice"}, "s").has_value());
}

TEST_P(SessionStoreContractTest, LoadingAnotherUsersSessionDoesNotMarkItUsed) {
  SessionStore& store = Open();
  const Owner alice{"acme", "alice"};
  AppendOk(store, alice, "older", "q");
  clock_.Advance(1s);
  AppendOk(store, alice, "newer", "q");
  clock_.Advance(1s);
  EXPECT_FALSE(store.Load(Owner{"acme", "carol"}, "older").has_value());
  EXPECT_EQ(ListedIds(store, alice), (std::vector<std::string>{"newer", "older"}));
  ASSERT_TRUE(LoadOk(store, alice, "older").has_value());
  EXPECT_EQ(ListedIds(store, alice), (std::vector<std::string>{"older", "newer"}));
}

TEST_P(SessionStoreContractTest, ListShowsOnlyTheCallersOwnSessions) {
  SessionStore& store = Open();
  const Owner alice{"acme", "alice"};
  const Owner carol{"acme", "carol"};
  AppendOk(store, alice, "a1", "q");
  clock_.Advance(1s);
  AppendOk(store, carol, "c1", "q");
  clock_.Advance(1s);
  AppendOk(store, "acme", "n1", "q");  // the anonymous user's
  clock_.Advance(1s);
  AppendOk(store, alice, "a2", "q");
  clock_.Advance(1s);
  AppendOk(store, Owner{"globex", "alice"}, "g1", "q");  // another tenant's alice

  EXPECT_EQ(ListedIds(store, alice), (std::vector<std::string>{"a2", "a1"}));
  EXPECT_EQ(ListedIds(store, carol), std::vector<std::string>{"c1"});
  EXPECT_EQ(ListedIds(store, Anon("acme")), std::vector<std::string>{"n1"});
  EXPECT_EQ(ListedIds(store, Owner{"globex", "alice"}), std::vector<std::string>{"g1"});
  EXPECT_TRUE(ListedIds(store, Owner{"acme", "dave"}).empty());
  EXPECT_EQ(store.ActiveSessions(), 5u);
}

// max_sessions counts a tenant's sessions, whoever owns them.
TEST_P(SessionStoreContractTest, TheCapIsPerTenantWhateverTheOwner) {
  SessionStore& store = Open({.timeout = 30min, .max_sessions = 2});
  const Owner alice{"acme", "alice"};
  const Owner carol{"acme", "carol"};
  AppendOk(store, carol, "c1", "q");  // the tenant's least recently used
  clock_.Advance(1s);
  AppendOk(store, alice, "a1", "q");
  clock_.Advance(1s);
  EXPECT_EQ(AppendOk(store, alice, "a2", "q"), 1);
  EXPECT_TRUE(ListedIds(store, carol).empty());
  EXPECT_EQ(ListedIds(store, alice), (std::vector<std::string>{"a2", "a1"}));
  EXPECT_EQ(store.ActiveSessions(), 2u);
}

TEST_P(SessionStoreContractTest, TenantAndIdDoNotRunTogether) {
  SessionStore& store = Open();
  AppendOk(store, "ab", "c", "x");
  EXPECT_FALSE(LoadOk(store, "a", "bc").has_value());
  EXPECT_FALSE(LoadOk(store, "abc", "").has_value());
}

TEST_P(SessionStoreContractTest, RemoveDeletesOnlyOnce) {
  SessionStore& store = Open();
  AppendOk(store, "acme", "s", "q");
  auto first = store.Remove(Anon("acme"), "s");
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(*first);
  auto second = store.Remove(Anon("acme"), "s");
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(*second);
  EXPECT_FALSE(LoadOk(store, "acme", "s").has_value());
  EXPECT_EQ(AppendOk(store, "acme", "s", "again"), 1);
}

TEST_P(SessionStoreContractTest, FullStoreEvictsTheTenantsLeastRecentlyUsedSession) {
  SessionStore& store = Open({.timeout = 30min, .max_sessions = 3});
  AppendOk(store, "a", "a1", "q");
  clock_.Advance(1s);
  AppendOk(store, "a", "a2", "q");
  clock_.Advance(1s);
  AppendOk(store, "a", "a3", "q");
  clock_.Advance(1s);
  ASSERT_TRUE(LoadOk(store, "a", "a1").has_value());  // a1 is now the most recently used
  clock_.Advance(1s);

  EXPECT_EQ(AppendOk(store, "a", "a4", "q"), 1);
  EXPECT_EQ(store.ActiveSessions(), 3u);
  EXPECT_TRUE(LoadOk(store, "a", "a1").has_value());
  EXPECT_FALSE(LoadOk(store, "a", "a2").has_value());
  EXPECT_TRUE(LoadOk(store, "a", "a3").has_value());
  EXPECT_TRUE(LoadOk(store, "a", "a4").has_value());
}

TEST_P(SessionStoreContractTest, EvictionNeverTakesAnotherTenantsSession) {
  SessionStore& store = Open({.timeout = 30min, .max_sessions = 3});
  AppendOk(store, "b", "b1", "q");  // globally the least recently used
  clock_.Advance(1s);
  AppendOk(store, "a", "a1", "q");
  clock_.Advance(1s);
  AppendOk(store, "a", "a2", "q");
  clock_.Advance(1s);
  AppendOk(store, "a", "a3", "q");
  clock_.Advance(1s);

  EXPECT_EQ(AppendOk(store, "a", "a4", "q"), 1);
  EXPECT_EQ(store.ActiveSessions(), 4u);
  EXPECT_TRUE(LoadOk(store, "b", "b1").has_value());
  EXPECT_FALSE(LoadOk(store, "a", "a1").has_value());
  EXPECT_TRUE(LoadOk(store, "a", "a2").has_value());
  EXPECT_TRUE(LoadOk(store, "a", "a3").has_value());
  EXPECT_TRUE(LoadOk(store, "a", "a4").has_value());
}

TEST_P(SessionStoreContractTest, TheCapIsPerTenant) {
  SessionStore& store = Open({.timeout = 30min, .max_sessions = 2});
  AppendOk(store, "a", "a1", "q");
  clock_.Advance(1s);
  AppendOk(store, "a", "a2", "q");
  clock_.Advance(1s);
  // Tenant b has room of its own although a is at its cap.
  EXPECT_EQ(AppendOk(store, "b", "b1", "q"), 1);
  clock_.Advance(1s);
  EXPECT_EQ(AppendOk(store, "b", "b2", "q"), 1);
  EXPECT_EQ(store.ActiveSessions(), 4u);
  for (const char* id : {"a1", "a2"}) EXPECT_TRUE(LoadOk(store, "a", id).has_value()) << id;
  for (const char* id : {"b1", "b2"}) EXPECT_TRUE(LoadOk(store, "b", id).has_value()) << id;
  // Existing sessions keep working at the cap.
  EXPECT_EQ(AppendOk(store, "a", "a1", "q2"), 2);
  EXPECT_EQ(store.ActiveSessions(), 4u);
}

TEST_P(SessionStoreContractTest, EachTenantEvictsOnlyItsOwnAtItsCap) {
  SessionStore& store = Open({.timeout = 30min, .max_sessions = 2});
  for (const char* tenant : {"a", "b", "c"}) {
    AppendOk(store, tenant, "old", "q");
    clock_.Advance(1s);
    AppendOk(store, tenant, "mid", "q");
    clock_.Advance(1s);
  }
  AppendOk(store, "b", "new", "q");  // b's "old" goes
  EXPECT_EQ(store.ActiveSessions(), 6u);
  EXPECT_FALSE(LoadOk(store, "b", "old").has_value());
  EXPECT_TRUE(LoadOk(store, "b", "mid").has_value());
  EXPECT_TRUE(LoadOk(store, "b", "new").has_value());
  for (const char* tenant : {"a", "c"}) {
    EXPECT_TRUE(LoadOk(store, tenant, "old").has_value()) << tenant;
    EXPECT_TRUE(LoadOk(store, tenant, "mid").has_value()) << tenant;
  }
}

TEST_P(SessionStoreContractTest, ZeroMaxSessionsRefusesNewSessions) {
  SessionStore& store = Open({.timeout = 30min, .max_sessions = 0});
  auto refused = store.Append(Anon("a"), "a1", MakeTurn("q"));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(refused.error().message.empty());
  EXPECT_EQ(store.ActiveSessions(), 0u);
  EXPECT_FALSE(LoadOk(store, "a", "a1").has_value());
}

TEST_F(SessionStoreTest, ExpiredSessionsMakeRoomBeforeLiveOnesAreEvicted) {
  auto store = MakeStore({.timeout = 30min, .max_sessions = 2});
  AppendOk(store, "a", "a1", "q");
  clock_.Advance(20min);
  AppendOk(store, "a", "a2", "q");
  clock_.Advance(10min);  // a1 has expired, a2 has not
  EXPECT_EQ(AppendOk(store, "a", "a3", "q"), 1);
  EXPECT_EQ(store.ActiveSessions(), 2u);
  EXPECT_TRUE(LoadOk(store, "a", "a2").has_value());
  EXPECT_TRUE(LoadOk(store, "a", "a3").has_value());
  EXPECT_FALSE(LoadOk(store, "a", "a1").has_value());
}

TEST_P(SessionStoreContractTest, AppendStampsTheWallClockTime) {
  SessionStore& store = Open();
  const int64_t start_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
          .count();
  AppendOk(store, "acme", "s", "q1");
  auto s = LoadOk(store, "acme", "s");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->updated_at_ms, start_ms);
  clock_.Advance(90s);
  ASSERT_TRUE(LoadOk(store, "acme", "s").has_value());  // a load is no new turn
  AppendOk(store, "acme", "s", "q2");
  s = LoadOk(store, "acme", "s");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->updated_at_ms, start_ms + 90'000);
}

TEST_P(SessionStoreContractTest, ListShowsTheTenantsLiveSessionsMostRecentlyUsedFirst) {
  SessionStore& store = Open({.timeout = 30min});
  const int64_t start_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
          .count();
  auto turn = [](std::string question, std::string database) {
    Turn t = MakeTurn(std::move(question));
    t.database = std::move(database);
    return t;
  };
  ASSERT_TRUE(store.Append(Anon("acme"), "first", turn("How many customers?", "shop")));
  clock_.Advance(1s);
  ASSERT_TRUE(store.Append(Anon("acme"), "second", turn("Revenue by month?", "shop")));
  clock_.Advance(1s);
  ASSERT_TRUE(store.Append(Anon("acme"), "first", turn("And in Germany?", "crm")));
  clock_.Advance(1s);
  ASSERT_TRUE(store.Append(Anon("acme"), "third", turn("Top products?", "shop")));
  clock_.Advance(1s);
  ASSERT_TRUE(store.Append(Anon("other"), "theirs", turn("Not yours", "shop")));
  clock_.Advance(1s);
  ASSERT_TRUE(LoadOk(store, "acme", "second").has_value());  // used, not answered

  auto list = store.List(Anon("acme"));
  ASSERT_TRUE(list.has_value()) << list.error().message;
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].id, "second");
  EXPECT_EQ((*list)[1].id, "third");
  EXPECT_EQ((*list)[2].id, "first");
  EXPECT_EQ((*list)[0].turn_count, 1);
  EXPECT_EQ((*list)[0].last_question, "Revenue by month?");
  EXPECT_EQ((*list)[0].updated_at_ms, start_ms + 1000);
  EXPECT_EQ((*list)[2].turn_count, 2);
  EXPECT_EQ((*list)[2].last_question, "And in Germany?");
  EXPECT_EQ((*list)[2].database, "crm");
  EXPECT_EQ((*list)[2].updated_at_ms, start_ms + 2000);

  auto none = store.List(Anon("nobody"));
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

TEST_F(SessionStoreTest, ListLeavesOutExpiredSessions) {
  auto store = MakeStore({.timeout = 30min});
  AppendOk(store, "acme", "first", "q");
  clock_.Advance(2s);
  AppendOk(store, "acme", "second", "q");
  clock_.Advance(30min - 1s);  // "second" idle for 29:59, "first" for 30:01
  auto list = store.List(Anon("acme"));
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].id, "second");
}

TEST_F(SessionStoreTest, RemovingAnExpiredSessionRemovesNothing) {
  auto store = MakeStore({.timeout = 30min});
  AppendOk(store, "acme", "s", "q");
  clock_.Advance(30min);
  auto removed = store.Remove(Anon("acme"), "s");
  ASSERT_TRUE(removed.has_value());
  EXPECT_FALSE(*removed);
  EXPECT_EQ(store.Sweep(), 0u);  // already gone
}

TEST_F(SessionStoreTest, SweepRemovesOnlyExpiredSessions) {
  auto store = MakeStore({.timeout = 30min});
  AppendOk(store, "a", "old1", "q");
  AppendOk(store, "b", "old2", "q");
  clock_.Advance(20min);
  AppendOk(store, "a", "new", "q");
  clock_.Advance(10min);
  EXPECT_EQ(store.Sweep(), 2u);
  EXPECT_EQ(store.Sweep(), 0u);
  EXPECT_EQ(store.ActiveSessions(), 1u);
  EXPECT_TRUE(LoadOk(store, "a", "new").has_value());
  clock_.Advance(30min);
  EXPECT_EQ(store.Sweep(), 1u);
  EXPECT_EQ(store.ActiveSessions(), 0u);
}

TEST_F(SessionStoreTest, ConcurrentAppendsToOneSessionGetDistinctNumbers) {
  auto store = MakeStore({.timeout = 30min, .max_sessions = 100, .max_turns = 10});
  constexpr int kThreads = 8, kPerThread = 200;
  std::vector<std::vector<int>> numbers(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto n = store.Append(Anon("acme"), "shared", MakeTurn("q"));
        numbers[t].push_back(n ? *n : -1);
        // Other sessions and reads run at the same time.
        (void)store.Append(Anon("acme"), "own-" + std::to_string(t), MakeTurn("q"));
        (void)store.Load(Anon("acme"), "shared");
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<int> all;
  for (const auto& v : numbers) {
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));  // each thread sees its turns in order
    all.insert(all.end(), v.begin(), v.end());
  }
  std::sort(all.begin(), all.end());
  std::vector<int> expected(kThreads * kPerThread);
  std::iota(expected.begin(), expected.end(), 1);
  EXPECT_EQ(all, expected);
  auto s = LoadOk(store, "acme", "shared");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->turn_count, kThreads * kPerThread);
  EXPECT_EQ(s->turns.size(), 10u);
  for (int t = 0; t < kThreads; ++t) {
    auto own = LoadOk(store, "acme", "own-" + std::to_string(t));
    ASSERT_TRUE(own.has_value());
    EXPECT_EQ(own->turn_count, kPerThread);
  }
  EXPECT_EQ(store.ActiveSessions(), static_cast<size_t>(kThreads + 1));
}

}  // namespace
}  // namespace helios::conversation
