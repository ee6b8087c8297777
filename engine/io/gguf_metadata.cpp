#include "io/gguf_metadata.h"

#include "core/error.h"

#include <bit>
#include <charconv>

namespace qs::gguf {
namespace {

// Bytes a value of the type needs at least: its size for fixed-size types, the length prefix
// for strings, element type and length for arrays; 0 for an unknown type.
std::uint64_t minimumSize(std::uint32_t type)
{
    switch (static_cast<ValueType>(type)) {
    case ValueType::U8:
    case ValueType::I8:
    case ValueType::Bool:
        return 1;
    case ValueType::U16:
    case ValueType::I16:
        return 2;
    case ValueType::U32:
    case ValueType::I32:
    case ValueType::F32:
        return 4;
    case ValueType::U64:
    case ValueType::I64:
    case ValueType::F64:
    case ValueType::String:
        return 8;
    case ValueType::Array:
        return 12;
    }
    return 0;
}

bool isFixedSize(std::uint32_t type)
{
    const auto t = static_cast<ValueType>(type);
    return t != ValueType::String && t != ValueType::Array && minimumSize(type) > 0;
}

template <typename T> std::string shortest(T v)
{
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

std::string quoted(const std::string& s)
{
    std::string out = "\"";
    for (const char ch : s) {
        const auto u = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (ch == '\n') {
            out += "\\n";
        } else if (ch == '\t') {
            out += "\\t";
        } else if (ch == '\r') {
            out += "\\r";
        } else if (u < 0x20) {
            const char* hex = "0123456789abcdef";
            out += "\\u00";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += ch;
        }
    }
    return out + '"';
}

void readAny(Cursor& c, std::uint32_t type, int depth, std::string* out, bool inArray,
             std::optional<std::uint64_t>* integer);

void readArray(Cursor& c, int depth, std::string* out)
{
    const std::uint64_t at = c.pos();
    if (depth >= kMaxArrayDepth)
        c.fail("arrays are nested more than " + std::to_string(kMaxArrayDepth) + " levels deep",
               at);
    const std::uint32_t et = c.u32("an array's element type");
    const std::uint64_t minSize = minimumSize(et);
    if (minSize == 0)
        c.fail("unknown metadata value type " + std::to_string(et) + " in an array", at);
    const std::uint64_t n = c.u64("an array's length");
    const std::string typeName(valueTypeName(et));
    // Every element occupies at least minSize bytes of the file: this bounds the work (and the
    // text) a hostile length can cause.
    if (n > c.remaining() / minSize)
        c.fail("array of " + std::to_string(n) + " " + typeName +
                   " values cannot fit in the remaining " + std::to_string(c.remaining()) +
                   " bytes of the file",
               at);
    const bool list = out && n <= kMaxListedElements;
    if (out && !list) *out += "[array of " + std::to_string(n) + " " + typeName + "]";
    if (!list && isFixedSize(et)) {
        c.skip(n * minSize, "array data");
        return;
    }
    if (list) *out += '[';
    for (std::uint64_t i = 0; i < n; ++i) {
        if (list && i) *out += ", ";
        readAny(c, et, depth + 1, list ? out : nullptr, true, nullptr);
    }
    if (list) *out += ']';
}

void readAny(Cursor& c, std::uint32_t type, int depth, std::string* out, bool inArray,
             std::optional<std::uint64_t>* integer)
{
    std::string text;
    const auto setInt = [&](std::int64_t v) {
        text = std::to_string(v);
        if (integer && v >= 0) *integer = static_cast<std::uint64_t>(v);
    };
    const std::uint64_t at = c.pos();
    switch (static_cast<ValueType>(type)) {
    case ValueType::U8:
        setInt(c.u8("a uint8 value"));
        break;
    case ValueType::I8:
        setInt(static_cast<std::int8_t>(c.u8("an int8 value")));
        break;
    case ValueType::U16:
        setInt(c.u16("a uint16 value"));
        break;
    case ValueType::I16:
        setInt(static_cast<std::int16_t>(c.u16("an int16 value")));
        break;
    case ValueType::U32:
        setInt(c.u32("a uint32 value"));
        break;
    case ValueType::I32:
        setInt(static_cast<std::int32_t>(c.u32("an int32 value")));
        break;
    case ValueType::U64: {
        const std::uint64_t v = c.u64("a uint64 value");
        text = std::to_string(v);
        if (integer) *integer = v;
        break;
    }
    case ValueType::I64:
        setInt(static_cast<std::int64_t>(c.u64("an int64 value")));
        break;
    case ValueType::F32:
        text = shortest(std::bit_cast<float>(c.u32("a float32 value")));
        break;
    case ValueType::F64:
        text = shortest(std::bit_cast<double>(c.u64("a float64 value")));
        break;
    case ValueType::Bool: {
        const std::uint8_t v = c.u8("a bool value");
        if (v > 1) c.fail("bool value " + std::to_string(v) + " is neither 0 nor 1", at);
        text = v ? "true" : "false";
        break;
    }
    case ValueType::String: {
        if (!out) { // skipped: check the length, copy nothing
            c.skipString("a string value");
            return;
        }
        text = validUtf8(c.string("a string value"));
        if (inArray) text = quoted(text);
        break;
    }
    case ValueType::Array:
        readArray(c, depth, out);
        return;
    default:
        c.fail("unknown metadata value type " + std::to_string(type), at);
    }
    if (out) *out += text;
}

} // namespace

std::uint64_t Cursor::le(int n, const char* what)
{
    need(static_cast<std::uint64_t>(n), what);
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i)
        v = (v << 8) | static_cast<std::uint64_t>(m_bytes[m_pos + static_cast<std::uint64_t>(i)]);
    m_pos += static_cast<std::uint64_t>(n);
    return v;
}

void Cursor::need(std::uint64_t n, const char* what) const
{
    if (n > remaining())
        fail("file is truncated: " + std::string(what) + " needs " + std::to_string(n) +
             " bytes but only " + std::to_string(remaining()) + " remain");
}

std::uint64_t Cursor::stringLength(const char* what)
{
    const std::uint64_t at = m_pos;
    const std::uint64_t len = u64("a string length");
    if (len > remaining())
        fail("string length " + std::to_string(len) + " of " + what + " exceeds the remaining " +
                 std::to_string(remaining()) + " bytes of the file",
             at);
    return len;
}

std::string Cursor::string(const char* what)
{
    const std::uint64_t len = stringLength(what);
    std::string s(reinterpret_cast<const char*>(m_bytes.data() + m_pos),
                  static_cast<std::size_t>(len));
    m_pos += len;
    return s;
}

void Cursor::skip(std::uint64_t n, const char* what)
{
    if (n > remaining())
        fail(std::string(what) + " of " + std::to_string(n) + " bytes exceeds the remaining " +
             std::to_string(remaining()) + " bytes of the file");
    m_pos += n;
}

void Cursor::fail(const std::string& problem, std::uint64_t at) const
{
    throw Error(m_path + ": " + problem + " (" + (m_context.empty() ? "" : m_context + ", ") +
                "byte offset " + std::to_string(at) + ")");
}

std::string_view valueTypeName(std::uint32_t type)
{
    static constexpr std::string_view names[] = {"uint8",  "int8",    "uint16", "int16",  "uint32",
                                                 "int32",  "float32", "bool",   "string", "array",
                                                 "uint64", "int64",   "float64"};
    return type < std::size(names) ? names[type] : std::string_view{};
}

Value readValue(Cursor& c, std::uint32_t type)
{
    Value v;
    readAny(c, type, 0, &v.text, false, &v.integer);
    return v;
}

std::string validUtf8(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    for (std::size_t i = 0; i < s.size();) {
        const unsigned char b = byte(i);
        std::size_t len = 0;
        unsigned char lo = 0x80, hi = 0xBF; // allowed range of the second byte
        if (b < 0x80)
            len = 1;
        else if (b >= 0xC2 && b <= 0xDF)
            len = 2;
        else if (b >= 0xE0 && b <= 0xEF) {
            len = 3;
            if (b == 0xE0) lo = 0xA0; // no overlong forms
            if (b == 0xED) hi = 0x9F; // no surrogates
        } else if (b >= 0xF0 && b <= 0xF4) {
            len = 4;
            if (b == 0xF0) lo = 0x90;
            if (b == 0xF4) hi = 0x8F; // nothing above U+10FFFF
        }
        bool ok = len > 0 && i + len <= s.size();
        for (std::size_t k = 1; ok && k < len; ++k) {
            const unsigned char cb = byte(i + k);
            ok = k == 1 ? (cb >= lo && cb <= hi) : (cb >= 0x80 && cb <= 0xBF);
        }
        if (ok) {
            out.append(s.substr(i, len));
            i += len;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    return out;
}

} // namespace qs::gguf
