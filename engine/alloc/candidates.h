// For each tensor and candidate format: the exact stored bytes and the distortion it would cause.
#pragma once

#include "alloc/imatrix.h"
#include "analysis/executor.h"
#include "io/model.h"
#include "plan/plan.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qs::alloc {

// A candidate as typed ("q4_K", "int4@group:128", "keep") and the precision it stands for.
struct Candidate
{
    std::string label;
    Precision precision;
};

inline constexpr const char* kDefaultCandidates = "q2_K,q3_K,q4_K,q5_K,q6_K,q8_0";

// "a,b@granularity,..."; throws qs::Error on an unknown format, a bad granularity, a
// granularity given to a format that does not take one, an empty item or a repeated one.
std::vector<Candidate> parseCandidates(std::string_view list);

// How the error of a quantized tensor is summed: plain squared error (mse), or weighted by
// each input column's importance (imatrix:FILE).
struct Measure
{
    std::shared_ptr<const Imatrix> imatrix; // null: mse
    std::string name() const;               // "mse" or "imatrix:FILE"
};
Measure parseMeasure(std::string_view text); // throws qs::Error

enum class Role {
    Free,        // the allocation chooses among its candidates
    Pinned,      // the plan names its precision (a per-tensor entry or a rule)
    Locked,      // in the plan's locked set
    NoCandidate, // no candidate format can take it: kept as stored
};
const char* roleName(Role r); // "free", "pinned", "locked", "no candidate"

struct Option
{
    int candidate = -1; // index into CandidateTable::candidates; -1: the tensor's fixed precision
    std::uint64_t bytes = 0;
    double distortion = 0.0;
};

struct TensorCandidates
{
    std::size_t tensor = 0; // index into Model::tensors
    Role role = Role::Free;
    std::string origin;                 // fixed tensors: "tensor", "rule N", "locked", ...
    std::optional<QuantSpec> fixedSpec; // fixed tensors: what the plan resolves (null: kept)
    std::vector<Option> options;        // free: one per candidate the tensor takes; else one
};

struct CandidateTable
{
    std::vector<Candidate> candidates;
    // The tensors the budget covers, in model order: floating-point tensors with two or more
    // dimensions (the ones a plan's default quantizes), plus any floating-point tensor the plan
    // names through an entry or a rule. Exactly Plan::resolve's notion of what a plan may
    // quantize; 1-D tensors nobody names stay as stored and outside the budget.
    std::vector<TensorCandidates> tensors;
    std::int64_t params = 0; // of those tensors
    std::string measure;
};

struct CandidateProgress
{
    std::function<void(std::size_t done, std::size_t total)> evaluated; // may be concurrent
};

// Every (tensor, candidate) pair quantized once, in parallel over pairs with `control`'s
// executor; each pair alone is computed serially, so results never depend on the threads.
// Distortion is ErrorSums::sumE2 of analyzeTensor (mse; NaN and Inf weights left out) or the
// importance-weighted sum over the same finite values. Throws qs::Error when a pinned or
// locked precision cannot take its tensor (as quantizing with the plan would).
CandidateTable computeCandidates(const Model& model, const Plan& plan,
                                 const std::vector<Candidate>& candidates, const Measure& measure,
                                 const Control& control, const CandidateProgress& progress = {});

} // namespace qs::alloc
