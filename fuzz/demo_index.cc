#include "demo_index.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include "db/demo_data.h"
#include "db/open.h"
#include "fuzz_check.h"

namespace helios::fuzz {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

fs::path& DemoDirectory() {
  static fs::path dir;
  return dir;
}

void RemoveDemoDirectory() {
  std::error_code ec;
  if (!DemoDirectory().empty()) fs::remove_all(DemoDirectory(), ec);
}

// Monday 2025-12-15, the day the engine's own tests use.
const std::chrono::system_clock::time_point kToday =
    std::chrono::sys_days{std::chrono::year_month_day{2025y, std::chrono::December, 15d}} + 10h;

DemoIndex* BuildDemo() {
  auto* demo = new DemoIndex{nullptr, nullptr, FakeClock(kToday)};
  DemoDirectory() = fs::temp_directory_path() /
                    ("helios_fuzz_demo_" + std::to_string(static_cast<long>(::getpid())));
  fs::create_directories(DemoDirectory());
  std::atexit(RemoveDemoDirectory);
  const std::string path = (DemoDirectory() / "retail.db").string();
  auto written = db::WriteDemoDatabase(path);
  if (!written) std::fprintf(stderr, "demo database: %s\n", written.error().message.c_str());
  FUZZ_CHECK(written.has_value());
  auto source = db::OpenDataSource("sqlite://" + path);
  FUZZ_CHECK(source.has_value());
  demo->source = std::move(*source);
  auto catalog = demo->source->Introspect();
  FUZZ_CHECK(catalog.has_value());
  auto index = nl2sql::engine::SchemaIndex::Build(*catalog, *demo->source, 1000);
  FUZZ_CHECK(index.has_value());
  demo->index = std::shared_ptr<const nl2sql::engine::SchemaIndex>(std::move(*index));
  return demo;
}

}  // namespace

DemoIndex& Demo() {
  static DemoIndex* demo = BuildDemo();
  return *demo;
}

}  // namespace helios::fuzz
