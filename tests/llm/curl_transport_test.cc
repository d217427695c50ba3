// CurlTransport against a local HTTP server: statuses, headers and bodies both ways, connection
// reuse, timeouts, unreachable hosts, and error messages that never carry request headers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "llm/fake_server.h"
#include "llm/http_transport.h"

namespace helios::llm {
namespace {

using testing::ClosedPort;
using testing::FakeServer;
using ::testing::HasSubstr;
using testing::kApiKey;
using ::testing::Not;
using testing::Reply;

// A self-signed certificate for 127.0.0.1 (EC P-256, made for this test with
// `openssl req -x509`); no client trusts it, so a verifying client must refuse the server.
constexpr const char* kSelfSignedCert =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBkDCCATagAwIBAgIUGF/AoQt2QIDsoG9IWD5AfMqAJ3cwCgYIKoZIzj0EAwIw\n"
    "FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEyOTA0NDU0MFoYDzIxMjYxMTA1\n"
    "MDQ0NTQwWjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO\n"
    "PQMBBwNCAASt5pku6QbhzjTckU7B8ZPpG/7toLBZA9XZqBDoGlR7TbJZLY8y4UEF\n"
    "ZGa/8V83v+MNu3F1fjX9ndnxSUFtUmZio2QwYjAdBgNVHQ4EFgQUPYfjXCtvFBNk\n"
    "jN0sEBLeep1wVsUwHwYDVR0jBBgwFoAUPYfjXCtvFBNkjN0sEBLeep1wVsUwDwYD\n"
    "VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0gAMEUC\n"
    "IQDk5ldc8epPi0JjD4H+20/IhlN4uimUlnBxKLhQzRxqngIgLAv6H2HCgCAc5FON\n"
    "L776pnXLznP5nvruSXrUq73goVs=\n"
    "-----END CERTIFICATE-----\n";
constexpr const char* kSelfSignedKey =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgRwUwyR2h1m8AURqc\n"
    "MOnb4joXKWrpq3ioV53tgQ48yCWhRANCAASt5pku6QbhzjTckU7B8ZPpG/7toLBZ\n"
    "A9XZqBDoGlR7TbJZLY8y4UEFZGa/8V83v+MNu3F1fjX9ndnxSUFtUmZi\n"
    "-----END PRIVATE KEY-----\n";

FakeServer::Check AcceptAll() {
  return [](const httplib::Request&) { return std::optional<Reply>(); };
}

HttpRequest Post(const FakeServer& server, std::string path, std::string body) {
  HttpRequest request;
  request.method = "POST";
  request.url = server.base_url() + path;
  request.headers = {{"Content-Type", "application/json"},
                     {"Authorization", std::string("Bearer ") + kApiKey},
                     {"X-Custom", "custom value"}};
  request.body = std::move(body);
  request.timeout = std::chrono::seconds(10);
  return request;
}

TEST(CurlTransportTest, SendsMethodPathHeadersAndBodyAndReadsTheAnswer) {
  FakeServer server(AcceptAll(), Reply{});
  server.Script(Reply{201,
                      R"({"ok":true})",
                      "application/json",
                      {{"X-Request-Id", "req_123"}, {"Retry-After", "7"}},
                      false});
  auto transport = MakeCurlTransport();

  auto response = transport->Send(Post(server, "/v1/echo?x=1", R"({"question":"hé"})"));

  ASSERT_TRUE(response.has_value()) << response.error().message;
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, R"({"ok":true})");
  EXPECT_EQ(response->Header("x-request-id"), "req_123");
  EXPECT_EQ(response->Header("RETRY-AFTER"), "7");
  EXPECT_EQ(response->Header("Content-Type"), "application/json");
  EXPECT_EQ(response->Header("X-Absent"), "");

  const auto seen = server.last();
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.path, "/v1/echo");
  EXPECT_EQ(seen.body, R"({"question":"hé"})");
  EXPECT_EQ(seen.Header("Content-Type"), "application/json");
  EXPECT_EQ(seen.Header("X-Custom"), "custom value");
  EXPECT_EQ(seen.Header("Authorization"), std::string("Bearer ") + kApiKey);
  EXPECT_FALSE(seen.HasHeader("Expect"));
}

TEST(CurlTransportTest, AnyStatusIsAResponse) {
  FakeServer server(AcceptAll(), Reply{});
  server.Script(Reply{503, "busy", "text/plain", {}, false});
  server.Script(Reply{404, R"({"error":"nope"})", "application/json", {}, false});
  auto transport = MakeCurlTransport();

  auto first = transport->Send(Post(server, "/a", "{}"));
  auto second = transport->Send(Post(server, "/b", "{}"));

  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->status, 503);
  EXPECT_EQ(first->body, "busy");
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->status, 404);
}

