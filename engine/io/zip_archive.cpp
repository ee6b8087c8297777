#include "io/zip_archive.h"

#include "core/error.h"
#include "io/temp_file_bytes.h"

#include <zip.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <new>

namespace qs {
namespace {

// Record signatures and sizes from PKWARE's APPNOTE.TXT (sections 4.3.7, 4.3.12, 4.3.14-16).
constexpr std::uint32_t kLocalHeaderSig = 0x04034b50;
constexpr std::uint32_t kCentralHeaderSig = 0x02014b50;
constexpr std::uint32_t kEndSig = 0x06054b50;
constexpr std::uint32_t kZip64EndSig = 0x06064b50;
constexpr std::uint32_t kZip64LocatorSig = 0x07064b50;
constexpr std::uint64_t kLocalHeaderSize = 30;
constexpr std::uint64_t kCentralHeaderSize = 46;
constexpr std::uint64_t kEndSize = 22;
constexpr std::uint64_t kZip64EndSize = 56;
constexpr std::uint64_t kZip64LocatorSize = 20;
constexpr std::uint16_t kZip64ExtraId = 0x0001;
constexpr std::uint32_t kMarker32 = 0xffffffff; // "the value is in the zip64 extra field"

// Little-endian loads; callers check that [pos, pos + n) lies inside the bytes.
std::uint64_t le(std::span<const std::byte> b, std::uint64_t pos, int n)
{
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i)
        v = (v << 8) | static_cast<std::uint64_t>(b[static_cast<std::size_t>(pos) + i]);
    return v;
}
bool fits(std::span<const std::byte> b, std::uint64_t pos, std::uint64_t n)
{
    return pos <= b.size() && n <= b.size() - pos;
}
std::string text(std::span<const std::byte> b, std::uint64_t pos, std::uint64_t n)
{
    return {reinterpret_cast<const char*>(b.data()) + pos, static_cast<std::size_t>(n)};
}

[[noreturn]] void fail(const std::string& path, const std::string& what)
{
    throw Error(path + ": " + what);
}
std::string memberWhere(const ZipMember& m)
{
    return "member '" + m.name + "': ";
}

// libzip 1.7 does not tell where a member's data begins. The central directory record holds
// the offset of the member's local header; walk the directory that ends at `end` and return
// those offsets in directory order (libzip's index order), or nothing when the directory does
// not match what libzip listed record for record (a prefixed or odd archive: members are then
// copied instead of mapped).
std::optional<std::vector<std::uint64_t>>
walkCentralDirectory(std::span<const std::byte> b, std::uint64_t end,
                     const std::vector<std::string>& rawNames)
{
    std::uint64_t count = le(b, end + 10, 2);
    std::uint64_t dirSize = le(b, end + 12, 4);
    std::uint64_t dirOffset = le(b, end + 16, 4);
    if (end >= kZip64LocatorSize && le(b, end - kZip64LocatorSize, 4) == kZip64LocatorSig) {
        const std::uint64_t z = le(b, end - kZip64LocatorSize + 8, 8);
        if (!fits(b, z, kZip64EndSize) || z + kZip64EndSize > end - kZip64LocatorSize ||
            le(b, z, 4) != kZip64EndSig)
            return std::nullopt;
        count = le(b, z + 32, 8);
        dirSize = le(b, z + 40, 8);
        dirOffset = le(b, z + 48, 8);
    }
    if (count != rawNames.size() || !fits(b, dirOffset, dirSize)) return std::nullopt;
    const std::uint64_t dirEnd = dirOffset + dirSize;
    std::vector<std::uint64_t> offsets;
    std::uint64_t p = dirOffset;
    for (std::uint64_t i = 0; i < count; ++i) {
        if (dirEnd - p < kCentralHeaderSize || le(b, p, 4) != kCentralHeaderSig)
            return std::nullopt;
        const std::uint64_t nameLen = le(b, p + 28, 2), extraLen = le(b, p + 30, 2),
                            commentLen = le(b, p + 32, 2);
        if (dirEnd - p - kCentralHeaderSize < nameLen + extraLen + commentLen) return std::nullopt;
        if (text(b, p + kCentralHeaderSize, nameLen) != rawNames[static_cast<std::size_t>(i)])
            return std::nullopt;
        std::uint64_t offset = le(b, p + 42, 4);
        if (offset == kMarker32) {
            // The zip64 extra field holds, in this order, only the values whose 32-bit field
            // is 0xffffffff: uncompressed size, compressed size, local header offset.
            const std::uint64_t skip =
                (le(b, p + 24, 4) == kMarker32 ? 8 : 0) + (le(b, p + 20, 4) == kMarker32 ? 8 : 0);
            std::optional<std::uint64_t> found;
            std::uint64_t e = p + kCentralHeaderSize + nameLen;
            const std::uint64_t extraEnd = e + extraLen;
            while (extraEnd - e >= 4) {
                const std::uint64_t id = le(b, e, 2), size = le(b, e + 2, 2);
                if (size > extraEnd - e - 4) break;
                if (id == kZip64ExtraId && size >= skip + 8) found = le(b, e + 4 + skip, 8);
                e += 4 + size;
            }
            if (!found) return std::nullopt;
            offset = *found;
        }
        offsets.push_back(offset);
        p += kCentralHeaderSize + nameLen + extraLen + commentLen;
    }
    return offsets;
}

std::optional<std::vector<std::uint64_t>> localHeaderOffsets(std::span<const std::byte> b,
                                                             const std::vector<std::string>& names)
{
    if (b.size() < kEndSize) return std::nullopt;
    // The end record sits in the last 22 + 65535 (comment) bytes; try candidates from the end.
    const std::uint64_t last = b.size() - kEndSize;
    const std::uint64_t first = last > 0xffff ? last - 0xffff : 0;
    for (std::uint64_t pos = last + 1; pos-- > first;)
        if (le(b, pos, 4) == kEndSig)
            if (auto offsets = walkCentralDirectory(b, pos, names)) return offsets;
    return std::nullopt;
}

} // namespace

