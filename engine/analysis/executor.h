// How the engine is handed parallelism and cancellation without owning any threads.
#pragma once

#include <cstdint>
#include <functional>

namespace qs {

// Runs fn(0) ... fn(n-1), possibly concurrently; returns when all have finished. Work is cut
// into pieces independent of the thread count, so results never depend on it.
class Executor
{
public:
    virtual ~Executor() = default;
    virtual void parallelFor(std::int64_t n, const std::function<void(std::int64_t)>& fn) const = 0;
};

class SerialExecutor : public Executor
{
public:
    void parallelFor(std::int64_t n, const std::function<void(std::int64_t)>& fn) const override
    {
        for (std::int64_t i = 0; i < n; ++i)
            fn(i);
    }
};

// Checked between chunks of a few thousand values; any callback may be empty.
struct Control
{
    const Executor* executor = nullptr;                // serial when null
    std::function<bool()> cancelled;                   // true: throw qs::Cancelled
    std::function<void(std::uint64_t bytes)> progress; // source bytes processed (may be concurrent)

    void checkCancelled() const;
    void run(std::int64_t n, const std::function<void(std::int64_t)>& fn) const;
};

} // namespace qs
