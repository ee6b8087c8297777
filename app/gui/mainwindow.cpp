#include "mainwindow.h"

#include "accuracypanel.h"
#include "document.h"
#include "errorsizeplot.h"
#include "exportcontroller.h"
#include "learn/learnpanel.h"
#include "modelplots.h"
#include "reportcontroller.h"
#include "recoverybanner.h"
#include "sessioncontroller.h"
#include "sizebreakdownchart.h"
#include "theme.h"
#include "jobstatuswidget.h"
#include "layerbrowser.h"
#include "layertablemodel.h"
#include "metadatamodel.h"
#include "planactions.h"
#include "planbar.h"
#include "plancompare.h"
#include "plotspanel.h"
#include "precisionpicker.h"
#include "recentfiles.h"
#include "sizechart.h"
#include "sqnrplot.h"

#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QScreen>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QTableView>
#include <QToolBar>
#include <QTreeView>
#include <QUndoStack>
#include <QVBoxLayout>

namespace qs {
namespace {
QString localFileOf(const QMimeData* mime)
{
    if (!mime || !mime->hasUrls() || mime->urls().isEmpty()) return {};
    const QUrl url = mime->urls().constFirst();
    return url.isLocalFile() ? url.toLocalFile() : QString();
}
} // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), m_document(new Document(this)),
      m_model(new LayerTableModel(m_document, this)), m_browser(new LayerBrowser(m_model)),
      m_plots(new PlotsPanel(m_document)), m_size(new SizeChart(m_document)),
      m_sqnr(new SqnrPlot(m_document)), m_metadata(new MetadataModel(m_document, this)),
      m_planBar(new PlanBar(m_document)), m_compare(new PlanComparison(m_document)),
      m_errorSize(new ErrorSizePlot), m_sizeBreakdown(new SizeBreakdownChart),
      m_modelPlots(new ModelPlots(m_document, m_errorSize, m_sizeBreakdown, this)),
      m_learn(new LearnPanel), m_pages(new QTabWidget(this)),
      m_status(new JobStatusWidget(m_document)), m_splitter(new QSplitter(Qt::Vertical, this)),
      m_top(new QSplitter(Qt::Horizontal)), m_side(new QTabWidget)
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(QStringLiteral("QuantScope"));
    setAcceptDrops(true);

    // The table needs width for its thirteen columns and the histograms need width to show a
    // distribution, so they are stacked; the model-wide size chart sits beside the table.
    m_top->setObjectName(QStringLiteral("topSplitter"));
    // The plans as tabs right above the table they drive.
    auto* layers = new QWidget;
    auto* layersLayout = new QVBoxLayout(layers);
    layersLayout->setContentsMargins(0, 0, 0, 0);
    layersLayout->setSpacing(2);
    layersLayout->addWidget(m_planBar);
    layersLayout->addWidget(m_browser, 1);
    m_top->addWidget(layers);
    // Beside the table, what concerns the whole model: its size, every layer's SQNR, and what
    // the file says of itself (GGUF key/values, safetensors __metadata__, ONNX producer, ...).
    auto* metadataView = new QTableView;
    metadataView->setObjectName(QStringLiteral("metadataView"));
    metadataView->setModel(m_metadata);
    metadataView->setWordWrap(false);
    metadataView->setAlternatingRowColors(true);
    metadataView->verticalHeader()->hide();
    metadataView->horizontalHeader()->setStretchLastSection(true);
    metadataView->horizontalHeader()->setSectionResizeMode(MetadataModel::KeyColumn,
                                                           QHeaderView::ResizeToContents);
    metadataView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_side->setObjectName(QStringLiteral("sideTabs"));
    m_side->addTab(m_size, tr("Size"));
    m_side->addTab(m_sqnr, tr("SQNR"));
    m_side->addTab(m_compare, tr("Compare"));
    m_side->addTab(m_errorSize, tr("Error vs size"));
    m_side->addTab(m_sizeBreakdown, tr("Blocks"));
    m_side->setTabToolTip(m_side->indexOf(m_errorSize),
                          tr("Which layers are cheap to keep precise: SQNR against bits per "
                             "weight, one point per layer"));
    m_side->setTabToolTip(m_side->indexOf(m_sizeBreakdown),
                          tr("Size per block as FP32, FP16 and planned, with memory markers"));
    m_side->addTab(metadataView, tr("Metadata"));
    m_top->addWidget(m_side);
    m_top->setStretchFactor(0, 1);
    m_top->setChildrenCollapsible(false);
    m_splitter->setObjectName(QStringLiteral("mainSplitter"));
    m_splitter->addWidget(m_top);
    m_splitter->addWidget(m_plots);
    m_splitter->setChildrenCollapsible(false);
    m_splitter->setContentsMargins(6, 4, 6, 0);
    // The workbench and the Learn pages share the window as two top-level tabs.
    m_pages->setObjectName(QStringLiteral("pages"));
    m_pages->setDocumentMode(true);
    m_pages->addTab(m_splitter, tr("&Workbench"));
    m_accuracy = new AccuracyPanel(m_document);
    m_pages->addTab(m_accuracy, tr("A&ccuracy"));
    m_pages->setTabToolTip(1, tr("What the plans do to a classifier's test accuracy, on the "
                                 "built-in runtime"));
    m_pages->addTab(m_learn, tr("&Learn"));
    setCentralWidget(m_pages);
    statusBar()->addWidget(m_status, 1);

