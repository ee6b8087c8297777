// The application window: menus, the layer table, the plots and the status bar, wired up.
#pragma once

#include <QMainWindow>

class QAction;
class QMessageBox;
class QSplitter;
class QTabWidget;

namespace qs {

class Document;
class AccuracyPanel;
class ErrorSizePlot;
class ExportController;
class LearnPanel;
class ModelPlots;
class ReportController;
class SessionController;
class SizeBreakdownChart;
class JobStatusWidget;
class LayerBrowser;
class LayerTableModel;
class MetadataModel;
class PlanActions;
class PlanBar;
class PlanComparison;
class PlotsPanel;
class PrecisionPicker;
class RecentFiles;
class SizeChart;
class SqnrPlot;

class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // A model or a .qscope session; asynchronous, errors appear in errorDialog().
    void openFile(const QString& path);
    // Shows a metric's explanation in the Learn page (anchors of resources/lessons/metrics.html).
    void explainMetric(const QString& anchor);
    static QString metricAnchor(int layerTableColumn); // empty for columns that are no metric

    Document* document() const { return m_document; }
    LayerTableModel* layerModel() const { return m_model; }
    LayerBrowser* layerBrowser() const { return m_browser; }
    PlotsPanel* plotsPanel() const { return m_plots; }
    SizeChart* sizeChart() const { return m_size; }
    SqnrPlot* sqnrPlot() const { return m_sqnr; }
    QTabWidget* sideTabs() const { return m_side; }
    MetadataModel* metadataModel() const { return m_metadata; }
    PrecisionPicker* defaultPrecisionPicker() const { return m_picker; }
    JobStatusWidget* jobStatus() const { return m_status; }
    ExportController* exporter() const { return m_export; }
    PlanActions* planActions() const { return m_planActions; }
    PlanBar* planBar() const { return m_planBar; }
    PlanComparison* planComparison() const { return m_compare; }
    ErrorSizePlot* errorSizePlot() const { return m_errorSize; }
    SizeBreakdownChart* sizeBreakdown() const { return m_sizeBreakdown; }
    LearnPanel* learnPanel() const { return m_learn; }
    QTabWidget* pages() const { return m_pages; } // Workbench, Accuracy and Learn
    AccuracyPanel* accuracyPanel() const { return m_accuracy; }
    SessionController* sessions() const { return m_session; }
    ReportController* reports() const { return m_reports; }
    QMessageBox* errorDialog() const { return m_errorDialog; } // null until the first error

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void closeEvent(QCloseEvent* event) override;

private:
    void createMenus();
    void createToolBar();
    void chooseFile();
    void onModelOpened();
    void showError(const QString& text, const QString& details);
    void restoreLayout();

    Document* m_document;
    LayerTableModel* m_model;
    LayerBrowser* m_browser;
    PlotsPanel* m_plots;
    SizeChart* m_size;
    SqnrPlot* m_sqnr;
    MetadataModel* m_metadata;
    PlanBar* m_planBar;
    PlanComparison* m_compare;
    PlanActions* m_planActions = nullptr;
    ErrorSizePlot* m_errorSize;
    SizeBreakdownChart* m_sizeBreakdown;
    ModelPlots* m_modelPlots;
    LearnPanel* m_learn;
    AccuracyPanel* m_accuracy = nullptr;
    QTabWidget* m_pages;
    SessionController* m_session = nullptr;
    ReportController* m_reports = nullptr;
    PrecisionPicker* m_picker = nullptr;
    JobStatusWidget* m_status;
    QSplitter* m_splitter; // table and size chart above, the layer's plots below
    QSplitter* m_top;
    QTabWidget* m_side; // model-wide views beside the table: size, SQNR, metadata
    RecentFiles* m_recent = nullptr;
    ExportController* m_export = nullptr;
    QAction* m_exportAction = nullptr;
    QMessageBox* m_errorDialog = nullptr; // a child of the window, reused for every error
    QString m_requestedPath;              // what the last open asked for, to name it when it fails
};

} // namespace qs
