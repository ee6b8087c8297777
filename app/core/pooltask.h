// Starts work on a QThreadPool with a QPromise, as QtConcurrent::run does, in a way that
// ThreadSanitizer can follow (see tsanhandover.h): QtConcurrent's task reads the work it was
// given inside its own template code before any of ours runs, so no annotation could come first.
#pragma once

#include "tsanhandover.h"

#include <QFuture>
#include <QPromise>
#include <QRunnable>
#include <QThreadPool>

#include <exception>
#include <utility>

namespace qs {

// Runs fn(promise) on `pool` and returns the promise's future. As with QtConcurrent::run, fn
// does not run when the future was cancelled before the pool got to it, and an exception that
// escapes fn is stored in the future.
template <typename T, typename F>
QFuture<T> runTask(QThreadPool* pool, F fn)
{
    class Task final : public QRunnable
    {
    public:
        explicit Task(F f) : m_fn(std::move(f)) { m_promise.start(); }
        QFuture<T> future() { return m_promise.future(); }

        void run() override
        {
            tsan::acquire(this); // all of this task was written by the thread that started it
            if (!m_promise.isCanceled()) {
                try {
                    m_fn(m_promise);
                } catch (...) {
                    m_promise.setException(std::current_exception());
                }
            }
            m_promise.finish();
        }

    private:
        QPromise<T> m_promise;
        F m_fn;
    };
    auto* task = new Task(std::move(fn));
    QFuture<T> future = task->future();
    tsan::release(task);
    pool->start(task); // the pool deletes the task after run()
    return future;
}

} // namespace qs
