// Embeddings of question templates, for the semantic cache's similarity. The built-in
// HashingEmbedder needs no model: hashed word unigrams and bigrams and character trigrams of
// the template's words (which nl2sql/question_shape.h has already lemmatised and mapped to
// canonical synonyms), signed feature hashing into a fixed number of dimensions, unit length.
// Model embeddings (OpenAI, Cohere, Ollama) implement the same interface in llm/embeddings.h.
//
// Thread-safety: Embed() is safe to call concurrently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace helios::cache {

class Embedder {
 public:
  virtual ~Embedder() = default;
  // A unit-length vector for `text`. kUnavailable when a remote model cannot be reached.
  virtual Result<std::vector<float>> Embed(std::string_view text) = 0;
  // Names the model: cache keys include it, so vectors of different models never meet.
  virtual std::string name() const = 0;
};

class HashingEmbedder final : public Embedder {
 public:
  explicit HashingEmbedder(size_t dimensions = 512);
  Result<std::vector<float>> Embed(std::string_view text) override;
  std::string name() const override;  // "builtin-hash-512"

 private:
  size_t dimensions_;
};

// Scales v to unit length (left as is when it is all zeros).
void Normalize(std::vector<float>& v);

}  // namespace helios::cache
