#include "learn/scalelesson.h"

#include "core/error.h"
#include "formats/calibration.h"
#include "learn/lessonplot.h"

#include <QFormLayout>
#include <QLabel>
#include <QSlider>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace qs {

namespace {
const char* const kTensor = "model.layers.0.mlp.down_proj.weight";
constexpr int kBins = 120;
constexpr double kLogFloor = 0.7; // bottom of the log count axis, just under one value
} // namespace

GridResult fitGrid(const FloatTensor& tensor, int bits, double clip)
{
    const auto [mn, mx] = std::minmax_element(tensor.values.begin(), tensor.values.end());
    GridResult r;
    r.bits = bits;
    r.qmax = (1 << bits) - 1;
    r.lo = static_cast<float>(*mn * clip);
    r.hi = static_cast<float>(*mx * clip);
    r.params = affineParams(r.lo, r.hi, r.qmax, false);
    const auto n = static_cast<std::int64_t>(tensor.values.size());
    const double error = groupSquaredError(tensor.values.data(), n, r.params, r.qmax, true);
    double signal = 0;
    // Clipped: the values the chosen range gives up, not the last rounding step at its ends.
    for (float v : tensor.values) {
        signal += static_cast<double>(v) * v;
        r.clipped += (v < r.lo || v > r.hi) ? 1 : 0;
    }
    r.sqnrDb =
        error > 0 ? 10.0 * std::log10(signal / error) : std::numeric_limits<double>::infinity();
    return r;
}

ScaleLesson::ScaleLesson(QWidget* parent)
    : LessonPage(QStringLiteral("scale"), parent), m_bits(new QSlider(Qt::Horizontal)),
      m_clip(new QSlider(Qt::Horizontal)), m_readout(new QLabel),
      m_plot(newLessonPlot(
          tr("%1: values and the quantization grid").arg(QString::fromLatin1(kTensor))))
{
    m_bits->setObjectName(QStringLiteral("bits"));
    m_bits->setRange(2, 8);
    m_bits->setValue(3);
    m_clip->setObjectName(QStringLiteral("clip"));
    m_clip->setRange(10, 100);
    m_clip->setValue(100);
    m_readout->setObjectName(QStringLiteral("readout"));
    m_readout->setWordWrap(true);

    auto* live = new QWidget;
    auto* layout = new QVBoxLayout(live);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot, 1);
    auto* form = new QFormLayout;
    form->addRow(tr("Bits:"), m_bits);
    form->addRow(tr("Clip at (% of the range):"), m_clip);
    layout->addLayout(form);
    layout->addWidget(m_readout);
    setLiveWidget(live);

    m_plot->xAxis->setLabel(tr("weight value"));
    m_plot->yAxis->setLabel(tr("count (log)"));
    try {
        m_tensor = loadTensor(*lessonModel(), kTensor);
    } catch (const Error& e) {
        setStatus(QString::fromUtf8(e.what()));
        return;
    }
    // The histogram does not change with the sliders; only the grid on top of it does.
    const auto [mn, mx] = std::minmax_element(m_tensor.values.begin(), m_tensor.values.end());
    const double lo = *mn, width = (*mx - lo) / kBins;
    QVector<double> keys(kBins), counts(kBins, 0.0);
    for (int i = 0; i < kBins; ++i)
        keys[i] = lo + (i + 0.5) * width;
    for (float v : m_tensor.values)
        counts[std::clamp(static_cast<int>((v - lo) / width), 0, kBins - 1)] += 1;
    auto* hist = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    hist->setWidth(width);
    hist->setPen(Qt::NoPen);
    hist->setBrush(QColor(70, 130, 180, 170));
    // Bars start at the axis floor (a log axis has no zero), and empty bins are left out.
    hist->setBaseValue(kLogFloor);
    QVector<double> filledKeys, filled;
    for (int i = 0; i < kBins; ++i) {
        if (counts[i] == 0) continue;
        filledKeys << keys[i];
        filled << counts[i];
    }
    hist->setData(filledKeys, filled);
    // Counts on a log axis: the tails, which decide the range, are a few values per bin.
    m_plot->yAxis->setScaleType(QCPAxis::stLogarithmic);
    m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    m_plot->yAxis->setRange(kLogFloor, *std::max_element(counts.begin(), counts.end()) * 2);
    m_plot->xAxis->setRange(lo - 2 * width, *mx + 2 * width);
    m_plot->addGraph(); // the grid, redrawn by update()
    m_plot->graph(0)->setPen(QPen(QColor(200, 120, 0, 150), 1));
    connect(m_bits, &QSlider::valueChanged, this, &ScaleLesson::update);
    connect(m_clip, &QSlider::valueChanged, this, &ScaleLesson::update);
    update();
}

void ScaleLesson::update()
{
    if (m_tensor.values.empty()) return;
    m_result = fitGrid(m_tensor, m_bits->value(), m_clip->value() / 100.0);
    const GridResult& r = m_result;
    // One vertical segment per code, separated by NaN so the graph draws them apart.
    const double top = m_plot->yAxis->range().upper;
    QVector<double> x, y;
    for (int q = 0; q <= r.qmax; ++q) {
        const double v = dequantizeCode(q, r.params);
        x << v << v << v;
        y << kLogFloor << top << std::nan("");
    }
    m_plot->graph(0)->setData(x, y, true);
    m_plot->clearItems();
    for (double edge : {static_cast<double>(dequantizeCode(0, r.params)),
                        static_cast<double>(dequantizeCode(r.qmax, r.params))}) {
        auto* line = new QCPItemStraightLine(m_plot);
        line->point1->setCoords(edge, kLogFloor);
        line->point2->setCoords(edge, 1);
        line->setPen(QPen(QColor(200, 30, 30), 2, Qt::DashLine));
    }
    m_plot->replot();
    m_readout->setText(tr("%1 levels.  scale = %2,  zero point = %3 (code of 0.0).  "
                          "%L4 values clipped.  SQNR = %5")
                           .arg(r.qmax + 1)
                           .arg(static_cast<double>(r.params.scale), 0, 'g', 4)
                           .arg(r.params.zeroPoint)
                           .arg(r.clipped)
                           .arg(formatDb(r.sqnrDb)));
    const QString format = QStringLiteral("uint%1").arg(r.bits);
    // The lesson's clip is a hand-picked range; on a whole model the engine's MSE calibration
    // searches the same kind of shrunken range per group.
    if (m_clip->value() < 100) {
        Precision p(format.toStdString(), Granularity::parse("channel"), Calibration::parse("mse"));
        setTry(tr("%1 per channel with MSE-chosen clipping").arg(format), Plan::uniform(p));
    } else {
        setTry(tr("%1 per channel, min-max").arg(format),
               Plan::uniform(Precision(format.toStdString(), Granularity::parse("channel"))));
    }
}

} // namespace qs
