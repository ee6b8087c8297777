// Activation quantization (the int8 grid, percentile and TensorRT-style entropy ranges) and
// evaluateModel on a small trained classifier saved as a Keras file.
#include "nn/act_quant.h"
#include "nn/architectures.h"
#include "nn/evaluate.h"
#include "nn/keras_model.h"
#include "nn/train.h"
#include "plan/plan.h"
#include "nntestutil.h"

#include <QTemporaryDir>

using namespace qs;
using namespace qs::nn;

namespace {

// 8x8 images: class 0 bright on the left half, class 1 on the right, over seeded noise.
data::ImageSet halves(std::int64_t count, unsigned seed)
{
    data::ImageSet s;
    s.count = count;
    s.height = s.width = 8;
    s.images.resize(static_cast<std::size_t>(count * 64));
    s.labels.resize(static_cast<std::size_t>(count));
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(0.0f, 0.5f);
    for (std::int64_t i = 0; i < count; ++i) {
        s.labels[i] = static_cast<std::uint8_t>(i % 2);
        for (int p = 0; p < 64; ++p)
            s.images[i * 64 + p] = u(rng) + ((p % 8 < 4) == (i % 2 == 0) ? 0.5f : 0.0f);
    }
    return s;
}

} // namespace

class TestNnEvaluate : public QObject
{
    Q_OBJECT

private slots:
    void fakeQuantizeGrid()
    {
        // Over [-1, 1.55]: scale 0.01, zero point round(-128 + 100) = -28. Values on the grid
        // come back unchanged (to float rounding), zero exactly, and values outside clamp to
        // the ends of the grid, -1 and 1.55.
        std::vector<float> v{0.0f, 0.25f, -0.5f, 1.0f, -3.0f, 9.0f};
        fakeQuantize(v, {-1.0f, 1.55f});
        QCOMPARE(v[0], 0.0f);
        QVERIFY(std::abs(v[1] - 0.25f) < 1e-6f);
        QVERIFY(std::abs(v[2] + 0.5f) < 1e-6f);
        QVERIFY(std::abs(v[3] - 1.0f) < 1e-6f);
        QVERIFY(std::abs(v[4] + 1.0f) < 1e-6f);
        QVERIFY(std::abs(v[5] - 1.55f) < 1e-6f);
    }

    void percentileRange()
    {
        // 0..999: the 1st and 99th percentiles of the sorted values are elements 9 and 989.
        RangeCalibrator c;
        std::vector<float> v(1000);
        for (int i = 0; i < 1000; ++i)
            v[i] = static_cast<float>((i * 7919) % 1000); // a permutation of 0..999
        c.add(v);
        const Range r = c.range(CalibrationMethod::Percentile, 99.0);
        QCOMPARE(r.lo, 9.0f);
        QCOMPARE(r.hi, 989.0f);
        const Range m = c.range(CalibrationMethod::MinMax);
        QCOMPARE(m.lo, 0.0f);
        QCOMPARE(m.hi, 999.0f);
    }

    void entropyKeepsAUniformRange()
    {
        // A flat histogram is represented with no loss by any 128-level grid over all of it,
        // while cutting it off folds mass into the last bin: the threshold is the whole range.
        const std::vector<double> flat(2048, 10.0);
        QCOMPARE(entropyThreshold(flat, 1.0), 2048.5);
    }

    void entropyClipsRareOutliers()
    {
        // Mass on the first 256 bins and a single count far out at bin 2000: the threshold
        // lands well below the outlier (min/max would keep it and waste most of the grid).
        std::vector<double> h(2048, 0.0);
        for (int i = 0; i < 256; ++i)
            h[i] = 1000.0 - 3.0 * i;
        h[2000] = 1.0;
        const double t = entropyThreshold(h, 1.0);
        QVERIFY2(t >= 128 && t < 600, qPrintable(QString::number(t)));
    }

    void evaluateTrainedModel()
    {
        QTemporaryDir dir;
        const std::string path = dir.path().toStdString() + "/halves.h5";
        const auto trainSet = halves(200, 1), testSet = halves(100, 2);
        Sequential m = makeArchitecture("cnn", {8, 8, 1}, 2);
        m.initialize(2);
        Adam opt;
        TrainOptions t;
        t.epochs = 2;
        t.batchSize = 20;
        t.learningRate = 3e-3f;
        train(m, opt, trainSet, nullptr, t);
        saveKerasModel(m, path);

        EvaluateOptions o;
        const EvaluateResult same = evaluateModel(path, testSet, trainSet, o);
        QCOMPARE(same.images, 100);
        QCOMPARE(same.agreement, 1.0);
        QCOMPARE(same.accuracy, same.referenceAccuracy);
        QCOMPARE(same.kl, 0.0);
        QCOMPARE(same.layers.size(), m.size() - 2); // batch norms folded
        for (const auto& l : same.layers)
            QVERIFY(std::isinf(l.outputSqnrDb));

        const Plan plan = Plan::uniform(Precision("int8", Granularity::parse("channel")));
        o.plan = &plan;
        o.activations = ActivationMode::Static;
        o.calibration = CalibrationMethod::Entropy;
        o.calibrationSamples = 64;
        const EvaluateResult q = evaluateModel(path, testSet, trainSet, o);
        QCOMPARE(q.quantizedTensors, 4); // two conv and two dense kernels (biases are 1-D)
        QVERIFY(q.kl > 0);
        // int8 weights and activations on a two-class problem: nearly every prediction stays.
        QVERIFY2(q.agreement >= 0.95, qPrintable(QString::number(q.agreement)));
        for (const auto& l : q.layers)
            QVERIFY2(std::isfinite(l.outputSqnrDb) && l.outputSqnrDb > 10,
                     qPrintable(QString::fromStdString(l.name) + QStringLiteral(" ") +
                                QString::number(l.outputSqnrDb)));

        o.activations = ActivationMode::Dynamic;
        const EvaluateResult d = evaluateModel(path, testSet, trainSet, o);
        QVERIFY(d.agreement >= 0.95);
    }
};

QTEST_GUILESS_MAIN(TestNnEvaluate)
#include "tst_nnevaluate.moc"
