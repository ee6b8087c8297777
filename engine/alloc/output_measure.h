// The output-based distortion of a runnable classifier: how far quantizing one weight tensor
// alone moves the model's logits on calibration images.
#pragma once

#include "analysis/executor.h"
#include "analysis/tensor_quantizer.h"
#include "nn/sequential.h"

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace qs::alloc {

class OutputProbe
{
public:
    // Loads the Keras model and computes its float logits on `images` [n, ...input shape].
    // Throws qs::Error when the model cannot be run or the images do not fit it.
    OutputProbe(const std::string& modelPath, nn::Tensor images);

    // Whether `tensor` (a name as the Keras reader gives it) is one of the model's weights.
    bool has(const std::string& tensor) const;

    // The mean over images and classes of (z_q - z)^2, z the float logits and z_q the logits
    // with only `t` (stored as `data`) replaced by its `spec` round trip, batch norms folded
    // afterwards as the Accuracy page does. Runs serially on a copy of the model, so pairs can
    // be evaluated concurrently and the value does not depend on the thread count. Checks
    // `control` for cancellation between batches.
    double distortion(std::span<const std::byte> data, const TensorInfo& t, const QuantSpec& spec,
                      const Control& control) const;

    std::int64_t images() const { return m_images.batch(); }

private:
    std::vector<float> logits(const nn::Sequential& folded, const Control& control) const;

    std::string m_path;
    nn::Sequential m_model; // as loaded: quantized before batch norms are folded
    nn::Tensor m_images;
    std::vector<float> m_reference;
};

} // namespace qs::alloc
