// Model size by layer group and in total, as FP32, as FP16 and under the plan, with the
// memory sizes the weights would fit in.
#pragma once

#include "plotwidget.h"

#include <QVector>

class QCPAxisRect;
class QCPBars;
class QCPGraph;

namespace qs {

// One tensor as the chart needs it.
struct LayerSizeRow
{
    QString name;
    qint64 params = 0;
    quint64 bytesPlan = 0; // under the current plan (as stored when kept)
};

class SizeBreakdownChart : public PlotWidget
{
    Q_OBJECT
public:
    struct Group
    {
        QString name; // "model.layers.3", "blk.3", "other"
        qint64 params = 0;
        quint64 bytesPlan = 0;
        quint64 bytesFp32() const { return static_cast<quint64>(params) * 4; }
        quint64 bytesFp16() const { return static_cast<quint64>(params) * 2; }
    };

    explicit SizeBreakdownChart(QWidget* parent = nullptr);

    void setRows(const QVector<LayerSizeRow>& rows);

    // The name up to and including its first all-digit component ("model.layers.12.mlp.w" ->
    // "model.layers.12", "blk.3.attn_q.weight" -> "blk.3"), or "other" without one.
    static QString groupOf(const QString& tensorName);
    // The memory sizes offered as markers, in GiB.
    static QVector<int> memorySizesGiB();

    QVector<Group> groups() const { return m_groups; } // numbered groups in order, "other" last
    Group total() const { return m_total; }
    QVector<int> shownMarkersGiB() const { return m_markers; }
    QCPAxisRect* totalRect() const { return m_totalRect; }
    QCPBars* planBars() const { return m_plan; } // one bar per group

protected:
    QString exportName() const override;
    void resetView() override;

private:
    void rebuild();

    QVector<LayerSizeRow> m_rows;
    QVector<Group> m_groups;
    Group m_total;
    QVector<int> m_markers;
    QCPAxisRect* m_totalRect;
    QCPBars* m_fp32;
    QCPBars* m_fp16;
    QCPBars* m_plan;
    QCPBars* m_totalBars[3];
    QCPGraph* m_markerLegend;
    double m_groupsMax = 1, m_totalMax = 1;
};

} // namespace qs
