// The demo database and the built-in engine over it, shared by the pipeline tests of this
// binary: built once on first use, removed when the tests end.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "common/clock.h"
#include "conversation/session_store.h"
#include "db/open.h"
#include "nl2sql/engine/engine.h"
#include "nl2sql/engine/schema_index.h"
#include "nl2sql/pipeline.h"

namespace helios::nl2sql {

// 2025-12-15 12:00 UTC: the demo's orders end on 2025-12-31.
inline std::chrono::system_clock::time_point TestNow() {
  return std::chrono::sys_days{std::chrono::year{2025} / 12 / 15} + std::chrono::hours(12);
}

// The demo database and the engine over it, built once for the whole binary on first use and
// removed when the tests end.
class DemoEnvironment {
 public:
  static DemoEnvironment& Get() {
    if (instance_ == nullptr) instance_ = new DemoEnvironment();
    return *instance_;
  }
  static void Destroy() {
    delete instance_;
    instance_ = nullptr;
  }

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::filesystem::path& dir() const { return dir_; }
  db::DataSource& source() { return *source_; }
  FakeClock& clock() { return clock_; }
  const std::shared_ptr<const engine::Engine>& engine() const { return engine_; }

 private:
  DemoEnvironment() : clock_(TestNow()) {
    dir_ = std::filesystem::temp_directory_path() /
           ("helios-pipeline-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::string path = HELIOS_DEMO_DB;
    auto source = db::OpenDataSource("sqlite://" + path);
    if (!source) {
      error_ = source.error().message;
      return;
    }
    source_ = std::move(*source);
    auto catalog = source_->Introspect();
    if (!catalog) {
      error_ = catalog.error().message;
      return;
    }
    auto index = engine::SchemaIndex::Build(*catalog, *source_, 1000);
    if (!index) {
      error_ = index.error().message;
      return;
    }
    engine_ = std::make_shared<const engine::Engine>(
        std::shared_ptr<const engine::SchemaIndex>(std::move(*index)), clock_);
  }
  ~DemoEnvironment() {
    engine_.reset();
    source_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  static inline DemoEnvironment* instance_ = nullptr;
  std::string error_;
  std::filesystem::path dir_;
  FakeClock clock_;
  std::unique_ptr<db::DataSource> source_;
  std::shared_ptr<const engine::Engine> engine_;
};

// A fixture with pipelines over the demo database sharing one memory session store;
// pipeline_ has the default options.
class DemoPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DemoEnvironment& env = DemoEnvironment::Get();
    ASSERT_TRUE(env.ok()) << "demo database: " << env.error();
    store_ = std::make_unique<conversation::MemorySessionStore>(env.clock(),
                                                                conversation::MemoryStoreOptions{});
    pipeline_ = NewPipeline(PipelineOptions{});
  }

  std::unique_ptr<Pipeline> NewPipeline(PipelineOptions options, LlmAnswerer* llm = nullptr) {
    DemoEnvironment& env = DemoEnvironment::Get();
    return std::make_unique<Pipeline>(env.source(), env.engine(), *store_, env.clock(),
                                      std::move(options), llm);
  }

  std::unique_ptr<conversation::MemorySessionStore> store_;
  std::unique_ptr<Pipeline> pipeline_;
};

class DemoCleanup : public ::testing::Environment {
 public:
  void TearDown() override { DemoEnvironment::Destroy(); }
};
[[maybe_unused]] inline ::testing::Environment* const kDemoCleanup =
    ::testing::AddGlobalTestEnvironment(new DemoCleanup);

}  // namespace helios::nl2sql
