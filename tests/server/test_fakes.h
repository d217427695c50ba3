// Test doubles shared by the server tests: a QueryService whose behaviour each test sets, and
// a string sink that the server's threads can log to while a test reads it.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <streambuf>
#include <string>
#include <utility>
#include <vector>

#include "nl2sql/service.h"

namespace helios::server {

// A QueryService whose behaviour each test sets, recording what it was asked.
class FakeService : public nl2sql::QueryService {
 public:
  using AskFn = std::function<Result<nl2sql::Answer>(const nl2sql::AskRequest&)>;
  using HealthFn = std::function<nl2sql::HealthReport()>;

  void SetAsk(AskFn fn) {
    std::lock_guard lock(mutex_);
    ask_ = std::move(fn);
  }
  void SetHealth(HealthFn fn) {
    std::lock_guard lock(mutex_);
    health_ = std::move(fn);
  }
  std::vector<nl2sql::AskRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

  Result<nl2sql::Answer> Ask(const nl2sql::AskRequest& request) override {
    AskFn fn;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
      fn = ask_;
    }
    return fn(request);
  }
  Result<nl2sql::SessionView> GetSession(const std::string& tenant_id,
                                         const std::string& session_id) override {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find({tenant_id, session_id});
    if (it == sessions_.end()) return Fail(ErrorCode::kNotFound, "no such session");
    return it->second;
  }
  Result<std::vector<nl2sql::SessionListItem>> ListSessions(const std::string& tenant_id) override {
    std::lock_guard lock(mutex_);
    std::vector<nl2sql::SessionListItem> items;
    for (const auto& [key, view] : sessions_) {
      if (key.first != tenant_id) continue;
      nl2sql::SessionListItem item;
      item.session_id = view.session_id;
      item.turn_count = view.turn_count;
      if (!view.turns.empty()) item.last_question = view.turns.back().question;
      items.push_back(std::move(item));
    }
    return items;
  }
  Result<void> EndSession(const std::string& tenant_id, const std::string& session_id) override {
    std::lock_guard lock(mutex_);
    if (sessions_.erase({tenant_id, session_id}) == 0) {
      return Fail(ErrorCode::kNotFound, "no such session");
    }
    return {};
  }
  Result<void> MarkCorrect(const std::string& tenant_id, const std::string& session_id,
                           int turn) override {
    std::lock_guard lock(mutex_);
    if (sessions_.find({tenant_id, session_id}) == sessions_.end()) {
      return Fail(ErrorCode::kNotFound, "no such session");
    }
    marked_.push_back({tenant_id, session_id + "#" + std::to_string(turn)});
    return {};
  }
  std::vector<std::pair<std::string, std::string>> marked() const {
    std::lock_guard lock(mutex_);
    return marked_;
  }
  void PutSession(const std::string& tenant_id, nl2sql::SessionView view) {
    std::lock_guard lock(mutex_);
    sessions_[{tenant_id, view.session_id}] = std::move(view);
  }
  nl2sql::HealthReport Health() override {
    HealthFn fn;
    {
      std::lock_guard lock(mutex_);
      fn = health_;
    }
    return fn();
  }

 private:
  mutable std::mutex mutex_;
  AskFn ask_;
  HealthFn health_;
  std::vector<nl2sql::AskRequest> requests_;
  std::map<std::pair<std::string, std::string>, nl2sql::SessionView> sessions_;
  std::vector<std::pair<std::string, std::string>> marked_;  // tenant, "session#turn"
};

// A string sink the server's threads can write to while a test reads it.
class LockedStringBuf : public std::streambuf {
 public:
  std::string str() const {
    std::lock_guard lock(mutex_);
    return data_;
  }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    std::lock_guard lock(mutex_);
    data_.append(s, static_cast<size_t>(n));
    return n;
  }
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) {
      std::lock_guard lock(mutex_);
      data_.push_back(static_cast<char>(c));
    }
    return c;
  }

 private:
  mutable std::mutex mutex_;
  std::string data_;
};

}  // namespace helios::server
