// OpenAI Chat Completions and compatible servers (see openai_provider.h).
#include "llm/openai/openai_provider.h"

#include <fmt/format.h>

#include "common/text.h"
#include "llm/wire.h"

namespace helios::llm {
namespace {

using nlohmann::json;

class OpenAiProvider final : public HttpProvider {
 public:
  OpenAiProvider(bool compatible, std::string service, ProviderSettings settings, ProviderDeps deps)
      : HttpProvider(compatible ? "openai-compatible" : "openai", std::move(service),
                     std::move(settings), std::move(deps)),
        compatible_(compatible) {}

 private:
  json BuildBody(const CompletionRequest& request) const override {
    json messages = json::array();
    for (const Message& message : request.messages) {
      messages.push_back(
          {{"role", std::string(RoleName(message.role))}, {"content", message.content}});
    }
    json body = {{"model", settings().model}, {"messages", std::move(messages)}};
    body[compatible_ ? "max_tokens" : "max_completion_tokens"] = request.max_tokens;
    if (compatible_ || !IsOpenAiReasoningModel(settings().model)) {
      body["temperature"] = request.temperature;
    }
    if (wire::WantsJsonMode(request)) body["response_format"] = {{"type", "json_object"}};
    return body;
  }

  std::vector<std::pair<std::string, std::string>> ApiHeaders() const override {
    if (settings().api_key.empty()) return {};
    return {{"Authorization", "Bearer " + settings().api_key.Reveal()}};
  }

  Result<Completion> ParseAnswer(const json& answer) const override {
    const json* choices = wire::Array(answer, "choices");
    if (choices == nullptr || choices->empty() || !(*choices)[0].is_object()) {
      return Fail(ErrorCode::kUnavailable,
                  fmt::format("{} sent an answer without choices", service()));
    }
    const json& choice = (*choices)[0];
    const json* message = wire::Object(choice, "message");
    const std::string finish = wire::String(choice, "finish_reason");

    Completion completion;
    completion.model = wire::String(answer, "model");
    completion.truncated = finish == "length";
    if (const json* usage = wire::Object(answer, "usage")) {
      completion.input_tokens = wire::Int(*usage, "prompt_tokens").value_or(0);
      completion.output_tokens = wire::Int(*usage, "completion_tokens").value_or(0);
    }
    if (message != nullptr) completion.text = wire::String(*message, "content");
    if (!text::Trim(completion.text).empty()) return completion;

    const std::string refusal = message != nullptr ? wire::String(*message, "refusal") : "";
    if (!refusal.empty()) {
      return Fail(ErrorCode::kNotUnderstood,
                  fmt::format("the language model declined: \"{}\"", wire::Shorten(refusal)));
    }
    if (finish == "content_filter") {
      return Fail(ErrorCode::kNotUnderstood,
                  fmt::format("{} withheld the answer (content filter)", service()));
    }
    return Fail(ErrorCode::kNotUnderstood, fmt::format("{} answered with no text", service()));
  }

  std::string ErrorMessage(const json& body) const override {
    if (const json* error = wire::Object(body, "error")) return wire::String(*error, "message");
    // Some compatible servers answer {"error": "..."} or {"detail": "..."} (FastAPI).
    if (std::string message = wire::String(body, "error"); !message.empty()) return message;
    if (std::string message = wire::String(body, "message"); !message.empty()) return message;
    return wire::String(body, "detail");
  }

  const bool compatible_;
};

}  // namespace

bool IsOpenAiReasoningModel(std::string_view model) {
  const std::string name = text::ToLower(model);
  if (name.size() >= 2 && name[0] == 'o' && name[1] >= '1' && name[1] <= '9') return true;
  return text::StartsWith(name, "gpt-5") && name.find("chat") == std::string::npos;
}

std::unique_ptr<LlmProvider> MakeOpenAiProvider(ProviderSettings settings, ProviderDeps deps) {
  return std::make_unique<OpenAiProvider>(false, "OpenAI", std::move(settings), std::move(deps));
}

std::unique_ptr<LlmProvider> MakeOpenAiCompatibleProvider(ProviderSettings settings,
                                                          ProviderDeps deps) {
  std::string service =
      fmt::format("the OpenAI-compatible endpoint {}", wire::UrlHost(settings.url));
  return std::make_unique<OpenAiProvider>(true, std::move(service), std::move(settings),
                                          std::move(deps));
}

}  // namespace helios::llm
