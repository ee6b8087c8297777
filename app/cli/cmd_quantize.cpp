// `quantize`: apply a plan to every tensor and report size and error, optionally exporting.
#include "analysis/analyze.h"
#include "analysis/tensor_outcome.h"
#include "cli.h"
#include "core/error.h"
#include "export/export.h"
#include "formats/storage.h"
#include "io/model.h"
#include "io/plain_tensor.h"
#include "io/safetensors_writer.h"
#include "plan/plan.h"
#include "qtexecutor.h"
#include "report/report_row.h"
#include "session/session.h"

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

void printTable(const std::vector<ReportRow>& rows, const ReportTotals& totals)
{
    int nameW = 4;
    for (const auto& r : rows)
        nameW = std::max(nameW, static_cast<int>(r.name.size()));
    std::printf("%-*s %-8s %-10s %12s %12s %6s %9s %11s\n", nameW, "name", "format", "granular.",
                "bytes before", "bytes after", "bpw", "SQNR dB", "MSE");
    for (const auto& r : rows) {
        char sqnr[32] = "-", mse[32] = "-";
        if (r.mse) {
            if (r.sqnrDb)
                std::snprintf(sqnr, sizeof sqnr, "%.2f", *r.sqnrDb);
            else
                std::snprintf(sqnr, sizeof sqnr, "exact");
            std::snprintf(mse, sizeof mse, "%.3e", *r.mse);
        }
        std::printf("%-*s %-8s %-10s %12s %12s %6.2f %9s %11s\n", nameW, r.name.c_str(),
                    r.format.c_str(), r.granularity.value_or("-").c_str(),
                    humanBytes(static_cast<double>(r.bytesBefore)).c_str(),
                    humanBytes(static_cast<double>(r.bytesAfter)).c_str(), r.bitsPerWeight, sqnr,
                    mse);
    }
    for (const auto& r : rows)
        if (r.nanCount.value_or(0) || r.infCount.value_or(0))
            std::printf("%s: %lld NaN and %lld infinite values, left out of the metrics\n",
                        r.name.c_str(), static_cast<long long>(r.nanCount.value_or(0)),
                        static_cast<long long>(r.infCount.value_or(0)));
    std::printf("total: %s -> %s (compression %.2fx)\n",
                humanBytes(static_cast<double>(totals.bytesBefore)).c_str(),
                humanBytes(static_cast<double>(totals.bytesAfter)).c_str(), totals.compression());
}

void exportDequantized(const std::string& out, const Model& model,
                       const std::vector<TensorOutcome>& outcomes, const Control& control)
{
    // Block types QuantScope cannot decode (GGUF's IQ*, TQ*, ...) and tensors listed without
    // data (types with no QuantScope equivalent) have nothing to write.
    const auto skip = [](const TensorInfo& t) {
        return !isQuantizable(t.dtype) && !hasPlainData(t);
    };
    std::vector<SafetensorsWriter::Entry> entries;
    std::string skipped;
    for (const TensorInfo& t : model.tensors) {
        if (skip(t)) {
            skipped += (skipped.empty() ? "" : ", ") + t.name + " (" + t.storedType + ")";
            continue;
        }
        entries.push_back({t.name, isQuantizable(t.dtype) ? DType::F32 : t.dtype, t.shape});
    }
    std::map<std::string, std::string> meta = model.metadata;
    meta["quantscope.source"] = model.path;
    if (!skipped.empty()) {
        meta["quantscope.not_exported"] = skipped;
        std::fprintf(stderr, "not exported (no values QuantScope can read): %s\n", skipped.c_str());
    }
    SafetensorsWriter writer(out, entries, meta);
    std::vector<float> values;
    for (std::size_t i = 0; i < model.tensors.size(); ++i) {
        const TensorInfo& t = model.tensors[i];
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
                           outcomes[i].spec.value_or(QuantSpec{findFormat("fp32"), Granularity{}}));
        dequantizeTensor(qz, values.data(), control);
        writer.write(values.data(), values.size() * sizeof(float));
    }
    model.checkIntact(); // never publish data read from a file that shrank meanwhile
    writer.commit();
}

} // namespace

Plan planFromArgs(const Args& args, const std::string& command)
{
    const auto format = args.option("format");
    const auto planPath = args.option("plan");
    if (format.has_value() == planPath.has_value())
        throw UsageError(command + " needs either --format or --plan");
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

std::vector<TensorOutcome> computeOutcomes(const Model& model, const Plan& plan,
                                           const Control& control, bool showProgress)
{
    std::vector<TensorOutcome> outcomes;
    outcomes.reserve(model.tensors.size());
    for (std::size_t i = 0; i < model.tensors.size(); ++i) {
        try {
            // Kept tensors are not analysed: nothing reports their metrics.
            outcomes.push_back(computeTensorOutcome(
                model, static_cast<int>(i), plan.resolve(model.tensors[i]), control, false));
        } catch (const Error& e) { // a format this tensor cannot take: name the model too
            const std::string what = e.what();
            throw Error(what.rfind(model.path, 0) == 0 ? what : model.path + ": " + what);
        }
        if (showProgress) std::fprintf(stderr, "\rquantizing %zu/%zu", i + 1, model.tensors.size());
    }
    if (showProgress) std::fprintf(stderr, "\r%40s\r", "");
    return outcomes;
}

int cmdQuantize(const std::vector<std::string>& argv)
{
    const Args args(argv, {"json"},
                    {"format", "granularity", "calibration", "rounding", "seed", "plan", "threads",
                     "export", "export-dequantized", "save-session"});
    if (args.positionals().size() != 1) throw UsageError("quantize needs exactly one MODEL path");
    const Plan plan = planFromArgs(args, "quantize");
    const int threads = args.intOption("threads", QThread::idealThreadCount(), 1, 1024);
    const auto model = openModel(args.positionals().front());

    QThreadPool pool;
    pool.setMaxThreadCount(threads);
    const QtExecutor executor(&pool);
    Control control;
    control.executor = &executor;
    const bool showProgress = !args.flag("json") && isatty(2);

    const std::vector<TensorOutcome> outcomes =
        computeOutcomes(*model, plan, control, showProgress);
    if (const auto out = args.option("export-dequantized"))
        exportDequantized(*out, *model, outcomes, control);
    if (const auto out = args.option("export")) {
        std::vector<ExportTensor> tensors;
        for (std::size_t i = 0; i < outcomes.size(); ++i)
            tensors.push_back({&model->tensors[i], outcomes[i].spec});
        ExportOptions options;
        options.control = control;
        exportModel(*out, *model, tensors, options);
    }
    if (const auto out = args.option("save-session")) {
        Session session;
        session.modelPath = model->path;
        session.modelFormat = model->format;
        session.fingerprint = fingerprintFile(model->path);
        session.appVersion = QUANTSCOPE_VERSION;
        session.plans.push_back({"A", plan.toJson(), outcomes});
        session.activePlan = "A";
        saveSession(*out, session);
    }

    std::vector<ReportRow> rows;
    for (const auto& o : outcomes)
        rows.push_back(reportRow(o));
    const ReportTotals totals = reportTotals(outcomes);
    if (args.flag("json")) {
        Json tensors = Json::array();
        for (const auto& r : rows)
            tensors.push_back(toJson(r));
        printJson({{"tensors", tensors},
                   {"total",
                    {{"params", totals.params},
                     {"bytes_before", totals.bytesBefore},
                     {"bytes_after", totals.bytesAfter},
                     {"compression_ratio", number(totals.compression())}}}});
    } else {
        printTable(rows, totals);
    }
    return Ok;
}

} // namespace qs::cli
