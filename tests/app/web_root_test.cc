// The real binary and the web chat's files: [server] web_root served at `/`, web_chat = false
// serving the API only, and a configured web_root that is missing stopping start-up with a
// message that says so.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/child_process.h"
#include "support/served_binary.h"

namespace helios::app {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class WebRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(web_ / "assets");
    std::ofstream(web_ / "index.html") << "<!doctype html><title>chat</title>";
    std::ofstream(web_ / "assets" / "app-0123456789.js") << "console.log(1);";
  }

  // Starts the binary with this [server] section tail; returns its port (0: it did not start).
  int Serve(const std::string& server_keys) {
    std::ofstream(dir_.path() / "server.toml")
        << "[server]\nhost = \"127.0.0.1\"\nport = 0\n"
        << server_keys << "\n[auth]\nenabled = false\n[metrics]\nenabled = false\n";
    served_ = std::make_unique<testing::ServedBinary>(
        HELIOS_BINARY,
        std::vector<std::string>{"--config", "server.toml", "serve", "--database",
                                 "sqlite://" + std::string(HELIOS_DEMO_DB)},
        dir_.path(), std::vector<std::string>{});
    return served_->PortOf("listening");
  }

  testing::TempDir dir_{"helios-web-root"};
  fs::path web_ = dir_.path() / "web";
  std::unique_ptr<testing::ServedBinary> served_;
};

TEST_F(WebRootTest, TheConfiguredDirectoryIsServedAtTheRoot) {
  const int port = Serve("web_root = \"" + web_.string() + "\"");
  ASSERT_NE(port, 0) << served_->out() << served_->err();
  httplib::Client client("127.0.0.1", port);
  auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->body, "<!doctype html><title>chat</title>");
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  auto script = client.Get("/assets/app-0123456789.js");
  ASSERT_TRUE(script);
  EXPECT_EQ(script->status, 200);
  EXPECT_EQ(script->body, "console.log(1);");
  // The API is still there.
  auto health = client.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_NE(served_->out().find("serving the web chat"), std::string::npos) << served_->out();
}

TEST_F(WebRootTest, WebChatOffServesTheApiOnly) {
  const int port = Serve("web_chat = false\nweb_root = \"" + web_.string() + "\"");
  ASSERT_NE(port, 0) << served_->out() << served_->err();
  httplib::Client client("127.0.0.1", port);
  auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 404);
  EXPECT_NE(page->body.find("web_chat"), std::string::npos) << page->body;
  auto health = client.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_F(WebRootTest, AMissingConfiguredDirectoryStopsStartUp) {
  const int port = Serve("web_root = \"" + (dir_.path() / "nowhere").string() + "\"");
  EXPECT_EQ(port, 0);
  auto code = served_->Wait(30s);
  ASSERT_TRUE(code.has_value()) << "the server should have exited";
  EXPECT_NE(*code, 0);
  EXPECT_NE(served_->err().find("web_root"), std::string::npos) << served_->err();
  EXPECT_NE(served_->err().find("does not exist"), std::string::npos) << served_->err();
}

}  // namespace
}  // namespace helios::app
