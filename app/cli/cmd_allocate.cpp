// `allocate`: choose a format per tensor for the least distortion within a size budget.
#include "alloc/allocation.h"
#include "cli.h"
#include "core/error.h"
#include "io/model.h"
#include "qtexecutor.h"

#include <QThread>
#include <QThreadPool>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <unistd.h>

namespace qs::cli {
namespace {

using namespace qs::alloc;

Plan basePlan(const Args& args)
{
    const auto path = args.option("plan");
    if (!path) return {};
    std::ifstream in(*path, std::ios::binary);
    if (!in) throw Error(*path + ": cannot read the plan file");
    std::stringstream ss;
    ss << in.rdbuf();
    return Plan::fromJson(ss.str(), *path);
}

std::uint64_t budgetOf(const Args& args, std::int64_t params)
{
    const auto bpw = args.option("target-bpw");
    const auto bytes = args.option("target-bytes");
    if (bpw.has_value() == bytes.has_value())
        throw UsageError("allocate needs either --target-bpw or --target-bytes");
    if (bytes) {
        std::uint64_t v = 0;
        const auto [p, ec] = std::from_chars(bytes->data(), bytes->data() + bytes->size(), v);
        if (ec != std::errc() || p != bytes->data() + bytes->size())
            throw UsageError("--target-bytes needs a whole number of bytes, not '" + *bytes + "'");
        return v;
    }
    char* end = nullptr;
    const double v = std::strtod(bpw->c_str(), &end);
    if (bpw->empty() || *end != '\0' || !(v >= 0.0) || !(v < 1e6))
        throw UsageError("--target-bpw needs a number of bits per weight, not '" + *bpw + "'");
    return budgetFromBpw(v, static_cast<std::uint64_t>(params));
}

Json optional(const std::optional<double>& v)
{
    return v ? number(*v) : Json(nullptr);
}

Json resultJson(const Model& model, const CandidateTable& table, const Allocation& a,
                const std::vector<Item>& items, bool withFrontier)
{
    Json tensors = Json::array(), candidates = Json::array();
    for (const auto& c : a.tensors) {
        const auto& e = table.tensors[c.entry];
        const std::string& name = model.tensors[e.tensor].name;
        tensors.push_back({{"tensor", name},
                           {"format", c.format},
                           {"role", roleName(e.role)},
                           {"bytes", c.bytes},
                           {"distortion", number(c.distortion)},
                           {"marginal", {{"up", optional(c.marginal.up)},
                                         {"down", optional(c.marginal.down)},
                                         {"price", number(a.solution.lambda)}}},
                           {"sensitivity", number(c.marginal.sensitivity)},
                           {"sensitivity_ratio", optional(c.marginal.ratio)},
                           {"explanation", c.explanation}});
        for (const auto& o : e.options)
            candidates.push_back({{"tensor", name},
                                  {"format", optionLabel(table, e, o)},
                                  {"bytes", o.bytes},
                                  {"distortion", number(o.distortion)}});
    }
    Json j = {{"plan", Json::parse(a.plan.toJson())},
              {"predicted", {{"bytes", a.solution.bytes}, {"distortion", number(a.solution.distortion)}}},
              {"budget", a.budget},
              {"params", table.params},
              {"measure", table.measure},
              {"exact", a.solution.exact},
              {"gap", number(a.solution.gap)},
              {"lower_bound", number(a.solution.lowerBound)},
              {"price", number(a.solution.lambda)},
              {"tensors", tensors},
              {"candidates", candidates}};
    if (withFrontier) {
        Json f = Json::array();
        for (const auto& p : frontier(items))
            f.push_back({{"bytes", p.bytes}, {"distortion", number(p.distortion)}});
        j["frontier"] = f;
    }
    return j;
}

void printTable(const Model& model, const CandidateTable& table, const Allocation& a,
                const std::vector<Item>& items, bool withFrontier)
{
    int nameW = 6;
    for (const auto& e : table.tensors)
        nameW = std::max(nameW, static_cast<int>(model.tensors[e.tensor].name.size()));
    std::printf("%-*s %-14s %-12s %12s %12s  %s\n", nameW, "tensor", "format", "role", "bytes",
                "distortion", "why");
    for (const auto& c : a.tensors) {
        const auto& e = table.tensors[c.entry];
        std::printf("%-*s %-14s %-12s %12llu %12.4g  %s\n", nameW,
                    model.tensors[e.tensor].name.c_str(), c.format.c_str(), roleName(e.role),
                    static_cast<unsigned long long>(c.bytes), c.distortion, c.explanation.c_str());
    }
    const auto& s = a.solution;
    std::string quality = "optimal";
    if (!s.exact) {
        quality = "within ";
        quality += std::to_string(s.gap * 100.0);
        quality += "% of optimal";
    }
    std::printf("total: %s of a %s budget (%.4f bits per weight over %lld weights), distortion "
                "%.6g (%s), measure %s\n",
                humanBytes(static_cast<double>(s.bytes)).c_str(),
                humanBytes(static_cast<double>(a.budget)).c_str(),
                table.params ? 8.0 * static_cast<double>(s.bytes) / static_cast<double>(table.params)
                             : 0.0,
                static_cast<long long>(table.params), s.distortion,
                quality.c_str(),
                table.measure.c_str());
    if (withFrontier) {
        std::printf("frontier (bytes, distortion):\n");
        for (const auto& p : frontier(items))
            std::printf("  %llu %.6g\n", static_cast<unsigned long long>(p.bytes), p.distortion);
    }
}

} // namespace

int cmdAllocate(const std::vector<std::string>& argv)
{
    const Args args(argv, {"json", "frontier"},
                    {"candidates", "target-bpw", "target-bytes", "measure", "lock", "plan", "out",
                     "threads", "dataset"});
    if (args.positionals().size() != 1) throw UsageError("allocate needs exactly one MODEL path");
    if (args.option("target-bpw").has_value() == args.option("target-bytes").has_value())
        throw UsageError("allocate needs either --target-bpw or --target-bytes");
    std::vector<Candidate> candidates;
    try {
        candidates = parseCandidates(args.option("candidates").value_or(kDefaultCandidates));
    } catch (const Error& e) {
        throw UsageError(std::string("--candidates: ") + e.what());
    }
    Plan plan = basePlan(args);
    std::optional<std::regex> lock;
    if (const auto re = args.option("lock")) {
        try {
            lock.emplace(*re, std::regex::ECMAScript);
        } catch (const std::regex_error&) {
            throw UsageError("--lock needs a valid regular expression, not '" + *re + "'");
        }
    }
    Measure measure = parseMeasure(args.option("measure").value_or("mse"));
    if (const auto dataset = args.option("dataset")) {
        if (measure.runtime == Measure::Runtime::None)
            throw UsageError("--dataset only applies to the act and output measures");
        measure.dataset = *dataset;
    }
    const int threads = args.intOption("threads", QThread::idealThreadCount(), 1, 1024);
    const auto model = openModel(args.positionals().front());
    if (lock)
        for (const auto& t : model->tensors)
            if (std::regex_search(t.name, *lock)) plan.locked.insert(t.name);

    QThreadPool pool;
    pool.setMaxThreadCount(threads);
    const QtExecutor executor(&pool);
    Control control;
    control.executor = &executor;
    CandidateProgress progress;
    const bool showProgress = !args.flag("json") && isatty(2);
    std::mutex printing;
    if (showProgress)
        progress.evaluated = [&](std::size_t done, std::size_t total) {
            const std::lock_guard g(printing);
            std::fprintf(stderr, "\rcandidates %zu/%zu", done, total);
        };
    const CandidateTable table = computeCandidates(*model, plan, candidates, measure, control, progress);
    if (showProgress) std::fprintf(stderr, "\r%40s\r", "");

    const std::uint64_t budget = budgetOf(args, table.params);
    const Allocation a = allocate(*model, table, plan, budget);
    if (const auto out = args.option("out")) {
        std::ofstream f(*out, std::ios::binary);
        f << a.plan.toJson() << '\n';
        if (!f) throw Error(*out + ": cannot write the plan");
    }
    const auto items = toItems(table);
    if (args.flag("json"))
        printJson(resultJson(*model, table, a, items, args.flag("frontier")));
    else
        printTable(*model, table, a, items, args.flag("frontier"));
    return Ok;
}

} // namespace qs::cli
