// The quantization plan: precedence (entry > first rule > default), JSON and its errors.
#include "core/error.h"
#include "plan/plan.h"
#include "plan_cases.h"
#include "testutil.h"

#include <QtTest>

using namespace qs;

namespace {
TensorInfo tensor(const std::string& name, Shape shape, DType dtype = DType::F32)
{
    TensorInfo t = test::f32Info(name, std::move(shape));
    t.dtype = dtype;
    return t;
}
std::string describe(const Plan& plan, const TensorInfo& t)
{
    const auto spec = plan.resolve(t);
    return spec ? std::string(spec->format->name) + "/" + spec->granularity.toString() : "keep";
}
} // namespace

class TestPlan : public QObject
{
    Q_OBJECT
private slots:
    void precedence_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("dims");
        QTest::addColumn<QString>("expected");
        QTest::addRow("default on a matrix")
            << "model.layers.0.mlp.fc1.weight" << 2 << "int8/channel";
        QTest::addRow("1-D keeps precision")
            << "model.layers.0.input_layernorm.weight" << 1 << "keep";
        QTest::addRow("first matching rule")
            << "model.layers.0.self_attn.q_proj.weight" << 2 << "int4/group:32";
        QTest::addRow("rule order matters")
            << "model.layers.0.self_attn.k_proj.weight" << 2 << "int4/group:32";
        QTest::addRow("rule names a 1-D tensor")
            << "model.layers.0.self_attn.q_proj.bias" << 1 << "int4/group:32";
        QTest::addRow("rule inherits default granularity")
            << "lm_head.weight" << 2 << "uint8/channel";
        QTest::addRow("rule keep") << "model.embed_tokens.weight" << 2 << "keep";
        QTest::addRow("tensor entry wins")
            << "model.layers.1.self_attn.q_proj.weight" << 2 << "fp16/tensor";
        QTest::addRow("unanchored search")
            << "prefix.lm_head.weight.suffix" << 2 << "uint8/channel";
    }
    void precedence()
    {
        QFETCH(QString, name);
        QFETCH(int, dims);
        QFETCH(QString, expected);
        const Plan plan = Plan::fromJson(R"({
            "default": {"format": "int8", "granularity": "channel"},
            "rules": [
                {"match": "self_attn\\.(q|k)_proj", "format": "int4", "granularity": "group:32"},
                {"match": "_proj", "format": "uint4"},
                {"match": "lm_head", "format": "uint8"},
                {"match": "embed", "format": "keep"}
            ],
            "tensors": {"model.layers.1.self_attn.q_proj.weight": {"format": "fp16", "granularity": "tensor"}}
        })",
                                         "plan.json");
        const Shape shape = dims == 1 ? Shape{8} : Shape{8, 8};
        QCOMPARE(QString::fromStdString(describe(plan, tensor(name.toStdString(), shape))),
                 expected);
    }

    void nonFloatTensorsAreKept()
    {
        const Plan plan = Plan::fromJson(
            R"({"default": {"format": "int8"}, "rules": [{"match": ".", "format": "int4"}]})", "p");
        QCOMPARE(describe(plan, tensor("ids", {4, 4}, DType::I64)), std::string("keep"));
        QCOMPARE(describe(plan, tensor("w", {4, 4}, DType::BF16)), std::string("int4/tensor"));
    }

    void uniformIsTheCommandLinePlan()
    {
        const Plan plan = Plan::uniform("uint8", Granularity{Granularity::Kind::Group, 64});
        QCOMPARE(describe(plan, tensor("w", {4, 4})), std::string("uint8/group:64"));
        QCOMPARE(describe(plan, tensor("b", {4})), std::string("keep"));
    }

    void jsonRoundTrip()
    {
        Plan plan = Plan::uniform("int8", Granularity{Granularity::Kind::Channel, 0});
        plan.rules.push_back(
            {"attn", Precision{"int4", Granularity{Granularity::Kind::Group, 128}}});
        plan.tensors["x"] = Precision{"keep", std::nullopt};
        plan.locked = {"x", "lm_head.weight"};
        const Plan back = Plan::fromJson(plan.toJson(), "roundtrip");
        QCOMPARE(back.toJson(), plan.toJson());
        QCOMPARE(describe(back, tensor("attn.w", {2, 2})), std::string("int4/group:128"));
        QCOMPARE(describe(back, tensor("x", {2, 2})), std::string("keep"));
        QCOMPARE(back.locked, plan.locked);
    }

    // Everyday tensor-name patterns must pass the guard against pathological expressions.
    void acceptedPatterns_data()
    {
        QTest::addColumn<QString>("pattern");
        for (const char* p :
             {"self_attn\\.(q|k)_proj", "blk\\.[0-9]+\\.ffn_down", "layers\\.(\\d+)\\.mlp",
              ".*attn.*", "(q|k|v)_proj$", "^model\\.layers\\.(1[0-9]|2[0-3])\\.", "a+?b",
              "x{2,3}y", "[+*]", "(a|b)*c", "ffn_(gate|up)_exps"})
            QTest::addRow("%s", p) << QString::fromLatin1(p);
    }
    void acceptedPatterns()
    {
        QFETCH(QString, pattern);
        Plan plan;
        plan.rules.push_back({pattern.toStdString(), Precision{"int8", std::nullopt}});
        QVERIFY_THROWS_NO_EXCEPTION(plan.compileRules("p.json"));
    }

    void errors_data()
    {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("message");
        for (const auto& c : kPlanErrors)
            QTest::addRow("%s", c.name)
                << QString::fromUtf8(c.json) << QString::fromUtf8(c.message);
    }
    void errors()
    {
        QFETCH(QString, json);
        QFETCH(QString, message);
        try {
            Plan::fromJson(json.toStdString(), "my-plan.json");
            QFAIL("no error");
        } catch (const Error& e) {
            const QString what = QString::fromUtf8(e.what());
            QVERIFY2(what.startsWith(QStringLiteral("my-plan.json: ")), qPrintable(what));
            QVERIFY2(what.contains(message), qPrintable(what));
        }
    }
};

QTEST_APPLESS_MAIN(TestPlan)
#include "tst_plan.moc"
