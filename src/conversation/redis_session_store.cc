#include "conversation/redis_session_store.h"

#include <fmt/format.h>

#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

#include "sql/ir_json.h"

namespace helios::conversation {
namespace {

using nlohmann::json;

// The scripts take every key they name up front (KEYS) except those of the sessions they evict
// or find expired, which they build from the prefixes in ARGV: Redis Cluster would need all of
// a tenant's keys in one slot, which this layout does not promise (it targets one Redis).
//
// The meta HASH's "owner" field is the user who created the session, written by the append
// that creates it and never afterwards. A session written before owners were recorded has no
// such field and belongs to "" (`owner or ''` in the scripts): the anonymous user of a server
// without authentication, who went on seeing those sessions; named users do not.

// KEYS: turns, meta, tenant index, active. ARGV: turn JSON (without its query), max turns, now
// ms, timeout ms, max sessions, question, database, session id, turns prefix, meta prefix,
// member prefix, expiry ms, the turn's query JSON (only the latest turn's query is kept: a
// follow-up edits that one), owner. Returns the new turn's number, or 0, having written
// nothing, when the session belongs to another owner.
const redis::Script& AppendScript() {
  static const redis::Script script(R"lua(
local id = ARGV[8]
local ttl = ARGV[4]
local existing = redis.call('HMGET', KEYS[2], 'turn_count', 'owner')
if existing[1] then
  if (existing[2] or '') ~= ARGV[14] then return 0 end
else
  redis.call('HSET', KEYS[2], 'owner', ARGV[14], 'created_at_ms', ARGV[3])
end
redis.call('RPUSH', KEYS[1], ARGV[1])
local keep = tonumber(ARGV[2])
if keep > 0 then
  redis.call('LTRIM', KEYS[1], -keep, -1)
else
  redis.call('DEL', KEYS[1])
end
local n = redis.call('HINCRBY', KEYS[2], 'turn_count', 1)
redis.call('HSET', KEYS[2], 'updated_at_ms', ARGV[3], 'last_question', ARGV[6],
           'database', ARGV[7], 'query', ARGV[13])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('ZADD', KEYS[3], ARGV[3], id)
redis.call('PEXPIRE', KEYS[3], ttl)
redis.call('ZADD', KEYS[4], ARGV[12], ARGV[11] .. id)
redis.call('PEXPIRE', KEYS[4], ttl)
local excess = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[5])
if excess > 0 then
  for _, victim in ipairs(redis.call('ZRANGE', KEYS[3], 0, excess)) do
    if excess == 0 then break end
    if victim ~= id then
      redis.call('ZREM', KEYS[3], victim)
      redis.call('DEL', ARGV[9] .. victim, ARGV[10] .. victim)
      redis.call('ZREM', KEYS[4], ARGV[11] .. victim)
      excess = excess - 1
    end
  end
end
return n
)lua");
  return script;
}

// KEYS: turns, meta, tenant index, active. ARGV: now ms, timeout ms, session id, member,
// expiry ms, owner. Returns nil, 0 for another owner's session (left untouched), or
// {turn_count, updated_at_ms, {turn JSON...}, latest query JSON}.
const redis::Script& LoadScript() {
  static const redis::Script script(R"lua(
local meta = redis.call('HMGET', KEYS[2], 'turn_count', 'updated_at_ms', 'query', 'owner')
if not meta[1] then
  redis.call('ZREM', KEYS[3], ARGV[3])
  redis.call('ZREM', KEYS[4], ARGV[4])
  return false
end
if (meta[4] or '') ~= ARGV[6] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[1], ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[4])
redis.call('PEXPIRE', KEYS[4], ARGV[2])
return {meta[1], meta[2] or '0', redis.call('LRANGE', KEYS[1], 0, -1), meta[3] or ''}
)lua");
  return script;
}

// KEYS: turns, meta, tenant index, active. ARGV: session id, member, owner. Returns the keys
// deleted: 0 for another owner's session, which stays.
const redis::Script& RemoveScript() {
  static const redis::Script script(R"lua(
local meta = redis.call('HMGET', KEYS[2], 'turn_count', 'owner')
if meta[1] and (meta[2] or '') ~= ARGV[3] then return 0 end
local n = redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[2])
return n
)lua");
  return script;
}

