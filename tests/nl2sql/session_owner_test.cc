// Sessions belong to the user who started them: through the QueryService the server calls (the
// SourceRouter over the demo database's pipeline), another user of the same tenant can neither
// read, continue, end, mark nor list them, and gets the answer an unknown session gets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "conversation/session_store.h"
#include "db/data_source.h"
#include "nl2sql/demo_environment.h"
#include "nl2sql/examples/example_store.h"
#include "nl2sql/faulty_source.h"
#include "nl2sql/pipeline.h"
#include "nl2sql/router.h"
#include "nl2sql/service.h"

namespace helios::nl2sql {
namespace {

using ::testing::HasSubstr;

class SessionOwnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DemoEnvironment& env = DemoEnvironment::Get();
    ASSERT_TRUE(env.ok()) << "demo database: " << env.error();
    source_ = std::make_unique<FaultySource>(env.source());
    store_ = std::make_unique<conversation::MemorySessionStore>(env.clock(),
                                                                conversation::MemoryStoreOptions{});
    examples_ = std::make_unique<examples::ExampleStore>(env.clock());
    PipelineOptions options;
    options.examples = examples_.get();
    pipeline_ = std::make_unique<Pipeline>(*source_, env.engine(), *store_, env.clock(), options);
    router_ = std::make_unique<SourceRouter>(std::vector<Pipeline*>{pipeline_.get()}, *store_);
  }

  QueryService& service() { return *router_; }

  static AskRequest Request(const Caller& who, std::string question, std::string session) {
    AskRequest r;
    r.tenant_id = who.tenant_id;
    r.user = who.user;
    r.question = std::move(question);
    r.session_id = std::move(session);
    return r;
  }

  Answer AskOk(const Caller& who, const std::string& question, const std::string& session) {
    auto answer = service().Ask(Request(who, question, session));
    EXPECT_TRUE(answer.has_value()) << question << ": " << answer.error().message;
    return answer ? *answer : Answer{};
  }

  static std::vector<std::string> Ids(const Result<std::vector<SessionListItem>>& listed) {
    EXPECT_TRUE(listed.has_value()) << listed.error().message;
    std::vector<std::string> ids;
    if (listed) {
      for (const SessionListItem& item : *listed) ids.push_back(item.session_id);
    }
    return ids;
  }

  const Caller alice_{"acme", "alice"};
  const Caller carol_{"acme", "carol"};  // alice's colleague: same tenant, another user
  std::unique_ptr<FaultySource> source_;
  std::unique_ptr<conversation::MemorySessionStore> store_;
  std::unique_ptr<examples::ExampleStore> examples_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<SourceRouter> router_;
};

TEST_F(SessionOwnerTest, AColleagueFindsNothingOfAnotherUsersSession) {
  const std::string id = AskOk(alice_, "How many customers are in Germany?", "").session_id;
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(AskOk(alice_, "only in France", id).turn, 2);
  const std::string not_found = conversation::NoSuchSession(id).message;
  // What anyone gets for an id that does not exist.
  auto unknown = service().GetSession(alice_, "no-such-session");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(unknown.error().message, conversation::NoSuchSession("no-such-session").message);

  auto loaded = service().GetSession(carol_, id);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(loaded.error().message, not_found);

  // Continuing it is refused before the question runs, whichever way the router picks the
  // pipeline (from the session, or from the database the request names).
  const int executes = source_->executes;
  auto continued = service().Ask(Request(carol_, "only in Germany", id));
  ASSERT_FALSE(continued.has_value());
  EXPECT_EQ(continued.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(continued.error().message, not_found);
  AskRequest named = Request(carol_, "only in Germany", id);
  named.database = pipeline_->database_name();
  auto continued_named = service().Ask(named);
  ASSERT_FALSE(continued_named.has_value());
  EXPECT_EQ(continued_named.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(continued_named.error().message, not_found);
  EXPECT_EQ(source_->executes, executes);

  auto marked = service().MarkCorrect(carol_, id, 1);
  ASSERT_FALSE(marked.has_value());
  EXPECT_EQ(marked.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(marked.error().message, not_found);
  EXPECT_EQ(examples_->Size(), 0u);

  auto ended = service().EndSession(carol_, id);
  ASSERT_FALSE(ended.has_value());
  EXPECT_EQ(ended.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(ended.error().message, not_found);

  EXPECT_TRUE(Ids(service().ListSessions(carol_)).empty());
  EXPECT_EQ(Ids(service().ListSessions(alice_)), std::vector<std::string>{id});

  // Alice's conversation is as she left it, and goes on.
  auto mine = service().GetSession(alice_, id);
  ASSERT_TRUE(mine.has_value()) << mine.error().message;
  EXPECT_EQ(mine->turn_count, 2);
  ASSERT_EQ(mine->turns.size(), 2u);
  EXPECT_EQ(mine->turns[0].question, "How many customers are in Germany?");
  EXPECT_EQ(mine->turns[1].question, "only in France");
  Answer third = AskOk(alice_, "how many customers are there", id);
  EXPECT_EQ(third.turn, 3);
  ASSERT_TRUE(service().MarkCorrect(alice_, id, 1).has_value());
  EXPECT_EQ(examples_->Size(), 1u);
  ASSERT_TRUE(service().EndSession(alice_, id).has_value());
  EXPECT_EQ(service().GetSession(alice_, id).error().code, ErrorCode::kNotFound);
}

TEST_F(SessionOwnerTest, AnUnknownSessionIdStillStartsASessionOfThatIdForTheAsker) {
  Answer first = AskOk(carol_, "How many products are there?", "carols-own");
  EXPECT_EQ(first.session_id, "carols-own");
  EXPECT_EQ(first.turn, 1);
  EXPECT_EQ(AskOk(carol_, "How many customers are there?", "carols-own").turn, 2);
  EXPECT_EQ(Ids(service().ListSessions(carol_)), std::vector<std::string>{"carols-own"});
  EXPECT_TRUE(Ids(service().ListSessions(alice_)).empty());
  auto theirs = service().Ask(Request(alice_, "How many customers are there?", "carols-own"));
  ASSERT_FALSE(theirs.has_value());
  EXPECT_EQ(theirs.error().code, ErrorCode::kNotFound);
}

TEST_F(SessionOwnerTest, ListsShowEachUserOnlyTheirOwnSessions) {
  const std::string a1 = AskOk(alice_, "How many customers are there?", "").session_id;
  const std::string c1 = AskOk(carol_, "How many products are there?", "").session_id;
  const std::string a2 = AskOk(alice_, "How many orders are there?", "").session_id;
  const Caller anonymous{"acme", ""};
  const std::string n1 = AskOk(anonymous, "How many employees are there?", "").session_id;

  auto alices = service().ListSessions(alice_);
  ASSERT_TRUE(alices.has_value());
  ASSERT_EQ(alices->size(), 2u);
  EXPECT_EQ((*alices)[0].session_id, a2);
  EXPECT_THAT((*alices)[0].last_question, HasSubstr("orders"));
  EXPECT_EQ((*alices)[1].session_id, a1);
  EXPECT_EQ(Ids(service().ListSessions(carol_)), std::vector<std::string>{c1});
  EXPECT_EQ(Ids(service().ListSessions(anonymous)), std::vector<std::string>{n1});
  // The same user name in another tenant is somebody else.
  EXPECT_TRUE(Ids(service().ListSessions(Caller{"globex", "alice"})).empty());
}

}  // namespace
}  // namespace helios::nl2sql
