// libFuzzer target for the Keras model config (the JSON of a Keras 2 file's "model_config"
// attribute) from which the runtime builds a Sequential model before reading its weights.
// Reaching it through HDF5 files is slow (libhdf5, a child process per file), so the JSON is
// fuzzed on its own here.
#include "core/error.h"
#include "fuzz_keras.h"
#include "nn/keras_config.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    try {
        const qs::nn::Sequential model = qs::nn::sequentialFromKerasConfig(
            std::string(reinterpret_cast<const char*>(data), size), "fuzz.h5");
        (void)qs::nn::kerasModelConfig(model).dump();
        qs::fuzz::runOnce(model);
    } catch (const qs::Error&) {
    }
    return 0;
}
