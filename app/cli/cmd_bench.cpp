// `bench`: throughput of quantize, dequantize and analysis against a memory-read baseline.
#include "analysis/analyze.h"
#include "analysis/read_baseline.h"
#include "cli.h"
#include "core/error.h"
#include "formats/code_bytes.h"
#include "formats/encoded.h"
#include "io/model.h"
#include "io/safetensors_writer.h"
#include "qtexecutor.h"

#include <QTemporaryDir>
#include <QThreadPool>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <random>

namespace qs::cli {
namespace {

template <typename F> double seconds(F&& f)
{
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

template <typename F> double bestSeconds(int repeats, F&& f)
{
    double best = 1e300;
    for (int r = 0; r < repeats; ++r)
        best = std::min(best, seconds(f));
    return best;
}

// Best (shortest) times of one format's rounds; quantize1 and analyze1 on one thread.
struct Timings
{
    double read = 1e300, quantize = 1e300, dequantize = 1e300, analyze = 1e300;
    double quantize1 = 1e300, analyze1 = 1e300;
};

// What measure() runs in each round besides the format's own work.
struct Rounds
{
    int count = 3;
    bool compareOneThread = false; // also time quantize and analysis on one thread
    bool cold = false;             // free kept code buffers before each quantize
    std::function<float()> readPass;
    float* out = nullptr; // dequantized values
    float& sink;          // keeps results live
};

// Times one format. Each round runs everything once, so that every figure and the read pass it
// is divided by (and, with more threads, the one-thread run it is compared with) are measured
// close together in time; each figure is the best of its rounds.
Timings measure(TensorQuantizer& qz, const Control& control, const Rounds& rounds,
                TensorAnalysis& a)
{
    Timings t;
    EncodedTensor enc;
    const bool paired = rounds.compareOneThread;
    if (!rounds.cold) enc = encodeTensor(qz, control); // every timed run then finds a buffer
    for (int r = 0; r < rounds.count; ++r) {
        t.read = std::min(t.read, seconds([&] { rounds.sink += rounds.readPass(); }));
        const auto encode = [&](const Control& c) {
            enc = {}; // the last result is freed before the clock starts
            if (rounds.cold) codecache::clear();
            return seconds([&] { enc = encodeTensor(qz, c); });
        };
        const auto analyze = [&](const Control& c) {
            return seconds([&] { a = analyzeTensor(qz, c); });
        };
        // The one-thread and N-thread runs take turns going first: the first after the read
        // pass finds less of its working set in the cache.
        const bool oneFirst = r % 2 == 1;
        if (paired && oneFirst) t.quantize1 = std::min(t.quantize1, encode(Control{}));
        t.quantize = std::min(t.quantize, encode(control));
        if (paired && !oneFirst) t.quantize1 = std::min(t.quantize1, encode(Control{}));
        t.dequantize = std::min(t.dequantize,
                                seconds([&] { decodeTensor(enc, qz, rounds.out, control); }));
        if (paired && oneFirst) t.analyze1 = std::min(t.analyze1, analyze(Control{}));
        t.analyze = std::min(t.analyze, analyze(control));
        if (paired && !oneFirst) t.analyze1 = std::min(t.analyze1, analyze(Control{}));
    }
    rounds.sink += rounds.out[qz.source().numel() / 2];
    return t;
}

std::vector<float> benchData(std::int64_t n)
{
    // Weight-like values: normal with a few outliers, seeded so every run sees the same data.
    std::vector<float> v(static_cast<std::size_t>(n));
    std::mt19937 rng(1234);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    for (auto& x : v)
        x = normal(rng);
    for (std::size_t i = 0; i < v.size(); i += 9973)
        v[i] *= 25.0f;
    return v;
}

void parseShape(const std::string& text, std::int64_t& rows, std::int64_t& cols)
{
    long long r = 0, c = 0;
    char extra = 0;
    if (std::sscanf(text.c_str(), "%lldx%lld%c", &r, &c, &extra) != 2 || r <= 0 || c <= 0 ||
        r * c > (1LL << 31))
        throw UsageError("--shape needs ROWSxCOLS, e.g. 8192x8192, not '" + text + "'");
    rows = r;
    cols = c;
}

// Seconds to list a 1,000-tensor safetensors file (header parse and validation), and to read
// the same header bytes with plain file I/O as the baseline.
std::pair<double, double> listingSeconds(int repeats)
{
    QTemporaryDir dir;
    if (!dir.isValid()) throw Error("cannot create a temporary folder for the listing benchmark");
    const std::string path = dir.filePath(QStringLiteral("listing.safetensors")).toStdString();
    std::vector<SafetensorsWriter::Entry> entries;
    for (int layer = 0; layer < 125; ++layer)
        for (const char* part :
             {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "norm"})
            entries.push_back({"model.layers." + std::to_string(layer) + ".mlp." + part + ".weight",
                               DType::F16,
                               {4, 8}});
    {
        SafetensorsWriter w(path, entries);
        const std::vector<char> zeros(64, 0);
        for (std::size_t i = 0; i < entries.size(); ++i)
            w.write(zeros.data(), zeros.size());
        w.commit();
    }
    std::size_t sink = 0;
    const double open = bestSeconds(repeats, [&] { sink += openModel(path)->tensors.size(); });
    const double read = bestSeconds(repeats, [&] {
        std::FILE* f = std::fopen(path.c_str(), "rb");
        std::vector<char> buf(1 << 20);
        if (f) {
            sink += std::fread(buf.data(), 1, buf.size(), f);
            std::fclose(f);
        }
    });
    if (sink == 0) throw Error("listing benchmark read nothing");
    return {open, read};
}

} // namespace

int cmdBench(const std::vector<std::string>& argv)
{
    const Args args(argv, {"json", "cold"},
                    {"threads", "shape", "repeats", "formats", "calibration", "model"});
    if (!args.positionals().empty()) throw UsageError("bench takes no arguments");
    const int threads = args.intOption("threads", 1, 1, 1024);
    if (const auto model = args.option("model"))
        return benchModel(*model, threads, args.flag("json"));
    const int repeats = args.intOption("repeats", 3, 1, 100);
    std::int64_t rows = 8192, cols = 8192;
    if (const auto s = args.option("shape")) parseShape(*s, rows, cols);
    const std::int64_t n = rows * cols;
    const double gb = static_cast<double>(n) * 4.0 / 1e9;

    const std::vector<float> data = benchData(n);
    TensorInfo info;
    info.name = "bench";
    info.shape = {rows, cols};
    info.dtype = DType::F32;
    info.byteSize = static_cast<std::uint64_t>(n) * 4;
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data.data()),
                                           info.byteSize);

