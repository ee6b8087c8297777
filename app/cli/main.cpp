// quantscope-cli: the QuantScope engine from a shell.
#include "cli.h"
#include "core/error.h"

#include <QCoreApplication>

#include <cstdio>
#include <iostream>

namespace {

const char* kUsage = R"(Usage: quantscope-cli COMMAND [OPTIONS]

Commands:
  inspect MODEL [--json]
      List the tensors of a model file (safetensors, GGUF, ONNX, Keras HDF5, NumPy, PyTorch).
  quantize MODEL (--format F [--granularity G] [--calibration C] [--rounding R] [--seed S]
                  | --plan PLAN.json) [--threads N] [--json]
           [--export OUT.gguf|OUT.safetensors|OUT.h5] [--export-dequantized OUT.safetensors]
      Quantize every tensor the plan selects and report size and error metrics.
      G is tensor (default), channel or group:N. Integer formats only: C is minmax (default),
      percentile:P, mse or hqq; R is nearest (default) or stochastic, seeded by S.
  formats [--json]
      List the number formats.
  bench [--threads N] [--json] [--shape RxC] [--repeats K] [--formats a,b] [--calibration C]
      Measure quantize, dequantize and analysis throughput against memory-read speed.
  bench --model MODEL [--threads N] [--json]
      Measure how fast MODEL's tensor data streams through the reader (decoded to float32).

Options:
  --help      Show this help.
  --version   Show the version.

Exit codes: 0 success, 2 usage error, 3 unreadable or invalid input.
)";

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv); // Qt Core: thread pool and concurrency for the engine
    QCoreApplication::setApplicationName(QStringLiteral("quantscope-cli"));
    QCoreApplication::setApplicationVersion(QStringLiteral(QUANTSCOPE_VERSION));
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        std::cerr << kUsage;
        return qs::cli::Usage;
    }
    const std::string cmd = args.front();
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
        std::cout << kUsage;
        return qs::cli::Ok;
    }
    if (cmd == "--version") {
        std::cout << "quantscope-cli " << QUANTSCOPE_VERSION << '\n';
        return qs::cli::Ok;
    }
    args.erase(args.begin());
    for (const auto& a : args)
        if (a == "--help" || a == "-h") {
            std::cout << kUsage;
            return qs::cli::Ok;
        }
    try {
        if (cmd == "inspect") return qs::cli::cmdInspect(args);
        if (cmd == "quantize") return qs::cli::cmdQuantize(args);
        if (cmd == "formats") return qs::cli::cmdFormats(args);
        if (cmd == "bench") return qs::cli::cmdBench(args);
        throw qs::cli::UsageError("unknown command '" + cmd + "'");
    } catch (const qs::cli::UsageError& e) {
        std::cerr << "quantscope-cli: " << e.what() << " (see quantscope-cli --help)\n";
        return qs::cli::Usage;
    } catch (const qs::Error& e) {
        std::cerr << "quantscope-cli: " << e.what() << '\n';
        return qs::cli::BadInput;
    } catch (const std::bad_alloc&) {
        std::cerr << "quantscope-cli: out of memory\n";
        return qs::cli::BadInput;
    } catch (const std::exception& e) {
        std::cerr << "quantscope-cli: " << e.what() << '\n';
        return qs::cli::BadInput;
    }
}
