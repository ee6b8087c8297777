// PyTorch checkpoint reading: files torch.save wrote, compared value for value with what
// torch.load reads back from them (tests/data/torch_ckpt/expected.safetensors), a pickle that
// would run a command, and one data row per malformed case.
#include "analysis/analyze.h"
#include "core/error.h"
#include "io/mapped_file.h"
#include "io/model.h"
#include "io/pickle.h"
#include "io/zip_archive.h"
#include "testutil.h"
#include "zipbuilder.h"

#include <QtTest>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace qs;
using test::put;
using test::readAll;
using namespace std::string_literals;

namespace {

// The command in malicious.pt would create this file (make_torch_checkpoints.py).
const char* const kMaliciousMarker = "/tmp/quantscope_torch_pickle_ran";

std::string fixture(const std::string& name)
{
    return std::string(QS_TEST_DATA) + "/torch_ckpt/" + name;
}

const Model& expectedModel()
{
    static const auto model = openModel(fixture("expected.safetensors"));
    return *model;
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

// Integer and bool tensors: the engine does not convert them, so decode the raw bytes here
// (all such fixtures are contiguous and little-endian).
std::vector<std::int64_t> rawIntegers(const Model& model, const TensorInfo& t)
{
    const auto bytes = model.data(t);
    const std::size_t size = dtypeSize(t.dtype);
    std::vector<std::int64_t> out;
    for (std::size_t i = 0; i + size <= bytes.size(); i += size) {
        std::int64_t v = 0;
        std::memcpy(&v, bytes.data() + i, size);
        const int shift = static_cast<int>(64 - 8 * size);
        if (t.dtype != DType::U8 && t.dtype != DType::BOOL) v = (v << shift) >> shift;
        out.push_back(v);
    }
    return out;
}

void compareWithTorch(const Model& model, const TensorInfo& t, const TensorInfo& want)
{
    QCOMPARE(t.shape, want.shape);
    if (isQuantizable(t.dtype)) {
        QCOMPARE(want.dtype, DType::F32);
        const auto got = engineValues(model, t);
        const auto w = engineValues(expectedModel(), want);
        QCOMPARE(got.size(), w.size());
        for (std::size_t i = 0; i < got.size(); ++i)
            QVERIFY2(test::bits(got[i]) == test::bits(w[i]),
                     qPrintable(QStringLiteral("%1[%2]: %3 != %4")
                                    .arg(QString::fromStdString(t.name))
                                    .arg(i)
                                    .arg(static_cast<double>(got[i]), 0, 'g', 9)
                                    .arg(static_cast<double>(w[i]), 0, 'g', 9)));
    } else {
        QCOMPARE(want.dtype, DType::I64);
        QCOMPARE(rawIntegers(model, t), rawIntegers(expectedModel(), want));
    }
}

// --- hand-made archives and pickles for the malformed cases ---

// A zip archive of stored members, as torch.save writes them.
std::string makeZip(const std::vector<std::pair<std::string, std::string>>& entries)
{
    std::vector<test::ZipEntry> stored;
    for (const auto& [name, data] : entries)
        stored.push_back(test::storedEntry(name, data));
    return test::makeZip(stored);
}

// Protocol 2 pickle pieces.
std::string binint(std::int64_t v)
{
    std::string s = "J";
    put(s, static_cast<std::uint64_t>(v), 4);
    return s;
}
std::string unicode(const std::string& s)
{
    std::string out = "X";
    put(out, s.size(), 4);
    return out + s;
}
std::string intTuple(const std::vector<std::int64_t>& v)
{
    std::string s = "(";
    for (const auto x : v)
        s += binint(x);
    return s + "t";
}

struct FakeTensor
{
    std::string name;
    std::string key = "0";
    std::int64_t storageNumel = 4;
    std::int64_t offset = 0;
    std::vector<std::int64_t> size{4};
    std::vector<std::int64_t> stride{1};
    std::string storageClass = "FloatStorage";
};

// {name: tensor, ...} the way torch.save pickles a state dict (backward hooks as a plain dict).
std::string statePickle(const std::vector<FakeTensor>& tensors)
{
    std::string p = "\x80\x02}(";
    for (const auto& t : tensors) {
        p += unicode(t.name);
        p += "ctorch._utils\n_rebuild_tensor_v2\n";
        p += "((" + unicode("storage") + "ctorch\n" + t.storageClass + "\n" + unicode(t.key) +
             unicode("cpu") + binint(t.storageNumel) + "tQ";
        p += binint(t.offset) + intTuple(t.size) + intTuple(t.stride) + "\x89}tR";
    }
    return p + "u.";
}

std::string archive(const std::string& pickle, const std::string& storage,
                    const std::vector<std::pair<std::string, std::string>>& extra = {})
{
    std::vector<std::pair<std::string, std::string>> entries{{"archive/data.pkl", pickle},
                                                             {"archive/data/0", storage}};
    entries.insert(entries.end(), extra.begin(), extra.end());
    return makeZip(entries);
}

std::string memberOf(const std::string& file, const std::string& member)
{
    const ZipArchive zip(std::make_shared<const MappedFile>(file));
    const auto bytes = zip.read(*zip.find(member)).bytes();
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

QByteArray bytes(const std::string& s)
{
    return QByteArray(s.data(), static_cast<qsizetype>(s.size()));
}

const std::set<std::string, std::less<>> kNoGlobals;

} // namespace

class TestTorch : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    std::string path(const std::string& name) const
    {
        return QDir(m_dir.path()).filePath(QString::fromStdString(name)).toStdString();
    }

private slots:
    void matchesTorch_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QStringList>("names");
        const QStringList sd{"0.weight",
                             "0.bias",
                             "1.weight",
                             "1.bias",
                             "1.running_mean",
                             "1.running_var",
                             "1.num_batches_tracked",
                             "3.weight",
                             "3.bias"};
        QStringList nested;
        for (const auto& n : sd)
            nested << QStringLiteral("model.") + n;
        QTest::addRow("state_dict") << QStringLiteral("conv_bn_linear.pt") << sd;
        QTest::addRow("nested") << QStringLiteral("nested.pth") << nested;
        QTest::addRow("views") << QStringLiteral("views.bin")
                               << QStringList{"base", "transposed", "slice", "row"};
        QTest::addRow("dtypes") << QStringLiteral("dtypes.pt")
                                << QStringList{"half",  "bfloat16", "double",
                                               "int32", "scalar",   "empty"};
    }
    void matchesTorch()
    {
        QFETCH(QString, file);
        QFETCH(QStringList, names);
        const auto model = openModel(fixture(file.toStdString()));
        QCOMPARE(model->format, std::string("pytorch"));
        QStringList got;
        for (const auto& t : model->tensors)
            got << QString::fromStdString(t.name);
        QCOMPARE(got, names); // in the order the dict holds them
        // Every storage is a stored member, mapped in place.
        QCOMPARE(model->files.size(), std::size_t(1));
        QVERIFY(dynamic_cast<const MappedFile*>(model->files.front().get()));
        for (const auto& t : model->tensors) {
            QCOMPARE(t.fileIndex, 0);
            QCOMPARE(t.channelAxis, 0);
            QVERIFY(!t.bigEndian);
            const TensorInfo* want = expectedModel().find(file.toStdString() + ":" + t.name);
            QVERIFY2(want, t.name.c_str());
            compareWithTorch(*model, t, *want);
        }
        QCOMPARE(model->metadata.at("pytorch_format_version"), std::string("3"));
    }

