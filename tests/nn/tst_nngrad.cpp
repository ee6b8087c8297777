// Every layer's backward pass against central finite differences of its forward pass, over
// several shapes, paddings and strides, in training and inference mode.
//
// The scalar checked is L = sum(out * R) with R fixed random weights, so dL/dout = R. Layers
// compute in float32: with a step of 1e-2 on values of order one, the central difference's
// truncation error (order step^2) and float rounding of L (summed in double from float
// outputs, ~1e-7 relative per term) stay near 1e-4, so gradients agree within 1e-2 relative
// (plus 1e-3 absolute for values near zero). Inputs of ReLU and max pooling keep at least 0.05
// from their kinks and ties so the step never crosses one.
#include "nn/batchnorm.h"
#include "nn/conv2d.h"
#include "nn/dense.h"
#include "nn/elementwise.h"
#include "nn/loss.h"
#include "nn/pooling.h"
#include "nn/random.h"
#include "nntestutil.h"

#include <functional>

using namespace qs;
using namespace qs::nn;

namespace {

constexpr float kStep = 1e-2f;
constexpr double kRelTol = 1e-2, kAbsTol = 1e-3;
constexpr int kProbes = 24; // coordinates checked per tensor, spread over it

using Factory = std::function<std::unique_ptr<Layer>()>;

struct Case
{
    Factory make;
    Shape input; // per sample
    std::int64_t batch;
    bool training = false;
    bool kinkSafe = false; // inputs spaced away from 0 and from each other
};

std::map<std::string, Case>& cases()
{
    static std::map<std::string, Case> c;
    return c;
}

Conv2DOptions conv(std::int64_t f, std::int64_t kh, std::int64_t kw, std::int64_t sh,
                   std::int64_t sw, bool same, bool bias, const std::string& act = "linear")
{
    return {f, kh, kw, sh, sw, same, bias, act};
}

double weightedSum(const Tensor& out, const Tensor& r)
{
    double s = 0;
    for (std::size_t i = 0; i < out.data.size(); ++i)
        s += double(out.data[i]) * r.data[i];
    return s;
}

void checkClose(const char* what, std::size_t index, double numeric, double analytic)
{
    const double err = std::abs(numeric - analytic);
    QVERIFY2(err <= kAbsTol + kRelTol * std::abs(numeric),
             qPrintable(QStringLiteral("%1[%2]: finite difference %3, backward %4")
                            .arg(what)
                            .arg(index)
                            .arg(numeric)
                            .arg(analytic)));
}

} // namespace

