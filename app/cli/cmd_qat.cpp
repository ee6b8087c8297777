// `qat`: fine-tune a Keras classifier with its plan-quantized weights fake-quantized, save the
// float weights, and compare its quantized accuracy before and after.
#include "cli.h"
#include "core/error.h"
#include "data/idx.h"
#include "nn/evaluate.h"
#include "nn/keras_model.h"
#include "nn/qat.h"
#include "plan/plan.h"
#include "qtexecutor.h"

#include <QThread>
#include <QThreadPool>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace qs::cli {
namespace {

float rateOption(const Args& args)
{
    const auto s = args.option("learning-rate");
    if (!s) return 1e-4f;
    try {
        std::size_t used = 0;
        const float v = std::stof(*s, &used);
        if (used == s->size() && v > 0.0f && v < 10.0f) return v;
    } catch (const std::exception&) {
    }
    throw UsageError("--learning-rate needs a number above 0, not '" + *s + "'");
}

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

void keepFirst(data::ImageSet& set, int limit)
{
    if (limit <= 0 || limit >= set.count) return;
    set.count = limit;
    set.labels.resize(static_cast<std::size_t>(limit));
    set.images.resize(static_cast<std::size_t>(limit * set.height * set.width));
}

} // namespace

int cmdQat(const std::vector<std::string>& argv)
{
    const Args args(argv, {"json", "no-flip"},
                    {"plan", "epochs", "out", "dataset", "seed", "learning-rate", "threads",
                     "limit", "train-limit"});
    if (args.positionals().size() != 1) throw UsageError("qat needs one MODEL.h5");
    const std::string modelPath = args.positionals().front();
    const auto planPath = args.option("plan");
    const auto out = args.option("out");
    if (!planPath) throw UsageError("qat needs --plan PLAN.json");
    if (!out) throw UsageError("qat needs --out MODEL.h5");
    nn::QatOptions o;
    o.epochs = args.intOption("epochs", 2, 1, 1000);
    o.learningRate = rateOption(args);
    o.seed = seedOption(args);
    o.flip = !args.flag("no-flip");
    const int limit = args.intOption("limit", 0, 0, 1 << 30);
    const int trainLimit = args.intOption("train-limit", 0, 0, 1 << 30);
    const int threads = args.intOption("threads", QThread::idealThreadCount(), 1, 1024);
    const bool json = args.flag("json");

    std::ifstream in(*planPath, std::ios::binary);
    if (!in) throw Error(*planPath + ": cannot read the plan file");
    std::stringstream ss;
    ss << in.rdbuf();
    const Plan plan = Plan::fromJson(ss.str(), *planPath);

    QThreadPool pool;
    pool.setMaxThreadCount(threads);
    const QtExecutor executor(&pool);
    o.executor = &executor;
    data::Dataset data = data::loadDataset(args.option("dataset").value_or("fashion-mnist"));
    keepFirst(data.test, limit);
    keepFirst(data.train, trainLimit);

    const auto start = std::chrono::steady_clock::now();
    nn::EvaluateOptions eo;
    eo.plan = &plan;
    eo.executor = &executor;
    const nn::EvaluateResult before = nn::evaluateModel(modelPath, data.test, data.train, eo);
    if (before.quantizedTensors == 0)
        throw Error(*planPath + ": the plan quantizes none of the weights of " + modelPath);
    nn::Sequential model = nn::loadKerasModel(modelPath);
    o.epochDone = [&](const nn::EpochReport& r) {
        if (!json)
            std::fprintf(stderr, "epoch %d/%d: loss %.4f, train accuracy %.2f%%, %.1f s\n", r.epoch,
                         o.epochs, r.loss, 100.0 * r.trainAccuracy, r.seconds);
    };
    const auto reports = nn::quantAwareTrain(model, modelPath, plan, data.train, o);
    nn::saveKerasModel(model, *out);
    // Measured on the saved file, so `evaluate OUT --plan PLAN` reproduces it.
    const nn::EvaluateResult after = nn::evaluateModel(*out, data.test, data.train, eo);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    if (json) {
        Json epochs = Json::array();
        for (const auto& r : reports)
            epochs.push_back({{"epoch", r.epoch},
                              {"loss", number(r.loss)},
                              {"train_accuracy", number(r.trainAccuracy)},
                              {"learning_rate", number(r.learningRate)},
                              {"seconds", number(r.seconds)}});
        printJson({{"model", modelPath},
                   {"plan", *planPath},
                   {"out", *out},
                   {"images", after.images},
                   {"quantized_tensors", after.quantizedTensors},
                   {"epochs", o.epochs},
                   {"learning_rate", number(o.learningRate)},
                   {"seed", o.seed},
                   {"straight_through", "identity"},
                   {"accuracy_before", number(before.accuracy)},
                   {"accuracy_after", number(after.accuracy)},
                   {"float_accuracy_before", number(before.referenceAccuracy)},
                   {"float_accuracy_after", number(after.referenceAccuracy)},
                   {"epoch_reports", epochs},
                   {"seconds", number(seconds)}});
        return Ok;
    }
    std::printf("%s: quantized accuracy %.2f%% -> %.2f%% after %d epochs (float %.2f%% -> "
                "%.2f%%), %d tensors quantized, %.0f s\n",
                out->c_str(), 100 * before.accuracy, 100 * after.accuracy, o.epochs,
                100 * before.referenceAccuracy, 100 * after.referenceAccuracy,
                after.quantizedTensors, seconds);
    return Ok;
}

} // namespace qs::cli
