// The schema index over a small library database built for the test (not the demo database),
// so that nothing here depends on the retail schema the engine was first written against.
#include "nl2sql/engine/schema_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/text.h"
#include "db/open.h"
#include "nl2sql/engine/lexicon.h"
#include "sqlite_index.h"
#include "support/sqlite_file.h"

namespace helios::nl2sql::engine {
namespace {

namespace fs = std::filesystem;

constexpr const char* kLibrary = R"sql(
CREATE TABLE authors(author_id INTEGER PRIMARY KEY, full_name TEXT NOT NULL, country TEXT);
CREATE TABLE books(book_id INTEGER PRIMARY KEY, title TEXT NOT NULL,
                   author_id INTEGER REFERENCES authors(author_id), published DATE, price REAL,
                   in_print INTEGER);
CREATE TABLE members(member_id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, city TEXT);
CREATE TABLE loans(loan_id INTEGER PRIMARY KEY, book_id INTEGER REFERENCES books(book_id),
                   member_id INTEGER REFERENCES members(member_id), loaned_on DATE, days INTEGER);
CREATE TABLE branches(branch_id INTEGER PRIMARY KEY, branch_name TEXT, opened_year INTEGER);
INSERT INTO authors VALUES (1, 'Charles Dickens', 'England'), (2, 'Leo Tolstoy', 'Russia'),
  (3, 'Jane Austen', 'England'), (4, 'Haruki Murakami', 'Japan');
INSERT INTO books VALUES
  (1, 'Great Expectations', 1, '1861-08-01', 12.5, 1),
  (2, 'Bleak House', 1, '1853-03-01', 15.0, 0),
  (3, 'War and Peace', 2, '1869-01-01', 20.0, 1),
  (4, 'Pride and Prejudice', 3, '1813-01-28', 8.75, 1),
  (5, 'One Hundred Years of Solitude', 4, '1967-05-30', 14.0, 1);
INSERT INTO members VALUES (1, 'Alice', 'Smith', 'London'), (2, 'Bob', 'Jones', 'Paris'),
  (3, 'Carol', 'Brown', 'London'), (4, 'David', 'Wilson', 'New York'),
  (5, 'Eve', 'Taylor', 'Leeds');
INSERT INTO loans VALUES (1, 1, 1, '2024-01-15', 14), (2, 3, 2, '2024-02-03', 21),
  (3, 4, 3, '2025-03-10', 7), (4, 1, 4, '2025-11-20', 28);
INSERT INTO branches VALUES (1, 'Central', 1990), (2, 'Riverside', 2005);
)sql";

// Writes kLibrary to a fresh file in a temporary directory, removed at the end of the suite.
class SchemaIndexTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("helios_schema_index_" + text::NewUuid()));
    fs::create_directories(*dir_);
    const std::string path = (*dir_ / "library.db").string();
    sqlite3* db = nullptr;
    ASSERT_EQ(
        sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr),
        SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, kLibrary, nullptr, nullptr, &err);
    std::string message = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << message;

    auto source = db::OpenDataSource("sqlite://" + path);
    ASSERT_TRUE(source) << source.error().message;
    source_ = source->release();
    auto catalog = source_->Introspect();
    ASSERT_TRUE(catalog) << catalog.error().message;
    catalog_ = new std::shared_ptr<const db::SchemaCatalog>(*catalog);
    auto index = SchemaIndex::Build(*catalog_, *source_, 1000);
    ASSERT_TRUE(index) << index.error().message;
    index_ = index->release();
  }

  static void TearDownTestSuite() {
    delete index_;
    delete catalog_;
    delete source_;
    index_ = nullptr;
    catalog_ = nullptr;
    source_ = nullptr;
    std::error_code ec;
    if (dir_) fs::remove_all(*dir_, ec);
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(index_, nullptr) << "the library database did not load"; }

  const SchemaIndex& index() const { return *index_; }

  const TableEntry& Table(std::string_view name) const {
    const TableEntry* t = index_->FindTable(name);
    EXPECT_NE(t, nullptr) << name;
    static const TableEntry kMissing;
    return t ? *t : kMissing;
  }

  const ColumnEntry& Column(std::string_view table, std::string_view column) const {
    const ColumnEntry* c = index_->FindColumn(table, column);
    EXPECT_NE(c, nullptr) << table << "." << column;
    static const ColumnEntry kMissing;
    return c ? *c : kMissing;
  }

  static std::string NameOf(const ColumnEntry* c) {
    return c && c->column ? c->table->name + "." + c->column->name : "(none)";
  }

  // "table" or "table.column" with its quality, for every target of a phrase.
  std::vector<std::string> Targets(const std::vector<std::string>& words) const {
    std::vector<std::string> out;
    const auto* targets = index_->LookupPhrase(PhraseKey(words));
    if (!targets) return out;
    for (const auto& t : *targets) {
      std::string name = t.table->table->name;
      if (t.column) name += "." + t.column->column->name;
      out.push_back(name + "/" + std::to_string(t.quality));
    }
    return out;
  }

  std::vector<std::string> Values(const std::string& lowercase) const {
    std::vector<std::string> out;
    const auto* values = index_->LookupValue(lowercase);
    if (!values) return out;
    for (const auto& v : *values) out.push_back(NameOf(v.column) + "=" + v.value);
    return out;
  }

  static std::string JoinsText(const std::optional<std::vector<sql::Join>>& joins) {
    if (!joins) return "unreachable";
    std::vector<std::string> parts;
    for (const auto& j : *joins)
      parts.push_back(j.table + " ON " + j.left.table + "." + j.left.column + " = " +
                      j.right.table + "." + j.right.column);
    return text::Join(parts, "; ");
  }

  static fs::path* dir_;
  static db::DataSource* source_;
  static std::shared_ptr<const db::SchemaCatalog>* catalog_;
  static SchemaIndex* index_;
};

