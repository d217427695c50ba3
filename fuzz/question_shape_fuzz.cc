// Fuzzes the semantic cache's question normaliser: nl2sql::ShapeQuestion over the demo schema,
// then the cache's built-in embedder on the template it produces. The shape is a cache key, so
// it must be a pure function of the question; every slot must carry one of the documented types
// and a value; the signature starts with the rules' version; the embedding is a finite vector
// of unit length (or all zeros) of the embedder's size, so that cosine similarities stay in
// [-1, 1].
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cache/embedder.h"
#include "cache/semantic_cache.h"
#include "demo_index.h"
#include "fuzz_check.h"
#include "nl2sql/question_shape.h"

namespace {

constexpr size_t kMaxQuestionBytes = 2000;
constexpr size_t kDimensions = 512;

bool IsKnownSlotType(const std::string& type) {
  return type == "number" || type == "year" || type == "date" || type == "quoted" ||
         type == "entity" || type.starts_with("value:");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  helios::fuzz::Demo();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxQuestionBytes) return 0;
  const std::string_view question(reinterpret_cast<const char*>(data), size);
  const auto& index = *helios::fuzz::Demo().index;
  const auto shape = helios::nl2sql::ShapeQuestion(question, index);
  const auto again = helios::nl2sql::ShapeQuestion(question, index);
  FUZZ_CHECK(shape.signature == again.signature);
  FUZZ_CHECK(shape.loose_signature == again.loose_signature);
  FUZZ_CHECK(shape.template_text == again.template_text);
  FUZZ_CHECK(shape.slots == again.slots);
  FUZZ_CHECK(shape.relative_time == again.relative_time);
  FUZZ_CHECK(!shape.signature.empty());
  for (const auto& slot : shape.slots) {
    FUZZ_CHECK(IsKnownSlotType(slot.type));
    FUZZ_CHECK(!slot.value.empty());
  }

  helios::cache::HashingEmbedder embedder(kDimensions);
  auto vector = embedder.Embed(shape.template_text);
  FUZZ_CHECK(vector.has_value());
  FUZZ_CHECK(vector->size() == kDimensions);
  double norm = 0;
  for (float x : *vector) {
    FUZZ_CHECK(std::isfinite(x));
    norm += static_cast<double>(x) * x;
  }
  FUZZ_CHECK(norm == 0 || std::fabs(norm - 1) < 1e-3);
  const double self = helios::cache::Similarity(*vector, *vector);
  FUZZ_CHECK(self >= -1.0001 && self <= 1.0001);
  return 0;
}
