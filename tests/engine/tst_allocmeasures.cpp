// The runtime-based distortion measures: activation statistics checked against hand
// calculations, their use as importance, the output measure's zero for lossless formats and its
// independence of threads, and costs reused from a stored record without running anything.
#include "alloc/act_stats.h"
#include "alloc/allocation.h"
#include "alloc/model_run.h"
#include "analysis/analyze.h"
#include "core/error.h"
#include "nn/conv2d.h"
#include "nn/dense.h"
#include "nn/elementwise.h"
#include "nn/keras_model.h"
#include "testutil.h"

#include <QTest>

#include <cmath>
#include <filesystem>

using namespace qs;
using namespace qs::alloc;
using qs::test::ThreadExecutor;

Q_DECLARE_METATYPE(std::vector<float>)

namespace {

const std::string kCnn = std::string(QS_TEST_DATA) + "/../../resources/models/fashion-mnist-cnn.h5";

nn::Conv2DOptions conv(std::int64_t kh, std::int64_t kw, std::int64_t stride, bool same)
{
    return {1, kh, kw, stride, stride, same, true, "linear"};
}

nn::Tensor images(Shape sampleShape, std::vector<float> values)
{
    const std::int64_t per = shapeNumel(sampleShape);
    nn::Tensor t(nn::batchShape(static_cast<std::int64_t>(values.size()) / per, sampleShape));
    t.data = std::move(values);
    return t;
}

bool haveRealModel()
{
    return std::filesystem::exists(kCnn) &&
           std::filesystem::exists("/usr/share/datasets/fashion-mnist");
}

} // namespace

class TestAllocMeasures : public QObject
{
    Q_OBJECT

private slots:
    // Each row: a one-layer model (plus Flatten for Dense), its input images, and the mean
    // squared im2col columns worked out by hand in the comments.
    void activationStatsByHand_data()
    {
        QTest::addColumn<int>("model");
        QTest::addColumn<std::vector<float>>("input");
        QTest::addColumn<std::vector<float>>("expected");
        // 2x2x2 image, channel 0 = 1 2 / 3 4, channel 1 = ten times that; 2x2 "same" kernel:
        // TensorFlow pads after, so the four im2col rows (ky,kx = 00 01 10 11) of channel 0 are
        // 1 2 3 4 | 2 0 4 0 | 3 4 0 0 | 4 0 0 0: means of squares 30/4, 20/4, 25/4, 16/4.
        // Columns run (ky, kx, c), as the kernel [kh, kw, cin, cout] stores its rows.
        QTest::addRow("conv 2x2 same, two channels")
            << 0 << std::vector<float>{1, 10, 2, 20, 3, 30, 4, 40}
            << std::vector<float>{7.5f, 750, 5, 500, 6.25f, 625, 4, 400};
        // 4x4 image 1..16, 2x2 stride 2 "valid": rows 1 2 5 6 | 3 4 7 8 | 9 10 13 14 |
        // 11 12 15 16, column means of squares 212/4, 264/4, 468/4, 552/4.
        std::vector<float> ramp(16);
        for (int i = 0; i < 16; ++i)
            ramp[std::size_t(i)] = float(i + 1);
        QTest::addRow("conv 2x2 stride 2 valid")
            << 1 << ramp << std::vector<float>{53, 66, 117, 138};
        // Flatten then Dense on two 2x2 images, 1 2 3 4 and twice that: per feature the mean
        // of x^2 over both, (1 + 4) / 2 * x^2.
        QTest::addRow("dense after flatten") << 2 << std::vector<float>{1, 2, 3, 4, 2, 4, 6, 8}
                                             << std::vector<float>{2.5f, 10, 22.5f, 40};
    }
    void activationStatsByHand()
    {
        QFETCH(int, model);
        QFETCH(std::vector<float>, input);
        QFETCH(std::vector<float>, expected);
        nn::Sequential m;
        Shape in;
        std::string tensor;
        if (model == 0) {
            m.add(std::make_unique<nn::Conv2D>("c", conv(2, 2, 1, true)));
            in = {2, 2, 2};
            tensor = "c/kernel:0";
        } else if (model == 1) {
            m.add(std::make_unique<nn::Conv2D>("c", conv(2, 2, 2, false)));
            in = {4, 4, 1};
            tensor = "c/kernel:0";
        } else {
            m.add(std::make_unique<nn::Flatten>("f"));
            m.add(std::make_unique<nn::Dense>("d", 3));
            in = {2, 2, 1};
            tensor = "d/kernel:0";
        }
        m.build(in);
        m.initialize(1);
        const ThreadExecutor two(2);
        const ActivationStats s =
            collectActivationStats(m, images(in, input), Control{&two, {}, {}});
        QCOMPARE(s.columns.size(), std::size_t(1));
        const auto* got = s.find(tensor);
        QVERIFY(got);
        QCOMPARE(*got, expected); // exact: small integers, sums in double
    }

