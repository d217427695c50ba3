// Embeddings from OpenAI, OpenAI-compatible servers, Cohere and Ollama (see embeddings.h).
#include "llm/embeddings.h"

#include <fmt/format.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>
#include <vector>

#include "common/text.h"
#include "llm/cohere/cohere_provider.h"
#include "llm/ollama/ollama_provider.h"
#include "llm/openai/openai_provider.h"
#include "llm/wire.h"

namespace helios::llm {
namespace {

using nlohmann::json;

constexpr std::string_view kKnownProviders = "openai, openai-compatible, cohere, ollama";
constexpr std::string_view kOllamaEmbedPath = "/api/embed";
constexpr std::string_view kOllamaLegacyPath = "/api/embeddings";

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The embeddings URL of an OpenAI-style API, by the rules of wire::OpenAiChatUrl, so the base
// URL configured for chat works here too.
std::string OpenAiEmbeddingsUrl(std::string_view base) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  if (EndsWith(base, "/embeddings")) return std::string(base);
  if (EndsWith(base, "/chat/completions")) {
    base.remove_suffix(std::string_view("/chat/completions").size());
    return std::string(base) + "/embeddings";
  }
  const auto scheme = base.find("://");
  const auto path = base.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  if (path == std::string_view::npos) return std::string(base) + "/v1/embeddings";
  return std::string(base) + "/embeddings";
}

struct Settings {
  std::string provider;  // as configured ("openai")
  std::string service;   // for messages ("OpenAI")
  std::string url;       // the endpoint, complete
  std::string model;
  std::string api_key;
  std::chrono::milliseconds timeout{0};
};

// What every embedder shares: the settings, one HTTP exchange, status mapping, and reading,
// checking and normalising the vector. Subclasses say how their API spells a request and where
// its answer keeps the vector.
class HttpEmbedder : public cache::Embedder {
 public:
  std::string name() const final { return name_; }

 protected:
  // Finds the vector in a 2xx answer; nullptr when it is not where the API puts it.
  using VectorOf = const json* (*)(const json& answer);

  HttpEmbedder(Settings settings, HttpTransport& transport)
      : settings_(std::move(settings)),
        name_(settings_.provider + ":" + settings_.model),
        transport_(transport) {}

  const Settings& settings() const { return settings_; }

  // Providers refuse to embed an empty text, so it is refused here without a request.
  Result<void> CheckText(std::string_view text) const {
    if (text::Trim(text).empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("there is no text to embed with {}", settings_.service));
    }
    return {};
  }

  // One POST of `body` to `url`. Any HTTP status is a response; transport errors keep their
  // code, and their message names the service.
  Result<HttpResponse> Post(const std::string& url, const json& body) const {
    HttpRequest request;
    request.method = "POST";
    request.url = url;
    request.timeout = settings_.timeout;
    request.headers = {{"Content-Type", "application/json"},
                       {"Accept", "application/json"},
                       {"User-Agent", "heliosdb-conversational-bi"}};
    if (!settings_.api_key.empty()) {
      request.headers.emplace_back("Authorization", "Bearer " + settings_.api_key);
    }
    request.body = wire::Dump(body);
    auto sent = transport_.Send(request);
    if (!sent) {
      return Fail(sent.error().code, Redact(fmt::format("{} embeddings: {}", settings_.service,
                                                        sent.error().message)));
    }
    return sent;
  }

  // The unit vector of a 2xx answer, or the error a non-2xx answer means.
  Result<std::vector<float>> Vector(const HttpResponse& response, VectorOf vector_of) {
    if (response.status < 200 || response.status > 299) {
      return std::unexpected(StatusError(response));
    }
    const auto answer = wire::ParseJson(response.body);
    if (!answer || !answer->is_object()) {
      return Fail(ErrorCode::kUnavailable,
                  fmt::format("{} sent an embedding answer that is not a JSON object (HTTP {})",
                              settings_.service, response.status));
    }
    const json* values = vector_of(*answer);
    if (values == nullptr || !values->is_array() || values->empty()) {
      return Fail(ErrorCode::kUnavailable,
                  fmt::format("{} sent an answer without an embedding for the model \"{}\"",
                              settings_.service, settings_.model));
    }
    std::vector<float> vector;
    vector.reserve(values->size());
    double squares = 0;
    for (const json& value : *values) {
      const double number = value.is_number() ? value.get<double>() : std::nan("");
      if (!std::isfinite(number) || std::fabs(number) > std::numeric_limits<float>::max()) {
        return Fail(ErrorCode::kUnavailable,
                    fmt::format("{} sent an embedding holding something other than finite "
                                "numbers, such as {}",
                                settings_.service, wire::Shorten(Redact(wire::Dump(value)), 40)));
      }
      vector.push_back(static_cast<float>(number));
      squares += static_cast<double>(vector.back()) * vector.back();
    }
    if (squares == 0) {
      return Fail(ErrorCode::kUnavailable,
                  fmt::format("{} sent an embedding of all zeros, which has no direction to "
                              "compare",
                              settings_.service));
    }
    // The first vector fixes the dimension: vectors of different lengths cannot be compared.
    size_t expected = 0;
    if (!dimension_.compare_exchange_strong(expected, vector.size()) && expected != vector.size()) {
      return Fail(ErrorCode::kUnavailable,
                  fmt::format("{} sent an embedding of {} dimensions for the model \"{}\", but "
                              "earlier ones had {}; was the model changed on the server?",
                              settings_.service, vector.size(), settings_.model, expected));
    }
    cache::Normalize(vector);
    return vector;
  }

