// Keras 2 HDF5 models: the forward pass of files h5py wrote (tests/data/make_nn_fixtures.py)
// against PyTorch's on the same weights, the save/load round trip, files we write read back
// by h5py + PyTorch, batch-norm folding, and the loader's errors.
#include "nn/architectures.h"
#include "nn/batchnorm.h"
#include "nn/keras_config.h"
#include "nn/keras_model.h"
#include "nntestutil.h"

#include <QProcess>
#include <QTemporaryDir>

#include <nlohmann/json.hpp>

using namespace qs;
using namespace qs::nn;

namespace {

// PyTorch computes the reference in float64; ours is float32 through a dozen layers with
// outputs of order one, so 1e-5 leaves room for float rounding and nothing else.
constexpr float kParityTol = 1e-5f;

Tensor fixtureInput(const std::string& model)
{
    const auto manifest = nlohmann::json::parse(test::readAll(test::nnFixture("nn_fixtures.json")));
    Tensor x;
    x.shape = manifest["models"][model]["input_shape"].get<Shape>();
    x.data = test::readFloats(test::nnFixture(model + ".input.f32"));
    return x;
}

float maxAbsDiff(const std::vector<float>& a, const std::vector<float>& b)
{
    if (a.size() != b.size()) return INFINITY;
    float m = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        m = std::max(m, std::abs(a[i] - b[i]));
    return m;
}

// Runs the fixture script's --check on a file we wrote; skips without python3 + h5py + torch.
void checkWithPython(const std::string& model, const Tensor& x, const Tensor& y,
                     const QString& dir)
{
    const QString python = QStringLiteral("/usr/bin/python3");
    QProcess probe;
    probe.start(python, {QStringLiteral("-c"), QStringLiteral("import h5py, torch")});
    if (!probe.waitForFinished(120000) || probe.exitCode() != 0)
        QSKIP("/usr/bin/python3 with h5py and torch is not available");
    const std::string in = dir.toStdString() + "/x.f32", out = dir.toStdString() + "/y.f32";
    test::writeFile(in, test::floatBytes(x.data));
    test::writeFile(out, test::floatBytes(y.data));
    QString shape;
    for (const auto d : x.shape)
        shape += (shape.isEmpty() ? QString() : QStringLiteral("x")) + QString::number(d);
    QProcess p;
    p.start(python, {QString::fromUtf8(QS_TEST_DATA) + QStringLiteral("/make_nn_fixtures.py"),
                     QStringLiteral("--check"), QString::fromStdString(model),
                     QString::fromStdString(in), QString::fromStdString(out), shape});
    QVERIFY(p.waitForFinished(300000));
    QVERIFY2(p.exitCode() == 0,
             (p.readAllStandardOutput() + p.readAllStandardError()).constData());
}

} // namespace

