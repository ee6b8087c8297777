// Allocation on the example model: the written plan, quantized the normal way, gives exactly the
// predicted bytes and distortion; budgets hold; locks and pins are untouched.
#include "alloc/allocation.h"
#include "analysis/analyze.h"
#include "core/error.h"
#include "formats/storage.h"
#include "testutil.h"

#include <QTest>

#include <cmath>

using namespace qs;
using namespace qs::alloc;

namespace {

const std::string kModel = QS_EXAMPLE_MODEL;
const char* kCandidates = "q4_K,q8_0,int4@group:32,int8@channel,fp16";

// Pins the embedding by a rule, locks the head (which the default quantizes) and leaves the rest
// to the allocation.
Plan basePlan()
{
    return Plan::fromJson(R"({"default": {"format": "int8", "granularity": "channel"},
                              "rules": [{"match": "embed_tokens", "format": "q8_0"}],
                              "locked": ["lm_head.weight"]})",
                          "base plan");
}

struct Totals
{
    std::uint64_t bytes = 0;
    double distortion = 0.0;
};

// What quantizing with `plan` gives over the table's tensors, the way `quantize` computes it:
// resolve, storageCost, analyzeTensor's squared-error sum.
Totals quantizeWith(const Model& model, const CandidateTable& table, const Plan& plan)
{
    Totals t;
    const Control serial;
    for (const auto& e : table.tensors) {
        const TensorInfo& info = model.tensors[e.tensor];
        const auto spec = plan.resolve(info);
        if (!spec) {
            t.bytes += info.byteSize;
            continue;
        }
        t.bytes += storageCost(info, *spec).bytes;
        TensorQuantizer qz(model.data(info), info, *spec);
        t.distortion += analyzeTensor(qz, serial).sums.sumE2;
    }
    return t;
}

// The least and the most bytes any assignment of the table takes.
std::pair<std::uint64_t, std::uint64_t> byteRange(const CandidateTable& table)
{
    std::uint64_t lo = 0, hi = 0;
    for (const auto& e : table.tensors) {
        std::uint64_t mn = UINT64_MAX, mx = 0;
        for (const auto& o : e.options) {
            mn = std::min(mn, o.bytes);
            mx = std::max(mx, o.bytes);
        }
        lo += mn;
        hi += mx;
    }
    return {lo, hi};
}

} // namespace

class TestAllocate : public QObject
{
    Q_OBJECT
private:
    std::shared_ptr<const Model> m_model;
    CandidateTable m_table;

private slots:
    void initTestCase()
    {
        m_model = openModel(kModel);
        const test::ThreadExecutor threads(3);
        Control control;
        control.executor = &threads;
        std::size_t calls = 0, total = 0;
        std::mutex m;
        CandidateProgress progress;
        progress.evaluated = [&](std::size_t, std::size_t n) {
            std::lock_guard g(m);
            ++calls;
            total = n;
        };
        m_table = computeCandidates(*m_model, basePlan(), parseCandidates(kCandidates), Measure{},
                                    control, progress);
        QCOMPARE(calls, total);
        QVERIFY(total > m_table.tensors.size());
    }

    void scopeAndRoles()
    {
        std::int64_t params = 0;
        for (const auto& e : m_table.tensors) {
            const TensorInfo& t = m_model->tensors[e.tensor];
            QVERIFY2(t.shape.size() >= 2, t.name.c_str()); // no rule names a 1-D tensor here
            params += t.numel();
            if (t.name == "lm_head.weight") QCOMPARE(e.role, Role::Locked);
            if (t.name == "model.embed_tokens.weight") QCOMPARE(e.role, Role::Pinned);
            if (t.name.find("q_proj") != std::string::npos) {
                // Rows of 96 are no whole number of q4_K's 256-value blocks: no such candidate.
                QCOMPARE(e.role, Role::Free);
                QCOMPARE(e.options.size(), std::size_t{4});
                for (const auto& o : e.options)
                    QVERIFY(m_table.candidates[static_cast<std::size_t>(o.candidate)].label != "q4_K");
            }
            if (t.name.find("down_proj") != std::string::npos) QCOMPARE(e.options.size(), std::size_t{5});
        }
        QCOMPARE(m_table.params, params);
    }

