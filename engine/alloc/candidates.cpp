#include "alloc/candidates.h"

#include "alloc/act_stats.h"
#include "alloc/allocation.h"
#include "alloc/model_run.h"
#include "alloc/output_measure.h"
#include "analysis/analyze.h"
#include "core/error.h"
#include "formats/storage.h"
#include "nn/keras_model.h"
#include "session/session.h"

#include <atomic>
#include <charconv>
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
// order (the same chunks and the same float error as analyzeTensor). One path for every
// importance source: Weights is an imatrix's ColumnWeights or the runtime's InputColumnWeights.
template <typename Weights>
double weightedError(TensorQuantizer& qz, const Weights& w, const Control& control)
{
    // Nothing here needs the tensor-wide statistics: where the groups allow, each unit's
    // scales are found right before it (no per-group memory, and calibration runs once).
    const bool stream = qz.canStreamScales();
    if (!stream) qz.computeScales(control);
    constexpr float inf = std::numeric_limits<float>::infinity();
    std::vector<double> sums(static_cast<std::size_t>(qz.numUnits()), 0.0);
    control.run(qz.numUnits(), [&](std::int64_t u) {
        const UnitScales scales = stream ? qz.scalesOfUnit(u, control) : UnitScales{};
        double sum = 0.0;
        qz.forEachChunk(u, [&](std::int64_t c, std::int64_t j, std::int64_t n) {
            control.checkCancelled();
            float xbuf[TensorQuantizer::kChunk], d[TensorQuantizer::kChunk];
            const float* x = qz.source().view(c, j, n, xbuf);
            qz.roundtrip(c, j, x, n, d, nullptr, stream ? &scales : nullptr);
            for (std::int64_t k = 0; k < n; ++k) {
                if (!(std::fabs(x[k]) < inf)) continue; // NaN and Inf take no part, as in mse
                const double e = x[k] - d[k];
                sum += w.at(qz.source().memoryIndex(c, j + k)) * e * e;
            }
        });
        sums[static_cast<std::size_t>(u)] = sum;
    });
    double total = 0.0;
    for (const double sum : sums) // unit order: the same total for any thread count
        total += sum;
    return total;
}

// What a measure needs besides the tensor, prepared once before the pairs run.
struct Prepared
{
    const Measure& measure;
    std::optional<ActivationStats> activations;
    double activationMean = 1.0;
    std::optional<OutputProbe> probe;
};

std::uint64_t bytesOf(const TensorInfo& t, const std::optional<QuantSpec>& spec)
{
    return spec ? storageCost(t, *spec).bytes : t.byteSize;
}

Option evaluate(const Model& model, const TensorInfo& t, const std::optional<QuantSpec>& spec,
                int candidate, const Prepared& how, const Control& control)
{
    if (!spec) return {candidate, t.byteSize, 0.0}; // kept as stored: nothing changes
    TensorQuantizer qz(model.data(t), t, *spec);
    Option o{candidate, storageCost(t, *spec).bytes, 0.0};
    const Measure& measure = how.measure;
    if (how.probe) {
        o.distortion = how.probe->distortion(model.data(t), t, *spec, control);
    } else if (how.activations) {
        const InputColumnWeights w(how.activations->find(t.name), t, how.activationMean);
        o.distortion = weightedError(qz, w, control);
    } else if (measure.imatrix) {
        const ColumnWeights w(measure.imatrix->find(t.name), t, measure.imatrix->meanValue());
        o.distortion = weightedError(qz, w, control);
    } else {
        o.distortion = analyzeTensor(qz, control).sums.sumE2;
    }
    return o;
}

void prepare(Prepared& how, const Model& model, const Control& control)
{
    const Measure& m = how.measure;
    if (m.runtime == Measure::Runtime::None) return;
    if (const std::string why = notRunnableReason(model.path); !why.empty())
        throw Error(model.path + ": the " + m.name() + " measure needs a model the runtime can run (" +
                    why + ")");
    nn::Tensor images = loadCalibrationImages(m.dataset, m.images);
    if (m.runtime == Measure::Runtime::Output) {
        how.probe.emplace(model.path, std::move(images));
        return;
    }
    how.activations = collectActivationStats(nn::foldBatchNorm(nn::loadKerasModel(model.path)),
                                             images, control);
    how.activationMean = how.activations->meanValue();
}

