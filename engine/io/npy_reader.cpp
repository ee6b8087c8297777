#include "io/npy_reader.h"

#include "core/error.h"
#include "io/mapped_file.h"

#include <bit>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <string_view>

namespace qs {
namespace {

constexpr unsigned char kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

[[noreturn]] void fail(const std::string& where, const std::string& what)
{
    throw Error(where + ": " + what);
}

std::uint32_t readLe(const std::byte* p, int n)
{
    std::uint32_t v = 0;
    for (int i = n - 1; i >= 0; --i)
        v = (v << 8) | static_cast<std::uint32_t>(p[i]);
    return v;
}

// Header text as it can appear in a message (UTF-8): control characters escaped, Latin-1
// headers (format 1.0 and 2.0) converted, UTF-8 ones (3.0) kept.
std::string printable(std::string_view s, bool latin1, std::size_t limit = 60)
{
    std::string out;
    std::size_t i = 0;
    for (; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (i >= limit && (latin1 || (c & 0xc0) != 0x80)) break; // never split a UTF-8 sequence
        if (c < 0x20 || c == 0x7f) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else if (c >= 0x80 && latin1) {
            out += static_cast<char>(0xc0 | (c >> 6));
            out += static_cast<char>(0x80 | (c & 0x3f));
        } else {
            out += static_cast<char>(c);
        }
    }
    if (i < s.size()) out += "...";
    return out;
}

std::string shapeText(const Shape& shape)
{
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i)
        s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + (shape.size() == 1 ? ",)" : ")");
}

struct HeaderFields
{
    std::string descr;
    bool fortranOrder = false;
    Shape shape;
};

// A strict parser for the one Python literal an .npy header holds:
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
// followed by padding spaces and a newline. Anything outside that grammar is an error, so a
// damaged header is reported instead of being half understood.
class HeaderParser
{
public:
    HeaderParser(std::string_view text, bool latin1, std::uint64_t base, const std::string& where)
        : m_text(text), m_latin1(latin1), m_base(base), m_where(where)
    {
    }

    HeaderFields parse()
    {
        HeaderFields f;
        bool haveDescr = false, haveOrder = false, haveShape = false;
        skipSpace();
        if (m_pos >= m_text.size()) fail(m_where, ".npy header is empty");
        if (m_text[m_pos] != '{') error("is not a Python dict (expected '{')");
        ++m_pos;
        for (;;) {
            skipSpace();
            if (take('}')) break;
            const std::size_t keyPos = m_pos;
            const std::string key = parseString("a quoted key");
            skipSpace();
            if (!take(':')) error("expected ':' after key '" + printable(key, m_latin1) + "'");
            skipSpace();
            auto once = [&](bool& seen) {
                if (seen) errorAt(keyPos, "repeats the key '" + key + "'");
                seen = true;
            };
            if (key == "descr") {
                once(haveDescr);
                f.descr = parseDescr();
            } else if (key == "fortran_order") {
                once(haveOrder);
                f.fortranOrder = parseBool();
            } else if (key == "shape") {
                once(haveShape);
                f.shape = parseShape();
            } else {
                errorAt(keyPos, "has an unexpected key '" + printable(key, m_latin1) + "'");
            }
            skipSpace();
            if (take(',')) continue;
            if (take('}')) break;
            error("expected ',' or '}'");
        }
        skipSpace();
        if (m_pos < m_text.size())
            errorAt(m_pos, "has unexpected text after the dict: '" +
                               printable(m_text.substr(m_pos), m_latin1) + "'");
        if (!haveDescr) fail(m_where, ".npy header has no 'descr' key");
        if (!haveOrder) fail(m_where, ".npy header has no 'fortran_order' key");
        if (!haveShape) fail(m_where, ".npy header has no 'shape' key");
        return f;
    }

private:
    [[noreturn]] void errorAt(std::size_t pos, const std::string& what) const
    {
        fail(m_where, ".npy header " + what + " at byte " + std::to_string(m_base + pos));
    }
    [[noreturn]] void error(const std::string& what) const
    {
        if (m_pos >= m_text.size())
            fail(m_where, ".npy header dict is unterminated: the header ends at byte " +
                              std::to_string(m_base + m_text.size()) + " before its closing '}'");
        errorAt(m_pos, what + ", found '" + printable(m_text.substr(m_pos, 1), m_latin1) + "'");
    }

