// MemorySessionStore::ListAll with a limit: it walks each tenant's sessions only as far as the
// limit needs (the list is in last-use order), and must still answer exactly what sorting every
// live session and cutting at the limit answers, ties in expiry at the cut included.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/clock.h"
#include "conversation/session_store.h"

namespace helios::conversation {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> Keys(const std::vector<SessionInfo>& infos) {
  std::vector<std::string> out;
  for (const SessionInfo& s : infos) out.push_back(s.tenant_id + "/" + s.id);
  return out;
}

std::vector<SessionInfo> ListAllOk(MemorySessionStore& store, const std::string& tenant,
                                   size_t limit) {
  auto listed = store.ListAll(tenant, limit);
  EXPECT_TRUE(listed.has_value()) << listed.error().message;
  return listed ? *listed : std::vector<SessionInfo>{};
}

class ListAllLimitTest : public ::testing::Test {
 protected:
  // 300 sessions over three tenants, each created at its own millisecond (so no two share
  // updated_at_ms), then used again in a random order with the clock moving by 0, 0.3 or
  // 0.7 ms between uses: many sessions share an expiry millisecond, and some a last use.
  void SetUp() override {
    std::mt19937 rng(42);
    for (int i = 0; i < kSessions; ++i) {
      clock_.Advance(1ms);
      Turn turn;
      turn.question = "question " + std::to_string(i);
      auto appended = store_.Append(Owner{Tenant(i), "u"}, "s" + std::to_string(i), turn);
      ASSERT_TRUE(appended) << appended.error().message;
    }
    for (int j = 0; j < kSessions; ++j) {
      const int step = static_cast<int>(rng() % 3);
      clock_.Advance(step == 0 ? 0us : step == 1 ? 300us : 700us);
      const int i = static_cast<int>(rng() % kSessions);
      auto loaded = store_.Load(Owner{Tenant(i), "u"}, "s" + std::to_string(i));
      ASSERT_TRUE(loaded && *loaded);
    }
    clock_.Advance(250us);
  }

  static std::string Tenant(int i) { return "t" + std::to_string(i % 3); }

  static constexpr int kSessions = 300;
  FakeClock clock_;
  MemorySessionStore store_{
      clock_, MemoryStoreOptions{.timeout = 30min, .max_sessions = 1000, .max_turns = 10}};
};

TEST_F(ListAllLimitTest, AnswersWhatSortingEverySessionAndCuttingAnswers) {
  for (const std::string tenant : {"", "t0", "t1", "t2"}) {
    const std::vector<SessionInfo> all =
        ListAllOk(store_, tenant, std::numeric_limits<size_t>::max());
    ASSERT_EQ(all.size(), tenant.empty() ? 300u : 100u);
    // The expected order: latest expiry first, then latest update; nothing ties on both.
    size_t expiry_ties = 0;
    for (size_t i = 1; i < all.size(); ++i) {
      ASSERT_GE(all[i - 1].expires_at_ms, all[i].expires_at_ms);
      if (all[i - 1].expires_at_ms == all[i].expires_at_ms) {
        ++expiry_ties;
        ASSERT_GT(all[i - 1].updated_at_ms, all[i].updated_at_ms);
      }
    }
    EXPECT_GT(expiry_ties, all.size() / 10)
        << "the set-up should make sessions share an expiry millisecond";

    const std::vector<std::string> all_keys = Keys(all);
    for (size_t limit : {0, 1, 2, 5, 17, 33, 50, 99, 100, 101, 150, 299, 300, 1000}) {
      const std::vector<SessionInfo> cut = ListAllOk(store_, tenant, limit);
      const std::vector<std::string> want(
          all_keys.begin(), all_keys.begin() + static_cast<long>(std::min(limit, all.size())));
      EXPECT_EQ(Keys(cut), want) << "tenant '" << tenant << "', limit " << limit;
    }
  }
}

TEST_F(ListAllLimitTest, LeavesExpiredSessionsOutWhateverTheLimit) {
  const std::vector<SessionInfo> all = ListAllOk(store_, "", 1000);
  ASSERT_EQ(all.size(), 300u);
  const int64_t wall_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
          .count();
  // Move to the middle of the sessions' expiry times: about half of them expire.
  const int64_t wait_ms = all[all.size() / 2].expires_at_ms - wall_ms;
  clock_.Advance(std::chrono::milliseconds(wait_ms));
  const std::vector<SessionInfo> live = ListAllOk(store_, "", 1000);
  std::vector<std::string> want;
  for (const SessionInfo& s : all) {
    const int64_t remaining = s.expires_at_ms - wall_ms;  // truncated to the millisecond
    if (remaining > wait_ms) want.push_back(s.tenant_id + "/" + s.id);
  }
  ASSERT_GT(want.size(), 50u);
  ASSERT_LT(want.size(), 250u);
  // Those with time left are listed in the same order, those out of time are not; those that
  // ran out within this very millisecond may go either way.
  const std::vector<std::string> got = Keys(live);
  ASSERT_GE(got.size(), want.size());
  EXPECT_EQ(std::vector<std::string>(got.begin(), got.begin() + static_cast<long>(want.size())),
            want);
  for (size_t i = want.size(); i < got.size(); ++i) {
    EXPECT_EQ(live[i].expires_at_ms, wall_ms + wait_ms) << got[i];
  }
  for (size_t limit : {1, 3, 40}) {
    EXPECT_EQ(Keys(ListAllOk(store_, "", limit)),
              std::vector<std::string>(got.begin(), got.begin() + static_cast<long>(limit)));
  }
}

}  // namespace
}  // namespace helios::conversation
