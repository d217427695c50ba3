// The store of example question -> SQL pairs retrieved into LLM prompts (few-shot). It starts
// from a seed file written for a database and grows when a user marks an answer correct; the
// user-added examples are saved to a file of their own so they survive restarts:
//
//   ExampleStore store(clock, {.max_per_tenant = 1000});
//   store.Load("examples/retail.jsonl", {.database = "demo"});        // shared seeds
//   store.Load("var/examples.jsonl");   // earlier saves (kNotFound on the first start)
//   store.Add({.question = q, .sql = sql, .database = "demo", .tenant = "acme"});
//   store.Save("var/examples.jsonl");
//   for (const Match& m : store.Similar(question, "demo", "acme", 3)) ...
//
// Tenants: an example with an empty tenant is shared; any other belongs to its tenant alone.
// Similar() for tenant T sees T's examples and the shared ones, never another tenant's.
//
// Identity: tenant, database and NormalizeQuestion(question). Adding an example with the
// identity of one already stored replaces it (the new SQL wins, it counts as just added).
//
// Retrieval: Okapi BM25 (k1 = 1.2, b = 0.75) over QuestionTerms of the questions, which fold
// lemmas and synonyms together (question_terms.h). Document frequencies and the
// average length come from the examples the caller can see, so another tenant's examples never
// influence a score. Ties: the caller's own examples before shared ones, then the order in
// which examples were added (a seed file's order first).
//
// Thread-safety: ExampleStore is thread-safe. One mutex guards the examples; questions are
// tokenised before it is taken and files are read and written outside it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "nl2sql/examples/example.h"
#include "nl2sql/examples/example_file.h"

namespace helios::nl2sql::examples {

struct ExampleStoreOptions {
  // Examples kept per tenant (the shared examples count as one more tenant); 0: no cap. Beyond
  // it the tenant's oldest user-added example goes first, then its oldest seed; the example
  // being added is never the one evicted.
  size_t max_per_tenant = 1000;
};

struct Match {
  Example example;
  double score = 0;  // BM25; greater is more similar, always > 0
};

struct AddOutcome {
  bool replaced = false;  // an example with the same identity was replaced
  size_t evicted = 0;     // examples removed by the cap
};

class ExampleStore {
 public:
  explicit ExampleStore(const Clock& clock, ExampleStoreOptions options = {});

  // Reads an example file (example_file.h) and adds every example in it, in file order, so a
  // later line replaces an earlier one with the same identity; lines without "added" are
  // stamped with the clock's time. All or nothing: nothing is added unless the whole file is
  // good. Returns the number of examples read.
  // Errors: kNotFound (no such file), kUnavailable (unreadable), kInvalidArgument (a bad line,
  // named as file:line).
  Result<size_t> Load(const std::string& path, const FileDefaults& defaults = {});

  // Adds or replaces an example. A zero `added` is stamped with the clock's time.
  // Errors: those of CheckExample (example.h).
  Result<AddOutcome> Add(Example example);

  // Up to k examples for `database` that `tenant` can see, most similar first; only examples
  // sharing at least one term with the question. When the tenant has its own example with the
  // identity of a shared one, only its own is returned.
  std::vector<Match> Similar(std::string_view question, std::string_view database,
                             std::string_view tenant, size_t k) const;

  // Writes the user-added examples (source "user"), oldest first, to `path` atomically
  // (WriteExamplesFile). Seeds are not written: they are read again from their own file.
  // Returns the number written. Errors: kInvalidArgument, kUnavailable.
  Result<size_t> Save(const std::string& path) const;

  // Every example, in the order added.
  std::vector<Example> Examples() const;
  size_t Size() const;

 private:
  // tenant, database, normalised question
  using Identity = std::tuple<std::string, std::string, std::string>;

  struct Entry {
    Example example;
    uint64_t sequence = 0;  // order of addition; a replacement gets a new one
    std::map<std::string, int> term_counts;
    int length = 0;  // number of terms
  };

  // An entry built outside the lock (tokenising takes the lexicon's own locks).
  static Entry MakeEntry(Example example);
  AddOutcome InsertLocked(Identity identity, Entry entry);
  size_t EvictLocked(const std::string& tenant, const Identity& keep);

  const Clock& clock_;
  const ExampleStoreOptions options_;
  mutable std::mutex mu_;
  std::map<Identity, Entry> entries_;
  uint64_t next_sequence_ = 0;
};

}  // namespace helios::nl2sql::examples
