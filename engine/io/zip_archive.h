// Read access to the members of a zip archive (.npz, PyTorch checkpoints): stored members as
// views of the mapped file, compressed members inflated by libzip under a size limit.
#pragma once

#include "io/byte_source.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace qs {

// Bounds on what inflating one member may allocate, so that a small archive cannot make us
// allocate gigabytes (a "zip bomb"). A member is refused when its declared size exceeds either
// bound; one that inflates to more than it declared is refused as soon as that shows.
struct ZipLimits
{
    std::uint64_t maxMemberSize = std::uint64_t{4} << 30; // uncompressed bytes per member
    // Deflate cannot expand more than 1032:1, so a member declaring more than that is lying;
    // an all-zero array saved with np.savez_compressed comes close to it and must still open.
    std::uint64_t maxRatio = 1100;                     // uncompressed / compressed ...
    std::uint64_t ratioSlack = std::uint64_t{1} << 20; // ... plus this many bytes
    // Members inflating to more than this go to an unlinked temporary file that is then
    // mapped: their pages are page cache the system can reclaim, not the process's private
    // memory, so a compressed archive costs memory like its largest tensor, not its total.
    std::uint64_t inflateToFileAbove = std::uint64_t{16} << 20;
};

struct ZipMember
{
    std::uint64_t index = 0;          // position in the central directory
    std::string name;                 // as UTF-8
    std::uint64_t size = 0;           // uncompressed bytes
    std::uint64_t compressedSize = 0; // bytes stored in the archive
    std::uint16_t method = 0;         // 0 stored, 8 deflated, ... (APPNOTE 4.4.5)
    bool encrypted = false;
    // Stored members: where their bytes begin in the archive file, taken from the member's
    // local header. Empty when it could not be located (the member is then read by copying).
    std::optional<std::uint64_t> dataOffset;

    bool isDirectory() const { return !name.empty() && name.back() == '/'; }
};

// A member's bytes: a range of the archive file itself (stored members) or of a buffer holding
// the inflated member.
struct ZipMemberData
{
    std::shared_ptr<const ByteSource> source;
    std::uint64_t offset = 0;
    std::uint64_t size = 0;

    std::span<const std::byte> bytes() const { return source->range(offset, size); }
};

// The archive is read from a ByteSource (usually a MappedFile) that it keeps alive. Not
// thread-safe: one thread reads members while a model is being opened.
class ZipArchive
{
public:
    // Lists the members; throws qs::Error("<path>: ...") when the archive is not readable.
    explicit ZipArchive(std::shared_ptr<const ByteSource> file, ZipLimits limits = {});
    ~ZipArchive();
    ZipArchive(const ZipArchive&) = delete;
    ZipArchive& operator=(const ZipArchive&) = delete;

    const std::string& path() const;
    const std::vector<ZipMember>& members() const;
    const ZipMember* find(std::string_view name) const;

    // A stored member in place (no copy); otherwise inflated into memory within the limits.
    // Throws qs::Error("<path>: member '<name>': ...").
    ZipMemberData read(const ZipMember& member) const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

// Cheap content checks for readers' canOpen(): a zip starts with a local header ("PK\3\4") or,
// when empty, with the end record ("PK\5\6").
bool looksLikeZip(std::span<const std::byte> bytes);
// The name in the archive's first local header, if the bytes start with a whole one.
std::optional<std::string> firstZipMemberName(std::span<const std::byte> bytes);

} // namespace qs
