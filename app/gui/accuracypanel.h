// The Accuracy tab: the document's plans evaluated on Fashion-MNIST in three activation modes,
// with a table, a bar chart, an accuracy-against-bits curve and, for the selected row, the
// per-layer output SQNR, the confusion matrix and the images the quantization changed.
#pragma once

#include "evaluatejob.h"

#include <QWidget>

class QCheckBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableView;

namespace qs {

class AccuracyBarChart;
class AccuracyBitsPlot;
class AccuracyConfusionPlot;
class AccuracyDisagreements;
class AccuracyLayerPlot;
class AccuracyTableModel;
class Document;

class AccuracyPanel : public QWidget
{
    Q_OBJECT
public:
    // The document supplies the model (when it is a Keras classifier) and the plans; the
    // bundled Fashion-MNIST classifier is evaluated otherwise. An empty bundledModel means
    // the one next to the example model (lessonClassifierPath()).
    explicit AccuracyPanel(Document* document, QWidget* parent = nullptr,
                           const QString& bundledModel = {});

    void setImageCount(int images); // the test subset, 2000 by default
    int imageCount() const;
    void evaluate();     // the table: FP32 and every plan x checked mode
    QCheckBox* qatBox() const { return m_qat; }
    void computeCurve(); // accuracy against weight bits
    void cancel();
    bool isRunning() const;
    void selectRow(int row);

    AccuracyTableModel* tableModel() const { return m_model; }
    EvaluateResultsPtr results() const { return m_results; }
    EvaluateResultsPtr curve() const { return m_curve; }
    AccuracyConfusionPlot* confusionPlot() const { return m_confusion; }
    AccuracyDisagreements* disagreements() const { return m_strip; }

signals:
    void evaluated();     // the table's results arrived
    void curveComputed(); // the bits curve's
    void evaluationFailed(const QString& message);

private:
    enum class Pending { None, Table, Curve };
    EvaluateRequest request() const;
    void startRequest(EvaluateRequest r, Pending what);
    void onResult(quint64 id, const EvaluateResultsPtr& results);
    void onFailed(quint64 id, const QString& message);
    void showSelection();
    void updateModelLine(const EvaluateResultsPtr& evaluated = {});
    void setBusy(bool busy);

    Document* m_document;
    QString m_bundled;
    EvaluateJob* m_job;
    Pending m_pending = Pending::None;
    EvaluateResultsPtr m_results, m_curve;
    AccuracyTableModel* m_model;

    QLabel* m_modelLine;
    QSpinBox* m_images;
    QCheckBox* m_modes[3];
    QCheckBox* m_qat = nullptr; // also each plan after a short quantization-aware fine-tuning
    QPushButton* m_evaluate;
    QPushButton* m_curveButton;
    QPushButton* m_cancel;
    QProgressBar* m_progress;
    QLabel* m_status;
    QTableView* m_table;
    AccuracyBarChart* m_bars;
    AccuracyBitsPlot* m_bits;
    AccuracyLayerPlot* m_layers;
    AccuracyConfusionPlot* m_confusion;
    AccuracyDisagreements* m_strip;
    QLabel* m_stripTitle;
};

} // namespace qs
