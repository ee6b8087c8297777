#include "qtexecutor.h"

#include "tsanhandover.h"

#include <QRunnable>
#include <QThreadPool>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>

namespace qs {

namespace {

// The items of one parallelFor, shared by the caller and the pool tasks helping it. A task may
// start after the caller has returned (when the pool was busy); it then finds no item left and
// touches nothing but this state, which it keeps alive.
struct Items
{
    Items(std::int64_t count, const std::function<void(std::int64_t)>& f) : n(count), fn(&f) {}

    const std::int64_t n;
    const std::function<void(std::int64_t)>* const fn; // used only for claimed items
    std::atomic<std::int64_t> next{0};
    std::atomic<bool> failed{false};

    std::mutex mutex;
    std::condition_variable allDone;
    std::int64_t finished = 0;   // guarded by mutex
    std::exception_ptr first;    // guarded by mutex

    // Claims items until none is left. The caller waits for every claimed item, so `fn` outlives
    // all its uses.
    void work()
    {
        for (;;) {
            const std::int64_t i = next.fetch_add(1, std::memory_order_relaxed);
            if (i >= n) return;
            // Exceptions (qs::Cancelled, qs::Error) must not escape a pool thread: the first is
            // kept and rethrown by the caller; later items skip their work once one has failed.
            std::exception_ptr error;
            if (!failed.load(std::memory_order_relaxed)) {
                try {
                    (*fn)(i);
                } catch (...) {
                    error = std::current_exception();
                }
            }
            std::lock_guard lock(mutex);
            if (error && !first) {
                first = error;
                failed.store(true, std::memory_order_relaxed);
            }
            if (++finished == n) allDone.notify_all();
        }
    }
};

// One helper's task. The hand-over token is the task itself, which run() knows without reading
// anything the starting thread wrote (a captured pointer would be read before the acquire).
class Helper : public QRunnable
{
public:
    explicit Helper(std::shared_ptr<Items> items) : m_items(std::move(items)) {}
    void run() override
    {
        tsan::acquire(this);
        m_items->work();
    }

private:
    std::shared_ptr<Items> m_items;
};

} // namespace

void QtExecutor::parallelFor(std::int64_t n, const std::function<void(std::int64_t)>& fn) const
{
    if (n <= 0) return;
    if (n == 1 || m_pool->maxThreadCount() <= 1) {
        for (std::int64_t i = 0; i < n; ++i)
            fn(i);
        return;
    }
    auto items = std::make_shared<Items>(n, fn);
    // The caller works too, so at most maxThreadCount - 1 helpers: as many workers as the pool
    // allows threads, whether the caller is one of its threads (a job) or not (the CLI's main
    // thread). Helpers only where the pool has an idle thread right now (tryStart): a call from
    // a task already running on this pool never waits for a thread the pool cannot give.
    const std::int64_t helpers = std::min<std::int64_t>(n - 1, m_pool->maxThreadCount() - 1);
    for (std::int64_t h = 0; h < helpers; ++h) {
        auto* helper = new Helper(items);
        tsan::release(helper); // the pool hands the task over inside Qt, after it is written
        if (!m_pool->tryStart(helper)) {
            delete helper; // not started: still ours
            break;
        }
    }
    items->work();
    std::unique_lock lock(items->mutex);
    items->allDone.wait(lock, [&] { return items->finished == items->n; });
    if (items->first) std::rethrow_exception(items->first);
}

} // namespace qs
