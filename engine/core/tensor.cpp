#include "core/tensor.h"

#include "core/error.h"

namespace qs {

std::int64_t shapeNumel(const Shape& shape)
{
    // Readers reject shapes whose non-zero dimensions overflow; a zero anywhere means no
    // elements whatever the others say, so it is checked first.
    for (auto d : shape)
        if (d == 0) return 0;
    std::int64_t n = 1;
    for (auto d : shape)
        if (__builtin_mul_overflow(n, d, &n))
            throw Error("shape " + shapeToString(shape) + " overflows the element count");
    return n;
}

std::string shapeToString(const Shape& shape)
{
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

} // namespace qs
