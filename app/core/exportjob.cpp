#include "exportjob.h"

#include "core/error.h"
#include "export/export.h"
#include "pooltask.h"
#include "qtexecutor.h"

#include <QPromise>

namespace qs {

ExportJob::ExportJob(QThreadPool* pool, QObject* parent) : QObject(parent), m_pool(pool)
{
    m_progressTimer.setInterval(50);
    connect(&m_progressTimer, &QTimer::timeout, this, [this] {
        if (m_shared) emit progress(m_shared->bytesDone.load(), m_bytesTotal);
    });
    connect(&m_watcher, &QFutureWatcher<void>::finished, this, [this] {
        m_progressTimer.stop();
        // A cancel that comes after the file was renamed into place is too late to undo it:
        // report the export as finished, so that cancelled() always means nothing was written.
        if (m_watcher.isCanceled() && !m_shared->written)
            emit cancelled();
        else if (!m_shared->error.isEmpty())
            emit failed(m_shared->error);
        else {
            emit progress(m_bytesTotal, m_bytesTotal);
            emit finished(m_path);
        }
    });
}

ExportJob::~ExportJob()
{
    m_watcher.disconnect(this);
    m_watcher.cancel();
    m_watcher.waitForFinished();
}

bool ExportJob::isRunning() const
{
    return m_watcher.isRunning();
}

void ExportJob::cancel()
{
    m_watcher.cancel();
}

void ExportJob::start(std::shared_ptr<const Model> model, const Plan& plan, const QString& path)
{
    if (isRunning()) {
        m_watcher.cancel();
        m_watcher.waitForFinished();
    }
    m_shared = std::make_shared<Shared>();
    m_path = path;
    // The writers report the source bytes of every tensor they write.
    m_bytesTotal = static_cast<quint64>(model->totalBytes());
    plan.compileRules();
    std::vector<ExportTensor> tensors;
    for (const auto& t : model->tensors)
        tensors.push_back({&t, plan.resolve(t)});

    auto shared = m_shared;
    QThreadPool* pool = m_pool;
    const std::string out = path.toStdString();
    auto future = runTask<void>(
        pool, [model, tensors = std::move(tensors), shared, pool, out](QPromise<void>& promise) {
            QtExecutor executor(pool);
            ExportOptions options;
            options.control.executor = &executor;
            options.control.cancelled = [&promise] { return promise.isCanceled(); };
            options.control.progress = [&shared](std::uint64_t b) { shared->bytesDone += b; };
            try {
                exportModel(out, *model, tensors, options);
                shared->written = true;
            } catch (const Cancelled&) { // the future is already cancelled: nothing was written
            } catch (const std::exception& e) {
                shared->error = QString::fromStdString(e.what());
            }
        });
    m_watcher.setFuture(future);
    m_progressTimer.start();
}

} // namespace qs
