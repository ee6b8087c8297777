// saveSession: a session as HDF5, one group per plan holding one column per tensor field.
#include "core/error.h"
#include "export/export_detail.h"
#include "io/hdf5_file.h"
#include "session/session.h"
#include "session/session_layout.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace qs {
namespace {

using h5::Handle;
namespace L = session_layout;

class Writer
{
public:
    explicit Writer(std::string out) : m_out(std::move(out)) {}

    Handle group(hid_t parent, const std::string& name)
    {
        return Handle(
            h5::check(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                      m_out, "cannot create the group '" + name + "'"),
            H5Gclose);
    }

    void stringAttr(hid_t object, const std::string& name, const std::string& value)
    {
        const Handle type = stringType();
        const char* p = value.c_str();
        attr(object, name, type.get(), &p);
    }
    void intAttr(hid_t object, const std::string& name, std::int64_t v)
    {
        attr(object, name, H5T_STD_I64LE, &v);
    }
    void u64Attr(hid_t object, const std::string& name, std::uint64_t v)
    {
        attr(object, name, H5T_STD_U64LE, &v);
    }

    // A dataset of `dims` whose row-major elements are `data`, as `fileType`; `memType` says
    // what the elements in memory are.
    void dataset(hid_t group, const std::string& name, hid_t fileType, hid_t memType,
                 const std::vector<hsize_t>& dims, const void* data)
    {
        const Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                           H5Sclose);
        const Handle ds(h5::check(H5Dcreate2(group, name.c_str(), fileType, space.get(),
                                             H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                                  m_out, "cannot create the dataset '" + name + "'"),
                        H5Dclose);
        hsize_t n = 1;
        for (const hsize_t d : dims)
            n *= d;
        if (n > 0 && H5Dwrite(ds.get(), memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
            h5::fail(m_out, "cannot write the dataset '" + name + "'");
    }
    void strings(hid_t group, const std::string& name, const std::vector<std::string>& values)
    {
        std::vector<const char*> ptrs;
        for (const auto& v : values)
            ptrs.push_back(v.c_str());
        const Handle type = stringType();
        dataset(group, name, type.get(), type.get(), {values.size()}, ptrs.data());
    }
    void scalarString(hid_t group, const std::string& name, const std::string& value)
    {
        const Handle type = stringType();
        const Handle space(H5Screate(H5S_SCALAR), H5Sclose);
        const Handle ds(h5::check(H5Dcreate2(group, name.c_str(), type.get(), space.get(),
                                             H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                                  m_out, "cannot create the dataset '" + name + "'"),
                        H5Dclose);
        const char* p = value.c_str();
        if (H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &p) < 0)
            h5::fail(m_out, "cannot write the dataset '" + name + "'");
    }

private:
    static Handle stringType()
    {
        Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(t.get(), H5T_VARIABLE);
        H5Tset_cset(t.get(), H5T_CSET_UTF8);
        return t;
    }
    void attr(hid_t object, const std::string& name, hid_t type, const void* data)
    {
        const Handle space(H5Screate(H5S_SCALAR), H5Sclose);
        const Handle a(
            h5::check(H5Acreate2(object, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                      m_out, "cannot create the attribute '" + name + "'"),
            H5Aclose);
        if (H5Awrite(a.get(), type, data) < 0)
            h5::fail(m_out, "cannot write the attribute '" + name + "'");
    }

    std::string m_out;
};

// The plan's results as columns: one entry per tensor, 2-D and 3-D columns for pairs, sums
// and histograms (padded with zeros to the widest histogram).
void writeResults(Writer& w, hid_t g, const std::vector<TensorOutcome>& results)
{
    const std::size_t n = results.size();
    std::vector<std::string> names, stored, formats, grans, calibs, roundings, errors;
    std::vector<std::uint64_t> seeds, counts, bytes;
    std::vector<std::uint8_t> flags;
    std::vector<std::int32_t> axes;
    std::vector<std::int64_t> params, nanInf, groups, bins;
    std::vector<double> bpw, sums, ranges;
    std::vector<float> minMax, clip, scale;
    std::size_t width = 0;
    for (const auto& r : results)
        if (r.analysis)
            width =
                std::max({width, r.analysis->original.counts.size(),
                          r.analysis->dequantized.counts.size(), r.analysis->error.counts.size()});
    std::vector<std::uint64_t> hist(n * L::kHistograms * width, 0);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    for (std::size_t i = 0; i < n; ++i) {
        const TensorOutcome& r = results[i];
        names.push_back(r.name);
        stored.push_back(r.storedType);
        formats.push_back(formatName(r));
        grans.push_back(granularityName(r));
        const bool integer = r.spec && r.spec->format->integer();
        calibs.push_back(integer ? r.spec->calibration.toString() : "");
        roundings.push_back(integer ? roundingName(r.spec->rounding) : "");
        seeds.push_back(r.spec ? r.spec->seed : 0);
        errors.push_back(r.error);
        axes.push_back(r.channelAxis);
        params.push_back(r.params);
        bytes.insert(bytes.end(), {r.bytesBefore, r.bytesAfter});
        bpw.push_back(r.bitsPerWeight);
        std::uint8_t f = (r.quantizable ? L::Quantizable : 0) | (r.spec ? L::HasSpec : 0);
        const TensorAnalysis a = r.analysis.value_or(TensorAnalysis{});
        if (r.analysis) {
            f |= L::HasAnalysis | (a.clipLow && a.clipHigh ? L::HasClip : 0) |
                 (a.scale ? L::HasScale : 0) | (a.sums.scaled ? L::Scaled : 0);
        }
        flags.push_back(f);
        const ErrorSums& s = a.sums;
        counts.push_back(s.count);
        sums.insert(sums.end(), {s.sumW2, s.sumE2, s.sumD2, s.sumWD, s.sumScaledE2, s.maxAbsError});
        minMax.insert(minMax.end(), {a.minValue, a.maxValue});
        nanInf.insert(nanInf.end(), {a.nanCount, a.infCount});
        groups.insert(groups.end(), {a.scaleGroups, a.calibratedGroups});
        clip.insert(clip.end(), {a.clipLow.value_or(nan), a.clipHigh.value_or(nan)});
        scale.push_back(a.scale.value_or(nan));
        const Histogram* hs[L::kHistograms] = {&a.original, &a.dequantized, &a.error};
        for (int h = 0; h < L::kHistograms; ++h) {
            ranges.insert(ranges.end(), {hs[h]->lo, hs[h]->hi});
            bins.push_back(static_cast<std::int64_t>(hs[h]->counts.size()));
            std::copy(hs[h]->counts.begin(), hs[h]->counts.end(),
                      hist.begin() + static_cast<std::ptrdiff_t>((i * L::kHistograms + h) * width));
        }
    }
    const hsize_t N = n;
    w.strings(g, "name", names);
    w.strings(g, "stored_type", stored);
    w.strings(g, "format", formats);
    w.strings(g, "granularity", grans);
    w.strings(g, "calibration", calibs);
    w.strings(g, "rounding", roundings);
    w.strings(g, "error", errors);
    w.dataset(g, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, {N}, seeds.data());
    w.dataset(g, "flags", H5T_STD_U8LE, H5T_NATIVE_UINT8, {N}, flags.data());
    w.dataset(g, "channel_axis", H5T_STD_I32LE, H5T_NATIVE_INT32, {N}, axes.data());
    w.dataset(g, "params", H5T_STD_I64LE, H5T_NATIVE_INT64, {N}, params.data());
    w.dataset(g, "bytes", H5T_STD_U64LE, H5T_NATIVE_UINT64, {N, 2}, bytes.data());
    w.dataset(g, "bits_per_weight", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {N}, bpw.data());
    w.dataset(g, "count", H5T_STD_U64LE, H5T_NATIVE_UINT64, {N}, counts.data());
    w.dataset(g, "sums", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {N, L::kSums}, sums.data());
    w.dataset(g, "min_max", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {N, 2}, minMax.data());
    w.dataset(g, "nan_inf", H5T_STD_I64LE, H5T_NATIVE_INT64, {N, 2}, nanInf.data());
    w.dataset(g, "groups", H5T_STD_I64LE, H5T_NATIVE_INT64, {N, 2}, groups.data());
    w.dataset(g, "clip", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {N, 2}, clip.data());
    w.dataset(g, "scale", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {N}, scale.data());
    w.dataset(g, "hist_range", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {N, L::kHistograms, 2},
              ranges.data());
    w.dataset(g, "hist_bins", H5T_STD_I64LE, H5T_NATIVE_INT64, {N, L::kHistograms}, bins.data());
    w.dataset(g, "hist_counts", H5T_STD_U64LE, H5T_NATIVE_UINT64, {N, L::kHistograms, width},
              hist.data());
}

// One allocation cost table: its request (measure key, candidates, base plan) as attributes
// and datasets, and one row per (tensor, option).
void writeCostTable(Writer& w, hid_t g, const alloc::CostTableRecord& t)
{
    w.stringAttr(g, "measure", t.measure);
    w.scalarString(g, "plan_json", t.planJson);
    w.strings(g, "candidates", t.candidates);
    std::vector<std::string> tensors, formats;
    std::vector<std::uint64_t> bytes;
    std::vector<double> distortion;
    for (const auto& r : t.rows) {
        tensors.push_back(r.tensor);
        formats.push_back(r.format);
        bytes.push_back(r.bytes);
        distortion.push_back(r.distortion);
    }
    const hsize_t n = t.rows.size();
    w.strings(g, "tensor", tensors);
    w.strings(g, "format", formats);
    w.dataset(g, "bytes", H5T_STD_U64LE, H5T_NATIVE_UINT64, {n}, bytes.data());
    w.dataset(g, "distortion", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {n}, distortion.data());
}

void checkSession(const std::string& out, const Session& s)
{
    std::set<std::string> seen;
    for (const auto& p : s.plans) {
        if (p.name.empty()) throw Error(out + ": a plan of the session has no name");
        if (!seen.insert(p.name).second)
            throw Error(out + ": two plans of the session are named '" + p.name + "'");
        for (const auto& r : p.results)
            if (r.spec && !r.spec->format)
                throw Error(out + ": tensor '" + r.name + "' of plan '" + p.name +
                            "' has a spec without a format");
    }
    if (s.plans.empty() ? !s.activePlan.empty() : !s.findPlan(s.activePlan))
        throw Error(out + ": the active plan '" + s.activePlan + "' is not one of the session's");
    if (s.costTables.size() > L::kMaxCostTables)
        throw Error(out + ": more than " + std::to_string(L::kMaxCostTables) +
                    " allocation cost tables");
}

} // namespace

void saveSession(const std::string& path, const Session& session)
{
    checkSession(path, session);
    exporting::PartFile part(path, ".part", false);
    {
        const h5::Session lock;
        Handle file(
            h5::check(H5Fcreate(part.path().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), path,
                      "cannot create the file"),
            H5Fclose);
        Writer w(path);
        const hid_t root = file.get();
        w.stringAttr(root, L::kMagicAttr, L::kMagic);
        w.intAttr(root, "format_version", kSessionFormatVersion);
        w.stringAttr(root, "app_version", session.appVersion);
        w.stringAttr(root, "model_path", session.modelPath);
        w.stringAttr(root, "model_format", session.modelFormat);
        w.u64Attr(root, "model_size", session.fingerprint.size);
        w.u64Attr(root, "model_hash", session.fingerprint.hash);
        w.stringAttr(root, "fingerprint",
                     "FNV-1a 64 of the size (8 bytes LE), the first 4 MiB, 64 evenly spaced "
                     "64 KiB pieces and the last 4 MiB (files up to 8 MiB: all of it)");
        w.stringAttr(root, "active_plan", session.activePlan);
        const Handle plans = w.group(root, "plans");
        w.intAttr(plans.get(), "count", static_cast<std::int64_t>(session.plans.size()));
        for (std::size_t i = 0; i < session.plans.size(); ++i) {
            const SessionPlan& p = session.plans[i];
            const Handle g = w.group(plans.get(), std::to_string(i));
            w.stringAttr(g.get(), "name", p.name);
            w.scalarString(g.get(), "plan_json", p.planJson);
            writeResults(w, g.get(), p.results);
        }
        if (!session.costTables.empty()) { // absent, not empty, when there are none
            const Handle costs = w.group(root, "cost_tables");
            w.intAttr(costs.get(), "count", static_cast<std::int64_t>(session.costTables.size()));
            for (std::size_t i = 0; i < session.costTables.size(); ++i)
                writeCostTable(w, w.group(costs.get(), std::to_string(i)).get(),
                               session.costTables[i]);
        }
        if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0) h5::fail(path, "cannot write the file");
    }
    part.commit();
}

} // namespace qs
