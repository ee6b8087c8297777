// Exports. GGUF: ggml's golden blocks (tests/data/ggml, from ggml's reference quantizers) land
// byte for byte in the written file; metadata of a GGUF source (built here byte by byte from
// the GGUF specification) is copied with its exact types; @huggingface/gguf, an independent
// reader, sees the same tensors and metadata. Packed safetensors: parts and their description,
// and tests/export/load_packed.py (NumPy only) dequantizes to the engine's decodeTensor values
// bit for bit. (HDF5: tst_exporthdf5.cpp.) Refusals, atomic writes, cancellation.
#include "../export/export_fixtures.h"
#include "../export/hdf5_read.h"
#include "formats/ggml_quantize.h"
#include "testutil.h"

#include <QDir>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <cmath>

using namespace qs;
using namespace qs::exporttest;
using json = nlohmann::json;

class TestExport : public QObject
{
    Q_OBJECT

private slots:
    // Missing datasets and attributes are looked for on purpose: keep libhdf5 quiet about them.
    void initTestCase() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

    void formatForPath_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<int>("format"); // -1: none
        QTest::addRow("gguf") << "m.gguf" << int(ExportFormat::Gguf);
        QTest::addRow("upper case") << "dir.x/M.GGUF" << int(ExportFormat::Gguf);
        QTest::addRow("safetensors") << "m.safetensors" << int(ExportFormat::PackedSafetensors);
        QTest::addRow("h5") << "m.h5" << int(ExportFormat::Hdf5);
        QTest::addRow("hdf5") << "m.hdf5" << int(ExportFormat::Hdf5);
        QTest::addRow("bin") << "m.bin" << -1;
        QTest::addRow("none") << "gguf" << -1;
    }
    void formatForPath()
    {
        QFETCH(QString, path);
        QFETCH(int, format);
        const auto f = exportFormatForPath(path.toStdString());
        QCOMPARE(f ? int(*f) : -1, format);
    }

    void unknownExtensionRefused()
    {
        QTemporaryDir dir;
        const std::string src = dir.filePath(QStringLiteral("s.safetensors")).toStdString();
        writeSafetensors(src, {{"w", DType::F32, {2}, bytesOf(std::vector<float>{1, 2})}});
        const auto m = openModel(src);
        const std::string out = dir.filePath(QStringLiteral("out.onnx")).toStdString();
        const auto tensors = plan(*m, {});
        expectError([&] { exportModel(out, *m, tensors); }, out, {QStringLiteral(".gguf")});
        QCOMPARE(entries(dir), QStringList{QStringLiteral("s.safetensors")});
    }

    // Every golden input under every ggml type (and fp16/bf16) in one mixed GGUF: the tensor
    // data is ggml's blocks byte for byte, read back by QuantScope's GGUF reader.
    void ggufGoldenBlocks()
    {
        QTemporaryDir dir;
        GoldenCase g = goldenCase(dir);
        const auto tensors = goldenPlan(g.model);
        exportModel(g.out, g.model, tensors);
        const std::string file = readAll(g.out);
        QCOMPARE(file.substr(0, 8), std::string("GGUF\x03\0\0\0", 8));
        const auto back = openModel(g.out);
        QCOMPARE(back->tensors.size(), g.model.tensors.size());
        int checked = 0;
        for (std::size_t i = 0; i < back->tensors.size(); ++i) {
            const TensorInfo& t = back->tensors[i];
            QCOMPARE(t.name, g.model.tensors[i].name); // file order kept
            QCOMPARE(t.shape,
                     (Shape{t.name == "kept.f32" ? 3 : 32, t.name == "kept.f32" ? 5 : 256}));
            QCOMPARE(t.offset % 32, std::uint64_t(0));
            const std::string got = file.substr(t.offset, t.byteSize);
            if (t.name == "kept.f32") {
                QCOMPARE(t.storedType, std::string("f32"));
                const auto src = g.model.data(g.model.tensors[i]);
                QCOMPARE(got, bytesOf(src.data(), src.size()));
                continue;
            }
            const std::string type = t.name.substr(t.name.find('.') + 1);
            QCOMPARE(t.storedType, type);
            const std::string want = readAll(kData + "/ggml/" + t.name + ".bin");
            QVERIFY2(got == want, t.name.c_str());
            ++checked;
        }
        QCOMPARE(checked, 48);
        QCOMPARE(entries(dir), QStringList{QStringLiteral("golden.gguf")}); // no .part left
    }

    // Metadata of a GGUF source is copied byte for byte (so every type, array and nested array
    // is kept), general.alignment = 64 is honoured, kept tensors keep their type and bytes.
    void ggufMetadataAndKeptTensors()
    {
        QTemporaryDir dir;
        MetadataCase mc = metadataCase(dir);
        const auto src = openModel(mc.src);
        exportModel(mc.out, *src, plan(*src, metadataSpecs()));
        const std::string file = readAll(mc.out);
        std::string head = "GGUF";
        GgufBuilder::le(head, 3, 4);
        GgufBuilder::le(head, 6, 8);
        GgufBuilder::le(head, mc.builder.metadataCount(), 8);
        QCOMPARE(file.substr(0, 24), head);
        QCOMPARE(file.substr(24, mc.builder.rawMetadata().size()), mc.builder.rawMetadata());

        const auto back = openModel(mc.out);
        QCOMPARE(back->metadata, src->metadata);
        for (const auto& t : back->tensors) {
            QCOMPARE(t.offset % 64, std::uint64_t(0));
            const TensorInfo& s = *src->find(t.name);
            QCOMPARE(t.shape, s.shape);
            const std::string got = file.substr(t.offset, t.byteSize);
            if (t.name == "a.weight") {
                QCOMPARE(t.storedType, std::string("q4_0"));
                std::vector<std::byte> want(4 * 2 * 18);
                quantizeRowGgml(DType::Q4_0, mc.a.data(), 256, want.data());
                QCOMPARE(got, bytesOf(want.data(), want.size()));
            } else if (t.name == "e.weight") {
                QCOMPARE(t.storedType, std::string("f16"));
                QCOMPARE(got, halfBytes(mc.e, false));
            } else {
                QCOMPARE(t.storedType, s.storedType);
                const auto sb = src->data(s);
                QCOMPARE(got, bytesOf(sb.data(), sb.size()));
            }
        }
    }

    // @huggingface/gguf (npm) reads the same tensor infos and typed metadata.
    void ggufIndependentReader()
    {
        const QString node = QStandardPaths::findExecutable(QStringLiteral("node"));
        if (node.isEmpty()) QSKIP("node is not installed");
        if (!QFileInfo::exists(kExportDir + "/node_modules/@huggingface/gguf/package.json"))
            QSKIP("@huggingface/gguf is not installed: run npm ci --prefix tests/export");
        QTemporaryDir dir;
        const QString script = kExportDir + QStringLiteral("/read_gguf.mjs");

        GoldenCase g = goldenCase(dir);
        exportModel(g.out, g.model, goldenPlan(g.model));
        const json golden =
            json::parse(run(node, {script, QString::fromStdString(g.out)}).toStdString());
        QCOMPARE(golden["version"].get<int>(), 3);
        const auto ours = openModel(g.out);
        const auto base = std::stoull(golden["tensorDataOffset"].get<std::string>());
        QCOMPARE(golden["tensors"].size(), ours->tensors.size());
        for (std::size_t i = 0; i < ours->tensors.size(); ++i) {
            const json& t = golden["tensors"][i];
            const TensorInfo& o = ours->tensors[i];
            QCOMPARE(t["name"].get<std::string>(), o.name);
            QCOMPARE(t["dtype"].get<std::uint32_t>(), kGgmlIds.at(o.storedType));
            QCOMPARE(t["n_dims"].get<int>(), 2);
            QCOMPARE(t["shape"], json({std::to_string(o.shape[1]), std::to_string(o.shape[0])}));
            QCOMPARE(base + std::stoull(t["offset"].get<std::string>()), o.offset);
        }
        QCOMPARE(golden["metadata"]["general.alignment"], json({{"type", 4}, {"value", 32}}));

        MetadataCase mc = metadataCase(dir);
        const auto src = openModel(mc.src);
        exportModel(mc.out, *src, plan(*src, metadataSpecs()));
        const json meta =
            json::parse(run(node, {script, QString::fromStdString(mc.out)}).toStdString());
        const json want = {{"general.architecture", {{"type", 8}, {"value", "llama"}}},
                           {"t.u8", {{"type", 0}, {"value", 200}}},
                           {"t.i8", {{"type", 1}, {"value", -5}}},
                           {"t.u16", {{"type", 2}, {"value", 60000}}},
                           {"t.i16", {{"type", 3}, {"value", -300}}},
                           {"t.u32", {{"type", 4}, {"value", 4000000000u}}},
                           {"t.i32", {{"type", 5}, {"value", -70000}}},
                           {"t.f32", {{"type", 6}, {"value", 1.5}}},
                           {"t.bool", {{"type", 7}, {"value", true}}},
                           {"t.u64", {{"type", 10}, {"value", "9223372036854775813"}}},
                           {"t.i64", {{"type", 11}, {"value", "-1099511627776"}}},
                           {"t.f64", {{"type", 12}, {"value", 0.1}}},
                           {"t.ints", {{"type", 9}, {"subType", 5}, {"value", {1, -2, 3}}}},
                           {"t.strings", {{"type", 9}, {"subType", 8}, {"value", {"a", "bc"}}}},
                           {"t.nested", {{"type", 9}, {"subType", 9}, {"value", {{1, 2}, {3}}}}},
                           {"t.empty", {{"type", 9}, {"subType", 6}, {"value", json::array()}}},
                           {"general.alignment", {{"type", 4}, {"value", 64}}},
                           {"general.name", {{"type", 8}, {"value", "tiny"}}}};
        QCOMPARE(meta["metadata"].dump(), want.dump());
        const auto back = openModel(mc.out);
        const auto mbase = std::stoull(meta["tensorDataOffset"].get<std::string>());
        QCOMPARE(mbase % 64, 0ull);
        QCOMPARE(meta["tensors"].size(), back->tensors.size());
        for (std::size_t i = 0; i < back->tensors.size(); ++i) {
            const json& t = meta["tensors"][i];
            const TensorInfo& o = back->tensors[i];
            QCOMPARE(t["name"].get<std::string>(), o.name);
            QCOMPARE(t["dtype"].get<std::uint32_t>(), kGgmlIds.at(o.storedType));
            json ne = json::array();
            for (auto it = o.shape.rbegin(); it != o.shape.rend(); ++it)
                ne.push_back(std::to_string(*it));
            QCOMPARE(t["shape"], ne);
            QCOMPARE(mbase + std::stoull(t["offset"].get<std::string>()), o.offset);
        }
    }

    void ggufRefusals_data()
    {
        QTest::addColumn<QString>("format"); // "" keeps the tensor
        QTest::addColumn<QString>("granularity");
        QTest::addColumn<QString>("name");
        QTest::addColumn<QList<qint64>>("shape");
        QTest::addColumn<QStringList>("message");
        const QList<qint64> mat{4, 64};
        QTest::addRow("int8") << "int8"
                              << "channel"
                              << "w" << mat
                              << QStringList{"tensor 'w'", "format int8", "no GGUF type"};
        QTest::addRow("uint4") << "uint4"
                               << "group:32"
                               << "w" << mat
                               << QStringList{"tensor 'w'", "format uint4", "no GGUF type"};
        QTest::addRow("5-D") << ""
                             << "tensor"
                             << "conv3d" << QList<qint64>{1, 1, 1, 2, 32}
                             << QStringList{"tensor 'conv3d'", "5 dimensions", "at most 4"};
        const QString longName(64, QLatin1Char('n'));
        QTest::addRow("long name") << ""
                                   << "tensor" << longName << mat
                                   << QStringList{"tensor '" + longName + "'", "at most 63"};
        QTest::addRow("partial block")
            << "q4_K"
            << "tensor"
            << "w" << QList<qint64>{2, 100} << QStringList{"tensor 'w'", "not a multiple", "256"};
    }
    // Refused before anything is written: no output, no temporary file, an existing file kept.
    void ggufRefusals()
    {
        QFETCH(QString, format);
        QFETCH(QString, granularity);
        QFETCH(QString, name);
        QFETCH(QList<qint64>, shape);
        QFETCH(QStringList, message);
        QTemporaryDir dir;
        const std::string src = dir.filePath(QStringLiteral("s.safetensors")).toStdString();
        const Shape s(shape.begin(), shape.end());
        writeSafetensors(src, {{name.toStdString(), DType::F32, s,
                                bytesOf(test::normalData(std::size_t(shapeNumel(s)), 1))}});
        const auto m = openModel(src);
        std::map<std::string, QuantSpec> specs;
        if (!format.isEmpty())
            specs[name.toStdString()] =
                spec(format.toUtf8().constData(), granularity.toUtf8().constData());
        const std::string out = dir.filePath(QStringLiteral("out.gguf")).toStdString();
        test::writeFile(out, "previous");
        expectError([&] { exportGguf(out, *m, plan(*m, specs)); }, out, message);
        QCOMPARE(entries(dir),
                 (QStringList{QStringLiteral("out.gguf"), QStringLiteral("s.safetensors")}));
        QCOMPARE(readAll(out), std::string("previous"));
    }

    void sourceFileRefused()
    {
        QTemporaryDir dir;
        MetadataCase mc = metadataCase(dir);
        const auto m = openModel(mc.src);
        const std::string before = readAll(mc.src);
        for (const std::string& out :
             {mc.src, dir.filePath(QStringLiteral("./meta-source.gguf")).toStdString()})
            expectError([&] { exportGguf(out, *m, plan(*m, {})); }, out,
                        {QStringLiteral("is a file of the source model")});
        QCOMPARE(readAll(mc.src), before);
        // Packed safetensors and HDF5 refuse the same way.
        const std::string st = dir.filePath(QStringLiteral("s.safetensors")).toStdString();
        writeSafetensors(st, {{"w", DType::F32, {2}, bytesOf(std::vector<float>{1, 2})}});
        const auto sm = openModel(st);
        expectError([&] { exportPackedSafetensors(st, *sm, plan(*sm, {})); }, st,
                    {QStringLiteral("source model")});
        expectError([&] { exportHdf5(st, *sm, plan(*sm, {})); }, st,
                    {QStringLiteral("source model")});
    }

    // Kept tensors without a GGUF type become F32 with their exact values; strided and
    // big-endian sources are rewritten row-major little-endian.
    void ggufKeptConversions()
    {
        QTemporaryDir dir;
        const std::string src = dir.filePath(QStringLiteral("s.safetensors")).toStdString();
        const std::vector<float> bf = {1.5f, -2.25f, 3e38f};
        writeSafetensors(src,
                         {{"e4m3", DType::F8_E4M3, {6}, std::string("\x38\x7e\x01\xb8\x7f\x00", 6)},
                          {"e5m2", DType::F8_E5M2, {4}, "\x3c\x7b\x01\xfc"},
                          {"u8", DType::U8, {3}, std::string("\x00\x07\xff", 3)},
                          {"mask", DType::BOOL, {3}, std::string("\x01\x00\x01", 3)},
                          {"scalar", DType::F32, {}, bytesOf(std::vector<float>{2.5f})},
                          {"bf", DType::BF16, {3}, halfBytes(bf, true)},
                          {"i16", DType::I16, {2}, bytesOf(std::vector<std::int16_t>{-3, 700})}});
        const auto m = openModel(src);
        const std::string out = dir.filePath(QStringLiteral("k.gguf")).toStdString();
        exportGguf(out, *m, plan(*m, {}));
        const auto back = openModel(out);
        const std::string file = readAll(out);
        const auto floats = [&](const std::string& name) {
            const TensorInfo& t = *back->find(name);
            std::vector<float> v(static_cast<std::size_t>(t.numel()));
            std::memcpy(v.data(), file.data() + t.offset, v.size() * 4);
            return v;
        };
        QCOMPARE(back->find("e4m3")->storedType, std::string("f32"));
        const auto e4 = floats("e4m3");
        QCOMPARE(e4[0], 1.0f);
        QCOMPARE(e4[1], 448.0f);
        QCOMPARE(e4[2], std::ldexp(1.0f, -9));
        QCOMPARE(e4[3], -1.0f);
        QVERIFY(std::isnan(e4[4]));
        QCOMPARE(e4[5], 0.0f);
        QCOMPARE(floats("e5m2"), (std::vector<float>{1.0f, 57344.0f, std::ldexp(1.0f, -16),
                                                     -std::numeric_limits<float>::infinity()}));
        QCOMPARE(floats("u8"), (std::vector<float>{0, 7, 255}));
        QCOMPARE(floats("mask"), (std::vector<float>{1, 0, 1}));
        QCOMPARE(back->find("bf")->storedType, std::string("bf16"));
        QCOMPARE(file.substr(back->find("bf")->offset, 6), halfBytes(bf, true));
        QCOMPARE(back->find("i16")->storedType, std::string("i16"));
        QCOMPARE(back->find("scalar")->shape, Shape{1}); // ggml has no 0-d tensors
        QCOMPARE(floats("scalar"), std::vector<float>{2.5f});

        // A big-endian, Fortran-order .npy: values i * 10 + j of a [3, 4] matrix.
        std::string header = "{'descr': '>f4', 'fortran_order': True, 'shape': (3, 4), }";
        header.append(128 - 10 - header.size() - 1, ' ');
        header += '\n';
        std::string npy = std::string("\x93NUMPY\x01\x00", 8);
        npy += static_cast<char>(header.size() & 0xff);
        npy += static_cast<char>(header.size() >> 8);
        npy += header;
        for (int j = 0; j < 4; ++j)
            for (int i = 0; i < 3; ++i) {
                const auto u = std::bit_cast<std::uint32_t>(float(i * 10 + j));
                for (int k = 3; k >= 0; --k)
                    npy += static_cast<char>((u >> (8 * k)) & 0xff);
            }
        const std::string npyPath = dir.filePath(QStringLiteral("m.npy")).toStdString();
        test::writeFile(npyPath, npy);
        const auto nm = openModel(npyPath);
        const std::string out2 = dir.filePath(QStringLiteral("n.gguf")).toStdString();
        exportGguf(out2, *nm, plan(*nm, {}));
        const auto nb = openModel(out2);
        QCOMPARE(nb->tensors.size(), std::size_t(1));
        const TensorInfo& t = nb->tensors[0];
        QCOMPARE(t.shape, (Shape{3, 4}));
        std::vector<float> got(12);
        std::memcpy(got.data(), readAll(out2).data() + t.offset, 48);
        QCOMPARE(got, (std::vector<float>{0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23}));
    }

    // Each quantized tensor's parts are the engine's stored form, described in the metadata;
    // kept tensors are unchanged; the NumPy-only loader dequantizes to decodeTensor's values.
    void packedSafetensors()
    {
        QTemporaryDir dir;
        PackedCase pc = packedCase(dir);
        const std::string out = dir.filePath(QStringLiteral("packed.safetensors")).toStdString();
        exportModel(out, pc.model, plan(pc.model, pc.specs));
        const auto back = openModel(out);
        const json meta = json::parse(back->metadata.at(kPackedMetadataKey));
        QCOMPARE(meta["version"].get<int>(), 1);
        QCOMPARE(meta["tensors"].size(), pc.specs.size());
        std::size_t written = 0;
        for (const auto& t : pc.model.tensors) {
            const auto it = pc.specs.find(t.name);
            if (it == pc.specs.end()) { // kept
                QCOMPARE(back->find(t.name)->dtype, t.dtype);
                QCOMPARE(back->find(t.name)->shape, t.shape);
                QCOMPARE(tensorBytes(*back, t.name), tensorBytes(pc.model, t.name));
                ++written;
                continue;
            }
            const Reference r = reference(pc.model, t, it->second);
            const json& d = meta["tensors"][t.name];
            QCOMPARE(d["format"].get<std::string>(), std::string(it->second.format->name));
            QCOMPARE(d["shape"], json(t.shape));
            QCOMPARE(d["dtype"].get<std::string>(), std::string(dtypeName(t.dtype)));
            if (d["packing"] == "plain") {
                const TensorInfo& p = *back->find(t.name);
                QCOMPARE(p.shape, t.shape);
                QCOMPARE(std::string(dtypeName(p.dtype)), it->first == "w.fp16" ? "F16" : "BF16");
                QCOMPARE(tensorBytes(*back, t.name), bytesOf(r.enc.codes));
                ++written;
                continue;
            }
            const auto parts = expectedParts(r.enc);
            QCOMPARE(d["parts"].size(), parts.size());
            for (const auto& part : parts) {
                const std::string name =
                    t.name + (part.role == "codes" ? ".qweight" : "." + part.role);
                QCOMPARE(d["parts"][part.role]["tensor"].get<std::string>(), name);
                QCOMPARE(back->find(name)->dtype, part.dtype);
                QVERIFY2(tensorBytes(*back, name) == part.bytes, name.c_str());
                ++written;
            }
        }
        QCOMPARE(back->tensors.size(), written); // nothing else in the file
        const json& int4g = meta["tensors"]["w.int4g"];
        QCOMPARE(int4g["granularity"], json("group:16"));
        QCOMPARE(int4g["group_size"], json(16));
        QCOMPARE(int4g["groups_per_channel"], json(4));
        QCOMPARE(int4g["channel_axis"], json(0));
        QCOMPARE(int4g["signed"], json(true));
        QCOMPARE(int4g["parts"]["scales"]["count"], json(24));
        QCOMPARE(meta["tensors"]["k.int4c"]["channel_axis"], json(1));
        QCOMPARE(meta["tensors"]["k.int4c"]["order"], json("channel-major"));
        QCOMPARE(meta["tensors"]["w.uint8t"]["channel_axis"], json(nullptr));
        QCOMPARE(meta["tensors"]["w.uint8t"]["order"], json("row-major"));
        QCOMPARE(meta["tensors"]["g.q4_K"]["packing"], json("ggml-blocks"));
        QCOMPARE(meta["tensors"]["g.q4_K"]["block_size"], json(256));

        const QString py = pythonWithNumpy();
        if (py.isEmpty()) QSKIP("python3 with numpy is not installed: load_packed.py not checked");
        const std::string npz = dir.filePath(QStringLiteral("loaded.npz")).toStdString();
        run(py, {kExportDir + QStringLiteral("/load_packed.py"), QString::fromStdString(out),
                 QString::fromStdString(npz)});
        const auto loaded = openModel(npz);
        QCOMPARE(loaded->tensors.size(), pc.model.tensors.size());
        for (const auto& [name, s] : pc.specs) {
            const TensorInfo* l = loaded->find(name);
            QVERIFY2(l && l->dtype == DType::F32 && l->shape == pc.model.find(name)->shape &&
                         l->strides.empty(),
                     name.c_str());
            const Reference r = reference(pc.model, *pc.model.find(name), s);
            QVERIFY2(sameBits(f32Values(*loaded, name), r.values), name.c_str());
        }
        for (const char* kept : {"bias", "ids", "mask", "half"})
            QCOMPARE(tensorBytes(*loaded, kept), tensorBytes(pc.model, kept));
        QCOMPARE(f32Values(*loaded, "bfk"), widen(halves(tensorBytes(pc.model, "bfk")), true));
    }

    // ggml blocks of a GGUF source that are kept go into packed safetensors and HDF5 as
    // codes, described by their ggml type; the loader dequantizes q8_0 as ggml does.
    void keptGgmlBlocks()
    {
        QTemporaryDir dir;
        MetadataCase mc = metadataCase(dir);
        const auto src = openModel(mc.src);
        std::vector<ExportTensor> tensors = {{src->find("a.weight"), spec("q4_0")},
                                             {src->find("d.q8"), std::nullopt},
                                             {src->find("b.half"), std::nullopt}};
        const std::string out = dir.filePath(QStringLiteral("kept.safetensors")).toStdString();
        exportPackedSafetensors(out, *src, tensors);
        const auto back = openModel(out);
        QCOMPARE(tensorBytes(*back, "d.q8.qweight"), tensorBytes(*src, "d.q8"));
        const json d = json::parse(back->metadata.at(kPackedMetadataKey))["tensors"]["d.q8"];
        QCOMPARE(d["format"], json("q8_0"));
        QCOMPARE(d["kept"], json(true));
        QCOMPARE(d["packing"], json("ggml-blocks"));
        QCOMPARE(d["shape"], json({2, 32}));

        const std::string h5 = dir.filePath(QStringLiteral("kept.h5")).toStdString();
        tensors.push_back({src->find("f.iq"), std::nullopt});
        exportHdf5(h5, *src, tensors);
        const hid_t f = H5Fopen(h5.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
        QVERIFY(f >= 0);
        for (const char* name : {"d.q8", "f.iq"}) {
            const hid_t g = H5Gopen2(f, name, H5P_DEFAULT);
            QCOMPARE(h5r::stringAttr(g, "format"),
                     std::string(name == std::string("d.q8") ? "q8_0" : "iq2_xxs"));
            QCOMPARE(bytesOf(h5r::dataset<std::uint8_t>(g, "codes", H5T_NATIVE_UCHAR)),
                     tensorBytes(*src, name));
            H5Gclose(g);
        }
        H5Fclose(f);

        const QString py = pythonWithNumpy();
        if (py.isEmpty()) QSKIP("python3 with numpy is not installed: load_packed.py not checked");
        const std::string npz = dir.filePath(QStringLiteral("kept.npz")).toStdString();
        run(py, {kExportDir + QStringLiteral("/load_packed.py"), QString::fromStdString(out),
                 QString::fromStdString(npz)});
        const auto loaded = openModel(npz);
        auto golden = test::readFloats(kData + "/ggml/normal.q8_0.dequant.f32");
        golden.resize(64);
        QVERIFY(sameBits(f32Values(*loaded, "d.q8"), golden));
        QVERIFY(sameBits(f32Values(*loaded, "a.weight"),
                         reference(*src, *src->find("a.weight"), spec("q4_0")).values));
        QCOMPARE(tensorBytes(*loaded, "b.half"), tensorBytes(*src, "b.half"));
    }

    // Cancelling half-way (or any error while writing) leaves neither the output nor a
    // temporary file, and an existing output file is untouched.
    void cancelLeavesNothing_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addRow("gguf") << "out.gguf";
        QTest::addRow("packed") << "out.safetensors";
        QTest::addRow("hdf5") << "out.h5";
    }
    void cancelLeavesNothing()
    {
        QFETCH(QString, file);
        QTemporaryDir dir;
        PackedCase pc = packedCase(dir);
        std::map<std::string, QuantSpec> specs; // GGUF holds these
        for (const auto& [name, s] : pc.specs)
            if (name.starts_with("g.") || name == "w.fp16") specs[name] = s;
        const std::string out = dir.filePath(file).toStdString();
        test::writeFile(out, "previous");
        int calls = 0;
        bool stop = false;
        ExportOptions options;
        options.control.cancelled = [&] { return stop; };
        options.encode = [&](const ExportTensor& e) {
            stop = ++calls == 3;
            return reference(pc.model, *e.source, *e.spec).enc;
        };
        QVERIFY_THROWS_EXCEPTION(Cancelled,
                                 exportModel(out, pc.model, plan(pc.model, specs), options));
        QCOMPARE(calls, 3);
        QCOMPARE(entries(dir), (QStringList{file, QStringLiteral("source.safetensors")}));
        QCOMPARE(readAll(out), std::string("previous"));

        const std::string missing =
            dir.filePath(QStringLiteral("no/such/dir/") + file).toStdString();
        expectError([&] { exportModel(missing, pc.model, plan(pc.model, specs)); }, missing, {});
    }

    // The writers ask for each quantized tensor once, in file order; progress covers every
    // exported tensor's source bytes; a stored form with a part the writer would lose is refused.
    void encoderCallback()
    {
        QTemporaryDir dir;
        PackedCase pc = packedCase(dir);
        const auto tensors = plan(pc.model, pc.specs);
        std::vector<std::string> asked;
        ExportOptions options;
        options.encode = [&](const ExportTensor& e) {
            asked.push_back(e.source->name);
            return reference(pc.model, *e.source, *e.spec).enc;
        };
        const std::string a = dir.filePath(QStringLiteral("a.safetensors")).toStdString();
        const std::string b = dir.filePath(QStringLiteral("b.safetensors")).toStdString();
        exportModel(a, pc.model, tensors, options);
        std::vector<std::string> want;
        for (const auto& t : tensors)
            if (t.spec) want.push_back(t.source->name);
        QCOMPARE(asked, want);

        std::atomic<std::uint64_t> progress{0};
        const test::ThreadExecutor pool(2);
        ExportOptions threaded;
        threaded.control.executor = &pool;
        threaded.control.progress = [&](std::uint64_t n) { progress += n; };
        exportModel(b, pc.model, tensors, threaded);
        QCOMPARE(readAll(b), readAll(a)); // same bytes from the default encoder, on threads
        QCOMPARE(progress.load(), pc.model.totalBytes());

        ExportOptions lossy;
        lossy.encode = [&](const ExportTensor& e) {
            EncodedTensor enc = reference(pc.model, *e.source, *e.spec).enc;
            enc.zeroPoints.clear();
            return enc;
        };
        const std::string c = dir.filePath(QStringLiteral("c.h5")).toStdString();
        expectError([&] { exportModel(c, pc.model, tensors, lossy); }, c,
                    {QStringLiteral("tensor 'w.uint8t'"), QStringLiteral("does not know all")});
        QVERIFY(!QFileInfo::exists(QString::fromStdString(c)));
        QVERIFY(!QFileInfo::exists(QString::fromStdString(c + ".part")));
    }
};

QTEST_GUILESS_MAIN(TestExport)
#include "tst_export.moc"
