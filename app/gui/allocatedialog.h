// "Allocate Automatically": the least-distortion format per tensor within a size budget,
// computed in the background and turned into a new plan of the document.
#pragma once

#include "allocatejob.h"

#include <QDialog>
#include <QPointer>
#include <QThreadPool>

#include <optional>

class QComboBox;
class QFormLayout;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QTableView;

namespace qs {

class AllocSolutionModel;
class Document;
class FrontierPlot;

class AllocateDialog : public QDialog
{
    Q_OBJECT
public:
    enum class BudgetUnit { BitsPerWeight, Bytes };
    Q_ENUM(BudgetUnit)

    explicit AllocateDialog(Document* document, QWidget* parent = nullptr);
    ~AllocateDialog() override;

    Document* document() const;
    AllocateJob* job() { return &m_job; }
    AllocationTablePtr table() const { return m_table; }
    // The latest solution for the current budget, if the budget is feasible.
    const std::optional<alloc::Allocation>& allocation() const { return m_allocation; }
    quint64 budgetBytes() const { return m_budget; }
    FrontierPlot* frontierPlot() const { return m_plot; }
    AllocSolutionModel* solutionModel() const { return m_model; }

    void setBudgetBytes(quint64 bytes); // re-solves at once when the costs are known
    void setBudgetBitsPerWeight(double bpw);

public slots:
    void compute();
    void cancel();
    int createPlan(); // the new plan's index, or -1 when there is no solution

private:
    void buildCostsRow(QFormLayout* form);
    void refreshBasePlans();
    void onBudgetEdited();
    void onUnitChanged();
    void showBudget();
    void onTable(quint64 id, const AllocationTablePtr& table, bool fromCache);
    void resolve();
    void reset();
    void setBusy(bool busy);
    void browseImatrix();
    void refreshRuntimeMeasures(); // enables act and output for models the runtime can run

    QPointer<Document> m_document; // the window owns both; this survives either order
    // Declared before the job: members are destroyed in reverse order, and the job waits for
    // its work on this pool when it goes.
    QThreadPool m_pool;
    AllocateJob m_job;
    AllocationTablePtr m_table;
    std::optional<alloc::Allocation> m_allocation;
    quint64 m_budget = 0;
    bool m_budgetExact = false; // m_budget was given in bytes: new costs keep it as it is
    double m_bpw = 4.5;         // the budget as typed in bits per weight, until costs give it bytes

    QComboBox* m_basePlan;
    QComboBox* m_candidatePreset;
    QLineEdit* m_candidates;
    QComboBox* m_measure;
    QLineEdit* m_imatrixPath;
    QPushButton* m_browse;
    QPushButton* m_compute;
    QPushButton* m_cancel;
    QProgressBar* m_progress;
    QLabel* m_status;
    QDoubleSpinBox* m_budgetSpin;
    QComboBox* m_budgetUnit;
    QLabel* m_summary;
    FrontierPlot* m_plot;
    AllocSolutionModel* m_model;
    QTableView* m_view;
    QLineEdit* m_planName;
    bool m_planNameEdited = false;
    QString m_runtimeReason; // why act and output are disabled; empty when they are not
    QPushButton* m_create;
};

// Shows the document's allocation dialog, creating it on first use; it stays alive (with its
// cached costs) while `parent` does.
void showAllocateDialog(Document* document, QWidget* parent);

} // namespace qs