// "act" or "act:N" -> N (the default without a count).
std::int64_t imageCount(std::string_view text, std::size_t prefix)
{
    if (text.size() == prefix) return kDefaultCalibrationImages;
    if (text[prefix] != ':') return -1;
    const std::string_view n = text.substr(prefix + 1);
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
    if (ec != std::errc() || p != n.data() + n.size() || v < 1 || v > 1'000'000) return 0;
    return v;
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
    std::string s;
    if (imatrix) {
        s = "imatrix:";
        s += imatrix->path;
    } else if (runtime == Runtime::None) {
        s = "mse";
    } else {
        s = runtime == Runtime::Activations ? "act:" : "output:";
        s += std::to_string(images);
    }
    return s;
}

std::string Measure::key() const
{
    std::string k = name();
    if (imatrix) {
        k += "\nfingerprint ";
        k += imatrixFingerprint;
    } else if (runtime != Runtime::None) {
        k += "\ndataset ";
        k += dataset;
    }
    return k;
}

Measure parseMeasure(std::string_view text)
{
    if (text == "mse") return {};
    if (text.substr(0, 8) == "imatrix:" && text.size() > 8) {
        const std::string path(text.substr(8));
        Measure m;
        m.imatrix = std::make_shared<const Imatrix>(readImatrix(path));
        const ModelFingerprint f = fingerprintFile(path);
        m.imatrixFingerprint = std::to_string(f.size) + ":" + std::to_string(f.hash);
        return m;
    }
    for (const auto& [prefix, runtime] :
         {std::pair{std::string_view("act"), Measure::Runtime::Activations},
          std::pair{std::string_view("output"), Measure::Runtime::Output}}) {
        if (text.substr(0, prefix.size()) != prefix) continue;
        const std::int64_t n = imageCount(text, prefix.size());
        if (n < 0) break;
        if (n == 0)
            throw Error("measure '" + std::string(text) + "': the image count must be a whole " +
                        "number from 1 to 1000000");
        Measure m;
        m.runtime = runtime;
        m.images = n;
        return m;
    }
    throw Error("unknown distortion measure '" + std::string(text) +
                "' (mse, imatrix:FILE, act[:N] or output[:N])");
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
                                 const Control& control, const CandidateProgress& progress,
                                 const CostTableRecord* stored)
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

    // Costs saved for this request: a pair is reused when its stored bytes still match, so a
    // changed format definition is computed again rather than trusted.
    std::vector<Pair> todo;
    const auto index = stored ? stored->index()
                              : std::map<std::pair<std::string, std::string>, const CostRow*>{};
    for (const Pair& p : pairs) {
        TensorCandidates& e = table.tensors[p.entry];
        const TensorInfo& t = model.tensors[e.tensor];
        Option& o = e.options[p.option];
        const auto it = index.find({t.name, optionLabel(table, e, o)});
        if (it != index.end() && it->second->bytes == bytesOf(t, p.spec)) {
            o.bytes = it->second->bytes;
            o.distortion = it->second->distortion;
            ++table.reused;
        } else {
            todo.push_back(p);
        }
    }
    pairs = std::move(todo);
    Prepared how{measure, {}, 1.0, {}};
    if (!pairs.empty()) prepare(how, model, control);

    Control serial;
    serial.cancelled = control.cancelled;
    std::atomic<std::size_t> done{0};
    control.run(static_cast<std::int64_t>(pairs.size()), [&](std::int64_t k) {
        const Pair& p = pairs[static_cast<std::size_t>(k)];
        TensorCandidates& e = table.tensors[p.entry];
        const TensorInfo& t = model.tensors[e.tensor];
        Option& o = e.options[p.option];
        try {
            o = evaluate(model, t, p.spec, o.candidate, how, serial);
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
