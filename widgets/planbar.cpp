#include "planbar.h"

#include "displayformat.h"
#include "document.h"

#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QMenu>
#include <QTabBar>
#include <QToolButton>

namespace qs {

PlanBar::PlanBar(Document* document, QWidget* parent)
    : QWidget(parent), m_document(document), m_tabs(new QTabBar(this)),
      m_add(new QToolButton(this))
{
    m_tabs->setObjectName(QStringLiteral("planTabs"));
    m_tabs->setAccessibleName(tr("Plans"));
    m_tabs->setDocumentMode(true);
    m_tabs->setExpanding(false);
    m_tabs->setSizePolicy(QSizePolicy::Maximum, QSizePolicy::Fixed); // "+" right after the tabs
    // Short names: no eliding, and no scroll buttons, whose room would open a gap before "+".
    m_tabs->setElideMode(Qt::ElideNone);
    m_tabs->setUsesScrollButtons(false);
    m_tabs->setContextMenuPolicy(Qt::CustomContextMenu);
    m_add->setObjectName(QStringLiteral("addPlanButton"));
    m_add->setText(QStringLiteral("+"));
    m_add->setAutoRaise(true);
    m_add->setToolTip(tr("New plan: a copy of the active one, to change and compare"));
    m_add->setAccessibleName(tr("New plan"));

    auto* label = new QLabel(tr("Plan:"), this);
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);
    layout->addWidget(label);
    layout->addWidget(m_tabs);
    layout->addWidget(m_add);
    layout->addStretch(1);

    connect(m_add, &QToolButton::clicked, m_document, &Document::duplicateActivePlan);
    connect(m_tabs, &QTabBar::currentChanged, this, [this](int index) {
        if (!m_rebuilding && index >= 0) m_document->setActivePlan(index);
    });
    connect(m_tabs, &QTabBar::tabBarDoubleClicked, this, [this](int index) {
        if (index >= 0) renameCurrent();
    });
    connect(m_tabs, &QTabBar::customContextMenuRequested, this, &PlanBar::showMenu);
    connect(m_document, &Document::plansChanged, this, &PlanBar::rebuild);
    connect(m_document, &Document::activePlanChanged, this, &PlanBar::rebuild);
    connect(m_document, &Document::busyChanged, this, &PlanBar::rebuild); // size in tooltips
    rebuild();
}

void PlanBar::rebuild()
{
    m_rebuilding = true;
    while (m_tabs->count() > m_document->planCount())
        m_tabs->removeTab(m_tabs->count() - 1);
    for (int i = 0; i < m_document->planCount(); ++i) {
        if (i >= m_tabs->count()) m_tabs->addTab(QString());
        m_tabs->setTabText(i, m_document->planName(i));
        m_tabs->setTabToolTip(
            i, tr("Plan %1: %2. Double-click to rename, right-click for more.")
                   .arg(m_document->planName(i),
                        display::sizeChange(m_document->totalBytesBefore(),
                                            m_document->totalBytesAfter(i))));
    }
    m_tabs->setCurrentIndex(m_document->activePlan());
    m_rebuilding = false;
}

void PlanBar::renameCurrent()
{
    const int index = m_document->activePlan();
    bool ok = false;
    const QString name =
        QInputDialog::getText(this, tr("Rename plan"), tr("Name of plan %1:").arg(index + 1),
                              QLineEdit::Normal, m_document->planName(index), &ok)
            .trimmed();
    if (ok && !name.isEmpty()) m_document->renamePlan(index, name);
}

void PlanBar::showMenu(const QPoint& pos)
{
    const int index = m_tabs->tabAt(pos);
    if (index < 0) return;
    m_document->setActivePlan(index);
    QMenu menu(this);
    menu.addAction(tr("&Rename\u2026"), this, &PlanBar::renameCurrent);
    menu.addAction(tr("&Duplicate"), m_document, &Document::duplicateActivePlan);
    QAction* remove = menu.addAction(tr("Re&move"), this,
                                     [this, index] { m_document->removePlan(index); });
    remove->setEnabled(m_document->planCount() > 1);
    menu.exec(m_tabs->mapToGlobal(pos));
}

} // namespace qs
