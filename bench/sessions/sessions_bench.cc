// helios-bench-sessions: how much memory a conversation costs. Fills one instance's real
// session store (MemorySessionStore, as the server builds it) with --sessions sessions of
// --turns turns each, every turn one the product's pipeline really stored for an answer on the
// demo database (turn_shapes.h), its text varied per session; reports the resident set and the
// heap before and after, bytes per session, the time to fill, and reads every session back.
// With --redis URL, the same into a RedisSessionStore, reporting Redis's used_memory per
// session. README.md in this directory says how to run it and what the figures mean.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/text.h"
#include "conversation/redis_session_store.h"
#include "conversation/session_store.h"
#include "memory_probe.h"
#include "redis/redis_client.h"
#include "sql/ir_json.h"
#include "turn_shapes.h"

namespace helios::bench {
namespace {

using Seconds = std::chrono::duration<double>;

struct Options {
  size_t sessions = 100'000;
  size_t turns = 10;
  size_t max_sessions = 0;  // 0: as many as --sessions (the limit a deployment would set)
  std::string order = "interleaved";
  std::string redis_url;
  size_t redis_threads = 4;
  bool keep_redis = false;
  bool skip_memory = false;
  std::string json_path;
};

// The owner every session belongs to: the server without authentication (one tenant, the
// anonymous user), as the demo runs. Ids are the server's own: NewUuid().
const conversation::Owner kOwner{"default", ""};

// Turn `t` (0-based) of session `s`: the harvested turn t (cycled past the conversation's
// length), stamped with a tag unique to (s, t).
conversation::Turn TurnOf(const std::vector<HarvestedTurn>& shapes, size_t s, size_t t,
                          size_t turns) {
  return Varied(shapes[t % shapes.size()].turn, static_cast<uint64_t>(s * turns + t));
}

// What a session read back must hold: its turn count, the kept window's first and last
// questions, and the last turn's query (the one a follow-up edits).
bool SessionIsIntact(const conversation::Session& session, const std::vector<HarvestedTurn>& shapes,
                     size_t s, size_t turns, size_t max_turns) {
  if (session.turn_count != static_cast<int>(turns)) return false;
  const size_t kept = std::min(turns, max_turns);
  if (session.turns.size() != kept) return false;
  const conversation::Turn last = TurnOf(shapes, s, turns - 1, turns);
  const conversation::Turn first = TurnOf(shapes, s, turns - kept, turns);
  const conversation::Turn& got_last = session.turns.back();
  return got_last.question == last.question && got_last.sql == last.sql &&
         got_last.row_count == last.row_count && got_last.query == last.query &&
         got_last.database == last.database && session.turns.front().question == first.question &&
         session.turns.front().sql == first.sql;
}

// Appends the turns of sessions [begin, end) in the chosen order: "interleaved" answers turn
// 1 of every session, then turn 2, ..., as a server does with many conversations going on at
// once (their allocations interleave); "sequential" fills one session after another.
// Returns the first error, counting the failed appends in `failures`.
std::optional<Error> Fill(conversation::SessionStore& store, const std::vector<std::string>& ids,
                          const std::vector<HarvestedTurn>& shapes, const Options& o, size_t begin,
                          size_t end, size_t stride, std::atomic<size_t>& failures) {
  std::optional<Error> first_error;
  auto append = [&](size_t s, size_t t) {
    auto r = store.Append(kOwner, ids[s], TurnOf(shapes, s, t, o.turns));
    if (!r) {
      ++failures;
      if (!first_error) first_error = r.error();
    }
  };
  if (o.order == "sequential") {
    for (size_t s = begin; s < end; s += stride)
      for (size_t t = 0; t < o.turns; ++t) append(s, t);
  } else {
    for (size_t t = 0; t < o.turns; ++t)
      for (size_t s = begin; s < end; s += stride) append(s, t);
  }
  return first_error;
}

void PrintShapes(const std::vector<HarvestedTurn>& shapes) {
  fmt::print("The turns stored (asked through the pipeline on the demo database):\n");
  fmt::print("{:>4}  {:<36} {:>8} {:>8} {:>6} {:>10} {:>10}\n", "turn", "question", "q bytes",
             "sql", "rows", "query json", "heap");
  for (size_t i = 0; i < shapes.size(); ++i) {
    const conversation::Turn& t = shapes[i].turn;
    fmt::print("{:>4}  {:<36} {:>8} {:>8} {:>6} {:>10} {:>10}\n", i + 1, t.question,
               t.question.size(), t.sql.size(), t.row_count,
               t.has_query ? sql::QueryToJson(t.query).dump().size() : 0, TurnHeapBytes(t));
  }
  conversation::Turn without_query = shapes.back().turn;
  without_query.query = sql::Query{};
  fmt::print(
      "sizeof(Turn) {} B, sizeof(sql::Query) {} B, sizeof(Session) {} B; the last turn's heap "
      "without its query: {} B\n\n",
      sizeof(conversation::Turn), sizeof(sql::Query), sizeof(conversation::Session),
      TurnHeapBytes(without_query));
}

nlohmann::json MemoryRun(const Options& o, const std::vector<HarvestedTurn>& shapes, bool& ok) {
  fmt::print(
      "== Memory store (MemorySessionStore): {} sessions x {} turns, {} order, "
      "max_sessions {} ==\n",
      Grouped(static_cast<long long>(o.sessions)), o.turns, o.order,
      Grouped(static_cast<long long>(o.max_sessions)));
  // The ids are the benchmark's, made before the first sample: the store holds copies.
  std::vector<std::string> ids;
  ids.reserve(o.sessions);
  for (size_t s = 0; s < o.sessions; ++s) ids.push_back(text::NewUuid());

  SystemClock clock;
  conversation::MemoryStoreOptions store_options;  // the server's: 30 minutes, 10 turns kept
  store_options.max_sessions = o.max_sessions;
  auto store = std::make_unique<conversation::MemorySessionStore>(clock, store_options);

  auto before = SampleMemory();
  if (!before) {
    fmt::print(stderr, "{}\n", before.error().message);
    ok = false;
    return {};
  }
  std::atomic<size_t> failures{0};
  const auto fill_start = std::chrono::steady_clock::now();
  auto error = Fill(*store, ids, shapes, o, 0, o.sessions, 1, failures);
  const double fill_s = Seconds(std::chrono::steady_clock::now() - fill_start).count();
  auto after = SampleMemory();
  if (!after) {
    fmt::print(stderr, "{}\n", after.error().message);
    ok = false;
    return {};
  }

  // Every session read back and compared with what was written.
  const auto check_start = std::chrono::steady_clock::now();
  size_t intact = 0;
  size_t present = 0;
  for (size_t s = 0; s < o.sessions; ++s) {
    auto loaded = store->Load(kOwner, ids[s]);
    if (!loaded || !*loaded) continue;
    ++present;
    if (SessionIsIntact(**loaded, shapes, s, o.turns, store_options.max_turns)) ++intact;
  }
  const double check_s = Seconds(std::chrono::steady_clock::now() - check_start).count();
  const size_t active = store->ActiveSessions();

  // The calls that walk a tenant's sessions hold the store's one mutex while they do, so every
  // question of every tenant waits for them: their time with the store full, the median of
  // five calls (a single one can be a time the thread lost its core).
  auto timed = [](auto&& call) {
    std::vector<double> ms;
    size_t n = 0;
    for (int i = 0; i < 5; ++i) {
      const auto start = std::chrono::steady_clock::now();
      n = call();
      ms.push_back(Seconds(std::chrono::steady_clock::now() - start).count() * 1e3);
    }
    std::sort(ms.begin(), ms.end());
    return std::make_pair(ms[ms.size() / 2], n);
  };
  const auto [list_own_ms, list_own_n] = timed([&] {
    auto r = store->List(kOwner);
    return r ? r->size() : 0;
  });
  const auto [list_other_ms, list_other_n] = timed([&] {
    auto r = store->List(conversation::Owner{kOwner.tenant_id, "someone-else"});
    return r ? r->size() : 0;
  });
  const auto [list_all_ms, list_all_n] = timed([&] {
    auto r = store->ListAll("", 100);
    return r ? r->size() : 0;
  });

  const long long rss_delta =
      static_cast<long long>(after->rss_bytes) - static_cast<long long>(before->rss_bytes);
  const long long heap_delta =
      static_cast<long long>(after->heap_bytes) - static_cast<long long>(before->heap_bytes);
  const double per_rss = static_cast<double>(rss_delta) / static_cast<double>(o.sessions);
  const double per_heap = static_cast<double>(heap_delta) / static_cast<double>(o.sessions);
  fmt::print("RSS   before {:>15} B, after {:>15} B: +{} B, {:.0f} B ({:.2f} KiB) per session\n",
             Grouped(static_cast<long long>(before->rss_bytes)),
             Grouped(static_cast<long long>(after->rss_bytes)), Grouped(rss_delta), per_rss,
             per_rss / 1024);
  fmt::print("heap  before {:>15} B, after {:>15} B: +{} B, {:.0f} B ({:.2f} KiB) per session\n",
             Grouped(static_cast<long long>(before->heap_bytes)),
             Grouped(static_cast<long long>(after->heap_bytes)), Grouped(heap_delta), per_heap,
             per_heap / 1024);
  fmt::print("fill  {:.2f} s for {} appends ({:.2f} us each); {} failed{}\n", fill_s,
             Grouped(static_cast<long long>(o.sessions * o.turns)),
             fill_s * 1e6 / static_cast<double>(o.sessions * o.turns), failures.load(),
             error ? ": " + error->message : "");
  fmt::print(
      "read  {} of {} sessions found, {} intact (all {} turns as written), "
      "ActiveSessions() = {}; {:.2f} s to read them all\n",
      Grouped(static_cast<long long>(present)), Grouped(static_cast<long long>(o.sessions)),
      Grouped(static_cast<long long>(intact)), o.turns, Grouped(static_cast<long long>(active)),
      check_s);
  fmt::print(
      "walks under the store's lock (median of 5): List(the owner of all) {:.2f} ms ({} "
      "sessions), List(another user of the tenant) {:.2f} ms ({}), ListAll(limit 100) {:.2f} "
      "ms ({})"
      "\n\n",
      list_own_ms, Grouped(static_cast<long long>(list_own_n)), list_other_ms, list_other_n,
      list_all_ms, list_all_n);
  // Past the limit sessions are evicted by design; the run fails only when none should be.
  if (o.max_sessions >= o.sessions && (intact != o.sessions || failures > 0)) ok = false;

  return nlohmann::json{{"sessions", o.sessions},
                        {"turns", o.turns},
                        {"order", o.order},
                        {"max_sessions", o.max_sessions},
                        {"rss_before", before->rss_bytes},
                        {"rss_after", after->rss_bytes},
                        {"rss_per_session", per_rss},
                        {"heap_before", before->heap_bytes},
                        {"heap_after", after->heap_bytes},
                        {"heap_per_session", per_heap},
                        {"fill_seconds", fill_s},
                        {"append_failures", failures.load()},
                        {"found", present},
                        {"intact", intact},
                        {"active", active},
                        {"list_own_ms", list_own_ms},
                        {"list_other_user_ms", list_other_ms},
                        {"list_all_100_ms", list_all_ms}};
}

std::optional<long long> UsedMemory(redis::Client& client) {
  auto info = client.Command({"INFO", "memory"});
  if (!info || info->is_error()) return std::nullopt;
  const std::string_view text = info->str;
  const std::string_view key = "used_memory:";
  const size_t at = text.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  return std::stoll(std::string(text.substr(at + key.size(), 24)));
}

// Deletes the run's keys (SCAN by its prefix, never KEYS); returns how many.
size_t DeleteKeys(redis::Client& client, const std::string& prefix) {
  size_t deleted = 0;
  std::string cursor = "0";
  do {
    auto page = client.Command({"SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000"});
    if (!page || page->type != redis::Reply::Type::kArray || page->elements.size() != 2) break;
    cursor = page->elements[0].str;
    std::vector<std::string> unlink{"UNLINK"};
    for (const redis::Reply& key : page->elements[1].elements) unlink.push_back(key.str);
    if (unlink.size() > 1) {
      auto r = client.Command(unlink);
      if (r && r->type == redis::Reply::Type::kInteger) deleted += static_cast<size_t>(r->integer);
    }
  } while (cursor != "0");
  return deleted;
}

nlohmann::json RedisRun(const Options& o, const std::vector<HarvestedTurn>& shapes, bool& ok) {
  fmt::print(
      "== Redis store (RedisSessionStore): {} sessions x {} turns, {} order, {} threads "
      "==\n",
      Grouped(static_cast<long long>(o.sessions)), o.turns, o.order, o.redis_threads);
  redis::ClientOptions client_options;
  client_options.pool_size = o.redis_threads + 1;
  client_options.command_timeout = std::chrono::seconds(10);
  auto client = redis::Client::Create(o.redis_url, client_options);
  if (!client) {
    fmt::print(stderr, "redis: {}\n", client.error().message);
    ok = false;
    return {};
  }
  if (auto ping = (*client)->Ping(); !ping) {
    fmt::print(stderr, "redis: {}\n", ping.error().message);
    ok = false;
    return {};
  }
  // A prefix of this run's own, so that a shared Redis keeps its other keys.
  const std::string prefix = fmt::format("helios-bench-sessions:{}:", static_cast<long>(getpid()));
  SystemClock clock;
  conversation::MemoryStoreOptions store_options;
  store_options.max_sessions = o.max_sessions;
  conversation::RedisSessionStore store(**client, clock, store_options, prefix);

  std::vector<std::string> ids;
  ids.reserve(o.sessions);
  for (size_t s = 0; s < o.sessions; ++s) ids.push_back(text::NewUuid());

  auto before = UsedMemory(**client);
  std::atomic<size_t> failures{0};
  std::mutex error_mu;
  std::optional<Error> first_error;
  const auto fill_start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (size_t k = 0; k < o.redis_threads; ++k) {
    threads.emplace_back([&, k] {
      auto e = Fill(store, ids, shapes, o, k, o.sessions, o.redis_threads, failures);
      std::lock_guard lock(error_mu);
      if (e && !first_error) first_error = e;
    });
  }
  for (std::thread& t : threads) t.join();
  const double fill_s = Seconds(std::chrono::steady_clock::now() - fill_start).count();
  auto after = UsedMemory(**client);
  if (!before || !after) {
    fmt::print(stderr, "redis: INFO memory could not be read\n");
    ok = false;
    return {};
  }

  // About 1,000 sessions, spread over all, read back through the store (each read is a round
  // trip).
  const size_t stride = std::max<size_t>(1, o.sessions / 1000);
  size_t checked = 0;
  size_t intact = 0;
  for (size_t s = 0; s < o.sessions; s += stride) {
    ++checked;
    auto loaded = store.Load(kOwner, ids[s]);
    if (loaded && *loaded && SessionIsIntact(**loaded, shapes, s, o.turns, store_options.max_turns))
      ++intact;
  }
  const size_t active = store.ActiveSessions();
  // One session's own keys, as Redis counts them.
  long long turns_key = 0;
  long long meta_key = 0;
  const auto keys = store.SessionKeys(kOwner.tenant_id, ids[0]);
  if (auto r = (*client)->Command({"MEMORY", "USAGE", keys[0], "SAMPLES", "0"}); r)
    turns_key = r->integer;
  if (auto r = (*client)->Command({"MEMORY", "USAGE", keys[1], "SAMPLES", "0"}); r)
    meta_key = r->integer;

  const long long delta = *after - *before;
  const double per = static_cast<double>(delta) / static_cast<double>(o.sessions);
  fmt::print(
      "used_memory before {:>15} B, after {:>15} B: +{} B, {:.0f} B ({:.2f} KiB) per "
      "session\n",
      Grouped(*before), Grouped(*after), Grouped(delta), per, per / 1024);
  fmt::print("one session's keys (MEMORY USAGE): turns LIST {} B, meta HASH {} B\n", turns_key,
             meta_key);
  fmt::print("fill  {:.2f} s for {} appends ({:.0f} appends/s over {} threads); {} failed{}\n",
             fill_s, Grouped(static_cast<long long>(o.sessions * o.turns)),
             static_cast<double>(o.sessions * o.turns) / fill_s, o.redis_threads, failures.load(),
             first_error ? ": " + first_error->message : "");
  fmt::print("read  {} of {} sampled sessions intact; ActiveSessions() = {}\n",
             Grouped(static_cast<long long>(intact)), Grouped(static_cast<long long>(checked)),
             Grouped(static_cast<long long>(active)));
  if (o.max_sessions >= o.sessions && (intact != checked || active != o.sessions || failures > 0))
    ok = false;
  if (!o.keep_redis) {
    fmt::print("deleted the run's {} keys\n",
               Grouped(static_cast<long long>(DeleteKeys(**client, prefix))));
  }
  fmt::print("\n");
  return nlohmann::json{{"sessions", o.sessions},
                        {"turns", o.turns},
                        {"order", o.order},
                        {"threads", o.redis_threads},
                        {"used_memory_before", *before},
                        {"used_memory_after", *after},
                        {"used_memory_per_session", per},
                        {"turns_key_bytes", turns_key},
                        {"meta_key_bytes", meta_key},
                        {"fill_seconds", fill_s},
                        {"append_failures", failures.load()},
                        {"sampled", checked},
                        {"intact", intact},
                        {"active", active}};
}

int Main(int argc, char** argv) {
  Options o;
  CLI::App cli{"Fills the session store with conversations and reports the memory they take."};
  cli.add_option("--sessions", o.sessions, "Sessions to fill")->check(CLI::PositiveNumber);
  cli.add_option("--turns", o.turns, "Turns per session")->check(CLI::PositiveNumber);
  cli.add_option("--max-sessions", o.max_sessions,
                 "The store's max_sessions ([session] max_concurrent_sessions); default: "
                 "--sessions");
  cli.add_option("--order", o.order, "interleaved (turn 1 of all, then turn 2...) or sequential")
      ->check(CLI::IsMember({"interleaved", "sequential"}));
  cli.add_option("--redis", o.redis_url, "Also fill a RedisSessionStore at this URL");
  cli.add_option("--redis-threads", o.redis_threads, "Threads appending to Redis")
      ->check(CLI::PositiveNumber);
  cli.add_flag("--keep-redis", o.keep_redis, "Leave the run's keys in Redis");
  cli.add_flag("--skip-memory", o.skip_memory, "Only the Redis store (with --redis)");
  cli.add_option("--json", o.json_path, "Also write the figures as JSON to this file");
  CLI11_PARSE(cli, argc, argv);
  if (o.max_sessions == 0) o.max_sessions = o.sessions;

  std::error_code ec;
  const std::filesystem::path work =
      std::filesystem::temp_directory_path(ec) /
      fmt::format("helios-bench-sessions-{}", static_cast<long>(getpid()));
  std::filesystem::create_directories(work, ec);
  if (ec) {
    fmt::print(stderr, "cannot create {}: {}\n", work.string(), ec.message());
    return 1;
  }
  auto shapes = HarvestTurns(work.string(), ConversationQuestions());
  std::filesystem::remove_all(work, ec);
  if (!shapes) {
    fmt::print(stderr, "harvesting the turns: {}\n", shapes.error().message);
    return 1;
  }
  PrintShapes(*shapes);

  bool ok = true;
  nlohmann::json report = nlohmann::json::object();
  if (!o.skip_memory) report["memory"] = MemoryRun(o, *shapes, ok);
  if (!o.redis_url.empty()) report["redis"] = RedisRun(o, *shapes, ok);
  if (!o.json_path.empty()) {
    std::ofstream out(o.json_path);
    out << report.dump(2) << "\n";
    if (!out) {
      fmt::print(stderr, "cannot write {}\n", o.json_path);
      return 1;
    }
  }
  if (!ok) fmt::print(stderr, "FAILED: a session was lost or an append failed (see above)\n");
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace helios::bench

int main(int argc, char** argv) { return helios::bench::Main(argc, argv); }
