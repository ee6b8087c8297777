// The document's named plans as tabs: one click switches the active plan; "+" duplicates it,
// double-click renames, the context menu removes.
#pragma once

#include <QWidget>

class QTabBar;
class QToolButton;

namespace qs {

class Document;

class PlanBar : public QWidget
{
    Q_OBJECT
public:
    explicit PlanBar(Document* document, QWidget* parent = nullptr);

    QTabBar* tabs() const { return m_tabs; }
    QToolButton* addButton() const { return m_add; }
    void renameCurrent(); // asks for a name

private:
    void rebuild();
    void showMenu(const QPoint& pos);

    Document* m_document;
    QTabBar* m_tabs;
    QToolButton* m_add;
    bool m_rebuilding = false;
};

} // namespace qs