TEST(CurlTransportTest, SendsGetRequests) {
  FakeServer server(AcceptAll(), Reply{200, "pong", "text/plain", {}, false});
  auto transport = MakeCurlTransport();
  HttpRequest request;
  request.method = "GET";
  request.url = server.base_url() + "/ping";
  request.timeout = std::chrono::seconds(10);

  auto response = transport->Send(request);

  ASSERT_TRUE(response.has_value()) << response.error().message;
  EXPECT_EQ(response->body, "pong");
  EXPECT_EQ(server.last().method, "GET");
}

TEST(CurlTransportTest, ReusesTheConnectionAcrossCalls) {
  FakeServer server(AcceptAll(), Reply{200, "{}", "application/json", {}, false});
  auto transport = MakeCurlTransport();

  for (int i = 0; i < 3; ++i) {
    auto response = transport->Send(Post(server, "/v1/chat", "{}"));
    ASSERT_TRUE(response.has_value()) << response.error().message;
  }

  const auto seen = server.seen();
  ASSERT_EQ(seen.size(), 3u);
  // The same client port means the same TCP connection.
  EXPECT_GT(seen[0].remote_port, 0);
  EXPECT_EQ(seen[1].remote_port, seen[0].remote_port);
  EXPECT_EQ(seen[2].remote_port, seen[0].remote_port);
}

TEST(CurlTransportTest, TimesOutWithDeadlineExceededAndNoHeadersInTheMessage) {
  FakeServer server(AcceptAll(), Reply{});
  server.Script(Reply{200, "{}", "application/json", {}, /*hang=*/true});
  auto transport = MakeCurlTransport();
  HttpRequest request = Post(server, "/slow", "{}");
  request.timeout = std::chrono::milliseconds(200);

  auto response = transport->Send(request);

  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_THAT(response.error().message, HasSubstr("127.0.0.1"));
  EXPECT_THAT(response.error().message, Not(HasSubstr(kApiKey)));
  EXPECT_THAT(response.error().message, Not(HasSubstr("custom value")));
}

TEST(CurlTransportTest, RefusesToSendWithoutTimeLeft) {
  FakeServer server(AcceptAll(), Reply{});
  auto transport = MakeCurlTransport();
  HttpRequest request = Post(server, "/x", "{}");
  request.timeout = std::chrono::milliseconds(0);

  auto response = transport->Send(request);

  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_TRUE(server.seen().empty());
}

TEST(CurlTransportTest, UnreachablePortIsUnavailable) {
  auto transport = MakeCurlTransport();
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/v1/chat/completions";
  request.headers = {{"Authorization", std::string("Bearer ") + kApiKey}};
  request.body = "{}";
  request.timeout = std::chrono::seconds(5);

  auto response = transport->Send(request);

  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(response.error().message, HasSubstr("could not reach 127.0.0.1"));
  EXPECT_THAT(response.error().message, Not(HasSubstr(kApiKey)));
}

TEST(CurlTransportTest, RefusesHeadersWithLineBreaks) {
  FakeServer server(AcceptAll(), Reply{});
  auto transport = MakeCurlTransport();
  HttpRequest request = Post(server, "/x", "{}");
  request.headers.emplace_back("Authorization", std::string("Bearer ") + kApiKey + "\r\nX-Evil: 1");

  auto response = transport->Send(request);

  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(response.error().message, Not(HasSubstr(kApiKey)));
  EXPECT_TRUE(server.seen().empty());
}

TEST(CurlTransportTest, OnlyHttpAndHttpsAreAllowed) {
  auto transport = MakeCurlTransport();
  HttpRequest request;
  request.url = "file:///etc/passwd";
  request.timeout = std::chrono::seconds(5);

  auto response = transport->Send(request);

  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code, ErrorCode::kInvalidArgument);
}

TEST(CurlTransportTest, VerifiesTlsCertificates) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("helios-llm-tls-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto cert = (dir / "cert.pem").string();
  const auto key = (dir / "key.pem").string();
  std::ofstream(cert) << kSelfSignedCert;
  std::ofstream(key) << kSelfSignedKey;
  httplib::SSLServer server(cert.c_str(), key.c_str());
  ASSERT_TRUE(server.is_valid());
  server.Get(".*", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("should not be read", "text/plain");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread thread([&server] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::yield();

  Result<HttpResponse> response;
  {
    auto transport = MakeCurlTransport();
    HttpRequest request;
    request.method = "GET";
    request.url = "https://127.0.0.1:" + std::to_string(port) + "/";
    request.timeout = std::chrono::seconds(10);
    response = transport->Send(request);
  }
  server.stop();
  thread.join();
  std::filesystem::remove_all(dir);

  ASSERT_FALSE(response.has_value()) << "an untrusted certificate was accepted";
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
}

TEST(CurlTransportTest, IsSafeToShareBetweenThreads) {
  FakeServer server(AcceptAll(), Reply{200, "{}", "application/json", {}, false});
  auto transport = MakeCurlTransport();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        if (auto response = transport->Send(Post(server, "/c", "{}"));
            response && response->status == 200) {
          ++ok;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 20);
  EXPECT_EQ(server.seen().size(), 20u);
}

}  // namespace
}  // namespace helios::llm
