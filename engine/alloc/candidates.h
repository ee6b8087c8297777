// For each tensor and candidate format: the exact stored bytes and the distortion it would cause.
#pragma once

#include "alloc/cost_record.h"
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

inline constexpr std::int64_t kDefaultCalibrationImages = 512;

// How the error of a quantized tensor is summed: plain squared error (mse); weighted by each
// input column's importance, from an imatrix file (imatrix:FILE) or from the activations the
// runtime sees on calibration images (act[:N]); or the change of a runnable model's logits when
// only that tensor is quantized (output[:N]). The last two need a model the runtime can run
// (notRunnableReason() is empty) and run N training images of `dataset`.
struct Measure
{
    enum class Runtime { None, Activations, Output };

    std::shared_ptr<const Imatrix> imatrix; // imatrix:FILE; null otherwise
    Runtime runtime = Runtime::None;
    std::int64_t images = kDefaultCalibrationImages; // act and output: calibration images
    std::string dataset = "fashion-mnist";           // see data::resolveDatasetDirectory
    std::string imatrixFingerprint;                  // parseMeasure's, of the imatrix file

    std::string name() const; // "mse", "imatrix:FILE", "act:N" or "output:N"
    // The name with what else decides the costs (the imatrix file's content, the dataset):
    // equal keys mean equal costs for the same model, plan and candidates.
    std::string key() const;
};
// "mse", "imatrix:FILE", "act", "act:N", "output", "output:N"; throws qs::Error.
Measure parseMeasure(std::string_view text);

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
    std::size_t reused = 0; // options taken from a stored record instead of being computed
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
// Pairs that `stored` (costs saved with a session for the same request) holds with the same
// bytes are taken from it instead; when it holds them all, nothing is quantized or run.
// act and output load the model with the runtime and the calibration images first, unless
// every pair comes from `stored`; output's pairs each run the images through the model.
CandidateTable computeCandidates(const Model& model, const Plan& plan,
                                 const std::vector<Candidate>& candidates, const Measure& measure,
                                 const Control& control, const CandidateProgress& progress = {},
                                 const CostTableRecord* stored = nullptr);

} // namespace qs::alloc
