// NumPy .npy/.npz reading: files NumPy wrote, compared value for value with what NumPy reads
// back from them (tests/data/numpy/expected.json), and one data row per malformed case.
#include "analysis/analyze.h"
#include "core/error.h"
#include "io/mapped_file.h"
#include "io/model.h"
#include "io/temp_file_bytes.h"
#include "io/zip_archive.h"
#include "testutil.h"
#include "zipbuilder.h"

#include <QtTest>

#include <algorithm>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace qs;
using test::crc32;
using test::deflatedZeros;
using test::deflateStoredBlock;
using test::makeZip;
using test::readAll;
using test::storedEntry;
using json = nlohmann::json;

namespace {

std::string fixture(const std::string& name)
{
    return std::string(QS_TEST_DATA) + "/numpy/" + name;
}

const json& expected(const std::string& key)
{
    static const json all = json::parse(readAll(fixture("expected.json")));
    return all.at("arrays").at(key);
}

// The tensor's values as the engine computes with them: fp32 "quantization" is the identity,
// and dequantizeTensor writes row-major order whatever the storage layout.
std::vector<float> engineValues(const Model& model, const TensorInfo& t)
{
    TensorQuantizer qz(model.data(t), t, QuantSpec{findFormat("fp32"), Granularity{}});
    std::vector<float> out(static_cast<std::size_t>(t.numel()));
    dequantizeTensor(qz, out.data(), Control{});
    return out;
}

// Integer and bool arrays: the engine does not convert them, so decode the raw bytes here
// (all such fixtures are little-endian and C order).
std::vector<long long> rawIntegers(const Model& model, const TensorInfo& t)
{
    const auto bytes = model.data(t);
    const std::size_t size = dtypeSize(t.dtype);
    std::vector<long long> out;
    for (std::size_t i = 0; i + size <= bytes.size(); i += size) {
        std::int64_t v = 0;
        std::memcpy(&v, bytes.data() + i, size);
        const int shift = static_cast<int>(64 - 8 * size);
        if (t.dtype != DType::U8 && t.dtype != DType::BOOL) v = (v << shift) >> shift;
        out.push_back(v);
    }
    return out;
}

void compareWithNumPy(const Model& model, const TensorInfo& t, const json& want)
{
    QCOMPARE(t.shape, want.at("shape").get<Shape>());
    QCOMPARE(t.storedType, want.at("descr").get<std::string>());
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

// An .npy file from a header dict text and data bytes (format 1.0 unless told otherwise).
std::string npy(const std::string& header, const std::string& data, int major = 1)
{
    const std::string h = header + "\n";
    std::string out = "\x93NUMPY";
    out += static_cast<char>(major);
    out += '\0';
    const int lenBytes = major == 1 ? 2 : 4;
    for (int i = 0; i < lenBytes; ++i)
        out += static_cast<char>((h.size() >> (8 * i)) & 0xff);
    return out + h + data;
}

std::string f32Header(const std::string& shape)
{
    return "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
}

const std::string kGoodNpy = npy(f32Header("(2,)"), test::floatBytes({1.5f, -2.0f}));

QByteArray bytes(const std::string& s)
{
    return QByteArray(s.data(), static_cast<qsizetype>(s.size()));
}

} // namespace

class TestNumpy : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    std::string path(const std::string& name) const
    {
        return QDir(m_dir.path()).filePath(QString::fromStdString(name)).toStdString();
    }

private slots:
    void npyMatchesNumPy_data()
    {
        QTest::addColumn<QString>("file");
        for (const char* f :
             {"f32_c.npy", "f16_c.npy", "f64_c.npy", "f32_be.npy", "f64_be.npy", "f16_be.npy",
              "f32_fortran_2d.npy", "f32_fortran_3d.npy", "f64_be_fortran.npy", "i64.npy",
              "bool.npy", "u8.npy", "scalar.npy", "empty.npy", "v2.npy", "v3.npy"})
            QTest::addRow("%s", f) << QString::fromLatin1(f);
    }
    void npyMatchesNumPy()
    {
        QFETCH(QString, file);
        const std::string name = file.toStdString();
        const auto model = openModel(fixture(name));
        QCOMPARE(model->format, std::string("npy"));
        QCOMPARE(model->tensors.size(), std::size_t(1));
        const TensorInfo& t = model->tensors.front();
        QCOMPARE(t.name, name.substr(0, name.size() - 4)); // the file's stem
        QCOMPARE(t.channelAxis, 0);
        // Mapped in place: the one file is the mapping, the data right after the header.
        QCOMPARE(model->files.size(), std::size_t(1));
        QVERIFY(dynamic_cast<const MappedFile*>(model->files.front().get()));
        QCOMPARE(t.offset + t.byteSize, model->files.front()->size());
        QCOMPARE(t.bigEndian, t.storedType[0] == '>' && dtypeSize(t.dtype) > 1);
        QCOMPARE(!t.strides.empty(), file.contains(QStringLiteral("fortran")));
        compareWithNumPy(*model, t, expected(name));
    }

