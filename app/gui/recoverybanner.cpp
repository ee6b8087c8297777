#include "recoverybanner.h"

#include "sessioncontroller.h"

#include <QDateTime>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QMessageBox>
#include <QPushButton>

namespace qs {

RecoveryBanner::RecoveryBanner(SessionController* sessions, QWidget* parent)
    : QFrame(parent), m_sessions(sessions), m_text(new QLabel(this)),
      m_recover(new QPushButton(tr("&Recover"), this)),
      m_discard(new QPushButton(tr("Discard"), this))
{
    setObjectName(QStringLiteral("recoveryBanner"));
    setFrameShape(QFrame::StyledPanel);
    setAutoFillBackground(true);
    QPalette p = palette();
    p.setColor(QPalette::Window, p.color(QPalette::ToolTipBase));
    p.setColor(QPalette::WindowText, p.color(QPalette::ToolTipText));
    setPalette(p);
    m_text->setWordWrap(true);
    m_recover->setObjectName(QStringLiteral("recoverButton"));
    m_discard->setObjectName(QStringLiteral("discardButton"));
    m_recover->setToolTip(tr("Open the autosaved plans and results; the current model is "
                             "kept as recoverable work if it has unsaved edits"));
    m_discard->setToolTip(tr("Delete this autosave for good"));
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 4, 8, 4);
    layout->addWidget(m_text, 1);
    layout->addWidget(m_recover);
    layout->addWidget(m_discard);
    connect(m_recover, &QPushButton::clicked, this, [this] {
        if (!m_offered.isEmpty()) m_sessions->recover(m_offered);
    });
    connect(m_discard, &QPushButton::clicked, this, [this] {
        if (m_offered.isEmpty()) return;
        const auto answer = QMessageBox::question(
            this, tr("Discard unsaved work"),
            tr("Delete the work autosaved at %1? This cannot be undone.")
                .arg(QLocale().toString(QFileInfo(m_offered).lastModified(), QLocale::ShortFormat)));
        if (answer == QMessageBox::Yes) m_sessions->discard(m_offered);
    });
    connect(m_sessions, &SessionController::orphansChanged, this, &RecoveryBanner::refresh);
    refresh();
}

void RecoveryBanner::refresh()
{
    const QStringList orphans = m_sessions->orphanedAutosaves();
    setVisible(!orphans.isEmpty());
    if (orphans.isEmpty()) {
        m_offered.clear();
        return;
    }
    m_offered = orphans.constFirst();
    const QString when =
        QLocale().toString(QFileInfo(m_offered).lastModified(), QLocale::ShortFormat);
    QString text = tr("Unsaved work from %1 was autosaved and can be recovered.").arg(when);
    if (orphans.size() > 1)
        text += QLatin1Char(' ') + tr("(%n more under File \u2192 Recover Unsaved Work.)", nullptr,
                                      int(orphans.size() - 1));
    m_text->setText(text);
}

} // namespace qs
