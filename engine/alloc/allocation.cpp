#include "alloc/allocation.h"

namespace qs::alloc {

std::vector<Item> toItems(const CandidateTable& table)
{
    std::vector<Item> items;
    items.reserve(table.tensors.size());
    for (const auto& e : table.tensors) {
        Item it;
        for (const Option& o : e.options)
            it.choices.push_back({o.bytes, o.distortion});
        if (e.role != Role::Free) it.fixed = 0;
        items.push_back(std::move(it));
    }
    return items;
}

std::string optionLabel(const CandidateTable& table, const TensorCandidates& e, const Option& o)
{
    if (o.candidate >= 0) return table.candidates[static_cast<std::size_t>(o.candidate)].label;
    if (!e.fixedSpec) return "keep";
    std::string s(e.fixedSpec->format->name);
    if (e.fixedSpec->format->takesGranularity()) {
        s += '@';
        s += e.fixedSpec->granularity.toString();
    }
    return s;
}

Allocation allocate(const Model& model, const CandidateTable& table, const Plan& base,
                    std::uint64_t budget, const SolveOptions& options)
{
    const auto items = toItems(table);
    Allocation a;
    a.budget = budget;
    a.solution = solve(items, budget, options);
    const auto marginals = explain(items, a.solution);
    a.plan = base;
    for (std::size_t i = 0; i < table.tensors.size(); ++i) {
        const auto& e = table.tensors[i];
        const Option& o = e.options[a.solution.choice[i]];
        const std::string& name = model.tensors[e.tensor].name;
        if (e.role == Role::Free)
            a.plan.tensors[name] = table.candidates[static_cast<std::size_t>(o.candidate)].precision;
        else if (e.role == Role::NoCandidate)
            a.plan.tensors[name] = Precision{"keep"}; // else the base's default would apply
        TensorChoice c;
        c.entry = i;
        c.format = optionLabel(table, e, o);
        c.bytes = o.bytes;
        c.distortion = o.distortion;
        c.marginal = marginals[i];
        c.explanation = describe(c.marginal, c.format, e.origin);
        a.tensors.push_back(std::move(c));
    }
    return a;
}

} // namespace qs::alloc