    void headerDetails()
    {
        QCOMPARE(openModel(fixture("v2.npy"))->metadata.at("npy_format_version"),
                 std::string("2.0"));
        QCOMPARE(openModel(fixture("v3.npy"))->metadata.at("npy_format_version"),
                 std::string("3.0"));
        const auto scalar = openModel(fixture("scalar.npy"));
        QCOMPARE(scalar->tensors[0].shape, Shape{});
        QCOMPARE(scalar->tensors[0].numel(), std::int64_t(1));
        const auto empty = openModel(fixture("empty.npy"));
        QCOMPARE(empty->tensors[0].shape, (Shape{0, 4}));
        QCOMPARE(empty->tensors[0].byteSize, std::uint64_t(0));
        const auto f = openModel(fixture("f32_fortran_3d.npy"));
        QCOMPARE(f->tensors[0].shape, (Shape{2, 3, 4})); // as NumPy reports it
        QCOMPARE(f->tensors[0].strides, (std::vector<std::int64_t>{1, 2, 6}));
        QCOMPARE(openModel(fixture("i64.npy"))->tensors[0].dtype, DType::I64);
        QCOMPARE(openModel(fixture("bool.npy"))->tensors[0].dtype, DType::BOOL);
    }

    void fortranOrderPerChannel()
    {
        // int8 per output channel on a Fortran-order array gives what it gives on the same
        // values in C order: channels follow the array's rows, not its storage.
        const auto model = openModel(fixture("f32_fortran_2d.npy"));
        const TensorInfo& t = model->tensors[0];
        const auto want = expected("f32_fortran_2d.npy");
        std::vector<float> rowMajor;
        for (const auto& v : want.at("values"))
            rowMajor.push_back(static_cast<float>(v.get<double>()));
        const TensorInfo c = test::f32Info("c", t.shape);
        const QuantSpec spec{findFormat("int8"), Granularity{Granularity::Kind::Channel, 0}};
        TensorQuantizer fromFile(model->data(t), t, spec);
        TensorQuantizer fromCopy(
            {reinterpret_cast<const std::byte*>(rowMajor.data()), rowMajor.size() * 4}, c, spec);
        std::vector<float> a(rowMajor.size()), b(rowMajor.size());
        dequantizeTensor(fromFile, a.data(), Control{});
        dequantizeTensor(fromCopy, b.data(), Control{});
        QCOMPARE(a, b);
        QCOMPARE(fromFile.params().size(), std::size_t(3));
    }

