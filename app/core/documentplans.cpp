// Document: the named plans and the edits of the active one, all through the undo stack.
#include "document.h"
#include "plancommands.h"

#include <QUndoStack>

namespace qs {

int Document::indexOf(quint64 slotId) const
{
    for (std::size_t i = 0; i < m_slots.size(); ++i)
        if (m_slots[i]->id == slotId) return static_cast<int>(i);
    return -1;
}

void Document::setActivePlan(int plan)
{
    if (plan < 0 || plan >= planCount() || plan == m_active) return;
    m_active = plan;
    emit activePlanChanged(plan);
    for (int row = 0; row < tensorCount(); ++row) {
        emit precisionChanged(row);
        emit resultChanged(row);
    }
}

QString Document::nextPlanName() const
{
    // A, B, … Z, then A2, B2, …: short names that fit a tab and a chart legend.
    for (int round = 1;; ++round)
        for (char c = 'A'; c <= 'Z'; ++c) {
            QString name(QChar::fromLatin1(c));
            if (round > 1) name += QString::number(round);
            bool used = false;
            for (const auto& s : m_slots)
                used = used || s->name == name;
            if (!used) return name;
        }
}

int Document::addPlan(const QString& name, const Plan& plan)
{
    plan.compileRules(name.toStdString());
    auto slot = std::make_shared<Slot>();
    slot->id = m_nextSlotId++;
    slot->name = name.isEmpty() ? nextPlanName() : name;
    slot->plan = plan;
    resetSlotResults(*slot);
    const int index = planCount();
    m_undo->push(new PlanListCommand(this, PlanListCommand::Kind::Add, index, slot,
                                     tr("Add plan %1").arg(slot->name)));
    return index;
}

void Document::duplicateActivePlan()
{
    addPlan(nextPlanName(), plan());
}

void Document::removePlan(int plan)
{
    if (plan < 0 || plan >= planCount() || planCount() == 1) return;
    m_undo->push(new PlanListCommand(this, PlanListCommand::Kind::Remove, plan,
                                     m_slots[static_cast<std::size_t>(plan)],
                                     tr("Remove plan %1").arg(planName(plan))));
}

void Document::renamePlan(int plan, const QString& name)
{
    if (plan < 0 || plan >= planCount() || name.isEmpty() || name == planName(plan)) return;
    auto* cmd = new PlanListCommand(this, PlanListCommand::Kind::Rename, plan,
                                    m_slots[static_cast<std::size_t>(plan)],
                                    tr("Rename plan %1 to %2").arg(planName(plan), name));
    cmd->setNames(planName(plan), name);
    m_undo->push(cmd);
}

void Document::insertSlot(int index, SlotPtr slot)
{
    if (slot->results.size() != tensorCount()) resetSlotResults(*slot);
    m_slots.insert(m_slots.begin() + index, slot);
    if (index <= m_active && planCount() > 1) ++m_active; // the active plan moved down one
    emit plansChanged();
    // Results missing for this model (a plan made before it was opened) are computed now.
    std::vector<int> missing;
    for (int row = 0; row < tensorCount(); ++row)
        if (!slot->results[row]) missing.push_back(row);
    computeRows(*slot, std::move(missing));
}

Document::SlotPtr Document::takeSlot(int index)
{
    SlotPtr slot = m_slots[static_cast<std::size_t>(index)];
    const bool wasActive = index == m_active;
    m_slots.erase(m_slots.begin() + index);
    if (m_active > index || m_active >= planCount()) --m_active;
    emit plansChanged();
    if (wasActive) {
        emit activePlanChanged(m_active);
        for (int row = 0; row < tensorCount(); ++row) {
            emit precisionChanged(row);
            emit resultChanged(row);
        }
    }
    return slot;
}

std::optional<Precision> Document::precision(int row) const
{
    if (!m_model || !isQuantizable(tensor(row).dtype)) return std::nullopt;
    const Plan& p0 = plan();
    auto p = p0.precisionFor(tensor(row));
    if (p && p->format == "keep") return std::nullopt;
    if (p && !p->granularity)
        p->granularity = p0.defaultPrecision ? p0.defaultPrecision->granularity : std::nullopt;
    return p;
}

bool Document::isLocked(int row) const
{
    return m_model && plan().locked.count(tensor(row).name) > 0;
}

void Document::pushEdit(const Plan& after, const QString& text)
{
    m_undo->push(new PlanEditCommand(this, active().id, plan(), after, text));
}

void Document::setPrecision(int row, const Precision& precision)
{
    setPrecision(QVector<int>{row}, precision);
}

void Document::setPrecision(const QVector<int>& rows, const Precision& precision)
{
    if (!m_model) return;
    Plan after = plan();
    int n = 0;
    for (int row : rows)
        if (row >= 0 && row < tensorCount()) {
            after.tensors[tensor(row).name] = precision;
            ++n;
        }
    if (n == 0) return;
    const QString what = QString::fromStdString(precision.format);
    pushEdit(after, n == 1 ? tr("Set %1 to %2").arg(QString::fromStdString(
                                                         tensor(rows.constFirst()).name),
                                                     what)
                           : tr("Set %n layers to %1", nullptr, n).arg(what));
}

void Document::setDefaultPrecision(const Precision& precision)
{
    Plan after = plan();
    after.defaultPrecision = precision;
    after.tensors.clear();
    pushEdit(after, tr("Set the default to %1").arg(QString::fromStdString(precision.format)));
}

void Document::setPlan(const Plan& plan, const QString& description)
{
    plan.compileRules(); // throws before anything changes when a rule is bad
    pushEdit(plan, description.isEmpty() ? tr("Replace the plan") : description);
}

void Document::setRules(const std::vector<PlanRule>& rules)
{
    Plan after = plan();
    after.rules = rules;
    after.compileRules("rules");
    pushEdit(after, tr("Edit the rules"));
}

void Document::setLocked(const QVector<int>& rows, bool locked)
{
    if (!m_model) return;
    Plan after = plan();
    for (int row : rows)
        if (row >= 0 && row < tensorCount()) {
            if (locked)
                after.locked.insert(tensor(row).name);
            else
                after.locked.erase(tensor(row).name);
        }
    if (after.locked == plan().locked) return;
    pushEdit(after, locked ? tr("Lock %n layers", nullptr, int(rows.size()))
                           : tr("Unlock %n layers", nullptr, int(rows.size())));
}

void Document::applyPlan(quint64 slotId, const Plan& planAfter)
{
    const int index = indexOf(slotId);
    if (index < 0) return;
    Slot& slot = *m_slots[static_cast<std::size_t>(index)];
    const Plan before = slot.plan;
    slot.plan = planAfter;
    slot.plan.compileRules();
    if (!m_model) return;
    std::vector<int> changed;
    const bool isActive = index == m_active;
    for (int row = 0; row < tensorCount(); ++row) {
        const TensorInfo& t = tensor(row);
        const bool specChanged = !sameSpec(before.resolve(t), slot.plan.resolve(t));
        if (specChanged) changed.push_back(row);
        const bool lockChanged = before.locked.count(t.name) != slot.plan.locked.count(t.name);
        if (isActive && (specChanged || lockChanged || before.precisionFor(t) !=
                                                           slot.plan.precisionFor(t)))
            emit precisionChanged(row);
    }
    computeRows(slot, std::move(changed));
}

} // namespace qs
