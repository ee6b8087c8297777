#include "alloc/cost_record.h"

#include "alloc/allocation.h"

namespace qs::alloc {

std::map<std::pair<std::string, std::string>, const CostRow*> CostTableRecord::index() const
{
    std::map<std::pair<std::string, std::string>, const CostRow*> out;
    for (const CostRow& r : rows)
        out.emplace(std::make_pair(r.tensor, r.format), &r);
    return out;
}

CostTableRecord costRecord(const Model& model, const CandidateTable& table,
                           const std::string& measureKey, const std::string& planJson)
{
    CostTableRecord r;
    r.measure = measureKey;
    for (const Candidate& c : table.candidates)
        r.candidates.push_back(c.label);
    r.planJson = planJson;
    for (const TensorCandidates& e : table.tensors)
        for (const Option& o : e.options)
            r.rows.push_back(
                {model.tensors[e.tensor].name, optionLabel(table, e, o), o.bytes, o.distortion});
    return r;
}

} // namespace qs::alloc
