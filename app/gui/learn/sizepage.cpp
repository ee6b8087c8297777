#include "learn/sizepage.h"

#include "core/error.h"
#include "sizecalculator.h"
#include "teach/size_table.h"

#include <QVBoxLayout>

namespace qs {

SizePage::SizePage(QWidget* parent) : QWidget(parent), m_calculator(new SizeCalculator)
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_calculator);
    connect(m_calculator, &SizeCalculator::requestSizes, this, &SizePage::compute);
    m_calculator->requestCurrent();
}

void SizePage::compute(const QString& params)
{
    try {
        m_calculator->setTable(sizeTable(parseParamCount(params.toStdString())));
    } catch (const Error& e) {
        // The engine's message already names the text and says what is wrong with it.
        m_calculator->setError(QString::fromUtf8(e.what()));
    }
}

} // namespace qs
