#include "evaluatejob.h"

#include "pooltask.h"

#include "core/error.h"
#include "nn/keras_model.h"
#include "nn/qat.h"

#include <QFutureWatcher>
#include <QPromise>
#include <QTemporaryDir>

#include <algorithm>
#include <limits>
#include <mutex>

namespace qs {

struct EvaluateJob::DatasetCache
{
    std::mutex mutex;
    std::string directory;
    std::shared_ptr<const data::Dataset> dataset;

    std::shared_ptr<const data::Dataset> get(const std::string& name)
    {
        const std::lock_guard lock(mutex);
        if (!dataset || directory != name) {
            dataset = std::make_shared<const data::Dataset>(data::loadDataset(name));
            directory = name;
        }
        return dataset;
    }
};

namespace {

data::ImageSet firstImages(const data::ImageSet& set, std::int64_t count)
{
    data::ImageSet out;
    out.count = std::min(count, set.count);
    out.height = set.height;
    out.width = set.width;
    const std::int64_t pixels = set.height * set.width;
    out.images.assign(set.images.begin(), set.images.begin() + out.count * pixels);
    out.labels.assign(set.labels.begin(), set.labels.begin() + out.count);
    return out;
}

// What one request evaluates, in the order of its rows.
std::vector<EvaluateRow> rowsOf(const EvaluateRequest& r, std::vector<Plan>& plans)
{
    std::vector<EvaluateRow> rows;
    if (r.kind == EvaluateRequest::Kind::BitsSweep) {
        for (int b : r.bits) {
            const QString name = QStringLiteral("int%1").arg(b);
            plans.push_back(Plan::uniform(
                Precision(name.toStdString(), Granularity{Granularity::Kind::Channel, 0})));
            rows.push_back({name, name, false, nn::ActivationMode::None, b, false, {}});
        }
        return rows;
    }
    rows.push_back({QStringLiteral("FP32"), {}, true, nn::ActivationMode::None, 0, false, {}});
    plans.emplace_back(); // unused by the float row, keeps the indices aligned
    for (const auto& p : r.plans)
        for (nn::ActivationMode m : r.modes) {
            plans.push_back(p.plan);
            rows.push_back({p.name + QStringLiteral(" · ") + activationModeName(m), p.name, false, m,
                            0, false, {}});
        }
    if (r.qat)
        for (const auto& p : r.plans) {
            plans.push_back(p.plan);
            rows.push_back({p.name + QStringLiteral(" · QAT"), p.name, false,
                            nn::ActivationMode::None, 0, true, {}});
        }
    return rows;
}

// The request's model when the runtime can run it on Fashion-MNIST, else the fallback.
void chooseModel(const EvaluateRequest& request, EvaluateResults& results)
{
    results.modelPath = request.modelPath;
    QString reason;
    if (request.modelPath.isEmpty()) {
        reason = QObject::tr("no model is open");
    } else {
        try {
            const nn::Sequential m = nn::loadKerasModel(request.modelPath.toStdString());
            if (m.inputShape() != Shape{28, 28, 1})
                reason = QObject::tr("it does not take 28x28x1 images");
        } catch (const Error& e) {
            reason = QString::fromUtf8(e.what());
        }
    }
    if (reason.isEmpty() || request.fallbackModelPath.isEmpty()) return;
    results.modelPath = request.fallbackModelPath;
    results.fallbackReason = reason;
}

// The model fine-tuned with the plan's weights fake-quantized (qat's own loop, shortened),
// saved in `dir` so that it is evaluated exactly as the command line evaluates a qat output.
std::string fineTuned(const std::string& path, const Plan& plan, const data::ImageSet& train,
                      const EvaluateRequest& request, const QTemporaryDir& dir)
{
    if (!dir.isValid()) throw Error("cannot create a temporary directory for fine-tuning");
    nn::Sequential model = nn::loadKerasModel(path);
    nn::QatOptions options;
    options.epochs = request.qatEpochs;
    options.learningRate = 1e-3f; // the rate the measured int2 recovery used
    options.batchNormSamples = std::min<std::int64_t>(2048, request.qatImages);
    nn::quantAwareTrain(model, path, plan, firstImages(train, request.qatImages), options);
    const std::string out = dir.filePath(QStringLiteral("qat.h5")).toStdString();
    nn::saveKerasModel(model, out);
    return out;
}

// evaluateModel compares a model with its own float weights; a fine-tuned model's are not the
// FP32 model's, so a QAT row's agreement and disagreements are taken against the FP32 row's
// predictions instead. Its KL would need the FP32 softmax outputs, which are not kept: NaN.
void againstFloatRow(nn::EvaluateResult& r, const nn::EvaluateResult& fp32)
{
    r.referencePredictions = fp32.predictions;
    r.referenceAccuracy = fp32.accuracy;
    std::size_t same = 0;
    const std::size_t n = std::min(r.predictions.size(), fp32.predictions.size());
    for (std::size_t i = 0; i < n; ++i)
        same += r.predictions[i] == fp32.predictions[i];
    r.agreement = n ? static_cast<double>(same) / static_cast<double>(n) : 0.0;
    r.kl = std::numeric_limits<double>::quiet_NaN();
}

void evaluateAll(QPromise<EvaluateResultsPtr>& promise, const EvaluateRequest& request,
                 const std::shared_ptr<EvaluateJob::DatasetCache>& cache)
{
    auto results = std::make_shared<EvaluateResults>();
    results->kind = request.kind;
    chooseModel(request, *results);
    std::vector<Plan> plans;
    results->rows = rowsOf(request, plans);
    const auto dataset = cache->get(request.datasetDirectory.toStdString());
    auto test = std::make_shared<data::ImageSet>(firstImages(dataset->test, request.images));
    results->test = test;
    const data::ImageSet calibration = firstImages(dataset->train, request.calibrationImages);
    const int perRow = static_cast<int>(test->count);
    promise.setProgressRange(0, perRow * static_cast<int>(results->rows.size()));
    for (std::size_t i = 0; i < results->rows.size(); ++i) {
        EvaluateRow& row = results->rows[i];
        nn::EvaluateOptions o;
        o.plan = row.isFloat ? nullptr : &plans[i];
        o.activations = row.mode;
        o.calibrationSamples = request.calibrationImages;
        const int before = perRow * static_cast<int>(i);
        o.batchDone = [&promise, before](std::int64_t done) {
            promise.setProgressValue(before + static_cast<int>(done));
            return !promise.isCanceled();
        };
        try {
            std::string path = results->modelPath.toStdString();
            QTemporaryDir tuned; // holds the fine-tuned model of a QAT row
            if (row.qat) path = fineTuned(path, plans[i], dataset->train, request, tuned);
            row.result = nn::evaluateModel(path, *test, calibration, o);
            if (row.qat && !results->rows.empty() && results->rows[0].isFloat)
                againstFloatRow(row.result, results->rows[0].result);
        } catch (const Error&) {
            if (promise.isCanceled()) return; // batchDone stopped it: nothing to report
            throw;
        }
    }
    promise.addResult(EvaluateResultsPtr(std::move(results)));
}

// Engine errors travel as a result: QtConcurrent would wrap them in QUnhandledException.
void run(QPromise<EvaluateResultsPtr>& promise, const EvaluateRequest& request,
         const std::shared_ptr<EvaluateJob::DatasetCache>& cache)
{
    try {
        evaluateAll(promise, request, cache);
    } catch (const Error& e) {
        auto failure = std::make_shared<EvaluateResults>();
        failure->error = QString::fromUtf8(e.what());
        promise.addResult(EvaluateResultsPtr(std::move(failure)));
    }
}

} // namespace

QString activationModeName(nn::ActivationMode mode)
{
    switch (mode) {
    case nn::ActivationMode::None:
        return QStringLiteral("weight-only");
    case nn::ActivationMode::Dynamic:
        return QStringLiteral("dynamic");
    case nn::ActivationMode::Static:
        return QStringLiteral("static");
    }
    return {};
}

QString fashionClassName(int label)
{
    static const char* const names[] = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                        "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                        "Bag",         "Ankle boot"};
    return label >= 0 && label < 10 ? QString::fromLatin1(names[label]) : QString::number(label);
}

std::vector<int> confusionCounts(const EvaluateResults& results, const EvaluateRow& row)
{
    std::vector<int> counts(100, 0);
    if (!results.test) return counts;
    const auto& labels = results.test->labels;
    const auto& predicted = row.isFloat ? row.result.referencePredictions : row.result.predictions;
    for (std::size_t i = 0; i < std::min(labels.size(), predicted.size()); ++i)
        if (labels[i] < 10 && predicted[i] < 10) ++counts[labels[i] * 10u + predicted[i]];
    return counts;
}

EvaluateJob::EvaluateJob(QObject* parent)
    : QObject(parent), m_cache(std::make_shared<DatasetCache>())
{
    qRegisterMetaType<EvaluateResultsPtr>();
}

EvaluateJob::~EvaluateJob()
{
    m_future.cancel();
    try {
        m_future.waitForFinished(); // stops within one batch of images
    } catch (...) {
        // A failure nobody is left to hear about.
    }
}

quint64 EvaluateJob::start(const EvaluateRequest& request)
{
    m_future.cancel();
    const quint64 id = ++m_id;
    m_future = runTask<EvaluateResultsPtr>(
        QThreadPool::globalInstance(),
        [request, cache = m_cache](QPromise<EvaluateResultsPtr>& promise) {
            run(promise, request, cache);
        });
    auto* watcher = new QFutureWatcher<EvaluateResultsPtr>(this);
    connect(watcher, &QFutureWatcherBase::progressValueChanged, this, [this, id, watcher](int v) {
        if (id == m_id) emit progress(v, watcher->progressMaximum());
    });
    // A watcher rather than QFuture::then: Qt 6.4 cancels a finished future's continuation
    // through a dangling pointer, which crashed when a job was cancelled or destroyed.
    connect(watcher, &QFutureWatcherBase::finished, this, [this, id, watcher] {
        watcher->deleteLater();
        const QFuture<EvaluateResultsPtr> f = watcher->future();
        if (id != m_id) return; // cancelled or superseded: stale
        finish(id);
        // Not cancelled by us (that changes the id): an exception other than qs::Error.
        if (f.isCanceled() || f.resultCount() == 0) {
            emit failed(id, tr("The evaluation failed unexpectedly."));
            return;
        }
        const EvaluateResultsPtr r = f.result();
        if (r->error.isEmpty())
            emit resultReady(id, r);
        else
            emit failed(id, r->error);
    });
    watcher->setFuture(m_future);
    if (!m_running) {
        m_running = true;
        emit runningChanged(true);
    }
    return id;
}

void EvaluateJob::cancel()
{
    m_future.cancel();
    ++m_id; // whatever the cancelled work still delivers is stale
    if (m_running) {
        m_running = false;
        emit runningChanged(false);
    }
}

void EvaluateJob::finish(quint64 id)
{
    if (id == m_id && m_running) {
        m_running = false;
        emit runningChanged(false);
    }
}

} // namespace qs
