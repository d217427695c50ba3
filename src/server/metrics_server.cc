#include "server/metrics_server.h"

#include <fmt/format.h>
#include <httplib.h>

#include <exception>
#include <mutex>
#include <string_view>
#include <utility>

#include "server/listener.h"

namespace helios::server {
namespace {

constexpr char kExpositionType[] = "text/plain; version=0.0.4; charset=utf-8";
constexpr char kTextType[] = "text/plain; charset=utf-8";
constexpr char kAllow[] = "GET, HEAD";
// Scrapes are cheap and come from one or two Prometheus servers.
constexpr int kWorkers = 2;
// Requests carry no body; anything larger is refused by httplib with 413.
constexpr size_t kMaxBodyBytes = 4096;
constexpr time_t kReadTimeoutSeconds = 5;
constexpr time_t kWriteTimeoutSeconds = 10;
// Bounds how long Run() waits after Stop() for a scraper's idle keep-alive connection; a
// scraper reconnects cheaply.
constexpr time_t kKeepAliveSeconds = 2;

void PlainText(httplib::Response& res, int status, std::string_view body) {
  res.status = status;
  res.set_content(std::string(body), kTextType);
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Content-Type-Options", "nosniff");
}

// The body of an error httplib answers itself.
std::string_view Reason(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 404:
      return "not found";
    case 413:
      return "request too large";
    case 414:
      return "request URI too long";
    default:
      return status >= 500 ? "internal server error" : "request refused";
  }
}

}  // namespace

class MetricsServer::Impl {
 public:
  Impl(const observability::MetricsRegistry& registry, observability::Logger& logger,
       std::string host, int port)
      : registry_(registry), logger_(logger), host_(std::move(host)), port_(port) {
    Configure();
    RegisterRoutes();
  }

  ~Impl() { Stop(); }

  Result<int> Bind() {
    std::lock_guard lock(mutex_);
    if (stopped_) return Fail(ErrorCode::kInvalidArgument, "the metrics server has been stopped");
    if (bound_) return Fail(ErrorCode::kInvalidArgument, "the metrics server is already bound");
    if (host_.empty()) return Fail(ErrorCode::kInvalidArgument, "metrics host must not be empty");
    if (port_ < 0 || port_ > 65535) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("metrics port {} is outside 0..65535", port_));
    }
    int port = port_;
    if (port == 0) {
      port = http_.bind_to_any_port(host_);
      if (port < 0) return CannotBind();
    } else if (!http_.bind_to_port(host_, port)) {
      return CannotBind();
    }
    bound_ = true;
    bound_port_ = port;
    return port;
  }

  void Run() {
    {
      std::lock_guard lock(mutex_);
      if (!bound_ || stopped_ || ran_) return;
      ran_ = true;
    }
    logger_.Info("metrics listening", {{"host", host_}, {"port", bound_port_}});
    http_.listen_after_bind();
    logger_.Info("metrics stopped listening", {{"host", host_}, {"port", bound_port_}});
  }

  void Stop() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    http_.CloseListeningSocket();
  }

 private:
  std::unexpected<Error> CannotBind() const {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot listen for metrics on {}:{} (address in use, not permitted "
                            "or unknown host)",
                            host_, port_));
  }

  void Configure() {
    http_.new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
    http_.set_tcp_nodelay(true);
    http_.set_keep_alive_timeout(kKeepAliveSeconds);
    http_.set_read_timeout(kReadTimeoutSeconds, 0);
    http_.set_write_timeout(kWriteTimeoutSeconds, 0);
    http_.set_payload_max_length(kMaxBodyBytes);
    // SO_REUSEADDR only: httplib's default SO_REUSEPORT would let a second process bind the same
    // port and silently take half of the scrapes.
    http_.set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    // Failures httplib answers itself (malformed request, unknown method, body too large) come
    // with an empty body; our own replies already have one.
    httplib::Server::HandlerWithResponse error_handler = [](const httplib::Request&,
                                                            httplib::Response& res) {
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      PlainText(res, res.status, fmt::format("{}\n", Reason(res.status)));
      return httplib::Server::HandlerResponse::Handled;
    };
    http_.set_error_handler(std::move(error_handler));
    // Never echo an exception's text (httplib's default puts it in a header).
    http_.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
          PlainText(res, 500, "internal server error\n");
        });
  }

  void RegisterRoutes() {
    http_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.status = 200;
      res.set_content(registry_.Render(), kExpositionType);
      res.set_header("Cache-Control", "no-store");
    });
    http_.Get("/health",
              [](const httplib::Request&, httplib::Response& res) { PlainText(res, 200, "ok"); });
    auto not_allowed = [](const httplib::Request& req, httplib::Response& res) {
      PlainText(res, 405,
                fmt::format("method {} is not allowed here; use {}\n", req.method, kAllow));
      res.set_header("Allow", kAllow);
    };
    auto not_found = [](const httplib::Request&, httplib::Response& res) {
      PlainText(res, 404, "not found: the metrics are at /metrics\n");
    };
    // Handlers are tried in registration order: the two known paths first, then everything else.
    for (const char* path : {"/metrics", "/health"}) {
      http_.Post(path, not_allowed);
      http_.Put(path, not_allowed);
      http_.Patch(path, not_allowed);
      http_.Delete(path, not_allowed);
      http_.Options(path, not_allowed);
    }
    http_.Get(".*", not_found);
    http_.Post(".*", not_found);
    http_.Put(".*", not_found);
    http_.Patch(".*", not_found);
    http_.Delete(".*", not_found);
    http_.Options(".*", not_found);
  }

  const observability::MetricsRegistry& registry_;
  observability::Logger& logger_;
  const std::string host_;
  const int port_;
  Listener http_;

  std::mutex mutex_;  // guards the lifecycle flags below
  bool bound_ = false;
  bool stopped_ = false;
  bool ran_ = false;
  int bound_port_ = 0;
};

MetricsServer::MetricsServer(const observability::MetricsRegistry& registry,
                             observability::Logger& logger, std::string host, int port)
    : impl_(std::make_unique<Impl>(registry, logger, std::move(host), port)) {}

MetricsServer::~MetricsServer() = default;

Result<int> MetricsServer::Bind() { return impl_->Bind(); }

void MetricsServer::Run() { impl_->Run(); }

void MetricsServer::Stop() { impl_->Stop(); }

}  // namespace helios::server
