#include "jobstatuswidget.h"

#include "displayformat.h"
#include "document.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>

namespace qs {

JobStatusWidget::JobStatusWidget(Document* document, QWidget* parent)
    : QWidget(parent), m_document(document), m_bar(new QProgressBar(this)),
      m_cancel(new QPushButton(tr("Cancel"), this)), m_totals(new QLabel(this))
{
    m_bar->setObjectName(QStringLiteral("progressBar"));
    // Bytes can exceed an int; the bar counts per mille of the job's bytes instead.
    m_bar->setRange(0, 1000);
    m_bar->setTextVisible(true);
    m_bar->setMaximumWidth(320);
    m_bar->setMinimumWidth(220);
    m_cancel->setObjectName(QStringLiteral("cancelButton"));
    m_cancel->setToolTip(tr("Stop quantizing; results computed so far stay"));
    m_totals->setObjectName(QStringLiteral("totalsLabel"));
    m_totals->setToolTip(tr("Model size as stored \u2192 with the current plan"));

    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(4, 0, 4, 0);
    layout->addWidget(m_bar);
    layout->addWidget(m_cancel);
    layout->addStretch(1);
    layout->addWidget(m_totals);

    m_totalsTimer.setSingleShot(true);
    m_totalsTimer.setInterval(50);
    connect(&m_totalsTimer, &QTimer::timeout, this, &JobStatusWidget::updateTotals);
    auto scheduleTotals = [this] {
        if (!m_totalsTimer.isActive()) m_totalsTimer.start();
    };
    connect(document, &Document::resultChanged, this, scheduleTotals);
    connect(document, &Document::modelOpened, this, &JobStatusWidget::updateTotals);
    connect(document, &Document::busyChanged, this, &JobStatusWidget::setBusy);
    connect(document, &Document::progress, this, &JobStatusWidget::showProgress);
    connect(m_cancel, &QPushButton::clicked, document, &Document::cancel);

    setBusy(document->isBusy());
    updateTotals();
}

void JobStatusWidget::setBusy(bool busy)
{
    m_bar->setVisible(busy);
    m_cancel->setVisible(busy);
    if (!busy) {
        m_bar->setValue(0);
        updateTotals(); // the last results of a job are in: show the final totals now
    }
}

void JobStatusWidget::showProgress(int tensorsDone, int tensorsTotal, quint64 bytesDone,
                                   quint64 bytesTotal)
{
    m_bar->setFormat(
        tr("Quantizing %1 of %2 tensors \u2014 %p%").arg(tensorsDone).arg(tensorsTotal));
    const quint64 permille = bytesTotal
                                 ? std::min<quint64>(1000, bytesDone * 1000 / bytesTotal)
                                 : (tensorsTotal ? 1000ull * static_cast<quint64>(tensorsDone) /
                                                       static_cast<quint64>(tensorsTotal)
                                                 : 0);
    m_bar->setValue(static_cast<int>(permille));
}

void JobStatusWidget::updateTotals()
{
    if (m_document->tensorCount() == 0) {
        m_totals->setText(tr("No model"));
        return;
    }
    m_totals->setText(
        display::sizeChange(m_document->totalBytesBefore(), m_document->totalBytesAfter()));
}

} // namespace qs