    void skipSpace()
    {
        while (m_pos < m_text.size() && (m_text[m_pos] == ' ' || m_text[m_pos] == '\t' ||
                                         m_text[m_pos] == '\n' || m_text[m_pos] == '\r'))
            ++m_pos;
    }
    bool take(char c)
    {
        if (m_pos < m_text.size() && m_text[m_pos] == c) {
            ++m_pos;
            return true;
        }
        return false;
    }

    std::string parseString(const char* what)
    {
        if (m_pos >= m_text.size() || (m_text[m_pos] != '\'' && m_text[m_pos] != '"'))
            error(std::string("expected ") + what);
        const char quote = m_text[m_pos];
        const std::size_t start = ++m_pos;
        while (m_pos < m_text.size() && m_text[m_pos] != quote) {
            if (m_text[m_pos] == '\\') error("has an escape sequence in a string (unsupported)");
            if (m_text[m_pos] == '\n') error("has an unterminated string");
            ++m_pos;
        }
        if (m_pos >= m_text.size()) error("has an unterminated string");
        return std::string(m_text.substr(start, m_pos++ - start));
    }

    // The text of a bracketed value, for messages about dtypes we refuse.
    std::string_view bracketed() const
    {
        int depth = 0;
        char quote = 0;
        for (std::size_t i = m_pos; i < m_text.size(); ++i) {
            const char c = m_text[i];
            if (quote) {
                if (c == quote) quote = 0;
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '[' || c == '(') {
                ++depth;
            } else if ((c == ']' || c == ')') && --depth == 0) {
                return m_text.substr(m_pos, i + 1 - m_pos);
            }
        }
        return m_text.substr(m_pos);
    }

    std::string parseDescr()
    {
        if (m_pos < m_text.size() && m_text[m_pos] == '[')
            fail(m_where, "structured dtype " + printable(bracketed(), m_latin1, 80) +
                              " (an array of records) is not supported");
        if (m_pos < m_text.size() && m_text[m_pos] == '(')
            fail(m_where,
                 "sub-array dtype " + printable(bracketed(), m_latin1, 80) + " is not supported");
        return parseString("a dtype string for 'descr'");
    }

    bool parseBool()
    {
        std::size_t end = m_pos;
        while (end < m_text.size() && std::isalpha(static_cast<unsigned char>(m_text[end])))
            ++end;
        const std::string_view word = m_text.substr(m_pos, end - m_pos);
        if (word != "True" && word != "False") error("expected True or False for 'fortran_order'");
        m_pos = end;
        return word == "True";
    }

    std::int64_t parseDim()
    {
        const std::size_t start = m_pos;
        if (take('-')) {
            std::size_t end = m_pos;
            while (end < m_text.size() && std::isdigit(static_cast<unsigned char>(m_text[end])))
                ++end;
            errorAt(start, "has a negative dimension " +
                               std::string(m_text.substr(start, end - start)) + " in 'shape'");
        }
        if (m_pos >= m_text.size() || !std::isdigit(static_cast<unsigned char>(m_text[m_pos])))
            error("expected a non-negative integer in 'shape'");
        if (m_text[m_pos] == '0' && m_pos + 1 < m_text.size() &&
            std::isdigit(static_cast<unsigned char>(m_text[m_pos + 1])))
            error("has a dimension with a leading zero in 'shape'");
        std::uint64_t v = 0;
        bool overflow = false;
        while (m_pos < m_text.size() && std::isdigit(static_cast<unsigned char>(m_text[m_pos]))) {
            const auto digit = static_cast<std::uint64_t>(m_text[m_pos++] - '0');
            constexpr auto kMax =
                static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
            if (v > (kMax - digit) / 10) overflow = true;
            if (!overflow) v = v * 10 + digit;
        }
        if (overflow)
            errorAt(start, "has a dimension " + std::string(m_text.substr(start, m_pos - start)) +
                               " in 'shape' that overflows a 64-bit integer");
        take('L'); // Python 2 wrote long integers with a suffix: (3L, 4L)
        return static_cast<std::int64_t>(v);
    }