fs::path* SchemaIndexTest::dir_ = nullptr;
db::DataSource* SchemaIndexTest::source_ = nullptr;
std::shared_ptr<const db::SchemaCatalog>* SchemaIndexTest::catalog_ = nullptr;
SchemaIndex* SchemaIndexTest::index_ = nullptr;

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

TEST_F(SchemaIndexTest, HasEveryTableAndFindsNamesIgnoringCase) {
  EXPECT_EQ(index().tables().size(), 5u);
  EXPECT_EQ(&Table("books"), index().FindTable("BOOKS"));
  EXPECT_EQ(index().FindTable("book"), nullptr);
  EXPECT_EQ(index().FindTable(""), nullptr);
  EXPECT_EQ(index().FindColumn("Books", "PRICE"), &Column("books", "price"));
  EXPECT_EQ(index().FindColumn("books", "cost"), nullptr);
  EXPECT_EQ(index().FindColumn("nope", "price"), nullptr);
  EXPECT_EQ(Table("books").columns.size(), 6u);
  EXPECT_THAT(Table("members").words, ElementsAre("members"));
  EXPECT_THAT(Column("loans", "loaned_on").words, ElementsAre("loaned", "on"));
}

TEST_F(SchemaIndexTest, LabelsNameTheRows) {
  EXPECT_EQ(NameOf(Table("authors").label), "authors.full_name");
  EXPECT_EQ(NameOf(Table("books").label), "books.title");
  EXPECT_EQ(NameOf(Table("branches").label), "branches.branch_name");
  // A person is named by the last name, with the first name beside it.
  EXPECT_EQ(NameOf(Table("members").label), "members.last_name");
  EXPECT_EQ(NameOf(Table("members").second_label), "members.first_name");
  EXPECT_EQ(Table("authors").second_label, nullptr);
  // Loans hold no text: nothing names them.
  EXPECT_EQ(Table("loans").label, nullptr);
}

TEST_F(SchemaIndexTest, PrimaryKeysAndKeyColumns) {
  EXPECT_EQ(NameOf(Table("books").primary_key), "books.book_id");
  EXPECT_EQ(NameOf(Table("loans").primary_key), "loans.loan_id");
  EXPECT_TRUE(Column("books", "author_id").is_key);
  EXPECT_TRUE(Column("loans", "member_id").is_key);
  EXPECT_TRUE(Column("members", "member_id").is_key);
  // Keys are numbers but no measures.
  EXPECT_FALSE(Column("books", "author_id").is_numeric);
  EXPECT_FALSE(Column("books", "price").is_key);
}

TEST_F(SchemaIndexTest, DateColumns) {
  EXPECT_EQ(NameOf(Table("books").date), "books.published");
  EXPECT_EQ(NameOf(Table("loans").date), "loans.loaned_on");
  EXPECT_EQ(Table("authors").date, nullptr);
  EXPECT_EQ(Table("branches").date, nullptr);  // opened_year is a number, not a date
  EXPECT_TRUE(Column("books", "published").is_temporal);
  EXPECT_FALSE(Column("books", "published").is_numeric);
  EXPECT_FALSE(Column("loans", "days").is_temporal);
  EXPECT_FALSE(Column("branches", "opened_year").is_temporal);
}