    createToolBar(); // before the menus, whose selection bar goes after it
    createMenus();

    connect(m_browser, &LayerBrowser::currentRowChanged, m_plots, &PlotsPanel::showRow);
    connect(m_browser, &LayerBrowser::currentRowChanged, m_sqnr, &SqnrPlot::setCurrentRow);
    connect(m_sqnr, &SqnrPlot::rowClicked, m_browser, &LayerBrowser::selectSourceRow);
    connect(m_compare, &PlanComparison::rowClicked, m_browser, &LayerBrowser::selectSourceRow);
    connect(m_errorSize, &ErrorSizePlot::layerClicked, m_browser, &LayerBrowser::selectSourceRow);
    // A lesson's "Try it on my model" adds its setting as a new plan: the user's own plans
    // stay as they were, and the comparison shows the difference at once.
    connect(m_learn, &LearnPanel::tryOnModel, this, [this](const QString& what, const Plan& plan) {
        if (!m_document->model()) {
            showError(tr("Open a model first."), tr("The lesson's setting applies to the open model."));
            return;
        }
        m_document->addPlan(m_document->nextPlanName(), plan);
        m_pages->setCurrentIndex(0);
        statusBar()->showMessage(tr("New plan %1: %2").arg(m_document->planName(m_document->activePlan()), what), 10000);
    });
    connect(m_browser, &LayerBrowser::currentRowChanged, m_errorSize,
            &ErrorSizePlot::setSelectedRow);
    // The toolbar shows the active plan's default, whatever changed it (undo, a preset, …).
    const auto showDefault = [this] { m_picker->setPrecision(m_document->plan().defaultPrecision); };
    connect(m_document->undoStack(), &QUndoStack::indexChanged, this, showDefault);
    connect(m_document, &Document::activePlanChanged, this, showDefault);
    // Every metric column links to its explanation: right-click its header.
    QHeaderView* header = m_browser->view()->header();
    header->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(header, &QHeaderView::customContextMenuRequested, this, [this, header](QPoint pos) {
        const int column = header->logicalIndexAt(pos);
        const QString anchor = metricAnchor(column);
        if (anchor.isEmpty()) return;
        QMenu menu(this);
        menu.addAction(tr("Explain \u201c%1\u201d")
                           .arg(m_model->headerData(column, Qt::Horizontal).toString()),
                       this, [this, anchor] { explainMetric(anchor); });
        menu.exec(header->mapToGlobal(pos));
    });
    // The layer table's context menu: what applies to the selected layers.
    m_browser->view()->setContextMenuPolicy(Qt::ActionsContextMenu);
    m_browser->view()->addActions({m_planActions->applyAction(), m_planActions->lockAction(),
                                   m_planActions->rulesAction()});
    // Connected after the table model's own handler, so the rows exist when this runs.
    connect(m_document, &Document::modelOpened, this, &MainWindow::onModelOpened);
    connect(m_document, &Document::openFailed, this, [this](const QString& message) {
        showError(tr("Could not open %1.").arg(QFileInfo(m_requestedPath).fileName()), message);
    });
    connect(m_document, &Document::jobFailed, this, [this](const QString& message) {
        showError(tr("Quantizing %1 failed.").arg(QFileInfo(m_document->path()).fileName()),
                  message);
    });
    restoreLayout();
    m_plots->showRow(-1);
}

MainWindow::~MainWindow()
{
    // The views keep pointers to the document, a child created before them and so deleted
    // before them: take them down first. The undo stack signals as it is cleared on its way out.
    m_document->undoStack()->disconnect(this);
    delete m_pages;
    delete m_status;
    delete m_planActions; // its selection picker lives in a toolbar that goes with the window
}

