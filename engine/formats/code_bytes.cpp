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

// Frees the blocks taken out of the cache.
void freeAll(const std::array<Block, kMaxBlocks>& blocks, std::size_t count) noexcept
{
    for (std::size_t i = 0; i < count; ++i)
        ::operator delete(blocks[i].p, blocks[i].bytes);
}

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
    std::array<Block, kMaxBlocks> gone;
    std::size_t nGone = 0;
    Cache& c = cache();
    {
        const std::lock_guard lock(c.mutex);
        for (std::size_t i = c.count; i-- > 0;) {
            if (!found && c.blocks[i].bytes == bytes) {
                found = c.blocks[i].p;
                c.removeAt(i);
            }
        }
        for (std::size_t i = c.count; i-- > 0;) {
            if (c.blocks[i].bytes == bytes) continue; // other blocks of this size stay
            gone[nGone++] = c.blocks[i];
            c.removeAt(i);
        }
    }
    freeAll(gone, nGone);
    return found;
}

bool give(void* p, std::size_t bytes) noexcept
{
    if (!enabled() || !p || bytes < kMinBytes || bytes > kMaxBytes) return false;
    releaseLazily(p, bytes);
    std::array<Block, kMaxBlocks> gone;
    std::size_t nGone = 0;
    Cache& c = cache();
    {
        const std::lock_guard lock(c.mutex);
        while (c.count > 0 && (c.count == kMaxBlocks || c.bytes + bytes > kMaxBytes)) {
            gone[nGone++] = c.blocks[0]; // the oldest
            c.removeAt(0);
        }
        c.blocks[c.count++] = {p, bytes};
        c.bytes += bytes;
    }
    freeAll(gone, nGone);
    return true;
}

void clear() noexcept
{
    std::array<Block, kMaxBlocks> gone;
    std::size_t nGone = 0;
    Cache& c = cache();
    {
        const std::lock_guard lock(c.mutex);
        while (c.count > 0) {
            gone[nGone++] = c.blocks[0];
            c.removeAt(0);
        }
    }
    freeAll(gone, nGone);
}

std::pair<std::size_t, std::size_t> kept() noexcept
{
    Cache& c = cache();
    const std::lock_guard lock(c.mutex);
    return {c.count, c.bytes};
}

} // namespace qs::codecache
