// deploy/nginx.conf as shipped, in front of two real instances: TLS termination and load
// balancing as the runbook deploys them.
//
// The test renders the shipped file for loopback (the instances' and nginx's ports, a
// self-signed certificate made with openssl, paths in a temporary directory) and changes
// nothing else; it fails when one of the values it replaces is no longer in the file, so the
// file cannot drift away from what runs here. Then, over HTTPS: the runbook's verification
// calls (/health, login, a question), /metrics not reachable through the proxy, TLS 1.0 and
// 1.1 refused while 1.2 and 1.3 are accepted (openssl s_client), requests spread over both
// instances (their own request counters and nginx's access log), X-Request-Id passed through,
// plain HTTP redirected, the body limit, and failover when instances die.
//
// Some rules cannot be seen from outside on every machine (OpenSSL 3 refuses TLS 1.1 even when
// nginx is told to allow it, unless its security level is lowered), so the shipped file's
// directives are also checked as text: TLS 1.2/1.3 only, the /metrics block, HSTS, the
// redirect, the upstream. A control nginx that does allow TLS 1.1 shows that the probe would
// see it accepted.
//
// nginx and openssl come from Debian's packages (scripts/setup.sh --test); when missing, the
// tests fail saying so.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "auth/password.h"
#include "auth/user_store.h"
#include "common/text.h"
#include "support/child_process.h"
#include "support/loopback.h"
#include "support/nginx.h"
#include "support/served_binary.h"
#include "support/test_databases.h"

namespace helios {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr char kSecret[] = "a-tls-proxy-test-secret-of-more-than-32-bytes!";
constexpr char kPassword[] = "a long enough password";
constexpr char kServerName[] = "bi.example.com";  // the shipped file's server_name

fs::path ShippedConfig() { return fs::path(HELIOS_SOURCE_DIR) / "deploy" / "nginx.conf"; }

// ---------------------------------------------------------------------------------------------
// nginx's configuration language, enough to check the shipped file's directives: words
// (quoted or not), `;` ending a simple directive, `{ ... }` a block; `#` starts a comment.

struct Directive {
  std::string name;
  std::vector<std::string> args;
  bool is_block = false;
  std::vector<Directive> children;
};

class ConfigParser {
 public:
  explicit ConfigParser(std::string_view text) : text_(text) {}

  // The top-level directives; nullopt (and *error says where) on a syntax error.
  std::optional<std::vector<Directive>> Parse(std::string* error) {
    std::vector<Directive> top;
    if (!ParseBlock(top, /*nested=*/false, error)) return std::nullopt;
    return top;
  }

 private:
  enum class Kind { kWord, kSemicolon, kOpen, kClose, kEnd };

  Kind Next(std::string* word) {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else {
        break;
      }
    }
    if (pos_ >= text_.size()) return Kind::kEnd;
    char c = text_[pos_];
    if (c == ';') return ++pos_, Kind::kSemicolon;
    if (c == '{') return ++pos_, Kind::kOpen;
    if (c == '}') return ++pos_, Kind::kClose;
    word->clear();
    if (c == '"' || c == '\'') {
      ++pos_;
      while (pos_ < text_.size() && text_[pos_] != c) {
        if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
        word->push_back(text_[pos_++]);
      }
      ++pos_;  // the closing quote
      return Kind::kWord;
    }
    while (pos_ < text_.size() &&
           std::string_view(" \t\r\n;{}").find(text_[pos_]) == std::string_view::npos) {
      word->push_back(text_[pos_++]);
    }
    return Kind::kWord;
  }

