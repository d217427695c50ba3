// The fake model's answer (see chat_completion.h).
#include "fakellm/chat_completion.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace helios::fakellm {
namespace {

using nlohmann::json;

std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

ChatReply BadRequest(std::string_view message) { return {400, ErrorBody(message)}; }

// Token counts are only shown, never billed: four bytes a token is the usual rough figure.
int64_t ApproxTokens(size_t bytes) { return static_cast<int64_t>((bytes + 3) / 4); }

}  // namespace

std::string ErrorBody(std::string_view message, std::string_view type) {
  return Dump({{"error", {{"message", message}, {"type", type}, {"code", nullptr}}}});
}

ChatCompletions::ChatCompletions(std::string_view sql, std::string_view explanation)
    : content_(Dump({{"sql", sql}, {"explanation", explanation}})), content_json_(Dump(content_)) {}

ChatReply ChatCompletions::Answer(std::string_view body, uint64_t sequence, int64_t created) const {
  const json request = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded()) return BadRequest("the request body is not valid JSON");
  if (!request.is_object()) return BadRequest("the request body is not a JSON object");
  const auto model = request.find("model");
  if (model == request.end() || !model->is_string() ||
      model->get_ref<const std::string&>().empty()) {
    return BadRequest("'model' is required and must be a non-empty string");
  }
  const auto messages = request.find("messages");
  if (messages == request.end() || !messages->is_array() || messages->empty()) {
    return BadRequest("'messages' is required and must be a non-empty array");
  }
  size_t prompt_bytes = 0;
  for (size_t i = 0; i < messages->size(); ++i) {
    const json& message = (*messages)[i];
    const auto role = message.is_object() ? message.find("role") : message.end();
    const auto content = message.is_object() ? message.find("content") : message.end();
    if (role == message.end() || !role->is_string() || content == message.end() ||
        !(content->is_string() || content->is_array())) {
      return BadRequest(
          fmt::format("messages[{}] must be an object with a 'role' and a 'content'", i));
    }
    if (content->is_string()) prompt_bytes += content->get_ref<const std::string&>().size();
  }

  const int64_t prompt_tokens = ApproxTokens(prompt_bytes);
  const int64_t completion_tokens = ApproxTokens(content_.size());
  // Formatted rather than built as a json object: only the model name varies, and the content,
  // escaped once, is most of the reply.
  return {200, fmt::format(R"({{"id":"chatcmpl-fake-{}","object":"chat.completion","created":{},)"
                           R"("model":{},"choices":[{{"index":0,"message":{{"role":"assistant",)"
                           R"("content":{}}},"finish_reason":"stop"}}],"usage":{{"prompt_tokens":)"
                           R"({},"completion_tokens":{},"total_tokens":{}}}}})",
                           sequence, created, Dump(*model), content_json_, prompt_tokens,
                           completion_tokens, prompt_tokens + completion_tokens)};
}

}  // namespace helios::fakellm
