// Side by side: every plan's totals, per-layer SQNR bars of two plans, and the layers where
// they differ most. Clicking a bar or a row selects the layer.
#pragma once

#include "plotwidget.h"

#include <QTimer>
#include <QVector>

class QComboBox;
class QTableView;

namespace qs {

class Document;
class PlanDiffModel;
class PlanTotalsModel;

// Grouped bars: the SQNR of each tensor either plan quantizes, in model order.
class PlanCompareBars : public PlotWidget
{
    Q_OBJECT
public:
    explicit PlanCompareBars(Document* doc, QWidget* parent = nullptr);
    void setPlans(int a, int b);
    int barCount() const { return static_cast<int>(m_rows.size()); }
    int rowAt(const QPoint& pos) const; // the tensor under a pixel, -1 for none
    QPoint pixelOf(int row) const;       // centre of a tensor's bars, for tests and tooltips

signals:
    void rowClicked(int row);

protected:
    QString exportName() const override;

public slots:
    void rebuild();

private:
    Document* m_doc;
    int m_a = 0, m_b = 1;
    QVector<int> m_rows;
};

class PlanComparison : public QWidget
{
    Q_OBJECT
public:
    explicit PlanComparison(Document* doc, QWidget* parent = nullptr);

    QComboBox* comboA() const { return m_comboA; }
    QComboBox* comboB() const { return m_comboB; }
    PlanCompareBars* bars() const { return m_bars; }
    QTableView* totalsView() const { return m_totalsView; }
    QTableView* diffView() const { return m_diffView; }
    PlanDiffModel* diffModel() const { return m_diff; }

signals:
    void rowClicked(int row);

private:
    void fillCombos();
    void scheduleRefresh();
    void refresh();

    Document* m_doc;
    QComboBox* m_comboA;
    QComboBox* m_comboB;
    PlanTotalsModel* m_totals;
    PlanDiffModel* m_diff;
    QTableView* m_totalsView;
    QTableView* m_diffView;
    PlanCompareBars* m_bars;
    QTimer m_timer;
};

} // namespace qs
