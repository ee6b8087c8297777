// ONNX reading: models written by the onnx package (tests/data/make_onnx_fixtures.py), compared
// value for value with onnx.numpy_helper.to_array, and one data row per malformed case.
#include "analysis/analyze.h"
#include "core/error.h"
#include "io/model.h"
#include "io/onnx_reader.h"
#include "io/safetensors_reader.h"
#include "testutil.h"

#include <nlohmann/json.hpp>

#include <QtTest>

#include <filesystem>
#include <fstream>
#include <set>

using namespace qs;

namespace {

std::string fixture(const std::string& name)
{
    return std::string(QS_TEST_DATA) + "/onnx/" + name;
}

std::string readFile(const std::string& path)
{
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::vector<float> dequantized(const Model& model, const TensorInfo& t)
{
    std::vector<float> v(static_cast<std::size_t>(t.numel()));
    TensorQuantizer qz(model.data(t), t, QuantSpec{findFormat("fp32"), Granularity{}});
    dequantizeTensor(qz, v.data(), Control{});
    return v;
}

} // namespace

class TestOnnx : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    std::string path(const char* name) const
    {
        return QDir(m_dir.path()).filePath(QString::fromLatin1(name)).toStdString();
    }

private slots:
    // Names, shapes, element types, channel axes and every value, against what the generator
    // recorded from the onnx package (NAME.expected.safetensors).
    void matchesReference_data()
    {
        QTest::addColumn<QString>("name");
        for (const char* n :
             {"net_f32", "net_f16", "net_f64", "dtypes", "constants", "control_flow", "external"})
            QTest::addRow("%s", n) << QString::fromLatin1(n);
    }
    void matchesReference()
    {
        QFETCH(QString, name);
        const auto model = openModel(fixture(name.toStdString() + ".onnx"));
        const auto expected = openModel(fixture(name.toStdString() + ".expected.safetensors"));
        QCOMPARE(model->format, std::string("onnx"));
        const auto expect = nlohmann::json::parse(expected->metadata.at("expect"));
        QCOMPARE(model->tensors.size(), expect.size());
        for (std::size_t i = 0; i < expect.size(); ++i) {
            const TensorInfo& t = model->tensors[i];
            const auto& e = expect[i];
            QCOMPARE(t.name, e["name"].get<std::string>());
            QCOMPARE(t.shape, e["shape"].get<Shape>());
            QCOMPARE(t.storedType, e["type"].get<std::string>());
            QVERIFY2(t.channelAxis == e["axis"].get<int>(), t.name.c_str());
            if (!e["data"].get<bool>()) {
                QCOMPARE(t.byteSize, std::uint64_t(0));
                QVERIFY(!isQuantizable(t.dtype));
                continue;
            }
            const TensorInfo* ref = expected->find(t.name);
            QVERIFY(ref);
            QCOMPARE(t.byteSize, dtypeSize(t.dtype) * static_cast<std::uint64_t>(t.numel()));
            if (!isQuantizable(t.dtype)) { // integers are kept as stored (or widened)
                const auto got = model->data(t), want = expected->data(*ref);
                QVERIFY2(got.size() == want.size() &&
                             std::equal(got.begin(), got.end(), want.begin()),
                         t.name.c_str());
                continue;
            }
            if (t.numel() == 0) continue;
            const auto values = dequantized(*model, t);
            std::vector<float> want(values.size());
            QCOMPARE(expected->data(*ref).size(), want.size() * sizeof(float));
            std::memcpy(want.data(), expected->data(*ref).data(), want.size() * sizeof(float));
            for (std::size_t k = 0; k < want.size(); ++k)
                QVERIFY2(test::bits(values[k]) == test::bits(want[k]),
                         qPrintable(QStringLiteral("%1[%2]: %3 != %4")
                                        .arg(QString::fromStdString(t.name))
                                        .arg(k)
                                        .arg(double(values[k]))
                                        .arg(double(want[k]))));
        }
    }

