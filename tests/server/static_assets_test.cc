// The web chat's files: what StaticAssets loads (and refuses), and how the server sends them
// (types, compression, caching, conditional requests, security headers).
#include "server/static_assets.h"

#include <brotli/decode.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "common/clock.h"
#include "observability/logger.h"
#include "server/http_server.h"
#include "server/test_fakes.h"

namespace helios::server {
namespace {

namespace fs = std::filesystem;

std::string Gunzip(const std::string& bytes) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return "<inflateInit2 failed>";
  std::string out;
  char buffer[16384];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buffer);
    zs.avail_out = sizeof(buffer);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buffer, sizeof(buffer) - zs.avail_out);
  }
  inflateEnd(&zs);
  return rc == Z_STREAM_END ? out : "<inflate failed>";
}

std::string Unbrotli(const std::string& bytes, size_t expected_size) {
  std::string out(expected_size, '\0');
  size_t size = out.size();
  if (BrotliDecoderDecompress(bytes.size(), reinterpret_cast<const uint8_t*>(bytes.data()), &size,
                              reinterpret_cast<uint8_t*>(out.data())) !=
      BROTLI_DECODER_RESULT_SUCCESS) {
    return "<brotli failed>";
  }
  out.resize(size);
  return out;
}

void WriteFile(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

// A script large enough to be compressed.
std::string Script() {
  std::string js;
  for (int i = 0; i < 400; ++i)
    js += "export const value" + std::to_string(i) + " = " + std::to_string(i * 7) + ";\n";
  return js;
}

class StaticAssetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("helios-static-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    WriteFile(dir_ / "index.html", "<!doctype html><title>HeliosDB</title>");
    WriteFile(dir_ / "assets" / "app-0123abcd.js", Script());
    WriteFile(dir_ / "assets" / "style.css", "body{margin:0}");
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
};

TEST_F(StaticAssetsTest, LoadsIndexAndAssetsAndFindsThemByRequestPath) {
  auto loaded = StaticAssets::Load(dir_);
  ASSERT_TRUE(loaded) << loaded.error().message;
  const StaticAssets& assets = **loaded;
  EXPECT_EQ(assets.file_count(), 3u);
  ASSERT_NE(assets.Find("/"), nullptr);
  EXPECT_EQ(assets.Find("/")->body(), "<!doctype html><title>HeliosDB</title>");
  EXPECT_EQ(assets.Find("/index.html"), assets.Find("/"));
  EXPECT_EQ(assets.Find("/")->content_type(), "text/html; charset=utf-8");
  EXPECT_FALSE(assets.Find("/")->immutable()) << "the page must be revalidated";
  const StaticFile* js = assets.Find("/assets/app-0123abcd.js");
  ASSERT_NE(js, nullptr);
  EXPECT_EQ(js->content_type(), "text/javascript; charset=utf-8");
  EXPECT_TRUE(js->immutable()) << "a content-hashed name may be cached for good";
  const StaticFile* css = assets.Find("/assets/style.css");
  ASSERT_NE(css, nullptr);
  EXPECT_FALSE(css->immutable()) << "no hash in the name";
  EXPECT_NE(js->etag(), css->etag());
  EXPECT_TRUE(js->etag().starts_with("\"") && js->etag().ends_with("\""));
  for (const char* path : {"/assets/", "/assets/../index.html", "/etc/passwd", "/assets/missing.js",
                           "index.html", "/ASSETS/style.css"}) {
    EXPECT_EQ(assets.Find(path), nullptr) << path;
  }
}

TEST_F(StaticAssetsTest, TextIsCompressedOnceAndDecompressesToTheSameBytes) {
  auto loaded = StaticAssets::Load(dir_);
  ASSERT_TRUE(loaded) << loaded.error().message;
  const StaticFile* js = (*loaded)->Find("/assets/app-0123abcd.js");
  ASSERT_NE(js, nullptr);
  const std::string* gzip = js->Encoded(Encoding::kGzip);
  const std::string* brotli = js->Encoded(Encoding::kBrotli);
  ASSERT_NE(gzip, nullptr);
  ASSERT_NE(brotli, nullptr);
  EXPECT_LT(gzip->size(), js->body().size());
  EXPECT_LT(brotli->size(), js->body().size());
  EXPECT_EQ(Gunzip(*gzip), js->body());
  EXPECT_EQ(Unbrotli(*brotli, js->body().size()), js->body());
  EXPECT_EQ(js->Encoded(Encoding::kGzip), gzip) << "compressed once, then kept";
  // Too small to be worth it.
  EXPECT_EQ((*loaded)->Find("/assets/style.css")->Encoded(Encoding::kGzip), nullptr);
}

TEST_F(StaticAssetsTest, TheBuildsCompressedFormsAreUsedOnlyWhenTheyDecompressToTheFile) {
  std::string gzip;
  {
    auto first = StaticAssets::Load(dir_);
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ((*first)->precompressed_count(), 0u);
    gzip = *(*first)->Find("/assets/app-0123abcd.js")->Encoded(Encoding::kGzip);
  }
  WriteFile(dir_ / "assets" / "app-0123abcd.js.gz", gzip);
  WriteFile(dir_ / "assets" / "app-0123abcd.js.br", "not brotli at all");
  WriteFile(dir_ / "assets" / "style.css.gz", gzip);  // another file's bytes
  auto loaded = StaticAssets::Load(dir_);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ((*loaded)->precompressed_count(), 1u);
  EXPECT_EQ((*loaded)->file_count(), 3u) << "compressed forms are not files of their own";
  EXPECT_EQ((*loaded)->Find("/assets/app-0123abcd.js.gz"), nullptr);
  const StaticFile* js = (*loaded)->Find("/assets/app-0123abcd.js");
  ASSERT_NE(js->Encoded(Encoding::kGzip), nullptr);
  EXPECT_EQ(*js->Encoded(Encoding::kGzip), gzip);
  // The broken .br was refused: brotli is compressed here instead, and is right.
  ASSERT_NE(js->Encoded(Encoding::kBrotli), nullptr);
  EXPECT_EQ(Unbrotli(*js->Encoded(Encoding::kBrotli), js->body().size()), js->body());
  EXPECT_EQ((*loaded)->Find("/assets/style.css")->Encoded(Encoding::kGzip), nullptr);
}

TEST_F(StaticAssetsTest, SkipsLinksHiddenFilesOddNamesAndSubdirectories) {
  WriteFile(dir_ / "assets" / ".secret", "x");
  WriteFile(dir_ / "assets" / "two words.js", "x");
  WriteFile(dir_ / "assets" / "sub" / "deep.js", "x");
  WriteFile(dir_ / "outside.txt", "not an asset");
  fs::create_symlink(dir_ / "outside.txt", dir_ / "assets" / "link.txt");
  auto loaded = StaticAssets::Load(dir_);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ((*loaded)->file_count(), 3u);
  EXPECT_EQ((*loaded)->Find("/assets/link.txt"), nullptr);
  EXPECT_EQ((*loaded)->Find("/assets/.secret"), nullptr);
  EXPECT_EQ((*loaded)->Find("/outside.txt"), nullptr);
}

TEST_F(StaticAssetsTest, MissingDirectoryOrIndexIsNotFound) {
  auto missing = StaticAssets::Load(dir_ / "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  fs::remove(dir_ / "index.html");
  auto no_index = StaticAssets::Load(dir_);
  ASSERT_FALSE(no_index);
  EXPECT_EQ(no_index.error().code, ErrorCode::kNotFound);
  EXPECT_NE(no_index.error().message.find("index.html"), std::string::npos);
}

TEST_F(StaticAssetsTest, LimitsOnFilesAndBytesAreEnforced) {
  auto too_many = StaticAssets::Load(dir_, StaticLimits{.max_files = 2});
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().code, ErrorCode::kInvalidArgument);
  auto too_big = StaticAssets::Load(dir_, StaticLimits{.max_total_bytes = 1000});
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().code, ErrorCode::kInvalidArgument);
}

