#include "learn/granularitylesson.h"

#include "core/error.h"
#include "learn/lessonplot.h"

#include <QComboBox>
#include <QFormLayout>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <cmath>

namespace qs {

namespace {
// 256 values per row, with a few rows scaled up: the case finer scales are for.
const char* const kTensor = "model.layers.0.mlp.down_proj.weight";
const char* const kGranularities[] = {"tensor", "channel", "group:128", "group:64", "group:32"};
} // namespace

std::vector<GranularityPoint> measureGranularities(const FloatTensor& tensor)
{
    std::vector<GranularityPoint> points;
    for (const char* g : kGranularities)
        points.push_back({QString::fromLatin1(g), measure(tensor, makeSpec("int4", g))});
    return points;
}

GranularityLesson::GranularityLesson(QWidget* parent)
    : LessonPage(QStringLiteral("granularity"), parent), m_choice(new QComboBox),
      m_plot(newLessonPlot(tr("int4 on %1").arg(QString::fromLatin1(kTensor))))
{
    m_choice->setObjectName(QStringLiteral("granularity"));
    for (const char* g : kGranularities)
        m_choice->addItem(QString::fromLatin1(g));
    m_choice->setCurrentText(QStringLiteral("group:64"));
    auto* live = new QWidget;
    auto* layout = new QVBoxLayout(live);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot, 1);
    auto* form = new QFormLayout;
    form->addRow(tr("Granularity to try:"), m_choice);
    layout->addLayout(form);
    setLiveWidget(live);

    const auto updateTry = [this] {
        const QString g = m_choice->currentText();
        setTry(tr("int4 with %1 scales").arg(g),
               Plan::uniform(Precision("int4", Granularity::parse(g.toStdString()))));
    };
    connect(m_choice, &QComboBox::currentTextChanged, this, updateTry);
    updateTry();
    try {
        m_points = measureGranularities(loadTensor(*lessonModel(), kTensor));
    } catch (const Error& e) {
        setStatus(QString::fromUtf8(e.what()));
        return;
    }
    draw();
}

void GranularityLesson::draw()
{
    QStringList labels;
    QVector<double> sqnr, bits, keys;
    for (const GranularityPoint& p : m_points) {
        labels << p.granularity;
        sqnr << p.measured.sqnrDb;
        bits << p.measured.bitsPerWeight;
        keys << keys.size() + 1;
    }
    setBars(m_plot, labels, sqnr, tr("SQNR (dB), higher is better"), 1);
    // The cost side on its own axis: bits per weight including the scales.
    m_plot->yAxis2->setVisible(true);
    m_plot->yAxis2->setLabel(tr("bits per weight (codes + scales)"));
    m_plot->yAxis2->setRange(3.9, bits.back() + 0.2);
    auto* cost = new QCPGraph(m_plot->xAxis, m_plot->yAxis2);
    cost->setData(keys, bits);
    cost->setPen(QPen(QColor(200, 90, 0), 2));
    cost->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 7));
    cost->setName(tr("bits per weight"));
    m_plot->replot();
    const GranularityPoint& first = m_points.front();
    const GranularityPoint& last = m_points.back();
    setStatus(tr("From one scale (%1 bits/weight, %2) to %L3 scales (%4 bits/weight, %5).")
                  .arg(first.measured.bitsPerWeight, 0, 'f', 3)
                  .arg(formatDb(first.measured.sqnrDb))
                  .arg(last.measured.scaleGroups)
                  .arg(last.measured.bitsPerWeight, 0, 'f', 3)
                  .arg(formatDb(last.measured.sqnrDb)));
}

} // namespace qs
