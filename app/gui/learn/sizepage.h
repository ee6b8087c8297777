// The Learn tab's size calculator: the SizeCalculator view wired to the engine's size table.
#pragma once

#include <QWidget>

namespace qs {

class SizeCalculator;

class SizePage : public QWidget
{
    Q_OBJECT
public:
    explicit SizePage(QWidget* parent = nullptr);

    SizeCalculator* calculator() const { return m_calculator; }

private:
    void compute(const QString& params);

    SizeCalculator* m_calculator;
};

} // namespace qs
