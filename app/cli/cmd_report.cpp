// `report`: report files of a saved session (its stored results) or of a model under a plan.
#include "analysis/tensor_outcome.h"
#include "cli.h"
#include "core/error.h"
#include "io/model.h"
#include "plan/plan.h"
#include "qtexecutor.h"
#include "report/reports.h"
#include "session/session.h"

#include <QThread>
#include <QThreadPool>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <unistd.h>

namespace qs::cli {
namespace {

bool isSessionPath(const std::string& path)
{
    std::string ext = std::filesystem::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext == ".qscope";
}

ReportInput fromSession(const Args& args, const std::string& path)
{
    for (const char* o : {"format", "granularity", "calibration", "rounding", "seed", "threads"})
        if (args.option(o))
            throw UsageError(std::string("--") + o + " goes with a MODEL, not with a session");
    const Session s = loadSession(path);
    const std::string name = args.option("plan").value_or(s.activePlan);
    const SessionPlan* plan = s.findPlan(name);
    if (!plan) {
        std::string names;
        for (const auto& p : s.plans)
            names += (names.empty() ? "" : ", ") + p.name;
        throw Error(path + ": the session has no plan named '" + name +
                    "' (its plans: " + (names.empty() ? std::string("none") : names) + ")");
    }
    if (plan->results.empty())
        throw Error(path + ": plan '" + name + "' has no results saved; quantize it first");
    // The stored results are reported as they are; a changed model only earns a warning.
    switch (checkFingerprint(s)) {
    case FingerprintCheck::Same:
        break;
    case FingerprintCheck::Changed:
        std::fprintf(stderr,
                     "quantscope-cli: warning: %s changed since the session was saved; the "
                     "report shows the saved results\n",
                     s.modelPath.c_str());
        break;
    case FingerprintCheck::Missing:
        std::fprintf(stderr,
                     "quantscope-cli: warning: %s cannot be read; the report shows the "
                     "saved results\n",
                     s.modelPath.c_str());
        break;
    }
    return {s.modelPath, s.modelFormat, plan->name, plan->planJson, s.appVersion, plan->results};
}

ReportInput fromModel(const Args& args, const std::string& path)
{
    const Plan plan = planFromArgs(args, "report");
    const int threads = args.intOption("threads", QThread::idealThreadCount(), 1, 1024);
    const auto model = openModel(path);
    QThreadPool pool;
    pool.setMaxThreadCount(threads);
    const QtExecutor executor(&pool);
    Control control;
    control.executor = &executor;
    std::string name = args.option("plan").value_or("");
    if (name.empty()) name.append("--format ").append(args.option("format").value_or(""));
    return {model->path,   model->format,      name,
            plan.toJson(), QUANTSCOPE_VERSION, computeOutcomes(*model, plan, control, isatty(2))};
}

void warnSkipped(const char* what, const ToolFile& f)
{
    for (const auto& s : f.skipped)
        std::fprintf(stderr, "quantscope-cli: %s: left out %s: %s\n", what, s.name.c_str(),
                     s.reason.c_str());
    for (const auto& n : f.notes)
        std::fprintf(stderr, "quantscope-cli: %s: note: %s\n", what, n.c_str());
}

} // namespace

int cmdReport(const std::vector<std::string>& argv)
{
    const Args args(argv, {},
                    {"plan", "format", "granularity", "calibration", "rounding", "seed", "threads",
                     "html", "csv", "llama-tensor-types", "ort-overrides", "plan-json"});
    if (args.positionals().size() != 1)
        throw UsageError("report needs exactly one S.qscope or MODEL path");
    const auto html = args.option("html"), csv = args.option("csv"),
               llama = args.option("llama-tensor-types"), ort = args.option("ort-overrides"),
               planJson = args.option("plan-json");
    if (!html && !csv && !llama && !ort && !planJson)
        throw UsageError("report needs at least one of --html, --csv, --llama-tensor-types, "
                         "--ort-overrides, --plan-json");
    const std::string& in = args.positionals().front();
    const ReportInput input = isSessionPath(in) ? fromSession(args, in) : fromModel(args, in);

    if (html) writeReportFile(*html, htmlReport(input));
    if (csv) writeReportFile(*csv, csvReport(input.outcomes));
    if (llama) {
        const ToolFile f = llamaTensorTypes(input.outcomes, input.modelFormat);
        writeReportFile(*llama, f.text);
        warnSkipped("llama tensor types", f);
    }
    if (ort) {
        const ToolFile f = ortTensorQuantOverrides(input.outcomes);
        writeReportFile(*ort, f.text);
        warnSkipped("ONNX Runtime overrides", f);
    }
    if (planJson) writeReportFile(*planJson, input.planJson + "\n");
    return Ok;
}

} // namespace qs::cli