TEST(ContentTypeTest, KnownExtensionsAndAFallback) {
  EXPECT_EQ(ContentTypeFor("a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("a.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeFor("a.woff2"), "font/woff2");
  EXPECT_EQ(ContentTypeFor("a.json"), "application/json");
  EXPECT_EQ(ContentTypeFor("README"), "application/octet-stream");
}

// The same files through the HTTP server.
class ServedAssetsTest : public StaticAssetsTest {
 protected:
  void Serve(bool with_assets) {
    ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    if (with_assets) {
      auto loaded = StaticAssets::Load(dir_);
      ASSERT_TRUE(loaded) << loaded.error().message;
      options.web_assets = *loaded;
    }
    server_ = std::make_unique<HttpServer>(service_, logger_, clock_, options);
    auto port = server_->Bind();
    ASSERT_TRUE(port) << port.error().message;
    port_ = *port;
    run_ = std::async(std::launch::async, [this] { server_->Run(); });
  }
  void TearDown() override {
    if (server_) {
      server_->Stop();
      run_.wait();
    }
    StaticAssetsTest::TearDown();
  }
  httplib::Client Client() {
    httplib::Client client("127.0.0.1", port_);
    client.set_decompress(false);  // see the bytes as sent
    return client;
  }

  SystemClock clock_;
  std::ostringstream log_;
  observability::Logger logger_{log_, observability::LogLevel::kError,
                                observability::LogFormat::kJson, clock_};
  FakeService service_;
  std::unique_ptr<HttpServer> server_;
  std::future<void> run_;
  int port_ = 0;
};

TEST_F(ServedAssetsTest, ThePageComesWithItsSecurityHeadersAndIsRevalidated) {
  ASSERT_NO_FATAL_FAILURE(Serve(true));
  auto res = Client().Get("/", {{"Accept-Encoding", "identity"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "<!doctype html><title>HeliosDB</title>");
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(res->get_header_value("Cache-Control"), "no-cache");
  const std::string csp = res->get_header_value("Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("connect-src 'self'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos) << csp;
  EXPECT_EQ(res->get_header_value("X-Frame-Options"), "DENY");
  EXPECT_EQ(res->get_header_value("X-Content-Type-Options"), "nosniff");
  // Revalidation: the same ETag gives 304 and no body.
  auto again = Client().Get("/", {{"If-None-Match", res->get_header_value("ETag")}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());
  auto other = Client().Get("/", {{"If-None-Match", "\"something-else\""}});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
}

TEST_F(ServedAssetsTest, ScriptsAreSentCompressedAsTheClientAcceptsAndCachedForGood) {
  ASSERT_NO_FATAL_FAILURE(Serve(true));
  const std::string script = Script();
  auto br = Client().Get("/assets/app-0123abcd.js", {{"Accept-Encoding", "gzip, deflate, br"}});
  ASSERT_TRUE(br);
  EXPECT_EQ(br->status, 200);
  EXPECT_EQ(br->get_header_value("Content-Encoding"), "br");
  EXPECT_EQ(Unbrotli(br->body, script.size()), script);
  EXPECT_EQ(br->get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(br->get_header_value("Vary"), "Accept-Encoding");
  EXPECT_EQ(br->get_header_value("Content-Security-Policy"), "") << "only the page needs one";

  auto gzip = Client().Get("/assets/app-0123abcd.js", {{"Accept-Encoding", "br;q=0, gzip"}});
  ASSERT_TRUE(gzip);
  EXPECT_EQ(gzip->get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(Gunzip(gzip->body), script);

  auto plain = Client().Get("/assets/app-0123abcd.js", {{"Accept-Encoding", "identity"}});
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->get_header_value("Content-Encoding"), "");
  EXPECT_EQ(plain->body, script);
  EXPECT_EQ(plain->get_header_value("Content-Length"), std::to_string(script.size()));
}

TEST_F(ServedAssetsTest, HeadGivesTheHeadersOnlyAndOtherMethodsAreRefused) {
  ASSERT_NO_FATAL_FAILURE(Serve(true));
  auto head = Client().Head("/assets/style.css");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
  EXPECT_EQ(head->get_header_value("Content-Type"), "text/css; charset=utf-8");
  auto post = Client().Post("/", "{}", "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->get_header_value("Allow"), "GET, HEAD");
}

TEST_F(ServedAssetsTest, UnknownFilesAndTraversalAre404) {
  ASSERT_NO_FATAL_FAILURE(Serve(true));
  for (const char* path : {"/assets/missing.js", "/assets/..%2Findex.html",
                           "/assets/../../etc/passwd", "/favicon.ico"}) {
    auto res = Client().Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 404) << path;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json") << path;
  }
}

TEST_F(ServedAssetsTest, WithoutTheFilesThePageIsA404ThatSaysWhy) {
  ASSERT_NO_FATAL_FAILURE(Serve(false));
  auto res = Client().Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  auto body = nlohmann::json::parse(res->body);
  EXPECT_NE(body["error"]["message"].get<std::string>().find("web_chat"), std::string::npos)
      << res->body;
}

}  // namespace
}  // namespace helios::server