  bool ParseBlock(std::vector<Directive>& out, bool nested, std::string* error) {
    std::vector<std::string> words;
    std::string word;
    while (true) {
      switch (Next(&word)) {
        case Kind::kWord:
          words.push_back(word);
          break;
        case Kind::kSemicolon:
        case Kind::kOpen: {
          if (words.empty()) {
            *error = "a `;` or `{` without a directive at offset " + std::to_string(pos_);
            return false;
          }
          Directive d;
          d.name = words.front();
          d.args.assign(words.begin() + 1, words.end());
          words.clear();
          if (text_[pos_ - 1] == '{') {
            d.is_block = true;
            if (!ParseBlock(d.children, /*nested=*/true, error)) return false;
          }
          out.push_back(std::move(d));
          break;
        }
        case Kind::kClose:
          if (!nested || !words.empty()) {
            *error = "an unexpected `}` at offset " + std::to_string(pos_);
            return false;
          }
          return true;
        case Kind::kEnd:
          if (nested || !words.empty()) {
            *error = "the file ends inside a block or a directive";
            return false;
          }
          return true;
      }
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
};

std::vector<const Directive*> All(const std::vector<Directive>& in, std::string_view name) {
  std::vector<const Directive*> found;
  for (const Directive& d : in) {
    if (d.name == name) found.push_back(&d);
  }
  return found;
}

const Directive* First(const std::vector<Directive>& in, std::string_view name) {
  auto all = All(in, name);
  return all.empty() ? nullptr : all.front();
}

// Every directive of a tree, depth first, as "context/name arg arg": for comparing two files'
// directives.
void Flatten(const std::vector<Directive>& in, const std::string& context,
             std::vector<std::string>& out) {
  for (const Directive& d : in) {
    out.push_back(context + d.name);
    if (d.is_block) Flatten(d.children, context + d.name + "/", out);
  }
}

// A duration in nginx's syntax ("60s", "1m", "500ms", "30") in milliseconds; -1 if unreadable.
int64_t DurationMs(const std::string& value) {
  std::smatch m;
  static const std::regex kDuration("([0-9]+)(ms|s|m|h)?");
  if (!std::regex_match(value, m, kDuration)) return -1;
  int64_t n = std::stoll(m[1]);
  std::string unit = m[2];
  if (unit == "ms") return n;
  if (unit == "m") return n * 60'000;
  if (unit == "h") return n * 3'600'000;
  return n * 1000;
}

// ---------------------------------------------------------------------------------------------
// Rendering the shipped file for the test.

struct Rendered {
  std::string text;
  std::vector<std::string> missing;  // values to replace that the file no longer holds
};

// Replaces every occurrence of each `from` with its `to`; a `from` that does not occur is
// listed in `missing`.
Rendered Render(std::string text, const std::vector<std::pair<std::string, std::string>>& subs) {
  Rendered out;
  for (const auto& [from, to] : subs) {
    size_t count = 0;
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
      text.replace(at, from.size(), to);
      at += to.size();
      ++count;
    }
    if (count == 0) out.missing.push_back(from);
  }
  out.text = std::move(text);
  return out;
}

struct RenderParams {
  int instance_a = 0;
  int instance_b = 0;
  int https_port = 0;
  int http_port = 0;
  fs::path cert;
  fs::path key;
  fs::path access_log;
};

// The values of the shipped file that the test replaces, and with what.
std::vector<std::pair<std::string, std::string>> Substitutions(const RenderParams& p) {
  return {
      {"server 10.0.0.11:8080 ", "server 127.0.0.1:" + std::to_string(p.instance_a) + " "},
      {"server 10.0.0.12:8080 ", "server 127.0.0.1:" + std::to_string(p.instance_b) + " "},
      {"listen 443 ssl http2;", "listen 127.0.0.1:" + std::to_string(p.https_port) + " ssl http2;"},
      {"listen 80;", "listen 127.0.0.1:" + std::to_string(p.http_port) + ";"},
      {"/etc/ssl/certs/bi.example.com.pem", p.cert.string()},
      {"/etc/ssl/private/bi.example.com.key", p.key.string()},
      {"/var/log/nginx/heliosdb-bi.access.log", p.access_log.string()},
  };
}

// nginx's main configuration around the rendered file, which it includes in its http block
// as the shipped file's header says; every path in the test's directory.
std::string MainConfig(const fs::path& root, const fs::path& site) {
  return "worker_processes 1;\n"
         "pid " +
         (root / "nginx.pid").string() +
         ";\n"
         "error_log " +
         (root / "logs/error.log").string() +
         " info;\n"
         "events { worker_connections 256; }\n"
         "http {\n"
         "  client_body_temp_path " +
         (root / "body").string() +
         ";\n"
         "  proxy_temp_path " +
         (root / "proxy").string() +
         ";\n"
         "  fastcgi_temp_path " +
         (root / "fastcgi").string() +
         ";\n"
         "  uwsgi_temp_path " +
         (root / "uwsgi").string() +
         ";\n"
         "  scgi_temp_path " +
         (root / "scgi").string() +
         ";\n"
         "  include " +
         site.string() +
         ";\n"
         "}\n";
}

// A self-signed certificate for bi.example.com and 127.0.0.1 (P-256), in dir.
bool MakeCertificate(const fs::path& dir, std::string* detail) {
  auto openssl = testing::FindProgram("openssl");
  if (!openssl) {
    *detail = "openssl is not installed (scripts/setup.sh --test)";
    return false;
  }
  testing::RunResult r = testing::RunToCompletion(
      {openssl->string(), "req", "-x509", "-newkey", "ec", "-pkeyopt",
       "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", (dir / "key.pem").string(), "-out",
       (dir / "cert.pem").string(), "-days", "2", "-subj", std::string("/CN=") + kServerName,
       "-addext", std::string("subjectAltName=DNS:") + kServerName + ",IP:127.0.0.1"},
      dir, testing::ChildEnvironment());
  *detail = r.out + r.err;
  return r.exit_code == 0 && fs::exists(dir / "cert.pem") && fs::exists(dir / "key.pem");
}

// One TLS handshake by openssl s_client with one protocol version ("-tls1_1", "-tls1_3").
struct Handshake {
  bool established = false;
  std::string protocol;  // as s_client names it: "TLSv1.2"
  std::string output;
};

Handshake TryHandshake(int port, const std::string& version_flag, const fs::path& ca,
                       const fs::path& cwd) {
  Handshake h;
  auto openssl = testing::FindProgram("openssl");
  if (!openssl) {
    h.output = "openssl is not installed (scripts/setup.sh --test)";
    return h;
  }
  // OpenSSL 3 offers TLS 1.0 and 1.1 only at security level 0: without it the refusal would be
  // the client's own, and would say nothing about the server.
  std::vector<std::string> argv = {openssl->string(),
                                   "s_client",
                                   "-brief",
                                   "-connect",
                                   "127.0.0.1:" + std::to_string(port),
                                   "-servername",
                                   kServerName,
                                   "-CAfile",
                                   ca.string(),
                                   "-verify_return_error",
                                   "-verify_hostname",
                                   kServerName,
                                   version_flag};
  if (version_flag == "-tls1" || version_flag == "-tls1_1") {
    argv.insert(argv.end(), {"-cipher", "DEFAULT:@SECLEVEL=0"});
  }
  testing::RunResult r = testing::RunToCompletion(argv, cwd, testing::ChildEnvironment());
  h.output = r.out + r.err;
  std::smatch m;
  static const std::regex kProtocol("Protocol version: (TLSv[0-9.]+)");
  if (std::regex_search(h.output, m, kProtocol)) h.protocol = m[1];
  h.established = r.exit_code == 0 && h.output.find("CONNECTION ESTABLISHED") != std::string::npos;
  return h;
}

// The sum of a counter's samples whose labels contain `labels` ("route=\"/api/v1/query\"").
double CounterSum(const std::string& exposition, const std::string& name,
                  const std::string& labels) {
  double sum = 0;
  for (const std::string& line : text::Split(exposition, '\n')) {
    if (!line.starts_with(name + "{") || line.find(labels) == std::string::npos) continue;
    sum += std::strtod(line.substr(line.rfind(' ') + 1).c_str(), nullptr);
  }
  return sum;
}

struct Reply {
  int status = 0;
  httplib::Headers headers;
  json body;
  std::string raw;
  std::string error;  // the transport error, when there was no reply

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  bool HasHeader(const std::string& name) const { return headers.count(name) > 0; }
};

Reply ToReply(const httplib::Result& res) {
  Reply reply;
  if (!res) {
    reply.error = httplib::to_string(res.error());
    return reply;
  }
  reply.status = res->status;
  reply.headers = res->headers;
  reply.raw = res->body;
  reply.body = json::parse(res->body, nullptr, false);
  return reply;
}

// ---------------------------------------------------------------------------------------------
// The shipped file's directives.

class ShippedNginxConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string text = testing::ReadFile(ShippedConfig());
    ASSERT_FALSE(text.empty()) << ShippedConfig() << " is missing or empty";
    std::string error;
    auto parsed = ConfigParser(text).Parse(&error);
    ASSERT_TRUE(parsed) << "deploy/nginx.conf: " << error;
    top_ = std::move(*parsed);
    for (const Directive* server : All(top_, "server")) {
      bool tls = false;
      for (const Directive* listen : All(server->children, "listen")) {
        tls = tls || std::ranges::find(listen->args, "ssl") != listen->args.end();
      }
      (tls ? https_ : http_).push_back(server);
    }
    ASSERT_EQ(https_.size(), 1u) << "one TLS server block expected";
    ASSERT_EQ(http_.size(), 1u) << "one plain-HTTP (redirect) server block expected";
  }

  std::vector<Directive> top_;
  std::vector<const Directive*> https_;
  std::vector<const Directive*> http_;
};

