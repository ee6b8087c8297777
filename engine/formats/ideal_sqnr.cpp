#include "formats/ideal_sqnr.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <mutex>
#include <vector>

namespace qs {
namespace {

constexpr int kMaxBits = 12;
constexpr double kInf = std::numeric_limits<double>::infinity();

// Upper tail P(X > a) and density of N(0, 1); erfc keeps the tail accurate far out.
double tail(double a)
{
    return 0.5 * std::erfc(a * M_SQRT1_2);
}
double density(double a)
{
    return std::isinf(a) ? 0.0 : std::exp(-0.5 * a * a) * (0.5 * M_2_SQRTPI * M_SQRT1_2);
}

// Moments of N(0, 1) over [a, b], 0 <= a < b <= Inf: mass, first and second moment.
struct Moments
{
    double m0, m1, m2;
};
Moments moments(double a, double b)
{
    const double pa = density(a), pb = density(b);
    const double m0 = tail(a) - tail(b);
    const double m1 = pa - pb;
    const double m2 = m0 + a * pa - (std::isinf(b) ? 0.0 : b * pb);
    return {m0, m1, m2};
}

// E[(X - y)^2 ; a <= X < b].
double cellError(double a, double b, double y)
{
    const Moments m = moments(a, b);
    return m.m2 - 2.0 * y * m.m1 + y * y * m.m0;
}

// The quantizers are symmetric: only the half line [0, Inf) is computed and doubled. It is cut
// at t[0] = 0 < t[1] < ... < t[L] = Inf, cell k (1-based) having level y[k - 1].
double halfLineError(const std::vector<double>& t, const std::vector<double>& y)
{
    double e = 0;
    for (std::size_t k = 0; k < y.size(); ++k)
        e += cellError(t[k], t[k + 1], y[k]);
    return e;
}

// Mid-rise grid (even level count 2L): levels (k - 1/2) * step, thresholds k * step.
double uniformError(int half, double step)
{
    std::vector<double> t(static_cast<std::size_t>(half) + 1), y(static_cast<std::size_t>(half));
    for (int k = 0; k < half; ++k) {
        t[static_cast<std::size_t>(k)] = k * step;
        y[static_cast<std::size_t>(k)] = (k + 0.5) * step;
    }
    t.back() = kInf;
    return 2.0 * halfLineError(t, y);
}

// Mid-tread grid (odd level count 2K + 1): levels k * step, thresholds (k - 1/2) * step.
double midTreadError(int k, double step)
{
    std::vector<double> t(static_cast<std::size_t>(k) + 2), y(static_cast<std::size_t>(k) + 1);
    t[0] = 0.0;
    for (int j = 0; j <= k; ++j) {
        y[static_cast<std::size_t>(j)] = j * step;
        if (j > 0) t[static_cast<std::size_t>(j)] = (j - 0.5) * step;
    }
    t.back() = kInf;
    return 2.0 * halfLineError(t, y);
}

// Golden-section search of a unimodal error over the step; the bracket [0.5, 16] / levels
// holds the optimum for every level count from 2 to 4096 (it is about 4.1 / 128 at 256).
template <typename F> double minimiseStep(F error, int levels, double* argmin)
{
    const double g = 0.5 * (std::sqrt(5.0) - 1.0);
    double lo = 0.5 / levels, hi = 16.0 / levels;
    double a = hi - g * (hi - lo), b = lo + g * (hi - lo);
    double fa = error(a), fb = error(b);
    while (hi - lo > 1e-12 * hi) {
        if (fa < fb) {
            hi = b, b = a, fb = fa;
            a = hi - g * (hi - lo), fa = error(a);
        } else {
            lo = a, a = b, fa = fb;
            b = lo + g * (hi - lo), fb = error(b);
        }
    }
    const double step = 0.5 * (lo + hi);
    if (argmin) *argmin = step;
    return error(step);
}

// x with P(X > x) = p, 0 < p <= 1/2, by bisection (the tail is monotone).
double upperQuantile(double p)
{
    double lo = 0.0, hi = 40.0;
    for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; ++i) {
        const double mid = 0.5 * (lo + hi);
        (tail(mid) > p ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
}

// The Lloyd-Max conditions on the half line: with thresholds t_k = (y_k + y_{k+1}) / 2 (and
// t_0 = 0, t_L = Inf), each level is its cell's centroid, F_k(y) = c_k(t_{k-1}, t_k) - y_k = 0.
// Lloyd's own iteration (y <- c) converges ever more slowly as levels are added, so Newton's
// method solves the system instead: its Jacobian is tridiagonal, because c_k depends on y
// only through its cell's two ends (dc/db = phi(b)(b - c)/m0, dc/da = phi(a)(c - a)/m0). The
// start is the high-resolution optimum (levels spread like the density to the power 1/3,
// i.e. like N(0, 3)); a step that would break the levels' order becomes a Lloyd step.
double lloydMaxError(int half, double* outer)
{
    const auto L = static_cast<std::size_t>(half);
    std::vector<double> y(L), t(L + 1), c(L), lo(L), di(L), up(L), r(L);
    for (std::size_t k = 0; k < L; ++k)
        y[k] = std::sqrt(3.0) * upperQuantile(0.5 - (static_cast<double>(k) + 0.5) / (2.0 * half));
    t[0] = 0.0;
    t[L] = kInf;
    for (int iter = 0; iter < 100; ++iter) {
        for (std::size_t k = 1; k < L; ++k)
            t[k] = 0.5 * (y[k - 1] + y[k]);
        double residual = 0;
        for (std::size_t k = 0; k < L; ++k) {
            const Moments m = moments(t[k], t[k + 1]);
            c[k] = m.m1 / m.m0;
            r[k] = c[k] - y[k];
            residual = std::max(residual, std::fabs(r[k]));
            const double da = k == 0 ? 0.0 : density(t[k]) * (c[k] - t[k]) / m.m0;
            const double db = k + 1 == L ? 0.0 : density(t[k + 1]) * (t[k + 1] - c[k]) / m.m0;
            lo[k] = 0.5 * da;
            di[k] = 0.5 * (da + db) - 1.0;
            up[k] = 0.5 * db;
        }
        if (residual < 1e-12) break; // rounding keeps it at a few ulps; the MSE error is its square
        // Thomas algorithm for J * d = -r (J: lo below, di on, up above the diagonal).
        for (std::size_t k = 1; k < L; ++k) {
            const double w = lo[k] / di[k - 1];
            di[k] -= w * up[k - 1];
            r[k] -= w * r[k - 1];
        }
        std::vector<double> next(y);
        for (std::size_t k = L; k-- > 0;) {
            const double d = (-r[k] - (k + 1 < L ? up[k] * (next[k + 1] - y[k + 1]) : 0.0)) / di[k];
            next[k] = y[k] + d;
        }
        bool ordered = next[0] > 0.0;
        for (std::size_t k = 1; k < L && ordered; ++k)
            ordered = next[k] > next[k - 1];
        y = ordered ? next : c;
    }
    for (std::size_t k = 1; k < L; ++k)
        t[k] = 0.5 * (y[k - 1] + y[k]);
    if (outer) *outer = y.back();
    return 2.0 * halfLineError(t, y);
}

} // namespace

double computeIdealSqnrDb(int bits, IdealQuantizer kind, double* param)
{
    const int minBits = kind == IdealQuantizer::UniformMidTread ? 2 : 1;
    if (bits < minBits || bits > kMaxBits) return std::numeric_limits<double>::quiet_NaN();
    const int half = 1 << (bits - 1);
    double mse = 0;
    switch (kind) {
    case IdealQuantizer::Uniform:
        mse = minimiseStep([&](double s) { return uniformError(half, s); }, 2 * half, param);
        break;
    case IdealQuantizer::UniformMidTread:
        mse =
            minimiseStep([&](double s) { return midTreadError(half - 1, s); }, 2 * half - 1, param);
        break;
    case IdealQuantizer::LloydMax:
        mse = lloydMaxError(half, param);
        break;
    }
    return -10.0 * std::log10(mse);
}

double idealSqnrDb(int bits, IdealQuantizer kind)
{
    static std::mutex mutex;
    static std::array<std::array<double, kMaxBits + 1>, 3> cache = [] {
        std::array<std::array<double, kMaxBits + 1>, 3> c;
        for (auto& row : c)
            row.fill(std::numeric_limits<double>::quiet_NaN());
        return c;
    }();
    if (bits < 1 || bits > kMaxBits) return std::numeric_limits<double>::quiet_NaN();
    const auto k = static_cast<std::size_t>(kind);
    const auto b = static_cast<std::size_t>(bits);
    std::lock_guard lock(mutex);
    if (std::isnan(cache[k][b])) cache[k][b] = computeIdealSqnrDb(bits, kind);
    return cache[k][b];
}

} // namespace qs
