// Document: taking over the plans, results and allocation costs of a saved session.
#include "document.h"

#include "core/error.h"

#include <QUndoStack>

#include <algorithm>

namespace qs {

void Document::restore(std::shared_ptr<const Model> model, const QString& path,
                       std::vector<RestoredPlan> plans, int active)
{
    if (plans.empty()) throw Error(path.toStdString() + ": the session has no plan");
    for (const auto& p : plans)
        p.plan.compileRules(p.name.toStdString()); // throws before anything changes
    cancel();
    emit modelAboutToChange();
    m_model = std::move(model);
    m_path = path;
    m_cache = QVector<QVector<TensorResultPtr>>(tensorCount());
    m_slots.clear();
    m_costTables.clear();
    for (auto& p : plans) {
        for (auto& t : p.costTables)
            m_costTables.push_back(std::move(t));
        auto slot = std::make_shared<Slot>();
        slot->id = m_nextSlotId++;
        slot->name = p.name;
        slot->plan = std::move(p.plan);
        resetSlotResults(*slot);
        for (int row = 0; row < tensorCount() && row < p.results.size(); ++row)
            // A kept tensor stored without its histogram (the command line skips that pass) is
            // computed again, so that its plots show.
            if (const auto& r = p.results[row];
                r && r->index == row &&
                (r->analysis || !r->error.empty() || !isQuantizable(tensor(row).dtype))) {
                slot->results[row] = r;
                remember(r);
            }
        m_slots.push_back(std::move(slot));
    }
    m_active = std::clamp(active, 0, planCount() - 1);
    m_undo->clear();
    emit modelOpened();
    emit plansChanged();
    emit activePlanChanged(m_active);
    // A session saved before every result was in, or by a program that skips kept tensors.
    for (auto& slot : m_slots) {
        std::vector<int> missing;
        for (int row = 0; row < tensorCount(); ++row)
            if (!slot->results[row]) missing.push_back(row);
        computeRows(*slot, std::move(missing));
    }
}

namespace {
constexpr std::size_t kCostTables = 16; // a few measures and candidate lists per plan
}

void Document::rememberCostTable(alloc::CostTableRecord table)
{
    std::erase_if(m_costTables, [&](const alloc::CostTableRecord& t) {
        return t.sameRequest(table.measure, table.candidates, table.planJson);
    });
    m_costTables.insert(m_costTables.begin(), std::move(table));
    if (m_costTables.size() > kCostTables) m_costTables.resize(kCostTables);
}

const alloc::CostTableRecord* Document::findCostTable(const std::string& measureKey,
                                                      const std::vector<std::string>& candidates,
                                                      const std::string& planJson) const
{
    for (const auto& t : m_costTables)
        if (t.sameRequest(measureKey, candidates, planJson)) return &t;
    return nullptr;
}

} // namespace qs
