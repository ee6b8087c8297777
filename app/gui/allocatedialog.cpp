#include "allocatedialog.h"

#include "alloc/model_run.h"
#include "allocpresentation.h"
#include "allocsolutionmodel.h"
#include "core/error.h"
#include "document.h"
#include "frontierplot.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTableView>
#include <QThread>
#include <QVBoxLayout>

#include <algorithm>

namespace qs {
namespace {
QPushButton* button(const QString& text, const char* name)
{
    auto* b = new QPushButton(text);
    b->setObjectName(QLatin1String(name));
    return b;
}
} // namespace

AllocateDialog::AllocateDialog(Document* document, QWidget* parent)
    : QDialog(parent), m_document(document), m_job(&m_pool), m_basePlan(new QComboBox),
      m_candidatePreset(new QComboBox), m_candidates(new QLineEdit), m_measure(new QComboBox),
      m_imatrixPath(new QLineEdit), m_browse(button(tr("Browse…"), "browseImatrix")),
      m_compute(button(tr("Compute"), "computeButton")),
      m_cancel(button(tr("Cancel"), "cancelButton")), m_progress(new QProgressBar),
      m_status(new QLabel), m_budgetSpin(new QDoubleSpinBox), m_budgetUnit(new QComboBox),
      m_summary(new QLabel), m_plot(new FrontierPlot), m_model(new AllocSolutionModel(this)),
      m_view(new QTableView), m_planName(new QLineEdit),
      m_create(button(tr("Create plan"), "createPlanButton"))
{
    setObjectName(QStringLiteral("allocateDialog"));
    setWindowTitle(tr("Allocate Automatically"));
    setModal(false);
    // Leave a core for the window; the costs are many independent quantizations.
    m_pool.setMaxThreadCount(std::max(1, QThread::idealThreadCount() - 1));

    auto* form = new QFormLayout;
    m_basePlan->setObjectName(QStringLiteral("basePlan"));
    m_basePlan->setToolTip(tr("Its locked tensors and the precisions its entries and rules name "
                              "stay as they are; the allocation chooses for every other tensor."));
    form->addRow(tr("Base plan:"), m_basePlan);
    buildCostsRow(form);

    m_budgetSpin->setObjectName(QStringLiteral("budgetSpin"));
    m_budgetUnit->setObjectName(QStringLiteral("budgetUnit"));
    m_budgetUnit->addItem(tr("bits per weight"), QVariant::fromValue(BudgetUnit::BitsPerWeight));
    m_budgetUnit->addItem(tr("bytes"), QVariant::fromValue(BudgetUnit::Bytes));
    m_budgetSpin->setKeyboardTracking(false); // one solve per finished number, not per digit
    auto* budgetRow = new QHBoxLayout;
    budgetRow->addWidget(m_budgetSpin, 1);
    budgetRow->addWidget(m_budgetUnit);
    form->addRow(tr("Budget:"), budgetRow);
    m_summary->setObjectName(QStringLiteral("summaryLabel"));
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow(tr("Solution:"), m_summary);

    auto* proxy = new QSortFilterProxyModel(this);
    proxy->setSourceModel(m_model);
    proxy->setSortRole(AllocSolutionModel::SortRole);
    m_view->setObjectName(QStringLiteral("solutionTable"));
    m_view->setModel(proxy);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(-1, Qt::AscendingOrder); // model order until a header is clicked
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setWordWrap(false);
    m_view->verticalHeader()->hide();
    m_view->horizontalHeader()->setStretchLastSection(true);
    auto* splitter = new QSplitter(Qt::Vertical);
    splitter->addWidget(m_plot);
    splitter->addWidget(m_view);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    splitter->setSizes({460, 240}); // the plot first: the table's size hint asks for too much

    m_planName->setObjectName(QStringLiteral("planName"));
    auto* bottom = new QHBoxLayout;
    bottom->addWidget(new QLabel(tr("New plan:")));
    bottom->addWidget(m_planName, 1);
    bottom->addWidget(m_create);
    auto* close = new QDialogButtonBox(QDialogButtonBox::Close);
    bottom->addWidget(close);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(splitter, 1);
    layout->addLayout(bottom);
    resize(900, 760);

    connect(close, &QDialogButtonBox::rejected, this, &QDialog::hide);
    connect(m_compute, &QPushButton::clicked, this, &AllocateDialog::compute);
    connect(m_cancel, &QPushButton::clicked, this, &AllocateDialog::cancel);
    connect(m_create, &QPushButton::clicked, this, &AllocateDialog::createPlan);
    connect(m_budgetSpin, &QDoubleSpinBox::valueChanged, this, &AllocateDialog::onBudgetEdited);
    connect(m_budgetUnit, &QComboBox::currentIndexChanged, this, &AllocateDialog::onUnitChanged);
    connect(m_planName, &QLineEdit::textEdited, this, [this] { m_planNameEdited = true; });
    connect(m_plot, &FrontierPlot::pointClicked, this, [this](int k) {
        if (m_table && k >= 0 && static_cast<std::size_t>(k) < m_table->frontier.size())
            setBudgetBytes(m_table->frontier[static_cast<std::size_t>(k)].bytes);
    });
    connect(&m_job, &AllocateJob::progress, this, [this](quint64 done, quint64 total) {
        m_progress->setRange(0, static_cast<int>(total)); // 0..0: busy until the count is known
        m_progress->setValue(static_cast<int>(done));
    });
    connect(&m_job, &AllocateJob::resultReady, this, &AllocateDialog::onTable);
    connect(&m_job, &AllocateJob::failed, this, [this](quint64, const QString& message) {
        setBusy(false);
        m_status->setText(tr("Failed: %1").arg(message));
    });
    connect(m_document, &Document::modelAboutToChange, this, &AllocateDialog::reset);
    connect(m_document, &Document::modelOpened, this, &AllocateDialog::refreshBasePlans);
    connect(m_document, &Document::modelOpened, this, &AllocateDialog::refreshRuntimeMeasures);
    connect(m_document, &Document::plansChanged, this, &AllocateDialog::refreshBasePlans);

    refreshBasePlans();
    refreshRuntimeMeasures();
    showBudget();
    setBusy(false);
    reset();
}

AllocateDialog::~AllocateDialog() = default;

Document* AllocateDialog::document() const
{
    return m_document;
}

void AllocateDialog::buildCostsRow(QFormLayout* form)
{
    m_candidatePreset->setObjectName(QStringLiteral("candidatePreset"));
    for (const auto& p : allocview::candidatePresets())
        m_candidatePreset->addItem(p.label, p.list);
    m_candidatePreset->addItem(tr("Custom"));
    m_candidates->setObjectName(QStringLiteral("candidatesEdit"));
    m_candidates->setText(QString::fromLatin1(alloc::kDefaultCandidates));
    m_candidates->setToolTip(tr("Formats the allocation may choose from, separated by commas; "
                                "integer formats take a granularity: int4@channel, "
                                "int4@group:128."));
    connect(m_candidatePreset, &QComboBox::activated, this, [this](int i) {
        const QString list = m_candidatePreset->itemData(i).toString();
        if (!list.isEmpty()) m_candidates->setText(list);
    });
    connect(m_candidates, &QLineEdit::textChanged, this, [this](const QString& text) {
        const int i = m_candidatePreset->findData(text);
        m_candidatePreset->setCurrentIndex(i >= 0 ? i : m_candidatePreset->count() - 1);
    });
    auto* candidates = new QHBoxLayout;
    candidates->addWidget(m_candidatePreset);
    candidates->addWidget(m_candidates, 1);
    form->addRow(tr("Candidates:"), candidates);

    m_measure->setObjectName(QStringLiteral("measure"));
    m_measure->addItem(tr("squared error (mse)"), QStringLiteral("mse"));
    m_measure->addItem(tr("importance-weighted (imatrix)"), QStringLiteral("imatrix"));
    m_measure->addItem(tr("importance from the model's activations (act)"), QStringLiteral("act"));
    m_measure->addItem(tr("change of the model's outputs (output)"), QStringLiteral("output"));
    m_imatrixPath->setObjectName(QStringLiteral("imatrixPath"));
    m_imatrixPath->setPlaceholderText(tr("llama.cpp importance matrix (.dat or .gguf)"));
    auto updateMeasure = [this] {
        const bool imatrix = m_measure->currentData().toString() == QLatin1String("imatrix");
        m_imatrixPath->setEnabled(imatrix);
        m_browse->setEnabled(imatrix);
    };
    connect(m_measure, &QComboBox::currentIndexChanged, this, updateMeasure);
    connect(m_browse, &QPushButton::clicked, this, &AllocateDialog::browseImatrix);
    updateMeasure();
    auto* measure = new QHBoxLayout;
    measure->addWidget(m_measure);
    measure->addWidget(m_imatrixPath, 1);
    measure->addWidget(m_browse);
    form->addRow(tr("Measure:"), measure);

    m_progress->setObjectName(QStringLiteral("progressBar"));
    m_progress->setFormat(tr("%v / %m evaluations"));
    m_status->setObjectName(QStringLiteral("statusLabel"));
    m_status->setWordWrap(true);
    m_status->setAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    auto* run = new QHBoxLayout;
    run->addWidget(m_compute);
    run->addWidget(m_cancel);
    run->addWidget(m_progress);
    run->addWidget(m_status, 1);
    form->addRow(QString(), run);
}

void AllocateDialog::browseImatrix()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Importance Matrix"), m_imatrixPath->text(),
        tr("Importance matrices (*.dat *.gguf *.imatrix);;All files (*)"));
    if (!path.isEmpty()) m_imatrixPath->setText(path);
}

