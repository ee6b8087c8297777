#include "alloc/act_stats.h"

#include "core/error.h"
#include "nn/conv2d.h"
#include "nn/dense.h"
#include "nn/geometry.h"

#include <cstring>

namespace qs::alloc {
namespace {

constexpr std::int64_t kBatch = 64; // small enough that cancelling takes effect quickly

std::string kernelName(const nn::Layer& l)
{
    return l.name() + "/kernel:0";
}

// Dense: every input element is one GEMM input column (a flat input of `cols` features; a
// higher-rank input repeats them along its leading axes, as Keras applies Dense to the last).
void addDense(const nn::Tensor& in, std::int64_t cols, std::vector<double>& sums,
              std::int64_t& rows)
{
    const std::int64_t n = in.numel();
    if (cols < 1 || n % cols != 0) throw Error("a Dense layer's input does not fit its kernel");
    for (std::int64_t i = 0; i < n; ++i) {
        const double v = in.data[static_cast<std::size_t>(i)];
        sums[static_cast<std::size_t>(i % cols)] += v * v;
    }
    rows += n / cols;
}

// Conv2D: the im2col rows, one per output pixel, column (ky, kx, c); padding reads as zero.
void addConv(const nn::Conv2D& conv, const nn::Tensor& in, std::vector<double>& sums,
             std::int64_t& rows)
{
    const auto& o = conv.options();
    const Shape& s = conv.inputShape(); // [H, W, C]
    const std::int64_t H = s[0], W = s[1], C = s[2];
    const nn::WindowAxis ay = nn::windowAxis(H, o.kernelH, o.strideH, o.same);
    const nn::WindowAxis ax = nn::windowAxis(W, o.kernelW, o.strideW, o.same);
    for (std::int64_t b = 0; b < in.batch(); ++b) {
        const float* x = in.sample(b);
        for (std::int64_t oy = 0; oy < ay.out; ++oy)
            for (std::int64_t ox = 0; ox < ax.out; ++ox)
                for (std::int64_t ky = 0; ky < o.kernelH; ++ky) {
                    const std::int64_t iy = oy * ay.stride - ay.padBefore + ky;
                    if (iy < 0 || iy >= H) continue; // zeros add nothing to the sums
                    for (std::int64_t kx = 0; kx < o.kernelW; ++kx) {
                        const std::int64_t ix = ox * ax.stride - ax.padBefore + kx;
                        if (ix < 0 || ix >= W) continue;
                        const float* px = x + (iy * W + ix) * C;
                        double* col = sums.data() + (ky * o.kernelW + kx) * C;
                        for (std::int64_t c = 0; c < C; ++c)
                            col[c] += double(px[c]) * px[c];
                    }
                }
    }
    rows += in.batch() * ay.out * ax.out;
}

} // namespace

const std::vector<float>* ActivationStats::find(const std::string& tensor) const
{
    const auto it = columns.find(tensor);
    return it == columns.end() ? nullptr : &it->second;
}

double ActivationStats::meanValue() const
{
    double sum = 0.0;
    std::size_t n = 0;
    for (const auto& [name, v] : columns) {
        for (const float x : v)
            sum += x;
        n += v.size();
    }
    return n ? sum / static_cast<double>(n) : 1.0;
}

ActivationStats collectActivationStats(const nn::Sequential& model, const nn::Tensor& images,
                                       const Control& control)
{
    if (images.shape.size() < 2 ||
        Shape(images.shape.begin() + 1, images.shape.end()) != model.inputShape())
        throw Error("the calibration images are " + shapeToString(images.shape) +
                    ", the model takes " + shapeToString(model.inputShape()) + " per image");
    nn::Sequential run = model; // forward keeps activations in the model
    struct Acc
    {
        std::size_t layer;
        std::vector<double> sums;
        std::int64_t rows = 0;
    };
    std::vector<Acc> acc;
    for (std::size_t i = 0; i < run.size(); ++i) {
        const nn::Layer& l = run.layer(i);
        if (dynamic_cast<const nn::Dense*>(&l))
            acc.push_back(
                {i, std::vector<double>(static_cast<std::size_t>(l.inputShape().back()))});
        else if (const auto* c = dynamic_cast<const nn::Conv2D*>(&l))
            acc.push_back(
                {i, std::vector<double>(static_cast<std::size_t>(
                        c->options().kernelH * c->options().kernelW * c->inputShape()[2]))});
    }
    const std::int64_t n = images.batch(), per = images.sampleSize();
    for (std::int64_t first = 0; first < n; first += kBatch) {
        control.checkCancelled();
        const std::int64_t m = std::min(kBatch, n - first);
        nn::Tensor x(nn::batchShape(m, model.inputShape()));
        std::memcpy(x.data.data(), images.data.data() + first * per,
                    sizeof(float) * static_cast<std::size_t>(m * per));
        run.forward(x, nn::Pass{control.executor});
        for (Acc& a : acc) {
            const nn::Tensor& in = run.activation(static_cast<std::ptrdiff_t>(a.layer) - 1);
            const nn::Layer& l = run.layer(a.layer);
            if (const auto* c = dynamic_cast<const nn::Conv2D*>(&l))
                addConv(*c, in, a.sums, a.rows);
            else
                addDense(in, static_cast<std::int64_t>(a.sums.size()), a.sums, a.rows);
        }
    }
    ActivationStats stats;
    stats.images = n;
    for (const Acc& a : acc) {
        std::vector<float> v(a.sums.size());
        for (std::size_t j = 0; j < v.size(); ++j)
            v[j] = static_cast<float>(a.rows ? a.sums[j] / static_cast<double>(a.rows) : 0.0);
        stats.columns[kernelName(run.layer(a.layer))] = std::move(v);
    }
    return stats;
}

InputColumnWeights::InputColumnWeights(const std::vector<float>* columns, const TensorInfo& t,
                                       double uniform)
    : m_columns(columns), m_uniform(uniform)
{
    if (!columns) return;
    m_out = t.shape.empty() ? 1 : std::max<std::int64_t>(1, t.shape.back());
    if (static_cast<std::int64_t>(columns->size()) * m_out != t.numel())
        throw Error("the activation statistics of '" + t.name + "' have " +
                    std::to_string(columns->size()) + " input columns, but the tensor " +
                    shapeToString(t.shape) + " has " + std::to_string(t.numel() / m_out));
}

} // namespace qs::alloc
