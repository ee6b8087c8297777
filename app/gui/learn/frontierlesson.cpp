#include "learn/frontierlesson.h"

#include "alloc/allocation.h"
#include "core/error.h"
#include "learn/lessondata.h"
#include "learn/lessonplot.h"

#include <QProgressBar>
#include <QVBoxLayout>
#include <QtConcurrent>
#include <qcustomplot.h>

#include <algorithm>

namespace qs {

namespace {
const char* const kCandidates =
    "int2@channel,int3@channel,int4@channel,int5@channel,int6@channel,int7@channel,int8@channel";
} // namespace

FrontierData computeFrontier()
{
    const auto model = lessonModel();
    const alloc::CandidateTable table = alloc::computeCandidates(
        *model, Plan{}, alloc::parseCandidates(kCandidates), alloc::Measure{}, Control{});
    const std::vector<alloc::Item> items = alloc::toItems(table);
    FrontierData d;
    for (const alloc::FrontierPoint& p : alloc::frontier(items))
        d.frontier.push_back({QString(), static_cast<double>(p.bytes), p.distortion});
    // A uniform plan picks the same candidate on every free tensor; the others keep their one
    // option, exactly as they count in the frontier.
    for (std::size_t c = 0; c < table.candidates.size(); ++c) {
        FrontierData::Point u{QString::fromStdString(table.candidates[c].label), 0, 0};
        for (const alloc::TensorCandidates& e : table.tensors) {
            const alloc::Option* chosen = &e.options.front();
            for (const alloc::Option& o : e.options) {
                if (o.candidate == static_cast<int>(c)) chosen = &o;
            }
            u.bytes += static_cast<double>(chosen->bytes);
            u.distortion += chosen->distortion;
        }
        d.uniform.push_back(u);
    }
    return d;
}

FrontierLesson::FrontierLesson(QWidget* parent)
    : LessonPage(QStringLiteral("frontier"), parent),
      m_plot(newLessonPlot(tr("Example model: size against total squared error"))),
      m_busy(new QProgressBar)
{
    m_busy->setRange(0, 0); // no steps to count: the table takes a moment, not minutes
    m_busy->setMaximumHeight(12);
    m_busy->setTextVisible(false);
    auto* live = new QWidget;
    auto* layout = new QVBoxLayout(live);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot, 1);
    layout->addWidget(m_busy);
    setLiveWidget(live);
    setTry(tr("int2-int8 per channel, allocated within the size of uniform int4 "
              "(starting from uniform int4)"),
           Plan::uniform(Precision("int4", Granularity::parse("channel"))));
    setStatus(tr("Quantizing every tensor with every candidate..."));

    connect(&m_watcher, &QFutureWatcher<FrontierData>::finished, this, [this] {
        m_busy->hide();
        m_data = m_watcher.result();
        draw();
        emit finished();
    });
    m_watcher.setFuture(QtConcurrent::run([]() -> FrontierData {
        try {
            return computeFrontier();
        } catch (const Error& e) {
            FrontierData d;
            d.error = QString::fromUtf8(e.what());
            return d;
        }
    }));
}

FrontierLesson::~FrontierLesson()
{
    m_watcher.waitForFinished(); // short, and it reads the shared example model
}

void FrontierLesson::draw()
{
    if (!m_data.error.isEmpty()) {
        setStatus(m_data.error);
        return;
    }
    auto* line = m_plot->addGraph();
    line->setName(tr("best mix for each size"));
    line->setPen(QPen(QColor(70, 130, 180), 2));
    line->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 4));
    for (const FrontierData::Point& p : m_data.frontier)
        line->addData(p.bytes / 1024.0, p.distortion);
    auto* uniform = m_plot->addGraph();
    uniform->setName(tr("same format everywhere"));
    uniform->setLineStyle(QCPGraph::lsNone);
    uniform->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssDiamond, QColor(200, 60, 0), QColor(200, 60, 0), 9));
    for (const FrontierData::Point& p : m_data.uniform) {
        uniform->addData(p.bytes / 1024.0, p.distortion);
        if (p.label.startsWith(QStringLiteral("int4@")) ||
            p.label.startsWith(QStringLiteral("int8@"))) {
            auto* text = new QCPItemText(m_plot);
            text->position->setCoords(p.bytes / 1024.0, p.distortion);
            // int8 is the rightmost point: its label goes to the left to stay inside the plot.
            const bool last = &p == &m_data.uniform.back();
            const QString name = tr("uniform %1").arg(p.label.section(QLatin1Char('@'), 0, 0));
            text->setPositionAlignment((last ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignBottom);
            text->setText(last ? name + QStringLiteral("  ") : QStringLiteral("  ") + name);
            QFont font = m_plot->font();
            font.setBold(true);
            text->setFont(font);
        }
    }
    m_plot->yAxis->setScaleType(QCPAxis::stLogarithmic);
    m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    m_plot->xAxis->setLabel(tr("size of the quantized tensors (KiB)"));
    m_plot->yAxis->setLabel(tr("total squared error (log)"));
    m_plot->legend->setVisible(true);
    m_plot->rescaleAxes();
    m_plot->xAxis->scaleRange(1.1);
    m_plot->yAxis->scaleRange(1.5);
    m_plot->replot();

    // How much error the best mix saves at exactly uniform int4's size.
    const auto int4 = std::find_if(m_data.uniform.begin(), m_data.uniform.end(), [](const auto& p) {
        return p.label.startsWith(QStringLiteral("int4@"));
    });
    if (int4 == m_data.uniform.end() || !(int4->distortion > 0)) return;
    double best = int4->distortion;
    for (const FrontierData::Point& p : m_data.frontier) {
        if (p.bytes <= int4->bytes) best = std::min(best, p.distortion);
    }
    setStatus(tr("At uniform int4's size (%1 KiB) the best mix on the frontier has %2% of its "
                 "squared error.")
                  .arg(int4->bytes / 1024.0, 0, 'f', 1)
                  .arg(100.0 * best / int4->distortion, 0, 'f', 0));
}

} // namespace qs
