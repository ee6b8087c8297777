// safetensors reading: good single and sharded files, and one data row per malformed case.
#include "analysis/analyze.h"
#include "core/error.h"
#include "io/model.h"
#include "io/safetensors_writer.h"
#include "testutil.h"

#include <QtTest>

using namespace qs;
using test::rawSafetensors;

class TestSafetensors : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    std::string path(const char* name) const
    {
        return QDir(m_dir.path()).filePath(QString::fromLatin1(name)).toStdString();
    }

private slots:
    void readsWhatTheWriterWrote()
    {
        const auto w = test::normalData(6, 1);
        const std::vector<float> b = {1.0f, 2.0f};
        const std::string p = path("good.safetensors");
        {
            SafetensorsWriter writer(
                p, {{"layer.weight", DType::F32, {2, 3}}, {"layer.bias", DType::F32, {2}}},
                {{"note", "hello"}});
            writer.write(w.data(), 24);
            writer.write(b.data(), 8);
            writer.commit();
        }
        const auto model = openModel(p);
        QCOMPARE(model->format, std::string("safetensors"));
        QCOMPARE(model->tensors.size(), std::size_t(2));
        QCOMPARE(model->metadata.at("note"), std::string("hello"));
        const TensorInfo* t = model->find("layer.weight");
        QVERIFY(t);
        QCOMPARE(t->shape, (Shape{2, 3}));
        QCOMPARE(t->storedType, std::string("F32"));
        QCOMPARE(t->channelAxis, 0);
        QCOMPARE(std::memcmp(model->data(*t).data(), w.data(), 24), 0);
        QCOMPARE(model->totalParams(), std::int64_t(8));
        QCOMPARE(model->totalBytes(), std::uint64_t(32));
    }

    void everyDtypeIsListed()
    {
        std::string header = "{";
        std::string data;
        const char* names[] = {"F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2",
                               "I64", "I32", "I16", "I8",   "U8",      "BOOL"};
        for (const char* n : names) {
            const auto size = dtypeSize(*dtypeFromName(n));
            if (header.size() > 1) header += ",";
            header += "\"t_" + std::string(n) + "\":{\"dtype\":\"" + n +
                      "\",\"shape\":[2],\"data_offsets\":[" + std::to_string(data.size()) + "," +
                      std::to_string(data.size() + 2 * size) + "]}";
            data.append(2 * size, '\0');
        }
        header += "}";
        test::writeFile(path("dtypes.safetensors"), rawSafetensors(header, data));
        const auto model = openModel(path("dtypes.safetensors"));
        QCOMPARE(model->tensors.size(), std::size_t(12));
        for (const auto& t : model->tensors)
            QCOMPARE(isQuantizable(t.dtype), t.storedType == "F64" || t.storedType == "F32" ||
                                                 t.storedType == "F16" || t.storedType == "BF16");
    }

    void zeroDimAndEmptyTensors()
    {
        const std::string header = R"({"scalar":{"dtype":"F32","shape":[],"data_offsets":[0,4]},)"
                                   R"("empty":{"dtype":"F32","shape":[0,5],"data_offsets":[4,4]}})";
        test::writeFile(path("edge.safetensors"), rawSafetensors(header, std::string(4, '\0')));
        const auto model = openModel(path("edge.safetensors"));
        QCOMPARE(model->find("scalar")->numel(), std::int64_t(1));
        QCOMPARE(model->find("empty")->numel(), std::int64_t(0));
    }

    void malformed_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("message");
        auto add = [](const char* name, const std::string& bytes, const char* msg) {
            QTest::addRow("%s", name)
                << QByteArray(bytes.data(), static_cast<qsizetype>(bytes.size()))
                << QString::fromLatin1(msg);
        };
        const std::string t = R"("w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
        add("empty file", "", "too short");
        add("short file", "abc", "too short");
        add("header beyond file", std::string("\xff\xff\x00\x00\x00\x00\x00\x00{}", 10),
            "exceeds the file size");
        add("huge header length", std::string("\xff\xff\xff\xff\xff\xff\xff\xff{}", 10),
            "exceeds the file size");
        add("invalid json", rawSafetensors("{\"w\": [1, 2", std::string(8, '\0')), "invalid JSON");
        // Found by fuzzing: a number no JSON number type can hold.
        add("number overflow",
            rawSafetensors(
                R"({"w":{"dtype":"F32","shape":[864e5555555555555],"data_offsets":[0,8]}})",
                std::string(8, '\0')),
            "invalid JSON header");
        add("not an object", rawSafetensors("[1,2]", ""), "not a JSON object");
        add("unknown dtype",
            rawSafetensors(R"({"w":{"dtype":"F12","shape":[2],"data_offsets":[0,8]}})",
                           std::string(8, '\0')),
            "unknown dtype \"F12\"");
        add("negative dim",
            rawSafetensors(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})",
                           std::string(8, '\0')),
            "negative dimension");
        add("fractional dim",
            rawSafetensors(R"({"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}})",
                           std::string(8, '\0')),
            "not a non-negative integer");
        add("overflowing dims",
            rawSafetensors(
                R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})",
                std::string(8, '\0')),
            "overflows");
        // Found by fuzzing: a zero dimension must not hide the overflow of the others.
        add("zero dim hiding overflow",
            rawSafetensors(
                R"({"w":{"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}})",
                ""),
            "overflows");
        add("dim beyond int64",
            rawSafetensors(
                R"({"w":{"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,8]}})",
                std::string(8, '\0')),
            "overflows");
        add("offset beyond file",
            rawSafetensors(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                           std::string(4, '\0')),
            "beyond the end of the file");
        add("end before begin",
            rawSafetensors(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})",
                           std::string(8, '\0')),
            "end before they begin");
        add("size mismatch",
            rawSafetensors(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
                           std::string(8, '\0')),
            "hold 8");
        add("overlap",
            rawSafetensors(
                R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                std::string(12, '\0')),
            "overlaps tensor 'a'");
        add("missing offsets",
            rawSafetensors(R"({"w":{"dtype":"F32","shape":[2]}})", std::string(8, '\0')),
            "needs \"dtype\", \"shape\" and \"data_offsets\"");
        add("offsets not a pair",
            rawSafetensors(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}})",
                           std::string(8, '\0')),
            "[begin, end]");
        add("negative offset",
            rawSafetensors(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})",
                           std::string(8, '\0')),
            "not a non-negative integer");
        add("shape not array",
            rawSafetensors(R"({"w":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})",
                           std::string(8, '\0')),
            "not an array");
        add("entry not object", rawSafetensors(R"({"w":5})", ""), "not an object");
        add("metadata not strings",
            rawSafetensors(R"({"__metadata__":{"a":1},)" + t + "}", std::string(8, '\0')),
            "not a string");
        add("invalid utf8", rawSafetensors("{\"w\xff\":{}}", ""), "invalid JSON");
    }
    void malformed()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, message);
        const std::string p = path("bad.safetensors");
        test::writeFile(p, bytes.toStdString());
        test::expectOpenError(p, message);
    }

    void missingAndUnknownFiles()
    {
        QVERIFY_THROWS_EXCEPTION(Error, openModel(path("does-not-exist.safetensors")));
        test::writeFile(path("notes.txt"), "plain text, not a model");
        try {
            openModel(path("notes.txt"));
            QFAIL("a text file opened as a model");
        } catch (const Error& e) {
            QVERIFY(QString::fromUtf8(e.what()).contains(QStringLiteral("not a model file")));
        }
    }

    void sharded()
    {
        const std::string a =
            rawSafetensors(R"({"l0.w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                           test::floatBytes({1, 2}));
        const std::string b = rawSafetensors(
            R"({"l1.w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", std::string(4, '\0'));
        test::writeFile(path("model-00001-of-00002.safetensors"), a);
        test::writeFile(path("model-00002-of-00002.safetensors"), b);
        test::writeFile(
            path("model.safetensors.index.json"),
            R"({"metadata":{"total_size":12},"weight_map":{"l0.w":"model-00001-of-00002.safetensors","l1.w":"model-00002-of-00002.safetensors"}})");
        const auto model = openModel(path("model.safetensors.index.json"));
        QCOMPARE(model->tensors.size(), std::size_t(2));
        QCOMPARE(model->files.size(), std::size_t(2));
        QCOMPARE(model->tensors[0].name, std::string("l0.w"));
        QCOMPARE(model->tensors[1].fileIndex, 1);
        float v[2];
        std::memcpy(v, model->data(model->tensors[0]).data(), 8);
        QCOMPARE(v[1], 2.0f);

        test::writeFile(
            path("bad.safetensors.index.json"),
            R"({"weight_map":{"l0.w":"model-00001-of-00002.safetensors","ghost":"model-00001-of-00002.safetensors"}})");
        try {
            openModel(path("bad.safetensors.index.json"));
            QFAIL("missing tensor not reported");
        } catch (const Error& e) {
            QVERIFY(QString::fromUtf8(e.what()).contains(QStringLiteral("'ghost'")));
        }
        test::writeFile(path("gone.safetensors.index.json"),
                        R"({"weight_map":{"x":"nowhere.safetensors"}})");
        try {
            openModel(path("gone.safetensors.index.json"));
            QFAIL("missing shard not reported");
        } catch (const Error& e) {
            QVERIFY(QString::fromUtf8(e.what()).contains(QStringLiteral("nowhere.safetensors")));
        }
    }

    void unalignedDataIsReadSafely()
    {
        // Header of odd length: the data section starts at an odd offset in the file.
        std::string header = R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}})";
        while ((8 + header.size()) % 4 != 1)
            header += ' ';
        test::writeFile(path("odd.safetensors"),
                        rawSafetensors(header, test::floatBytes({1.5f, -2.0f, 3.0f})));
        const auto model = openModel(path("odd.safetensors"));
        const TensorInfo& t = model->tensors[0];
        QCOMPARE(reinterpret_cast<std::uintptr_t>(model->data(t).data()) % 4 != 0, true);
        TensorQuantizer qz(model->data(t), t, QuantSpec{findFormat("fp32"), Granularity{}});
        float v[3];
        dequantizeTensor(qz, v, Control{});
        QCOMPARE(v[0], 1.5f);
        QCOMPARE(v[1], -2.0f);
        QCOMPARE(v[2], 3.0f);
        QCOMPARE(qz.minValue(), -2.0f);
        QCOMPARE(qz.maxValue(), 3.0f);
    }
};

QTEST_APPLESS_MAIN(TestSafetensors)
#include "tst_safetensors.moc"
