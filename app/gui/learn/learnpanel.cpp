#include "learn/learnpanel.h"

#include "learn/explorerpage.h"
#include "learn/sizepage.h"

#include <QTabWidget>
#include <QVBoxLayout>

namespace qs {

LearnPanel::LearnPanel(QWidget* parent)
    : QWidget(parent), m_tabs(new QTabWidget), m_explorer(new ExplorerPage), m_size(new SizePage)
{
    m_tabs->setObjectName(QStringLiteral("learnTabs"));
    m_tabs->setDocumentMode(true);
    addPage(m_explorer, tr("Number explorer"));
    addPage(m_size, tr("Model size"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_tabs);
}

void LearnPanel::addPage(QWidget* page, const QString& title)
{
    m_tabs->addTab(page, title);
}

} // namespace qs
