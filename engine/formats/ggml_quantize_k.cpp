// The K-quant encoders (256-value super-blocks), following ggml's quantize_row_q*_K_ref.
// Sub-block scales are searched in fp32, quantized to 4, 6 or 8 bits against a super-block scale
// stored as fp16; the final codes are recomputed from the stored (fp16-rounded) scales.
#include "formats/ggml_quantize.h"

#include "formats/half.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace qs::ggml_detail {
namespace {

constexpr int kQK = 256;
constexpr float kGroupMaxEps = 1e-15f;

using std::int8_t;
using std::uint8_t;

void putF16(std::byte* p, float v)
{
    const std::uint16_t h = f32ToF16(v);
    std::memcpy(p, &h, 2);
}

float getF16(const std::byte* p)
{
    std::uint16_t h;
    std::memcpy(&h, p, 2);
    return f16ToF32(h);
}

// Symmetric codes -nmax .. nmax-1 for n values, scale chosen by a weighted least-squares search
// over 18 nearby grid densities (rmse_type 1: weights x^2). L receives code + nmax.
float makeQxQuants(int n, int nmax, const float* x, int8_t* L)
{
    float max = 0.0f, amax = 0.0f;
    for (int i = 0; i < n; ++i) {
        const float ax = std::fabs(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < kGroupMaxEps) {
        std::fill(L, L + n, int8_t{0});
        return 0.0f;
    }
    float iscale = static_cast<float>(-nmax) / max;
    float sumlx = 0.0f, suml2 = 0.0f;
    for (int i = 0; i < n; ++i) {
        int l = nearestInt(iscale * x[i]);
        l = std::max(-nmax, std::min(nmax - 1, l));
        L[i] = static_cast<int8_t>(l + nmax);
        const float w = x[i] * x[i];
        sumlx += w * x[i] * static_cast<float>(l);
        suml2 += w * static_cast<float>(l) * static_cast<float>(l);
    }
    float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(is)) / max;
        sumlx = suml2 = 0.0f;
        for (int i = 0; i < n; ++i) {
            int l = nearestInt(iscale * x[i]);
            l = std::max(-nmax, std::min(nmax - 1, l));
            const float w = x[i] * x[i];
            sumlx += w * x[i] * static_cast<float>(l);
            suml2 += w * static_cast<float>(l) * static_cast<float>(l);
        }
        if (suml2 > 0.0f && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; ++i) {
                const int l = nearestInt(iscale * x[i]);
                L[i] = static_cast<int8_t>(nmax + std::max(-nmax, std::min(nmax - 1, l)));
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

// q3_K's sub-block search: start from the max-based grid, then move single codes while that
// improves the weighted (x^2) fit, up to five sweeps. L receives code + nmax.
float makeQ3Quants(int n, int nmax, const float* x, int8_t* L)
{
    float max = 0.0f, amax = 0.0f;
    for (int i = 0; i < n; ++i) {
        const float ax = std::fabs(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < kGroupMaxEps) {
        std::fill(L, L + n, int8_t{0});
        return 0.0f;
    }
    const float iscale = static_cast<float>(-nmax) / max;
    float sumlx = 0.0f, suml2 = 0.0f;
    for (int i = 0; i < n; ++i) {
        int l = nearestInt(iscale * x[i]);
        l = std::max(-nmax, std::min(nmax - 1, l));
        L[i] = static_cast<int8_t>(l);
        const float w = x[i] * x[i];
        sumlx += w * x[i] * static_cast<float>(l);
        suml2 += w * static_cast<float>(l) * static_cast<float>(l);
    }
    for (int itry = 0; itry < 5; ++itry) {
        int changed = 0;
        for (int i = 0; i < n; ++i) {
            const float w = x[i] * x[i];
            const float li = static_cast<float>(L[i]);
            float slx = sumlx - w * x[i] * li;
            if (slx > 0.0f) {
                float sl2 = suml2 - w * li * li;
                int nl = nearestInt(x[i] * sl2 / slx);
                nl = std::max(-nmax, std::min(nmax - 1, nl));
                if (nl != L[i]) {
                    slx += w * x[i] * static_cast<float>(nl);
                    sl2 += w * static_cast<float>(nl) * static_cast<float>(nl);
                    if (sl2 > 0.0f && slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = static_cast<int8_t>(nl);
                        sumlx = slx;
                        suml2 = sl2;
                        ++changed;
                    }
                }
            }
        }
        if (!changed) break;
    }
    for (int i = 0; i < n; ++i)
        L[i] = static_cast<int8_t>(L[i] + nmax);
    return sumlx / suml2;
}

// Affine codes 0..nmax with a scale and a (non-positive) minimum, searched over nstep+1 grid
// densities by weighted least squares; the error is measured as |diff| (useMad) or diff^2.
// Returns the scale and stores -min in *theMin.
float makeQkx2Quants(int n, int nmax, const float* x, const float* weights, uint8_t* L,
                     float* theMin, uint8_t* Laux, float rmin, float rdelta, int nstep, bool useMad)
{
    float min = x[0], max = x[0];
    float sumW = weights[0], sumX = sumW * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        const float w = weights[i];
        sumW += w;
        sumX += w * x[i];
    }
    if (min > 0.0f) min = 0.0f;
    if (max == min) {
        std::fill(L, L + n, uint8_t{0});
        *theMin = -min;
        return 0.0f;
    }
    const float fmax = static_cast<float>(nmax);
    float iscale = fmax / (max - min);
    float scale = 1.0f / iscale;
    float bestMad = 0.0f;
    for (int i = 0; i < n; ++i) {
        const int l = nearestInt(iscale * (x[i] - min));
        L[i] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
        float diff = scale * static_cast<float>(L[i]) + min - x[i];
        diff = useMad ? std::fabs(diff) : diff * diff;
        bestMad += weights[i] * diff;
    }
    if (nstep < 1) {
        *theMin = -min;
        return scale;
    }
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * static_cast<float>(is) + fmax) / (max - min);
        float sumL = 0.0f, sumL2 = 0.0f, sumXL = 0.0f;
        for (int i = 0; i < n; ++i) {
            int l = nearestInt(iscale * (x[i] - min));
            l = std::max(0, std::min(nmax, l));
            Laux[i] = static_cast<uint8_t>(l);
            const float w = weights[i], fl = static_cast<float>(l);
            sumL += w * fl;
            sumL2 += w * fl * fl;
            sumXL += w * fl * x[i];
        }
        const float D = sumW * sumL2 - sumL * sumL;
        if (D > 0.0f) {
            float thisScale = (sumW * sumXL - sumX * sumL) / D;
            float thisMin = (sumL2 * sumX - sumL * sumXL) / D;
            if (thisMin > 0.0f) {
                thisMin = 0.0f;
                thisScale = sumXL / sumL2;
            }
            float mad = 0.0f;
            for (int i = 0; i < n; ++i) {
                float diff = thisScale * static_cast<float>(Laux[i]) + thisMin - x[i];
                diff = useMad ? std::fabs(diff) : diff * diff;
                mad += weights[i] * diff;
            }
            if (mad < bestMad) {
                std::copy(Laux, Laux + n, L);
                bestMad = mad;
                scale = thisScale;
                min = thisMin;
            }
        }
    }
    *theMin = -min;
    return scale;
}

// Packs 2-bit codes: byte l of each 32-byte group holds values l, l+32, l+64, l+96 of 128.
void pack2(const uint8_t* L, std::byte* qs)
{
    for (int j = 0; j < kQK; j += 128)
        for (int l = 0; l < 32; ++l)
            qs[j / 4 + l] = static_cast<std::byte>(L[j + l] | (L[j + l + 32] << 2) |
                                                   (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
}

// q4_K/q5_K: 6-bit scale and min per 32 values, packed into 12 bytes as ggml's
// get_scale_min_k4 reads them.
void scaleMinK4(int j, const uint8_t* q, uint8_t& sc, uint8_t& m)
{
    if (j < 4) {
        sc = q[j] & 63;
        m = q[j + 4] & 63;
    } else {
        sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

// The shared part of q4_K and q5_K: scales searched per 32 values, stored as 6-bit multiples of
// d and dmin; L receives the final codes 0..nmax. head: d, dmin, scales[12].
void quantizeK4Like(const float* x, int nmax, float rmin, int nstep, std::byte* head, uint8_t* L)
{
    uint8_t Laux[32];
    float weights[32], mins[kQK / 32], scales[kQK / 32];
    float maxScale = 0.0f, maxMin = 0.0f;
    for (int j = 0; j < kQK / 32; ++j) {
        float sumX2 = 0.0f;
        for (int l = 0; l < 32; ++l)
            sumX2 += x[32 * j + l] * x[32 * j + l];
        const float avX = std::sqrt(sumX2 / 32.0f);
        for (int l = 0; l < 32; ++l)
            weights[l] = avX + std::fabs(x[32 * j + l]);
        scales[j] = makeQkx2Quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, rmin,
                                   0.1f, nstep, false);
        if (scales[j] > maxScale) maxScale = scales[j];
        if (mins[j] > maxMin) maxMin = mins[j];
    }
    const float invScale = maxScale > 0.0f ? 63.0f / maxScale : 0.0f;
    const float invMin = maxMin > 0.0f ? 63.0f / maxMin : 0.0f;
    uint8_t sc[12] = {};
    for (int j = 0; j < kQK / 32; ++j) {
        auto ls = static_cast<uint8_t>(nearestInt(invScale * scales[j]));
        auto lm = static_cast<uint8_t>(nearestInt(invMin * mins[j]));
        ls = std::min<uint8_t>(63, ls);
        lm = std::min<uint8_t>(63, lm);
        if (j < 4) {
            sc[j] = ls;
            sc[j + 4] = lm;
        } else {
            sc[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
            sc[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
            sc[j] |= static_cast<uint8_t>((lm >> 4) << 6);
        }
    }
    putF16(head, maxScale / 63.0f);
    putF16(head + 2, maxMin / 63.0f);
    std::memcpy(head + 4, sc, 12);
    const float d0 = getF16(head), dmin0 = getF16(head + 2);
    for (int j = 0; j < kQK / 32; ++j) {
        uint8_t s, m;
        scaleMinK4(j, sc, s, m);
        const float d = d0 * static_cast<float>(s);
        if (d == 0.0f) continue;
        const float dm = dmin0 * static_cast<float>(m);
        for (int ii = 0; ii < 32; ++ii) {
            const int l = nearestInt((x[32 * j + ii] + dm) / d);
            L[32 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
        }
    }
}

} // namespace

// ggml's nearest_int: adding 1.5 * 2^23 leaves the rounded (ties-to-even) integer in the low
// mantissa bits. Valid for |v| <= 2^22 - 1; outside that it returns what ggml returns.
int nearestInt(float v)
{
    const float t = v + 12582912.0f;
    std::int32_t i;
    std::memcpy(&i, &t, 4);
    return (i & 0x007fffff) - 0x00400000;
}

// block_q2_K: scales[16] (low nibble scale, high nibble min), qs[64], d, dmin.
void quantizeBlockQ2K(const float* x, std::byte* out)
{
    uint8_t L[kQK], Laux[16];
    float weights[16], mins[kQK / 16], scales[kQK / 16];
    constexpr float q4scale = 15.0f;
    float maxScale = 0.0f, maxMin = 0.0f;
    for (int j = 0; j < kQK / 16; ++j) {
        for (int l = 0; l < 16; ++l)
            weights[l] = std::fabs(x[16 * j + l]);
        scales[j] = makeQkx2Quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f,
                                   0.1f, 15, true);
        if (scales[j] > maxScale) maxScale = scales[j];
        if (mins[j] > maxMin) maxMin = mins[j];
    }
    uint8_t sc[16] = {};
    std::byte* d16 = out + 16 + 64;
    if (maxScale > 0.0f) {
        const float iscale = q4scale / maxScale;
        for (int j = 0; j < kQK / 16; ++j)
            sc[j] = static_cast<uint8_t>(nearestInt(iscale * scales[j]));
        putF16(d16, maxScale / q4scale);
    } else {
        putF16(d16, 0.0f);
    }
    if (maxMin > 0.0f) {
        const float iscale = q4scale / maxMin;
        for (int j = 0; j < kQK / 16; ++j)
            sc[j] = static_cast<uint8_t>(sc[j] | (nearestInt(iscale * mins[j]) << 4));
        putF16(d16 + 2, maxMin / q4scale);
    } else {
        putF16(d16 + 2, 0.0f);
    }
    const float d0 = getF16(d16), dmin0 = getF16(d16 + 2);
    for (int j = 0; j < kQK / 16; ++j) {
        const float d = d0 * static_cast<float>(sc[j] & 0xF);
        if (d == 0.0f) continue;
        const float dm = dmin0 * static_cast<float>(sc[j] >> 4);
        for (int ii = 0; ii < 16; ++ii) {
            const int l = nearestInt((x[16 * j + ii] + dm) / d);
            L[16 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(3, l)));
        }
    }
    std::memcpy(out, sc, 16);
    pack2(L, out + 16);
}

// block_q3_K: hmask[32], qs[64], scales[12] (6-bit, offset 32), d.
void quantizeBlockQ3K(const float* x, std::byte* out)
{
    int8_t L[kQK];
    float scales[kQK / 16];
    float maxScale = 0.0f, amax = 0.0f;
    for (int j = 0; j < kQK / 16; ++j) {
        scales[j] = makeQ3Quants(16, 4, x + 16 * j, L + 16 * j);
        const float a = std::fabs(scales[j]);
        if (a > amax) {
            amax = a;
            maxScale = scales[j];
        }
    }
    uint8_t sc[12] = {};
    std::byte* dp = out + 32 + 64 + 12;
    if (maxScale != 0.0f) {
        const float iscale = -32.0f / maxScale;
        for (int j = 0; j < kQK / 16; ++j) {
            auto l = static_cast<int8_t>(nearestInt(iscale * scales[j]));
            l = static_cast<int8_t>(std::max<int>(-32, std::min<int>(31, l)) + 32);
            if (j < 8)
                sc[j] = static_cast<uint8_t>(l & 0xF);
            else
                sc[j - 8] = static_cast<uint8_t>(sc[j - 8] | ((l & 0xF) << 4));
            l = static_cast<int8_t>(l >> 4);
            sc[j % 4 + 8] = static_cast<uint8_t>(sc[j % 4 + 8] | (l << (2 * (j / 4))));
        }
        putF16(dp, 1.0f / iscale);
    } else {
        putF16(dp, 0.0f);
    }
    const float d0 = getF16(dp);
    for (int j = 0; j < kQK / 16; ++j) {
        int s = j < 8 ? (sc[j] & 0xF) : (sc[j - 8] >> 4);
        s = (s | (((sc[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32;
        const float d = d0 * static_cast<float>(s);
        if (d == 0.0f) continue;
        for (int ii = 0; ii < 16; ++ii) {
            const int l = nearestInt(x[16 * j + ii] / d);
            L[16 * j + ii] = static_cast<int8_t>(std::max(-4, std::min(3, l)) + 4);
        }
    }
    uint8_t hmask[kQK / 8] = {};
    uint8_t U[kQK];
    int m = 0;
    uint8_t hm = 1;
    for (int j = 0; j < kQK; ++j) {
        int v = L[j];
        if (v > 3) {
            hmask[m] = static_cast<uint8_t>(hmask[m] | hm);
            v -= 4;
        }
        U[j] = static_cast<uint8_t>(v);
        if (++m == kQK / 8) {
            m = 0;
            hm = static_cast<uint8_t>(hm << 1);
        }
    }
    std::memcpy(out, hmask, 32);
    pack2(U, out + 32);
    std::memcpy(out + 96, sc, 12);
}

// block_q4_K: d, dmin, scales[12], qs[128] (values l and l+32 of each 64 share a byte).
void quantizeBlockQ4K(const float* x, std::byte* out)
{
    uint8_t L[kQK];
    quantizeK4Like(x, 15, -1.0f, 20, out, L);
    std::byte* q = out + 16;
    for (int j = 0; j < kQK; j += 64) {
        for (int l = 0; l < 32; ++l)
            q[l] = static_cast<std::byte>(L[j + l] | (L[j + l + 32] << 4));
        q += 32;
    }
}

// block_q5_K: d, dmin, scales[12], qh[32], qs[128].
void quantizeBlockQ5K(const float* x, std::byte* out)
{
    uint8_t L[kQK];
    quantizeK4Like(x, 31, -0.5f, 15, out, L);
    uint8_t qh[kQK / 8] = {};
    std::byte* ql = out + 16 + 32;
    uint8_t m1 = 1, m2 = 2;
    for (int n = 0; n < kQK; n += 64) {
        for (int j = 0; j < 32; ++j) {
            int l1 = L[n + j], l2 = L[n + j + 32];
            if (l1 > 15) {
                l1 -= 16;
                qh[j] = static_cast<uint8_t>(qh[j] | m1);
            }
            if (l2 > 15) {
                l2 -= 16;
                qh[j] = static_cast<uint8_t>(qh[j] | m2);
            }
            ql[j] = static_cast<std::byte>(l1 | (l2 << 4));
        }
        m1 = static_cast<uint8_t>(m1 << 2);
        m2 = static_cast<uint8_t>(m2 << 2);
        ql += 32;
    }
    std::memcpy(out + 16, qh, 32);
}

// block_q6_K: ql[128], qh[64], scales[16] (int8), d.
void quantizeBlockQ6K(const float* x, std::byte* out)
{
    int8_t L[kQK];
    float scales[kQK / 16];
    float maxScale = 0.0f, maxAbs = 0.0f;
    for (int ib = 0; ib < kQK / 16; ++ib) {
        scales[ib] = makeQxQuants(16, 32, x + 16 * ib, L + 16 * ib);
        const float a = std::fabs(scales[ib]);
        if (a > maxAbs) {
            maxAbs = a;
            maxScale = scales[ib];
        }
    }
    std::byte* dp = out + 128 + 64 + 16;
    if (maxAbs < kGroupMaxEps) {
        std::memset(out, 0, 210);
        putF16(dp, 0.0f);
        return;
    }
    const float iscale = -128.0f / maxScale;
    putF16(dp, 1.0f / iscale);
    int8_t sc[kQK / 16];
    for (int ib = 0; ib < kQK / 16; ++ib)
        sc[ib] = static_cast<int8_t>(std::min(127, nearestInt(iscale * scales[ib])));
    const float d0 = getF16(dp);
    for (int j = 0; j < kQK / 16; ++j) {
        const float d = d0 * static_cast<float>(sc[j]);
        if (d == 0.0f) continue;
        for (int ii = 0; ii < 16; ++ii) {
            const int l = nearestInt(x[16 * j + ii] / d);
            L[16 * j + ii] = static_cast<int8_t>(std::max(-32, std::min(31, l)) + 32);
        }
    }
    std::byte* ql = out;
    std::byte* qh = out + 128;
    for (int j = 0; j < kQK; j += 128) {
        for (int l = 0; l < 32; ++l) {
            const int q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF;
            const int q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
            ql[l] = static_cast<std::byte>(q1 | (q3 << 4));
            ql[l + 32] = static_cast<std::byte>(q2 | (q4 << 4));
            qh[l] =
                static_cast<std::byte>((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                                       ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
        }
        ql += 64;
        qh += 32;
    }
    std::memcpy(out + 192, sc, 16);
}

} // namespace qs::ggml_detail