    void metadata()
    {
        const auto model = openModel(fixture("net_f32.onnx"));
        const auto& md = model->metadata;
        QCOMPARE(md.at("ir_version"), std::string("8"));
        QCOMPARE(md.at("opset_import"), std::string("ai.onnx 13"));
        QCOMPARE(md.at("producer_name"), std::string("quantscope-fixtures"));
        QCOMPARE(md.at("producer_version"), std::string("1.0"));
        QCOMPARE(md.at("graph_name"), std::string("net"));
        QCOMPARE(md.at("note"), std::string("hello"));
        QCOMPARE(md.at("origin"), std::string("make_onnx_fixtures.py"));
    }

    void elementTypes()
    {
        const auto model = openModel(fixture("dtypes.onnx"));
        const std::pair<const char*, DType> kept[] = {
            {"bf16.typed", DType::BF16}, {"i8.raw", DType::I8},      {"u8.typed", DType::U8},
            {"i16.typed", DType::I16},   {"u16.raw", DType::I32},    {"i32.typed", DType::I32},
            {"i64.typed", DType::I64},   {"u32.raw", DType::I64},    {"u64.typed", DType::I64},
            {"bool.raw", DType::BOOL},   {"f8.raw", DType::F8_E4M3}, {"f32.scalar", DType::F32},
        };
        for (const auto& [name, dtype] : kept) {
            const TensorInfo* t = model->find(name);
            QVERIFY2(t, name);
            QVERIFY2(t->dtype == dtype, name);
        }
        QVERIFY(isQuantizable(model->find("bf16.typed")->dtype));
        QVERIFY(!isQuantizable(model->find("i8.raw")->dtype));
        QCOMPARE(model->find("f32.scalar")->numel(), std::int64_t(1));
        QCOMPARE(model->find("f32.empty")->numel(), std::int64_t(0));
        QCOMPARE(model->find("str")->byteSize, std::uint64_t(0));
        QCOMPARE(model->find("c64")->storedType, std::string("COMPLEX64"));
    }

    // One step per enclosing node: its name, else its first output; clashes get "#2".
    void subgraphNames()
    {
        const auto model = openModel(fixture("control_flow.onnx"));
        for (const char* n : {"outer_w", "branch/then_w", "branch/else_w", "loop_state/body_w",
                              "loop_state/inner_if/deep_w", "loop_state/inner_if/deep_w#2"})
            QVERIFY2(model->find(n), n);
        QCOMPARE(model->find("outer_w")->channelAxis, 1); // its only consumer is in the Loop body
    }

    void externalDataIsMappedInPlace()
    {
        const auto model = openModel(fixture("external.onnx"));
        const std::string data = fixture("external.onnx.data");
        std::set<const ByteSource*> external;
        for (const auto& t : model->tensors) {
            const ByteSource& src = *model->files[static_cast<std::size_t>(t.fileIndex)];
            if (src.path() == data) external.insert(&src);
        }
        QCOMPARE(external.size(), std::size_t(1)); // one mapping shared by all its tensors
        const TensorInfo* conv = model->find("conv.weight");
        QCOMPARE(model->files[static_cast<std::size_t>(conv->fileIndex)]->path(), data);
        QCOMPARE(conv->offset, std::uint64_t(0));
        QCOMPARE(conv->byteSize, std::uint64_t(4 * 3 * 3 * 3 * 4));
        const TensorInfo* fc2 = model->find("fc2.weight");
        QCOMPARE(fc2->offset, std::uint64_t(488));
        // Typed-field tensors are not externalised by onnx.save: they stay in the model.
        const TensorInfo* fc1 = model->find("fc1.weight");
        QCOMPARE(model->files[static_cast<std::size_t>(fc1->fileIndex)]->path(),
                 fixture("external.onnx"));
    }

    void recognisedByContent()
    {
        const std::string copy = path("model.bin");
        std::filesystem::copy_file(fixture("net_f32.onnx"), copy,
                                   std::filesystem::copy_options::overwrite_existing);
        QVERIFY(OnnxReader().canOpen(copy));
        QCOMPARE(openModel(copy)->format, std::string("onnx"));
        QVERIFY(!SafetensorsReader().canOpen(copy));

        // Neither safetensors (with or without its extension) nor text passes for ONNX.
        const std::string st = path("weights.bin");
        std::filesystem::copy_file(fixture("net_f32.expected.safetensors"), st,
                                   std::filesystem::copy_options::overwrite_existing);
        QVERIFY(!OnnxReader().canOpen(st));
        QCOMPARE(openModel(st)->format, std::string("safetensors"));
        test::writeFile(path("notes.txt"), "plain text, not a model");
        QVERIFY(!OnnxReader().canOpen(path("notes.txt")));
        test::writeFile(path("empty"), "");
        QVERIFY(!OnnxReader().canOpen(path("empty")));
        // A damaged .onnx file is still claimed, so the error says what is wrong with it.
        test::writeFile(path("damaged.onnx"), "\x08\x08\x3a\xff\xff\x01");
        QVERIFY(OnnxReader().canOpen(path("damaged.onnx")));
    }

