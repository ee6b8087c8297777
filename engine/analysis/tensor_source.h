// Reads a tensor's stored values as float32, one output channel's run at a time.
#pragma once

#include "core/tensor.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace qs {

// Logical order: channel c's values are the elements whose index on the channel axis is c,
// in memory order of the remaining axes. With one channel it is plain memory order.
class TensorSource
{
public:
    // channelAxis < 0 views the tensor as one channel (per-tensor granularity).
    TensorSource(std::span<const std::byte> data, DType dtype, const Shape& shape, int channelAxis);
    // As above, honouring the tensor's strides and byte order.
    TensorSource(std::span<const std::byte> data, const TensorInfo& info, int channelAxis);

    std::int64_t numel() const { return m_numel; }
    std::int64_t channels() const { return m_channels; }
    std::int64_t perChannel() const { return m_perChannel; }
    // Bytes per element for plain types; for block types the bytes per block.
    std::size_t elementSize() const { return m_elemSize; }
    // Stored bytes that count consecutive elements occupy (a share of whole blocks for block
    // types), for progress reports.
    std::uint64_t storedBytes(std::int64_t count) const
    {
        return static_cast<std::uint64_t>(count) * m_elemSize /
               static_cast<std::uint64_t>(m_blockElems);
    }
    // Values j .. j+count-1 of channel c (logical order) converted to float32.
    void read(std::int64_t c, std::int64_t j, std::int64_t count, float* out) const;
    // The stored bytes of values j .. j+count-1 of channel c when they are float32 and
    // contiguous (read them with memcpy: they may be unaligned); null otherwise.
    const std::byte* directF32(std::int64_t c, std::int64_t j, std::int64_t count) const;
    // The values as float32 without a copy when they are stored so (contiguous and aligned for
    // float access); otherwise read() into `buffer`, which is returned.
    const float* view(std::int64_t c, std::int64_t j, std::int64_t count, float* buffer) const
    {
        const std::byte* p = directF32(c, j, count);
        if (p && reinterpret_cast<std::uintptr_t>(p) % alignof(float) == 0)
            return reinterpret_cast<const float*>(p); // float32 data in an aligned mapping
        read(c, j, count, buffer);
        return buffer;
    }
    // Row-major (C order) index of logical element j of channel c: where it goes in a
    // contiguous copy of the tensor.
    std::int64_t memoryIndex(std::int64_t c, std::int64_t j) const;

private:
    void convert(std::int64_t memIndex, std::int64_t count, float* out) const;
    TensorSource(std::span<const std::byte> data, DType dtype, const Shape& shape,
                 std::vector<std::int64_t> strides, bool bigEndian, int channelAxis);
    bool contiguous() const { return m_strides.empty() && !m_bigEndian; }
    // Where logical element j of channel c is stored, in elements from the data's start.
    std::int64_t storageIndex(std::int64_t c, std::int64_t j) const;

    std::span<const std::byte> m_data;
    DType m_dtype;
    std::size_t m_elemSize;
    std::int64_t m_blockElems = 1; // elements per block: 32 or 256 for ggml block types
    std::int64_t m_numel = 0, m_channels = 1, m_perChannel = 0, m_inner = 1;
    Shape m_shape;
    std::vector<std::int64_t> m_strides; // empty: contiguous row-major
    bool m_bigEndian = false;
};

} // namespace qs
