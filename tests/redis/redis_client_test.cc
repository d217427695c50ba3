#include "redis/redis_client.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "support/test_databases.h"

namespace helios::redis {
namespace {

using std::chrono::milliseconds;
using Type = Reply::Type;

// The private server's URL with other credentials (or database).
std::string WithCredentials(const std::string& url, const std::string& userinfo, int db = 0) {
  auto parsed = ParseRedisUrl(url);
  EXPECT_TRUE(parsed.has_value());
  return fmt::format("redis://{}@127.0.0.1:{}/{}", userinfo, parsed->port, db);
}

std::string PasswordOf(const std::string& url) { return ParseRedisUrl(url)->password; }

std::unique_ptr<Client> MustCreate(const std::string& url, ClientOptions options = {}) {
  auto client = Client::Create(url, options);
  EXPECT_TRUE(client.has_value()) << client.error().message;
  return client ? std::move(*client) : nullptr;
}

// --- URLs -------------------------------------------------------------------------------------

TEST(ParseRedisUrlTest, ReadsEveryPart) {
  auto plain = ParseRedisUrl("redis://localhost");
  ASSERT_TRUE(plain.has_value()) << plain.error().message;
  EXPECT_EQ(plain->host, "localhost");
  EXPECT_EQ(plain->port, 6379);
  EXPECT_EQ(plain->database, 0);
  EXPECT_TRUE(plain->username.empty());
  EXPECT_TRUE(plain->password.empty());
  EXPECT_FALSE(plain->tls);

  auto full = ParseRedisUrl("redis://alice:s3cret@redis.internal:7000/5");
  ASSERT_TRUE(full.has_value()) << full.error().message;
  EXPECT_EQ(full->username, "alice");
  EXPECT_EQ(full->password, "s3cret");
  EXPECT_EQ(full->host, "redis.internal");
  EXPECT_EQ(full->port, 7000);
  EXPECT_EQ(full->database, 5);

  auto password_only = ParseRedisUrl("REDIS://:pw@10.0.0.1:6380/");
  ASSERT_TRUE(password_only.has_value()) << password_only.error().message;
  EXPECT_TRUE(password_only->username.empty());
  EXPECT_EQ(password_only->password, "pw");
  EXPECT_EQ(password_only->port, 6380);
  EXPECT_EQ(password_only->database, 0);
}

TEST(ParseRedisUrlTest, DecodesPercentEscapesInTheCredentials) {
  auto url = ParseRedisUrl("redis://us%65r:p%40ss%2Fw%3a%25rd@127.0.0.1/1");
  ASSERT_TRUE(url.has_value()) << url.error().message;
  EXPECT_EQ(url->username, "user");
  EXPECT_EQ(url->password, "p@ss/w:%rd");
  // An '@' left unescaped belongs to the password: the last one ends the credentials.
  auto raw = ParseRedisUrl("redis://:a@b/c@host:1234");
  ASSERT_TRUE(raw.has_value()) << raw.error().message;
  EXPECT_EQ(raw->password, "a@b/c");
  EXPECT_EQ(raw->host, "host");
  EXPECT_EQ(raw->port, 1234);
}

TEST(ParseRedisUrlTest, ReadsBracketedIpv6Hosts) {
  auto with_port = ParseRedisUrl("redis://:pw@[::1]:6390/2");
  ASSERT_TRUE(with_port.has_value()) << with_port.error().message;
  EXPECT_EQ(with_port->host, "::1");
  EXPECT_EQ(with_port->port, 6390);
  EXPECT_EQ(with_port->database, 2);
  auto bare = ParseRedisUrl("redis://[fe80::1]");
  ASSERT_TRUE(bare.has_value()) << bare.error().message;
  EXPECT_EQ(bare->host, "fe80::1");
  EXPECT_EQ(bare->port, 6379);
}

TEST(ParseRedisUrlTest, RedissSetsTls) {
  auto url = ParseRedisUrl("rediss://:pw@cache.example.com:6380/0");
  ASSERT_TRUE(url.has_value()) << url.error().message;
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->host, "cache.example.com");
}

TEST(ParseRedisUrlTest, RefusesBadUrlsWithoutShowingThePassword) {
  const std::vector<std::string> bad = {
      "http://:topsecret@host:6379",    // not redis
      "redis://:topsecret@host:port",   // port not a number
      "redis://:topsecret@host:0",      // port out of range
      "redis://:topsecret@host:70000",  // port out of range
      "redis://:topsecret@host:-1",     // port negative
      "redis://:topsecret@host/-1",     // negative database
      "redis://:topsecret@host/abc",    // database not a number
      "redis://:topsecret@host/1?x=y",  // trailing junk
      "redis://:topsecret@",            // no host
      "redis://:topsecret@:6379",       // no host
      "redis://topsecret@host",         // credentials without ':'
      "redis://:top%zzsecret@host",     // bad escape
      "redis://:topsecret%4@host",      // truncated escape
      "redis://:topsecret@[::1",        // unclosed bracket
      "redis://:topsecret@[::1]x",      // junk after bracket
      "redis://:topsecret@::1:6379",    // IPv6 without brackets
  };
  for (const std::string& url : bad) {
    auto parsed = ParseRedisUrl(url);
    ASSERT_FALSE(parsed.has_value()) << url;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << url;
    EXPECT_FALSE(parsed.error().message.empty()) << url;
    EXPECT_EQ(parsed.error().message.find("topsecret"), std::string::npos)
        << url << ": " << parsed.error().message;
    EXPECT_EQ(parsed.error().message.find("top%zz"), std::string::npos) << url;
  }
}

TEST(RedisClientCreateTest, RefusesTlsAndBadUrlsAndDoesNotConnect) {
  auto tls = Client::Create("rediss://:topsecret@127.0.0.1:6380/0");
  ASSERT_FALSE(tls.has_value());
  EXPECT_EQ(tls.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(tls.error().message.find("no TLS"), std::string::npos) << tls.error().message;
  EXPECT_EQ(tls.error().message.find("topsecret"), std::string::npos);

  auto bad = Client::Create("redis://:topsecret@host:nope");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);

  // Port 1 has no Redis: Create still succeeds (it does not connect); the first command fails.
  auto client = MustCreate("redis://:topsecret@127.0.0.1:1/3");
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->DisplayName(), "127.0.0.1:1/3");
  EXPECT_TRUE(client->Reachable());
  auto reply = client->Command({"PING"});
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(reply.error().message.find("Redis at 127.0.0.1:1 is unreachable"), std::string::npos)
      << reply.error().message;
  EXPECT_EQ(reply.error().message.find("topsecret"), std::string::npos);
  EXPECT_FALSE(client->Reachable());
}

