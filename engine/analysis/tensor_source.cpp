#include "analysis/tensor_source.h"

#include "core/error.h"
#include "formats/half.h"

#include <algorithm>
#include <cstring>

namespace qs {

TensorSource::TensorSource(std::span<const std::byte> data, DType dtype, const Shape& shape,
                           int channelAxis)
    : m_data(data), m_dtype(dtype), m_elemSize(dtypeSize(dtype)), m_numel(shapeNumel(shape))
{
    if (!isQuantizable(dtype))
        throw Error("tensor of type " + std::string(dtypeName(dtype)) + " has no float values");
    if (static_cast<std::uint64_t>(m_numel) * m_elemSize != data.size())
        throw Error("tensor data size does not match its shape");
    if (channelAxis >= 0 && static_cast<std::size_t>(channelAxis) < shape.size() && m_numel > 0) {
        m_channels = shape[static_cast<std::size_t>(channelAxis)];
        for (std::size_t a = static_cast<std::size_t>(channelAxis) + 1; a < shape.size(); ++a)
            m_inner *= shape[a];
    }
    m_perChannel = m_channels > 0 ? m_numel / m_channels : 0;
    if (m_channels == 1) m_inner = m_perChannel;
}

std::int64_t TensorSource::memoryIndex(std::int64_t c, std::int64_t j) const
{
    const std::int64_t o = j / m_inner, i = j % m_inner;
    return (o * m_channels + c) * m_inner + i;
}

const std::byte* TensorSource::directF32(std::int64_t c, std::int64_t j, std::int64_t count) const
{
    if (m_dtype != DType::F32 || j % m_inner + count > m_inner) return nullptr;
    return m_data.data() + static_cast<std::size_t>(memoryIndex(c, j)) * 4;
}

void TensorSource::read(std::int64_t c, std::int64_t j, std::int64_t count, float* out) const
{
    while (count > 0) { // runs of up to `inner` values are contiguous in memory
        const std::int64_t i = j % m_inner;
        const std::int64_t run = std::min(count, m_inner - i);
        convert(memoryIndex(c, j), run, out);
        out += run;
        j += run;
        count -= run;
    }
}

void TensorSource::convert(std::int64_t memIndex, std::int64_t count, float* out) const
{
    // Tensor data is often unaligned inside files: load through memcpy, never a cast pointer.
    const std::byte* p = m_data.data() + static_cast<std::size_t>(memIndex) * m_elemSize;
    switch (m_dtype) {
    case DType::F32:
        // A plain loop of 16-byte loads: faster here than memcpy's string instructions on
        // chunks of a few kilobytes.
        for (std::int64_t k = 0; k + 4 <= count; k += 4)
            std::memcpy(out + k, p + k * 4, 16);
        for (std::int64_t k = count & ~std::int64_t{3}; k < count; ++k)
            std::memcpy(out + k, p + k * 4, 4);
        break;
    case DType::F64:
        for (std::int64_t k = 0; k < count; ++k) {
            double v;
            std::memcpy(&v, p + k * 8, 8);
            out[k] = static_cast<float>(v);
        }
        break;
    case DType::F16:
    case DType::BF16: {
        std::uint16_t buf[512];
        for (std::int64_t k0 = 0; k0 < count; k0 += 512) {
            const std::int64_t m = std::min<std::int64_t>(512, count - k0);
            std::memcpy(buf, p + k0 * 2, static_cast<std::size_t>(m) * 2);
            if (m_dtype == DType::F16)
                for (std::int64_t k = 0; k < m; ++k)
                    out[k0 + k] = f16ToF32(buf[k]);
            else
                for (std::int64_t k = 0; k < m; ++k)
                    out[k0 + k] = bf16ToF32(buf[k]);
        }
        break;
    }
    default:
        throw Error("tensor type has no float values");
    }
}

} // namespace qs
