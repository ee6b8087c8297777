#include "learn/calibrationlesson.h"

#include "core/error.h"
#include "learn/lessonplot.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace qs {

namespace {
const char* const kTensor = "model.layers.1.self_attn.q_proj.weight";
const char* const kMethods[] = {"minmax", "percentile:99.9", "mse", "hqq"};
constexpr float kOutlierFactor = 12.0f;
} // namespace

std::vector<CalibrationPoint> measureCalibrations(const FloatTensor& tensor)
{
    std::vector<CalibrationPoint> points;
    for (const char* m : kMethods)
        points.push_back(
            {QString::fromLatin1(m), measure(tensor, makeSpec("uint4", "tensor", m)).sqnrDb});
    return points;
}

FloatTensor withOutlier(const FloatTensor& tensor, float factor)
{
    FloatTensor copy = tensor;
    float amax = 0;
    for (float v : copy.values)
        amax = std::max(amax, std::abs(v));
    // Middle of the tensor rather than the first value, so it lands inside an ordinary row.
    copy.values[copy.values.size() / 2] = factor * amax;
    return copy;
}

CalibrationLesson::CalibrationLesson(QWidget* parent)
    : LessonPage(QStringLiteral("calibration"), parent),
      m_outlier(new QCheckBox(tr("Add one outlier (%1 x the largest weight)").arg(kOutlierFactor))),
      m_method(new QComboBox),
      m_plot(newLessonPlot(tr("uint4, one scale for %1").arg(QString::fromLatin1(kTensor))))
{
    m_outlier->setObjectName(QStringLiteral("outlier"));
    m_method->setObjectName(QStringLiteral("method"));
    for (const char* m : kMethods)
        m_method->addItem(QString::fromLatin1(m));
    m_method->setCurrentText(QStringLiteral("mse"));
    auto* live = new QWidget;
    auto* layout = new QVBoxLayout(live);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot, 1);
    layout->addWidget(m_outlier);
    auto* form = new QFormLayout;
    form->addRow(tr("Calibration to try:"), m_method);
    layout->addLayout(form);
    setLiveWidget(live);

    const auto updateTry = [this] {
        const QString m = m_method->currentText();
        Precision p("uint4", Granularity::parse("channel"), Calibration::parse(m.toStdString()));
        setTry(tr("uint4 per channel, calibration %1").arg(m), Plan::uniform(p));
    };
    connect(m_method, &QComboBox::currentTextChanged, this, updateTry);
    updateTry();
    try {
        m_tensor = loadTensor(*lessonModel(), kTensor);
    } catch (const Error& e) {
        setStatus(QString::fromUtf8(e.what()));
        return;
    }
    connect(m_outlier, &QCheckBox::toggled, this, &CalibrationLesson::update);
    update();
}

void CalibrationLesson::update()
{
    m_points = measureCalibrations(m_outlier->isChecked() ? withOutlier(m_tensor, kOutlierFactor)
                                                          : m_tensor);
    QStringList labels;
    QVector<double> sqnr;
    for (const CalibrationPoint& p : m_points) {
        labels << p.method;
        sqnr << p.sqnrDb;
    }
    setBars(m_plot, labels, sqnr, tr("SQNR (dB), higher is better"), 1);
    const auto best =
        std::max_element(m_points.begin(), m_points.end(),
                         [](const auto& a, const auto& b) { return a.sqnrDb < b.sqnrDb; });
    if (best->sqnrDb > m_points.front().sqnrDb) {
        setStatus(tr("Best here: %1, %2 above min-max.")
                      .arg(best->method)
                      .arg(formatDb(best->sqnrDb - m_points.front().sqnrDb)));
    } else {
        setStatus(tr("Nothing beats min-max here: clipping would cost more error than the finer "
                     "grid saves, so every method keeps the min-max range."));
    }
}

} // namespace qs
