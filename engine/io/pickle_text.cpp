#include "io/pickle_text.h"

#include <charconv>
#include <vector>

namespace qs::pickle {

using Kind = Value::Kind;

const char* kindName(Kind k)
{
    switch (k) {
    case Kind::None:
        return "None";
    case Kind::Bool:
        return "bool";
    case Kind::Int:
        return "int";
    case Kind::Float:
        return "float";
    case Kind::String:
        return "str";
    case Kind::Bytes:
        return "bytes";
    case Kind::Tuple:
        return "tuple";
    case Kind::List:
        return "list";
    case Kind::Set:
        return "set";
    case Kind::Dict:
        return "dict";
    case Kind::Global:
        return "global";
    case Kind::Call:
        return "object";
    case Kind::Persistent:
        return "persistent id";
    }
    return "value";
}

void appendUtf8(std::string& out, std::uint32_t cp)
{
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

bool validUtf8(std::string_view s)
{
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = c < 0x80         ? 0
                        : (c >> 5) == 6  ? 1
                        : (c >> 4) == 14 ? 2
                        : (c >> 3) == 30 ? 3
                                         : 9;
        if (n == 9 || s.size() - i - 1 < n) return false;
        for (std::size_t k = 1; k <= n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
        i += n + 1;
    }
    return true;
}

std::optional<std::string> unquote(const std::string& s)
{
    if (s.size() < 2 || (s[0] != '\'' && s[0] != '"') || s.back() != s[0]) return std::nullopt;
    std::string out;
    for (std::size_t i = 1; i + 1 < s.size(); ++i) {
        if (s[i] != '\\' || i + 2 >= s.size()) {
            out += s[i];
            continue;
        }
        const char e = s[++i];
        switch (e) {
        case 'n':
            out += '\n';
            break;
        case 't':
            out += '\t';
            break;
        case 'r':
            out += '\r';
            break;
        case 'x':
            if (i + 2 < s.size() - 1) {
                unsigned v = 0;
                std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
                out += static_cast<char>(v);
                i += 2;
            }
            break;
        default:
            out += e;
        }
    }
    return out;
}

std::string rawUnicodeEscape(const std::string& s)
{
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const std::size_t n = (s[i] == '\\' && i + 1 < s.size()) ? (s[i + 1] == 'u'   ? 4
                                                                    : s[i + 1] == 'U' ? 8
                                                                                      : 0)
                                                                 : 0;
        std::uint32_t cp = 0;
        if (n && i + 2 + n <= s.size() &&
            std::from_chars(s.data() + i + 2, s.data() + i + 2 + n, cp, 16).ptr ==
                s.data() + i + 2 + n &&
            cp <= 0x10ffff) {
            appendUtf8(out, cp);
            i += 1 + n;
        } else {
            appendUtf8(out, static_cast<unsigned char>(s[i]));
        }
    }
    return out;
}

namespace {

void reprTo(const Value& v, std::string& out, std::size_t maxChars, int depth)
{
    if (out.size() > maxChars) return;
    if (depth > 32) {
        out += "...";
        return;
    }
    auto list = [&](const std::vector<const Value*>& items, const char* open, const char* close) {
        out += open;
        for (std::size_t i = 0; i < items.size() && out.size() <= maxChars; ++i) {
            if (i) out += ", ";
            reprTo(*items[i], out, maxChars, depth + 1);
        }
        if (v.kind == Kind::Tuple && items.size() == 1) out += ',';
        out += close;
    };
    switch (v.kind) {
    case Kind::None:
        out += "None";
        break;
    case Kind::Bool:
        out += v.boolean ? "True" : "False";
        break;
    case Kind::Int:
        out += v.intTooLarge ? "<integer beyond 64 bits>" : std::to_string(v.integer);
        break;
    case Kind::Float: {
        char buf[64];
        const auto r = std::to_chars(buf, buf + sizeof buf, v.number);
        std::string s(buf, r.ptr);
        if (s.find_first_of(".eni") == std::string::npos) s += ".0"; // Python's 3.0, not 3
        out += s;
        break;
    }
    case Kind::String:
        out += v.text;
        break;
    case Kind::Bytes: {
        out += "b'";
        static const char* hex = "0123456789abcdef";
        for (const char c : v.text) {
            if (out.size() > maxChars) break;
            const auto u = static_cast<unsigned char>(c);
            if (u >= 0x20 && u < 0x7f && c != '\'' && c != '\\') {
                out += c;
            } else {
                out += "\\x";
                out += hex[u >> 4];
                out += hex[u & 15];
            }
        }
        out += '\'';
        break;
    }
    case Kind::Tuple:
        list(v.items, "(", ")");
        break;
    case Kind::List:
        list(v.items, "[", "]");
        break;
    case Kind::Set:
        list(v.items, "{", "}");
        break;
    case Kind::Dict:
        out += '{';
        for (std::size_t i = 0; i < v.entries.size() && out.size() <= maxChars; ++i) {
            if (i) out += ", ";
            reprTo(*v.entries[i].first, out, maxChars, depth + 1);
            out += ": ";
            reprTo(*v.entries[i].second, out, maxChars, depth + 1);
        }
        out += '}';
        break;
    case Kind::Global:
        out += v.text;
        break;
    case Kind::Call:
        out += v.callable()->text;
        list(v.args()->items, "(", ")");
        break;
    case Kind::Persistent:
        out += "<persistent id>";
        break;
    }
}

} // namespace

std::string repr(const Value& v, std::size_t maxChars)
{
    std::string out;
    reprTo(v, out, maxChars, 0);
    if (out.size() > maxChars) {
        std::size_t cut = maxChars;
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80)
            --cut; // not inside a UTF-8 sequence
        out.resize(cut);
        out += "...";
    }
    return out;
}

} // namespace qs::pickle
