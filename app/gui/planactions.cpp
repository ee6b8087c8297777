#include "planactions.h"

#include "allocatedialog.h"
#include "core/error.h"
#include "document.h"
#include "layerbrowser.h"
#include "plan/presets.h"
#include "precisionpicker.h"
#include "ruleseditor.h"

#include <QAction>
#include <QLabel>
#include <QMainWindow>
#include <QMenuBar>
#include <QMessageBox>
#include <QToolBar>
#include <QUndoStack>

namespace qs {

PlanActions::PlanActions(Document* document, LayerBrowser* browser, QMainWindow* window)
    : QObject(window), m_document(document), m_browser(browser), m_window(window)
{
    QUndoStack* stack = document->undoStack();
    m_undo = stack->createUndoAction(this, tr("&Undo"));
    m_undo->setShortcut(QKeySequence::Undo);
    m_undo->setObjectName(QStringLiteral("undoAction"));
    m_redo = stack->createRedoAction(this, tr("&Redo"));
    m_redo->setShortcut(QKeySequence::Redo);
    m_redo->setObjectName(QStringLiteral("redoAction"));

    m_apply = new QAction(tr("&Apply Precision to Selection"), this);
    m_apply->setObjectName(QStringLiteral("applyToSelectionAction"));
    m_apply->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return));
    m_apply->setToolTip(tr("Give every selected layer (or block) the precision chosen in the "
                           "selection bar (Ctrl+Return)"));
    connect(m_apply, &QAction::triggered, this, &PlanActions::applyToSelection);
    m_lock = new QAction(tr("&Lock or Unlock Selection"), this);
    m_lock->setObjectName(QStringLiteral("lockAction"));
    m_lock->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
    connect(m_lock, &QAction::triggered, this, &PlanActions::toggleLockOfSelection);
    m_rules = new QAction(tr("Edit &Rules\u2026"), this);
    m_rules->setObjectName(QStringLiteral("rulesAction"));
    m_rules->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
    connect(m_rules, &QAction::triggered, this, &PlanActions::editRules);

    QMenu* edit = window->menuBar()->addMenu(tr("&Edit"));
    edit->addAction(m_undo);
    edit->addAction(m_redo);
    edit->addSeparator();
    edit->addAction(m_apply);
    edit->addAction(m_lock);
    QMenu* plan = window->menuBar()->addMenu(tr("&Plan"));
    plan->setObjectName(QStringLiteral("planMenu"));
    m_presets = plan->addMenu(tr("Apply &Preset"));
    m_presets->setObjectName(QStringLiteral("presetsMenu"));
    for (const auto& p : planPresets()) {
        QAction* a = m_presets->addAction(QString::fromStdString(p.name));
        a->setToolTip(QString::fromStdString(p.description));
        a->setStatusTip(QString::fromStdString(p.description));
        a->setData(QString::fromStdString(p.id));
        connect(a, &QAction::triggered, this,
                [this, id = QString::fromStdString(p.id)] { applyPreset(id); });
    }
    m_presets->setToolTipsVisible(true);
    plan->addAction(m_rules);
    QAction* allocate = plan->addAction(tr("&Allocate Automatically\u2026"), this, [this] {
        showAllocateDialog(m_document, m_window);
    });
    allocate->setObjectName(QStringLiteral("allocateAction"));
    allocate->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A));
    allocate->setToolTip(tr("The best format per layer under a size budget, with the whole "
                            "size/error frontier"));
    plan->addSeparator();
    QAction* add = plan->addAction(tr("&New Plan (Copy of Active)"), document,
                                   &Document::duplicateActivePlan);
    add->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_T));
    QAction* remove = plan->addAction(tr("Re&move Active Plan"), document,
                                      [document] { document->removePlan(document->activePlan()); });
    connect(document, &Document::plansChanged, remove,
            [remove, document] { remove->setEnabled(document->planCount() > 1); });
    remove->setEnabled(false);

    m_bar = window->addToolBar(tr("Selection"));
    m_bar->setObjectName(QStringLiteral("selectionToolBar"));
    m_bar->setMovable(false);
    m_picker = new PrecisionPicker(m_bar, tr("Set se&lection to:"));
    m_picker->setObjectName(QStringLiteral("selectionPrecision"));
    m_picker->setPrecision(Precision{"int4", Granularity{Granularity::Kind::Group, 128}});
    m_bar->addWidget(m_picker);
    m_bar->addAction(m_apply);
    m_apply->setIconText(tr("Apply"));
    m_count = new QLabel(m_bar);
    m_count->setObjectName(QStringLiteral("selectionCount"));
    m_count->setContentsMargins(8, 0, 0, 0);
    m_bar->addWidget(m_count);
    connect(browser, &LayerBrowser::selectionChanged, this, &PlanActions::onSelectionChanged);
    onSelectionChanged({});
}

void PlanActions::onSelectionChanged(const QVector<int>& rows)
{
    m_apply->setEnabled(!rows.isEmpty());
    m_lock->setEnabled(!rows.isEmpty());
    m_count->setText(rows.isEmpty() ? tr("no layer selected")
                                    : tr("%n layer(s) selected", nullptr, int(rows.size())));
}

void PlanActions::applyToSelection()
{
    QVector<int> rows;
    for (int r : m_browser->selectedRows())
        if (isQuantizable(m_document->tensor(r).dtype)) rows << r;
    if (!rows.isEmpty()) m_document->setPrecision(rows, m_picker->precision());
}

void PlanActions::toggleLockOfSelection()
{
    const QVector<int> rows = m_browser->selectedRows();
    if (rows.isEmpty()) return;
    // Lock all unless all are locked already, as a check box over a mixed selection does.
    bool allLocked = true;
    for (int r : rows)
        allLocked = allLocked && m_document->isLocked(r);
    m_document->setLocked(rows, !allLocked);
}

void PlanActions::applyPreset(const QString& id)
{
    const Model* model = m_document->model();
    try {
        const Plan plan =
            makePresetPlan(id.toStdString(), model ? model->tensors : std::vector<TensorInfo>{});
        QString name = id;
        for (const auto& p : planPresets())
            if (p.id == id.toStdString()) name = QString::fromStdString(p.name);
        Plan withLocks = plan;
        withLocks.locked = m_document->plan().locked; // a preset does not unlock layers
        m_document->setPlan(withLocks, tr("Apply preset %1").arg(name));
    } catch (const Error& e) {
        QMessageBox::warning(m_window, tr("QuantScope"), QString::fromUtf8(e.what()));
    }
}

void PlanActions::editRules()
{
    auto* editor = new RulesEditor(m_document, m_window);
    editor->setAttribute(Qt::WA_DeleteOnClose);
    editor->open();
}

} // namespace qs