TEST_F(ShippedNginxConfigTest, AcceptsTls12And13OnlyWithForwardSecretAeadCiphers) {
  const auto& server = https_[0]->children;
  const Directive* protocols = First(server, "ssl_protocols");
  ASSERT_NE(protocols, nullptr) << "the TLS server block must set ssl_protocols itself (Debian's "
                                   "nginx.conf allows TLSv1 and TLSv1.1 in the http block)";
  EXPECT_THAT(protocols->args, ElementsAre("TLSv1.2", "TLSv1.3"));
  const Directive* ciphers = First(server, "ssl_ciphers");
  ASSERT_NE(ciphers, nullptr);
  ASSERT_EQ(ciphers->args.size(), 1u);
  for (const std::string& cipher : text::Split(ciphers->args[0], ':')) {
    EXPECT_TRUE(cipher.starts_with("ECDHE-")) << cipher << ": not forward secret";
    EXPECT_TRUE(cipher.find("-GCM-") != std::string::npos ||
                cipher.find("CHACHA20-POLY1305") != std::string::npos)
        << cipher << ": not an AEAD cipher";
  }
  ASSERT_NE(First(server, "ssl_certificate"), nullptr);
  ASSERT_NE(First(server, "ssl_certificate_key"), nullptr);
  const Directive* hsts = nullptr;
  for (const Directive* h : All(server, "add_header")) {
    if (!h->args.empty() && h->args[0] == "Strict-Transport-Security") hsts = h;
  }
  ASSERT_NE(hsts, nullptr) << "HSTS missing";
  ASSERT_GE(hsts->args.size(), 2u);
  EXPECT_THAT(hsts->args[1], HasSubstr("max-age="));
  EXPECT_EQ(hsts->args.back(), "always");
}

