// The Learn tab's number explorer: the NumberExplorer view wired to the engine's explainValue.
#pragma once

#include <QWidget>

namespace qs {

class NumberExplorer;

class ExplorerPage : public QWidget
{
    Q_OBJECT
public:
    explicit ExplorerPage(QWidget* parent = nullptr);

    NumberExplorer* explorer() const { return m_explorer; }

private:
    void explain(double value, double lo, double hi);

    NumberExplorer* m_explorer;
};

} // namespace qs
