#include "io/temp_file_bytes.h"

#include "core/error.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace qs {

TempFileBytes::TempFileBytes(std::string label, std::uint64_t expectedSize)
    : m_label(std::move(label))
{
    const char* dir = std::getenv("TMPDIR");
    m_dir = dir && *dir ? dir : "/tmp";
    std::string name = m_dir + "/quantscope-XXXXXX";
    m_fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (m_fd < 0)
        throw Error(m_label + ": cannot create a temporary file in " + m_dir + " to inflate " +
                    std::to_string(expectedSize) + " bytes: " + std::strerror(errno));
    ::unlink(name.c_str());
}

TempFileBytes::~TempFileBytes()
{
    if (m_data) ::munmap(const_cast<std::byte*>(m_data), static_cast<std::size_t>(m_size));
    if (m_fd >= 0) ::close(m_fd);
}

void TempFileBytes::write(const std::byte* data, std::size_t n)
{
    while (n > 0) {
        const ssize_t w = ::write(m_fd, data, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0)
            throw Error(m_label + ": cannot write the inflated data to a temporary file in " +
                        m_dir + ": " + std::strerror(w < 0 ? errno : ENOSPC));
        data += w;
        n -= static_cast<std::size_t>(w);
        m_size += static_cast<std::uint64_t>(w);
    }
}

void TempFileBytes::finish()
{
    if (m_size > 0) {
        void* p = ::mmap(nullptr, static_cast<std::size_t>(m_size), PROT_READ, MAP_SHARED, m_fd, 0);
        if (p == MAP_FAILED)
            throw Error(m_label + ": cannot map the inflated data: " + std::strerror(errno));
        m_data = static_cast<const std::byte*>(p);
    }
    ::close(m_fd); // the mapping keeps the (unlinked) file alive
    m_fd = -1;
}

} // namespace qs