struct ZipArchive::Impl
{
    std::shared_ptr<const ByteSource> file;
    ZipLimits limits;
    zip_t* zip = nullptr;
    std::vector<ZipMember> members;

    ~Impl()
    {
        if (zip) zip_discard(zip); // also frees the source it was opened from
    }

    // Where a stored member's bytes begin, from its local header at `header`; every field that
    // can be checked against the central directory (as libzip read it) is checked.
    std::uint64_t dataOffset(const ZipMember& m, const std::string& rawName,
                             std::uint64_t header) const
    {
        const auto b = file->bytes();
        const std::string at = " (local header at byte " + std::to_string(header) + ")";
        if (!fits(b, header, kLocalHeaderSize) || le(b, header, 4) != kLocalHeaderSig)
            fail(file->path(), memberWhere(m) + "no local header signature" + at);
        const std::uint64_t flags = le(b, header + 6, 2), method = le(b, header + 8, 2);
        const std::uint64_t compressed = le(b, header + 18, 4), size = le(b, header + 22, 4);
        const std::uint64_t nameLen = le(b, header + 26, 2), extraLen = le(b, header + 28, 2);
        if (method != m.method || (flags & 1) != 0)
            fail(file->path(), memberWhere(m) +
                                   "local header disagrees with the central directory about "
                                   "compression or encryption" +
                                   at);
        if (!fits(b, header + kLocalHeaderSize, nameLen) ||
            text(b, header + kLocalHeaderSize, nameLen) != rawName)
            fail(file->path(), memberWhere(m) + "local header names a different member" + at);
        // Bit 3: sizes follow the data in a descriptor; 0xffffffff: they are in the zip64 extra.
        if ((flags & 8) == 0 && ((compressed != kMarker32 && compressed != m.compressedSize) ||
                                 (size != kMarker32 && size != m.size)))
            fail(file->path(),
                 memberWhere(m) + "local header sizes disagree with the central directory" + at);
        const std::uint64_t data = header + kLocalHeaderSize + nameLen + extraLen;
        if (!fits(b, data, m.compressedSize))
            fail(file->path(), memberWhere(m) + std::to_string(m.compressedSize) +
                                   " bytes of data from byte " + std::to_string(data) +
                                   " run past the end of the file (" + std::to_string(b.size()) +
                                   " bytes)");
        return data;
    }

