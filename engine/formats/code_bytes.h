// The byte buffer that holds a tensor's codes: left uninitialised on resize, and large buffers
// reused after they are freed instead of being handed back to the system.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace qs {

// Freed code buffers kept for the next allocation of exactly the same size. A fresh buffer
// costs a page fault and a page cleared by the kernel per page touched: for a 128 MB output
// more time than the quantization that fills it, and most of what does not scale with
// threads. Quantizing a tensor again, or tensors of one shape in turn, then writes into pages
// that are already mapped.
//
// Kept buffers are marked MADV_FREE: the kernel may take their pages back whenever it needs
// memory (a taken page reads as zero later); until then they count as the process's memory.
// At most kMaxBlocks buffers and kMaxBytes in all are kept, the oldest going first. A code
// buffer of kMinBytes or more frees the kept buffers of other sizes before it is allocated,
// and an export frees all of them when it ends. Not used in AddressSanitizer builds, which must
// see every free to find uses after it.
namespace codecache {

constexpr std::size_t kMinBytes = std::size_t{8} << 20; // smaller ones: malloc reuses them
constexpr std::size_t kMaxBlocks = 4;
constexpr std::size_t kMaxBytes = std::size_t{1} << 30;

// A kept block of exactly `bytes`, or nullptr; kept blocks of other sizes are freed.
void* take(std::size_t bytes) noexcept;
// Keeps p (from ::operator new(bytes)) for reuse; false when it is not kept (too small, or
// reuse disabled) and the caller frees it.
bool give(void* p, std::size_t bytes) noexcept;
// Frees every kept block.
void clear() noexcept;
// Blocks and bytes kept right now (for tests and diagnostics).
std::pair<std::size_t, std::size_t> kept() noexcept;
// False in builds where blocks are never kept.
bool enabled() noexcept;

} // namespace codecache

// std::allocator, except that resize() leaves new elements uninitialised, and large blocks go
// through codecache. encodeTensor clears each work unit's bytes itself where its writes do not
// cover them, in parallel and right before writing them: zero-filling the whole output first
// ran on one thread and wrote every byte twice.
template <typename T>
struct UninitializedAllocator : std::allocator<T>
{
    template <typename U>
    struct rebind
    {
        using other = UninitializedAllocator<U>;
    };
    UninitializedAllocator() = default;
    template <typename U>
    UninitializedAllocator(const UninitializedAllocator<U>&) noexcept
    {
    }
    T* allocate(std::size_t n)
    {
        if constexpr (alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
            if (n <= SIZE_MAX / sizeof(T))
                if (void* p = codecache::take(n * sizeof(T))) return static_cast<T*>(p);
        }
        return std::allocator<T>::allocate(n);
    }
    void deallocate(T* p, std::size_t n) noexcept
    {
        if constexpr (alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
            if (codecache::give(p, n * sizeof(T))) return;
        }
        std::allocator<T>::deallocate(p, n);
    }
    template <typename U>
    void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>)
    {
        ::new (static_cast<void*>(p)) U;
    }
    template <typename U, typename... Args>
    void construct(U* p, Args&&... args)
    {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};

using CodeBytes = std::vector<std::uint8_t, UninitializedAllocator<std::uint8_t>>;

} // namespace qs
