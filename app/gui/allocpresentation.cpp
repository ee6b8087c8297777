#include "allocpresentation.h"

#include "displayformat.h"

#include <cmath>

namespace qs::allocview {

QVector<CandidatePreset> candidatePresets()
{
    return {
        {QObject::tr("K-quants (llama.cpp)"), QString::fromLatin1(alloc::kDefaultCandidates)},
        {QObject::tr("int2…int8 per channel"),
         QStringLiteral("int2@channel,int3@channel,int4@channel,int5@channel,int6@channel,"
                        "int7@channel,int8@channel")},
        {QObject::tr("int4 / int8 per group of 128"),
         QStringLiteral("int4@group:128,int8@group:128")},
    };
}

FrontierPlotData plotData(const AllocationTable& t)
{
    FrontierPlotData d;
    d.params = static_cast<double>(t.table.params);
    d.measure = QString::fromStdString(t.table.measure);
    for (const auto& v : t.frontier)
        d.vertices.push_back({v.bytes, v.distortion});
    for (const auto& m : t.mixes) {
        if (!m.available) {
            d.notes << QObject::tr("%1 not shown: %2")
                           .arg(QString::fromStdString(m.name),
                                QString::fromStdString(m.unavailable));
            continue;
        }
        FrontierPlotData::Mix mix;
        mix.label = QString::fromStdString(m.name);
        mix.point = {m.bytes, m.distortion};
        if (std::isfinite(m.optimalDistortion)) mix.optimalDistortion = m.optimalDistortion;
        d.mixes.push_back(mix);
    }
    return d;
}

QVector<AllocSolutionRow> rows(const AllocationTable& t, const alloc::Allocation& a)
{
    QVector<AllocSolutionRow> out;
    out.reserve(static_cast<qsizetype>(a.tensors.size()));
    for (const auto& c : a.tensors) {
        const auto& e = t.table.tensors[c.entry];
        AllocSolutionRow r;
        r.tensor = QString::fromStdString(t.model->tensors[e.tensor].name);
        r.format = QString::fromStdString(c.format);
        r.role = QString::fromLatin1(alloc::roleName(e.role));
        r.bytes = c.bytes;
        r.distortion = c.distortion;
        r.explanation = QString::fromStdString(c.explanation);
        r.modelRow = static_cast<int>(e.tensor);
        out.push_back(r);
    }
    return out;
}

QString summary(const AllocationTable& t, const alloc::Allocation& a)
{
    const auto& s = a.solution;
    const QString quality =
        s.exact ? QObject::tr("optimal")
                : QObject::tr("within %1% of optimal").arg(display::fixed(100.0 * s.gap, 2));
    return QObject::tr("%1 of a %2 budget, %3 bits per weight over %4 weights; distortion %5 (%6)")
        .arg(display::bytes(s.bytes), display::bytes(a.budget),
             display::fixed(t.bitsPerWeight(s.bytes), 3), display::count(t.table.params),
             display::scientific(s.distortion), quality);
}

QStringList mixLines(const AllocationTable& t)
{
    QStringList lines;
    for (const auto& m : t.mixes) {
        if (!m.available || !std::isfinite(m.optimalDistortion)) continue;
        QString line =
            QObject::tr("%1: %2 bits per weight, distortion %3")
                .arg(QString::fromStdString(m.name), display::fixed(t.bitsPerWeight(m.bytes), 3),
                     display::scientific(m.distortion));
        if (m.distortion > 0)
            line += QObject::tr("; optimal at the same size: %1 (%2% less)")
                        .arg(display::scientific(m.optimalDistortion),
                             display::fixed(100.0 * (1.0 - m.optimalDistortion / m.distortion), 1));
        lines << line;
    }
    return lines;
}

QString planName(double bpw)
{
    return QStringLiteral("opt %1 bpw").arg(bpw, 0, 'f', 2);
}

} // namespace qs::allocview
