// libFuzzer target for the runtime's Keras 2 HDF5 model loader (the Accuracy page's and
// `quantscope-cli evaluate`'s): the input is loaded from a file, weights and all, then run once.
#include "core/error.h"
#include "fuzz_keras.h"
#include "fuzz_util.h"
#include "nn/keras_model.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string path = qs::fuzz::scratchPath(".h5");
    if (!qs::fuzz::writeFile(path, data, size)) return 0;
    try {
        qs::fuzz::runOnce(qs::nn::loadKerasModel(path));
    } catch (const qs::Error& e) {
        qs::fuzz::keepIfProbeDied(e, path, data, size);
    }
    return 0;
}
