#include "cache/failover_cache_store.h"

#include <fmt/format.h>

namespace helios::cache {

FailoverCacheStore::FailoverCacheStore(CacheStore& shared, CacheStore& local,
                                       std::function<void(bool, const Error*)> on_change)
    : shared_(shared), local_(local), on_change_(std::move(on_change)) {}

bool FailoverCacheStore::Note(const Error* error) {
  const bool ok = error == nullptr || error->code != ErrorCode::kUnavailable;
  if (shared_ok_.load() == ok) return ok;  // the usual case: no lock
  // Two threads seeing opposite outcomes at once would otherwise report their transitions in
  // either order, and the last report (a log line) could say Redis is down while it is used.
  std::lock_guard lock(change_mu_);
  if (shared_ok_.load() == ok) return ok;  // another thread made this transition
  shared_ok_.store(ok);
  if (on_change_) on_change_(ok, ok ? nullptr : error);
  return ok;
}

Result<std::optional<Match>> FailoverCacheStore::Lookup(const Key& key,
                                                        const std::vector<float>& embedding,
                                                        double threshold) {
  auto found = shared_.Lookup(key, embedding, threshold);
  if (Note(found ? nullptr : &found.error())) return found;
  return local_.Lookup(key, embedding, threshold);
}

Result<void> FailoverCacheStore::Insert(Entry entry) {
  Entry copy = entry;
  auto inserted = shared_.Insert(std::move(copy));
  if (Note(inserted ? nullptr : &inserted.error())) return inserted;
  return local_.Insert(std::move(entry));
}

Result<size_t> FailoverCacheStore::Size() {
  auto size = shared_.Size();
  if (Note(size ? nullptr : &size.error())) return size;
  return local_.Size();
}

Result<void> FailoverCacheStore::Clear() {
  auto local = local_.Clear();
  auto shared = shared_.Clear();
  if (!Note(shared ? nullptr : &shared.error())) return local;
  return shared;
}

Result<size_t> FailoverCacheStore::Flush(const std::string& tenant) {
  auto local = local_.Flush(tenant);
  auto shared = shared_.Flush(tenant);
  Note(shared ? nullptr : &shared.error());
  if (!shared) {
    return Fail(shared.error().code,
                fmt::format("{} ({} entries of this instance's own cache were flushed.)",
                            shared.error().message, local ? *local : 0));
  }
  return *shared + (local ? *local : 0);
}

}  // namespace helios::cache
