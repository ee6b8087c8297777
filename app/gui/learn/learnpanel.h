// The Learn panel: hands-on pages about number formats (the explorer, the size calculator).
#pragma once

#include <QWidget>

class QTabWidget;

namespace qs {

class ExplorerPage;
class SizePage;

// Lessons are further tabs; addPage keeps the panel open to them without touching the rest.
class LearnPanel : public QWidget
{
    Q_OBJECT
public:
    explicit LearnPanel(QWidget* parent = nullptr);

    void addPage(QWidget* page, const QString& title);

    QTabWidget* tabs() const { return m_tabs; }
    ExplorerPage* explorerPage() const { return m_explorer; }
    SizePage* sizePage() const { return m_size; }

private:
    QTabWidget* m_tabs;
    ExplorerPage* m_explorer;
    SizePage* m_size;
};

} // namespace qs
