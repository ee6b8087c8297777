// From a candidate table and a byte budget to a quantization plan, with the reasons per tensor.
#pragma once

#include "alloc/candidates.h"
#include "alloc/explain.h"
#include "alloc/mckp.h"

#include <string>
#include <vector>

namespace qs::alloc {

// One knapsack item per table entry (fixed entries have their one option fixed).
std::vector<Item> toItems(const CandidateTable& table);

struct TensorChoice
{
    std::size_t entry = 0; // index into CandidateTable::tensors
    std::string format;    // the candidate's label, or the fixed precision ("keep" when kept)
    std::uint64_t bytes = 0;
    double distortion = 0.0;
    Marginal marginal;
    std::string explanation; // describe()'s line
};

struct Allocation
{
    Solution solution;
    Plan plan;
    std::vector<TensorChoice> tensors; // one per table entry
    std::uint64_t budget = 0;
};

// Solves for the least distortion within `budget` bytes over the table's tensors (fixed ones
// count against it) and writes the result as a plan: `base` with a per-tensor entry for every
// free tensor (its chosen candidate, "keep" for tensors without one); the base's default, rules,
// entries, seed and locked set are kept, so pinned and locked tensors resolve as before.
Allocation allocate(const Model& model, const CandidateTable& table, const Plan& base,
                    std::uint64_t budget, const SolveOptions& options = {});

// The label of a table entry's option ("q4_K", "int4@group:128", or for fixed entries the
// plan's format, "keep" when the tensor stays as stored).
std::string optionLabel(const CandidateTable& table, const TensorCandidates& e, const Option& o);

} // namespace qs::alloc
