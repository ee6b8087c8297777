// Exporting any plot as PNG or PDF, or copying it, from one shared context menu.
#pragma once

#include <QString>

#include <functional>

class QCustomPlot;

namespace qs::plotexport {

bool savePng(QCustomPlot* plot, const QString& path); // twice the on-screen resolution
bool savePdf(QCustomPlot* plot, const QString& path); // vector output
void copyToClipboard(QCustomPlot* plot);

// Gives the plot a right-click menu with the three actions; suggestedName() proposes a file
// name (without extension) when the menu opens, so it can follow what the plot shows.
void installContextMenu(QCustomPlot* plot, std::function<QString()> suggestedName);

} // namespace qs::plotexport