    Shape parseShape()
    {
        if (!take('(')) error("expected a tuple for 'shape'");
        Shape shape;
        skipSpace();
        if (take(')')) return shape;
        for (;;) {
            shape.push_back(parseDim());
            skipSpace();
            if (take(',')) {
                skipSpace();
                if (take(')')) break;
                continue;
            }
            if (take(')')) {
                if (shape.size() == 1)
                    errorAt(m_pos - 1, "has 'shape' (" + std::to_string(shape[0]) +
                                           ") without the trailing comma of a one-element tuple");
                break;
            }
            error("expected ',' or ')' in 'shape'");
        }
        return shape;
    }

    std::string_view m_text;
    bool m_latin1;
    std::size_t m_pos = 0;
    std::uint64_t m_base;
    const std::string& m_where;
};

// Latin-1 for a header of format 1.0 or 2.0, UTF-8 for 3.0.
struct Descr
{
    const std::string& text;
    bool latin1;
};

[[noreturn]] void refuseDtype(const std::string& where, const Descr& descr, const std::string& why)
{
    fail(where, "dtype '" + printable(descr.text, descr.latin1) + "' is not supported: " + why);
}

struct DescrType
{
    DType dtype;
    bool bigEndian;
};

// Maps a NumPy dtype string ("<f4", "|b1", ">i8") to an element type and byte order, or throws
// naming the dtype and why it cannot be read.
DescrType parseDescrType(const Descr& descr, const std::string& where)
{
    const std::string& text = descr.text;
    if (text.size() < 2) refuseDtype(where, descr, "not a NumPy dtype string");
    const char order = text[0];
    if (order != '<' && order != '>' && order != '|' && order != '=')
        refuseDtype(where, descr, "expected a byte-order mark '<', '>', '|' or '=' first");
    const char kind = text[1];
    const std::string_view sizeText = std::string_view(text).substr(2);
    int size = sizeText.empty() || sizeText[0] == '0' ? -1 : 0;
    for (char c : sizeText) {
        if (size < 0) break;
        if (!std::isdigit(static_cast<unsigned char>(c)) || size > 1000) {
            size = -1;
            break;
        }
        size = size * 10 + (c - '0');
    }
    switch (kind) {
    case 'O':
        refuseDtype(where, descr, "object arrays hold pickled Python objects, not numbers");
    case 'V':
        refuseDtype(where, descr, "structured and void dtypes are not numeric arrays");
    case 'c':
        refuseDtype(where, descr, "complex numbers cannot be quantized");
    case 'U':
    case 'S':
    case 'a':
        refuseDtype(where, descr, "string arrays are not numeric");
    case 'M':
    case 'm':
        refuseDtype(where, descr, "datetime and timedelta arrays are not weights");
    default:
        break;
    }
    std::optional<DType> t;
    if (kind == 'f' && size == 2) t = DType::F16;
    if (kind == 'f' && size == 4) t = DType::F32;
    if (kind == 'f' && size == 8) t = DType::F64;
    if (kind == 'i' && size == 1) t = DType::I8;
    if (kind == 'i' && size == 2) t = DType::I16;
    if (kind == 'i' && size == 4) t = DType::I32;
    if (kind == 'i' && size == 8) t = DType::I64;
    if (kind == 'u' && size == 1) t = DType::U8;
    if (kind == 'b' && size == 1) t = DType::BOOL;
    if (!t) {
        if (kind == 'u' && (size == 2 || size == 4 || size == 8))
            refuseDtype(where, descr,
                        "unsigned integers wider than 8 bits have no element type here");
        if (kind == 'f' && (size == 12 || size == 16))
            refuseDtype(where, descr,
                        "extended-precision floats (long double) have no element type here");
        refuseDtype(where, descr, "unknown dtype");
    }
    bool big = order == '>';
    if (order == '=') big = std::endian::native == std::endian::big;
    if (dtypeSize(*t) == 1) big = false;
    return {*t, big};
}

} // namespace

bool hasNpyMagic(std::span<const std::byte> bytes)
{
    return bytes.size() >= sizeof kMagic && std::memcmp(bytes.data(), kMagic, sizeof kMagic) == 0;
}

