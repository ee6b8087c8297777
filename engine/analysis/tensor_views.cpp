#include "analysis/tensor_views.h"

#include "analysis/group_params.h"
#include "core/error.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace qs {
namespace {

constexpr std::int64_t kChunk = TensorQuantizer::kChunk;
// Units processed between merges. Each holds its own partial grid (a band of cell rows, or the
// whole grid when a unit's values are spread over every row), so this bounds the transient
// memory at kBatch grids while leaving enough work for the executor's threads.
constexpr std::int64_t kBatch = 8;
constexpr std::int64_t kMaxCells = std::int64_t{1} << 22; // 2048 x 2048

// splitmix64 of (seed, index): the uniform sample keeps the smallest hashes.
std::uint64_t sampleHash(std::uint64_t seed, std::int64_t index)
{
    std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (static_cast<std::uint64_t>(index) + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

struct Candidate
{
    float value = 0, error = 0;
    std::int64_t index = 0;
    std::uint64_t hash = 0;
};

// Strict total orders (ties broken by index), so what is kept never depends on arrival order.
struct BySample
{
    bool operator()(const Candidate& a, const Candidate& b) const
    {
        return a.hash != b.hash ? a.hash < b.hash : a.index < b.index;
    }
};
struct ByError
{
    bool operator()(const Candidate& a, const Candidate& b) const
    {
        const float x = std::fabs(a.error), y = std::fabs(b.error);
        return x != y ? x > y : a.index < b.index;
    }
};
struct ByMagnitude
{
    bool operator()(const Candidate& a, const Candidate& b) const
    {
        const float x = std::fabs(a.value), y = std::fabs(b.value);
        return x != y ? x > y : a.index < b.index;
    }
};

// The k best candidates offered so far under `Better`, as a heap whose front is the worst kept.
template <typename Better> class BestK
{
public:
    explicit BestK(std::size_t k = 0) : m_k(k) {}
    bool full() const { return m_heap.size() >= m_k; }
    const Candidate& worst() const { return m_heap.front(); }
    void offer(const Candidate& c)
    {
        if (m_heap.size() < m_k) {
            m_heap.push_back(c);
            std::push_heap(m_heap.begin(), m_heap.end(), Better{});
        } else if (m_k > 0 && Better{}(c, m_heap.front())) {
            std::pop_heap(m_heap.begin(), m_heap.end(), Better{});
            m_heap.back() = c;
            std::push_heap(m_heap.begin(), m_heap.end(), Better{});
        }
    }
    void merge(const BestK& o)
    {
        for (const Candidate& c : o.m_heap)
            offer(c);
    }
    const std::vector<Candidate>& items() const { return m_heap; }

private:
    std::size_t m_k;
    std::vector<Candidate> m_heap;
};

struct CellSums
{
    double absW = 0, w = 0, absE = 0, e = 0;
    float maxE = 0;
    std::int64_t n = 0;
    void merge(const CellSums& o)
    {
        absW += o.absW;
        w += o.w;
        absE += o.absE;
        e += o.e;
        maxE = std::max(maxE, o.maxE);
        n += o.n;
    }
};

// Everything one work unit contributes; merged into the total in unit order.
struct Partial
{
    std::int64_t firstCell = 0;
    std::vector<CellSums> cells;
    BestK<BySample> sample;
    BestK<ByError> errors;
    BestK<ByMagnitude> magnitudes;
    Candidate lo, hi;
    std::int64_t finite = 0;
};

// How logical elements of the quantizer map to matrix rows and columns and to grid cells.
struct MatrixMap
{
    bool enabled = false;
    bool sameAxis = false; // the quantizer's channels are the matrix rows: (c, j) is (row, col)
    bool banded = false;   // a unit's elements lie in a contiguous band of rows
    std::int64_t rows = 0, cols = 0, inner = 1; // inner: elements per step of the row axis
    Heatmap grid;

    std::size_t cellOf(std::int64_t c, std::int64_t j, std::int64_t m) const
    {
        std::int64_t row = c, col = j;
        if (!sameAxis) {
            row = m / inner % rows;
            col = m / (inner * rows) * inner + m % inner;
        }
        return grid.cell(grid.cellRow(row), grid.cellCol(col));
    }
};

MatrixMap matrixMap(const TensorInfo& info, const TensorQuantizer& qz, const TensorViewOptions& o)
{
    MatrixMap map;
    if (info.shape.size() < 2 || info.numel() == 0) return map;
    const int rank = static_cast<int>(info.shape.size());
    // An axis the file did not give sensibly falls back to the PyTorch convention.
    const int axis = info.channelAxis >= 0 && info.channelAxis < rank ? info.channelAxis : 0;
    map.enabled = true;
    map.rows = info.shape[static_cast<std::size_t>(axis)];
    map.cols = info.numel() / map.rows;
    for (int a = axis + 1; a < rank; ++a)
        map.inner *= info.shape[static_cast<std::size_t>(a)];
    const GroupLayout layout = groupLayout(info, *qz.spec().format, qz.spec().granularity);
    map.sameAxis = layout.axis == axis;
    // Without channels the quantizer walks memory order, which runs along rows when they are
    // the first axis.
    map.banded = map.sameAxis || (layout.axis < 0 && axis == 0);
    Heatmap& g = map.grid;
    g.rows = map.rows;
    g.cols = map.cols;
    g.channelAxis = axis;
    g.gridRows = static_cast<int>(std::min<std::int64_t>(map.rows, o.maxRows));
    g.gridCols = static_cast<int>(std::min<std::int64_t>(map.cols, o.maxCols));
    return map;
}

// The cells unit u can touch: a band of whole grid rows, or the whole grid.
std::pair<std::int64_t, std::int64_t> unitCells(const MatrixMap& map, const TensorQuantizer& qz,
                                                std::int64_t u)
{
    if (!map.enabled) return {0, 0};
    const Heatmap& g = map.grid;
    if (!map.banded) return {0, std::int64_t{g.gridRows} * g.gridCols};
    const std::int64_t first = u * TensorQuantizer::kUnit;
    const std::int64_t last = std::min(qz.source().numel(), first + TensorQuantizer::kUnit) - 1;
    return {std::int64_t{g.cellRow(first / map.cols)} * g.gridCols,
            std::int64_t{g.cellRow(last / map.cols) + 1} * g.gridCols};
}

Partial processUnit(const TensorQuantizer& qz, const MatrixMap& map, std::int64_t u,
                    const TensorViewOptions& o, std::uint64_t sampleLimit, const Control& control,
                    bool stream)
{
    Partial p;
    const UnitScales unitScales = stream ? qz.scalesOfUnit(u, control) : UnitScales{};
    // Plain variables, not a structured binding: the lambda below uses cellLo, and clang
    // before 16 (the fuzz build's compiler) cannot capture structured bindings.
    const auto cellRange = unitCells(map, qz, u);
    const std::int64_t cellLo = cellRange.first, cellHi = cellRange.second;
    p.firstCell = cellLo;
    p.cells.resize(static_cast<std::size_t>(cellHi - cellLo));
    p.sample = BestK<BySample>(static_cast<std::size_t>(o.samplePoints));
    p.errors = BestK<ByError>(static_cast<std::size_t>(o.largestErrors));
    p.magnitudes = BestK<ByMagnitude>(static_cast<std::size_t>(o.extremeValues));
    float xbuf[kChunk], d[kChunk];
    std::uint64_t bytes = 0;
    qz.forEachChunk(u, [&](std::int64_t c, std::int64_t j, std::int64_t n) {
        control.checkCancelled();
        const float* x = qz.source().view(c, j, n, xbuf);
        qz.roundtrip(c, j, x, n, d, nullptr, stream ? &unitScales : nullptr);
        bytes += qz.source().storedBytes(n);
        for (std::int64_t k = 0; k < n; ++k) {
            // Non-finite originals are left out of every view, as out of the metrics.
            if (!std::isfinite(x[k])) continue;
            Candidate cand{x[k], x[k] - d[k], qz.source().memoryIndex(c, j + k), 0};
            if (map.enabled) {
                CellSums& s =
                    p.cells[map.cellOf(c, j + k, cand.index) - static_cast<std::size_t>(cellLo)];
                const double w = cand.value, e = cand.error;
                s.absW += std::fabs(w);
                s.w += w;
                s.absE += std::fabs(e);
                s.e += e;
                s.maxE = std::max(s.maxE, std::fabs(cand.error));
                ++s.n;
            }
            cand.hash = sampleHash(o.seed, cand.index);
            if (cand.hash <= sampleLimit) p.sample.offer(cand);
            p.errors.offer(cand);
            p.magnitudes.offer(cand);
            if (p.finite == 0 || cand.value < p.lo.value) p.lo = cand;
            if (p.finite == 0 || cand.value > p.hi.value) p.hi = cand;
            ++p.finite;
        }
    });
    if (control.progress) control.progress(bytes - bytes / 2); // computeScales reported half
    return p;
}

std::string specText(const QuantSpec& spec)
{
    std::string s(spec.format->name);
    if (spec.format->takesGranularity()) {
        s += ' ';
        s += spec.granularity.toString();
    }
    return s;
}

void finishHeatmap(Heatmap& g, const std::vector<CellSums>& cells)
{
    constexpr float nan = std::numeric_limits<float>::quiet_NaN();
    const std::size_t n = cells.size();
    for (auto* v : {&g.meanAbsValue, &g.meanValue, &g.meanAbsError, &g.meanError, &g.maxAbsError})
        v->assign(n, nan);
    g.counts.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
        const CellSums& s = cells[i];
        g.counts[i] = s.n;
        if (s.n == 0) continue;
        const double count = static_cast<double>(s.n);
        g.meanAbsValue[i] = static_cast<float>(s.absW / count);
        g.meanValue[i] = static_cast<float>(s.w / count);
        g.meanAbsError[i] = static_cast<float>(s.absE / count);
        g.meanError[i] = static_cast<float>(s.e / count);
        g.maxAbsError[i] = s.maxE;
    }
}

} // namespace

TensorViews computeTensorViews(TensorQuantizer& qz, const TensorInfo& info, const Control& control,
                               const TensorViewOptions& o)
{
    if (o.maxRows < 1 || o.maxCols < 1 || std::int64_t{o.maxRows} * o.maxCols > kMaxCells)
        throw Error("heatmap grid of " + std::to_string(o.maxRows) + " x " +
                    std::to_string(o.maxCols) + " cells is out of range (1 to " +
                    std::to_string(kMaxCells) + " cells)");
    if (o.samplePoints < 0 || o.largestErrors < 0 || o.extremeValues < 0)
        throw Error("scatter sample sizes must not be negative");

    const bool stream = qz.streamsScales(); // as analyzeTensor: no parameters kept per group
    if (stream)
        qz.computeStatsByUnit(control);
    else
        qz.computeScales(control);
    TensorViews r;
    r.name = info.name;
    r.shape = info.shape;
    r.spec = specText(qz.spec());
    r.nanCount = qz.nanCount();
    r.infCount = qz.infCount();
    r.minValue = qz.minValue();
    r.maxValue = qz.maxValue();
    if (qz.spec().format->integer() && qz.params().size() == 1) { // as analyzeTensor
        const ScaleParams& p = qz.params().front();
        const int qmax = qz.spec().format->qmax;
        r.clipLow = dequantizeCode(qz.spec().format->affine() ? 0 : -qmax, p);
        r.clipHigh = dequantizeCode(qmax, p);
    }

    MatrixMap map = matrixMap(info, qz, o);
    std::vector<CellSums> cells(
        map.enabled ? static_cast<std::size_t>(map.grid.gridRows) * map.grid.gridCols : 0);
    BestK<BySample> sample(static_cast<std::size_t>(o.samplePoints));
    BestK<ByError> errors(static_cast<std::size_t>(o.largestErrors));
    BestK<ByMagnitude> magnitudes(static_cast<std::size_t>(o.extremeValues));
    Candidate lo, hi;
    const std::int64_t units = qz.numUnits();
    for (std::int64_t b = 0; b < units; b += kBatch) {
        const std::int64_t count = std::min(kBatch, units - b);
        // Values hashing above the current sample's worst can never enter it: skip them early.
        const std::uint64_t limit = sample.full() && o.samplePoints > 0
                                        ? sample.worst().hash
                                        : std::numeric_limits<std::uint64_t>::max();
        std::vector<Partial> parts(static_cast<std::size_t>(count));
        control.run(count, [&](std::int64_t i) {
            parts[static_cast<std::size_t>(i)] =
                processUnit(qz, map, b + i, o, limit, control, stream);
        });
        for (const Partial& p : parts) { // unit order: identical sums for any thread count
            for (std::size_t i = 0; i < p.cells.size(); ++i)
                cells[static_cast<std::size_t>(p.firstCell) + i].merge(p.cells[i]);
            sample.merge(p.sample);
            errors.merge(p.errors);
            magnitudes.merge(p.magnitudes);
            if (p.finite > 0) {
                if (r.finiteCount == 0 || p.lo.value < lo.value) lo = p.lo;
                if (r.finiteCount == 0 || p.hi.value > hi.value) hi = p.hi;
            }
            r.finiteCount += p.finite;
        }
    }
    if (map.enabled) {
        finishHeatmap(map.grid, cells);
        r.heatmap = std::move(map.grid);
    }

    // One point per element, with every reason it was chosen for.
    std::vector<std::pair<Candidate, std::uint8_t>> chosen;
    for (const Candidate& c : sample.items())
        chosen.push_back({c, kSampled});
    for (const Candidate& c : errors.items())
        chosen.push_back({c, kLargeError});
    for (const Candidate& c : magnitudes.items())
        chosen.push_back({c, kExtremeValue});
    if (r.finiteCount > 0) {
        chosen.push_back({lo, kExtremeValue});
        chosen.push_back({hi, kExtremeValue});
    }
    std::sort(chosen.begin(), chosen.end(),
              [](const auto& a, const auto& b) { return a.first.index < b.first.index; });
    for (const auto& [c, why] : chosen) {
        if (!r.points.empty() && r.points.back().index == c.index) {
            r.points.back().reasons |= why;
            continue;
        }
        r.points.push_back({c.value, c.error, c.index, why});
    }
    r.sampled = static_cast<std::int64_t>(sample.items().size());
    return r;
}

} // namespace qs
