// What the runtime-based distortion measures share: whether a model file can be run, and the
// calibration images it is run on.
#pragma once

#include "nn/tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qs::alloc {

// Why the runtime cannot run `modelPath` as a classifier of 28x28x1 images (the Accuracy
// page's condition); empty when it can. Loads the model, so call it off the GUI thread for
// large files.
std::string notRunnableReason(const std::string& modelPath);

// `n` of `count` indices, evenly spaced from 0 (all of them when n >= count): a fixed choice
// that spans the whole training split, whatever order its classes come in.
std::vector<std::int64_t> calibrationIndices(std::int64_t count, std::int64_t n);

// The calibration images [n, 28, 28, 1] in [0, 1] (byte / 255, as data::loadImageSet), taken
// at calibrationIndices from the training split of `dataset` (see data::resolveDatasetDirectory).
// Only that split's image file is read. Throws qs::Error when it cannot be read.
nn::Tensor loadCalibrationImages(const std::string& dataset, std::int64_t n);

} // namespace qs::alloc
