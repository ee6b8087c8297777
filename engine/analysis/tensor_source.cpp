#include "analysis/tensor_source.h"

#include "core/error.h"
#include "formats/ggml_blocks.h"
#include "formats/half.h"

#include <algorithm>
#include <cstring>

namespace qs {

TensorSource::TensorSource(std::span<const std::byte> data, DType dtype, const Shape& shape,
                           int channelAxis)
    : TensorSource(data, dtype, shape, {}, false, channelAxis)
{
}

TensorSource::TensorSource(std::span<const std::byte> data, const TensorInfo& info, int channelAxis)
    : TensorSource(data, info.dtype, info.shape, info.strides, info.bigEndian, channelAxis)
{
}

TensorSource::TensorSource(std::span<const std::byte> data, DType dtype, const Shape& shape,
                           std::vector<std::int64_t> strides, bool bigEndian, int channelAxis)
    : m_data(data), m_dtype(dtype), m_elemSize(dtypeSize(dtype)),
      m_blockElems(dtypeBlockSize(dtype)), m_numel(shapeNumel(shape)), m_shape(shape),
      m_strides(std::move(strides)), m_bigEndian(bigEndian)
{
    if (!isQuantizable(dtype))
        throw Error("tensor of type " + std::string(dtypeName(dtype)) + " has no float values");
    if (isBlockType(dtype)) {
        // Blocks never straddle rows (ggml requires the row length to be a multiple of the
        // block size), so element k of the flat index lies in block k / blockSize.
        if (!m_strides.empty() || m_bigEndian)
            throw Error("tensor of type " + std::string(dtypeName(dtype)) +
                        " cannot be a strided or big-endian view");
        if (!shape.empty() && shape.back() % m_blockElems != 0)
            throw Error("tensor of type " + std::string(dtypeName(dtype)) + " has rows of " +
                        std::to_string(shape.back()) + " values, not a multiple of its block of " +
                        std::to_string(m_blockElems));
        const auto bytes = dtypeStorageBytes(dtype, m_numel);
        if (!bytes || *bytes != data.size())
            throw Error("tensor data size does not match its shape");
    } else if (m_strides.empty()) {
        if (static_cast<std::uint64_t>(m_numel) * m_elemSize != data.size())
            throw Error("tensor data size does not match its shape");
    } else {
        // A view: every element its strides can reach must lie inside the data.
        if (m_strides.size() != shape.size()) throw Error("tensor strides do not match its shape");
        std::uint64_t last = 0;
        for (std::size_t a = 0; a < shape.size(); ++a) {
            if (m_strides[a] < 0) throw Error("negative tensor strides are not supported");
            if (shape[a] > 0) last += static_cast<std::uint64_t>((shape[a] - 1) * m_strides[a]);
        }
        if (m_numel > 0 && (last + 1) * m_elemSize > data.size())
            throw Error("tensor strides reach beyond its data");
    }
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

std::int64_t TensorSource::storageIndex(std::int64_t c, std::int64_t j) const
{
    const std::int64_t flat = memoryIndex(c, j);
    if (m_strides.empty()) return flat;
    std::int64_t mem = 0, rest = flat;
    for (std::size_t a = m_shape.size(); a-- > 0;) {
        const std::int64_t dim = m_shape[a];
        mem += (rest % dim) * m_strides[a];
        rest /= dim;
    }
    return mem;
}

const std::byte* TensorSource::directF32(std::int64_t c, std::int64_t j, std::int64_t count) const
{
    if (m_dtype != DType::F32 || !contiguous() || j % m_inner + count > m_inner) return nullptr;
    return m_data.data() + static_cast<std::size_t>(storageIndex(c, j)) * 4;
}

void TensorSource::read(std::int64_t c, std::int64_t j, std::int64_t count, float* out) const
{
    if (!m_strides.empty()) { // views: one element at a time, wherever its strides put it
        for (std::int64_t k = 0; k < count; ++k)
            convert(storageIndex(c, j + k), 1, out + k);
        return;
    }
    while (count > 0) { // runs of up to `inner` values are contiguous in memory
        const std::int64_t i = j % m_inner;
        const std::int64_t run = std::min(count, m_inner - i);
        convert(storageIndex(c, j), run, out);
        out += run;
        j += run;
        count -= run;
    }
}

void TensorSource::convert(std::int64_t memIndex, std::int64_t count, float* out) const
{
    if (m_blockElems != 1) { // ggml blocks: a range may start and end inside a block
        const std::int64_t be = m_blockElems;
        std::int64_t block = memIndex / be, skip = memIndex % be;
        const auto at = [&](std::int64_t b) {
            return m_data.data() + static_cast<std::size_t>(b) * m_elemSize;
        };
        float buf[256]; // the largest ggml block
        if (skip > 0) { // leading partial block
            decodeGgmlBlocks(m_dtype, at(block), 1, buf);
            const std::int64_t n = std::min(count, be - skip);
            std::copy(buf + skip, buf + skip + n, out);
            out += n;
            count -= n;
            ++block;
        }
        const std::int64_t whole = count / be; // straight into the output
        decodeGgmlBlocks(m_dtype, at(block), whole, out);
        out += whole * be;
        count -= whole * be;
        if (count > 0) { // trailing partial block
            decodeGgmlBlocks(m_dtype, at(block + whole), 1, buf);
            std::copy(buf, buf + count, out);
        }
        return;
    }
    // Tensor data is often unaligned inside files: load through memcpy, never a cast pointer.
    const std::byte* p = m_data.data() + static_cast<std::size_t>(memIndex) * m_elemSize;
    if (m_bigEndian) { // swap each value into a little-endian copy, then decode that
        std::byte buf[8 * 64];
        for (std::int64_t k0 = 0; k0 < count; k0 += 64) {
            const std::int64_t m = std::min<std::int64_t>(64, count - k0);
            for (std::int64_t k = 0; k < m; ++k)
                for (std::size_t b = 0; b < m_elemSize; ++b)
                    buf[static_cast<std::size_t>(k) * m_elemSize + b] =
                        p[static_cast<std::size_t>(k0 + k) * m_elemSize + m_elemSize - 1 - b];
            TensorSource little(
                std::span<const std::byte>(buf, static_cast<std::size_t>(m) * m_elemSize), m_dtype,
                Shape{m}, -1);
            little.convert(0, m, out + k0);
        }
        return;
    }
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
