// libFuzzer target for one model reader (chosen at build time by QS_FUZZ_READER): the input
// is written to a file, opened, and every small floating-point tensor is read in full, so
// both the header validation and the data paths see hostile bytes.
#include "analysis/analyze.h"
#include "core/error.h"
#include "fuzz_util.h"
#include "io/gguf_reader.h"
#include "io/hdf5_reader.h"
#include "io/npy_reader.h"
#include "io/npz_reader.h"
#include "io/onnx_reader.h"
#include "io/safetensors_reader.h"
#include "io/torch_reader.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

std::string scratchPath()
{
    // One file per fuzzing process (libFuzzer's -jobs/-workers run several at once).
    static const std::string path =
        "/tmp/quantscope-fuzz-" + std::to_string(::getpid()) + QS_FUZZ_SUFFIX;
    return path;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string path = scratchPath();
    if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
        std::fwrite(data, 1, size, f);
        std::fclose(f);
    } else {
        return 0;
    }
    try {
        const qs::QS_FUZZ_READER reader;
        const qs::Model model = reader.open(path);
        std::vector<float> values;
        for (const auto& t : model.tensors) {
            if (!qs::isQuantizable(t.dtype) || t.numel() > (1 << 20)) continue;
            values.resize(static_cast<std::size_t>(t.numel()));
            qs::TensorQuantizer qz(
                model.data(t), t,
                qs::QuantSpec{qs::findFormat("int8"),
                              qs::Granularity{qs::Granularity::Kind::Channel, 0}});
            qs::dequantizeTensor(qz, values.data(), qs::Control{});
        }
    } catch (const qs::Error& e) {
        qs::fuzz::keepIfProbeDied(e, path, data, size); // HDF5: libhdf5 ran in a child first
        // A clear error is the expected outcome for most inputs.
    }
    return 0;
}
