// Undo commands for plan edits. They hold whole plans: a plan is a small value (a default,
// rules, entries and locks), and swapping snapshots makes undo exact whatever the edit was.
#pragma once

#include "document.h"

#include <QUndoCommand>

namespace qs {

class PlanEditCommand : public QUndoCommand
{
public:
    PlanEditCommand(Document* doc, quint64 slotId, Plan before, Plan after, const QString& text);
    void undo() override;
    void redo() override;

private:
    Document* m_doc;
    quint64 m_slot;
    Plan m_before, m_after;
};

// Adding, removing and renaming plans.
class PlanListCommand : public QUndoCommand
{
public:
    enum class Kind { Add, Remove, Rename };
    PlanListCommand(Document* doc, Kind kind, int index, std::shared_ptr<Document::Slot> slot,
                    const QString& text);
    void setNames(const QString& before, const QString& after);
    void undo() override;
    void redo() override;

private:
    Document* m_doc;
    Kind m_kind;
    int m_index;
    std::shared_ptr<Document::Slot> m_slot;
    QString m_nameBefore, m_nameAfter;
    int m_activeBefore = 0;
};

} // namespace qs