void MainWindow::createMenus()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open\u2026"), this, &MainWindow::chooseFile);
    open->setShortcut(QKeySequence::Open);
    open->setObjectName(QStringLiteral("openAction"));
    QMenu* recentMenu = file->addMenu(tr("Open &Recent"));
    recentMenu->setObjectName(QStringLiteral("recentMenu"));
    m_recent = new RecentFiles(recentMenu, this);
    connect(m_recent, &RecentFiles::openRequested, this, &MainWindow::openFile);
    file->addSeparator();
    m_export = new ExportController(m_document, this);
    m_exportAction = file->addAction(tr("&Export Quantized Model…"), m_export,
                                     &ExportController::chooseAndExport);
    m_exportAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    m_exportAction->setObjectName(QStringLiteral("exportAction"));
    m_exportAction->setToolTip(tr("Write the model with the current plan as GGUF, packed "
                                  "safetensors or HDF5"));
    m_exportAction->setEnabled(false);
    connect(m_document, &Document::modelOpened, m_exportAction,
            [this] { m_exportAction->setEnabled(true); });
    connect(m_export, &ExportController::exported, this, [this](const QString& path) {
        statusBar()->showMessage(tr("Exported %1").arg(QDir::toNativeSeparators(path)), 8000);
    });
    connect(m_export, &ExportController::exportFailed, this,
            [this](const QString& message) { showError(tr("The export failed."), message); });
    m_reports = new ReportController(m_document, this);
    file->addMenu(m_reports->menu());
    connect(m_reports, &ReportController::failed, this, &MainWindow::showError);
    connect(m_reports, &ReportController::written, this,
            [this](const QString& path, const QString& notes) {
                statusBar()->showMessage(tr("Wrote %1").arg(QDir::toNativeSeparators(path)), 8000);
                if (!notes.isEmpty())
                    showError(tr("Wrote %1, with remarks.").arg(QFileInfo(path).fileName()), notes);
            });
    file->addSeparator();
    m_session = new SessionController(m_document, this);
    m_session->addActions(file);
    connect(m_session, &SessionController::failed, this, &MainWindow::showError);
    connect(m_session, &SessionController::warning, this,
            [this](const QString& text) { showError(text, QString()); });
    connect(m_session, &SessionController::opened, this, [this](const QString& path) {
        if (QFileInfo(path).absolutePath() != QDir(SessionController::autosaveDirectory()).absolutePath())
            m_recent->add(path);
        statusBar()->showMessage(tr("Opened session %1").arg(QDir::toNativeSeparators(path)), 8000);
    });
    connect(m_session, &SessionController::saved, this, [this](const QString& path) {
        m_recent->add(path);
        statusBar()->showMessage(tr("Saved session %1").arg(QDir::toNativeSeparators(path)), 8000);
    });
    // The recovery offer sits above the pages, visible only while there is work to recover.
    auto* central = new QWidget(this);
    auto* centralLayout = new QVBoxLayout(central);
    centralLayout->setContentsMargins(0, 0, 0, 0);
    centralLayout->setSpacing(0);
    takeCentralWidget();
    centralLayout->addWidget(new RecoveryBanner(m_session, central));
    centralLayout->addWidget(m_pages, 1);
    setCentralWidget(central);
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);
    m_planActions = new PlanActions(m_document, m_browser, this); // Edit and Plan menus

    QMenu* view = menuBar()->addMenu(tr("&View"));
    QMenu* themes = view->addMenu(tr("&Theme"));
    themes->setObjectName(QStringLiteral("themeMenu"));
    auto* group = new QActionGroup(themes);
    const QString saved = QSettings().value(QStringLiteral("view/theme")).toString();
    for (const auto& [id, label] : {std::pair{"system", QT_TR_NOOP("&System")},
                                    std::pair{"light", QT_TR_NOOP("&Light")},
                                    std::pair{"dark", QT_TR_NOOP("&Dark")}}) {
        QAction* a = themes->addAction(tr(label));
        a->setCheckable(true);
        a->setData(QString::fromLatin1(id));
        a->setChecked(saved.isEmpty() ? id == std::string_view("system")
                                      : saved == QLatin1String(id));
        group->addAction(a);
        connect(a, &QAction::triggered, this, [name = QString::fromLatin1(id)] {
            theme::apply(name);
            QSettings().setValue(QStringLiteral("view/theme"), name);
        });
    }
    if (!saved.isEmpty() && saved != QLatin1String("system")) theme::apply(saved);

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    QAction* metrics = help->addAction(tr("&Metrics Explained"), this,
                                       [this] { explainMetric(QStringLiteral("sqnr")); });
    metrics->setShortcut(QKeySequence::HelpContents);
    metrics->setObjectName(QStringLiteral("metricsHelpAction"));
    help->addAction(tr("&About QuantScope"), this, [this] {
        QMessageBox::about(this, tr("About QuantScope"),
                           tr("<b>QuantScope %1</b><p>Inspect and compare the quantization of "
                              "neural-network weights.</p>")
                               .arg(QApplication::applicationVersion()));
    });
}