    void stateDictDetails()
    {
        const auto model = openModel(fixture("conv_bn_linear.pt"));
        const TensorInfo* conv = model->find("0.weight");
        QCOMPARE(conv->shape, (Shape{4, 2, 3, 3}));
        QCOMPARE(conv->dtype, DType::F32);
        QCOMPARE(conv->storedType, std::string("float32"));
        QVERIFY(conv->strides.empty());
        QCOMPARE(conv->byteSize, std::uint64_t(4 * 2 * 3 * 3 * 4));
        const TensorInfo* steps = model->find("1.num_batches_tracked");
        QCOMPARE(steps->dtype, DType::I64);
        QCOMPARE(steps->storedType, std::string("int64"));
        QCOMPARE(steps->shape, Shape{});
        QCOMPARE(rawIntegers(*model, *steps), std::vector<std::int64_t>{7});
    }

    void nestedCheckpointMetadata()
    {
        const auto model = openModel(fixture("nested.pth"));
        QCOMPARE(model->metadata.at("optimizer_step"), std::string("3"));
        QCOMPARE(model->metadata.at("note"), std::string("x"));
        QCOMPARE(model->tensors.size(), std::size_t(9));
    }

    void sharedStorageViews()
    {
        const auto model = openModel(fixture("views.bin"));
        const TensorInfo& base = *model->find("base");
        const TensorInfo& tr = *model->find("transposed");
        const TensorInfo& slice = *model->find("slice");
        const TensorInfo& row = *model->find("row");
        // One storage of 24 floats; the views point into it.
        QCOMPARE(base.byteSize, std::uint64_t(96));
        QVERIFY(base.strides.empty());
        QCOMPARE(tr.shape, (Shape{6, 4}));
        QCOMPARE(tr.strides, (std::vector<std::int64_t>{1, 6}));
        QCOMPARE(tr.offset, base.offset);
        QCOMPARE(slice.shape, (Shape{2, 3}));
        QCOMPARE(slice.strides, (std::vector<std::int64_t>{6, 1}));
        QCOMPARE(slice.offset, base.offset + 8 * 4);
        QCOMPARE(slice.byteSize, std::uint64_t((6 + 2 + 1) * 4));
        QVERIFY(row.strides.empty());
        QCOMPARE(row.offset, base.offset + 12 * 4);
        QCOMPARE(row.byteSize, std::uint64_t(6 * 4));

        // Per-channel int8 on the transposed view equals int8 on a contiguous copy of it.
        const auto want = engineValues(*model, tr);
        const TensorInfo c = test::f32Info("c", tr.shape);
        const QuantSpec spec{findFormat("int8"), Granularity{Granularity::Kind::Channel, 0}};
        TensorQuantizer fromView(model->data(tr), tr, spec);
        TensorQuantizer fromCopy({reinterpret_cast<const std::byte*>(want.data()), want.size() * 4},
                                 c, spec);
        std::vector<float> a(want.size()), b(want.size());
        dequantizeTensor(fromView, a.data(), Control{});
        dequantizeTensor(fromCopy, b.data(), Control{});
        QCOMPARE(a, b);
        QCOMPARE(fromView.params().size(), std::size_t(6));
    }

