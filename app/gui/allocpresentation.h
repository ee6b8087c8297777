// What the allocation dialog shows of a computed table and a solution: the plot's data, the
// table's rows and the summary lines, kept apart from the dialog's wiring.
#pragma once

#include "allocatejob.h"
#include "allocsolutionmodel.h"
#include "frontierplot.h"

#include <QString>
#include <QStringList>
#include <QVector>

namespace qs::allocview {

// The candidate lists offered in the dialog's combo: label and list.
struct CandidatePreset
{
    QString label;
    QString list;
};
QVector<CandidatePreset> candidatePresets();

FrontierPlotData plotData(const AllocationTable& t);
QVector<AllocSolutionRow> rows(const AllocationTable& t, const alloc::Allocation& a);
// "3.2 MiB of a 3.3 MiB budget, 4.47 bits per weight over 1,234,567 weights; distortion
// 1.2e-03 (optimal)".
QString summary(const AllocationTable& t, const alloc::Allocation& a);
// One line per mix that could be evaluated: how much less distortion the optimal allocation
// has at the mix's size.
QStringList mixLines(const AllocationTable& t);
QString planName(double bpw); // "opt 4.50 bpw"

} // namespace qs::allocview
