#include "server/http_server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <exception>
#include <functional>
#include <mutex>
#include <string_view>
#include <utility>

#include "common/text.h"
#include "server/api_json.h"
#include "server/http_status.h"
#include "server/query_request.h"

namespace helios::server {
namespace {

using observability::RequestLog;

// Until authentication exists every request belongs to one tenant.
constexpr std::string_view kDefaultTenant = "default";
constexpr int kMaxWorkers = 1024;
constexpr size_t kKeepAliveMaxRequests = 100;

// The request body as read by a handler.
struct Body {
  std::string bytes;
  bool too_large = false;
  bool failed = false;
  // Reading stopped before the end of the body, so the connection cannot carry another request.
  bool abandoned = false;
};

// What a route answers; Serve() turns it into the HTTP response and the log line.
struct Reply {
  int status = 200;
  std::string body;
  std::string error_code;  // empty on success
  std::string allow;       // Allow header of a 405
  bool close_connection = false;
};

Reply FromError(const Error& error) {
  return Reply{HttpStatusFor(error.code),
               ErrorToJson(error),
               std::string(ErrorCodeName(error.code)),
               {},
               false};
}

Reply InternalError() {
  // Never the exception text: it may describe internals.
  return FromError(Error(ErrorCode::kInternal, "internal server error"));
}

bool IsChunked(const httplib::Request& req) {
  return text::ToLower(req.get_header_value("Transfer-Encoding")).find("chunked") !=
         std::string::npos;
}

// Reads the whole body, refusing to buffer more than max_bytes.
Body ReadBody(const httplib::Request& req, const httplib::ContentReader& reader,
              httplib::Response& res, size_t max_bytes) {
  Body body;
  // An HTTP/1.1 request without Content-Length or chunked encoding has no body; asking the
  // reader anyway would wait for the client to close the connection.
  if (!IsChunked(req) && !req.has_header("Content-Length")) return body;
  bool receiver_refused = false;
  // Past the limit the rest of the body is read and dropped, up to a bound: closing a socket
  // with unread data makes the kernel send a reset, and the client would never see the 413.
  const size_t drain_limit = std::max<size_t>(max_bytes * 4, size_t{4} << 20);
  size_t dropped = 0;
  bool over = false;
  bool ok = reader([&](const char* data, size_t length) {
    if (over || body.bytes.size() + length > max_bytes) {
      over = true;
      dropped += length;
      if (dropped > drain_limit) {
        receiver_refused = true;
        return false;
      }
      return true;
    }
    body.bytes.append(data, length);
    return true;
  });
  if (ok && over) {
    body.too_large = true;
    body.bytes.clear();
    return body;  // fully read: the connection can stay open
  }
  if (ok) return body;
  // httplib itself answers 413 (after discarding the body) when Content-Length is over the limit.
  body.too_large = receiver_refused || res.status == 413;
  body.failed = !body.too_large;
  body.abandoned = receiver_refused || res.status != 413;
  body.bytes.clear();
  return body;
}

// The request id to answer with: the caller's own when it is a sane id, else a new one.
std::string RequestIdFor(const httplib::Request& req) {
  std::string incoming = req.get_header_value("X-Request-Id");
  return IsValidId(incoming) ? incoming : text::NewUuid();
}

// The body is read as JSON whatever the declared type, except for types that are certainly
// something else (a file upload): `curl -d '{...}'` sends a form type with a JSON body, and
// refusing it would only get in a user's way. The body must still parse as a JSON object.
bool IsJsonContentType(const httplib::Request& req) {
  if (!req.has_header("Content-Type")) return true;
  std::string type = req.get_header_value("Content-Type");
  type = text::ToLower(text::Trim(type.substr(0, type.find(';'))));
  return !type.starts_with("multipart/") && !type.starts_with("image/") &&
         !type.starts_with("audio/") && !type.starts_with("video/") &&
         type != "application/octet-stream";
}

// httplib's stop() does nothing until the accept loop has started, so a Stop() that races
// ahead of Run() would be lost and Run() would serve forever. This subclass closes the listening
// socket whatever the loop's state; the loop then exits (or never starts) because it checks the
// socket before every accept.
class Listener : public httplib::Server {
 public:
  void CloseListeningSocket() {
    socket_t sock = svr_sock_.exchange(INVALID_SOCKET);
    if (sock != INVALID_SOCKET) {
      ::shutdown(sock, SHUT_RDWR);
      ::close(sock);
    }
  }
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(nl2sql::QueryService& service, observability::Logger& logger, const Clock& clock,
       ServerOptions options)
      : service_(service),
        logger_(logger),
        clock_(clock),
        options_(std::move(options)),
        started_(clock.Steady()) {
    Configure();
    RegisterRoutes();
  }

