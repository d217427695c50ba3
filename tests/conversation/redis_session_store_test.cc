#include "conversation/redis_session_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "conversation/session_store.h"
#include "redis/redis_client.h"
#include "sql/ir.h"
#include "support/test_databases.h"

namespace helios::conversation {
namespace {

using namespace std::chrono_literals;
using sql::Aggregate;
using sql::ColumnRef;
using sql::CompareOp;
using sql::Expr;
using sql::TimeGrain;

int64_t UnixMs(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.Now().time_since_epoch())
      .count();
}

sql::Predicate Filter(Expr lhs, CompareOp op, std::vector<db::Value> values,
                      std::string phrase = "") {
  sql::Predicate p;
  p.lhs = std::move(lhs);
  p.op = op;
  p.values = std::move(values);
  p.phrase = std::move(phrase);
  return p;
}

// A turn as the built-in engine answers it: joins, filters with every kind of value, grouping,
// HAVING, ORDER BY and LIMIT.
Turn EngineTurn(int i) {
  Turn t;
  t.question = "Revenue by month of customers in Germany, question " + std::to_string(i);
  sql::Query& q = t.query;
  q.from = "orders";
  q.joins = {{"customers", {"orders", "customer_id"}, {"customers", "id"}},
             {"products", {"orders", "product_id"}, {"products", "id"}}};
  Expr month{Aggregate::kNone, ColumnRef{"orders", "ordered_at"}, TimeGrain::kMonth};
  q.select = {{month, "month"},
              {Expr::Agg(Aggregate::kSum, {"orders", "total"}), "revenue"},
              {Expr::CountStar(), "orders"}};
  auto country = Filter(Expr::Col({"customers", "country"}), CompareOp::kEq,
                        {std::string("Germany")}, "in Germany");
  country.case_insensitive = true;
  auto period = Filter(Expr::Col({"orders", "ordered_at"}), CompareOp::kRange,
                       {std::string("2024-01-01"), std::string("2025-01-01")}, "in 2024");
  auto excluded = Filter(Expr::Col({"products", "id"}), CompareOp::kIn,
                         {int64_t{9'007'199'254'740'993}, int64_t{-1}}, "not the samples");
  excluded.negated = true;
  auto odd = Filter(Expr::Col({"products", "price"}), CompareOp::kBetween,
                    {0.1, -0.0, db::Decimal{"1234.50"}, db::Blob{{0, 255}}, true, db::Value()});
  q.where = {country, period, excluded, odd};
  q.group_by = {month};
  q.having = {Filter(Expr::Agg(Aggregate::kSum, {"orders", "total"}), CompareOp::kGt,
                     {db::Decimal{"1000.00"}})};
  q.order_by = {{Expr::Agg(Aggregate::kSum, {"orders", "total"}), true}};
  q.limit = 10 + i;
  t.sql =
      "SELECT strftime('%Y-%m', orders.ordered_at) AS month, SUM(orders.total) AS revenue, "
      "COUNT(*) AS orders FROM orders JOIN customers ON orders.customer_id = customers.id "
      "JOIN products ON orders.product_id = products.id WHERE ... LIMIT " +
      std::to_string(10 + i);
  t.row_count = static_cast<size_t>(i);
  t.database = "shop";
  return t;
}

Turn LlmTurn(std::string question) {
  Turn t;
  t.question = std::move(question);
  t.has_query = false;
  t.sql = "SELECT name FROM products ORDER BY price DESC LIMIT 3";
  t.row_count = 3;
  t.database = "shop";
  return t;
}

void ExpectSameTurn(const Turn& got, const Turn& want) {
  EXPECT_EQ(got.question, want.question);
  EXPECT_EQ(got.query, want.query);
  EXPECT_EQ(got.sql, want.sql);
  EXPECT_EQ(got.row_count, want.row_count);
  EXPECT_EQ(got.has_query, want.has_query);
  EXPECT_EQ(got.database, want.database);
}

// The anonymous user of a tenant (as when authentication is off).
Owner Anon(std::string tenant) { return Owner{std::move(tenant), ""}; }

class RedisSessionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.url()) << redis_.url().error().message;
    raw_ = NewClient();
    ASSERT_NE(raw_, nullptr);
  }

  std::unique_ptr<redis::Client> NewClient(redis::ClientOptions options = {}) {
    auto client = redis::Client::Create(*redis_.url(), options);
    EXPECT_TRUE(client.has_value()) << client.error().message;
    return client ? std::move(*client) : nullptr;
  }

  // A command on the test's own connection, which must get an answer.
  redis::Reply Raw(const std::vector<std::string>& argv) {
    auto reply = raw_->Command(argv);
    EXPECT_TRUE(reply.has_value()) << reply.error().message;
    return reply ? *reply : redis::Reply{};
  }

  static std::optional<Session> LoadOk(SessionStore& store, const Owner& owner,
                                       const std::string& id) {
    auto loaded = store.Load(owner, id);
    EXPECT_TRUE(loaded.has_value()) << loaded.error().message;
    return loaded ? *loaded : std::nullopt;
  }
  static std::optional<Session> LoadOk(SessionStore& store, const std::string& tenant,
                                       const std::string& id) {
    return LoadOk(store, Anon(tenant), id);
  }
  static int AppendOk(SessionStore& store, const Owner& owner, const std::string& id, Turn turn) {
    auto n = store.Append(owner, id, std::move(turn));
    EXPECT_TRUE(n.has_value()) << n.error().message;
    return n ? *n : -1;
  }
  static int AppendOk(SessionStore& store, const std::string& tenant, const std::string& id,
                      Turn turn) {
    return AppendOk(store, Anon(tenant), id, std::move(turn));
  }
  static int AppendOk(SessionStore& store, const std::string& tenant, const std::string& id,
                      const std::string& question) {
    return AppendOk(store, tenant, id, LlmTurn(question));
  }
  static std::vector<std::string> ListedIds(SessionStore& store, const std::string& tenant) {
    auto list = store.List(Anon(tenant));
    EXPECT_TRUE(list.has_value()) << list.error().message;
    std::vector<std::string> ids;
    if (!list) return ids;
    for (const auto& s : *list) ids.push_back(s.id);
    return ids;
  }

  testing::ScopedRedis redis_;
  std::unique_ptr<redis::Client> raw_;
  FakeClock clock_;
};

TEST_F(RedisSessionStoreTest, EngineTurnsRoundTrip) {
  RedisSessionStore store(*raw_, clock_, {});
  std::vector<Turn> turns = {EngineTurn(1), LlmTurn("Top three products?"), EngineTurn(3)};
  turns[2].question = "Und in \xC3\x96sterreich? \xF0\x9F\x93\x88";  // any UTF-8
  for (size_t i = 0; i < turns.size(); ++i)
    EXPECT_EQ(AppendOk(store, "acme", "s1", turns[i]), static_cast<int>(i + 1));

  auto s = LoadOk(store, "acme", "s1");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->tenant_id, "acme");
  EXPECT_EQ(s->id, "s1");
  EXPECT_EQ(s->turn_count, 3);
  EXPECT_EQ(s->updated_at_ms, UnixMs(clock_));
  ASSERT_EQ(s->turns.size(), turns.size());
  // Only the latest turn keeps its query (a follow-up edits that one); older turns keep the
  // rest, their SQL included.
  for (size_t i = 0; i + 1 < turns.size(); ++i) {
    Turn want = turns[i];
    want.query = sql::Query{};
    ExpectSameTurn(s->turns[i], want);
  }
  ExpectSameTurn(s->turns.back(), turns.back());

