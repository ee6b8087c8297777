// Fixtures for tests/engine/tst_export.cpp: source models built from raw bytes (safetensors,
// GGUF from the specification, in-memory golden vectors), the engine's reference stored forms,
// and helpers to run the independent readers.
#pragma once

#include "../engine/testutil.h"
#include "gguf_builder.h"

#include "analysis/tensor_quantizer.h"
#include "core/error.h"
#include "export/export.h"
#include "formats/calibration.h"
#include "formats/encoded.h"
#include "formats/half.h"
#include "io/model.h"

#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace qs::exporttest {

using test::GgufBuilder;
using test::readAll;

inline const std::string kData = QS_TEST_DATA;
inline const QString kExportDir = QStringLiteral(QS_TEST_DATA "/../export");

struct Src
{
    std::string name;
    DType dtype;
    Shape shape;
    std::string bytes;
};

inline std::string bytesOf(const void* p, std::size_t n)
{
    return std::string(static_cast<const char*>(p), n);
}

template <typename T, typename A> std::string bytesOf(const std::vector<T, A>& v)
{
    return bytesOf(v.data(), v.size() * sizeof(T));
}

inline std::string halfBytes(const std::vector<float>& v, bool bf16)
{
    std::vector<std::uint16_t> h;
    for (const float x : v)
        h.push_back(bf16 ? f32ToBf16(x) : f32ToF16(x));
    return bytesOf(h);
}