    void dtypesDetails()
    {
        const auto model = openModel(fixture("dtypes.pt"));
        QCOMPARE(model->find("half")->dtype, DType::F16);
        QCOMPARE(model->find("bfloat16")->dtype, DType::BF16);
        QCOMPARE(model->find("bfloat16")->storedType, std::string("bfloat16"));
        QCOMPARE(model->find("double")->dtype, DType::F64);
        QCOMPARE(model->find("int32")->dtype, DType::I32);
        QCOMPARE(model->find("scalar")->shape, Shape{});
        QCOMPARE(model->find("scalar")->numel(), std::int64_t(1));
        QCOMPARE(model->find("empty")->shape, (Shape{0, 4}));
        QCOMPARE(model->find("empty")->byteSize, std::uint64_t(0));
    }

    void maliciousPickleIsRefused()
    {
        std::remove(kMaliciousMarker);
        const std::string p = fixture("malicious.pt");
        try {
            openModel(p);
            QFAIL("a pickle calling os.system was accepted");
        } catch (const Error& e) {
            QCOMPARE(std::string(e.what()), p + ": unsupported pickle content: posix.system");
        }
        QVERIFY(!std::filesystem::exists(kMaliciousMarker));
    }

    void recognisedByContent()
    {
        for (const char* name : {"weights.zip", "model.ckpt", "noextension"}) {
            test::writeFile(path(name), readAll(fixture("conv_bn_linear.pt")));
            QCOMPARE(openModel(path(name))->format, std::string("pytorch"));
        }
    }

    void bigEndianArchive()
    {
        // byteorder "big": the storage holds most significant bytes first.
        std::string data;
        for (const float f : {1.5f, -2.0f, 0.25f, 8.0f}) {
            const std::uint32_t u = test::bits(f);
            for (int i = 3; i >= 0; --i)
                data += static_cast<char>((u >> (8 * i)) & 0xff);
        }
        const std::string p = path("be.pt");
        test::writeFile(
            p, archive(statePickle({{.name = "w"}}), data, {{"archive/byteorder", "big"}}));
        const auto model = openModel(p);
        QVERIFY(model->tensors.at(0).bigEndian);
        QCOMPARE(engineValues(*model, model->tensors[0]),
                 (std::vector<float>{1.5f, -2.0f, 0.25f, 8.0f}));
    }