    void planReproducesThePrediction_data()
    {
        // Budgets from the least any assignment needs to more than the most it can use.
        QTest::addColumn<double>("share");
        for (const double f : {0.0, 0.1, 0.25, 0.5, 0.9, 1.0, 2.0})
            QTest::addRow("%.2f of the range", f) << f;
    }
    void planReproducesThePrediction()
    {
        QFETCH(double, share);
        const auto [lo, hi] = byteRange(m_table);
        const auto budget = lo + static_cast<std::uint64_t>(share * static_cast<double>(hi - lo));
        const Plan base = basePlan();
        const Allocation a = allocate(*m_model, m_table, base, budget);
        QVERIFY(a.solution.exact);
        QVERIFY(a.solution.bytes <= budget);
        // Through JSON, as `quantize --plan` would read it.
        const Plan written = Plan::fromJson(a.plan.toJson(), "allocated plan");
        const Totals q = quantizeWith(*m_model, m_table, written);
        QCOMPARE(q.bytes, a.solution.bytes);
        QCOMPARE(q.distortion, a.solution.distortion); // same sums, same order: bit for bit
        // Locked and pinned tensors resolve exactly as in the base plan.
        QCOMPARE(written.locked, base.locked);
        for (const char* name : {"lm_head.weight", "model.embed_tokens.weight"}) {
            const TensorInfo* t = m_model->find(name);
            QVERIFY(t);
            const auto before = base.resolve(*t), after = written.resolve(*t);
            QVERIFY(before && after);
            QCOMPARE(after->format, before->format);
            QCOMPARE(after->granularity, before->granularity);
        }
        QCOMPARE(a.tensors.size(), m_table.tensors.size());
        for (const auto& c : a.tensors)
            QVERIFY(!c.explanation.empty());
    }

    void moreBytesNeverHurt()
    {
        const auto [lo, hi] = byteRange(m_table);
        double last = INFINITY;
        for (std::uint64_t b = lo; b <= hi; b += (hi - lo) / 16) {
            const auto a = allocate(*m_model, m_table, basePlan(), b);
            QVERIFY(a.solution.distortion <= last);
            last = a.solution.distortion;
        }
    }

