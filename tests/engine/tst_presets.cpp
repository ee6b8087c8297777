// Plan presets: llama.cpp's layer selection for its _M mixes, and what each preset resolves to.
#include "core/error.h"
#include "plan/presets.h"
#include "testutil.h"

#include <QtTest>

using namespace qs;

namespace {
std::string formatOf(const Plan& plan, const std::string& name, Shape shape = {256, 256})
{
    const auto spec = plan.resolve(test::f32Info(name, std::move(shape)));
    return spec ? std::string(spec->format->name) : "keep";
}

// A model with `layers` blocks under GGUF or Hugging Face names.
std::vector<TensorInfo> llamaLike(int layers, bool gguf)
{
    std::vector<TensorInfo> t;
    t.push_back(test::f32Info(gguf ? "token_embd.weight" : "model.embed_tokens.weight", {256, 256}));
    for (int i = 0; i < layers; ++i) {
        const std::string p = gguf ? "blk." + std::to_string(i) + "."
                                   : "model.layers." + std::to_string(i) + ".";
        for (const char* s : gguf ? std::vector<const char*>{"attn_q.weight", "attn_v.weight",
                                                              "ffn_down.weight", "attn_norm.weight"}
                                  : std::vector<const char*>{"self_attn.q_proj.weight",
                                                             "self_attn.v_proj.weight",
                                                             "mlp.down_proj.weight"})
            t.push_back(test::f32Info(p + s, {256, 256}));
    }
    t.push_back(test::f32Info(gguf ? "output.weight" : "lm_head.weight", {256, 256}));
    return t;
}
} // namespace

class TestPresets : public QObject
{
    Q_OBJECT
private slots:
    // llama.cpp's use_more_bits, written out for 32 layers: 0-3, 28-31, and 6, 9, …, 27.
    void moreBitsLayers()
    {
        std::vector<int> expected = {0, 1, 2, 3};
        for (int i = 6; i < 28; i += 3)
            expected.push_back(i);
        for (int i = 28; i < 32; ++i)
            expected.push_back(i);
        std::vector<int> got;
        for (int i = 0; i < 32; ++i)
            if (llamaUsesMoreBits(i, 32)) got.push_back(i);
        QCOMPARE(got, expected);
    }

    void layerIndex_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("layer");
        QTest::newRow("gguf") << "blk.17.attn_v.weight" << 17;
        QTest::newRow("hf") << "model.layers.3.mlp.down_proj.weight" << 3;
        QTest::newRow("keras") << "conv2d/12/kernel:0" << 12;
        QTest::newRow("none") << "lm_head.weight" << -1;
        QTest::newRow("digits inside a word") << "conv2d_1.weight" << -1;
    }
    void layerIndex()
    {
        QFETCH(QString, name);
        QFETCH(int, layer);
        QCOMPARE(layerIndexOf(name.toStdString()), layer);
    }

    void quantMixes_data()
    {
        QTest::addColumn<QString>("preset");
        QTest::addColumn<bool>("gguf");
        QTest::addColumn<QString>("tensor");
        QTest::addColumn<QString>("format");
        for (const bool gguf : {true, false}) {
            const char* tag = gguf ? "gguf" : "hf";
            const auto name = [&](int layer, const char* g, const char* h) {
                return QString::fromStdString((gguf ? "blk." : "model.layers.") +
                                              std::to_string(layer) + "." + (gguf ? g : h));
            };
            QTest::addRow("%s v 0", tag) << "q4_k_m" << gguf
                                         << name(0, "attn_v.weight", "self_attn.v_proj.weight")
                                         << "q6_K";
            QTest::addRow("%s v 5", tag) << "q4_k_m" << gguf
                                         << name(5, "attn_v.weight", "self_attn.v_proj.weight")
                                         << "q4_K";
            QTest::addRow("%s down 9", tag) << "q5_k_m" << gguf
                                            << name(9, "ffn_down.weight", "mlp.down_proj.weight")
                                            << "q6_K";
            QTest::addRow("%s down 10", tag) << "q5_k_m" << gguf
                                             << name(10, "ffn_down.weight", "mlp.down_proj.weight")
                                             << "q5_K";
            QTest::addRow("%s q 0", tag) << "q4_k_m" << gguf
                                         << name(0, "attn_q.weight", "self_attn.q_proj.weight")
                                         << "q4_K";
            QTest::addRow("%s output", tag)
                << "q4_k_m" << gguf << (gguf ? "output.weight" : "lm_head.weight") << "q6_K";
            QTest::addRow("%s embeddings", tag)
                << "q4_k_m" << gguf
                << (gguf ? "token_embd.weight" : "model.embed_tokens.weight") << "q4_K";
            QTest::addRow("%s w4 embeddings", tag)
                << "w4g128" << gguf
                << (gguf ? "token_embd.weight" : "model.embed_tokens.weight") << "int8";
            QTest::addRow("%s w4 q", tag)
                << "w4g128" << gguf << name(3, "attn_q.weight", "self_attn.q_proj.weight")
                << "int4";
        }
    }
    void quantMixes()
    {
        QFETCH(QString, preset);
        QFETCH(bool, gguf);
        QFETCH(QString, tensor);
        QFETCH(QString, format);
        const Plan plan = makePresetPlan(preset.toStdString(), llamaLike(32, gguf));
        QCOMPARE(QString::fromStdString(formatOf(plan, tensor.toStdString())), format);
        // The rules survive the plan's JSON, so a saved preset stays the same plan.
        const Plan back = Plan::fromJson(plan.toJson(), "preset");
        QCOMPARE(QString::fromStdString(formatOf(back, tensor.toStdString())), format);
    }

    void everyPresetBuilds()
    {
        const auto model = llamaLike(4, true);
        for (const auto& p : planPresets()) {
            const Plan plan = makePresetPlan(p.id, model);
            QVERIFY2(plan.defaultPrecision.has_value(), p.id.c_str());
            QCOMPARE(formatOf(plan, "blk.0.attn_norm.weight", {256}), std::string("keep"));
        }
        QVERIFY_THROWS_EXCEPTION(Error, makePresetPlan("q3_k_xl", model));
    }
};

QTEST_APPLESS_MAIN(TestPresets)
#include "tst_presets.moc"
