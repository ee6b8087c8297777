// The HDF5 export, read back through libhdf5's C API and, when it is installed, h5py.
#include "../export/export_fixtures.h"
#include "testutil.h"

#include "../export/hdf5_read.h"

#include <hdf5.h>

#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

using namespace qs;
using namespace qs::exporttest;
using json = nlohmann::json;

class TestExportHdf5 : public QObject
{
    Q_OBJECT

private slots:
    // Missing datasets and attributes are looked for on purpose: keep libhdf5 quiet about them.
    void initTestCase() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

    // Groups named by the percent-encoded tensor names, datasets holding the stored form (or
    // the values), attributes describing it, all read back through libhdf5's C API.
    void hdf5Export()
    {
        QTemporaryDir dir;
        PackedCase pc = packedCase(dir);
        const std::string out = dir.filePath(QStringLiteral("packed.h5")).toStdString();
        exportModel(out, pc.model, plan(pc.model, pc.specs));
        QCOMPARE(entries(dir),
                 (QStringList{QStringLiteral("packed.h5"), QStringLiteral("source.safetensors")}));
        const hid_t f = H5Fopen(out.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
        QVERIFY(f >= 0);
        QCOMPARE(h5r::intAttr(f, "layout_version"), std::vector<std::int64_t>{1});
        H5G_info_t info;
        H5Gget_info(f, &info);
        QCOMPARE(info.nlinks, hsize_t(pc.model.tensors.size()));
        for (const auto& t : pc.model.tensors) {
            const std::string group = t.name == "layers/0/w%x" ? "layers%2F0%2Fw%25x" : t.name;
            const hid_t g = H5Gopen2(f, group.c_str(), H5P_DEFAULT);
            QVERIFY2(g >= 0, group.c_str());
            QCOMPARE(h5r::stringAttr(g, "name"), t.name);
            QCOMPARE(h5r::intAttr(g, "shape"),
                     std::vector<std::int64_t>(t.shape.begin(), t.shape.end()));
            Shape dims;
            const auto it = pc.specs.find(t.name);
            if (it == pc.specs.end()) {
                QCOMPARE(h5r::stringAttr(g, "format"), std::string("keep"));
                QCOMPARE(h5r::stringAttr(g, "dtype"), std::string(dtypeName(t.dtype)));
                const std::string src = tensorBytes(pc.model, t.name);
                if (t.dtype == DType::I64) {
                    QCOMPARE(
                        bytesOf(h5r::dataset<std::int64_t>(g, "values", H5T_NATIVE_INT64, &dims)),
                        src);
                } else if (t.dtype == DType::BOOL) {
                    QCOMPARE(
                        bytesOf(h5r::dataset<std::uint8_t>(g, "values", H5T_NATIVE_UCHAR, &dims)),
                        src);
                } else {
                    const auto v = h5r::dataset<float>(g, "values", H5T_NATIVE_FLOAT, &dims);
                    QVERIFY2(sameBits(v, t.dtype == DType::F32
                                             ? f32Values(pc.model, t.name)
                                             : widen(halves(src), t.dtype == DType::BF16)),
                             t.name.c_str());
                }
                QCOMPARE(dims, t.shape);
                H5Gclose(g);
                continue;
            }
            const Reference r = reference(pc.model, t, it->second);
            QCOMPARE(h5r::stringAttr(g, "format"), std::string(it->second.format->name));
            if (t.name == "w.fp16" || t.name == "w.bf16") { // fp16/bf16 values, typed as such
                const auto v = h5r::dataset<float>(g, "values", H5T_NATIVE_FLOAT, &dims);
                QCOMPARE(dims, t.shape);
                QVERIFY(sameBits(v, widen(halves(bytesOf(r.enc.codes)), t.name == "w.bf16")));
                H5Gclose(g);
                continue;
            }
            H5G_info_t gi;
            H5Gget_info(g, &gi);
            const auto parts = expectedParts(r.enc);
            QCOMPARE(gi.nlinks, hsize_t(parts.size()));
            for (const auto& part : parts) {
                const char* n = part.role.c_str();
                std::string got; // read as the element type the part has in memory
                if (part.dtype == DType::U8)
                    got = bytesOf(h5r::dataset<std::uint8_t>(g, n, H5T_NATIVE_UCHAR));
                else if (part.dtype == DType::F32)
                    got = bytesOf(h5r::dataset<float>(g, n, H5T_NATIVE_FLOAT));
                else // fp16: libhdf5 converts it to float, which converts back exactly
                    got = halfBytes(h5r::dataset<float>(g, n, H5T_NATIVE_FLOAT), false);
                QVERIFY2(got == part.bytes, (t.name + " " + part.role).c_str());
            }
            if (!r.enc.scales16.empty()) {
                const hid_t d = H5Dopen2(g, "scales", H5P_DEFAULT);
                QCOMPARE(h5r::stringAttr(d, "encoding"), std::string("fp16"));
                const hid_t type = H5Dget_type(d);
                QCOMPARE(H5Tget_size(type), std::size_t(2));
                H5Tclose(type);
                H5Dclose(d);
            }
            H5Gclose(g);
        }
        const hid_t g = H5Gopen2(f, "w.int4g", H5P_DEFAULT);
        QCOMPARE(h5r::stringAttr(g, "granularity"), std::string("group:16"));
        QCOMPARE(h5r::intAttr(g, "group_size"), std::vector<std::int64_t>{16});
        QCOMPARE(h5r::stringAttr(g, "order"), std::string("channel-major"));
        QCOMPARE(H5Aexists(g, "channel_axis"), htri_t(1));
        H5Gclose(g);
        const hid_t u = H5Gopen2(f, "w.uint8t", H5P_DEFAULT);
        QCOMPARE(H5Aexists(u, "channel_axis"), htri_t(0)); // per tensor: no channel axis
        H5Gclose(u);
        H5Fclose(f);

        // h5py, as most users will read it: names decode, fp16 stays float16, bf16 widens.
        const QString py = pythonWithNumpy();
        if (py.isEmpty()) QSKIP("python3 is not installed: h5py not checked");
        const QByteArray text =
            run(py, {QStringLiteral("-c"),
                     QStringLiteral("import sys, json, h5py\n"
                                    "f = h5py.File(sys.argv[1], 'r')\n"
                                    "print(json.dumps({g.attrs['name']: str(g['values'].dtype) for "
                                    "g in f.values() if 'values' in g}))\n"),
                     QString::fromStdString(out)});
        if (text.isEmpty()) QSKIP("h5py is not installed");
        const json dt = json::parse(text.toStdString());
        QCOMPARE(dt["w.fp16"], json("float16"));
        QCOMPARE(dt["half"], json("float16"));
        QCOMPARE(dt["w.bf16"], json("float32"));
        QCOMPARE(dt["ids"], json("int64"));
        QVERIFY(!dt.contains("w.int8c"));
    }
};

QTEST_GUILESS_MAIN(TestExportHdf5)
#include "tst_exporthdf5.moc"
