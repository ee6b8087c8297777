// `quantize`: apply a plan to every tensor and report size and error, optionally exporting.
#include "analysis/analyze.h"
#include "cli.h"
#include "core/error.h"
#include "export/export.h"
#include "formats/ideal_sqnr.h"
#include "formats/storage.h"
#include "io/model.h"
#include "io/plain_tensor.h"
#include "io/safetensors_writer.h"
#include "plan/plan.h"
#include "qtexecutor.h"

#include <QThread>
#include <QThreadPool>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace qs::cli {
namespace {

std::uint64_t seedOption(const Args& args)
{
    const auto s = args.option("seed");
    if (!s) return 0;
    std::uint64_t v = 0;
    const auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
    if (ec != std::errc() || p != s->data() + s->size())
        throw UsageError("--seed needs a non-negative integer, not '" + *s + "'");
    return v;
}

Plan loadPlan(const Args& args)
{
    const auto format = args.option("format");
    const auto planPath = args.option("plan");
    if (format.has_value() == planPath.has_value())
        throw UsageError("quantize needs either --format or --plan");
    if (planPath) {
        for (const char* o : {"granularity", "calibration", "rounding"})
            if (args.option(o))
                throw UsageError(std::string("--") + o + " goes with --format, not --plan");
        std::ifstream in(*planPath, std::ios::binary);
        if (!in) throw Error(*planPath + ": cannot read the plan file");
        std::stringstream ss;
        ss << in.rdbuf();
        Plan plan = Plan::fromJson(ss.str(), *planPath);
        if (args.option("seed")) plan.seed = seedOption(args);
        return plan;
    }
    const Format* f = findFormat(*format);
    if (!f)
        throw UsageError("unknown format '" + *format + "'; 'quantscope-cli formats' lists them");
    const std::string g = args.option("granularity").value_or("tensor");
    const auto gran = Granularity::parse(g);
    if (!gran) throw UsageError("bad granularity '" + g + "' (tensor, channel or group:N)");
    Precision p{*format, *gran, std::nullopt, std::nullopt};
    if (const auto c = args.option("calibration")) {
        p.calibration = Calibration::parse(*c);
        if (!p.calibration)
            throw UsageError("bad calibration '" + *c + "' (minmax, percentile:P, mse or hqq)");
    }
    if (const auto r = args.option("rounding")) {
        p.rounding = parseRounding(*r);
        if (!p.rounding) throw UsageError("bad rounding '" + *r + "' (nearest or stochastic)");
    }
    if ((p.calibration || p.rounding) && !f->integer())
        throw UsageError("--calibration and --rounding apply to the integer formats (int2..int8, "
                         "uint2..uint8), not to " +
                         *format);
    Plan plan = Plan::uniform(p);
    plan.seed = seedOption(args);
    return plan;
}

struct Row
{
    const TensorInfo* tensor;
    std::optional<QuantSpec> spec;
    std::uint64_t bytesAfter;
    std::optional<TensorAnalysis> analysis;
};

Json rowJson(const Row& r)
{
    const TensorInfo& t = *r.tensor;
    const auto params = t.numel();
    Json j = {
        {"name", t.name},
        {"dtype", t.storedType},
        {"format", r.spec ? std::string(r.spec->format->name) : std::string("keep")},
        {"granularity", r.spec ? Json(r.spec->granularity.toString()) : Json(nullptr)},
        {"calibration", r.spec && r.spec->format->integer() ? Json(r.spec->calibration.toString())
                                                            : Json(nullptr)},
        {"rounding", r.spec && r.spec->format->integer() ? Json(roundingName(r.spec->rounding))
                                                         : Json(nullptr)},
        {"channel_axis", t.channelAxis},
        {"params", params},
        {"bytes_before", t.byteSize},
        {"bytes_after", r.bytesAfter},
        {"bits_per_weight",
         number(params ? static_cast<double>(r.bytesAfter) * 8.0 / static_cast<double>(params)
                       : 0.0)}};
    if (r.analysis) {
        const ErrorSums& s = r.analysis->sums;
        j["mse"] = number(s.mse());
        j["rmse"] = number(s.rmse());
        j["sqnr_db"] = number(s.sqnrDb());
        j["max_abs_error"] = number(s.maxAbsError);
        j["cosine"] = number(s.cosine());
        j["rmse_over_scale"] = number(s.rmseOverScale());
        j["nan_count"] = r.analysis->nanCount;
        j["inf_count"] = r.analysis->infCount;
        j["calibrated_groups"] = r.analysis->calibratedGroups;
        j["scale_groups"] = r.analysis->scaleGroups;
        // What an ideal quantizer with as many bits reaches on a Gaussian of the same power.
        if (r.spec->format->integer()) {
            const int bits = r.spec->format->bits;
            j["ideal_sqnr_db"] = {
                {"uniform", number(idealSqnrDb(bits, IdealQuantizer::Uniform))},
                {"lloyd_max", number(idealSqnrDb(bits, IdealQuantizer::LloydMax))}};
        } else {
            j["ideal_sqnr_db"] = nullptr;
        }
    } else {
        for (const char* k :
             {"mse", "rmse", "sqnr_db", "max_abs_error", "cosine", "rmse_over_scale", "nan_count",
              "inf_count", "calibrated_groups", "scale_groups", "ideal_sqnr_db"})
            j[k] = nullptr;
    }
    return j;
}

void printTable(const std::vector<Row>& rows, std::uint64_t before, std::uint64_t after)
{
    int nameW = 4;
    for (const auto& r : rows)
        nameW = std::max(nameW, static_cast<int>(r.tensor->name.size()));
    std::printf("%-*s %-8s %-10s %12s %12s %6s %9s %11s\n", nameW, "name", "format", "granular.",
                "bytes before", "bytes after", "bpw", "SQNR dB", "MSE");
    for (const auto& r : rows) {
        const auto params = r.tensor->numel();
        const std::string fmt = r.spec ? std::string(r.spec->format->name) : "keep";
        const std::string gran = r.spec ? r.spec->granularity.toString() : "-";
        const double bpw =
            params ? static_cast<double>(r.bytesAfter) * 8.0 / static_cast<double>(params) : 0.0;
        char sqnr[32] = "-", mse[32] = "-";
        if (r.analysis) {
            if (const auto s = r.analysis->sums.sqnrDb())
                std::snprintf(sqnr, sizeof sqnr, "%.2f", *s);
            else
                std::snprintf(sqnr, sizeof sqnr, "exact");
            std::snprintf(mse, sizeof mse, "%.3e", r.analysis->sums.mse());
        }
        std::printf("%-*s %-8s %-10s %12s %12s %6.2f %9s %11s\n", nameW, r.tensor->name.c_str(),
                    fmt.c_str(), gran.c_str(),
                    humanBytes(static_cast<double>(r.tensor->byteSize)).c_str(),
                    humanBytes(static_cast<double>(r.bytesAfter)).c_str(), bpw, sqnr, mse);
    }
    for (const auto& r : rows)
        if (r.analysis && (r.analysis->nanCount || r.analysis->infCount))
            std::printf("%s: %lld NaN and %lld infinite values, left out of the metrics\n",
                        r.tensor->name.c_str(), static_cast<long long>(r.analysis->nanCount),
                        static_cast<long long>(r.analysis->infCount));
    std::printf("total: %s -> %s (compression %.2fx)\n",
                humanBytes(static_cast<double>(before)).c_str(),
                humanBytes(static_cast<double>(after)).c_str(),
                after ? static_cast<double>(before) / static_cast<double>(after) : 0.0);
}

void exportDequantized(const std::string& out, const Model& model, const std::vector<Row>& rows,
                       const Control& control)
{
    // Block types QuantScope cannot decode (GGUF's IQ*, TQ*, ...) and tensors listed without
    // data (types with no QuantScope equivalent) have nothing to write.
    const auto skip = [](const TensorInfo& t) {
        return !isQuantizable(t.dtype) && !hasPlainData(t);
    };
    std::vector<SafetensorsWriter::Entry> entries;
    std::string skipped;
    for (const auto& r : rows) {
        if (skip(*r.tensor)) {
            skipped +=
                (skipped.empty() ? "" : ", ") + r.tensor->name + " (" + r.tensor->storedType + ")";
            continue;
        }
        entries.push_back({r.tensor->name,
                           isQuantizable(r.tensor->dtype) ? DType::F32 : r.tensor->dtype,
                           r.tensor->shape});
    }
    std::map<std::string, std::string> meta = model.metadata;
    meta["quantscope.source"] = model.path;
    if (!skipped.empty()) {
        meta["quantscope.not_exported"] = skipped;
        std::fprintf(stderr, "not exported (no values QuantScope can read): %s\n", skipped.c_str());
    }
    SafetensorsWriter writer(out, entries, meta);
    std::vector<float> values;
    for (const auto& r : rows) {
        const TensorInfo& t = *r.tensor;
        if (skip(t)) continue;
        if (!isQuantizable(t.dtype)) { // integer and fp8 tensors: their values, unchanged
            if (t.strides.empty() && !t.bigEndian) {
                const auto bytes = model.data(t);
                writer.write(bytes.data(), bytes.size());
            } else {
                const auto bytes = rowMajorLittleEndian(model.data(t), t);
                writer.write(bytes.data(), bytes.size());
            }
            continue;
        }
        values.resize(static_cast<std::size_t>(t.numel()));
        TensorQuantizer qz(model.data(t), t,
                           r.spec.value_or(QuantSpec{findFormat("fp32"), Granularity{}}));
        dequantizeTensor(qz, values.data(), control);
        writer.write(values.data(), values.size() * sizeof(float));
    }
    writer.commit();
}

} // namespace