  ~Impl() { Stop(); }

  Result<int> Bind() {
    std::lock_guard lock(mutex_);
    if (stopped_) return Fail(ErrorCode::kInvalidArgument, "the server has been stopped");
    if (bound_) return Fail(ErrorCode::kInvalidArgument, "the server is already bound");
    if (auto invalid = ValidateOptions(); !invalid.empty()) {
      return Fail(ErrorCode::kInvalidArgument, invalid);
    }
    int port = options_.port;
    if (port == 0) {
      port = http_.bind_to_any_port(options_.host);
      if (port < 0) return CannotBind();
    } else if (!http_.bind_to_port(options_.host, port)) {
      return CannotBind();
    }
    bound_ = true;
    port_ = port;
    return port;
  }

  void Run() {
    {
      std::lock_guard lock(mutex_);
      if (!bound_ || stopped_ || ran_) return;
      ran_ = true;
    }
    logger_.Info("listening", {{"host", options_.host},
                               {"port", port_},
                               {"workers", options_.workers},
                               {"version", options_.version}});
    // A Stop() from here on closes the socket, which this loop checks before every accept.
    http_.listen_after_bind();
    logger_.Info("stopped listening", {{"host", options_.host}, {"port", port_}});
  }

  void Stop() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    http_.CloseListeningSocket();
  }

 private:
  using Route = std::function<Reply(const httplib::Request&, const Body&, RequestLog&)>;

  std::string ValidateOptions() const {
    if (options_.host.empty()) return "server host must not be empty";
    if (options_.port < 0 || options_.port > 65535) {
      return fmt::format("server port {} is outside 0..65535", options_.port);
    }
    if (options_.workers < 1 || options_.workers > kMaxWorkers) {
      return fmt::format("server workers must be between 1 and {}", kMaxWorkers);
    }
    if (options_.max_request_body_bytes == 0) return "max_request_body_bytes must be positive";
    if (options_.max_query_length == 0) return "max_query_length must be positive";
    if (options_.read_timeout.count() <= 0 || options_.write_timeout.count() <= 0 ||
        options_.keep_alive_timeout.count() <= 0) {
      return "server timeouts must be positive";
    }
    return {};
  }

  std::unexpected<Error> CannotBind() const {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot listen on {}:{} (address in use, not permitted or unknown "
                            "host)",
                            options_.host, options_.port));
  }