TEST_F(ShippedNginxConfigTest, NeverProxiesMetrics) {
  const auto& server = https_[0]->children;
  // Exactly the path, and everything under it; each answered by nginx, never proxied.
  std::map<std::string, const Directive*> blocks;
  for (const Directive* location : All(server, "location")) {
    if (location->args.size() == 2 && location->args[1].starts_with("/metrics")) {
      blocks[location->args[0] + " " + location->args[1]] = location;
    }
  }
  for (const std::string want : {"= /metrics", "^~ /metrics/"}) {
    ASSERT_TRUE(blocks.contains(want)) << "location " << want << " missing";
    const auto& body = blocks[want]->children;
    EXPECT_EQ(First(body, "proxy_pass"), nullptr) << want;
    const Directive* ret = First(body, "return");
    ASSERT_NE(ret, nullptr) << want;
    ASSERT_FALSE(ret->args.empty());
    EXPECT_TRUE(ret->args[0] == "404" || ret->args[0] == "403") << want << ": " << ret->args[0];
  }
}

TEST_F(ShippedNginxConfigTest, RedirectsPlainHttpAndBalancesOverSeveralInstances) {
  const auto& plain = http_[0]->children;
  EXPECT_EQ(First(plain, "proxy_pass"), nullptr);
  const Directive* location = First(plain, "location");
  ASSERT_NE(location, nullptr);
  const Directive* ret = First(location->children, "return");
  ASSERT_NE(ret, nullptr);
  EXPECT_THAT(ret->args, ElementsAre("301", "https://$server_name$request_uri"));

  const Directive* upstream = First(top_, "upstream");
  ASSERT_NE(upstream, nullptr);
  ASSERT_EQ(upstream->args.size(), 1u);
  EXPECT_GE(All(upstream->children, "server").size(), 2u);
  EXPECT_NE(First(upstream->children, "keepalive"), nullptr);
  // Idle upstream connections are closed before the instances close them (5 s).
  const Directive* idle = First(upstream->children, "keepalive_timeout");
  ASSERT_NE(idle, nullptr);
  EXPECT_LT(DurationMs(idle->args.at(0)), 5000);

  const auto& server = https_[0]->children;
  for (const Directive* location : All(server, "location")) {
    const Directive* pass = First(location->children, "proxy_pass");
    if (pass != nullptr) {
      EXPECT_EQ(pass->args.at(0), "http://" + upstream->args[0]);
    }
  }
  // Failover on transport failures only; an instance's 502 and 504 are answers.
  const Directive* next = First(server, "proxy_next_upstream");
  ASSERT_NE(next, nullptr);
  EXPECT_THAT(next->args, Not(::testing::Contains("http_502")));
  EXPECT_THAT(next->args, Not(::testing::Contains("non_idempotent")));
  EXPECT_THAT(next->args, ::testing::Contains("error"));
  // Longer than the instance's 30 s request timeout.
  const Directive* read = First(server, "proxy_read_timeout");
  ASSERT_NE(read, nullptr);
  EXPECT_GT(DurationMs(read->args.at(0)), 30'000);
  const Directive* body = First(server, "client_max_body_size");
  ASSERT_NE(body, nullptr);
  EXPECT_EQ(body->args.at(0), "1m");
  bool request_id = false;
  for (const Directive* h : All(server, "proxy_set_header")) {
    request_id = request_id || (!h->args.empty() && h->args[0] == "X-Request-Id");
  }
  EXPECT_TRUE(request_id) << "X-Request-Id is not passed to the instances";
}

TEST_F(ShippedNginxConfigTest, RenderingForTheTestKeepsEveryDirective) {
  RenderParams p{1111, 2222, 3333, 4444, "/tmp/c.pem", "/tmp/k.pem", "/tmp/access.log"};
  Rendered rendered = Render(testing::ReadFile(ShippedConfig()), Substitutions(p));
  EXPECT_TRUE(rendered.missing.empty())
      << "deploy/nginx.conf no longer holds values the test replaces: "
      << text::Join(rendered.missing, ", ");
  std::string error;
  auto parsed = ConfigParser(rendered.text).Parse(&error);
  ASSERT_TRUE(parsed) << error;
  std::vector<std::string> shipped, ours;
  Flatten(top_, "", shipped);
  Flatten(*parsed, "", ours);
  EXPECT_EQ(ours, shipped);
  EXPECT_THAT(rendered.text, HasSubstr("server 127.0.0.1:1111 "));
  EXPECT_THAT(rendered.text, HasSubstr("listen 127.0.0.1:3333 ssl"));
  EXPECT_THAT(rendered.text, Not(HasSubstr("server 10.0.0.")));
}

// ---------------------------------------------------------------------------------------------
// The shipped file running.

// nginx running a rendered copy of deploy/nginx.conf from root.
class RunningNginx {
 public:
  // Starts nginx and waits until its HTTPS port accepts connections; *error says why not.
  static std::unique_ptr<RunningNginx> Start(const fs::path& root, const std::string& site,
                                             int https_port, std::string* error) {
    fs::create_directories(root / "logs");
    testing::WriteFile(root / "site.conf", site);
    testing::WriteFile(root / "nginx.conf", MainConfig(root, root / "site.conf"));
    auto process = testing::StartNginx(root, error);
    if (!process) return nullptr;
    auto running = std::unique_ptr<RunningNginx>(new RunningNginx(root, std::move(process)));
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (testing::ConnectLoopback(https_port) == 0) return running;
      if (running->process_->Exited()) break;
      std::this_thread::sleep_for(20ms);
    }
    *error = "nginx did not start: " + running->Logs();
    return nullptr;
  }

  ~RunningNginx() { process_->Stop(5s); }

  std::string Logs() const {
    return testing::ReadFile(root_ / "logs/stderr.log") +
           testing::ReadFile(root_ / "logs/error.log");
  }
  std::string ErrorLog() const { return testing::ReadFile(root_ / "logs/error.log"); }

 private:
  RunningNginx(fs::path root, std::unique_ptr<testing::ChildProcess> process)
      : root_(std::move(root)), process_(std::move(process)) {}
  fs::path root_;
  std::unique_ptr<testing::ChildProcess> process_;
};

class TlsProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.url()) << redis_.url().error().message;
    const fs::path dir = dir_.path();
    fs::copy_file(HELIOS_DEMO_DB, dir / "demo.db");
    auth::UserStore users;
    const auth::PasswordParams cheap{1024, 1, 1};  // the test is about the proxy, not hashing
    auto hash = auth::HashPassword(kPassword, cheap);
    ASSERT_TRUE(hash.has_value());
    ASSERT_TRUE(users.Add(auth::User{"alice", "acme", {"analyst"}, *hash}).has_value());
    ASSERT_TRUE(users.Save((dir / "users.json").string()).has_value());
    std::ofstream(dir / "server.toml") << "[server]\nhost = \"127.0.0.1\"\nport = 0\n"
                                       << "[metrics]\nhost = \"127.0.0.1\"\nprometheus_port = 0\n"
                                       << "[auth]\nusers_file = \"users.json\"\n"
                                       << "[production.rate_limiting]\nburst_allowance = 1000\n";
    for (int i = 0; i < 2; ++i) {
      instances_.push_back(std::make_unique<testing::ServedBinary>(
          HELIOS_BINARY,
          std::vector<std::string>{"--config", "server.toml", "serve", "--database",
                                   "sqlite://demo.db"},
          dir,
          std::vector<std::string>{std::string("JWT_SECRET=") + kSecret,
                                   "REDIS_URL=" + *redis_.url()}));
      ports_.push_back(instances_.back()->PortOf("listening"));
      metrics_ports_.push_back(instances_.back()->PortOf("metrics listening"));
      ASSERT_GT(ports_.back(), 0) << instances_.back()->err() << instances_.back()->out();
      ASSERT_GT(metrics_ports_.back(), 0) << instances_.back()->out();
    }

    const fs::path tls = dir / "tls";
    fs::create_directories(tls);
    std::string detail;
    ASSERT_TRUE(MakeCertificate(tls, &detail)) << detail;
    cert_ = tls / "cert.pem";

    params_ = RenderParams{
        ports_[0], ports_[1],       testing::FreeLoopbackPort(),  testing::FreeLoopbackPort(),
        cert_,     tls / "key.pem", dir / "nginx/logs/access.log"};
    Rendered site = Render(testing::ReadFile(ShippedConfig()), Substitutions(params_));
    ASSERT_TRUE(site.missing.empty())
        << "deploy/nginx.conf no longer holds " << text::Join(site.missing, ", ");
    std::string error;
    nginx_ = RunningNginx::Start(dir / "nginx", site.text, params_.https_port, &error);
    ASSERT_TRUE(nginx_) << error;
  }

  void TearDown() override {
    nginx_.reset();
    for (auto& instance : instances_) instance->Stop();
  }

  // A client that trusts only the test's certificate and checks the host name.
  std::unique_ptr<httplib::SSLClient> Https() const {
    auto client = std::make_unique<httplib::SSLClient>("127.0.0.1", params_.https_port);
    client->set_ca_cert_path(cert_.string());
    client->enable_server_certificate_verification(true);
    client->set_connection_timeout(5, 0);
    client->set_read_timeout(60, 0);
    return client;
  }

  Reply Get(const std::string& path, httplib::Headers headers = {}) const {
    return ToReply(Https()->Get(path, headers));
  }

  Reply Post(const std::string& path, const json& body, httplib::Headers headers = {}) const {
    return ToReply(Https()->Post(path, headers, body.dump(), "application/json"));
  }

  std::string Login() const {
    Reply r = Post("/api/v1/auth/login", {{"username", "alice"}, {"password", kPassword}});
    EXPECT_EQ(r.status, 200) << r.error << r.raw << nginx_->ErrorLog();
    return r.body.is_object() ? r.body.value("token", "") : "";
  }

  Reply Ask(const std::string& token, const std::string& question,
            httplib::Headers headers = {}) const {
    headers.emplace("Authorization", "Bearer " + token);
    return Post("/api/v1/query", {{"query", question}}, std::move(headers));
  }

  // An instance's own /metrics, from its internal metrics port.
  std::string MetricsOf(size_t instance) const {
    httplib::Client client("127.0.0.1", metrics_ports_[instance]);
    client.set_read_timeout(30, 0);
    auto res = client.Get("/metrics");
    return res && res->status == 200 ? res->body : "";
  }

  // nginx's access log once it holds `needle` (nginx writes a request's line after its
  // response), or as it is after 10 s.
  std::string AccessLogWith(const std::string& needle) const {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    std::string log = testing::ReadFile(params_.access_log);
    while (log.find(needle) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
      log = testing::ReadFile(params_.access_log);
    }
    return log;
  }

  testing::TempDir dir_{"helios-tls-proxy"};
  testing::ScopedRedis redis_;
  std::vector<std::unique_ptr<testing::ServedBinary>> instances_;
  std::vector<int> ports_;
  std::vector<int> metrics_ports_;
  fs::path cert_;
  RenderParams params_;
  std::unique_ptr<RunningNginx> nginx_;
};