NpyArray parseNpy(std::span<const std::byte> bytes, const std::string& where)
{
    if (bytes.size() < 10)
        fail(where, "too short for an .npy header (" + std::to_string(bytes.size()) + " bytes)");
    if (!hasNpyMagic(bytes))
        fail(where, "not an .npy file: bytes 0-5 are not the magic \\x93NUMPY");
    NpyArray a;
    a.majorVersion = static_cast<int>(bytes[6]);
    a.minorVersion = static_cast<int>(bytes[7]);
    if (a.majorVersion < 1 || a.majorVersion > 3 || a.minorVersion != 0)
        fail(where, "unsupported .npy format version " + std::to_string(a.majorVersion) + "." +
                        std::to_string(a.minorVersion) + " at byte 6 (1.0, 2.0 and 3.0 are known)");
    const std::uint64_t lenBytes = a.majorVersion == 1 ? 2 : 4;
    if (bytes.size() < 8 + lenBytes)
        fail(where, "too short for an .npy version " + std::to_string(a.majorVersion) +
                        ".0 header (" + std::to_string(bytes.size()) + " bytes)");
    const std::uint64_t headerLen = readLe(bytes.data() + 8, static_cast<int>(lenBytes));
    const std::uint64_t headerStart = 8 + lenBytes;
    if (headerLen > bytes.size() - headerStart)
        fail(where, "header length " + std::to_string(headerLen) +
                        " at byte 8 runs past the end (" + std::to_string(bytes.size()) +
                        " bytes)");
    const std::string_view text(reinterpret_cast<const char*>(bytes.data() + headerStart),
                                static_cast<std::size_t>(headerLen));
    HeaderFields f = HeaderParser(text, a.majorVersion < 3, headerStart, where).parse();

    const DescrType dt = parseDescrType({f.descr, a.majorVersion < 3}, where);
    a.descr = std::move(f.descr);
    a.dtype = dt.dtype;
    a.bigEndian = dt.bigEndian;
    a.fortranOrder = f.fortranOrder;
    a.shape = std::move(f.shape);
    a.dataOffset = headerStart + headerLen;

    // The product of the non-zero dimensions must fit: an empty array may not hide an
    // overflowing shape (other code multiplies its trailing dimensions).
    std::uint64_t nonZero = 1, numel = 1;
    for (const auto d : a.shape) {
        const auto dim = static_cast<std::uint64_t>(d);
        if (dim != 0 &&
            nonZero > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / dim)
            fail(where, "shape " + shapeText(a.shape) + " overflows the element count");
        if (dim != 0) nonZero *= dim;
        numel *= dim;
    }
    const std::uint64_t elem = dtypeSize(a.dtype);
    const std::uint64_t available = bytes.size() - a.dataOffset;
    if (numel > available / elem)
        fail(where, "data is shorter than the shape needs: shape " + shapeText(a.shape) + " of '" +
                        a.descr + "' needs " + std::to_string(numel) + " x " +
                        std::to_string(elem) + " bytes from byte " + std::to_string(a.dataOffset) +
                        ", but only " + std::to_string(available) + " follow");
    a.dataSize = numel * elem;
    return a;
}

TensorInfo npyTensor(const NpyArray& array, std::string name, int fileIndex, std::uint64_t base)
{
    TensorInfo t;
    t.name = std::move(name);
    t.shape = array.shape;
    t.dtype = array.dtype;
    t.storedType = array.descr;
    t.fileIndex = fileIndex;
    t.offset = base + array.dataOffset;
    t.byteSize = array.dataSize;
    t.channelAxis = 0;
    t.bigEndian = array.bigEndian;
    if (array.fortranOrder && array.shape.size() >= 2) {
        // Column-major: the first axis varies fastest. The shape stays as NumPy reports it.
        std::int64_t stride = 1;
        for (const auto d : array.shape) {
            t.strides.push_back(stride);
            stride *= d;
        }
    }
    return t;
}

bool NpyReader::canOpen(const std::string& path) const
{
    if (std::filesystem::path(path).extension() == ".npy") return true;
    try {
        return hasNpyMagic(MappedFile(path).bytes());
    } catch (const Error&) {
        return false;
    }
}

Model NpyReader::open(const std::string& path) const
{
    auto file = std::make_shared<const MappedFile>(path);
    const NpyArray a = parseNpy(file->bytes(), path);
    Model model;
    model.path = path;
    model.format = "npy";
    model.metadata["npy_format_version"] =
        std::to_string(a.majorVersion) + "." + std::to_string(a.minorVersion);
    model.files.push_back(std::move(file));
    model.tensors.push_back(npyTensor(a, std::filesystem::path(path).stem().string(), 0, 0));
    return model;
}

} // namespace qs
