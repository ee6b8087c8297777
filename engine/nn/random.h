// Seeded randomness for initialisation, shuffling and dropout that is the same on every
// platform and independent of how work is split across threads.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

namespace qs::nn {

// splitmix64's finaliser: a well-mixed 64-bit value from any 64-bit input.
constexpr std::uint64_t mix64(std::uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// A key from several values: dropout masks are keyed by (seed, step, layer, sample), so any
// thread can draw any sample's mask and get the same one.
constexpr std::uint64_t mixKey(std::uint64_t a, std::uint64_t b)
{
    return mix64(a ^ mix64(b));
}

// FNV-1a: a stable hash of a layer name (std::hash differs between standard libraries).
constexpr std::uint64_t nameHash(std::string_view s)
{
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : s)
        h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    return h;
}

class Rng
{
public:
    explicit Rng(std::uint64_t seed) : m_state(seed) {}
    std::uint64_t next() { return mix64(m_state++); }
    // Uniform in [0, 1) with 24 random bits, exactly representable as a float.
    float uniform() { return static_cast<float>(next() >> 40) * 0x1p-24f; }
    // Uniform integer in [0, n) by rejection, free of modulo bias.
    std::uint64_t below(std::uint64_t n)
    {
        const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % n);
        std::uint64_t v;
        do
            v = next();
        while (v >= limit);
        return v % n;
    }

private:
    std::uint64_t m_state;
};

} // namespace qs::nn
