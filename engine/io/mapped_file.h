// A read-only memory mapping of a whole file; tensor data is read from it on demand.
#pragma once

#include "io/byte_source.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace qs {

class MappedFile : public ByteSource
{
public:
    // Throws qs::Error naming the file when it cannot be opened or mapped.
    explicit MappedFile(std::string path);
    ~MappedFile() override;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::string& path() const override { return m_path; }
    std::span<const std::byte> bytes() const override
    {
        return {m_data, static_cast<std::size_t>(m_size)};
    }
    bool damaged() const override;

private:
    std::string m_path;
    const std::byte* m_data = nullptr;
    std::uint64_t m_size = 0;
    int m_guardSlot = -1;
};

} // namespace qs
