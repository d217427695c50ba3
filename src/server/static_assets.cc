#include "server/static_assets.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <fmt/format.h>
#include <openssl/sha.h>
#include <zlib.h>

#include <array>
#include <fstream>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

namespace helios::server {
namespace {

namespace fs = std::filesystem;

// Smaller files are sent as they are: compressing them saves less than the header costs.
constexpr size_t kCompressFrom = 512;
// Brotli's quality 11 would save another few percent at ten times the time (seconds for the
// page's script, under the sanitizers far more): the first request for an encoding pays this.
constexpr int kBrotliQuality = 9;
constexpr int kGzipLevel = 9;

bool IsTextType(std::string_view type) {
  return type.starts_with("text/") || type.starts_with("application/json") ||
         type.starts_with("image/svg+xml") || type.starts_with("application/manifest+json");
}

// A name from the build's output: letters, digits, '.', '_' and '-', not starting with '.'.
bool IsSafeName(std::string_view name) {
  if (name.empty() || name.size() > 200 || name.front() == '.') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// "app-3f2a9c1d.js": a name that changes whenever the content does.
bool HasContentHash(std::string_view name) {
  const size_t dash = name.rfind('-');
  const size_t dot = name.find('.', dash == std::string_view::npos ? 0 : dash);
  if (dash == std::string_view::npos || dot == std::string_view::npos || dot - dash - 1 < 8) {
    return false;
  }
  for (size_t i = dash + 1; i < dot; ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string Sha256Hex(std::string_view bytes) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest.data());
  std::string hex;
  for (unsigned char b : digest) hex += fmt::format("{:02x}", b);
  return hex;
}

std::string Gzip(std::string_view bytes) {
  z_stream zs{};
  // 15 + 16: a gzip wrapper rather than zlib's.
  if (deflateInit2(&zs, kGzipLevel, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
    return {};
  }
  std::string out(deflateBound(&zs, bytes.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END ? out : std::string();
}

std::string Brotli(std::string_view bytes) {
  size_t size = BrotliEncoderMaxCompressedSize(bytes.size());
  if (size == 0) return {};
  std::string out(size, '\0');
  if (!BrotliEncoderCompress(kBrotliQuality, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT, bytes.size(),
                             reinterpret_cast<const uint8_t*>(bytes.data()), &size,
                             reinterpret_cast<uint8_t*>(out.data()))) {
    return {};
  }
  out.resize(size);
  return out;
}

// The bytes a gzip stream inflates to, up to `limit` (nullopt: not gzip, or longer).
std::optional<std::string> Gunzip(std::string_view bytes, size_t limit) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return std::nullopt;
  std::string out(limit + 1, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&zs, Z_FINISH);
  const size_t produced = zs.total_out;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || produced > limit) return std::nullopt;
  out.resize(produced);
  return out;
}

std::optional<std::string> Unbrotli(std::string_view bytes, size_t limit) {
  std::string out(limit + 1, '\0');
  size_t size = out.size();
  if (BrotliDecoderDecompress(bytes.size(), reinterpret_cast<const uint8_t*>(bytes.data()), &size,
                              reinterpret_cast<uint8_t*>(out.data())) !=
          BROTLI_DECODER_RESULT_SUCCESS ||
      size > limit) {
    return std::nullopt;
  }
  out.resize(size);
  return out;
}

bool IsCompressedForm(std::string_view name) {
  return name.ends_with(".br") || name.ends_with(".gz");
}

Result<std::string> ReadFile(const fs::path& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kInvalidArgument, fmt::format("cannot read {}", path.string()));
  std::string bytes;
  std::array<char, 65536> buffer{};
  while (in.read(buffer.data(), buffer.size()) || in.gcount() > 0) {
    bytes.append(buffer.data(), static_cast<size_t>(in.gcount()));
    if (bytes.size() > max_bytes) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("the web files are larger than {} bytes in all", max_bytes));
    }
  }
  if (in.bad()) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("cannot read {}", path.string()));
  }
  return bytes;
}

}  // namespace

StaticFile::StaticFile(std::string content_type, std::string body, std::string etag, bool immutable)
    : content_type_(std::move(content_type)),
      body_(std::move(body)),
      etag_(std::move(etag)),
      immutable_(immutable),
      compressible_(IsTextType(content_type_) && body_.size() >= kCompressFrom) {}

const std::string* StaticFile::Encoded(Encoding encoding) const {
  if (!compressible_) return nullptr;
  Compressed& c = encoding == Encoding::kGzip ? gzip_ : brotli_;
  std::call_once(c.once, [&] {
    c.bytes = encoding == Encoding::kGzip ? Gzip(body_) : Brotli(body_);
    if (c.bytes.size() >= body_.size()) c.bytes.clear();
  });
  return c.bytes.empty() ? nullptr : &c.bytes;
}