TEST(RedisScriptTest, DigestIsTheLowercaseHexSha1OfTheSource) {
  EXPECT_EQ(Script("return 1").sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
  EXPECT_EQ(Script("return 1").source(), "return 1");
}

TEST(RedisReplyErrorTest, NamesTheContextAndTheRedisMessage) {
  Reply reply;
  reply.type = Type::kError;
  reply.str = "ERR something broke";
  Error e = ReplyError(reply, "session store");
  EXPECT_EQ(e.code, ErrorCode::kInternal);
  EXPECT_EQ(e.message, "session store: redis returned an error: ERR something broke");
  Reply odd;
  odd.type = Type::kInteger;
  EXPECT_EQ(ReplyError(odd, "").message, "redis returned an unexpected reply");
}

// --- Against a private Redis --------------------------------------------------------------------

TEST(RedisClientTest, SetAndGetAreBinarySafe) {
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url()) << redis.url().error().message;
  auto client = MustCreate(*redis.url());
  ASSERT_NE(client, nullptr);
  const std::string key("bin\0key", 7);
  const std::string value("a\0b\r\n\xff\x00z", 8);
  auto set = client->Command({"SET", key, value});
  ASSERT_TRUE(set.has_value()) << set.error().message;
  EXPECT_EQ(set->type, Type::kStatus);
  EXPECT_EQ(set->str, "OK");
  auto get = client->Command({"GET", key});
  ASSERT_TRUE(get.has_value()) << get.error().message;
  EXPECT_EQ(get->type, Type::kString);
  EXPECT_EQ(get->str, value);
  EXPECT_EQ(get->str.size(), 8u);
  // The key with its NUL is a different key from its prefix.
  auto prefix = client->Command({"GET", "bin"});
  ASSERT_TRUE(prefix.has_value());
  EXPECT_TRUE(prefix->is_nil());
  auto strlen = client->Command({"STRLEN", key});
  ASSERT_TRUE(strlen.has_value());
  EXPECT_EQ(strlen->type, Type::kInteger);
  EXPECT_EQ(strlen->integer, 8);
  ASSERT_TRUE(client->Command({"RPUSH", "list", "x", std::string("\0", 1), ""}).has_value());
  auto range = client->Command({"LRANGE", "list", "0", "-1"});
  ASSERT_TRUE(range.has_value());
  ASSERT_EQ(range->type, Type::kArray);
  ASSERT_EQ(range->elements.size(), 3u);
  EXPECT_EQ(range->elements[0].str, "x");
  EXPECT_EQ(range->elements[1].str, std::string("\0", 1));
  EXPECT_EQ(range->elements[2].str, "");
  EXPECT_EQ(range->elements[2].type, Type::kString);
  EXPECT_TRUE(client->Ping().has_value());
  EXPECT_TRUE(client->Reachable());
  EXPECT_EQ(client->DisplayName().find(PasswordOf(*redis.url())), std::string::npos);
}