  std::string Redact(std::string_view text) const { return wire::Redact(text, settings_.api_key); }

  // The provider's own message in an error body; "" when it has none.
  virtual std::string ErrorMessage(const json& body) const = 0;

 private:
  Error StatusError(const HttpResponse& response) const {
    std::string said;
    if (const auto body = wire::ParseJson(response.body)) said = ErrorMessage(*body);
    if (said.empty() && response.Header("Content-Type").find("json") == std::string::npos) {
      said = response.body;  // a proxy's plain-text or HTML page
    }
    said = wire::Shorten(Redact(said));
    const std::string quoted = said.empty() ? "" : fmt::format(": {}", said);
    const std::string& service = settings_.service;
    const int status = response.status;

    if (status == 401 || status == 403) {
      if (settings_.api_key.empty()) {
        return Error(ErrorCode::kUnavailable,
                     fmt::format("{} wants an API key for embeddings, and none is configured "
                                 "(HTTP {}){}",
                                 service, status, quoted));
      }
      return Error(ErrorCode::kUnavailable,
                   fmt::format("{} refused the API key configured for embeddings (HTTP {}){}",
                               service, status, quoted));
    }
    if (status == 404) {
      return Error(ErrorCode::kUnavailable,
                   fmt::format("{} does not know the embedding model \"{}\" or the endpoint {} "
                               "(HTTP 404){}",
                               service, settings_.model, wire::UrlHost(settings_.url), quoted));
    }
    if (status == 429) {
      return Error(ErrorCode::kUnavailable,
                   fmt::format("{} is rate limiting embeddings (HTTP 429){}", service, quoted));
    }
    if (status >= 500) {
      return Error(ErrorCode::kUnavailable,
                   fmt::format("{} is failing or overloaded (HTTP {}){}", service, status, quoted));
    }
    if (status >= 400) {
      return Error(ErrorCode::kInternal,
                   fmt::format("{} refused the embedding request as malformed (HTTP {}){}", service,
                               status, quoted));
    }
    return Error(ErrorCode::kUnavailable,
                 fmt::format("{} gave an unexpected answer (HTTP {}){}", service, status, quoted));
  }

  const Settings settings_;
  const std::string name_;
  HttpTransport& transport_;
  std::atomic<size_t> dimension_{0};  // 0 until the first vector
};

// OpenAI's POST /v1/embeddings, for OpenAI and compatible servers.
class OpenAiEmbedder final : public HttpEmbedder {
 public:
  OpenAiEmbedder(Settings settings, HttpTransport& transport)
      : HttpEmbedder(std::move(settings), transport) {}

  Result<std::vector<float>> Embed(std::string_view text) override {
    if (auto checked = CheckText(text); !checked) return std::unexpected(checked.error());
    const json body = {{"model", settings().model}, {"input", std::string(text)}};
    auto response = Post(settings().url, body);
    if (!response) return std::unexpected(response.error());
    return Vector(*response, [](const json& answer) -> const json* {
      const json* data = wire::Array(answer, "data");
      if (data == nullptr || data->empty()) return nullptr;
      return wire::Array((*data)[0], "embedding");
    });
  }

 private:
  std::string ErrorMessage(const json& body) const override {
    if (const json* error = wire::Object(body, "error")) return wire::String(*error, "message");
    // Some compatible servers answer {"error": "..."} or {"detail": "..."} (FastAPI).
    if (std::string message = wire::String(body, "error"); !message.empty()) return message;
    if (std::string message = wire::String(body, "message"); !message.empty()) return message;
    return wire::String(body, "detail");
  }
};

// Cohere's POST /v2/embed.
class CohereEmbedder final : public HttpEmbedder {
 public:
  CohereEmbedder(Settings settings, HttpTransport& transport)
      : HttpEmbedder(std::move(settings), transport) {}

  Result<std::vector<float>> Embed(std::string_view text) override {
    if (auto checked = CheckText(text); !checked) return std::unexpected(checked.error());
    const json body = {{"model", settings().model},
                       {"texts", json::array({std::string(text)})},
                       {"input_type", "search_query"},
                       {"embedding_types", json::array({"float"})}};
    auto response = Post(settings().url, body);
    if (!response) return std::unexpected(response.error());
    return Vector(*response, [](const json& answer) -> const json* {
      const json* embeddings = wire::Object(answer, "embeddings");
      if (embeddings == nullptr) return nullptr;
      const json* floats = wire::Array(*embeddings, "float");
      if (floats == nullptr || floats->empty()) return nullptr;
      return &(*floats)[0];
    });
  }

