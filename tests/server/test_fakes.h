// Test doubles shared by the server tests: a QueryService whose behaviour each test sets, and
// a string sink that the server's threads can log to while a test reads it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <streambuf>
#include <string>
#include <utility>
#include <vector>

#include "nl2sql/service.h"

namespace helios::server {

// A QueryService whose behaviour each test sets, recording what it was asked. Its sessions
// behave as the pipeline's: each belongs to a user of a tenant, and another caller finds none.
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
  Result<nl2sql::SessionView> GetSession(const nl2sql::Caller& caller,
                                         const std::string& session_id) override {
    std::lock_guard lock(mutex_);
    callers_.push_back(caller);
    auto it = Find(caller, session_id);
    if (it == sessions_.end()) return Fail(ErrorCode::kNotFound, "no such session");
    return it->second.view;
  }
  Result<std::vector<nl2sql::SessionListItem>> ListSessions(const nl2sql::Caller& caller) override {
    std::lock_guard lock(mutex_);
    callers_.push_back(caller);
    std::vector<nl2sql::SessionListItem> items;
    for (const auto& [key, stored] : sessions_) {
      if (key.first != caller.tenant_id || stored.user != caller.user) continue;
      const nl2sql::SessionView& view = stored.view;
      nl2sql::SessionListItem item;
      item.session_id = view.session_id;
      item.turn_count = view.turn_count;
      if (!view.turns.empty()) item.last_question = view.turns.back().question;
      items.push_back(std::move(item));
    }
    return items;
  }
  Result<void> EndSession(const nl2sql::Caller& caller, const std::string& session_id) override {
    std::lock_guard lock(mutex_);
    callers_.push_back(caller);
    auto it = Find(caller, session_id);
    if (it == sessions_.end()) return Fail(ErrorCode::kNotFound, "no such session");
    sessions_.erase(it);
    return {};
  }
  Result<void> MarkCorrect(const nl2sql::Caller& caller, const std::string& session_id,
                           int turn) override {
    std::lock_guard lock(mutex_);
    callers_.push_back(caller);
    if (Find(caller, session_id) == sessions_.end()) {
      return Fail(ErrorCode::kNotFound, "no such session");
    }
    marked_.push_back({caller.tenant_id, session_id + "#" + std::to_string(turn)});
    return {};
  }
  std::vector<std::pair<std::string, std::string>> marked() const {
    std::lock_guard lock(mutex_);
    return marked_;
  }
  // Every caller of GetSession, ListSessions, EndSession and MarkCorrect, in order.
  std::vector<nl2sql::Caller> callers() const {
    std::lock_guard lock(mutex_);
    return callers_;
  }
  // A session of `owner`'s (tenant and user).
  void PutSession(const nl2sql::Caller& owner, nl2sql::SessionView view) {
    std::lock_guard lock(mutex_);
    std::pair<std::string, std::string> key{owner.tenant_id, view.session_id};
    sessions_[key] = Stored{owner.user, std::move(view)};
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
  struct Stored {
    std::string user;  // the owner
    nl2sql::SessionView view;
  };
  using SessionMap = std::map<std::pair<std::string, std::string>, Stored>;  // (tenant, id)

  // The caller's own session, or end(): another user's is not found, as in the pipeline.
  SessionMap::iterator Find(const nl2sql::Caller& caller, const std::string& session_id) {
    auto it = sessions_.find({caller.tenant_id, session_id});
    return it != sessions_.end() && it->second.user == caller.user ? it : sessions_.end();
  }

  mutable std::mutex mutex_;
  AskFn ask_;
  HealthFn health_;
  std::vector<nl2sql::AskRequest> requests_;
  SessionMap sessions_;
  std::vector<std::pair<std::string, std::string>> marked_;  // tenant, "session#turn"
  std::vector<nl2sql::Caller> callers_;
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

// Questions wait here until the test opens it (or 30 s pass, so that a failing test cannot
// hang).
class Gate {
 public:
  void Pass() {
    std::unique_lock lock(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait_for(lock, std::chrono::seconds(30), [this] { return open_; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // True once `n` have reached the gate (within 10 s).
  bool Reached(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return waiting_ >= n; });
  }
  int waiting() {
    std::lock_guard lock(mu_);
    return waiting_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int waiting_ = 0;
  bool open_ = false;
};

// A one-row answer whose session id names the question.
inline nl2sql::Answer AnswerFor(const nl2sql::AskRequest& request) {
  nl2sql::Answer answer;
  answer.session_id = "s-" + request.question;
  answer.turn = 1;
  answer.sql = "SELECT 1";
  answer.columns = {"n"};
  answer.rows = {{int64_t{1}}};
  answer.row_count = 1;
  answer.source = "engine";
  return answer;
}

}  // namespace helios::server
