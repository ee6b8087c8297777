#include "analysis/executor.h"

#include "core/error.h"

namespace qs {

void Control::checkCancelled() const
{
    if (cancelled && cancelled()) throw Cancelled();
}

void Control::run(std::int64_t n, const std::function<void(std::int64_t)>& fn) const
{
    static const SerialExecutor serial;
    (executor ? *executor : serial).parallelFor(n, fn);
}

} // namespace qs
