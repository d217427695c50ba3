// Ollama /api/chat (see ollama_provider.h).
#include "llm/ollama/ollama_provider.h"

#include <fmt/format.h>

#include "common/text.h"
#include "llm/wire.h"

namespace helios::llm {
namespace {

using nlohmann::json;

class OllamaProvider final : public HttpProvider {
 public:
  OllamaProvider(ProviderSettings settings, ProviderDeps deps)
      : HttpProvider("ollama", "Ollama", std::move(settings), std::move(deps)) {}

 private:
  json BuildBody(const CompletionRequest& request) const override {
    json messages = json::array();
    for (const Message& message : request.messages) {
      messages.push_back(
          {{"role", std::string(RoleName(message.role))}, {"content", message.content}});
    }
    json body = {
        {"model", settings().model},
        {"messages", std::move(messages)},
        {"stream", false},
        {"options", {{"temperature", request.temperature}, {"num_predict", request.max_tokens}}}};
    if (wire::WantsJsonMode(request)) body["format"] = "json";
    return body;
  }

  std::vector<std::pair<std::string, std::string>> ApiHeaders() const override {
    if (settings().api_key.empty()) return {};
    return {{"Authorization", "Bearer " + settings().api_key.Reveal()}};
  }

  Result<Completion> ParseAnswer(const json& answer) const override {
    const json* message = wire::Object(answer, "message");
    if (message == nullptr) {
      return Fail(ErrorCode::kUnavailable,
                  fmt::format("{} sent an answer without a message", service()));
    }
    Completion completion;
    completion.text = wire::String(*message, "content");
    completion.model = wire::String(answer, "model");
    completion.truncated = wire::String(answer, "done_reason") == "length";
    completion.input_tokens = wire::Int(answer, "prompt_eval_count").value_or(0);
    completion.output_tokens = wire::Int(answer, "eval_count").value_or(0);
    if (text::Trim(completion.text).empty()) {
      return Fail(ErrorCode::kNotUnderstood, fmt::format("{} answered with no text", service()));
    }
    return completion;
  }

  std::string ErrorMessage(const json& body) const override { return wire::String(body, "error"); }
};

}  // namespace

std::unique_ptr<LlmProvider> MakeOllamaProvider(ProviderSettings settings, ProviderDeps deps) {
  return std::make_unique<OllamaProvider>(std::move(settings), std::move(deps));
}

}  // namespace helios::llm
