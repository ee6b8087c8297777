// The table of a document's tensors: shape, type, chosen precision, size and error metrics.
#pragma once

#include "plan/plan.h"
#include "tensorresult.h"

#include <QAbstractTableModel>

namespace qs {

class Document;

class LayerTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column : int {
        NameColumn,
        LockColumn, // a check box: automatic allocation leaves a locked layer alone
        ShapeColumn,
        DTypeColumn,
        ParamsColumn,
        FormatColumn,
        GranularityColumn,
        CalibrationColumn,
        BytesBeforeColumn,
        BytesAfterColumn,
        BitsColumn,
        SqnrColumn,
        VsIdealColumn, // measured SQNR minus an ideal uniform quantizer's with as many bits
        MseColumn,
        ColumnCount
    };
    // Raw numbers (or names) to sort by; empty where the display shows a placeholder, so that
    // missing values sort after every real one.
    static constexpr int SortRole = Qt::UserRole;

    explicit LayerTableModel(Document* document, QObject* parent = nullptr);

    Document* document() const { return m_document; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;

private:
    QVariant displayText(int row, int column) const;
    QVariant sortValue(int row, int column) const;
    QVariant toolTip(int row, int column) const;
    QVariant calibrationToolTip(int row) const;
    bool isEditable(int row, int column) const;
    // The row's result was computed for an earlier precision; a newer one is on its way.
    bool isPending(int row) const;
    QString formatName(int row) const;
    std::optional<Granularity> granularity(int row) const; // nullopt when it does not apply
    std::optional<Calibration> calibration(int row) const; // nullopt when it does not apply
    // The precision an edit of a Format, Granularity or Calibration cell asks for; nullopt when
    // the text is not valid there.
    std::optional<Precision> editedPrecision(int row, int column, const QString& text) const;
    void rowChanged(int row);
    void beginReset();
    void endReset();

    Document* m_document;
    bool m_resetting = false;
};

} // namespace qs
