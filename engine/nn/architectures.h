// The classifiers `quantscope-cli train` builds.
#pragma once

#include "nn/sequential.h"

namespace qs::nn {

// "cnn": Conv(16, 3x3, same)-BN-ReLU-MaxPool-Conv(32, 3x3, same)-BN-ReLU-MaxPool-Flatten-
// Dense(128)-ReLU-Dropout(0.3)-Dense(classes); "mlp": Flatten-Dense(256)-ReLU-Dropout(0.2)-
// Dense(128)-ReLU-Dense(classes). Both output logits. Built for `input`, not initialised.
// Throws qs::Error for another name.
Sequential makeArchitecture(const std::string& arch, const Shape& input, int classes);

} // namespace qs::nn
