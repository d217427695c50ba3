#include "common/sha256.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "common/text.h"

namespace helios::sha256 {
namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "fatal: SHA-256: %s failed (OpenSSL out of memory?)\n", what);
  std::abort();
}

const EVP_MD* Algorithm() {
  static const EVP_MD* const md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    if (fetched == nullptr) Fail("EVP_MD_fetch");
    return fetched;  // kept for the life of the process
  }();
  return md;
}

struct ContextFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

EVP_MD_CTX* ThreadContext() {
  thread_local std::unique_ptr<EVP_MD_CTX, ContextFree> ctx(EVP_MD_CTX_new());
  if (!ctx) Fail("EVP_MD_CTX_new");
  return ctx.get();
}

}  // namespace

Digest Of(std::string_view data) {
  Digest out{};
  EVP_MD_CTX* ctx = ThreadContext();
  unsigned int size = 0;
  if (EVP_DigestInit_ex2(ctx, Algorithm(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx, out.data(), &size) != 1 || size != out.size()) {
    Fail("digest");
  }
  return out;
}

std::string Bytes(std::string_view data) {
  const Digest digest = Of(data);
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

std::string Hex(std::string_view data) { return text::ToHex(Bytes(data)); }

}  // namespace helios::sha256