TEST(RedisClientTest, ErrorRepliesAreRepliesNotFailures) {
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url()) << redis.url().error().message;
  auto client = MustCreate(*redis.url());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Command({"SET", "word", "hello"}).has_value());
  auto incr = client->Command({"INCR", "word"});
  ASSERT_TRUE(incr.has_value()) << incr.error().message;
  EXPECT_TRUE(incr->is_error());
  EXPECT_NE(incr->str.find("not an integer"), std::string::npos) << incr->str;
  auto unknown = client->Command({"NO-SUCH-COMMAND", "x"});
  ASSERT_TRUE(unknown.has_value()) << unknown.error().message;
  EXPECT_TRUE(unknown->is_error());
  EXPECT_TRUE(unknown->str.starts_with("ERR")) << unknown->str;
  // The connection is still good and Redis still counts as reachable.
  EXPECT_TRUE(client->Reachable());
  EXPECT_EQ(client->Command({"GET", "word"})->str, "hello");

  auto empty = client->Command({});
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);
}

TEST(RedisClientTest, AWrongPasswordIsAClearFailureWithoutThePassword) {
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url()) << redis.url().error().message;
  const std::string wrong = "not-the-password-4711";
  auto client = MustCreate(WithCredentials(*redis.url(), ":" + wrong));
  ASSERT_NE(client, nullptr);
  auto reply = client->Command({"PING"});
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(reply.error().message.find("refused the password"), std::string::npos)
      << reply.error().message;
  EXPECT_EQ(reply.error().message.find(wrong), std::string::npos) << reply.error().message;
  EXPECT_EQ(reply.error().message.find(PasswordOf(*redis.url())), std::string::npos);

  auto as_user = MustCreate(WithCredentials(*redis.url(), "default:" + wrong));
  ASSERT_NE(as_user, nullptr);
  auto user_reply = as_user->Command({"PING"});
  ASSERT_FALSE(user_reply.has_value());
  EXPECT_NE(user_reply.error().message.find("refused the credentials"), std::string::npos)
      << user_reply.error().message;
  EXPECT_EQ(user_reply.error().message.find(wrong), std::string::npos);

  // No password at all: Redis answers NOAUTH, an error reply.
  auto anonymous =
      MustCreate(fmt::format("redis://127.0.0.1:{}/0", ParseRedisUrl(*redis.url())->port));
  ASSERT_NE(anonymous, nullptr);
  auto noauth = anonymous->Command({"GET", "x"});
  ASSERT_TRUE(noauth.has_value()) << noauth.error().message;
  EXPECT_TRUE(noauth->is_error());
  EXPECT_TRUE(noauth->str.starts_with("NOAUTH")) << noauth->str;
}