  // A second instance reads the same.
  auto other_client = NewClient();
  RedisSessionStore other(*other_client, clock_, {});
  auto again = LoadOk(other, "acme", "s1");
  ASSERT_TRUE(again.has_value());
  ASSERT_EQ(again->turns.size(), 3u);
  EXPECT_EQ(again->turns[2].query, turns[2].query);
  EXPECT_FALSE(again->turns[2].query.from.empty());
}

TEST_F(RedisSessionStoreTest, KeepsTheLastTenTurnsAndNumberingContinues) {
  RedisSessionStore store(*raw_, clock_, {});
  for (int i = 1; i <= 13; ++i) EXPECT_EQ(AppendOk(store, "acme", "s", EngineTurn(i)), i);
  auto s = LoadOk(store, "acme", "s");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->turn_count, 13);
  ASSERT_EQ(s->turns.size(), 10u);
  Turn oldest = EngineTurn(4);
  oldest.query = sql::Query{};  // only the latest turn keeps its query
  ExpectSameTurn(s->turns.front(), oldest);
  ExpectSameTurn(s->turns.back(), EngineTurn(13));
  EXPECT_EQ(Raw({"LLEN", store.SessionKeys("acme", "s")[0]}).integer, 10);
  EXPECT_EQ(AppendOk(store, "acme", "s", "q14"), 14);
}

