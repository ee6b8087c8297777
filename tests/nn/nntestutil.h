// Helpers for the runtime's tests: seeded tensors, fixture paths, error expectations.
#pragma once

#include "../engine/testutil.h"
#include "nn/tensor.h"

#include <QtTest>

#include <random>

namespace qs::test {

inline std::string nnFixture(const std::string& name)
{
    return std::string(QS_TEST_DATA) + "/nn/" + name;
}

// Uniform values in [-1, 1), seeded.
inline nn::Tensor uniformTensor(const Shape& shape, unsigned seed)
{
    nn::Tensor t(shape);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (float& v : t.data)
        v = u(rng);
    return t;
}

// `fn` must throw a qs::Error whose message contains every one of `parts`.
template <typename Fn>
void expectError(Fn fn, std::initializer_list<std::string> parts)
{
    try {
        fn();
        QFAIL("no qs::Error was thrown");
    } catch (const Error& e) {
        const std::string what = e.what();
        for (const auto& p : parts)
            QVERIFY2(what.find(p) != std::string::npos, qPrintable(QString::fromStdString(what)));
    }
}

} // namespace qs::test
