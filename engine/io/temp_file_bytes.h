// Bytes a reader had to produce (an inflated archive member), kept in an unlinked temporary
// file and mapped, so that they count as reclaimable page cache, not private memory.
#pragma once

#include "io/byte_source.h"

#include <cstdint>
#include <string>

namespace qs {

class TempFileBytes : public ByteSource
{
public:
    // Creates the file in $TMPDIR (else /tmp) and unlinks it at once: nothing is left behind,
    // whatever happens. `label` names the data in errors. Throws qs::Error.
    TempFileBytes(std::string label, std::uint64_t expectedSize);
    ~TempFileBytes() override;
    TempFileBytes(const TempFileBytes&) = delete;
    TempFileBytes& operator=(const TempFileBytes&) = delete;

    void write(const std::byte* data, std::size_t n); // appends; throws qs::Error (disk full...)
    void finish();                                    // maps what was written, read-only

    const std::string& path() const override { return m_label; }
    std::span<const std::byte> bytes() const override
    {
        return {m_data, static_cast<std::size_t>(m_size)};
    }

private:
    std::string m_label, m_dir;
    int m_fd = -1;
    std::uint64_t m_size = 0;
    const std::byte* m_data = nullptr;
};

} // namespace qs
