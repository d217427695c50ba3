// What helios-fakellm answers to a chat-completions request, in the shape of OpenAI's Chat
// Completions API as the product's "openai" and "openai-compatible" providers read it
// (src/llm/openai/): choices[0].message.content holds the JSON object the product's prompt asks
// for, {"sql": ..., "explanation": ...}, with one fixed read-only query. The default query counts
// the demo database's customers per country, so the product accepts the answer, runs it and
// draws a chart, whatever the question was. No I/O: the server around it decides when to send.
// Thread-safety: immutable after construction; Answer() may be called concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace helios::fakellm {

// SQLite (and PostgreSQL and MySQL) over the demo database's customers table.
inline constexpr std::string_view kDefaultSql =
    "SELECT country, COUNT(*) AS customers FROM customers GROUP BY country ORDER BY customers "
    "DESC";

struct ChatReply {
  int status = 200;
  std::string body;  // JSON
};

class ChatCompletions {
 public:
  ChatCompletions(std::string_view sql, std::string_view explanation);

  // The reply to one request body: 200 with a chat.completion object for a JSON object with a
  // "model" string and a non-empty "messages" array of {"role", "content"} objects; otherwise
  // 400 with an OpenAI-style error body saying what is wrong. `sequence` makes the answer's id
  // unique; `created` is its Unix time in seconds.
  ChatReply Answer(std::string_view body, uint64_t sequence, int64_t created) const;

  // The assistant's message content every 200 reply carries.
  const std::string& content() const { return content_; }

 private:
  std::string content_;
  std::string content_json_;  // content_ as a JSON string, quoted and escaped once
};

// An OpenAI-style error body: {"error": {"message": ..., "type": ..., "code": null}}.
std::string ErrorBody(std::string_view message, std::string_view type = "invalid_request_error");

}  // namespace helios::fakellm
