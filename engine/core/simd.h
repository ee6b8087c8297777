// Portable SIMD through GCC/Clang vector extensions, for reductions the compiler will not
// vectorise on its own (it may not reorder float sums or NaN-aware min/max without fast-math).
#pragma once

#include <algorithm>
#include <cstring>

namespace qs::simd {

typedef float v4f __attribute__((vector_size(16)));
typedef double v2d __attribute__((vector_size(16)));
typedef float v2f __attribute__((vector_size(8)));
typedef int v4i __attribute__((vector_size(16))); // lane comparisons of v4f give -1 / 0

inline v4f load(const float* p)
{
    v4f v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline v2d lowToDouble(v4f v)
{
    return __builtin_convertvector((v2f{v[0], v[1]}), v2d);
}
inline v2d highToDouble(v4f v)
{
    return __builtin_convertvector((v2f{v[2], v[3]}), v2d);
}
// Lane-wise a < b ? a : b, which ignores a NaN in `a` (it never compares less).
inline v4f minKeep(v4f a, v4f b)
{
    return a < b ? a : b;
}
inline v4f maxKeep(v4f a, v4f b)
{
    return a > b ? a : b;
}
inline v4f abs(v4f v)
{
    typedef int v4i __attribute__((vector_size(16)));
    v4i bits;
    std::memcpy(&bits, &v, sizeof v);
    bits &= 0x7fffffff;
    std::memcpy(&v, &bits, sizeof v);
    return v;
}
inline float hmin(v4f v)
{
    return std::min(std::min(v[0], v[1]), std::min(v[2], v[3]));
}
inline float hmax(v4f v)
{
    return std::max(std::max(v[0], v[1]), std::max(v[2], v[3]));
}
inline double hsum(v2d a)
{
    return a[0] + a[1];
}

} // namespace qs::simd
