// A cache store that prefers the shared one (Redis) and, while it cannot be reached, answers
// from this process's own store, so an outage costs hit rate, never answers. Entries made
// during an outage stay local; the shared store is used again as soon as it answers.
// Thread-safety: safe to call from any thread (as the two stores are). on_change is called
// once per transition, in order, under a lock of its own (so that the last call always tells the
// current state): it must not call back into the store.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>

#include "cache/semantic_cache.h"

namespace helios::cache {

class FailoverCacheStore final : public CacheStore {
 public:
  // on_change(shared_ok, error): called once at each transition between the two stores.
  FailoverCacheStore(CacheStore& shared, CacheStore& local,
                     std::function<void(bool shared_ok, const Error* error)> on_change = {});

  Result<std::optional<Match>> Lookup(const Key& key, const std::vector<float>& embedding,
                                      double threshold) override;
  Result<void> Insert(Entry entry) override;
  Result<size_t> Size() override;
  Result<void> Clear() override;
  // Flushes both stores (entries made during an outage are local). The count is the shared
  // store's plus the local one's; kUnavailable, after flushing the local store, when the
  // shared one cannot be reached (its entries would come back with it).
  Result<size_t> Flush(const std::string& tenant) override;
  bool using_shared() const { return shared_ok_.load(); }

 private:
  // Records the outcome of a call to the shared store; true when it answered.
  bool Note(const Error* error);

  CacheStore& shared_;
  CacheStore& local_;
  std::function<void(bool, const Error*)> on_change_;
  std::atomic<bool> shared_ok_{true};
  std::mutex change_mu_;  // serialises transitions and their on_change calls
};

}  // namespace helios::cache