bool StaticFile::UsePrecompressed(Encoding encoding, std::string bytes) {
  if (!compressible_ || bytes.size() >= body_.size()) return false;
  const std::optional<std::string> plain =
      encoding == Encoding::kGzip ? Gunzip(bytes, body_.size()) : Unbrotli(bytes, body_.size());
  if (!plain || *plain != body_) return false;
  Compressed& c = encoding == Encoding::kGzip ? gzip_ : brotli_;
  bool taken = false;
  std::call_once(c.once, [&] {
    c.bytes = std::move(bytes);
    taken = true;
  });
  return taken;
}

std::string ContentTypeFor(std::string_view file_name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".webp", "image/webp"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".wasm", "application/wasm"},
  }};
  for (const auto& [extension, type] : kTypes) {
    if (file_name.ends_with(extension)) return std::string(type);
  }
  return "application/octet-stream";
}

Result<std::shared_ptr<const StaticAssets>> StaticAssets::Load(const fs::path& dir,
                                                               StaticLimits limits) {
  std::error_code ec;
  const fs::path index = dir / "index.html";
  if (!fs::is_directory(dir, ec)) {
    return Fail(ErrorCode::kNotFound,
                fmt::format("the web chat's directory {} does not exist", dir.string()));
  }
  if (!fs::is_regular_file(fs::symlink_status(index, ec))) {
    return Fail(ErrorCode::kNotFound,
                fmt::format("{} has no index.html (is the web chat built?)", dir.string()));
  }
  auto assets = std::make_shared<StaticAssets>();
  assets->directory_ = dir;
  size_t budget = limits.max_total_bytes;

  // NAME.br and NAME.gz beside a file: its compressed forms, if they check out.
  auto attach_compressed = [&](StaticFile& file, const fs::path& path) -> Result<void> {
    for (const auto& [suffix, encoding] :
         {std::pair{".br", Encoding::kBrotli}, std::pair{".gz", Encoding::kGzip}}) {
      fs::path sibling = path;
      sibling += suffix;
      if (!fs::is_regular_file(fs::symlink_status(sibling, ec))) continue;
      auto bytes = ReadFile(sibling, budget);
      if (!bytes) return std::unexpected(bytes.error());
      budget -= bytes->size();
      assets->total_bytes_ += bytes->size();
      if (file.UsePrecompressed(encoding, std::move(*bytes))) ++assets->precompressed_;
    }
    return {};
  };

  auto add = [&](const std::string& request_path, const fs::path& path,
                 bool may_be_immutable) -> Result<void> {
    if (assets->files_.size() >= limits.max_files) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{} holds more than {} files", dir.string(), limits.max_files));
    }
    auto bytes = ReadFile(path, budget);
    if (!bytes) return std::unexpected(bytes.error());
    budget -= bytes->size();
    assets->total_bytes_ += bytes->size();
    const std::string name = path.filename().string();
    std::string etag = "\"" + Sha256Hex(*bytes).substr(0, 32) + "\"";
    auto [it, inserted] =
        assets->files_.try_emplace(request_path, ContentTypeFor(name), std::move(*bytes),
                                   std::move(etag), may_be_immutable && HasContentHash(name));
    if (!inserted) return {};
    return attach_compressed(it->second, path);
  };

  if (auto added = add("/", index, false); !added) return std::unexpected(added.error());
  const fs::path assets_dir = dir / "assets";
  if (fs::is_directory(fs::symlink_status(assets_dir, ec))) {
    std::vector<fs::path> paths;
    for (fs::directory_iterator it(assets_dir, ec), end; !ec && it != end; it.increment(ec)) {
      paths.push_back(it->path());
    }
    if (ec) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("cannot list {}: {}", assets_dir.string(), ec.message()));
    }
    for (const fs::path& path : paths) {
      const std::string name = path.filename().string();
      // Only plain files with plain names: a link could point anywhere on the machine.
      if (!fs::is_regular_file(fs::symlink_status(path, ec)) || !IsSafeName(name) ||
          IsCompressedForm(name)) {
        continue;
      }
      if (auto added = add("/assets/" + name, path, true); !added) {
        return std::unexpected(added.error());
      }
    }
  }
  return std::shared_ptr<const StaticAssets>(std::move(assets));
}

const StaticFile* StaticAssets::Find(std::string_view path) const {
  if (path == "/index.html") path = "/";
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : &it->second;
}

fs::path DefaultWebRoot() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  const fs::path bin_dir = exe.parent_path();
  for (const fs::path& candidate :
       {bin_dir.parent_path() / "share" / "heliosdb-conversational-bi" / "web",
        bin_dir.parent_path() / "web"}) {
    if (fs::is_regular_file(candidate / "index.html", ec)) return candidate;
  }
  return {};
}

}  // namespace helios::server
