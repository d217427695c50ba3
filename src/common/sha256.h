// SHA-256 of bytes in memory, for the digests computed on every request (cache buckets, rows,
// tokens). OpenSSL's one-shot calls look the algorithm up again on every call (OpenSSL 3
// fetches it from its provider each time), which cost more than hashing a short key; this
// looks it up once per process and keeps one digest context per thread.
// OpenSSL's headers stay in sha256.cc.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace helios::sha256 {

using Digest = std::array<unsigned char, 32>;

// The digest of `data`. Hashing memory fails only when OpenSSL cannot allocate, which aborts.
Digest Of(std::string_view data);

// The same, as 32 raw bytes in a string, or as 64 lowercase hex digits.
std::string Bytes(std::string_view data);
std::string Hex(std::string_view data);

}  // namespace helios::sha256
