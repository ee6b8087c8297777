// Training: bit-identical results for any thread count, and learning on a small separable
// problem.
#include "nn/architectures.h"
#include "nn/train.h"
#include "nntestutil.h"

using namespace qs;
using namespace qs::nn;

namespace {

// 8x8 images of three classes: a bright horizontal bar (0), vertical bar (1) or diagonal (2)
// at a seeded position, over seeded noise.
data::ImageSet bars(std::int64_t count, unsigned seed)
{
    data::ImageSet s;
    s.count = count;
    s.height = s.width = 8;
    s.images.resize(static_cast<std::size_t>(count * 64));
    s.labels.resize(static_cast<std::size_t>(count));
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> noise(0.0f, 0.3f);
    for (std::int64_t i = 0; i < count; ++i) {
        const int label = static_cast<int>(i % 3);
        const int at = static_cast<int>(rng() % 6) + 1;
        float* img = s.images.data() + i * 64;
        for (int p = 0; p < 64; ++p)
            img[p] = noise(rng);
        for (int k = 0; k < 8; ++k) {
            const int y = label == 0 ? at : k, x = label == 1 ? at : k;
            img[y * 8 + x] = 1.0f;
        }
        s.labels[i] = static_cast<std::uint8_t>(label);
    }
    return s;
}

std::vector<std::vector<float>> trainedWeights(const Executor* executor, const std::string& arch)
{
    const auto set = bars(45, 1); // batches of 40 and 5: three chunks, then one
    Sequential m = makeArchitecture(arch, {8, 8, 1}, 3);
    m.initialize(3);
    Adam opt;
    TrainOptions o;
    o.epochs = 2;
    o.batchSize = 40;
    o.seed = 17;
    o.flip = true;
    o.executor = executor;
    train(m, opt, set, nullptr, o);
    std::vector<std::vector<float>> w;
    for (const Param* p : m.params())
        w.push_back(p->value);
    return w;
}

} // namespace

class TestNnTrain : public QObject
{
    Q_OBJECT

private slots:
    void sameBitsForAnyThreadCount_data()
    {
        QTest::addColumn<QString>("arch");
        QTest::addRow("cnn") << "cnn";
        QTest::addRow("mlp") << "mlp";
    }
    void sameBitsForAnyThreadCount()
    {
        QFETCH(QString, arch);
        const auto serial = trainedWeights(nullptr, arch.toStdString());
        for (int threads : {2, 3}) {
            const test::ThreadExecutor pool(threads);
            QVERIFY(trainedWeights(&pool, arch.toStdString()) == serial);
        }
    }

    void seedChangesTheResult()
    {
        // The check above would pass trivially if training ignored its inputs.
        const auto a = trainedWeights(nullptr, "mlp");
        const auto set = bars(45, 1);
        Sequential m = makeArchitecture("mlp", {8, 8, 1}, 3);
        m.initialize(4);
        Adam opt;
        TrainOptions o;
        o.epochs = 2;
        o.batchSize = 40;
        o.seed = 17;
        o.flip = true;
        train(m, opt, set, nullptr, o);
        QVERIFY(m.params().front()->value != a.front());
    }

    void learnsSeparableProblem()
    {
        const auto trainSet = bars(300, 1), testSet = bars(90, 2);
        Sequential m = makeArchitecture("cnn", {8, 8, 1}, 3);
        m.initialize(1);
        const double before = accuracy(m, testSet, nullptr);
        Adam opt;
        TrainOptions o;
        o.epochs = 4;
        o.batchSize = 32;
        o.learningRate = 3e-3f;
        const test::ThreadExecutor pool(2);
        o.executor = &pool;
        std::vector<double> losses;
        o.epochDone = [&](const EpochReport& r) { losses.push_back(r.loss); };
        const auto reports = train(m, opt, trainSet, &testSet, o);
        QCOMPARE(reports.size(), std::size_t{4});
        QVERIFY2(losses.back() < 0.5 * losses.front(), qPrintable(QString::number(losses.back())));
        QVERIFY2(reports.back().testAccuracy > 0.95,
                 qPrintable(QStringLiteral("before %1, after %2").arg(before).arg(reports.back().testAccuracy)));
    }

    void rejectsMismatchedImages()
    {
        const auto set = bars(10, 1);
        Sequential m = makeArchitecture("mlp", {9, 9, 1}, 3);
        m.initialize(1);
        Adam opt;
        test::expectError([&] { train(m, opt, set, nullptr, {}); }, {"[8, 8, 1]", "[9, 9, 1]"});
    }
};

QTEST_GUILESS_MAIN(TestNnTrain)
#include "tst_nntrain.moc"
