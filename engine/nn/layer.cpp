#include "nn/layer.h"

#include "core/error.h"

#include <algorithm>

namespace qs::nn {

void forChunks(const Pass& pass, std::int64_t n,
               const std::function<void(std::int64_t, std::int64_t, std::int64_t)>& fn)
{
    const std::int64_t chunks = chunkCount(n);
    const auto body = [&](std::int64_t c) {
        fn(c, c * kChunkSamples, std::min(n, (c + 1) * kChunkSamples));
    };
    if (pass.executor && chunks > 1)
        pass.executor->parallelFor(chunks, body);
    else
        for (std::int64_t c = 0; c < chunks; ++c)
            body(c);
}

void sumInOrder(const Pass& pass, const std::vector<std::vector<float>>& parts, float* out,
                std::size_t count)
{
    constexpr std::size_t kBlock = 16384;
    const auto blocks = static_cast<std::int64_t>((count + kBlock - 1) / kBlock);
    const auto body = [&](std::int64_t b) {
        const std::size_t first = static_cast<std::size_t>(b) * kBlock;
        const std::size_t end = std::min(count, first + kBlock);
        std::fill(out + first, out + end, 0.0f);
        for (const auto& p : parts)
            for (std::size_t i = first; i < end; ++i)
                out[i] += p[i];
    };
    if (pass.executor && blocks > 1)
        pass.executor->parallelFor(blocks, body);
    else
        for (std::int64_t b = 0; b < blocks; ++b)
            body(b);
}

Shape Layer::build(const Shape& input)
{
    m_in = input;
    try {
        m_out = outputShapeFor(input);
    } catch (const Error& e) {
        // Errors from below (a parameter too large, a shape that overflows) name the layer too.
        const std::string msg = e.what();
        if (msg.rfind("layer '" + m_name + "'", 0) == 0) throw;
        fail(msg);
    }
    return m_out;
}

std::vector<const Param*> Layer::params() const
{
    const auto ps = const_cast<Layer*>(this)->params();
    return {ps.begin(), ps.end()};
}

void Layer::fail(const std::string& what) const
{
    throw Error("layer '" + m_name + "' (" + className() + "): " + what);
}

} // namespace qs::nn