void AllocateDialog::refreshRuntimeMeasures()
{
    // The Accuracy page's condition: a Keras classifier of 28x28x1 images the runtime loads.
    // Other formats are refused without loading (that could take long for a large model).
    QString why;
    const Model* model = m_document ? m_document->model() : nullptr;
    if (!model)
        why = tr("no model is open");
    else if (model->format != "keras-h5")
        why = tr("the open model is not a Keras classifier");
    else
        why = QString::fromStdString(alloc::notRunnableReason(model->path));
    m_runtimeReason = why;
    auto* items = qobject_cast<QStandardItemModel*>(m_measure->model());
    for (int i = 0; i < m_measure->count(); ++i) {
        const QString id = m_measure->itemData(i).toString();
        if (id != QLatin1String("act") && id != QLatin1String("output")) continue;
        items->item(i)->setEnabled(why.isEmpty());
        m_measure->setItemData(
            i,
            why.isEmpty()
                ? (id == QLatin1String("act")
                       ? tr("Weights each input column by its mean squared activation on %1 "
                            "Fashion-MNIST training images.")
                       : tr("The mean squared change of the logits on %1 Fashion-MNIST training "
                            "images with only that tensor quantized; tensors are assumed to add "
                            "up. One model run per tensor and format."))
                      .arg(alloc::kDefaultCalibrationImages)
                : tr("Needs a model the runtime can run: %1.").arg(why),
            Qt::ToolTipRole);
    }
    if (!why.isEmpty()) {
        const QString id = m_measure->currentData().toString();
        if (id == QLatin1String("act") || id == QLatin1String("output"))
            m_measure->setCurrentIndex(0);
    }
}

