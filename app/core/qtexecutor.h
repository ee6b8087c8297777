// Runs the engine's work units on a QThreadPool (the engine owns no threads).
#pragma once

#include "analysis/executor.h"

class QThreadPool;

namespace qs {

class QtExecutor : public Executor
{
public:
    explicit QtExecutor(QThreadPool* pool) : m_pool(pool) {}
    // The calling thread takes part in the work, so calling this from a task already running
    // on the same pool cannot starve it.
    void parallelFor(std::int64_t n, const std::function<void(std::int64_t)>& fn) const override;

private:
    QThreadPool* m_pool;
};

} // namespace qs
