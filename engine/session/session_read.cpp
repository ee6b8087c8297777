// loadSession: reads a .qscope file and checks every object before trusting it.
#include "core/error.h"
#include "io/hdf5_file.h"
#include "io/isolated_probe.h"
#include "io/mapped_file.h"
#include "plan/plan.h"
#include "session/session.h"
#include "session/session_layout.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace qs {
namespace {

using h5::Handle;
namespace L = session_layout;

class Reader
{
public:
    Reader(std::string where, std::uint64_t fileSize) : m_where(std::move(where)), m_size(fileSize)
    {
    }

    [[noreturn]] void bad(const std::string& what) const { throw Error(m_where + ": " + what); }

    Handle group(hid_t parent, const std::string& name, const std::string& path) const
    {
        if (H5Lexists(parent, name.c_str(), H5P_DEFAULT) <= 0) {
            H5Eclear2(H5E_DEFAULT);
            bad("the group '" + path + "' is missing");
        }
        const hid_t id = H5Gopen2(parent, name.c_str(), H5P_DEFAULT);
        if (id < 0) h5::fail(m_where, "'" + path + "' is not a group");
        return Handle(id, H5Gclose);
    }

    std::string stringAttr(hid_t object, const std::string& name, const std::string& path) const
    {
        if (!h5::hasAttribute(object, name)) bad("the attribute '" + path + name + "' is missing");
        const auto v = h5::readStrings(object, name, m_where);
        if (v.size() != 1) bad("the attribute '" + path + name + "' is not one string");
        return v.front();
    }

    std::int64_t intAttr(hid_t object, const std::string& name, const std::string& path) const
    {
        const std::string what = "the attribute '" + path + name + "'";
        if (!h5::hasAttribute(object, name)) bad(what + " is missing");
        const Handle a(
            h5::check(H5Aopen(object, name.c_str(), H5P_DEFAULT), m_where, "cannot open " + what),
            H5Aclose);
        const Handle type(H5Aget_type(a.get()), H5Tclose);
        const Handle space(H5Aget_space(a.get()), H5Sclose);
        if (H5Tget_class(type.get()) != H5T_INTEGER ||
            H5Sget_simple_extent_npoints(space.get()) != 1)
            bad(what + " is not one integer");
        std::int64_t v = 0;
        if (H5Aread(a.get(), H5T_NATIVE_INT64, &v) < 0) h5::fail(m_where, "cannot read " + what);
        return v;
    }

