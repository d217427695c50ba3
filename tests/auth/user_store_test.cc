#include "auth/user_store.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "auth/password.h"
#include "common/clock.h"

namespace helios::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;
using std::chrono::milliseconds;

const std::string& TestHash() {
  static const std::string hash = *HashPassword(
      "correct horse battery", {.memory_kib = 256, .iterations = 1, .parallelism = 1});
  return hash;
}

User MakeUser(std::string name, std::string tenant = "acme",
              std::vector<std::string> roles = {"analyst"}) {
  return User{std::move(name), std::move(tenant), std::move(roles), TestHash()};
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// One entry's JSON with the test hash, for hand-written files.
std::string Entry(std::string_view name, std::string_view tenant = "acme",
                  std::string_view roles = R"(["analyst"])") {
  return fmt::format(R"({{"username": "{}", "tenant": "{}", "roles": {}, "password_hash": "{}"}})",
                     name, tenant, roles, TestHash());
}

class UserStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("helios-user-store-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "users.json").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path dir_;
  std::string path_;
};

TEST(UserSyntaxTest, NamesTenantsAndRoles) {
  EXPECT_TRUE(IsValidUsername("alice"));
  EXPECT_TRUE(IsValidUsername("a.b_c-d@example.com"));
  EXPECT_TRUE(IsValidUsername(std::string(64, 'a')));
  EXPECT_FALSE(IsValidUsername(""));
  EXPECT_FALSE(IsValidUsername(std::string(65, 'a')));
  EXPECT_FALSE(IsValidUsername("al ice"));
  EXPECT_FALSE(IsValidUsername("alice:1"));
  EXPECT_FALSE(IsValidUsername("ålice"));

  EXPECT_TRUE(IsValidTenant("acme-corp.eu_1"));
  EXPECT_FALSE(IsValidTenant("acme@corp"));
  EXPECT_FALSE(IsValidTenant(""));
  EXPECT_FALSE(IsValidTenant(std::string(65, 't')));

  EXPECT_TRUE(IsValidRole("analyst"));
  EXPECT_TRUE(IsValidRole("read_only"));
  EXPECT_FALSE(IsValidRole("Admin"));
  EXPECT_FALSE(IsValidRole("role1"));
  EXPECT_FALSE(IsValidRole(""));
  EXPECT_FALSE(IsValidRole(std::string(33, 'r')));
}

TEST_F(UserStoreTest, LoadsAValidFileInOrder) {
  WriteFile(path_, R"({"users": [)" + Entry("bob", "acme", R"(["admin", "analyst"])") + "," +
                       Entry("alice", "globex") + "]}");
  auto store = UserStore::Load(path_);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  ASSERT_EQ(store->List().size(), 2u);
  EXPECT_EQ(store->List()[0].username, "bob");
  EXPECT_EQ(store->List()[0].roles, (std::vector<std::string>{"admin", "analyst"}));
  EXPECT_EQ(store->List()[1].username, "alice");
  ASSERT_NE(store->Find("alice"), nullptr);
  EXPECT_EQ(store->Find("alice")->tenant, "globex");
  EXPECT_EQ(store->Find("alice")->password_hash, TestHash());
  EXPECT_EQ(store->Find("carol"), nullptr);
}

TEST_F(UserStoreTest, AnEmptyListIsValid) {
  WriteFile(path_, R"({"users": []})");
  auto store = UserStore::Load(path_);
  ASSERT_TRUE(store.has_value());
  EXPECT_TRUE(store->List().empty());
}

TEST_F(UserStoreTest, MissingFileIsNotFoundAndNamesTheFile) {
  auto store = UserStore::Load(path_);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(store.error().message, HasSubstr(path_));
  EXPECT_THAT(store.error().message, HasSubstr("not found"));
}

TEST_F(UserStoreTest, UnreadableFileIsUnavailableAndNamesTheFile) {
  // A path through a regular file cannot be opened, even by root.
  WriteFile(dir_ / "plain", "x");
  const std::string through_file = (dir_ / "plain" / "users.json").string();
  auto store = UserStore::Load(through_file);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(store.error().message, HasSubstr(through_file));
  EXPECT_THAT(store.error().message, HasSubstr("cannot read"));

  // A directory is not a users file.
  auto dir = UserStore::Load(dir_.string());
  ASSERT_FALSE(dir.has_value());
  EXPECT_THAT(dir.error().message, HasSubstr("not a regular file"));
}

TEST_F(UserStoreTest, PermissionDeniedIsUnavailable) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads any file";
  WriteFile(path_, R"({"users": []})");
  fs::permissions(path_, fs::perms::none);
  auto store = UserStore::Load(path_);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(store.error().message, HasSubstr(path_));
}

