// Sliding-window arithmetic shared by convolution and pooling, with TensorFlow's padding rules.
#pragma once

#include <cstdint>

namespace qs::nn {

struct WindowAxis
{
    std::int64_t in = 0, kernel = 1, stride = 1;
    std::int64_t out = 0;       // output positions; < 1 when the window does not fit
    std::int64_t padBefore = 0; // positions of padding before the first input element
};

// "valid": out = floor((in - kernel) / stride) + 1, no padding. "same": out = ceil(in / stride)
// and the padding that needs, split with the odd one after (TensorFlow's rule, so a strided
// "same" convolution pads the bottom/right more than the top/left).
inline WindowAxis windowAxis(std::int64_t in, std::int64_t kernel, std::int64_t stride, bool same)
{
    WindowAxis a{in, kernel, stride, 0, 0};
    if (same) {
        a.out = (in + stride - 1) / stride;
        const std::int64_t total = (a.out - 1) * stride + kernel - in;
        a.padBefore = total > 0 ? total / 2 : 0;
    } else {
        a.out = in >= kernel ? (in - kernel) / stride + 1 : 0;
    }
    return a;
}

} // namespace qs::nn