// Keys hold the tenant's length: no (tenant, id) pair shares keys with another, whatever
// characters they hold (the shared behaviour is in session_store_test.cc).
TEST_F(RedisSessionStoreTest, KeysOfDifferentTenantsAndIdsNeverCollide) {
  RedisSessionStore store(*raw_, clock_, {});
  AppendOk(store, "ab", "c", "x");
  AppendOk(store, "a", "b:c", "y");
  EXPECT_FALSE(LoadOk(store, "abc", "").has_value());
  auto ab = LoadOk(store, "ab", "c");
  ASSERT_TRUE(ab.has_value());
  ASSERT_EQ(ab->turns.size(), 1u);
  EXPECT_EQ(ab->turns[0].question, "x");
  auto a = LoadOk(store, "a", "b:c");
  ASSERT_TRUE(a.has_value());
  ASSERT_EQ(a->turns.size(), 1u);
  EXPECT_EQ(a->turns[0].question, "y");
  EXPECT_NE(store.SessionKeys("ab", "c")[0], store.SessionKeys("a", "b:c")[0]);
}

// The owner is a field of the session's HASH, written by the append that creates the session.
TEST_F(RedisSessionStoreTest, TheOwnerIsKeptInTheSessionsHash) {
  RedisSessionStore store(*raw_, clock_, {});
  const Owner alice{"acme", "alice"};
  AppendOk(store, alice, "s", LlmTurn("q1"));
  const auto keys = store.SessionKeys("acme", "s");
  EXPECT_EQ(Raw({"HGET", keys[1], "owner"}).str, "alice");
  AppendOk(store, alice, "s", LlmTurn("q2"));
  EXPECT_EQ(Raw({"HGET", keys[1], "owner"}).str, "alice");

  // Another user's load and append touch nothing: no turn, no new time of last use.
  const std::string used_at = Raw({"ZSCORE", keys[2], "s"}).str;
  clock_.Advance(5s);
  const Owner carol{"acme", "carol"};
  EXPECT_EQ(store.Load(carol, "s").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store.Append(carol, "s", LlmTurn("mine now")).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(Raw({"ZSCORE", keys[2], "s"}).str, used_at);
  EXPECT_EQ(Raw({"LLEN", keys[0]}).integer, 2);
  EXPECT_EQ(Raw({"HGET", keys[1], "turn_count"}).str, "2");
  EXPECT_EQ(Raw({"HGET", keys[1], "owner"}).str, "alice");
  EXPECT_EQ(Raw({"HGET", keys[1], "last_question"}).str, "q2");
}

// A session written before owners were recorded has no owner field: it is the anonymous
// user's (a server without authentication), and named users find nothing.
TEST_F(RedisSessionStoreTest, ASessionWithoutAnOwnerFieldBelongsToTheAnonymousUser) {
  RedisSessionStore store(*raw_, clock_, {});
  AppendOk(store, "acme", "old", "q1");
  const auto keys = store.SessionKeys("acme", "old");
  ASSERT_EQ(Raw({"HDEL", keys[1], "owner"}).integer, 1);

  auto anonymous = LoadOk(store, "acme", "old");
  ASSERT_TRUE(anonymous.has_value());
  EXPECT_EQ(anonymous->owner, "");
  EXPECT_EQ(ListedIds(store, "acme"), std::vector<std::string>{"old"});
  const Owner alice{"acme", "alice"};
  EXPECT_EQ(store.Load(alice, "old").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store.Append(alice, "old", LlmTurn("q")).error().code, ErrorCode::kNotFound);
  auto list = store.List(alice);
  ASSERT_TRUE(list.has_value());
  EXPECT_TRUE(list->empty());
  auto removed = store.Remove(alice, "old");
  ASSERT_TRUE(removed.has_value());
  EXPECT_FALSE(*removed);

  EXPECT_EQ(AppendOk(store, "acme", "old", "q2"), 2);
  EXPECT_EQ(Raw({"HEXISTS", keys[1], "owner"}).integer, 0);  // an owner is never added later
  auto removed_by_owner = store.Remove(Anon("acme"), "old");
  ASSERT_TRUE(removed_by_owner.has_value());
  EXPECT_TRUE(*removed_by_owner);
}

TEST_F(RedisSessionStoreTest, EvictsTheTenantsLeastRecentlyUsedAcrossInstances) {
  auto client1 = NewClient();
  auto client2 = NewClient();
  MemoryStoreOptions options{.timeout = 30min, .max_sessions = 3, .max_turns = 10};
  RedisSessionStore one(*client1, clock_, options);
  RedisSessionStore two(*client2, clock_, options);

  AppendOk(one, "b", "b1", "q");  // globally the least recently used
  clock_.Advance(1s);
  AppendOk(two, "b", "b2", "q");
  clock_.Advance(1s);
  AppendOk(one, "a", "a1", "q");
  clock_.Advance(1s);
  AppendOk(two, "a", "a2", "q");
  clock_.Advance(1s);
  AppendOk(one, "a", "a3", "q");
  clock_.Advance(1s);
  ASSERT_TRUE(LoadOk(two, "a", "a1").has_value());  // a1 is now the most recently used
  clock_.Advance(1s);

  EXPECT_EQ(AppendOk(two, "a", "a4", "q"), 1);
  EXPECT_FALSE(LoadOk(one, "a", "a2").has_value());
  const auto a2_keys = one.SessionKeys("a", "a2");
  EXPECT_EQ(Raw({"EXISTS", a2_keys[0], a2_keys[1]}).integer, 0);  // its LIST and HASH
  EXPECT_EQ(ListedIds(one, "a"), (std::vector<std::string>{"a4", "a1", "a3"}));
  EXPECT_TRUE(LoadOk(one, "b", "b1").has_value());
  clock_.Advance(1s);
  EXPECT_TRUE(LoadOk(two, "b", "b2").has_value());
  EXPECT_EQ(one.ActiveSessions(), 5u);

  // Tenant a at its cap again: its least recently used (a3) goes, b's stay.
  clock_.Advance(1s);
  EXPECT_EQ(AppendOk(one, "a", "a5", "q"), 1);
  EXPECT_EQ(ListedIds(two, "a"), (std::vector<std::string>{"a5", "a4", "a1"}));
  EXPECT_EQ(ListedIds(two, "b"), (std::vector<std::string>{"b2", "b1"}));
  EXPECT_EQ(two.ActiveSessions(), 5u);
}

TEST_F(RedisSessionStoreTest, IdleSessionsExpireThroughRedisTtls) {
  SystemClock clock;
  RedisSessionStore store(*raw_, clock, {.timeout = 1000ms, .max_sessions = 10, .max_turns = 10});
  AppendOk(store, "acme", "kept", "q");
  AppendOk(store, "acme", "idle", "q");
  for (const auto& key : store.SessionKeys("acme", "idle")) {
    int64_t ttl = Raw({"PTTL", key}).integer;
    EXPECT_GT(ttl, 0) << key;
    EXPECT_LE(ttl, 1000) << key;
  }
  std::this_thread::sleep_for(600ms);
  ASSERT_TRUE(LoadOk(store, "acme", "kept").has_value());  // a load refreshes every TTL
  EXPECT_GT(Raw({"PTTL", store.SessionKeys("acme", "kept")[0]}).integer, 900);
  std::this_thread::sleep_for(600ms);

  // "idle" expired in Redis; its id is still in the tenant's index until List meets it.
  const std::string index = store.SessionKeys("acme", "idle")[2];
  EXPECT_EQ(Raw({"ZCARD", index}).integer, 2);
  EXPECT_EQ(ListedIds(store, "acme"), std::vector<std::string>{"kept"});
  EXPECT_EQ(Raw({"ZCARD", index}).integer, 1);
  EXPECT_EQ(store.ActiveSessions(), 1u);
  EXPECT_FALSE(LoadOk(store, "acme", "idle").has_value());
  ASSERT_TRUE(LoadOk(store, "acme", "kept").has_value());

  std::this_thread::sleep_for(1100ms);
  EXPECT_FALSE(LoadOk(store, "acme", "kept").has_value());
  EXPECT_TRUE(ListedIds(store, "acme").empty());
  EXPECT_EQ(store.ActiveSessions(), 0u);
  EXPECT_TRUE(Raw({"KEYS", "*"}).elements.empty());  // nothing left behind
  EXPECT_EQ(AppendOk(store, "acme", "kept", "again"), 1);
}

TEST_F(RedisSessionStoreTest, ConcurrentAppendsFromTwoInstancesGetEveryNumberOnce) {
  auto client1 = NewClient();
  auto client2 = NewClient();
  RedisSessionStore one(*client1, clock_, {});
  RedisSessionStore two(*client2, clock_, {});
  constexpr int kThreads = 4, kPerThread = 50;
  std::vector<std::vector<int>> numbers(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      RedisSessionStore& store = t % 2 == 0 ? one : two;
      for (int i = 0; i < kPerThread; ++i) {
        auto n = store.Append(Anon("acme"), "shared", EngineTurn(i));
        numbers[t].push_back(n ? *n : -1);
        (void)store.Load(Anon("acme"), "shared");
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<int> all;
  for (const auto& v : numbers) {
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
    all.insert(all.end(), v.begin(), v.end());
  }
  std::sort(all.begin(), all.end());
  std::vector<int> expected(kThreads * kPerThread);
  std::iota(expected.begin(), expected.end(), 1);
  EXPECT_EQ(all, expected);
  auto s = LoadOk(one, "acme", "shared");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->turn_count, kThreads * kPerThread);
  EXPECT_EQ(s->turns.size(), 10u);
}

TEST_F(RedisSessionStoreTest, UnreadableStoredTurnIsAnInternalError) {
  RedisSessionStore store(*raw_, clock_, {});
  AppendOk(store, "acme", "s", "q");
  Raw({"RPUSH", store.SessionKeys("acme", "s")[0], "{\"question\": 5}"});
  auto loaded = store.Load(Anon("acme"), "s");
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code, ErrorCode::kInternal);
  EXPECT_NE(loaded.error().message.find("unreadable"), std::string::npos) << loaded.error().message;
}

TEST_F(RedisSessionStoreTest, RedisDownIsUnavailable) {
  redis::ClientOptions options;
  options.connect_timeout = 200ms;
  options.command_timeout = 200ms;
  auto client = NewClient(options);
  RedisSessionStore store(*client, clock_, {});
  AppendOk(store, "acme", "s", "q");
  EXPECT_EQ(store.ActiveSessions(), 1u);
  ASSERT_TRUE(redis_.Stop());

  auto appended = store.Append(Anon("acme"), "s", LlmTurn("q2"));
  ASSERT_FALSE(appended.has_value());
  EXPECT_EQ(appended.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(appended.error().message.find("Redis"), std::string::npos) << appended.error().message;
  auto loaded = store.Load(Anon("acme"), "s");
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code, ErrorCode::kUnavailable);
  auto listed = store.List(Anon("acme"));
  ASSERT_FALSE(listed.has_value());
  EXPECT_EQ(listed.error().code, ErrorCode::kUnavailable);
  auto removed = store.Remove(Anon("acme"), "s");
  ASSERT_FALSE(removed.has_value());
  EXPECT_EQ(removed.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(store.ActiveSessions(), 1u);  // the last count read
}

// ---------------------------------------------------------------------------------------------
// FailoverSessionStore

struct Switch {
  bool shared_ok;
  std::string error;
};

TEST_F(RedisSessionStoreTest, FailoverAnswersFromMemoryWhileRedisIsDown) {
  redis::ClientOptions options;
  options.connect_timeout = 200ms;
  options.command_timeout = 200ms;
  options.retry_after = 100ms;
  auto client = NewClient(options);
  SystemClock clock;
  RedisSessionStore shared(*client, clock, {});
  MemorySessionStore local(clock, {});
  std::vector<Switch> switches;
  FailoverSessionStore store(shared, local, [&](bool ok, const Error* error) {
    switches.push_back({ok, error != nullptr ? error->message : ""});
  });

  EXPECT_EQ(AppendOk(store, "acme", "s", EngineTurn(1)), 1);
  EXPECT_EQ(AppendOk(store, "acme", "s", EngineTurn(2)), 2);
  EXPECT_TRUE(switches.empty());
  EXPECT_EQ(store.ActiveSessions(), 1u);
  auto in_memory = LoadOk(local, "acme", "s");  // written through
  ASSERT_TRUE(in_memory.has_value());
  EXPECT_EQ(in_memory->turn_count, 2);

  ASSERT_TRUE(redis_.Stop());
  EXPECT_EQ(AppendOk(store, "acme", "s", EngineTurn(3)), 3);  // from memory
  ASSERT_EQ(switches.size(), 1u);
  EXPECT_FALSE(switches[0].shared_ok);
  EXPECT_NE(switches[0].error.find("Redis"), std::string::npos) << switches[0].error;
  EXPECT_FALSE(store.shared_ok());

  auto s = LoadOk(store, "acme", "s");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->turn_count, 3);
  ASSERT_EQ(s->turns.size(), 3u);
  ExpectSameTurn(s->turns[2], EngineTurn(3));
  EXPECT_EQ(ListedIds(store, "acme"), std::vector<std::string>{"s"});
  EXPECT_EQ(AppendOk(store, "acme", "new", "during the outage"), 1);
  EXPECT_EQ(store.ActiveSessions(), 2u);
  auto removed = store.Remove(Anon("acme"), "new");
  ASSERT_TRUE(removed.has_value());
  EXPECT_TRUE(*removed);
  EXPECT_EQ(switches.size(), 1u);  // once per switch

  ASSERT_TRUE(redis_.Start());         // an empty Redis: the test server keeps nothing on disk
  std::this_thread::sleep_for(150ms);  // past retry_after
  EXPECT_EQ(AppendOk(store, "acme", "t", "after the outage"), 1);
  ASSERT_EQ(switches.size(), 2u);
  EXPECT_TRUE(switches[1].shared_ok);
  EXPECT_TRUE(switches[1].error.empty());
  EXPECT_TRUE(store.shared_ok());
  EXPECT_EQ(ListedIds(store, "acme"), std::vector<std::string>{"t"});  // Redis's view again
  EXPECT_EQ(store.ActiveSessions(), 1u);
  EXPECT_EQ(switches.size(), 2u);
}

// A shared store that fails on demand.
class FlakyStore final : public SessionStore {
 public:
  explicit FlakyStore(const Clock& clock) : inner_(clock, {}) {}
  std::optional<Error> failure;

  Result<std::optional<Session>> Load(const Owner& o, const std::string& id) override {
    if (failure) return std::unexpected(*failure);
    return inner_.Load(o, id);
  }
  Result<int> Append(const Owner& o, const std::string& id, Turn turn) override {
    if (failure) return std::unexpected(*failure);
    return inner_.Append(o, id, std::move(turn));
  }
  Result<bool> Remove(const Owner& o, const std::string& id) override {
    if (failure) return std::unexpected(*failure);
    return inner_.Remove(o, id);
  }
  Result<std::vector<SessionSummary>> List(const Owner& o) override {
    if (failure) return std::unexpected(*failure);
    return inner_.List(o);
  }
  size_t ActiveSessions() override { return inner_.ActiveSessions(); }
  Result<std::vector<SessionInfo>> ListAll(const std::string& tenant, size_t limit) override {
    if (failure) return std::unexpected(*failure);
    return inner_.ListAll(tenant, limit);
  }
  Result<size_t> RemoveAny(const std::string& tenant, const std::string& id) override {
    if (failure) return std::unexpected(*failure);
    return inner_.RemoveAny(tenant, id);
  }

 private:
  MemorySessionStore inner_;
};

TEST(FailoverSessionStoreTest, OnlyUnavailableFallsBackAndEachSwitchIsReportedOnce) {
  FakeClock clock;
  FlakyStore shared(clock);
  MemorySessionStore local(clock, {});
  std::vector<bool> switches;
  FailoverSessionStore store(shared, local, [&](bool ok, const Error*) { switches.push_back(ok); });

  ASSERT_EQ(store.Append(Anon("acme"), "s", LlmTurn("q1")).value_or(-1), 1);

  shared.failure = Error(ErrorCode::kInternal, "a bug");
  auto failed = store.Append(Anon("acme"), "s", LlmTurn("q2"));
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code, ErrorCode::kInternal);
  EXPECT_FALSE(store.Load(Anon("acme"), "s").has_value());
  EXPECT_TRUE(switches.empty());
  auto in_memory = local.Load(Anon("acme"), "s");
  ASSERT_TRUE(in_memory.has_value() && in_memory->has_value());
  EXPECT_EQ((*in_memory)->turn_count, 1);  // the failed turn is nowhere

  shared.failure = Error(ErrorCode::kUnavailable, "down");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(store.Append(Anon("acme"), "s", LlmTurn("q")).value_or(-1), 2 + i);
    EXPECT_TRUE(store.Load(Anon("acme"), "s").has_value());
    EXPECT_TRUE(store.List(Anon("acme")).has_value());
  }
  EXPECT_EQ(switches, std::vector<bool>{false});
  EXPECT_EQ(store.Sweep(), 0u);
  clock.Advance(31min);
  EXPECT_EQ(store.Sweep(), 1u);  // the local store's

  shared.failure.reset();
  EXPECT_TRUE(store.List(Anon("acme")).has_value());
  EXPECT_TRUE(store.Load(Anon("acme"), "s").has_value());
  EXPECT_EQ(switches, (std::vector<bool>{false, true}));
}

