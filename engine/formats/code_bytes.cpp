#include "formats/code_bytes.h"

#include <algorithm>
#include <array>
#include <mutex>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define QS_CODECACHE_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QS_CODECACHE_OFF 1
#endif
#endif

namespace qs::codecache {
namespace {

struct Block
{
    void* p = nullptr;
    std::size_t bytes = 0;
};

// Fixed storage, so that keeping a block never allocates. Never destroyed: code buffers owned
// by static objects may still be freed while the program exits.
struct Cache
{
    std::mutex mutex;
    std::array<Block, kMaxBlocks> blocks; // [0, count): oldest first; guarded by mutex
    std::size_t count = 0;                // guarded by mutex
    std::size_t bytes = 0;                // guarded by mutex

    void removeAt(std::size_t i) // with mutex held
    {
        bytes -= blocks[i].bytes;
        std::move(blocks.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                  blocks.begin() + static_cast<std::ptrdiff_t>(count),
                  blocks.begin() + static_cast<std::ptrdiff_t>(i));
        --count;
    }
};

Cache& cache()
{
    alignas(Cache) static unsigned char storage[sizeof(Cache)];
    static Cache* const c = ::new (storage) Cache; // cannot throw, never destroyed
    return *c;
}

// Blocks taken out of the cache under its lock, freed when this goes out of scope: declared
// before the lock, so that the frees run after it is released.
class Released
{
public:
    Released() = default;
    Released(const Released&) = delete;
    Released& operator=(const Released&) = delete;
    ~Released()
    {
        for (std::size_t i = 0; i < m_count; ++i)
            ::operator delete(m_blocks[i].p, m_blocks[i].bytes);
    }
    // Moves block i of c (whose mutex is held) here.
    void take(Cache& c, std::size_t i)
    {
        m_blocks[m_count++] = c.blocks[i];
        c.removeAt(i);
    }

private:
    std::array<Block, kMaxBlocks> m_blocks;
    std::size_t m_count = 0;
};

// Lets the kernel take the block's whole pages back when it needs memory. The first and last
// partial pages are left alone: they may share a page with the allocator's own bookkeeping.
void releaseLazily([[maybe_unused]] void* p, [[maybe_unused]] std::size_t bytes) noexcept
{
#if defined(__linux__) && defined(MADV_FREE)
    constexpr std::uintptr_t kPage = 4096;
    const auto begin = reinterpret_cast<std::uintptr_t>(p);
    const std::uintptr_t first = (begin + kPage - 1) & ~(kPage - 1);
    const std::uintptr_t last = (begin + bytes) & ~(kPage - 1);
    if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_FREE);
#endif
}

} // namespace

bool enabled() noexcept
{
#if defined(QS_CODECACHE_OFF)
    return false;
#else
    return true;
#endif
}

void* take(std::size_t bytes) noexcept
{
    if (!enabled() || bytes < kMinBytes) return nullptr;
    // The newest block of this size, if any (the likeliest to still have its pages); blocks of
    // other sizes are freed before the caller allocates, so that kept blocks never add to the
    // memory in use at a large allocation beyond the one handed out.
    void* found = nullptr;
    Released released;
    Cache& c = cache();
    const std::lock_guard lock(c.mutex);
    for (std::size_t i = c.count; i-- > 0;) {
        if (c.blocks[i].bytes != bytes) {
            released.take(c, i);
        } else if (!found) {
            found = c.blocks[i].p;
            c.removeAt(i);
        } // other blocks of this size stay
    }
    return found;
}

bool give(void* p, std::size_t bytes) noexcept
{
    if (!enabled() || !p || bytes < kMinBytes || bytes > kMaxBytes) return false;
    releaseLazily(p, bytes);
    Released released;
    Cache& c = cache();
    const std::lock_guard lock(c.mutex);
    while (c.count > 0 && (c.count == kMaxBlocks || c.bytes + bytes > kMaxBytes))
        released.take(c, 0); // the oldest
    c.blocks[c.count++] = {p, bytes};
    c.bytes += bytes;
    return true;
}

void clear() noexcept
{
    Released released;
    Cache& c = cache();
    const std::lock_guard lock(c.mutex);
    while (c.count > 0)
        released.take(c, 0);
}

std::pair<std::size_t, std::size_t> kept() noexcept
{
    Cache& c = cache();
    const std::lock_guard lock(c.mutex);
    return {c.count, c.bytes};
}

} // namespace qs::codecache
