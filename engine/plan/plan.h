// The quantization plan: a default, ordered regex rules and per-tensor entries (JSON).
#pragma once

#include "analysis/tensor_quantizer.h"
#include "core/tensor.h"

#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace qs {

// A format by name ("keep" leaves the tensor as stored) and, optionally, a granularity.
// Calibration and rounding apply to the integer formats only.
struct Precision
{
    Precision() = default;
    Precision(std::string f, std::optional<Granularity> g = std::nullopt,
              std::optional<Calibration> c = std::nullopt, std::optional<Rounding> r = std::nullopt)
        : format(std::move(f)), granularity(g), calibration(c), rounding(r)
    {
    }

    std::string format;
    std::optional<Granularity> granularity;
    std::optional<Calibration> calibration;
    std::optional<Rounding> rounding;
    bool operator==(const Precision& o) const = default;
};

struct PlanRule
{
    std::string match; // unanchored ECMAScript regex search in the tensor name
    Precision precision;
    bool operator==(const PlanRule&) const = default;
};

class Plan
{
public:
    std::optional<Precision> defaultPrecision;
    std::vector<PlanRule> rules;
    std::map<std::string, Precision> tensors;
    std::uint64_t seed = 0; // stochastic rounding
    // Tensors automatic allocation must leave at the precision this plan gives them.
    std::set<std::string> locked;

    // `--format F --granularity G` on the command line.
    static Plan uniform(const std::string& format, const Granularity& granularity);
    static Plan uniform(const Precision& precision);
    // Throws qs::Error naming `source` (a file name) and the problem.
    static Plan fromJson(const std::string& text, const std::string& source);
    std::string toJson() const;

    // The spec a tensor is quantized with, or nullopt when it keeps its stored precision.
    // Entry beats first matching rule beats default; the default only applies to floating-point
    // tensors with two or more dimensions.
    std::optional<QuantSpec> resolve(const TensorInfo& t) const;
    // The precision that applies, and where it came from ("tensor", "rule N", "default", "").
    std::optional<Precision> precisionFor(const TensorInfo& t, std::string* origin = nullptr) const;

    // Compiles the rules' expressions; throws qs::Error naming `source` and the bad rule.
    // Callers that edit `rules` call this before sharing the plan across threads.
    void compileRules(const std::string& source = "plan") const;

private:
    mutable std::vector<std::regex> m_compiled;
    mutable std::vector<std::string> m_compiledFrom;
};

} // namespace qs
