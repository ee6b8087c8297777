#include "nn/affine.h"

#include "nn/elementwise.h"

#include <Eigen/Core>

namespace qs::nn {
namespace {
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using CMap = Eigen::Map<const RowMat>;
using MMap = Eigen::Map<RowMat>;
} // namespace

void affineForward(const float* x, std::int64_t rows, std::int64_t k, std::int64_t n,
                   const float* w, const float* b, float* y)
{
    MMap Y(y, rows, n);
    Y.noalias() = CMap(x, rows, k) * CMap(w, k, n);
    if (b) Y.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(b, n);
}

void affineBackward(const float* x, const float* dy, std::int64_t rows, std::int64_t k,
                    std::int64_t n, const float* w, float* dW, float* dB, float* dX)
{
    const CMap X(x, rows, k), dY(dy, rows, n), W(w, k, n);
    MMap(dW, k, n).noalias() = X.transpose() * dY;
    if (dB) Eigen::Map<Eigen::RowVectorXf>(dB, n) = dY.colwise().sum();
    if (dX) MMap(dX, rows, k).noalias() = dY * W.transpose();
}

void ChunkGrads::prepare(std::int64_t chunks, std::size_t kernelSize, std::size_t biasSize)
{
    kernel.resize(static_cast<std::size_t>(chunks));
    bias.resize(biasSize ? static_cast<std::size_t>(chunks) : 0);
    for (auto& k : kernel)
        k.resize(kernelSize);
    for (auto& b : bias)
        b.resize(biasSize);
}

void ChunkGrads::reduce(const Pass& pass, Param& kernelParam, Param* biasParam) const
{
    sumInOrder(pass, kernel, kernelParam.grad.data(), kernelParam.grad.size());
    if (biasParam) sumInOrder(pass, bias, biasParam->grad.data(), biasParam->grad.size());
}

void FusedActivation::set(const std::string& activation, const std::string& owner)
{
    m_layer = makeActivation(activation, owner + "/activation");
    m_name = activation;
}

void FusedActivation::forward(Tensor& out, const Pass& pass)
{
    if (m_layer) m_layer->forward(m_pre, out, pass);
}

const Tensor& FusedActivation::backward(const Tensor& out, const Tensor& dOut, const Pass& pass)
{
    if (!m_layer) return dOut;
    m_layer->backward(m_pre, out, dOut, &m_dPre, pass);
    return m_dPre;
}

} // namespace qs::nn