// A safetensors file put together here from raw bytes (not by a writer under test).
inline void writeSafetensors(const std::string& path, const std::vector<Src>& tensors)
{
    nlohmann::ordered_json h = nlohmann::ordered_json::object();
    std::string data;
    for (const auto& t : tensors) {
        h[t.name] = {{"dtype", std::string(dtypeName(t.dtype))},
                     {"shape", t.shape},
                     {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
        data += t.bytes;
    }
    test::writeFile(path, test::rawSafetensors(h.dump(), data));
}

inline QuantSpec spec(const char* format, const char* granularity = "tensor")
{
    return {findFormat(format), *Granularity::parse(granularity)};
}

// Tensors in file order; those named in `specs` are quantized, the others kept.
inline std::vector<ExportTensor> plan(const Model& m, const std::map<std::string, QuantSpec>& specs)
{
    std::vector<ExportTensor> out;
    for (const auto& t : m.tensors) {
        ExportTensor e{&t, std::nullopt};
        if (const auto it = specs.find(t.name); it != specs.end()) e.spec = it->second;
        out.push_back(e);
    }
    return out;
}

// The engine's stored form of a tensor and its dequantized values in row-major order.
struct Reference
{
    EncodedTensor enc;
    std::vector<float> values;
};

inline Reference reference(const Model& m, const TensorInfo& t, const QuantSpec& s)
{
    TensorQuantizer qz(m.data(t), t, s);
    Reference r{encodeTensor(qz, Control{}), {}};
    const auto n = static_cast<std::size_t>(t.numel());
    std::vector<float> logical(n);
    decodeTensor(r.enc, qz, logical.data(), Control{});
    r.values.resize(n);
    const std::int64_t per = qz.source().perChannel();
    for (std::int64_t e = 0; e < t.numel(); ++e)
        r.values[static_cast<std::size_t>(qz.source().memoryIndex(e / per, e % per))] =
            logical[static_cast<std::size_t>(e)];
    return r;
}

inline QStringList entries(const QTemporaryDir& dir)
{
    return QDir(dir.path()).entryList(QDir::Files | QDir::NoDotAndDotDot, QDir::Name);
}

// The call must throw a qs::Error that starts with "<out>: " and says each of `parts`.
template <typename F> void expectError(F&& f, const std::string& out, const QStringList& parts)
{
    try {
        f();
        QFAIL("no error");
    } catch (const Error& e) {
        const QString what = QString::fromUtf8(e.what());
        QVERIFY2(what.startsWith(QString::fromStdString(out) + QStringLiteral(": ")),
                 qPrintable(what));
        for (const auto& p : parts)
            QVERIFY2(what.contains(p), qPrintable(what + QStringLiteral(" lacks ") + p));
    }
}

inline QByteArray run(const QString& program, const QStringList& args)
{
    QProcess p;
    p.start(program, args);
    if (!p.waitForFinished(120000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
        qWarning("%s failed: %s", qPrintable(program), p.readAllStandardError().constData());
    return p.exitCode() == 0 ? p.readAllStandardOutput() : QByteArray();
}

// Debian's python3 (numpy, h5py): the first python3 on PATH may be another installation.
inline QString pythonWithNumpy()
{
    for (const QString& py : {QStringLiteral("/usr/bin/python3"),
                              QStandardPaths::findExecutable(QStringLiteral("python3"))}) {
        if (py.isEmpty() || !QFileInfo::exists(py)) continue;
        QProcess p;
        p.start(py, {QStringLiteral("-c"), QStringLiteral("import numpy")});
        if (p.waitForFinished(60000) && p.exitCode() == 0) return py;
    }
    return {};
}

inline const std::map<std::string, std::uint32_t> kGgmlIds = {
    {"f32", 0},  {"f16", 1},   {"q4_0", 2},  {"q4_1", 3},    {"q5_0", 6},  {"q5_1", 7},
    {"q8_0", 8}, {"q2_K", 10}, {"q3_K", 11}, {"q4_K", 12},   {"q5_K", 13}, {"q6_K", 14},
    {"i16", 25}, {"i32", 26},  {"bf16", 30}, {"iq2_xxs", 16}};

inline constexpr const char* kGoldenInputs[] = {"normal", "outliers", "uniform", "edge"};
// ggml's type name (golden file names) -> QuantScope format
inline const std::pair<const char*, const char*> kGoldenTypes[] = {
    {"q8_0", "q8_0"}, {"q4_0", "q4_0"}, {"q4_1", "q4_1"}, {"q5_0", "q5_0"},
    {"q5_1", "q5_1"}, {"q2_K", "q2_K"}, {"q3_K", "q3_K"}, {"q4_K", "q4_K"},
    {"q5_K", "q5_K"}, {"q6_K", "q6_K"}, {"f16", "fp16"},  {"bf16", "bf16"}};

// Every golden input under every ggml type, as [32, 256] tensors of one in-memory model (all
// reading the same input bytes), plus a kept tensor whose size needs padding.
struct GoldenCase
{
    Model model;
    std::string out;
};

inline GoldenCase goldenCase(const QTemporaryDir& dir)
{
    GoldenCase g;
    std::vector<std::byte> all;
    for (const char* input : kGoldenInputs) {
        const std::string b = readAll(kData + "/ggml/" + input + ".f32");
        for (const char c : b)
            all.push_back(static_cast<std::byte>(c));
    }
    const std::vector<float> kept = test::normalData(15, 3);
    for (const float x : kept) {
        std::byte b[4];
        std::memcpy(b, &x, 4);
        all.insert(all.end(), b, b + 4);
    }
    g.model.path = dir.filePath(QStringLiteral("golden-source")).toStdString();
    g.model.format = "memory";
    g.model.files.push_back(std::make_shared<OwnedBytes>(g.model.path, std::move(all)));
    std::uint64_t at = 0;
    for (const char* input : kGoldenInputs) {
        for (const auto& [type, format] : kGoldenTypes) {
            TensorInfo t = test::f32Info(std::string(input) + "." + type, Shape{32, 256});
            t.offset = at;
            g.model.tensors.push_back(t);
        }
        at += 8192 * 4;
        if (input == std::string("uniform")) { // in the middle, so that padding follows it
            TensorInfo t = test::f32Info("kept.f32", Shape{3, 5});
            t.offset = 4 * 8192 * 4;
            g.model.tensors.push_back(t);
        }
    }
    g.out = dir.filePath(QStringLiteral("golden.gguf")).toStdString();
    return g;
}

inline std::vector<ExportTensor> goldenPlan(const Model& m)
{
    std::map<std::string, QuantSpec> specs;
    for (const char* input : kGoldenInputs)
        for (const auto& [type, format] : kGoldenTypes)
            specs[std::string(input) + "." + type] = spec(format);
    return plan(m, specs);
}

// A GGUF source with metadata of every type (nested and empty arrays included), alignment 64,
// and tensors of several types; exported with two tensors requantized.
struct MetadataCase
{
    GgufBuilder builder;
    std::string src, out;
    std::vector<float> a, e;
};

inline MetadataCase metadataCase(const QTemporaryDir& dir)
{
    MetadataCase m;
    GgufBuilder& b = m.builder;
    b.addString("general.architecture", "llama");
    b.addInt("t.u8", GgufBuilder::U8, 200, 1);
    b.addInt("t.i8", GgufBuilder::I8, static_cast<std::uint8_t>(-5), 1);
    b.addInt("t.u16", GgufBuilder::U16, 60000, 2);
    b.addInt("t.i16", GgufBuilder::I16, static_cast<std::uint16_t>(-300), 2);
    b.addInt("t.u32", GgufBuilder::U32, 4000000000u, 4);
    b.addInt("t.i32", GgufBuilder::I32, static_cast<std::uint32_t>(-70000), 4);
    b.add("t.f32", GgufBuilder::F32, GgufBuilder::f32(1.5f));
    b.addInt("t.bool", GgufBuilder::Bool, 1, 1);
    b.addInt("t.u64", GgufBuilder::U64, (std::uint64_t{1} << 63) + 5, 8);
    b.addInt("t.i64", GgufBuilder::I64, static_cast<std::uint64_t>(-(std::int64_t{1} << 40)), 8);
    b.add("t.f64", GgufBuilder::F64, GgufBuilder::f64(0.1));
    std::string arr;
    GgufBuilder::le(arr, GgufBuilder::I32, 4);
    GgufBuilder::le(arr, 3, 8);
    for (const std::int32_t v : {1, -2, 3})
        GgufBuilder::le(arr, static_cast<std::uint32_t>(v), 4);
    b.add("t.ints", GgufBuilder::Array, arr);
    std::string strs;
    GgufBuilder::le(strs, GgufBuilder::String, 4);
    GgufBuilder::le(strs, 2, 8);
    GgufBuilder::str(strs, "a");
    GgufBuilder::str(strs, "bc");
    b.add("t.strings", GgufBuilder::Array, strs);
    std::string nested; // [[1, 2], [3]] as arrays of uint8
    GgufBuilder::le(nested, GgufBuilder::Array, 4);
    GgufBuilder::le(nested, 2, 8);
    for (const std::string& inner : {std::string("\x01\x02", 2), std::string("\x03", 1)}) {
        GgufBuilder::le(nested, GgufBuilder::U8, 4);
        GgufBuilder::le(nested, inner.size(), 8);
        nested += inner;
    }
    b.add("t.nested", GgufBuilder::Array, nested);
    std::string empty;
    GgufBuilder::le(empty, GgufBuilder::F32, 4);
    GgufBuilder::le(empty, 0, 8);
    b.add("t.empty", GgufBuilder::Array, empty);
    b.setAlignment(64);
    b.addString("general.name", "tiny");

    m.a = test::normalData(256, 11);
    m.e = test::normalData(64, 12);
    b.tensor("a.weight", {64, 4}, 0, bytesOf(m.a));
    b.tensor("b.half", {5, 3}, 1, halfBytes(test::normalData(15, 13), false));
    b.tensor("c.ids", {7}, 26, bytesOf(std::vector<std::int32_t>{1, -2, 3, 4, 5, 6, 7}));
    b.tensor("d.q8", {32, 2}, 8, readAll(kData + "/ggml/normal.q8_0.bin").substr(0, 68));
    b.tensor("e.weight", {32, 2}, 0, bytesOf(m.e));
    std::string iq(66, '\0'); // a type QuantScope cannot decode, kept as it is
    for (std::size_t i = 0; i < iq.size(); ++i)
        iq[i] = static_cast<char>(i * 37 + 11);
    b.tensor("f.iq", {256}, 16, iq);
    m.src = dir.filePath(QStringLiteral("meta-source.gguf")).toStdString();
    m.out = dir.filePath(QStringLiteral("meta.gguf")).toStdString();
    test::writeFile(m.src, b.build());
    return m;
}

inline std::map<std::string, QuantSpec> metadataSpecs()
{
    return {{"a.weight", spec("q4_0")}, {"e.weight", spec("fp16")}};
}

// A safetensors source for the packed and HDF5 exports: integer formats at every granularity
// (two with the channel on axis 1, as Keras kernels have it), every ggml format, the plain float
// formats, and kept tensors of several types.
struct PackedCase
{
    std::string src;
    Model model;
    std::map<std::string, QuantSpec> specs;
};

inline PackedCase packedCase(const QTemporaryDir& dir)
{
    PackedCase pc;
    pc.src = dir.filePath(QStringLiteral("source.safetensors")).toStdString();
    const auto normal = [](std::int64_t n, unsigned seed) {
        auto v = test::normalData(static_cast<std::size_t>(n), seed);
        for (std::size_t i = 0; i < v.size(); i += 97)
            v[i] *= 25.0f; // outliers
        return v;
    };
    std::vector<Src> src = {
        {"w.int8c", DType::F32, {8, 40}, bytesOf(normal(320, 1))},
        {"w.int4g", DType::BF16, {6, 50}, halfBytes(normal(300, 2), true)},
        {"w.uint8t", DType::F32, {5, 7}, bytesOf(normal(35, 3))},
        {"w.uint4g", DType::F16, {4, 33}, halfBytes(normal(132, 4), false)},
        {"k.int4c", DType::F32, {12, 10}, bytesOf(normal(120, 5))},
        {"k.uint4g", DType::F32, {10, 6}, bytesOf(normal(60, 6))},
        {"layers/0/w%x", DType::F32, {3, 4}, bytesOf(normal(12, 7))},
        {"w.fp16", DType::F32, {3, 4}, bytesOf(normal(12, 8))},
        {"w.bf16", DType::F32, {3, 4}, bytesOf(normal(12, 9))},
        {"bias", DType::F32, {7}, bytesOf(normal(7, 10))},
        {"ids", DType::I64, {5}, bytesOf(std::vector<std::int64_t>{-1, 0, 1, 1 << 20, 7})},
        {"mask", DType::BOOL, {4}, std::string("\x01\x00\x00\x01", 4)},
        {"half", DType::F16, {2, 3}, halfBytes(normal(6, 11), false)},
        {"bfk", DType::BF16, {3}, halfBytes(normal(3, 12), true)},
        {"n.fp8", DType::F32, {6, 20}, bytesOf(normal(120, 14))},
        {"n.fp8g", DType::F16, {5, 24}, halfBytes(normal(120, 15), false)},
        {"n.nf4", DType::F32, {3, 50}, bytesOf(normal(150, 16))},
        {"n.mx", DType::F32, {4, 40}, bytesOf(normal(160, 17))},
        {"n.int3", DType::F32, {7, 9}, bytesOf(normal(63, 18))},
        {"n.uint5", DType::F32, {5, 11}, bytesOf(normal(55, 19))},
        {"n.hqq", DType::F32, {4, 40}, bytesOf(normal(160, 20))}};
    for (const auto& [type, format] : kGoldenTypes)
        if (findFormat(format)->ggmlBlock())
            src.push_back(
                {std::string("g.") + type, DType::F32, {2, 512}, bytesOf(normal(1024, 13))});
    writeSafetensors(pc.src, src);
    pc.model = *openModel(pc.src);
    for (auto& t : pc.model.tensors)
        if (t.name.starts_with("k.")) t.channelAxis = 1;
    pc.specs = {{"w.int8c", spec("int8", "channel")},
                {"w.int4g", spec("int4", "group:16")},
                {"w.uint8t", spec("uint8")},
                {"w.uint4g", spec("uint4", "group:8")},
                {"k.int4c", spec("int4", "channel")},
                {"k.uint4g", spec("uint4", "group:4")},
                {"layers/0/w%x", spec("int8", "group:5")},
                {"w.fp16", spec("fp16")},
                {"w.bf16", spec("bf16")},
                {"n.fp8", spec("fp8_e4m3", "channel")},
                {"n.fp8g", spec("fp8_e5m2", "group:16")},
                {"n.nf4", spec("nf4", "group:64")},
                {"n.mx", spec("mxfp4")},
                {"n.int3", spec("int3", "group:8")},
                {"n.uint5", spec("uint5", "channel")}};
    QuantSpec hqq = spec("uint4", "group:16");
    hqq.calibration = *Calibration::parse("hqq");
    pc.specs["n.hqq"] = hqq;
    for (const auto& [type, format] : kGoldenTypes)
        if (findFormat(format)->ggmlBlock()) pc.specs[std::string("g.") + type] = spec(format);
    return pc;
}

// The parts README.md's layout puts in a file for a stored form: role, dtype and bytes.
struct Part
{
    std::string role;
    DType dtype;
    std::string bytes;
};

inline std::vector<Part> expectedParts(const EncodedTensor& e)
{
    std::vector<Part> p = {{"codes", DType::U8, bytesOf(e.codes)}};
    if (!e.scales.empty()) p.push_back({"scales", DType::F32, bytesOf(e.scales)});
    if (!e.scales16.empty()) p.push_back({"scales", DType::F16, bytesOf(e.scales16)});
    if (!e.scalesE8M0.empty()) p.push_back({"scales", DType::U8, bytesOf(e.scalesE8M0)});
    if (!e.zeroPoints.empty()) p.push_back({"zeros", DType::U8, bytesOf(e.zeroPoints)});
    if (!e.zeros16.empty()) p.push_back({"zeros", DType::F16, bytesOf(e.zeros16)});
    return p;
}

inline std::string tensorBytes(const Model& m, const std::string& name)
{
    const TensorInfo* t = m.find(name);
    if (!t) return "<missing " + name + ">";
    const auto b = m.data(*t);
    return bytesOf(b.data(), b.size());
}

inline std::vector<float> f32Values(const Model& m, const std::string& name)
{
    const std::string b = tensorBytes(m, name);
    std::vector<float> v(b.size() / 4);
    std::memcpy(v.data(), b.data(), v.size() * 4);
    return v;
}

inline std::vector<float> widen(const std::vector<std::uint16_t>& h, bool bf16)
{
    std::vector<float> v;
    for (const auto x : h)
        v.push_back(bf16 ? bf16ToF32(x) : f16ToF32(x));
    return v;
}

inline std::vector<std::uint16_t> halves(const std::string& b)
{
    std::vector<std::uint16_t> h(b.size() / 2);
    std::memcpy(h.data(), b.data(), h.size() * 2);
    return h;
}

inline bool sameBits(const std::vector<float>& a, const std::vector<float>& b)
{
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

} // namespace qs::exporttest
