#include "plotwidget.h"

#include "plotexport.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QStackedWidget>
#include <QVBoxLayout>

#include <qcustomplot.h>

namespace qs {

PlotWidget::PlotWidget(QWidget* parent)
    : QWidget(parent), m_controlsBar(new QWidget(this)), m_controls(new QHBoxLayout(m_controlsBar)),
      m_stack(new QStackedWidget(this)), m_plot(new QCustomPlot), m_message(new QLabel)
{
    m_plot->setObjectName(QStringLiteral("plot"));
    m_plot->setMinimumSize(240, 160);
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    // Histograms are explored along the value axis; counts rescale with the data.
    m_plot->axisRect()->setRangeDrag(Qt::Horizontal);
    m_plot->axisRect()->setRangeZoom(Qt::Horizontal);
    m_plot->plotLayout()->insertRow(0);
    m_title = new QCPTextElement(m_plot, QString(),
                                 QFont(font().family(), font().pointSize() + 1, QFont::Bold));
    m_plot->plotLayout()->addElement(0, 0, m_title);
    // The legend gets a row of its own under the axes: inside them it would cover data,
    // clip markers or bar labels, whatever the distribution looks like.
    auto* legendRow = new QCPLayoutGrid;
    m_plot->plotLayout()->addElement(2, 0, legendRow);
    legendRow->setMargins(QMargins(5, 0, 5, 4));
    legendRow->addElement(0, 0, m_plot->legend);
    m_plot->plotLayout()->setRowStretchFactor(2, 0.001);
    m_plot->legend->setFillOrder(QCPLegend::foColumnsFirst);
    m_plot->legend->setFont(QFont(font().family(), std::max(7, font().pointSize() - 1)));
    m_plot->legend->setBrush(Qt::NoBrush);
    m_plot->legend->setBorderPen(Qt::NoPen);
    m_plot->legend->setVisible(true);
    connect(m_plot, &QCustomPlot::mouseDoubleClick, this, [this] {
        resetView();
        m_plot->replot();
    });
    plotexport::installContextMenu(m_plot, [this] { return exportName(); });
    applyPalette();

    m_message->setObjectName(QStringLiteral("emptyText"));
    m_message->setAlignment(Qt::AlignCenter);
    m_message->setWordWrap(true);
    m_message->setForegroundRole(QPalette::PlaceholderText);
    m_message->setMargin(16);

    m_stack->addWidget(m_message);
    m_stack->addWidget(m_plot);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    m_controls->setContentsMargins(6, 0, 6, 0);
    m_controls->addStretch(1);
    layout->addWidget(m_controlsBar);
    layout->addWidget(m_stack, 1);
}

bool PlotWidget::isShowingPlot() const
{
    return m_stack->currentWidget() == m_plot;
}

QString PlotWidget::emptyText() const
{
    return isShowingPlot() ? QString() : m_message->text();
}

QString PlotWidget::title() const
{
    return m_title->text();
}

bool PlotWidget::savePng(const QString& path) const
{
    return plotexport::savePng(m_plot, path);
}

bool PlotWidget::savePdf(const QString& path) const
{
    return plotexport::savePdf(m_plot, path);
}

void PlotWidget::copyToClipboard() const
{
    plotexport::copyToClipboard(m_plot);
}

void PlotWidget::setPlaceholderText(const QString& text)
{
    const bool showing = !isShowingPlot() && m_message->text() == m_placeholder;
    m_placeholder = text;
    if (showing) m_message->setText(text);
}

void PlotWidget::showMessage(const QString& text)
{
    m_message->setText(text);
    m_stack->setCurrentWidget(m_message);
    m_controlsBar->setVisible(false);
}

void PlotWidget::showPlot()
{
    m_stack->setCurrentWidget(m_plot);
    m_controlsBar->setVisible(true);
    applyPalette(); // after the subclass's own styling, which assumes a light background
    m_plot->replot();
}

void PlotWidget::setTitle(const QString& title)
{
    m_title->setText(title);
}

QString PlotWidget::exportName() const
{
    return m_title->text();
}

void PlotWidget::resetView()
{
    m_plot->rescaleAxes();
}

void PlotWidget::changeEvent(QEvent* event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) {
        applyPalette();
        m_plot->replot();
    }
}

void PlotWidget::applyPalette()
{
    // QCustomPlot paints with its own colours; take them from the palette so that a dark theme
    // gives dark plots. Data colours stay: they are chosen to read on both.
    const QPalette pal = palette();
    const QColor text = pal.color(QPalette::WindowText);
    const bool dark = pal.color(QPalette::Base).lightness() < 128;
    m_plot->setBackground(pal.brush(QPalette::Base));
    m_plot->axisRect()->setBackground(pal.brush(QPalette::Base));
    m_title->setTextColor(text);
    m_plot->legend->setTextColor(text);
    const QColor axis = dark ? QColor(170, 170, 170) : QColor(120, 120, 120);
    const QColor grid = dark ? QColor(70, 72, 75) : QColor(225, 225, 225);
    for (QCPAxis* a : m_plot->axisRect()->axes()) {
        a->setLabelColor(text);
        a->setTickLabelColor(text);
        a->setBasePen(QPen(axis));
        a->setTickPen(QPen(axis));
        a->setSubTickPen(QPen(axis));
        a->grid()->setPen(QPen(grid, 0, Qt::SolidLine));
    }
    // Labels drawn in the default text colour (bar values, …) follow it; coloured ones stay.
    for (int i = 0; i < m_plot->itemCount(); ++i)
        if (auto* t = qobject_cast<QCPItemText*>(m_plot->item(i));
            t && (t->color() == m_textColor || t->color() == QColor(Qt::black)))
            t->setColor(text);
    m_textColor = text;
}

} // namespace qs
