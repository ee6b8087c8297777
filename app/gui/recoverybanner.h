// A bar above the pages that offers back work an earlier run autosaved but never saved (after
// a crash, a kill, or a close with unsaved edits), without blocking the window with a dialog.
#pragma once

#include <QFrame>

class QLabel;
class QPushButton;

namespace qs {

class SessionController;

class RecoveryBanner : public QFrame
{
    Q_OBJECT
public:
    explicit RecoveryBanner(SessionController* sessions, QWidget* parent = nullptr);
    QPushButton* recoverButton() const { return m_recover; }
    QPushButton* discardButton() const { return m_discard; }

private:
    void refresh();
    SessionController* m_sessions;
    QLabel* m_text;
    QPushButton* m_recover;
    QPushButton* m_discard;
    QString m_offered; // the autosave the buttons act on (the newest orphan)
};

} // namespace qs