// ---------------------------------------------------------------------------------------------
// Size of a session with 10 engine turns, printed for the report (not asserted).

size_t Heap(const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; }
size_t Heap(const ColumnRef& c) { return Heap(c.table) + Heap(c.column); }
size_t Heap(const Expr& e) { return e.column ? Heap(*e.column) : 0; }
size_t Heap(const db::Value& v) {
  if (auto* s = std::get_if<std::string>(&v)) return Heap(*s);
  if (auto* b = std::get_if<db::Blob>(&v)) return b->bytes.capacity();
  if (auto* d = std::get_if<db::Decimal>(&v)) return Heap(d->digits);
  return 0;
}
size_t Heap(const sql::Predicate& p);
size_t Heap(const sql::Join& j);
size_t Heap(const sql::SelectItem& s);
size_t Heap(const sql::OrderItem& o);
template <typename T>
size_t HeapOfVector(const std::vector<T>& v) {
  size_t n = v.capacity() * sizeof(T);
  for (const auto& item : v) n += Heap(item);
  return n;
}
size_t Heap(const sql::Predicate& p) {
  return Heap(p.lhs) + HeapOfVector(p.values) + Heap(p.phrase);
}
size_t Heap(const sql::Join& j) { return Heap(j.table) + Heap(j.left) + Heap(j.right); }
size_t Heap(const sql::SelectItem& s) { return Heap(s.expr) + Heap(s.alias); }
size_t Heap(const sql::OrderItem& o) { return Heap(o.expr); }
size_t Heap(const sql::Query& q) {
  return Heap(q.from) + HeapOfVector(q.joins) + HeapOfVector(q.select) + HeapOfVector(q.where) +
         HeapOfVector(q.group_by) + HeapOfVector(q.having) + HeapOfVector(q.order_by);
}
size_t Heap(const Turn& t) {
  return Heap(t.question) + Heap(t.query) + Heap(t.sql) + Heap(t.database);
}

