// The runtime's tensor: a shape and a contiguous float32 buffer, batch first, channels last.
#pragma once

#include "core/tensor.h"

#include <cstdint>
#include <vector>

namespace qs::nn {

struct Tensor
{
    Shape shape; // [batch, ...per-sample shape]
    std::vector<float> data;

    Tensor() = default;
    explicit Tensor(Shape s) : shape(std::move(s)), data(static_cast<std::size_t>(shapeNumel(shape))) {}

    std::int64_t numel() const { return static_cast<std::int64_t>(data.size()); }
    std::int64_t batch() const { return shape.empty() ? 0 : shape[0]; }
    // Elements per sample; the buffers of consecutive samples follow each other.
    std::int64_t sampleSize() const { return batch() == 0 ? 0 : numel() / batch(); }
    float* sample(std::int64_t i) { return data.data() + i * sampleSize(); }
    const float* sample(std::int64_t i) const { return data.data() + i * sampleSize(); }

    // Reshapes to `s`, keeping the buffer's capacity; the values are unspecified afterwards.
    void reset(Shape s)
    {
        shape = std::move(s);
        data.resize(static_cast<std::size_t>(shapeNumel(shape)));
    }
};

// [n, ...sampleShape]
inline Shape batchShape(std::int64_t n, const Shape& sampleShape)
{
    Shape s{n};
    s.insert(s.end(), sampleShape.begin(), sampleShape.end());
    return s;
}

} // namespace qs::nn