void MainWindow::createToolBar()
{
    QToolBar* bar = addToolBar(tr("Plan"));
    bar->setObjectName(QStringLiteral("planToolBar"));
    bar->setMovable(false);
    bar->addAction(style()->standardIcon(QStyle::SP_DialogOpenButton), tr("Open"), this,
                   &MainWindow::chooseFile)
        ->setToolTip(tr("Open a model file"));
    bar->addSeparator();
    m_picker = new PrecisionPicker(bar);
    m_picker->setObjectName(QStringLiteral("defaultPrecision"));
    m_picker->setPrecision(m_document->plan().defaultPrecision);
    bar->addWidget(m_picker);
    connect(m_picker, &PrecisionPicker::precisionChosen, m_document,
            &Document::setDefaultPrecision);
}

QString MainWindow::metricAnchor(int column)
{
    switch (column) {
    case LayerTableModel::SqnrColumn:
        return QStringLiteral("sqnr");
    case LayerTableModel::VsIdealColumn:
        return QStringLiteral("vs-ideal");
    case LayerTableModel::MseColumn:
        return QStringLiteral("mse");
    case LayerTableModel::BitsColumn:
    case LayerTableModel::BytesBeforeColumn:
    case LayerTableModel::BytesAfterColumn:
        return QStringLiteral("bits");
    case LayerTableModel::CalibrationColumn:
        return QStringLiteral("calibration");
    default:
        return {};
    }
}

void MainWindow::explainMetric(const QString& anchor)
{
    m_pages->setCurrentWidget(m_learn);
    m_learn->explainMetric(anchor);
}

void MainWindow::openFile(const QString& path)
{
    m_requestedPath = path;
    if (path.endsWith(QStringLiteral(".qscope"), Qt::CaseInsensitive))
        m_session->open(path);
    else
        m_document->open(path);
}

void MainWindow::chooseFile()
{
    const QString start = m_document->path().isEmpty()
                              ? QDir::homePath()
                              : QFileInfo(m_document->path()).absolutePath();
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open model"), start,
        tr("Models and sessions (*.safetensors *.json *.gguf *.onnx *.npy *.npz *.pt *.pth *.bin "
           "*.ckpt *.h5 *.hdf5 *.keras *.qscope);;QuantScope sessions (*.qscope);;All files (*)"));
    if (!path.isEmpty()) openFile(path);
}

void MainWindow::onModelOpened()
{
    const QString path = m_document->path();
    setWindowTitle(tr("%1 \u2014 QuantScope").arg(QFileInfo(path).fileName()));
    setWindowFilePath(path);
    m_recent->add(path);
    m_picker->setPrecision(m_document->plan().defaultPrecision);
    m_browser->filterEdit()->clear();
    m_browser->selectFirstRow();
}

void MainWindow::showError(const QString& text, const QString& details)
{
    // One dialog, reused: a burst of failures must not stack up windows. open() keeps the
    // event loop (and the jobs' results) running while it is shown.
    if (!m_errorDialog) {
        m_errorDialog = new QMessageBox(QMessageBox::Warning, tr("QuantScope"), QString(),
                                        QMessageBox::Ok, this);
        m_errorDialog->setObjectName(QStringLiteral("errorDialog"));
    }
    m_errorDialog->setText(text);
    m_errorDialog->setInformativeText(details);
    m_errorDialog->open();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    if (!localFileOf(event->mimeData()).isEmpty()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    const QString path = localFileOf(event->mimeData());
    if (path.isEmpty()) return;
    event->acceptProposedAction();
    openFile(path);
}

void MainWindow::restoreLayout()
{
    // Roomy on a desktop monitor, but never larger than the screen it opens on.
    const QSize available = screen()->availableGeometry().size() * 0.92;
    resize(std::min(1500, available.width()), std::min(900, available.height()));
    m_splitter->setSizes({480, 420});
    m_top->setSizes({1180, 320});
    const QSettings settings;
    if (const QByteArray g = settings.value(QStringLiteral("window/geometry")).toByteArray();
        !g.isEmpty())
        restoreGeometry(g);
    m_splitter->restoreState(settings.value(QStringLiteral("window/splitter")).toByteArray());
    m_top->restoreState(settings.value(QStringLiteral("window/topSplitter")).toByteArray());
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/splitter"), m_splitter->saveState());
    settings.setValue(QStringLiteral("window/topSplitter"), m_top->saveState());
    m_document->cancel(); // the jobs stop at their next chunk instead of finishing the model
    m_session->closing(); // unsaved work stays recoverable; otherwise nothing is left behind
    QMainWindow::closeEvent(event);
}

} // namespace qs