 private:
  std::string ErrorMessage(const json& body) const override {
    return wire::String(body, "message");
  }
};

// Ollama's POST /api/embed, falling back to the older /api/embeddings.
class OllamaEmbedder final : public HttpEmbedder {
 public:
  OllamaEmbedder(Settings settings, HttpTransport& transport)
      : HttpEmbedder(std::move(settings), transport),
        legacy_url_(
            this->settings().url.substr(0, this->settings().url.size() - kOllamaEmbedPath.size()) +
            std::string(kOllamaLegacyPath)) {}

  Result<std::vector<float>> Embed(std::string_view text) override {
    if (auto checked = CheckText(text); !checked) return std::unexpected(checked.error());
    if (!legacy_.load()) {
      const json body = {{"model", settings().model}, {"input", std::string(text)}};
      auto response = Post(settings().url, body);
      if (!response) return std::unexpected(response.error());
      if (!IsMissingEndpoint(*response)) {
        return Vector(*response, [](const json& answer) -> const json* {
          const json* embeddings = wire::Array(answer, "embeddings");
          if (embeddings == nullptr || embeddings->empty()) return nullptr;
          return &(*embeddings)[0];
        });
      }
    }
    const json body = {{"model", settings().model}, {"prompt", std::string(text)}};
    auto response = Post(legacy_url_, body);
    if (!response) return std::unexpected(response.error());
    auto vector = Vector(*response, [](const json& answer) -> const json* {
      return wire::Array(answer, "embedding");
    });
    if (vector) legacy_.store(true);
    return vector;
  }

 private:
  // A 404 that is not Ollama's own {"error": ...} (which names a model that is not pulled):
  // the server predates /api/embed.
  bool IsMissingEndpoint(const HttpResponse& response) const {
    if (response.status != 404) return false;
    const auto body = wire::ParseJson(response.body);
    return !body || wire::String(*body, "error").empty();
  }

  std::string ErrorMessage(const json& body) const override { return wire::String(body, "error"); }

  const std::string legacy_url_;
  std::atomic<bool> legacy_{false};  // /api/embed is missing and /api/embeddings has answered
};

}  // namespace

Result<std::unique_ptr<cache::Embedder>> MakeEmbedder(const EmbeddingOptions& options,
                                                      HttpTransport& transport) {
  const std::string& provider = options.provider;
  const bool openai = provider == "openai";
  const bool compatible = provider == "openai-compatible";
  const bool cohere = provider == "cohere";
  const bool ollama = provider == "ollama";
  if (!openai && !compatible && !cohere && !ollama) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("unknown embedding provider \"{}\"; the known ones are {}",
                            wire::Shorten(provider, 40), kKnownProviders));
  }
  if (options.model.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("the {} embedding provider needs a model", provider));
  }
  if ((openai || cohere) && options.api_key.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("the {} embedding provider needs an API key", provider));
  }
  if (options.timeout.count() <= 0) {
    return Fail(ErrorCode::kInvalidArgument, "the embedding timeout must be positive");
  }
  const std::string base = text::Trim(options.base_url);
  if (base.empty() && compatible) {
    return Fail(ErrorCode::kInvalidArgument,
                "the openai-compatible embedding provider needs a base URL (the server's URL, "
                "e.g. http://localhost:8000/v1)");
  }
  std::string_view chosen = base;
  if (chosen.empty()) {
    chosen = openai   ? kOpenAiDefaultBaseUrl
             : cohere ? kCohereDefaultBaseUrl
                      : kOllamaDefaultBaseUrl;
  }
  if (!wire::IsHttpUrl(chosen)) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("the embedding base URL must be an http:// or https:// URL for the "
                            "{} provider, got \"{}\"",
                            provider, wire::Redact(text::RedactUrl(chosen), options.api_key)));
  }

  Settings settings;
  settings.provider = provider;
  settings.model = options.model;
  settings.api_key = options.api_key;
  settings.timeout = options.timeout;
  if (openai || compatible) {
    settings.url = OpenAiEmbeddingsUrl(chosen);
    settings.service =
        openai ? "OpenAI"
               : fmt::format("the OpenAI-compatible endpoint {}", wire::UrlHost(settings.url));
    return std::make_unique<OpenAiEmbedder>(std::move(settings), transport);
  }
  if (cohere) {
    settings.url = wire::RootJoinedUrl(chosen, "/v2/embed");
    settings.service = "Cohere";
    return std::make_unique<CohereEmbedder>(std::move(settings), transport);
  }
  settings.url = wire::RootJoinedUrl(chosen, kOllamaEmbedPath);
  settings.service = "Ollama";
  return std::make_unique<OllamaEmbedder>(std::move(settings), transport);
}

}  // namespace helios::llm
