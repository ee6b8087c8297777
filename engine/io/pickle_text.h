// Text handling for the unpickler: UTF-8, Python's quoted and raw-unicode-escape string
// forms, and type names for messages.
#pragma once

#include "io/pickle.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qs::pickle {

const char* kindName(Value::Kind k);
void appendUtf8(std::string& out, std::uint32_t cp);
bool validUtf8(std::string_view s);
// The text of a protocol-0 STRING argument ('...' or "..." with backslash escapes); nullopt
// when it is not quoted.
std::optional<std::string> unquote(const std::string& s);
// Protocol-0 UNICODE arguments: \uXXXX and \UXXXXXXXX escapes, other bytes as Latin-1.
std::string rawUnicodeEscape(const std::string& s);

} // namespace qs::pickle