// KEYS: tenant index, active. ARGV: meta prefix, member prefix, owner. Returns {id, turn_count,
// updated_at_ms, last_question, database, ...} of the owner's sessions, most recently used
// first; drops the ids (any owner's) whose session expired.
const redis::Script& ListScript() {
  static const redis::Script script(R"lua(
local out = {}
for _, id in ipairs(redis.call('ZREVRANGE', KEYS[1], 0, -1)) do
  local m = redis.call('HMGET', ARGV[1] .. id, 'turn_count', 'updated_at_ms', 'last_question',
                       'database', 'owner')
  if not m[1] then
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZREM', KEYS[2], ARGV[2] .. id)
  elseif (m[5] or '') == ARGV[3] then
    out[#out + 1] = id
    out[#out + 1] = m[1]
    out[#out + 1] = m[2] or '0'
    out[#out + 1] = m[3] or ''
    out[#out + 1] = m[4] or ''
  end
end
return out
)lua");
  return script;
}

// KEYS: turns, meta, tenant index, active. ARGV: session id, member. An administrator's
// removal, whoever owns the session. Returns 1 when the session existed.
const redis::Script& RemoveAnyScript() {
  static const redis::Script script(R"lua(
local existed = redis.call('EXISTS', KEYS[2])
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[2])
return existed
)lua");
  return script;
}

// A member of the ZSET of every session, "<tenant length>:<tenant>:<id>", split again.
std::optional<std::pair<std::string, std::string>> SplitMember(std::string_view member) {
  const size_t colon = member.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  size_t length = 0;
  auto [end, ec] = std::from_chars(member.data(), member.data() + colon, length);
  if (ec != std::errc() || end != member.data() + colon || colon == 0) return std::nullopt;
  const std::string_view rest = member.substr(colon + 1);
  if (rest.size() < length + 1 || rest[length] != ':') return std::nullopt;
  return std::make_pair(std::string(rest.substr(0, length)), std::string(rest.substr(length + 1)));
}

// A SCAN MATCH pattern matching `text` literally.
std::string GlobLiteral(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::unexpected<Error> Unavailable(const Error& e, std::string_view what) {
  return Fail(ErrorCode::kUnavailable,
              fmt::format("The shared session store (Redis) could not {}: {}", what, e.message));
}

std::unexpected<Error> Refused(const redis::Reply& r, std::string_view what) {
  return Fail(ErrorCode::kUnavailable,
              fmt::format("The shared session store (Redis) refused to {}: {}", what, r.str));
}

std::unexpected<Error> Unreadable(std::string_view what) {
  return Fail(ErrorCode::kInternal,
              fmt::format("A conversation stored in Redis is unreadable ({}).", what));
}

template <typename Int>
std::optional<Int> ParseInt(std::string_view s) {
  Int n{};
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return n;
}

// A turn without its query (stored apart: only the latest turn's is kept).
std::string TurnToJson(const Turn& t) {
  json j = json::object();
  j["question"] = t.question;
  j["sql"] = t.sql;
  j["row_count"] = t.row_count;
  j["has_query"] = t.has_query;
  j["database"] = t.database;
  // Strict: text that is not UTF-8 throws rather than being altered.
  return j.dump(-1, ' ', false, json::error_handler_t::strict);
}

Result<Turn> TurnFromJson(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Unreadable("a turn is not a JSON object");
  Turn t;
  for (const auto& [name, v] : j.items()) {
    if (name == "question" && v.is_string()) {
      t.question = v.get<std::string>();
    } else if (name == "sql" && v.is_string()) {
      t.sql = v.get<std::string>();
    } else if (name == "database" && v.is_string()) {
      t.database = v.get<std::string>();
    } else if (name == "has_query" && v.is_boolean()) {
      t.has_query = v.get<bool>();
    } else if (name == "row_count" && v.is_number_unsigned()) {
      t.row_count = v.get<size_t>();
    } else {
      return Unreadable(fmt::format("a turn has an unexpected field \"{}\"", name));
    }
  }
  return t;
}

}  // namespace

RedisSessionStore::RedisSessionStore(redis::Client& redis, const Clock& clock,
                                     MemoryStoreOptions options, std::string prefix)
    : redis_(redis),
      clock_(clock),
      options_(options),
      prefix_(std::move(prefix)),
      active_key_(prefix_ + "active") {}

RedisSessionStore::TenantKeys RedisSessionStore::KeysOf(const std::string& tenant_id) const {
  // The tenant's length first: no pair (tenant, id) shares a key with another pair, whatever
  // characters they hold.
  std::string tenant = fmt::format("{}:{}", tenant_id.size(), tenant_id);
  return TenantKeys{
      .turns_prefix = prefix_ + "turns:" + tenant + ":",
      .meta_prefix = prefix_ + "meta:" + tenant + ":",
      .index = prefix_ + "tenant:" + tenant,
      .member_prefix = tenant + ":",
  };
}

std::vector<std::string> RedisSessionStore::SessionKeys(const std::string& tenant_id,
                                                        const std::string& session_id) const {
  TenantKeys k = KeysOf(tenant_id);
  return {k.turns_prefix + session_id, k.meta_prefix + session_id, k.index, active_key_};
}

int64_t RedisSessionStore::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
      .count();
}

Result<int> RedisSessionStore::Append(const Owner& owner, const std::string& session_id,
                                      Turn turn) {
  if (options_.max_sessions == 0)
    return Fail(ErrorCode::kUnavailable,
                "This server is configured to keep no conversations; ask without a session.");
  std::string turn_json;
  std::string query_json;
  try {
    turn_json = TurnToJson(turn);
    if (turn.has_query) {
      query_json = sql::QueryToJson(turn.query).dump(-1, ' ', false, json::error_handler_t::strict);
    }
  } catch (const json::exception&) {
    return Fail(ErrorCode::kInvalidArgument,
                "The question or its SQL is not valid UTF-8 text, so the conversation cannot "
                "keep it.");
  }
  const TenantKeys k = KeysOf(owner.tenant_id);
  const int64_t now = NowMs();
  const int64_t ttl = std::max<int64_t>(1, options_.timeout.count());
  auto reply =
      redis_.Eval(AppendScript(), SessionKeys(owner.tenant_id, session_id),
                  {std::move(turn_json), std::to_string(options_.max_turns), std::to_string(now),
                   std::to_string(ttl), std::to_string(options_.max_sessions), turn.question,
                   turn.database, session_id, k.turns_prefix, k.meta_prefix, k.member_prefix,
                   std::to_string(now + ttl), std::move(query_json), owner.user});
  if (!reply) return Unavailable(reply.error(), "record the turn");
  if (reply->is_error()) return Refused(*reply, "record the turn");
  if (reply->type == redis::Reply::Type::kInteger && reply->integer == 0)
    return std::unexpected(NoSuchSession(session_id));
  if (reply->type != redis::Reply::Type::kInteger || reply->integer <= 0 ||
      reply->integer > std::numeric_limits<int>::max())
    return Unreadable("the turn counter is not a positive number");
  return static_cast<int>(reply->integer);
}

Result<std::optional<Session>> RedisSessionStore::Load(const Owner& owner,
                                                       const std::string& session_id) {
  const TenantKeys k = KeysOf(owner.tenant_id);
  const int64_t now = NowMs();
  const int64_t ttl = std::max<int64_t>(1, options_.timeout.count());
  auto reply = redis_.Eval(LoadScript(), SessionKeys(owner.tenant_id, session_id),
                           {std::to_string(now), std::to_string(ttl), session_id,
                            k.member_prefix + session_id, std::to_string(now + ttl), owner.user});
  if (!reply) return Unavailable(reply.error(), "load the conversation");
  if (reply->is_error()) return Refused(*reply, "load the conversation");
  if (reply->is_nil()) return std::optional<Session>();
  if (reply->type == redis::Reply::Type::kInteger && reply->integer == 0)
    return std::unexpected(NoSuchSession(session_id));
  const auto& e = reply->elements;
  if (reply->type != redis::Reply::Type::kArray || e.size() != 4 ||
      e[2].type != redis::Reply::Type::kArray)
    return Unreadable("unexpected reply to a load");
  Session s;
  s.tenant_id = owner.tenant_id;
  s.owner = owner.user;  // the script returns a session only to its owner
  s.id = session_id;
  auto count = ParseInt<int>(e[0].str);
  auto updated = ParseInt<int64_t>(e[1].str);
  if (!count || !updated) return Unreadable("its turn counter or time is not a number");
  s.turn_count = *count;
  s.updated_at_ms = *updated;
  for (const auto& item : e[2].elements) {
    auto turn = TurnFromJson(item.str);
    if (!turn) return std::unexpected(turn.error());
    s.turns.push_back(std::move(*turn));
  }
  if (!s.turns.empty() && s.turns.back().has_query && !e[3].str.empty()) {
    json query = json::parse(e[3].str, nullptr, /*allow_exceptions=*/false);
    auto parsed = sql::QueryFromJson(query);
    if (!parsed) return Unreadable(parsed.error().message);
    s.turns.back().query = std::move(*parsed);
  }
  return std::optional<Session>(std::move(s));
}

Result<bool> RedisSessionStore::Remove(const Owner& owner, const std::string& session_id) {
  const TenantKeys k = KeysOf(owner.tenant_id);
  auto reply = redis_.Eval(RemoveScript(), SessionKeys(owner.tenant_id, session_id),
                           {session_id, k.member_prefix + session_id, owner.user});
  if (!reply) return Unavailable(reply.error(), "remove the conversation");
  if (reply->is_error()) return Refused(*reply, "remove the conversation");
  return reply->type == redis::Reply::Type::kInteger && reply->integer > 0;
}

Result<std::vector<SessionSummary>> RedisSessionStore::List(const Owner& owner) {
  const TenantKeys k = KeysOf(owner.tenant_id);
  auto reply = redis_.Eval(ListScript(), {k.index, active_key_},
                           {k.meta_prefix, k.member_prefix, owner.user});
  if (!reply) return Unavailable(reply.error(), "list the conversations");
  if (reply->is_error()) return Refused(*reply, "list the conversations");
  const auto& e = reply->elements;
  if (reply->type != redis::Reply::Type::kArray || e.size() % 5 != 0)
    return Unreadable("unexpected reply to a list");
  std::vector<SessionSummary> out;
  out.reserve(e.size() / 5);
  for (size_t i = 0; i < e.size(); i += 5) {
    SessionSummary s;
    s.id = e[i].str;
    auto count = ParseInt<int>(e[i + 1].str);
    auto updated = ParseInt<int64_t>(e[i + 2].str);
    if (!count || !updated) return Unreadable("a turn counter or time is not a number");
    s.turn_count = *count;
    s.updated_at_ms = *updated;
    s.last_question = e[i + 3].str;
    s.database = e[i + 4].str;
    out.push_back(std::move(s));
  }
  return out;
}

size_t RedisSessionStore::ActiveSessions() {
  // Members scored at or before now are sessions whose idle timeout has passed.
  auto replies = redis_.Pipeline(
      {{"ZREMRANGEBYSCORE", active_key_, "-inf", std::to_string(NowMs())}, {"ZCARD", active_key_}});
  if (replies && replies->size() == 2 && (*replies)[1].type == redis::Reply::Type::kInteger &&
      (*replies)[1].integer >= 0)
    last_active_ = static_cast<size_t>((*replies)[1].integer);
  return last_active_;
}

Result<void> RedisSessionStore::ReadInfos(
    const std::vector<std::pair<std::string, std::string>>& sessions,
    std::vector<SessionInfo>& out) {
  if (sessions.empty()) return {};
  std::vector<std::vector<std::string>> commands;
  commands.reserve(sessions.size() * 2);
  for (const auto& [tenant, id] : sessions) {
    const std::string meta = KeysOf(tenant).meta_prefix + id;
    commands.push_back({"HMGET", meta, "turn_count", "updated_at_ms", "owner", "created_at_ms"});
    commands.push_back({"PTTL", meta});
  }
  auto replies = redis_.Pipeline(commands);
  if (!replies) return Unavailable(replies.error(), "list the conversations");
  if (replies->size() != commands.size()) return Unreadable("unexpected reply to a list");
  const int64_t now = NowMs();
  for (size_t i = 0; i < sessions.size(); ++i) {
    const redis::Reply& meta = (*replies)[2 * i];
    const redis::Reply& ttl = (*replies)[2 * i + 1];
    if (meta.is_error()) return Refused(meta, "list the conversations");
    if (meta.type != redis::Reply::Type::kArray || meta.elements.size() != 4)
      return Unreadable("unexpected reply to a list");
    if (meta.elements[0].is_nil()) continue;  // expired since the index was read
    SessionInfo info;
    info.tenant_id = sessions[i].first;
    info.id = sessions[i].second;
    auto count = ParseInt<int>(meta.elements[0].str);
    auto updated = ParseInt<int64_t>(meta.elements[1].is_nil() ? "0" : meta.elements[1].str);
    if (!count || !updated) return Unreadable("a turn counter or time is not a number");
    info.turn_count = *count;
    info.updated_at_ms = *updated;
    info.owner = meta.elements[2].str;  // nil (a session older than owners) reads as ""
    if (!meta.elements[3].is_nil())
      info.created_at_ms = ParseInt<int64_t>(meta.elements[3].str).value_or(0);
    if (ttl.type == redis::Reply::Type::kInteger && ttl.integer >= 0) {
      info.expires_at_ms = now + ttl.integer;
    } else if (ttl.type == redis::Reply::Type::kInteger && ttl.integer == -2) {
      continue;  // expired between the two commands
    }
    out.push_back(std::move(info));
  }
  return {};
}

Result<std::vector<SessionInfo>> RedisSessionStore::ListAll(const std::string& tenant_id,
                                                            size_t limit) {
  constexpr size_t kPage = 200;
  std::vector<SessionInfo> out;
  // Pages of the index, most recent first, until `limit` live sessions are found: ids whose
  // session expired are skipped (and left for List and eviction to clean up).
  for (size_t offset = 0; out.size() < limit; offset += kPage) {
    const std::string from = std::to_string(offset);
    const std::string count = std::to_string(kPage);
    std::vector<std::string> range;
    if (tenant_id.empty()) {
      // Scored by expiry: the same order as by last use, the timeout being the same for all.
      const std::string after_now = fmt::format("({}", NowMs());
      range = {"ZREVRANGEBYSCORE", active_key_, "+inf", after_now, "LIMIT", from, count};
    } else {
      range = {"ZREVRANGE", KeysOf(tenant_id).index, from, std::to_string(offset + kPage - 1)};
    }
    auto page = redis_.Command(range);
    if (!page) return Unavailable(page.error(), "list the conversations");
    if (page->is_error()) return Refused(*page, "list the conversations");
    if (page->type != redis::Reply::Type::kArray) return Unreadable("unexpected reply to a list");
    std::vector<std::pair<std::string, std::string>> sessions;
    for (const redis::Reply& item : page->elements) {
      if (!tenant_id.empty()) {
        sessions.emplace_back(tenant_id, item.str);
      } else if (auto split = SplitMember(item.str)) {
        sessions.push_back(std::move(*split));
      }
    }
    if (auto read = ReadInfos(sessions, out); !read) return std::unexpected(read.error());
    if (page->elements.size() < kPage) break;
  }
  if (out.size() > limit) out.resize(limit);
  return out;
}

Result<bool> RedisSessionStore::RemoveOne(const std::string& tenant_id,
                                          const std::string& session_id) {
  const TenantKeys k = KeysOf(tenant_id);
  auto reply = redis_.Eval(RemoveAnyScript(), SessionKeys(tenant_id, session_id),
                           {session_id, k.member_prefix + session_id});
  if (!reply) return Unavailable(reply.error(), "remove the conversation");
  if (reply->is_error()) return Refused(*reply, "remove the conversation");
  return reply->type == redis::Reply::Type::kInteger && reply->integer > 0;
}

Result<size_t> RedisSessionStore::RemoveAny(const std::string& tenant_id,
                                            const std::string& session_id) {
  if (!tenant_id.empty()) {
    auto removed = RemoveOne(tenant_id, session_id);
    if (!removed) return std::unexpected(removed.error());
    return *removed ? 1 : 0;
  }
  // The tenants that have a session of this id: members "<length>:<tenant>:<id>".
  std::vector<std::string> tenants;
  const std::string pattern = "*:" + GlobLiteral(session_id);
  std::string cursor = "0";
  do {
    auto page = redis_.Command({"ZSCAN", active_key_, cursor, "MATCH", pattern, "COUNT", "500"});
    if (!page) return Unavailable(page.error(), "find the conversation");
    if (page->is_error()) return Refused(*page, "find the conversation");
    if (page->type != redis::Reply::Type::kArray || page->elements.size() != 2 ||
        page->elements[1].elements.size() % 2 != 0)
      return Unreadable("unexpected reply to a search");
    cursor = page->elements[0].str;
    const auto& pairs = page->elements[1].elements;  // member, score, ...
    for (size_t i = 0; i < pairs.size(); i += 2) {
      auto split = SplitMember(pairs[i].str);
      if (split && split->second == session_id) tenants.push_back(std::move(split->first));
    }
  } while (cursor != "0");
  size_t removed = 0;
  for (const std::string& tenant : tenants) {
    auto one = RemoveOne(tenant, session_id);
    if (!one) return std::unexpected(one.error());
    if (*one) ++removed;
  }
  return removed;
}

// ---------------------------------------------------------------------------------------------

FailoverSessionStore::FailoverSessionStore(SessionStore& shared, MemorySessionStore& local,
                                           OnChange on_change)
    : shared_(shared), local_(local), on_change_(std::move(on_change)) {}

bool FailoverSessionStore::SharedFailed(const Error& error) {
  // Another owner's session (kNotFound) is an answer of the shared store.
  if (error.code == ErrorCode::kNotFound) SharedAnswered();
  if (error.code != ErrorCode::kUnavailable) return false;
  Switch(false, &error);
  return true;
}

void FailoverSessionStore::SharedAnswered() { Switch(true, nullptr); }

void FailoverSessionStore::Switch(bool shared_ok, const Error* error) {
  if (shared_ok_.load() == shared_ok) return;  // the usual case: no lock
  // Two threads seeing opposite outcomes at once would otherwise report their switches in
  // either order, and the last report (a log line) could say Redis is down while it is used.
  std::lock_guard lock(change_mu_);
  if (shared_ok_.load() == shared_ok) return;  // another thread made this switch
  shared_ok_.store(shared_ok);
  if (on_change_) on_change_(shared_ok, error);
}

Result<int> FailoverSessionStore::Append(const Owner& owner, const std::string& session_id,
                                         Turn turn) {
  auto shared = shared_.Append(owner, session_id, turn);
  if (shared) {
    SharedAnswered();
    // The local copy only matters during an outage; its failure does not fail the turn.
    (void)local_.Append(owner, session_id, std::move(turn));
    return shared;
  }
  if (!SharedFailed(shared.error())) return shared;
  return local_.Append(owner, session_id, std::move(turn));
}

Result<std::optional<Session>> FailoverSessionStore::Load(const Owner& owner,
                                                          const std::string& session_id) {
  auto shared = shared_.Load(owner, session_id);
  if (shared) {
    SharedAnswered();
    return shared;
  }
  if (!SharedFailed(shared.error())) return shared;
  return local_.Load(owner, session_id);
}

Result<bool> FailoverSessionStore::Remove(const Owner& owner, const std::string& session_id) {
  // Removed from both, or the local copy would come back during the next outage.
  auto local = local_.Remove(owner, session_id);
  auto shared = shared_.Remove(owner, session_id);
  if (shared) {
    SharedAnswered();
    return shared;
  }
  if (!SharedFailed(shared.error())) return shared;
  return local;
}

Result<std::vector<SessionSummary>> FailoverSessionStore::List(const Owner& owner) {
  auto shared = shared_.List(owner);
  if (shared) {
    SharedAnswered();
    return shared;
  }
  if (!SharedFailed(shared.error())) return shared;
  return local_.List(owner);
}

size_t FailoverSessionStore::ActiveSessions() {
  // The interface has no error to look at: the switch state decides.
  return shared_ok_.load() ? shared_.ActiveSessions() : local_.ActiveSessions();
}

Result<std::vector<SessionInfo>> FailoverSessionStore::ListAll(const std::string& tenant_id,
                                                               size_t limit) {
  auto shared = shared_.ListAll(tenant_id, limit);
  if (shared) {
    SharedAnswered();
    return shared;
  }
  if (!SharedFailed(shared.error())) return shared;
  return local_.ListAll(tenant_id, limit);
}

Result<size_t> FailoverSessionStore::RemoveAny(const std::string& tenant_id,
                                               const std::string& session_id) {
  auto local = local_.RemoveAny(tenant_id, session_id);
  auto shared = shared_.RemoveAny(tenant_id, session_id);
  if (shared) {
    SharedAnswered();
    return shared;
  }
  if (!SharedFailed(shared.error())) return shared;
  return local;
}

size_t FailoverSessionStore::Sweep() { return local_.Sweep(); }

}  // namespace helios::conversation