    void selfReferencingListWithoutTensors()
    {
        // Python can pickle a list that contains itself; with no tensor in it, it is metadata.
        const std::string p = path("cycle.pt");
        test::writeFile(p, archive("\x80\x02]q\x00h\x00"
                                   "a."s,
                                   std::string(16, '\0')));
        const auto model = openModel(p);
        QVERIFY(model->tensors.empty());
        QVERIFY(model->metadata.at("value").starts_with("[[[["));
    }

    void protocolVariants()
    {
        // The same list through protocol 0 text opcodes, protocol 4 framing/memoize and
        // protocol 5 bytes.
        const std::string p0 = "(lp0\nI1\naF2.5\naS'a\\x41'\np1\naL12345678901234567890L\nag1\na.";
        auto t0 = pickle::unpickle({reinterpret_cast<const std::byte*>(p0.data()), p0.size()},
                                   kNoGlobals, "p0");
        QCOMPARE(pickle::repr(*t0.root()),
                 std::string("[1, 2.5, aA, <integer beyond 64 bits>, aA]"));
        const std::string p4 = std::string("\x80\x04\x95\x0f\0\0\0\0\0\0\0", 11) +
                               "\x8c\x01k\x94\x8a\x02\xff\x7f\x86\x94h\x01h\x00\x86."s;
        auto t4 = pickle::unpickle({reinterpret_cast<const std::byte*>(p4.data()), p4.size()},
                                   kNoGlobals, "p4");
        QCOMPARE(pickle::repr(*t4.root()), std::string("((k, 32767), k)"));
    }