TEST_F(SchemaIndexTest, MoneyColumn) {
  EXPECT_EQ(NameOf(Table("books").money), "books.price");
  EXPECT_EQ(Table("books").money_rank, 1);   // a unit price, not an amount
  EXPECT_EQ(Table("loans").money, nullptr);  // days are no money
  EXPECT_EQ(Table("loans").money_rank, 0);
  EXPECT_EQ(Table("authors").money, nullptr);
}

TEST_F(SchemaIndexTest, MeasuresAndText) {
  EXPECT_TRUE(Column("books", "price").is_numeric);
  EXPECT_TRUE(Column("loans", "days").is_numeric);
  EXPECT_TRUE(Column("branches", "opened_year").is_numeric);
  EXPECT_TRUE(Column("members", "city").is_text);
  EXPECT_FALSE(Column("members", "city").is_numeric);
  EXPECT_FALSE(Column("books", "price").is_text);
}

TEST_F(SchemaIndexTest, ZeroOneIntegersAreFlags) {
  const ColumnEntry& in_print = Column("books", "in_print");
  EXPECT_TRUE(in_print.is_flag);
  EXPECT_FALSE(in_print.is_numeric);  // never summed or averaged
  EXPECT_FALSE(Column("loans", "days").is_flag);
  EXPECT_FALSE(Column("branches", "opened_year").is_flag);
  EXPECT_FALSE(Column("books", "book_id").is_flag);  // keys never are
  EXPECT_FALSE(Column("members", "city").is_flag);
}

TEST_F(SchemaIndexTest, ValuesOfTextColumnsAreIndexed) {
  EXPECT_THAT(Values("london"), ElementsAre("members.city=London"));
  EXPECT_THAT(Values("new york"), ElementsAre("members.city=New York"));
  EXPECT_THAT(Values("england"), ElementsAre("authors.country=England"));
  EXPECT_THAT(Values("charles dickens"), ElementsAre("authors.full_name=Charles Dickens"));
  EXPECT_THAT(Values("war and peace"), ElementsAre("books.title=War and Peace"));
  EXPECT_THAT(Values("alice"), ElementsAre("members.first_name=Alice"));
  EXPECT_THAT(Values("central"), ElementsAre("branches.branch_name=Central"));
  EXPECT_EQ(Column("members", "city").distinct_values, 4u);
  EXPECT_EQ(Column("authors", "country").distinct_values, 3u);
  EXPECT_EQ(index().longest_value_words(), 5u);  // "one hundred years of solitude"
}

TEST_F(SchemaIndexTest, ValueLookupIsByLowercaseText) {
  EXPECT_THAT(Values("London"), IsEmpty());
  EXPECT_THAT(Values("lond"), IsEmpty());
  EXPECT_THAT(Values("berlin"), IsEmpty());
  EXPECT_THAT(Values(""), IsEmpty());
  // Dates and numbers are not text values.
  EXPECT_THAT(Values("2024-01-15"), IsEmpty());
  EXPECT_THAT(Values("14"), IsEmpty());
  EXPECT_EQ(Column("loans", "loaned_on").distinct_values, 0u);
}

TEST_F(SchemaIndexTest, ValuesAreAlsoFoundByTheirLemmas) {
  // "Great Expectations" under "great expectation"; "One Hundred Years ..." under "year".
  EXPECT_THAT(Values("great expectations"), ElementsAre("books.title=Great Expectations"));
  EXPECT_THAT(Values(LemmatizeValueText("great expectations")),
              ElementsAre("books.title=Great Expectations"));
  EXPECT_EQ(LemmatizeValueText("great expectations"), "great expectation");
  EXPECT_THAT(Values("one hundred year of solitude"),
              ElementsAre("books.title=One Hundred Years of Solitude"));
}