TEST_F(TlsProxyTest, TheRunbooksVerificationCallsWorkOverHttps) {
  // Health check.
  Reply health = Get("/health");
  ASSERT_EQ(health.status, 200) << health.error << health.raw;
  ASSERT_TRUE(health.body.is_object()) << health.raw;
  EXPECT_TRUE(health.HasHeader("X-Request-Id")) << "not answered by an instance";
  EXPECT_THAT(health.Header("Strict-Transport-Security"), HasSubstr("max-age="));

  // Readiness passes through to an instance like any other path (what it answers is the
  // instance's business).
  Reply ready = Get("/ready", {{"X-Request-Id", "tls-proxy-ready-check"}});
  EXPECT_EQ(ready.Header("X-Request-Id"), "tls-proxy-ready-check") << ready.raw;
  EXPECT_TRUE(ready.body.is_object()) << ready.raw;

  // Login, then the runbook's question with its body as written.
  const std::string token = Login();
  ASSERT_FALSE(token.empty());
  Reply answer =
      Post("/api/v1/query", {{"session_id", "test-session"}, {"query", "Show me top 10 customers"}},
           {{"Authorization", "Bearer " + token}});
  ASSERT_EQ(answer.status, 200) << answer.raw;
  EXPECT_EQ(answer.body["session_id"], "test-session");
  EXPECT_EQ(answer.body["row_count"].get<int>(), 10) << answer.raw;
  EXPECT_THAT(answer.Header("Strict-Transport-Security"), HasSubstr("max-age="));
  // Authentication is the instances', through the proxy as directly.
  Reply anonymous = Post("/api/v1/query", {{"query", "Show me top 10 customers"}});
  EXPECT_EQ(anonymous.status, 401) << anonymous.raw;

  // A client that trusts only the system's authorities refuses the self-signed certificate:
  // the clients above verified it.
  httplib::SSLClient untrusting("127.0.0.1", params_.https_port);
  untrusting.enable_server_certificate_verification(true);
  auto refused = untrusting.Get("/health");
  ASSERT_FALSE(refused) << "an untrusted certificate was accepted: " << refused->status;
  EXPECT_EQ(refused.error(), httplib::Error::SSLServerVerification)
      << httplib::to_string(refused.error());
}