    void malformed_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("message");
        auto add = [](const char* name, const std::string& content, const QString& msg) {
            QTest::addRow("%s", name) << bytes(content) << msg;
        };
        const std::string f4(16, '\0'); // a storage of 4 floats
        const std::string good = statePickle({{.name = "w"}});
        const std::string real = memberOf(fixture("views.bin"), "views/data.pkl");
        add("truncated pickle", archive(real.substr(0, real.size() / 2), f4),
            QStringLiteral("truncated pickle"));
        add("no STOP", archive(good.substr(0, good.size() - 1), f4),
            QStringLiteral("no STOP opcode"));
        add("unknown opcode", archive(std::string("\x80\x02\xff.", 4), f4),
            QStringLiteral("unknown opcode 0xff at byte 2 of member 'archive/data.pkl'"));
        add("unsupported protocol", archive(std::string("\x80\x06N.", 4), f4),
            QStringLiteral("pickle protocol 6 is not supported"));
        add("storage member missing", makeZip({{"views/data.pkl", real}, {"views/version", "3\n"}}),
            QStringLiteral("storage '0' is missing from the archive (no member 'views/data/0')"));
        add("storage offset beyond the storage",
            archive(statePickle({{.name = "w", .offset = 2}}), f4),
            QStringLiteral("tensor 'w': size [4] with stride (1,) from storage offset 2 reaches "
                           "beyond its storage of 4 elements"));
        add("view strides beyond the storage",
            archive(statePickle({{.name = "w", .size = {2, 2}, .stride = {3, 1}}}), f4),
            QStringLiteral("reaches beyond its storage"));
        add("huge size",
            archive(
                statePickle({{.name = "w", .size = {1 << 30, 1 << 30, 16}, .stride = {1, 1, 1}}}),
                f4),
            QStringLiteral("reaches beyond its storage"));
        add("storage larger than its member",
            archive(statePickle({{.name = "w", .storageNumel = 100}}), f4),
            QStringLiteral("storage '0' declares 100 FloatStorage elements, more than its member "
                           "'archive/data/0' holds (16 bytes)"));
        add("size and stride lengths differ",
            archive(statePickle({{.name = "w", .stride = {1, 1}}}), f4),
            QStringLiteral("differ in length"));
        add("storage used with two types",
            archive(statePickle({{.name = "a"}, {.name = "b", .storageClass = "IntStorage"}}), f4),
            QStringLiteral("storage '0' is used as IntStorage"));
        add("unsupported storage class",
            archive(statePickle({{.name = "w", .storageClass = "ComplexFloatStorage"}}), f4),
            QStringLiteral("unsupported pickle content: torch.ComplexFloatStorage"));
        add("duplicate names", archive(statePickle({{.name = "w"}, {.name = "w"}}), f4),
            QStringLiteral("tensor name 'w' appears more than once"));
        add("deep nesting (100k TUPLE1)",
            archive("\x80\x02]" + std::string(100000, '\x85') + ".", f4),
            QStringLiteral("values nested deeper than 256 levels"));
        add("deep nesting (100k lists)",
            archive("\x80\x02" + std::string(100000, ']') + std::string(99999, 'a') + ".", f4),
            QStringLiteral("values nested deeper than 256 levels"));
        add("mark bomb", archive("\x80\x02" + std::string(1100000, '('), f4),
            QStringLiteral("pickle stack deeper than 1048576"));
        std::string cyclic = good;
        cyclic.replace(0, 4, "\x80\x02}q\x00("s);
        cyclic.replace(cyclic.size() - 2, 2, unicode("self") + "h\x00u."s);
        add("dict holding a tensor and itself", archive(cyclic, f4),
            QStringLiteral("checkpoint values are nested deeper than 256 levels"));
        // {"a": d, "b": d} thirty times over, each level shared through the memo: 2^30 paths.
        std::string dag = good.substr(0, good.size() - 1) + "q\x00"s;
        for (int i = 1; i <= 30; ++i)
            dag += "}(" + unicode("a") + "h" + char(i - 1) + unicode("b") + "h" + char(i - 1) +
                   "uq" + char(i);
        add("shared values with 2^30 paths", archive(dag + ".", f4),
            QStringLiteral("checkpoint structure is too large to list"));
        // A long key repeated along many paths: the names would take gigabytes.
        std::string wide = good.substr(0, good.size() - 1) + "q\x00"s;
        wide += "}(" + unicode(std::string(1 << 20, 'k')) + "h\x00"s + "uq\x01"s;
        for (int i = 2; i <= 12; ++i)
            wide += "}(" + unicode("a") + "h" + char(i - 1) + unicode("b") + "h" + char(i - 1) +
                    "uq" + char(i);
        add("names of gigabytes", archive(wide + ".", f4),
            QStringLiteral("checkpoint names and values would take more than"));
        add("huge memo index", archive(std::string("\x80\x02j\xff\xff\xff\xff.", 8), f4),
            QStringLiteral("memo index 4294967295 is not defined"));
        add("huge text memo index", archive("\x80\x02Np99999999999999999999999\n.", f4),
            QStringLiteral("bad memo index"));
        add("string longer than the pickle",
            archive(std::string("\x80\x02X\xff\xff\xff\x7f", 7) + "abc.", f4),
            QStringLiteral("BINUNICODE of 2147483647 bytes runs past the end"));
        add("invalid UTF-8", archive(std::string("\x80\x02X\x02\0\0\0\xc3(.", 10), f4),
            QStringLiteral("string is not valid UTF-8"));
        add("stack underflow", archive("\x80\x02t.", f4), QStringLiteral("TUPLE without a MARK"));
        add("eval global",
            archive("\x80\x02"
                    "cbuiltins\neval\n.",
                    f4),
            QStringLiteral("unsupported pickle content: builtins.eval"));
        add("stack global", archive("\x80\x04\x8c\x05posix\x8c\x06system\x93.", f4),
            QStringLiteral("unsupported pickle content: posix.system"));
        add("load_from_bytes",
            archive("\x80\x02"
                    "ctorch.storage\n_load_from_bytes\n.",
                    f4),
            QStringLiteral("unsupported pickle content: torch.storage._load_from_bytes"));
        add("call of a non-global", archive("\x80\x02N)R.", f4),
            QStringLiteral("REDUCE calls a None, not a global"));
        add("bad byte order", archive(good, f4, {{"archive/byteorder", "middle"}}),
            QStringLiteral("unknown byte order 'middle'"));
        add("persistent id not a storage",
            archive("\x80\x02}(X\x01\0\0\0wctorch._utils\n_rebuild_tensor_v2\n(NQK\0))\x89}tRu."s,
                    f4),
            QStringLiteral("tensor 'w': its storage is not a ('storage', type, key, location, "
                           "size) persistent id"));
    }
    void malformed()
    {
        QFETCH(QByteArray, content);
        QFETCH(QString, message);
        const std::string p = path("bad.pt");
        test::writeFile(p, content.toStdString());
        test::expectOpenError(p, message);
    }
};

QTEST_GUILESS_MAIN(TestTorch)
#include "tst_torch.moc"
