#include "learn/accuracyrun.h"

#include "core/error.h"
#include "data/idx.h"
#include "nn/keras_model.h"
#include "nn/qat.h"

#include <QPromise>
#include <QTemporaryDir>
#include <QtConcurrent>

#include <algorithm>

namespace qs {

namespace {

constexpr std::int64_t kCalibrationImages = 512;

data::ImageSet slice(const data::ImageSet& set, std::int64_t first, std::int64_t count)
{
    data::ImageSet out;
    out.count = count;
    out.height = set.height;
    out.width = set.width;
    const std::int64_t pixels = set.height * set.width;
    out.images.assign(set.images.begin() + first * pixels,
                      set.images.begin() + (first + count) * pixels);
    out.labels.assign(set.labels.begin() + first, set.labels.begin() + first + count);
    return out;
}

// The classifier fine-tuned with `plan`'s weights fake-quantized (the qat command's loop, one
// epoch on a training subset), saved in `dir` to be evaluated like any model file.
std::string fineTuned(const std::string& modelPath, const Plan& plan, const std::string& dataDir,
                      const QTemporaryDir& dir)
{
    if (!dir.isValid()) throw Error("cannot create a temporary directory for fine-tuning");
    const data::ImageSet train =
        slice(data::loadImageSet(data::datasetFile(dataDir, "train-images-idx3-ubyte"),
                                 data::datasetFile(dataDir, "train-labels-idx1-ubyte")),
              0, kQatImages);
    nn::Sequential model = nn::loadKerasModel(modelPath);
    nn::QatOptions options;
    options.epochs = 1;
    options.learningRate = 1e-3f;
    options.batchNormSamples = 2048;
    nn::quantAwareTrain(model, modelPath, plan, train, options);
    const std::string out = dir.filePath(QStringLiteral("qat.h5")).toStdString();
    nn::saveKerasModel(model, out);
    return out;
}

void run(QPromise<AccuracyResults>& promise, const std::string& modelPath,
         const std::vector<AccuracySetting>& settings, std::int64_t images)
{
    AccuracyResults results;
    promise.setProgressRange(0, static_cast<int>(settings.size()));
    try {
        const std::string dir = data::resolveDatasetDirectory("fashion-mnist");
        const data::ImageSet all =
            data::loadImageSet(data::datasetFile(dir, "t10k-images-idx3-ubyte"),
                               data::datasetFile(dir, "t10k-labels-idx1-ubyte"));
        if (all.count < images + kCalibrationImages)
            throw Error("the Fashion-MNIST test set is smaller than expected");
        const data::ImageSet test = slice(all, 0, images);
        const data::ImageSet calibration =
            slice(all, all.count - kCalibrationImages, kCalibrationImages);
        for (std::size_t i = 0; i < settings.size(); ++i) {
            if (promise.isCanceled()) return;
            const AccuracySetting& s = settings[i];
            std::optional<Plan> plan;
            nn::EvaluateOptions o;
            if (s.weights) {
                plan = Plan::uniform(*s.weights);
                o.plan = &*plan;
            }
            o.activations = s.activations;
            o.calibration = s.calibration;
            o.calibrationSamples = kCalibrationImages;
            QTemporaryDir tuned;
            const std::string path =
                s.qat && plan ? fineTuned(modelPath, *plan, dir, tuned) : modelPath;
            const nn::EvaluateResult r = nn::evaluateModel(path, test, calibration, o);
            results.images = r.images;
            // A QAT row's reference is its own fine-tuned float model: the float bar is the
            // classifier as trained.
            if (!s.qat) results.floatAccuracy = r.referenceAccuracy;
            results.rows.push_back({s.label, r.accuracy, r.layers});
            promise.setProgressValue(static_cast<int>(i + 1));
        }
    } catch (const Error& e) {
        results.rows.clear();
        results.error = QString::fromUtf8(e.what());
    }
    promise.addResult(results);
}

} // namespace

QFuture<AccuracyResults> runAccuracy(const QString& modelPath,
                                     const std::vector<AccuracySetting>& settings,
                                     std::int64_t images)
{
    return QtConcurrent::run(run, modelPath.toStdString(), settings, images);
}

} // namespace qs
