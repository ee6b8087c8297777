// Base of the plot panels: a titled QCustomPlot, an empty-state message and export.
#pragma once

#include <QColor>
#include <QWidget>

class QCPTextElement;
class QCustomPlot;
class QHBoxLayout;
class QLabel;
class QStackedWidget;

namespace qs {

class PlotWidget : public QWidget
{
    Q_OBJECT
public:
    explicit PlotWidget(QWidget* parent = nullptr);

    QCustomPlot* plot() const { return m_plot; }
    bool isShowingPlot() const; // false while the empty-state message is shown
    QString emptyText() const;
    QString title() const;

    // What the plot says while it has nothing to show, e.g. "Select a layer".
    void setPlaceholderText(const QString& text);
    QString placeholderText() const { return m_placeholder; }

    bool savePng(const QString& path) const;
    bool savePdf(const QString& path) const;
    void copyToClipboard() const;

protected:
    void showMessage(const QString& text);
    void showPlot(); // call after the plot's data is set; replots
    void setTitle(const QString& title);
    // Space above the plot for small controls (a log-scale switch, ...).
    QHBoxLayout* controlsLayout() const { return m_controls; }
    void showPlaceholder() { showMessage(m_placeholder); }
    virtual QString exportName() const; // file name proposed by the export menu
    virtual void resetView();           // double-click: back to the full data range
    // Follows the application's palette (light or dark): background, axes, text.
    void changeEvent(QEvent* event) override;
    void applyPalette();

private:
    QWidget* m_controlsBar; // hidden with the plot: a log switch means nothing without data
    QHBoxLayout* m_controls;
    QStackedWidget* m_stack;
    QCustomPlot* m_plot;
    QLabel* m_message;
    QCPTextElement* m_title;
    QString m_placeholder;
    QColor m_textColor = Qt::black; // the palette's text colour the plot's labels were given
};

} // namespace qs