    void malformed_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("message");
        auto add = [](const char* row, const std::string& file, const std::string& msg) {
            QTest::addRow("%s", row) << QString::fromStdString(file) << QString::fromStdString(msg);
        };
        const std::string good = readFile(fixture("net_f32.onnx"));
        QVERIFY(good.size() > 1000);

        std::string garbage(512, '\0');
        std::mt19937 rng(7);
        for (auto& c : garbage)
            c = static_cast<char>(rng());
        test::writeFile(path("garbage.onnx"), garbage);
        add("garbage bytes", path("garbage.onnx"), "not an ONNX model: byte ");
        test::writeFile(path("empty.onnx"), "");
        add("empty file", path("empty.onnx"), "not an ONNX model: the file is empty");
        test::writeFile(path("truncated.onnx"), good.substr(0, good.size() / 2));
        add("truncated model", path("truncated.onnx"), "bytes follow (the file is truncated");
        // Intact top level, but the first node's first field has an invalid wire type (7).
        std::string damaged = good;
        const auto node = damaged.find(std::string("\x0a\x01x\x0a\x0b") + "conv.weight");
        QVERIFY(node != std::string::npos);
        damaged[node] = '\x0f';
        test::writeFile(path("damaged.onnx"), damaged);
        add("damaged graph", path("damaged.onnx"), "protobuf data does not parse");
        test::writeFile(path("nograph.onnx"), std::string("\x08\x08\x12\x01x", 5));
        add("no graph", path("nograph.onnx"), "the model has no graph");

        std::filesystem::create_directory(path("alone"));
        std::filesystem::copy_file(fixture("external.onnx"), path("alone/external.onnx"),
                                   std::filesystem::copy_options::overwrite_existing);
        // The message names the model and the data file it refers to.
        add("external file missing", path("alone/external.onnx"),
            "external data file cannot be read: " + path("alone/external.onnx.data") +
                ": cannot open");

        const std::string bad = fixture("bad/");
        add("raw_data size", bad + "raw_size.onnx",
            "tensor 'w': shape [2, 2] of FLOAT needs 4 x 4 bytes but raw_data holds 12");
        add("typed count", bad + "typed_count.onnx", "needs 4 values but float_data holds 3");
        add("negative dim", bad + "negative_dim.onnx", "tensor 'w': negative dimension -2");
        add("int32_data out of range", bad + "int8_range.onnx",
            "int32_data value 300 at index 1 is out of range for INT8");
        add("external offset beyond file", bad + "ext_offset.onnx",
            "external data offset 32 lies beyond the end of");
        add("external range beyond file", bad + "ext_range.onnx",
            "external data bytes 8-24 lie beyond the end of");
        add("external length vs shape", bad + "ext_length.onnx",
            "needs 4 x 4 bytes but its external data in");
        add("external file too short", bad + "ext_short.onnx", "holds 12 (at byte 0)");
        add("external location escapes", bad + "ext_escape.onnx",
            "external data location '../ext_offset.data' points outside the model's folder");
        add("external offset not a number", bad + "ext_bad_number.onnx",
            "external data offset '0x10' is not a byte count");
    }
    void malformed()
    {
        QFETCH(QString, file);
        QFETCH(QString, message);
        const std::string p = file.toStdString();
        try {
            openModel(p);
            QFAIL("no error for a malformed file");
        } catch (const Error& e) {
            const QString what = QString::fromUtf8(e.what());
            QVERIFY2(what.startsWith(file + QStringLiteral(": ")), qPrintable(what));
            QVERIFY2(what.contains(message), qPrintable(what));
        }
    }
};

QTEST_APPLESS_MAIN(TestOnnx)
#include "tst_onnx.moc"