    // Read baseline: single-threaded, best of several passes (its sum is printed to keep it live).
    float sink = 0;
    const double readSec =
        bestSeconds(std::max(repeats, 5), [&] { sink += sumFloatsBaseline(data.data(), n); });

    QThreadPool pool;
    pool.setMaxThreadCount(threads);
    const QtExecutor executor(&pool);
    Control control;
    control.executor = &executor;

    std::optional<Calibration> calibration;
    if (const auto c = args.option("calibration")) {
        calibration = Calibration::parse(*c);
        if (!calibration)
            throw UsageError("bad calibration '" + *c + "' (minmax, percentile:P, mse or hqq)");
    }
    const double readGbps = gb / readSec;

    Json list = Json::array();
    std::vector<float> out(static_cast<std::size_t>(n));
    if (!args.flag("json"))
        std::printf("%-9s %7s %14s %16s %13s   %s%s\n", "format", "threads", "quantize GB/s",
                    "dequantize GB/s", "analyze GB/s", "(each / read pass)",
                    threads > 1 ? "   (quantize, analyze: speed-up over 1 thread)" : "");
    const std::string only = args.option("formats").value_or("");
    const auto listed = [&only](std::string_view name) { // an exact item of the comma list
        for (std::size_t b = 0; b <= only.size();) {
            const std::size_t e = std::min(only.find(',', b), only.size());
            if (std::string_view(only).substr(b, e - b) == name) return true;
            b = e + 1;
        }
        return false;
    };
    const bool paired = threads > 1;
#if defined(__GLIBC__)
    // Cold runs must get fresh pages from the kernel: glibc otherwise serves a freed buffer of
    // up to 32 MiB from its heap next time (its mmap threshold grows with such frees).
    if (args.flag("cold")) mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
    const Rounds rounds{repeats, paired, args.flag("cold"),
                        [&] { return sumFloatsBaseline(data.data(), n); }, out.data(), sink};
    for (const auto& f : formats()) {
        if (!only.empty() && !listed(f.name)) continue;
        QuantSpec spec{&f, f.takesGranularity() && f.kind != FormatKind::Nf4
                               ? Granularity{Granularity::Kind::Channel, 0}
                               : Granularity{}};
        if (calibration && f.integer()) spec.calibration = *calibration;
        TensorQuantizer qz(bytes, info, spec);
        TensorAnalysis a;
        const Timings t = measure(qz, control, rounds, a);
        sink += static_cast<float>(a.sums.sumE2);
        const double read = gb / t.read, q = gb / t.quantize, d = gb / t.dequantize,
                     an = gb / t.analyze;
        Json row = {{"name", f.name},
                    {"threads", threads},
                    {"granularity", spec.granularity.toString()},
                    {"calibration", f.integer() ? Json(spec.calibration.toString()) : Json()},
                    {"quantize_gbps", number(q)},
                    {"dequantize_gbps", number(d)},
                    {"analyze_gbps", number(an)},
                    // What editing one layer of this shape costs in the app: the analysis
                    // is the whole of a recompute (sizes are arithmetic).
                    {"analyze_ms", number(t.analyze * 1e3)},
                    {"read_gbps", number(read)},
                    {"quantize_vs_read", number(q / read)},
                    {"dequantize_vs_read", number(d / read)},
                    {"analyze_vs_read", number(an / read)}};
        if (paired) {
            row["quantize_speedup"] = number(t.quantize1 / t.quantize);
            row["analyze_speedup"] = number(t.analyze1 / t.analyze);
        }
        list.push_back(row);
        if (!args.flag("json")) {
            std::printf("%-9.*s %7d %14.2f %16.2f %13.2f   %.3f %.3f %.3f",
                        static_cast<int>(f.name.size()), f.name.data(), threads, q, d, an,
                        q / read, d / read, an / read);
            if (paired)
                std::printf("   x%.2f x%.2f", t.quantize1 / t.quantize, t.analyze1 / t.analyze);
            std::printf("\n");
        }
    }
    const auto [listSec, listReadSec] = listingSeconds(std::max(repeats, 5));
    if (args.flag("json")) {
        printJson({{"read_gbps", number(readGbps)},
                   {"shape", {rows, cols}},
                   {"formats", list},
                   {"list_1000_tensors_ms", number(listSec * 1e3)},
                   {"list_1000_tensors_read_baseline_ms", number(listReadSec * 1e3)}});
    } else {
        std::printf("read baseline: %.2f GB/s (single thread, vectorised sum; checksum %g)\n",
                    gb / readSec, static_cast<double>(sink));
        std::printf(
            "listing a 1,000-tensor safetensors file: %.2f ms (reading its bytes: %.3f ms)\n",
            listSec * 1e3, listReadSec * 1e3);
    }
    return Ok;
}

} // namespace qs::cli
