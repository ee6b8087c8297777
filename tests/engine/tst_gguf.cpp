// GGUF reading: ggml's golden vectors decoded bit for bit, the committed fixtures (every
// metadata type, alignment, types QuantScope cannot decode) and one data row per malformed case.
#include "analysis/analyze.h"
#include "core/error.h"
#include "io/gguf_reader.h"
#include "io/model.h"
#include "testutil.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <random>
#include <sstream>

using namespace qs;
using test::readAll;
using test::readFloats;
using Json = nlohmann::json;

namespace {

const std::string kData = QS_TEST_DATA;

// ggml type ids (ggml.h), kept here independently of the reader's own table.
const std::map<std::string, std::uint32_t> kTypeIds = {
    {"f32", 0},   {"f16", 1},   {"q4_0", 2},  {"q4_1", 3},   {"q5_0", 6},
    {"q5_1", 7},  {"q8_0", 8},  {"q2_K", 10}, {"q3_K", 11},  {"q4_K", 12},
    {"q5_K", 13}, {"q6_K", 14}, {"bf16", 30}, {"iq4_nl", 20}};

// --- a small GGUF writer for the golden vectors and the malformed cases ---------------------

std::string le(std::uint64_t v, int bytes)
{
    std::string s;
    for (int i = 0; i < bytes; ++i)
        s += static_cast<char>((v >> (8 * i)) & 0xff);
    return s;
}
std::string gstr(const std::string& s)
{
    return le(s.size(), 8) + s;
}
// One metadata entry: key, value type, encoded value.
std::string kv(const std::string& key, std::uint32_t type, const std::string& value)
{
    return gstr(key) + le(type, 4) + value;
}
std::string kvU32(const std::string& key, std::uint32_t v)
{
    return kv(key, 4, le(v, 4));
}

struct TensorSpec
{
    std::string name;
    std::vector<std::uint64_t> ne;
    std::uint32_t type;
    std::uint64_t offset;
};

struct GgufSpec
{
    std::uint32_t version = 3;
    std::vector<std::string> kvs;
    std::vector<TensorSpec> tensors;
    std::uint64_t alignment = 32; // padding before the data section
    std::string data;
    std::optional<std::uint64_t> tensorCount, kvCount; // to lie about the counts
};

std::string tensorInfo(const TensorSpec& t)
{
    std::string s = gstr(t.name) + le(t.ne.size(), 4);
    for (auto d : t.ne)
        s += le(d, 8);
    return s + le(t.type, 4) + le(t.offset, 8);
}

std::string build(const GgufSpec& g)
{
    std::string out = "GGUF" + le(g.version, 4) + le(g.tensorCount.value_or(g.tensors.size()), 8) +
                      le(g.kvCount.value_or(g.kvs.size()), 8);
    for (const auto& k : g.kvs)
        out += k;
    for (const auto& t : g.tensors)
        out += tensorInfo(t);
    out.append((g.alignment - out.size() % g.alignment) % g.alignment, '\0');
    return out + g.data;
}

// A well-formed file with one f32 tensor "w" of 8 values, to break one field at a time.
GgufSpec goodSpec()
{
    GgufSpec g;
    g.kvs = {kv("general.name", 8, gstr("ok"))};
    g.tensors = {{"w", {8}, 0, 0}};
    g.data = test::floatBytes({1, 2, 3, 4, 5, 6, 7, 8});
    return g;
}

Json inspectJson(const Model& model)
{
    // The fields `quantscope-cli inspect --json` prints, built the same way from the model.
    Json tensors = Json::array();
    for (const auto& t : model.tensors)
        tensors.push_back({{"name", t.name},
                           {"shape", t.shape},
                           {"dtype", t.storedType},
                           {"params", t.numel()},
                           {"bytes", t.byteSize}});
    Json out = {{"format", model.format},
                {"tensors", tensors},
                {"total_params", model.totalParams()},
                {"total_bytes", model.totalBytes()}};
    if (!model.metadata.empty()) out["metadata"] = model.metadata;
    return out;
}

std::vector<float> dequantize(const Model& model, const TensorInfo& t, const Control& control = {})
{
    std::vector<float> out(static_cast<std::size_t>(t.numel()));
    TensorQuantizer qz(model.data(t), t, QuantSpec{findFormat("fp32"), Granularity{}});
    dequantizeTensor(qz, out.data(), control);
    return out;
}

// Number of values whose bits differ, and a note on the first.
int bitDifferences(const std::vector<float>& got, const std::vector<float>& want, QString* first)
{
    int n = 0;
    for (std::size_t i = 0; i < want.size(); ++i)
        if (test::bits(got[i]) != test::bits(want[i])) {
            if (n++ == 0 && first)
                *first = QStringLiteral("value %1: got %2 (0x%3), want %4 (0x%5)")
                             .arg(i)
                             .arg(static_cast<double>(got[i]), 0, 'g', 9)
                             .arg(test::bits(got[i]), 8, 16, QLatin1Char('0'))
                             .arg(static_cast<double>(want[i]), 0, 'g', 9)
                             .arg(test::bits(want[i]), 8, 16, QLatin1Char('0'));
        }
    return n;
}

} // namespace

