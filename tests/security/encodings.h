// Encodings a leaked secret may take, written out by the leak tests to plant a leak the scanner
// must find (base64 and base64url, percent-encoding), and HS256 signing to forge tokens.
// Pure functions, safe from any thread.
#pragma once

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>
#include <string>
#include <string_view>

namespace helios::testing {

inline std::string Base64(std::string_view in, bool url = false) {
  const char* alphabet = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                             : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16 |
                       static_cast<unsigned char>(in[i + 1]) << 8 |
                       static_cast<unsigned char>(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += alphabet[(v >> shift) & 63];
  }
  if (i < in.size()) {
    const bool two = i + 1 < in.size();
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (two) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (two) out += alphabet[(v >> 6) & 63];
    if (!url) out += two ? "=" : "==";
  }
  return out;
}

// Every byte outside A-Z a-z 0-9 - . _ ~ as %XX.
inline std::string PercentEncode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : in) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

// A JWT "header.payload.signature" signed with HMAC-SHA256 under `key`.
inline std::string SignHs256(std::string_view header_json, std::string_view payload_json,
                             std::string_view key) {
  const std::string input = Base64(header_json, true) + "." + Base64(payload_json, true);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
  return input + "." + Base64(std::string_view(reinterpret_cast<const char*>(mac), mac_len), true);
}

}  // namespace helios::testing
