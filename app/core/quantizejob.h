// Background quantization of a set of tensors, with progress, streamed results and cancel.
#pragma once

#include "io/model.h"
#include "tensorresult.h"

#include <QFutureWatcher>
#include <QObject>
#include <QTimer>

#include <atomic>
#include <memory>
#include <vector>

class QThreadPool;

namespace qs {

struct TensorTask
{
    int index = -1;
    std::optional<QuantSpec> spec;
    quint64 revision = 0;
};

class QuantizeJob : public QObject
{
    Q_OBJECT
public:
    explicit QuantizeJob(QThreadPool* pool, QObject* parent = nullptr);
    ~QuantizeJob() override; // cancels and waits for the work, which may reference this job

    // Starts the tasks in order; each tensor uses every thread of the pool.
    void start(std::shared_ptr<const Model> model, std::vector<TensorTask> tasks);
    void cancel();
    bool isRunning() const;
    quint64 bytesTotal() const { return m_bytesTotal; }

signals:
    void progress(int tensorsDone, int tensorsTotal, quint64 bytesDone, quint64 bytesTotal);
    void tensorFinished(qs::TensorResultPtr result);
    void finished(bool cancelled);
    void failed(const QString& message);

private:
    struct Shared
    {
        std::atomic<quint64> bytesDone{0};
        std::atomic<int> tensorsDone{0};
        std::atomic<int> failures{0};
        QString error; // written by the worker before it finishes, read after
    };
    void emitProgress();

    QThreadPool* m_pool;
    QFutureWatcher<TensorResultPtr> m_watcher;
    QTimer m_progressTimer;
    std::shared_ptr<Shared> m_shared;
    int m_total = 0;
    quint64 m_bytesTotal = 0;
};

} // namespace qs
