#include "alloc/candidates.h"

#include "analysis/analyze.h"
#include "core/error.h"
#include "formats/storage.h"

#include <atomic>
#include <cmath>
#include <limits>
#include <set>

namespace qs::alloc {
namespace {

std::string trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return std::string(s);
}

// The importance-weighted squared error over the finite originals, unit by unit in a fixed
// order (the same chunks and the same float error as analyzeTensor).
double weightedError(TensorQuantizer& qz, const ColumnWeights& w, const Control& control)
{
    qz.computeScales(control);
    constexpr float inf = std::numeric_limits<float>::infinity();
    double total = 0.0;
    for (std::int64_t u = 0; u < qz.numUnits(); ++u) {
        double sum = 0.0;
        qz.forEachChunk(u, [&](std::int64_t c, std::int64_t j, std::int64_t n) {
            control.checkCancelled();
            float xbuf[TensorQuantizer::kChunk], d[TensorQuantizer::kChunk];
            const float* x = qz.source().view(c, j, n, xbuf);
            qz.roundtrip(c, j, x, n, d, nullptr);
            for (std::int64_t k = 0; k < n; ++k) {
                if (!(std::fabs(x[k]) < inf)) continue; // NaN and Inf take no part, as in mse
                const double e = x[k] - d[k];
                sum += w.at(qz.source().memoryIndex(c, j + k)) * e * e;
            }
        });
        total += sum;
    }
    return total;
}

Option evaluate(const Model& model, const TensorInfo& t, const std::optional<QuantSpec>& spec,
                int candidate, const Measure& measure, const Control& control)
{
    if (!spec) return {candidate, t.byteSize, 0.0}; // kept as stored: nothing changes
    TensorQuantizer qz(model.data(t), t, *spec);
    Option o{candidate, storageCost(t, *spec).bytes, 0.0};
    if (!measure.imatrix) {
        o.distortion = analyzeTensor(qz, control).sums.sumE2;
    } else {
        const ColumnWeights w(measure.imatrix->find(t.name), t, measure.imatrix->meanValue());
        o.distortion = weightedError(qz, w, control);
    }
    return o;
}

// Whether quantizing with `spec` would accept the tensor (ggml rows in whole blocks, a
// granularity its shape allows): the quantizer's own checks, which need no data pass.
bool accepts(const Model& model, const TensorInfo& t, const QuantSpec& spec)
{
    try {
        TensorQuantizer qz(model.data(t), t, spec);
        return true;
    } catch (const Error&) {
        return false;
    }
}

struct Pair
{
    std::size_t entry, option;
    std::optional<QuantSpec> spec;
};

} // namespace

std::vector<Candidate> parseCandidates(std::string_view list)
{
    std::vector<Candidate> out;
    std::set<std::string> seen;
    std::size_t start = 0;
    while (start <= list.size()) {
        const std::size_t comma = std::min(list.find(',', start), list.size());
        const std::string item = trim(list.substr(start, comma - start));
        start = comma + 1;
        if (item.empty()) throw Error("candidate list '" + std::string(list) + "' has an empty item");
        const std::size_t at = item.find('@');
        const std::string name = item.substr(0, at);
        Precision p{name};
        if (name != "keep") {
            const Format* f = findFormat(name);
            if (!f) throw Error("unknown candidate format '" + name + "'");
            if (at != std::string::npos) {
                if (!f->takesGranularity())
                    throw Error("candidate '" + item + "': " + name + " takes no granularity");
                p.granularity = Granularity::parse(item.substr(at + 1));
                if (!p.granularity)
                    throw Error("candidate '" + item +
                                "': bad granularity (tensor, channel or group:N)");
            }
        } else if (at != std::string::npos) {
            throw Error("candidate '" + item + "': keep takes no granularity");
        }
        if (!seen.insert(item).second) throw Error("candidate '" + item + "' is listed twice");
        out.push_back({item, p});
        if (comma == list.size()) break;
    }
    return out;
}

std::string Measure::name() const
{
    if (!imatrix) return "mse";
    std::string s = "imatrix:";
    s += imatrix->path;
    return s;
}

Measure parseMeasure(std::string_view text)
{
    if (text == "mse") return {};
    if (text.substr(0, 8) == "imatrix:" && text.size() > 8)
        return {std::make_shared<const Imatrix>(readImatrix(std::string(text.substr(8))))};
    throw Error("unknown distortion measure '" + std::string(text) + "' (mse or imatrix:FILE)");
}

const char* roleName(Role r)
{
    switch (r) {
    case Role::Free: return "free";
    case Role::Pinned: return "pinned";
    case Role::Locked: return "locked";
    case Role::NoCandidate: return "no candidate";
    }
    return "";
}

CandidateTable computeCandidates(const Model& model, const Plan& plan,
                                 const std::vector<Candidate>& candidates, const Measure& measure,
                                 const Control& control, const CandidateProgress& progress)
{
    plan.compileRules();
    CandidateTable table;
    table.candidates = candidates;
    table.measure = measure.name();
    std::vector<Pair> pairs;
    for (std::size_t i = 0; i < model.tensors.size(); ++i) {
        const TensorInfo& t = model.tensors[i];
        if (!isQuantizable(t.dtype)) continue;
        std::string origin;
        plan.precisionFor(t, &origin);
        const bool named = origin == "tensor" || origin.rfind("rule", 0) == 0;
        if (t.shape.size() < 2 && !named) continue;
        TensorCandidates e;
        e.tensor = i;
        table.params += t.numel();
        if (plan.locked.count(t.name) || named) {
            e.role = plan.locked.count(t.name) ? Role::Locked : Role::Pinned;
            e.origin = e.role == Role::Locked ? "locked" : origin;
            e.fixedSpec = plan.resolve(t);
            pairs.push_back({table.tensors.size(), 0, e.fixedSpec});
            e.options.push_back({});
        } else {
            for (std::size_t c = 0; c < candidates.size(); ++c) {
                // Resolved as the written plan will resolve it: an entry without granularity
                // takes the default's, calibration and rounding likewise.
                Plan probe;
                probe.defaultPrecision = plan.defaultPrecision;
                probe.seed = plan.seed;
                probe.tensors[t.name] = candidates[c].precision;
                const auto spec = probe.resolve(t);
                if (spec && !accepts(model, t, *spec)) continue;
                pairs.push_back({table.tensors.size(), e.options.size(), spec});
                e.options.push_back({static_cast<int>(c), 0, 0.0});
            }
            if (e.options.empty()) { // kept as stored
                e.role = Role::NoCandidate;
                e.origin = "no candidate";
                pairs.push_back({table.tensors.size(), 0, std::nullopt});
                e.options.push_back({});
            }
        }
        table.tensors.push_back(std::move(e));
    }

    Control serial;
    serial.cancelled = control.cancelled;
    std::atomic<std::size_t> done{0};
    control.run(static_cast<std::int64_t>(pairs.size()), [&](std::int64_t k) {
        const Pair& p = pairs[static_cast<std::size_t>(k)];
        TensorCandidates& e = table.tensors[p.entry];
        const TensorInfo& t = model.tensors[e.tensor];
        Option& o = e.options[p.option];
        try {
            o = evaluate(model, t, p.spec, o.candidate, measure, serial);
        } catch (const Error& err) { // name the model, as quantizing would
            const std::string what = err.what();
            throw Error(what.rfind(model.path, 0) == 0 ? what : model.path + ": " + what);
        }
        const std::size_t n = ++done;
        if (progress.evaluated) progress.evaluated(n, pairs.size());
    });
    return table;
}

} // namespace qs::alloc
