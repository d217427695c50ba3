#include "nl2sql/examples/example_store.h"

#include <algorithm>
#include <cmath>

#include "nl2sql/examples/question_terms.h"

namespace helios::nl2sql::examples {
namespace {

constexpr double kK1 = 1.2;
constexpr double kB = 0.75;

}  // namespace

ExampleStore::ExampleStore(const Clock& clock, ExampleStoreOptions options)
    : clock_(clock), options_(options) {}

ExampleStore::Entry ExampleStore::MakeEntry(Example example) {
  Entry entry;
  for (std::string& term : QuestionTerms(example.question)) {
    ++entry.term_counts[std::move(term)];
    ++entry.length;
  }
  entry.example = std::move(example);
  return entry;
}

Result<size_t> ExampleStore::Load(const std::string& path, const FileDefaults& defaults) {
  auto examples = ReadExamplesFile(path, defaults);
  if (!examples) return std::unexpected(examples.error());
  std::vector<std::pair<Identity, Entry>> prepared;
  prepared.reserve(examples->size());
  const auto now = clock_.Now();
  for (Example& e : *examples) {
    if (e.added == std::chrono::system_clock::time_point{}) e.added = now;
    Identity identity{e.tenant, e.database, NormalizeQuestion(e.question)};
    prepared.emplace_back(std::move(identity), MakeEntry(std::move(e)));
  }
  std::lock_guard lock(mu_);
  for (auto& [identity, entry] : prepared) InsertLocked(std::move(identity), std::move(entry));
  return prepared.size();
}

Result<AddOutcome> ExampleStore::Add(Example example) {
  auto checked = CheckExample(std::move(example));
  if (!checked) return std::unexpected(checked.error());
  if (checked->added == std::chrono::system_clock::time_point{}) checked->added = clock_.Now();
  Identity identity{checked->tenant, checked->database, NormalizeQuestion(checked->question)};
  Entry entry = MakeEntry(std::move(*checked));
  std::lock_guard lock(mu_);
  return InsertLocked(std::move(identity), std::move(entry));
}

AddOutcome ExampleStore::InsertLocked(Identity identity, Entry entry) {
  AddOutcome outcome;
  entry.sequence = next_sequence_++;
  auto [it, inserted] = entries_.try_emplace(identity, std::move(entry));
  if (!inserted) {
    it->second = std::move(entry);
    outcome.replaced = true;
  }
  outcome.evicted = EvictLocked(std::get<0>(identity), identity);
  return outcome;
}

size_t ExampleStore::EvictLocked(const std::string& tenant, const Identity& keep) {
  if (options_.max_per_tenant == 0) return 0;
  // The tenant's entries are contiguous: the identity starts with the tenant.
  std::vector<std::map<Identity, Entry>::iterator> candidates;
  size_t count = 0;
  for (auto it = entries_.lower_bound(Identity{tenant, "", ""});
       it != entries_.end() && std::get<0>(it->first) == tenant; ++it) {
    ++count;
    if (it->first != keep) candidates.push_back(it);
  }
  if (count <= options_.max_per_tenant) return 0;
  // User-added before seeds, oldest first.
  auto rank = [](const auto& it) {
    const Entry& e = it->second;
    return std::tuple(e.example.source != kSourceUser, e.example.added, e.sequence);
  };
  std::sort(candidates.begin(), candidates.end(),
            [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
  const size_t excess = std::min(count - options_.max_per_tenant, candidates.size());
  for (size_t i = 0; i < excess; ++i) entries_.erase(candidates[i]);
  return excess;
}

std::vector<Match> ExampleStore::Similar(std::string_view question, std::string_view database,
                                         std::string_view tenant, size_t k) const {
  std::vector<Match> out;
  if (k == 0) return out;
  std::vector<std::string> query = QuestionTerms(question);
  std::sort(query.begin(), query.end());
  query.erase(std::unique(query.begin(), query.end()), query.end());
  if (query.empty()) return out;

  std::lock_guard lock(mu_);
  // The examples this tenant can see for this database: two contiguous ranges of the map,
  // since identities order by tenant, then database.
  std::vector<const Entry*> visible;
  const std::string db(database);
  auto range = [&](const std::string& owner, auto&& visit) {
    for (auto it = entries_.lower_bound(Identity{owner, db, ""});
         it != entries_.end() && std::get<0>(it->first) == owner && std::get<1>(it->first) == db;
         ++it) {
      visit(it->first, it->second);
    }
  };
  const std::string own(tenant);
  range("", [&](const Identity& identity, const Entry& entry) {
    // A shared example the tenant has replaced with its own is hidden.
    if (!own.empty() && entries_.contains(Identity{own, db, std::get<2>(identity)})) return;
    visible.push_back(&entry);
  });
  if (!own.empty()) {
    range(own, [&](const Identity&, const Entry& entry) { visible.push_back(&entry); });
  }
  if (visible.empty()) return out;

  double total_length = 0;
  std::vector<size_t> document_frequency(query.size(), 0);
  for (const Entry* e : visible) {
    total_length += e->length;
    for (size_t i = 0; i < query.size(); ++i) {
      if (e->term_counts.contains(query[i])) ++document_frequency[i];
    }
  }
  const double n = static_cast<double>(visible.size());
  const double average_length = std::max(total_length / n, 1.0);
  std::vector<double> idf(query.size());
  for (size_t i = 0; i < query.size(); ++i) {
    const double df = static_cast<double>(document_frequency[i]);
    idf[i] = std::log(1 + (n - df + 0.5) / (df + 0.5));
  }

  struct Scored {
    const Entry* entry;
    double score;
    bool own;
  };
  std::vector<Scored> scored;
  for (const Entry* e : visible) {
    double score = 0;
    const double norm = kK1 * (1 - kB + kB * e->length / average_length);
    for (size_t i = 0; i < query.size(); ++i) {
      if (document_frequency[i] == 0) continue;
      auto it = e->term_counts.find(query[i]);
      if (it == e->term_counts.end()) continue;
      const double tf = it->second;
      score += idf[i] * tf * (kK1 + 1) / (tf + norm);
    }
    if (score > 0) scored.push_back({e, score, !e->example.tenant.empty()});
  }
  auto better = [](const Scored& a, const Scored& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.own != b.own) return a.own;
    return a.entry->sequence < b.entry->sequence;
  };
  const size_t keep = std::min(k, scored.size());
  std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(keep),
                    scored.end(), better);
  out.reserve(keep);
  for (size_t i = 0; i < keep; ++i) out.push_back({scored[i].entry->example, scored[i].score});
  return out;
}

Result<size_t> ExampleStore::Save(const std::string& path) const {
  std::vector<Example> users;
  {
    std::lock_guard lock(mu_);
    std::vector<const Entry*> entries;
    for (const auto& [identity, entry] : entries_) {
      if (entry.example.source == kSourceUser) entries.push_back(&entry);
    }
    std::sort(entries.begin(), entries.end(),
              [](const Entry* a, const Entry* b) { return a->sequence < b->sequence; });
    users.reserve(entries.size());
    for (const Entry* e : entries) users.push_back(e->example);
  }
  auto written = WriteExamplesFile(path, users);
  if (!written) return std::unexpected(written.error());
  return users.size();
}

std::vector<Example> ExampleStore::Examples() const {
  std::lock_guard lock(mu_);
  std::vector<const Entry*> entries;
  entries.reserve(entries_.size());
  for (const auto& [identity, entry] : entries_) entries.push_back(&entry);
  std::sort(entries.begin(), entries.end(),
            [](const Entry* a, const Entry* b) { return a->sequence < b->sequence; });
  std::vector<Example> out;
  out.reserve(entries.size());
  for (const Entry* e : entries) out.push_back(e->example);
  return out;
}

size_t ExampleStore::Size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace helios::nl2sql::examples
