// The turns the sessions benchmark stores. They are not made up: HarvestTurns asks a
// ten-question conversation through the product's own Pipeline over the demo database and
// keeps each turn exactly as the session store received it (question, query IR, SQL, row
// count, database). Varied() then copies one with its text stamped per session, every string
// keeping its length, so that a filled store holds 100,000 sessions of the real shapes and
// sizes without two of them holding the same text.
// Thread-safety: plain functions over values; HarvestTurns uses only objects it creates.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "conversation/session_store.h"

namespace helios::bench {

// The conversation asked by HarvestTurns: the README's two example conversations and one
// more question, ten turns in all, each of them a follow-up or a new question as a user
// would type it.
std::span<const std::string_view> ConversationQuestions();

// One answered turn: the Turn as the store was given it (its query included: the store
// keeps the query of the latest turn only), and what the answer looked like.
struct HarvestedTurn {
  conversation::Turn turn;
  std::string source;  // "engine" for every turn of the conversation above
};

// Writes the demo database (seed 42) into `work_dir`, builds the engine and a Pipeline over
// it exactly as the server does (no language model, no cache), asks `questions` as one
// conversation and returns each turn as the session store received it. Fails when a question
// is not answered, so a change in the engine cannot make the benchmark store something else
// silently.
Result<std::vector<HarvestedTurn>> HarvestTurns(const std::string& work_dir,
                                                std::span<const std::string_view> questions);

// A copy of `turn` whose question, SQL, and the text values and phrases of its query (nested
// queries included) end with `tag` in base 36 (six digits written over the last six
// characters; shorter strings get the tag's last digits). Every string keeps its length and
// stays ASCII when it was.
conversation::Turn Varied(const conversation::Turn& turn, uint64_t tag);

// The heap bytes a turn's strings and query vectors hold beyond sizeof(Turn) (capacities, as
// libstdc++ allocates them; no allocator overhead): to say what a turn is made of.
size_t TurnHeapBytes(const conversation::Turn& turn);

}  // namespace helios::bench
