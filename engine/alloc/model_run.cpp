#include "alloc/model_run.h"

#include "core/error.h"
#include "data/idx.h"
#include "nn/keras_model.h"

namespace qs::alloc {

std::string notRunnableReason(const std::string& modelPath)
{
    try {
        const nn::Sequential m = nn::loadKerasModel(modelPath);
        if (m.inputShape() != Shape{28, 28, 1}) return "it does not take 28x28x1 images";
    } catch (const Error& e) {
        return e.what();
    }
    return {};
}

std::vector<std::int64_t> calibrationIndices(std::int64_t count, std::int64_t n)
{
    n = std::max<std::int64_t>(0, std::min(n, count));
    std::vector<std::int64_t> out(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) // integer arithmetic: the same indices everywhere
        out[static_cast<std::size_t>(i)] = i * count / n;
    return out;
}

nn::Tensor loadCalibrationImages(const std::string& dataset, std::int64_t n)
{
    const std::string dir = data::resolveDatasetDirectory(dataset);
    const std::string file = data::datasetFile(dir, "train-images-idx3-ubyte");
    const data::IdxArray a = data::readIdx(file);
    if (a.dims.size() != 3 || a.dims[0] < 1)
        throw Error(file + ": expected images [count, height, width]");
    const std::int64_t h = a.dims[1], w = a.dims[2], pixels = h * w;
    const auto indices = calibrationIndices(a.dims[0], n);
    if (indices.empty()) throw Error("the calibration needs at least one image");
    nn::Tensor x(Shape{static_cast<std::int64_t>(indices.size()), h, w, 1});
    for (std::size_t s = 0; s < indices.size(); ++s)
        for (std::int64_t p = 0; p < pixels; ++p)
            x.data[s * static_cast<std::size_t>(pixels) + static_cast<std::size_t>(p)] =
                static_cast<float>(a.values[static_cast<std::size_t>(indices[s] * pixels + p)]) /
                255.0f;
    return x;
}

} // namespace qs::alloc
