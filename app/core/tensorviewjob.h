// Background computation of one tensor's heatmap and error scatter views, with progress and
// cancel; a newer request supersedes an older one, whose result is then never delivered.
#pragma once

#include "analysis/tensor_views.h"
#include "io/model.h"

#include <QFutureWatcher>
#include <QMetaType>
#include <QObject>
#include <QTimer>

#include <atomic>
#include <memory>
#include <optional>

class QThreadPool;

namespace qs {

using TensorViewsPtr = std::shared_ptr<const TensorViews>;

class TensorViewJob : public QObject
{
    Q_OBJECT
public:
    explicit TensorViewJob(QThreadPool* pool, QObject* parent = nullptr);
    ~TensorViewJob() override; // cancels and waits for the work, which may reference this job

    // Computes the views of model->tensors[index] under spec (nullopt: as stored, zero error)
    // and returns the request's id. A request still running is cancelled and its result
    // dropped: only the latest request reports.
    quint64 start(std::shared_ptr<const Model> model, int index,
                  const std::optional<QuantSpec>& spec, const TensorViewOptions& options = {});
    // Stops the current request; it reports nothing.
    void cancel();
    bool isRunning() const;
    quint64 currentId() const { return m_id; }

signals:
    void progress(quint64 bytesDone, quint64 bytesTotal);
    void resultReady(quint64 id, int index, qs::TensorViewsPtr views);
    void failed(quint64 id, int index, const QString& message);

private:
    struct Shared
    {
        std::atomic<quint64> bytesDone{0};
        QString error; // written by the worker before it finishes, read after
    };
    using Watcher = QFutureWatcher<TensorViewsPtr>;
    void onFinished(Watcher* watcher, quint64 id, const std::shared_ptr<Shared>& shared);

    QThreadPool* m_pool;
    QTimer m_progressTimer;
    std::shared_ptr<Shared> m_shared;
    Watcher* m_watcher = nullptr; // the latest request's; older ones delete themselves
    quint64 m_id = 0;
    int m_index = -1;
    quint64 m_bytesTotal = 0;
};

} // namespace qs

Q_DECLARE_METATYPE(qs::TensorViewsPtr)
