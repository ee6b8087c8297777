// The accuracy panel's charts: accuracy and agreement per evaluation, accuracy against weight
// bits, and the output SQNR of every layer under one evaluation.
#pragma once

#include "evaluatejob.h"
#include "plotwidget.h"

namespace qs {

// Grouped bars: accuracy and agreement with FP32 for every row of a table evaluation.
class AccuracyBarChart : public PlotWidget
{
    Q_OBJECT
public:
    explicit AccuracyBarChart(QWidget* parent = nullptr);
    void setResults(const EvaluateResultsPtr& results);
    int barCount() const { return m_count; }

protected:
    QString exportName() const override { return QStringLiteral("accuracy"); }

private:
    int m_count = 0;
};

// Accuracy of weight-only per-channel int<b> quantization, b from 8 down to 2.
class AccuracyBitsPlot : public PlotWidget
{
    Q_OBJECT
public:
    explicit AccuracyBitsPlot(QWidget* parent = nullptr);
    void setResults(const EvaluateResultsPtr& results); // a BitsSweep result, or null
    void setComputing(bool computing);                  // says so while the sweep runs
    int pointCount() const { return m_count; }

protected:
    QString exportName() const override { return QStringLiteral("accuracy-bits"); }

private:
    int m_count = 0;
};

// Output SQNR of each layer of one row (the float row has no error: it says so).
class AccuracyLayerPlot : public PlotWidget
{
    Q_OBJECT
public:
    explicit AccuracyLayerPlot(QWidget* parent = nullptr);
    void setRow(const EvaluateRow* row); // null: the placeholder
    int barCount() const { return m_count; }

protected:
    QString exportName() const override { return QStringLiteral("accuracy-layers"); }

private:
    int m_count = 0;
};

} // namespace qs