// "female students", "men": a sex or gender column's codes ("M"/"F") or words are named by the
// words people use; a column of other codes is not.
TEST(SchemaIndexValuesTest, WordsForASexOrGenderNameItsValuesAndNamesNameRows) {
  const fs::path dir = fs::temp_directory_path() / ("helios_schema_sex_" + text::NewUuid());
  fs::create_directories(dir);
  const std::string path = (dir / "people.db").string();
  ASSERT_EQ(testing::ExecSqlite(path, R"sql(
    CREATE TABLE students(student_id INTEGER PRIMARY KEY, full_name TEXT, sex TEXT);
    CREATE TABLE staff(staff_id INTEGER PRIMARY KEY, staff_name TEXT, gender TEXT);
    CREATE TABLE shirts(shirt_id INTEGER PRIMARY KEY, size_code TEXT);
    INSERT INTO students VALUES (1, 'Ann Lee', 'F'), (2, 'Bo Chen', 'M'), (3, 'Cy Diaz', 'M');
    INSERT INTO staff VALUES (1, 'Di Ng', 'Female'), (2, 'Ed Oh', 'Male');
    INSERT INTO shirts VALUES (1, 'M'), (2, 'F'), (3, 'L');
    CREATE TABLE team(team_id INTEGER PRIMARY KEY, coach_name TEXT, team_name TEXT);
  )sql"),
            "");
  SqliteIndex opened;
  ASSERT_NO_FATAL_FAILURE(OpenSqliteIndex(path, &opened));
  const auto& index = opened.index;
  auto values = [&](const std::string& word) {
    std::vector<std::string> out;
    if (const auto* v = index->LookupValue(word))
      for (const auto& t : *v) out.push_back(t.column->column->name + "=" + t.value);
    return out;
  };
  EXPECT_THAT(values("female"), ElementsAre("sex=F", "gender=Female"));
  EXPECT_THAT(values("women"), ElementsAre("sex=F", "gender=Female"));
  EXPECT_THAT(values("men"), ElementsAre("sex=M", "gender=Male"));
  EXPECT_THAT(values("boys"), ElementsAre("sex=M", "gender=Male"));
  EXPECT_THAT(values("girl"), ElementsAre("sex=F", "gender=Female"));
  // The stored word itself is found once, not twice.
  EXPECT_THAT(values("male"), ElementsAre("sex=M", "gender=Male"));
  EXPECT_THAT(values("medium"), IsEmpty());
  // Of two "..._name" columns, the one that repeats the table's name names its rows.
  const TableEntry* team = index->FindTable("team");
  ASSERT_NE(team, nullptr);
  ASSERT_NE(team->label, nullptr);
  EXPECT_EQ(team->label->column->name, "team_name");
  opened = {};
  fs::remove_all(dir);
}

// Databases that declare no foreign keys: a column named as another table's single-column
// primary key refers to it, except where that would guess (a bare "id", two tables keyed
// alike, a pair of tables already linked by a declared key, columns of another kind).
TEST(SchemaIndexInferredKeysTest, AColumnNamedAsAnotherTablesKeyRefersToIt) {
  const fs::path dir = fs::temp_directory_path() / ("helios_schema_fk_" + text::NewUuid());
  fs::create_directories(dir);
  const std::string path = (dir / "undeclared.db").string();
  ASSERT_EQ(testing::ExecSqlite(path, R"sql(
    CREATE TABLE troupe(troupe_id INTEGER PRIMARY KEY, troupe_name TEXT);
    CREATE TABLE dancer(dancer_id INTEGER PRIMARY KEY, dancer_name TEXT, troupe_id INTEGER);
    CREATE TABLE venue(id INTEGER PRIMARY KEY, venue_name TEXT);
    CREATE TABLE gig(gig_id INTEGER PRIMARY KEY, id INTEGER, troupe_id TEXT);
    CREATE TABLE dancer_bio(dancer_id INTEGER PRIMARY KEY, bio TEXT);
    CREATE TABLE stage(stage_id INTEGER PRIMARY KEY, stage_name TEXT);
    CREATE TABLE booking(booking_id INTEGER PRIMARY KEY, stage_ref INTEGER REFERENCES stage(stage_id),
                         stage_id INTEGER);
  )sql"),
            "");
  SqliteIndex opened;
  ASSERT_NO_FATAL_FAILURE(OpenSqliteIndex(path, &opened));
  const auto& index = *opened.index;
  auto joins = [&](const std::string& from, const std::string& to) {
    auto j = index.PlanJoins(from, {to});
    if (!j) return std::string("unreachable");
    std::vector<std::string> parts;
    for (const auto& e : *j)
      parts.push_back(e.left.table + "." + e.left.column + "=" + e.right.table + "." +
                      e.right.column);
    return text::Join(parts, "; ");
  };
  EXPECT_EQ(joins("dancer", "troupe"), "dancer.troupe_id=troupe.troupe_id");
  EXPECT_EQ(joins("troupe", "dancer"), "troupe.troupe_id=dancer.troupe_id");
  // "id" alone names nothing; a text column is no reference to an integer key.
  EXPECT_EQ(joins("gig", "venue"), "unreachable");
  EXPECT_EQ(joins("gig", "troupe"), "unreachable");
  // Two tables keyed alike are not parent and child.
  EXPECT_EQ(joins("dancer_bio", "dancer"), "unreachable");
  // A declared key wins over a namesake column.
  EXPECT_EQ(joins("booking", "stage"), "booking.stage_ref=stage.stage_id");
  opened = {};
  fs::remove_all(dir);
}