TEST_F(UserStoreTest, BadJsonNamesTheFileAndThePlace) {
  WriteFile(path_, "{\"users\": [\n  {\"username\": \"alice\",,}\n]}");
  auto store = UserStore::Load(path_);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(store.error().message, HasSubstr(path_ + ": not valid JSON"));
  EXPECT_THAT(store.error().message, HasSubstr("line 2"));
  EXPECT_THAT(store.error().message, Not(HasSubstr("json.exception")));
}

TEST_F(UserStoreTest, WrongShapeIsRefused) {
  for (std::string_view text :
       {R"([])", R"({})", R"({"users": {}})", R"({"users": [], "x": 1})", R"("users")"}) {
    auto store = UserStore::Parse(text, "users.json");
    ASSERT_FALSE(store.has_value()) << text;
    EXPECT_EQ(store.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(store.error().message, HasSubstr("users.json: ")) << text;
  }
}

TEST_F(UserStoreTest, ABadEntryIsNamedByIndexAndUsername) {
  struct Case {
    std::string entry;
    std::string expected;
  };
  const std::string hash = TestHash();
  const std::vector<Case> cases = {
      {Entry("bad name"), "users[1]: username must be"},
      {Entry("carol", "bad tenant!"), "users[1] (\"carol\"): tenant must be"},
      {Entry("carol", "acme", "[]"), "users[1] (\"carol\"): at least one role"},
      {Entry("carol", "acme", R"(["Admin"])"), "role \"Admin\" must be"},
      {Entry("carol", "acme", R"(["analyst", "analyst"])"), "listed twice"},
      {Entry("carol", "acme", R"("analyst")"), "roles must be an array of strings"},
      {Entry("carol", "acme", R"([1])"), "roles must be an array of strings"},
      {R"({"username": "carol", "tenant": "acme", "roles": ["analyst"]})",
       "users[1] (\"carol\"): password_hash is missing"},
      {R"({"username": "carol", "tenant": "acme", "roles": ["analyst"], "password_hash": "x"})",
       "users[1] (\"carol\"): password_hash is not a valid Argon2id hash"},
      {R"({"username": 7, "tenant": "acme", "roles": ["analyst"], "password_hash": "x"})",
       "users[1]: username must be a string"},
      {R"({"tenant": "acme", "roles": ["analyst"], "password_hash": ")" + hash + R"("})",
       "users[1]: username is missing"},
      {R"({"username": "carol", "tenant": "acme", "roles": ["analyst"], "password_hash": ")" +
           hash + R"(", "pasword": "x"})",
       "unknown key \"pasword\""},
      {R"("carol")", "users[1]: must be an object"},
  };
  for (const auto& c : cases) {
    WriteFile(path_, R"({"users": [)" + Entry("alice") + ", " + c.entry + "]}");
    auto store = UserStore::Load(path_);
    ASSERT_FALSE(store.has_value()) << c.entry;
    EXPECT_EQ(store.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(store.error().message, HasSubstr(path_ + ": users[1]")) << c.entry;
    EXPECT_THAT(store.error().message, HasSubstr(c.expected)) << c.entry;
  }
}

TEST_F(UserStoreTest, DuplicateUsernamesAreRefused) {
  WriteFile(path_, R"({"users": [)" + Entry("alice") + "," + Entry("bob") + "," +
                       Entry("alice", "globex") + "]}");
  auto store = UserStore::Load(path_);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(store.error().message, HasSubstr(path_));
  EXPECT_THAT(store.error().message,
              HasSubstr("users[2]: user \"alice\" is already defined by users[0]"));
}

TEST_F(UserStoreTest, AddRemoveAndFind) {
  UserStore store;
  ASSERT_TRUE(store.Add(MakeUser("alice")).has_value());
  ASSERT_TRUE(store.Add(MakeUser("bob", "globex", {"admin"})).has_value());

  auto dup = store.Add(MakeUser("alice", "other"));
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(dup.error().message, HasSubstr("already exists"));
  EXPECT_EQ(store.Find("alice")->tenant, "acme");

  auto invalid = store.Add(MakeUser("carol", "acme", {}));
  ASSERT_FALSE(invalid.has_value());
  EXPECT_EQ(invalid.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(store.List().size(), 2u);

  auto unknown = store.Remove("carol");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store.Remove("alice").has_value());
  EXPECT_EQ(store.Find("alice"), nullptr);
  ASSERT_EQ(store.List().size(), 1u);
  EXPECT_EQ(store.List()[0].username, "bob");
}