int cmdQuantize(const std::vector<std::string>& argv)
{
    const Args args(argv, {"json"},
                    {"format", "granularity", "calibration", "rounding", "seed", "plan", "threads",
                     "export", "export-dequantized"});
    if (args.positionals().size() != 1) throw UsageError("quantize needs exactly one MODEL path");
    const Plan plan = loadPlan(args);
    const int threads = args.intOption("threads", QThread::idealThreadCount(), 1, 1024);
    const auto model = openModel(args.positionals().front());

    QThreadPool pool;
    pool.setMaxThreadCount(threads);
    const QtExecutor executor(&pool);
    Control control;
    control.executor = &executor;
    const bool showProgress = !args.flag("json") && isatty(2);

    std::vector<Row> rows;
    std::uint64_t before = 0, after = 0;
    for (std::size_t i = 0; i < model->tensors.size(); ++i) {
        const TensorInfo& t = model->tensors[i];
        Row r{&t, plan.resolve(t), t.byteSize, std::nullopt};
        if (r.spec) {
            r.bytesAfter = storageCost(t, *r.spec).bytes;
            try {
                TensorQuantizer qz(model->data(t), t, *r.spec);
                r.analysis = analyzeTensor(qz, control);
            } catch (const Error& e) { // a format this tensor cannot take: name the model too
                const std::string what = e.what();
                throw Error(what.rfind(model->path, 0) == 0 ? what : model->path + ": " + what);
            }
        }
        before += t.byteSize;
        after += r.bytesAfter;
        rows.push_back(std::move(r));
        if (showProgress)
            std::fprintf(stderr, "\rquantizing %zu/%zu", i + 1, model->tensors.size());
    }
    if (showProgress) std::fprintf(stderr, "\r%40s\r", "");
    if (const auto out = args.option("export-dequantized"))
        exportDequantized(*out, *model, rows, control);
    if (const auto out = args.option("export")) {
        std::vector<ExportTensor> tensors;
        for (const auto& r : rows)
            tensors.push_back({r.tensor, r.spec});
        ExportOptions options;
        options.control = control;
        exportModel(*out, *model, tensors, options);
    }

    if (args.flag("json")) {
        Json tensors = Json::array();
        for (const auto& r : rows)
            tensors.push_back(rowJson(r));
        printJson(
            {{"tensors", tensors},
             {"total",
              {{"params", model->totalParams()},
               {"bytes_before", before},
               {"bytes_after", after},
               {"compression_ratio",
                number(after ? static_cast<double>(before) / static_cast<double>(after) : 0.0)}}}});
    } else {
        printTable(rows, before, after);
    }
    return Ok;
}

} // namespace qs::cli
