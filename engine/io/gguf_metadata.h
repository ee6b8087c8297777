// GGUF's little-endian primitives and metadata values, read with every length checked against
// the file, and rendered as text for Model::metadata.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace qs::gguf {

// A read position in a mapped file. Every read first checks that the bytes exist and throws
// qs::Error "<path>: <problem> (<context>, byte offset N)" otherwise.
class Cursor
{
public:
    Cursor(std::span<const std::byte> bytes, std::string path)
        : m_bytes(bytes), m_path(std::move(path))
    {
    }

    std::uint64_t pos() const { return m_pos; }
    std::uint64_t size() const { return m_bytes.size(); }
    std::uint64_t remaining() const { return m_bytes.size() - m_pos; }
    // What is being read, for messages: "metadata key 'general.name'", "tensor 'output.weight'".
    void setContext(std::string context) { m_context = std::move(context); }

    std::uint8_t u8(const char* what) { return static_cast<std::uint8_t>(le(1, what)); }
    std::uint16_t u16(const char* what) { return static_cast<std::uint16_t>(le(2, what)); }
    std::uint32_t u32(const char* what) { return static_cast<std::uint32_t>(le(4, what)); }
    std::uint64_t u64(const char* what) { return le(8, what); }
    // A gguf_string_t (u64 length, then bytes), its length checked before anything is copied.
    std::string string(const char* what);
    // Reads a string's length, checks the bytes exist and advances past them.
    void skipString(const char* what) { m_pos += stringLength(what); }
    // Advances over n bytes that must exist.
    void skip(std::uint64_t n, const char* what);

    [[noreturn]] void fail(const std::string& problem) const { fail(problem, m_pos); }
    [[noreturn]] void fail(const std::string& problem, std::uint64_t at) const;

private:
    std::uint64_t le(int n, const char* what);
    std::uint64_t stringLength(const char* what);
    void need(std::uint64_t n, const char* what) const;

    std::span<const std::byte> m_bytes;
    std::string m_path;
    std::uint64_t m_pos = 0;
    std::string m_context;
};

// GGUF metadata value types (gguf_metadata_value_type).
enum class ValueType : std::uint32_t {
    U8 = 0,
    I8 = 1,
    U16 = 2,
    I16 = 3,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    U64 = 10,
    I64 = 11,
    F64 = 12
};
std::string_view valueTypeName(std::uint32_t type); // "uint32", "string", ...; empty if unknown

struct Value
{
    std::string text;                     // as shown to users
    std::optional<std::uint64_t> integer; // integer scalars >= 0, for settings like alignment
};

// Arrays longer than this are summarised ("[array of 32000 string]") instead of listed.
inline constexpr std::uint64_t kMaxListedElements = 16;
// Arrays of arrays deeper than this are refused: the nesting would only exhaust the stack.
inline constexpr int kMaxArrayDepth = 16;

// Reads one value of the given type at the cursor. Scalars render as text (strings as they are,
// numbers in their shortest round-trip form); arrays as "[1, 2, 3]", ["a", "b"] or a summary.
Value readValue(Cursor& c, std::uint32_t type);

// The string with every invalid UTF-8 sequence replaced by U+FFFD, so names and values can be
// shown and written as JSON.
std::string validUtf8(std::string_view s);

} // namespace qs::gguf