TEST_F(TlsProxyTest, MetricsAreNotReachableThroughTheProxy) {
  for (const std::string path : {"/metrics", "/metrics/", "/metrics/anything", "/metrics?x=1"}) {
    Reply r = Get(path);
    EXPECT_EQ(r.status, 404) << path << ": " << r.raw;
    // nginx's own answer: no instance saw the request (an instance's reply carries an id).
    EXPECT_FALSE(r.HasHeader("X-Request-Id")) << path << " reached an instance";
    EXPECT_THAT(r.raw, Not(HasSubstr("# TYPE"))) << path;
  }
  // The metrics are there on the instances' internal port.
  for (size_t i = 0; i < instances_.size(); ++i) {
    EXPECT_THAT(MetricsOf(i), HasSubstr("# TYPE queries_total counter")) << "instance " << i;
  }
}

TEST_F(TlsProxyTest, OnlyTls12And13AreAccepted) {
  const fs::path cwd = dir_.path();
  for (const std::string version : {"-tls1", "-tls1_1"}) {
    Handshake h = TryHandshake(params_.https_port, version, cert_, cwd);
    EXPECT_FALSE(h.established) << version << " was accepted:\n" << h.output;
  }
  EXPECT_THAT(nginx_->ErrorLog(), HasSubstr("unsupported protocol"))
      << "the refusals were not nginx's";
  for (auto [flag, name] : {std::pair{"-tls1_2", "TLSv1.2"}, std::pair{"-tls1_3", "TLSv1.3"}}) {
    Handshake h = TryHandshake(params_.https_port, flag, cert_, cwd);
    EXPECT_TRUE(h.established) << flag << " was refused:\n" << h.output;
    EXPECT_EQ(h.protocol, name) << h.output;
    EXPECT_THAT(h.output, HasSubstr("Verification: OK"));
  }

  // Control: the same file told to allow TLS 1.1 (at OpenSSL's security level 0) does accept
  // the same probe, so the refusal above is the shipped configuration's doing.
  RenderParams control = params_;
  control.https_port = testing::FreeLoopbackPort();
  control.http_port = testing::FreeLoopbackPort();
  control.access_log = dir_.path() / "control/logs/access.log";
  std::vector<std::pair<std::string, std::string>> subs = Substitutions(control);
  subs.emplace_back("ssl_protocols TLSv1.2 TLSv1.3;", "ssl_protocols TLSv1.1 TLSv1.2 TLSv1.3;");
  std::string shipped = testing::ReadFile(ShippedConfig());
  std::smatch ciphers;
  ASSERT_TRUE(std::regex_search(shipped, ciphers, std::regex("ssl_ciphers [^;]+;")));
  subs.emplace_back(ciphers[0], "ssl_ciphers DEFAULT:@SECLEVEL=0;");
  Rendered site = Render(shipped, subs);
  ASSERT_TRUE(site.missing.empty()) << text::Join(site.missing, ", ");
  std::string error;
  auto permissive =
      RunningNginx::Start(dir_.path() / "control", site.text, control.https_port, &error);
  ASSERT_TRUE(permissive) << error;
  Handshake h = TryHandshake(control.https_port, "-tls1_1", cert_, cwd);
  EXPECT_TRUE(h.established) << "the probe cannot see TLS 1.1 accepted:\n" << h.output;
  EXPECT_EQ(h.protocol, "TLSv1.1") << h.output;
}