TEST(RedisClientTest, AuthenticatesWithAUserNameAndSelectsTheDatabase) {
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url()) << redis.url().error().message;
  const std::string password = PasswordOf(*redis.url());
  auto db3 = MustCreate(WithCredentials(*redis.url(), "default:" + password, 3));
  auto db0 = MustCreate(*redis.url());
  ASSERT_NE(db3, nullptr);
  ASSERT_NE(db0, nullptr);
  auto set = db3->Command({"SET", "where", "three"});
  ASSERT_TRUE(set.has_value()) << set.error().message;
  EXPECT_EQ(set->str, "OK");
  EXPECT_EQ(db3->Command({"GET", "where"})->str, "three");
  EXPECT_TRUE(db0->Command({"GET", "where"})->is_nil());
  EXPECT_EQ(db3->DisplayName().substr(db3->DisplayName().size() - 2), "/3");
}

TEST(RedisClientTest, EvalLoadsTheScriptAndLoadsItAgainAfterAFlush) {
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url()) << redis.url().error().message;
  auto client = MustCreate(*redis.url());
  ASSERT_NE(client, nullptr);
  Script script(
      "redis.call('SET', KEYS[1], ARGV[1]) "
      "return {KEYS[1], redis.call('GET', KEYS[1]), tonumber(ARGV[2]) + 1}");
  auto exists = [&] {
    auto r = client->Command({"SCRIPT", "EXISTS", script.sha1()});
    EXPECT_TRUE(r.has_value() && r->type == Type::kArray && r->elements.size() == 1);
    return r->elements[0].integer == 1;
  };
  EXPECT_FALSE(exists());
  auto check = [&](const std::string& value) {
    auto reply = client->Eval(script, {"k"}, {value, "41"});
    ASSERT_TRUE(reply.has_value()) << reply.error().message;
    ASSERT_EQ(reply->type, Type::kArray) << reply->str;
    ASSERT_EQ(reply->elements.size(), 3u);
    EXPECT_EQ(reply->elements[0].str, "k");
    EXPECT_EQ(reply->elements[1].str, value);
    EXPECT_EQ(reply->elements[2].integer, 42);
  };
  check("first");
  EXPECT_TRUE(exists());
  // Redis computes the same digest as Script.
  auto loaded = client->Command({"SCRIPT", "LOAD", script.source()});
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->str, script.sha1());

  ASSERT_TRUE(client->Command({"SCRIPT", "FLUSH"}).has_value());
  EXPECT_FALSE(exists());
  check("second");
  EXPECT_TRUE(exists());

  // A script that does not compile comes back as Redis's error reply.
  auto broken = client->Eval(Script("return ("), {}, {});
  ASSERT_TRUE(broken.has_value()) << broken.error().message;
  EXPECT_TRUE(broken->is_error());
  // So does an error raised by the script.
  auto raised = client->Eval(Script("return redis.error_reply('MYERR custom')"), {}, {});
  ASSERT_TRUE(raised.has_value());
  EXPECT_TRUE(raised->is_error());
  EXPECT_EQ(raised->str, "MYERR custom");
}

TEST(RedisClientTest, PipelineRepliesComeInOrder) {
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url()) << redis.url().error().message;
  auto client = MustCreate(*redis.url());
  ASSERT_NE(client, nullptr);
  auto replies = client->Pipeline({{"SET", "n", "1"},
                                   {"INCR", "n"},
                                   {"HSET", "n", "f", "v"},  // wrong type: an error reply
                                   {"INCRBY", "n", "10"},
                                   {"GET", "n"},
                                   {"GET", "missing"}});
  ASSERT_TRUE(replies.has_value()) << replies.error().message;
  ASSERT_EQ(replies->size(), 6u);
  EXPECT_EQ((*replies)[0].str, "OK");
  EXPECT_EQ((*replies)[1].integer, 2);
  EXPECT_TRUE((*replies)[2].is_error());
  EXPECT_EQ((*replies)[3].integer, 12);
  EXPECT_EQ((*replies)[4].str, "12");
  EXPECT_TRUE((*replies)[5].is_nil());

  auto empty = client->Pipeline({});
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
  auto bad = client->Pipeline({{"PING"}, {}});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  // The connection is still in step after all that.
  EXPECT_EQ(client->Command({"GET", "n"})->str, "12");
}

