// Background accuracy measurement of a Keras classifier on Fashion-MNIST: the float model and
// every requested plan x activation mode, or a sweep of per-channel integer widths.
#pragma once

#include "data/idx.h"
#include "nn/evaluate.h"
#include "plan/plan.h"

#include <QFuture>
#include <QObject>
#include <QString>

#include <memory>
#include <vector>

namespace qs {

struct EvaluateRequest
{
    enum class Kind { Table, BitsSweep };
    Kind kind = Kind::Table;
    QString modelPath;
    // Evaluated instead when modelPath is not a Keras classifier of 28x28x1 images that the
    // runtime can load (tried in the background: loading may take a while).
    QString fallbackModelPath;
    struct NamedPlan
    {
        QString name;
        Plan plan;
    };
    std::vector<NamedPlan> plans;               // Table: each evaluated in every mode
    std::vector<nn::ActivationMode> modes;      // Table
    std::vector<int> bits{8, 7, 6, 5, 4, 3, 2}; // BitsSweep: int<b> per channel, weight-only
    // Table: also each plan after quantization-aware fine-tuning (weight-only), on the first
    // qatImages training images for qatEpochs epochs: a short run, to show the recovery.
    bool qat = false;
    std::int64_t qatImages = 4000;
    int qatEpochs = 1;
    std::int64_t images = 2000;                 // the first ones of the test set
    std::int64_t calibrationImages = 512;       // the first ones of the training set
    QString datasetDirectory = QStringLiteral("fashion-mnist"); // see data::resolveDatasetDirectory
};

struct EvaluateRow
{
    QString label; // "FP32", "A · dynamic", "int4"
    QString plan;  // empty for the float row
    bool isFloat = false;
    nn::ActivationMode mode = nn::ActivationMode::None;
    int bits = 0; // BitsSweep rows
    bool qat = false; // evaluated after quantization-aware fine-tuning
    nn::EvaluateResult result;
};

struct EvaluateResults
{
    EvaluateRequest::Kind kind = EvaluateRequest::Kind::Table;
    QString modelPath;      // the model evaluated
    QString fallbackReason; // why the request's fallback was evaluated; empty when it was not
    QString error; // set instead of rows when the evaluation failed (delivered as failed())
    std::shared_ptr<const data::ImageSet> test; // the evaluated images, for thumbnails
    std::vector<EvaluateRow> rows;
};
using EvaluateResultsPtr = std::shared_ptr<const EvaluateResults>;

QString activationModeName(nn::ActivationMode mode); // "weight-only", "dynamic", "static"
// The Fashion-MNIST class of a label, "T-shirt/top" .. "Ankle boot".
QString fashionClassName(int label);
// counts[truth * 10 + predicted] over a row's images.
std::vector<int> confusionCounts(const EvaluateResults& results, const EvaluateRow& row);

class EvaluateJob : public QObject
{
    Q_OBJECT
public:
    explicit EvaluateJob(QObject* parent = nullptr);
    ~EvaluateJob() override; // cancels and waits: the work reads this job's dataset cache

    // Starts a request and returns its id; a newer request supersedes a running one, whose
    // result is dropped.
    quint64 start(const EvaluateRequest& request);
    void cancel(); // the current request reports nothing more
    bool isRunning() const { return m_running; }
    quint64 currentId() const { return m_id; }

    // Loaded once and shared with the workers: the training split alone is 188 MB of floats
    // and takes a second to decode.
    struct DatasetCache;

signals:
    void progress(int done, int total); // images evaluated over all evaluations of the request
    void resultReady(quint64 id, qs::EvaluateResultsPtr results);
    void failed(quint64 id, const QString& message);
    void runningChanged(bool running);

private:
    void finish(quint64 id);

    quint64 m_id = 0;
    bool m_running = false;
    QFuture<EvaluateResultsPtr> m_future;
    std::shared_ptr<DatasetCache> m_cache;
};

} // namespace qs

Q_DECLARE_METATYPE(qs::EvaluateResultsPtr)