TEST_F(TlsProxyTest, RequestsAreSpreadOverBothInstancesWithTheirRequestIds) {
  const std::string token = Login();
  ASSERT_FALSE(token.empty());
  constexpr int kQuestions = 8;
  for (int i = 0; i < kQuestions; ++i) {
    Reply r = Ask(token, "how many customers are there");
    ASSERT_EQ(r.status, 200) << i << ": " << r.raw;
  }
  double total = 0;
  for (size_t i = 0; i < instances_.size(); ++i) {
    double answered = CounterSum(MetricsOf(i), "http_requests_total", "route=\"/api/v1/query\"");
    EXPECT_GE(answered, 1) << "instance " << i << " took no question\n" << MetricsOf(i);
    total += answered;
  }
  EXPECT_EQ(total, kQuestions);
  for (int port : ports_) {
    const std::string upstream = "upstream=127.0.0.1:" + std::to_string(port);
    EXPECT_THAT(AccessLogWith(upstream), HasSubstr(upstream));
  }

  // The caller's id reaches the instance (its log) and comes back.
  Reply mine = Ask(token, "how many products are there", {{"X-Request-Id", "tls-proxy-0001"}});
  ASSERT_EQ(mine.status, 200) << mine.raw;
  EXPECT_EQ(mine.Header("X-Request-Id"), "tls-proxy-0001");
  EXPECT_THAT(AccessLogWith("id=tls-proxy-0001"), HasSubstr("id=tls-proxy-0001"));
  EXPECT_THAT(instances_[0]->out() + instances_[1]->out(), HasSubstr("\"tls-proxy-0001\""));
  // Without one, nginx makes one, which the instance keeps: the same id in both logs.
  Reply theirs = Ask(token, "how many orders are there");
  ASSERT_EQ(theirs.status, 200) << theirs.raw;
  const std::string id = theirs.Header("X-Request-Id");
  EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{32}"))) << id;
  EXPECT_THAT(AccessLogWith("id=" + id), HasSubstr("id=" + id));
  EXPECT_THAT(instances_[0]->out() + instances_[1]->out(), HasSubstr("\"" + id + "\""));
}

TEST_F(TlsProxyTest, PlainHttpRedirectsToHttps) {
  httplib::Client plain("127.0.0.1", params_.http_port);
  plain.set_connection_timeout(5, 0);
  Reply get = ToReply(plain.Get("/api/v1/sessions?limit=5"));
  EXPECT_EQ(get.status, 301) << get.error << get.raw;
  EXPECT_EQ(get.Header("Location"),
            std::string("https://") + kServerName + "/api/v1/sessions?limit=5");
  EXPECT_FALSE(get.HasHeader("X-Request-Id")) << "plain HTTP reached an instance";
  Reply post =
      ToReply(plain.Post("/api/v1/query", R"({"query":"how many customers"})", "application/json"));
  EXPECT_EQ(post.status, 301) << post.raw;
  EXPECT_FALSE(post.HasHeader("X-Request-Id"));
  Reply health = ToReply(plain.Get("/health"));
  EXPECT_EQ(health.status, 301);
}

TEST_F(TlsProxyTest, LimitsTheBodyAndFailsOverWhenInstancesDie) {
  const std::string token = Login();
  ASSERT_FALSE(token.empty());
  // Over 1 MiB: refused by nginx with the API's error shape, before any instance.
  std::string big = json({{"query", std::string(1100 * 1024, 'a')}}).dump();
  Reply too_large = ToReply(Https()->Post("/api/v1/query", {{"Authorization", "Bearer " + token}},
                                          big, "application/json"));
  EXPECT_EQ(too_large.status, 413) << too_large.raw;
  EXPECT_EQ(too_large.body["error"]["code"], "payload_too_large") << too_large.raw;
  EXPECT_FALSE(too_large.HasHeader("X-Request-Id"));

  instances_[0]->Kill();
  for (int i = 0; i < 6; ++i) {
    Reply r = Ask(token, "how many customers are there");
    EXPECT_EQ(r.status, 200) << i << ": " << r.raw;
  }
  instances_[1]->Kill();
  Reply none = Ask(token, "how many customers are there");
  EXPECT_EQ(none.status, 503) << none.raw;
  EXPECT_EQ(none.body["error"]["code"], "unavailable") << none.raw;
  EXPECT_EQ(none.Header("Retry-After"), "5");
  EXPECT_THAT(none.Header("Strict-Transport-Security"), HasSubstr("max-age="));
}

}  // namespace
}  // namespace helios
