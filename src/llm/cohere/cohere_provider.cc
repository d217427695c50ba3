// Cohere Chat API v2 (see cohere_provider.h).
#include "llm/cohere/cohere_provider.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/text.h"
#include "llm/wire.h"

namespace helios::llm {
namespace {

using nlohmann::json;

class CohereProvider final : public HttpProvider {
 public:
  CohereProvider(ProviderSettings settings, ProviderDeps deps)
      : HttpProvider("cohere", "Cohere", std::move(settings), std::move(deps)) {}

 private:
  json BuildBody(const CompletionRequest& request) const override {
    json messages = json::array();
    for (const Message& message : request.messages) {
      messages.push_back(
          {{"role", std::string(RoleName(message.role))}, {"content", message.content}});
    }
    json body = {{"model", settings().model},
                 {"messages", std::move(messages)},
                 {"stream", false},
                 {"max_tokens", request.max_tokens},
                 {"temperature", std::min(request.temperature, 1.0)}};
    if (wire::WantsJsonMode(request)) body["response_format"] = {{"type", "json_object"}};
    return body;
  }

  std::vector<std::pair<std::string, std::string>> ApiHeaders() const override {
    return {{"Authorization", "Bearer " + settings().api_key.Reveal()}};
  }

  Result<Completion> ParseAnswer(const json& answer) const override {
    const json* message = wire::Object(answer, "message");
    if (message == nullptr) {
      return Fail(ErrorCode::kUnavailable,
                  fmt::format("{} sent an answer without a message", service()));
    }
    Completion completion;
    if (const json* content = wire::Array(*message, "content")) {
      for (const json& block : *content) {
        if (wire::String(block, "type") == "text") completion.text += wire::String(block, "text");
      }
    }
    completion.truncated = text::ToLower(wire::String(answer, "finish_reason")) == "max_tokens";
    if (const json* usage = wire::Object(answer, "usage")) {
      const json* counts = wire::Object(*usage, "tokens");
      if (counts == nullptr) counts = wire::Object(*usage, "billed_units");
      if (counts != nullptr) {
        completion.input_tokens = wire::Int(*counts, "input_tokens").value_or(0);
        completion.output_tokens = wire::Int(*counts, "output_tokens").value_or(0);
      }
    }
    if (text::Trim(completion.text).empty()) {
      return Fail(ErrorCode::kNotUnderstood, fmt::format("{} answered with no text", service()));
    }
    return completion;
  }

  std::string ErrorMessage(const json& body) const override {
    return wire::String(body, "message");
  }
};

}  // namespace

std::unique_ptr<LlmProvider> MakeCohereProvider(ProviderSettings settings, ProviderDeps deps) {
  return std::make_unique<CohereProvider>(std::move(settings), std::move(deps));
}

}  // namespace helios::llm
