// Where a model's tensor bytes live: a memory-mapped file, or a buffer a reader had to decode
// (a compressed archive member, a parsed protobuf).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace qs {

class ByteSource
{
public:
    virtual ~ByteSource() = default;
    // The file the bytes come from, for error messages.
    virtual const std::string& path() const = 0;
    virtual std::span<const std::byte> bytes() const = 0;
    std::uint64_t size() const { return bytes().size(); }
    // True when the bytes stopped matching the file while it was read (a mapped file that was
    // truncated underneath; see io/mapping_guard.h). Reads then see zeros past the new end.
    virtual bool damaged() const { return false; }
    // Bounds-checked sub-range; throws qs::Error when [offset, offset+length) leaves the source.
    std::span<const std::byte> range(std::uint64_t offset, std::uint64_t length) const;
};

// Bytes held in memory, for data that cannot be mapped as stored.
class OwnedBytes : public ByteSource
{
public:
    OwnedBytes(std::string path, std::vector<std::byte> data)
        : m_path(std::move(path)), m_data(std::move(data))
    {
    }
    const std::string& path() const override { return m_path; }
    std::span<const std::byte> bytes() const override { return m_data; }

private:
    std::string m_path;
    std::vector<std::byte> m_data;
};

} // namespace qs
