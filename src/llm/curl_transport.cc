// CurlTransport: HttpTransport on libcurl's easy interface.
//
// Connections are reused through a small pool of easy handles: each handle keeps its own
// connection cache, and a handle goes back to the pool (curl_easy_reset keeps its live
// connections) after every exchange. DNS answers and TLS sessions are shared between all handles
// through a CURLSH guarded by one mutex per kind of data. The connection cache itself is not put
// in the CURLSH because libcurl does not support sharing connections between concurrent threads.
//
// Every exchange: CURLOPT_TIMEOUT_MS from the request, CURLOPT_NOSIGNAL (no SIGALRM in a
// multi-threaded server), TLS peer and host verification on, only http and https, no redirects
// (a redirected POST would carry the API key elsewhere), proxies from the environment (libcurl's
// default: http_proxy, https_proxy, no_proxy). Error messages come from libcurl's error buffer,
// which describes the connection, never the request headers that carry keys.
#include <curl/curl.h>
#include <fmt/format.h>

#include <array>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/text.h"
#include "llm/http_transport.h"

namespace helios::llm {
namespace {

// An answer larger than this is refused: no completion comes near it, and a misbehaving peer
// must not exhaust memory.
constexpr size_t kMaxResponseBytes = size_t{16} << 20;

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// The host (and port) of a URL, for messages: no scheme, user info, path or query.
std::string HostOf(std::string_view url) {
  if (auto scheme = url.find("://"); scheme != std::string_view::npos) {
    url.remove_prefix(scheme + 3);
  }
  url = url.substr(0, url.find_first_of("/?#"));
  if (auto at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
  return std::string(url);
}

struct Exchange {
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool too_large = false;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  const size_t bytes = size * count;
  if (exchange->body.size() + bytes > kMaxResponseBytes) {
    exchange->too_large = true;
    return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
  }
  exchange->body.append(data, bytes);
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  const size_t bytes = size * count;
  std::string_view line(data, bytes);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (text::StartsWith(line, "HTTP/")) {
    // A new response begins (after "100 Continue" or a proxy's CONNECT answer): only the
    // final response's headers count.
    exchange->headers.clear();
    return bytes;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return bytes;
  exchange->headers.emplace_back(std::string(line.substr(0, colon)),
                                 text::Trim(line.substr(colon + 1)));
  return bytes;
}

Error MapCurlError(CURLcode code, const char* detail, const std::string& url) {
  std::string what = detail != nullptr && detail[0] != '\0' ? detail : curl_easy_strerror(code);
  const std::string host = HostOf(url);
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return Error(ErrorCode::kDeadlineExceeded,
                   fmt::format("no answer from {} in time: {}", host, what));
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("cannot send to \"{}\": {}", text::RedactUrl(url), what));
    default:
      return Error(ErrorCode::kUnavailable, fmt::format("could not reach {}: {}", host, what));
  }
}

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(size_t max_idle_handles) : max_idle_handles_(max_idle_handles) {
    InitCurlOnce();
    share_ = curl_share_init();
    if (share_ != nullptr) {
      curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, &CurlTransport::Lock);
      curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &CurlTransport::Unlock);
      curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
      curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
      curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    }
  }

  ~CurlTransport() override {
    // Handles first: a share cannot be cleaned up while handles still use it.
    for (CURL* handle : idle_) curl_easy_cleanup(handle);
    if (share_ != nullptr) curl_share_cleanup(share_);
  }

  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  Result<HttpResponse> Send(const HttpRequest& request) override {
    if (request.timeout <= std::chrono::milliseconds::zero()) {
      // CURLOPT_TIMEOUT_MS 0 would mean "no limit": never send without one.
      return Fail(ErrorCode::kDeadlineExceeded,
                  fmt::format("no time left to ask {}", HostOf(request.url)));
    }
    CURL* handle = Acquire();
    if (handle == nullptr) return Fail(ErrorCode::kInternal, "libcurl could not start a transfer");
    auto result = Perform(handle, request);
    Release(handle);
    return result;
  }

 private:
  static void Lock(CURL*, curl_lock_data data, curl_lock_access, void* self) {
    static_cast<CurlTransport*>(self)->locks_[static_cast<size_t>(data) % kLockCount].lock();
  }
  static void Unlock(CURL*, curl_lock_data data, void* self) {
    static_cast<CurlTransport*>(self)->locks_[static_cast<size_t>(data) % kLockCount].unlock();
  }

  CURL* Acquire() {
    {
      std::lock_guard lock(pool_mu_);
      if (!idle_.empty()) {
        CURL* handle = idle_.back();
        idle_.pop_back();
        return handle;
      }
    }
    return curl_easy_init();
  }

  void Release(CURL* handle) {
    // Forgets the options set for the last request, keeps the live connections.
    curl_easy_reset(handle);
    {
      std::lock_guard lock(pool_mu_);
      if (idle_.size() < max_idle_handles_) {
        idle_.push_back(handle);
        return;
      }
    }
    curl_easy_cleanup(handle);
  }

  Result<HttpResponse> Perform(CURL* handle, const HttpRequest& request) {
    Exchange exchange;
    std::array<char, CURL_ERROR_SIZE> detail{};

    struct SlistDeleter {
      void operator()(curl_slist* list) const { curl_slist_free_all(list); }
    };
    std::unique_ptr<curl_slist, SlistDeleter> headers;
    auto append_header = [&headers](const std::string& line) {
      curl_slist* next = curl_slist_append(headers.get(), line.c_str());
      if (next != nullptr) {
        (void)headers.release();
        headers.reset(next);
      }
      return next != nullptr;
    };
    for (const auto& [name, value] : request.headers) {
      if (name.find_first_of("\r\n:") != std::string::npos ||
          value.find_first_of("\r\n") != std::string::npos) {
        // Would split into several headers. The value is not quoted: it may be a key.
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("the request header \"{}\" holds a line break", name));
      }
      if (!append_header(fmt::format("{}: {}", name, value))) {
        return Fail(ErrorCode::kInternal, "out of memory building request headers");
      }
    }
    // No "Expect: 100-continue" round trip before large bodies.
    if (!append_header("Expect:")) {
      return Fail(ErrorCode::kInternal, "out of memory building request headers");
    }

    curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(handle, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(handle, CURLOPT_ACCEPT_ENCODING, "");  // whatever libcurl can decode
    if (share_ != nullptr) curl_easy_setopt(handle, CURLOPT_SHARE, share_);
    curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, detail.data());
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, &exchange);
    curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(handle, CURLOPT_HEADERDATA, &exchange);

    if (request.method == "GET") {
      curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
    } else {
      if (request.method != "POST") {
        curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      }
      if (request.method == "POST" || !request.body.empty()) {
        curl_easy_setopt(handle, CURLOPT_POST, 1L);
        curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body.size()));
        curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.data());
      }
    }

    const CURLcode code = curl_easy_perform(handle);
    // The error buffer and header list live on this stack frame only.
    curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, nullptr);
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, nullptr);
    if (exchange.too_large) {
      return Fail(ErrorCode::kUnavailable,
                  fmt::format("{} sent an answer larger than {} MiB", HostOf(request.url),
                              kMaxResponseBytes >> 20));
    }
    if (code != CURLE_OK) return std::unexpected(MapCurlError(code, detail.data(), request.url));

    long status = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    HttpResponse response;
    response.status = static_cast<int>(status);
    response.headers = std::move(exchange.headers);
    response.body = std::move(exchange.body);
    return response;
  }

  static constexpr size_t kLockCount = CURL_LOCK_DATA_LAST;

  CURLSH* share_ = nullptr;
  std::array<std::mutex, kLockCount> locks_;
  std::mutex pool_mu_;
  const size_t max_idle_handles_;
  std::vector<CURL*> idle_;
};

}  // namespace

std::unique_ptr<HttpTransport> MakeCurlTransport(size_t max_idle_handles) {
  return std::make_unique<CurlTransport>(max_idle_handles);
}

}  // namespace helios::llm
