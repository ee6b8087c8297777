// The open model, its quantization plan and the latest result of every tensor.
#pragma once

#include "io/model.h"
#include "plan/plan.h"
#include "quantizejob.h"
#include "tensorresult.h"

#include <QObject>
#include <QThreadPool>
#include <QVector>

#include <memory>

namespace qs {

class Document : public QObject
{
    Q_OBJECT
public:
    explicit Document(QObject* parent = nullptr);
    ~Document() override;

    // Opens in the background; emits modelOpened or openFailed, then quantizes every tensor.
    void open(const QString& path);
    // Synchronous variant for tests and the command line; throws qs::Error.
    void setModel(std::shared_ptr<const Model> model, const QString& path);

    const Model* model() const { return m_model.get(); }
    std::shared_ptr<const Model> sharedModel() const { return m_model; } // for background jobs
    QString path() const { return m_path; }
    int tensorCount() const { return m_model ? static_cast<int>(m_model->tensors.size()) : 0; }
    const TensorInfo& tensor(int row) const
    {
        return m_model->tensors[static_cast<std::size_t>(row)];
    }
    TensorResultPtr result(int row) const { return m_results.value(row); }

    const Plan& plan() const { return m_plan; }
    // The precision that applies to a row (keep when nullopt), and the plan's default.
    std::optional<Precision> precision(int row) const;
    void setPrecision(int row, const Precision& precision); // recomputes that tensor only
    void setDefaultPrecision(const Precision& precision);   // recomputes every tensor
    void setPlan(const Plan& plan);

    void requantizeAll();
    void cancel();
    bool isBusy() const;

    // Model totals over the latest results (bytes as stored and as planned).
    quint64 totalBytesBefore() const;
    quint64 totalBytesAfter() const;

signals:
    void modelAboutToChange();
    void modelOpened();
    void openFailed(const QString& message);
    void resultChanged(int row);
    void precisionChanged(int row);
    void progress(int tensorsDone, int tensorsTotal, quint64 bytesDone, quint64 bytesTotal);
    void busyChanged(bool busy);
    void jobFailed(const QString& message);

private:
    void startJob(std::vector<int> rows);
    void acceptResult(const TensorResultPtr& r);
    std::optional<QuantSpec> specFor(int row) const;

    QThreadPool m_pool;
    std::shared_ptr<const Model> m_model;
    QString m_path;
    Plan m_plan;
    QVector<TensorResultPtr> m_results;
    QVector<quint64> m_revision; // bumped on every change of a row's precision
    std::vector<QuantizeJob*> m_jobs;
    quint64 m_openId = 0; // drops the result of an open superseded by a newer one
};

} // namespace qs
