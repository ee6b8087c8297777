#include "io/plain_tensor.h"

#include "core/error.h"

#include <algorithm>
#include <cstring>

namespace qs {

bool hasPlainData(const TensorInfo& t)
{
    if (isBlockType(t.dtype)) return false;
    const auto n = static_cast<std::uint64_t>(t.numel());
    if (t.strides.empty()) return n * dtypeSize(t.dtype) == t.byteSize;
    return n == 0 || t.byteSize > 0;
}

std::vector<std::byte> rowMajorLittleEndian(std::span<const std::byte> data, const TensorInfo& t)
{
    if (!hasPlainData(t)) throw Error("tensor '" + t.name + "' has no plain data to write");
    const std::size_t size = dtypeSize(t.dtype);
    const auto n = static_cast<std::size_t>(t.numel());
    std::vector<std::byte> out(n * size);
    if (t.strides.empty()) {
        std::memcpy(out.data(), data.data(), out.size());
    } else {
        if (t.strides.size() != t.shape.size())
            throw Error("tensor '" + t.name + "': strides do not match its shape");
        std::vector<std::int64_t> index(t.shape.size(), 0);
        for (std::size_t k = 0; k < n; ++k) {
            std::uint64_t at = 0;
            for (std::size_t a = 0; a < index.size(); ++a)
                at += static_cast<std::uint64_t>(index[a] * t.strides[a]);
            if ((at + 1) * size > data.size())
                throw Error("tensor '" + t.name + "': strides reach beyond its data");
            std::memcpy(out.data() + k * size, data.data() + at * size, size);
            for (std::size_t a = index.size(); a-- > 0;) { // next row-major index
                if (++index[a] < t.shape[a]) break;
                index[a] = 0;
            }
        }
    }
    if (t.bigEndian && size > 1)
        for (std::size_t k = 0; k < n; ++k)
            std::reverse(out.begin() + static_cast<std::ptrdiff_t>(k * size),
                         out.begin() + static_cast<std::ptrdiff_t>((k + 1) * size));
    return out;
}

} // namespace qs