class TestNnGrad : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        auto& c = cases();
        c["dense"] = {[] { return std::make_unique<Dense>("d", 4); }, {6}, 3};
        c["dense no bias, gelu"] = {[] { return std::make_unique<Dense>("d", 3, false, "gelu"); }, {5}, 2};
        c["dense across chunks"] = {[] { return std::make_unique<Dense>("d", 3); }, {4}, 37};
        c["conv 3x3 valid"] = {[] { return std::make_unique<Conv2D>("c", conv(3, 3, 3, 1, 1, false, true)); }, {5, 6, 2}, 2};
        c["conv 3x3 same stride 2"] = {[] { return std::make_unique<Conv2D>("c", conv(4, 3, 3, 2, 2, true, true)); }, {7, 6, 3}, 2};
        c["conv 2x1 same stride 1x2 no bias"] = {[] { return std::make_unique<Conv2D>("c", conv(2, 2, 1, 1, 2, true, false)); }, {4, 5, 2}, 3};
        c["conv gelu across chunks"] = {[] { return std::make_unique<Conv2D>("c", conv(2, 3, 3, 1, 1, true, true, "gelu")); }, {4, 4, 1}, 18};
        c["relu"] = {[] { return std::make_unique<ReLU>("r"); }, {3, 4, 2}, 2, false, true};
        c["gelu"] = {[] { return std::make_unique<GELU>("g"); }, {7}, 3};
        c["softmax"] = {[] { return std::make_unique<Softmax>("s"); }, {5}, 3};
        c["rescaling"] = {[] { return std::make_unique<Rescaling>("s", 0.25f, -1.0f); }, {2, 3, 1}, 2};
        c["flatten"] = {[] { return std::make_unique<Flatten>("f"); }, {2, 3, 2}, 2};
        c["dropout training"] = {[] { return std::make_unique<Dropout>("dr", 0.4f); }, {10}, 3, true};
        c["dropout inference"] = {[] { return std::make_unique<Dropout>("dr", 0.4f); }, {10}, 3};
        c["max pool 2x2 valid"] = {[] { return std::make_unique<Pool2D>("p", PoolOptions{}, true); }, {4, 5, 3}, 2, false, true};
        c["max pool 3x3 stride 2 same"] = {[] { return std::make_unique<Pool2D>("p", PoolOptions{3, 3, 2, 2, true}, true); }, {6, 5, 2}, 2, false, true};
        c["avg pool 2x2 valid"] = {[] { return std::make_unique<Pool2D>("p", PoolOptions{}, false); }, {4, 4, 2}, 2};
        c["avg pool 3x2 stride 1 same"] = {[] { return std::make_unique<Pool2D>("p", PoolOptions{3, 2, 1, 1, true}, false); }, {4, 5, 2}, 2};
        c["batch norm training (conv)"] = {[] { return std::make_unique<BatchNorm>("bn"); }, {3, 3, 4}, 4, true};
        c["batch norm training across chunks"] = {[] { return std::make_unique<BatchNorm>("bn"); }, {3}, 35, true};
        c["batch norm inference"] = {[] { return std::make_unique<BatchNorm>("bn", BatchNormOptions{0.9f, 1e-3f, true, true}); }, {5}, 3};
        c["batch norm no center"] = {[] { return std::make_unique<BatchNorm>("bn", BatchNormOptions{0.9f, 1e-3f, false, true}); }, {2, 2, 3}, 3, true};
    }

    void layer_data()
    {
        QTest::addColumn<QString>("name");
        for (const auto& [name, c] : cases())
            QTest::addRow("%s", name.c_str()) << QString::fromStdString(name);
    }
    void layer()
    {
        QFETCH(QString, name);
        const Case& c = cases().at(name.toStdString());
        auto l = c.make();
        l->build(c.input);
        Rng rng(7);
        l->initialize(rng);
        // Parameters away from their initial values (unit gammas, zero biases) so that every
        // term of the gradient matters; moving variances stay positive.
        unsigned seed = 100;
        for (Param* p : l->params()) {
            const Tensor r = test::uniformTensor({static_cast<std::int64_t>(p->value.size())}, seed++);
            for (std::size_t i = 0; i < p->value.size(); ++i)
                p->value[i] += p->name == "moving_variance" ? 0.5f * std::abs(r.data[i]) : 0.5f * r.data[i];
        }
        Tensor x = test::uniformTensor(batchShape(c.batch, c.input), 1);
        if (c.kinkSafe) {
            // Distinct values 0.05 apart, none within 0.025 of zero, in a seeded order.
            std::vector<float> v(x.data.size());
            for (std::size_t i = 0; i < v.size(); ++i)
                v[i] = (static_cast<float>(i) - static_cast<float>(v.size()) / 2 + 0.5f) * 0.05f;
            std::mt19937 shuffle(3);
            std::shuffle(v.begin(), v.end(), shuffle);
            x.data = v;
        }
        const Pass pass{nullptr, c.training, 11, 5};
        Tensor out, dIn;
        l->forward(x, out, pass);
        const Tensor r = test::uniformTensor(out.shape, 2);
        l->backward(x, out, r, &dIn, pass);
        std::vector<std::vector<float>> grads;
        for (Param* p : l->params())
            grads.push_back(p->grad);

        const auto loss = [&] {
            Tensor o;
            l->forward(x, o, pass);
            return weightedSum(o, r);
        };
        const auto probe = [&](const char* what, std::vector<float>& values,
                               const std::vector<float>& analytic) {
            const std::size_t n = values.size();
            const std::size_t stride = std::max<std::size_t>(1, n / kProbes);
            for (std::size_t i = 0; i < n; i += stride) {
                const float keep = values[i];
                values[i] = keep + kStep;
                const double up = loss();
                values[i] = keep - kStep;
                const double down = loss();
                values[i] = keep;
                checkClose(what, i, (up - down) / (2.0 * double(kStep)), analytic[i]);
                if (QTest::currentTestFailed()) return;
            }
        };
        probe("input", x.data, dIn.data);
        const auto params = l->params();
        for (std::size_t k = 0; k < params.size(); ++k)
            if (params[k]->trainable) probe(params[k]->name.c_str(), params[k]->value, grads[k]);
    }

    void softmaxCrossEntropyGradient()
    {
        Tensor z = test::uniformTensor({4, 5}, 9);
        for (float& v : z.data)
            v *= 3.0f;
        const std::vector<std::uint8_t> labels{0, 4, 2, 2};
        Tensor g, scratch;
        softmaxCrossEntropy(z, labels, g);
        for (std::size_t i = 0; i < z.data.size(); ++i) {
            const float keep = z.data[i];
            z.data[i] = keep + kStep;
            const double up = softmaxCrossEntropy(z, labels, scratch).loss;
            z.data[i] = keep - kStep;
            const double down = softmaxCrossEntropy(z, labels, scratch).loss;
            z.data[i] = keep;
            checkClose("logit", i, (up - down) / (2.0 * double(kStep)), g.data[i]);
        }
    }

    void probabilityCrossEntropyMatchesLogits()
    {
        // Cross-entropy on softmax probabilities, back through the softmax, is the logits form.
        const Tensor z = test::uniformTensor({3, 4}, 10);
        const std::vector<std::uint8_t> labels{1, 3, 0};
        Softmax s("s");
        s.build({4});
        Tensor p, gp, gz, gLogits;
        s.forward(z, p, {});
        const LossResult fromProbs = probabilityCrossEntropy(p, labels, gp);
        s.backward(z, p, gp, &gz, {});
        const LossResult fromLogits = softmaxCrossEntropy(z, labels, gLogits);
        QVERIFY(std::abs(fromProbs.loss - fromLogits.loss) < 1e-6);
        for (std::size_t i = 0; i < gz.data.size(); ++i)
            QVERIFY(std::abs(gz.data[i] - gLogits.data[i]) < 1e-6f);
    }
};

QTEST_GUILESS_MAIN(TestNnGrad)
#include "tst_nngrad.moc"
