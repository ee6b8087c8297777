#include "learn/explorerpage.h"

#include "core/error.h"
#include "numberexplorer.h"
#include "teach/explain.h"

#include <QVBoxLayout>

namespace qs {

ExplorerPage::ExplorerPage(QWidget* parent) : QWidget(parent), m_explorer(new NumberExplorer)
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_explorer);
    // One value through eight codecs takes microseconds: computed right here on the GUI thread,
    // no job needed.
    connect(m_explorer, &NumberExplorer::requestExplain, this, &ExplorerPage::explain);
    m_explorer->requestCurrent();
}

void ExplorerPage::explain(double value, double lo, double hi)
{
    try {
        m_explorer->setExplanation(explainValue(value, {lo, hi}));
    } catch (const Error& e) {
        m_explorer->setError(tr("Integer %1").arg(QString::fromUtf8(e.what())));
    }
}

} // namespace qs
