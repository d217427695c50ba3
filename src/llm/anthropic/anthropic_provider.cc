// Anthropic Messages API (see anthropic_provider.h).
#include "llm/anthropic/anthropic_provider.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/text.h"
#include "llm/wire.h"

namespace helios::llm {
namespace {

using nlohmann::json;

class AnthropicProvider final : public HttpProvider {
 public:
  AnthropicProvider(ProviderSettings settings, ProviderDeps deps)
      : HttpProvider("anthropic", "Anthropic", std::move(settings), std::move(deps)) {}

 private:
  json BuildBody(const CompletionRequest& request) const override {
    json messages = json::array();
    std::string system;
    for (const Message& message : request.messages) {
      if (message.role == Role::kSystem) {
        system = message.content;
        continue;
      }
      messages.push_back({{"role", message.role == Role::kAssistant ? "assistant" : "user"},
                          {"content", message.content}});
    }
    json body = {{"model", settings().model},
                 {"max_tokens", request.max_tokens},
                 {"messages", std::move(messages)},
                 {"temperature", std::min(request.temperature, 1.0)}};
    if (!system.empty()) body["system"] = system;
    return body;
  }

  std::vector<std::pair<std::string, std::string>> ApiHeaders() const override {
    return {{"x-api-key", settings().api_key.Reveal()},
            {"anthropic-version", std::string(kAnthropicVersion)}};
  }

  Result<Completion> ParseAnswer(const json& answer) const override {
    const json* content = wire::Array(answer, "content");
    if (content == nullptr) {
      return Fail(ErrorCode::kUnavailable,
                  fmt::format("{} sent an answer without content", service()));
    }
    Completion completion;
    for (const json& block : *content) {
      if (wire::String(block, "type") == "text") completion.text += wire::String(block, "text");
    }
    completion.model = wire::String(answer, "model");
    const std::string stop = wire::String(answer, "stop_reason");
    completion.truncated = stop == "max_tokens";
    if (const json* usage = wire::Object(answer, "usage")) {
      completion.input_tokens = wire::Int(*usage, "input_tokens").value_or(0);
      completion.output_tokens = wire::Int(*usage, "output_tokens").value_or(0);
    }
    if (stop == "refusal") {
      return Fail(ErrorCode::kNotUnderstood,
                  completion.text.empty() ? std::string("the language model declined to answer")
                                          : fmt::format("the language model declined: \"{}\"",
                                                        wire::Shorten(completion.text)));
    }
    if (text::Trim(completion.text).empty()) {
      return Fail(ErrorCode::kNotUnderstood, fmt::format("{} answered with no text", service()));
    }
    return completion;
  }

  std::string ErrorMessage(const json& body) const override {
    const json* error = wire::Object(body, "error");
    if (error == nullptr) return "";
    std::string message = wire::String(*error, "message");
    const std::string type = wire::String(*error, "type");
    if (type.empty()) return message;
    return message.empty() ? type : fmt::format("{}: {}", type, message);
  }
};

}  // namespace

std::unique_ptr<LlmProvider> MakeAnthropicProvider(ProviderSettings settings, ProviderDeps deps) {
  return std::make_unique<AnthropicProvider>(std::move(settings), std::move(deps));
}

}  // namespace helios::llm
