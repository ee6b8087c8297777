#include "accuracydisagreements.h"

#include <QPixmap>

#include <algorithm>
#include <cmath>

namespace qs {
namespace {
constexpr int kThumbnail = 84; // 3x the Fashion-MNIST size: whole pixels, still small
}

AccuracyDisagreements::AccuracyDisagreements(QWidget* parent) : QListWidget(parent)
{
    setObjectName(QStringLiteral("accuracyDisagreements"));
    setViewMode(QListView::IconMode);
    setFlow(QListView::LeftToRight);
    setWrapping(false); // one horizontal strip
    setMovement(QListView::Static);
    setIconSize(QSize(kThumbnail, kThumbnail));
    setGridSize(QSize(kThumbnail + 70, kThumbnail + 44));
    setWordWrap(true);
    setSelectionMode(QAbstractItemView::NoSelection);
    setFixedHeight(kThumbnail + 64);
}

QImage AccuracyDisagreements::imageOf(const data::ImageSet& set, std::int64_t index)
{
    QImage image(static_cast<int>(set.width), static_cast<int>(set.height),
                 QImage::Format_Grayscale8);
    const float* pixels = set.images.data() + index * set.height * set.width;
    for (int y = 0; y < image.height(); ++y) {
        uchar* line = image.scanLine(y);
        for (int x = 0; x < image.width(); ++x) {
            const float v = std::clamp(pixels[y * image.width() + x], 0.0f, 1.0f);
            // Fashion-MNIST draws clothes light on black; inverted they read like a catalogue.
            line[x] = static_cast<uchar>(255 - std::lround(v * 255.0f));
        }
    }
    return image;
}

void AccuracyDisagreements::setRow(const EvaluateResultsPtr& results, const EvaluateRow* row,
                                   int limit)
{
    clear();
    m_total = 0;
    if (!results || !results->test || !row || row->isFloat) return;
    const auto& ref = row->result.referencePredictions;
    const auto& quant = row->result.predictions;
    const data::ImageSet& set = *results->test;
    for (std::size_t i = 0; i < std::min(ref.size(), quant.size()); ++i) {
        if (ref[i] == quant[i]) continue;
        if (++m_total > limit) continue;
        const QImage thumb =
            imageOf(set, static_cast<std::int64_t>(i))
                .scaled(kThumbnail, kThumbnail, Qt::KeepAspectRatio, Qt::FastTransformation);
        auto* item = new QListWidgetItem(
            QIcon(QPixmap::fromImage(thumb)),
            tr("FP32: %1\nquant: %2").arg(fashionClassName(ref[i]), fashionClassName(quant[i])),
            this);
        item->setToolTip(tr("Test image %1, truly %2").arg(i).arg(fashionClassName(set.labels[i])));
    }
}

} // namespace qs