    void checkLimits(const ZipMember& m) const
    {
        const auto declared = std::to_string(m.size) + " bytes";
        if (m.size > limits.maxMemberSize)
            fail(file->path(), memberWhere(m) + "uncompressed size " + declared +
                                   " exceeds the limit of " + std::to_string(limits.maxMemberSize) +
                                   " bytes per member");
        if (m.method == ZIP_CM_STORE) return;
        const std::uint64_t most = UINT64_MAX;
        const std::uint64_t bound =
            limits.maxRatio == 0 ? limits.ratioSlack
            : m.compressedSize > (most - limits.ratioSlack) / limits.maxRatio
                ? most
                : m.compressedSize * limits.maxRatio + limits.ratioSlack;
        if (m.size > bound)
            fail(file->path(),
                 memberWhere(m) + "declares " + declared + " from " +
                     std::to_string(m.compressedSize) + " compressed bytes, more than " +
                     std::to_string(limits.maxRatio) + "x that + " +
                     std::to_string(limits.ratioSlack) + " bytes: refused as a possible zip bomb");
    }
};

ZipArchive::ZipArchive(std::shared_ptr<const ByteSource> file, ZipLimits limits)
    : d(std::make_unique<Impl>())
{
    d->file = std::move(file);
    d->limits = limits;
    const std::string& path = d->file->path();
    const auto b = d->file->bytes();
    if (b.size() < kEndSize)
        fail(path, "too short for a zip archive (" + std::to_string(b.size()) + " bytes)");

    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* source = zip_source_buffer_create(b.data(), b.size(), 0, &error);
    if (source)
        // CHECKCONS: libzip also compares every local header with its directory record.
        d->zip = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
    if (!d->zip) {
        const std::string why = zip_error_code_zip(&error) == ZIP_ER_EXISTS
                                    ? std::string("two members have the same name")
                                    : zip_error_strerror(&error);
        zip_error_fini(&error);
        if (source) zip_source_free(source);
        fail(path, "not a readable zip archive: " + why);
    }
    zip_error_fini(&error);

    const zip_int64_t count = zip_get_num_entries(d->zip, 0);
    std::vector<std::string> rawNames;
    for (zip_int64_t i = 0; i < count; ++i) {
        const auto index = static_cast<zip_uint64_t>(i);
        zip_stat_t st;
        zip_stat_init(&st);
        const char* raw = zip_get_name(d->zip, index, ZIP_FL_ENC_RAW);
        constexpr zip_uint64_t kNeed = ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE |
                                       ZIP_STAT_COMP_METHOD | ZIP_STAT_ENCRYPTION_METHOD;
        if (!raw || zip_stat_index(d->zip, index, 0, &st) != 0 || (st.valid & kNeed) != kNeed)
            fail(path, "cannot read the directory entry of member " + std::to_string(i) + ": " +
                           zip_strerror(d->zip));
        ZipMember m;
        m.index = index;
        m.name = st.name;
        m.size = st.size;
        m.compressedSize = st.comp_size;
        m.method = st.comp_method;
        m.encrypted = st.encryption_method != ZIP_EM_NONE;
        d->members.push_back(std::move(m));
        rawNames.emplace_back(raw);
    }

    if (const auto offsets = localHeaderOffsets(b, rawNames))
        for (std::size_t i = 0; i < d->members.size(); ++i) {
            auto& m = d->members[i];
            if (m.method == ZIP_CM_STORE && !m.encrypted)
                m.dataOffset = d->dataOffset(m, rawNames[i], (*offsets)[i]);
        }
}