TEST(RedisClientTest, StoppedRedisFailsFastAndIsNotReachable) {
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url()) << redis.url().error().message;
  FakeClock clock;
  ClientOptions options;
  options.command_timeout = milliseconds(3000);
  options.retry_after = milliseconds(1000);
  options.clock = &clock;
  auto client = MustCreate(*redis.url(), options);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Ping().has_value());
  ASSERT_TRUE(redis.Stop().has_value());

  const auto start = std::chrono::steady_clock::now();
  auto reply = client->Command({"GET", "x"});
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(reply.error().message.starts_with("Redis at 127.0.0.1:")) << reply.error().message;
  EXPECT_NE(reply.error().message.find("is unreachable ("), std::string::npos);
  EXPECT_EQ(reply.error().message.find(PasswordOf(*redis.url())), std::string::npos);
  EXPECT_FALSE(client->Reachable());
  // Further calls in the window fail at once, with the same explanation.
  for (int i = 0; i < 100; ++i) {
    auto again = client->Command({"GET", "x"});
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error().code, ErrorCode::kUnavailable);
  }
  EXPECT_EQ(client->Ping().error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(client->Pipeline({{"PING"}}).error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(client->Eval(Script("return 1"), {}, {}).error().code, ErrorCode::kUnavailable);
  // A closed port answers at once: nothing waited for the 3 s command time limit.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2000));
}

TEST(RedisClientTest, NoNewConnectionInsideRetryAfterAndRecoveryAfterARestart) {
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url()) << redis.url().error().message;
  FakeClock clock;
  ClientOptions options;
  options.pool_size = 4;
  options.command_timeout = milliseconds(3000);
  options.retry_after = milliseconds(1000);
  options.clock = &clock;
  auto client = MustCreate(*redis.url(), options);
  ASSERT_NE(client, nullptr);

  // Two pooled connections: one blocked in BLPOP while another asks who is connected.
  std::thread blocked([&] { EXPECT_TRUE(client->Command({"BLPOP", "q", "0.3"}).has_value()); });
  bool seen = false;
  for (int i = 0; i < 200 && !seen; ++i) {
    auto list = client->Command({"CLIENT", "LIST"});
    ASSERT_TRUE(list.has_value()) << list.error().message;
    seen = list->str.find("cmd=blpop") != std::string::npos;
    if (!seen) std::this_thread::sleep_for(milliseconds(5));
  }
  blocked.join();
  ASSERT_TRUE(seen);

  ASSERT_TRUE(redis.Stop().has_value());
  ASSERT_FALSE(client->Command({"PING"}).has_value());
  EXPECT_FALSE(client->Reachable());
  ASSERT_TRUE(redis.Start().has_value());

  // Redis is back, but inside retry_after the client does not try: it fails at once.
  auto inside = client->Command({"PING"});
  ASSERT_FALSE(inside.has_value());
  EXPECT_NE(inside.error().message.find("is unreachable"), std::string::npos);
  clock.Advance(milliseconds(999));
  EXPECT_FALSE(client->Command({"PING"}).has_value());
  EXPECT_FALSE(client->Reachable());

  // After it, a new connection is made; the pooled ones from before the restart are gone.
  clock.Advance(milliseconds(1));
  for (int i = 0; i < 5; ++i) {
    auto reply = client->Command({"INCR", "after-restart"});
    ASSERT_TRUE(reply.has_value()) << "call " << i << ": " << reply.error().message;
    EXPECT_EQ(reply->integer, i + 1);
  }
  EXPECT_TRUE(client->Reachable());
  EXPECT_TRUE(client->Ping().has_value());
}

TEST(RedisClientTest, ARestartWhileTheClientIsIdleCostsNoFailure) {
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url()) << redis.url().error().message;
  FakeClock clock;
  ClientOptions options;
  options.pool_size = 2;
  options.clock = &clock;
  auto client = MustCreate(*redis.url(), options);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Command({"SET", "k", "before"}).has_value());  // a pooled connection

  // Restarted between two commands: the pooled connection is dead, the server is alive.
  ASSERT_TRUE(redis.Stop().has_value());
  ASSERT_TRUE(redis.Start().has_value());

  auto reply = client->Command({"SET", "k", "after"});
  ASSERT_TRUE(reply.has_value()) << reply.error().message;
  EXPECT_TRUE(client->Reachable());
  auto got = client->Command({"GET", "k"});
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->str, "after");
}

