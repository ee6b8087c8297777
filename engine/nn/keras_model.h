// Keras 2 HDF5 model files (model.save("m.h5")) of Sequential models: loaded into the runtime
// and written so that Keras's load_model reads them back.
#pragma once

#include "nn/sequential.h"

#include <string>

namespace qs::nn {

// The model from the root attribute "model_config" and the weights under "model_weights"
// (per layer: attribute "weight_names", datasets "<layer>/<weight>:0", values converted to
// float32). Throws qs::Error("<path>: ...") for files that are not Keras 2 Sequential models,
// for layers the runtime does not implement, and for weights that are missing or misshapen.
Sequential loadKerasModel(const std::string& path);

// Writes Keras 2's layout: root attributes keras_version, backend and model_config (JSON);
// group model_weights with layer_names, and per layer a group with weight_names and float32
// datasets in Keras's shapes (Conv2D kernels [kh, kw, in, out], Dense [in, out]). The file is
// written beside `path` and renamed into place, so a failure never leaves a partial file.
void saveKerasModel(const Sequential& model, const std::string& path);

} // namespace qs::nn
