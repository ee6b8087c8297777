#include "learn/whylesson.h"

#include "core/error.h"
#include "formats/storage.h"
#include "learn/lessondata.h"
#include "learn/lessonplot.h"

#include <QHBoxLayout>
#include <qcustomplot.h>

#include <cmath>

namespace qs {

namespace {

bool isMatrix(const TensorInfo& t)
{
    return t.shape.size() >= 2 && isQuantizable(t.dtype);
}

// A token embedding is a table lookup: one row is read, nothing is multiplied.
bool isLookup(const TensorInfo& t)
{
    return isMatrix(t) && t.name.find("embed_tokens") != std::string::npos;
}

} // namespace

WhyNumbers computeWhyNumbers(const Model& model)
{
    WhyNumbers n;
    for (const TensorInfo& t : model.tensors) {
        if (isMatrix(t) && !isLookup(t)) n.macsPerToken += t.numel();
    }
    struct Choice
    {
        const char* format;
        const char* granularity;
        double macPj; // NaN: no cited figure for this arithmetic
    };
    const double int8Mac = horowitz::kInt8Mul + horowitz::kInt8Add;
    const double fp32Mac = horowitz::kFp32Mul + horowitz::kFp32Add;
    // int4 weights are widened to int8 for the arithmetic (the common case on CPUs and GPUs),
    // so they save memory traffic but not multiply energy.
    const Choice choices[] = {{"fp32", "tensor", fp32Mac},
                              {"fp16", "tensor", std::nan("")},
                              {"int8", "channel", int8Mac},
                              {"int4", "channel", int8Mac}};
    for (const Choice& c : choices) {
        const Format* f = findFormat(c.format);
        WhyNumbers::Row row;
        row.format = QString::fromLatin1(c.format);
        double readBytes = 0;
        for (const TensorInfo& t : model.tensors) {
            const double bytes =
                isMatrix(t) ? static_cast<double>(
                                  storageCost(t, *f, *Granularity::parse(c.granularity)).bytes)
                            : static_cast<double>(t.byteSize);
            row.bytes += bytes;
            // Batch size one: every weight byte is read once per token, except that a lookup
            // reads one row of the embedding.
            readBytes += isLookup(t) ? bytes / static_cast<double>(t.shape.front()) : bytes;
        }
        const double reads = readBytes / 4.0; // 32 bits a read
        row.dramPj = reads * horowitz::kDram32;
        row.sramPj = reads * horowitz::kSram32;
        row.computePj = static_cast<double>(n.macsPerToken) * c.macPj;
        n.rows.push_back(row);
    }
    return n;
}

WhyLesson::WhyLesson(QWidget* parent)
    : LessonPage(QStringLiteral("why"), parent),
      m_sizePlot(newLessonPlot(tr("Example model size"))),
      m_energyPlot(newLessonPlot(tr("Estimated energy per token (45 nm)")))
{
    auto* live = new QWidget;
    auto* layout = new QHBoxLayout(live);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_sizePlot);
    layout->addWidget(m_energyPlot);
    setLiveWidget(live);
    try {
        m_numbers = computeWhyNumbers(*lessonModel());
    } catch (const Error& e) {
        setStatus(QString::fromUtf8(e.what()));
        return;
    }
    QStringList sizeLabels, energyLabels;
    QVector<double> kib, uj;
    for (const WhyNumbers::Row& r : m_numbers.rows) {
        sizeLabels << r.format;
        kib << r.bytes / 1024.0;
        if (std::isnan(r.computePj)) continue;
        energyLabels << r.format;
        uj << (r.computePj + r.dramPj) / 1e6;
    }
    setBars(m_sizePlot, sizeLabels, kib, tr("KiB"), 0);
    setBars(m_energyPlot, energyLabels, uj, tr("µJ per token (estimate)"), 1);

    const WhyNumbers::Row& fp32 = m_numbers.rows.front();
    const WhyNumbers::Row& int8 = m_numbers.rows[2];
    setStatus(tr("%L1 multiply-accumulates per token. Estimate for fp32: %L2 nJ arithmetic + "
                 "%L3 nJ DRAM reads (%L4 nJ if the weights were in SRAM); int8: %L5 + %L6 nJ.")
                  .arg(m_numbers.macsPerToken)
                  .arg(fp32.computePj / 1000.0, 0, 'f', 0)
                  .arg(fp32.dramPj / 1000.0, 0, 'f', 0)
                  .arg(fp32.sramPj / 1000.0, 0, 'f', 0)
                  .arg(int8.computePj / 1000.0, 0, 'f', 0)
                  .arg(int8.dramPj / 1000.0, 0, 'f', 0));
    setTry(tr("int8 per channel on every matrix"),
           Plan::uniform(Precision("int8", Granularity::parse("channel"))));
}

} // namespace qs
