// A real HTTP server for the load generator's tests (cpp-httplib on 127.0.0.1, port 0) whose
// answers a test scripts by request number, and which records what it received.
// Thread-safety: the handler runs on the server's threads; the accessors lock.
#pragma once

#include <httplib.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace helios::loadgen::testing {

struct SeenRequest {
  std::string method;
  std::string path;
  std::string body;
  std::string authorization;
  std::string content_type;
  std::string host;
  int remote_port = 0;
};

class TestServer {
 public:
  // Called with the request's number (0, 1, 2, ... in order of arrival).
  using Handler = std::function<void(int number, const httplib::Request&, httplib::Response&)>;

  explicit TestServer(Handler handler,
                      const std::function<void(httplib::Server&)>& configure = nullptr)
      : handler_(std::move(handler)) {
    auto handle = [this](const httplib::Request& request, httplib::Response& response) {
      int number = 0;
      {
        std::lock_guard lock(mu_);
        number = static_cast<int>(seen_.size());
        seen_.push_back(SeenRequest{request.method, request.path, request.body,
                                    request.get_header_value("Authorization"),
                                    request.get_header_value("Content-Type"),
                                    request.get_header_value("Host"), request.remote_port});
      }
      handler_(number, request, response);
    };
    // A keep-alive connection that the generator left open delays stop() by up to this long.
    server_.set_keep_alive_timeout(1);
    // Like the real server: without TCP_NODELAY a response written in two parts waits for the
    // client's delayed ACK (40 ms); and keep connections for good (httplib's default is 5
    // requests). `configure` may change both.
    server_.set_tcp_nodelay(true);
    server_.set_keep_alive_max_count(1'000'000);
    if (configure) configure(server_);
    server_.Get(".*", handle);
    server_.Post(".*", handle);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }

  ~TestServer() { Stop(); }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  void Stop() {
    if (!thread_.joinable()) return;
    server_.stop();
    thread_.join();
  }

  int port() const { return port_; }

  std::vector<SeenRequest> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }
  size_t requests() const {
    std::lock_guard lock(mu_);
    return seen_.size();
  }
  // Distinct client ports: how many connections the requests came on.
  size_t connections() const {
    std::lock_guard lock(mu_);
    std::set<int> ports;
    for (const auto& s : seen_) ports.insert(s.remote_port);
    return ports.size();
  }

 private:
  Handler handler_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<SeenRequest> seen_;
};

}  // namespace helios::loadgen::testing
