// One row per budgeted tensor of an automatic allocation: the chosen format, its cost and why.
#pragma once

#include <QAbstractTableModel>
#include <QString>
#include <QVector>

namespace qs {

struct AllocSolutionRow
{
    QString tensor;
    QString format; // the candidate's label, or the fixed precision ("keep": as stored)
    QString role;   // "free", "pinned", "locked", "no candidate"
    quint64 bytes = 0;
    double distortion = 0.0;
    QString explanation; // "kept at q6_K: 3.1× more sensitive than the median layer"
    int modelRow = -1;   // the tensor's row in the document
};

class AllocSolutionModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column : int {
        TensorColumn,
        FormatColumn,
        RoleColumn,
        SizeColumn,
        DistortionColumn,
        WhyColumn,
        ColumnCount
    };
    // Qt::UserRole of every cell: the raw value (bytes and distortion as numbers), for sorting.
    static constexpr int SortRole = Qt::UserRole;

    explicit AllocSolutionModel(QObject* parent = nullptr);
    void setRows(const QVector<AllocSolutionRow>& rows); // resets the model
    const QVector<AllocSolutionRow>& rows() const { return m_rows; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

private:
    QVector<AllocSolutionRow> m_rows;
};

} // namespace qs
