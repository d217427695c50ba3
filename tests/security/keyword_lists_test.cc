// The keyword lists behind QuoteIdentifier (sql/keywords.h) checked against the parsers they
// stand for, so that a rendered identifier is quoted exactly when a server needs it:
//   - PostgreSQL: every word of the list is a keyword that libpg_query's scanner classes as
//     reserved, type_func_name or col_name, and every such keyword is on the list (candidates:
//     PostgreSQL 15's whole keyword list, embedded below and itself checked against the
//     scanner and against a real server's pg_get_keywords());
//   - MySQL: every reserved word is quoted, and the quoted form passes the MySQL allow-list
//     (security/mysql_guard.h); every word the allow-list refuses bare is quoted;
//   - real servers (a private PostgreSQL 15 and MariaDB 10.11 each): a table and a column
//     named after every keyword, rendered by sql::Render into a join, filters, grouping,
//     HAVING, ordering and an alias, run through the product's data source (allow-list, then
//     the server) and return the expected rows, quoted or bare; and the bare form of each
//     listed word fails (refused by the allow-list, a syntax error on the server, or a
//     different value such as CURRENT_DATE's), except PostgreSQL's col_name keywords and, on
//     MariaDB, the words that only MySQL 8.0 (or only MariaDB's manual) reserves.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <mysql.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "db/mysql/mysql_data_source.h"
#include "db/open.h"
#include "security/mysql_guard.h"
#include "security/pg_scan.h"
#include "sql/ir.h"
#include "sql/keywords.h"
#include "sql/render.h"
#include "support/child_process.h"
#include "support/test_databases.h"

