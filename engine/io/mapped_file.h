// A read-only memory mapping of a whole file; tensor data is read from it on demand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace qs {

class MappedFile
{
public:
    // Throws qs::Error naming the file when it cannot be opened or mapped.
    explicit MappedFile(std::string path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::string& path() const { return m_path; }
    std::uint64_t size() const { return m_size; }
    std::span<const std::byte> bytes() const { return {m_data, static_cast<std::size_t>(m_size)}; }
    // Bounds-checked sub-range; throws qs::Error when [offset, offset+length) leaves the file.
    std::span<const std::byte> range(std::uint64_t offset, std::uint64_t length) const;

private:
    std::string m_path;
    const std::byte* m_data = nullptr;
    std::uint64_t m_size = 0;
};

} // namespace qs