    void npzMatchesNumPy_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<bool>("compressed");
        QTest::addRow("np.savez") << QStringLiteral("savez.npz") << false;
        QTest::addRow("np.savez_compressed") << QStringLiteral("savez_compressed.npz") << true;
    }
    void npzMatchesNumPy()
    {
        QFETCH(QString, file);
        QFETCH(bool, compressed);
        const std::string name = file.toStdString();
        const auto model = openModel(fixture(name));
        QCOMPARE(model->format, std::string("npz"));
        std::vector<std::string> names;
        for (const auto& t : model->tensors)
            names.push_back(t.name);
        // np.savez keeps the keyword order.
        QCOMPARE(names, (std::vector<std::string>{"layer0.weight", "layer0.bias", "layer1.weight",
                                                  "steps", "scale"}));
        for (const auto& t : model->tensors) {
            // Stored members are views of the mapped archive; deflated ones own a buffer each.
            QCOMPARE(t.fileIndex != 0, compressed);
            compareWithNumPy(*model, t, expected(name + ":" + t.name));
        }
        QVERIFY(dynamic_cast<const MappedFile*>(model->files.front().get()));
        QCOMPARE(model->files.size(), compressed ? std::size_t(6) : std::size_t(1));
        QVERIFY(!model->find("layer1.weight")->strides.empty());
        QVERIFY(model->find("layer1.weight")->bigEndian);
    }

    // Large deflated members are inflated into an unlinked temporary file and mapped (page
    // cache, not private memory): forced here with a threshold of 0 bytes. The bytes are the
    // same as inflating into memory, and nothing is left in the temporary folder.
    void deflatedMembersCanGoToATemporaryFile()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QByteArray oldTmp = qgetenv("TMPDIR");
        qputenv("TMPDIR", tmp.path().toLocal8Bit());
        auto file = std::make_shared<const MappedFile>(fixture("savez_compressed.npz"));
        ZipLimits toFile;
        toFile.inflateToFileAbove = 0;
        const ZipArchive inMemory(file), viaFile(file, toFile);
        int members = 0;
        for (const auto& m : inMemory.members()) {
            const ZipMemberData a = inMemory.read(m);
            const ZipMemberData b = viaFile.read(*viaFile.find(m.name));
            QVERIFY(dynamic_cast<const OwnedBytes*>(a.source.get()));
            QVERIFY(dynamic_cast<const TempFileBytes*>(b.source.get()));
            QVERIFY(std::ranges::equal(a.bytes(), b.bytes()));
            QVERIFY(QDir(tmp.path()).isEmpty()); // unlinked as soon as it was created
            ++members;
        }
        QCOMPARE(members, 5);
        if (oldTmp.isNull())
            qunsetenv("TMPDIR");
        else
            qputenv("TMPDIR", oldTmp);
    }

    void recognisedByContent()
    {
        test::writeFile(path("weights.bin"), readAll(fixture("f32_c.npy")));
        QCOMPARE(openModel(path("weights.bin"))->format, std::string("npy"));
        test::writeFile(path("arrays.zip"), readAll(fixture("savez.npz")));
        QCOMPARE(openModel(path("arrays.zip"))->tensors.size(), std::size_t(5));
    }

    void npzSkipsOtherMembers()
    {
        const std::string p = path("mixed.npz");
        test::writeFile(
            p, makeZip({storedEntry("w.npy", kGoodNpy), storedEntry("readme.txt", "not an array"),
                        storedEntry("sub/", "")}));
        const auto model = openModel(p);
        QCOMPARE(model->tensors.size(), std::size_t(1));
        QCOMPARE(model->tensors[0].name, std::string("w"));
        QCOMPARE(model->metadata.at("skipped_members"), std::string("readme.txt, sub/"));
        QCOMPARE(engineValues(*model, model->tensors[0]), (std::vector<float>{1.5f, -2.0f}));
    }

    void npzZip64DirectoryIsMapped()
    {
        // Sizes and the local-header offset only in the zip64 extra field: the member is
        // still found in place rather than copied.
        const std::string p = path("zip64.npz");
        test::writeFile(
            p, makeZip({storedEntry("a.npy", kGoodNpy), storedEntry("b.npy", kGoodNpy)}, true));
        const auto model = openModel(p);
        QCOMPARE(model->tensors.size(), std::size_t(2));
        QCOMPARE(model->files.size(), std::size_t(1));
        for (const auto& t : model->tensors) {
            QCOMPARE(t.fileIndex, 0);
            QCOMPARE(engineValues(*model, t), (std::vector<float>{1.5f, -2.0f}));
        }
    }

    void npzDeflatedMember()
    {
        // libzip inflates a member given as deflate "stored" blocks, which can carry any
        // bytes; the tensor then lives in its own buffer.
        const std::string p = path("deflated.npz");
        const std::string data = npy(f32Header("(2,)"), test::floatBytes({1.5f, -2.0f}));
        test::writeFile(
            p, makeZip({{"w.npy", deflateStoredBlock(data), 8, data.size(), crc32(data)}}));
        const auto model = openModel(p);
        QCOMPARE(model->tensors.size(), std::size_t(1));
        QCOMPARE(model->tensors[0].fileIndex, 1);
        QVERIFY(!dynamic_cast<const MappedFile*>(model->files[1].get()));
        QCOMPARE(engineValues(*model, model->tensors[0]), (std::vector<float>{1.5f, -2.0f}));
    }

    void zipArchiveLimits()
    {
        // The member-size cap on its own (the ratio cap is exercised by the zip-bomb rows).
        const std::string zeros(259, '\0');
        const std::string p = path("limits.zip");
        test::writeFile(p, makeZip({{"z.bin", deflatedZeros(1), 8, zeros.size(), crc32(zeros)},
                                    storedEntry("s.bin", "stored bytes")}));
        const auto file = std::make_shared<const MappedFile>(p);
        {
            const ZipArchive zip(file);
            QCOMPARE(zip.members().size(), std::size_t(2));
            const auto inflated = zip.read(*zip.find("z.bin"));
            QCOMPARE(inflated.size, std::uint64_t(259));
            QVERIFY(inflated.source != file);
            QCOMPARE(std::string(reinterpret_cast<const char*>(inflated.bytes().data()), 259),
                     zeros);
            const ZipMember& s = *zip.find("s.bin");
            QVERIFY(s.dataOffset.has_value());
            const auto stored = zip.read(s);
            QVERIFY(stored.source == file); // a view of the archive, not a copy
            QCOMPARE(std::string(reinterpret_cast<const char*>(stored.bytes().data()), 12),
                     std::string("stored bytes"));
        }
        const ZipArchive small(file, ZipLimits{100, 64, 0});
        try {
            small.read(*small.find("z.bin"));
            QFAIL("a member beyond the size limit was inflated");
        } catch (const Error& e) {
            const QString what = QString::fromUtf8(e.what());
            QVERIFY2(
                what.startsWith(QString::fromStdString(p) + QStringLiteral(": member 'z.bin': ")),
                qPrintable(what));
            QVERIFY2(what.contains(QStringLiteral("exceeds the limit of 100 bytes")),
                     qPrintable(what));
        }
    }

    void malformedNpy_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("message");
        auto add = [](const char* name, const std::string& content, const char* msg) {
            QTest::addRow("%s", name) << bytes(content) << QString::fromLatin1(msg);
        };
        const std::string d8 = std::string(8, '\0');
        add("empty file", "", "too short for an .npy header");
        add("bad magic", std::string("\x93NUMPX\x01\x00\x10\x00{}        ", 20), "magic");
        add("truncated header", std::string("\x93NUMPY\x01\x00\x40", 9), "too short");
        add("truncated v2 length", std::string("\x93NUMPY\x02\x00\x40\x00", 10),
            "too short for an .npy version 2.0 header");
        add("unknown version", npy(f32Header("(2,)"), d8, 4),
            "unsupported .npy format version 4.0");
        add("header length beyond file",
            std::string("\x93NUMPY\x01\x00\xe8\x03", 10) + f32Header("(2,)"), "runs past the end");
        add("v2 header length beyond file",
            std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff", 12) + f32Header("(2,)"),
            "header length 4294967295 at byte 8 runs past the end");
        add("unterminated dict",
            npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,),          ", d8),
            "unterminated");
        add("unterminated string", npy("{'descr': '<f4", d8), "unterminated string");
        add("empty header", npy("   ", d8), ".npy header is empty");
        add("not a dict", npy("['<f4', False, (2,)]", d8), "is not a Python dict");
        add("unknown descr", npy("{'descr': '<x4', 'fortran_order': False, 'shape': (2,), }", d8),
            "dtype '<x4' is not supported: unknown dtype");
        add("odd float size", npy("{'descr': '<f3', 'fortran_order': False, 'shape': (2,), }", d8),
            "dtype '<f3' is not supported: unknown dtype");
        add("no byte order", npy("{'descr': 'f4', 'fortran_order': False, 'shape': (2,), }", d8),
            "byte-order mark");
        add("object dtype", npy("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", d8),
            "dtype '|O' is not supported: object arrays");
        add("complex dtype", npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", d8),
            "dtype '<c8' is not supported: complex");
        add("structured dtype",
            npy("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }",
                d8),
            "structured dtype [('a', '<f4'), ('b', '<i4')]");
        add("sub-array dtype",
            npy("{'descr': ('<f4', (2,)), 'fortran_order': False, 'shape': (1,), }", d8),
            "sub-array dtype ('<f4', (2,))");
        add("uint16", npy("{'descr': '<u2', 'fortran_order': False, 'shape': (2,), }", d8),
            "unsigned integers");
        add("negative dim", npy(f32Header("(-3, 4)"), d8), "negative dimension -3");
        add("overflowing dim", npy(f32Header("(99999999999999999999,)"), d8),
            "overflows a 64-bit integer");
        add("overflowing shape", npy(f32Header("(4294967296, 4294967296)"), d8),
            "shape (4294967296, 4294967296) overflows the element count");
        add("data shorter than shape", npy(f32Header("(3, 4)"), std::string(20, '\0')),
            "data is shorter than the shape needs");
        add("huge shape, little data", npy(f32Header("(4611686018427387904,)"), d8),
            "data is shorter than the shape needs");
        add("missing key", npy("{'descr': '<f4', 'fortran_order': False, }", d8), "no 'shape' key");
        add("unknown key",
            npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", d8),
            "unexpected key 'x'");
        add("repeated key",
            npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", d8),
            "repeats the key 'descr'");
        add("shape as list", npy(f32Header("[2]"), d8), "expected a tuple for 'shape'");
        add("one-tuple without comma", npy(f32Header("(2)"), d8), "trailing comma");
        add("fractional dim", npy(f32Header("(2.5,)"), d8), "expected ',' or ')' in 'shape'");
        add("fortran_order not bool",
            npy("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", d8),
            "expected True or False");
        add("text after dict", npy(f32Header("(2,)") + " x", d8), "unexpected text after the dict");
        add("escape in string",
            npy("{'descr': '<f\\x34', 'fortran_order': False, 'shape': (2,)}", d8),
            "escape sequence");
        add("missing colon", npy("{'descr' '<f4'}", d8), "expected ':'");
    }
    void malformedNpy()
    {
        QFETCH(QByteArray, content);
        QFETCH(QString, message);
        const std::string p = path("bad.npy");
        test::writeFile(p, content.toStdString());
        test::expectOpenError(p, message);
    }

    void refusedNumPyFiles_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("message");
        QTest::addRow("complex64")
            << QStringLiteral("c8.npy") << QStringLiteral("dtype '<c8' is not supported: complex");
        QTest::addRow("object") << QStringLiteral("object.npy")
                                << QStringLiteral("dtype '|O' is not supported: object arrays");
        QTest::addRow("structured, format 3.0")
            << QStringLiteral("structured_v3.npy") << QStringLiteral("structured dtype [('");
    }
    void refusedNumPyFiles()
    {
        QFETCH(QString, file);
        QFETCH(QString, message);
        test::expectOpenError(fixture(file.toStdString()), message);
    }

    void malformedNpz_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("message");
        auto add = [](const char* name, const std::string& content, const char* msg) {
            QTest::addRow("%s", name) << bytes(content) << QString::fromLatin1(msg);
        };
        const std::string good = readAll(fixture("savez.npz"));
        add("empty file", "", "too short for a zip archive");
        add("truncated zip", good.substr(0, good.size() / 2), "not a readable zip archive");
        add("zip without its end record", good.substr(0, good.size() - 10),
            "not a readable zip archive");
        add("not a zip", std::string(100, 'x'), "not a readable zip archive");
        add("member too short for .npy", makeZip({storedEntry("w.npy", "hello")}),
            "member 'w.npy': too short for an .npy header");
        add("member with bad magic", makeZip({storedEntry("w.npy", "hello, world, again")}),
            "member 'w.npy': not an .npy file");
        add("member data short",
            makeZip({storedEntry("w.npy", npy(f32Header("(3,)"), std::string(4, '\0')))}),
            "member 'w.npy': data is shorter than the shape needs");
        add("member object dtype",
            makeZip({storedEntry("o.npy",
                                 npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }",
                                     std::string(8, '\0')))}),
            "member 'o.npy': dtype '|O' is not supported");
        add("duplicate member",
            makeZip({storedEntry("w.npy", kGoodNpy), storedEntry("w.npy", kGoodNpy)}),
            "two members have the same name");
        // Zip bombs: a deflated member of zeros whose declared size is beyond the ratio limit,
        // and one that declares little but inflates to more.
        const std::string stream = deflatedZeros(100); // 25801 zeros
        add("zip bomb (declared size)", makeZip({{"bomb.npy", stream, 8, 0xf0000000u, 0}}),
            "member 'bomb.npy': declares 4026531840 bytes");
        add("zip bomb (inflates beyond its size)", makeZip({{"bomb.npy", stream, 8, 64, 0}}),
            "member 'bomb.npy': inflates to more than its declared 64 bytes");
        add("deflated member with a bad CRC", makeZip({{"w.npy", deflatedZeros(1), 8, 259, 12345}}),
            "member 'w.npy'");
    }
    void malformedNpz()
    {
        QFETCH(QByteArray, content);
        QFETCH(QString, message);
        const std::string p = path("bad.npz");
        test::writeFile(p, content.toStdString());
        test::expectOpenError(p, message);
    }

    void highlyCompressedMemberOpens()
    {
        // 4 MiB of zeros deflated to a few KiB: near deflate's 1032:1 limit, and legitimate.
        const auto model = openModel(fixture("zeros_compressed.npz"));
        QCOMPARE(model->tensors.size(), std::size_t(1));
        const TensorInfo& t = model->tensors[0];
        QCOMPARE(t.shape, (Shape{1024, 1024}));
        TensorQuantizer qz(model->data(t), t, QuantSpec{findFormat("fp32"), Granularity{}});
        qz.computeScales(Control{});
        QCOMPARE(qz.minValue(), 0.0f);
        QCOMPARE(qz.maxValue(), 0.0f);
    }
};

QTEST_GUILESS_MAIN(TestNumpy)
#include "tst_numpy.moc"
