// `evaluate`: a Keras classifier's accuracy with its weights quantized by a plan and its
// activations optionally quantized to int8, against the float model.
#include "cli.h"
#include "core/error.h"
#include "data/idx.h"
#include "nn/evaluate.h"
#include "plan/plan.h"
#include "qtexecutor.h"

#include <QThread>
#include <QThreadPool>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace qs::cli {
namespace {

nn::ActivationMode activationMode(const Args& args)
{
    const std::string a = args.option("activations").value_or("none");
    if (a == "none") return nn::ActivationMode::None;
    if (a == "dynamic") return nn::ActivationMode::Dynamic;
    if (a == "static") return nn::ActivationMode::Static;
    throw UsageError("--activations is none, dynamic or static, not '" + a + "'");
}

// "minmax", "entropy", "percentile" (99.99) or "percentile:P".
void calibrationMethod(const Args& args, nn::EvaluateOptions& o)
{
    const std::string m = args.option("calibration-method").value_or("minmax");
    if (m == "minmax") {
        o.calibration = nn::CalibrationMethod::MinMax;
    } else if (m == "entropy") {
        o.calibration = nn::CalibrationMethod::Entropy;
    } else if (m.rfind("percentile", 0) == 0) {
        o.calibration = nn::CalibrationMethod::Percentile;
        if (m.size() > 10) {
            std::size_t used = 0;
            double p = 0;
            try {
                p = std::stod(m.substr(11), &used);
            } catch (const std::exception&) {
            }
            if (m[10] != ':' || used != m.size() - 11 || !(p > 50 && p <= 100))
                throw UsageError("bad calibration method '" + m + "' (percentile:P, 50 < P <= 100)");
            o.percentile = p;
        }
    } else {
        throw UsageError("--calibration-method is minmax, percentile[:P] or entropy, not '" + m + "'");
    }
}

} // namespace

int cmdEvaluate(const std::vector<std::string>& argv)
{
    const Args args(argv, {"json", "int8-kernels"},
                    {"dataset", "plan", "activations", "calibration-samples", "calibration-method",
                     "threads", "limit"});
    if (args.positionals().size() != 1) throw UsageError("evaluate needs one MODEL.h5");
    const std::string modelPath = args.positionals().front();
    nn::EvaluateOptions o;
    o.activations = activationMode(args);
    calibrationMethod(args, o);
    o.int8Kernels = args.flag("int8-kernels");
    if (o.int8Kernels && o.activations != nn::ActivationMode::Static)
        throw UsageError("--int8-kernels needs --activations static");
    o.calibrationSamples = args.intOption("calibration-samples", 512, 1, 1 << 24);
    const int limit = args.intOption("limit", 0, 0, 1 << 30);
    std::optional<Plan> plan;
    if (const auto planPath = args.option("plan")) {
        std::ifstream in(*planPath, std::ios::binary);
        if (!in) throw Error(*planPath + ": cannot read the plan file");
        std::stringstream ss;
        ss << in.rdbuf();
        plan = Plan::fromJson(ss.str(), *planPath);
        o.plan = &*plan;
    }
    const int threads = args.intOption("threads", QThread::idealThreadCount(), 1, 1024);
    QThreadPool pool;
    pool.setMaxThreadCount(threads);
    const QtExecutor executor(&pool);
    o.executor = &executor;

    data::Dataset data = data::loadDataset(args.option("dataset").value_or("fashion-mnist"));
    if (limit > 0 && limit < data.test.count) {
        data.test.count = limit;
        data.test.labels.resize(static_cast<std::size_t>(limit));
        data.test.images.resize(static_cast<std::size_t>(limit * data.test.height * data.test.width));
    }
    const nn::EvaluateResult r = nn::evaluateModel(modelPath, data.test, data.train, o);

    if (args.flag("json")) {
        Json layers = Json::array();
        for (const auto& l : r.layers)
            layers.push_back({{"name", l.name}, {"output_sqnr_db", number(l.outputSqnrDb)}});
        Json j{{"model", modelPath},
               {"images", r.images},
               {"quantized_tensors", r.quantizedTensors},
               {"accuracy", number(r.accuracy)},
               {"reference_accuracy", number(r.referenceAccuracy)},
               {"agreement", number(r.agreement)},
               {"kl", number(r.kl)},
               {"layers", layers},
               {"latency_ms_per_image", number(r.latencyMsPerImage)},
               {"fp32_latency_ms_per_image", number(r.floatLatencyMsPerImage)},
               {"threads", threads}};
        if (o.int8Kernels) {
            j["int8_accuracy"] = number(r.int8Accuracy);
            j["int8_agreement"] = number(r.int8Agreement);
            j["int8_latency_ms_per_image"] = number(r.int8LatencyMsPerImage);
        }
        printJson(j);
        return Ok;
    }
    std::printf("%s: %lld test images, %d tensors quantized\n", modelPath.c_str(),
                static_cast<long long>(r.images), r.quantizedTensors);
    std::printf("accuracy %.2f%% (float %.2f%%), agreement %.2f%%, KL %.5f nats, %.3f ms/image\n",
                100 * r.accuracy, 100 * r.referenceAccuracy, 100 * r.agreement, r.kl,
                r.latencyMsPerImage);
    std::printf("float model %.3f ms/image\n", r.floatLatencyMsPerImage);
    if (o.int8Kernels)
        std::printf("int8 kernels: accuracy %.2f%%, agreement with fake quantization %.2f%%, "
                    "%.3f ms/image\n",
                    100 * r.int8Accuracy, 100 * r.int8Agreement, r.int8LatencyMsPerImage);
    for (const auto& l : r.layers)
        std::printf("  %-24s output SQNR %8.2f dB\n", l.name.c_str(), l.outputSqnrDb);
    return Ok;
}

} // namespace qs::cli