TEST_F(SchemaIndexTest, ColumnsWithTooManyValuesAreNotIndexed) {
  auto small = SchemaIndex::Build(*catalog_, *source_, 3);
  ASSERT_TRUE(small) << small.error().message;
  EXPECT_EQ((*small)->LookupValue("london"), nullptr);  // members.city has 4 values
  EXPECT_EQ((*small)->FindColumn("members", "city")->distinct_values, 0u);
  ASSERT_NE((*small)->LookupValue("england"), nullptr);  // authors.country has 3
  EXPECT_EQ((*small)->FindColumn("authors", "country")->distinct_values, 3u);
}

TEST_F(SchemaIndexTest, TablesAreFoundByTheirWordsInEitherNumber) {
  EXPECT_EQ(PhraseKey({"book"}), PhraseKey({"books"}));
  EXPECT_THAT(Targets({"book"}), ElementsAre("books/6"));
  // "loaned_on" starts with the verb of the table's noun: a weak name for the column.
  EXPECT_THAT(Targets({"loans"}), ElementsAre("loans/6", "loans.loaned_on/2"));
  EXPECT_THAT(Targets({"member"}), ElementsAre("members/6"));
  // "author" names the table only: its id columns are keys, not names of the table.
  EXPECT_THAT(Targets({"author"}), ElementsAre("authors/6"));
  EXPECT_THAT(Targets({"branch"}), ElementsAre("branches/6", "branches.branch_name/2"));
}

TEST_F(SchemaIndexTest, ColumnsAreFoundByAllTheirWordsTheirHeadAndSynonyms) {
  EXPECT_THAT(Targets({"first", "name"}), ElementsAre("members.first_name/6"));
  EXPECT_THAT(Targets({"loaned", "on"}), ElementsAre("loans.loaned_on/6"));
  EXPECT_THAT(Targets({"in", "print"}), ElementsAre("books.in_print/6"));
  EXPECT_THAT(Targets({"print"}), ElementsAre("books.in_print/4"));
  EXPECT_THAT(Targets({"price"}), ElementsAre("books.price/6"));
  EXPECT_THAT(Targets({"prices"}), ElementsAre("books.price/6"));
  EXPECT_THAT(Targets({"cost"}), ElementsAre("books.price/3"));
  EXPECT_THAT(Targets({"town"}), ElementsAre("members.city/3"));
  EXPECT_THAT(Targets({"full"}), ElementsAre("authors.full_name/2"));
  EXPECT_THAT(Targets({"name"}), UnorderedElementsAre("authors.full_name/4", "members.first_name/4",
                                                      "members.last_name/4",
                                                      "branches.branch_name/4", "books.title/3"));
  EXPECT_THAT(Targets({"title"}), Contains("books.title/6"));
  EXPECT_THAT(Targets({"zebra"}), IsEmpty());
  EXPECT_EQ(index().LookupPhrase(PhraseKey({"zebra"})), nullptr);
  EXPECT_EQ(index().LookupPhrase(""), nullptr);
}

TEST_F(SchemaIndexTest, PlanJoinsFollowsForeignKeysBothWays) {
  EXPECT_EQ(JoinsText(index().PlanJoins("loans", {"members"})),
            "members ON loans.member_id = members.member_id");
  EXPECT_EQ(JoinsText(index().PlanJoins("books", {"authors"})),
            "authors ON books.author_id = authors.author_id");
  // Two steps, each along a foreign key.
  EXPECT_EQ(JoinsText(index().PlanJoins("loans", {"authors"})),
            "books ON loans.book_id = books.book_id; "
            "authors ON books.author_id = authors.author_id");
  // From the referenced side.
  EXPECT_EQ(JoinsText(index().PlanJoins("authors", {"loans"})),
            "books ON authors.author_id = books.author_id; "
            "loans ON books.book_id = loans.book_id");
  EXPECT_EQ(JoinsText(index().PlanJoins("members", {"authors"})),
            "loans ON members.member_id = loans.member_id; "
            "books ON loans.book_id = books.book_id; "
            "authors ON books.author_id = authors.author_id");
}

