// Sequential models to and from Keras 2's model_config JSON (channels-last layers only).
#pragma once

#include "nn/sequential.h"

#include <string>

namespace qs::nn {

// {"class_name": "Sequential", "config": {"name", "layers": [InputLayer, ...]}} as Keras 2's
// model.to_json() writes it. The model must be built.
Json kerasModelConfig(const Sequential& model);

// A built model (zero weights) from a Keras 2 model_config text. Supported: Sequential models
// of InputLayer, Conv2D, Dense, MaxPooling2D, AveragePooling2D, Flatten, BatchNormalization,
// Dropout, Rescaling, Activation/ReLU/Softmax (relu, gelu, softmax, linear), channels last.
// Throws qs::Error("<where>: ...") naming the layer and the setting it cannot run.
Sequential sequentialFromKerasConfig(const std::string& text, const std::string& where);

} // namespace qs::nn