class TestGguf : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    std::string path(const std::string& name) const
    {
        return QDir(m_dir.path()).filePath(QString::fromStdString(name)).toStdString();
    }
    static std::string dataPath(const std::string& rel) { return kData + "/" + rel; }

private slots:
    void dtypeGeometry()
    {
        QCOMPARE(dtypeBlockSize(DType::F32), std::int64_t(1));
        QCOMPARE(dtypeBlockSize(DType::Q4_K), std::int64_t(256));
        QCOMPARE(dtypeBlockBytes(DType::Q4_K), std::size_t(144));
        QCOMPARE(dtypeBlockBytes(DType::Q8_0), std::size_t(34));
        QCOMPARE(dtypeStorageBytes(DType::Q6_K, 512), std::optional<std::uint64_t>(420));
        QCOMPARE(dtypeStorageBytes(DType::F16, 3), std::optional<std::uint64_t>(6));
        QVERIFY(!dtypeStorageBytes(DType::Q4_0, 33));
        QVERIFY(!dtypeStorageBytes(DType::GgmlOther, 32));
        QVERIFY(isQuantizable(DType::Q2_K));
        QVERIFY(!isQuantizable(DType::GgmlOther));
        QVERIFY(isBlockType(DType::GgmlOther));
        // Safetensors names only: a safetensors header cannot claim a ggml block type.
        QVERIFY(!dtypeFromName("q4_0"));
        QCOMPARE(dtypeFromName("F16"), std::optional<DType>(DType::F16));
    }

    // Every golden vector from ggml, wrapped in a GGUF tensor, decodes to ggml's own values.
    void goldenVectors_data()
    {
        QTest::addColumn<QString>("type");
        QTest::addColumn<QString>("blocks");
        QTest::addColumn<QString>("dequant");
        QTest::addColumn<int>("rows");
        std::ifstream manifest(dataPath("ggml/manifest.tsv"));
        QVERIFY(manifest);
        std::string line;
        std::getline(manifest, line); // header
        int cases = 0;
        while (std::getline(manifest, line)) {
            std::istringstream f(line);
            std::string input, type, count, inFile, qFile, qBytes, dqFile;
            f >> input >> type >> count >> inFile >> qFile >> qBytes >> dqFile;
            QCOMPARE(count, std::string("8192"));
            for (int rows : {32, 1}) // shapes [32, 256] and [1, 8192]
                QTest::addRow("%s %s [%d, %d]", input.c_str(), type.c_str(), rows, 8192 / rows)
                    << QString::fromStdString(type) << QString::fromStdString(qFile)
                    << QString::fromStdString(dqFile) << rows;
            ++cases;
        }
        QCOMPARE(cases, 48); // 4 inputs x 12 types
    }
    void goldenVectors()
    {
        QFETCH(QString, type);
        QFETCH(QString, blocks);
        QFETCH(QString, dequant);
        QFETCH(int, rows);
        const std::string blockBytes = readAll(dataPath("ggml/" + blocks.toStdString()));
        const std::vector<float> want = readFloats(dataPath("ggml/" + dequant.toStdString()));
        QCOMPARE(want.size(), std::size_t(8192));

        GgufSpec g;
        g.kvs = {kvU32("general.quantization_version", 2)};
        g.tensors = {{"golden",
                      {static_cast<std::uint64_t>(8192 / rows), static_cast<std::uint64_t>(rows)},
                      kTypeIds.at(type.toStdString()),
                      0}};
        g.data = blockBytes;
        const std::string p = path("golden.gguf");
        test::writeFile(p, build(g));

        const auto model = openModel(p);
        QCOMPARE(model->format, std::string("gguf"));
        const TensorInfo& t = model->tensors.at(0);
        QCOMPARE(t.storedType, type.toStdString());
        QCOMPARE(t.shape, (Shape{rows, 8192 / rows}));
        QCOMPARE(t.byteSize, std::uint64_t(blockBytes.size()));
        QVERIFY(isQuantizable(t.dtype));

        test::ThreadExecutor threads(3);
        Control control;
        control.executor = &threads;
        QString first;
        const int diff = bitDifferences(dequantize(*model, t, control), want, &first);
        QVERIFY2(diff == 0,
                 qPrintable(QStringLiteral("%1 values differ; %2").arg(diff).arg(first)));
    }

    // Ranges that start and end inside blocks, in data at odd addresses (alignment 1).
    void rangesInsideBlocks_data()
    {
        QTest::addColumn<QString>("type");
        for (const char* t : {"q4_0", "q5_1", "q8_0", "q3_K", "q4_K", "q6_K"})
            QTest::addRow("%s", t) << QString::fromLatin1(t);
    }
    void rangesInsideBlocks()
    {
        QFETCH(QString, type);
        const std::string name = "normal." + type.toStdString();
        const std::vector<float> want = readFloats(dataPath("ggml/" + name + ".dequant.f32"));
        GgufSpec g;
        g.kvs = {kvU32("general.alignment", 1), kv("pad", 8, gstr("x"))};
        g.tensors = {{"w", {1024, 8}, kTypeIds.at(type.toStdString()), 0}};
        g.alignment = 1;
        g.data = readAll(dataPath("ggml/" + name + ".bin"));
        std::string bytes = build(g);
        if (bytes.size() % 2 == 0) { // make the data start at an odd offset
            g.kvs[1] = kv("pad", 8, gstr("xx"));
            bytes = build(g);
        }
        test::writeFile(path("ranges.gguf"), bytes);
        const auto model = openModel(path("ranges.gguf"));
        const TensorInfo& t = model->tensors.at(0);
        QCOMPARE(t.offset % 2, std::uint64_t(1));

        const TensorSource src(model->data(t), t, 0); // channel = row of 1024
        QCOMPARE(src.channels(), std::int64_t(8));
        std::mt19937 rng(7);
        std::vector<float> got(1024);
        for (int k = 0; k < 300; ++k) {
            const std::int64_t c = static_cast<std::int64_t>(rng() % 8);
            const std::int64_t j = static_cast<std::int64_t>(rng() % 1024);
            const std::int64_t n = 1 + static_cast<std::int64_t>(rng() % (1024 - j));
            src.read(c, j, n, got.data());
            for (std::int64_t i = 0; i < n; ++i)
                QCOMPARE(test::bits(got[static_cast<std::size_t>(i)]),
                         test::bits(want[static_cast<std::size_t>(c * 1024 + j + i)]));
        }
    }

    void fixture()
    {
        const std::string p = dataPath("gguf/k_quants.gguf");
        const Json expected = Json::parse(readAll(dataPath("gguf/k_quants.expected.json")));
        const auto model = openModel(p);
        QCOMPARE(model->format, std::string("gguf"));
        QCOMPARE(model->tensors.size(), expected["tensors"].size());

        // Names, reversed shapes, ggml type names, sizes and 64-byte alignment.
        const auto dataStart = expected["data_start"].get<std::uint64_t>();
        QCOMPARE(dataStart % 64, std::uint64_t(0));
        for (std::size_t i = 0; i < model->tensors.size(); ++i) {
            const TensorInfo& t = model->tensors[i];
            const Json& e = expected["tensors"][i];
            QCOMPARE(t.name, e["name"].get<std::string>());
            QCOMPARE(t.shape, e["shape"].get<Shape>());
            QCOMPARE(t.storedType, e["dtype"].get<std::string>());
            QCOMPARE(t.byteSize, e["bytes"].get<std::uint64_t>());
            QCOMPARE(t.offset, e["offset"].get<std::uint64_t>());
            QCOMPARE(t.offset % 64, std::uint64_t(0));
            QCOMPARE(t.channelAxis, 0);
            QVERIFY(t.strides.empty());
            const bool decodable = e["decodable"].get<bool>();
            QCOMPARE(isQuantizable(t.dtype), decodable);
            if (!decodable) {
                QCOMPARE(t.dtype, DType::GgmlOther);
                QVERIFY_THROWS_EXCEPTION(Error, TensorSource(model->data(t), t, 0));
            }
        }
        QCOMPARE(model->tensors.front().offset, dataStart);
        QCOMPARE(model->find("blk.0.ffn_down.weight")->shape, (Shape{8, 4, 256}));

        // Metadata, every value rendered as text; and the inspect JSON as a whole.
        QCOMPARE(model->metadata, (expected["metadata"].get<std::map<std::string, std::string>>()));
        Json want = expected;
        for (const char* k : {"data_start", "f32_values", "f16_values"})
            want.erase(k);
        for (auto& t : want["tensors"])
            for (const char* k : {"offset", "golden", "decodable"})
                t.erase(k);
        const Json got = inspectJson(*model);
        QVERIFY2(got == want, qPrintable(QString::fromStdString(got.dump(1))));
        QVERIFY(!got.dump().empty()); // serialisable: every string is valid UTF-8

        // Block data decodes to ggml's values; f32 and f16 to the values written.
        for (std::size_t i = 0; i < model->tensors.size(); ++i) {
            const TensorInfo& t = model->tensors[i];
            const Json& e = expected["tensors"][i];
            if (!isQuantizable(t.dtype)) continue;
            std::vector<float> wantValues;
            if (!e["golden"].is_null())
                wantValues =
                    readFloats(dataPath("ggml/" + e["golden"].get<std::string>() + ".dequant.f32"));
            else if (t.storedType == "f32")
                wantValues = expected["f32_values"].get<std::vector<float>>();
            else
                wantValues = expected["f16_values"].get<std::vector<float>>();
            QString first;
            QVERIFY2(bitDifferences(dequantize(*model, t), wantValues, &first) == 0,
                     qPrintable(QString::fromStdString(t.name) + QStringLiteral(": ") + first));
        }

        // Per-channel analysis reads rows of a block tensor through the same decoders.
        const TensorInfo& q4 = *model->find("token_embd.weight");
        TensorQuantizer qz(model->data(q4), q4,
                           QuantSpec{findFormat("int8"), *Granularity::parse("channel")});
        const TensorAnalysis a = analyzeTensor(qz, Control{});
        QCOMPARE(a.sums.count, std::uint64_t(8192));
        QCOMPARE(qz.params().size(), std::size_t(32));
    }

    void versionTwoAndDefaultAlignment()
    {
        const auto model = openModel(dataPath("gguf/v2_default_alignment.gguf"));
        QCOMPARE(model->metadata.at("gguf.version"), std::string("2"));
        QCOMPARE(model->metadata.count("general.alignment"), std::size_t(0));
        QCOMPARE(model->tensors.size(), std::size_t(2));
        const TensorInfo& a = model->tensors[0];
        const TensorInfo& b = model->tensors[1];
        QCOMPARE(a.shape, (Shape{3, 32}));
        QCOMPARE(b.storedType, std::string("q8_0"));
        QCOMPARE(a.offset % 32, std::uint64_t(0));
        QCOMPARE(b.offset, a.offset + 384); // 384 bytes of f32 is already a multiple of 32
        const auto va = dequantize(*model, a);
        QCOMPARE(va.front(), -1.0f);
        QCOMPARE(va.back(), 1.0f);
        const auto want = readFloats(dataPath("ggml/uniform.q8_0.dequant.f32"));
        const auto vb = dequantize(*model, b);
        QVERIFY(std::equal(vb.begin(), vb.end(), want.begin(),
                           [](float x, float y) { return test::bits(x) == test::bits(y); }));
    }

    void recognisedByMagicNotName()
    {
        const std::string p = path("weights.bin");
        test::writeFile(p, readAll(dataPath("gguf/v2_default_alignment.gguf")));
        QVERIFY(GgufReader().canOpen(p));
        QCOMPARE(openModel(p)->format, std::string("gguf"));
        test::writeFile(path("notes.txt"), "GGU"); // too short for the magic
        QVERIFY(!GgufReader().canOpen(path("notes.txt")));
    }

    void edgeCases()
    {
        // No tensors, no metadata; a zero-dimension scalar; a tensor with a zero dimension;
        // invalid UTF-8 in names and values is replaced, so the result can be shown as JSON.
        GgufSpec g;
        g.kvs = {kv("bad\xff.key", 8, gstr("v\xc3"))};
        g.tensors = {{"scalar", {}, 0, 0}, {"empty", {0, 4}, 2, 32}, {"n\xfe", {2}, 0, 64}};
        g.data = test::floatBytes({5.0f}) + std::string(60, '\0') + test::floatBytes({1, 2});
        test::writeFile(path("edge.gguf"), build(g));
        const auto model = openModel(path("edge.gguf"));
        QCOMPARE(model->tensors[0].shape, Shape{});
        QCOMPARE(model->tensors[0].numel(), std::int64_t(1));
        QCOMPARE(model->tensors[1].byteSize, std::uint64_t(0));
        QCOMPARE(model->tensors[2].name, std::string("n\xef\xbf\xbd"));
        QCOMPARE(model->metadata.at("bad\xef\xbf\xbd.key"), std::string("v\xef\xbf\xbd"));
        QVERIFY(!inspectJson(*model).dump().empty());
        QCOMPARE(dequantize(*model, model->tensors[0]).at(0), 5.0f);

        GgufSpec empty;
        test::writeFile(path("empty.gguf"), build(empty));
        QVERIFY(openModel(path("empty.gguf"))->tensors.empty());
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
        const std::string good = build(goodSpec());
        add("empty file", "", "file is truncated");
        add("truncated header", good.substr(0, 14),
            "file is truncated: tensor count needs 8 bytes");
        add("bad magic", "GGML" + good.substr(4), "not a GGUF file");
        {
            GgufSpec g = goodSpec();
            g.version = 1;
            add("version 1", build(g), "GGUF version 1 is not supported");
            g.version = 0x03000000; // 3, most significant byte first
            add("big-endian", build(g), "big-endian GGUF file");
            g.version = 4;
            add("version 4", build(g), "unsupported GGUF version 4");
        }
        {
            GgufSpec g = goodSpec();
            g.tensorCount = std::uint64_t{1} << 62;
            add("huge tensor count", build(g), "tensor count 4611686018427387904 is impossible");
            g = goodSpec();
            g.kvCount = 1000000;
            add("huge kv count", build(g), "metadata count 1000000 is impossible");
            g = goodSpec();
            g.tensorCount = 2; // one real entry: the second is read from the padding and data
            add("more tensors than entries", build(g), "of a tensor name exceeds the remaining");
        }
        {
            GgufSpec g = goodSpec();
            g.kvs = {gstr("general.name") + le(8, 4) + le(1000, 8) + "short"};
            add("string length beyond file", build(g), "string length 1000");
            g.kvs = {le(std::uint64_t{1} << 63, 8) + "key"};
            add("key length beyond file", build(g), "string length 9223372036854775808");
            g = goodSpec();
            g.tensors[0].name = std::string(1, 'w');
            std::string b = build(g);
            const std::size_t nameLen = b.find(gstr("w"));
            b.replace(nameLen, 8, le(5000, 8));
            add("tensor name beyond file", b, "string length 5000");
        }
        {
            GgufSpec g = goodSpec();
            g.tensors[0].ne = {2, 2, 2, 1, 1};
            add("n_dims > 4", build(g), "has 5 dimensions; GGUF allows at most 4");
            g.tensors[0].ne = {std::uint64_t{1} << 32, std::uint64_t{1} << 32};
            add("dim overflow", build(g), "overflow the element count");
            g.tensors[0].ne = {std::uint64_t{1} << 63};
            add("dim beyond int64", build(g), "dimension 9223372036854775808 overflows");
        }
        {
            GgufSpec g = goodSpec();
            g.tensors[0].offset = 4096;
            add("offset beyond file", build(g), "lie beyond the end of the file (128 bytes)");
            g = goodSpec();
            g.tensors[0].ne = {1024};
            add("data beyond file", build(g), "4096 bytes");
            g = goodSpec();
            g.tensors[0].offset = 8;
            g.data += std::string(8, '\0');
            add("misaligned offset", build(g),
                "data offset 8 is not a multiple of the alignment 32");
            g = goodSpec();
            g.tensors = {{"a", {8}, 0, 0}, {"b", {8}, 0, 0}};
            add("overlap", build(g), "overlaps tensor 'a'");
            g.tensors = {{"a", {8}, 0, 0}, {"a", {8}, 0, 32}};
            g.data += std::string(32, '\0');
            add("duplicate tensor", build(g), "duplicate tensor name");
        }
        {
            GgufSpec g = goodSpec();
            g.kvs = {kv("x", 13, le(0, 4))};
            add("unknown metadata type", build(g), "unknown metadata value type 13");
            g.kvs = {kv("x", 9, le(99, 4) + le(1, 8) + le(0, 4))};
            add("unknown array element type", build(g),
                "unknown metadata value type 99 in an array");
            g.kvs = {kv("x", 9, le(4, 4) + (le(std::uint64_t{1} << 40, 8)))};
            add("huge array", build(g), "array of 1099511627776 uint32 values cannot fit");
            std::string nested;
            for (int i = 0; i < 40; ++i)
                nested += le(9, 4) + le(1, 8);
            g.kvs = {kv("x", 9, nested + le(0, 4) + le(0, 8))};
            add("arrays nested too deep", build(g), "nested more than 16 levels deep");
            g.kvs = {kv("x", 7, std::string(1, '\2'))};
            add("invalid bool", build(g), "bool value 2 is neither 0 nor 1");
            g.kvs = {kvU32("x", 1), kvU32("x", 2)};
            add("duplicate key", build(g), "duplicate metadata key");
        }
        {
            GgufSpec g = goodSpec();
            g.kvs = {kvU32("general.alignment", 48)};
            add("alignment not a power of two", build(g),
                "general.alignment 48 is not a power of two");
            g.kvs = {kvU32("general.alignment", 0)};
            add("alignment zero", build(g), "general.alignment 0 is not a power of two");
            g.kvs = {kv("general.alignment", 8, gstr("32"))};
            add("alignment not a number", build(g),
                "general.alignment is a string, not an integer");
            g.kvs = {kv("general.alignment", 5, le(0xffffffe0u, 4))};
            add("alignment negative", build(g), "general.alignment -32 is not a power of two");
        }
        {
            GgufSpec g = goodSpec();
            g.tensors[0] = {"w", {48, 2}, 2, 0};
            g.data = std::string(3 * 18, '\0');
            add("ne[0] not a multiple of the block", build(g),
                "rows of 48 values (ne[0]) are not a multiple of the q4_0 block size 32");
            g.tensors[0].type = 99;
            add("unknown ggml type", build(g), "unknown ggml type id 99");
            g.tensors[0].type = 31;
            add("removed ggml type", build(g), "q4_0_4_4 (id 31) has been removed");
        }
        {
            GgufSpec g = goodSpec();
            g.tensors[0].name = "abcdefghij";
            g.tensors[0].ne = {1, 1, 1, 8};
            const std::string b = build(g);
            const std::size_t info = b.find(gstr("abcdefghij"));
            add("truncated tensor info", b.substr(0, info + 18 + 4 + 16),
                "file is truncated: a dimension");
        }
    }
    void malformed()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, message);
        const std::string p = path("bad.gguf");
        test::writeFile(p, bytes.toStdString());
        try {
            openModel(p);
            QFAIL("no error for a malformed file");
        } catch (const Error& e) {
            const QString what = QString::fromUtf8(e.what());
            QVERIFY2(what.startsWith(QString::fromStdString(p) + QStringLiteral(": ")),
                     qPrintable(what));
            QVERIFY2(what.contains(message), qPrintable(what));
            QVERIFY2(what.contains(QStringLiteral("byte offset ")), qPrintable(what));
        }
    }

    // Every truncation of the fixture's header and random byte damage: an error or a model
    // whose tensors all lie inside the file, never a crash.
    void damagedFilesFailCleanly()
    {
        const std::string good = readAll(dataPath("gguf/k_quants.gguf"));
        const std::string p = path("damaged.gguf");
        auto check = [&](const std::string& bytes) {
            test::writeFile(p, bytes);
            try {
                const auto model = openModel(p);
                for (const auto& t : model->tensors) {
                    QVERIFY(t.offset + t.byteSize <= bytes.size());
                    if (isQuantizable(t.dtype)) dequantize(*model, t);
                }
            } catch (const Error&) {
            }
        };
        const Json expected = Json::parse(readAll(dataPath("gguf/k_quants.expected.json")));
        const auto dataStart = expected["data_start"].get<std::size_t>();
        for (std::size_t n = 0; n < dataStart; n += 3)
            check(good.substr(0, n));
        std::mt19937 rng(11);
        for (int k = 0; k < 400; ++k) {
            std::string bad = good;
            for (int f = 0; f < 4; ++f)
                bad[rng() % dataStart] = static_cast<char>(rng());
            check(bad);
        }
    }
};

QTEST_APPLESS_MAIN(TestGguf)
#include "tst_gguf.moc"
