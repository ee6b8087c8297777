#include "quantizejob.h"

#include "core/error.h"
#include "pooltask.h"
#include "qtexecutor.h"

#include <QPromise>

namespace qs {

QuantizeJob::QuantizeJob(QThreadPool* pool, QObject* parent) : QObject(parent), m_pool(pool)
{
    m_progressTimer.setInterval(50);
    connect(&m_progressTimer, &QTimer::timeout, this, &QuantizeJob::emitProgress);
    connect(&m_watcher, &QFutureWatcher<TensorResultPtr>::resultReadyAt, this,
            [this](int i) { emit tensorFinished(m_watcher.resultAt(i)); });
    connect(&m_watcher, &QFutureWatcher<TensorResultPtr>::finished, this, [this] {
        m_progressTimer.stop();
        emitProgress();
        const bool cancelled = m_watcher.isCanceled();
        if (!cancelled && m_shared && !m_shared->error.isEmpty()) {
            const int n = m_shared->failures.load();
            emit failed(n > 1 ? tr("%n tensors could not be quantized; the first: %1", nullptr, n)
                                    .arg(m_shared->error)
                              : m_shared->error);
        }
        emit finished(cancelled);
    });
}

QuantizeJob::~QuantizeJob()
{
    m_watcher.disconnect(this);
    m_watcher.cancel();
    m_watcher.waitForFinished();
}

bool QuantizeJob::isRunning() const
{
    return m_watcher.isRunning();
}

void QuantizeJob::cancel()
{
    m_watcher.cancel();
}

void QuantizeJob::emitProgress()
{
    if (!m_shared) return;
    emit progress(m_shared->tensorsDone.load(), m_total, m_shared->bytesDone.load(), m_bytesTotal);
}

void QuantizeJob::start(std::shared_ptr<const Model> model, std::vector<TensorTask> tasks)
{
    if (isRunning()) {
        m_watcher.cancel();
        m_watcher.waitForFinished();
    }
    m_shared = std::make_shared<Shared>();
    m_total = static_cast<int>(tasks.size());
    m_bytesTotal = 0;
    for (const auto& t : tasks)
        if (isQuantizable(model->tensors[static_cast<std::size_t>(t.index)].dtype))
            m_bytesTotal += model->tensors[static_cast<std::size_t>(t.index)].byteSize;

    auto shared = m_shared;
    QThreadPool* pool = m_pool;
    auto future = runTask<TensorResultPtr>(pool, [model, tasks = std::move(tasks), shared,
                                                  pool](QPromise<TensorResultPtr>& promise) {
        QtExecutor executor(pool);
        Control control;
        control.executor = &executor;
        control.cancelled = [&promise] { return promise.isCanceled(); };
        control.progress = [&shared](std::uint64_t bytes) { shared->bytesDone += bytes; };
        for (const auto& task : tasks) {
            if (promise.isCanceled()) return;
            try {
                auto r = std::make_shared<TensorResult>(
                    computeTensorResult(*model, task.index, task.spec, control));
                r->revision = task.revision;
                ++shared->tensorsDone;
                promise.addResult(TensorResultPtr(std::move(r)));
            } catch (const Cancelled&) {
                return;
            } catch (const Error& e) {
                // One tensor the spec cannot apply to (a row that is no whole number of ggml
                // blocks, say) must not stop the others: report it and go on.
                auto r = std::make_shared<TensorResult>();
                const TensorInfo& t = model->tensors[static_cast<std::size_t>(task.index)];
                r->index = task.index;
                r->name = t.name;
                r->spec = task.spec;
                r->channelAxis = t.channelAxis;
                r->params = t.numel();
                r->bytesBefore = r->bytesAfter = t.byteSize;
                r->revision = task.revision;
                r->error = e.what();
                ++shared->tensorsDone;
                ++shared->failures;
                if (shared->error.isEmpty()) shared->error = QString::fromStdString(e.what());
                promise.addResult(TensorResultPtr(std::move(r)));
            } catch (const std::exception& e) {
                shared->error = QStringLiteral("%1: %2").arg(QString::fromStdString(model->path),
                                                             QString::fromUtf8(e.what()));
                return;
            }
        }
    });
    m_watcher.setFuture(future);
    m_progressTimer.start();
    emitProgress();
}

} // namespace qs
