#include "core/tensor.h"

#include "core/error.h"

namespace qs {

std::int64_t shapeNumel(const Shape& shape)
{
    std::int64_t n = 1;
    for (auto d : shape)
        n *= d; // readers reject shapes whose product overflows
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