void AllocateDialog::refreshBasePlans()
{
    if (!m_document) return;
    const QString current = m_basePlan->currentText();
    m_basePlan->clear();
    for (int i = 0; i < m_document->planCount(); ++i)
        m_basePlan->addItem(m_document->planName(i), i);
    const int keep = m_basePlan->findText(current);
    m_basePlan->setCurrentIndex(keep >= 0 ? keep : m_document->activePlan());
}

void AllocateDialog::compute()
{
    if (!m_document || !m_document->model()) {
        m_status->setText(tr("Open a model first."));
        return;
    }
    std::vector<alloc::Candidate> candidates;
    alloc::Measure measure;
    try {
        candidates = alloc::parseCandidates(m_candidates->text().toStdString());
        if (m_measure->currentData().toString() == QLatin1String("imatrix")) {
            if (m_imatrixPath->text().isEmpty()) throw Error("choose an importance matrix file");
            std::string text = "imatrix:";
            text += m_imatrixPath->text().toStdString();
            measure = alloc::parseMeasure(text);
        } else if (const QString id = m_measure->currentData().toString();
                   id == QLatin1String("act") || id == QLatin1String("output")) {
            if (!m_runtimeReason.isEmpty())
                throw Error(tr("the %1 measure needs a model the runtime can run: %2")
                                .arg(id, m_runtimeReason)
                                .toStdString());
            measure = alloc::parseMeasure(id.toStdString());
        }
    } catch (const Error& e) {
        m_status->setText(tr("Cannot compute: %1").arg(QString::fromUtf8(e.what())));
        return;
    }
    const int plan = std::clamp(m_basePlan->currentIndex(), 0, m_document->planCount() - 1);
    setBusy(true);
    m_status->setText(measure.runtime == alloc::Measure::Runtime::None
                          ? tr("Quantizing every tensor in every candidate format…")
                          : tr("Running calibration images through the model for every tensor "
                               "and format…"));
    std::vector<std::string> labels;
    for (const auto& c : candidates)
        labels.push_back(c.label);
    const Plan& base = m_document->planAt(plan);
    std::shared_ptr<const alloc::CostTableRecord> stored;
    if (const auto* t = m_document->findCostTable(measure.key(), labels, base.toJson()))
        stored = std::make_shared<const alloc::CostTableRecord>(*t);
    m_job.start(m_document->sharedModel(), base, candidates, measure, std::move(stored));
}

void AllocateDialog::cancel()
{
    m_job.cancel();
    setBusy(false);
    m_status->setText(tr("Cancelled."));
}

void AllocateDialog::setBusy(bool busy)
{
    m_compute->setEnabled(!busy);
    m_cancel->setEnabled(busy);
    m_progress->setVisible(busy);
    if (busy) m_progress->setRange(0, 0);
}