namespace helios::security {
namespace {

using db::Dialect;
using sql::QuoteIdentifier;
using testing::ServerKind;

// PostgreSQL 15's keywords by class, as SELECT word, catcode FROM pg_get_keywords() lists them
// (catcode U, C, T, R; the documentation's appendix "SQL Key Words" shows the same classes).
constexpr std::string_view kPgUnreserved =
    "abort absolute access action add admin after aggregate also alter always asensitive "
    "assertion assignment at atomic attach attribute backward before begin breadth by cache "
    "call called cascade cascaded catalog chain characteristics checkpoint class close "
    "cluster columns comment comments commit committed compression configuration conflict "
    "connection constraints content continue conversion copy cost csv cube current cursor "
    "cycle data database day deallocate declare defaults deferred definer delete delimiter "
    "delimiters depends depth detach dictionary disable discard document domain double drop "
    "each enable encoding encrypted enum escape event exclude excluding exclusive execute "
    "explain expression extension external family filter finalize first following force "
    "forward function functions generated global granted groups handler header hold hour "
    "identity if immediate immutable implicit import include including increment index "
    "indexes inherit inherits inline input insensitive insert instead invoker isolation key "
    "label language large last leakproof level listen load local location lock locked logged "
    "mapping match matched materialized maxvalue merge method minute minvalue mode month "
    "move name names new next nfc nfd nfkc nfkd no normalized nothing notify nowait nulls "
    "object of off oids old operator option options ordinality others over overriding owned "
    "owner parallel parameter parser partial partition passing password plans policy "
    "preceding prepare prepared preserve prior privileges procedural procedure procedures "
    "program publication quote range read reassign recheck recursive ref referencing refresh "
    "reindex relative release rename repeatable replace replica reset restart restrict "
    "return returns revoke role rollback rollup routine routines rows rule savepoint schema "
    "schemas scroll search second security sequence sequences serializable server session "
    "set sets share show simple skip snapshot sql stable standalone start statement "
    "statistics stdin stdout storage stored strict strip subscription support sysid system "
    "tables tablespace temp template temporary text ties transaction transform trigger "
    "truncate trusted type types uescape unbounded uncommitted unencrypted unknown unlisten "
    "unlogged until update vacuum valid validate validator value varying version view views "
    "volatile whitespace within without work wrapper write xml year yes zone";

constexpr std::string_view kPgColName =
    "between bigint bit boolean char character coalesce dec decimal exists extract float "
    "greatest grouping inout int integer interval least national nchar none normalize nullif "
    "numeric out overlay position precision real row setof smallint substring time timestamp "
    "treat trim values varchar xmlattributes xmlconcat xmlelement xmlexists xmlforest "
    "xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable";

constexpr std::string_view kPgTypeFuncName =
    "authorization binary collation concurrently cross current_schema freeze full ilike "
    "inner is isnull join left like natural notnull outer overlaps right similar tablesample "
    "verbose";

constexpr std::string_view kPgReserved =
    "all analyse analyze and any array as asc asymmetric both case cast check collate column "
    "constraint create current_catalog current_date current_role current_time "
    "current_timestamp current_user default deferrable desc distinct do else end except "
    "false fetch for foreign from grant group having in initially intersect into lateral "
    "leading limit localtime localtimestamp not null offset on only or order placing primary "
    "references returning select session_user some symmetric table then to trailing true "
    "union unique user using variadic when where window with";

// pg_query.proto's KeywordKind numbers, as ScanPostgres reports them.
constexpr int kUnreservedKind = 1;
constexpr int kColNameKind = 2;
constexpr int kTypeFuncNameKind = 3;
constexpr int kReservedKind = 4;

std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> words;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) words.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

// Every PostgreSQL 15 keyword with its kind.
std::map<std::string, int> PostgresKeywords() {
  std::map<std::string, int> kinds;
  for (const auto& [text, kind] :
       {std::pair{kPgUnreserved, kUnreservedKind}, std::pair{kPgColName, kColNameKind},
        std::pair{kPgTypeFuncName, kTypeFuncNameKind}, std::pair{kPgReserved, kReservedKind}}) {
    for (std::string& w : Words(text)) kinds.emplace(std::move(w), kind);
  }
  return kinds;
}

// The keyword kind libpg_query's scanner gives `word` alone; -1 when it is not one token.
int ScannedKind(std::string_view word) {
  auto tokens = ScanPostgres(word);
  if (!tokens || tokens->size() != 1) return -1;
  return (*tokens)[0].keyword_kind;
}

std::set<std::string> AsSet(std::span<const std::string_view> words) {
  return std::set<std::string>(words.begin(), words.end());
}

bool IsLowerIdentifier(std::string_view w) {
  return !w.empty() && std::ranges::all_of(w, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL, against libpg_query's scanner

TEST(PostgresKeywordListTest, EmbeddedKeywordListHasTheScannersKinds) {
  const auto keywords = PostgresKeywords();
  EXPECT_EQ(keywords.size(), 460u);  // PostgreSQL 15
  for (const auto& [word, kind] : keywords) EXPECT_EQ(ScannedKind(word), kind) << word;
  // The scanner tells keywords from names.
  EXPECT_EQ(ScannedKind("customers"), 0);
  EXPECT_EQ(ScannedKind("total_amount"), 0);
}

TEST(PostgresKeywordListTest, QuotingListIsExactlyTheKeywordsThatAreNotUnreserved) {
  const auto list = sql::PostgresKeywordsNeedingQuotes();
  EXPECT_TRUE(std::ranges::adjacent_find(list) == list.end()) << "duplicates in the list";
  // Every listed word is a keyword of a class that cannot serve everywhere as a name.
  for (std::string_view w : list) {
    const int kind = ScannedKind(w);
    EXPECT_TRUE(kind == kColNameKind || kind == kTypeFuncNameKind || kind == kReservedKind)
        << w << " is of kind " << kind;
  }
  // And no keyword of those classes is missing.
  std::set<std::string> expected;
  for (const auto& [word, kind] : PostgresKeywords()) {
    if (ScannedKind(word) >= kColNameKind) expected.insert(word);
  }
  EXPECT_EQ(AsSet(list), expected);
}

TEST(PostgresKeywordListTest, QuoteIdentifierQuotesExactlyThoseKeywords) {
  for (const auto& [word, kind] : PostgresKeywords()) {
    const std::string want = kind == kUnreservedKind ? word : "\"" + word + "\"";
    EXPECT_EQ(QuoteIdentifier(word, Dialect::kPostgres), want);
  }
}

// ---------------------------------------------------------------------------------------------
// MySQL and MariaDB, against the allow-list

sql::Predicate Pred(sql::Expr lhs, sql::CompareOp op, std::vector<int64_t> values) {
  sql::Predicate p;
  p.lhs = std::move(lhs);
  p.op = op;
  for (int64_t v : values) p.values.emplace_back(v);
  return p;
}

// The query shapes the renderer produces, with `w` as table, column and alias: unqualified
// columns in SELECT (first item), WHERE, GROUP BY, HAVING and ORDER BY; then a join, which
// qualifies every column, and an alias.
sql::Query Grouped(const std::string& w) {
  using namespace sql;
  Query q;
  q.from = w;
  const ColumnRef col{w, w};
  q.select = {SelectItem{Expr::Col(col), ""}, SelectItem{Expr::CountStar(), ""}};
  q.where = {Pred(Expr::Col(col), CompareOp::kGt, {1}),
             Pred(Expr::Col(col), CompareOp::kIn, {42, 7})};
  q.group_by = {Expr::Col(col)};
  q.having = {Pred(Expr::CountStar(), CompareOp::kGe, {1})};
  q.order_by = {OrderItem{Expr::Col(col), true}};
  q.limit = 5;
  return q;
}

sql::Query Joined(const std::string& w) {
  using namespace sql;
  Query q;
  q.from = "kw_base";
  q.joins = {Join{w, ColumnRef{"kw_base", "k"}, ColumnRef{w, "k"}}};
  q.select = {SelectItem{Expr::Agg(Aggregate::kMax, ColumnRef{w, w}), w}};
  q.where = {Pred(Expr::Col(ColumnRef{w, w}), CompareOp::kEq, {42})};
  return q;
}

std::set<std::string> MysqlListed() {
  std::set<std::string> words = AsSet(sql::MysqlReservedWords());
  for (std::string_view w : sql::MysqlGuardedWords()) words.emplace(w);
  return words;
}

TEST(MysqlKeywordListTest, ListsAreSortedLowerCaseIdentifiers) {
  for (auto list :
       {sql::MysqlReservedWords(), sql::MysqlGuardedWords(), sql::MysqlCharsetNames()}) {
    EXPECT_TRUE(std::ranges::is_sorted(list));
    EXPECT_TRUE(std::ranges::adjacent_find(list) == list.end());
    for (std::string_view w : list) EXPECT_TRUE(IsLowerIdentifier(w)) << w;
  }
  EXPECT_GE(sql::MysqlReservedWords().size(), 280u);
}

TEST(MysqlKeywordListTest, ReservedWordsAreQuotedAndPassTheAllowList) {
  for (const std::string& w : MysqlListed()) {
    const std::string quoted = QuoteIdentifier(w, Dialect::kMysql);
    EXPECT_EQ(quoted, "`" + w + "`");
    const std::string select = "SELECT " + quoted + " FROM t";
    auto checked = CheckMysqlSelect(select);
    EXPECT_TRUE(checked.has_value())
        << select << " -> " << (checked ? "" : checked.error().message);
    for (const sql::Query& q : {Grouped(w), Joined(w)}) {
      const std::string rendered = sql::Render(q, {Dialect::kMysql, false}).text;
      auto r = CheckMysqlSelect(rendered);
      EXPECT_TRUE(r.has_value()) << rendered << " -> " << (r ? "" : r.error().message);
    }
  }
}

TEST(MysqlKeywordListTest, CharsetIntroducersAreQuoted) {
  for (std::string_view name : sql::MysqlCharsetNames()) {
    const std::string w = "_" + std::string(name);
    EXPECT_EQ(QuoteIdentifier(w, Dialect::kMysql), "`" + w + "`");
    EXPECT_EQ(QuoteIdentifier(w, Dialect::kPostgres), w);
  }
  EXPECT_EQ(QuoteIdentifier("_utf8mb4x", Dialect::kMysql), "_utf8mb4x");
  EXPECT_EQ(QuoteIdentifier("_", Dialect::kMysql), "_");
}

// What is true of the bare forms: the allow-list refuses only the reserved words that begin
// other statements or name the session's identity (and says so); the other reserved words
// pass it and fail on the server (KeywordServerTest below). Whatever it refuses bare is
// quoted, and ordinary names, including non-reserved statement words, stay bare.
TEST(MysqlKeywordListTest, WordsTheAllowListRefusesBareAreQuoted) {
  std::set<std::string> candidates = MysqlListed();
  for (const char* w :
       {"name",  "amount",    "status",  "user",       "year",  "date",     "truncate", "handler",
        "do",    "prepare",   "execute", "deallocate", "begin", "commit",   "rollback", "start",
        "flush", "reset",     "help",    "binlog",     "cache", "checksum", "repair",   "install",
        "xa",    "savepoint", "next",    "previous",   "value", "share"})
    candidates.insert(w);
  std::set<std::string> refused;
  for (const std::string& w : candidates) {
    if (!CheckMysqlSelect("SELECT " + w + " FROM t").has_value()) refused.insert(w);
  }
  for (const std::string& w : refused) {
    EXPECT_EQ(QuoteIdentifier(w, Dialect::kMysql), "`" + w + "`") << w << " is refused bare";
  }
  for (const char* w : {"change", "check", "release", "insert", "update", "delete", "set", "show",
                        "current_user", "session_user", "system_user"})
    EXPECT_TRUE(refused.contains(w)) << w;
  for (const char* w : {"order", "rank", "window", "interval", "offset", "from"})
    EXPECT_FALSE(refused.contains(w)) << w << ": the allow-list is lexical";
  for (const char* w :
       {"name", "amount", "status", "user", "truncate", "handler", "do", "execute", "value"}) {
    EXPECT_FALSE(refused.contains(w)) << w;
    EXPECT_EQ(QuoteIdentifier(w, Dialect::kMysql), w);
  }
}

// ---------------------------------------------------------------------------------------------
// Real servers

std::vector<std::vector<std::string>> Display(const std::vector<db::Row>& rows) {
  std::vector<std::vector<std::string>> out;
  for (const db::Row& row : rows) {
    std::vector<std::string> cells;
    for (const db::Value& v : row) cells.push_back(db::ToDisplayString(v));
    out.push_back(std::move(cells));
  }
  return out;
}

using Rows = std::vector<std::vector<std::string>>;

// Renders both query shapes for `w` (the join only when `join`) and runs them through the data
// source.
void ExpectRenderedQueriesRun(db::DataSource& source, Dialect dialect, const std::string& w,
                              bool join = true) {
  const sql::RenderedSql grouped = sql::Render(Grouped(w), {dialect, false});
  auto a = source.Execute(grouped.text, grouped.params, {});
  ASSERT_TRUE(a.has_value()) << grouped.text << ": " << a.error().message;
  EXPECT_EQ(Display(a->rows), (Rows{{"42", "1"}})) << grouped.text;
  if (!join) return;

  const sql::RenderedSql joined = sql::Render(Joined(w), {dialect, false});
  auto b = source.Execute(joined.text, joined.params, {});
  ASSERT_TRUE(b.has_value()) << joined.text << ": " << b.error().message;
  EXPECT_EQ(Display(b->rows), (Rows{{"42"}})) << joined.text;
  EXPECT_EQ(b->columns, std::vector<std::string>{w}) << joined.text;
}

// True when `SELECT w FROM (SELECT 42 AS <quoted w>) AS t` returns 42 through the data source:
// the bare word reads as the column.
bool BareWordReadsAsColumn(db::DataSource& source, Dialect dialect, const std::string& w) {
  const char q = dialect == Dialect::kMysql ? '`' : '"';
  const std::string probe = fmt::format("SELECT {0} FROM (SELECT 42 AS {1}{0}{1}) AS t", w, q);
  auto r = source.Execute(probe, {}, {});
  return r.has_value() && Display(r->rows) == Rows{{"42"}};
}

// A private server of the test's own, stopped at the end.
class PrivateServer {
 public:
  explicit PrivateServer(ServerKind kind) : kind_(kind) {
    auto s = testing::StartPrivateServer(kind, (dir_.path() / "server").string());
    if (s) {
      server_ = *s;
    } else {
      error_ = s.error().message;
    }
  }
  ~PrivateServer() {
    if (!server_.dir.empty()) (void)testing::StopPrivateServer(kind_, server_.dir);
  }
  PrivateServer(const PrivateServer&) = delete;
  PrivateServer& operator=(const PrivateServer&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const testing::TestServer& server() const { return server_; }

 private:
  ServerKind kind_;
  testing::TempDir dir_{"helios-keywords"};
  testing::TestServer server_;
  std::string error_;
};

TEST(KeywordServerTest, PostgresAgreesWithTheLists) {
  PrivateServer server(ServerKind::kPostgres);
  ASSERT_TRUE(server.ok()) << server.error();
  std::unique_ptr<PGconn, decltype(&PQfinish)> admin(PQconnectdb(server.server().admin_url.c_str()),
                                                     &PQfinish);
  ASSERT_EQ(PQstatus(admin.get()), CONNECTION_OK) << PQerrorMessage(admin.get());

  // The embedded keyword list is the server's.
  std::map<std::string, int> served;
  {
    PGresult* r = PQexec(admin.get(), "SELECT word, catcode FROM pg_get_keywords()");
    ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQresultErrorMessage(r);
    const std::map<char, int> kinds = {{'U', kUnreservedKind},
                                       {'C', kColNameKind},
                                       {'T', kTypeFuncNameKind},
                                       {'R', kReservedKind}};
    for (int i = 0; i < PQntuples(r); ++i)
      served.emplace(PQgetvalue(r, i, 0), kinds.at(PQgetvalue(r, i, 1)[0]));
    PQclear(r);
  }
  const std::map<std::string, int> keywords = PostgresKeywords();
  ASSERT_EQ(served, keywords);

  // A table and a column named after every keyword.
  std::string ddl = "SET client_min_messages = warning; CREATE TABLE kw_base AS SELECT 1 AS k;";
  for (const auto& [w, kind] : keywords)
    ddl += fmt::format("CREATE TABLE \"{0}\" AS SELECT 42 AS \"{0}\", 1 AS k;", w);
  PGresult* created = PQexec(admin.get(), ddl.c_str());
  ASSERT_EQ(PQresultStatus(created), PGRES_COMMAND_OK) << PQresultErrorMessage(created);
  PQclear(created);

  auto source = db::OpenDataSource(server.server().reader_url);
  ASSERT_TRUE(source.has_value()) << source.error().message;
  for (const auto& [w, kind] : keywords) {
    SCOPED_TRACE(w);
    ExpectRenderedQueriesRun(**source, Dialect::kPostgres, w);
    // Reserved and type_func_name keywords fail bare; col_name ones read as the column but
    // are quoted because they cannot name a function or type.
    EXPECT_EQ(BareWordReadsAsColumn(**source, Dialect::kPostgres, w),
              kind == kUnreservedKind || kind == kColNameKind);
  }
}

// The listed words MariaDB 10.11 reads bare as column names: reserved words of MySQL 8.0 only
// (window functions, LATERAL, JSON_TABLE, ...), then words MariaDB's manual lists as reserved
// that 10.11's parser accepts. They are quoted for MySQL's sake and the manual's.
constexpr std::string_view kBareOnMariadb =
    "cube cume_dist database dense_rank empty first_value function generated grouping groups "
    "io_after_gtids io_before_gtids json_table lag last_value lateral lead master_bind "
    "nth_value ntile of optimizer_costs option percent_rank rank row schema stored system "
    "virtual window "
    "general ignore_server_ids master_heartbeat_period position slow";

TEST(KeywordServerTest, MariadbAgreesWithTheLists) {
  PrivateServer server(ServerKind::kMariadb);
  ASSERT_TRUE(server.ok()) << server.error();
  auto url = db::ParseMysqlUrl(server.server().admin_url);
  ASSERT_TRUE(url.has_value()) << url.error().message;
  std::unique_ptr<MYSQL, decltype(&mysql_close)> admin(mysql_init(nullptr), &mysql_close);
  const unsigned protocol = MYSQL_PROTOCOL_TCP;
  mysql_optionsv(admin.get(), MYSQL_OPT_PROTOCOL, &protocol);
  ASSERT_TRUE(mysql_real_connect(admin.get(), url->host.c_str(), url->user.c_str(),
                                 url->password.c_str(), url->database.c_str(), url->port, nullptr,
                                 0))
      << mysql_error(admin.get());
  auto query = [&](const std::string& sql) {
    std::vector<std::string> values;
    if (mysql_real_query(admin.get(), sql.data(), sql.size()) != 0) {
      ADD_FAILURE() << sql << ": " << mysql_error(admin.get());
      return values;
    }
    if (MYSQL_RES* r = mysql_store_result(admin.get())) {
      while (MYSQL_ROW row = mysql_fetch_row(r)) values.emplace_back(row[0] ? row[0] : "");
      mysql_free_result(r);
    }
    return values;
  };

  // Every keyword the server knows, and every word on our lists.
  std::set<std::string> words = MysqlListed();
  for (const std::string& w : query("SELECT LOWER(WORD) FROM information_schema.KEYWORDS")) {
    if (IsLowerIdentifier(w)) words.insert(w);
  }
  ASSERT_GT(words.size(), 650u);
  query("CREATE TABLE kw_base AS SELECT 1 AS k");
  for (const std::string& w : words)
    query(fmt::format("CREATE TABLE `{0}` AS SELECT 42 AS `{0}`, 1 AS k", w));

  auto source = db::OpenDataSource(server.server().reader_url);
  ASSERT_TRUE(source.has_value()) << source.error().message;
  const std::set<std::string> listed = MysqlListed();
  std::set<std::string> listed_but_bare_ok;
  for (const std::string& w : words) {
    SCOPED_TRACE(w);
    // The allow-list refuses mysql.k, quoted or not, as a read of the system schema mysql: a
    // table of that name can be queried only without a join.
    ExpectRenderedQueriesRun(**source, Dialect::kMysql, w, w != "mysql");
    const bool bare_ok = BareWordReadsAsColumn(**source, Dialect::kMysql, w);
    if (listed.contains(w)) {
      if (bare_ok) listed_but_bare_ok.insert(w);
    } else {
      // Completeness: a keyword we leave bare must read as the column.
      EXPECT_TRUE(bare_ok) << w << " needs quoting on MariaDB but is not on the list";
    }
  }
  const std::vector<std::string> expected = Words(kBareOnMariadb);
  EXPECT_EQ(listed_but_bare_ok, std::set<std::string>(expected.begin(), expected.end()));

  // Character set introducers: every character set of the server is on the list, and
  // `_name` bare is not a column.
  for (const std::string& cs :
       query("SELECT CHARACTER_SET_NAME FROM information_schema.CHARACTER_SETS")) {
    const std::string w = "_" + cs;
    EXPECT_TRUE(std::ranges::binary_search(sql::MysqlCharsetNames(), cs)) << cs;
    EXPECT_EQ(QuoteIdentifier(w, Dialect::kMysql), "`" + w + "`");
    EXPECT_FALSE(BareWordReadsAsColumn(**source, Dialect::kMysql, w)) << w;
  }
}

}  // namespace
}  // namespace helios::security
