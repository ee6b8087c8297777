#include "qtexecutor.h"

#include <QThreadPool>
#include <QtConcurrent/QtConcurrentMap>

#include <exception>
#include <mutex>
#include <numeric>
#include <vector>

namespace qs {

void QtExecutor::parallelFor(std::int64_t n, const std::function<void(std::int64_t)>& fn) const
{
    if (n <= 0) return;
    if (n == 1 || m_pool->maxThreadCount() <= 1) {
        for (std::int64_t i = 0; i < n; ++i)
            fn(i);
        return;
    }
    std::vector<std::int64_t> items(static_cast<std::size_t>(n));
    std::iota(items.begin(), items.end(), 0);
    // Exceptions (qs::Cancelled, qs::Error) must not cross QtConcurrent's worker threads: the
    // first is kept and rethrown here; later items skip their work once one has failed.
    std::exception_ptr first;
    std::mutex mutex;
    QtConcurrent::blockingMap(m_pool, items, [&](std::int64_t i) {
        {
            std::lock_guard lock(mutex);
            if (first) return;
        }
        try {
            fn(i);
        } catch (...) {
            std::lock_guard lock(mutex);
            if (!first) first = std::current_exception();
        }
    });
    if (first) std::rethrow_exception(first);
}

} // namespace qs
