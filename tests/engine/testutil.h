// Helpers shared by the engine tests: seeded data, raw safetensors bytes, a thread executor.
#pragma once

#include "analysis/executor.h"
#include "core/error.h"
#include "core/tensor.h"
#include "io/model.h"

#include <QString>
#include <QTest>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace qs::test {

inline std::vector<float> normalData(std::size_t n, unsigned seed, float stddev = 0.02f)
{
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, stddev);
    std::vector<float> v(n);
    for (auto& x : v)
        x = normal(rng);
    return v;
}

// A safetensors file from a header text and data bytes, for malformed-input cases.
// Weight-like values: normal(0, 0.02), every 641st value times 25 (an outlier every few
// groups), seeded.
inline std::vector<float> weightLike(std::size_t n, unsigned seed)
{
    auto x = normalData(n, seed);
    for (std::size_t i = 0; i < n; i += 641)
        x[i] *= 25.0f;
    return x;
}

inline std::string rawSafetensors(const std::string& header, const std::string& data)
{
    std::string out(8, '\0');
    const std::uint64_t n = header.size();
    for (int i = 0; i < 8; ++i)
        out[static_cast<std::size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
    return out + header + data;
}

inline std::string readAll(const std::string& path)
{
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// A raw little-endian float32 file (the golden vectors' .f32 files).
inline std::vector<float> readFloats(const std::string& path)
{
    const std::string b = readAll(path);
    std::vector<float> v(b.size() / 4);
    std::memcpy(v.data(), b.data(), v.size() * 4);
    return v;
}

inline void writeFile(const std::string& path, const std::string& bytes)
{
    std::ofstream f(path, std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string floatBytes(const std::vector<float>& v)
{
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

inline std::uint32_t bits(float f)
{
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

// Runs the work on real threads, picking items in whatever order the threads reach them, so
// tests can check that results do not depend on the thread count or the schedule.
class ThreadExecutor : public Executor
{
public:
    explicit ThreadExecutor(int threads) : m_threads(threads) {}
    void parallelFor(std::int64_t n, const std::function<void(std::int64_t)>& fn) const override
    {
        std::atomic<std::int64_t> next{0};
        std::vector<std::thread> pool;
        std::exception_ptr error;
        std::mutex m;
        for (int t = 0; t < m_threads; ++t)
            pool.emplace_back([&] {
                for (std::int64_t i; (i = next++) < n;) {
                    try {
                        fn(i);
                    } catch (...) {
                        std::lock_guard g(m);
                        if (!error) error = std::current_exception();
                    }
                }
            });
        for (auto& th : pool)
            th.join();
        if (error) std::rethrow_exception(error);
    }

private:
    int m_threads;
};

// Opening `path` must fail with a qs::Error whose message starts with the path and says
// `message` somewhere.
inline void expectOpenError(const std::string& path, const QString& message)
{
    try {
        openModel(path);
        QFAIL("no error for a malformed file");
    } catch (const Error& e) {
        const QString what = QString::fromUtf8(e.what());
        QVERIFY2(what.startsWith(QString::fromStdString(path) + QStringLiteral(": ")),
                 qPrintable(what));
        QVERIFY2(what.contains(message), qPrintable(what));
    }
}

inline TensorInfo f32Info(const std::string& name, Shape shape, int channelAxis = 0)
{
    TensorInfo t;
    t.name = name;
    t.shape = std::move(shape);
    t.dtype = DType::F32;
    t.storedType = "F32";
    t.byteSize = static_cast<std::uint64_t>(shapeNumel(t.shape)) * 4;
    t.channelAxis = channelAxis;
    return t;
}

} // namespace qs::test
