#include "learn/lessonpage.h"

#include <QFile>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace qs {

QString lessonText(const QString& textName)
{
    QFile file(QStringLiteral(":/lessons/%1.html").arg(textName));
    if (!file.open(QIODevice::ReadOnly)) return {};
    return QString::fromUtf8(file.readAll());
}

LessonPage::LessonPage(const QString& textName, QWidget* parent)
    : QWidget(parent), m_text(new QTextBrowser), m_status(new QLabel), m_try(new QPushButton)
{
    m_text->setObjectName(QStringLiteral("lessonText"));
    m_text->setOpenExternalLinks(true);
    m_text->setHtml(lessonText(textName));
    // The text is a short read; the live widget is the lesson, so it gets most of the width.
    m_text->setMinimumWidth(260);

    m_status->setObjectName(QStringLiteral("lessonStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_try->setObjectName(QStringLiteral("tryOnModel"));
    m_try->setText(tr("Try it on my model"));
    m_try->setEnabled(false); // until the lesson says what it would apply
    connect(m_try, &QPushButton::clicked, this, [this] { emit tryOnModel(m_what, m_plan); });

    auto* right = new QWidget;
    m_liveLayout = new QVBoxLayout(right);
    m_liveLayout->setContentsMargins(0, 0, 0, 0);
    auto* bottom = new QHBoxLayout;
    bottom->addWidget(m_status, 1);
    bottom->addWidget(m_try);
    m_liveLayout->addLayout(bottom);

    auto* splitter = new QSplitter(Qt::Horizontal);
    splitter->addWidget(m_text);
    splitter->addWidget(right);
    splitter->setStretchFactor(0, 2);
    splitter->setStretchFactor(1, 3);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(splitter);
}

void LessonPage::setLiveWidget(QWidget* widget)
{
    m_live = widget;
    m_liveLayout->insertWidget(0, widget, 1);
}

void LessonPage::setStatus(const QString& text)
{
    m_status->setText(text);
}

void LessonPage::setTry(const QString& what, const Plan& plan)
{
    m_what = what;
    m_plan = plan;
    m_try->setEnabled(true);
    m_try->setToolTip(tr("Applies to the open model: %1").arg(what));
}

} // namespace qs
