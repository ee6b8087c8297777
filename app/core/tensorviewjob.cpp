#include "tensorviewjob.h"

#include "core/error.h"
#include "pooltask.h"
#include "qtexecutor.h"

#include <QPromise>

namespace qs {

TensorViewJob::TensorViewJob(QThreadPool* pool, QObject* parent) : QObject(parent), m_pool(pool)
{
    qRegisterMetaType<TensorViewsPtr>();
    m_progressTimer.setInterval(50);
    connect(&m_progressTimer, &QTimer::timeout, this, [this] {
        if (m_shared) emit progress(m_shared->bytesDone.load(), m_bytesTotal);
    });
}

TensorViewJob::~TensorViewJob()
{
    // Superseded requests may still be winding down: none may outlive the job.
    const auto watchers = findChildren<QFutureWatcherBase*>();
    for (QFutureWatcherBase* w : watchers) {
        w->disconnect(this);
        w->cancel();
    }
    for (QFutureWatcherBase* w : watchers)
        w->waitForFinished();
}

bool TensorViewJob::isRunning() const
{
    return m_watcher && m_watcher->isRunning();
}

void TensorViewJob::cancel()
{
    ++m_id; // whatever is still on its way belongs to no request now
    if (m_watcher) m_watcher->cancel();
    m_progressTimer.stop();
}

quint64 TensorViewJob::start(std::shared_ptr<const Model> model, int index,
                             const std::optional<QuantSpec>& spec, const TensorViewOptions& options)
{
    // The old request is cancelled but not waited for: the GUI thread never blocks on a job.
    if (m_watcher) m_watcher->cancel();
    const quint64 id = ++m_id;
    m_index = index;
    m_shared = std::make_shared<Shared>();
    if (index < 0 || static_cast<std::size_t>(index) >= model->tensors.size())
        throw Error("no tensor at index " + std::to_string(index));
    const TensorInfo& t = model->tensors[static_cast<std::size_t>(index)];
    m_bytesTotal = t.byteSize;

    auto shared = m_shared;
    QThreadPool* pool = m_pool;
    auto future = runTask<TensorViewsPtr>(
        pool, [model, index, spec, options, shared, pool](QPromise<TensorViewsPtr>& promise) {
            QtExecutor executor(pool);
            Control control;
            control.executor = &executor;
            control.cancelled = [&promise] { return promise.isCanceled(); };
            control.progress = [&shared](std::uint64_t bytes) { shared->bytesDone += bytes; };
            const TensorInfo& info = model->tensors[static_cast<std::size_t>(index)];
            try {
                // A kept tensor is shown as its own float32 values, as in the analysis.
                const QuantSpec s = spec.value_or(QuantSpec{findFormat("fp32"), Granularity{}});
                TensorQuantizer qz(model->data(info), info, s);
                auto views = std::make_shared<const TensorViews>(
                    computeTensorViews(qz, info, control, options));
                model->checkIntact();
                promise.addResult(std::move(views));
            } catch (const Cancelled&) { // the future is already cancelled
            } catch (const std::exception& e) {
                shared->error = QStringLiteral("%1: %2").arg(QString::fromStdString(info.name),
                                                             QString::fromUtf8(e.what()));
            }
        });
    auto* watcher = new Watcher(this);
    m_watcher = watcher;
    connect(watcher, &Watcher::finished, this,
            [this, watcher, id, shared] { onFinished(watcher, id, shared); });
    watcher->setFuture(future);
    m_progressTimer.start();
    emit progress(0, m_bytesTotal);
    return id;
}

void TensorViewJob::onFinished(Watcher* watcher, quint64 id, const std::shared_ptr<Shared>& shared)
{
    watcher->deleteLater();
    if (watcher == m_watcher) m_watcher = nullptr;
    if (id != m_id || watcher->isCanceled()) return; // superseded or cancelled: stale
    m_progressTimer.stop();
    if (!shared->error.isEmpty()) {
        emit failed(id, m_index, shared->error);
        return;
    }
    if (watcher->future().resultCount() == 0) return;
    emit progress(m_bytesTotal, m_bytesTotal);
    if (id != m_id) return; // cancelled by a slot of that progress signal
    emit resultReady(id, m_index, watcher->result());
}

} // namespace qs
