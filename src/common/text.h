// Small text utilities shared by every module. ASCII-oriented: identifiers and SQL keywords
// are ASCII; user text is UTF-8 and passes through untouched except where stated.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace helios::text {

std::string ToLower(std::string_view s);
// Bytes as lowercase hex digits, two per byte.
std::string ToHex(std::string_view bytes);
std::string Trim(std::string_view s);
bool StartsWith(std::string_view s, std::string_view prefix);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::vector<std::string> Split(std::string_view s, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
// Splits an identifier into lowercase words: "CustomerName" -> {customer, name},
// "order_items" -> {order, items}, "HTTPCode2" -> {http, code, 2}.
std::vector<std::string> SplitIdentifier(std::string_view identifier);
// True when s is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);
// A URL safe to log or show: the password of user:password@ becomes "***" (the user info runs
// to the last '@', since a password may hold '@', '/' or '?'), and so do query parameters whose
// names suggest a secret (password, pwd, secret, token, key).
std::string RedactUrl(std::string_view url);

// A random RFC 4122 version-4 UUID.
std::string NewUuid();

}  // namespace helios::text
