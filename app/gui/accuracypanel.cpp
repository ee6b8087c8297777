#include "accuracypanel.h"

#include "accuracyconfusion.h"
#include "accuracydisagreements.h"
#include "accuracyplots.h"
#include "accuracytablemodel.h"
#include "document.h"
#include "learn/lessondata.h"

#include <QCheckBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

namespace qs {

AccuracyPanel::AccuracyPanel(Document* document, QWidget* parent, const QString& bundledModel)
    : QWidget(parent), m_document(document),
      m_bundled(bundledModel.isEmpty() ? lessonClassifierPath() : bundledModel),
      m_job(new EvaluateJob(this)), m_model(new AccuracyTableModel(this)), m_modelLine(new QLabel),
      m_images(new QSpinBox), m_evaluate(new QPushButton(tr("Evaluate"))),
      m_curveButton(new QPushButton(tr("Accuracy against bits"))),
      m_cancel(new QPushButton(tr("Cancel"))), m_progress(new QProgressBar), m_status(new QLabel),
      m_table(new QTableView), m_bars(new AccuracyBarChart), m_bits(new AccuracyBitsPlot),
      m_layers(new AccuracyLayerPlot), m_confusion(new AccuracyConfusionPlot),
      m_strip(new AccuracyDisagreements), m_stripTitle(new QLabel)
{
    setObjectName(QStringLiteral("accuracyPanel"));
    m_modelLine->setWordWrap(true);
    m_modelLine->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_images->setRange(10, 10000);
    m_images->setSingleStep(500);
    m_images->setValue(2000);
    m_images->setToolTip(tr("How many Fashion-MNIST test images to evaluate (the first ones). "
                            "Static ranges are calibrated on 512 training images."));
    m_curveButton->setToolTip(tr("Weight-only per-channel int8, int7, … int2: where accuracy "
                                 "breaks down"));
    m_evaluate->setObjectName(QStringLiteral("evaluateButton"));
    m_curveButton->setObjectName(QStringLiteral("curveButton"));
    m_cancel->setObjectName(QStringLiteral("cancelButton"));
    m_cancel->setEnabled(false);
    m_progress->setVisible(false);

    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Test images:")));
    controls->addWidget(m_images);
    controls->addSpacing(12);
    const nn::ActivationMode modes[] = {nn::ActivationMode::None, nn::ActivationMode::Dynamic,
                                        nn::ActivationMode::Static};
    for (int i = 0; i < 3; ++i) {
        m_modes[i] = new QCheckBox(activationModeName(modes[i]));
        m_modes[i]->setChecked(true);
        controls->addWidget(m_modes[i]);
    }
    m_modes[0]->setToolTip(tr("Quantized weights, float activations"));
    m_modes[1]->setToolTip(tr("Also int8 activations, each image's own range per layer"));
    m_modes[2]->setToolTip(tr("Also int8 activations, min/max ranges calibrated beforehand"));
    m_qat = new QCheckBox(tr("QAT"));
    m_qat->setObjectName(QStringLiteral("qatBox"));
    m_qat->setToolTip(tr("Also each plan after quantization-aware fine-tuning (one epoch on "
                         "4,000 training images, weights fake-quantized): how much of what "
                         "post-training quantization loses it wins back. Takes longer."));
    controls->addWidget(m_qat);
    controls->addSpacing(12);
    controls->addWidget(m_evaluate);
    controls->addWidget(m_curveButton);
    controls->addWidget(m_cancel);
    controls->addWidget(m_progress, 1);
    controls->addWidget(m_status, 1);

    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->setVisible(false);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);

    auto* left = new QSplitter(Qt::Vertical);
    left->addWidget(m_table);
    left->addWidget(m_bars);
    left->setSizes({260, 420}); // a handful of rows; the chart needs the height
    auto* tabs = new QTabWidget;
    tabs->addTab(m_confusion, tr("Confusion matrix"));
    tabs->addTab(m_layers, tr("Per-layer SQNR"));
    tabs->addTab(m_bits, tr("Accuracy against bits"));
    auto* split = new QSplitter(Qt::Horizontal);
    split->addWidget(left);
    split->addWidget(tabs);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_modelLine);
    layout->addLayout(controls);
    layout->addWidget(split, 1);
    layout->addWidget(m_stripTitle);
    layout->addWidget(m_strip);

    connect(m_evaluate, &QPushButton::clicked, this, &AccuracyPanel::evaluate);
    connect(m_curveButton, &QPushButton::clicked, this, &AccuracyPanel::computeCurve);
    connect(m_cancel, &QPushButton::clicked, this, &AccuracyPanel::cancel);
    connect(m_job, &EvaluateJob::progress, this, [this](int done, int total) {
        m_progress->setRange(0, total);
        m_progress->setValue(done);
    });
    connect(m_job, &EvaluateJob::resultReady, this, &AccuracyPanel::onResult);
    connect(m_job, &EvaluateJob::failed, this, &AccuracyPanel::onFailed);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &AccuracyPanel::showSelection);
    // Results of another model or other plans would be misleading next to the new ones.
    connect(document, &Document::modelOpened, this, [this] {
        cancel();
        m_results.reset();
        m_curve.reset();
        m_model->setResults({});
        m_bars->setResults({});
        m_bits->setResults({});
        showSelection();
        updateModelLine();
    });
    connect(document, &Document::plansChanged, this, [this] { updateModelLine(); });
    updateModelLine();
    showSelection();
}

void AccuracyPanel::setImageCount(int images)
{
    m_images->setValue(images);
}
int AccuracyPanel::imageCount() const
{
    return m_images->value();
}
bool AccuracyPanel::isRunning() const
{
    return m_job->isRunning();
}