TEST(RedisClientTest, ACommandOverTheTimeLimitFailsAndDiscardsItsConnection) {
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url()) << redis.url().error().message;
  FakeClock clock;
  ClientOptions options;
  options.pool_size = 1;
  options.command_timeout = milliseconds(200);
  options.retry_after = milliseconds(1000);
  options.clock = &clock;
  auto client = MustCreate(*redis.url(), options);
  ASSERT_NE(client, nullptr);
  // The server holds BLPOP for 5 s; the client gives up after 200 ms.
  const auto start = std::chrono::steady_clock::now();
  auto reply = client->Command({"BLPOP", "never", "5"});
  ASSERT_FALSE(reply.has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(4000));
  EXPECT_EQ(reply.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(reply.error().message.find("no answer within 200 ms"), std::string::npos)
      << reply.error().message;
  EXPECT_FALSE(client->Reachable());
  clock.Advance(milliseconds(1000));
  // A new connection: the old one may still deliver BLPOP's late reply, which would answer the
  // wrong command.
  ASSERT_TRUE(client->Command({"RPUSH", "never", "late"}).has_value());
  auto get = client->Command({"LRANGE", "never", "0", "-1"});
  ASSERT_TRUE(get.has_value()) << get.error().message;
  ASSERT_EQ(get->type, Type::kArray);
  ASSERT_EQ(get->elements.size(), 1u);
  EXPECT_EQ(get->elements[0].str, "late");
  EXPECT_TRUE(client->Reachable());
}

TEST(RedisClientTest, AFailedRetryStartsANewWindow) {
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url()) << redis.url().error().message;
  FakeClock clock;
  ClientOptions options;
  options.retry_after = milliseconds(500);
  options.clock = &clock;
  auto client = MustCreate(*redis.url(), options);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(redis.Stop().has_value());
  // The first failure, then a retry once the window is over, which fails too (still down).
  ASSERT_FALSE(client->Command({"PING"}).has_value());
  clock.Advance(milliseconds(500));
  auto retried = client->Command({"PING"});
  ASSERT_FALSE(retried.has_value());
  EXPECT_EQ(retried.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(client->Reachable());
  // That failed retry started a new window: Redis is back, yet nothing is tried for 500 ms.
  ASSERT_TRUE(redis.Start().has_value());
  EXPECT_FALSE(client->Command({"PING"}).has_value());
  clock.Advance(milliseconds(499));
  EXPECT_FALSE(client->Command({"PING"}).has_value());
  clock.Advance(milliseconds(1));
  auto back = client->Command({"PING"});
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(back->str, "PONG");
  EXPECT_TRUE(client->Reachable());
}

TEST(RedisClientTest, ALargeWriteToAStoppedRedisFailsInsteadOfRaisingSigpipe) {
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url()) << redis.url().error().message;
  ClientOptions options;
  options.command_timeout = milliseconds(3000);
  auto client = MustCreate(*redis.url(), options);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Ping().has_value());  // a pooled connection, about to be cut
  ASSERT_TRUE(redis.Stop().has_value());
  // Far more than a socket buffer: the writes go on after the server has reset the connection.
  const std::string big(32 << 20, 'x');
  auto reply = client->Pipeline({{"SET", "a", big}, {"SET", "b", big}});
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().code, ErrorCode::kUnavailable);
}

TEST(RedisClientTest, EightThreadsShareTwoConnections) {
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url()) << redis.url().error().message;
  ClientOptions options;
  options.pool_size = 2;
  options.command_timeout = milliseconds(5000);
  auto client = MustCreate(*redis.url(), options);
  ASSERT_NE(client, nullptr);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string key = fmt::format("t{}", t);
        const std::string value = fmt::format("{}-{}", t, i);
        auto set = client->Pipeline({{"SET", key, value}, {"GET", key}, {"INCR", "total"}});
        if (!set || (*set)[1].str != value) ++failures;
        auto eval = client->Eval(Script("return ARGV[1]"), {}, {value});
        if (!eval || eval->str != value) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(client->Command({"GET", "total"})->str, "1600");
  // No more than two connections were opened (the CLIENT LIST below is one of them).
  auto list = client->Command({"CLIENT", "LIST"});
  ASSERT_TRUE(list.has_value());
  size_t lines = 0;
  for (char c : list->str) lines += c == '\n';
  EXPECT_LE(lines, 2u) << list->str;
  EXPECT_GE(lines, 1u);
}

}  // namespace
}  // namespace helios::redis