TEST_F(RedisSessionStoreTest, PrintsTheBytesOfASessionWithTenEngineTurns) {
  RedisSessionStore store(*raw_, clock_, {});
  for (int i = 1; i <= 10; ++i) AppendOk(store, "acme", "measured", EngineTurn(i));
  auto keys = store.SessionKeys("acme", "measured");
  int64_t turns_bytes = Raw({"MEMORY", "USAGE", keys[0], "SAMPLES", "0"}).integer;
  int64_t meta_bytes = Raw({"MEMORY", "USAGE", keys[1], "SAMPLES", "0"}).integer;
  int64_t index_bytes = Raw({"MEMORY", "USAGE", keys[2], "SAMPLES", "0"}).integer;
  int64_t active_bytes = Raw({"MEMORY", "USAGE", keys[3], "SAMPLES", "0"}).integer;
  int64_t json_bytes = 0;
  for (const auto& item : Raw({"LRANGE", keys[0], "0", "-1"}).elements)
    json_bytes += static_cast<int64_t>(item.str.size());
  EXPECT_GT(turns_bytes, json_bytes);  // the list holds the JSON text

  auto session = LoadOk(store, "acme", "measured");
  ASSERT_TRUE(session.has_value());
  ASSERT_EQ(session->turns.size(), 10u);
  // The memory store's share: the Session, its turns (libstdc++'s deque fits one Turn per
  // block), their heap strings and IR vectors, and the index entries (a list node, a hash node
  // with the id as key).
  size_t memory = sizeof(Session) + Heap(session->id) + Heap(session->tenant_id);
  for (const Turn& t : session->turns) memory += sizeof(Turn) + Heap(t);
  memory += 2 * sizeof(void*) + sizeof(std::chrono::steady_clock::time_point);  // list node
  memory += sizeof(void*) + sizeof(size_t) + sizeof(std::string) + Heap(session->id) +
            sizeof(void*);  // hash node: next, cached hash, key, iterator

  std::cout << "sizeof(Turn) = " << sizeof(Turn) << ", sizeof(sql::Query) = " << sizeof(sql::Query)
            << ", sizeof(db::Value) = " << sizeof(db::Value) << "\n"
            << "Redis, one session with 10 engine turns: turns LIST " << turns_bytes
            << " B (JSON text " << json_bytes << " B), meta HASH " << meta_bytes
            << " B; per tenant index ZSET " << index_bytes << " B, global ZSET " << active_bytes
            << " B (both shared with other sessions)\n"
            << "Memory, the same session: about " << memory << " B (without allocator overhead)\n";
  RecordProperty("redis_session_bytes", std::to_string(turns_bytes + meta_bytes));
  RecordProperty("memory_session_bytes", std::to_string(memory));
}

}  // namespace
}  // namespace helios::conversation
