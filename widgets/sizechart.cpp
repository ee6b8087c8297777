#include "sizechart.h"

#include "displayformat.h"
#include "document.h"
#include "histogramstyle.h"

#include <qcustomplot.h>

#include <array>

namespace qs {
namespace {
struct Unit
{
    double divisor;
    QString name;
};

Unit unitFor(quint64 bytes)
{
    static const std::array<QString, 4> names{QStringLiteral("B"), QStringLiteral("KiB"),
                                              QStringLiteral("MiB"), QStringLiteral("GiB")};
    double divisor = 1;
    std::size_t i = 0;
    while (static_cast<double>(bytes) / divisor >= 1024.0 && i + 1 < names.size()) {
        divisor *= 1024.0;
        ++i;
    }
    return {divisor, names[i]};
}

void styleBars(QCPBars* bars, const QColor& color)
{
    bars->setWidth(0.55);
    bars->setPen(QPen(color.darker(130)));
    bars->setBrush(color);
}

constexpr double kStoredX = 1, kPlannedX = 2;
} // namespace

SizeChart::SizeChart(Document* document, QWidget* parent)
    : PlotWidget(parent), m_document(document), m_kept(new QCPBars(plot()->xAxis, plot()->yAxis)),
      m_quantized(new QCPBars(plot()->xAxis, plot()->yAxis))
{
    setObjectName(QStringLiteral("sizeChart"));
    QCustomPlot* p = plot();
    // Nothing to explore on two bars; dragging would only lose them.
    p->setInteractions(QCP::Interactions());
    setPlaceholderText(tr("Open a model to see its size."));
    histogramstyle::styleAxes(p, QString(), QString());
    p->xAxis->grid()->setVisible(false);
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    ticker->addTick(kStoredX, tr("As stored"));
    ticker->addTick(kPlannedX, tr("Planned"));
    p->xAxis->setTicker(ticker);
    p->xAxis->setSubTicks(false);
    p->xAxis->setTickLength(0, 4);
    p->xAxis->setRange(0.4, 2.6);

    m_kept->setName(tr("kept as stored"));
    styleBars(m_kept, QColor(175, 180, 190));
    m_quantized->setName(tr("quantized tensors"));
    styleBars(m_quantized, QColor(60, 150, 90));
    m_quantized->moveAbove(m_kept);

    m_updateTimer.setSingleShot(true);
    m_updateTimer.setInterval(60);
    connect(&m_updateTimer, &QTimer::timeout, this, &SizeChart::rebuild);
    connect(document, &Document::resultChanged, this, &SizeChart::scheduleUpdate);
    connect(document, &Document::modelOpened, this, &SizeChart::rebuild);
    connect(document, &Document::busyChanged, this, &SizeChart::scheduleUpdate);
    rebuild();
}

void SizeChart::scheduleUpdate()
{
    if (!m_updateTimer.isActive()) m_updateTimer.start();
}

QString SizeChart::exportName() const
{
    return QFileInfo(m_document->path()).completeBaseName() + QStringLiteral("-size");
}

void SizeChart::resetView()
{
    plot()->xAxis->setRange(0.4, 2.6);
    plot()->yAxis->setRange(0, m_yMax);
}

void SizeChart::rebuild()
{
    m_updateTimer.stop();
    QCustomPlot* p = plot();
    p->clearItems();
    const int n = m_document->tensorCount();
    if (n == 0) {
        setTitle(QString());
        m_before = m_after = 0;
        m_saving.clear();
        showPlaceholder();
        return;
    }
    // Split each bar into the tensors the plan quantizes and those it keeps, so the chart
    // shows where the saving comes from.
    quint64 keptBytes = 0, quantizedBefore = 0, quantizedAfter = 0;
    for (int row = 0; row < n; ++row) {
        const TensorResultPtr r = m_document->result(row);
        const quint64 stored = m_document->tensor(row).byteSize;
        if (r && r->spec) {
            quantizedBefore += stored;
            quantizedAfter += r->bytesAfter;
        } else {
            keptBytes += r ? r->bytesAfter : stored;
        }
    }
    m_before = m_document->totalBytesBefore();
    m_after = m_document->totalBytesAfter();

    const Unit unit = unitFor(std::max(m_before, m_after));
    auto scaled = [&](quint64 b) { return static_cast<double>(b) / unit.divisor; };
    m_kept->setData({kStoredX, kPlannedX}, {scaled(keptBytes), scaled(keptBytes)}, true);
    m_quantized->setData({kStoredX, kPlannedX}, {scaled(quantizedBefore), scaled(quantizedAfter)},
                         true);
    p->yAxis->setLabel(tr("size (%1)").arg(unit.name));
    m_yMax = std::max(scaled(m_before), scaled(m_after)) * 1.22; // room for the labels

    auto label = [&](double x, quint64 bytes, const QString& extra) {
        auto* text = new QCPItemText(p);
        text->setPositionAlignment(Qt::AlignHCenter | Qt::AlignBottom);
        text->position->setCoords(x, scaled(bytes));
        text->setText(extra.isEmpty() ? display::bytes(bytes)
                                      : display::bytes(bytes) + QLatin1Char('\n') + extra);
        text->setTextAlignment(Qt::AlignHCenter);
        text->setPadding(QMargins(2, 2, 2, 4));
        QFont f = font();
        f.setBold(!extra.isEmpty());
        text->setFont(f);
    };
    label(kStoredX, m_before, QString());
    m_saving = display::savingPercent(m_before, m_after);
    label(kPlannedX, m_after, m_saving);

    setTitle(tr("Model size"));
    resetView();
    showPlot();
}

} // namespace qs
