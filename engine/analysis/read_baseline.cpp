#include "analysis/read_baseline.h"

#include <cstring>

namespace qs {

float sumFloatsBaseline(const float* x, std::int64_t n)
{
    typedef float v4 __attribute__((vector_size(16)));
    v4 a0 = {}, a1 = {}, a2 = {}, a3 = {};
    std::int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        v4 b0, b1, b2, b3;
        std::memcpy(&b0, x + i, 16);
        std::memcpy(&b1, x + i + 4, 16);
        std::memcpy(&b2, x + i + 8, 16);
        std::memcpy(&b3, x + i + 12, 16);
        a0 += b0;
        a1 += b1;
        a2 += b2;
        a3 += b3;
    }
    const v4 s = (a0 + a1) + (a2 + a3);
    float total = (s[0] + s[1]) + (s[2] + s[3]);
    for (; i < n; ++i)
        total += x[i];
    return total;
}

} // namespace qs
