#include "plancommands.h"

namespace qs {

PlanEditCommand::PlanEditCommand(Document* doc, quint64 slotId, Plan before, Plan after,
                                 const QString& text)
    : QUndoCommand(text), m_doc(doc), m_slot(slotId), m_before(std::move(before)),
      m_after(std::move(after))
{
}

void PlanEditCommand::undo()
{
    m_doc->applyPlan(m_slot, m_before);
}

void PlanEditCommand::redo()
{
    m_doc->applyPlan(m_slot, m_after);
}

PlanListCommand::PlanListCommand(Document* doc, Kind kind, int index,
                                 std::shared_ptr<Document::Slot> slot, const QString& text)
    : QUndoCommand(text), m_doc(doc), m_kind(kind), m_index(index), m_slot(std::move(slot))
{
}

void PlanListCommand::setNames(const QString& before, const QString& after)
{
    m_nameBefore = before;
    m_nameAfter = after;
}

void PlanListCommand::redo()
{
    m_activeBefore = m_doc->activePlan();
    switch (m_kind) {
    case Kind::Add:
        m_doc->insertSlot(m_index, m_slot);
        m_doc->setActivePlan(m_index);
        break;
    case Kind::Remove:
        m_doc->takeSlot(m_index);
        break;
    case Kind::Rename:
        m_slot->name = m_nameAfter;
        emit m_doc->plansChanged();
        break;
    }
}

void PlanListCommand::undo()
{
    switch (m_kind) {
    case Kind::Add:
        m_doc->takeSlot(m_index);
        break;
    case Kind::Remove:
        m_doc->insertSlot(m_index, m_slot);
        break;
    case Kind::Rename:
        m_slot->name = m_nameBefore;
        emit m_doc->plansChanged();
        break;
    }
    if (m_activeBefore < m_doc->planCount()) m_doc->setActivePlan(m_activeBefore);
}

} // namespace qs