TEST_F(UserStoreTest, SaveWritesMode0600AndReloadsTheSameUsers) {
  // An existing, world-readable file is replaced by a private one.
  WriteFile(path_, R"({"users": []})");
  fs::permissions(path_, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                             fs::perms::others_read);
  UserStore store;
  ASSERT_TRUE(store.Add(MakeUser("alice")).has_value());
  ASSERT_TRUE(store.Add(MakeUser("bob@example.com", "globex", {"admin", "analyst"})).has_value());
  auto saved = store.Save(path_);
  ASSERT_TRUE(saved.has_value()) << saved.error().message;

  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto reloaded = UserStore::Load(path_);
  ASSERT_TRUE(reloaded.has_value()) << reloaded.error().message;
  EXPECT_EQ(reloaded->List(), store.List());
  EXPECT_EQ(ReadFile(path_), store.ToJson());
  EXPECT_TRUE(ReadFile(path_).ends_with("}\n"));

  // Nothing but the file is left in the directory.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(UserStoreTest, SaveCreatesAMissingFileEvenWithAPermissiveUmask) {
  const mode_t old = ::umask(0);
  UserStore store;
  ASSERT_TRUE(store.Add(MakeUser("alice")).has_value());
  auto saved = store.Save(path_);
  ::umask(old);
  ASSERT_TRUE(saved.has_value()) << saved.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(UserStoreTest, AFailedSaveLeavesTheOldFileAndNoTempFile) {
  // The target is a non-empty directory, so the final rename fails after the data is written.
  fs::create_directories(dir_ / "users.json" / "inside");
  UserStore store;
  ASSERT_TRUE(store.Add(MakeUser("alice")).has_value());
  auto saved = store.Save(path_);
  ASSERT_FALSE(saved.has_value());
  EXPECT_EQ(saved.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(saved.error().message, HasSubstr(path_));
  EXPECT_TRUE(fs::is_directory(dir_ / "users.json" / "inside"));
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 1);

  // A missing directory fails before writing anything.
  auto nowhere = store.Save((dir_ / "missing" / "users.json").string());
  ASSERT_FALSE(nowhere.has_value());
  EXPECT_EQ(nowhere.error().code, ErrorCode::kUnavailable);
}

TEST_F(UserStoreTest, SaveIntoTheWorkingDirectoryWithABareName) {
  const fs::path old = fs::current_path();
  fs::current_path(dir_);
  UserStore store;
  ASSERT_TRUE(store.Add(MakeUser("alice")).has_value());
  auto saved = store.Save("bare.json");
  fs::current_path(old);
  ASSERT_TRUE(saved.has_value()) << saved.error().message;
  EXPECT_TRUE(fs::is_regular_file(dir_ / "bare.json"));
}

class UserDirectoryTest : public UserStoreTest {
 protected:
  void SetUp() override {
    UserStoreTest::SetUp();
    UserStore initial;
    ASSERT_TRUE(initial.Add(MakeUser("alice")).has_value());
    ASSERT_TRUE(initial.Save(path_).has_value());
    UserDirectoryOptions options;
    options.on_reload_error = [this](const Error& e) { reported_.push_back(e); };
    auto dir = UserDirectory::Open(path_, clock_, options);
    ASSERT_TRUE(dir.has_value()) << dir.error().message;
    directory_ = std::move(*dir);
  }

  // Saves a store holding users named `names` (tenant acme).
  void SaveUsers(const std::vector<std::string>& names) {
    UserStore store;
    for (const auto& n : names) ASSERT_TRUE(store.Add(MakeUser(n)).has_value());
    ASSERT_TRUE(store.Save(path_).has_value());
  }

  FakeClock clock_;
  std::vector<Error> reported_;
  std::unique_ptr<UserDirectory> directory_;
};

TEST_F(UserDirectoryTest, OpenFailsForAMissingOrInvalidFile) {
  FakeClock clock;
  auto missing = UserDirectory::Open((dir_ / "nope.json").string(), clock);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  WriteFile(dir_ / "bad.json", "{");
  auto bad = UserDirectory::Open((dir_ / "bad.json").string(), clock);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(UserDirectoryTest, FindsUsers) {
  auto alice = directory_->Find("alice");
  ASSERT_TRUE(alice.has_value());
  EXPECT_EQ(alice->tenant, "acme");
  EXPECT_FALSE(directory_->Find("bob").has_value());
  EXPECT_EQ(directory_->Snapshot()->List().size(), 1u);
  EXPECT_EQ(directory_->path(), path_);
}

TEST_F(UserDirectoryTest, ReloadsAChangedFileAtMostOncePerSecond) {
  SaveUsers({"alice", "bob"});
  // Not checked yet: the last check (at open) was less than a second ago.
  EXPECT_FALSE(directory_->Find("bob").has_value());
  clock_.Advance(milliseconds(999));
  EXPECT_FALSE(directory_->Find("bob").has_value());
  clock_.Advance(milliseconds(1));
  EXPECT_TRUE(directory_->Find("bob").has_value());

  // A removal is picked up the same way.
  SaveUsers({"bob"});
  EXPECT_TRUE(directory_->Find("alice").has_value());
  clock_.Advance(milliseconds(1000));
  EXPECT_FALSE(directory_->Find("alice").has_value());
  EXPECT_TRUE(reported_.empty());
  EXPECT_FALSE(directory_->LastReloadError().has_value());
}

TEST_F(UserDirectoryTest, AnInPlaceEditOfAnotherSizeIsPickedUp) {
  // Rewritten in place (same inode), as an editor might: the size changes.
  WriteFile(path_, R"({"users": [)" + Entry("alice") + ", " + Entry("carol") + "]}");
  clock_.Advance(milliseconds(1000));
  EXPECT_TRUE(directory_->Find("carol").has_value());
}

TEST_F(UserDirectoryTest, KeepsTheLastGoodCopyWhenTheNewFileIsInvalid) {
  auto before = directory_->Snapshot();
  WriteFile(path_, R"({"users": [)" + Entry("alice") + ", " + Entry("alice") + "]}");
  clock_.Advance(milliseconds(1000));
  EXPECT_TRUE(directory_->Find("alice").has_value());
  EXPECT_EQ(directory_->Snapshot(), before);
  ASSERT_EQ(reported_.size(), 1u);
  EXPECT_EQ(reported_[0].code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(reported_[0].message, HasSubstr("already defined"));
  ASSERT_TRUE(directory_->LastReloadError().has_value());
  EXPECT_THAT(directory_->LastReloadError()->message, HasSubstr(path_));

  // The same bad file is reported once, not on every check.
  clock_.Advance(milliseconds(1000));
  EXPECT_TRUE(directory_->Find("alice").has_value());
  EXPECT_EQ(reported_.size(), 1u);

  // A fixed file replaces the old copy and clears the error.
  SaveUsers({"alice", "dave"});
  clock_.Advance(milliseconds(1000));
  EXPECT_TRUE(directory_->Find("dave").has_value());
  EXPECT_FALSE(directory_->LastReloadError().has_value());
  EXPECT_EQ(reported_.size(), 1u);
}

TEST_F(UserDirectoryTest, KeepsTheLastGoodCopyWhenTheFileDisappears) {
  fs::remove(path_);
  clock_.Advance(milliseconds(1000));
  EXPECT_TRUE(directory_->Find("alice").has_value());
  ASSERT_EQ(reported_.size(), 1u);
  EXPECT_EQ(reported_[0].code, ErrorCode::kNotFound);

  SaveUsers({"erin"});
  clock_.Advance(milliseconds(1000));
  EXPECT_TRUE(directory_->Find("erin").has_value());
  EXPECT_FALSE(directory_->Find("alice").has_value());
}

TEST_F(UserDirectoryTest, SnapshotsStayValidAfterAReload) {
  auto old = directory_->Snapshot();
  SaveUsers({"bob"});
  clock_.Advance(milliseconds(1000));
  auto fresh = directory_->Snapshot();
  EXPECT_NE(old, fresh);
  ASSERT_NE(old->Find("alice"), nullptr);  // the old snapshot is untouched
  EXPECT_EQ(fresh->Find("alice"), nullptr);
}

}  // namespace
}  // namespace helios::auth