ZipArchive::~ZipArchive() = default;

const std::string& ZipArchive::path() const
{
    return d->file->path();
}

const std::vector<ZipMember>& ZipArchive::members() const
{
    return d->members;
}

const ZipMember* ZipArchive::find(std::string_view name) const
{
    for (const auto& m : d->members)
        if (m.name == name) return &m;
    return nullptr;
}

ZipMemberData ZipArchive::read(const ZipMember& m) const
{
    const std::string& path = d->file->path();
    if (m.encrypted) fail(path, memberWhere(m) + "is encrypted");
    if (m.dataOffset) return {d->file, *m.dataOffset, m.size};
    d->checkLimits(m);
    const bool toFile = m.size > d->limits.inflateToFileAbove;

    std::vector<std::byte> buffer;
    std::unique_ptr<TempFileBytes> temp;
    try {
        if (toFile)
            temp = std::make_unique<TempFileBytes>(path + " (member '" + m.name + "')", m.size);
        else
            buffer.resize(static_cast<std::size_t>(m.size));
    } catch (const std::bad_alloc&) {
        fail(path,
             memberWhere(m) + "not enough memory to inflate " + std::to_string(m.size) + " bytes");
    }
    zip_file_t* f = zip_fopen_index(d->zip, m.index, 0);
    if (!f) fail(path, memberWhere(m) + "cannot be opened: " + zip_strerror(d->zip));
    auto readError = [&](const std::string& what) {
        const std::string why = zip_file_strerror(f);
        zip_fclose(f);
        fail(path, memberWhere(m) + what + ": " + why);
    };
    std::uint64_t got = 0;
    std::vector<std::byte> chunk(toFile ? std::size_t{1} << 20 : 0);
    while (got < m.size) {
        std::byte* into = toFile ? chunk.data() : buffer.data() + got;
        const std::uint64_t want =
            toFile ? std::min<std::uint64_t>(chunk.size(), m.size - got) : m.size - got;
        const zip_int64_t n = zip_fread(f, into, want);
        if (n < 0) readError("cannot be read after " + std::to_string(got) + " bytes");
        if (n == 0) break;
        if (toFile) temp->write(chunk.data(), static_cast<std::size_t>(n));
        got += static_cast<std::uint64_t>(n);
    }
    if (got < m.size) {
        zip_fclose(f);
        fail(path, memberWhere(m) + "ends after " + std::to_string(got) + " of its declared " +
                       std::to_string(m.size) + " bytes");
    }
    // One more read: data beyond the declared size is refused (the buffer was sized from the
    // declaration), and at the end libzip checks the CRC.
    std::byte extra[1];
    const zip_int64_t n = zip_fread(f, extra, 1);
    if (n > 0) {
        zip_fclose(f);
        fail(path, memberWhere(m) + "inflates to more than its declared " + std::to_string(m.size) +
                       " bytes: refused as a possible zip bomb");
    }
    if (n < 0) readError("is damaged");
    zip_fclose(f);
    if (toFile) {
        temp->finish();
        return {std::shared_ptr<const ByteSource>(std::move(temp)), 0, m.size};
    }
    auto owned =
        std::make_shared<const OwnedBytes>(path + " (member '" + m.name + "')", std::move(buffer));
    return {std::move(owned), 0, m.size};
}

bool looksLikeZip(std::span<const std::byte> bytes)
{
    return bytes.size() >= 4 && (le(bytes, 0, 4) == kLocalHeaderSig || le(bytes, 0, 4) == kEndSig);
}

std::optional<std::string> firstZipMemberName(std::span<const std::byte> bytes)
{
    if (!fits(bytes, 0, kLocalHeaderSize) || le(bytes, 0, 4) != kLocalHeaderSig)
        return std::nullopt;
    const std::uint64_t nameLen = le(bytes, 26, 2);
    if (!fits(bytes, kLocalHeaderSize, nameLen)) return std::nullopt;
    return text(bytes, kLocalHeaderSize, nameLen);
}

} // namespace qs