class TestNnModel : public QObject
{
    Q_OBJECT

private slots:
    void parityWithPyTorch_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addRow("cnn") << "cnn";
        QTest::addRow("mlp") << "mlp";
    }
    void parityWithPyTorch()
    {
        QFETCH(QString, model);
        const std::string name = model.toStdString();
        Sequential m = loadKerasModel(test::nnFixture(name + ".h5"));
        const Tensor x = fixtureInput(name);
        const auto expected = test::readFloats(test::nnFixture(name + ".output.f32"));
        const Tensor& y = m.forward(x, {});
        QVERIFY2(maxAbsDiff(y.data, expected) < kParityTol,
                 qPrintable(QString::number(maxAbsDiff(y.data, expected))));
        // The same through worker threads (the batch is cut into chunks either way).
        const test::ThreadExecutor pool(3);
        const Tensor& y3 = m.forward(x, {&pool});
        QCOMPARE(y3.data, std::vector<float>(y.data));
    }

    void roundTrip()
    {
        QTemporaryDir dir;
        const std::string path = dir.path().toStdString() + "/saved.h5";
        Sequential a = loadKerasModel(test::nnFixture("cnn.h5"));
        saveKerasModel(a, path);
        Sequential b = loadKerasModel(path);
        QCOMPARE(kerasModelConfig(b).dump(), kerasModelConfig(a).dump());
        const auto pa = a.params(), pb = b.params();
        QCOMPARE(pb.size(), pa.size());
        for (std::size_t i = 0; i < pa.size(); ++i) {
            QCOMPARE(pb[i]->shape, pa[i]->shape);
            QCOMPARE(pb[i]->value, pa[i]->value);
        }
        const Tensor x = fixtureInput("cnn");
        const Tensor y = a.forward(x, {});
        QCOMPARE(b.forward(x, {}).data, y.data);
        checkWithPython(path, x, y, dir.path());
    }

    void savedTrainingArchitectureReadsInPython()
    {
        // The classifier `train` writes, with Keras's initialisers and non-trivial batch-norm
        // statistics, read back and run by h5py + PyTorch.
        QTemporaryDir dir;
        Sequential m = makeArchitecture("cnn", {12, 12, 1}, 10);
        m.initialize(5);
        for (Param* p : m.params())
            if (p->name == "moving_mean" || p->name == "beta")
                for (std::size_t i = 0; i < p->value.size(); ++i)
                    p->value[i] = 0.1f * static_cast<float>(i % 7) - 0.3f;
        const std::string path = dir.path().toStdString() + "/cnn.h5";
        saveKerasModel(m, path);
        const Tensor x = test::uniformTensor({3, 12, 12, 1}, 4);
        const Tensor y = m.forward(x, {});
        checkWithPython(path, x, y, dir.path());
    }

    void foldedBatchNormMatches()
    {
        Sequential m = makeArchitecture("cnn", {10, 10, 1}, 4);
        m.initialize(9);
        unsigned seed = 20;
        for (Param* p : m.params()) {
            const Tensor r = test::uniformTensor({static_cast<std::int64_t>(p->value.size())}, seed++);
            for (std::size_t i = 0; i < p->value.size(); ++i)
                p->value[i] += p->name == "moving_variance" ? std::abs(r.data[i]) : 0.3f * r.data[i];
        }
        Sequential folded = foldBatchNorm(m);
        QCOMPARE(folded.size(), m.size() - 2); // both conv blocks lose their batch norm
        for (std::size_t i = 0; i < folded.size(); ++i)
            QVERIFY(folded.layer(i).className() != "BatchNormalization");
        const Tensor x = test::uniformTensor({5, 10, 10, 1}, 3);
        const Tensor y = m.forward(x, {});
        const Tensor yf = folded.forward(x, {});
        // Folding reorders float operations; logits of order one agree to float rounding.
        QVERIFY2(maxAbsDiff(y.data, yf.data) < 1e-4f,
                 qPrintable(QString::number(maxAbsDiff(y.data, yf.data))));
    }

    void copiesAreIndependent()
    {
        Sequential a = loadKerasModel(test::nnFixture("mlp.h5"));
        Sequential b = a;
        b.params().front()->value[0] += 1.0f;
        QVERIFY(a.params().front()->value[0] != b.params().front()->value[0]);
    }

    void brokenFiles_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("message");
        QTest::addRow("misshapen weight") << "nn/broken_bad_shape.h5" << "has the shape [44, 6]";
        QTest::addRow("missing weight") << "nn/broken_missing_weight.h5"
                                        << "weight 'dense/bias:0' listed in weight_names is missing";
        QTest::addRow("missing layer") << "nn/broken_missing_layer.h5"
                                       << "weights of layer 'conv2d_1' are missing";
        QTest::addRow("no config") << "nn/broken_no_config.h5" << "no 'model_config'";
        QTest::addRow("bad json") << "nn/broken_bad_json.h5" << "not valid JSON";
        QTest::addRow("functional") << "nn/broken_functional.h5" << "only Sequential";
        QTest::addRow("no input shape") << "hdf5/keras2_model.h5" << "batch_input_shape";
        QTest::addRow("weights only") << "hdf5/keras2_weights.h5" << "no 'model_config'";
        QTest::addRow("not hdf5") << "nn/cnn.input.f32" << "";
        // Found by fuzzing (tests/fuzz/corpus/keras_model/libhdf5-spin): libhdf5 1.10.8 never
        // returns from H5HG_read on this file's model_config. The loader now reads the file in
        // a child process first, which is stopped after 15 s.
        QTest::addRow("libhdf5 never returns")
            << "hdf5/hostile/keras-model-spin.h5" << "libhdf5 did not finish reading this file within 15 s";
    }
    void brokenFiles()
    {
        QFETCH(QString, file);
        QFETCH(QString, message);
        const std::string path = std::string(QS_TEST_DATA) + "/" + file.toStdString();
        test::expectError([&] { loadKerasModel(path); }, {path + ": ", message.toStdString()});
    }

    void configErrors()
    {
        const auto withLayer = [](const std::string& layer) {
            return R"({"class_name": "Sequential", "config": {"layers": [
                {"class_name": "InputLayer", "config": {"name": "in", "batch_input_shape": [null, 8, 8, 3]}},
                )" + layer + "]}}";
        };
        test::expectError([&] {
            sequentialFromKerasConfig(withLayer(R"({"class_name": "Conv2D", "config": {"name": "c", "filters": 2, "kernel_size": 3, "data_format": "channels_first"}})"), "f.h5");
        }, {"f.h5: layer 'c' (Conv2D)", "channels_first"});
        test::expectError([&] {
            sequentialFromKerasConfig(withLayer(R"({"class_name": "Conv2D", "config": {"name": "c", "filters": 2, "kernel_size": 9}})"), "f.h5");
        }, {"f.h5: layer 'c'", "does not fit"});
        test::expectError([&] {
            sequentialFromKerasConfig(withLayer(R"({"class_name": "Dense", "config": {"name": "d", "units": 2}})"), "f.h5");
        }, {"f.h5: layer 'd'", "Flatten"});
        test::expectError([&] {
            sequentialFromKerasConfig(withLayer(R"({"class_name": "Activation", "config": {"name": "a", "activation": "selu"}})"), "f.h5");
        }, {"'selu' is not supported"});
        test::expectError([&] {
            sequentialFromKerasConfig(withLayer(R"({"class_name": "BatchNormalization", "config": {"name": "b", "axis": 1}})"), "f.h5");
        }, {"last (channel) axis"});
        test::expectError([&] {
            sequentialFromKerasConfig(withLayer(R"({"class_name": "Conv2DTranspose", "config": {"name": "t"}})"), "f.h5");
        }, {"f.h5: layer 't' (Conv2DTranspose)", "not supported"});
        // Found by fuzzing (tests/fuzz/corpus/keras_config/not-an-object): JSON that is not an
        // object made nlohmann's value() throw its own type_error past every handler.
        for (const char* text : {"2", "[{\"class_name\": \"Sequential\"}]", "\"Sequential\"", "null"})
            test::expectError([&] { sequentialFromKerasConfig(text, "f.h5"); },
                              {"f.h5: model_config is not a JSON object"});
        // (keras_config/huge-dense): a config may ask for any number of units; the kernel was
        // allocated before the weights were read (1.6 TB here: std::bad_alloc, or for smaller
        // requests memory exhausted). Parameters above kMaxParamValues are refused.
        test::expectError([&] {
            sequentialFromKerasConfig(withLayer(R"({"class_name": "Flatten", "config": {"name": "f"}},
                {"class_name": "Dense", "config": {"name": "d", "units": 100000000000}})"), "f.h5");
        }, {"f.h5: layer 'd' (Dense): the kernel of shape [192, 100000000000]", "runtime's limit"});
        // (keras_config/class-name-not-a-string): a class_name that is not a string did the same.
        test::expectError([&] { sequentialFromKerasConfig(R"({"class_name": [{"a": 1}]})", "f.h5"); },
                          {"f.h5: the model is a model without a class", "only Sequential"});
    }
};

QTEST_GUILESS_MAIN(TestNnModel)
#include "tst_nnmodel.moc"
