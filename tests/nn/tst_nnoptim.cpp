// Optimiser steps on f(w) = (w - 3)^2 / 2 (gradient w - 3) from w = 0, against values worked
// out by hand from the update rules, and the learning-rate schedule at its known points.
#include "nn/optimizer.h"
#include "nn/train.h"
#include "nntestutil.h"

using namespace qs;
using namespace qs::nn;

namespace {

constexpr float kTol = 1e-6f;

// Runs `steps` steps and returns w after each.
std::vector<float> descend(Optimizer& opt, int steps, float lr)
{
    Param w{"w", {}, {}, {}, true};
    w.allocate({1});
    Param frozen{"moving_mean", {}, {}, {}, false};
    frozen.allocate({1});
    frozen.value[0] = 5.0f;
    std::vector<float> out;
    for (int i = 0; i < steps; ++i) {
        w.grad[0] = w.value[0] - 3.0f;
        opt.step({&w, &frozen}, lr);
        out.push_back(w.value[0]);
    }
    // Non-trainable parameters have no gradient and are never updated.
    if (frozen.value[0] != 5.0f) out.clear();
    return out;
}

} // namespace

class TestNnOptim : public QObject
{
    Q_OBJECT

private slots:
    void sgdMomentum()
    {
        // v1 = -0.1 * -3 = 0.3, w1 = 0.3; g2 = -2.7: v2 = 0.9 * 0.3 + 0.27 = 0.54, w2 = 0.84;
        // g3 = -2.16: v3 = 0.486 + 0.216 = 0.702, w3 = 1.542.
        Sgd opt(0.9f);
        const auto w = descend(opt, 3, 0.1f);
        QCOMPARE(w.size(), std::size_t{3});
        QVERIFY(std::abs(w[0] - 0.3f) < kTol);
        QVERIFY(std::abs(w[1] - 0.84f) < kTol);
        QVERIFY(std::abs(w[2] - 1.542f) < kTol);
    }

    void sgdPlain()
    {
        // Without momentum: w1 = 0.3, w2 = 0.3 + 0.1 * 2.7 = 0.57.
        Sgd opt;
        const auto w = descend(opt, 2, 0.1f);
        QVERIFY(std::abs(w[0] - 0.3f) < kTol);
        QVERIFY(std::abs(w[1] - 0.57f) < kTol);
    }

    void sgdNesterov()
    {
        // v1 = 0.3, w1 = 0.9 * 0.3 + 0.3 = 0.57; g2 = -2.43: v2 = 0.27 + 0.243 = 0.513,
        // w2 = 0.57 + 0.9 * 0.513 + 0.243 = 1.2747.
        Sgd opt(0.9f, true);
        const auto w = descend(opt, 2, 0.1f);
        QVERIFY(std::abs(w[0] - 0.57f) < kTol);
        QVERIFY(std::abs(w[1] - 1.2747f) < kTol);
    }

    void adam()
    {
        // t = 1: m = 0.1 * -3 = -0.3, v = 0.001 * 9 = 0.009; m^ = -3, v^ = 9:
        //        w1 = 0.1 * 3 / (3 + 1e-7) = 0.0999999967.
        // t = 2: g = -2.9: m = -0.27 - 0.29 = -0.56, v = 0.008991 + 0.00841 = 0.017401;
        //        m^ = -0.56 / 0.19 = -2.947368, v^ = 0.017401 / 0.001999 = 8.704852,
        //        w2 = w1 + 0.1 * 2.947368 / 2.950399 = 0.1998973.
        Adam opt;
        const auto w = descend(opt, 2, 0.1f);
        QVERIFY(std::abs(w[0] - 0.0999999967f) < kTol);
        QVERIFY(std::abs(w[1] - 0.1998973f) < kTol);
        QCOMPARE(opt.iterations(), 2);
    }

    void parameterListMustNotChange()
    {
        Adam opt;
        Param a{"a", {}, {}, {}, true};
        a.allocate({2});
        opt.step({&a}, 0.1f);
        Param b{"b", {}, {}, {}, true};
        b.allocate({3});
        test::expectError([&] { opt.step({&a, &b}, 0.1f); }, {"parameter list changed"});
    }

    void cosineSchedule()
    {
        // lr(t) = lr * (f + (1 - f) * (1 + cos(pi t / (T - 1))) / 2): lr at the first step,
        // lr * f at the last, halfway in between at the middle.
        TrainOptions o;
        o.learningRate = 0.002f;
        o.finalFraction = 0.1f;
        QVERIFY(std::abs(scheduledRate(o, 0, 101) - 0.002f) < 1e-9f);
        QVERIFY(std::abs(scheduledRate(o, 100, 101) - 0.0002f) < 1e-9f);
        QVERIFY(std::abs(scheduledRate(o, 50, 101) - 0.0011f) < 1e-9f);
    }
};

QTEST_GUILESS_MAIN(TestNnOptim)
#include "tst_nnoptim.moc"
