#include "io/mapped_file.h"

#include "core/error.h"
#include "io/mapping_guard.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace qs {

MappedFile::MappedFile(std::string path) : m_path(std::move(path))
{
    const int fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(m_path + ": cannot open: " + std::strerror(errno));
    struct stat st
    {
    };
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        const int err = errno;
        ::close(fd);
        throw Error(m_path + ": not a regular file" +
                    (err ? std::string(": ") + std::strerror(err) : ""));
    }
    m_size = static_cast<std::uint64_t>(st.st_size);
    if (m_size > 0) {
        void* p = ::mmap(nullptr, m_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            const int err = errno;
            ::close(fd);
            throw Error(m_path + ": cannot map file: " + std::strerror(err));
        }
        m_data = static_cast<const std::byte*>(p);
        m_guardSlot = mapping_guard::add(p, m_size);
    }
    ::close(fd);
}

MappedFile::~MappedFile()
{
    // Unregister first: the range may be reused by the next mapping.
    mapping_guard::remove(m_guardSlot);
    if (m_data) ::munmap(const_cast<std::byte*>(m_data), m_size);
}

bool MappedFile::damaged() const
{
    return mapping_guard::damaged(m_guardSlot);
}

} // namespace qs
