// The web chat's files, served by the server itself at `/` (index.html) and `/assets/<name>`.
//
// Everything is read into memory once, at start-up, from one directory (the web build's output:
// index.html and assets/): a request can only ever get one of the files found then, so no path
// from a request touches the file system. Text files are sent compressed to clients that accept
// it: the build's own NAME.br and NAME.gz beside a file are used when they decompress to exactly
// that file; otherwise the file is compressed the first time a client asks for that encoding,
// once, so start-up stays quick and later requests pay nothing. Assets whose names carry a content
// hash ("app-3f2a9c1d.js") may be cached by browsers for a year; index.html is revalidated on every
// load (ETag).
//
// Thread-safety: Find() and StaticFile::Encoded() may be called concurrently.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/error.h"

namespace helios::server {

enum class Encoding { kGzip, kBrotli };

class StaticFile {
 public:
  StaticFile(std::string content_type, std::string body, std::string etag, bool immutable);

  const std::string& content_type() const { return content_type_; }
  const std::string& body() const { return body_; }
  const std::string& etag() const { return etag_; }  // strong: "\"<sha-256 prefix>\""
  bool immutable() const { return immutable_; }      // the name carries a content hash
  // The body in that encoding, compressed on first use; null when the file is not text, too
  // small to be worth it, or would not shrink.
  const std::string* Encoded(Encoding encoding) const;
  // Takes `bytes` as the body in that encoding when they decompress to exactly the body;
  // false (and nothing changed) otherwise, or when that encoding was already settled.
  bool UsePrecompressed(Encoding encoding, std::string bytes);

 private:
  struct Compressed {
    std::once_flag once;
    std::string bytes;  // empty: not worth sending
  };
  std::string content_type_;
  std::string body_;
  std::string etag_;
  bool immutable_ = false;
  bool compressible_ = false;
  mutable Compressed gzip_;
  mutable Compressed brotli_;
};

struct StaticLimits {
  size_t max_files = 512;
  size_t max_total_bytes = size_t{64} << 20;
};

class StaticAssets {
 public:
  // Reads dir/index.html (required) and every regular file under dir/assets/ (names of letters,
  // digits, '.', '_' and '-'; no symbolic links, no subdirectories); NAME.br and NAME.gz are
  // taken as NAME's compressed forms, not served as files of their own. kNotFound when dir or its
  // index.html is missing; kInvalidArgument for anything else wrong (a file that cannot be
  // read, too many or too large files).
  static Result<std::shared_ptr<const StaticAssets>> Load(const std::filesystem::path& dir,
                                                          StaticLimits limits = {});

  // The file for a request path: "/" and "/index.html" give index.html, "/assets/NAME" the
  // asset; null for anything else.
  const StaticFile* Find(std::string_view path) const;

  size_t file_count() const { return files_.size(); }
  size_t total_bytes() const { return total_bytes_; }
  // Files whose compressed forms came from the build (a .br or .gz that checked out).
  size_t precompressed_count() const { return precompressed_; }
  const std::filesystem::path& directory() const { return directory_; }

 private:
  std::filesystem::path directory_;
  std::map<std::string, StaticFile, std::less<>> files_;  // keyed by request path
  size_t total_bytes_ = 0;
  size_t precompressed_ = 0;
};

// The content type for a file name's extension ("app.js" -> "text/javascript; charset=utf-8");
// "application/octet-stream" when unknown.
std::string ContentTypeFor(std::string_view file_name);

// Where the web chat's files are when [server] web_root is not set: beside the installed binary
// (<prefix>/share/heliosdb-conversational-bi/web) or in its build tree (<build>/web). Empty when
// neither exists.
std::filesystem::path DefaultWebRoot();

}  // namespace helios::server
