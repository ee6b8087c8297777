#include "io/mapping_guard.h"

#include <atomic>
#include <csignal>
#include <cstdint>
#include <mutex>
#include <sys/mman.h>
#include <unistd.h>

namespace qs::mapping_guard {
namespace {

// Fixed storage: the signal handler may neither allocate nor lock. A slot is claimed by a CAS
// on `used`, then published by storing `end` last (release); the handler reads `end` first.
constexpr int kSlots = 4096;

struct Slot
{
    std::atomic<bool> used{false};
    std::atomic<std::uintptr_t> begin{0};
    std::atomic<std::uintptr_t> end{0};
    std::atomic<bool> damaged{false};
};

Slot g_slots[kSlots];
struct sigaction g_previous
{
};
std::once_flag g_installed;

void onBusError(int sig, siginfo_t* info, void* context)
{
    const auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
    for (Slot& s : g_slots) {
        const std::uintptr_t end = s.end.load(std::memory_order_acquire);
        const std::uintptr_t begin = s.begin.load(std::memory_order_relaxed);
        if (end == 0 || addr < begin || addr >= end) continue;
        const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
        const std::uintptr_t from = addr & ~(page - 1);
        // Zero pages from the fault to the end of the mapping: the interrupted read completes,
        // and later reads past the new end of the file do not fault again.
        void* p = ::mmap(reinterpret_cast<void*>(from), end - from, PROT_READ,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (p != MAP_FAILED) {
            s.damaged.store(true, std::memory_order_release);
            return;
        }
        break;
    }
    // Not ours (or the mapping could not be replaced): hand the signal on. Restoring the
    // previous action and returning re-runs the faulting instruction under it, with that
    // action's own flags (calling it directly would skip e.g. SA_RESETHAND and loop).
    (void)sig;
    (void)context;
    ::sigaction(SIGBUS, &g_previous, nullptr);
}

void install()
{
    struct sigaction action
    {
    };
    action.sa_sigaction = onBusError;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    struct sigaction previous
    {
    };
    if (::sigaction(SIGBUS, &action, &previous) == 0) g_previous = previous;
}

} // namespace

int add(const void* begin, std::size_t size)
{
    if (!begin || size == 0) return -1;
    std::call_once(g_installed, install);
    for (int i = 0; i < kSlots; ++i) {
        bool expected = false;
        if (!g_slots[i].used.compare_exchange_strong(expected, true)) continue;
        const auto b = reinterpret_cast<std::uintptr_t>(begin);
        g_slots[i].damaged.store(false, std::memory_order_relaxed);
        g_slots[i].begin.store(b, std::memory_order_relaxed);
        g_slots[i].end.store(b + size, std::memory_order_release);
        return i;
    }
    return -1;
}

void remove(int slot)
{
    if (slot < 0 || slot >= kSlots) return;
    g_slots[slot].end.store(0, std::memory_order_release);
    g_slots[slot].begin.store(0, std::memory_order_relaxed);
    g_slots[slot].used.store(false, std::memory_order_release);
}

bool damaged(int slot)
{
    return slot >= 0 && slot < kSlots && g_slots[slot].damaged.load(std::memory_order_acquire);
}

} // namespace qs::mapping_guard
