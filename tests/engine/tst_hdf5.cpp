// HDF5 / Keras reading: files h5py wrote (tests/data/make_hdf5_fixtures.py), compared value for
// value with what h5py reads back from them (tests/data/hdf5/expected.json), Keras naming and
// channel axes, and one data row per malformed case.
#include "analysis/analyze.h"
#include "core/error.h"
#include "io/mapped_file.h"
#include "io/model.h"
#include "testutil.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

using namespace qs;
using test::readAll;
using json = nlohmann::json;

namespace {

std::string fixture(const std::string& name)
{
    return std::string(QS_TEST_DATA) + "/hdf5/" + name;
}

const json& expectedFile(const std::string& file)
{
    static const json all = json::parse(readAll(fixture("expected.json")));
    return all.at(file);
}

std::vector<float> engineValues(const Model& model, const TensorInfo& t)
{
    TensorQuantizer qz(model.data(t), t, QuantSpec{findFormat("fp32"), Granularity{}});
    std::vector<float> out(static_cast<std::size_t>(t.numel()));
    dequantizeTensor(qz, out.data(), Control{});
    return out;
}

// Integers and bools are not converted by the engine: decode the stored bytes here.
std::vector<long long> rawIntegers(const Model& model, const TensorInfo& t)
{
    const auto bytes = model.data(t);
    const std::size_t size = dtypeSize(t.dtype);
    std::vector<long long> out;
    for (std::size_t i = 0; i + size <= bytes.size(); i += size) {
        std::uint64_t u = 0;
        for (std::size_t k = 0; k < size; ++k) {
            const auto b = std::to_integer<std::uint64_t>(bytes[i + k]);
            u |= b << (8 * (t.bigEndian ? size - 1 - k : k));
        }
        auto v = static_cast<std::int64_t>(u);
        const int shift = static_cast<int>(64 - 8 * size);
        if (t.dtype != DType::U8 && t.dtype != DType::BOOL) v = (v << shift) >> shift;
        out.push_back(v);
    }
    return out;
}

void compareWithH5py(const Model& model, const TensorInfo& t, const json& want)
{
    QCOMPARE(t.shape, want.at("shape").get<Shape>());
    const auto& values = want.at("values");
    QCOMPARE(static_cast<std::size_t>(t.numel()), values.size());
    if (isQuantizable(t.dtype)) {
        const auto got = engineValues(model, t);
        for (std::size_t i = 0; i < got.size(); ++i) {
            const float w = static_cast<float>(values[i].get<double>());
            QVERIFY2(test::bits(got[i]) == test::bits(w),
                     qPrintable(QStringLiteral("%1[%2]: %3 != %4")
                                    .arg(QString::fromStdString(t.name))
                                    .arg(i)
                                    .arg(static_cast<double>(got[i]), 0, 'g', 9)
                                    .arg(static_cast<double>(w), 0, 'g', 9)));
        }
    } else {
        QCOMPARE(rawIntegers(model, t), values.get<std::vector<long long>>());
    }
}

// The tensor name the reader gives an h5py dataset path: Keras 2 files name weights by their
// weight_names entry, which is the path below the layer's group.
std::string tensorName(const Model& model, const std::string& path)
{
    if (model.format != "keras-h5") return path;
    std::string rest = path.rfind("model_weights/", 0) == 0 ? path.substr(14) : path;
    return rest.substr(rest.find('/') + 1);
}

std::vector<std::string> names(const Model& model)
{
    std::vector<std::string> out;
    for (const auto& t : model.tensors)
        out.push_back(t.name);
    return out;
}

std::vector<int> channelAxes(const Model& model)
{
    std::vector<int> out;
    for (const auto& t : model.tensors)
        out.push_back(t.channelAxis);
    return out;
}

QByteArray bytes(const std::string& s)
{
    return QByteArray(s.data(), static_cast<qsizetype>(s.size()));
}

void putLE(std::string& s, std::size_t at, std::uint64_t v)
{
    for (int i = 0; i < 8; ++i)
        s[at + static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
}

const std::vector<std::string> kKeras2Names = {"dense/kernel:0",
                                               "dense/bias:0",
                                               "conv2d/kernel:0",
                                               "conv2d/bias:0",
                                               "conv2d_transpose/kernel:0",
                                               "conv2d_transpose/bias:0",
                                               "batch_normalization/gamma:0",
                                               "batch_normalization/beta:0",
                                               "batch_normalization/moving_mean:0",
                                               "batch_normalization/moving_variance:0"};
// Keras kernels keep the output channel last; transposed convolutions one before it.
const std::vector<int> kKeras2Axes = {1, 0, 3, 0, 2, 0, 0, 0, 0, 0};

const std::vector<std::string> kKeras3Names = {"layers/conv2d/vars/0", "layers/conv2d/vars/1",
                                               "layers/dense/vars/0", "layers/dense/vars/1",
                                               "layers/embedding/vars/0"};

} // namespace

class TestHdf5 : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    std::string path(const std::string& name) const
    {
        return QDir(m_dir.path()).filePath(QString::fromStdString(name)).toStdString();
    }

private slots:
    void matchesH5py_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("format");
        auto add = [](const char* file, const char* format) {
            QTest::addRow("%s", file) << QString::fromLatin1(file) << QString::fromLatin1(format);
        };
        add("keras2_model.h5", "keras-h5");
        add("keras2_weights.h5", "keras-h5");
        add("keras2_vlen.h5", "keras-h5");
        add("generic.h5", "hdf5");
        add("userblock.h5", "hdf5");
        add("tail.h5", "hdf5");
        add("keras3.weights.h5", "hdf5");
        add("keras3.keras", "keras");
        add("keras3_deflated.keras", "keras");
    }
    void matchesH5py()
    {
        QFETCH(QString, file);
        QFETCH(QString, format);
        const std::string name = file.toStdString();
        const auto model = openModel(fixture(name));
        QCOMPARE(model->format, format.toStdString());
        QVERIFY(dynamic_cast<const MappedFile*>(model->files.front().get()));
        std::size_t listed = 0;
        for (const auto& [p, want] : expectedFile(name).items()) {
            const std::string dtype = want.at("dtype").get<std::string>();
            const TensorInfo* t = model->find(tensorName(*model, p));
            // Optimizer state is left out; uint16 has no engine type.
            if (p.rfind("optimizer", 0) == 0 || dtype == "<u2") {
                QVERIFY2(!t, p.c_str());
                continue;
            }
            QVERIFY2(t, p.c_str());
            ++listed;
            compareWithH5py(*model, *t, want);
            QCOMPARE(t->bigEndian, dtype[0] == '>');
        }
        QCOMPARE(model->tensors.size(), listed);
    }

    void keras2Layout_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addRow("full model") << QStringLiteral("keras2_model.h5");
        QTest::addRow("weights only") << QStringLiteral("keras2_weights.h5");
        QTest::addRow("variable-length strings") << QStringLiteral("keras2_vlen.h5");
    }
    void keras2Layout()
    {
        QFETCH(QString, file);
        const auto model = openModel(fixture(file.toStdString()));
        // layer_names / weight_names order, the Flatten layer without weights adds nothing.
        QCOMPARE(names(*model), kKeras2Names);
        // The weights-only file has no model_config to tell a transposed convolution apart.
        auto axes = kKeras2Axes;
        if (file == QStringLiteral("keras2_weights.h5")) axes[4] = 3;
        QCOMPARE(channelAxes(*model), axes);
        const TensorInfo& kernel = model->tensors[0];
        QCOMPARE(kernel.shape, (Shape{4, 3}));
        QCOMPARE(kernel.dtype, DType::F32);
        QCOMPARE(kernel.storedType, std::string("H5T_IEEE_F32LE"));
        for (const auto& t : model->tensors) { // Keras 2 writes contiguous datasets: in place
            QCOMPARE(t.fileIndex, 0);
            QVERIFY(t.offset + t.byteSize <= model->files[0]->size());
        }
        QCOMPARE(model->files.size(), std::size_t(1));
        const auto& meta = model->metadata;
        QCOMPARE(meta.at("keras_version"), std::string("2.13.1"));
        if (file != QStringLiteral("keras2_weights.h5")) {
            QVERIFY(meta.at("model_config").rfind("{\"class_name\": \"Sequential\"", 0) == 0);
            QCOMPARE(meta.at("keras_layout"), std::string("Keras 2 model"));
        } else {
            QVERIFY(!meta.count("model_config"));
            QCOMPARE(meta.at("keras_layout"), std::string("Keras 2 weights"));
        }
        if (file != QStringLiteral("keras2_vlen.h5"))
            QCOMPARE(meta.at("backend"), std::string("tensorflow"));
    }

    void keras3Layout_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<bool>("inflated");
        QTest::addColumn<int>("embeddingAxis");
        QTest::addRow("stored archive") << QStringLiteral("keras3.keras") << false << 0;
        QTest::addRow("deflated archive") << QStringLiteral("keras3_deflated.keras") << true << 0;
        // Without config.json the layer class is unknown: rank 2 and more means a kernel.
        QTest::addRow("weights file") << QStringLiteral("keras3.weights.h5") << false << 1;
    }
    void keras3Layout()
    {
        QFETCH(QString, file);
        QFETCH(bool, inflated);
        QFETCH(int, embeddingAxis);
        const auto model = openModel(fixture(file.toStdString()));
        QCOMPARE(names(*model), kKeras3Names);
        QCOMPARE(channelAxes(*model), (std::vector<int>{3, 0, 1, 0, embeddingAxis}));
        QCOMPARE(model->metadata.at("skipped_optimizer_state"),
                 std::string("12 datasets under optimizer/"));
        // Stored members are read where they lie in the archive; a deflated one is inflated once
        // and its datasets point into that buffer.
        QCOMPARE(model->files.size(), inflated ? std::size_t(2) : std::size_t(1));
        for (const auto& t : model->tensors)
            QCOMPARE(t.fileIndex, inflated ? 1 : 0);
        if (file.endsWith(QStringLiteral(".keras"))) {
            QCOMPARE(model->metadata.at("keras_version"), std::string("3.3.3"));
            QVERIFY(model->metadata.at("model_config").find("\"Embedding\"") != std::string::npos);
        }
    }

    void genericDetails()
    {
        const auto model = openModel(fixture("generic.h5"));
        const auto* half = model->find("encoder/half");
        QVERIFY(half);
        QCOMPARE(half->dtype, DType::F16);
        QCOMPARE(half->storedType, std::string("H5T_IEEE_F16LE"));
        QCOMPARE(model->find("be/f64")->storedType, std::string("H5T_IEEE_F64BE"));
        QCOMPARE(model->find("be/i32")->storedType, std::string("H5T_STD_I32BE"));
        QCOMPARE(model->find("counts")->dtype, DType::I64);
        QCOMPARE(model->find("flags")->dtype, DType::BOOL);
        QCOMPARE(model->find("bytes")->dtype, DType::U8);
        QCOMPARE(model->find("scalar")->shape, Shape{});
        QCOMPARE(model->find("empty")->shape, (Shape{0, 4}));
        QCOMPARE(model->find("empty")->byteSize, std::uint64_t(0));
        for (const auto& t : model->tensors)
            QCOMPARE(t.channelAxis, 0);
        // Chunked datasets are decoded into buffers of their own; contiguous ones stay mapped.
        for (const char* chunked : {"compressed", "shuffled_be", "never_written"}) {
            const auto* t = model->find(chunked);
            QVERIFY2(t, chunked);
            QVERIFY(t->fileIndex > 0);
            QVERIFY(!dynamic_cast<const MappedFile*>(model->files[t->fileIndex].get()));
        }
        QCOMPARE(model->find("encoder/layer0/weight")->fileIndex, 0);
        QVERIFY(model->find("shuffled_be")->bigEndian);
        const std::string& skipped = model->metadata.at("skipped_datasets");
        QVERIFY2(skipped.find("labels (strings)") != std::string::npos, skipped.c_str());
        QVERIFY2(skipped.find("u16 (unsigned 16-bit integers)") != std::string::npos,
                 skipped.c_str());
        // Natural path order, as listed.
        QCOMPARE(model->tensors.front().name, std::string("be/f16"));
        // The fill value of a dataset that was never written.
        QCOMPARE(engineValues(*model, *model->find("never_written")),
                 (std::vector<float>{7, 7, 7, 7}));
        // Data behind a user block: the offsets are from the start of the file.
        const auto ub = openModel(fixture("userblock.h5"));
        QVERIFY(ub->tensors[0].offset >= 512);
    }

    void perChannelOnKerasKernel()
    {
        // int8 per output channel on a Dense kernel [in 4, out 3]: three scales, one per column.
        const auto model = openModel(fixture("keras2_model.h5"));
        const TensorInfo& t = *model->find("dense/kernel:0");
        const QuantSpec spec{findFormat("int8"), Granularity{Granularity::Kind::Channel, 0}};
        TensorQuantizer qz(model->data(t), t, spec);
        std::vector<float> out(static_cast<std::size_t>(t.numel()));
        dequantizeTensor(qz, out.data(), Control{});
        QCOMPARE(qz.params().size(), std::size_t(3));
    }

    void recognisedByContent()
    {
        test::writeFile(path("weights.bin"), readAll(fixture("generic.h5")));
        QCOMPARE(openModel(path("weights.bin"))->format, std::string("hdf5"));
        test::writeFile(path("user.dat"), readAll(fixture("userblock.h5")));
        QCOMPARE(openModel(path("user.dat"))->format, std::string("hdf5"));
        test::writeFile(path("model.zip"), readAll(fixture("keras3.keras")));
        QCOMPARE(openModel(path("model.zip"))->format, std::string("keras"));
    }

    void malformed_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("message");
        auto add = [](const char* row, const char* name, const std::string& content,
                      const char* msg) {
            QTest::addRow("%s", row)
                << QString::fromLatin1(name) << bytes(content) << QString::fromLatin1(msg);
        };
        const std::string good = readAll(fixture("generic.h5"));
        add("empty file", "bad.h5", "", "not an HDF5 file: no HDF5 signature");
        add("not HDF5", "bad.h5", std::string(3000, 'x'), "no HDF5 signature at byte 0, 512");
        add("signature at a wrong position", "bad.h5", std::string(100, '\0') + good,
            "no HDF5 signature");
        add("cut in the superblock", "bad.h5", good.substr(0, 20),
            "superblock at byte 0 is cut off");
        add("truncated file", "bad.h5", good.substr(0, good.size() / 2),
            "the file is truncated: its HDF5 superblock (byte 0) says it holds");
        std::string version = good;
        version[8] = 9;
        add("unknown superblock version", "bad.h5", version, "HDF5 superblock version 9");
        std::string offsets = good;
        offsets[13] = 3;
        add("bad size of offsets", "bad.h5", offsets, "sizes of offsets and lengths are 3 and 8");
        // Superblock version 0: the root group's object header address is at byte 64.
        std::string root = good;
        putLE(root, 64, 0x7fff0000);
        add("root group beyond the file", "bad.h5", root, "libhdf5");
        // The data of tail.h5's one dataset is at its end: cut into it and make the superblock
        // agree, so that only the dataset's extent is wrong.
        const std::string tail = readAll(fixture("tail.h5"));
        const auto t = openModel(fixture("tail.h5"))->tensors.at(0);
        std::string cut = tail.substr(0, t.offset + t.byteSize / 2);
        putLE(cut, 40, cut.size()); // end-of-file address (superblock version 0)
        add("dataset beyond the end", "bad.h5", cut, "dataset 'w': its data at byte");
        add(".keras without weights", "bad.keras", readAll(fixture("bad_no_weights.keras")),
            "not a Keras archive: it has no member 'model.weights.h5'");
        add(".keras with a broken weights member", "bad.keras",
            readAll(fixture("bad_not_hdf5.keras")), "member 'model.weights.h5': not an HDF5 file");
        add(".keras that is not a zip", "bad.keras", "PK\x03\x04 nonsense", "zip archive");
    }
    void malformed()
    {
        QFETCH(QString, name);
        QFETCH(QByteArray, content);
        QFETCH(QString, message);
        const std::string p = path(name.toStdString());
        test::writeFile(p, content.toStdString());
        test::expectOpenError(p, message);
    }

    // Found by fuzzing: a corrupted global heap makes libhdf5 1.10.8 itself fault (an
    // overlapping memcpy in H5HG_read, then SIGSEGV). The file is read in a child process
    // first, so the crash becomes an error and this test process lives on.
    void libraryCrashIsReported()
    {
#if defined(__SANITIZE_ADDRESS__)
        // AddressSanitizer catches the fault in the child first and ends it with exit code 1.
        test::expectOpenError(fixture("hostile/global-heap-crash.h5"),
                              QStringLiteral("libhdf5 failed reading this file (exit code 1)"));
#else
        test::expectOpenError(fixture("hostile/global-heap-crash.h5"),
                              QStringLiteral("libhdf5 crashed reading this file"));
#endif
    }

    // Found by fuzzing: on this file libhdf5 1.10.8 loops, growing and shrinking its heap,
    // and never returns. The child-process probe stops it after its time limit (15 s) and
    // the open fails with an error instead of hanging.
    void libraryThatNeverReturnsIsStopped()
    {
        test::expectOpenError(fixture("hostile/heap-churn-spin.h5"),
                              QStringLiteral("did not finish reading this file within 15 s"));
    }
};

QTEST_GUILESS_MAIN(TestHdf5)
#include "tst_hdf5.moc"
