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
           [--save-session S.qscope]
      Quantize every tensor the plan selects and report size and error metrics.
      G is tensor (default), channel or group:N. Integer formats only: C is minmax (default),
      percentile:P, mse or hqq; R is nearest (default) or stochastic, seeded by S.
  report (S.qscope [--plan NAME] | MODEL (--format F ... | --plan PLAN.json) [--threads N])
         [--html F] [--csv F] [--llama-tensor-types F] [--ort-overrides F] [--plan-json F]
      Write reports of a saved session (its stored results) or of a model under a plan.
  formats [--json]
      List the number formats.
  bench [--threads N] [--json] [--shape RxC] [--repeats K] [--formats a,b] [--calibration C]
        [--cold]
      Measure quantize, dequantize and analysis throughput against memory-read speed (and,
      with N > 1, the speed-up over one thread). --cold: every quantize gets fresh memory.
  bench --model MODEL [--threads N] [--json]
      Measure how fast MODEL's tensor data streams through the reader (decoded to float32).
  train --dataset fashion-mnist|DIR --out MODEL.h5 [--arch cnn|mlp] [--epochs N] [--seed S]
        [--threads N] [--batch-size B] [--learning-rate LR] [--no-flip] [--json]
      Train a classifier on IDX images (Fashion-MNIST, or a directory of the four IDX files)
      and save it as a Keras 2 HDF5 model; progress on stderr, test accuracy per epoch.
  evaluate MODEL.h5 [--dataset fashion-mnist|DIR] [--plan PLAN.json]
           [--activations none|dynamic|static] [--calibration-samples N]
           [--calibration-method minmax|percentile[:P]|entropy] [--int8-kernels] [--limit N]
           [--threads N] [--json]
      Test accuracy of a Keras classifier with the plan's weights dequantized and int8
      activations, against the float model: agreement, KL and each layer's output SQNR.
      --int8-kernels (with --activations static) also runs int8 x int8 -> int32 Dense and
      Conv2D kernels: their accuracy and latency.
  qat MODEL.h5 --plan PLAN.json --out OUT.h5 [--epochs N] [--dataset fashion-mnist|DIR]
      [--seed S] [--learning-rate LR] [--no-flip] [--limit N] [--train-limit N] [--threads N]
      [--json]
      Fine-tune with the plan's weights fake-quantized (straight-through gradients), save the
      float weights, and report the quantized accuracy before and after.
  explain VALUE [--range LO,HI] [--json]
      Show VALUE as fp32, fp16, bf16, fp8, fp4 and 8/4-bit integers store it: bits, code,
      decoded value, error. Integers use the range LO,HI (default -1,1; LO = -HI: symmetric
      int8/int4, otherwise affine uint8/uint4).
  size --params N [--json]
      Weight bytes of an N-parameter model in every format (N like 7B, 1.5M, 30e9), and which
      common GPU and RAM sizes hold them.
  allocate MODEL (--target-bpw X | --target-bytes N) [--candidates a,b@G,...]
           [--measure mse|imatrix:FILE|act[:N]|output[:N]] [--dataset DIR] [--lock REGEX]
           [--plan BASE.json] [--out PLAN.json] [--frontier] [--threads N] [--json]
      Choose a format per tensor for the least total error within the budget (bits per weight
      or bytes over the tensors a plan quantizes); candidates default to
      q2_K,q3_K,q4_K,q5_K,q6_K,q8_0. Writes the choice as a plan with --out.
      Measures: mse, squared weight error; imatrix:FILE, weighted by a llama.cpp importance
      matrix; act[:N], weighted by the mean squared inputs the runtime sees on N training
      images (default 512, fashion-mnist unless --dataset); output[:N], mean squared change of
      the logits on N images with only that tensor quantized. act and output need a Keras
      classifier the runtime can run; output's total is an additive approximation (the sum of
      one-tensor-at-a-time changes, interactions between tensors ignored).

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
        if (cmd == "train") return qs::cli::cmdTrain(args);
        if (cmd == "evaluate") return qs::cli::cmdEvaluate(args);
        if (cmd == "qat") return qs::cli::cmdQat(args);
        if (cmd == "report") return qs::cli::cmdReport(args);
        if (cmd == "explain") return qs::cli::cmdExplain(args);
        if (cmd == "size") return qs::cli::cmdSize(args);
        if (cmd == "allocate") return qs::cli::cmdAllocate(args);
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