EvaluateRequest AccuracyPanel::request() const
{
    EvaluateRequest r;
    r.modelPath = m_document->path();
    r.fallbackModelPath = m_bundled;
    r.images = m_images->value();
    for (int i = 0; i < m_document->planCount(); ++i)
        r.plans.push_back({m_document->planName(i), m_document->planAt(i)});
    const nn::ActivationMode modes[] = {nn::ActivationMode::None, nn::ActivationMode::Dynamic,
                                        nn::ActivationMode::Static};
    for (int i = 0; i < 3; ++i)
        if (m_modes[i]->isChecked()) r.modes.push_back(modes[i]);
    r.qat = m_qat->isChecked();
    return r;
}

void AccuracyPanel::evaluate()
{
    startRequest(request(), Pending::Table);
}

void AccuracyPanel::computeCurve()
{
    EvaluateRequest r = request();
    r.kind = EvaluateRequest::Kind::BitsSweep;
    r.plans.clear();
    startRequest(r, Pending::Curve);
    m_bits->setComputing(true);
}

void AccuracyPanel::startRequest(EvaluateRequest r, Pending what)
{
    if (m_pending == Pending::Curve) m_bits->setComputing(false);
    m_pending = what;
    m_job->start(r);
    m_status->setText(what == Pending::Curve ? tr("Computing the bits curve…") : tr("Evaluating…"));
    m_progress->setRange(0, 0); // busy until the first batch reports
    setBusy(true);
}

void AccuracyPanel::cancel()
{
    if (!m_job->isRunning()) return;
    m_job->cancel();
    if (m_pending == Pending::Curve) m_bits->setComputing(false);
    m_pending = Pending::None;
    m_status->setText(tr("Cancelled."));
    setBusy(false);
}

void AccuracyPanel::setBusy(bool busy)
{
    m_progress->setVisible(busy);
    m_status->setVisible(!busy);
    m_cancel->setEnabled(busy);
    m_evaluate->setEnabled(!busy);
    m_curveButton->setEnabled(!busy);
}

void AccuracyPanel::onResult(quint64, const EvaluateResultsPtr& results)
{
    const Pending what = m_pending;
    m_pending = Pending::None;
    setBusy(false);
    m_status->setText(tr("%1 test images.").arg(results->test ? results->test->count : 0));
    updateModelLine(results);
    if (what == Pending::Curve) {
        m_curve = results;
        m_bits->setResults(results);
        emit curveComputed();
        return;
    }
    m_results = results;
    m_model->setResults(results);
    m_bars->setResults(results);
    selectRow(results->rows.size() > 1 ? 1 : 0); // the first quantized row says the most
    emit evaluated();
}

void AccuracyPanel::onFailed(quint64, const QString& message)
{
    if (m_pending == Pending::Curve) m_bits->setComputing(false);
    m_pending = Pending::None;
    setBusy(false);
    m_status->setText(tr("Failed: %1").arg(message));
    emit evaluationFailed(message);
}

void AccuracyPanel::selectRow(int row)
{
    m_table->selectRow(row);
    m_table->setCurrentIndex(m_model->index(row, 0));
    showSelection();
}

void AccuracyPanel::showSelection()
{
    const EvaluateRow* row = m_model->rowAt(m_table->currentIndex().row());
    m_layers->setRow(row);
    m_confusion->setRow(m_results, row);
    m_strip->setRow(m_results, row);
    if (!row)
        m_stripTitle->setText(tr("Images where the float and the quantized model disagree: "
                                 "select a quantized row."));
    else if (row->isFloat)
        m_stripTitle->setText(tr("The float model agrees with itself: select a quantized row to "
                                 "see the images it changes."));
    else
        m_stripTitle->setText(tr("%1: %2 of %3 images predicted differently from FP32%4")
                                  .arg(row->label)
                                  .arg(m_strip->disagreementCount())
                                  .arg(m_results->test->count)
                                  .arg(m_strip->count() < m_strip->disagreementCount()
                                           ? tr(" (the first %1 shown)").arg(m_strip->count())
                                           : QString()));
}

void AccuracyPanel::updateModelLine(const EvaluateResultsPtr& evaluated)
{
    const QString name = QFileInfo(m_document->path()).fileName();
    if (evaluated) {
        const QString used = QFileInfo(evaluated->modelPath).fileName();
        m_modelLine->setText(
            evaluated->fallbackReason.isEmpty()
                ? tr("Evaluated <b>%1</b>, the open model, with each plan's weights dequantized.")
                      .arg(used)
                : tr("Evaluated the bundled classifier <b>%1</b> with each plan's rules: %2 "
                     "cannot be run here (%3).")
                      .arg(used, name.isEmpty() ? tr("no model") : name,
                           evaluated->fallbackReason.toHtmlEscaped()));
        return;
    }
    const bool keras = name.endsWith(QStringLiteral(".h5"), Qt::CaseInsensitive);
    m_modelLine->setText(
        keras ? tr("Evaluates <b>%1</b> (the open model) on Fashion-MNIST for %2 plan(s); the "
                   "bundled classifier if it cannot be run.")
                    .arg(name)
                    .arg(m_document->planCount())
              : tr("Evaluates the bundled classifier <b>%1</b> on Fashion-MNIST with the rules of "
                   "%2 plan(s): the open model is not a Keras classifier.")
                    .arg(QFileInfo(m_bundled).fileName())
                    .arg(m_document->planCount()));
}

} // namespace qs