    // A Keras kernel's input column is the memory index over the output count, unlike an
    // imatrix's innermost axis.
    void kerasColumnOrder()
    {
        TensorInfo t;
        t.name = "c/kernel:0";
        t.shape = {2, 2, 2, 3};
        const std::vector<float> cols{1, 2, 3, 4, 5, 6, 7, 8};
        const InputColumnWeights w(&cols, t, 0.5);
        for (std::int64_t i = 0; i < t.numel(); ++i)
            QCOMPARE(w.at(i), double(cols[std::size_t(i / 3)]));
        QCOMPARE(InputColumnWeights(nullptr, t, 0.5).at(7), 0.5);
        const std::vector<float> wrong(3, 1.0f);
        QVERIFY_THROWS_EXCEPTION(Error, InputColumnWeights(&wrong, t, 1.0));
    }

    void parsesMeasures_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("name"); // empty: refused
        QTest::addRow("mse") << "mse"
                             << "mse";
        QTest::addRow("act default") << "act"
                                     << "act:512";
        QTest::addRow("act 64") << "act:64"
                                << "act:64";
        QTest::addRow("output default") << "output"
                                        << "output:512";
        QTest::addRow("output 8") << "output:8"
                                  << "output:8";
        QTest::addRow("act zero") << "act:0"
                                  << "";
        QTest::addRow("act junk") << "act:12x"
                                  << "";
        QTest::addRow("actx") << "actx"
                              << "";
        QTest::addRow("unknown") << "kl"
                                 << "";
    }
    void parsesMeasures()
    {
        QFETCH(QString, text);
        QFETCH(QString, name);
        if (name.isEmpty()) {
            QVERIFY_THROWS_EXCEPTION(Error, parseMeasure(text.toStdString()));
            return;
        }
        const Measure m = parseMeasure(text.toStdString());
        QCOMPARE(QString::fromStdString(m.name()), name);
        if (m.runtime != Measure::Runtime::None)
            QVERIFY(m.key().find("fashion-mnist") != std::string::npos);
    }

    // act on the bundled CNN: the table's distortion of a tensor is exactly the weighted sum
    // over its elements, weight = the statistics of the element's input column.
    void actMeasureWeightsByInputColumn()
    {
        if (!haveRealModel()) QSKIP("needs the bundled CNN and Fashion-MNIST");
        const auto model = openModel(kCnn);
        const CandidateTable table =
            computeCandidates(*model, Plan{}, parseCandidates("int4@channel,int8@channel"),
                              parseMeasure("act:64"), Control{});
        QCOMPARE(table.measure, std::string("act:64"));
        const ActivationStats stats =
            collectActivationStats(nn::foldBatchNorm(nn::loadKerasModel(kCnn)),
                                   loadCalibrationImages("fashion-mnist", 64), Control{});
        QCOMPARE(stats.columns.size(), std::size_t(4));
        QCOMPARE(stats.find("conv2d_2/kernel:0")->size(), std::size_t(3 * 3 * 16));
        QCOMPARE(stats.find("dense_1/kernel:0")->size(), std::size_t(1568));
        QCOMPARE(table.tensors.size(), std::size_t(4)); // the four kernels
        for (const auto& e : table.tensors) {
            const TensorInfo& t = model->tensors[e.tensor];
            const auto* cols = stats.find(t.name);
            QVERIFY2(cols, t.name.c_str());
            const std::int64_t out = t.shape.back();
            std::vector<float> w(std::size_t(t.numel())), d(w.size());
            std::memcpy(w.data(), model->data(t).data(), w.size() * 4);
            for (const auto& o : e.options) {
                Plan p;
                p.tensors[t.name] = table.candidates[std::size_t(o.candidate)].precision;
                TensorQuantizer qz(model->data(t), t, *p.resolve(t));
                dequantizeTensor(qz, d.data(), Control{});
                double want = 0;
                for (std::size_t i = 0; i < w.size(); ++i) {
                    const double err = double(w[i]) - d[i];
                    want += (*cols)[i / std::size_t(out)] * err * err;
                }
                QVERIFY(o.distortion > 0);
                QVERIFY2(std::fabs(o.distortion - want) <= 1e-9 * want, t.name.c_str());
            }
        }
    }

    void outputMeasureZeroForLosslessAndThreadFree()
    {
        if (!haveRealModel()) QSKIP("needs the bundled CNN and Fashion-MNIST");
        const auto model = openModel(kCnn);
        const auto candidates = parseCandidates("fp32,int4@channel,int2@channel");
        const Measure m = parseMeasure("output:48");
        const ThreadExecutor one(1), two(2);
        const CandidateTable a =
            computeCandidates(*model, Plan{}, candidates, m, Control{&one, {}, {}});
        const CandidateTable b =
            computeCandidates(*model, Plan{}, candidates, m, Control{&two, {}, {}});
        QCOMPARE(a.tensors.size(), b.tensors.size());
        for (std::size_t i = 0; i < a.tensors.size(); ++i) {
            for (std::size_t k = 0; k < a.tensors[i].options.size(); ++k) {
                const Option &x = a.tensors[i].options[k], &y = b.tensors[i].options[k];
                QCOMPARE(x.distortion, y.distortion); // bit for bit
                if (x.candidate == 0)
                    QCOMPARE(x.distortion, 0.0);
                else
                    QVERIFY(x.distortion > 0);
            }
            // Fewer bits move the logits more.
            QVERIFY(a.tensors[i].options[2].distortion > a.tensors[i].options[1].distortion);
        }
    }

    // A stored record for the same request is used as it is: here the dataset does not exist,
    // so anything that tried to run the model would fail.
    void storedCostsSkipTheRuntime()
    {
        if (!haveRealModel()) QSKIP("needs the bundled CNN and Fashion-MNIST");
        const auto model = openModel(kCnn);
        const auto candidates = parseCandidates("int4@channel,int8@channel");
        Measure m = parseMeasure("act:16");
        const CandidateTable fresh = computeCandidates(*model, Plan{}, candidates, m, Control{});
        QCOMPARE(fresh.reused, std::size_t(0));
        const CostTableRecord rec = costRecord(*model, fresh, m.key(), Plan{}.toJson());
        QCOMPARE(rec.rows.size(), std::size_t(8));
        m.dataset = "/nonexistent/dataset";
        QVERIFY_THROWS_EXCEPTION(Error,
                                 computeCandidates(*model, Plan{}, candidates, m, Control{}));
        const CandidateTable again =
            computeCandidates(*model, Plan{}, candidates, m, Control{}, {}, &rec);
        QCOMPARE(again.reused, std::size_t(8));
        for (std::size_t i = 0; i < fresh.tensors.size(); ++i)
            for (std::size_t k = 0; k < fresh.tensors[i].options.size(); ++k) {
                QCOMPARE(again.tensors[i].options[k].bytes, fresh.tensors[i].options[k].bytes);
                QCOMPARE(again.tensors[i].options[k].distortion,
                         fresh.tensors[i].options[k].distortion);
            }
        // A row whose bytes no longer match is computed again (and here fails to run).
        CostTableRecord stale = rec;
        stale.rows[0].bytes += 1;
        QVERIFY_THROWS_EXCEPTION(
            Error, computeCandidates(*model, Plan{}, candidates, m, Control{}, {}, &stale));
    }

    void refusesModelsItCannotRun()
    {
        const auto model = openModel(QS_EXAMPLE_MODEL);
        try {
            computeCandidates(*model, Plan{}, parseCandidates("int8"), parseMeasure("act:4"),
                              Control{});
            QFAIL("act ran on a model the runtime cannot run");
        } catch (const Error& e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains("needs a model the runtime can run"),
                     e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestAllocMeasures)
#include "tst_allocmeasures.moc"