    void budgetBelowTheFixedTensorsRefused()
    {
        const auto [lo, hi] = byteRange(m_table);
        QVERIFY(hi > lo);
        try {
            allocate(*m_model, m_table, basePlan(), lo - 1);
            QFAIL("an infeasible budget was accepted");
        } catch (const Error& e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(
                         QStringLiteral("infeasible: the smallest choices need %1 bytes").arg(lo)),
                     e.what());
        }
    }

    void tensorsNoCandidateTakesAreKept()
    {
        // The patch stem's rows have 4 values: no ggml block format takes them.
        const Control serial;
        const auto table = computeCandidates(*m_model, Plan{}, parseCandidates("q4_K,q8_0"),
                                             Measure{}, serial);
        const auto it = std::find_if(table.tensors.begin(), table.tensors.end(), [&](const auto& e) {
            return m_model->tensors[e.tensor].name == "model.patch_embed.proj.weight";
        });
        QVERIFY(it != table.tensors.end());
        QCOMPARE(it->role, Role::NoCandidate);
        QCOMPARE(it->options.front().bytes, m_model->tensors[it->tensor].byteSize);
        const auto a = allocate(*m_model, table, Plan{}, UINT64_MAX);
        QCOMPARE(a.plan.tensors.at("model.patch_embed.proj.weight").format, std::string("keep"));
        QCOMPARE(quantizeWith(*m_model, table, a.plan).bytes, a.solution.bytes);
    }

    void importanceWeightedDistortion()
    {
        const std::string dat = std::string(QS_TEST_DATA) + "/imatrix/small.dat";
        const Measure measure = parseMeasure("imatrix:" + dat);
        QCOMPARE(measure.name(), "imatrix:" + dat);
        const Control serial;
        const auto table = computeCandidates(*m_model, Plan{}, parseCandidates("int4@group:32"),
                                             measure, serial);
        const double mean = measure.imatrix->meanValue();
        int checked = 0;
        for (const auto& e : table.tensors) {
            const TensorInfo& t = m_model->tensors[e.tensor];
            if (t.name != "model.layers.0.self_attn.q_proj.weight" &&
                t.name != "model.layers.0.self_attn.k_proj.weight")
                continue;
            // The plain recomputation: dequantize, then sum w[column] * error^2 in memory order.
            const std::size_t n = static_cast<std::size_t>(t.numel());
            std::vector<float> x(n), d(n);
            TensorSource(m_model->data(t), t, -1).read(0, 0, t.numel(), x.data());
            QuantSpec spec(findFormat("int4"), *Granularity::parse("group:32"));
            TensorQuantizer qz(m_model->data(t), t, spec);
            dequantizeTensor(qz, d.data(), serial);
            const ImatrixEntry* w = measure.imatrix->find(t.name);
            double want = 0.0;
            const auto cols = static_cast<std::size_t>(t.shape.back());
            for (std::size_t i = 0; i < n; ++i) {
                const double err = static_cast<double>(x[i] - d[i]);
                want += (w ? static_cast<double>(w->values[i % cols]) : mean) * err * err;
            }
            QVERIFY(want > 0.0);
            QVERIFY2(std::fabs(e.options.front().distortion - want) <= 1e-12 * want,
                     qPrintable(QStringLiteral("%1: %2 vs %3")
                                    .arg(QString::fromStdString(t.name))
                                    .arg(e.options.front().distortion)
                                    .arg(want)));
            ++checked;
        }
        QCOMPARE(checked, 2);
    }

    void candidateLists_data()
    {
        QTest::addColumn<QString>("list");
        QTest::addColumn<QString>("message");
        QTest::addRow("unknown format") << QStringLiteral("q4_K,int9") << QStringLiteral("unknown candidate format 'int9'");
        QTest::addRow("granularity on a block format") << QStringLiteral("q4_K@channel") << QStringLiteral("takes no granularity");
        QTest::addRow("bad granularity") << QStringLiteral("int4@bogus") << QStringLiteral("bad granularity");
        QTest::addRow("empty item") << QStringLiteral("q4_K,,q8_0") << QStringLiteral("empty item");
        QTest::addRow("repeated") << QStringLiteral("q4_K, q4_K") << QStringLiteral("listed twice");
    }
    void candidateLists()
    {
        QFETCH(QString, list);
        QFETCH(QString, message);
        try {
            parseCandidates(list.toStdString());
            QFAIL("a bad candidate list was accepted");
        } catch (const Error& e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(message), e.what());
        }
    }

    void defaultFamilyParses()
    {
        const auto c = parseCandidates(kDefaultCandidates);
        QCOMPARE(c.size(), std::size_t{6});
        QCOMPARE(c[1].precision.format, std::string("q3_K"));
        const auto g = parseCandidates(" int4@group:128 ,keep");
        QCOMPARE(g[0].label, std::string("int4@group:128"));
        QCOMPARE(g[0].precision.granularity->groupSize, std::int64_t{128});
        QCOMPARE(g[1].precision.format, std::string("keep"));
    }

    void cancellation()
    {
        Control c;
        c.cancelled = [] { return true; };
        QVERIFY_THROWS_EXCEPTION(Cancelled, computeCandidates(*m_model, Plan{},
                                                              parseCandidates("int8"), Measure{}, c));
    }
};

QTEST_APPLESS_MAIN(TestAllocate)
#include "tst_allocate.moc"
