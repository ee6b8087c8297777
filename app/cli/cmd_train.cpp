// `train`: train a classifier on an IDX image dataset and save it as a Keras 2 HDF5 model.
#include "cli.h"
#include "core/error.h"
#include "data/idx.h"
#include "nn/architectures.h"
#include "nn/keras_model.h"
#include "nn/train.h"
#include "qtexecutor.h"

#include <QThread>
#include <QThreadPool>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <unistd.h>

namespace qs::cli {
namespace {

std::uint64_t unsignedOption(const Args& args, const std::string& name, std::uint64_t fallback)
{
    const auto s = args.option(name);
    if (!s) return fallback;
    std::uint64_t v = 0;
    const auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
    if (ec != std::errc() || p != s->data() + s->size())
        throw UsageError("--" + name + " needs a non-negative integer, not '" + *s + "'");
    return v;
}

float rateOption(const Args& args)
{
    const auto s = args.option("learning-rate");
    if (!s) return 1e-3f;
    try {
        std::size_t used = 0;
        const float v = std::stof(*s, &used);
        if (used == s->size() && v > 0.0f && v < 10.0f) return v;
    } catch (const std::exception&) {
    }
    throw UsageError("--learning-rate needs a number above 0, not '" + *s + "'");
}

// One line on stderr redrawn in place when stderr is a terminal (at most ten times a second);
// otherwise only the per-epoch lines, so logs stay readable.
class ProgressBar
{
public:
    ProgressBar() : m_tty(isatty(STDERR_FILENO) == 1) {}

    void update(const nn::TrainProgress& p)
    {
        if (!m_tty) return;
        const auto now = std::chrono::steady_clock::now();
        if (p.batch != p.batches && now - m_last < std::chrono::milliseconds(100)) return;
        m_last = now;
        constexpr int kWidth = 30;
        const int filled = static_cast<int>(kWidth * p.batch / std::max<std::int64_t>(p.batches, 1));
        std::string bar(static_cast<std::size_t>(filled), '#');
        bar.resize(kWidth, '-');
        std::fprintf(stderr, "\repoch %d/%d [%s] %lld/%lld loss %.4f acc %5.2f%%", p.epoch,
                     p.epochs, bar.c_str(), static_cast<long long>(p.batch),
                     static_cast<long long>(p.batches), p.loss, 100.0 * p.accuracy);
        std::fflush(stderr);
    }

    void epoch(const nn::EpochReport& r, int epochs)
    {
        if (m_tty) std::fputs("\r\033[K", stderr);
        std::fprintf(stderr,
                     "epoch %d/%d: loss %.4f, train accuracy %.2f%%, test accuracy %.2f%%, "
                     "learning rate %.2e, %.1f s\n",
                     r.epoch, epochs, r.loss, 100.0 * r.trainAccuracy, 100.0 * r.testAccuracy,
                     r.learningRate, r.seconds);
    }

private:
    bool m_tty;
    std::chrono::steady_clock::time_point m_last{};
};

} // namespace

int cmdTrain(const std::vector<std::string>& argv)
{
    const Args args(argv, {"json", "no-flip"},
                    {"dataset", "arch", "epochs", "seed", "out", "threads", "batch-size",
                     "learning-rate"});
    if (!args.positionals().empty())
        throw UsageError("train takes no positional arguments ('" + args.positionals().front() + "')");
    const auto dataset = args.option("dataset");
    const auto out = args.option("out");
    if (!dataset) throw UsageError("train needs --dataset fashion-mnist or --dataset DIR");
    if (!out) throw UsageError("train needs --out MODEL.h5");
    const std::string arch = args.option("arch").value_or("cnn");
    if (arch != "cnn" && arch != "mlp") throw UsageError("--arch is cnn or mlp, not '" + arch + "'");
    nn::TrainOptions o;
    o.epochs = args.intOption("epochs", 10, 1, 1000);
    o.batchSize = args.intOption("batch-size", 128, 1, 65536);
    o.learningRate = rateOption(args);
    o.seed = unsignedOption(args, "seed", 0);
    o.flip = !args.flag("no-flip");
    const int threads = args.intOption("threads", QThread::idealThreadCount(), 1, 1024);
    const bool json = args.flag("json");

    const auto wallStart = std::chrono::steady_clock::now();
    const std::clock_t cpuStart = std::clock();
    const data::Dataset data = data::loadDataset(*dataset);
    nn::Sequential model = nn::makeArchitecture(arch, {data.train.height, data.train.width, 1}, 10);
    model.initialize(o.seed);

    QThreadPool pool;
    pool.setMaxThreadCount(threads);
    const QtExecutor executor(&pool);
    o.executor = &executor;
    ProgressBar bar;
    o.progress = [&](const nn::TrainProgress& p) { bar.update(p); };
    o.epochDone = [&](const nn::EpochReport& r) { bar.epoch(r, o.epochs); };
    nn::Adam optimizer;
    const auto reports = nn::train(model, optimizer, data.train, &data.test, o);
    nn::saveKerasModel(model, *out);

    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wallStart).count();
    const double cpu = double(std::clock() - cpuStart) / CLOCKS_PER_SEC;
    const double finalAccuracy = reports.back().testAccuracy;
    if (json) {
        Json epochs = Json::array();
        for (const auto& r : reports)
            epochs.push_back({{"epoch", r.epoch},
                              {"loss", number(r.loss)},
                              {"train_accuracy", number(r.trainAccuracy)},
                              {"test_accuracy", number(r.testAccuracy)},
                              {"learning_rate", number(r.learningRate)},
                              {"seconds", number(r.seconds)}});
        printJson({{"dataset", data.directory},
                   {"arch", arch},
                   {"parameters", model.parameterCount()},
                   {"threads", threads},
                   {"seed", o.seed},
                   {"epochs", epochs},
                   {"test_accuracy", number(finalAccuracy)},
                   {"wall_seconds", number(wall)},
                   {"cpu_seconds", number(cpu)},
                   {"out", *out}});
    } else {
        std::printf("%s: %s, %lld parameters, test accuracy %.2f%% after %d epochs "
                    "(%.0f s wall, %.0f s CPU, %d threads)\n",
                    out->c_str(), arch.c_str(), static_cast<long long>(model.parameterCount()),
                    100.0 * finalAccuracy, o.epochs, wall, cpu, threads);
    }
    return Ok;
}

} // namespace qs::cli
