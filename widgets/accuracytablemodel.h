// The accuracy table: one row per evaluation (FP32, then each plan x activation mode) with its
// accuracy, agreement with the float model and KL divergence.
#pragma once

#include "evaluatejob.h"

#include <QAbstractTableModel>

namespace qs {

class AccuracyTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { Setting, Mode, Accuracy, Agreement, Kl, ColumnCount };
    static constexpr int SortRole = Qt::UserRole + 1; // the raw number

    explicit AccuracyTableModel(QObject* parent = nullptr);

    void setResults(const EvaluateResultsPtr& results); // null clears the table
    EvaluateResultsPtr results() const { return m_results; }
    const EvaluateRow* rowAt(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

private:
    EvaluateResultsPtr m_results;
};

} // namespace qs
