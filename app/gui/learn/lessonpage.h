// The frame every lesson shares: its text, one live widget, and "Try it on my model".
#pragma once

#include "plan/plan.h"

#include <QWidget>

class QLabel;
class QPushButton;
class QTextBrowser;
class QVBoxLayout;

namespace qs {

class LessonPage : public QWidget
{
    Q_OBJECT
public:
    // `textName` is the lesson's file in the bundled resources (":/lessons/<textName>.html").
    LessonPage(const QString& textName, QWidget* parent = nullptr);

    QTextBrowser* text() const { return m_text; }
    QWidget* liveWidget() const { return m_live; }
    QPushButton* tryButton() const { return m_try; }
    QLabel* status() const { return m_status; }

    // What the button applies: a short description and the plan that does it. Lessons set it
    // when they are built and again when the learner changes the setting.
    void setTry(const QString& what, const Plan& plan);

signals:
    void tryOnModel(const QString& what, const qs::Plan& plan);

protected:
    // Lessons put their live widget here once; it takes the space the text leaves.
    void setLiveWidget(QWidget* widget);
    void setStatus(const QString& text);

private:
    QTextBrowser* m_text;
    QWidget* m_live = nullptr;
    QVBoxLayout* m_liveLayout; // the live widget, then the status and the button
    QLabel* m_status;
    QPushButton* m_try;
    QString m_what;
    Plan m_plan;
};

// The text of a bundled lesson, empty when it is missing.
QString lessonText(const QString& textName);

} // namespace qs
