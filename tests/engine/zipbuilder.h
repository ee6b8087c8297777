// Builds zip archives by hand (APPNOTE.TXT) for the tests' malformed archives: stored or
// deflated members, optionally with zip64 records.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qs::test {

inline std::uint32_t crc32(const std::string& s)
{
    std::uint32_t c = 0xffffffff;
    for (const char ch : s) {
        c ^= static_cast<unsigned char>(ch);
        for (int k = 0; k < 8; ++k)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

inline void put(std::string& out, std::uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; ++i)
        out += static_cast<char>((v >> (8 * i)) & 0xff);
}

// A deflate stream (RFC 1951, one block with the fixed Huffman codes) that inflates to
// 1 + 258 * repeats zero bytes: a literal 0, then matches of length 258 at distance 1.
inline std::string deflatedZeros(int repeats)
{
    std::string out;
    std::uint32_t acc = 0;
    int n = 0;
    auto bits = [&](std::uint32_t v, int count) { // LSB first
        for (int i = 0; i < count; ++i) {
            acc |= ((v >> i) & 1u) << n;
            if (++n == 8) out += static_cast<char>(acc), acc = 0, n = 0;
        }
    };
    auto code = [&](std::uint32_t c, int count) { // Huffman codes go most significant bit first
        for (int i = count - 1; i >= 0; --i)
            bits((c >> i) & 1u, 1);
    };
    bits(1, 1);    // final block
    bits(1, 2);    // fixed Huffman codes
    code(0x30, 8); // literal 0
    for (int r = 0; r < repeats; ++r) {
        code(0xc5, 8); // length symbol 285: 258 bytes
        code(0, 5);    // distance symbol 0: distance 1
    }
    code(0, 7); // end of block
    if (n) out += static_cast<char>(acc);
    return out;
}

// A deflate stream of one final "stored" block (RFC 1951 section 3.2.4): the bytes as they are.
inline std::string deflateStoredBlock(const std::string& data)
{
    std::string out(1, '\x01'); // final block, no compression
    out += static_cast<char>(data.size() & 0xff);
    out += static_cast<char>((data.size() >> 8) & 0xff);
    out += static_cast<char>(~data.size() & 0xff);
    out += static_cast<char>((~data.size() >> 8) & 0xff);
    return out + data;
}

struct ZipEntry
{
    std::string name;
    std::string stored; // the bytes in the archive
    int method = 0;     // 0 stored, 8 deflated
    std::uint64_t size = 0;
    std::uint32_t crc = 0;
};

inline ZipEntry storedEntry(const std::string& name, const std::string& data)
{
    return {name, data, 0, data.size(), crc32(data)};
}

// A zip archive, optionally with zip64 directory records (sizes and offsets in the zip64
// extra field, a zip64 end record and locator), as APPNOTE.TXT describes them.
inline std::string makeZip(const std::vector<ZipEntry>& entries, bool zip64 = false)
{
    std::string out, dir;
    for (const auto& e : entries) {
        const std::uint64_t offset = out.size();
        put(out, 0x04034b50, 4);
        put(out, 20, 2); // version needed
        put(out, 0, 2);  // flags
        put(out, e.method, 2);
        put(out, 0, 2);    // time
        put(out, 0x21, 2); // date: 1980-01-01
        put(out, e.crc, 4);
        put(out, e.stored.size(), 4);
        put(out, e.size, 4);
        put(out, e.name.size(), 2);
        put(out, 0, 2);
        out += e.name + e.stored;

        put(dir, 0x02014b50, 4);
        put(dir, zip64 ? 45 : 20, 2); // version made by
        put(dir, zip64 ? 45 : 20, 2); // version needed
        put(dir, 0, 2);
        put(dir, e.method, 2);
        put(dir, 0, 2);
        put(dir, 0x21, 2);
        put(dir, e.crc, 4);
        put(dir, zip64 ? 0xffffffff : e.stored.size(), 4);
        put(dir, zip64 ? 0xffffffff : e.size, 4);
        put(dir, e.name.size(), 2);
        put(dir, zip64 ? 28 : 0, 2); // extra length
        put(dir, 0, 2);              // comment length
        put(dir, 0, 2);              // disk
        put(dir, 0, 2);              // internal attributes
        put(dir, 0, 4);              // external attributes
        put(dir, zip64 ? 0xffffffff : offset, 4);
        dir += e.name;
        if (zip64) {
            put(dir, 1, 2);
            put(dir, 24, 2);
            put(dir, e.size, 8);
            put(dir, e.stored.size(), 8);
            put(dir, offset, 8);
        }
    }
    const std::uint64_t dirOffset = out.size();
    out += dir;
    if (zip64) {
        const std::uint64_t end64 = out.size();
        put(out, 0x06064b50, 4);
        put(out, 44, 8); // size of the rest of the record
        put(out, 45, 2);
        put(out, 45, 2);
        put(out, 0, 4);
        put(out, 0, 4);
        put(out, entries.size(), 8);
        put(out, entries.size(), 8);
        put(out, dir.size(), 8);
        put(out, dirOffset, 8);
        put(out, 0x07064b50, 4);
        put(out, 0, 4);
        put(out, end64, 8);
        put(out, 1, 4);
    }
    put(out, 0x06054b50, 4);
    put(out, 0, 2);
    put(out, 0, 2);
    put(out, zip64 ? 0xffff : entries.size(), 2);
    put(out, zip64 ? 0xffff : entries.size(), 2);
    put(out, zip64 ? 0xffffffff : dir.size(), 4);
    put(out, zip64 ? 0xffffffff : dirOffset, 4);
    put(out, 0, 2);
    return out;
}

} // namespace qs::test
