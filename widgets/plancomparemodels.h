// Item models of the plan comparison: one row of totals per plan, and the layers where two
// plans differ most.
#pragma once

#include <QAbstractTableModel>

#include <optional>
#include <vector>

namespace qs {

class Document;

// Totals of one plan over the tensors computed so far.
struct PlanTotals
{
    quint64 bytesBefore = 0, bytesAfter = 0;
    qint64 params = 0;
    std::optional<double> sqnrDb; // pooled: 10·log10(Σw² / Σe²) over quantized tensors
    int computed = 0, tensors = 0;
};
PlanTotals planTotals(const Document& doc, int plan);

class PlanTotalsModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column : int { PlanColumn, SizeColumn, BitsColumn, CompressionColumn, SqnrColumn, ColumnCount };
    explicit PlanTotalsModel(Document* doc, QObject* parent = nullptr);
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;
    void refresh();

private:
    Document* m_doc;
    std::vector<PlanTotals> m_totals;
};

// Tensors of the model sorted by how differently two plans treat them (|ΔSQNR|, then size).
class PlanDiffModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column : int { NameColumn, FormatA, FormatB, SqnrA, SqnrB, DeltaColumn, ColumnCount };
    explicit PlanDiffModel(Document* doc, QObject* parent = nullptr);
    void setPlans(int a, int b);
    int planA() const { return m_a; }
    int planB() const { return m_b; }
    int sourceRow(int row) const { return m_rows.at(static_cast<std::size_t>(row)).row; }
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;
    void refresh();

private:
    struct Row
    {
        int row;
        std::optional<double> a, b; // SQNR in dB
        double delta;               // b − a; ±inf when only one side is exact
    };
    Document* m_doc;
    int m_a = 0, m_b = 0;
    std::vector<Row> m_rows;
};

} // namespace qs