  void Configure() {
    int workers = std::clamp(options_.workers, 1, kMaxWorkers);
    http_.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
    // Answers are small and written in one go: without TCP_NODELAY, Nagle's algorithm and the
    // client's delayed ACK add about 40 ms to every keep-alive response.
    http_.set_tcp_nodelay(true);
    http_.set_keep_alive_max_count(kKeepAliveMaxRequests);
    http_.set_keep_alive_timeout(options_.keep_alive_timeout.count());
    http_.set_read_timeout(options_.read_timeout.count(), 0);
    http_.set_write_timeout(options_.write_timeout.count(), 0);
    http_.set_payload_max_length(options_.max_request_body_bytes);
    // httplib's default also sets SO_REUSEPORT, which lets a second instance bind a port that
    // is already serving and silently share its traffic. SO_REUSEADDR alone still allows a
    // quick restart while old connections sit in TIME_WAIT.
    http_.set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });

    // Failures httplib answers itself (malformed request line, unknown method, URI too long)
    // reach here with an empty body; our own error replies already have one.
    httplib::Server::HandlerWithResponse error_handler = [this](const httplib::Request& req,
                                                                httplib::Response& res) {
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      RequestLog log = NewLog(req);
      Finish(res, TransportError(res.status), log, clock_.Steady());
      return httplib::Server::HandlerResponse::Handled;
    };
    http_.set_error_handler(std::move(error_handler));

    // Every route catches its own exceptions; this is the last line of defence, and replaces
    // httplib's default, which would echo the exception text in a header.
    http_.set_exception_handler(
        [this](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
          RequestLog log = NewLog(req);
          Finish(res, InternalError(), log, clock_.Steady());
        });
  }

  void RegisterRoutes() {
    struct Endpoint {
      std::string path;
      std::string_view method;
      std::string allow;
      Route route;
    };
    std::array<Endpoint, 2> endpoints = {
        Endpoint{"/health", "GET", "GET, HEAD",
                 [this](const httplib::Request&, const Body&, RequestLog&) { return Health(); }},
        Endpoint{"/api/v1/query", "POST", "POST",
                 [this](const httplib::Request& req, const Body& body, RequestLog& log) {
                   return Query(req, body, log);
                 }},
    };
    static constexpr std::array<std::string_view, 6> kMethods = {"GET",   "POST",   "PUT",
                                                                 "PATCH", "DELETE", "OPTIONS"};
    for (const Endpoint& endpoint : endpoints) {
      for (std::string_view method : kMethods) {
        if (method == endpoint.method) {
          Add(method, endpoint.path, endpoint.route);
        } else {
          Add(method, endpoint.path, MethodNotAllowed(endpoint.allow));
        }
      }
    }
    // Handlers are tried in registration order, so this catches every other path.
    for (std::string_view method : kMethods) {
      Add(method, ".*", [](const httplib::Request&, const Body&, RequestLog&) {
        return FromError(Error(ErrorCode::kNotFound, "no such endpoint"));
      });
    }
  }

  // Registers route for method (GET also answers HEAD). Methods that carry a body use
  // httplib's content-reader form so that the body is read under our size limit.
  void Add(std::string_view method, const std::string& pattern, Route route) {
    auto plain = [this, route](const httplib::Request& req, httplib::Response& res) {
      Serve(req, res, nullptr, route);
    };
    auto with_body = [this, route](const httplib::Request& req, httplib::Response& res,
                                   const httplib::ContentReader& reader) {
      Serve(req, res, &reader, route);
    };
    if (method == "GET") {
      http_.Get(pattern, plain);
    } else if (method == "OPTIONS") {
      http_.Options(pattern, plain);
    } else if (method == "POST") {
      http_.Post(pattern, with_body);
    } else if (method == "PUT") {
      http_.Put(pattern, with_body);
    } else if (method == "PATCH") {
      http_.Patch(pattern, with_body);
    } else if (method == "DELETE") {
      http_.Delete(pattern, with_body);
    }
  }

  static Route MethodNotAllowed(std::string allow) {
    return [allow = std::move(allow)](const httplib::Request& req, const Body&, RequestLog&) {
      Reply reply{
          405,
          ErrorBodyToJson("method_not_allowed",
                          fmt::format("method {} is not allowed here; use {}", req.method, allow)),
          "method_not_allowed", allow, false};
      return reply;
    };
  }

  static Reply TransportError(int status) {
    switch (status) {
      case 404:
        return FromError(Error(ErrorCode::kNotFound, "no such endpoint"));
      case 413:
        return FromError(Error(ErrorCode::kPayloadTooLarge, "the request is too large"));
      case 414:
        return FromError(Error(ErrorCode::kPayloadTooLarge, "the request URI is too long"));
      default:
        break;
    }
    if (status >= 500) return InternalError();
    Reply reply = FromError(Error(ErrorCode::kInvalidArgument, "malformed HTTP request"));
    reply.status = status >= 400 ? status : 400;
    return reply;
  }

  RequestLog NewLog(const httplib::Request& req) const {
    RequestLog log;
    log.request_id = RequestIdFor(req);
    log.method = req.method;
    log.path = req.path;
    log.tenant_id = std::string(kDefaultTenant);
    return log;
  }

  // The one path every routed request takes: read the body, run the route with no exception
  // escaping, answer and log.
  void Serve(const httplib::Request& req, httplib::Response& res,
             const httplib::ContentReader* reader, const Route& route) {
    auto start = clock_.Steady();
    RequestLog log = NewLog(req);
    Reply reply;
    try {
      Body body;
      if (reader != nullptr) body = ReadBody(req, *reader, res, options_.max_request_body_bytes);
      reply = route(req, body, log);
      reply.close_connection = reply.close_connection || body.abandoned;
    } catch (const std::exception& e) {
      LogException(log, e.what());
      reply = InternalError();
    } catch (...) {
      LogException(log, "unknown exception");
      reply = InternalError();
    }
    Finish(res, reply, log, start);
  }

  void LogException(const RequestLog& log, std::string_view what) {
    logger_.Error("unhandled exception in a request handler",
                  {{"request_id", log.request_id}, {"path", log.path}, {"exception", what}});
  }

  void Finish(httplib::Response& res, const Reply& reply, RequestLog& log,
              std::chrono::steady_clock::time_point start) {
    res.status = reply.status;
    res.set_content(reply.body, "application/json");
    res.set_header("X-Request-Id", log.request_id);
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Content-Type-Options", "nosniff");
    if (!reply.allow.empty()) res.set_header("Allow", reply.allow);
    if (reply.close_connection) res.set_header("Connection", "close");
    log.status = reply.status;
    log.error_code = reply.error_code;
    log.latency_ms = std::chrono::duration<double, std::milli>(clock_.Steady() - start).count();
    observability::LogRequest(logger_, log);
  }

  Reply Health() {
    nl2sql::HealthReport report = service_.Health();
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(clock_.Steady() - started_);
    Reply reply{report.ok ? 200 : 503,
                HealthToJson(report, options_.version, uptime.count()),
                report.ok ? "" : std::string(ErrorCodeName(ErrorCode::kUnavailable)),
                {},
                false};
    return reply;
  }

  Reply Query(const httplib::Request& req, const Body& body, RequestLog& log) {
    if (body.too_large) {
      return FromError(Error(ErrorCode::kPayloadTooLarge,
                             fmt::format("the request body is larger than the limit of {} bytes",
                                         options_.max_request_body_bytes)));
    }
    if (body.failed) {
      return FromError(Error(ErrorCode::kInvalidArgument, "the request body could not be read"));
    }
    if (!IsJsonContentType(req)) {
      return Reply{415,
                   ErrorBodyToJson("unsupported_media_type",
                                   "the request body must be JSON (Content-Type: "
                                   "application/json)"),
                   "unsupported_media_type",
                   {},
                   false};
    }
    auto request = ParseQueryRequest(body.bytes, options_.max_query_length);
    if (!request) return FromError(request.error());
    log.session_id = request->session_id;
    log.query = request->query;

    nl2sql::AskRequest ask;
    ask.tenant_id = std::string(kDefaultTenant);
    ask.session_id = std::move(request->session_id);
    ask.question = std::move(request->query);
    ask.database = std::move(request->database);
    auto answer = service_.Ask(ask);
    if (!answer) return FromError(answer.error());
    log.session_id = answer->session_id;
    log.cache_hit = answer->cache_hit;
    log.sql_generated = !answer->sql.empty();
    log.source = answer->source;
    log.row_count = answer->row_count;
    return Reply{200, AnswerToJson(*answer), {}, {}, false};
  }

  nl2sql::QueryService& service_;
  observability::Logger& logger_;
  const Clock& clock_;
  const ServerOptions options_;
  const std::chrono::steady_clock::time_point started_;
  Listener http_;

  std::mutex mutex_;  // guards the lifecycle flags below
  bool bound_ = false;
  bool stopped_ = false;
  bool ran_ = false;  // Run() serves at most once
  int port_ = 0;
};

HttpServer::HttpServer(nl2sql::QueryService& service, observability::Logger& logger,
                       const Clock& clock, ServerOptions options)
    : impl_(std::make_unique<Impl>(service, logger, clock, std::move(options))) {}

HttpServer::~HttpServer() = default;

Result<int> HttpServer::Bind() { return impl_->Bind(); }

void HttpServer::Run() { impl_->Run(); }

void HttpServer::Stop() { impl_->Stop(); }

}  // namespace helios::server
