// The size/distortion frontier of automatic allocation, the chosen budget's solution on it and
// llama.cpp's fixed mixes next to it, so the gain of choosing per tensor is visible.
#pragma once

#include "plotwidget.h"

#include <QPoint>
#include <QString>
#include <QStringList>
#include <QVector>

#include <optional>

class QCheckBox;
class QComboBox;
class QCPGraph;
class QMouseEvent;

namespace qs {

struct FrontierPlotData
{
    struct Point
    {
        quint64 bytes = 0;
        double distortion = 0.0;
    };
    struct Mix
    {
        QString label; // "Q4_K_M-like"
        Point point;
        // The optimal allocation's distortion at the mix's size; nullopt when unknown.
        std::optional<double> optimalDistortion;
    };
    double params = 0.0;     // weights the budget covers: bits per weight = 8 * bytes / params
    QVector<Point> vertices; // the frontier, by increasing bytes
    QVector<Mix> mixes;
    QStringList notes; // shown in the plot, e.g. why a mix is missing
    QString measure;   // "mse", "imatrix:…"
};

class FrontierPlot : public PlotWidget
{
    Q_OBJECT
public:
    enum class XMeasure { BitsPerWeight, Bytes };
    Q_ENUM(XMeasure)

    explicit FrontierPlot(QWidget* parent = nullptr);

    void setData(const FrontierPlotData& data); // an empty frontier shows the placeholder
    const FrontierPlotData& data() const { return m_data; }
    void setChosen(const std::optional<FrontierPlotData::Point>& chosen);
    std::optional<FrontierPlotData::Point> chosen() const { return m_chosen; }

    void setXMeasure(XMeasure m);
    XMeasure xMeasure() const { return m_x; }
    void setLogY(bool log); // default on: distortion spans orders of magnitude
    bool logY() const { return m_logY; }
    QString notesText() const; // drawn in the plot's free top right corner

    // Where frontier vertex k is drawn in plot() pixels; (-1, -1) when it is not drawn.
    QPoint vertexCenter(int k) const;
    int vertexAt(const QPoint& pos) const; // the nearest vertex within a few pixels, or -1
    QPoint mixCenter(int i) const;
    QString toolTipAt(const QPoint& pos) const;

signals:
    void pointClicked(int vertex);

protected:
    QString exportName() const override;
    void resetView() override;

private:
    void rebuild();
    void updateChosen();
    double xOf(quint64 bytes) const;
    bool drawable(double distortion) const { return !m_logY || distortion > 0; }
    QPoint toPixels(double x, double y) const;
    QString pointText(const FrontierPlotData::Point& p) const;
    void onRelease(QMouseEvent* event);
    void onHover(QMouseEvent* event);

    FrontierPlotData m_data;
    std::optional<FrontierPlotData::Point> m_chosen;
    XMeasure m_x = XMeasure::BitsPerWeight;
    bool m_logY = true;
    QComboBox* m_xBox;
    QCheckBox* m_logBox;
    QCPGraph* m_chosenGraph = nullptr;
    QPoint m_pressPos;
};

} // namespace qs
