// The accuracy lessons' background work: the Fashion-MNIST classifier evaluated under several
// settings on a subset of the test images.
#pragma once

#include "nn/evaluate.h"
#include "plan/plan.h"

#include <QFuture>
#include <QString>

#include <optional>
#include <vector>

namespace qs {

struct AccuracySetting
{
    QString label;
    std::optional<Precision> weights; // null: float weights
    nn::ActivationMode activations = nn::ActivationMode::None;
    nn::CalibrationMethod calibration = nn::CalibrationMethod::MinMax;
    // Evaluated after a short quantization-aware fine-tuning with these weights (one epoch on
    // the first kQatImages training images), instead of on the model as trained.
    bool qat = false;
};

inline constexpr std::int64_t kQatImages = 4000;

struct AccuracyRow
{
    QString label;
    double accuracy = 0;
    std::vector<nn::LayerReport> layers;
};

struct AccuracyResults
{
    QString error; // set instead of rows when something failed
    std::int64_t images = 0;
    double floatAccuracy = 0;
    std::vector<AccuracyRow> rows; // one per setting, in order
};

// Progress counts finished settings (0 .. settings.size()); cancelling stops between them.
// Calibration uses the last test images, never the ones evaluated.
QFuture<AccuracyResults> runAccuracy(const QString& modelPath,
                                     const std::vector<AccuracySetting>& settings,
                                     std::int64_t images);

} // namespace qs
