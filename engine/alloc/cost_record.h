// A candidate table's costs in a form that outlives the model object: what a session file
// stores so that reopening it does not compute them again.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace qs {
struct Model;
}

namespace qs::alloc {

struct CandidateTable;

struct CostRow
{
    std::string tensor; // the model's tensor name
    std::string format; // optionLabel(): the candidate's label, or a fixed tensor's precision
    std::uint64_t bytes = 0;
    double distortion = 0.0;
};

struct CostTableRecord
{
    std::string measure;                 // Measure::key(): the measure and its parameters
    std::vector<std::string> candidates; // the candidate labels, in order
    std::string planJson;                // the base plan the costs were computed under
    std::vector<CostRow> rows;           // one per (table entry, option)

    // Whether these costs were computed for the same measure, candidates and base plan.
    bool sameRequest(const std::string& measureKey, const std::vector<std::string>& labels,
                     const std::string& basePlanJson) const
    {
        return measure == measureKey && candidates == labels && planJson == basePlanJson;
    }
    // (tensor, format) -> row, for reuse.
    std::map<std::pair<std::string, std::string>, const CostRow*> index() const;
};

CostTableRecord costRecord(const Model& model, const CandidateTable& table,
                           const std::string& measureKey, const std::string& planJson);

} // namespace qs::alloc
