// `bench --model PATH`: how fast a real model file's tensor data streams through the engine's
// reader (decoded to float32, nothing else), against a plain pass over the same mapped bytes.
#include "analysis/executor.h"
#include "analysis/tensor_source.h"
#include "cli.h"
#include "io/model.h"
#include "qtexecutor.h"

#include <QThreadPool>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace qs::cli {
namespace {

double seconds(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

int benchModel(const std::string& path, int threads, bool json)
{
    QThreadPool pool;
    pool.setMaxThreadCount(threads);
    const QtExecutor executor(&pool);
    Control control;
    control.executor = &executor;
    const auto model = openModel(path);
    std::uint64_t stored = 0, values = 0;
    for (const auto& t : model->tensors)
        if (isQuantizable(t.dtype)) {
            stored += t.byteSize;
            values += static_cast<std::uint64_t>(t.numel());
        }
    // Baseline: one thread adds up the mapped bytes of the same tensors, 8 at a time.
    auto t0 = std::chrono::steady_clock::now();
    std::uint64_t sink = 0;
    for (const auto& t : model->tensors) {
        if (!isQuantizable(t.dtype)) continue;
        const auto bytes = model->data(t);
        std::uint64_t acc[4] = {};
        std::size_t i = 0;
        for (; i + 32 <= bytes.size(); i += 32)
            for (int k = 0; k < 4; ++k) {
                std::uint64_t v;
                std::memcpy(&v, bytes.data() + i + 8 * k, 8);
                acc[k] += v;
            }
        sink += acc[0] + acc[1] + acc[2] + acc[3];
    }
    const double baseSec = seconds(t0);

    // The engine's read path: every value decoded to float32 in chunks, in parallel units.
    constexpr std::int64_t kUnit = std::int64_t{1} << 18, kChunk = 2048;
    std::atomic<std::uint64_t> checksum{0};
    t0 = std::chrono::steady_clock::now();
    for (const auto& t : model->tensors) {
        if (!isQuantizable(t.dtype)) continue;
        const TensorSource src(model->data(t), t, -1);
        control.run((src.numel() + kUnit - 1) / kUnit, [&](std::int64_t u) {
            float x[kChunk];
            float s = 0;
            const std::int64_t end = std::min(src.numel(), (u + 1) * kUnit);
            for (std::int64_t j = u * kUnit; j < end; j += kChunk) {
                const std::int64_t n = std::min(kChunk, end - j);
                src.read(0, j, n, x);
                s += x[0] + x[n - 1];
            }
            checksum += static_cast<std::uint64_t>(s != 0);
        });
    }
    const double readSec = seconds(t0);
    const double gb = static_cast<double>(stored) / 1e9;
    if (json) {
        printJson({{"model", path},
                   {"threads", threads},
                   {"stored_bytes", stored},
                   {"values", values},
                   {"read_gbps", number(gb / readSec)},
                   {"baseline_gbps", number(gb / baseSec)},
                   {"read_vs_baseline", number(baseSec / readSec)}});
    } else {
        std::printf("%s: %.2f GB of tensor data (%llu values)\n", path.c_str(), gb,
                    static_cast<unsigned long long>(values));
        std::printf("read and decoded to float32, %d thread(s): %.2f GB/s\n", threads,
                    gb / readSec);
        std::printf("plain pass over the mapped bytes, 1 thread: %.2f GB/s (checksum %llu/%llu)\n",
                    gb / baseSec, static_cast<unsigned long long>(sink % 1000),
                    static_cast<unsigned long long>(checksum.load()));
    }
    return Ok;
}

} // namespace qs::cli
