// Background export of a quantized model (GGUF, packed safetensors, HDF5), with progress and
// cancel. The file appears only when the export completes (the engine writes OUT.part first).
#pragma once

#include "io/model.h"
#include "plan/plan.h"

#include <QFutureWatcher>
#include <QObject>
#include <QTimer>

#include <atomic>
#include <memory>

class QThreadPool;

namespace qs {

class ExportJob : public QObject
{
    Q_OBJECT
public:
    explicit ExportJob(QThreadPool* pool, QObject* parent = nullptr);
    ~ExportJob() override; // cancels and waits

    // Exports every tensor of `model` with the precision `plan` resolves for it; the format
    // follows the extension of `path` (.gguf, .safetensors, .h5/.hdf5).
    void start(std::shared_ptr<const Model> model, const Plan& plan, const QString& path);
    void cancel();
    bool isRunning() const;

signals:
    void progress(quint64 bytesDone, quint64 bytesTotal);
    // Written and renamed into place; also when a cancel came after the rename.
    void finished(const QString& path);
    void cancelled(); // nothing was written; a file already at the path is untouched
    void failed(const QString& message);

private:
    struct Shared
    {
        std::atomic<quint64> bytesDone{0};
        // Set once the file is in place: a cancel after that comes too late to take effect.
        std::atomic<bool> written{false};
        QString error; // written by the worker before it finishes, read after
    };

    QThreadPool* m_pool;
    QFutureWatcher<void> m_watcher;
    QTimer m_progressTimer;
    std::shared_ptr<Shared> m_shared;
    quint64 m_bytesTotal = 0;
    QString m_path;
};

} // namespace qs