TEST_F(SchemaIndexTest, PlanJoinsReusesTablesAlreadyJoined) {
  // books is on the way to authors: it is joined once.
  EXPECT_EQ(JoinsText(index().PlanJoins("loans", {"authors", "books", "members"})),
            "books ON loans.book_id = books.book_id; "
            "authors ON books.author_id = authors.author_id; "
            "members ON loans.member_id = members.member_id");
  EXPECT_EQ(JoinsText(index().PlanJoins("loans", {"LOANS"})), "");
  EXPECT_EQ(JoinsText(index().PlanJoins("books", {})), "");
}

TEST_F(SchemaIndexTest, PlanJoinsRefusesUnconnectedTables) {
  EXPECT_EQ(JoinsText(index().PlanJoins("books", {"branches"})), "unreachable");
  EXPECT_EQ(JoinsText(index().PlanJoins("branches", {"members"})), "unreachable");
  EXPECT_EQ(JoinsText(index().PlanJoins("books", {"authors", "branches"})), "unreachable");
  EXPECT_EQ(JoinsText(index().PlanJoins("books", {"no_such_table"})), "unreachable");
}

TEST_F(SchemaIndexTest, FansOutWhenWalkingFromParentToChildren) {
  EXPECT_TRUE(index().FansOut("authors", "books"));
  EXPECT_TRUE(index().FansOut("members", "loans"));
  EXPECT_TRUE(index().FansOut("books", "loans"));
  EXPECT_TRUE(index().FansOut("books", "members"));  // through loans
  EXPECT_TRUE(index().FansOut("authors", "loans"));
}

TEST_F(SchemaIndexTest, DoesNotFanOutAlongManyToOneSteps) {
  EXPECT_FALSE(index().FansOut("books", "authors"));
  EXPECT_FALSE(index().FansOut("loans", "members"));
  EXPECT_FALSE(index().FansOut("loans", "authors"));  // loans -> books -> authors
  EXPECT_FALSE(index().FansOut("loans", "loans"));
  EXPECT_FALSE(index().FansOut("LOANS", "Books"));
}

TEST_F(SchemaIndexTest, UnreachableTablesCountAsFanningOut) {
  // No safe assumption can be made about a table that no join reaches.
  EXPECT_TRUE(index().FansOut("books", "branches"));
}

TEST_F(SchemaIndexTest, IsReferenced) {
  EXPECT_TRUE(index().IsReferenced("authors"));
  EXPECT_TRUE(index().IsReferenced("books"));
  EXPECT_TRUE(index().IsReferenced("Members"));
  EXPECT_FALSE(index().IsReferenced("loans"));
  EXPECT_FALSE(index().IsReferenced("branches"));
  EXPECT_FALSE(index().IsReferenced("no_such_table"));
}

TEST(ValueTextTest, NormalizeDropsPunctuationAndCase) {
  EXPECT_EQ(NormalizeValueText("Toys & Games"), "toys games");
  EXPECT_EQ(NormalizeValueText("  O'Brien-Smith  "), "o brien smith");
  EXPECT_EQ(NormalizeValueText("1Q84"), "1q84");
  EXPECT_EQ(NormalizeValueText("Zürich"), "zürich");
  EXPECT_EQ(NormalizeValueText("&&"), "");
  EXPECT_EQ(NormalizeValueText(""), "");
}

TEST(ValueTextTest, LemmatizeEachWord) {
  EXPECT_EQ(LemmatizeValueText("sales managers"), "sale manager");
  EXPECT_EQ(LemmatizeValueText("london"), "london");
  EXPECT_EQ(LemmatizeValueText(""), "");
}

TEST(PhraseKeyTest, JoinsWordKeysWithSpaces) {
  EXPECT_EQ(PhraseKey({"order", "items"}), PhraseKey({"orders", "item"}));
  EXPECT_EQ(PhraseKey({}), "");
  EXPECT_EQ(PhraseKey({"customers"}), Key("customer"));
  EXPECT_NE(PhraseKey({"order", "items"}), PhraseKey({"items", "order"}));
}

}  // namespace
}  // namespace helios::nl2sql::engine