void AllocateDialog::onTable(quint64, const AllocationTablePtr& table, bool fromCache)
{
    setBusy(false);
    m_table = table;
    const auto formats = table->table.candidates.size();
    const bool stored = !fromCache && table->table.reused > 0;
    m_status->setText((fromCache ? tr("Costs of %1 tensors in %2 formats (from the cache).")
                       : stored  ? tr("Costs of %1 tensors in %2 formats (from the session).")
                                 : tr("Costs of %1 tensors in %2 formats computed."))
                          .arg(table->table.tensors.size())
                          .arg(formats));
    // Kept with the document, so that a saved session keeps them too.
    if (m_document && !fromCache && table->model == m_document->sharedModel())
        m_document->rememberCostTable(
            alloc::costRecord(*table->model, table->table, table->measureKey, table->base.toJson()));
    m_plot->setData(allocview::plotData(*table));
    resolve();
}

void AllocateDialog::setBudgetBytes(quint64 bytes)
{
    m_budget = bytes;
    m_budgetExact = true;
    if (m_table) m_bpw = m_table->bitsPerWeight(bytes);
    showBudget();
    resolve();
}

void AllocateDialog::setBudgetBitsPerWeight(double bpw)
{
    m_bpw = bpw;
    m_budgetExact = false;
    if (m_table) m_budget = m_table->budgetFromBpw(bpw);
    showBudget();
    resolve();
}

void AllocateDialog::onBudgetEdited()
{
    if (m_budgetUnit->currentData().value<BudgetUnit>() == BudgetUnit::BitsPerWeight)
        setBudgetBitsPerWeight(m_budgetSpin->value());
    else
        setBudgetBytes(static_cast<quint64>(m_budgetSpin->value()));
}

void AllocateDialog::onUnitChanged()
{
    showBudget(); // the same budget in other units: nothing to solve again
}

void AllocateDialog::showBudget()
{
    const QSignalBlocker block(m_budgetSpin);
    if (m_budgetUnit->currentData().value<BudgetUnit>() == BudgetUnit::BitsPerWeight) {
        m_budgetSpin->setDecimals(3);
        m_budgetSpin->setRange(0.0, 64.0);
        m_budgetSpin->setSingleStep(0.125);
        m_budgetSpin->setValue(m_bpw);
    } else {
        m_budgetSpin->setDecimals(0);
        m_budgetSpin->setRange(0.0, 1e15); // doubles hold every byte count up to 2^53 exactly
        m_budgetSpin->setSingleStep(1024.0 * 1024.0);
        m_budgetSpin->setValue(static_cast<double>(m_budget));
    }
}

void AllocateDialog::resolve()
{
    m_allocation.reset();
    if (!m_table) return;
    if (!m_budgetExact) {
        m_budget = m_table->budgetFromBpw(m_bpw);
        showBudget();
    }
    try {
        m_allocation = m_table->solve(m_budget);
    } catch (const Error& e) {
        m_model->setRows({});
        m_plot->setChosen(std::nullopt);
        m_summary->setText(QString::fromUtf8(e.what()));
        m_create->setEnabled(false);
        return;
    }
    m_model->setRows(allocview::rows(*m_table, *m_allocation));
    m_view->resizeColumnsToContents();
    const auto& s = m_allocation->solution;
    m_plot->setChosen(FrontierPlotData::Point{s.bytes, s.distortion});
    QStringList lines{allocview::summary(*m_table, *m_allocation)};
    lines << allocview::mixLines(*m_table);
    m_summary->setText(lines.join(QLatin1Char('\n')));
    if (!m_planNameEdited) m_planName->setText(allocview::planName(m_bpw));
    m_create->setEnabled(true);
}

void AllocateDialog::reset()
{
    m_job.cancel();
    m_job.clearCache(); // the cached tables hold the old model open
    m_table.reset();
    m_allocation.reset();
    m_model->setRows({});
    m_plot->setData({});
    m_summary->setText(tr("Compute the candidate costs, then choose a budget."));
    m_create->setEnabled(false);
    setBusy(false);
}

int AllocateDialog::createPlan()
{
    if (!m_document || !m_allocation || !m_table || m_table->model != m_document->sharedModel())
        return -1;
    QString name = m_planName->text().trimmed();
    if (name.isEmpty()) name = allocview::planName(m_bpw);
    return m_document->addPlan(name, m_allocation->plan);
}

void showAllocateDialog(Document* document, QWidget* parent)
{
    AllocateDialog* dialog = nullptr;
    const auto existing =
        parent->findChildren<AllocateDialog*>(QString(), Qt::FindDirectChildrenOnly);
    for (AllocateDialog* d : existing)
        if (d->document() == document) dialog = d;
    if (!dialog) dialog = new AllocateDialog(document, parent);
    dialog->show();
    dialog->raise();
    dialog->activateWindow();
}

} // namespace qs