    // Numbers of class `cls` with exactly the shape `dims`, converted to `memType`.
    template <typename T>
    std::vector<T> numbers(hid_t g, const std::string& path, const std::string& name,
                           H5T_class_t cls, hid_t memType, const std::vector<hsize_t>& dims) const
    {
        const Handle ds = dataset(g, path, name, cls, dims);
        std::vector<T> out(elements(dims));
        if (!out.empty() &&
            H5Dread(ds.get(), memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
            h5::fail(m_where, "cannot read the dataset '" + path + name + "'");
        return out;
    }

    std::vector<std::string> strings(hid_t g, const std::string& path, const std::string& name,
                                     const std::vector<hsize_t>& dims) const
    {
        const Handle ds = dataset(g, path, name, H5T_STRING, dims);
        const Handle type(H5Dget_type(ds.get()), H5Tclose);
        if (H5Tis_variable_str(type.get()) <= 0)
            bad("the dataset '" + path + name + "' does not hold variable-length strings");
        const std::size_t n = elements(dims);
        Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(mem.get(), H5T_VARIABLE);
        H5Tset_cset(mem.get(), H5T_CSET_UTF8);
        std::vector<char*> ptrs(n, nullptr);
        if (n > 0 && H5Dread(ds.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0)
            h5::fail(m_where, "cannot read the dataset '" + path + name + "'");
        std::vector<std::string> out;
        out.reserve(n);
        for (char* p : ptrs)
            out.emplace_back(p ? p : "");
        if (n > 0) {
            const Handle space(H5Dget_space(ds.get()), H5Sclose);
            H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, ptrs.data());
        }
        return out;
    }

    // The extent of the dataset `name`, whatever its type.
    std::vector<hsize_t> extent(hid_t g, const std::string& path, const std::string& name) const
    {
        const std::string what = "the dataset '" + path + name + "'";
        if (H5Lexists(g, name.c_str(), H5P_DEFAULT) <= 0) {
            H5Eclear2(H5E_DEFAULT);
            bad(what + " is missing");
        }
        const hid_t id = H5Dopen2(g, name.c_str(), H5P_DEFAULT);
        if (id < 0) h5::fail(m_where, what + " is not a dataset");
        const Handle ds(id, H5Dclose);
        const Handle space(h5::check(H5Dget_space(id), m_where, "cannot read the shape of " + what),
                           H5Sclose);
        const int rank = H5Sget_simple_extent_ndims(space.get());
        std::vector<hsize_t> dims(rank > 0 ? static_cast<std::size_t>(rank) : 0);
        if (rank < 0 || H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
            h5::fail(m_where, "cannot read the shape of " + what);
        return dims;
    }

private:
    static std::size_t elements(const std::vector<hsize_t>& dims)
    {
        std::size_t n = 1;
        for (const hsize_t d : dims)
            n *= static_cast<std::size_t>(d);
        return n;
    }

    // Opens a dataset after checking its class, rank and extent, and that its declared size
    // fits in the file: a tiny file cannot make us reserve gigabytes for fill values.
    Handle dataset(hid_t g, const std::string& path, const std::string& name, H5T_class_t cls,
                   const std::vector<hsize_t>& dims) const
    {
        const std::string what = "the dataset '" + path + name + "'";
        if (H5Lexists(g, name.c_str(), H5P_DEFAULT) <= 0) {
            H5Eclear2(H5E_DEFAULT);
            bad(what + " is missing");
        }
        const hid_t id = H5Dopen2(g, name.c_str(), H5P_DEFAULT);
        if (id < 0) h5::fail(m_where, what + " is not a dataset");
        Handle ds(id, H5Dclose);
        const Handle type(h5::check(H5Dget_type(id), m_where, "cannot read the type of " + what),
                          H5Tclose);
        const H5T_class_t actual = H5Tget_class(type.get());
        const auto className = [](H5T_class_t c) {
            return c == H5T_INTEGER  ? "integers"
                   : c == H5T_FLOAT  ? "floating-point numbers"
                   : c == H5T_STRING ? "strings"
                                     : "another type";
        };
        if (actual != cls) bad(what + " holds " + className(actual) + ", not " + className(cls));
        const Handle space(h5::check(H5Dget_space(id), m_where, "cannot read the shape of " + what),
                           H5Sclose);
        const int rank = H5Sget_simple_extent_ndims(space.get());
        std::vector<hsize_t> actualDims(rank > 0 ? static_cast<std::size_t>(rank) : 0);
        if (rank < 0 || H5Sget_simple_extent_dims(space.get(), actualDims.data(), nullptr) < 0)
            h5::fail(m_where, "cannot read the shape of " + what);
        if (actualDims != dims)
            bad(what + " has the shape " + shape(actualDims) + ", not " + shape(dims));
        const std::size_t elementSize = H5Tget_size(type.get());
        long double bytes = static_cast<long double>(elementSize);
        for (const hsize_t d : dims)
            bytes *= static_cast<long double>(d);
        if (elementSize == 0 || elementSize > 16 || bytes > static_cast<long double>(m_size))
            bad(what + " declares " + std::to_string(static_cast<unsigned long long>(bytes)) +
                " bytes, more than the file's " + std::to_string(m_size));
        return ds;
    }

    static std::string shape(const std::vector<hsize_t>& d)
    {
        std::string s = "[";
        for (std::size_t i = 0; i < d.size(); ++i)
            s += (i ? ", " : "") + std::to_string(d[i]);
        return s + "]";
    }

    std::string m_where;
    std::uint64_t m_size;
};

// One plan's columns back into outcomes; every value that has a meaning is checked.
std::vector<TensorOutcome> readResults(const Reader& r, hid_t g, const std::string& gp)
{
    const auto nameDims = r.extent(g, gp, "name");
    if (nameDims.size() != 1 || nameDims[0] > L::kMaxTensors)
        r.bad("the dataset '" + gp + "name' is not a list of at most " +
              std::to_string(L::kMaxTensors) + " tensor names");
    const hsize_t n = nameDims[0];
    const std::vector<hsize_t> d1{n}, d2{n, 2};
    const auto str = [&](const char* name) { return r.strings(g, gp, name, d1); };
    const auto ints = [&](const char* name, const std::vector<hsize_t>& dims) {
        return r.numbers<std::int64_t>(g, gp, name, H5T_INTEGER, H5T_NATIVE_INT64, dims);
    };
    const auto u64s = [&](const char* name, const std::vector<hsize_t>& dims) {
        return r.numbers<std::uint64_t>(g, gp, name, H5T_INTEGER, H5T_NATIVE_UINT64, dims);
    };
    const auto doubles = [&](const char* name, const std::vector<hsize_t>& dims) {
        return r.numbers<double>(g, gp, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, dims);
    };
    const auto names = str("name"), stored = str("stored_type"), formats = str("format"),
               grans = str("granularity"), calibs = str("calibration"), roundings = str("rounding"),
               errors = str("error");
    const auto seeds = u64s("seed", d1), flags = u64s("flags", d1), bytes = u64s("bytes", d2),
               counts = u64s("count", d1);
    const auto axes = ints("channel_axis", d1), params = ints("params", d1),
               nanInf = ints("nan_inf", d2), groups = ints("groups", d2),
               bins = ints("hist_bins", {n, L::kHistograms});
    const auto bpw = doubles("bits_per_weight", d1), sums = doubles("sums", {n, L::kSums}),
               minMax = doubles("min_max", d2), clip = doubles("clip", d2),
               scale = doubles("scale", d1), ranges = doubles("hist_range", {n, L::kHistograms, 2});
    const auto histDims = r.extent(g, gp, "hist_counts");
    if (histDims.size() != 3 || histDims[0] != n || histDims[1] != L::kHistograms ||
        histDims[2] > L::kMaxBins)
        r.bad("the dataset '" + gp + "hist_counts' is not [" + std::to_string(n) + ", 3, bins] " +
              "with at most " + std::to_string(L::kMaxBins) + " bins");
    const std::size_t width = histDims[2];
    const auto hist = u64s("hist_counts", histDims);

    std::vector<TensorOutcome> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        TensorOutcome& o = out[i];
        const std::string where = "tensor '" + names[i] + "' of '" + gp + "': ";
        const auto bad = [&](const std::string& what) { r.bad(where + what); };
        o.name = names[i];
        o.storedType = stored[i];
        o.error = errors[i];
        const std::uint64_t f = flags[i];
        o.quantizable = f & L::Quantizable;
        if (f & L::HasSpec) {
            QuantSpec spec;
            spec.format = findFormat(formats[i]);
            if (!spec.format) bad("unknown format '" + formats[i] + "'");
            const auto gran = Granularity::parse(grans[i]);
            if (!gran) bad("invalid granularity '" + grans[i] + "'");
            spec.granularity = *gran;
            if (spec.format->integer()) {
                const auto c = Calibration::parse(calibs[i]);
                const auto rnd = parseRounding(roundings[i]);
                if (!c || !rnd) bad("invalid calibration or rounding");
                spec.calibration = *c;
                spec.rounding = *rnd;
            }
            spec.seed = seeds[i];
            o.spec = spec;
        } else if (formats[i] != "keep") {
            bad("format '" + formats[i] + "' without the flag of a quantized tensor");
        }
        if (axes[i] < -1 || axes[i] > 1024) bad("invalid channel axis " + std::to_string(axes[i]));
        o.channelAxis = static_cast<int>(axes[i]);
        o.params = params[i];
        o.bytesBefore = bytes[2 * i];
        o.bytesAfter = bytes[2 * i + 1];
        o.bitsPerWeight = bpw[i];
        if (o.params < 0 || !std::isfinite(o.bitsPerWeight)) bad("invalid size");
        if (!(f & L::HasAnalysis)) continue;
        TensorAnalysis a;
        const double* sm = &sums[i * L::kSums];
        a.sums = {counts[i], sm[0], sm[1], sm[2], sm[3], sm[4], sm[5], bool(f & L::Scaled)};
        for (int k = 0; k < L::kSums; ++k)
            if (!std::isfinite(sm[k])) bad("a metric sum is not finite");
        a.minValue = static_cast<float>(minMax[2 * i]);
        a.maxValue = static_cast<float>(minMax[2 * i + 1]);
        a.nanCount = nanInf[2 * i];
        a.infCount = nanInf[2 * i + 1];
        a.scaleGroups = groups[2 * i];
        a.calibratedGroups = groups[2 * i + 1];
        if (f & L::HasClip) {
            a.clipLow = static_cast<float>(clip[2 * i]);
            a.clipHigh = static_cast<float>(clip[2 * i + 1]);
        }
        if (f & L::HasScale) a.scale = static_cast<float>(scale[i]);
        Histogram* hs[L::kHistograms] = {&a.original, &a.dequantized, &a.error};
        for (int h = 0; h < L::kHistograms; ++h) {
            const std::size_t at = i * L::kHistograms + static_cast<std::size_t>(h);
            const std::int64_t nb = bins[at];
            if (nb < 0 || static_cast<std::uint64_t>(nb) > width)
                bad("a histogram claims " + std::to_string(nb) + " bins (the file stores " +
                    std::to_string(width) + ")");
            hs[h]->lo = ranges[2 * at];
            hs[h]->hi = ranges[2 * at + 1];
            if (!std::isfinite(hs[h]->lo) || !std::isfinite(hs[h]->hi) || hs[h]->lo > hs[h]->hi)
                bad("a histogram has an invalid range");
            const auto first = hist.begin() + static_cast<std::ptrdiff_t>(at * width);
            hs[h]->counts.assign(first, first + nb);
        }
        o.analysis = std::move(a);
    }
    return out;
}

// One stored allocation cost table; every value that is used is checked.
alloc::CostTableRecord readCostTable(const Reader& r, hid_t g, const std::string& gp,
                                     const std::string& path)
{
    alloc::CostTableRecord t;
    t.measure = r.stringAttr(g, "measure", gp);
    if (t.measure.empty()) r.bad("the cost table '" + gp + "' names no measure");
    t.planJson = r.strings(g, gp, "plan_json", {}).front();
    (void)Plan::fromJson(t.planJson, path + ": the base plan of the cost table '" + gp + "'");
    const auto candDims = r.extent(g, gp, "candidates");
    if (candDims.size() != 1 || candDims[0] < 1 || candDims[0] > L::kMaxCandidates)
        r.bad("the dataset '" + gp + "candidates' is not a list of 1 to " +
              std::to_string(L::kMaxCandidates) + " candidate labels");
    t.candidates = r.strings(g, gp, "candidates", candDims);
    std::set<std::string> labels;
    for (const auto& c : t.candidates)
        if (c.empty() || !labels.insert(c).second)
            r.bad("the cost table '" + gp + "' has an empty or repeated candidate '" + c + "'");
    const auto rowDims = r.extent(g, gp, "tensor");
    if (rowDims.size() != 1 || rowDims[0] > L::kMaxCostRows)
        r.bad("the dataset '" + gp + "tensor' is not a list of at most " +
              std::to_string(L::kMaxCostRows) + " tensor names");
    const auto tensors = r.strings(g, gp, "tensor", rowDims);
    const auto formats = r.strings(g, gp, "format", rowDims);
    const auto bytes =
        r.numbers<std::uint64_t>(g, gp, "bytes", H5T_INTEGER, H5T_NATIVE_UINT64, rowDims);
    const auto distortion =
        r.numbers<double>(g, gp, "distortion", H5T_FLOAT, H5T_NATIVE_DOUBLE, rowDims);
    std::set<std::pair<std::string, std::string>> seen;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const std::string where = "row " + std::to_string(i + 1) + " of the cost table '" + gp + "'";
        if (tensors[i].empty() || formats[i].empty()) r.bad(where + " has no tensor or format");
        if (!seen.insert({tensors[i], formats[i]}).second)
            r.bad(where + " repeats '" + tensors[i] + "' as " + formats[i]);
        if (!std::isfinite(distortion[i]) || distortion[i] < 0.0)
            r.bad(where + " has a distortion that is negative or not finite");
        t.rows.push_back({tensors[i], formats[i], bytes[i], distortion[i]});
    }
    return t;
}

// Absent in sessions written before costs were stored: those have none.
std::vector<alloc::CostTableRecord> readCostTables(const Reader& r, hid_t root,
                                                   const std::string& path)
{
    std::vector<alloc::CostTableRecord> out;
    if (H5Lexists(root, "cost_tables", H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return out;
    }
    const Handle costs = r.group(root, "cost_tables", "/cost_tables");
    const std::int64_t count = r.intAttr(costs.get(), "count", "/cost_tables/");
    H5G_info_t info{};
    if (H5Gget_info(costs.get(), &info) < 0) h5::fail(path, "cannot list the group '/cost_tables'");
    if (count < 1 || static_cast<std::uint64_t>(count) > L::kMaxCostTables ||
        info.nlinks != static_cast<hsize_t>(count))
        r.bad("the group '/cost_tables' says it holds " + std::to_string(count) +
              " tables but has " + std::to_string(info.nlinks) + " members (1 to " +
              std::to_string(L::kMaxCostTables) + " tables)");
    for (std::int64_t i = 0; i < count; ++i) {
        const std::string gp = "/cost_tables/" + std::to_string(i) + "/";
        const Handle g = r.group(costs.get(), std::to_string(i), gp.substr(0, gp.size() - 1));
        out.push_back(readCostTable(r, g.get(), gp, path));
    }
    return out;
}

Session readSession(const std::string& path, std::span<const std::byte> image)
{
    const h5::Session lock;
    const Handle file = h5::openImage(image, path);
    const Reader r(path, image.size());
    const Handle root(
        h5::check(H5Gopen2(file.get(), "/", H5P_DEFAULT), path, "cannot open the root group"),
        H5Gclose);
    if (!h5::hasAttribute(root.get(), L::kMagicAttr) ||
        r.stringAttr(root.get(), L::kMagicAttr, "/") != L::kMagic)
        r.bad("not a QuantScope session (an HDF5 file without the root attribute '" +
              std::string(L::kMagicAttr) + "')");
    const std::int64_t version = r.intAttr(root.get(), "format_version", "/");
    if (version > kSessionFormatVersion)
        r.bad("written by a newer QuantScope (session format " + std::to_string(version) +
              "; this one reads up to " + std::to_string(kSessionFormatVersion) + ")");
    if (version < 1) r.bad("invalid session format version " + std::to_string(version));
    Session s;
    s.appVersion = r.stringAttr(root.get(), "app_version", "/");
    s.modelPath = r.stringAttr(root.get(), "model_path", "/");
    s.modelFormat = r.stringAttr(root.get(), "model_format", "/");
    s.fingerprint.size = static_cast<std::uint64_t>(r.intAttr(root.get(), "model_size", "/"));
    s.fingerprint.hash = static_cast<std::uint64_t>(r.intAttr(root.get(), "model_hash", "/"));
    s.activePlan = r.stringAttr(root.get(), "active_plan", "/");

    const Handle plans = r.group(root.get(), "plans", "/plans");
    const std::int64_t count = r.intAttr(plans.get(), "count", "/plans/");
    H5G_info_t info{};
    if (H5Gget_info(plans.get(), &info) < 0) h5::fail(path, "cannot list the group '/plans'");
    if (count < 0 || static_cast<std::uint64_t>(count) > L::kMaxPlans ||
        info.nlinks != static_cast<hsize_t>(count))
        r.bad("the group '/plans' says it holds " + std::to_string(count) + " plans but has " +
              std::to_string(info.nlinks) + " members (at most " + std::to_string(L::kMaxPlans) +
              " plans)");
    std::set<std::string> names;
    for (std::int64_t i = 0; i < count; ++i) {
        const std::string gp = "/plans/" + std::to_string(i) + "/";
        const Handle g = r.group(plans.get(), std::to_string(i), gp.substr(0, gp.size() - 1));
        SessionPlan p;
        p.name = r.stringAttr(g.get(), "name", gp);
        if (p.name.empty() || !names.insert(p.name).second)
            r.bad("the plan name '" + p.name + "' of '" + gp + "' is empty or used twice");
        p.planJson = r.strings(g.get(), gp, "plan_json", {}).front();
        (void)Plan::fromJson(p.planJson, path + ": plan '" + p.name + "'");
        p.results = readResults(r, g.get(), gp);
        s.plans.push_back(std::move(p));
    }
    if (s.plans.empty() ? !s.activePlan.empty() : !s.findPlan(s.activePlan))
        r.bad("the active plan '" + s.activePlan + "' is not one of the session's plans");
    s.costTables = readCostTables(r, root.get(), path);
    return s;
}

} // namespace

Session loadSession(const std::string& path)
{
    const auto parse = [&path] {
        const MappedFile file(path);
        return readSession(path, file.bytes());
    };
    // libhdf5 walks the file's headers, heaps and B-trees itself; a damaged file must not take
    // the program down, so it is read in a child process first (as model files are).
    probeInChildProcess(path, "libhdf5", ProbeKind::Session, [&] { (void)parse(); });
    return parse();
}

} // namespace qs
